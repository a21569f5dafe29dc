# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Shared helpers of the integration tests: one cdna-vmm and stock dpdk-testpmd
# guests per test, every process bounded in time and killed on exit.
#
# Environment (set by meson, or by hand):
#   CDNA_VMM       cdna-vmm executable
#   CDNA_PMD       librte_net_cdna.so (guests load a private copy of it)
#   CDNA_PCAPGEN, CDNA_PCAPCMP, CDNA_PCAPINFO   capture tools
#   CDNA_TELE      tele.py (default: next to this file)
#   CDNA_TESTPMD   dpdk-testpmd (default: from PATH)
#   CDNA_KEEP=1    keep the run directory of a failed test
#
# A test sources this file, calls it_init, then uses vmm_* / guest_* / tele.
# Exit status: 0 pass, 1 fail, 77 skip.

set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_NAME=$(basename "$0" .sh)
IT_RUN=
IT_DONE=0
IT_PIDS=()		# every process started, in order
IT_PREFIXES=()		# every --file-prefix used
declare -A IT_PID=()	# name -> pid
declare -A IT_LOG=()	# name -> log file
declare -A IT_FD=()	# guest name -> fd of its command FIFO
declare -A IT_PREFIX=()	# name -> --file-prefix
IT_CMDS=()		# command line of every vmm and guest, for reports

# Memory options of the vmm; tests may replace them before vmm_start.
VMM_EAL_MEM=(--no-huge -m 256)
# A command the vmm runs under, exec'ing it (ip netns exec NS), or none.
VMM_WRAP=()
# Memory options of guests; tests may replace them before guest_start.
GUEST_EAL_MEM=(--no-huge -m 512)
# testpmd options every guest gets (a bounded mbuf pool fits in -m 512).
GUEST_TESTPMD_OPTS=(--total-num-mbufs=32768)
# How guests load the PMD; empty when it is installed where EAL looks.
GUEST_PMD_ARGS=(-d @PMD@)

# Messages go to stderr so that they also show from inside $(...).
log() {
	printf '[%s %s] %s\n' "$IT_NAME" "$(date +%T.%N | cut -c1-12)" "$*" >&2
}

# Prints the telemetry of every live vmm and the tail of every log.
dump_logs() {
	local f n g
	[ -n "$IT_RUN" ] && [ -d "$IT_RUN" ] || return 0
	for n in "${!IT_PREFIX[@]}"; do
		case "${IT_PREFIX[$n]}" in cdna-t-*) ;; *) continue ;; esac
		alive "${IT_PID[$n]}" || continue
		printf -- '----- telemetry of vmm %s -----\n' "$n"
		printf '/cdna/nic: %s\n' "$(tele "$n" /cdna/nic 2>&1)"
		for g in $(tele "$n" /cdna/guests 2>/dev/null); do
			printf '/cdna/guest,%s: %s\n' "$g" "$(tele "$n" "/cdna/guest,$g" 2>&1)"
		done
	done
	for f in "$IT_RUN"/*.log; do
		[ -f "$f" ] || continue
		printf -- '----- %s (last 40 lines) -----\n' "$(basename "$f")"
		tail -n 40 "$f" | tr -d '\r'
	done
	printf -- '-----\n'
} >&2

skip() {
	log "SKIP: $*"
	IT_DONE=1
	exit 77
}

fail() {
	log "FAIL: $*"
	# Inside $(...) only say why: the test's own exit prints the logs.
	[ "$BASH_SUBSHELL" = 0 ] || exit 1
	if [ "$IT_DONE" = 0 ]; then
		IT_DONE=1
		dump_logs
	fi
	exit 1
}

# pass [MESSAGE]: exit 0, unless a check_eq failed on the way.
pass() {
	if [ "${#IT_SOFT[@]}" -gt 0 ]; then
		log "checks that failed:"
		printf '  %s\n' "${IT_SOFT[@]}" >&2
		fail "${#IT_SOFT[@]} check(s) failed"
	fi
	log "PASS${1:+: $*}"
	IT_DONE=1
	exit 0
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s; 0 once it
# succeeds, 1 when SECONDS have passed.
wait_for() {
	local limit=$1 end
	shift
	end=$(($(date +%s%N) + limit * 1000000000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
	return 0
}

alive() {
	kill -0 "$1" 2>/dev/null
}

# Stops one process: SIGTERM, then SIGKILL after SECONDS (default 5).
# Returns its exit status (128+N for a signal) when it is our child.
stop_pid() {
	local pid=$1 grace=${2:-5} rc=0
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_for "$grace" eval "! kill -0 $pid"; then
			log "pid $pid ignored SIGTERM for ${grace}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

it_cleanup() {
	local rc=$? i pid p
	set +e
	trap - EXIT INT TERM USR1
	for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${IT_PIDS[i]}
		alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${IT_PIDS[i]}
		if ! wait_for 5 eval "! kill -0 $pid"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "$IT_DONE" = 0 ]; then
		log "aborted with status $rc"
		dump_logs
	fi
	for p in "${IT_PREFIXES[@]}"; do
		case "$p" in
		cdna-*)
			rm -rf "/var/run/dpdk/$p"
			rm -f /dev/hugepages/"$p"map_*
			;;
		esac
	done
	[ -n "$IT_PMD_DIR" ] && rm -rf "$IT_PMD_DIR"
	if [ -n "$IT_RUN" ] && [ -d "$IT_RUN" ]; then
		if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "${CDNA_KEEP:-0}" = 1 ]; then
			log "kept $IT_RUN"
		else
			rm -rf "$IT_RUN"
		fi
	fi
	exit "$rc"
}

it_timeout() {
	IT_DONE=0
	log "FAIL: no result within ${IT_LIMIT}s"
	exit 1
}

# EAL loads no -d plugin from under a world-writable directory (a checkout
# in /tmp or /var/tmp): guests load a copy of the PMD from a directory of
# our own under /run instead, wherever the checkout lives.
IT_PMD_DIR=
pmd_private_copy() {
	IT_PMD_DIR=$(mktemp -d /run/cdna-pmd.XXXXXX) ||
		fail "cannot create a private directory for the PMD under /run"
	cp "$CDNA_PMD" "$IT_PMD_DIR/" || fail "cannot copy $CDNA_PMD to $IT_PMD_DIR"
	CDNA_PMD=$IT_PMD_DIR/$(basename "$CDNA_PMD")
}

# it_init [SECONDS]: checks the environment, creates the run directory and
# arms the cleanup trap and a watchdog (default 150 s).
it_init() {
	IT_LIMIT=${1:-150}
	[ "$(id -u)" = 0 ] || skip "needs root (DPDK runtime dirs, memfd sharing): uid $(id -u)"
	CDNA_TESTPMD=${CDNA_TESTPMD:-$(command -v dpdk-testpmd || true)}
	if [ -z "$CDNA_TESTPMD" ] || [ ! -x "$CDNA_TESTPMD" ]; then
		skip "dpdk-testpmd not found (Debian package dpdk)"
	fi
	command -v python3 >/dev/null || skip "python3 not found (telemetry client)"
	command -v stdbuf >/dev/null || skip "stdbuf not found (coreutils)"
	: "${CDNA_VMM:?CDNA_VMM is not set}"
	: "${CDNA_PMD:?CDNA_PMD is not set}"
	[ -x "$CDNA_VMM" ] || fail "CDNA_VMM=$CDNA_VMM is not executable"
	[ -f "$CDNA_PMD" ] || fail "CDNA_PMD=$CDNA_PMD does not exist"
	CDNA_TELE=${CDNA_TELE:-$IT_DIR/tele.py}

	IT_RUN=$(mktemp -d "/tmp/cdna-it-$IT_NAME.XXXXXX")
	trap it_cleanup EXIT
	pmd_private_copy
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap it_timeout USR1
	# Watchdog; it holds no output pipe, so a killed test cannot stall meson.
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$IT_LIMIT" &
		sp=$!
		wait "$sp"
		kill -USR1 $$
	) </dev/null >/dev/null 2>&1 &
	IT_PIDS+=("$!")
	log "run dir $IT_RUN"
}

# vmm_start NAME EAL_ARGS... -- APP_ARGS...
#   Starts cdna-vmm in the background (lcore 0 on CPU 1, VMM_EAL_MEM),
#   appends --socket RUN/NAME.sock and waits for its "ready" line.
vmm_start() {
	local name=$1 prefix log pid
	shift
	prefix="cdna-t-$name-$$"
	log="$IT_RUN/$name.log"
	IT_LOG[$name]=$log
	IT_PREFIX[$name]=$prefix
	IT_PREFIXES+=("$prefix")
	IT_CMDS+=("${VMM_WRAP[*]}${VMM_WRAP[*]:+ }$CDNA_VMM --file-prefix $prefix --lcores 0@1 ${VMM_EAL_MEM[*]} --no-pci $* --socket $(vmm_socket "$name")")
	log "vmm $name: ${IT_CMDS[-1]}"
	"${VMM_WRAP[@]}" "$CDNA_VMM" --file-prefix "$prefix" --lcores 0@1 "${VMM_EAL_MEM[@]}" --no-pci \
		"$@" --socket "$(vmm_socket "$name")" </dev/null >"$log" 2>&1 &
	pid=$!
	IT_PID[$name]=$pid
	IT_PIDS+=("$pid")
	if ! wait_for 30 vmm_ready "$name"; then
		alive "$pid" || fail "vmm $name exited before it was ready"
		fail "vmm $name not ready within 30 s"
	fi
	log "vmm $name: ready (pid $pid)"
}

vmm_socket() {
	printf '%s/%s.sock' "$IT_RUN" "$1"
}

# Ready: its control socket is there and its telemetry answers.
vmm_ready() {
	alive "${IT_PID[$1]}" && [ -S "$(vmm_socket "$1")" ] &&
		tele "$1" /cdna/vmm guests_seen >/dev/null 2>&1
}

# vmm_stop NAME: SIGTERM (SIGKILL after 20 s); sets VMM_RC to its exit
# status. Not from $(...): only this shell can reap its children.
VMM_RC=
vmm_stop() {
	VMM_RC=0
	stop_pid "${IT_PID[$1]}" 20 || VMM_RC=$?
	log "vmm $1: exit status $VMM_RC"
}

# vmm_summary NAME KEY: a value from the vmm's summary line.
vmm_summary() {
	field "$(grep '^cdna-vmm: summary ' "${IT_LOG[$1]}" | tail -n 1)" "$2"
}

# guest_start NAME VMM DEVARGS [TESTPMD_ARGS...]
#   Starts dpdk-testpmd in interactive mode on CPU 0 (two lcores), with
#   net_cdna0,path=<VMM's socket>,DEVARGS, reading commands from a FIFO
#   kept open here; waits for the prompt.
guest_start() {
	local name=$1 vmm=$2 devargs=$3 prefix log fifo fd pid vdev pmd
	shift 3
	prefix="cdna-g-$name-$$"
	log="$IT_RUN/$name.log"
	fifo="$IT_RUN/$name.in"
	vdev="net_cdna0,path=$(vmm_socket "$vmm")${devargs:+,$devargs}"
	IT_LOG[$name]=$log
	IT_PREFIX[$name]=$prefix
	IT_PREFIXES+=("$prefix")
	mkfifo "$fifo"
	# Read-write open never blocks and keeps a writer, so testpmd sees no EOF.
	exec {fd}<>"$fifo"
	IT_FD[$name]=$fd
	pmd=("${GUEST_PMD_ARGS[@]/@PMD@/$CDNA_PMD}")
	IT_CMDS+=("$CDNA_TESTPMD --lcores 0@0,1@0 ${GUEST_EAL_MEM[*]} --file-prefix $prefix --no-pci ${pmd[*]} --vdev $vdev -- -i ${GUEST_TESTPMD_OPTS[*]} $*")
	log "guest $name: ${IT_CMDS[-1]}"
	stdbuf -oL -eL "$CDNA_TESTPMD" --lcores 0@0,1@0 "${GUEST_EAL_MEM[@]}" \
		--file-prefix "$prefix" --no-pci "${pmd[@]}" --vdev "$vdev" \
		-- -i "${GUEST_TESTPMD_OPTS[@]}" "$@" \
		<"$fifo" >"$log" 2>&1 {fd}>&- &
	pid=$!
	IT_PID[$name]=$pid
	IT_PIDS+=("$pid")
	if ! wait_for 30 guest_prompt "$name"; then
		alive "$pid" || fail "guest $name exited before its prompt"
		fail "guest $name: no prompt within 30 s"
	fi
	case " $* " in
	*" --disable-device-start "*) ;;
	*)
		grep -q '^Port 0: ' "$log" ||
			fail "guest $name: testpmd has no port 0 (net_cdna0 did not probe)"
		;;
	esac
	log "guest $name: up (pid $pid)"
}

# guest_sends VMM NAME WHAT: the guest (started in txonly) sends for a
# second; fails with WHAT unless the vmm counted its frames.
guest_sends() {
	guest_exec "$2" start >/dev/null
	sleep 1
	guest_fwd_stop "$2" >/dev/null
	tele_ge "$1" "$(guest_id "$1" "$2")" tx_pkts 1 || fail "$3"
}

# guest_port_start NAME: "port start all" for a guest started with
# --disable-device-start.
#
# Replaying a capture without loss needs that order: testpmd enables
# promiscuous mode only after it started its ports, and a started port has RX
# buffers posted, so the wire is pulled at once and frames for other MACs are
# dropped before the guest becomes promiscuous. Started this way (with
# --no-flush-rx, so "start" keeps what already arrived), the port is
# promiscuous before its first buffer is posted.
guest_port_start() {
	guest_exec "$1" 'port start all' >/dev/null
	grep -q '^Port 0: ' "${IT_LOG[$1]}" ||
		fail "guest $1: port 0 did not start"
}

# guest_tx_retry NAME MODE: forward in MODE with retries on a full TX ring
# (up to 1 s per burst) instead of dropping: on a loaded 2-CPU machine the
# vmm can be descheduled long enough for a guest's TX ring to fill, and a
# replay must lose nothing.
guest_tx_retry() {
	guest_exec "$1" 'set burst tx delay 10 retry 100000' >/dev/null
	guest_exec "$1" "set fwd $2 retry" >/dev/null
}

guest_prompt() {
	alive "${IT_PID[$1]}" && grep -q 'testpmd> ' "${IT_LOG[$1]}"
}

# guest_cmd NAME COMMAND: writes one command line to the guest.
guest_cmd() {
	printf '%s\n' "$2" >&"${IT_FD[$1]}"
}

# guest_exec NAME COMMAND [SECONDS]: runs COMMAND, waits for the next prompt
# (default 20 s) and prints what testpmd printed in between.
guest_exec() {
	local name=$1 cmd=$2 limit=${3:-20} log off
	log=${IT_LOG[$name]}
	off=$(stat -c %s "$log")
	guest_cmd "$name" "$cmd"
	if ! wait_for "$limit" log_has_after "$log" "$off" 'testpmd> '; then
		alive "${IT_PID[$name]}" || fail "guest $name died during '$cmd'"
		fail "guest $name: '$cmd' did not finish within ${limit}s"
	fi
	tail -c +"$((off + 1))" "$log" | tr -d '\r'
}

# log_has_after FILE OFFSET PATTERN: PATTERN occurs after byte OFFSET.
log_has_after() {
	tail -c +"$(($2 + 1))" "$1" | grep -q -- "$3"
}

# info_field OUTPUT KEY: the value of "KEY: value" in testpmd's output.
info_field() {
	printf '%s\n' "$1" | awk -v k="$2" '
		{ i = index($0, ": ") }
		i > 0 && substr($0, 1, i - 1) == k { print substr($0, i + 2); exit }'
}

# port_info GUEST KEY: a field of "show port info 0".
port_info() {
	info_field "$(guest_exec "$1" 'show port info 0')" "$2"
}

# guest_port_stats NAME: prints "RX-packets TX-packets" of port 0 as the PMD
# reports them (show port stats).
guest_port_stats() {
	guest_exec "$1" 'show port stats 0' |
		awk '/RX-packets:/ { rx = $2 } /TX-packets:/ { tx = $2 }
		     END { if (rx == "" || tx == "") exit 1; print rx, tx }'
}

# guest_fwd_stop NAME: stops forwarding; prints "RX-packets TX-packets" of
# testpmd's own forward statistics for port 0.
guest_fwd_stop() {
	guest_exec "$1" stop 30 |
		awk '/Forward statistics for port 0/ { f = 1 }
		     f && /RX-packets:/ { rx = $2 }
		     f && /TX-packets:/ { tx = $2; f = 0 }
		     END { if (rx == "" || tx == "") exit 1; print rx, tx }'
}

# guest_quit NAME: "quit", then waits (SIGTERM/SIGKILL after 20 s).
guest_quit() {
	local pid=${IT_PID[$1]} rc=0
	guest_cmd "$1" quit || true
	if ! wait_for 20 eval "! kill -0 $pid"; then
		log "guest $1 did not quit within 20 s"
	fi
	stop_pid "$pid" 5 || rc=$?
	return "$rc"
}

# guest_id VMM GUEST: the vmm's id of the guest (the connected guest whose
# pid, in telemetry, is the guest's).
guest_id() {
	wait_for 10 guest_id_now "$1" "${IT_PID[$2]}" ||
		fail "vmm $1 has no connected guest with the pid of $2 (${IT_PID[$2]})"
	guest_id_now "$1" "${IT_PID[$2]}"
}

guest_id_now() {
	local g
	for g in $(vmm_guests "$1" 2>/dev/null); do
		if [ "$(tele_guest "$1" "$g" pid 2>/dev/null)" = "$2" ]; then
			echo "$g"
			return 0
		fi
	done
	return 1
}

# tele VMM COMMAND [KEY...]: one telemetry query of the vmm.
tele() {
	local vmm=$1
	shift
	python3 "$CDNA_TELE" "${IT_PREFIX[$vmm]}" "$@"
}

# tele_guest VMM ID KEY...: fields of /cdna/guest,ID.
tele_guest() {
	local vmm=$1 id=$2
	shift 2
	tele "$vmm" "/cdna/guest,$id" "$@"
}

# tele_settle VMM ID KEY...: waits (max 15 s) until KEYs of guest ID stay the
# same over three reads 0.2 s apart; prints them.
tele_settle() {
	local vmm=$1 id=$2 prev="" cur n=0 i
	shift 2
	for ((i = 0; i < 75; i++)); do
		cur=$(tele_guest "$vmm" "$id" "$@") || fail "telemetry /cdna/guest,$id failed"
		if [ "$cur" = "$prev" ]; then
			n=$((n + 1))
			if [ "$n" -ge 2 ]; then
				printf '%s\n' "$cur"
				return 0
			fi
		else
			n=0
		fi
		prev=$cur
		sleep 0.2
	done
	fail "guest $id counters did not settle: $cur"
}

# Reject counters of a guest, summed.
tele_rejects() {
	tele_guest "$1" "$2" reject_bad_address reject_invalid_use \
		reject_bad_length reject_bad_flags reject_bad_perm \
		reject_bad_chain reject_aborted reject_dma_fault \
		reject_map_quota ring_corrupt |
		awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }'
}

# expect_eq WHAT A B: A equals B, or the test fails now.
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected $3, got $2"
	log "ok: $1 = $2"
}

# check_eq WHAT A B: like expect_eq, but the test goes on and fails at pass.
IT_SOFT=()
check_eq() {
	if [ "$2" = "$3" ]; then
		log "ok: $1 = $2"
	else
		log "MISMATCH: $1: expected $3, got $2"
		IT_SOFT+=("$1: expected $3, got $2")
	fi
}

is_uint() {
	case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac
}

# tele_ge VMM ID KEY N: the guest's KEY has reached N.
tele_ge() {
	local v
	v=$(tele_guest "$1" "$2" "$3") || return 1
	is_uint "$v" && [ "$v" -ge "$4" ]
}

# nic_field VMM KEY: a field of /cdna/nic.
nic_field() {
	tele "$1" /cdna/nic "$2"
}

# vmm_guests VMM: the ids of connected guests, space-separated.
vmm_guests() {
	tele "$1" /cdna/guests
}

# vmm_has_guest VMM ID
vmm_has_guest() {
	local g
	for g in $(vmm_guests "$1"); do
		[ "$g" = "$2" ] && return 0
	done
	return 1
}

# vmm_gone VMM ID: waits (max 15 s) until guest ID is in /cdna/gone and
# prints its record as "key=value" pairs for field(), its reason last.
vmm_gone() {
	local keys="tx_pkts rx_pkts rx_nobuf rejects flushed claims_after regions_released refusals"
	local vals k i=1
	wait_for 15 tele "$1" "/cdna/gone,$2" id ||
		fail "vmm $1: guest $2 not in /cdna/gone within 15 s"
	# shellcheck disable=SC2086
	vals=$(tele "$1" "/cdna/gone,$2" $keys) || fail "telemetry /cdna/gone,$2 failed"
	for k in $keys; do
		printf '%s=%s ' "$k" "$(cut -d' ' -f$i <<<"$vals")"
		i=$((i + 1))
	done
	printf 'reason=%s\n' "$(tele "$1" "/cdna/gone,$2" reason)"
}

# vmm_gone_said VMM KEY TEXT: 0 if a guest in /cdna/gone has TEXT in KEY.
vmm_gone_said() {
	local g
	for g in $(tele "$1" /cdna/gone 2>/dev/null); do
		case "$(tele "$1" "/cdna/gone,$g" "$2" 2>/dev/null)" in
		*"$3"*) return 0 ;;
		esac
	done
	return 1
}

# vmm_served_pid VMM PID: 0 if a guest of that pid said HELLO, connected
# now or gone.
vmm_served_pid() {
	local g
	guest_id_now "$1" "$2" >/dev/null && return 0
	for g in $(tele "$1" /cdna/gone 2>/dev/null); do
		[ "$(tele "$1" "/cdna/gone,$g" pid said_hello 2>/dev/null)" = "$2 1" ] &&
			return 0
	done
	return 1
}

# field LINE KEY: the value of KEY=value in LINE.
field() {
	printf '%s\n' "$1" | tr -s ' ;' '\n' |
		awk -F= -v k="$2" '$1 == k { print substr($0, length(k) + 2); exit }'
}

# pcap_field FILE KEY [pcapinfo options]: one count of tools/pcapinfo.
pcap_field() {
	local f=$1 k=$2
	shift 2
	"$CDNA_PCAPINFO" "$@" --get "$k" "$f"
}

# audit_clean VMM: no audit violation so far, and the audit saw DMAs.
audit_clean() {
	local v d
	v=$(nic_field "$1" audit_violations) || fail "telemetry /cdna/nic failed"
	d=$(nic_field "$1" audit_dma) || fail "telemetry /cdna/nic failed"
	expect_eq "audit_violations" "$v" 0
	if ! is_uint "$d" || [ "$d" -eq 0 ]; then
		fail "audit_dma is '$d': the audit oracle saw no DMA"
	fi
	log "ok: audit_dma = $d"
}

# vmm_stop_clean VMM: SIGTERM, exit status 0, summary audit_violations=0.
vmm_stop_clean() {
	vmm_stop "$1"
	expect_eq "vmm exit status" "$VMM_RC" 0
	expect_eq "summary audit_violations" "$(vmm_summary "$1" audit_violations)" 0
}

# expect_gt WHAT A B: A is a number greater than B.
expect_gt() {
	if ! is_uint "$2" || [ "$2" -le "$3" ]; then
		fail "$1: expected more than $3, got '$2'"
	fi
	log "ok: $1 = $2 (> $3)"
}

# expect_ge WHAT A B: A is a number at least B.
expect_ge() {
	if ! is_uint "$2" || [ "$2" -lt "$3" ]; then
		fail "$1: expected at least $3, got '$2'"
	fi
	log "ok: $1 = $2 (>= $3)"
}

# tele_is VMM COMMAND KEY VALUE: KEY of COMMAND's answer is VALUE.
tele_is() {
	local v
	v=$(tele "$1" "$2" "$3") || return 1
	[ "$v" = "$4" ]
}

# vmm_no_guests VMM: /cdna/guests answers an empty list.
vmm_no_guests() {
	local g
	g=$(vmm_guests "$1") || return 1
	[ -z "$g" ]
}
