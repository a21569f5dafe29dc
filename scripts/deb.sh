#!/usr/bin/env bash
# Builds a Debian package of cdna from this tree with Debian's own tooling
# (dpkg-buildpackage, debhelper), into build/deb/:
#   bash scripts/deb.sh        then: apt install ./build/deb/cdna_*.deb
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
die() { printf 'deb: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (packages): uid is $(id -u)"
# The build dependencies, and the driver SDK headers into build/dpdk-sdk.
CDNA_SETUP_NO_BUILD=1 bash scripts/setup.sh build >/dev/null || die "scripts/setup.sh failed"
if ! dpkg-query -W -f='${Status}' debhelper 2>/dev/null | grep -q 'ok installed'; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debhelper >/dev/null ||
		die "apt-get install debhelper failed"
fi
out=$top/build/deb
rm -rf "$out" obj-*-linux-gnu debian/cdna debian/.debhelper debian/files \
	debian/cdna.substvars debian/debhelper-build-stamp debian/*.debhelper*
mkdir -p "$out"
dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1 ||
	die "dpkg-buildpackage failed (see $out/build.log): $(tail -n 5 "$out/build.log")"
# dpkg-buildpackage leaves its results beside the tree: all of them,
# the debug-symbol package too, move into build/deb, none stays there.
ver=$(dpkg-parsechangelog -S Version)
for f in ../cdna_"$ver"_*.deb ../cdna-dbgsym_"$ver"_*.deb \
	../cdna_"$ver"_*.buildinfo ../cdna_"$ver"_*.changes; do
	[ -e "$f" ] || continue
	mv "$f" "$out"/ || die "cannot move $f into $out"
done
ls "$out"/cdna_*.deb >/dev/null 2>&1 || die "no .deb produced (see $out/build.log)"
rm -rf obj-*-linux-gnu debian/cdna debian/.debhelper debian/files \
	debian/cdna.substvars debian/debhelper-build-stamp debian/*.debhelper*
printf 'deb: %s\n' "$out"/cdna_*.deb
