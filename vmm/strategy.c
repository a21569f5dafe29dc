/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The protection strategies (strategy.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "guest_mem.h"
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
}

static void
direct_map_detach(struct vmm *v, struct guest *g)
{
	cdna_iommu_domain_free(g->iodom);
	g->iodom = NULL;
}

static const struct strategy strategies[CDNA_MODE_COUNT] = {
	[CDNA_MODE_MEDIATED] = {
		"mediated", CDNA_MODE_MEDIATED, 1, mediated_attach,
		no_region_add, no_region_retire, no_detach,
	},
	[CDNA_MODE_PASSTHROUGH] = {
		"passthrough", CDNA_MODE_PASSTHROUGH, 0, passthrough_attach,
		no_region_add, no_region_retire, no_detach,
	},
	[CDNA_MODE_DIRECT_MAP] = {
		"direct-map", CDNA_MODE_DIRECT_MAP, 0, direct_map_attach,
		direct_map_region_add, direct_map_region_retire,
		direct_map_detach,
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
