#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The throughput comparison, one command:
#
#   bash bench/run.sh [--quick] [--passes N] [--seconds S] [--sizes "64 1518"]
#                     [--pci ADDR] [--iommu-cost MODEL]
#
# For each workload (guest txonly -> sink, source -> guest rxonly, io
# forwarding) and frame size (64 .. 1518 bytes), a stock dpdk-testpmd guest
# on CPU 0 runs against each configuration, its host side on CPU 1:
#   null         testpmd straight on net_null: no guest boundary at all
#   cdna         net_cdna, mediated by cdna-vmm (net_null wire)
#   passthrough  net_cdna mode=passthrough: the same NIC model and wire, the
#                guest's descriptors straight to its address stage
#   direct-map   net_cdna strategy=direct-map: the same, translated by the
#                emulated IOMMU (--iommu-cost MODEL charges ATC'08 Table 2
#                cycles per update and flush; default none)
#   vhost-user   net_virtio_user guest, host testpmd with net_vhost + net_null
#   memif        net_memif client guest, host testpmd with a memif server + net_null
# and, when a NIC is bound to vfio-pci (--pci ADDR, else the first one found),
# guest txonly onto its real wire:
#   nic          the NIC's own DPDK driver in the guest testpmd
#   nic-cdna     the same NIC owned by cdna-vmm as its wire, the guest on net_cdna
# Without such a NIC the run says so and carries on.
# Same pinning, mbuf count, ring sizes and burst everywhere; configurations
# interleaved within a pass, passes repeated so that drift shows. The rate is
# the guest's own port statistics (testpmd --stats-period), averaged over the
# steady seconds. Results in bench/results/<date>/: results.csv (every pass),
# table.md (medians, ratios to passthrough, vhost-user and memif in the same
# run), and mpps.png, gbps.png (gnuplot). Hugepages when enough are free,
# else --no-huge (the table says which).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
args="$*"
build=${CDNA_BUILD:-$top/build}
passes=2
secs=4
sizes="64 128 256 512 1024 1518"
workloads="txonly rxonly io"
configs="null cdna passthrough direct-map vhost-user memif"
pci=
iommu_cost=none
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) passes=1; secs=3; sizes="64 1518" ;;
	--passes) passes=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--sizes) sizes=$2; shift ;;
	--workloads) workloads=$2; shift ;;
	--configs) configs=$2; shift ;;
	--pci) pci=$2; shift ;;
	--iommu-cost) iommu_cost=$2; shift ;;
	-h | --help) sed -n '3,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
	*) echo "bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_init bench
if ! command -v gnuplot >/dev/null; then
	say "installing gnuplot-nox (plots)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null ||
		die "apt-get install gnuplot-nox failed"
fi
# A NIC for the guest's own driver and for cdna-vmm's wire: one bound to
# vfio-pci, named or found.
if [ -z "$pci" ]; then
	for d in /sys/bus/pci/drivers/vfio-pci/0000:*; do
		[ -e "$d" ] || continue
		case "$(cat "$d/class" 2>/dev/null)" in
		0x02*) pci=${d##*/}; break ;;
		esac
	done
fi
if [ -n "$pci" ]; then
	[ -e "/sys/bus/pci/drivers/vfio-pci/$pci" ] ||
		die "--pci $pci: no such device bound to vfio-pci (dpdk-devbind.py --status)"
	configs="$configs nic nic-cdna"
	nic_note="NIC $pci on vfio-pci: its own driver in the guest (nic) and owned by cdna-vmm (nic-cdna), txonly onto its wire only"
else
	nic_note="no NIC bound to vfio-pci on this machine: the NIC's own driver was not compared"
fi
say "$nic_note"

out=$top/bench/results/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"

bench_memory

# The same for every configuration.
common=(--total-num-mbufs=16384 --rxd=1024 --txd=1024 --burst=32 --stats-period 1)

# host_testpmd VDEV: the host side of a peer, on CPU 1: testpmd forwarding
# between the guest's port VDEV and net_null (source and sink of frames of
# $hsize bytes; no source for txonly). Sets host_pid.
host_testpmd() {
	dpdk-testpmd --file-prefix "$tag-h" --lcores 0@1,1@1 "${mem_host[@]}" --no-pci \
		--vdev "$1" --vdev "net_null0,size=$hsize,no-rx=$((1 - nrx))" -- \
		--forward-mode=io --total-num-mbufs=16384 --rxd=1024 --txd=1024 --burst=32 \
		--no-flush-rx --stats-period 100 </dev/null >"$hlog" 2>&1 &
	host_pid=$!
}

# run_cell CONFIG WORKLOAD SIZE: prints "mpps" of the guest, or "nan".
run_cell() {
	local cfg=$1 wl=$2 size=$3 tag=cdna-bench-$$-$RANDOM host_pid=
	local glog=$run/guest.log hlog=$run/host.log nrx=1 gvdev=() gmode=$wl
	local hsize=$size tx_opts=() gpci=(--no-pci)
	# The host side's frames come from net_null (size= sets their length);
	# for txonly it sends nothing.
	[ "$wl" = txonly ] && nrx=0
	[ "$wl" = txonly ] && tx_opts=(--txpkts="$size")
	case "$cfg" in
	null)
		gvdev=(--vdev "net_null0,size=$hsize,no-rx=$((1 - nrx))")
		;;
	cdna | passthrough | direct-map)
		local pt_vmm=() pt_dev=
		[ "$cfg" = passthrough ] && pt_vmm=(--allow-passthrough) pt_dev=,mode=passthrough
		[ "$cfg" = direct-map ] && pt_vmm=(--allow-passthrough --iommu-cost "$iommu_cost") \
			pt_dev=,strategy=direct-map
		"$build/vmm/cdna-vmm" --file-prefix "$tag-h" --lcores 0@1 "${mem_host[@]}" --no-pci \
			--vdev "net_null0,size=$hsize,no-rx=$((1 - nrx))" -- --wire net_null0 \
			--socket "$run/vmm.sock" "${pt_vmm[@]}" >"$hlog" 2>&1 &
		host_pid=$!
		gvdev=(-d "$run/librte_net_cdna.so" --vdev "net_cdna0,path=$run/vmm.sock$pt_dev")
		;;
	nic)
		gpci=(-a "$pci")
		;;
	nic-cdna)
		"$build/vmm/cdna-vmm" --file-prefix "$tag-h" --lcores 0@1 "${mem_host[@]}" -a "$pci" \
			-- --wire "$pci" --socket "$run/vmm.sock" >"$hlog" 2>&1 &
		host_pid=$!
		gvdev=(-d "$run/librte_net_cdna.so" --vdev "net_cdna0,path=$run/vmm.sock")
		;;
	vhost-user)
		host_testpmd "net_vhost0,iface=$run/vhost.sock,queues=1"
		gvdev=(--vdev "net_virtio_user0,path=$run/vhost.sock,queues=1")
		;;
	memif)
		host_testpmd "net_memif0,role=server,socket=$run/memif.sock,socket-abstract=no"
		gvdev=(--vdev "net_memif0,role=client,socket=$run/memif.sock,socket-abstract=no")
		;;
	esac
	[ -n "$host_pid" ] && pids+=("$host_pid")
	if [ -n "$host_pid" ]; then
		local sock=$run/vmm.sock i
		[ "$cfg" = vhost-user ] && sock=$run/vhost.sock
		[ "$cfg" = memif ] && sock=$run/memif.sock
		for i in $(seq 100); do
			[ -S "$sock" ] && break
			sleep 0.1
		done
		[ -S "$sock" ] || { say "$cfg: host side did not come up ($(tail -n 2 "$hlog" | tr '\n' ' '))"; kill -KILL "$host_pid"; echo nan; return; }
	fi
	timeout --signal=INT $((secs + 6)) dpdk-testpmd --file-prefix "$tag-g" --lcores 0@0,1@0 \
		"${mem_guest[@]}" "${gpci[@]}" "${gvdev[@]}" -- --forward-mode="$gmode" \
		"${tx_opts[@]}" "${common[@]}" </dev/null >"$glog" 2>&1 || true
	# cdna-vmm's own accounting, read before it stops, whatever the strategy.
	rm -f "$run/cost"
	case "$cfg" in
	cdna | passthrough | direct-map)
		tele "$tag-h" /cdna/vmm tsc_hz \
			cyc_mediate cyc_nic cyc_reclaim cyc_loop requests batches \
			frames completions iommu_translations iotlb_hits iotlb_misses \
			rounds timed_rounds >"$run/cost" 2>/dev/null || rm -f "$run/cost"
		;;
	esac
	if [ -n "$host_pid" ]; then
		kill -INT "$host_pid" 2>/dev/null || true
		for i in $(seq 50); do kill -0 "$host_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$host_pid" 2>/dev/null || true
		wait "$host_pid" 2>/dev/null || true
	fi
	rm -f "$run"/*.sock "$run"/*.sock.lock
	rm -rf /var/run/dpdk/"$tag"-*
	# The guest's own rate: Tx for txonly and io, Rx for rxonly; the first
	# two seconds (start-up) left out.
	local key=Tx-pps
	[ "$wl" = rxonly ] && key=Rx-pps
	awk -v k="$key:" '$1 == k { n++; if (n > 2) { s += $2; m++ } }
		END { if (m == 0) print "nan"; else printf "%.4f\n", s / m / 1e6 }' "$glog"
}

csv=$out/results.csv
echo "pass,workload,size,config,mpps,gbps" >"$csv"
costs=$out/costs.csv
echo "pass,workload,size,config,tsc_hz,cyc_mediate,cyc_nic,cyc_reclaim,cyc_loop,requests,batches,frames,completions,iommu_translations,iotlb_hits,iotlb_misses,rounds,timed_rounds" >"$costs"
# A real wire has no source here: the NIC configurations run txonly only.
nic_only_tx() {
	case "$1" in nic | nic-cdna) [ "$2" = txonly ] ;; *) true ;; esac
}
total=0
for wl in $workloads; do
	for cfg in $configs; do
		nic_only_tx "$cfg" "$wl" && total=$((total + passes * $(wc -w <<<"$sizes")))
	done
done
n=0
say "$total cells of ${secs} s; results in $out"
for pass in $(seq "$passes"); do
	for wl in $workloads; do
		for size in $sizes; do
			# Interleaved, and in another order each pass.
			order=$configs
			[ $((pass % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$configs" | tac | tr '\n' ' ')
			for cfg in $order; do
				nic_only_tx "$cfg" "$wl" || continue
				n=$((n + 1))
				mpps=$(run_cell "$cfg" "$wl" "$size")
				# Gb/s of Ethernet frames as sent (no FCS, preamble or gap).
				gbps=$(awk -v p="$mpps" -v s="$size" 'BEGIN { if (p == "nan") print "nan"; else printf "%.3f", p * s * 8 / 1e3 }')
				say "[$n/$total] pass $pass $wl ${size}B $cfg: $mpps Mpps"
				echo "$pass,$wl,$size,$cfg,$mpps,$gbps" >>"$csv"
				if [ -s "$run/cost" ]; then
					echo "$pass,$wl,$size,$cfg,$(tr ' ' ',' <"$run/cost")" >>"$costs"
				fi
			done
		done
	done
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
python3 "$top/bench/report.py" "$csv" "$out" --costs "$costs" \
	--machine "$(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r), DPDK $(dpkg-query -W -f='${Version}' libdpdk-dev)" \
	--command "bash bench/run.sh${args:+ $args}" --memory "$memory" --seconds "$secs" --passes "$passes" \
	--nic "$nic_note" --iommu-cost "$iommu_cost"
cat "$out/table.md"
