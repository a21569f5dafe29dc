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

/*
 * Work units the main loop gives the reaper per poll: a bounded slice (a
 * unit unmaps 4 MiB, or one page of a larger size, or under --audit checks
 * 16 KiB of claim map).
 */
#define GUEST_MEM_REAP_PER_POLL	8u

struct guest_mem_stats {
	uint64_t regions_unmapped;	/* reaped since start */
	uint64_t regions_leaked;	/* left mapped: claim map not empty */
	uint64_t reap_backlog;		/* retired, not yet unmapped */
	uint64_t reap_backlog_max;
	uint64_t reap_units_max;	/* most work done in one poll */
	uint64_t reap_forced;		/* times the backlog cap made it drain at once */
};

/* check_claims: before unmapping a region, check its claim map empty. */
void guest_mem_init(int check_claims);

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

/* Bytes of the vmm's own memory g's regions take (records, claim maps):
 * a running count, safe to read from the telemetry thread. */
uint64_t guest_mem_footprint(const struct guest *g);

/*
 * Passthrough: the NIC context's address stage (a cdna_nic_xlate_fn; arg is
 * the guest): a guest address inside a live region granting dir, or NULL.
 */
void *guest_mem_direct_map(void *arg, uint64_t addr, uint32_t len, int dir);
/* No protection: any guest's registered memory (the Table 1 baseline). */
void *guest_mem_any_map(void *arg, uint64_t addr, uint32_t len, int dir);

/* Unmaps retired regions, at most units of work. Returns the work done. */
unsigned int guest_mem_reap(unsigned int units);
/* At exit: everything. */
void guest_mem_reap_all(void);
void guest_mem_stats(struct guest_mem_stats *out);

#endif /* CDNA_GUEST_MEM_H */
