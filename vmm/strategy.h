/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protection strategies: how a guest's DMA is kept to its own memory. One
 * per guest, chosen at HELLO (cdna_ctrl.h's mode) within the vmm's policy,
 * and reached through this interface only, not through branches in the
 * data path:
 *
 *   mediated     (the ATC'08 "software" strategy) the mediator validates,
 *                claims and posts every descriptor itself (mediator.c);
 *                the NIC's address stage is the host address it wrote;
 *   passthrough  the guest writes the NIC's descriptors; the NIC
 *                translates through the guest's region table;
 *   direct-map   the same, through the emulated IOMMU (nic-rings/iommu.h):
 *                the guest's whole registered memory is mapped in its I/O
 *                page table at REGION_ADD and unmapped, with an IOTLB
 *                flush, before a region is retired.
 *   single-use, shared, persistent
 *                the same, but the I/O page table holds only what the
 *                guest asked for over its map channel (iomap.h).
 */
#ifndef CDNA_STRATEGY_H
#define CDNA_STRATEGY_H

#include <stdint.h>

#include "nic.h"
#include "regions.h"

struct vmm;
struct guest;

struct strategy {
	const char *name;	/* as telemetry and the logs say it */
	uint32_t mode;		/* CDNA_MODE_* */
	/* The mediator serves its queues; else they are the NIC's, in place. */
	int mediated;
	/* HELLO: the NIC context's address stage. 0 or -errno (logged). */
	int (*attach)(struct vmm *v, struct guest *g, cdna_nic_xlate_fn *fn,
		      void **arg);
	/* A region was admitted: 0, or -errno and it is refused (logged). */
	int (*region_add)(struct guest *g, struct cdna_region *r);
	/* A region is retired: after this no DMA may reach it. */
	void (*region_retire)(struct guest *g, struct cdna_region *r);
	/* Teardown, once the NIC context is gone. */
	void (*detach)(struct vmm *v, struct guest *g);
	/* The port stopped: its queues are drained. */
	void (*stopped)(struct vmm *v, struct guest *g);
	/* Data path, every round: the map channel. NULL: none. Work done. */
	unsigned int (*serve)(struct vmm *v, struct guest *g);
};

/* The strategy of a HELLO mode, or NULL for a mode there is none of. */
const struct strategy *strategy_of(uint32_t mode);

/* The emulated IOMMU of direct-map guests: options, at start. 0 or -1. */
int strategy_init(struct vmm *v);
void strategy_fini(struct vmm *v);

#endif /* CDNA_STRATEGY_H */
