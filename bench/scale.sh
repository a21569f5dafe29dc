#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# How cdna-vmm's cost per descriptor grows with guests and with regions,
# and what a guest costs the vmm in memory:
#
#   bash bench/scale.sh [--seconds S] [--guests "1 2 4 8 16"] [--mbufs "2048 16384 65536"]
#                       [--idle "15"] [--shared "15"] [--repeat R]
#
# Guests: N stock testpmd txonly guests (64-byte frames), all on CPU 0,
# cdna-vmm on CPU 1 with a net_null wire. Idle: one such guest beside K
# rxonly guests that receive nothing, stopped (SIGSTOP) once connected, so
# the vmm still serves their queues but they take none of CPU 0's time
# (--idle "" skips it). Shared: one busy guest that shares CPU 0 with K
# busy processes that are not guests (shell loops), so it runs in time
# slices as each of 16 guests does, while the vmm serves one guest: the
# control that separates what more guests cost the vmm from what a guest
# CPU shared in time slices costs it (--shared "" skips it). --repeat R
# measures every point R times, interleaved so that drift shows in every
# row alike, and reports each point's median.
# Regions: one guest on 2 MiB
# hugepages without --single-file-segments and without -m, so each page it
# comes to use is a region of its own; its mbuf count sets how many (the
# table gives the number telemetry saw). Each pool also runs with
# --single-file-segments -m 256, which net_cdna registers as one region:
# its baseline, the same pool, so that the pair differs in regions alone and
# not in how much memory the traffic runs over (the pool's size moves the
# cost by itself: 142 to 175 cycles from 2048 to 65536 mbufs in one region,
# bench/RESULTS.md). Each row's
# ratio is taken pass by pass against its baseline. The cost is
# cdna-vmm's own accounting (/cdna/vmm):
# TSC cycles of mediate + NIC + reclaim per descriptor, over the rounds that
# moved anything, so it does not depend on how often the guests ran. Memory:
# the vmm's bytes per guest (vmm_bytes: region records, claim maps, rings,
# slot records) against what the guest registered (mem_bytes).
# Results in bench/results/<date>-scale/scale.md and scale.csv.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
args="$*"
build=${CDNA_BUILD:-$top/build}
secs=4
guests_list="1 2 4 8 16"
mbufs_list="2048 16384 65536"
idle_list="15"
idle=0
hogs=0
shared_list="15"
repeat=1
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) secs=$2; shift ;;
	--guests) guests_list=$2; shift ;;
	--mbufs) mbufs_list=$2; shift ;;
	--idle) idle_list=$2; shift ;;
	--shared) shared_list=$2; shift ;;
	--repeat) repeat=$2; shift ;;
	-h | --help) sed -n '3,27p' "$0"; exit 0 ;;
	*) echo "scale: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case "$repeat" in
'' | *[!0-9]* | 0) echo "scale: --repeat '$repeat' is not a count of 1 or more" >&2; exit 2 ;;
esac
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_init scale
out=$top/bench/results/$(date -u +%Y%m%d-%H%M%S)-scale
mkdir -p "$out"

# measure NAME NGUESTS MBUFS MEM...: one vmm, NGUESTS txonly guests with
# EAL memory options MEM; prints "requests cycles regions vmm_bytes mem_bytes
# batches mediate nic reclaim" (regions and bytes of the first guest;
# batches: queue directions the mediator found requests in, so requests /
# batches is the batch size; the last three: cycles of each stage).
measure() {
	local name=$1 n=$2 mbufs=$3 tag=cdna-scale-$$-$1 i g gp=() first
	shift 3
	"$build/vmm/cdna-vmm" --file-prefix "$tag-v" --lcores 0@1 -m 256 --no-pci \
		--vdev net_null0,no-rx=1 -- --wire net_null0 --max-guests 32 \
		--socket "$run/v.sock" >"$run/$name-vmm.log" 2>&1 &
	local vp=$!
	pids+=("$vp")
	for i in $(seq 100); do [ -S "$run/v.sock" ] && break; sleep 0.1; done
	for g in $(seq "$n"); do
		# The last $idle guests receive only (nothing comes), and are
		# stopped once connected: idle, and not taking CPU 0's time.
		local fwd=txonly
		[ "$g" -gt $((n - idle)) ] && fwd=rxonly
		dpdk-testpmd --file-prefix "$tag-g$g" --lcores 0@0,1@0 "$@" --no-pci \
			-d "$run/librte_net_cdna.so" --vdev "net_cdna0,path=$run/v.sock" -- \
			--forward-mode=$fwd --total-num-mbufs="$mbufs" --txd=512 --rxd=512 \
			--stats-period 100 </dev/null >"$run/$name-g$g.log" 2>&1 &
		gp+=($!)
		pids+=($!)
	done
	# All connected, then a clean window of the vmm's own accounting.
	for i in $(seq 300); do
		[ "$(tele "$tag-v" /cdna/guests 2>/dev/null | wc -w)" -ge "$n" ] && break
		sleep 0.1
	done
	# A guest says HELLO early in its start; sixteen starting on one CPU
	# can take longer than the window to send their first frame. Every
	# busy guest sending, then the window (after 2 minutes the window
	# runs anyway, and says how many were sending; a point where none
	# sends reads as one that did not run).
	local deadline=$((SECONDS + 120)) busy=0 id t
	while [ "$SECONDS" -lt "$deadline" ]; do
		busy=0
		for id in $(tele "$tag-v" /cdna/guests 2>/dev/null); do
			t=$(tele "$tag-v" "/cdna/guest,$id" tx_pkts 2>/dev/null) || t=0
			[ "${t:-0}" -gt 0 ] && busy=$((busy + 1))
		done
		[ "$busy" -ge $((n - idle)) ] && break
		sleep 0.5
	done
	[ "$busy" -ge $((n - idle)) ] ||
		say "$name: only $busy of $((n - idle)) busy guests sending after 2 minutes: measured anyway"
	sleep 1
	for g in $(seq $((n - idle + 1)) "$n"); do kill -STOP "${gp[$((g - 1))]}"; done
	# CPU 0's other tenants for the shared point, once the guest runs.
	local hp=()
	for i in $(seq "$hogs"); do
		# Bounded, should this script be killed before it stops them
		# (timeout passes its TERM on); off the $(measure) pipe.
		timeout $((secs + 60)) taskset -c 0 bash -c 'while :; do :; done' \
			</dev/null >/dev/null 2>&1 &
		hp+=($!)
		pids+=($!)
	done
	[ "$hogs" -eq 0 ] || sleep 1
	read -r r0 m0 n0 c0 b0 <<<"$(tele "$tag-v" /cdna/vmm requests cyc_mediate cyc_nic cyc_reclaim batches)"
	sleep "$secs"
	read -r r1 m1 n1 c1 b1 <<<"$(tele "$tag-v" /cdna/vmm requests cyc_mediate cyc_nic cyc_reclaim batches)"
	first=$(tele "$tag-v" /cdna/guests | awk '{ print $1 }')
	read -r regions vb mb <<<"$(tele "$tag-v" "/cdna/guest,$first" regions vmm_bytes mem_bytes)"
	for h in "${hp[@]}"; do kill -TERM "$h" 2>/dev/null || true; done
	for h in "${hp[@]}"; do wait "$h" 2>/dev/null || true; done
	for g in "${gp[@]}"; do kill -CONT "$g" 2>/dev/null || true; done
	for g in "${gp[@]}"; do kill -INT "$g" 2>/dev/null || true; done
	for g in "${gp[@]}"; do wait "$g" 2>/dev/null || true; done
	kill -INT "$vp"; wait "$vp" 2>/dev/null || true
	rm -f "$run/v.sock" "$run/v.sock.lock"
	rm -rf /var/run/dpdk/"$tag"-*
	echo "$((r1 - r0)) $((m1 - m0 + n1 - n0 + c1 - c0)) $regions $vb $mb $((b1 - b0)) $((m1 - m0)) $((n1 - n0)) $((c1 - c0))"
}

csv=$out/scale.csv
echo "kind,guests,mbufs,regions,requests,cycles,cyc_per_desc,vmm_bytes,mem_bytes,batches,pass,cpu0_others,cyc_mediate,cyc_nic,cyc_reclaim" >"$csv"
# point KIND GUESTS LABEL: one measurement of 4096-mbuf guests on 4 KiB
# pages, a row of the CSV.
point() {
	local req cyc regions vb mb bat cm cn cr cpd
	read -r req cyc regions vb mb bat cm cn cr <<<"$(measure "$1$2" "$2" 4096 --no-huge -m 128)"
	cpd=$(awk -v c="$cyc" -v r="$req" 'BEGIN { printf "%.1f", r ? c / r : 0 }')
	say "pass $pass: $3: $cpd cycles per descriptor ($req descriptors;" \
		"$(awk -v m="$cm" -v n="$cn" -v c="$cr" -v r="$req" \
			'BEGIN { if (r) printf "mediate %.0f, NIC %.0f, reclaim %.0f", m / r, n / r, c / r }'))"
	echo "$1,$2,4096,$regions,$req,$cyc,$cpd,$vb,$mb,$bat,$pass,$hogs,$cm,$cn,$cr" >>"$csv"
}
for pass in $(seq "$repeat"); do
	for n in $guests_list; do
		point guests "$n" "$n guests"
	done
	# One busy guest beside idle ones: what polling guests that send
	# nothing costs the busy one, apart from the guests taking turns on
	# CPU 0.
	for k in $idle_list; do
		idle=$k
		point idle $((k + 1)) "1 busy guest and $k idle"
		idle=0
	done
	# One guest taking turns on CPU 0 with K processes that are not
	# guests: the turns alone, with one guest for the vmm to serve.
	for k in $shared_list; do
		hogs=$k
		point shared 1 "1 guest sharing CPU 0 with $k busy processes"
		hogs=0
	done
done
free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
if [ "${free:-0}" -ge 200 ]; then
	# rpoint KIND NAME MBUFS LABEL MEM...: one regions measurement, a CSV row.
	rpoint() {
		local kind=$1 name=$2 mb=$3 label=$4 req cyc regions vb memb bat cm cn cr cpd
		shift 4
		read -r req cyc regions vb memb bat cm cn cr <<<"$(measure "$name" 1 "$mb" "$@")"
		cpd=$(awk -v c="$cyc" -v r="$req" 'BEGIN { printf "%.1f", r ? c / r : 0 }')
		say "pass $pass: 1 guest, $mb mbufs, $regions regions$label: $cpd cycles per descriptor"
		echo "$kind,1,$mb,$regions,$req,$cyc,$cpd,$vb,$memb,$bat,$pass,0,$cm,$cn,$cr" >>"$csv"
	}
	for pass in $(seq "$repeat"); do
		for mb in $mbufs_list; do
			# The baseline: this pool in one region (memory reserved up
			# front with -m, one file per memory list: one range).
			rpoint regions_one "r1-$mb" "$mb" " (--single-file-segments)" \
				--single-file-segments -m 256
			# No -m: EAL maps pages as the pools need them, a region each.
			rpoint regions "r$mb" "$mb" ""
		done
	done
	regions_note="Regions not measured: --mbufs was empty."
else
	regions_note="Regions not measured: $free free 2 MiB hugepages, 200 needed."
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
python3 - "$csv" "$out/scale.md" "bash bench/scale.sh${args:+ $args}" \
	"$(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r), DPDK $(dpkg-query -W -f='${Version}' libdpdk-dev)" \
	"$secs" "$regions_note" <<'PY'
import csv, sys
from statistics import median
path, md, cmd, machine, secs, note = sys.argv[1:7]
rows = list(csv.DictReader(open(path)))
passes = max((int(r["pass"]) for r in rows), default=1)
def points(kind, key):
    """Rows of kind grouped by key, in first-seen order: one point each."""
    out = {}
    for r in rows:
        if r["kind"] == kind:
            out.setdefault(r[key], []).append(r)
    return out
def ran(r):
    return bool(r["vmm_bytes"]) and int(r["requests"] or 0) > 0
def cost(rs):
    """Median cycles per descriptor of the runs that moved anything, and their range."""
    c = [float(r["cyc_per_desc"]) for r in rs if ran(r)]
    return (median(c), min(c), max(c)) if c else None
def first_cost(kind, key):
    for rs in points(kind, key).values():
        if cost(rs):
            return cost(rs)[0]
    return None
def block(kind, label, key, base=None):
    pts = points(kind, key)
    if not pts:
        return []
    if base is None:
        base = first_cost(kind, key) or 1.0
    spread = any(len(rs) > 1 for rs in pts.values())
    out = [f"| {label} | cycles / descriptor{' (median)' if spread else ''} | x first row |"
           f"{' range |' if spread else ''} descriptors / batch | vmm bytes per guest | registered bytes | vmm / registered |",
           "|---|---|---|" + ("---|" if spread else "") + "---|---|---|---|"]
    for k, rs in pts.items():
        c = cost(rs)
        if c is None:
            out.append(f"| {k or '?'} | guest did not run | |" + (" |" if spread else "") + " | | | |")
            continue
        r = next(r for r in rs if ran(r))
        vb, mb = int(r["vmm_bytes"]), int(r["mem_bytes"])
        per = median(int(x["requests"]) / int(x["batches"]) for x in rs
                     if ran(x) and int(x["batches"] or 0)) if any(
                         ran(x) and int(x["batches"] or 0) for x in rs) else None
        rng = f" {c[1] / base:.2f}-{c[2] / base:.2f} |" if spread else ""
        out.append(f"| {k} | {c[0]:.0f} | {c[0] / base:.2f} |{rng} "
                   f"{per:.1f} | {vb} | {mb} | {100.0 * vb / mb if mb else 0:.2f}% |"
                   if per is not None else
                   f"| {k} | {c[0]:.0f} | {c[0] / base:.2f} |{rng} ? | {vb} | {mb} | "
                   f"{100.0 * vb / mb if mb else 0:.2f}% |")
    return out + [""]
lines = ["# cdna-vmm: cost per descriptor against guests and regions", "",
         f"- command: `{cmd}`", f"- machine: {machine}",
         f"- {secs} s window per point; cost from cdna-vmm's own TSC accounting "
         "(mediate + NIC + reclaim, rounds that moved anything) over the descriptors "
         "it handled; guests txonly at 64 B, all on CPU 0, cdna-vmm on CPU 1",
         "- descriptors / batch: requests per queue direction the mediator found any in; "
         "fixed costs of a round weigh more per descriptor when batches are small"]
if passes > 1:
    lines.append(f"- {passes} passes, interleaved; "
                 "each row gives the median, and its range as x the first row's median")
lines += ["", "## Guests (each --no-huge -m 128, one region)", ""]
lines += block("guests", "guests", "guests")
one = first_cost("guests", "guests")
idle = block("idle", "guests (1 busy)", "guests", one)
if idle:
    lines += ["## One busy guest beside idle ones (rxonly, nothing to receive, "
              "stopped once connected); x the first guests row", ""] + idle
shared = points("shared", "cpu0_others")
if shared:
    lines += ["## One guest sharing CPU 0 with busy processes that are not guests; "
              "x the first guests row", ""]
    lines += block("shared", "other processes on CPU 0", "cpu0_others", one)
    # What more guests add beyond taking turns on CPU 0: N guests against
    # one guest in time slices as short as theirs.
    g = {k: cost(v) for k, v in points("guests", "guests").items() if cost(v)}
    sh = cost(next(iter(shared.values())))
    big = max(g, key=int) if g else None
    if sh and big and int(big) > 1:
        lines += [f"{big} guests against one guest that shares CPU 0 alike: "
                  f"{g[big][0] / sh[0]:.2f}x (medians). The guests row's ratio "
                  "includes what a guest CPU shared in time slices costs the vmm "
                  "per descriptor; this one leaves that out.", ""]
def regions_block():
    """Each pool in a region per page against the same pool in one region, pass by pass."""
    many, one = points("regions", "mbufs"), points("regions_one", "mbufs")
    if not many:
        return []
    out = ["| mbufs | regions | cycles / descriptor (median) | one region, same pool (median) | "
           "x one region (median of passes) | range | vmm bytes per guest | registered bytes | "
           "vmm / registered |", "|---|---|---|---|---|---|---|---|---|"]
    for mb, rs in many.items():
        c, c1 = cost(rs), cost(one.get(mb, []))
        base = {r["pass"]: float(r["cyc_per_desc"]) for r in one.get(mb, []) if ran(r)}
        ratios = [float(r["cyc_per_desc"]) / base[r["pass"]] for r in rs
                  if ran(r) and r["pass"] in base and base[r["pass"]] > 0]
        if c is None or c1 is None or not ratios:
            out.append(f"| {mb} | ? | a guest did not run | | | | | | |")
            continue
        r = next(r for r in rs if ran(r))
        vb, memb = int(r["vmm_bytes"]), int(r["mem_bytes"])
        out.append(f"| {mb} | {r['regions']} | {c[0]:.0f} | {c1[0]:.0f} | {median(ratios):.2f} | "
                   f"{min(ratios):.2f}-{max(ratios):.2f} | {vb} | {memb} | "
                   f"{100.0 * vb / memb if memb else 0:.2f}% |")
    return out + [""]
lines += ["## Regions (one guest on 2 MiB hugepages: each pool with a region per page, "
          "and with --single-file-segments -m 256 as one region, its baseline)", ""]
lines += regions_block() or [note, ""]
lines.append("Target (issue 8): at most 1.15x from 1 to 16 guests and from 1 to 64 "
             "regions; vmm bytes at most 2% of registered memory + 1 MiB.")
open(md, "w").write("\n".join(lines) + "\n")
PY
cat "$out/scale.md"
