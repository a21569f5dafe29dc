#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_hotplug.sh: a guest in dynamic hugepage memory (hotplug_guest) grows
# its memory by a block of BLOCK_MB at run time, sends FRAMES frames from a
# pool that lies only in the new pages, then frees it all again. Asserted:
#   start:  one region per segment EAL holds (none is pinned without -m,
#           so the PMD merges none), each mapped by the vmm;
#   grow:   the vmm's "regions" count of the guest rose by exactly the number
#           of segments EAL hot-plugged (the PMD shares each hot-plugged page
#           as a region of its own), the vmm maps that many of the guest's
#           hugepage files, it counted every frame (tx_pkts = FRAMES) and
#           rejected none;
#   shrink: "regions" fell by exactly the number of segments EAL freed, and
#           back to the start count plus the segments EAL still holds beyond
#           the start (none: the guest frees everything it allocated, so EAL
#           returns every page of the block). The vmm no longer maps the
#           freed pages, so it does not keep the guest's hugepages pinned;
#   always: no REGION_ADD/REGION_DEL refusal in either log, no audit
#           violation, a clean guest exit and a clean vmm exit.
. "$(dirname "$0")/lib.sh"
it_init 60

FRAMES=10000
BLOCK_MB=96
NEED_MB=256	# the block, the guest's startup memory and some slack

: "${CDNA_HOTPLUG_GUEST:?CDNA_HOTPLUG_GUEST is not set}"
[ -x "$CDNA_HOTPLUG_GUEST" ] || fail "CDNA_HOTPLUG_GUEST=$CDNA_HOTPLUG_GUEST is not executable"
free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
size_kb=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
free_mb=$((${free:-0} * ${size_kb:-0} / 1024))
if [ "$free_mb" -lt "$NEED_MB" ]; then
	skip "needs ${NEED_MB} MiB of free hugepages (128 x 2 MiB), /proc/meminfo has $free_mb MiB (HugePages_Free=${free:-0}); reserve with: echo 512 > /proc/sys/vm/nr_hugepages"
fi
[ "${size_kb:-0}" -le 2048 ] ||
	skip "hugepages of ${size_kb:-?} kB: the ${BLOCK_MB} MiB block must span many pages (2 MiB ones)"
grep -qs ' hugetlbfs ' /proc/mounts || skip "no hugetlbfs mounted"

vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --audit

# The guest, as a coprocess: its stdout (EAL logs and our "hotplug:" lines)
# comes through a pipe, each phase starts on a "next" line.
prefix="cdna-g-hotplug-$$"
hp_log=$IT_RUN/hp.log
IT_PREFIX[hp]=$prefix
IT_PREFIXES+=("$prefix")
IT_LOG[hp]=$hp_log
IT_CMDS+=("$CDNA_HOTPLUG_GUEST --lcores 0@0 --file-prefix $prefix --no-pci -d $CDNA_PMD --vdev net_cdna0,path=$(vmm_socket v) -- --frames $FRAMES --block-mb $BLOCK_MB")
log "guest hp: ${IT_CMDS[-1]}"
coproc HP {
	exec "$CDNA_HOTPLUG_GUEST" --lcores 0@0 --file-prefix "$prefix" \
		--no-pci -d "$CDNA_PMD" --vdev "net_cdna0,path=$(vmm_socket v)" \
		-- --frames "$FRAMES" --block-mb "$BLOCK_MB" 2>&1
}
# shellcheck disable=SC2153 # set by coproc
hp_pid=$HP_PID
IT_PID[hp]=$hp_pid
IT_PIDS+=("$hp_pid")
# Own copies: bash drops the coprocess's fds once it has reaped it.
exec {hp_out}<&"${HP[0]}" {hp_in}>&"${HP[1]}"

# hp_expect WHAT SECONDS: reads the guest's output (copied to hp.log) until
# a line "hotplug: WHAT..."; sets HP_LINE. Fails on an error line, on EOF
# and after SECONDS.
HP_LINE=
hp_expect() {
	local what=$1 limit=$2 end left line rc
	end=$(($(date +%s) + limit))
	while :; do
		left=$((end - $(date +%s)))
		[ "$left" -gt 0 ] || fail "guest: no 'hotplug: $what' line within ${limit}s"
		rc=0
		IFS= read -r -t "$left" -u "$hp_out" line || rc=$?
		if [ "$rc" -gt 128 ]; then
			continue	# timed out: the check above ends it
		elif [ "$rc" != 0 ]; then
			[ -z "$line" ] || printf '%s\n' "$line" >>"$hp_log"
			rc=0
			wait_for 5 eval "! kill -0 $hp_pid" || true
			wait "$hp_pid" 2>/dev/null || rc=$?
			fail "guest exited (status $rc) before 'hotplug: $what'"
		fi
		printf '%s\n' "$line" >>"$hp_log"
		case "$line" in
		"hotplug: error: "*) fail "guest: ${line#hotplug: }" ;;
		"hotplug: $what"*)
			HP_LINE=$line
			log "guest: $line"
			return 0
			;;
		esac
	done
}

# hp_next: lets the guest enter its next phase.
hp_next() {
	alive "$hp_pid" || fail "guest is gone"
	# A subshell, so that a closed pipe (SIGPIPE) fails only the write.
	(printf 'next\n' >&"$hp_in") 2>/dev/null || fail "guest does not read its stdin"
}

# vmm_maps_of_guest: how many of the guest's hugepage files the vmm maps.
vmm_maps_of_guest() {
	grep -c -- "/${prefix}map_" "/proc/${IT_PID[v]}/maps" || true
}

# uint_of WHAT VALUE: VALUE, after checking it is a number.
uint_of() {
	is_uint "$2" || fail "$1 is not a number: '$2'"
	printf '%s\n' "$2"
}

hp_expect "phase=started" 30
id=$(guest_id v hp)
segs0=$(uint_of "started segs" "$(field "$HP_LINE" segs)")
regions0=$(uint_of "regions" "$(tele_guest v "$id" regions)")
maps0=$(vmm_maps_of_guest)
log "started: guest $id segs=$segs0 regions=$regions0 vmm_maps=$maps0"
# Without -m no segment is pinned (DO_NOT_FREE), so the PMD merged none:
# one region per segment EAL holds.
expect_eq "regions at start (= segments EAL holds)" "$regions0" "$segs0"
expect_eq "vmm mappings of guest hugepages at start" "$maps0" "$regions0"

hp_next
hp_expect "phase=grow" 40
segs1=$(uint_of "grow segs" "$(field "$HP_LINE" segs)")
regions1=$(uint_of "regions" "$(tele_guest v "$id" regions)")
maps1=$(vmm_maps_of_guest)
log "grow: segs=$segs1 regions=$regions1 vmm_maps=$maps1"
# The block alone spans BLOCK_MB / page size pages; all but its first may be
# new (the first can be the free tail of a startup page).
expect_gt "segments hot-plugged by the block" "$((segs1 - segs0))" \
	"$((BLOCK_MB * 1024 / size_kb - 2))"
expect_gt "regions after grow" "$regions1" "$regions0"
expect_eq "regions added (= segments hot-plugged)" \
	"$((regions1 - regions0))" "$((segs1 - segs0))"
expect_eq "vmm mappings of guest hugepages after grow" "$maps1" "$regions1"
expect_eq "frames the guest sent" "$(field "$HP_LINE" sent)" "$FRAMES"
tx=$(tele_settle v "$id" tx_pkts)
expect_eq "vmm tx_pkts of the guest" "$tx" "$FRAMES"
expect_eq "guest rejects (all reject counters and ring_corrupt)" \
	"$(tele_rejects v "$id")" 0
audit_clean v

hp_next
hp_expect "phase=shrink" 20
segs2=$(uint_of "shrink segs" "$(field "$HP_LINE" segs)")
regions2=$(uint_of "regions" "$(tele_guest v "$id" regions)")
maps2=$(vmm_maps_of_guest)
log "shrink: segs=$segs2 regions=$regions2 vmm_maps=$maps2"
expect_eq "regions removed (= segments EAL freed)" \
	"$((regions1 - regions2))" "$((segs1 - segs2))"
expect_eq "segments EAL keeps beyond the start" "$((segs2 - segs0))" 0
expect_eq "regions after shrink (= regions at start)" "$regions2" "$regions0"
expect_eq "vmm mappings of guest hugepages after shrink" "$maps2" "$regions2"

hp_next
hp_expect "phase=quit" 20
rc=0
wait_for 10 eval "! kill -0 $hp_pid" || log "guest did not exit within 10 s"
stop_pid "$hp_pid" 5 || rc=$?
expect_eq "guest exit status" "$rc" 0
line=$(vmm_gone v "$id")
log "vmm: $line"
expect_eq "claims after the guest left" "$(field "$line" claims_after)" 0

expect_eq "control requests the vmm refused" "$(field "$line" refusals)" 0
refusals=$(grep -E 'mediator refused REGION|not shared|covers part of region' "$hp_log" || true)
[ -z "$refusals" ] || fail "the guest PMD reports region trouble: $refusals"
log "ok: no region trouble in the guest log"
audit_clean v
vmm_stop_clean v
pass "grew by $((segs1 - segs0)) pages, $FRAMES frames from them, shrank back"
