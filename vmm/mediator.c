/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mediator's data path, per guest queue and direction:
 *   validate: copy each request out of the guest's ring once, check the copy;
 *   post:     claim the range, write the NIC descriptor, ring the doorbell;
 *   reclaim:  on NIC status, release the claim, scrub the descriptor slot,
 *             write the completion into the guest's read-only ring.
 * Rejected requests complete at once with their reason. Nothing here logs
 * except the one-time quarantine of a queue whose indices are impossible.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
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
	mq->g->ctr.ring_corrupt++;
	pthread_mutex_lock(&v->lock);
	snprintf(mq->g->quarantine, sizeof(mq->g->quarantine),
		 "queue %u: %.110s", mq->qid, why);
	pthread_mutex_unlock(&v->lock);
	vlog_uid(mq->g->uid, "guest %u queue %u quarantined: ring_corrupt (%s)",
		 mq->g->id, mq->qid, why);
	mediator_queue_drain(v, mq);
}

/*
 * Reads the guest's two indices for direction d once and bounds them.
 * Returns how many requests may be consumed now, or -1 (queue quarantined).
 */
static int64_t
dir_budget(struct vmm *v, struct mqueue *mq, struct mq_dir *d, const char *dir)
{
	/* Pairs with the guest's release: its entries up to prod are visible. */
	uint32_t prod = cdna_load_acquire(d->req_prod);
	uint32_t gcons = cdna_load_acquire(d->cmp_cons);

	if (unlikely(prod - d->req_cons > d->size)) {
		quarantine(v, mq, "%s_req.prod %u is %u entries past consumer %u; ring holds %u",
			   dir, prod, prod - d->req_cons, d->req_cons, d->size);
		return -1;
	}
	/* The guest may only move its completion consumer forward, up to prod. */
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
	uint32_t i;

	for (i = 0; i < n; i += RTE_CACHE_LINE_SIZE / sizeof(struct cdna_req))
		rte_prefetch0(&d->req[(d->req_cons + i) & d->mask]);
}

static inline void
post_desc(struct vmm *v, struct mqueue *mq, struct mq_dir *d,
	  const struct cdna_dma_ref *ref, uint32_t cookie, uint16_t flags,
	  int dir)
{
	uint32_t slot = d->nic_tail & d->mask;
	struct cdna_nic_desc *desc = &d->nic->desc[slot];
	uint8_t *host = ref->reg->host + ref->off;

	d->slots[slot].reg = ref->reg;
	d->slots[slot].off = ref->off;
	d->slots[slot].len = ref->len;
	d->slots[slot].cookie = cookie;
	ref->reg->inflight++;
	mq->g->inflight++;
	desc->addr = (uint64_t)(uintptr_t)host;	/* "host" address stage */
	desc->len = ref->len;
	desc->tag = slot;
	desc->flags = flags;
	desc->reserved0 = 0;
	desc->reserved1 = 0;
	desc->reserved2 = 0;
	if (unlikely(v->opt.audit))
		audit_post((uint32_t)mq->g->nic_ctx, host, ref->len, dir);
	d->nic_tail++;
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

static unsigned int
mediate_tx(struct vmm *v, struct mqueue *mq)
{
	struct mq_dir *d = &mq->tx;
	struct guest *g = mq->g;
	struct cdna_req seg[CDNA_MAX_SEGS + 1];
	struct cdna_dma_ref ref[CDNA_MAX_SEGS + 1];
	uint32_t old_tail = d->nic_tail, old_cmp = d->cmp_prod_v;
	uint32_t old_cons = d->req_cons;
	unsigned int pkts = 0;
	int64_t budget = dir_budget(v, mq, d, "tx");
	uint32_t n, i;
	uint16_t st;

	if (budget < 0)
		return 0;
	req_prefetch(d, RTE_MIN((uint32_t)budget, v->opt.burst));
	while (pkts < v->opt.burst && budget > 0) {
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
		/* Copy the whole chain out of shared memory first. */
		n = 0;
		do {
			if (n == budget)
				goto out;	/* chain not fully posted yet */
			seg[n] = d->req[(d->req_cons + n) & d->mask];
			/* From here on only the private copy is read. */
			rte_compiler_barrier();
			n++;
		} while ((seg[n - 1].flags & CDNA_REQ_F_MORE) &&
			 n <= CDNA_MAX_SEGS);

		/*
		 * Each request's own faults first, claimed as it passes so a
		 * later segment sees it (n <= CDNA_MAX_SEGS + 1 = RTE_DIM(ref)),
		 * then the rules of the chain as a whole.
		 */
		st = CDNA_ST_OK;
		i = 0;
		while (st == CDNA_ST_OK && i < n) {
			st = cdna_validate_req_hinted(&g->rt, &seg[i], CDNA_DIR_TX,
						      &ref[i], &d->hint);
			if (st != CDNA_ST_OK)
				break;
			cdna_claims_take_tx(ref[i].reg->claims, ref[i].off,
					    ref[i].len);
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
			/* The rest of an overlong chain is rejected as it comes. */
			d->skip_chain = st == CDNA_ST_BAD_CHAIN &&
				(seg[n - 1].flags & CDNA_REQ_F_MORE) != 0;
		} else {
			for (i = 0; i < n; i++)
				post_desc(v, mq, d, &ref[i], seg[i].cookie,
					  i + 1 < n ? CDNA_DESC_F_MORE : 0,
					  CDNA_DIR_TX);
		}
		d->req_cons += n;
		budget -= n;
		pkts++;
	}
out:
	dir_publish(d, old_tail, old_cmp, old_cons);
	return pkts;
}

static unsigned int
mediate_rx(struct vmm *v, struct mqueue *mq)
{
	struct mq_dir *d = &mq->rx;
	struct guest *g = mq->g;
	uint32_t old_tail = d->nic_tail, old_cmp = d->cmp_prod_v;
	uint32_t old_cons = d->req_cons;
	int64_t budget = dir_budget(v, mq, d, "rx");
	unsigned int k;

	if (budget < 0)
		return 0;
	if (budget > v->opt.burst)
		budget = v->opt.burst;
	req_prefetch(d, (uint32_t)budget);
	for (k = 0; k < budget; k++) {
		struct cdna_dma_ref ref;
		struct cdna_req req = d->req[(d->req_cons + k) & d->mask];
		uint16_t st;

		rte_compiler_barrier();	/* only the copy is read below */
		st = cdna_validate_req_hinted(&g->rt, &req, CDNA_DIR_RX, &ref,
					      &d->hint);
		if (unlikely(st != CDNA_ST_OK)) {
			cmp_write(d, req.cookie, 0, st);
			g->ctr.reject[st]++;
			continue;
		}
		cdna_claims_take_rx(ref.reg->claims, ref.off, ref.len);
		g->claimed_lines += cdna_claims_span(ref.off, ref.len);
		post_desc(v, mq, d, &ref, req.cookie, 0, CDNA_DIR_RX);
	}
	d->req_cons += k;
	dir_publish(d, old_tail, old_cmp, old_cons);
	return k;
}

static unsigned int
reclaim_dir(struct vmm *v, struct mqueue *mq, struct mq_dir *d, int is_rx)
{
	struct guest *g = mq->g;
	struct cdna_nic_ring *r = d->nic;
	/* Pairs with the NIC's release: status entries up to sp are written. */
	uint32_t sp = cdna_load_acquire(r->st_prod);
	uint32_t sc = r->st_cons.val, n = 0;

	if (sc == sp)
		return 0;
	for (; sc != sp; sc++, n++) {
		struct cdna_nic_status s = r->status[sc & r->mask];
		uint32_t slot = sc & d->mask;	/* the NIC completes in order */
		struct mq_slot sl = d->slots[slot];
		uint16_t st = s.status;
		uint32_t len = 0;

		if (unlikely(s.tag != slot || st >= CDNA_ST_COUNT ||
			     (is_rx && st == CDNA_ST_OK && s.len > sl.len))) {
			/* Not what was posted: trust only our own record. */
			g->ctr.nic_bad_status++;
			st = CDNA_ST_DMA_FAULT;
		}
		if (st == CDNA_ST_OK)
			len = is_rx ? s.len : sl.len;
		if (is_rx)
			cdna_claims_drop_rx(sl.reg->claims, sl.off, sl.len);
		else
			cdna_claims_drop_tx(sl.reg->claims, sl.off, sl.len);
		g->claimed_lines -= cdna_claims_span(sl.off, sl.len);
		if (unlikely(v->opt.audit))
			audit_complete((uint32_t)g->nic_ctx, sl.reg->host + sl.off,
				       is_rx ? CDNA_DIR_RX : CDNA_DIR_TX);
		g->inflight--;
		if (--sl.reg->inflight == 0 && unlikely(sl.reg->dying))
			guest_mem_dma_done(g, sl.reg);
		/* Single use: the slot is re-armed only by a new post. */
		memset(&r->desc[slot], 0, sizeof(r->desc[slot]));
		memset(&d->slots[slot], 0, sizeof(d->slots[slot]));
		if (st != CDNA_ST_OK)
			g->ctr.reject[st]++;
		cmp_write(d, sl.cookie, len, st);
	}
	/* Status slots are free again once the index says so. */
	cdna_store_release(&r->st_cons, sc);
	cdna_store_release(d->cmp_prod, d->cmp_prod_v);
	return n;
}

unsigned int
mediator_reclaim(struct vmm *v, struct mqueue *mq)
{
	return reclaim_dir(v, mq, &mq->tx, 0) + reclaim_dir(v, mq, &mq->rx, 1);
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

/*
 * One round of the data path: mediate every queue's requests, let the NIC
 * work, reclaim what it completed. The TSC is read between the stages (a
 * few tens of cycles a round) to account where the lcore's time goes, as
 * the ATC'08 paper's Table 3 does: protection (mediate, reclaim) against
 * the device's own work (the NIC model's DMA, switch and wire).
 */
unsigned int
mediator_poll(struct vmm *v)
{
	struct vmm_cost *c = &v->cost;
	unsigned int work = 0, reqs = 0, frames, done = 0, n;
	uint64_t t0 = rte_rdtsc(), t1, t2, t3;
	uint32_t i;
	uint16_t q;

	for (i = 0; i < v->opt.max_guests; i++) {
		struct guest *g = v->guests[i];

		if (g == NULL)
			continue;
		/* Map requests come before START too: RX buffers are posted first. */
		if (g->strat->serve != NULL) {
			n = g->strat->serve(v, g);
			c->batches += n != 0;
			reqs += n;
			continue;
		}
		if (!g->started || !g->strat->mediated)
			continue;
		for (q = 0; q < g->nb_queues; q++) {
			struct mqueue *mq = &g->q[q];

			if (!mq->created || mq->quarantined)
				continue;
			n = mediate_rx(v, mq);
			c->batches += n != 0;
			reqs += n;
			if (!mq->quarantined) {
				n = mediate_tx(v, mq);
				c->batches += n != 0;
				reqs += n;
			}
		}
	}
	t1 = rte_rdtsc();
	frames = cdna_nic_poll(v->nic);
	t2 = rte_rdtsc();
	for (i = 0; i < v->opt.max_guests; i++) {
		struct guest *g = v->guests[i];

		if (g == NULL || !g->started || !g->strat->mediated)
			continue;
		for (q = 0; q < g->nb_queues; q++)
			if (g->q[q].created && !g->q[q].quarantined)
				done += mediator_reclaim(v, &g->q[q]);
	}
	t3 = rte_rdtsc();
	work = reqs + frames + done;
	if (work != 0) {
		c->cyc_mediate += t1 - t0;
		c->cyc_nic += t2 - t1;
		c->cyc_reclaim += t3 - t2;
		c->requests += reqs;
		c->frames += frames;
		c->completions += done;
	}
	return work;
}
