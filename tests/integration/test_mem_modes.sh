#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_mem_modes.sh MODE: a txonly guest whose DPDK memory is set up in one
# EAL memory mode (nohuge, huge, single-file-segments, in-memory) must be
# able to share it with the vmm and send to the wire without a reject or an
# audit violation.
. "$(dirname "$0")/lib.sh"

MODE=${1:-}
MEM_MB=512
case "$MODE" in
nohuge) mem=(--no-huge -m "$MEM_MB") ;;
huge) mem=(-m "$MEM_MB") ;;
single-file-segments) mem=(-m "$MEM_MB" --single-file-segments) ;;
in-memory) mem=(-m "$MEM_MB" --in-memory) ;;
*)
	echo "usage: $0 nohuge|huge|single-file-segments|in-memory" >&2
	exit 2
	;;
esac
IT_NAME="mem_modes-$MODE"
it_init 120

if [ "$MODE" != nohuge ]; then
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	size_kb=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
	free_mb=$((${free:-0} * ${size_kb:-0} / 1024))
	if [ "$free_mb" -lt "$MEM_MB" ]; then
		skip "needs ${MEM_MB} MiB of free hugepages, /proc/meminfo has $free_mb MiB (HugePages_Free=${free:-0}); reserve with: echo 512 > /proc/sys/vm/nr_hugepages"
	fi
	grep -qs ' hugetlbfs ' /proc/mounts || skip "no hugetlbfs mounted"
fi

GUEST_EAL_MEM=("${mem[@]}")
vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --audit
guest_start g v "" --forward-mode=txonly
id=$(guest_id v g)
log "guest $id regions=$(tele_guest v "$id" regions)"
guest_exec g start >/dev/null
sleep 1
stats=$(guest_fwd_stop g)
read -r _ ftx <<<"$stats"
stats=$(tele_settle v "$id" tx_pkts)
read -r tx <<<"$stats"
expect_gt "tx_pkts" "$tx" 0
check_eq "testpmd TX-packets vs vmm tx_pkts" "$ftx" "$tx"
expect_eq "rejects" "$(tele_rejects v "$id")" 0
audit_clean v
guest_quit g || fail "guest did not quit cleanly"
vmm_stop_clean v
pass "$MODE"
