#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Instructions per descriptor of the mediator's data path (fetch, validate,
# claim, post, reclaim, complete), counted by callgrind: repeatable whatever
# else the machine does, unlike a timed figure.
#
#   bash bench/micro.sh [ROUNDS]      (default 20000 rounds of 32 descriptors)
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
valgrind --tool=callgrind --toggle-collect=mediator_poll \
	--callgrind-out-file="$out/cg.out" "$build/bench/mediator_micro" "$rounds" \
	>"$out/run.log" 2>"$out/vg.log" || die "mediator_micro failed: $(tail -n 3 "$out/vg.log")"
descs=$(awk '$1 == "descriptors" { print $2 }' "$out/run.log")
total=$(awk '/^summary:|^totals:/ { print $2; exit }' "$out/cg.out")
callgrind_annotate --inclusive=yes "$out/cg.out" >"$out/annotate.txt" 2>/dev/null || true
nic=$(awk '/cdna_nic_poll/ && n == 0 { gsub(",", "", $1); print $1; n = 1 }' "$out/annotate.txt")
[ -n "$descs" ] && [ -n "$total" ] || die "no counts (see $out)"
awk -v t="$total" -v n="${nic:-0}" -v d="$descs" 'BEGIN {
	printf "descriptors: %d\n", d
	printf "instructions in mediator_poll: %d, of which the stub NIC: %d\n", t, n
	printf "mediator instructions per descriptor: %.1f\n", (t - n) / d }'
