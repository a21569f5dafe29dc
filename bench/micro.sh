#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Instructions per descriptor of the mediator's data path (fetch, validate,
# claim, post, reclaim, complete), counted by callgrind: repeatable whatever
# else the machine does, unlike a timed figure.
#
#   bash bench/micro.sh [ROUNDS]      (default 20000 rounds of 32 descriptors)
#
# For TX of 64-byte frames (one claim line), RX (2 KiB buffers that each
# take a 64-byte frame), TX of 256-byte frames (4 lines), TX of 1514-byte
# frames (24 lines), TX of 64-byte
# frames with 15 idle guests polled beside, and TX of 64-byte frames whose
# buffers lie in 2, 3 and 6 regions taken in turn, changing region every 4
# requests (as buffers spread over a region per page do; the batch path
# holds 4 regions, so with 6 every change is a lookup in the table); the
# figure is per descriptor of each.
#
# Runs build/bench/mediator_micro (the real vmm/mediator.c, a stub NIC)
# under valgrind, counting only inside mediator_poll, and subtracts the
# stub NIC's own instructions. Then build/bench/nic_micro (the real NIC
# model, EAL on --no-huge, a net_null wire): instructions per frame of
# cdna_nic_poll sending with one context and with 15 idle ones beside it,
# and receiving.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${CDNA_BUILD:-$top/build}
rounds=${1:-20000}
die() { printf 'micro: error: %s\n' "$*" >&2; exit 1; }

[ -x "$build/bench/mediator_micro" ] || bash "$top/scripts/setup.sh" "$build" >/dev/null ||
	die "scripts/setup.sh failed"
command -v valgrind >/dev/null || die "valgrind not found (Debian package valgrind)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for spec in "tx 64 0 0 2" "rx 2048 0 0 2" "tx 256 0 0 2" "tx 1514 0 0 2" "tx 64 15 0 2" \
	"tx 64 0 4 2" "tx 64 0 4 3" "tx 64 0 4 6"; do
	set -- $spec
	dir=$1$2-$3-$4-$5
	# The idle row is read against the plain TX 64 B row, measured first.
	[ "$3" = 0 ] || [ -n "${tx64:-}" ] || die "the idle-guests row needs the TX 64 B row first"
	valgrind --tool=callgrind --toggle-collect=mediator_poll \
		--callgrind-out-file="$out/cg-$dir.out" "$build/bench/mediator_micro" "$rounds" "$1" "$2" "$3" "$4" "$5" \
		>"$out/run-$dir.log" 2>"$out/vg-$dir.log" ||
		die "mediator_micro $spec failed: $(tail -n 3 "$out/vg-$dir.log")"
	descs=$(awk '$1 == "descriptors" { print $2 }' "$out/run-$dir.log")
	total=$(awk '/^summary:|^totals:/ { print $2; exit }' "$out/cg-$dir.out")
	callgrind_annotate --inclusive=yes "$out/cg-$dir.out" >"$out/annotate-$dir.txt" 2>/dev/null || true
	nic=$(awk '/cdna_nic_poll/ && n == 0 { gsub(",", "", $1); print $1; n = 1 }' "$out/annotate-$dir.txt")
	[ -n "$descs" ] && [ -n "$total" ] || die "no counts for $dir (see $out)"
	awk -v t="$total" -v n="${nic:-0}" -v d="$descs" -v dir="$1" -v len="$2" -v idle="$3" -v run="$4" -v nreg="$5" \
		-v base="${tx64:-}" 'BEGIN {
		what = dir == "tx" ? "TX requests of " len " B" : "RX buffers of 2 KiB taking 64 B frames"
		if (idle > 0)
			what = what ", " idle " idle guests beside"
		if (run > 0)
			what = what ", buffers in " nreg " regions in turn, changing every " run " requests"
		printf "%s: %d descriptors\n", what, d
		printf "  instructions in mediator_poll: %d, of which the stub NIC: %d\n", t, n
		size = (dir == "tx" && len != 64) ? ", " len " B" : ""
		beside = idle > 0 ? ", " idle " idle guests" : ""
		beside = beside (run > 0 ? ", " nreg " regions, changing every " run : "")
		printf "  mediator instructions per descriptor (%s%s%s): %.1f\n", dir, size,
			beside, (t - n) / d
		if (idle > 0)
			printf "  per idle guest per poll of 32: %.1f\n", ((t - n) / d - base) * 32 / idle
		}'
	[ "$1$2-$3-$4" != tx64-0-0 ] || tx64=$(awk -v t="$total" -v n="${nic:-0}" -v d="$descs" 'BEGIN { printf "%.3f", (t - n) / d }')
done

# The NIC model's poll: one context sending 64 B frames to a net_null wire,
# alone and beside 15 idle contexts (RX buffers posted, nothing to send);
# and one context receiving the wire's 64 B frames.
[ -x "$build/bench/nic_micro" ] || die "$build/bench/nic_micro missing (rebuild: ninja -C $build)"
for spec in "tx 0" "tx 15" "rx 0"; do
	set -- $spec
	valgrind --tool=callgrind --toggle-collect=cdna_nic_poll \
		--callgrind-out-file="$out/cg-nic-$1$2.out" "$build/bench/nic_micro" "$rounds" "$2" "$1" \
		>"$out/run-nic-$1$2.log" 2>"$out/vg-nic-$1$2.log" ||
		die "nic_micro $spec failed: $(tail -n 3 "$out/vg-nic-$1$2.log")"
	frames=$(awk '$1 == "frames" { print $2 }' "$out/run-nic-$1$2.log")
	total=$(awk '/^summary:|^totals:/ { print $2; exit }' "$out/cg-nic-$1$2.out")
	[ -n "$frames" ] && [ -n "$total" ] || die "no counts for nic_micro $spec (see $out)"
	eval "nic_$1$2=$(awk -v t="$total" -v f="$frames" 'BEGIN { printf "%.1f", t / f }')"
done
awk -v a="$nic_tx0" -v b="$nic_tx15" -v r="$nic_rx0" 'BEGIN {
	printf "NIC poll (cdna_nic_poll, the net_null wire PMD included), instructions per frame:\n"
	printf "  TX, 64 B frames to the wire, 1 context: %.1f\n", a
	printf "  TX, 1 busy + 15 idle contexts: %.1f (%.2fx)\n", b, b / a
	printf "  TX, per idle context per poll of 32 frames: %.1f\n", (b - a) * 32 / 15
	printf "  RX, 64 B frames from the wire, 1 context: %.1f\n", r }'
