/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory: admission, mapping, retirement and the reaper (guest_mem.c).
 */
#ifndef CDNA_GUEST_MEM_H
#define CDNA_GUEST_MEM_H

#include <stdint.h>

#include "cdna_ctrl.h"
#include "regions.h"

struct vmm;
struct guest;

/* Work units the main loop gives the reaper per poll: a bounded slice. */
#define GUEST_MEM_REAP_PER_POLL	32u

struct guest_mem_stats {
	uint64_t regions_unmapped;	/* reaped since start */
	uint64_t regions_leaked;	/* left mapped: claim map not empty */
	uint64_t reap_backlog;		/* retired, not yet unmapped */
	uint64_t reap_backlog_max;
	uint64_t reap_units_max;	/* most work done in one poll */
};

/* REGION_ADD: owns fd (closes it). 0 or -errno, the refusal logged. */
int guest_mem_add(struct vmm *v, struct guest *g,
		  const struct cdna_msg_region *m, int fd);
/* REGION_DEL: retires the region now, or at its last DMA. 0 or -errno. */
int guest_mem_del(struct vmm *v, struct guest *g,
		  const struct cdna_msg_region *m);
/* The last DMA into dying region r completed (from the data path). */
void guest_mem_dma_done(struct guest *g, struct cdna_region *r);
/* Teardown, nothing in flight: retires every region. Returns how many. */
uint32_t guest_mem_retire_all(struct guest *g);
/* Claimed 64-byte lines, counted from the maps themselves. */
uint64_t guest_mem_claimed_lines(const struct guest *g);

/* Unmaps retired regions, at most units of work. Returns the work done. */
unsigned int guest_mem_reap(unsigned int units);
/* At exit: everything. */
void guest_mem_reap_all(void);
void guest_mem_stats(struct guest_mem_stats *out);

#endif /* CDNA_GUEST_MEM_H */
