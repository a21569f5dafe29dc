/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mediator's data path alone, for instruction counts: one busy guest
 * (and IDLE polled ones beside), one queue, TX requests of 64 bytes (or RX buffers of 2 KiB that take 64-byte
 * frames) fetched, validated, claimed, posted, reclaimed and completed by
 * the real mediator.c, in rounds of a burst.
 * The NIC is a stub that completes every posted descriptor at once, and
 * the "guest" here posts and consumes in this same thread, so the figure
 * is the mediator's work per descriptor and nothing else
 * (tests/unit/mediator_rig.c).
 *
 *   mediator_micro [ROUNDS] [tx|rx] [LEN] [IDLE] [RUN] [NREG]
 *
 * (default 20000 rounds of 32 TX descriptors of 64-byte frames; LEN sets
 * the TX frame length, which decides how many claim lines each takes;
 * IDLE started guests beside, with nothing to send, are polled too; RUN,
 * if not 0, puts the buffers in NREG regions (2 unless given, at most 8),
 * changing region every RUN requests and taking them in turn, as buffers
 * spread over a region per page do; past 4 regions, more than the batch
 * path holds, every change is a lookup in the region table)
 *
 * Run under `valgrind --tool=callgrind --toggle-collect=mediator_poll` by
 * bench/micro.sh, which subtracts the stub NIC's own instructions. No EAL,
 * no root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mediator_rig.h"

#define BURST	32u
#define FRAME	64u
#define REGION(j)	(RIG_GADDR + 4 * (uint64_t)(j) * RIG_MEM)	/* region j's start */
#define MAX_REGIONS	8u	/* the rig's region table holds 8 */

int
main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	uint32_t req_len = FRAME, frame = FRAME, run = 0, nreg = 1, j;
	struct mq_dir *d;
	struct timespec t0, t1;
	unsigned long i, k, descs = 0;
	double ns;

	rig_init(BURST);
	d = rig.tx;
	if (argc > 2 && strcmp(argv[2], "rx") == 0) {
		/* An RX buffer as net_cdna posts one from a default mbuf pool. */
		d = rig.rx;
		req_len = 2048;
	} else if (argc > 2 && strcmp(argv[2], "tx") != 0) {
		fprintf(stderr, "mediator_micro: direction '%s' is neither tx nor rx\n",
			argv[2]);
		return 2;
	}
	if (argc > 3 && d == rig.tx) {
		frame = req_len = (uint32_t)strtoul(argv[3], NULL, 10);
		if (frame < 14 || frame > 2048) {
			fprintf(stderr, "mediator_micro: frame length '%s' is outside 14..2048\n",
				argv[3]);
			return 2;
		}
	}
	if (argc > 4)
		rig_add_idle((unsigned int)strtoul(argv[4], NULL, 10));
	if (argc > 5 && (run = (uint32_t)strtoul(argv[5], NULL, 10)) != 0) {
		nreg = argc > 6 ? (uint32_t)strtoul(argv[6], NULL, 10) : 2;
		if (nreg < 2 || nreg > MAX_REGIONS) {
			fprintf(stderr, "mediator_micro: regions '%s' is outside 2..%u\n",
				argv[6], MAX_REGIONS);
			return 2;
		}
		for (j = 1; j < nreg; j++)
			rig_add_region(REGION(j), RIG_MEM);
	}
	rig.rx_frame = FRAME;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < rounds; i++) {
		uint32_t p = d->req_prod->val;

		/* The guest: a burst of 64-byte frames (or 2 KiB buffers), each its own 2 KiB slot. */
		for (k = 0; k < BURST; k++)
			rig_req(d, p + k, REGION(run != 0 ? (p + k) / run % nreg : 0) +
				((p + k) % (RIG_MEM / 2048)) * 2048,
				req_len, p + k, 0);
		rig_publish(d, p + BURST);
		mediator_poll(&vmm);
		/* The guest takes every completion. */
		if (rig.quarantines != 0) {
			fprintf(stderr, "mediator_micro: round %lu: queue quarantined\n", i);
			return 1;
		}
		if (cdna_load_acquire(d->cmp_prod) != p + BURST) {
			fprintf(stderr, "mediator_micro: round %lu: %u completions, expected %u\n",
				i, cdna_load_acquire(d->cmp_prod) - p, BURST);
			return 1;
		}
		for (k = 0; k < BURST; k++)
			if (d->cmp[(p + k) & d->mask].status != CDNA_ST_OK ||
			    d->cmp[(p + k) & d->mask].len != frame) {
				fprintf(stderr, "mediator_micro: completion %lu: status %u, length %u\n",
					p + k, d->cmp[(p + k) & d->mask].status,
					d->cmp[(p + k) & d->mask].len);
				return 1;
			}
		rig_consume(d, p + BURST);
		descs += BURST;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	printf("descriptors %lu\n", descs);
	printf("ns_per_descriptor %.1f (whole loop, guest side included; not a benchmark figure)\n",
	       ns / (double)descs);
	return 0;
}
