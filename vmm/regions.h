/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A guest's memory regions as the mediator sees them: guest address range,
 * the mediator's own mapping of it, the permission granted, and the claim map
 * that records in-flight DMA at 64-byte granularity.
 */
#ifndef CDNA_REGIONS_H
#define CDNA_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#define CDNA_CLAIM_SHIFT	6u	/* one claim byte per 64-byte line */
#define CDNA_CLAIM_LINE		(1u << CDNA_CLAIM_SHIFT)

struct cdna_region {
	uint64_t gaddr;		/* guest address of the first byte */
	uint64_t size;		/* bytes, > 0 */
	uint8_t *host;		/* mediator's mapping of gaddr */
	uint32_t perm;		/* CDNA_PERM_* */
	int dying;		/* REGION_DEL or teardown: no new DMA may start */
	uint32_t dying_idx;	/* its place in the owner's dying list */
	uint64_t inflight;	/* descriptors posted into this region, not yet reclaimed */
	uint8_t *claims;	/* (size + 63) / 64 bytes, see claims.h */
	void *map_base;		/* what to munmap: page-aligned base and length */
	size_t map_len;
	size_t map_pgsz;	/* the file's page size: munmap in its multiples */
	uint64_t file_dev;	/* the backing file (st_dev, st_ino) and where */
	uint64_t file_ino;	/* in it gaddr lies: claims are per mapping, so */
	uint64_t file_off;	/* no two regions may share backing bytes */
};

struct cdna_region_table {
	struct cdna_region **v;	/* sorted by gaddr, ranges disjoint */
	uint32_t n;
	uint32_t cap;
	uint32_t max;		/* policy limit on n */
	uint64_t gen;		/* changes with every insert and removal */
};

/*
 * The region the last lookup found, kept by a caller that looks up nearby
 * addresses again and again (a queue's buffers lie in one region or a few):
 * it answers the next lookup while the table has not changed since, when
 * it contains the address. Ranges are disjoint, so it is then the region
 * cdna_rt_find would find; a table change (gen) retires it, so it never
 * names a region removed (and perhaps freed) since.
 */
struct cdna_rt_hint {
	struct cdna_region *reg;
	uint64_t gen;
};

/* Empty table allowing up to max regions. 0 or -ENOMEM. */
int cdna_rt_init(struct cdna_region_table *rt, uint32_t max);
/* Frees the array only; the regions belong to the caller. */
void cdna_rt_fini(struct cdna_region_table *rt);

/*
 * Inserts r keeping the order. -EEXIST if [gaddr, gaddr+size) overlaps a
 * region already present, -ENOSPC at the limit, -EINVAL on size 0 or a range
 * that wraps past UINT64_MAX, -ENOMEM.
 */
int cdna_rt_insert(struct cdna_region_table *rt, struct cdna_region *r);

/* Removes r (by identity). 0 or -ENOENT. */
int cdna_rt_remove(struct cdna_region_table *rt, struct cdna_region *r);

/* The region containing addr, or NULL. O(log n). */
struct cdna_region *cdna_rt_find(const struct cdna_region_table *rt,
				 uint64_t addr);

/* cdna_rt_find, answered from *h when it can be and *h updated. */
static inline struct cdna_region *
cdna_rt_find_hinted(const struct cdna_region_table *rt, uint64_t addr,
		    struct cdna_rt_hint *h)
{
	struct cdna_region *r = h->reg;

	/* addr - gaddr wraps to a huge value below the region: one test. */
	if (r != NULL && h->gen == rt->gen && addr - r->gaddr < r->size)
		return r;
	r = cdna_rt_find(rt, addr);
	if (r != NULL) {
		h->reg = r;
		h->gen = rt->gen;
	}
	return r;
}

/* The region with exactly this start and size, or NULL. */
struct cdna_region *cdna_rt_find_exact(const struct cdna_region_table *rt,
				       uint64_t gaddr, uint64_t size);

#endif /* CDNA_REGIONS_H */
