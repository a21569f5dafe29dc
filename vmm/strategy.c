/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The protection strategies (strategy.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "guest_mem.h"
#include "iomap.h"
#include "iommu.h"
#include "strategy.h"
#include "vmm.h"

static int
no_region_add(struct guest *g, struct cdna_region *r)
{
	return 0;
}

static void
no_region_retire(struct guest *g, struct cdna_region *r)
{
}

static void
no_detach(struct vmm *v, struct guest *g)
{
}

static void
no_stopped(struct vmm *v, struct guest *g)
{
}

/* Mediated: descriptors carry the host addresses the mediator checked. */
static int
mediated_attach(struct vmm *v, struct guest *g, cdna_nic_xlate_fn *fn,
		void **arg)
{
	*fn = NULL;
	*arg = NULL;
	return 0;
}

/* Passthrough: guest addresses, looked up in the region table per DMA. */
static int
passthrough_attach(struct vmm *v, struct guest *g, cdna_nic_xlate_fn *fn,
		   void **arg)
{
	*fn = guest_mem_direct_map;
	*arg = g;
	return 0;
}

/* Direct map: guest addresses as I/O virtual addresses of its own domain. */
static int
direct_map_attach(struct vmm *v, struct guest *g, cdna_nic_xlate_fn *fn,
		  void **arg)
{
	g->iodom = cdna_iommu_domain_new(v->iommu);
	if (g->iodom == NULL) {
		GREFUSE(g, "HELLO refused: no memory for an I/O page table");
		return -ENOMEM;
	}
	*fn = cdna_iommu_xlate;
	*arg = g->iodom;
	return 0;
}

static int
direct_map_region_add(struct guest *g, struct cdna_region *r)
{
	int rc = cdna_iommu_map(g->iodom, r->gaddr, r->host, r->size, r->perm);

	if (rc != 0)
		GREFUSE(g, "REGION_ADD refused: I/O page table for [0x%" PRIx64
			", +%" PRIu64 "): %s", r->gaddr, r->size, strerror(-rc));
	return rc;
}

static void
direct_map_region_retire(struct guest *g, struct cdna_region *r)
{
	/* Cleared and flushed before the reaper may unmap the memory. */
	cdna_iommu_unmap_flush(g->iodom, r->gaddr, r->size);
	/*
	 * And the tables that served only it freed: else a guest adding and
	 * deleting regions at new addresses grows them without end.
	 */
	cdna_iommu_prune(g->iodom, r->gaddr, r->size);
}

static void
direct_map_detach(struct vmm *v, struct guest *g)
{
	cdna_iommu_domain_free(g->iodom);
	g->iodom = NULL;
}

/* No protection: any guest's registered memory (guest_mem_any_map). */
static int
unprotected_attach(struct vmm *v, struct guest *g, cdna_nic_xlate_fn *fn,
		   void **arg)
{
	*fn = guest_mem_any_map;
	*arg = g;
	return 0;
}

/*
 * Single-use, shared, persistent: an empty I/O page table at HELLO, filled
 * only on the guest's request (iomap.h); nothing is mapped at REGION_ADD.
 */
static int
iomap_attach(struct vmm *v, struct guest *g, cdna_nic_xlate_fn *fn, void **arg)
{
	int rc = direct_map_attach(v, g, fn, arg);

	if (rc != 0)
		return rc;
	g->iomap = iomap_new(g->strat->mode, v->opt.map_quota, g->iodom, &g->rt);
	if (g->iomap == NULL) {
		GREFUSE(g, "HELLO refused: no memory for %u mappings (--map-quota)",
			v->opt.map_quota);
		direct_map_detach(v, g);
		return -ENOMEM;
	}
	return 0;
}

static void
iomap_retire(struct guest *g, struct cdna_region *r)
{
	iomap_region_retire(g->iomap, r);
	/*
	 * Shared and persistent map its pages at its guest addresses: their
	 * tables go too. (Single-use maps in its slot window only: nothing of
	 * the region's range to free, and the prune finds nothing.)
	 */
	cdna_iommu_prune(g->iodom, r->gaddr, r->size);
}

static void
iomap_detach(struct vmm *v, struct guest *g)
{
	iomap_free(g->iomap);
	g->iomap = NULL;
	direct_map_detach(v, g);
}

static void
iomap_stopped(struct vmm *v, struct guest *g)
{
	iomap_drop_all(g->iomap);
}

#define IOMAP_STRATEGY(nm, md) { \
	nm, md, 0, iomap_attach, no_region_add, iomap_retire, iomap_detach, \
	iomap_stopped, iomap_serve, }

static const struct strategy strategies[CDNA_MODE_COUNT] = {
	[CDNA_MODE_MEDIATED] = {
		"mediated", CDNA_MODE_MEDIATED, 1, mediated_attach,
		no_region_add, no_region_retire, no_detach, no_stopped, NULL,
	},
	[CDNA_MODE_PASSTHROUGH] = {
		"passthrough", CDNA_MODE_PASSTHROUGH, 0, passthrough_attach,
		no_region_add, no_region_retire, no_detach, no_stopped, NULL,
	},
	[CDNA_MODE_DIRECT_MAP] = {
		"direct-map", CDNA_MODE_DIRECT_MAP, 0, direct_map_attach,
		direct_map_region_add, direct_map_region_retire,
		direct_map_detach, no_stopped, NULL,
	},
	[CDNA_MODE_SINGLE_USE] = IOMAP_STRATEGY("single-use", CDNA_MODE_SINGLE_USE),
	[CDNA_MODE_SHARED] = IOMAP_STRATEGY("shared", CDNA_MODE_SHARED),
	[CDNA_MODE_PERSISTENT] = IOMAP_STRATEGY("persistent", CDNA_MODE_PERSISTENT),
	[CDNA_MODE_UNPROTECTED] = {
		"unprotected", CDNA_MODE_UNPROTECTED, 0, unprotected_attach,
		no_region_add, no_region_retire, no_detach, no_stopped, NULL,
	},
};

const struct strategy *
strategy_of(uint32_t mode)
{
	return mode < CDNA_MODE_COUNT ? &strategies[mode] : NULL;
}

int
strategy_init(struct vmm *v)
{
	const struct cdna_iommu_cost *cost =
		cdna_iommu_cost_model(v->opt.iommu_cost);

	if (cost == NULL) {
		VLOG(ERR, "--iommu-cost %s: not one of none, calgary, vt-d, gart",
		     v->opt.iommu_cost);
		return -1;
	}
	v->iommu = cdna_iommu_create(v->opt.iotlb, cost->pt_update ||
				     cost->iotlb_flush ? cost : NULL);
	if (v->iommu == NULL) {
		VLOG(ERR, "emulated IOMMU: --iotlb %u: out of memory", v->opt.iotlb);
		return -1;
	}
	return 0;
}

void
strategy_fini(struct vmm *v)
{
	cdna_iommu_destroy(v->iommu);
	v->iommu = NULL;
}
