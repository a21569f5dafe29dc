#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# cdna demo: builds what is missing (scripts/setup.sh), then runs cdna-vmm
# with stock dpdk-testpmd guests and prints a throughput table:
#   1. guest 1 txonly -> wire (net_null), then the same in passthrough mode
#      (no mediator on the data path): the cost of mediation, same run
#   2. guest 1 txonly -> guest 2 rxonly, through the NIC's embedded switch
#   3. a capture replayed from a net_pcap wire through an io guest and back
# Every DMA is checked by the audit oracle (--audit). About a minute.
#
#   scripts/demo.sh [BUILD_DIR]
# Environment: CDNA_DEMO_SECONDS (measurement window, default 3),
#              CDNA_NO_SETUP=1 (do not run scripts/setup.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${CDNA_BUILD:-$top/build}}
case "$build" in /*) ;; *) build=$PWD/$build ;; esac
secs=${CDNA_DEMO_SECONDS:-3}
replay_n=100000
cmdline="$0${1:+ $1}"

die() {
	printf 'demo: error: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (DPDK runtime directories, hugepages): uid is $(id -u)"
if [ "${CDNA_NO_SETUP:-0}" != 1 ]; then
	bash "$top/scripts/setup.sh" "$build" || die "scripts/setup.sh failed"
fi

export CDNA_VMM=$build/vmm/cdna-vmm
export CDNA_PMD=$build/guest-pmd/librte_net_cdna.so
export CDNA_PCAPGEN=$build/tests/tools/pcapgen
export CDNA_PCAPCMP=$build/tests/tools/pcapcmp
export CDNA_PCAPINFO=$build/tests/tools/pcapinfo
export CDNA_TELE=$top/tests/integration/tele.py
for f in "$CDNA_VMM" "$CDNA_PMD" "$CDNA_PCAPGEN" "$CDNA_PCAPCMP" "$CDNA_PCAPINFO"; do
	[ -e "$f" ] || die "$f is missing: build with scripts/setup.sh"
done
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd not found (Debian package dpdk)"

# Process management, telemetry and cleanup are shared with the tests.
# shellcheck source=SCRIPTDIR/../tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
IT_NAME=demo
it_init 180

rows=()
# row SCENARIO PACKETS SECONDS_NS BYTES REJECTS VIOLATIONS [BASELINE_PPS, 0: none]
row() {
	rows+=("$(awk -v s="$1" -v p="$2" -v ns="$3" -v b="$4" -v r="$5" -v v="$6" \
		-v base="${7:-${base_pps:-0}}" \
		'BEGIN { t = ns / 1e9; pps = p / t
			printf "%-40s | %10d | %6.3f | %6.3f | %7d | %16s | %5s",
			s, p, pps / 1e6, b * 8 / t / 1e9, r, v,
			(base > 0 ? sprintf("%.2f", pps / base) : "-") }')")
}

now_ns() {
	date +%s%N
}

# sample VMM ID KEY...: "<time ns> <values>" of one telemetry read.
sample() {
	local t v
	t=$(now_ns)
	v=$(tele_guest "$@") || fail "telemetry /cdna/guest,$2 failed"
	printf '%s %s\n' "$t" "$v"
}

violations() {
	nic_field "$1" audit_violations || fail "telemetry /cdna/nic failed"
}

MAC2=02:cd:00:00:00:02

# 0. Baseline, same run: the same testpmd straight on the wire port (no
#    guest boundary, no mediator), its forwarding lcore on the same CPU.
log "baseline: testpmd txonly directly on net_null"
base_prefix="cdna-demo-base-$$"
IT_PREFIXES+=("$base_prefix")
IT_CMDS+=("dpdk-testpmd --lcores 0@0,1@0 --no-huge -m 512 --file-prefix $base_prefix --no-pci --vdev net_null0,no-rx=1 -- --forward-mode=txonly --total-num-mbufs=16384 --stats-period 1")
base_log=$IT_RUN/baseline.log
timeout --signal=INT $((secs + 8)) dpdk-testpmd --lcores 0@0,1@0 --no-huge -m 512 \
	--file-prefix "$base_prefix" --no-pci --vdev net_null0,no-rx=1 -- \
	--forward-mode=txonly --total-num-mbufs=16384 --stats-period 1 \
	</dev/null >"$base_log" 2>&1 || true
# --stats-period prints "Tx-pps:" each second; average the steady ones.
base_pps=$(awk '/Tx-pps:/ { n++; if (n > 2) { s += $2; k++ } }
	END { if (k == 0) exit 1; printf "%d", s / k }' "$base_log") ||
	fail "baseline testpmd printed no Tx-pps (see $base_log)"
rows+=("$(awk -v p="$base_pps" 'BEGIN { printf "%-40s | %10s | %6.3f | %6.3f | %7s | %16s",
	"baseline: testpmd txonly on net_null", "-", p / 1e6, p * 64 * 8 / 1e9, "-", "-" } ') | 1.00")

log "vmm with a net_null wire; guest 1 txonly"
vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --allow-passthrough
guest_start g1 v "mac=02:cd:00:00:00:01" --forward-mode=txonly
id1=$(guest_id v g1)

# txonly_row GUEST ID SCENARIO: GUEST sends for the window; a row of what
# the vmm counted; its rate (frames/s) in txonly_pps.
txonly_row() {
	local t0 p0 b0 t1 p1 b1
	guest_exec "$1" start >/dev/null
	sleep 0.5
	read -r t0 p0 b0 <<<"$(sample v "$2" tx_pkts tx_bytes)"
	sleep "$secs"
	read -r t1 p1 b1 <<<"$(sample v "$2" tx_pkts tx_bytes)"
	guest_fwd_stop "$1" >/dev/null
	row "$3" $((p1 - p0)) $((t1 - t0)) $((b1 - b0)) "$(tele_rejects v "$2")" "off"
	txonly_pps=$(awk -v p=$((p1 - p0)) -v ns=$((t1 - t0)) 'BEGIN { printf "%d", p / (ns / 1e9) }')
}

# 1. guest 1 -> wire.
txonly_row g1 "$id1" "guest1 txonly -> wire (net_null)"
med_pps=$txonly_pps

# 1b. The same guest application in passthrough mode: the same NIC and wire,
#     its descriptors straight to the NIC's address stage.
log "a passthrough guest, txonly"
guest_start gp v "mac=02:cd:00:00:00:0a,mode=passthrough" --forward-mode=txonly
idp=$(guest_id v gp)
[ "$(tele_guest v "$idp" mode)" = passthrough ] || fail "guest gp is not in passthrough mode"
txonly_row gp "$idp" "passthrough txonly -> wire (net_null)"
pt_pps=$txonly_pps
guest_quit gp || true

# 2. guest 1 -> guest 2 through the switch.
log "guest 2 rxonly; guest 1 now sends to $MAC2"
guest_start g2 v "mac=$MAC2" --forward-mode=rxonly
id2=$(guest_id v g2)
guest_exec g2 start >/dev/null
guest_exec g1 "set eth-peer 0 $MAC2" >/dev/null
rej0=$(($(tele_rejects v "$id1") + $(tele_rejects v "$id2")))
guest_exec g1 start >/dev/null
sleep 0.5
read -r t0 p0 b0 <<<"$(sample v "$id2" rx_pkts rx_bytes)"
sleep "$secs"
read -r t1 p1 b1 <<<"$(sample v "$id2" rx_pkts rx_bytes)"
guest_fwd_stop g1 >/dev/null
guest_fwd_stop g2 >/dev/null
rej1=$(($(tele_rejects v "$id1") + $(tele_rejects v "$id2")))
row "guest1 txonly -> guest2 rxonly (switch)" $((p1 - p0)) $((t1 - t0)) $((b1 - b0)) \
	$((rej1 - rej0)) "off"
nobuf=$(tele_guest v "$id2" rx_nobuf)
guest_quit g1 || true
guest_quit g2 || true
vmm_stop v
rc1=$VMM_RC
summary1=$(grep '^cdna-vmm: summary ' "${IT_LOG[v]}" || true)

# 3. capture replay through an io guest.
log "vmm with a net_pcap wire: replay $replay_n frames through an io guest"
in=$IT_RUN/replay-in.pcap
out=$IT_RUN/replay-out.pcap
"$CDNA_PCAPGEN" mixed "$replay_n" "$in" || fail "pcapgen failed"
vmm_start r --vdev "net_pcap0,rx_pcap=$in,tx_pcap=$out" -- --wire net_pcap0 --audit
guest_start g3 r "mac=02:cd:00:00:00:03" --forward-mode=io --disable-device-start --no-flush-rx
id3=$(guest_id r g3)
guest_port_start g3
guest_tx_retry g3 io
t0=$(now_ns)
guest_exec g3 start >/dev/null
wait_for 90 tele_ge r "$id3" tx_pkts "$replay_n" ||
	fail "replay: tx_pkts $(tele_guest r "$id3" tx_pkts || true) of $replay_n after 90 s"
t1=$(now_ns)
read -r p b <<<"$(tele_guest r "$id3" tx_pkts tx_bytes)"
guest_fwd_stop g3 >/dev/null
rej3=$(tele_rejects r "$id3")
viol3=$(violations r)
guest_quit g3 || true
vmm_stop r
summary2=$(grep '^cdna-vmm: summary ' "${IT_LOG[r]}" || true)
# The rate is taken from the wire's own timestamps of the frames sent back
# (net_pcap stamps each frame), finer than polling telemetry.
dur=$(pcap_field "$out" duration_ns || echo 0)
if [ "$dur" -gt 1000000 ]; then
	replay_clock="first to last frame written back to the wire"
else
	dur=$((t1 - t0))
	replay_clock="wall clock from 'start' to tx_pkts = $replay_n"
fi
# No ratio: a different workload (pcap file I/O, audit on) from the baseline.
row "pcap replay: wire -> io guest -> wire" "$p" "$dur" "$b" "$rej3" "$viol3" 0
if "$CDNA_PCAPCMP" "$in" "$out" >/dev/null; then
	same="identical to the input ($replay_n frames)"
else
	same="DIFFERS from the input: $("$CDNA_PCAPCMP" "$in" "$out" | head -n 1)"
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
printf '\nprocesses:\n'
printf '  %s\n' "${IT_CMDS[@]}"
printf '%s\n%s\n' "${summary1:-no summary}" "${summary2:-no summary}"
printf 'vmm exit status: %s (net_null run), %s (net_pcap run)\n' \
	"$rc1" "$VMM_RC"
printf 'guest2 rx_nobuf (frames dropped for lack of a posted buffer): %s\n' "$nobuf"
printf '  (guest 2 shares CPU 0 with guest 1: while it is descheduled its posted ring fills and the rest is dropped)\n'
printf 'replay output on the wire: %s; rate over: %s\n' "$same" "$replay_clock"
printf 'mediated / passthrough, txonly -> wire: %s\n' \
	"$(awk -v m="$med_pps" -v p="$pt_pps" 'BEGIN { if (p > 0) printf "%.2f", m / p; else print "-" }')"
printf '\n'
printf 'cdna demo, %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf 'machine: %s CPUs, %s; kernel %s; DPDK %s\n' "$(nproc)" "${cpu:-unknown CPU}" \
	"$(uname -r)" "$(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null || echo '?')"
printf 'command: %s\n' "$cmdline"
printf 'cdna-vmm on CPU 1, each testpmd guest on CPU 0 (2 lcores); no hugepages\n'
printf 'audit: the DMA audit oracle checks every DMA of the replay (it slows the data path; off for throughput rows)\n'
printf 'window: %s s per throughput run; Gbit/s counts Ethernet frames without FCS; x base = Mpps / baseline Mpps\n\n' "$secs"
printf '%-40s | %10s | %6s | %6s | %7s | %s | %s\n' scenario packets Mpps Gbit/s rejects \
	"audit violations" "x base"
printf '%s\n' "-----------------------------------------+------------+--------+--------+---------+------------------+-------"
printf '%s\n' "${rows[@]}"

# The figures mean nothing if the data was wrong: say so in the exit status.
case "$same" in
identical*) ;;
*) printf 'demo: the replayed frames came back different\n' >&2; exit 1 ;;
esac
if [ "$viol3" != 0 ] || [ "$rc1" != 0 ] || [ "$VMM_RC" != 0 ]; then
	printf 'demo: audit violations (%s) or a vmm exit status (%s, %s) not 0\n' \
		"$viol3" "$rc1" "$VMM_RC" >&2
	exit 1
fi
