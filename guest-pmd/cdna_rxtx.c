/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_cdna data path. Requests go into the guest-writable request rings,
 * results come back through the read-only completion rings. Nothing here
 * logs or touches the control socket; every anomaly is counted.
 */
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "cdna_pmd.h"

/* A completion copied out of shared memory, each field read exactly once. */
struct cdna_cmp_copy {
	uint32_t cookie;
	uint32_t len;
	uint16_t status;
};

static inline void
cdna_cmp_peek(const struct cdna_cmp *ring, uint32_t slot,
		struct cdna_cmp_copy *c)
{
	const volatile struct cdna_cmp *e = &ring[slot];

	c->cookie = e->cookie;
	c->len = e->len;
	c->status = e->status;
}

static inline void
cdna_req_write(struct cdna_req *r, uint64_t addr, uint32_t len,
		uint32_t cookie, uint16_t flags)
{
	r->addr = addr;
	r->len = len;
	r->cookie = cookie;
	r->flags = flags;
	r->reserved0 = 0;
	r->reserved1 = 0;
	r->reserved2 = 0;
}

/*
 * Completions ready to consume, bounded by what is in flight: a producer
 * index beyond the requests posted is counted and clamped, never followed.
 */
static inline uint32_t
cdna_cmp_ready(const struct cdna_index *cmp_prod, uint32_t cons,
		uint32_t posted, uint64_t *bad_index)
{
	/* Acquire: entries are read only after the mediator published them. */
	uint32_t n = cdna_load_acquire(cmp_prod) - cons;
	uint32_t inflight = posted - cons;

	if (unlikely(n > inflight)) {
		(*bad_index)++;
		n = inflight;
	}
	return n;
}

/*
 * The mediator's CPU just wrote these n completions: their lines miss
 * here. Asking for all of them before the first is read lets the misses
 * overlap instead of stalling entry by entry (four to a line). A
 * prefetch never faults, and the entries are still read once each.
 */
static inline void
cdna_cmp_prefetch(const struct cdna_cmp *ring, uint32_t mask, uint32_t cons,
		  uint32_t n)
{
	const uint32_t per_line = RTE_CACHE_LINE_SIZE / sizeof(*ring);
	uint32_t i;

	for (i = 0; i < n; i += per_line)
		rte_prefetch0(&ring[(cons + i) & mask]);
	/* The last line, when cons does not start one. */
	if (n != 0)
		rte_prefetch0(&ring[(cons + n - 1) & mask]);
}

static inline uint32_t
cdna_status_slot(uint16_t status)
{
	return status < CDNA_ST_COUNT ? status : CDNA_ST_COUNT;
}

/*
 * Posts one segment at addr (the buffer's own address, or the I/O address
 * its mapping gave): a cookie for it, the request at prod.
 */
static inline void
cdna_tx_post_seg(struct cdna_txq *txq, uint32_t prod, struct rte_mbuf *seg,
		 uint64_t addr, uint32_t pkt_len, int last)
{
	uint32_t id = txq->free_ids[--txq->nb_free];
	struct cdna_tx_slot *slot = &txq->slots[id];

	slot->m = seg;
	slot->pkt_len = last ? pkt_len : 0;
	slot->last = last;
	slot->iova = addr;
	cdna_req_write(&txq->req[prod & txq->mask], addr, seg->data_len, id,
		       last ? 0 : CDNA_REQ_F_MORE);
}

/*
 * Segments on their way back to their pool, handed over in bulk (one
 * mempool call per run of one pool, not one per segment).
 */
struct cdna_free_batch {
	struct rte_mbuf *m[64];
	unsigned int n;
};

static inline void
cdna_free_flush(struct cdna_free_batch *b)
{
	if (b->n != 0)
		rte_mempool_put_bulk(b->m[0]->pool, (void **)b->m, b->n);
	b->n = 0;
}

static inline void
cdna_free_seg(struct cdna_free_batch *b, struct rte_mbuf *seg)
{
	/* NULL: another reference holds it still (indirect, or cloned). */
	struct rte_mbuf *m = rte_pktmbuf_prefree_seg(seg);

	if (m == NULL)
		return;
	if (b->n == RTE_DIM(b->m) || (b->n != 0 && m->pool != b->m[0]->pool))
		cdna_free_flush(b);
	b->m[b->n++] = m;
}

/* Completions a reap copies out at once (a burst's worth). */
#define CDNA_REAP_STEP	32u

/* Consume TX completions: free each segment and return its cookie. */
static inline void
cdna_tx_reap(struct cdna_txq *txq)
{
	struct cdna_txq_stats *st = &txq->stats;
	struct cdna_free_batch fb;
	uint32_t cons = txq->cons;
	uint32_t n;

	n = cdna_cmp_ready(txq->cmp_prod, cons, txq->prod, &st->bad_index);
	if (n == 0)
		return;
	cdna_cmp_prefetch(txq->cmp, txq->mask, cons, n);

	fb.n = 0;
	while (n > 0) {
		struct cdna_cmp_copy cc[CDNA_REAP_STEP];
		const uint32_t k = RTE_MIN(n, CDNA_REAP_STEP);
		uint32_t i;

		/*
		 * Each entry copied once; the segments they name asked for
		 * ahead of their release, which reads both of an mbuf's
		 * lines (reference count; next and pool).
		 */
		for (i = 0; i < k; i++) {
			cdna_cmp_peek(txq->cmp, (cons + i) & txq->mask, &cc[i]);
			if (likely(cc[i].cookie < txq->size &&
				   txq->slots[cc[i].cookie].m != NULL)) {
				const struct rte_mbuf *m = txq->slots[cc[i].cookie].m;

				rte_prefetch0(m);
				rte_prefetch0(RTE_PTR_ADD(m, RTE_CACHE_LINE_SIZE));
			}
		}
		for (i = 0; i < k; i++) {
			const struct cdna_cmp_copy c = cc[i];
			struct cdna_tx_slot *slot;

			if (unlikely(c.cookie >= txq->size ||
					txq->slots[c.cookie].m == NULL)) {
				st->bad_cookie++;
				continue;
			}
			slot = &txq->slots[c.cookie];
			if (unlikely(c.status != CDNA_ST_OK))
				st->status[cdna_status_slot(c.status)]++;
			/* Counted as sent when posted: take back a refused packet. */
			if (unlikely(slot->last && c.status != CDNA_ST_OK)) {
				/* A stats reset may have come in between. */
				if (st->packets != 0)
					st->packets--;
				st->bytes -= RTE_MIN(st->bytes, (uint64_t)slot->pkt_len);
				st->errors++;
			}
			if (txq->map.req != NULL)
				cdna_map_put(&txq->map, rte_pktmbuf_mtod(slot->m, uintptr_t),
					     slot->m->data_len, slot->iova);
			cdna_free_seg(&fb, slot->m);
			slot->m = NULL;
			txq->free_ids[txq->nb_free++] = c.cookie;
		}
		n -= k;
		cons += k;
	}
	cdna_free_flush(&fb);
	txq->cons = cons;
	/* Release: our reads of the entries finish before the slots are reused. */
	cdna_store_release(txq->cmp_cons, cons);
	if (txq->map.req != NULL)
		cdna_map_flush(&txq->map);
}

uint16_t
cdna_tx_burst(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct cdna_txq *txq = queue;
	uint32_t prod, room;
	uint16_t i;

	if (unlikely(cdna_is_dead(txq->dead) || txq->req == NULL))
		return 0;

	cdna_tx_reap(txq);

	prod = txq->prod;
	room = RTE_MIN(txq->size - (prod - txq->cons), txq->nb_free);
	for (i = 0; i < nb_pkts; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_mbuf *seg, *next;
		uint32_t nseg = 0, len = 0, posted = 0;

		/* Empty segments are not sent: the mediator rejects length 0. */
		for (seg = m; seg != NULL; seg = seg->next) {
			if (seg->data_len != 0) {
				nseg++;
				len += seg->data_len;
			}
		}
		if (unlikely(nseg == 0)) {
			rte_pktmbuf_free(m);
			txq->stats.empty++;
			txq->stats.errors++;
			continue;
		}
		/* Such a packet can never be sent: drop it rather than stall. */
		if (unlikely(nseg > CDNA_MAX_SEGS)) {
			rte_pktmbuf_free(m);
			txq->stats.too_many_segs++;
			txq->stats.errors++;
			continue;
		}
		if (nseg > room)
			break;

		for (seg = m; seg != NULL; seg = next) {
			next = seg->next;
			if (seg->data_len == 0) {
				rte_pktmbuf_free_seg(seg);
				continue;
			}
			posted++;
			cdna_tx_post_seg(txq, prod, seg,
					 rte_pktmbuf_mtod(seg, uintptr_t), len,
					 posted == nseg);
			prod++;
		}
		room -= nseg;
		txq->stats.packets++;
		txq->stats.bytes += len;
	}

	if (prod != txq->prod) {
		txq->prod = prod;
		/* Release: the entries above are visible before the new index. */
		cdna_store_release(txq->req_prod, prod);
	}
	return i;
}

/*
 * Mapping strategies: map n fresh buffers, post those mapped at the I/O
 * address the mediator gave, free the rest. Returns buffers posted.
 */
static uint32_t
cdna_rx_map_post(struct cdna_rxq *rxq, struct rte_mbuf **mbufs, uint32_t n,
		 uint32_t *prod)
{
	uint64_t addr[CDNA_RX_BULK], iova[CDNA_RX_BULK];
	uint32_t len[CDNA_RX_BULK];
	uint8_t ok[CDNA_RX_BULK];
	uint32_t j, h, posted = 0;

	for (j = 0; j < n; j++) {
		addr[j] = rte_pktmbuf_mtod(mbufs[j], uintptr_t);
		len[j] = rxq->buf_cap;
	}
	h = cdna_map_get(&rxq->map, n, addr, len, iova, ok);
	for (j = 0; j < n; j++) {
		uint32_t id;

		if (j >= h || !ok[j]) {
			rxq->map.st.dropped += j < h;
			rte_pktmbuf_free(mbufs[j]);
			continue;
		}
		id = rxq->free_ids[--rxq->nb_free];
		rxq->slots[id] = mbufs[j];
		rxq->iovas[id] = iova[j];
		cdna_req_write(&rxq->req[*prod & rxq->mask], iova[j],
			       rxq->buf_cap, id, 0);
		(*prod)++;
		posted++;
	}
	return posted;
}

/*
 * Mapping strategies: the packets that fit are mapped in one round trip to
 * the mediator, then posted at the I/O addresses it gave. A packet with a
 * segment it refused is dropped and counted; one the mediator could not
 * answer for stays with the caller.
 */
_Static_assert(CDNA_RX_BULK <= CDNA_MAP_MAX, "a refill step is one map batch");

/* Gives back the mappings granted to segments [from, to) of a batch. */
static void
cdna_tx_unmap_some(struct cdna_txq *txq, uint32_t from, uint32_t to,
		   const uint64_t *addr, const uint32_t *len,
		   const uint64_t *iova, const uint8_t *ok)
{
	uint32_t j;

	for (j = from; j < to; j++)
		if (ok[j])
			cdna_map_put(&txq->map, addr[j], len[j], iova[j]);
}

uint16_t
cdna_tx_burst_map(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct cdna_txq *txq = queue;
	uint64_t addr[CDNA_MAP_MAX], iova[CDNA_MAP_MAX];
	uint32_t len[CDNA_MAP_MAX], pkt_len[CDNA_MAP_MAX];
	uint16_t nseg_of[CDNA_MAP_MAX];
	uint8_t ok[CDNA_MAP_MAX];
	uint32_t prod, room, nseg = 0, h, s = 0;
	uint16_t i, np;

	if (unlikely(cdna_is_dead(txq->dead) || txq->req == NULL))
		return 0;
	cdna_tx_reap(txq);
	room = RTE_MIN(txq->size - (txq->prod - txq->cons), txq->nb_free);
	room = RTE_MIN(room, CDNA_MAP_MAX);

	/* Which packets go: nseg_of 0 marks one dropped here. */
	for (np = 0; np < nb_pkts && np < CDNA_MAP_MAX; np++) {
		struct rte_mbuf *seg;
		uint32_t n = 0, bytes = 0;

		for (seg = pkts[np]; seg != NULL; seg = seg->next)
			if (seg->data_len != 0) {
				n++;
				bytes += seg->data_len;
			}
		if (n == 0 || n > CDNA_MAX_SEGS) {
			nseg_of[np] = 0;
			continue;
		}
		if (n > room - nseg)
			break;
		for (seg = pkts[np]; seg != NULL; seg = seg->next)
			if (seg->data_len != 0) {
				addr[nseg] = rte_pktmbuf_mtod(seg, uintptr_t);
				len[nseg++] = seg->data_len;
			}
		nseg_of[np] = (uint16_t)n;
		pkt_len[np] = bytes;
	}
	h = nseg == 0 ? 0 : cdna_map_get(&txq->map, nseg, addr, len, iova, ok);

	prod = txq->prod;
	for (i = 0; i < np; i++) {
		struct rte_mbuf *seg, *next, *m = pkts[i];
		uint32_t j, bad = 0, posted = 0;

		if (nseg_of[i] == 0) {
			if (m->nb_segs > CDNA_MAX_SEGS)
				txq->stats.too_many_segs++;
			else
				txq->stats.empty++;
			txq->stats.errors++;
			rte_pktmbuf_free(m);
			continue;
		}
		/* Not answered for: it and the rest stay with the caller. */
		if (s + nseg_of[i] > h) {
			cdna_tx_unmap_some(txq, s, h, addr, len, iova, ok);
			break;
		}
		for (j = s; j < s + nseg_of[i]; j++)
			bad += !ok[j];
		if (bad != 0) {
			cdna_tx_unmap_some(txq, s, s + nseg_of[i], addr, len, iova,
					   ok);
			s += nseg_of[i];
			txq->map.st.dropped++;
			txq->stats.errors++;
			rte_pktmbuf_free(m);
			continue;
		}
		for (seg = m; seg != NULL; seg = next) {
			next = seg->next;
			if (seg->data_len == 0) {
				rte_pktmbuf_free_seg(seg);
				continue;
			}
			posted++;
			cdna_tx_post_seg(txq, prod, seg, iova[s], pkt_len[i],
					 posted == nseg_of[i]);
			prod++;
			s++;
		}
		txq->stats.packets++;
		txq->stats.bytes += pkt_len[i];
	}
	cdna_map_flush(&txq->map);
	if (prod != txq->prod) {
		txq->prod = prod;
		/* Release: the entries above are visible before the new index. */
		cdna_store_release(txq->req_prod, prod);
	}
	return i;
}

/* Post empty buffers while the ring and the cookie stack have room. */
uint32_t
cdna_rx_refill(struct cdna_rxq *rxq)
{
	struct rte_mbuf *mbufs[CDNA_RX_BULK];
	uint32_t prod = rxq->prod;
	uint32_t room, total = 0;

	room = RTE_MIN(rxq->size - (prod - rxq->cons), rxq->nb_free);
	if (room < CDNA_RX_REFILL_THRESH)
		return 0;

	while (room > 0) {
		uint32_t n = RTE_MIN(room, CDNA_RX_BULK);
		uint32_t j;

		if (unlikely(rte_pktmbuf_alloc_bulk(rxq->mp, mbufs, n) != 0)) {
			rxq->stats.nombuf += n;
			break;
		}
		if (rxq->map.req != NULL) {
			uint32_t k = cdna_rx_map_post(rxq, mbufs, n, &prod);

			total += k;
			/* A refused mapping or a silent mediator: try later. */
			if (k < n)
				break;
			room -= n;
			continue;
		}
		for (j = 0; j < n; j++) {
			uint32_t id = rxq->free_ids[--rxq->nb_free];

			rxq->slots[id] = mbufs[j];
			cdna_req_write(&rxq->req[prod & rxq->mask],
				rte_pktmbuf_mtod(mbufs[j], uintptr_t),
				rxq->buf_cap, id, 0);
			prod++;
		}
		room -= n;
		total += n;
	}

	if (total != 0) {
		rxq->prod = prod;
		/* Release: the entries above are visible before the new index. */
		cdna_store_release(rxq->req_prod, prod);
	}
	return total;
}

/*
 * Consume up to nb_pkts RX completions; good frames go to pkts, everything
 * else is counted and freed. Returns the number of frames in pkts.
 */
static inline uint16_t
cdna_rx_collect(struct cdna_rxq *rxq, struct rte_mbuf **pkts, uint16_t nb_pkts,
		uint64_t *bytes)
{
	struct cdna_rxq_stats *st = &rxq->stats;
	uint32_t cons = rxq->cons;
	uint16_t nb_rx = 0;
	uint32_t n;

	n = cdna_cmp_ready(rxq->cmp_prod, cons, rxq->prod, &st->bad_index);
	cdna_cmp_prefetch(rxq->cmp, rxq->mask, cons, RTE_MIN(n, (uint32_t)nb_pkts));
	while (n > 0 && nb_rx < nb_pkts) {
		struct cdna_cmp_copy cc[CDNA_REAP_STEP];
		/* Never more than the frames pkts has room for. */
		const uint32_t k = RTE_MIN(RTE_MIN(n, CDNA_REAP_STEP),
					   (uint32_t)(nb_pkts - nb_rx));
		uint32_t i;

		/*
		 * Each entry copied once; the mbufs they name asked for
		 * ahead of the writes to their first line (lengths, port).
		 */
		for (i = 0; i < k; i++) {
			cdna_cmp_peek(rxq->cmp, (cons + i) & rxq->mask, &cc[i]);
			if (likely(cc[i].cookie < rxq->size &&
				   rxq->slots[cc[i].cookie] != NULL))
				rte_prefetch0(rxq->slots[cc[i].cookie]);
		}
		for (i = 0; i < k; i++) {
			const struct cdna_cmp_copy c = cc[i];
			struct rte_mbuf *m;

			if (unlikely(c.cookie >= rxq->size ||
					rxq->slots[c.cookie] == NULL)) {
				st->bad_cookie++;
				continue;
			}
			m = rxq->slots[c.cookie];
			rxq->slots[c.cookie] = NULL;
			rxq->free_ids[rxq->nb_free++] = c.cookie;
			if (rxq->map.req != NULL)
				cdna_map_put(&rxq->map, rte_pktmbuf_mtod(m, uintptr_t),
					     rxq->buf_cap, rxq->iovas[c.cookie]);

			if (likely(c.status == CDNA_ST_OK && c.len != 0 &&
					c.len <= rxq->buf_cap)) {
				m->data_len = (uint16_t)c.len;
				m->pkt_len = c.len;
				m->port = rxq->port_id;
				pkts[nb_rx++] = m;
				*bytes += c.len;
				continue;
			}
			if (c.status == CDNA_ST_OK) {
				st->bad_len++;
				st->errors++;
			} else {
				st->status[cdna_status_slot(c.status)]++;
				/* ABORTED just returns an unused buffer at stop. */
				if (c.status != CDNA_ST_ABORTED)
					st->errors++;
			}
			rte_pktmbuf_free(m);
		}
		n -= k;
		cons += k;
	}

	if (cons != rxq->cons) {
		rxq->cons = cons;
		/* Release: our reads of the entries finish before reuse. */
		cdna_store_release(rxq->cmp_cons, cons);
		if (rxq->map.req != NULL)
			cdna_map_flush(&rxq->map);
	}
	return nb_rx;
}

uint16_t
cdna_rx_burst(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct cdna_rxq *rxq = queue;
	uint64_t bytes = 0;
	uint16_t nb_rx;

	if (unlikely(cdna_is_dead(rxq->dead) || rxq->req == NULL))
		return 0;

	nb_rx = cdna_rx_collect(rxq, pkts, nb_pkts, &bytes);
	rxq->stats.packets += nb_rx;
	rxq->stats.bytes += bytes;

	cdna_rx_refill(rxq);
	return nb_rx;
}

/* At stop: consume every RX completion available, delivering nothing. */
void
cdna_rx_drain(struct cdna_rxq *rxq)
{
	struct rte_mbuf *burst[32];
	uint64_t bytes = 0;
	uint32_t before;
	uint16_t n;

	if (rxq->req == NULL)
		return;
	do {
		before = rxq->cons;
		n = cdna_rx_collect(rxq, burst, RTE_DIM(burst), &bytes);
		rte_pktmbuf_free_bulk(burst, n);
	} while (rxq->cons != before);
}

void
cdna_tx_drain(struct cdna_txq *txq)
{
	if (txq->req == NULL)
		return;
	cdna_tx_reap(txq);
}

/*
 * Reset the cookie state, freeing (or, if the mediator may still use them,
 * forgetting) buffers that never completed. Returns how many there were.
 */
uint32_t
cdna_rx_free_outstanding(struct cdna_rxq *rxq, int do_free)
{
	uint32_t i, n = 0;

	for (i = 0; i < rxq->size; i++) {
		if (rxq->slots[i] != NULL) {
			if (do_free)
				rte_pktmbuf_free(rxq->slots[i]);
			rxq->slots[i] = NULL;
			n++;
		}
		rxq->free_ids[i] = i;
	}
	rxq->nb_free = rxq->size;
	rxq->prod = 0;
	rxq->cons = 0;
	return n;
}

uint32_t
cdna_tx_free_outstanding(struct cdna_txq *txq, int do_free)
{
	uint32_t i, n = 0;

	for (i = 0; i < txq->size; i++) {
		if (txq->slots[i].m != NULL) {
			if (do_free)
				rte_pktmbuf_free_seg(txq->slots[i].m);
			txq->slots[i].m = NULL;
			n++;
		}
		txq->free_ids[i] = i;
	}
	txq->nb_free = txq->size;
	txq->prod = 0;
	txq->cons = 0;
	return n;
}
