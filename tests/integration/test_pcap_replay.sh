#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Replays 10,000 mixed frames from a net_pcap wire through one testpmd guest
# in io mode: the frames written back to the wire must equal the input byte
# for byte and in order, the audit oracle must see no violation, and the
# vmm's --pcap recording must hold both directions (20,000 frames).
. "$(dirname "$0")/lib.sh"
it_init 150

N=10000
in=$IT_RUN/in.pcap
out=$IT_RUN/out.pcap
wire=$IT_RUN/wire.pcap

"$CDNA_PCAPGEN" mixed "$N" "$in" || fail "pcapgen failed"

vmm_start v --vdev "net_pcap0,rx_pcap=$in,tx_pcap=$out" -- \
	--wire net_pcap0 --pcap "$wire" --audit
guest_start g v "" --forward-mode=io --disable-device-start --no-flush-rx
id=$(guest_id v g)
guest_port_start g
guest_tx_retry g io
guest_exec g start >/dev/null

if ! wait_for 90 tele_ge v "$id" tx_pkts "$N"; then
	fail "guest $id: tx_pkts $(tele_guest v "$id" tx_pkts || true) of $N after 90 s"
fi
stats=$(tele_settle v "$id" tx_pkts rx_pkts rx_nobuf)
read -r tx rx nobuf <<<"$stats"
expect_eq "telemetry rx_pkts" "$rx" "$N"
expect_eq "telemetry tx_pkts" "$tx" "$N"
expect_eq "telemetry rx_nobuf" "$nobuf" 0
expect_eq "rejects" "$(tele_rejects v "$id")" 0
audit_clean v

stats=$(guest_fwd_stop g)
read -r frx ftx <<<"$stats"
check_eq "testpmd RX-packets" "$frx" "$N"
check_eq "testpmd TX-packets" "$ftx" "$N"

guest_quit g || fail "guest did not quit cleanly"
vmm_stop_clean v
expect_eq "summary wire_rx" "$(vmm_summary v wire_rx)" "$N"
expect_eq "summary wire_tx" "$(vmm_summary v wire_tx)" "$N"

"$CDNA_PCAPCMP" --max-report 5 "$in" "$out" >&2 ||
	fail "the frames on the wire differ from the capture replayed"
log "ok: output capture identical to the input"
expect_eq "frames in the --pcap recording" "$(pcap_field "$wire" frames)" $((2 * N))
pass "all checks"
