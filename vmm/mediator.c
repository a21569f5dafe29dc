/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mediator's data path, per guest queue and direction:
 *   validate: copy each request out of the guest's ring once, check the copy;
 *   post:     claim the range, write the NIC descriptor, ring the doorbell;
 *   reclaim:  on NIC status, release the claim, scrub the descriptor slot,
 *             write the completion into the guest's read-only ring.
 * Rejected requests complete at once with their reason. Nothing here logs
 * except the one-time quarantine of a queue whose indices are impossible.
 *
 * Two paths share these steps. The batch path (fast_run) takes the run of
 * common requests at the head of a ring, each recognised, checked and
 * claimed in a few instructions (cdna_validate_simple, the fused claim
 * forms); the first other request goes to the full path (tx_full_packet,
 * rx_full_req: cdna_validate_req and the chain rules), which says why it
 * is refused. Both read each request once, and the batch path accepts
 * nothing the full path would refuse: tests/fuzz/fuzz_validate.c checks
 * its request test against the full rules, tests/fuzz/fuzz_mediator.c
 * this whole file against a model of a fuzzed guest's requests.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_atomic.h>
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_prefetch.h>

#include "cdna_ring.h"
#include "claims.h"
#include "guest_mem.h"
#include "validate.h"
#include "vmm.h"

static inline void
cmp_write(struct mq_dir *d, uint32_t cookie, uint32_t len, uint16_t st)
{
	struct cdna_cmp *c = &d->cmp[d->cmp_prod_v & d->mask];

	c->cookie = cookie;
	c->len = len;
	c->status = st;
	c->flags = 0;
	c->reserved = 0;
	d->cmp_prod_v++;
}

static void __rte_noinline
quarantine(struct vmm *v, struct mqueue *mq, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	mq->quarantined = 1;
	mediator_poll_stale(v);
	mq->g->ctr.ring_corrupt++;
	pthread_mutex_lock(&v->lock);
	snprintf(mq->g->quarantine, sizeof(mq->g->quarantine),
		 "queue %u: %.110s", mq->qid, why);
	pthread_mutex_unlock(&v->lock);
	vlog_uid(mq->g->uid, "guest %u queue %u quarantined: ring_corrupt (%s)",
		 mq->g->id, mq->qid, why);
	mediator_queue_drain(v, mq);
}

/* The four indices a guest writes for a queue, as read once this round. */
struct mq_guest_idx {
	uint32_t rx_prod, rx_gcons, tx_prod, tx_gcons;
};

/*
 * Reads them, all four at once, so that the misses on lines the guest's
 * CPU wrote overlap instead of one direction's waiting for the other's
 * batch. The acquires pair with the guest's releases: its entries up to
 * each producer are visible. Returns whether all four are where the
 * mediator last saw them: then dir_budget would return 0 for each
 * direction without a change (both bounds hold, nothing to take), and
 * the queue has nothing to do this round.
 */
static inline __rte_always_inline int
mq_read_idx(const struct mqueue *mq, struct mq_guest_idx *x)
{
	x->rx_prod = cdna_load_acquire(mq->rx.req_prod);
	x->rx_gcons = cdna_load_acquire(mq->rx.cmp_cons);
	x->tx_prod = cdna_load_acquire(mq->tx.req_prod);
	x->tx_gcons = cdna_load_acquire(mq->tx.cmp_cons);
	return ((x->rx_prod ^ mq->rx.req_cons) | (x->rx_gcons ^ mq->rx.cmp_cons_seen) |
		(x->tx_prod ^ mq->tx.req_cons) | (x->tx_gcons ^ mq->tx.cmp_cons_seen)) == 0;
}

/*
 * Bounds direction d's two guest indices, as read once (mq_read_idx).
 * Returns how many requests may be consumed now, or -1 (queue quarantined).
 */
static inline __rte_always_inline int64_t
dir_budget(struct vmm *v, struct mqueue *mq, struct mq_dir *d, const char *dir,
	   uint32_t prod, uint32_t gcons)
{
	/* Neither moved (an idle queue): both bounds hold, nothing to take. */
	if (prod == d->req_cons && gcons == d->cmp_cons_seen)
		return 0;
	if (unlikely(prod - d->req_cons > d->size)) {
		quarantine(v, mq, "%s_req.prod %u is %u entries past consumer %u; ring holds %u",
			   dir, prod, prod - d->req_cons, d->req_cons, d->size);
		return -1;
	}
	/* The guest may only move its completion consumer forward, up to cmp_prod_v. */
	if (unlikely(gcons - d->cmp_cons_seen > d->cmp_prod_v - d->cmp_cons_seen)) {
		quarantine(v, mq, "%s_cmp.cons %u outside [%u, %u]", dir, gcons,
			   d->cmp_cons_seen, d->cmp_prod_v);
		return -1;
	}
	d->cmp_cons_seen = gcons;
	/* Consume only what can still get a completion: req_cons - gcons <= size. */
	return RTE_MIN(prod - d->req_cons, d->size - (d->req_cons - gcons));
}

/*
 * The guest's CPU wrote the requests: their ring lines miss here. Asking
 * for a batch's lines at once lets the misses overlap instead of stalling
 * the loop entry by entry. A prefetch never faults, and this is our own
 * mapping of the ring.
 */
static inline void
req_prefetch(const struct mq_dir *d, uint32_t n)
{
	const uint32_t at = d->req_cons & d->mask;
	/* The entries up to the ring's end, then the rest from its start. */
	const uint32_t head = RTE_MIN(n, d->mask + 1 - at);
	const char *end = (const char *)&d->req[at + head];
	/* From the line the first entry is in: it may start mid-line. */
	const char *p = RTE_PTR_ALIGN_FLOOR((const char *)&d->req[at], RTE_CACHE_LINE_SIZE);

	for (; p < end; p += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(p);
	p = (const char *)d->req;
	end = p + (size_t)(n - head) * sizeof(struct cdna_req);
	for (; p < end; p += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(p);
}

/* Publishes only what moved: an idle queue dirties no shared line. */
static inline void
dir_publish(struct mq_dir *d, uint32_t old_tail, uint32_t old_cmp,
	    uint32_t old_cons)
{
	/* Descriptors before the doorbell; completions before their index. */
	if (d->nic_tail != old_tail)
		cdna_store_release(d->nic->tail, d->nic_tail);
	if (d->cmp_prod_v != old_cmp)
		cdna_store_release(d->cmp_prod, d->cmp_prod_v);
	if (d->req_cons != old_cons)
		cdna_store_release(d->req_cons_pub, d->req_cons);
}

/* Rejects a chain's claims taken so far (validation failed midway). */
static void
tx_unclaim(struct guest *g, struct cdna_dma_ref *ref, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		cdna_claims_drop_tx(ref[i].reg->claims, ref[i].off, ref[i].len);
		g->claimed_lines -= cdna_claims_span(ref[i].off, ref[i].len);
	}
}

/*
 * Copies one request out of the guest's ring: four 8-byte loads, each done
 * once (the guest may rewrite the entry meanwhile); only the copy is read
 * after. The same as a struct copy behind a compiler barrier, which would
 * make the copy go through the stack.
 */
typedef uint64_t __attribute__((may_alias)) req_word;	/* reads a struct cdna_req */

static inline void
req_read_once(struct cdna_req *dst, const struct cdna_req *src)
{
	const volatile req_word *w = (const volatile req_word *)(const void *)src;
	uint64_t v[4];

	v[0] = w[0];
	v[1] = w[1];
	v[2] = w[2];
	v[3] = w[3];
	memcpy(dst, v, sizeof(v));
}

/*
 * Writes a validated request's NIC descriptor and its slot record (desc
 * and sl point at them; tag is the descriptor's number, nic_tail when
 * posted: the slot and its lap, so that a status the NIC left in that
 * slot on an earlier lap never matches). The caller counts the
 * in-flight DMA (region, guest) for its whole batch.
 */
_Static_assert(offsetof(struct cdna_nic_desc, reserved2) ==
	       offsetof(struct cdna_nic_desc, flags) + 8, "flags..reserved1 is one word");
/* ...whose low two bytes, first in memory, are flags. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "flags in the word's low bytes");

static inline void
desc_write(struct cdna_nic_desc *desc, struct mq_slot *sl, uint32_t tag,
	   struct cdna_region *reg, uint8_t *host, uint64_t off, uint32_t len,
	   uint32_t cookie, uint16_t flags)
{
	sl->reg = reg;
	sl->off = off;
	sl->len = len;
	sl->cookie = cookie;
	desc->addr = (uint64_t)(uintptr_t)(host + off); /* "host" address stage */
	desc->len = len;
	desc->tag = tag;
	/* flags, reserved0 and reserved1: the 8 bytes before reserved2, one store. */
	memcpy((uint8_t *)desc + offsetof(struct cdna_nic_desc, flags),
	       &(uint64_t){ flags }, sizeof(uint64_t));
	desc->reserved2 = 0;
}

static inline void
post_desc(struct vmm *v, struct mqueue *mq, struct mq_dir *d,
	  const struct cdna_dma_ref *ref, uint32_t cookie, uint16_t flags,
	  int dir)
{
	uint32_t slot = d->nic_tail & d->mask;

	desc_write(&d->nic->desc[slot], &d->slots[slot], d->nic_tail, ref->reg,
		   ref->reg->host, ref->off, ref->len, cookie, flags);
	ref->reg->inflight++;
	mq->g->inflight++;
	if (unlikely(v->opt.audit))
		audit_post((uint32_t)mq->g->nic_ctx, ref->reg->host + ref->off,
			   ref->len, dir);
	d->nic_tail++;
}

/*
 * Claims the lines of [off, off+len) for a device access in direction dir:
 * 1, or 0 if a claim conflicts. A TX frame inside one line, the usual
 * case, costs a byte's test and store right here; a range of more lines
 * adds the lines past its first to *extra (the caller counts one a
 * request), so that the loop carries no sum.
 */
static inline __rte_always_inline int
fast_claim(uint8_t *claims, uint64_t off, uint32_t len, int dir,
	   uint64_t *extra)
{
	uint64_t lo = off >> CDNA_CLAIM_SHIFT, span;

	if (dir == CDNA_DIR_TX &&
	    likely(lo == (off + len - 1) >> CDNA_CLAIM_SHIFT))
		return cdna_claims_take_tx_one(claims + lo);
	/* The usual RX buffer: one block, tested and set right here. */
	if (dir == CDNA_DIR_RX && likely(((off + len - 1) >> CDNA_CLAIM_SHIFT) - lo ==
					 CDNA_CLAIM_BLOCK - 1)) {
		if (!cdna_claims_block_take_rx(claims + lo))
			return 0;
		*extra += CDNA_CLAIM_BLOCK - 1;
		return 1;
	}
	span = dir == CDNA_DIR_RX ? cdna_claims_try_take_rx(claims, off, len) :
		cdna_claims_try_take_tx(claims, off, len);
	*extra += span - (span != 0);
	return span != 0;
}

/* What a span of the batch path hands back besides the requests posted. */
struct fast_acc {
	uint64_t lines;		/* claim lines taken */
	struct cdna_req stop;	/* copy of the request it stopped at */
};

/* What an unused way holds: no address is inside it. */
static struct cdna_region fast_none;

/*
 * The region of addr made w->reg[0]: found among the ways past the second
 * (the span tries that one itself) or, failing that, in the table, the
 * least recently used way then dropped. 1, or 0 when no region holds addr
 * or its region cannot take the batch path's DMA in direction dir (the
 * full path then says why). Out of line: a change of region is the
 * uncommon case, and the span's loop keeps its registers.
 */
static __rte_noinline int
fast_ways_take(struct cdna_fast_ways *w, const struct cdna_region_table *rt,
	       uint64_t addr, int dir)
{
	struct cdna_region **const e = w->reg;
	struct cdna_region *r;

	/* Written out for four ways: a loop here costs a memmove call. */
	if (addr - e[2]->gaddr < e[2]->size) {
		r = e[2];
	} else {
		if (addr - e[3]->gaddr < e[3]->size) {
			r = e[3];
		} else {
			r = cdna_rt_find(rt, addr);
			if (r == NULL || !cdna_region_usable(r, dir))
				return 0;
		}
		e[3] = e[2];
	}
	e[2] = e[1];
	e[1] = e[0];
	e[0] = r;
	return 1;
}
_Static_assert(CDNA_FAST_WAYS == 4, "fast_ways_take is written for four ways");

/* w emptied when the table has changed since its ways were filled, or never filled. */
static inline void
fast_ways_check(struct cdna_fast_ways *w, const struct cdna_region_table *rt)
{
	uint32_t j;

	if (unlikely(w->gen != rt->gen || w->reg[0] == NULL)) {
		for (j = 0; j < CDNA_FAST_WAYS; j++)
			w->reg[j] = &fast_none;
		w->gen = rt->gen;
	}
}

/*
 * The common requests among n > 0 entries from ring[0] on, posted into
 * desc and slots as descriptors number first on (their tags), none of the
 * three wrapping (the caller splits at the ends). Returns the requests
 * posted; fewer than n means it stopped at another request, whose copy is
 * in acc->stop. A request in another region than w->reg[0]'s makes that
 * region the first way and the span goes on there, from the request's
 * copy. Each region's in-flight count is added once per run of requests
 * in it. Each field of the region is a local: the claim map's byte stores
 * would otherwise make the compiler reload them after each one.
 */
static inline __rte_always_inline uint32_t
fast_span(const struct cdna_req *ring, struct cdna_nic_desc *desc,
	  struct mq_slot *slots, uint32_t first, uint32_t n, int dir,
	  int audit, uint32_t ctx, struct cdna_fast_ways *w,
	  const struct cdna_region_table *rt, struct fast_acc *acc)
{
	const uint32_t end = first + n;
	uint32_t tag = first, run;	/* run: the first tag in this region */
	struct cdna_req r;
	uint64_t off, lines = 0;	/* lines: claim lines past each request's first */

	req_read_once(&r, ring);
	for (;;) {
		/* A run in one region: the single-region loop, as tight as before. */
		struct cdna_region *const reg = w->reg[0];
		const struct cdna_fast_region f = {
			reg, reg->gaddr, reg->size, reg->host, reg->claims
		};
		uint8_t *const host = f.host, *const claims = f.claims;
		int other = 0;

		/* r: the copy of the request at tag, not yet posted. */
		for (run = tag;;) {
			if (unlikely(!cdna_validate_simple(&r, &f, dir, &off))) {
				/* Outside f's region, or not a common request. */
				other = r.addr - f.gaddr >= f.size;
				break;
			}
			if (unlikely(!fast_claim(claims, off, r.len, dir, &lines)))
				break;
			desc_write(desc, slots, tag, reg, host, off, r.len, r.cookie, 0);
			if (audit)
				audit_post(ctx, host + off, r.len, dir);
			tag++;
			if (tag == end)
				break;
			ring++;
			desc++;
			slots++;
			req_read_once(&r, ring);
		}
		if (tag != run)
			reg->inflight += tag - run;
		if (tag == end)
			break;
		/* r refused in its own region (or a claim conflict): the full path's. */
		if (!other) {
			acc->stop = r;
			break;
		}
		/*
		 * r in another region: the span goes on there, r checked
		 * again against it. Buffers often go back and forth between
		 * two regions: the way before is tried right here. Once r's
		 * region is the first way, r is in it: a second refusal
		 * stops the span.
		 */
		if (r.addr - w->reg[1]->gaddr < w->reg[1]->size) {
			w->reg[0] = w->reg[1];
			w->reg[1] = reg;
		} else if (!fast_ways_take(w, rt, r.addr, dir)) {
			acc->stop = r;
			break;
		}
	}
	acc->lines += lines + (tag - first);
	return tag - first;
}

/*
 * One copy per direction, out of line so that its loop has the registers
 * to itself; the audit setting picks one of two inlined copies, so the
 * loop carries no test of it.
 */
static __rte_noinline uint32_t
fast_span_tx(const struct cdna_req *ring, struct cdna_nic_desc *desc,
	     struct mq_slot *slots, uint32_t first, uint32_t n, uint32_t ctx,
	     struct cdna_fast_ways *w, const struct cdna_region_table *rt,
	     struct fast_acc *acc)
{
	return ctx != UINT32_MAX ?
		fast_span(ring, desc, slots, first, n, CDNA_DIR_TX, 1, ctx, w, rt, acc) :
		fast_span(ring, desc, slots, first, n, CDNA_DIR_TX, 0, 0, w, rt, acc);
}

static __rte_noinline uint32_t
fast_span_rx(const struct cdna_req *ring, struct cdna_nic_desc *desc,
	     struct mq_slot *slots, uint32_t first, uint32_t n, uint32_t ctx,
	     struct cdna_fast_ways *w, const struct cdna_region_table *rt,
	     struct fast_acc *acc)
{
	return ctx != UINT32_MAX ?
		fast_span(ring, desc, slots, first, n, CDNA_DIR_RX, 1, ctx, w, rt, acc) :
		fast_span(ring, desc, slots, first, n, CDNA_DIR_RX, 0, 0, w, rt, acc);
}

/*
 * The batch path: the run of common requests (cdna_validate_simple) at the
 * head of d's request ring, at most max, each claimed and posted, the ring
 * walked in spans that do not wrap, in the regions d->ways holds or takes
 * on. Stops at the first other request and hands its copy to the caller
 * in *stop, so that the full path goes on from that copy and the entry is
 * still read once. Returns the requests posted; *stopped says whether it
 * stopped at such a request.
 */
static inline __rte_always_inline uint32_t
fast_run(struct vmm *v, struct mqueue *mq, struct mq_dir *d, int dir,
	 uint32_t max, struct cdna_req *stop, int *stopped)
{
	const uint32_t mask = d->mask, cons = d->req_cons, tail = d->nic_tail;
	/* UINT32_MAX: no audit (a NIC context number is far smaller). */
	const uint32_t ctx = unlikely(v->opt.audit) ?
		(uint32_t)mq->g->nic_ctx : UINT32_MAX;
	const struct cdna_region_table *rt = &mq->g->rt;
	struct fast_acc acc = { .lines = 0 };
	uint32_t k = 0;

	while (k < max) {
		uint32_t i = (cons + k) & mask, slot = (tail + k) & mask;
		uint32_t n = RTE_MIN(max - k, mask + 1 - RTE_MAX(i, slot));
		uint32_t got = (dir == CDNA_DIR_TX ? fast_span_tx : fast_span_rx)
			(&d->req[i], &d->nic->desc[slot], &d->slots[slot], tail + k,
			 n, ctx, &d->ways, rt, &acc);

		k += got;
		if (got != n) {
			*stop = acc.stop;
			*stopped = 1;
			break;
		}
	}
	if (k != 0) {
		mq->g->inflight += k;
		mq->g->claimed_lines += acc.lines;
		d->req_cons = cons + k;
		d->nic_tail = tail + k;
	}
	return k;
}

static __rte_noinline uint32_t
fast_run_tx(struct vmm *v, struct mqueue *mq, uint32_t max,
	    struct cdna_req *stop, int *stopped)
{
	return fast_run(v, mq, &mq->tx, CDNA_DIR_TX, max, stop, stopped);
}

static __rte_noinline uint32_t
fast_run_rx(struct vmm *v, struct mqueue *mq, uint32_t max,
	    struct cdna_req *stop, int *stopped)
{
	return fast_run(v, mq, &mq->rx, CDNA_DIR_RX, max, stop, stopped);
}

/*
 * The full path for one TX packet whose first segment's copy is first:
 * copies the rest of its chain out of shared memory, checks each request
 * and the chain, posts or rejects it. Returns the requests consumed, 0 if
 * the chain is not fully posted yet (nothing consumed; it is read again
 * next time).
 */
static uint32_t
tx_full_packet(struct vmm *v, struct mqueue *mq, struct mq_dir *d,
	       const struct cdna_req *first, int64_t budget)
{
	struct guest *g = mq->g;
	struct cdna_req seg[CDNA_MAX_SEGS + 1];
	struct cdna_dma_ref ref[CDNA_MAX_SEGS + 1];
	uint32_t n = 1, i;
	uint16_t st;

	seg[0] = *first;
	while ((seg[n - 1].flags & CDNA_REQ_F_MORE) && n <= CDNA_MAX_SEGS) {
		if (n == budget)
			return 0;
		seg[n] = d->req[(d->req_cons + n) & d->mask];
		/* From here on only the private copy is read. */
		rte_compiler_barrier();
		n++;
	}

	/*
	 * Each request's own faults first, claimed as it passes so a later
	 * segment sees it (n <= CDNA_MAX_SEGS + 1 = RTE_DIM(ref)), then the
	 * rules of the chain as a whole.
	 */
	st = CDNA_ST_OK;
	i = 0;
	while (st == CDNA_ST_OK && i < n) {
		st = cdna_validate_req_hinted(&g->rt, &seg[i], CDNA_DIR_TX,
					      &ref[i], &d->hint);
		if (st != CDNA_ST_OK)
			break;
		cdna_claims_take_tx(ref[i].reg->claims, ref[i].off, ref[i].len);
		g->claimed_lines += cdna_claims_span(ref[i].off, ref[i].len);
		i++;
	}
	if (st == CDNA_ST_OK)
		st = cdna_validate_chain(seg, n);	/* i == n: all claimed */
	if (unlikely(st != CDNA_ST_OK)) {
		/* A bad segment rejects the whole packet. */
		tx_unclaim(g, ref, i);
		for (i = 0; i < n; i++)
			cmp_write(d, seg[i].cookie, 0, st);
		g->ctr.reject[st]++;
		/*
		 * The rest of an overlong chain is rejected as it comes,
		 * whichever fault rejected its first CDNA_MAX_SEGS + 1: the
		 * gather stops there with MORE still set only when overlong.
		 */
		d->skip_chain = (seg[n - 1].flags & CDNA_REQ_F_MORE) != 0;
	} else {
		for (i = 0; i < n; i++)
			post_desc(v, mq, d, &ref[i], seg[i].cookie,
				  i + 1 < n ? CDNA_DESC_F_MORE : 0, CDNA_DIR_TX);
	}
	d->req_cons += n;
	return n;
}

static unsigned int
mediate_tx(struct vmm *v, struct mqueue *mq, uint32_t budget)
{
	struct mq_dir *d = &mq->tx;
	uint32_t old_tail = d->nic_tail, old_cmp = d->cmp_prod_v;
	uint32_t old_cons = d->req_cons;
	unsigned int pkts = 0;
	struct cdna_req stop = { 0 };
	uint32_t n;

	req_prefetch(d, RTE_MIN(budget, v->opt.burst));
	fast_ways_check(&d->ways, &mq->g->rt);
	while (pkts < v->opt.burst && budget > 0) {
		int stopped = 0;

		if (unlikely(d->skip_chain)) {
			/*
			 * The tail of an overlong chain, up to and including
			 * its last segment, wherever the guest's publishes cut
			 * it: refused segment by segment, never sent as a
			 * frame of its own. Bounded by budget.
			 */
			struct cdna_req e = d->req[d->req_cons & d->mask];

			rte_compiler_barrier();	/* only the copy is read */
			cmp_write(d, e.cookie, 0, CDNA_ST_BAD_CHAIN);
			d->skip_chain = (e.flags & CDNA_REQ_F_MORE) != 0;
			d->req_cons++;
			budget--;
			continue;
		}
		/* One-segment packets: one request each. */
		n = fast_run_tx(v, mq, RTE_MIN(v->opt.burst - pkts, budget),
				&stop, &stopped);
		pkts += n;
		budget -= n;
		if (!stopped)
			break;
		n = tx_full_packet(v, mq, d, &stop, budget);
		if (n == 0)
			break;	/* chain not fully posted yet */
		budget -= n;
		pkts++;
	}
	dir_publish(d, old_tail, old_cmp, old_cons);
	return pkts;
}

/* The full path for one RX request (its copy): checked, posted or rejected. */
static void
rx_full_req(struct vmm *v, struct mqueue *mq, struct mq_dir *d,
	    const struct cdna_req *req)
{
	struct guest *g = mq->g;
	struct cdna_dma_ref ref;
	uint16_t st;

	st = cdna_validate_req_hinted(&g->rt, req, CDNA_DIR_RX, &ref, &d->hint);
	if (unlikely(st != CDNA_ST_OK)) {
		cmp_write(d, req->cookie, 0, st);
		g->ctr.reject[st]++;
	} else {
		cdna_claims_take_rx(ref.reg->claims, ref.off, ref.len);
		g->claimed_lines += cdna_claims_span(ref.off, ref.len);
		post_desc(v, mq, d, &ref, req->cookie, 0, CDNA_DIR_RX);
	}
	d->req_cons++;
}

static unsigned int
mediate_rx(struct vmm *v, struct mqueue *mq, uint32_t budget)
{
	struct mq_dir *d = &mq->rx;
	uint32_t old_tail = d->nic_tail, old_cmp = d->cmp_prod_v;
	uint32_t old_cons = d->req_cons;
	struct cdna_req stop = { 0 };
	uint32_t k = 0, n;

	if (budget > v->opt.burst)
		budget = v->opt.burst;
	req_prefetch(d, budget);
	fast_ways_check(&d->ways, &mq->g->rt);
	while (k < budget) {
		int stopped = 0;

		n = fast_run_rx(v, mq, budget - k, &stop, &stopped);
		k += n;
		if (!stopped)
			break;
		rx_full_req(v, mq, d, &stop);
		k++;
	}
	dir_publish(d, old_tail, old_cmp, old_cons);
	return k;
}

/*
 * Releases the claim of a completed descriptor. A TX frame inside one line
 * costs a byte's test and store right here; a count already at 0 (or an
 * RX mark) never moves. As fast_claim, a range of more lines adds the
 * lines past its first to *extra.
 */
static inline __rte_always_inline void
fast_unclaim(uint8_t *claims, uint64_t off, uint32_t len, int is_rx,
	     uint64_t *extra)
{
	uint64_t lo = off >> CDNA_CLAIM_SHIFT, hi = (off + len - 1) >> CDNA_CLAIM_SHIFT;

	if (!is_rx && likely(lo == hi)) {
		cdna_claims_dec_tx(claims + lo);
		return;
	}
	if (is_rx && likely(hi - lo == CDNA_CLAIM_BLOCK - 1) &&
	    cdna_claims_block_put_rx(claims + lo)) {
		*extra += CDNA_CLAIM_BLOCK - 1;
		return;
	}
	*extra += (is_rx ? cdna_claims_put_rx(claims, off, len) :
		   cdna_claims_put_tx(claims, off, len)) - 1;
}

/* Gives back n in-flight descriptors of r; a dying region retires at 0. */
static inline void
region_put(struct guest *g, struct cdna_region *r, uint64_t n)
{
	if (r == NULL)
		return;
	r->inflight -= n;
	if (r->inflight == 0 && unlikely(r->dying))
		guest_mem_dma_done(g, r);
}

/* What a reclaim pass carries from span to span. */
struct reclaim_acc {
	struct cdna_region *run;	/* region of the current run of slots */
	uint64_t run_n;			/* slots of that run */
	uint64_t lines;			/* claim lines dropped past each first one */
};

/*
 * Reclaims n completed descriptors, number first on (their tags), none
 * wrapping in any of the four rings (the caller splits at the ends), so
 * that each ring is walked by one base and one index.
 */
static inline __rte_always_inline void
reclaim_span(struct guest *g, const struct cdna_nic_status *status,
	     struct mq_slot *slots, struct cdna_nic_desc *desc,
	     struct cdna_cmp *cmp, uint32_t first, uint32_t n, int is_rx,
	     int audit, int trust, struct reclaim_acc *acc)
{
	struct cdna_region *run = acc->run;
	uint64_t run_n = acc->run_n;
	uint32_t j;

	for (j = 0; j < n; j++) {
		/* Untrusted: no status read, every descriptor a DMA fault. */
		const struct cdna_nic_status s = trust ? status[j] :
			(struct cdna_nic_status){ .status = CDNA_ST_DMA_FAULT };
		const struct mq_slot sl = slots[j];
		uint16_t st = s.status;
		uint32_t len;

		/* The usual completion: the tag posted, OK, in bounds. */
		if (likely(trust && s.tag == first + j && st == CDNA_ST_OK &&
			   (!is_rx || s.len <= sl.len))) {
			len = is_rx ? s.len : sl.len;
		} else if (!trust) {
			len = 0;
			g->ctr.reject[st]++;
		} else {
			len = 0;
			if (s.tag != first + j || st >= CDNA_ST_COUNT ||
			    st == CDNA_ST_OK) {
				/* Not what was posted: trust only our own record. */
				g->ctr.nic_bad_status++;
				st = CDNA_ST_DMA_FAULT;
			}
			g->ctr.reject[st]++;
		}
		fast_unclaim(sl.reg->claims, sl.off, sl.len, is_rx, &acc->lines);
		if (audit)
			audit_complete((uint32_t)g->nic_ctx, sl.reg->host + sl.off,
				       is_rx ? CDNA_DIR_RX : CDNA_DIR_TX);
		if (unlikely(sl.reg != run)) {
			region_put(g, run, run_n);
			run = sl.reg;
			run_n = 0;
		}
		run_n++;
		/*
		 * Single use: the slot is re-armed only by a new post. The
		 * slot record is the mediator's own and read only for a
		 * posted descriptor (reclaim_dir stops at the last one), so
		 * only the NIC's copy needs scrubbing.
		 */
		memset(&desc[j], 0, sizeof(desc[j]));
		cmp[j] = (struct cdna_cmp){ .cookie = sl.cookie, .len = len,
					    .status = st };
	}
	acc->run = run;
	acc->run_n = run_n;
}

static unsigned int nic_overrun(struct vmm *v, struct mqueue *mq,
				struct mq_dir *d, int is_rx, uint32_t nic_sp);

/*
 * Everything the NIC completed on d, as a batch: the in-flight counts given
 * back once per run of slots in one region (every claim of the run is
 * dropped before its region may retire). audit is a constant in each
 * instance, so the loop without it carries no test. Untrusted (trust 0,
 * from nic_overrun only, the NIC's queue stopped): every descriptor posted
 * and not reclaimed, from the mediator's own records, none of the NIC's
 * statuses read.
 */
static inline __rte_always_inline unsigned int
reclaim_dir(struct vmm *v, struct mqueue *mq, struct mq_dir *d, int is_rx,
	    int audit, int trust)
{
	struct guest *g = mq->g;
	struct cdna_nic_ring *r = d->nic;
	/* Pairs with the NIC's release: status entries up to sp are written. */
	const uint32_t nic_sp = cdna_load_acquire(r->st_prod);
	uint32_t sc = r->st_cons.val;
	/* The NIC completes only what was posted, and in order. */
	const uint32_t posted = d->nic_tail - sc;
	const uint32_t n = trust ? nic_sp - sc : posted;
	const uint32_t sp = sc + n;
	/* One mask for all four rings: the NIC's were made d->size long. */
	const uint32_t mask = d->mask;
	/* The completion ring runs a fixed distance ahead of the status ring. */
	const uint32_t cdelta = d->cmp_prod_v - sc;
	struct reclaim_acc acc = { NULL, 0, 0 };

	RTE_ASSERT(r->mask == mask);
	if (trust && unlikely(n > posted || mq->nic_lost))
		return nic_overrun(v, mq, d, is_rx, nic_sp);
	if (n == 0)
		return 0;
	while (sc != sp) {
		uint32_t slot = sc & mask, c = (sc + cdelta) & mask;
		uint32_t k = RTE_MIN(sp - sc, mask + 1 - RTE_MAX(slot, c));

		reclaim_span(g, &r->status[slot], &d->slots[slot],
			     &r->desc[slot], &d->cmp[c], sc, k, is_rx, audit,
			     trust, &acc);
		sc += k;
	}
	region_put(g, acc.run, acc.run_n);
	/* Counted here, so that a drain's (a quarantine's) completions count too. */
	v->cost.completions += n;
	g->inflight -= n;
	g->claimed_lines -= acc.lines + n;	/* one a descriptor, and the extra ones */
	d->cmp_prod_v = sc + cdelta;
	/* Status slots are free again once the index says so. */
	cdna_store_release(&r->st_cons, sc);
	cdna_store_release(d->cmp_prod, d->cmp_prod_v);
	return n;
}

/*
 * The NIC's status index is past the descriptors posted (or behind its
 * consumer): the NIC and the mediator no longer agree on the ring, and no
 * status of it can be believed, not even those before the index (the
 * statuses there may be anything the NIC left, its index being wrong). The
 * first time: counted, and the queue quarantined, which stops the NIC's
 * queue and drains it; that drain comes back here, and every descriptor
 * posted completes as a DMA fault, its claims released from the
 * mediator's own record. Returns the descriptors so completed.
 */
static unsigned int __rte_noinline
nic_overrun(struct vmm *v, struct mqueue *mq, struct mq_dir *d, int is_rx,
	    uint32_t nic_sp)
{
	if (!mq->nic_lost) {
		mq->nic_lost = 1;
		mq->g->ctr.nic_bad_status++;
		if (!mq->quarantined) {
			quarantine(v, mq, "%s NIC status index %u is outside the %u descriptors posted from %u",
				   is_rx ? "rx" : "tx", nic_sp,
				   d->nic_tail - d->nic->st_cons.val,
				   d->nic->st_cons.val);
			return 0;	/* its drain completed them */
		}
	}
	return reclaim_dir(v, mq, d, is_rx, v->opt.audit, 0);
}

static __rte_noinline unsigned int
reclaim_tx(struct vmm *v, struct mqueue *mq)
{
	return v->opt.audit ? reclaim_dir(v, mq, &mq->tx, 0, 1, 1) :
		reclaim_dir(v, mq, &mq->tx, 0, 0, 1);
}

static __rte_noinline unsigned int
reclaim_rx(struct vmm *v, struct mqueue *mq)
{
	return v->opt.audit ? reclaim_dir(v, mq, &mq->rx, 1, 1, 1) :
		reclaim_dir(v, mq, &mq->rx, 1, 0, 1);
}

unsigned int
mediator_reclaim(struct vmm *v, struct mqueue *mq)
{
	return reclaim_tx(v, mq) + reclaim_rx(v, mq);
}

void
mediator_queue_drain(struct vmm *v, struct mqueue *mq)
{
	struct guest *g = mq->g;

	if (!mq->created)
		return;
	cdna_nic_queue_flush(v->nic, (uint32_t)g->nic_ctx, mq->qid);
	if (mq_mediated(mq))
		mediator_reclaim(v, mq);
}

int
mediator_init(struct vmm *v)
{
	struct mqueue **q = calloc((size_t)v->opt.max_guests * CDNA_MAX_QUEUES,
				   sizeof(*q));
	struct guest **s = calloc(v->opt.max_guests, sizeof(*s));

	if (q == NULL || s == NULL) {
		free(q);
		free(s);
		return -ENOMEM;
	}
	mediator_fini(v);
	v->poll_q = q;
	v->poll_serve = s;
	mediator_poll_stale(v);
	return 0;
}

void
mediator_fini(struct vmm *v)
{
	free(v->poll_q);
	free(v->poll_serve);
	v->poll_q = NULL;
	v->poll_serve = NULL;
	v->nb_poll_q = 0;
	v->nb_poll_serve = 0;
}

/*
 * The lists anew from the guest table, in its order: each guest whose
 * strategy serves requests (map requests come before START too: RX
 * buffers are posted first), and each live queue of a started mediated
 * guest.
 */
static void __rte_noinline
poll_lists_rebuild(struct vmm *v)
{
	uint32_t i, nq = 0, ns = 0;
	uint16_t q;

	for (i = 0; i < v->opt.max_guests; i++) {
		struct guest *g = v->guests[i];

		if (g == NULL)
			continue;
		if (g->strat->serve != NULL) {
			v->poll_serve[ns++] = g;
			continue;
		}
		if (!g->started || !g->strat->mediated)
			continue;
		for (q = 0; q < g->nb_queues; q++)
			if (g->q[q].created && !g->q[q].quarantined)
				v->poll_q[nq++] = &g->q[q];
	}
	v->nb_poll_q = nq;
	v->nb_poll_serve = ns;
	v->poll_stale = 0;
}

/*
 * One round of the data path: mediate every queue's requests, let the NIC
 * work, reclaim what it completed. In one round of VMM_COST_SAMPLE_EVERY
 * (vmm.h) the TSC is read between the stages, to account where the
 * lcore's time goes, as the ATC'08 paper's Table 3 does: protection
 * (mediate, reclaim) against the device's own work (the NIC model's DMA,
 * switch and wire).
 */
unsigned int
mediator_poll(struct vmm *v)
{
	struct vmm_cost *c = &v->cost;
	unsigned int work = 0, reqs = 0, frames, done = 0, n;
	/* A round that moves nothing leaves the next one to be timed (vmm.h). */
	const int timed = c->untimed >= VMM_COST_SAMPLE_EVERY - 1;
	uint64_t t0 = timed ? VMM_TSC() : 0, t1 = 0, t2 = 0, t3;
	struct cdna_nic_ring *r, *next;
	int64_t b;
	uint32_t i;

	if (unlikely(v->poll_stale))
		poll_lists_rebuild(v);
	for (i = 0; i < v->nb_poll_serve; i++) {
		n = v->poll_serve[i]->strat->serve(v, v->poll_serve[i]);
		c->batches += n != 0;
		reqs += n;
	}
	for (i = 0; i < v->nb_poll_q; i++) {
		struct mqueue *mq = v->poll_q[i];
		struct mq_guest_idx x;

		/* Read once; an idle queue (most, with many guests) stops here. */
		if (mq_read_idx(mq, &x) || unlikely(mq->quarantined))
			continue;
		/*
		 * The indices are bounded here, inline: an idle direction
		 * costs its tests, not a call into the batch path.
		 */
		b = dir_budget(v, mq, &mq->rx, "rx", x.rx_prod, x.rx_gcons);
		if (b > 0) {
			n = mediate_rx(v, mq, (uint32_t)b);
			c->batches += n != 0;
			reqs += n;
		}
		if (mq->quarantined)
			continue;
		b = dir_budget(v, mq, &mq->tx, "tx", x.tx_prod, x.tx_gcons);
		if (b > 0) {
			n = mediate_tx(v, mq, (uint32_t)b);
			c->batches += n != 0;
			reqs += n;
		}
	}
	if (timed)
		t1 = VMM_TSC();
	frames = cdna_nic_poll(v->nic);
	if (timed)
		t2 = VMM_TSC();
	/*
	 * Only the rings the NIC gave statuses: a ring with none has nothing
	 * to reclaim, so idle guests cost this pass nothing. The NIC's index
	 * is still bounded by what was posted (reclaim_dir) whenever it moves.
	 */
	for (r = cdna_nic_events_take(v->nic); r != NULL; r = next) {
		struct mqueue *mq = r->owner;

		next = r->ev_next;
		r->ev_pending = 0;	/* before a drain may publish to it again */
		if (!mq->created || mq->quarantined || !mq->g->started)
			continue;
		done += r == mq->tx.nic ? reclaim_tx(v, mq) : reclaim_rx(v, mq);
	}
	work = reqs + frames + done;
	if (work == 0)
		return 0;
	c->requests += reqs;
	c->frames += frames;
	c->rounds++;
	if (!timed) {
		c->untimed++;
		return work;
	}
	t3 = VMM_TSC();
	c->cyc_mediate += (t1 - t0) * VMM_COST_SAMPLE_EVERY;
	c->cyc_nic += (t2 - t1) * VMM_COST_SAMPLE_EVERY;
	c->cyc_reclaim += (t3 - t2) * VMM_COST_SAMPLE_EVERY;
	c->timed_rounds++;
	c->untimed = 0;
	return work;
}
