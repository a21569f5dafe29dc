/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IOMMU mapping strategies of the ATC'08 paper (single-use, shared,
 * persistent): the mediator's half. A guest asks, over its map channel
 * (cdna_abi.h), for a buffer to be made reachable by the device; the
 * mediator checks the range against the guest's regions, writes the I/O
 * page table of the guest's domain (nic-rings/iommu.h) and answers with
 * the I/O address the guest then puts in its own NIC descriptor. An unmap
 * clears the entries and invalidates the IOTLB before it is answered.
 *
 *   single-use  every MAP gets its own I/O address (a slot of
 *               IOMAP_SLOT_BYTES in a window of the domain, the one
 *               free longest), every UNMAP names one; no mapping is
 *               ever shared or reused.
 *   shared      pages are mapped at their guest address and counted: a
 *   persistent  MAP of a page already mapped only takes a reference, the
 *               last UNMAP clears it; a page is writable by the device
 *               only while an RX mapping holds it. The two differ in the
 *               guest (a persistent guest keeps one reference of its own
 *               per page, a cache), not here.
 *
 * The quota (--map-quota) bounds live mappings (single-use) or mapped pages
 * (shared, persistent) per guest; a MAP past it is answered MAP_QUOTA.
 * Nothing survives its region (iomap_region_retire), a stop of the port
 * (iomap_drop_all) or the guest.
 */
#ifndef CDNA_IOMAP_H
#define CDNA_IOMAP_H

#include <stdint.h>

struct vmm;
struct guest;
struct mqueue;
struct cdna_region;
struct cdna_iommu_domain;
struct cdna_region_table;

/* Where single-use I/O addresses live, and how far apart. */
#define IOMAP_SLOT_BASE		(1ull << 40)
#define IOMAP_SLOT_BYTES	(1ull << 17)	/* > CDNA_MAX_BUF_LEN + a page */

struct iomap_stats {
	uint64_t map_requests;		/* MAP requests answered */
	uint64_t unmap_requests;	/* UNMAP requests answered */
	uint64_t batches;		/* map ring visits that found requests */
	uint64_t refused;		/* requests answered with an error */
	uint64_t pages_mapped;		/* page-table entries written */
	uint64_t pages_reused;		/* pages a MAP found mapped already */
	uint64_t live;			/* mappings (single-use) or pages now */
};

struct iomap;

/* A guest's map state over domain dom, for mode (CDNA_MODE_*). NULL: no memory. */
struct iomap *iomap_new(uint32_t mode, uint32_t quota,
			struct cdna_iommu_domain *dom,
			const struct cdna_region_table *rt);
void iomap_free(struct iomap *m);
uint64_t iomap_bytes(const struct iomap *m);
const struct iomap_stats *iomap_stats(const struct iomap *m);

/* Serves the map rings of every queue of g. Returns requests answered. */
unsigned int iomap_serve(struct vmm *v, struct guest *g);
/* No mapping may reach r after this. */
void iomap_region_retire(struct iomap *m, const struct cdna_region *r);
/* Every mapping cleared and the IOTLB flushed: the port stopped. */
void iomap_drop_all(struct iomap *m);
/* The queue's map rings, from its two areas (queues.c). */
void iomap_queue_init(struct mqueue *mq, uint32_t tx_size, uint32_t rx_size,
		      uint32_t map_size);

#endif /* CDNA_IOMAP_H */
