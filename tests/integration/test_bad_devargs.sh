#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Invalid configuration must be refused with a message that names the
# culprit, and never crash:
#  - net_cdna0 devargs: the device must fail to probe (testpmd itself goes
#    on without ports and exits 0 at the end of its input, so the test checks
#    the probe failure, the message, that the vmm saw no connection from
#    that process, and that no signal ended it);
#  - cdna-vmm options: exit status 2 and a message naming the option.
. "$(dirname "$0")/lib.sh"
it_init 170

vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0
sock=$(vmm_socket v)
n=0

# bad_devargs DEVARGS KEY [VALUE]: one line of testpmd's output must name
# KEY and VALUE.
bad_devargs() {
	local devargs=$1 key=$2 val=${3:-} log rc=0 pid
	n=$((n + 1))
	log="$IT_RUN/pmd-$n.log"
	IT_PREFIXES+=("cdna-g-bad$n-$$")
	timeout -s KILL 30 "$CDNA_TESTPMD" --lcores 0@0,1@0 --no-huge -m 512 \
		--file-prefix "cdna-g-bad$n-$$" --no-pci -d "$CDNA_PMD" \
		--vdev "$devargs" -- -i --total-num-mbufs=8192 \
		</dev/null >"$log" 2>&1 &
	pid=$!
	wait "$pid" || rc=$?
	[ "$rc" -lt 128 ] || fail "'$devargs': testpmd ended by signal $((rc - 128))"
	grep -q 'failed to initialize net_cdna0' "$log" ||
		fail "'$devargs': net_cdna0 probed (no 'failed to initialize net_cdna0'); see $(basename "$log")"
	! grep -q '^Port 0: ' "$log" || fail "'$devargs': testpmd got a port 0"
	grep -iF -- "$key" "$log" | grep -qiF -- "$val" ||
		fail "'$devargs': no message naming '$key' and '$val': $(grep -i cdna "$log" | head -n 5)"
	if grep -qE 'Segmentation fault|PANIC|Aborted|AddressSanitizer' "$log"; then
		fail "'$devargs': testpmd crashed"
	fi
	! vmm_served_pid v "$pid" ||
		fail "'$devargs': the vmm accepted a HELLO from pid $pid"
	log "ok: rejected '$devargs': $(grep -iF -- "$key" "$log" | grep -iF -m 1 -- "$val" || true)"
}

bad_devargs "net_cdna0" path
bad_devargs "net_cdna0,path=$sock,queues=0" queues 0
bad_devargs "net_cdna0,path=$sock,queues=99" queues 99
bad_devargs "net_cdna0,path=$sock,mac=zz" mac zz
bad_devargs "net_cdna0,path=$sock,mac=01:00:5e:00:00:01" mac 01:00:5e:00:00:01
bad_devargs "net_cdna0,path=$sock,foo=1" foo
bad_devargs "net_cdna0,path=$sock,mode=bogus" mode bogus
bad_devargs "net_cdna0,path=$IT_RUN/nonexistent.sock" nonexistent.sock
alive "${IT_PID[v]}" || fail "the vmm died"
expect_eq "guests seen by the vmm" "$(tele v /cdna/guests)" ""

# bad_vmm WORD APP_ARGS...: cdna-vmm must exit 2 naming WORD.
bad_vmm() {
	local word=$1 log rc=0
	shift
	n=$((n + 1))
	log="$IT_RUN/vmm-$n.log"
	IT_PREFIXES+=("cdna-t-bad$n-$$")
	timeout -s KILL 30 "$CDNA_VMM" --file-prefix "cdna-t-bad$n-$$" --lcores 0@1 \
		--no-huge -m 256 --no-pci --vdev net_null0,no-rx=1 -- "$@" \
		</dev/null >"$log" 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "cdna-vmm $*: exit status $rc, expected 2"
	grep -qF -- "$word" "$log" ||
		fail "cdna-vmm $*: no message naming '$word': $(tail -n 3 "$log")"
	log "ok: cdna-vmm $*: $(grep -m 1 -F -- "$word" "$log")"
}

s2=$IT_RUN/bad.sock
bad_vmm --burst --socket "$s2" --wire net_null0 --burst 0
bad_vmm --burst --socket "$s2" --wire net_null0 --burst 65
bad_vmm --ring-min --socket "$s2" --wire net_null0 --ring-min 100
bad_vmm --max-guests --socket "$s2" --wire net_null0 --max-guests 0
bad_vmm nosuch --socket "$s2" --wire nosuch
bad_vmm --socket --wire net_null0
bad_vmm --frobnicate --socket "$s2" --wire net_null0 --frobnicate
[ ! -e "$s2" ] || fail "a refused cdna-vmm left its socket $s2 behind"

vmm_stop_clean_noaudit() {
	vmm_stop v
	expect_eq "vmm exit status" "$VMM_RC" 0
}
vmm_stop_clean_noaudit
pass "all rejected"
