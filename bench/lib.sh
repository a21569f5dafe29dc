# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# What bench/run.sh and bench/scale.sh share: messages, set-up, a private
# run directory under /run holding a copy of the PMD (EAL loads no -d plugin
# from under a world-writable directory), and killing what they started.
#   bench_init NAME     (after top, build and the options are set)
#   bench_memory        EAL memory options of host and guest (see below)

die() { printf '%s: error: %s\n' "$BENCH_NAME" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }

bench_cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	# A killed process leaves its hugepage files: the next run would find
	# the pages taken and fall back to --no-huge. This run's files only.
	rm -rf "$run" /var/run/dpdk/cdna-"$BENCH_NAME"-$$-* \
		/dev/hugepages/cdna-"$BENCH_NAME"-$$-*
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

# Hugepages when 400 are free (--single-file-segments: vhost-user needs
# it), else --no-huge: sets mem_host, mem_guest and memory (words for the
# report).
bench_memory() {
	local free
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	if [ "${free:-0}" -ge 400 ]; then
		mem_host=(-m 256 --single-file-segments)
		mem_guest=(-m 512 --single-file-segments)
		memory="2 MiB hugepages (--single-file-segments)"
	else
		mem_host=(--no-huge -m 256)
		mem_guest=(--no-huge -m 512)
		memory="no hugepages (--no-huge)"
	fi
}

# tele PREFIX COMMAND [KEY...]: one telemetry query of a DPDK process.
tele() {
	python3 "$top/tests/integration/tele.py" "$@"
}
