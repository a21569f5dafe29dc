#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The ATC'08 paper's Table 3, regenerated from measurements, one command:
#
#   bash bench/table3.sh [--seconds S] [--size BYTES] [--costs "none vt-d"]
#                        [--strategies "software direct-map ..."]
#
# For each IOMMU cost model (none: the bare emulation; vt-d: Table 2's VT-d
# cycles charged per page-table update and IOTLB flush), each workload
# (guest transmit: testpmd txonly; guest receive: testpmd rxonly, frames
# from cdna-vmm's net_null wire) and each strategy (passthrough, standing
# for the paper's "None": bounds only; software; direct-map; single-use;
# shared; persistent), one stock dpdk-testpmd guest on CPU 0 and cdna-vmm
# on CPU 1. Read from the running processes before they stop:
#   Mpps           the guest's own port statistics
#   vmm busy %     share of the vmm lcore's rounds that moved anything
#   vmm prot. %    of that lcore: mediation and reclaim (software), the map
#                  channel and its page-table writes (mapping strategies)
#   guest prot. %  of the guest's lcore: waiting for and making mappings
#   reuse TX/RX %  buffer pages that found a mapping already held
#   HC/DMA         mediator invocations (request batches, map batches) per
#                  DMA, the paper's hypercalls per descriptor
# The guest polls, so its total CPU is always 100 %: the paper's "Total"
# column has no counterpart here. Results in bench/results/<date>-table3/:
# table3.csv and table3.md, beside the paper's figures.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
args="$*"
build=${CDNA_BUILD:-$top/build}
secs=5
size=1518
costs="none vt-d"
strategies="passthrough software direct-map single-use shared persistent"
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) secs=$2; shift ;;
	--size) size=$2; shift ;;
	--costs) costs=$2; shift ;;
	--strategies) strategies=$2; shift ;;
	-h | --help) sed -n '3,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
	*) echo "table3: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_init table3

out=$top/bench/results/run-$(date -u +%Y%m%d-%H%M%S)-table3
mkdir -p "$out"
bench_memory

# devarg of a strategy
devarg() {
	case "$1" in
	software) echo "" ;;
	passthrough) echo ",mode=passthrough" ;;
	*) echo ",strategy=$1" ;;
	esac
}

# xsum XSTATS_JSON NAME...: the sum of those guest xstats (0 if absent).
xsum() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(sum(int(d.get(k, 0)) for k in sys.argv[2:]))' "$@"
}

csv=$out/table3.csv
echo "cost,workload,strategy,mpps,tsc_hz,cyc_loop,cyc_busy,cyc_prot,batches,dmas,guest_map_cycles,guest_seconds,tx_map_requests,tx_reused,rx_map_requests,rx_reused,map_requests,unmap_requests,iommu_pt_updates,iommu_invalidations,iommu_cycles_charged" >"$csv"

# run_cell COST WORKLOAD STRATEGY: one line of the CSV.
run_cell() {
	local cost=$1 wl=$2 st=$3 tag=cdna-table3-$$-$RANDOM nrx=1 tx_opts=()
	local glog=$run/guest.log hlog=$run/vmm.log key=Tx-pps i t0 t1
	[ "$wl" = txonly ] && nrx=0 tx_opts=(--txpkts="$size")
	[ "$wl" = rxonly ] && key=Rx-pps
	"$build/vmm/cdna-vmm" --file-prefix "$tag-h" --lcores 0@1 "${mem_host[@]}" --no-pci \
		--vdev "net_null0,size=$size,no-rx=$((1 - nrx))" -- --wire net_null0 \
		--socket "$run/vmm.sock" --allow-passthrough --iommu-cost "$cost" \
		>"$hlog" 2>&1 &
	pids+=($!)
	local vpid=$!
	for i in $(seq 100); do [ -S "$run/vmm.sock" ] && break; sleep 0.1; done
	[ -S "$run/vmm.sock" ] || die "cdna-vmm did not come up: $(tail -n 2 "$hlog" | tr '\n' ' ')"
	t0=$(date +%s.%N)
	dpdk-testpmd --file-prefix "$tag-g" --lcores 0@0,1@0 "${mem_guest[@]}" --no-pci \
		-d "$run/librte_net_cdna.so" \
		--vdev "net_cdna0,path=$run/vmm.sock$(devarg "$st")" -- \
		--forward-mode="$wl" "${tx_opts[@]}" --total-num-mbufs=16384 \
		--rxd=1024 --txd=1024 --burst=32 --stats-period 1 </dev/null >"$glog" 2>&1 &
	local gpid=$!
	pids+=("$gpid")
	sleep "$secs"
	local v g x
	v=$(tele "$tag-h" /cdna/vmm tsc_hz cyc_loop cyc_mediate cyc_nic cyc_reclaim batches frames \
		iommu_pt_updates iommu_invalidations iommu_cycles_charged) || v=
	g=$(tele "$tag-h" /cdna/guest,1 tx_pkts rx_pkts map_requests unmap_requests 2>/dev/null) ||
		g=$(tele "$tag-h" /cdna/guest,1 tx_pkts rx_pkts) || g=
	x=$(tele "$tag-g" /ethdev/xstats,0) || x='{}'
	t1=$(date +%s.%N)
	kill -INT "$gpid" 2>/dev/null || true
	for i in $(seq 50); do kill -0 "$gpid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$gpid" 2>/dev/null || true
	wait "$gpid" 2>/dev/null || true
	kill -INT "$vpid" 2>/dev/null || true
	for i in $(seq 50); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$vpid" 2>/dev/null || true
	wait "$vpid" 2>/dev/null || true
	rm -f "$run"/*.sock "$run"/*.sock.lock
	rm -rf /var/run/dpdk/"$tag"-*
	if [ -z "$v" ] || [ -z "$g" ]; then
		say "$cost $wl $st: telemetry unreadable; row left out"
		return
	fi
	local mpps
	mpps=$(awk -v k="$key:" '$1 == k { n++; if (n > 2) { s += $2; m++ } }
		END { if (m == 0) print "nan"; else printf "%.4f\n", s / m / 1e6 }' "$glog")
	read -r hz loop med nic rec batches frames ptu inv chg <<<"$v"
	read -r gtx grx gmap gunmap <<<"$g"
	local dmas=$gtx busy prot
	[ "$wl" = rxonly ] && dmas=$grx
	busy=$((med + nic + rec))
	prot=$((med + rec))
	local gcyc txm txr rxm rxr
	gcyc=$(xsum "$x" tx_q0_map_cycles rx_q0_map_cycles)
	txm=$(xsum "$x" tx_q0_map_requests)
	txr=$(xsum "$x" tx_q0_map_reused)
	rxm=$(xsum "$x" rx_q0_map_requests)
	rxr=$(xsum "$x" rx_q0_map_reused)
	echo "$cost,$wl,$st,$mpps,$hz,$loop,$busy,$prot,$batches,$dmas,$gcyc,$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'),$txm,$txr,$rxm,$rxr,${gmap:-0},${gunmap:-0},$ptu,$inv,$chg" >>"$csv"
	say "$cost $wl $st: $mpps Mpps"
}

total=$(( $(wc -w <<<"$costs") * 2 * $(wc -w <<<"$strategies") ))
say "$total cells of ${secs} s, ${size}-byte frames; results in $out"
for cost in $costs; do
	for wl in txonly rxonly; do
		for st in $strategies; do
			run_cell "$cost" "$wl" "$st"
		done
	done
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
python3 "$top/bench/table3.py" "$csv" "$out/table3.md" \
	--machine "$(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r)" \
	--command "bash bench/table3.sh${args:+ $args}" --memory "$memory" \
	--seconds "$secs" --size "$size"
cat "$out/table3.md"
