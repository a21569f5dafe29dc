/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mediator's half of the IOMMU mapping strategies (iomap.h): the map
 * rings, the checks, and what is mapped. Runs on the data-path lcore, the
 * only one that drives the emulated IOMMU.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>

#include "cdna_ring.h"
#include "iomap.h"
#include "iommu.h"
#include "pagetab.h"
#include "validate.h"
#include "vmm.h"

#define PAGE		CDNA_IOMMU_PAGE
#define PAGE_MASK	((uint64_t)PAGE - 1)

/* A single-use mapping: one buffer at one I/O address. */
struct su_slot {
	const struct cdna_region *reg;	/* NULL: free */
	uint64_t iova;
	uint32_t len;
};

struct iomap {
	uint32_t mode;
	uint32_t quota;
	struct cdna_iommu_domain *dom;
	const struct cdna_region_table *rt;	/* the guest's regions */
	struct su_slot *slots;		/* single-use: quota of them */
	uint32_t *free_ids;		/* a FIFO of free slots ... */
	uint32_t free_head;		/* ... from here, */
	uint32_t nb_free;		/* this many */
	struct cdna_pagetab pt;		/* shared, persistent: pages, refs, perm */
	struct iomap_stats st;
};

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

struct iomap *
iomap_new(uint32_t mode, uint32_t quota, struct cdna_iommu_domain *dom,
	  const struct cdna_region_table *rt)
{
	struct iomap *m = calloc(1, sizeof(*m));
	uint32_t i;

	if (m == NULL)
		return NULL;
	m->mode = mode;
	m->quota = quota;
	m->dom = dom;
	m->rt = rt;
	if (mode == CDNA_MODE_SINGLE_USE) {
		m->slots = calloc(quota, sizeof(*m->slots));
		m->free_ids = malloc(quota * sizeof(*m->free_ids));
		if (m->slots == NULL || m->free_ids == NULL)
			goto fail;
		/*
		 * First in, first out: an I/O address just unmapped is the last
		 * to be handed out again, so a device still aiming at it finds
		 * nothing there for as long as possible.
		 */
		for (i = 0; i < quota; i++)
			m->free_ids[i] = i;
		m->nb_free = quota;
	} else {
		/* At most half full: probes stay short. */
		m->pt.mask = pow2_at_least(quota * 2) - 1;
		m->pt.e = calloc((size_t)m->pt.mask + 1, sizeof(*m->pt.e));
		if (m->pt.e == NULL)
			goto fail;
		/* Secret, so the guest cannot aim its pages at one probe run. */
		if (getrandom(&m->pt.seed, sizeof(m->pt.seed), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(m->pt.seed))
			m->pt.seed = rte_rdtsc() * 0x9e3779b97f4a7c15ull ^
				(uint64_t)(uintptr_t)m->pt.e;
	}
	return m;
fail:
	iomap_free(m);
	return NULL;
}

void
iomap_free(struct iomap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m->free_ids);
	free(m->pt.e);
	free(m);
}

uint64_t
iomap_bytes(const struct iomap *m)
{
	if (m == NULL)
		return 0;
	return sizeof(*m) + (m->slots != NULL ? (uint64_t)m->quota *
			     (sizeof(*m->slots) + sizeof(*m->free_ids)) : 0) +
		(m->pt.e != NULL ? ((uint64_t)m->pt.mask + 1) * sizeof(*m->pt.e) : 0);
}

const struct iomap_stats *
iomap_stats(const struct iomap *m)
{
	return &m->st;
}

/* ---- shared and persistent: pages at their guest address, counted ---- */

/* Entries' state: the device permissions the page is mapped with. */
static struct cdna_page_ent *
page_find(struct iomap *m, uint64_t gpn)
{
	return cdna_pagetab_find(&m->pt, gpn);
}

static void
page_remove(struct iomap *m, struct cdna_page_ent *e)
{
	cdna_pagetab_remove(&m->pt, e);
	m->st.live--;
}

/*
 * A page's device-read references are counted in refs, its device-write
 * ones in state (pagetab.h leaves state to its user): it is mapped with
 * exactly the permissions that have references, so a page an RX buffer
 * gave back is no longer writable while a TX buffer still holds it.
 */
static inline uint32_t *
page_count(struct cdna_page_ent *e, uint32_t perm)
{
	return perm == CDNA_PERM_DEV_WRITE ? &e->state : &e->refs;
}

static inline uint32_t
page_perm(const struct cdna_page_ent *e)
{
	return (e->refs != 0 ? CDNA_PERM_DEV_READ : 0) |
		(e->state != 0 ? CDNA_PERM_DEV_WRITE : 0);
}

/*
 * Writes page p's entry for the permissions it has references for now.
 * 0, or -errno: -ENOMEM (no page-table memory), -EINVAL (an address the
 * I/O page table cannot hold), -ENOENT (its region is gone).
 */
static int
page_write(struct iomap *m, const struct cdna_region *reg, uint64_t p,
	   uint32_t perm)
{
	if (reg == NULL)
		reg = cdna_rt_find(m->rt, p * PAGE);
	if (reg == NULL)
		return -ENOENT;
	return cdna_iommu_map(m->dom, p * PAGE,
			      reg->host + (p * PAGE - reg->gaddr), PAGE, perm);
}

/*
 * Drops one perm reference to each page of [first, last]: the last one of
 * a page unmaps it, the last of one kind takes that permission away. The
 * IOTLB forgets the old entry before this returns.
 */
static void
pages_put(struct iomap *m, uint64_t first, uint64_t last, uint32_t perm)
{
	uint64_t p;

	for (p = first; p <= last; p++) {
		struct cdna_page_ent *e = page_find(m, p);
		uint32_t *n;

		if (e == NULL || *(n = page_count(e, perm)) == 0 || --*n != 0)
			continue;
		if (page_perm(e) != 0 && page_write(m, NULL, p, page_perm(e)) == 0) {
			cdna_iommu_invalidate(m->dom, p * PAGE, PAGE);
			m->st.pages_mapped++;
			continue;
		}
		cdna_iommu_unmap_flush(m->dom, p * PAGE, PAGE);
		page_remove(m, e);
	}
}

static uint16_t
pages_map(struct iomap *m, const struct cdna_region *reg, uint64_t addr,
	  uint32_t len, uint32_t perm)
{
	uint64_t first = addr / PAGE, last = (addr + len - 1) / PAGE, p;
	uint64_t fresh = 0;

	for (p = first; p <= last; p++)
		fresh += page_find(m, p) == NULL;
	if (m->st.live + fresh > m->quota)
		return CDNA_ST_MAP_QUOTA;
	for (p = first; p <= last; p++) {
		struct cdna_page_ent *e = page_find(m, p);
		uint32_t old;
		int rc = 0;

		if (e == NULL) {
			e = cdna_pagetab_insert(&m->pt, p);
			m->st.live++;
		}
		old = page_perm(e);
		/* References are the guest's to make: one more must not wrap. */
		if (*page_count(e, perm) == UINT32_MAX)
			rc = -ENOSPC;
		else if ((old & perm) != perm)
			rc = page_write(m, reg, p, old | perm);
		if (rc != 0) {
			if (old == 0)
				page_remove(m, e);
			if (p > first)
				pages_put(m, first, p - 1, perm);
			return rc == -EINVAL ? CDNA_ST_BAD_ADDRESS :
				CDNA_ST_MAP_QUOTA;
		}
		if ((old & perm) == perm) {
			m->st.pages_reused++;
		} else {
			/* A page gaining a permission: the IOTLB forgets the old one. */
			if (old != 0)
				cdna_iommu_invalidate(m->dom, p * PAGE, PAGE);
			m->st.pages_mapped++;
		}
		(*page_count(e, perm))++;
	}
	return CDNA_ST_OK;
}

static uint16_t
pages_unmap(struct iomap *m, uint64_t addr, uint32_t len, uint32_t perm)
{
	uint64_t first = addr / PAGE, last = (addr + len - 1) / PAGE, p;

	/* All or nothing: a page held by no reference of this kind is an error. */
	for (p = first; p <= last; p++) {
		struct cdna_page_ent *e = page_find(m, p);

		if (e == NULL || *page_count(e, perm) == 0)
			return CDNA_ST_BAD_ADDRESS;
	}
	pages_put(m, first, last, perm);
	return CDNA_ST_OK;
}

/* ---- single-use ---- */

static uint16_t
slot_map(struct iomap *m, const struct cdna_region *reg, uint64_t addr,
	 uint32_t len, uint32_t perm, uint64_t *iova)
{
	uint32_t id;
	struct su_slot *s;

	int rc;

	if (m->nb_free == 0)
		return CDNA_ST_MAP_QUOTA;
	id = m->free_ids[m->free_head];
	s = &m->slots[id];
	/* The buffer keeps its offset in the page: the page table maps pages. */
	*iova = IOMAP_SLOT_BASE + id * IOMAP_SLOT_BYTES + (addr & PAGE_MASK);
	rc = cdna_iommu_map(m->dom, *iova, reg->host + (addr - reg->gaddr), len,
			    perm);
	if (rc != 0)
		return rc == -EINVAL ? CDNA_ST_BAD_ADDRESS : CDNA_ST_MAP_QUOTA;
	m->free_head = (m->free_head + 1) % m->quota;
	m->nb_free--;
	s->reg = reg;
	s->iova = *iova;
	s->len = len;
	m->st.pages_mapped += ((*iova + len - 1) / PAGE) - (*iova / PAGE) + 1;
	m->st.live++;
	return CDNA_ST_OK;
}

static void
slot_clear(struct iomap *m, uint32_t id)
{
	struct su_slot *s = &m->slots[id];

	cdna_iommu_unmap_flush(m->dom, s->iova, s->len);
	memset(s, 0, sizeof(*s));
	m->free_ids[(m->free_head + m->nb_free++) % m->quota] = id;
	m->st.live--;
}

static uint16_t
slot_unmap(struct iomap *m, uint64_t iova, uint32_t len)
{
	uint64_t id;

	if (iova < IOMAP_SLOT_BASE)
		return CDNA_ST_BAD_ADDRESS;
	id = (iova - IOMAP_SLOT_BASE) / IOMAP_SLOT_BYTES;
	if (id >= m->quota || m->slots[id].reg == NULL ||
	    m->slots[id].iova != iova || m->slots[id].len != len)
		return CDNA_ST_BAD_ADDRESS;
	slot_clear(m, (uint32_t)id);
	return CDNA_ST_OK;
}

/* ---- requests ---- */

/*
 * One request, already copied out of the guest's ring. The range must lie
 * in one live region that grants the ring's direction, as a mediated
 * guest's buffers must (validate.h).
 */
static uint16_t
map_one(struct guest *g, const struct cdna_map_req *rq, int dir,
	uint64_t *iova)
{
	struct iomap *m = g->iomap;
	uint32_t perm = dir == CDNA_DIR_RX ? CDNA_PERM_DEV_WRITE :
		CDNA_PERM_DEV_READ;
	struct cdna_region *reg;
	uint64_t off;
	uint16_t st;

	*iova = 0;
	if (rq->reserved0 != 0 || rq->reserved1 != 0 || rq->reserved2 != 0)
		return CDNA_ST_BAD_FLAGS;
	if (rq->len == 0 || rq->len > CDNA_MAX_BUF_LEN)
		return CDNA_ST_BAD_LENGTH;
	if (rq->op == CDNA_MAP_OP_UNMAP) {
		m->st.unmap_requests++;
		if (m->mode == CDNA_MODE_SINGLE_USE)
			return slot_unmap(m, rq->addr, rq->len);
		if (rq->addr > UINT64_MAX - rq->len)
			return CDNA_ST_BAD_ADDRESS;
		return pages_unmap(m, rq->addr, rq->len, perm);
	}
	if (rq->op != CDNA_MAP_OP_MAP)
		return CDNA_ST_BAD_FLAGS;
	m->st.map_requests++;
	/* The same region rule as a mediated guest's requests. */
	st = cdna_validate_range(&g->rt, rq->addr, rq->len, dir, NULL, &reg,
				 &off);
	if (st != CDNA_ST_OK)
		return st;
	if (m->mode == CDNA_MODE_SINGLE_USE)
		return slot_map(m, reg, rq->addr, rq->len, perm, iova);
	*iova = rq->addr;
	return pages_map(m, reg, rq->addr, rq->len, perm);
}

/*
 * Impossible indices on a map ring: the guest broke the protocol. Its NIC
 * context is faulted (no DMA of it proceeds) and the main loop disconnects
 * it with this reason.
 */
static void
map_ring_fault(struct vmm *v, struct mqueue *mq, int dir, const char *what,
	       uint32_t val, uint32_t ref)
{
	struct guest *g = mq->g;

	if (g->fault[0] == '\0')
		snprintf(g->fault, sizeof(g->fault),
			 "ring_corrupt: queue %u %s map ring %s %u (consumer %u, ring holds %u)",
			 mq->qid, dir ? "rx" : "tx", what, val, ref,
			 mq->map[dir].size);
	g->ctr.ring_corrupt++;
	cdna_nic_ctx_fault(v->nic, (uint32_t)g->nic_ctx);
}

static unsigned int
serve_ring(struct vmm *v, struct mqueue *mq, int dir)
{
	struct mq_map *r = &mq->map[dir];
	struct guest *g = mq->g;
	uint32_t prod = cdna_load_acquire(r->req_prod);
	uint32_t gcons = cdna_load_acquire(r->cmp_cons);
	uint32_t n, k;

	if (prod == r->req_cons)
		return 0;
	if (unlikely(prod - r->req_cons > r->size)) {
		map_ring_fault(v, mq, dir, "prod", prod, r->req_cons);
		return 0;
	}
	if (unlikely(gcons - r->cmp_cons_seen > r->cmp_prod_v - r->cmp_cons_seen)) {
		map_ring_fault(v, mq, dir, "answer consumer", gcons, r->cmp_prod_v);
		return 0;
	}
	r->cmp_cons_seen = gcons;
	/*
	 * Only what can be answered now (an answer always has room), and no
	 * more than a burst a round: a guest flooding its map rings, each
	 * request up to 17 page-table writes, must not hold up the others.
	 */
	n = RTE_MIN(prod - r->req_cons, r->size - (r->req_cons - gcons));
	n = RTE_MIN(n, v->opt.burst);
	for (k = 0; k < n; k++) {
		const volatile struct cdna_map_req *src =
			&r->req[(r->req_cons + k) & r->mask];
		struct cdna_map_req rq;
		struct cdna_map_cmp *c = &r->cmp[r->cmp_prod_v & r->mask];
		uint64_t iova;
		uint16_t st;

		/* Read once into private memory; the guest may be rewriting it. */
		rq.addr = src->addr;
		rq.len = src->len;
		rq.cookie = src->cookie;
		rq.op = src->op;
		rq.reserved0 = src->reserved0;
		rq.reserved1 = src->reserved1;
		rq.reserved2 = src->reserved2;
		st = map_one(g, &rq, dir, &iova);
		if (st != CDNA_ST_OK) {
			g->iomap->st.refused++;
			g->ctr.reject[st]++;
		}
		c->iova = st == CDNA_ST_OK ? iova : 0;
		c->cookie = rq.cookie;
		c->status = st;
		c->reserved = 0;
		r->cmp_prod_v++;
	}
	r->req_cons += n;
	g->iomap->st.batches += n != 0;
	/* Release: the answers are visible before their index. */
	cdna_store_release(r->cmp_prod, r->cmp_prod_v);
	cdna_store_release(r->req_cons_pub, r->req_cons);
	return n;
}

unsigned int
iomap_serve(struct vmm *v, struct guest *g)
{
	unsigned int n = 0;
	uint16_t q;

	if (g->fault[0] != '\0')
		return 0;
	for (q = 0; q < g->nb_queues; q++) {
		struct mqueue *mq = &g->q[q];

		if (!mq->created || mq->map[0].size == 0)
			continue;
		n += serve_ring(v, mq, CDNA_DIR_TX);
		n += serve_ring(v, mq, CDNA_DIR_RX);
	}
	return n;
}

void
iomap_region_retire(struct iomap *m, const struct cdna_region *r)
{
	uint64_t p, first = r->gaddr / PAGE, pages = r->size / PAGE;
	uint32_t i;

	if (m->st.live == 0)
		return;
	if (m->slots != NULL) {
		for (i = 0; i < m->quota; i++)
			if (m->slots[i].reg == r)
				slot_clear(m, i);
		return;
	}
	/*
	 * Whichever is shorter: the region's pages looked up one by one, or
	 * one pass over the table (regions are whole pages: ctrl_parse.c).
	 */
	if (pages <= (uint64_t)m->pt.mask + 1) {
		for (p = first; p < first + pages; p++) {
			struct cdna_page_ent *e = page_find(m, p);

			if (e != NULL) {
				cdna_iommu_unmap_flush(m->dom, p * PAGE, PAGE);
				page_remove(m, e);
			}
		}
		return;
	}
	/* Removal moves entries back: look at a slot again after one goes. */
	for (i = 0; i <= m->pt.mask; ) {
		struct cdna_page_ent *e = &m->pt.e[i];
		uint64_t a = (e->key1 - 1) * PAGE;

		if (e->key1 != 0 && a >= r->gaddr && a - r->gaddr < r->size) {
			cdna_iommu_unmap_flush(m->dom, a, PAGE);
			page_remove(m, e);
			continue;
		}
		i++;
	}
}

void
iomap_drop_all(struct iomap *m)
{
	uint32_t i;

	if (m->slots != NULL) {
		for (i = 0; i < m->quota; i++)
			if (m->slots[i].reg != NULL)
				slot_clear(m, i);
		return;
	}
	for (i = 0; i <= m->pt.mask; i++)
		if (m->pt.e[i].key1 != 0)
			cdna_iommu_unmap(m->dom, (m->pt.e[i].key1 - 1) * PAGE,
					 PAGE);
	cdna_pagetab_clear(&m->pt);
	m->st.live = 0;
	cdna_iommu_invalidate_domain(m->dom);
}

static void
map_ring_init(struct mq_map *r, struct mqueue *mq, int dir, uint32_t tx_size,
	      uint32_t rx_size, uint32_t map_size)
{
	struct cdna_req_area_idx *ri = mq->req_area;
	struct cdna_cmp_area_idx *ci = mq->cmp_area;

	memset(r, 0, sizeof(*r));
	r->size = map_size;
	r->mask = map_size - 1;
	r->req = cdna_area_map_req(mq->req_area, tx_size, rx_size, map_size, dir);
	r->cmp = cdna_area_map_cmp(mq->cmp_area, tx_size, rx_size, map_size, dir);
	r->req_prod = dir ? &ri->rx_map_prod : &ri->tx_map_prod;
	r->cmp_cons = dir ? &ri->rx_mapc_cons : &ri->tx_mapc_cons;
	r->cmp_prod = dir ? &ci->rx_mapc_prod : &ci->tx_mapc_prod;
	r->req_cons_pub = dir ? &ci->rx_map_cons : &ci->tx_map_cons;
}

void
iomap_queue_init(struct mqueue *mq, uint32_t tx_size, uint32_t rx_size,
		 uint32_t map_size)
{
	map_ring_init(&mq->map[CDNA_DIR_TX], mq, CDNA_DIR_TX, tx_size, rx_size,
		      map_size);
	map_ring_init(&mq->map[CDNA_DIR_RX], mq, CDNA_DIR_RX, tx_size, rx_size,
		      map_size);
}
