# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# What bench/run.sh and bench/scale.sh share: messages, set-up, a private
# run directory under /run holding a copy of the PMD (EAL loads no -d plugin
# from under a world-writable directory), and killing what they started.
#   bench_init NAME     (after top, build and the options are set)

die() { printf '%s: error: %s\n' "$BENCH_NAME" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }

bench_cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$run" /var/run/dpdk/cdna-"$BENCH_NAME"-*
}

bench_init() {
	BENCH_NAME=$1
	[ "$(id -u)" = 0 ] || die "run as root (DPDK, hugepages): uid is $(id -u)"
	bash "$top/scripts/setup.sh" "$build" >/dev/null || die "scripts/setup.sh failed"
	command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd not found (Debian package dpdk)"
	run=$(mktemp -d "/run/cdna-$BENCH_NAME.XXXXXX")
	cp "$build/guest-pmd/librte_net_cdna.so" "$run/"
	pids=()
	trap bench_cleanup EXIT
}

# tele PREFIX COMMAND [KEY...]: one telemetry query of a DPDK process.
tele() {
	python3 "$top/tests/integration/tele.py" "$@"
}
