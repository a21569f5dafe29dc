#!/usr/bin/env bash
# Sets up whatever is missing on a Debian 12 machine, then builds cdna.
# Idempotent: when everything is present it only runs an incremental build.
#   scripts/setup.sh [BUILD_DIR]        (default: build)
# Environment: CDNA_HUGEPAGES=N pages of 2 MiB to reserve (default 512; 0 = none),
#              CDNA_SETUP_NO_BUILD=1 to stop before the build.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
case "$build" in /*) ;; *) build=$top/$build ;; esac

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (packages, hugepages): uid is $(id -u)"

# 1. Debian packages.
pkgs="libdpdk-dev dpdk dpdk-dev libpcap-dev libnuma-dev meson ninja-build
      pkg-config gcc python3 python3-pyelftools iproute2 iputils-ping dpkg-dev
      xz-utils"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null || die "apt-get install failed:$missing"
fi

# 2. DPDK driver SDK headers, from the source package of the installed version.
ver=$(dpkg-query -W -f='${Version}' libdpdk-dev)
sdk=$build/dpdk-sdk
if [ "$(cat "$sdk/VERSION" 2>/dev/null)" != "$ver" ]; then
	log "fetching driver SDK headers from source package dpdk=$ver"
	src_list=/etc/apt/sources.list.d/cdna-deb-src.sources
	if ! apt-get source --print-uris "dpdk=$ver" >/dev/null 2>&1; then
		[ -f /etc/apt/sources.list.d/debian.sources ] ||
			die "no /etc/apt/sources.list.d/debian.sources to mirror as deb-src"
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$src_list"
		apt-get update -qq || die "apt-get update (deb-src) failed"
	fi
	dl=$(mktemp -d)
	trap 'rm -rf "$dl"' EXIT
	(cd "$dl" && apt-get source --download-only -qq "dpdk=$ver" >/dev/null 2>&1) ||
		die "apt-get source dpdk=$ver failed"
	orig=$(ls "$dl"/dpdk_*.orig.tar.* 2>/dev/null | head -1)
	[ -n "$orig" ] || die "no orig tarball for dpdk=$ver in $dl"
	rm -rf "$sdk"; mkdir -p "$sdk/include"
	tar -xf "$orig" -C "$dl" --wildcards \
		'*/lib/ethdev/ethdev_driver.h' '*/lib/ethdev/ethdev_vdev.h' \
		'*/drivers/bus/vdev/bus_vdev_driver.h' \
		'*/lib/eal/include/bus_driver.h' '*/lib/eal/include/dev_driver.h' ||
		die "driver headers missing from $orig"
	find "$dl" -name '*.h' -exec cp {} "$sdk/include/" \;
	echo "$ver" > "$sdk/VERSION"
fi

# 3. Hugepages: reserve when the kernel gives them; otherwise tests use --no-huge.
want=${CDNA_HUGEPAGES:-512}
if [ "$want" -gt 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
	have=$(cat /proc/sys/vm/nr_hugepages)
	[ "$have" -ge "$want" ] || echo "$want" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
	mountpoint -q /dev/hugepages 2>/dev/null ||
		{ mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null; } || true
	log "hugepages: $(cat /proc/sys/vm/nr_hugepages) x 2 MiB reserved"
fi

# 4. EAL loads no -d plugin from under a world-writable directory: say so
#    once when the checkout is under one (the tests and the demo cope).
d=$top
while [ "$d" != / ]; do
	if [ -n "$(find "$d" -maxdepth 0 -perm -0002 2>/dev/null)" ]; then
		log "note: $d is world-writable: EAL refuses -d $build/guest-pmd/librte_net_cdna.so; tests and the demo load a private copy, by hand use 'meson install -C $build' (no -d needed) or copy it to a root-owned directory"
		break
	fi
	d=$(dirname "$d")
done

# 5. Build (not for scripts/deb.sh, which builds its own tree).
[ "${CDNA_SETUP_NO_BUILD:-0}" = 1 ] && { log "set up; not building (CDNA_SETUP_NO_BUILD=1)"; exit 0; }
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$top" -Dbuildtype=debugoptimized >/dev/null ||
		die "meson setup failed (see $build/meson-logs/meson-log.txt)"
fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; die "build failed"; }
log "built in $build"
