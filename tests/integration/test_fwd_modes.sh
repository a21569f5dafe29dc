#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_fwd_modes.sh MODE [STRATEGY]: one stock testpmd forwarding mode
# through net_cdna, with a net_pcap wire, mediated or (second argument:
# passthrough, direct-map, single-use, shared, persistent) with the guest
# writing the NIC's descriptors itself, translated by its region table or
# by the emulated IOMMU (all its memory mapped, or only what it asked the
# mediator to map), its DMA held by the audit to its own memory.
# Each mode is checked on what it writes to the wire:
#   io        the output capture equals the input
#   mac       the input with src = guest MAC and dst = --eth-peer
#   macswap   the input with src and dst exchanged
#   rxonly    the guest received all N frames and sent nothing
#   txonly    64-byte IPv4/UDP frames from the guest MAC to the peer
#   flowgen   60-byte IPv4/UDP frames (testpmd's fixed flowgen MACs)
#   icmpecho  one valid echo reply per echo request
. "$(dirname "$0")/lib.sh"

MODE=${1:-}
case "$MODE" in
io | mac | macswap | rxonly | txonly | flowgen | icmpecho) ;;
*)
	echo "usage: $0 io|mac|macswap|rxonly|txonly|flowgen|icmpecho [passthrough|direct-map|single-use|shared|persistent]" >&2
	exit 2
	;;
esac
PT=${2:-}
case "$PT" in
'') PT_VMM=() PT_ARG= GMODE=mediated ;;
passthrough) PT_VMM=(--allow-passthrough) PT_ARG=,mode=passthrough GMODE=passthrough ;;
direct-map | single-use | shared | persistent)
	PT_VMM=(--allow-passthrough) PT_ARG=,strategy=$PT GMODE=$PT ;;
*) echo "$0: second argument '$PT' is not passthrough, direct-map, single-use, shared or persistent" >&2; exit 2 ;;
esac
IT_NAME="fwd_modes-$MODE${PT:+-$PT}"
it_init 150

N=2000
MAC_G=02:cd:00:00:00:01		# the guest
MAC_P=02:00:00:00:00:99		# --eth-peer: a host on the wire
MAC_H=02:00:00:00:01:01		# sender of the ICMP requests
in=$IT_RUN/in.pcap
out=$IT_RUN/out.pcap

case "$MODE" in
txonly | flowgen) "$CDNA_PCAPGEN" mixed 0 "$in" ;;
icmpecho) "$CDNA_PCAPGEN" icmp "$N" "$in" --dst-mac "$MAC_G" --src-mac "$MAC_H" ;;
*) "$CDNA_PCAPGEN" mixed "$N" "$in" ;;
esac || fail "pcapgen failed"

vmm_start v --vdev "net_pcap0,rx_pcap=$in,tx_pcap=$out" -- --wire net_pcap0 --audit "${PT_VMM[@]}"
guest_start g v "mac=$MAC_G$PT_ARG" "--forward-mode=$MODE" "--eth-peer=0,$MAC_P" \
	--disable-device-start --no-flush-rx
id=$(guest_id v g)
expect_eq "the guest's mode in telemetry" "$(tele_guest v "$id" mode)" "$GMODE"
guest_port_start g
case $MODE in
io | mac | macswap | icmpecho) guest_tx_retry g "$MODE" ;;
esac
guest_exec g start >/dev/null

case "$MODE" in
io | mac | macswap)
	wait_for 60 tele_ge v "$id" tx_pkts "$N" ||
		fail "tx_pkts $(tele_guest v "$id" tx_pkts || true) of $N after 60 s"
	;;
icmpecho | rxonly)
	wait_for 60 tele_ge v "$id" rx_pkts "$N" ||
		fail "rx_pkts $(tele_guest v "$id" rx_pkts || true) of $N after 60 s"
	;;
txonly | flowgen)
	wait_for 30 tele_ge v "$id" tx_pkts 1000 ||
		fail "tx_pkts $(tele_guest v "$id" tx_pkts || true) < 1000 after 30 s"
	;;
esac

stats=$(guest_fwd_stop g)
read -r frx ftx <<<"$stats"
stats=$(tele_settle v "$id" rx_pkts tx_pkts rx_nobuf)
read -r rx tx nobuf <<<"$stats"
log "testpmd rx=$frx tx=$ftx; vmm rx_pkts=$rx tx_pkts=$tx rx_nobuf=$nobuf"
expect_eq "rejects" "$(tele_rejects v "$id")" 0
check_eq "testpmd RX-packets vs vmm rx_pkts" "$frx" "$rx"
check_eq "testpmd TX-packets vs vmm tx_pkts" "$ftx" "$tx"
audit_clean v
case "$GMODE" in
direct-map | single-use | shared | persistent)
	# Every DMA went through the emulated IOMMU, and it refused none.
	tr=$(tele v /cdna/vmm iommu_translations) || fail "telemetry /cdna/vmm failed"
	expect_gt "iommu_translations" "$tr" 0
	expect_eq "iommu_faults" "$(tele v /cdna/vmm iommu_faults)" 0
	expect_eq "iommu_translations vs audit_dma" "$tr" "$(nic_field v audit_dma)"
	;;
esac
case "$GMODE" in
single-use | shared | persistent)
	# Mapped on request only: the guest asked, and nothing was refused.
	dma=$(nic_field v audit_dma)
	maps=$(tele_guest v "$id" map_requests)
	log "$GMODE: $maps MAP requests for $dma DMAs, $(tele_guest v "$id" unmap_requests) UNMAPs, $(tele_guest v "$id" map_live) live"
	expect_gt "map_requests" "$maps" 0
	expect_eq "map_refused" "$(tele_guest v "$id" map_refused)" 0
	# Single-use: a MAP of its own for every DMA, and no page reused.
	if [ "$GMODE" = single-use ]; then
		expect_ge "map_requests vs DMAs" "$maps" "$dma"
		expect_eq "map_pages_reused" "$(tele_guest v "$id" map_pages_reused)" 0
	fi
	# Persistent: mappings stay for the next buffer, far fewer MAPs than DMAs.
	if [ "$GMODE" = persistent ] && [ "$dma" -gt 2000 ]; then
		expect_gt "DMAs vs map_requests" "$dma" "$maps"
	fi
	# The driver's own count of what it asked agrees, and nothing went wrong.
	xs=$(guest_exec g 'show port xstats 0')
	gx() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$xs"; }
	expect_eq "guest map_requests (tx + rx queue 0)" \
		"$(($(gx tx_q0_map_requests) + $(gx rx_q0_map_requests)))" \
		"$(tele_guest v "$id" map_requests)"
	for k in map_timeouts map_bad_answer map_bad_release map_dropped; do
		expect_eq "guest $k" "$(($(gx "tx_q0_$k") + $(gx "rx_q0_$k")))" 0
	done
	;;
esac
guest_quit g || fail "guest did not quit cleanly"
case "$GMODE" in
direct-map | single-use | shared | persistent)
	# The guest is gone and every page table with it.
	wait_for 10 tele_is v /cdna/vmm iommu_table_pages 0 ||
		fail "iommu_table_pages $(tele v /cdna/vmm iommu_table_pages) after the guest left"
	;;
esac
vmm_stop_clean v

frames=$(pcap_field "$out" frames)
case "$MODE" in
io)
	"$CDNA_PCAPCMP" --max-report 5 "$in" "$out" >&2 || fail "output differs from input"
	;;
mac)
	"$CDNA_PCAPCMP" --max-report 5 --set-mac "$MAC_G,$MAC_P" "$in" "$out" >&2 ||
		fail "output is not the input with src=$MAC_G dst=$MAC_P"
	;;
macswap)
	"$CDNA_PCAPCMP" --max-report 5 --swap-mac "$in" "$out" >&2 ||
		fail "output is not the input with MACs swapped"
	;;
rxonly)
	check_eq "testpmd RX-packets" "$frx" "$N"
	expect_eq "frames on the wire" "$frames" 0
	;;
txonly | flowgen)
	# txonly: 64-byte frames from the port's MAC to --eth-peer.
	# flowgen (22.11): frames of 64 bytes less the FCS, between the fixed
	# MACs 00:01:02:03:04:00 and :01, whatever the port's MAC.
	if [ "$MODE" = txonly ]; then
		len=64 src=$MAC_G dst=$MAC_P
	else
		len=60 src=00:01:02:03:04:00 dst=00:01:02:03:04:01
	fi
	expect_gt "frames on the wire" "$frames" 0
	expect_eq "frames on the wire vs tx_pkts" "$frames" "$tx"
	expect_eq "$len-byte IPv4/UDP frames" "$(pcap_field "$out" udp_len_match --len "$len")" "$frames"
	expect_eq "frames from $src" "$(pcap_field "$out" src_match --src "$src")" "$frames"
	expect_eq "frames to $dst" "$(pcap_field "$out" dst_match --dst "$dst")" "$frames"
	expect_eq "bad IPv4 checksums" "$(pcap_field "$out" bad_ip_csum)" 0
	;;
icmpecho)
	expect_eq "frames on the wire" "$frames" "$N"
	expect_eq "echo replies" "$(pcap_field "$out" icmp_echo_reply)" "$N"
	expect_eq "bad ICMP checksums" "$(pcap_field "$out" bad_icmp_csum)" 0
	expect_eq "bad IPv4 checksums" "$(pcap_field "$out" bad_ip_csum)" 0
	expect_eq "replies from $MAC_G" "$(pcap_field "$out" src_match --src "$MAC_G")" "$N"
	expect_eq "replies to $MAC_H" "$(pcap_field "$out" dst_match --dst "$MAC_H")" "$N"
	;;
esac
pass "$MODE${PT:+ $PT}"
