#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stock DPDK tools on the mediator: dpdk-dumpcap attaches to cdna-vmm as a
# secondary process and records the wire port while a capture is replayed
# into an rxonly guest; the recording must equal the input byte for byte.
# dpdk-proc-info reads a wire port's statistics. Secondary processes
# need hugepages: the vmm runs on them here (skips when too few are free).
. "$(dirname "$0")/lib.sh"
it_init 150

command -v dpdk-dumpcap >/dev/null || skip "dpdk-dumpcap not found (Debian package dpdk)"
command -v dpdk-proc-info >/dev/null || skip "dpdk-proc-info not found (Debian package dpdk)"
free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
[ "${free:-0}" -ge 96 ] ||
	skip "needs 96 free 2 MiB huge pages for a vmm secondaries can attach to, $free free"

N=3000
in=$IT_RUN/in.pcap
"$CDNA_PCAPGEN" mixed "$N" "$in" || fail "pcapgen failed"

VMM_EAL_MEM=(-m 128)

# capture_once K: a vmm replays the capture into an rxonly guest while
# dpdk-dumpcap records the wire; dumpcap must drop nothing and the
# recording must equal the input.
capture_once() {
	local k=$1 vprefix dpid id
	local cap=$IT_RUN/dumpcap-$k.pcapng dumpcap_log=$IT_RUN/dumpcap-$k.log

	vmm_start "v$k" --vdev "net_pcap0,rx_pcap=$in,tx_pcap=$IT_RUN/out-$k.pcap" \
		-- --wire net_pcap0 --audit
	vprefix=${IT_PREFIX[v$k]}
	# The capture starts before the guest posts its first buffer, so the
	# NIC pulls nothing from the wire until dumpcap records. A ring (-N)
	# larger than the replay: dumpcap drops what its ring cannot hold when
	# the writer lags, and it must not have to here. On CPU 1, so that its
	# EAL lcore is 1: dumpcap takes no lcore option and numbers itself
	# after its CPUs, and as lcore 0 it would share the capture pool's
	# per-lcore mbuf cache with the vmm's lcore 0, which allocates from
	# that pool in the capture callback. Two processes in one cache hand
	# out one mbuf twice: a recorded frame then holds another's bytes.
	# (CPU 1 is the vmm's polling CPU too: dumpcap mostly sleeps, and a
	# share of CPU 1 costs the replay time, not frames.)
	taskset -c 1 stdbuf -oL -eL dpdk-dumpcap --file-prefix="$vprefix" -i net_pcap0 -N 8192 -w "$cap" \
		</dev/null >"$dumpcap_log" 2>&1 &
	dpid=$!
	IT_PIDS+=("$dpid")
	wait_for 30 grep -q "Capturing on" "$dumpcap_log" ||
		fail "dpdk-dumpcap did not start capturing: $(tail -n 5 "$dumpcap_log")"

	guest_start "g$k" "v$k" "" --forward-mode=rxonly --disable-device-start --no-flush-rx
	id=$(guest_id "v$k" "g$k")
	guest_port_start "g$k"
	guest_exec "g$k" start >/dev/null
	wait_for 60 tele_ge "v$k" "$id" rx_pkts "$N" ||
		fail "guest $id: rx_pkts $(tele_guest "v$k" "$id" rx_pkts || true) of $N after 60 s"

	sleep 1
	kill -INT "$dpid"
	wait_for 10 eval "! kill -0 $dpid" || fail "dpdk-dumpcap did not stop on SIGINT"
	wait "$dpid" 2>/dev/null || true
	log "dumpcap: $(tail -n 2 "$dumpcap_log" | tr '\n' ' ')"
	dropped=$(sed -n "s|^Packets received/dropped on interface 'net_pcap0': [0-9]*/\([0-9]*\).*|\1|p" "$dumpcap_log")
	guest_quit "g$k"
	vmm_stop_clean "v$k"
	expect_eq "frames dpdk-dumpcap says it dropped" "${dropped:-unknown}" 0
	"$CDNA_PCAPCMP" --max-report 5 "$in" "$cap" >&2 ||
		fail "the dpdk-dumpcap recording differs from the capture replayed"
	log "ok: dpdk-dumpcap recorded the $N frames byte for byte"
}

capture_once 1

# dpdk-proc-info, a secondary as well, reads the wire port's counters. (Not
# on net_pcap: its secondary-process stats crash DPDK 22.11's proc-info.)
vmm_start w --vdev net_null0,no-rx=1 -- --wire net_null0
guest_start t w "" --forward-mode=txonly
guest_exec t start >/dev/null
sleep 1
guest_fwd_stop t >/dev/null
tid=$(guest_id w t)
sent=$(tele_settle w "$tid" tx_pkts)
dpdk-proc-info --file-prefix="${IT_PREFIX[w]}" --no-pci -- --stats \
	>"$IT_RUN/proc-info.log" 2>&1 ||
	fail "dpdk-proc-info failed: $(tail -n 5 "$IT_RUN/proc-info.log")"
txp=$(awk '/TX-packets:/ { print $2; exit }' "$IT_RUN/proc-info.log")
expect_eq "dpdk-proc-info TX-packets of the wire port" "$txp" "$sent"
guest_quit t
vmm_stop_clean w
pass
