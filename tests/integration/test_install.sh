#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Installed like a DPDK driver: `meson install` into a staging directory
# puts cdna-vmm, the PMD in DPDK's own driver directory, the ABI headers
# with a pkg-config file and the systemd unit in place; into the system,
# the installed cdna-vmm serves a stock testpmd guest that loads the PMD
# without -d, the unit passes systemd-analyze verify; `ninja uninstall`
# removes every file again.
#
#   test_install.sh meson|deb    (deb: the package of scripts/deb.sh,
#                                 installed and purged with apt-get)
. "$(dirname "$0")/lib.sh"
it_init 170
mode=${1:-meson}

: "${CDNA_BUILD:?CDNA_BUILD is not set}"
command -v meson >/dev/null || skip "meson not found"
pmddir=$(sed -n 's/^pmddir=//p' "$CDNA_BUILD/meson-private/cdna.pc" 2>/dev/null || true)
[ -n "$pmddir" ] || fail "no pmddir in $CDNA_BUILD/meson-private/cdna.pc"
pmd_name=$(basename "$CDNA_PMD")
[ ! -e "$pmddir/$pmd_name" ] ||
	skip "$pmddir/$pmd_name is already installed: not touching a system install"

# 1. Staging directory.
stage=$IT_RUN/stage
meson install -C "$CDNA_BUILD" --no-rebuild --quiet --destdir "$stage" >"$IT_RUN/stage.log" 2>&1 ||
	fail "meson install --destdir failed: $(tail -n 5 "$IT_RUN/stage.log")"
bin=$(find "$stage" -path '*/bin/cdna-vmm' -type f | head -n 1)
[ -n "$bin" ] || fail "no bin/cdna-vmm in the staging directory"
prefix=${bin%/bin/cdna-vmm}
prefix=${prefix#"$stage"}
for f in "$pmddir/$pmd_name" "$prefix/include/cdna/cdna_abi.h" \
	"$prefix/include/cdna/cdna_ctrl.h" "$prefix/include/cdna/cdna_ring.h"; do
	[ -f "$stage$f" ] || fail "staging install lacks $f"
done
pc=$(find "$stage" -name cdna.pc | head -n 1)
[ -n "$pc" ] || fail "no cdna.pc in the staging directory"
unit=$(find "$stage" -name cdna-vmm.service | head -n 1)
[ -n "$unit" ] || fail "no cdna-vmm.service in the staging directory"
# The ABI headers compile on their own, found through pkg-config.
printf '#include <cdna_abi.h>\n#include <cdna_ctrl.h>\nint main(void) { return sizeof(struct cdna_req) == 0; }\n' >"$IT_RUN/abi.c"
PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$(dirname "$pc") \
	cc -std=c11 $(PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags cdna) \
	"$IT_RUN/abi.c" -o "$IT_RUN/abi" || fail "the installed headers do not compile through pkg-config"
# Nothing built for this CPU alone in what is installed (unless -Dnative).
native=$(meson introspect --buildoptions "$CDNA_BUILD" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "native"][0])')
if [ "$native" = False ] && grep -q -- '-march=native' "$CDNA_BUILD/compile_commands.json"; then
	fail "-march=native in a build without -Dnative=true"
fi
log "staging install: $(find "$stage" -type f | wc -l) files"

# 2. The system: with meson, or as the Debian package scripts/deb.sh builds.
# Whatever happens, nothing stays installed: DPDK loads every driver in its
# directory into every application.
UNINSTALLED=0
uninstall_once() {
	[ "$UNINSTALLED" = 1 ] && return 0
	UNINSTALLED=1
	uninstall
}
if [ "$mode" = deb ]; then
	top=$(cd "$IT_DIR/../.." && pwd)
	bash "$top/scripts/deb.sh" >"$IT_RUN/deb.log" 2>&1 ||
		fail "scripts/deb.sh failed: $(tail -n 5 "$IT_RUN/deb.log")"
	deb=$(ls "$top"/build/deb/cdna_*.deb | head -n 1)
	# Nothing of the build left beside the tree (dpkg-buildpackage's habit).
	left=$(cd "$top/.." && ls -d cdna_*.deb cdna-dbgsym_*.deb cdna_*.buildinfo \
		cdna_*.changes 2>/dev/null | tr '\n' ' ' || true)
	expect_eq "package files left beside the tree" "${left:-none}" none
	log "built $deb"
	uninstall() {
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq cdna >"$IT_RUN/uninstall.log" 2>&1
	}
	trap 'st=$?; uninstall_once; (exit "$st"); it_cleanup' EXIT
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$IT_RUN/install.log" 2>&1 ||
		fail "apt-get install $deb failed: $(tail -n 5 "$IT_RUN/install.log")"
	prefix=/usr
	sysunit=$(dpkg -L cdna | grep '/cdna-vmm.service$' | head -n 1)
else
	uninstall() {
		ninja -C "$CDNA_BUILD" uninstall >"$IT_RUN/uninstall.log" 2>&1
	}
	trap 'st=$?; uninstall_once; (exit "$st"); it_cleanup' EXIT
	meson install -C "$CDNA_BUILD" --no-rebuild --quiet >"$IT_RUN/install.log" 2>&1 ||
		fail "meson install failed: $(tail -n 5 "$IT_RUN/install.log")"
	sysunit=$(grep -o '[^ ]*/cdna-vmm.service' "$CDNA_BUILD/meson-logs/install-log.txt" | head -n 1)
fi
[ -f "$pmddir/$pmd_name" ] || fail "the PMD is not in $pmddir after install"
[ -n "$sysunit" ] || fail "no cdna-vmm.service installed"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$sysunit" >"$IT_RUN/verify.log" 2>&1 ||
		fail "systemd-analyze verify $sysunit: $(cat "$IT_RUN/verify.log")"
	log "systemd-analyze verify: clean"
else
	log "note: no systemd-analyze here: the unit is not verified"
fi
CDNA_VMM=$prefix/bin/cdna-vmm
GUEST_PMD_ARGS=()
vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --audit
guest_start g v "" --forward-mode=txonly
grep -q -- " -d " <<<"${IT_CMDS[-1]}" && fail "the guest was given -d"
guest_sends v g "the guest without -d sent nothing"
guest_quit g
vmm_stop_clean v

# 3. Uninstall.
uninstall_once || fail "uninstall failed: $(tail -n 5 "$IT_RUN/uninstall.log")"
for f in "$pmddir/$pmd_name" "$CDNA_VMM" "$prefix/include/cdna/cdna_abi.h" "$sysunit"; do
	[ ! -e "$f" ] || fail "$f is still there after uninstall"
done
pass
