/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated IOMMU (iommu.h): four-level I/O page tables per domain and
 * a direct-mapped IOTLB, with an optional cycle charge per update and
 * flush (ATC'08 Table 2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdna_abi.h"
#include "iommu.h"
#include "nic.h"

#define LEVELS		4u
#define LEVEL_BITS	9u
#define ENTRIES		(1u << LEVEL_BITS)
/* A leaf holds the host page and CDNA_PERM_DEV_*; a table entry, the next table. */
#define PTE_PERM	((uint64_t)CDNA_PERM_KNOWN)
#define PTE_TABLE	0x4ull
#define PTE_ADDR	(~(uint64_t)(CDNA_IOMMU_PAGE - 1))
#define VPN_LIMIT	(1ull << (CDNA_IOMMU_VA_BITS - CDNA_IOMMU_PAGE_SHIFT))

struct iotlb_entry {
	uint64_t vpn;
	uint64_t pte;		/* 0: empty */
	uint64_t dom;
};

struct cdna_iommu {
	uint32_t tlb_mask;		/* entries - 1: direct-mapped */
	/*
	 * 64 bits: ids never wrap, so a new domain can never share a live
	 * one's id, and with it that domain's IOTLB entries (every guest
	 * connection makes a domain; 2^32 of them would be within reach).
	 */
	uint64_t next_dom;
	const struct cdna_iommu_cost *cost;
	struct cdna_iommu_stats st;
	struct iotlb_entry tlb[];
};

struct cdna_iommu_domain {
	struct cdna_iommu *mmu;
	uint64_t *root;
	uint64_t pages;		/* page-table pages it holds */
	uint64_t id;
};

/* Cycles, from the ATC'08 paper's Table 2 (processor cycles per operation). */
static const struct cdna_iommu_cost cost_models[] = {
	{ "none", 0, 0, 0 },
	{ "calgary", 673, 10207, 10887 },
	{ "vt-d", 991, 1217, 2213 },
	{ "gart", 27, 486, 579 },
};

const struct cdna_iommu_cost *
cdna_iommu_cost_model(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cost_models) / sizeof(cost_models[0]); i++)
		if (strcmp(cost_models[i].name, name) == 0)
			return &cost_models[i];
	return NULL;
}

static inline uint64_t
cycles_now(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* The hardware's time, spent here: the emulation stands for that IOMMU. */
static void
charge(struct cdna_iommu *mmu, uint32_t cycles)
{
	uint64_t t0;

	if (cycles == 0)
		return;
	t0 = cycles_now();
	while (cycles_now() - t0 < cycles)
		;
	mmu->st.cycles_charged += cycles;
}

static uint64_t *
table_new(struct cdna_iommu *mmu)
{
	uint64_t *t = aligned_alloc(CDNA_IOMMU_PAGE, CDNA_IOMMU_PAGE);

	if (t != NULL) {
		memset(t, 0, CDNA_IOMMU_PAGE);
		mmu->st.table_pages++;
	}
	return t;
}

static void
table_free(struct cdna_iommu *mmu, uint64_t *t, unsigned int level)
{
	unsigned int i;

	if (level > 0)
		for (i = 0; i < ENTRIES; i++)
			if (t[i] & PTE_TABLE)
				table_free(mmu, (uint64_t *)(uintptr_t)(t[i] & PTE_ADDR),
					   level - 1);
	free(t);
	mmu->st.table_pages--;
}

static inline unsigned int
level_index(uint64_t vpn, unsigned int level)
{
	return (unsigned int)(vpn >> (level * LEVEL_BITS)) & (ENTRIES - 1);
}

/* The leaf entry of vpn, creating tables when create; NULL if absent or no memory. */
static uint64_t *
walk(struct cdna_iommu_domain *d, uint64_t vpn, int create)
{
	uint64_t *t = d->root;
	unsigned int level;

	for (level = LEVELS - 1; level > 0; level--) {
		uint64_t *e = &t[level_index(vpn, level)];

		if (!(*e & PTE_TABLE)) {
			uint64_t *n;

			if (!create)
				return NULL;
			n = table_new(d->mmu);
			if (n == NULL)
				return NULL;
			d->pages++;
			*e = (uint64_t)(uintptr_t)n | PTE_TABLE;
		}
		t = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
	}
	return &t[level_index(vpn, 0)];
}

static inline struct iotlb_entry *
tlb_slot(struct cdna_iommu *mmu, uint64_t dom, uint64_t vpn)
{
	/* Domains spread over the sets, so one guest cannot own the IOTLB. */
	return &mmu->tlb[(uint32_t)(vpn ^ (dom * 0x9e3779b1u)) &
			 mmu->tlb_mask];
}

struct cdna_iommu *
cdna_iommu_create(uint32_t iotlb_entries, const struct cdna_iommu_cost *cost)
{
	struct cdna_iommu *mmu;

	if (iotlb_entries == 0 || iotlb_entries > CDNA_IOMMU_IOTLB_MAX ||
	    (iotlb_entries & (iotlb_entries - 1)) != 0)
		return NULL;
	mmu = calloc(1, sizeof(*mmu) + iotlb_entries * sizeof(struct iotlb_entry));
	if (mmu == NULL)
		return NULL;
	mmu->tlb_mask = iotlb_entries - 1;
	mmu->cost = cost;
	mmu->next_dom = 1;
	return mmu;
}

void
cdna_iommu_destroy(struct cdna_iommu *mmu)
{
	free(mmu);
}

void
cdna_iommu_stats(const struct cdna_iommu *mmu, struct cdna_iommu_stats *out)
{
	*out = mmu->st;
}

struct cdna_iommu_domain *
cdna_iommu_domain_new(struct cdna_iommu *mmu)
{
	struct cdna_iommu_domain *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->root = table_new(mmu);
	if (d->root == NULL) {
		free(d);
		return NULL;
	}
	d->mmu = mmu;
	d->pages = 1;
	d->id = mmu->next_dom++;
	return d;
}

uint64_t
cdna_iommu_domain_bytes(const struct cdna_iommu_domain *d)
{
	return d != NULL ? __atomic_load_n(&d->pages, __ATOMIC_RELAXED) *
		CDNA_IOMMU_PAGE : 0;
}

void
cdna_iommu_domain_free(struct cdna_iommu_domain *d)
{
	if (d == NULL)
		return;
	cdna_iommu_invalidate_domain(d);
	table_free(d->mmu, d->root, LEVELS - 1);
	free(d);
}

/* First and last page of [a, a + len), or -1 if empty, wrapping or too high. */
static int
page_span(uint64_t a, uint64_t len, uint64_t *first, uint64_t *last)
{
	if (len == 0 || a + (len - 1) < a)
		return -1;
	*first = a >> CDNA_IOMMU_PAGE_SHIFT;
	*last = (a + (len - 1)) >> CDNA_IOMMU_PAGE_SHIFT;
	return *last < VPN_LIMIT ? 0 : -1;
}

int
cdna_iommu_map(struct cdna_iommu_domain *d, uint64_t iova, void *host,
	       uint64_t len, uint32_t perm)
{
	uintptr_t h = (uintptr_t)host;
	uint64_t first, last, vpn;

	if (d == NULL || perm == 0 || (perm & ~CDNA_PERM_KNOWN) != 0 ||
	    ((iova ^ h) & (CDNA_IOMMU_PAGE - 1)) != 0 ||
	    page_span(iova, len, &first, &last) != 0 || h + (len - 1) < h)
		return -EINVAL;
	/* Tables first: a failure leaves only empty tables, no translation. */
	for (vpn = first; vpn <= last; vpn++)
		if (walk(d, vpn, 1) == NULL)
			return -ENOMEM;
	h &= ~(uintptr_t)(CDNA_IOMMU_PAGE - 1);
	for (vpn = first; vpn <= last; vpn++, h += CDNA_IOMMU_PAGE) {
		*walk(d, vpn, 0) = (uint64_t)h | perm;
		d->mmu->st.pt_updates++;
		if (d->mmu->cost != NULL)
			charge(d->mmu, d->mmu->cost->pt_update);
	}
	return 0;
}

static uint64_t
unmap_pages(struct cdna_iommu_domain *d, uint64_t iova, uint64_t len,
	    uint32_t cycles, int flush)
{
	uint64_t first, last, vpn, n = 0;

	if (d == NULL || page_span(iova, len, &first, &last) != 0)
		return 0;
	for (vpn = first; vpn <= last; vpn++) {
		uint64_t *e = walk(d, vpn, 0);

		if (e == NULL || *e == 0)
			continue;
		*e = 0;
		n++;
		d->mmu->st.pt_updates++;
		if (flush) {
			struct iotlb_entry *t = tlb_slot(d->mmu, d->id, vpn);

			if (t->pte != 0 && t->dom == d->id && t->vpn == vpn)
				t->pte = 0;
			d->mmu->st.invalidations++;
		}
		if (d->mmu->cost != NULL)
			charge(d->mmu, cycles);
	}
	return n;
}

/*
 * Frees every table below t (a table of the given level whose first entry
 * is vpn base) that covers part of [first, last] and holds nothing once
 * its own children are pruned. Returns whether t itself holds nothing.
 */
static int
prune(struct cdna_iommu_domain *d, uint64_t *t, unsigned int level,
      uint64_t base, uint64_t first, uint64_t last)
{
	const unsigned int shift = level * LEVEL_BITS;	/* vpns per entry: 1 << shift */
	unsigned int i, lo, hi;

	lo = first > base ? (unsigned int)((first - base) >> shift) : 0;
	hi = (last - base) >> shift >= ENTRIES ? ENTRIES - 1 :
		(unsigned int)((last - base) >> shift);
	for (i = lo; level > 0 && i <= hi; i++) {
		uint64_t *c;

		if (!(t[i] & PTE_TABLE))
			continue;
		c = (uint64_t *)(uintptr_t)(t[i] & PTE_ADDR);
		if (prune(d, c, level - 1, base + ((uint64_t)i << shift),
			  first, last)) {
			t[i] = 0;
			free(c);
			d->mmu->st.table_pages--;
			d->pages--;
		}
	}
	for (i = 0; i < ENTRIES; i++)
		if (t[i] != 0)
			return 0;
	return 1;
}

uint64_t
cdna_iommu_prune(struct cdna_iommu_domain *d, uint64_t iova, uint64_t len)
{
	uint64_t first, last, before;

	if (d == NULL || page_span(iova, len, &first, &last) != 0)
		return 0;
	before = d->pages;
	/* The root stays, empty or not: the domain always has one. */
	prune(d, d->root, LEVELS - 1, 0, first, last);
	return before - d->pages;
}

uint64_t
cdna_iommu_unmap(struct cdna_iommu_domain *d, uint64_t iova, uint64_t len)
{
	return unmap_pages(d, iova, len,
			   d != NULL && d->mmu->cost != NULL ?
			   d->mmu->cost->pt_update : 0, 0);
}

uint64_t
cdna_iommu_unmap_flush(struct cdna_iommu_domain *d, uint64_t iova, uint64_t len)
{
	return unmap_pages(d, iova, len,
			   d != NULL && d->mmu->cost != NULL ?
			   d->mmu->cost->update_and_flush : 0, 1);
}

void
cdna_iommu_invalidate(struct cdna_iommu_domain *d, uint64_t iova, uint64_t len)
{
	uint64_t first, last, vpn;

	if (d == NULL || page_span(iova, len, &first, &last) != 0)
		return;
	for (vpn = first; vpn <= last; vpn++) {
		struct iotlb_entry *t = tlb_slot(d->mmu, d->id, vpn);

		if (t->pte != 0 && t->dom == d->id && t->vpn == vpn)
			t->pte = 0;
	}
	d->mmu->st.invalidations++;
	if (d->mmu->cost != NULL)
		charge(d->mmu, d->mmu->cost->iotlb_flush);
}

void
cdna_iommu_invalidate_domain(struct cdna_iommu_domain *d)
{
	uint32_t i;

	for (i = 0; i <= d->mmu->tlb_mask; i++)
		if (d->mmu->tlb[i].dom == d->id)
			d->mmu->tlb[i].pte = 0;
	d->mmu->st.invalidations++;
	if (d->mmu->cost != NULL)
		charge(d->mmu, d->mmu->cost->iotlb_flush);
}

void
cdna_iommu_invalidate_all(struct cdna_iommu *mmu)
{
	uint32_t i;

	for (i = 0; i <= mmu->tlb_mask; i++)
		mmu->tlb[i].pte = 0;
	mmu->st.invalidations++;
	if (mmu->cost != NULL)
		charge(mmu, mmu->cost->iotlb_flush);
}

/* The leaf entry for vpn as the device sees it: IOTLB first, then the table. */
static inline uint64_t
lookup(struct cdna_iommu_domain *d, uint64_t vpn, int hint)
{
	struct iotlb_entry *t;
	uint64_t *e;

	if (hint) {
		e = walk(d, vpn, 0);
		return e != NULL ? *e : 0;
	}
	t = tlb_slot(d->mmu, d->id, vpn);
	if (t->pte != 0 && t->dom == d->id && t->vpn == vpn) {
		d->mmu->st.iotlb_hits++;
		return t->pte;
	}
	d->mmu->st.iotlb_misses++;
	e = walk(d, vpn, 0);
	if (e == NULL || *e == 0)
		return 0;	/* a fault is not cached */
	t->vpn = vpn;
	t->dom = d->id;
	t->pte = *e;
	return *e;
}

void *
cdna_iommu_xlate(void *domain, uint64_t iova, uint32_t len, int dir)
{
	struct cdna_iommu_domain *d = domain;
	int hint = (dir & CDNA_NIC_XLATE_PREFETCH) != 0;
	uint64_t need = CDNA_NIC_XLATE_DIR(dir) == CDNA_DIR_RX ?
		CDNA_PERM_DEV_WRITE : CDNA_PERM_DEV_READ;
	uint64_t first, last, vpn, pte, base = 0;

	if (!hint)
		d->mmu->st.translations++;
	if (page_span(iova, len != 0 ? len : 1, &first, &last) != 0)
		goto fault;
	for (vpn = first; vpn <= last; vpn++) {
		pte = lookup(d, vpn, hint);
		if (!(pte & need))
			goto fault;
		if (vpn == first)
			base = pte & PTE_ADDR;
		else if ((pte & PTE_ADDR) != base + (vpn - first) * CDNA_IOMMU_PAGE)
			goto fault;	/* not one host range: the NIC copies with one pointer */
	}
	return (void *)(uintptr_t)(base + (iova & (CDNA_IOMMU_PAGE - 1)));
fault:
	if (!hint)
		d->mmu->st.faults++;
	return NULL;
}
