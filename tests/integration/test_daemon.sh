#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# cdna-vmm behaves as a daemon: a second vmm on a socket a live one owns is
# refused (exit 2, naming the owner) and the owner keeps serving; a stale
# socket left by a killed vmm is taken over; SIGTERM ends it cleanly with
# its summary; a lock file it does not own alone is refused; its log goes
# through rte_log, so EAL's --log-level applies.
. "$(dirname "$0")/lib.sh"
it_init 120

# other_vmm NAME SOCKET [EAL_ARGS...]: starts a vmm on SOCKET in the
# background (BG_PID); its output goes to $IT_RUN/NAME.log.
BG_PID=
other_vmm() {
	local name=$1 sock=$2 prefix="cdna-t-$1-$$"
	shift 2
	IT_PREFIXES+=("$prefix")
	"$CDNA_VMM" --file-prefix "$prefix" --lcores 0@1 --no-huge -m 256 \
		--no-pci "$@" --vdev net_null0,no-rx=1 -- --wire net_null0 \
		--socket "$sock" </dev/null >"$IT_RUN/$name.log" 2>&1 &
	BG_PID=$!
	IT_PIDS+=("$BG_PID")
}

# other_wait PID: its exit status in OTHER_RC, waiting at most 20 s. Not
# from $(...): only this shell can reap its children.
OTHER_RC=
other_wait() {
	wait_for 20 eval "! kill -0 $1" || fail "vmm pid $1 still runs after 20 s"
	OTHER_RC=0
	wait "$1" || OTHER_RC=$?
}

vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0
sock=$(vmm_socket v)
vpid=${IT_PID[v]}

other_vmm v2 "$sock"
other_wait "$BG_PID"
expect_eq "exit status of a second vmm on a live socket" "$OTHER_RC" 2
grep -q "another cdna-vmm owns it" "$IT_RUN/v2.log" ||
	fail "the second vmm did not say why: $(cat "$IT_RUN/v2.log")"
grep -q "owner pid $vpid" "$IT_RUN/v2.log" ||
	fail "the second vmm did not name the owner pid $vpid"
[ -S "$sock" ] || fail "the refused vmm removed the live vmm's socket"
guest_start g v "" --forward-mode=rxonly
expect_eq "guests of the first vmm after the refusal" "$(vmm_guests v)" "$(guest_id v g)"
guest_quit g

# SIGTERM: a clean exit with the summary line.
vmm_stop v
expect_eq "exit status on SIGTERM" "$VMM_RC" 0
[ -n "$(vmm_summary v guests_seen)" ] || fail "no summary line after SIGTERM"
expect_eq "guests_seen in the summary" "$(vmm_summary v guests_seen)" 1
[ ! -S "$sock" ] || fail "the socket is still there after a clean exit"

# A killed vmm leaves its socket: the next one takes it over.
vmm_start k --vdev net_null0,no-rx=1 -- --wire net_null0
kill -KILL "${IT_PID[k]}"
wait "${IT_PID[k]}" 2>/dev/null || true
[ -S "$(vmm_socket k)" ] || fail "expected the killed vmm's socket left behind"
other_vmm k2 "$(vmm_socket k)"
wait_for 30 grep -q '^cdna-vmm: ready ' "$IT_RUN/k2.log" ||
	fail "the next vmm did not take over the stale socket: $(cat "$IT_RUN/k2.log")"
kill -TERM "$BG_PID"
other_wait "$BG_PID"
expect_eq "exit status of the vmm that took over a stale socket" "$OTHER_RC" 0

# A lock file that is not the vmm's own alone is refused, not used: one
# others could write, and a second name of another file.
install -m 0666 /dev/null "$IT_RUN/w.sock.lock"
other_vmm w "$IT_RUN/w.sock"
other_wait "$BG_PID"
expect_eq "exit status with a group/world-writable lock file" "$OTHER_RC" 2
: >"$IT_RUN/victim"
chmod 0600 "$IT_RUN/victim"
ln "$IT_RUN/victim" "$IT_RUN/h.sock.lock"
other_vmm h "$IT_RUN/h.sock"
other_wait "$BG_PID"
expect_eq "exit status with a hard-linked lock file" "$OTHER_RC" 2
grep -q "with one link and mode 0600" "$IT_RUN/h.log" ||
	fail "the vmm did not say why it refused the lock file: $(tail -n 3 "$IT_RUN/h.log")"

# rte_log: cdna.vmm below NOTICE hides the ready and summary lines.
other_vmm quiet "$IT_RUN/quiet.sock" --log-level=cdna.vmm:warning
wait_for 30 test -S "$IT_RUN/quiet.sock" || fail "the quiet vmm did not create its socket"
sleep 0.5
kill -TERM "$BG_PID"
other_wait "$BG_PID"
expect_eq "exit status of the quiet vmm" "$OTHER_RC" 0
if grep -q '^cdna-vmm: \(ready\|summary\)' "$IT_RUN/quiet.log"; then
	fail "--log-level=cdna.vmm:warning did not hide NOTICE lines: $(cat "$IT_RUN/quiet.log")"
fi
pass
