#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The ethdev ops of net_cdna, driven by stock testpmd commands and checked on
# the mediator's side (telemetry, vmm log) as well as in testpmd's output:
#   port info      link, driver, queue limits from the queues devarg, MAC
#   promisc, allmulti   each flag reaches the mediator, the other one is kept
#   MTU            accepted up to the PMD's maximum, refused beyond it
#   MAC            set_mac reaches the switch; a MAC in use is refused both
#                  at HELLO (probe fails) and at SET_MAC
#   stats, xstats  equal the mediator's counters; clear works
#   stop / start   queues are destroyed and recreated, traffic flows again
#   close          the guest says BYE and leaves nothing claimed
. "$(dirname "$0")/lib.sh"
it_init 60

QUEUES=2
MAC_A=02:cd:00:00:00:0a		# guest A's mac= devarg
MAC_NEW=02:cd:00:00:00:77	# what A switches to with mac_addr set
MAC_PEER=02:00:00:00:00:99	# --eth-peer: a host on the wire

# xstat OUTPUT NAME: one counter of "show port xstats 0" output.
xstat() {
	local v
	v=$(info_field "$1" "$2")
	is_uint "$v" || fail "xstat $2 missing from show port xstats: '$v'"
	printf '%s\n' "$v"
}

lower() {
	tr 'A-F' 'a-f' <<<"$1"
}

# Mediator rejects other than aborted: stopping a port with RX buffers posted
# legitimately completes them as aborted.
tele_hard_rejects() {
	tele_guest "$1" "$2" reject_bad_address reject_invalid_use \
		reject_bad_length reject_bad_flags reject_bad_perm \
		reject_bad_chain reject_dma_fault ring_corrupt |
		awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }'
}

# run_txonly GUEST SECONDS: txonly for SECONDS; prints testpmd's TX-packets.
run_txonly() {
	local stats tx
	guest_exec "$1" start >/dev/null
	sleep "$2"
	stats=$(guest_fwd_stop "$1") || fail "guest $1: no forward statistics"
	read -r _ tx <<<"$stats"
	printf '%s\n' "$tx"
}

vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --audit
# Buffers that hold the largest frame: A tries MTUs up to the maximum.
guest_start A v "queues=$QUEUES,mac=$MAC_A" --forward-mode=txonly \
	"--eth-peer=0,$MAC_PEER" --mbuf-size=10240
a=$(guest_id v A)

# ---- show port info ----
info=$(guest_exec A 'show port info 0')
expect_eq "link status" "$(info_field "$info" 'Link status')" up
expect_eq "driver name" "$(info_field "$info" 'Driver name')" net_cdna
expect_eq "max RX queues" "$(info_field "$info" 'Max possible RX queues')" "$QUEUES"
expect_eq "max TX queues" "$(info_field "$info" 'Max possible TX queues')" "$QUEUES"
expect_eq "port MAC" "$(lower "$(info_field "$info" 'MAC address')")" "$MAC_A"
expect_eq "telemetry mac" "$(tele_guest v "$a" mac)" "$MAC_A"
expect_eq "telemetry state" "$(tele_guest v "$a" state)" started
max_pktlen=$(info_field "$info" 'Maximum configurable length of RX packet')
is_uint "$max_pktlen" || fail "no maximum RX packet length in port info: '$max_pktlen'"
# The PMD derives its max MTU from the frame length: minus header and CRC.
MAX_MTU=$((max_pktlen - 18))

# ---- promiscuous / allmulticast ----
# testpmd turns promiscuous mode on at startup.
expect_eq "promisc at startup" "$(tele_guest v "$a" promisc allmulti)" "1 0"
guest_exec A 'set promisc 0 off' >/dev/null
expect_eq "promisc off" "$(tele_guest v "$a" promisc allmulti)" "0 0"
# Each mode goes to the mediator together with the other: neither may clobber it.
guest_exec A 'set allmulti 0 on' >/dev/null
expect_eq "allmulti on (promisc off)" "$(tele_guest v "$a" promisc allmulti)" "0 1"
guest_exec A 'set promisc 0 on' >/dev/null
expect_eq "promisc on (allmulti on)" "$(tele_guest v "$a" promisc allmulti)" "1 1"
guest_exec A 'set allmulti 0 off' >/dev/null
expect_eq "allmulti off (promisc on)" "$(tele_guest v "$a" promisc allmulti)" "1 0"
info=$(guest_exec A 'show port info 0')
expect_eq "port info promiscuous" "$(info_field "$info" 'Promiscuous mode')" enabled
expect_eq "port info allmulticast" "$(info_field "$info" 'Allmulticast mode')" disabled

# ---- MTU ----
expect_eq "telemetry mtu at startup" "$(tele_guest v "$a" mtu)" 1500
guest_exec A 'port config mtu 0 9000' >/dev/null
expect_eq "telemetry mtu" "$(tele_guest v "$a" mtu)" 9000
expect_eq "port info MTU" "$(port_info A MTU)" 9000
for bad in $((MAX_MTU + 1)) 16000 67; do
	out=$(guest_exec A "port config mtu 0 $bad")
	# ethdev checks the PMD's limits before the op is called.
	grep -Eq "MTU \($bad\) [<>] device (max|min) MTU" <<<"$out" ||
		fail "port config mtu 0 $bad: no error from testpmd: $out"
	log "ok: MTU $bad refused"
	expect_eq "telemetry mtu after MTU $bad" "$(tele_guest v "$a" mtu)" 9000
	expect_eq "port info MTU after MTU $bad" "$(port_info A MTU)" 9000
done
guest_exec A "port config mtu 0 $MAX_MTU" >/dev/null
expect_eq "telemetry mtu at the maximum" "$(tele_guest v "$a" mtu)" "$MAX_MTU"
guest_exec A 'port config mtu 0 1500' >/dev/null
expect_eq "telemetry mtu back to 1500" "$(tele_guest v "$a" mtu)" 1500

# ---- MAC address ----
out=$(guest_exec A "mac_addr set 0 $MAC_NEW")
grep -qi error <<<"$out" && fail "mac_addr set 0 $MAC_NEW: $out"
expect_eq "telemetry mac after mac_addr set" "$(tele_guest v "$a" mac)" "$MAC_NEW"
expect_eq "port MAC after mac_addr set" "$(lower "$(port_info A 'MAC address')")" "$MAC_NEW"

# A's old MAC is free again: B may take it.
guest_start B v "mac=$MAC_A" --forward-mode=rxonly
b=$(guest_id v B)
expect_eq "guest B's mac (A's former one)" "$(tele_guest v "$b" mac)" "$MAC_A"
# B has testpmd's default 2 KiB buffers and no RX scatter: a 9000-byte MTU
# would drop every frame over 2 KiB, so the driver refuses it.
guest_exec B 'port config mtu 0 9000' >/dev/null
expect_eq "B's mtu after MTU 9000 with 2 KiB buffers" "$(tele_guest v "$b" mtu)" 1500
expect_eq "B's port info MTU after it" "$(port_info B MTU)" 1500
grep -q "MTU 9000 refused: its frames need 9026 bytes, rx queue 0's buffers hold 2048" \
	"${IT_LOG[B]}" || fail "no refusal of MTU 9000 in B's log: $(tail -n 3 "${IT_LOG[B]}")"
# B may not take A's current MAC.
out=$(guest_exec B "mac_addr set 0 $MAC_NEW")
grep -q 'Address already in use' <<<"$out" ||
	fail "mac_addr set to a MAC in use did not fail with EADDRINUSE: $out"
expect_eq "guest $b's last refusal" "$(tele_guest v "$b" last_refusal)" \
	"SET_MAC refused: $MAC_NEW is used by another guest"
log "ok: SET_MAC to A's MAC refused"
expect_eq "B's mac after the refused SET_MAC" "$(tele_guest v "$b" mac)" "$MAC_A"
expect_eq "A's mac after B's refused SET_MAC" "$(tele_guest v "$a" mac)" "$MAC_NEW"
guest_quit B || fail "guest B did not quit cleanly"
wait_for 10 eval "! vmm_has_guest v $b" || fail "guest $b still listed after quit"

# A guest asking for A's current MAC at HELLO does not probe. testpmd goes on
# without a port, hence no device start.
guest_start C v "mac=$MAC_NEW" --disable-device-start
grep -q 'No probed ethernet devices' "${IT_LOG[C]}" ||
	fail "guest C probed a port with a MAC in use"
wait_for 10 vmm_gone_said v last_refusal "HELLO refused: MAC $MAC_NEW is used by another guest" ||
	fail "no guest gone with a HELLO refusal for MAC $MAC_NEW in /cdna/gone"
log "ok: HELLO with A's MAC refused, guest C has no port"
guest_quit C || fail "guest C did not quit cleanly"
expect_eq "guests after B and C left" "$(vmm_guests v)" "$a"
expect_eq "A's mac after C's refused HELLO" "$(tele_guest v "$a" mac)" "$MAC_NEW"

# ---- stats ----
fwd_tx=$(run_txonly A 1)
read -r t_tx t_bytes <<<"$(tele_settle v "$a" tx_pkts tx_bytes)"
expect_gt "tx_pkts after txonly" "$t_tx" 0
out=$(guest_exec A 'show port stats 0')
expect_eq "port stats TX-packets vs telemetry tx_pkts" \
	"$(awk '/TX-packets:/ { print $2 }' <<<"$out")" "$t_tx"
expect_eq "port stats TX-bytes vs telemetry tx_bytes" \
	"$(awk '/TX-bytes:/ { print $NF }' <<<"$out")" "$t_bytes"
expect_eq "testpmd forward TX-packets vs telemetry tx_pkts" "$fwd_tx" "$t_tx"
guest_exec A 'clear port stats 0' >/dev/null
expect_eq "port stats after clear" "$(guest_port_stats A)" "0 0"
# The mediator's own counters are not the guest's to clear.
expect_eq "telemetry tx_pkts after clear" "$(tele_guest v "$a" tx_pkts)" "$t_tx"

# ---- xstats ----
out=$(guest_exec A 'show port xstats 0')
expect_eq "xstats mediator_tx_pkts" "$(xstat "$out" mediator_tx_pkts)" "$t_tx"
expect_eq "xstats mediator_tx_bytes" "$(xstat "$out" mediator_tx_bytes)" "$t_bytes"
for k in rx_pkts rx_bytes rx_nobuf rx_oversize ring_corrupt \
	reject_bad_address reject_invalid_use reject_bad_length reject_bad_flags \
	reject_bad_perm reject_bad_chain reject_aborted reject_dma_fault; do
	expect_eq "xstats mediator_$k" "$(xstat "$out" "mediator_$k")" \
		"$(tele_guest v "$a" "$k")"
done
# The generic counters follow "clear port stats".
expect_eq "xstats tx_good_packets after clear stats" "$(xstat "$out" tx_good_packets)" 0
guest_exec A 'clear port xstats 0' >/dev/null
out=$(guest_exec A 'show port xstats 0')
expect_eq "xstats mediator_tx_pkts after clear" "$(xstat "$out" mediator_tx_pkts)" 0
expect_eq "xstats mediator_tx_bytes after clear" "$(xstat "$out" mediator_tx_bytes)" 0
expect_eq "xstats tx_q0_packets after clear" "$(xstat "$out" tx_q0_packets)" 0
nonzero=$(awk -F': ' '$2 ~ /^[0-9]+$/ && $2 != 0' <<<"$out")
[ -z "$nonzero" ] || fail "xstats not cleared: $nonzero"
log "ok: every xstat is 0 after clear port xstats"
expect_eq "telemetry tx_pkts after clear xstats" "$(tele_guest v "$a" tx_pkts)" "$t_tx"

# ---- stop / start ----
guest_exec A 'port stop 0' >/dev/null
expect_eq "state after port stop" "$(tele_guest v "$a" state)" connected
expect_eq "queues after port stop" "$(tele_guest v "$a" queues)" 0
expect_eq "claims after port stop" "$(tele_guest v "$a" claims inflight)" "0 0"
expect_eq "link after port stop" "$(port_info A 'Link status')" down
guest_exec A 'port start 0' >/dev/null
expect_eq "state after port start" "$(tele_guest v "$a" state)" started
# testpmd configured one queue pair of the QUEUES allowed.
expect_eq "queues after port start" "$(tele_guest v "$a" queues)" 1
expect_eq "link after port start" "$(port_info A 'Link status')" up
fwd_tx2=$(run_txonly A 1)
t_tx2=$(tele_settle v "$a" tx_pkts)
expect_gt "tx_pkts after restart" "$t_tx2" "$t_tx"
expect_eq "testpmd TX-packets after restart vs telemetry increase" \
	"$fwd_tx2" "$((t_tx2 - t_tx))"
out=$(guest_exec A 'show port xstats 0')
expect_eq "xstats mediator_tx_pkts since clear" "$(xstat "$out" mediator_tx_pkts)" \
	"$((t_tx2 - t_tx))"
expect_eq "rejects of A (other than aborted)" "$(tele_hard_rejects v "$a")" 0
audit_clean v

# ---- close ----
guest_exec A 'port stop 0' >/dev/null
guest_exec A 'port close 0' >/dev/null
line=$(vmm_gone v "$a")
log "vmm: $line"
expect_eq "guest $a's reason for leaving" "$(tele v "/cdna/gone,$a" reason)" "said BYE"
expect_eq "claims_after" "$(field "$line" claims_after)" 0
expect_eq "rejects at disconnect" "$(field "$line" rejects)" 0
expect_eq "tx_pkts at disconnect" "$(field "$line" tx_pkts)" "$t_tx2"
wait_for 10 vmm_no_guests v || fail "guests still listed after port close: $(vmm_guests v)"
log "ok: no guest left after port close"

guest_quit A || fail "guest A did not quit cleanly"
vmm_stop_clean v
pass "all checks"
