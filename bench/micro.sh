#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Instructions per descriptor of the mediator's data path (fetch, validate,
# claim, post, reclaim, complete), counted by callgrind: repeatable whatever
# else the machine does, unlike a timed figure.
#
#   bash bench/micro.sh [ROUNDS]      (default 20000 rounds of 32 descriptors)
#
# Once for TX (64-byte frames) and once for RX (2 KiB buffers that each
# take a 64-byte frame); the figure is per descriptor of each.
#
# Runs build/bench/mediator_micro (the real vmm/mediator.c, a stub NIC)
# under valgrind, counting only inside mediator_poll, and subtracts the
# stub NIC's own instructions.
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
for dir in tx rx; do
	valgrind --tool=callgrind --toggle-collect=mediator_poll \
		--callgrind-out-file="$out/cg-$dir.out" "$build/bench/mediator_micro" "$rounds" "$dir" \
		>"$out/run-$dir.log" 2>"$out/vg-$dir.log" ||
		die "mediator_micro $dir failed: $(tail -n 3 "$out/vg-$dir.log")"
	descs=$(awk '$1 == "descriptors" { print $2 }' "$out/run-$dir.log")
	total=$(awk '/^summary:|^totals:/ { print $2; exit }' "$out/cg-$dir.out")
	callgrind_annotate --inclusive=yes "$out/cg-$dir.out" >"$out/annotate-$dir.txt" 2>/dev/null || true
	nic=$(awk '/cdna_nic_poll/ && n == 0 { gsub(",", "", $1); print $1; n = 1 }' "$out/annotate-$dir.txt")
	[ -n "$descs" ] && [ -n "$total" ] || die "no counts for $dir (see $out)"
	awk -v t="$total" -v n="${nic:-0}" -v d="$descs" -v dir="$dir" 'BEGIN {
		what = dir == "tx" ? "TX requests of 64 B" : "RX buffers of 2 KiB taking 64 B frames"
		printf "%s: %d descriptors\n", what, d
		printf "  instructions in mediator_poll: %d, of which the stub NIC: %d\n", t, n
		printf "  mediator instructions per descriptor (%s): %.1f\n", dir, (t - n) / d }'
done
