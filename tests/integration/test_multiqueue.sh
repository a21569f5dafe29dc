#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Several queue pairs per guest. Guest A (queues=4, txonly on 4 TX queues, one
# forwarding core) sends to guest B (queues=2, rxonly on 2 RX queues):
#   - the mediator creates as many queues as testpmd configured;
#   - txonly gives every TX queue its own stream, so all 4 carry traffic, and
#     the PMD's per-queue counters match testpmd's per-stream ones;
#   - the NIC spreads a context's frames round-robin over its active RX
#     queues, so both of B's queues receive;
#   - every total matches the mediator: tx_pkts(A), rx_pkts(B), and every
#     frame A sent reached B or was counted as dropped there.
#
# test_multiqueue.sh [STRATEGY]: both guests use strategy=STRATEGY
# (single-use, shared, persistent): every queue has its own map channel,
# and every queue that carried traffic must have used it.
. "$(dirname "$0")/lib.sh"
STRAT=${1:-}
case "$STRAT" in
'') VMM_OPT=() GARG= ;;
single-use | shared | persistent)
	VMM_OPT=(--allow-passthrough) GARG=,strategy=$STRAT
	IT_NAME="multiqueue-$STRAT" ;;
*) echo "$0: '$STRAT' is not single-use, shared or persistent" >&2; exit 2 ;;
esac
it_init 60

QA=4
QB=2
MAC_A=02:cd:00:00:00:0a
MAC_B=02:cd:00:00:00:0b

# xstat OUTPUT NAME: one counter of "show port xstats 0" output.
xstat() {
	local v
	v=$(printf '%s\n' "$1" | awk -F': ' -v k="$2" '$1 == k { print $2; exit }')
	is_uint "$v" || fail "xstat $2 missing from show port xstats: '$v'"
	printf '%s\n' "$v"
}

# stream_tx OUTPUT Q: TX-packets of testpmd's stream "TX Port= 0/Queue= Q"
# in the output of "stop".
stream_tx() {
	printf '%s\n' "$1" | awk -v q="$2" '
		/Forward Stats for RX Port=/ { f = ($0 ~ ("TX Port= *0/Queue= *" q " ")) ; next }
		f && /TX-packets:/ {
			for (i = 1; i < NF; i++) if ($i == "TX-packets:") { print $(i + 1); exit }
		}'
}

vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --audit "${VMM_OPT[@]}"
guest_start B v "queues=$QB,mac=$MAC_B$GARG" --forward-mode=rxonly \
	"--rxq=$QB" "--txq=$QB" --nb-cores=1
guest_start A v "queues=$QA,mac=$MAC_A$GARG" --forward-mode=txonly \
	"--rxq=$QA" "--txq=$QA" --nb-cores=1 "--eth-peer=0,$MAC_B"
a=$(guest_id v A)
b=$(guest_id v B)
expect_eq "queues of A" "$(tele_guest v "$a" queues)" "$QA"
expect_eq "queues of B" "$(tele_guest v "$b" queues)" "$QB"

guest_exec B start >/dev/null
out=$(guest_exec A start)
# One core serves all of A's streams, one per TX queue.
grep -q "forwards packets on $QA streams" <<<"$out" ||
	fail "testpmd did not set up $QA streams on one core: $out"
sleep 2
a_stop=$(guest_exec A stop 30)
# B keeps receiving until nothing is in flight any more.
read -r t_tx <<<"$(tele_settle v "$a" tx_pkts)"
read -r t_rx t_nobuf t_over <<<"$(tele_settle v "$b" rx_pkts rx_nobuf rx_oversize)"
stats=$(guest_fwd_stop B)
read -r b_rx _ <<<"$stats"
log "A: vmm tx_pkts=$t_tx; B: testpmd rx=$b_rx vmm rx_pkts=$t_rx rx_nobuf=$t_nobuf rx_oversize=$t_over"
expect_gt "tx_pkts(A)" "$t_tx" 0
expect_gt "rx_pkts(B)" "$t_rx" 0

# ---- A: every TX queue carried traffic ----
xa=$(guest_exec A 'show port xstats 0')
sum=0
for ((q = 0; q < QA; q++)); do
	n=$(xstat "$xa" "tx_q${q}_packets")
	expect_gt "A tx_q${q}_packets" "$n" 0
	[ -n "$STRAT" ] && expect_gt "A tx_q${q}_map_requests" \
		"$(xstat "$xa" "tx_q${q}_map_requests")" 0
	s=$(stream_tx "$a_stop" "$q")
	is_uint "$s" || fail "no forward stats of the stream on TX queue $q"
	check_eq "A tx_q${q}_packets vs testpmd stream $q TX-packets" "$n" "$s"
	sum=$((sum + n))
done
check_eq "A sum of tx_qN_packets vs vmm tx_pkts(A)" "$sum" "$t_tx"
check_eq "A tx_good_packets vs vmm tx_pkts(A)" "$(xstat "$xa" tx_good_packets)" "$t_tx"
check_eq "A mediator_tx_pkts vs vmm tx_pkts(A)" "$(xstat "$xa" mediator_tx_pkts)" "$t_tx"

# ---- B: both RX queues received ----
xb=$(guest_exec B 'show port xstats 0')
sum=0
for ((q = 0; q < QB; q++)); do
	n=$(xstat "$xb" "rx_q${q}_packets")
	expect_gt "B rx_q${q}_packets" "$n" 0
	[ -n "$STRAT" ] && expect_gt "B rx_q${q}_map_requests" \
		"$(xstat "$xb" "rx_q${q}_map_requests")" 0
	sum=$((sum + n))
done
check_eq "B sum of rx_qN_packets vs vmm rx_pkts(B)" "$sum" "$t_rx"
check_eq "B testpmd RX-packets vs vmm rx_pkts(B)" "$b_rx" "$t_rx"
check_eq "B mediator_rx_pkts vs vmm rx_pkts(B)" "$(xstat "$xb" mediator_rx_pkts)" "$t_rx"
check_eq "tx_pkts(A) vs rx_pkts(B)+rx_nobuf(B)+rx_oversize(B)" \
	"$t_tx" "$((t_rx + t_nobuf + t_over))"
# Unicast to a guest's MAC stays off the wire.
check_eq "wire_tx" "$(nic_field v wire_tx)" 0
expect_eq "rejects of A" "$(tele_rejects v "$a")" 0
expect_eq "rejects of B" "$(tele_rejects v "$b")" 0
audit_clean v

guest_quit A || fail "guest A did not quit cleanly"
guest_quit B || fail "guest B did not quit cleanly"
for g in "$a" "$b"; do
	line=$(vmm_gone v "$g")
	log "vmm: $line"
	expect_eq "guest $g claims_after" "$(field "$line" claims_after)" 0
done
vmm_stop_clean v
pass "all checks"
