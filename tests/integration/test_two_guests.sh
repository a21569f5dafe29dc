#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_two_guests.sh [MODE_A MODE_B]: guest A (txonly) sends to guest B
# (rxonly) through the embedded switch, each mediated or in passthrough
# mode (default: both mediated). Every counter must agree: A's testpmd
# TX-packets with the vmm's tx_pkts(A), B's RX-packets with rx_pkts(B), and
# every frame A sent must have reached B or been counted as dropped
# (rx_nobuf, rx_oversize). No audit violation.
. "$(dirname "$0")/lib.sh"
MODE_A=${1:-mediated}
MODE_B=${2:-mediated}
for m in "$MODE_A" "$MODE_B"; do
	case "$m" in
	mediated | passthrough) ;;
	*) echo "usage: $0 [mediated|passthrough mediated|passthrough]" >&2; exit 2 ;;
	esac
done
IT_NAME="two_guests-$MODE_A-$MODE_B"
it_init 150

MAC_B=02:cd:00:00:00:0b

vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --audit --allow-passthrough
guest_start B v "mac=$MAC_B,mode=$MODE_B" --forward-mode=rxonly
guest_start A v "mode=$MODE_A" --forward-mode=txonly "--eth-peer=0,$MAC_B"
a=$(guest_id v A)
b=$(guest_id v B)
expect_eq "guest B's mac" "$(tele_guest v "$b" mac)" "$MAC_B"
expect_eq "guest A's mode" "$(tele_guest v "$a" mode)" "$MODE_A"
expect_eq "guest B's mode" "$(tele_guest v "$b" mode)" "$MODE_B"

guest_exec B start >/dev/null
guest_exec A start >/dev/null
sleep 3

stats=$(guest_fwd_stop A)
read -r _ a_tx <<<"$stats"
stats=$(guest_port_stats A)
read -r _ a_port_tx <<<"$stats"
# B keeps receiving until nothing is in flight any more.
stats=$(tele_settle v "$a" tx_pkts)
read -r t_tx <<<"$stats"
stats=$(tele_settle v "$b" rx_pkts rx_nobuf rx_oversize)
read -r t_rx t_nobuf t_over <<<"$stats"
stats=$(guest_fwd_stop B)
read -r b_rx _ <<<"$stats"
stats=$(guest_port_stats B)
read -r b_port_rx _ <<<"$stats"
log "A: testpmd tx=$a_tx port tx=$a_port_tx vmm tx_pkts=$t_tx"
log "B: testpmd rx=$b_rx port rx=$b_port_rx vmm rx_pkts=$t_rx rx_nobuf=$t_nobuf rx_oversize=$t_over"

expect_gt "rx_pkts(B)" "$t_rx" 0
check_eq "A testpmd TX-packets vs vmm tx_pkts(A)" "$a_tx" "$t_tx"
check_eq "A port stats TX-packets vs testpmd TX-packets" "$a_port_tx" "$a_tx"
check_eq "B testpmd RX-packets vs vmm rx_pkts(B)" "$b_rx" "$t_rx"
check_eq "B port stats RX-packets vs testpmd RX-packets" "$b_port_rx" "$b_rx"
check_eq "tx_pkts(A) vs rx_pkts(B)+rx_nobuf(B)+rx_oversize(B)" \
	"$t_tx" "$((t_rx + t_nobuf + t_over))"
# Unicast to a guest's MAC reaches that guest only: nothing leaks to the wire.
check_eq "wire_tx" "$(nic_field v wire_tx)" 0
check_eq "switched vs tx_pkts(A)" "$(nic_field v switched)" "$t_tx"
expect_eq "rejects of A" "$(tele_rejects v "$a")" 0
expect_eq "rejects of B" "$(tele_rejects v "$b")" 0
audit_clean v

guest_quit A || fail "guest A did not quit cleanly"
guest_quit B || fail "guest B did not quit cleanly"
vmm_stop_clean v
pass "all checks"
