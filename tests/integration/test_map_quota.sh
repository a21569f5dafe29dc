#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A persistent guest under a map quota far below what its cache would like
# (cdna-vmm --map-quota 256 pages: a cache share of 64 pages per queue
# direction, against thousands of mbufs): the driver keeps within its share
# by giving idle pages back (map_evicted), traffic still flows, the vmm
# never holds more than the quota, any refusal it makes is MAP_QUOTA and
# nothing else, no answer is lost, and the guest leaves no page table
# behind. The audit holds every DMA to the guest's memory. (Below what its
# posted RX buffers alone need, a guest starves its own TX: the quota is
# the vmm's bound, not a tuning the driver works around.)
. "$(dirname "$0")/lib.sh"
it_init 90

QUOTA=256
N=20000
in=$IT_RUN/in.pcap
"$CDNA_PCAPGEN" mixed "$N" "$in" || fail "pcapgen failed"

vmm_start v --vdev "net_pcap0,rx_pcap=$in" -- --wire net_pcap0 --audit \
	--allow-passthrough --map-quota "$QUOTA"
guest_start g v "mac=02:cd:00:00:00:51,strategy=persistent" --forward-mode=io \
	--disable-device-start --no-flush-rx
id=$(guest_id v g)
guest_port_start g
guest_exec g start >/dev/null
wait_for 60 tele_ge v "$id" rx_pkts 2000 ||
	fail "rx_pkts $(tele_guest v "$id" rx_pkts || true) < 2000 after 60 s"
stats=$(guest_fwd_stop g)
read -r frx ftx <<<"$stats"
log "testpmd rx=$frx tx=$ftx"

read -r live refused quota <<<"$(tele_guest v "$id" map_live map_refused reject_map_quota)"
log "vmm: map_live=$live map_refused=$refused reject_map_quota=$quota"
is_uint "$live" && [ "$live" -le "$QUOTA" ] || fail "map_live $live above --map-quota $QUOTA"
expect_eq "refusals that are not MAP_QUOTA" "$((refused - quota))" 0
for k in reject_bad_address reject_bad_perm reject_bad_length reject_bad_flags \
	reject_dma_fault ring_corrupt; do
	expect_eq "$k" "$(tele_guest v "$id" "$k")" 0
done
expect_gt "frames forwarded" "$ftx" 0

xs=$(guest_exec g 'show port xstats 0')
gx() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$xs"; }
for k in map_timeouts map_bad_answer map_bad_release; do
	expect_eq "guest $k" "$(($(gx "tx_q0_$k") + $(gx "rx_q0_$k")))" 0
done
log "guest: map_evicted tx=$(gx tx_q0_map_evicted) rx=$(gx rx_q0_map_evicted), map_dropped tx=$(gx tx_q0_map_dropped) rx=$(gx rx_q0_map_dropped)"
# Idle pages went back to stay within the share.
expect_gt "guest map_evicted" \
	"$(($(gx tx_q0_map_evicted) + $(gx rx_q0_map_evicted)))" 0
audit_clean v

guest_quit g || fail "guest did not quit cleanly"
wait_for 10 tele_is v /cdna/vmm iommu_table_pages 0 ||
	fail "iommu_table_pages $(tele v /cdna/vmm iommu_table_pages) after the guest left"
vmm_stop_clean v
pass "all checks"
