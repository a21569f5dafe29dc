/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_cdna's side of the IOMMU mapping strategies (single-use, shared,
 * persistent; cdna_ctrl.h): before a buffer is posted the driver asks the
 * mediator, over the queue direction's map ring, to map it, and waits for
 * the answer, which carries the I/O address to put in the descriptor;
 * after its completion it asks for the unmap and does not wait.
 *
 *   single-use  one MAP and one UNMAP per buffer, every time;
 *   shared      one reference per buffer on each page it spans; only a
 *               page's first reference is a MAP, only its last an UNMAP;
 *   persistent  as shared, but a page stays mapped when its last buffer
 *               completes, for the next one: a cache of at most
 *               cache_max pages, idle pages unmapped when it overflows or
 *               the mediator's quota refuses a MAP.
 *
 * Data path: nothing logs; everything is counted (struct cdna_map_stats).
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "cdna_pmd.h"
#include "pagetab.h"

#define PG_SHIFT	12u
#define PG_SIZE		(1u << PG_SHIFT)
#define UNMAP_COOKIE	UINT32_MAX

/* A page entry's state (pagetab.h). */
enum { PG_PENDING = 1, PG_MAPPED, PG_FAILED };

static struct cdna_page_ent *
pg_find(struct cdna_mapq *mq, uint64_t pfn)
{
	return cdna_pagetab_find(&mq->pt, pfn);
}

static struct cdna_page_ent *
pg_insert(struct cdna_mapq *mq, uint64_t pfn)
{
	struct cdna_page_ent *e = cdna_pagetab_insert(&mq->pt, pfn);

	e->state = PG_PENDING;
	return e;
}

static void
pg_remove(struct cdna_mapq *mq, struct cdna_page_ent *e)
{
	cdna_pagetab_remove(&mq->pt, e);
}

int
cdna_map_setup(struct cdna_mapq *mq, uint32_t mode, int dir, uint32_t ring,
	       uint32_t quota_share, int socket)
{
	memset(mq, 0, sizeof(*mq));
	mq->mode = mode;
	mq->dir = dir;
	if (mode == CDNA_MODE_SINGLE_USE || !cdna_mode_maps(mode))
		return 0;
	/*
	 * Shared: at most every posted buffer's pages. Persistent: the cache,
	 * a few pages per descriptor (an mbuf is about half a page), within
	 * this direction's share of the mediator's quota.
	 */
	mq->cache_max = RTE_MAX(RTE_MIN(4 * ring, quota_share), 64u);
	mq->pt.mask = rte_align32pow2(4 * mq->cache_max) - 1;
	mq->pt.e = rte_zmalloc_socket("cdna_map_pages",
			((size_t)mq->pt.mask + 1) * sizeof(*mq->pt.e), 0, socket);
	return mq->pt.e == NULL ? -ENOMEM : 0;
}

void
cdna_map_release(struct cdna_mapq *mq)
{
	rte_free(mq->pt.e);
	mq->pt.e = NULL;
	mq->req = NULL;
}

void
cdna_map_attach(struct cdna_mapq *mq, void *req_area, const void *cmp_area,
		uint32_t tx_size, uint32_t rx_size, uint32_t map_size)
{
	struct cdna_req_area_idx *ri = req_area;
	const struct cdna_cmp_area_idx *ci = cmp_area;
	int rx = mq->dir == CDNA_DIR_RX;

	mq->req = cdna_area_map_req(req_area, tx_size, rx_size, map_size,
				    mq->dir);
	/* The ring helpers take a writable area; this one is mapped read-only. */
	mq->cmp = cdna_area_map_cmp((void *)(uintptr_t)cmp_area, tx_size,
				    rx_size, map_size, mq->dir);
	mq->req_prod = rx ? &ri->rx_map_prod : &ri->tx_map_prod;
	mq->cmp_cons = rx ? &ri->rx_mapc_cons : &ri->tx_mapc_cons;
	mq->cmp_prod = rx ? &ci->rx_mapc_prod : &ci->tx_mapc_prod;
	mq->size = map_size;
	mq->mask = map_size - 1;
	mq->prod = 0;
	mq->cons = 0;
	mq->pub = 0;
	mq->quiet = 0;
	mq->broken = 0;
	mq->quota_hit = 0;
	mq->hand = 0;
	if (mq->pt.e != NULL)
		cdna_pagetab_clear(&mq->pt);
}

static void
req_write(struct cdna_mapq *mq, uint16_t op, uint64_t addr, uint32_t len,
	  uint32_t cookie)
{
	struct cdna_map_req *r = &mq->req[mq->prod & mq->mask];

	r->addr = addr;
	r->len = len;
	r->cookie = cookie;
	r->op = op;
	r->reserved0 = 0;
	r->reserved1 = 0;
	r->reserved2 = 0;
	mq->prod++;
	if (op == CDNA_MAP_OP_MAP)
		mq->st.map_requests++;
	else
		mq->st.unmap_requests++;
}

/* Publishes the requests written so far. */
void
cdna_map_flush(struct cdna_mapq *mq)
{
	if (mq->pub != mq->prod) {
		mq->pub = mq->prod;
		/* Release: the entries are visible before the new index. */
		cdna_store_release(mq->req_prod, mq->prod);
	}
}

/*
 * Publishes, then waits until every request has its answer and consumes
 * them: an UNMAP's only counts, a MAP's goes to on_map. 0, or -EIO when
 * the mediator stopped answering or answered nonsense; the ring is then
 * broken for good (the port must be restarted).
 */
static int
wait_all(struct cdna_mapq *mq, const int *dead,
	 void (*on_map)(struct cdna_mapq *, const struct cdna_map_cmp *, void *),
	 void *arg)
{
	uint64_t deadline = 0;
	uint32_t got;

	cdna_map_flush(mq);
	if (mq->cons == mq->prod)
		return 0;
	mq->st.waits++;
	while ((got = cdna_load_acquire(mq->cmp_prod)) != mq->prod) {
		if (unlikely(got - mq->cons > mq->prod - mq->cons)) {
			mq->st.bad_answer++;
			mq->broken = 1;
			return -EIO;
		}
		if (deadline == 0)
			deadline = rte_get_timer_cycles() +
				CDNA_MAP_WAIT_S * rte_get_timer_hz();
		if (cdna_is_dead(dead) || rte_get_timer_cycles() > deadline) {
			mq->st.timeouts++;
			mq->broken = 1;
			return -EIO;
		}
		rte_pause();
	}
	for (; mq->cons != mq->prod; mq->cons++) {
		const volatile struct cdna_map_cmp *src =
			&mq->cmp[mq->cons & mq->mask];
		struct cdna_map_cmp c;

		c.iova = src->iova;
		c.cookie = src->cookie;
		c.status = src->status;
		if (c.status != CDNA_ST_OK)
			mq->st.refused++;
		if (c.cookie != UNMAP_COOKIE)
			on_map(mq, &c, arg);
	}
	/* Release: our reads of the answers finish before the slots are reused. */
	cdna_store_release(mq->cmp_cons, mq->cons);
	return 0;
}

static void
on_map_none(struct cdna_mapq *mq, const struct cdna_map_cmp *c, void *arg)
{
	/* A MAP answer nobody waits for: only after a reset, never in order. */
	mq->st.bad_answer++;
}

/* Room for n more requests, waiting for the outstanding ones if need be. */
static int
room_for(struct cdna_mapq *mq, uint32_t n, const int *dead)
{
	if (mq->size - (mq->prod - mq->cons) >= n)
		return 0;
	return wait_all(mq, dead, on_map_none, NULL);
}

/* Persistent: unmaps idle cached pages, all of them or down to a target. */
static void
evict_idle(struct cdna_mapq *mq, uint32_t target, const int *dead)
{
	uint32_t i, scanned;

	for (scanned = 0, i = mq->hand; scanned <= mq->pt.mask &&
	     mq->pt.n > target; scanned++, i = (i + 1) & mq->pt.mask) {
		struct cdna_page_ent *e = &mq->pt.e[i];

		if (e->key1 == 0 || e->refs != 0 || e->state != PG_MAPPED)
			continue;
		if (room_for(mq, 1, dead) != 0)
			return;
		req_write(mq, CDNA_MAP_OP_UNMAP, (e->key1 - 1) << PG_SHIFT,
			  PG_SIZE, UNMAP_COOKIE);
		mq->st.evicted++;
		pg_remove(mq, e);
		/* The slot now holds a later entry of the run: look again. */
		i = (i - 1) & mq->pt.mask;
	}
	mq->hand = i;
}

struct single_use_out {
	uint64_t *iova;
	uint8_t *ok;
	uint32_t n;
};

static void
on_map_single(struct cdna_mapq *mq, const struct cdna_map_cmp *c, void *arg)
{
	struct single_use_out *o = arg;

	if (unlikely(c->cookie >= o->n)) {
		mq->st.bad_answer++;
		return;
	}
	o->ok[c->cookie] = c->status == CDNA_ST_OK;
	o->iova[c->cookie] = c->iova;
}

static void
on_map_page(struct cdna_mapq *mq, const struct cdna_map_cmp *c, void *arg)
{
	struct cdna_page_ent *e;

	/* The cookie is the entry's slot: no entry moves while MAPs wait. */
	if (unlikely(c->cookie > mq->pt.mask || mq->pt.e[c->cookie].key1 == 0 ||
		     mq->pt.e[c->cookie].state != PG_PENDING)) {
		mq->st.bad_answer++;
		return;
	}
	e = &mq->pt.e[c->cookie];
	e->state = c->status == CDNA_ST_OK ? PG_MAPPED : PG_FAILED;
	if (c->status == CDNA_ST_MAP_QUOTA)
		mq->quota_hit = 1;
}

static void
pages_put(struct cdna_mapq *mq, uint64_t addr, uint32_t len)
{
	uint64_t p, last = (addr + len - 1) >> PG_SHIFT;

	for (p = addr >> PG_SHIFT; p <= last; p++) {
		struct cdna_page_ent *e = pg_find(mq, p);

		if (unlikely(e == NULL || e->refs == 0)) {
			mq->st.bad_release++;
			continue;
		}
		if (--e->refs != 0)
			continue;
		if (e->state == PG_MAPPED && mq->mode == CDNA_MODE_PERSISTENT)
			continue;	/* cached for the next buffer */
		if (e->state == PG_MAPPED) {
			if (room_for(mq, 1, mq->dead) != 0)
				return;
			req_write(mq, CDNA_MAP_OP_UNMAP, p << PG_SHIFT, PG_SIZE,
				  UNMAP_COOKIE);
		}
		pg_remove(mq, e);
	}
}

/*
 * One pass of the page strategies over buffers idx[0..n) (all of 0..n when
 * idx is NULL): a reference on every page, a MAP for each page not held
 * yet, one wait, then ok[] and iova[] per buffer (a refused one holds
 * nothing). Returns how many were handled, or UINT32_MAX when the ring
 * broke.
 */
static uint32_t
map_pages(struct cdna_mapq *mq, uint32_t n, const uint16_t *idx,
	  const uint64_t *addr, const uint32_t *len, uint64_t *iova,
	  uint8_t *ok)
{
	uint32_t k, done;

	for (done = 0; done < n; done++) {
		uint32_t b = idx != NULL ? idx[done] : done;
		uint64_t p, first = addr[b] >> PG_SHIFT;
		uint64_t last = (addr[b] + len[b] - 1) >> PG_SHIFT;
		uint32_t fresh = 0;

		for (p = first; p <= last; p++)
			fresh += pg_find(mq, p) == NULL;
		/* Both bounds keep every entry in place until the answers. */
		if (mq->pt.n + fresh > mq->pt.mask / 2 ||
		    mq->size - (mq->prod - mq->cons) < fresh)
			break;
		for (p = first; p <= last; p++) {
			struct cdna_page_ent *e = pg_find(mq, p);

			if (e == NULL) {
				e = pg_insert(mq, p);
				req_write(mq, CDNA_MAP_OP_MAP, p << PG_SHIFT,
					  PG_SIZE, (uint32_t)(e - mq->pt.e));
			} else {
				mq->st.reused++;
			}
			e->refs++;
		}
	}
	if (wait_all(mq, mq->dead, on_map_page, NULL) != 0)
		return UINT32_MAX;
	for (k = 0; k < done; k++) {
		uint32_t b = idx != NULL ? idx[k] : k;
		uint64_t p, last = (addr[b] + len[b] - 1) >> PG_SHIFT;

		ok[b] = 1;
		iova[b] = addr[b];	/* pages are mapped at their own address */
		for (p = addr[b] >> PG_SHIFT; p <= last; p++)
			if (pg_find(mq, p)->state != PG_MAPPED)
				ok[b] = 0;
		if (!ok[b])
			pages_put(mq, addr[b], len[b]);
	}
	return done;
}

static uint32_t map_get(struct cdna_mapq *mq, uint32_t n, const uint64_t *addr,
			const uint32_t *len, uint64_t *iova, uint8_t *ok);

/* The guest's CPU cost of protection (Table 3): the mapping, waits included. */
uint32_t
cdna_map_get(struct cdna_mapq *mq, uint32_t n, const uint64_t *addr,
	     const uint32_t *len, uint64_t *iova, uint8_t *ok)
{
	uint64_t t0 = rte_rdtsc();
	uint32_t done = map_get(mq, n, addr, len, iova, ok);

	mq->st.cycles += rte_rdtsc() - t0;
	return done;
}

static uint32_t
map_get(struct cdna_mapq *mq, uint32_t n, const uint64_t *addr,
	const uint32_t *len, uint64_t *iova, uint8_t *ok)
{
	uint32_t i, done;

	if (unlikely(mq->broken))
		return 0;
	n = RTE_MIN(n, CDNA_MAP_MAX);
	if (mq->mode == CDNA_MODE_SINGLE_USE) {
		struct single_use_out o = { iova, ok, n };

		n = RTE_MIN(n, mq->size);
		if (room_for(mq, n, mq->dead) != 0)
			return 0;
		for (i = 0; i < n; i++) {
			ok[i] = 0;
			req_write(mq, CDNA_MAP_OP_MAP, addr[i], len[i], i);
		}
		return wait_all(mq, mq->dead, on_map_single, &o) == 0 ? n : 0;
	}

	/* Unmaps queued since the last wait: answered now, out of the way. */
	if (mq->size - (mq->prod - mq->cons) < mq->size / 2 &&
	    wait_all(mq, mq->dead, on_map_none, NULL) != 0)
		return 0;
	if (mq->mode == CDNA_MODE_PERSISTENT &&
	    (mq->pt.n > mq->cache_max || mq->quota_hit)) {
		/* The quota refused us: give back everything idle. */
		evict_idle(mq, mq->quota_hit ? 0 : mq->cache_max * 3 / 4,
			   mq->dead);
		mq->quota_hit = 0;
	}
	done = map_pages(mq, n, NULL, addr, len, iova, ok);
	if (done == UINT32_MAX)
		return 0;
	/*
	 * Persistent, and the quota refused a page: give back every idle page
	 * and ask once more for the buffers refused, rather than drop them.
	 */
	if (mq->mode == CDNA_MODE_PERSISTENT && mq->quota_hit) {
		uint16_t again[CDNA_MAP_MAX];
		uint32_t k = 0;

		for (i = 0; i < done; i++)
			if (!ok[i])
				again[k++] = (uint16_t)i;
		evict_idle(mq, 0, mq->dead);
		mq->quota_hit = 0;
		if (k != 0 && map_pages(mq, k, again, addr, len, iova, ok) ==
		    UINT32_MAX)
			return 0;
	}
	return done;
}

void
cdna_map_put(struct cdna_mapq *mq, uint64_t addr, uint32_t len, uint64_t iova)
{
	uint64_t t0;

	if (mq->quiet || mq->broken)
		return;
	t0 = rte_rdtsc();
	if (mq->mode == CDNA_MODE_SINGLE_USE) {
		if (room_for(mq, 1, mq->dead) == 0)
			req_write(mq, CDNA_MAP_OP_UNMAP, iova, len, UNMAP_COOKIE);
	} else {
		pages_put(mq, addr, len);
	}
	mq->st.cycles += rte_rdtsc() - t0;
}
