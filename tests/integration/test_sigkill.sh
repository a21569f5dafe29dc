#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Kills guests with SIGKILL in the middle of traffic. First C, which sends
# to the wire while its RX buffers sit posted (nothing is addressed to it),
# so it surely dies with descriptors in flight: the vmm must complete them
# (flushed > 0) and release every claim before it unmaps C's memory. Then
# the receiver B, while A floods it: the vmm drops B from /cdna/guests and
# keeps serving A. Then A: no guest is left, and the vmm still exits cleanly
# on SIGTERM. The audit oracle flags any DMA into memory already released.
#
# test_sigkill.sh [STRATEGY]: the guests use strategy=STRATEGY (direct-map,
# single-use, shared, persistent): they write their own descriptors, so the
# mediator holds none in flight; what must go with each guest is its I/O
# page table, down to no page left once all are dead.
. "$(dirname "$0")/lib.sh"
STRAT=${1:-}
case "$STRAT" in
'') VMM_OPT=() GARG= ;;
direct-map | single-use | shared | persistent)
	VMM_OPT=(--allow-passthrough) GARG=strategy=$STRAT
	IT_NAME="sigkill-$STRAT" ;;
*) echo "$0: '$STRAT' is not direct-map, single-use, shared or persistent" >&2; exit 2 ;;
esac
it_init 150

# devargs A,B: the guest's, with the strategy if one is under test.
dv() {
	local a=$1
	[ -n "$GARG" ] && a="${a:+$a,}$GARG"
	printf '%s\n' "$a"
}

MAC_B=02:cd:00:00:00:0b

# check_teardown LINE WHO: the disconnect line reports a complete teardown.
check_teardown() {
	local line=$1 who=$2 flushed
	log "vmm: $line"
	expect_eq "$who claims_after" "$(field "$line" claims_after)" 0
	flushed=$(field "$line" flushed)
	is_uint "$flushed" || fail "$who: no flushed=K in the disconnect line"
	log "ok: $who flushed = $flushed"
}

vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --audit "${VMM_OPT[@]}"
guest_start B v "$(dv "mac=$MAC_B")" --forward-mode=rxonly
guest_start A v "$(dv "")" --forward-mode=txonly "--eth-peer=0,$MAC_B"
a=$(guest_id v A)
b=$(guest_id v B)
guest_exec B start >/dev/null
guest_exec A start >/dev/null
wait_for 10 tele_ge v "$b" rx_pkts 1000 || fail "no traffic reaches guest B"

guest_start C v "$(dv "mac=02:cd:00:00:00:0c")" --forward-mode=txonly "--eth-peer=0,02:cd:00:00:00:ee"
c=$(guest_id v C)
guest_exec C start >/dev/null
wait_for 10 tele_ge v "$c" tx_pkts 1000 || fail "guest C sends nothing"
log "SIGKILL guest C (pid ${IT_PID[C]}) with its RX buffers posted"
kill -KILL "${IT_PID[C]}"
wait "${IT_PID[C]}" 2>/dev/null || true
line=$(vmm_gone v "$c")
check_teardown "$line" C
# Mediated: the mediator's own descriptors were in flight and completed.
[ -z "$STRAT" ] &&
	expect_gt "C flushed (descriptors in flight at its death)" "$(field "$line" flushed)" 0
expect_gt "C regions_released" "$(field "$line" regions_released)" 0
wait_for 10 eval "! vmm_has_guest v $c" || fail "guest $c still listed in /cdna/guests"
audit_clean v

log "SIGKILL guest B (pid ${IT_PID[B]})"
kill -KILL "${IT_PID[B]}"
wait "${IT_PID[B]}" 2>/dev/null || true
line=$(vmm_gone v "$b")
check_teardown "$line" B
wait_for 10 eval "! vmm_has_guest v $b" || fail "guest $b still listed in /cdna/guests"
log "ok: guest $b gone from /cdna/guests"
alive "${IT_PID[v]}" || fail "the vmm died with guest B"

# A keeps sending; its frames for B's MAC now go out to the wire.
t1=$(tele_guest v "$a" tx_pkts)
w1=$(nic_field v wire_tx)
sleep 1
t2=$(tele_guest v "$a" tx_pkts)
w2=$(nic_field v wire_tx)
expect_gt "tx_pkts(A) one second after B's death" "$t2" "$t1"
expect_gt "wire_tx (B's MAC is now unknown unicast)" "$w2" "$w1"
expect_eq "rejects of A" "$(tele_rejects v "$a")" 0
audit_clean v

log "SIGKILL guest A (pid ${IT_PID[A]})"
kill -KILL "${IT_PID[A]}"
wait "${IT_PID[A]}" 2>/dev/null || true
line=$(vmm_gone v "$a")
check_teardown "$line" A
wait_for 10 vmm_no_guests v || fail "guests still listed: $(vmm_guests v)"
log "ok: /cdna/guests is empty"
alive "${IT_PID[v]}" || fail "the vmm died with guest A"
audit_clean v
if [ -n "$STRAT" ]; then
	# Every guest's I/O page table went with it.
	wait_for 10 tele_is v /cdna/vmm iommu_table_pages 0 ||
		fail "iommu_table_pages $(tele v /cdna/vmm iommu_table_pages) with no guest left"
	log "ok: iommu_table_pages = 0"
fi

vmm_stop_clean v
expect_eq "summary guests_seen" "$(vmm_summary v guests_seen)" 3
pass "all checks"
