#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A mapping guest (single-use) whose vmm stops answering for longer than
# the driver waits for map answers (1 s): its queue breaks, and the driver
# must say so, once, and report the link down, not carry on "up" while it
# sends and receives nothing. A port restart brings it back, and traffic
# flows again. Then the vmm dies: the link reads down, and the driver's own
# counters, which say what happened, stay readable.
. "$(dirname "$0")/lib.sh"
it_init 90

vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --allow-passthrough
guest_start g v "mac=02:cd:00:00:00:61,strategy=single-use" --forward-mode=txonly
id=$(guest_id v g)
expect_eq "link before" "$(port_info g 'Link status')" up
guest_exec g start >/dev/null
wait_for 20 tele_ge v "$id" tx_pkts 1000 ||
	fail "tx_pkts $(tele_guest v "$id" tx_pkts || true) < 1000 after 20 s"

# The vmm stops for 2.5 s: every map request waits past the driver's 1 s.
kill -STOP "${IT_PID[v]}"
sleep 2.5
kill -CONT "${IT_PID[v]}"
guest_fwd_stop g >/dev/null
expect_eq "link with the map channel broken" "$(port_info g 'Link status')" down
grep -q "got no map answer within 1 s" "${IT_LOG[g]}" ||
	fail "the driver did not say its map channel broke: $(tail -n 5 "${IT_LOG[g]}")"
expect_eq "times it said so" \
	"$(grep -c "got no map answer within 1 s" "${IT_LOG[g]}")" 1
timeouts=$(info_field "$(guest_exec g 'show port xstats 0')" tx_q0_map_timeouts)
expect_gt "tx_q0_map_timeouts" "${timeouts:-0}" 0

# A restart gives the queue a fresh map channel.
guest_exec g 'port stop 0' >/dev/null
guest_exec g 'port start 0' >/dev/null
expect_eq "link after the restart" "$(port_info g 'Link status')" up
before=$(tele_guest v "$id" tx_pkts)
guest_exec g start >/dev/null
wait_for 20 tele_ge v "$id" tx_pkts $((before + 1000)) ||
	fail "tx_pkts $(tele_guest v "$id" tx_pkts || true) not past $((before + 1000)) after the restart"
guest_fwd_stop g >/dev/null
expect_eq "link at the end" "$(port_info g 'Link status')" up
vmm_stop_clean v

out=$(guest_exec g 'show port xstats 0')
expect_gt "tx_q0_packets readable with the vmm gone" \
	"$(info_field "$out" tx_q0_packets)" 1000
expect_eq "tx_q0_map_timeouts with the vmm gone" \
	"$(info_field "$out" tx_q0_map_timeouts)" "$timeouts"
expect_eq "link with the vmm gone" "$(port_info g 'Link status')" down
guest_quit g
pass
