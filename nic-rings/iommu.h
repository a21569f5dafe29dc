/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An emulated IOMMU for the NIC model's address stage, after Intel VT-d's
 * second-level translation: one I/O page table per domain (a guest's NIC
 * context), four levels of 512 entries over a 48-bit I/O virtual address,
 * 4 KiB pages with device-read and device-write permission bits, and an
 * IOTLB of a fixed number of entries shared by all domains, tagged by
 * domain and page. A translation miss walks the table. Unmapping a page
 * does not touch the IOTLB: until it is invalidated (one page, a domain,
 * or everything), a cached translation still works, as on the hardware.
 *
 * The tables live in the mediator's memory, where no guest can write. An
 * optional cost model charges, on the calling CPU, the cycles the ATC'08
 * paper's Table 2 measured for a page-table update, an IOTLB flush, and
 * both together, on real IOMMUs, so that runs can stand for that hardware.
 *
 * No DPDK and no locking: one thread drives an IOMMU (the vmm's lcore).
 */
#ifndef CDNA_IOMMU_H
#define CDNA_IOMMU_H

#include <stdint.h>

#define CDNA_IOMMU_PAGE_SHIFT	12u
#define CDNA_IOMMU_PAGE		(1u << CDNA_IOMMU_PAGE_SHIFT)
#define CDNA_IOMMU_VA_BITS	48u	/* 4 levels x 9 bits + 12 */
#define CDNA_IOMMU_IOTLB_MAX	4096u

/* Cycles charged per operation (0: none). ATC'08 Table 2 gives three sets. */
struct cdna_iommu_cost {
	const char *name;
	uint32_t pt_update;		/* one page-table entry written */
	uint32_t iotlb_flush;		/* one invalidation */
	uint32_t update_and_flush;	/* both, for one page */
};

/* "none", "calgary", "vt-d", "gart": the table, or NULL if unknown. */
const struct cdna_iommu_cost *cdna_iommu_cost_model(const char *name);

struct cdna_iommu_stats {
	uint64_t pt_updates;		/* leaf entries written or cleared */
	uint64_t invalidations;		/* page, domain or global */
	uint64_t translations;		/* DMA translations asked for */
	uint64_t iotlb_hits;		/* pages found in the IOTLB */
	uint64_t iotlb_misses;		/* pages that walked the table */
	uint64_t faults;		/* translations refused */
	uint64_t cycles_charged;	/* by the cost model */
	uint64_t table_pages;		/* page-table pages allocated now */
};

struct cdna_iommu;
struct cdna_iommu_domain;

/*
 * iotlb_entries in 1..CDNA_IOMMU_IOTLB_MAX; cost may be NULL (no charge).
 * NULL on a bad argument or no memory.
 */
struct cdna_iommu *cdna_iommu_create(uint32_t iotlb_entries,
				     const struct cdna_iommu_cost *cost);
/* Every domain must have been freed. */
void cdna_iommu_destroy(struct cdna_iommu *mmu);
void cdna_iommu_stats(const struct cdna_iommu *mmu, struct cdna_iommu_stats *out);

struct cdna_iommu_domain *cdna_iommu_domain_new(struct cdna_iommu *mmu);
/* Bytes of page tables the domain holds (any thread may ask). */
uint64_t cdna_iommu_domain_bytes(const struct cdna_iommu_domain *d);
/* Frees the domain's tables and invalidates all of its IOTLB entries. */
void cdna_iommu_domain_free(struct cdna_iommu_domain *d);

/*
 * Maps the pages covering [iova, iova + len) to the host pages covering
 * [host, host + len): iova and host must have the same offset in a page,
 * len > 0, the range below 2^48, perm a nonzero set of CDNA_PERM_DEV_*.
 * A page already mapped is remapped (its old translation may linger in the
 * IOTLB until invalidated). 0, -EINVAL or -ENOMEM (then nothing changed).
 */
int cdna_iommu_map(struct cdna_iommu_domain *d, uint64_t iova, void *host,
		   uint64_t len, uint32_t perm);
/* Clears the pages covering [iova, iova + len). Returns pages cleared. */
uint64_t cdna_iommu_unmap(struct cdna_iommu_domain *d, uint64_t iova,
			  uint64_t len);
/*
 * Frees the page-table pages that cover part of [iova, iova + len) and map
 * nothing any more (an empty table's other addresses map nothing either):
 * what unmapping a range leaves behind. Unmapping keeps
 * tables (the data path unmaps page by page); a range that goes for good
 * (a region retired) is pruned, so that page tables follow what is mapped
 * now, not every address ever mapped. Returns the pages freed.
 */
uint64_t cdna_iommu_prune(struct cdna_iommu_domain *d, uint64_t iova,
			  uint64_t len);
/* Drops IOTLB entries: the pages covering a range, a domain, everything. */
void cdna_iommu_invalidate(struct cdna_iommu_domain *d, uint64_t iova,
			   uint64_t len);
void cdna_iommu_invalidate_domain(struct cdna_iommu_domain *d);
void cdna_iommu_invalidate_all(struct cdna_iommu *mmu);
/*
 * Unmap and invalidate in one step, charged as Table 2's "update and
 * flush" per page. Returns pages cleared.
 */
uint64_t cdna_iommu_unmap_flush(struct cdna_iommu_domain *d, uint64_t iova,
				uint64_t len);

/*
 * The NIC's address stage (a cdna_nic_xlate_fn; arg is the domain): the
 * host pointer for [iova, iova + len), or NULL when a page is not mapped,
 * lacks the permission dir needs (CDNA_DIR_TX reads, CDNA_DIR_RX writes),
 * or the pages are not contiguous in host memory (the NIC model copies
 * with one pointer). With CDNA_NIC_XLATE_PREFETCH in dir it answers from
 * the tables without touching the IOTLB or the counters.
 */
void *cdna_iommu_xlate(void *domain, uint64_t iova, uint32_t len, int dir);

#endif /* CDNA_IOMMU_H */
