#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A checkout under /tmp: EAL refuses to load the PMD from under a
# world-writable directory (checked here, so this test can fail), and the
# tests and the demo still run their guests, from a private copy.
. "$(dirname "$0")/lib.sh"
it_init 90

# Where a checkout in /tmp would have it: the run directory is under /tmp.
cp "$CDNA_PMD" "$IT_RUN/"
exposed=$IT_RUN/$(basename "$CDNA_PMD")

prefix=cdna-t-ww-$$
IT_PREFIXES+=("$prefix")
out=$(echo quit | timeout 30 "$CDNA_TESTPMD" --no-huge -m 256 --no-pci \
	--file-prefix "$prefix" -d "$exposed" --vdev net_null0 -- -i \
	--total-num-mbufs=2048 2>&1) && fail "testpmd loaded a PMD from under /tmp: $out"
grep -q "world-writable" <<<"$out" ||
	fail "expected EAL's world-writable refusal got: $(tail -n 5 <<<"$out")"
log "EAL refuses $exposed, as expected"

CDNA_PMD=$exposed
pmd_private_copy
log "guests load $CDNA_PMD"
vmm_start v --vdev net_null0,no-rx=1 -- --wire net_null0 --audit
guest_start g v "" --forward-mode=txonly
guest_sends v g "the guest sent nothing through the vmm"
guest_quit g
vmm_stop_clean v
pass
