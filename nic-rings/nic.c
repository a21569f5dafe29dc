/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NIC model: contexts, DMA engine, embedded switch and wire port.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "cdna_ring.h"
#include "dma_guard.h"
#include "nic.h"

#define NIC_BURST_MAX	64u
#define NIC_RX_RUN_MAX	(2 * NIC_BURST_MAX)

/* A delivery waiting in the RX run (nic_rx_run_flush). */
struct nic_rx_op {
	struct cdna_nic_ring *r;	/* the RX ring its descriptor came from */
	uint32_t ci;
	uint32_t tag;
	uint16_t q;
	uint8_t result;			/* NIC_RX_* */
};

enum { NIC_RX_PENDING, NIC_RX_DONE, NIC_RX_FAULTED, NIC_RX_SKIPPED };

struct nic_ctx {
	int in_use;
	/*
	 * The TX rings of its active queues, densely, in queue order: all
	 * that a poll looks at in a context with nothing to send
	 * (nic_tx_pending). Set with the queues (nic_ctx_tx_on).
	 */
	uint16_t nb_tx_on;
	const struct cdna_nic_ring *tx_on[CDNA_MAX_QUEUES];
	uint64_t mac64;		/* mac, for one compare per frame (mac_key) */
	struct cdna_nic_fault fault;	/* why != NONE: abort every DMA */
	uint8_t mac[6];
	int promisc;
	int allmulti;
	int spoof_check;
	uint32_t mtu;
	uint16_t nb_queues;
	uint16_t next_rx_queue;	/* spreads RX over queues, round-robin */
	uint16_t next_tx_queue;	/* the queue served first, rotating */
	uint8_t rx_unpublished;	/* on the NIC's rx_dirty list */
	uint32_t bad_dma_left;	/* fault injection: DMAs still to send astray */
	uint64_t bad_dma_addr;	/* ... to this address */
	cdna_nic_xlate_fn xlate;
	void *xlate_arg;
	struct cdna_nic_queue *q[CDNA_MAX_QUEUES];
	struct cdna_nic_ctx_stats st;
};

struct cdna_nic {
	struct cdna_nic_config cfg;
	uint32_t next_ctx;	/* round-robin start for TX service */
	uint32_t new_faults;	/* contexts faulted since the last take */
	cdna_nic_audit_fn audit;
	void *audit_arg;
	struct cdna_nic_stats st;
	struct rte_mbuf *wire_out[NIC_BURST_MAX * 2];
	unsigned int nb_wire_out;
	/*
	 * Fresh mbufs for TX frames, taken from the pool a burst at a time:
	 * one mempool call per burst instead of one per frame.
	 */
	struct rte_mbuf *spare[NIC_BURST_MAX];
	unsigned int nb_spare;
	/*
	 * The RX run: frames delivered into guest buffers are copied together
	 * when the burst ends (nic_rx_run_flush), under one recovery point,
	 * and the frames freed in bulk: one sigsetjmp and one mempool call a
	 * burst instead of one each a frame. Descriptors are consumed when a
	 * delivery is queued; their statuses follow the copies, in order. A
	 * context whose memory faults in a run is faulted when the run is
	 * performed: within the same poll, before any status is published.
	 */
	struct nic_rx_op rx_op[NIC_RX_RUN_MAX];
	struct cdna_dma_op rx_copy[NIC_RX_RUN_MAX];
	unsigned int nb_rx_op;
	unsigned int rx_run_base;	/* rx_op index of the burst call's op 0 */
	struct rte_mbuf *rx_free[NIC_RX_RUN_MAX];	/* freed after the copies */
	unsigned int nb_rx_free;
	/*
	 * The contexts in use, densely: the switch and the poll loop visit
	 * these, not every slot, so their cost follows the guests present.
	 */
	uint32_t *live;
	uint32_t nb_live;
	/*
	 * The contexts given RX statuses since the last publish: publishing
	 * visits these, not every queue of every guest, so idle guests cost
	 * a poll nothing there.
	 */
	uint32_t *rx_dirty;
	uint32_t nb_rx_dirty;
	/* Rings given statuses since the last cdna_nic_events_take. */
	struct cdna_nic_ring *ev_head;
	/*
	 * MAC -> context, open addressing over 2 x max_contexts slots (key
	 * mac64 + 1, 0 empty), rebuilt whenever a context comes, goes or
	 * changes its MAC: a frame finds its context in one probe or two, not
	 * by a pass over every guest. When two contexts share a MAC (the
	 * vmm never lets them), mac_dups is set and the switch scans instead.
	 */
	uint64_t *mac_key_tab;
	uint32_t *mac_ctx_tab;
	uint32_t mac_mask;
	uint32_t mac_shift;	/* 64 - log2(mac_mask + 1) */
	uint32_t mac_dups;
	struct nic_ctx ctx[];
};

/*
 * A MAC as a 48-bit integer: one compare instead of a memcmp. Two loads
 * combined in registers: six bytes stored then read back as eight would
 * stall on store forwarding (seen in perf: 70% of the switch).
 */
static inline uint64_t
mac_key(const void *mac)
{
	uint32_t lo;
	uint16_t hi;

	memcpy(&lo, mac, 4);
	memcpy(&hi, (const uint8_t *)mac + 4, 2);
	return (uint64_t)lo | (uint64_t)hi << 32;
}

static inline void *
nic_xlate(struct nic_ctx *c, uint64_t addr, uint32_t len, int dir)
{
	if (unlikely(c->bad_dma_left != 0)) {
		/* A bad device: this DMA goes where the injector says. */
		c->bad_dma_left--;
		c->st.bad_dma++;
		addr = c->bad_dma_addr;
	}
	if (c->xlate == NULL)
		return (void *)(uintptr_t)addr;	/* "host" stage: already translated */
	return c->xlate(c->xlate_arg, addr, len, dir);
}

/*
 * The context's memory vanished under a DMA (its owner truncated the file):
 * that DMA and every later one of the context end in CDNA_ST_DMA_FAULT, and
 * the driver learns of it from cdna_nic_take_faults().
 */
static void __rte_noinline
nic_ctx_mark_faulted(struct cdna_nic *nic, struct nic_ctx *c, int why)
{
	if (c->fault.why == CDNA_NIC_FAULT_NONE) {
		c->fault.why = why;
		nic->new_faults++;
	}
}

/*
 * A passthrough guest rang a doorbell more than a ring ahead of the NIC:
 * no descriptor past head can be trusted to mean anything. The context is
 * faulted (its driver disconnects it) and its rings are read no more.
 */
static void __rte_noinline
nic_doorbell_bad(struct cdna_nic *nic, struct nic_ctx *c, uint16_t q, int dir,
		 uint32_t tail, uint32_t head, uint32_t size)
{
	c->st.doorbell_bad++;
	if (c->fault.why != CDNA_NIC_FAULT_NONE)
		return;
	c->fault.queue = q;
	c->fault.dir = dir;
	c->fault.tail = tail;
	c->fault.head = head;
	c->fault.size = size;
	nic_ctx_mark_faulted(nic, c, CDNA_NIC_FAULT_DOORBELL);
}

/*
 * The doorbell, read once (pairs with the driver's release: descriptors up
 * to it are visible). Returns it in *tail, or -1 when a guest-written one
 * is impossible (the context is then faulted) or the guest's ring belongs
 * to a faulted context, which is read no more.
 */
static inline int
nic_doorbell(struct cdna_nic *nic, struct nic_ctx *c, struct cdna_nic_ring *r,
	     uint16_t q, int dir, uint32_t *tail)
{
	uint32_t t = cdna_load_acquire(r->tail), head = r->head.val;

	if (likely(!r->guest_written)) {
		*tail = t;
		return 0;
	}
	if (unlikely(c->fault.why != CDNA_NIC_FAULT_NONE))
		return -1;
	if (unlikely(t - head > r->size)) {
		nic_doorbell_bad(nic, c, q, dir, t, head, r->size);
		return -1;
	}
	*tail = t;
	return 0;
}

/* Copies frame m into guest memory at dst, segment by segment. 0 or -EFAULT. */
static inline int
nic_dma_to(uint8_t *dst, const struct rte_mbuf *m)
{
	uint32_t off = 0;

	for (; m != NULL; m = m->next) {
		if (unlikely(cdna_dma_copy(dst + off,
					   rte_pktmbuf_mtod(m, const void *),
					   m->data_len, dst + off) != 0))
			return -EFAULT;
		off += m->data_len;
	}
	return 0;
}

/*
 * A status entry, published later by nic_status_publish: the index is
 * polled by the driver, in passthrough by the guest's CPU, and a store per
 * entry would bounce its line between the CPUs once per descriptor.
 */
_Static_assert(sizeof(struct cdna_nic_status) == 16 &&
	       offsetof(struct cdna_nic_status, len) == 4 &&
	       offsetof(struct cdna_nic_status, status) == 8,
	       "a status entry is two words: tag and len, then status, flags and reserved");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "tag and status in their words' low bytes");

static inline void
nic_status(struct cdna_nic_ring *r, uint32_t tag, uint32_t len, uint16_t st)
{
	struct cdna_nic_status *s = &r->status[r->st_prod_v & r->mask];
	/* Two stores, flags and reserved zero. */
	const uint64_t w[2] = { tag | (uint64_t)len << 32, st };

	memcpy(s, w, sizeof(w));
	r->st_prod_v++;
}

static inline void
nic_status_publish(struct cdna_nic *nic, struct cdna_nic_ring *r)
{
	if (r->st_prod_v == r->st_pub)
		return;
	/* Orders the status entries before the index the driver polls. */
	cdna_store_release(r->st_prod, r->st_prod_v);
	r->st_pub = r->st_prod_v;
	if (r->owner != NULL && !r->ev_pending) {
		r->ev_pending = 1;
		r->ev_next = nic->ev_head;
		nic->ev_head = r;
	}
}

struct cdna_nic_ring *
cdna_nic_events_take(struct cdna_nic *nic)
{
	struct cdna_nic_ring *head = nic->ev_head;

	nic->ev_head = NULL;
	return head;
}

/* A ring going away leaves the event list (rare: a queue's destruction). */
static void
nic_event_unlink(struct cdna_nic *nic, struct cdna_nic_ring *r)
{
	struct cdna_nic_ring **pp;

	if (!r->ev_pending)
		return;
	for (pp = &nic->ev_head; *pp != NULL; pp = &(*pp)->ev_next)
		if (*pp == r) {
			*pp = r->ev_next;
			break;
		}
	r->ev_pending = 0;
}

/* Ahead of each copy of the RX run: the audit hook, as nic_deliver calls it. */
static int
nic_rx_run_audit(void *arg, unsigned int i)
{
	struct cdna_nic *nic = arg;
	const struct nic_rx_op *op = &nic->rx_op[nic->rx_run_base + i];
	const struct cdna_dma_op *cp = &nic->rx_copy[nic->rx_run_base + i];

	nic->audit(nic->audit_arg, op->ci, op->q, cp->dst, cp->len, CDNA_DIR_RX);
	return 0;
}

/*
 * The same once a copy of the run has faulted: a delivery to a context
 * faulted meanwhile is not performed (nic_deliver would have refused it)
 * and not audited.
 */
static int
nic_rx_run_check(void *arg, unsigned int i)
{
	struct cdna_nic *nic = arg;
	struct nic_rx_op *op = &nic->rx_op[nic->rx_run_base + i];

	if (nic->ctx[op->ci].fault.why != CDNA_NIC_FAULT_NONE) {
		op->result = NIC_RX_SKIPPED;
		return 1;
	}
	return nic->audit != NULL ? nic_rx_run_audit(arg, i) : 0;
}

/*
 * Frees n frames. The NIC's own frames, and the wire's as most PMDs
 * deliver them, are one direct segment of refcount 1 from one pool, which
 * needs none of the per-segment work of rte_pktmbuf_free_bulk (detach,
 * unchain, pool grouping): such a burst goes back with one mempool call.
 * Any other frame among them (a chain, a clone, a frame the wire still
 * holds, another pool's) sends the whole burst the general way.
 */
static void
nic_mbufs_free(struct rte_mbuf **m, unsigned int n)
{
	struct rte_mempool *mp = m[0]->pool;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct rte_mbuf *x = m[i];

		if (unlikely(x->pool != mp || rte_mbuf_refcnt_read(x) != 1 ||
			     x->nb_segs != 1 || x->next != NULL ||
			     !RTE_MBUF_DIRECT(x)))
			break;
	}
	if (likely(i == n))
		rte_mempool_put_bulk(mp, (void **)m, n);
	else
		rte_pktmbuf_free_bulk(m, n);
}

/*
 * Performs the RX run: every queued copy, a fault marking its context and
 * refusing that context's later ones, then the statuses and counts in
 * queue order, then the frames' bulk free. Called before anything else
 * writes an RX status, frees or sends a frame the run still reads, and
 * before any publish.
 */
static void
nic_rx_run_flush(struct cdna_nic *nic)
{
	unsigned int n = nic->nb_rx_op, i = 0, k, done;
	cdna_dma_before_fn before = nic->audit != NULL ? nic_rx_run_audit : NULL;

	while (i < n) {
		nic->rx_run_base = i;
		done = cdna_dma_copy_burst(&nic->rx_copy[i], n - i, 1, before, nic);
		for (k = i; k < i + done; k++)
			if (nic->rx_op[k].result == NIC_RX_PENDING)
				nic->rx_op[k].result = NIC_RX_DONE;
		if (i + done == n)
			break;
		/* Copy i + done faulted: its context is faulted from here on. */
		nic->rx_op[i + done].result = NIC_RX_FAULTED;
		nic_ctx_mark_faulted(nic, &nic->ctx[nic->rx_op[i + done].ci],
				     CDNA_NIC_FAULT_MEMORY);
		before = nic_rx_run_check;
		i += done + 1;
	}
	for (k = 0; k < n; k++) {
		const struct nic_rx_op *op = &nic->rx_op[k];
		struct nic_ctx *c = &nic->ctx[op->ci];

		if (likely(op->result == NIC_RX_DONE)) {
			c->st.rx_pkts++;
			c->st.rx_bytes += nic->rx_copy[k].len;
			nic_status(op->r, op->tag, nic->rx_copy[k].len, CDNA_ST_OK);
		} else {
			c->st.dma_fault++;
			nic_status(op->r, op->tag, 0, CDNA_ST_DMA_FAULT);
		}
	}
	nic->nb_rx_op = 0;
	if (nic->nb_rx_free != 0) {
		nic_mbufs_free(nic->rx_free, nic->nb_rx_free);
		nic->nb_rx_free = 0;
	}
}

/* A frame the switch is done with, freed once the run no longer reads it. */
static inline void
nic_rx_run_free(struct cdna_nic *nic, struct rte_mbuf *m)
{
	if (unlikely(nic->nb_rx_free == NIC_RX_RUN_MAX))
		nic_rx_run_flush(nic);
	nic->rx_free[nic->nb_rx_free++] = m;
}

/*
 * Every RX status written since the last call out, whichever contexts the
 * frames landed in: those nic_rx_mark_dirty listed.
 */
static void
nic_rx_publish_all(struct cdna_nic *nic)
{
	uint32_t k;
	uint16_t q;

	nic_rx_run_flush(nic);
	for (k = 0; k < nic->nb_rx_dirty; k++) {
		struct nic_ctx *c = &nic->ctx[nic->rx_dirty[k]];

		for (q = 0; q < c->nb_queues; q++)
			if (c->q[q] != NULL)
				nic_status_publish(nic, &c->q[q]->rx);
		c->rx_unpublished = 0;
	}
	nic->nb_rx_dirty = 0;
}

/*
 * Lists ctx for the next nic_rx_publish_all. The flag keeps a context on
 * the list once, so the list never outgrows max_contexts: every path that
 * writes RX statuses publishes before returning to the vmm, and a context
 * is freed only after a publish (cdna_nic_ctx_free), never while listed.
 */
static inline void
nic_rx_mark_dirty(struct cdna_nic *nic, struct nic_ctx *c, uint32_t ci)
{
	if (c->rx_unpublished)
		return;
	c->rx_unpublished = 1;
	nic->rx_dirty[nic->nb_rx_dirty++] = ci;
}

/*
 * (start + i) mod n for start <= n and i < n, the rotations' case, without
 * a division: a divide costs tens of cycles, once per guest per poll.
 */
static inline uint32_t
nic_wrap(uint32_t s, uint32_t n)
{
	if (s >= n)
		s -= n;
	return likely(s < n) ? s : s % n;
}

struct cdna_nic *
cdna_nic_create(const struct cdna_nic_config *cfg)
{
	struct cdna_nic *nic;

	if (cfg->max_contexts == 0 || cfg->mp == NULL ||
	    cfg->burst == 0 || cfg->burst > NIC_BURST_MAX)
		return NULL;
	nic = rte_zmalloc_socket("cdna_nic", sizeof(*nic) +
			(size_t)cfg->max_contexts * (sizeof(struct nic_ctx) +
						     2 * sizeof(uint32_t)),
			RTE_CACHE_LINE_SIZE, cfg->socket_id);
	if (nic == NULL)
		return NULL;
	nic->cfg = *cfg;
	nic->live = (uint32_t *)&nic->ctx[cfg->max_contexts];
	nic->rx_dirty = &nic->live[cfg->max_contexts];
	nic->mac_mask = rte_align32pow2(2 * cfg->max_contexts) - 1;
	nic->mac_shift = 64 - rte_log2_u32(nic->mac_mask + 1);
	nic->mac_key_tab = rte_zmalloc_socket("cdna_nic_macs",
			(nic->mac_mask + 1) * sizeof(uint64_t), 0, cfg->socket_id);
	nic->mac_ctx_tab = rte_zmalloc_socket("cdna_nic_macs",
			(nic->mac_mask + 1) * sizeof(uint32_t), 0, cfg->socket_id);
	if (nic->mac_key_tab == NULL || nic->mac_ctx_tab == NULL) {
		rte_free(nic->mac_key_tab);
		rte_free(nic->mac_ctx_tab);
		rte_free(nic);
		return NULL;
	}
	return nic;
}

/*
 * Fibonacci hashing: the top bits of the product, which every bit of the
 * MAC reaches. Middle bits would map the vmm's sequential MACs to adjacent
 * slots, one cluster that every unknown destination (the wire's traffic)
 * probes to its end: 7 probes a frame at 16 guests (bench/nic_micro).
 */
static inline uint32_t
mac_slot(const struct cdna_nic *nic, uint64_t mac64)
{
	return (uint32_t)((mac64 * 0x9e3779b97f4a7c15ull) >> nic->mac_shift);
}

/* The MAC table anew from the live contexts (control path: rare, small). */
static void
nic_mac_rebuild(struct cdna_nic *nic)
{
	uint32_t k, h;

	memset(nic->mac_key_tab, 0, (nic->mac_mask + 1) * sizeof(uint64_t));
	nic->mac_dups = 0;
	for (k = 0; k < nic->nb_live; k++) {
		uint32_t ci = nic->live[k];
		uint64_t key = nic->ctx[ci].mac64 + 1;

		for (h = mac_slot(nic, nic->ctx[ci].mac64);
		     nic->mac_key_tab[h] != 0 && nic->mac_key_tab[h] != key;
		     h = (h + 1) & nic->mac_mask)
			;
		if (nic->mac_key_tab[h] == key) {
			nic->mac_dups++;
			continue;
		}
		nic->mac_key_tab[h] = key;
		nic->mac_ctx_tab[h] = ci;
	}
}

/* The context holding MAC dst, other than src_ctx; -1 if none. */
static inline int64_t
nic_mac_find(const struct cdna_nic *nic, uint64_t dst, int64_t src_ctx)
{
	uint32_t h, k;

	if (unlikely(nic->mac_dups != 0)) {
		for (k = 0; k < nic->nb_live; k++)
			if (nic->ctx[nic->live[k]].mac64 == dst &&
			    (int64_t)nic->live[k] != src_ctx)
				return nic->live[k];
		return -1;
	}
	/* At most half full: a probe ends at an empty slot. */
	for (h = mac_slot(nic, dst); nic->mac_key_tab[h] != 0;
	     h = (h + 1) & nic->mac_mask)
		if (nic->mac_key_tab[h] == dst + 1)
			return (int64_t)nic->mac_ctx_tab[h] != src_ctx ?
				(int64_t)nic->mac_ctx_tab[h] : -1;
	return -1;
}

void
cdna_nic_destroy(struct cdna_nic *nic)
{
	uint32_t c;
	uint16_t q;

	if (nic == NULL)
		return;
	nic_rx_run_flush(nic);
	for (c = 0; c < nic->cfg.max_contexts; c++)
		for (q = 0; q < CDNA_MAX_QUEUES; q++)
			if (nic->ctx[c].q[q] != NULL)
				cdna_nic_queue_destroy(nic, c, q);
	rte_pktmbuf_free_bulk(nic->wire_out, nic->nb_wire_out);
	rte_pktmbuf_free_bulk(nic->spare, nic->nb_spare);
	rte_free(nic->mac_key_tab);
	rte_free(nic->mac_ctx_tab);
	rte_free(nic);
}

int
cdna_nic_ctx_alloc(struct cdna_nic *nic, const uint8_t mac[6],
		   uint16_t nb_queues, cdna_nic_xlate_fn xlate, void *arg)
{
	uint32_t i;

	if (nb_queues == 0 || nb_queues > CDNA_MAX_QUEUES)
		return -EINVAL;
	for (i = 0; i < nic->cfg.max_contexts; i++) {
		struct nic_ctx *c = &nic->ctx[i];

		if (c->in_use)
			continue;
		memset(c, 0, sizeof(*c));
		c->in_use = 1;
		memcpy(c->mac, mac, 6);
		c->mac64 = mac_key(mac);
		nic->live[nic->nb_live++] = i;
		nic_mac_rebuild(nic);
		c->nb_queues = nb_queues;
		c->mtu = RTE_ETHER_MTU;
		c->xlate = xlate;
		c->xlate_arg = arg;
		return (int)i;
	}
	return -ENOSPC;
}

void
cdna_nic_ctx_free(struct cdna_nic *nic, uint32_t ctx)
{
	uint16_t q;

	uint32_t i;

	/* Nothing of this context's left on the RX list (nic_rx_mark_dirty). */
	nic_rx_publish_all(nic);
	for (q = 0; q < CDNA_MAX_QUEUES; q++)
		if (nic->ctx[ctx].q[q] != NULL)
			cdna_nic_queue_destroy(nic, ctx, q);
	nic->ctx[ctx].in_use = 0;
	for (i = 0; i < nic->nb_live; i++) {
		if (nic->live[i] == ctx) {
			nic->live[i] = nic->live[--nic->nb_live];
			break;
		}
	}
	nic_mac_rebuild(nic);
}

void
cdna_nic_ctx_set_mac(struct cdna_nic *nic, uint32_t ctx, const uint8_t mac[6])
{
	memcpy(nic->ctx[ctx].mac, mac, 6);
	nic->ctx[ctx].mac64 = mac_key(mac);
	nic_mac_rebuild(nic);
}

void
cdna_nic_ctx_set_rxmode(struct cdna_nic *nic, uint32_t ctx, int promisc,
			int allmulti)
{
	nic->ctx[ctx].promisc = promisc;
	nic->ctx[ctx].allmulti = allmulti;
}

void
cdna_nic_ctx_set_spoof_check(struct cdna_nic *nic, uint32_t ctx, int on)
{
	nic->ctx[ctx].spoof_check = on;
}

void
cdna_nic_ctx_set_mtu(struct cdna_nic *nic, uint32_t ctx, uint32_t mtu)
{
	nic->ctx[ctx].mtu = mtu;
}

const struct cdna_nic_ctx_stats *
cdna_nic_ctx_stats(const struct cdna_nic *nic, uint32_t ctx)
{
	return &nic->ctx[ctx].st;
}

const struct cdna_nic_stats *
cdna_nic_stats(const struct cdna_nic *nic)
{
	return &nic->st;
}

void
cdna_nic_ctx_fault(struct cdna_nic *nic, uint32_t ctx)
{
	nic_ctx_mark_faulted(nic, &nic->ctx[ctx], CDNA_NIC_FAULT_MANUAL);
}

const struct cdna_nic_fault *
cdna_nic_ctx_fault_info(const struct cdna_nic *nic, uint32_t ctx)
{
	return &nic->ctx[ctx].fault;
}

uint32_t
cdna_nic_take_faults(struct cdna_nic *nic)
{
	uint32_t n = nic->new_faults;

	nic->new_faults = 0;
	return n;
}

int
cdna_nic_ctx_faulted(const struct cdna_nic *nic, uint32_t ctx)
{
	return nic->ctx[ctx].fault.why;
}

void
cdna_nic_inject_bad_dma(struct cdna_nic *nic, uint32_t ctx, uint64_t addr,
			uint32_t count)
{
	nic->ctx[ctx].bad_dma_addr = addr;
	nic->ctx[ctx].bad_dma_left = count;
}

void
cdna_nic_set_audit(struct cdna_nic *nic, cdna_nic_audit_fn fn, void *arg)
{
	nic->audit = fn;
	nic->audit_arg = arg;
}

/*
 * A status entry the NIC has not written yet must match no descriptor: a
 * mediator tags each with its number (slot and lap), and ~slot lies in
 * another slot (mask - slot, never slot itself: the mask is odd). A
 * zeroed entry would read as "descriptor 0, OK".
 */
static void
nic_status_unwritten(struct cdna_nic_ring *r)
{
	uint32_t i;

	for (i = 0; i < r->size; i++)
		r->status[i].tag = ~i;
}

static int
nic_ring_init(struct cdna_nic_ring *r, uint32_t size, int socket)
{
	memset(r, 0, sizeof(*r));
	if (!cdna_is_pow2(size) || size < CDNA_RING_MIN || size > CDNA_RING_MAX)
		return -EINVAL;
	r->desc = rte_zmalloc_socket("cdna_nic_desc", size * sizeof(*r->desc),
				     RTE_CACHE_LINE_SIZE, socket);
	r->status = rte_zmalloc_socket("cdna_nic_status",
				       size * sizeof(*r->status),
				       RTE_CACHE_LINE_SIZE, socket);
	if (r->desc == NULL || r->status == NULL) {
		rte_free(r->desc);
		rte_free(r->status);
		return -ENOMEM;
	}
	r->size = size;
	r->mask = size - 1;
	r->tail = &r->own_tail;
	r->st_prod = &r->own_st_prod;
	nic_status_unwritten(r);
	return 0;
}

static int
nic_ring_attach(struct cdna_nic_ring *r, const struct cdna_nic_ext_ring *e)
{
	memset(r, 0, sizeof(*r));
	if (!cdna_is_pow2(e->size) || e->size < CDNA_RING_MIN ||
	    e->size > CDNA_RING_MAX || e->desc == NULL || e->status == NULL ||
	    e->tail == NULL || e->st_prod == NULL)
		return -EINVAL;
	r->desc = e->desc;
	r->status = e->status;
	r->tail = e->tail;
	r->st_prod = e->st_prod;
	r->size = e->size;
	r->mask = e->size - 1;
	r->guest_written = 1;
	/* Whatever the guest left there: the NIC starts where the ring does. */
	r->head.val = cdna_load_acquire(e->st_prod);
	r->st_prod_v = r->st_pub = r->head.val;
	return 0;
}

/* The queue record itself, or NULL when q is out of range or taken. */
static struct cdna_nic_queue *
nic_queue_new(struct cdna_nic *nic, struct nic_ctx *c, uint16_t q)
{
	if (q >= c->nb_queues || c->q[q] != NULL)
		return NULL;
	return rte_zmalloc_socket("cdna_nic_queue", sizeof(struct cdna_nic_queue),
				  RTE_CACHE_LINE_SIZE, nic->cfg.socket_id);
}

struct cdna_nic_queue *
cdna_nic_queue_attach(struct cdna_nic *nic, uint32_t ctx, uint16_t q,
		      const struct cdna_nic_ext_ring *tx,
		      const struct cdna_nic_ext_ring *rx)
{
	struct nic_ctx *c = &nic->ctx[ctx];
	struct cdna_nic_queue *nq = nic_queue_new(nic, c, q);

	if (nq == NULL)
		return NULL;
	if (nic_ring_attach(&nq->tx, tx) != 0 ||
	    nic_ring_attach(&nq->rx, rx) != 0) {
		rte_free(nq);
		return NULL;
	}
	c->q[q] = nq;
	return nq;
}

static void
nic_ring_free(struct cdna_nic_ring *r)
{
	if (r->guest_written)
		return;		/* the caller's memory */
	rte_free(r->desc);
	rte_free(r->status);
}

struct cdna_nic_queue *
cdna_nic_queue_create(struct cdna_nic *nic, uint32_t ctx, uint16_t q,
		      uint32_t tx_size, uint32_t rx_size)
{
	struct nic_ctx *c = &nic->ctx[ctx];
	struct cdna_nic_queue *nq = nic_queue_new(nic, c, q);

	if (nq == NULL)
		return NULL;
	if (nic_ring_init(&nq->tx, tx_size, nic->cfg.socket_id) != 0) {
		rte_free(nq);
		return NULL;
	}
	if (nic_ring_init(&nq->rx, rx_size, nic->cfg.socket_id) != 0) {
		rte_free(nq->tx.desc);
		rte_free(nq->tx.status);
		rte_free(nq);
		return NULL;
	}
	c->q[q] = nq;
	return nq;
}

/*
 * c's active TX rings anew, after a queue went or was turned on or off (a
 * queue comes inactive: cdna_nic_queue_enable lists it).
 */
static void
nic_ctx_tx_on(struct nic_ctx *c)
{
	uint16_t q;

	c->nb_tx_on = 0;
	for (q = 0; q < c->nb_queues; q++)
		if (c->q[q] != NULL && c->q[q]->active)
			c->tx_on[c->nb_tx_on++] = &c->q[q]->tx;
}

void
cdna_nic_queue_enable(struct cdna_nic *nic, uint32_t ctx, uint16_t q, int on)
{
	if (nic->ctx[ctx].q[q] != NULL)
		nic->ctx[ctx].q[q]->active = on;
	nic_ctx_tx_on(&nic->ctx[ctx]);
}

void
cdna_nic_queue_destroy(struct cdna_nic *nic, uint32_t ctx, uint16_t q)
{
	struct cdna_nic_queue *nq = nic->ctx[ctx].q[q];

	if (nq == NULL)
		return;
	nic_rx_run_flush(nic);	/* no queued delivery left into its rings */
	nic->ctx[ctx].q[q] = NULL;
	nic_ctx_tx_on(&nic->ctx[ctx]);
	nic_event_unlink(nic, &nq->tx);
	nic_event_unlink(nic, &nq->rx);
	nic_ring_free(&nq->tx);
	nic_ring_free(&nq->rx);
	rte_free(nq);
}

/* ---- switch ---------------------------------------------------------- */

/*
 * DMA one frame into the next posted RX buffer of ctx. The frame is the
 * mbuf chain m (one segment in practice). Counts the outcome.
 */
static void
nic_deliver(struct cdna_nic *nic, uint32_t ci, const struct rte_mbuf *m)
{
	struct nic_ctx *c = &nic->ctx[ci];
	struct cdna_nic_queue *nq = NULL;
	struct cdna_nic_ring *r;
	struct cdna_nic_desc d;
	uint32_t head, tail, len = m->pkt_len;
	uint16_t i, q = 0;
	uint8_t *dst;

	/*
	 * Spread frames over the context's active queues. The queue whose
	 * turn it is, usually active, is taken without the search's loop.
	 */
	q = c->next_rx_queue < c->nb_queues ? c->next_rx_queue : 0;
	if (likely(q < c->nb_queues && c->q[q] != NULL && c->q[q]->active)) {
		nq = c->q[q];
		c->next_rx_queue = (uint16_t)(q + 1);
	}
	for (i = 1; nq == NULL && i < c->nb_queues; i++) {
		q = (uint16_t)nic_wrap(c->next_rx_queue + i, c->nb_queues);
		if (c->q[q] != NULL && c->q[q]->active) {
			nq = c->q[q];
			c->next_rx_queue = (uint16_t)(q + 1);
		}
	}
	if (nq == NULL) {
		c->st.rx_nobuf++;
		return;
	}
	r = &nq->rx;
	head = r->head.val;
	if (nic_doorbell(nic, c, r, q, CDNA_DIR_RX, &tail) != 0 ||
	    head == tail) {
		c->st.rx_nobuf++;
		return;
	}
	nic_rx_mark_dirty(nic, c, ci);	/* a status follows, whatever happens */
	/* One read of the descriptor: a guest may be rewriting it. */
	d = r->desc[head & r->mask];
	rte_compiler_barrier();
	if (unlikely(len > d.len || len > cdna_mtu_frame_max(c->mtu))) {
		/* The buffer stays posted for a frame that fits. */
		c->st.rx_oversize++;
		return;
	}
	dst = unlikely(c->fault.why != CDNA_NIC_FAULT_NONE) ? NULL :
		nic_xlate(c, d.addr, len, CDNA_DIR_RX);
	if (unlikely(dst == NULL))
		goto refuse;
	/* One segment holding the whole frame: else segment by segment below. */
	if (likely(m->nb_segs == 1 && m->data_len == len)) {
		unsigned int k;

		if (unlikely(nic->nb_rx_op == NIC_RX_RUN_MAX)) {
			nic_rx_run_flush(nic);
			/* The run may have faulted c itself: then no copy. */
			if (unlikely(c->fault.why != CDNA_NIC_FAULT_NONE))
				goto refuse;
		}
		k = nic->nb_rx_op++;
		nic->rx_op[k] = (struct nic_rx_op){ r, ci, d.tag, q,
						    NIC_RX_PENDING };
		nic->rx_copy[k] = (struct cdna_dma_op){
			dst, rte_pktmbuf_mtod(m, const void *), len };
		r->head.val = head + 1;
		return;
	}
	/* A chain, copied segment by segment now: after the run, in order. */
	nic_rx_run_flush(nic);
	if (unlikely(c->fault.why != CDNA_NIC_FAULT_NONE))
		goto refuse;	/* faulted by the run just performed */
	if (nic->audit != NULL)
		nic->audit(nic->audit_arg, ci, q, dst, len, CDNA_DIR_RX);
	if (unlikely(nic_dma_to(dst, m) != 0)) {
		c->st.dma_fault++;
		nic_ctx_mark_faulted(nic, c, CDNA_NIC_FAULT_MEMORY);
		nic_status(r, d.tag, 0, CDNA_ST_DMA_FAULT);
		r->head.val = head + 1;
		return;
	}
	c->st.rx_pkts++;
	c->st.rx_bytes += len;
	nic_status(r, d.tag, len, CDNA_ST_OK);
	r->head.val = head + 1;
	return;
refuse:
	/* Untranslatable, or c faulted: the buffer is used up, nothing copied. */
	nic_rx_run_flush(nic);	/* this ring's earlier statuses first */
	c->st.dma_fault++;
	nic_status(r, d.tag, 0, CDNA_ST_DMA_FAULT);
	r->head.val = head + 1;
}

/*
 * Whether c takes a frame no context owns. Unknown unicast reaches
 * promiscuous contexts only from the wire: what one guest sends towards the
 * wire is not another guest's to see, as on an SR-IOV embedded switch.
 */
static inline int
nic_rx_filter(const struct nic_ctx *c, const struct rte_ether_addr *dst,
	      int from_wire)
{
	if (rte_is_broadcast_ether_addr(dst))
		return 1;
	if (rte_is_multicast_ether_addr(dst))
		return c->promisc || c->allmulti;
	return c->promisc && from_wire;
}

/* Where a frame's destination MAC sends it, besides a context (>= 0). */
#define NIC_DST_UNKNOWN	(-1)	/* unicast no other context holds */
#define NIC_DST_FLOOD	(-2)	/* broadcast or multicast: filters decide */
#define NIC_DST_RUNT	(-3)	/* shorter than an Ethernet header */

/*
 * The destination of m, from src_ctx (or the wire, < 0), looked up once:
 * the context holding its unicast MAC, other than src_ctx, or one of the
 * NIC_DST_* above.
 */
static inline __rte_always_inline int64_t
nic_dst(const struct cdna_nic *nic, const struct rte_mbuf *m, int64_t src_ctx)
{
	const struct rte_ether_hdr *eh;

	if (unlikely(m->data_len < RTE_ETHER_HDR_LEN))
		return NIC_DST_RUNT;
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_unicast_ether_addr(&eh->dst_addr))
		return NIC_DST_FLOOD;
	return nic_mac_find(nic, mac_key(&eh->dst_addr), src_ctx);
}

/*
 * Sends m (owned by the caller) where its destination, dst = nic_dst(),
 * says. Inlined in the two callers below, so that the wire's path keeps
 * its one call per frame.
 */
static inline __rte_always_inline void
nic_switch_dst(struct cdna_nic *nic, struct rte_mbuf *m, int64_t src_ctx,
	       int64_t dst)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint32_t i, k, accepted = 0;
	int to_wire = (src_ctx >= 0);

	if (unlikely(dst == NIC_DST_RUNT)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (dst >= 0) {
		nic_deliver(nic, (uint32_t)dst, m);
		if (src_ctx >= 0)
			nic->st.switched++;
		nic_rx_run_free(nic, m);	/* the run may still read it */
		return;
	}
	/*
	 * Broadcast, multicast or unknown unicast: filters decide. Unknown
	 * unicast from a guest goes to the wire alone (nic_rx_filter).
	 */
	for (k = 0; k < nic->nb_live && !(dst == NIC_DST_UNKNOWN && to_wire); k++) {
		const struct nic_ctx *c;

		i = nic->live[k];
		c = &nic->ctx[i];
		if ((int64_t)i != src_ctx &&
		    nic_rx_filter(c, &eh->dst_addr, !to_wire)) {
			nic_deliver(nic, i, m);
			accepted++;
			if (src_ctx >= 0)
				nic->st.switched++;
		}
	}
	if (!to_wire && accepted == 0)
		nic->st.wire_rx_unmatched++;
	if (to_wire && nic->nb_wire_out < RTE_DIM(nic->wire_out)) {
		nic->wire_out[nic->nb_wire_out++] = m;
		return;
	}
	if (to_wire)
		nic->st.wire_tx_drop++;
	nic_rx_run_free(nic, m);
}

/* Sends m (owned by the caller) where its destination MAC says. */
static void
nic_switch(struct cdna_nic *nic, struct rte_mbuf *m, int64_t src_ctx)
{
	nic_switch_dst(nic, m, src_ctx, nic_dst(nic, m, src_ctx));
}

/* The same, its destination already looked up (nic_tx_run). */
static void __rte_noinline
nic_switch_to(struct cdna_nic *nic, struct rte_mbuf *m, int64_t src_ctx,
	      int64_t dst)
{
	nic_switch_dst(nic, m, src_ctx, dst);
}

static void
nic_wire_flush(struct cdna_nic *nic)
{
	uint16_t sent;

	if (nic->nb_wire_out == 0)
		return;
	/* A frame both delivered and sent: the run copies it before it goes. */
	nic_rx_run_flush(nic);
	sent = rte_eth_tx_burst(nic->cfg.wire_port, nic->cfg.wire_queue,
				nic->wire_out, (uint16_t)nic->nb_wire_out);
	nic->st.wire_tx += sent;
	if (sent < nic->nb_wire_out) {
		nic->st.wire_tx_drop += nic->nb_wire_out - sent;
		rte_pktmbuf_free_bulk(&nic->wire_out[sent],
				      nic->nb_wire_out - sent);
	}
	nic->nb_wire_out = 0;
}

/* ---- TX: descriptors -> frames ----------------------------------------- */

/*
 * The rest of an overlong chain, up to and including its last segment,
 * wherever the doorbells cut it: refused descriptor by descriptor, at most
 * CDNA_MAX_SEGS + 1 a call, never sent as a frame of its own.
 */
static uint32_t
nic_tx_skip(struct cdna_nic_ring *r, uint32_t head, uint32_t tail)
{
	uint32_t n = 0;

	while (head + n != tail && n <= CDNA_MAX_SEGS) {
		struct cdna_nic_desc d = r->desc[(head + n) & r->mask];

		rte_compiler_barrier();	/* only the copy is read */
		nic_status(r, d.tag, 0, CDNA_ST_BAD_CHAIN);
		n++;
		if (!(d.flags & CDNA_DESC_F_MORE)) {
			r->skip_chain = 0;
			break;
		}
	}
	return n;
}

/* A fresh mbuf from the spares, refilled a burst at a time; NULL if none. */
static inline struct rte_mbuf *
nic_mbuf_get(struct cdna_nic *nic)
{
	if (unlikely(nic->nb_spare == 0)) {
		if (rte_pktmbuf_alloc_bulk(nic->cfg.mp, nic->spare,
					   nic->cfg.burst) != 0)
			return rte_pktmbuf_alloc(nic->cfg.mp);	/* the pool's last few */
		nic->nb_spare = nic->cfg.burst;
	}
	return nic->spare[--nic->nb_spare];
}

/*
 * A TX frame whole in m, its DMA done (statuses OK): counted and kept for
 * the switch (1), or, when the context's spoof check refuses its source
 * MAC, counted and freed (0): the frame goes nowhere.
 */
static inline int
nic_tx_frame_ok(struct nic_ctx *c, struct rte_mbuf *m)
{
	if (c->spoof_check && (m->data_len < RTE_ETHER_HDR_LEN ||
	    memcmp(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr,
		   c->mac, 6) != 0)) {
		c->st.tx_spoofed++;
		rte_pktmbuf_free(m);
		return 0;
	}
	c->st.tx_pkts++;
	c->st.tx_bytes += m->pkt_len;
	return 1;
}

/*
 * Gathers one chain starting at head into a fresh mbuf; writes one status
 * per descriptor. Returns descriptors consumed (0: chain not complete yet).
 */
static uint32_t
nic_tx_one(struct cdna_nic *nic, uint32_t ci, uint16_t q,
	   struct cdna_nic_ring *r, uint32_t head, uint32_t tail,
	   struct rte_mbuf **out)
{
	struct nic_ctx *c = &nic->ctx[ci];
	struct cdna_nic_desc snap[CDNA_MAX_SEGS + 1];
	uint32_t n = 0, total = 0, i;
	uint16_t st = CDNA_ST_OK;
	struct rte_mbuf *m;

	if (unlikely(r->skip_chain))
		return nic_tx_skip(r, head, tail);
	/*
	 * Find the chain's end; the mediator posts chains whole. Each
	 * descriptor is read once, into snap: in passthrough the guest may
	 * rewrite it meanwhile, and a length checked here must be the length
	 * copied below. A chain too large is consumed to its end and refused
	 * as one: cutting it would send its tail as a frame of its own. One
	 * too long is refused at its CDNA_MAX_SEGS + 1st segment, and the
	 * rest as it comes (nic_tx_skip): a guest-written ring of nothing but
	 * MORE costs no more per call than a chain at the limit.
	 */
	for (;;) {
		struct cdna_nic_desc d;

		if (head + n == tail)
			return 0;
		d = r->desc[(head + n) & r->mask];
		rte_compiler_barrier();	/* only the copy is read */
		snap[n] = d;
		if (d.len > CDNA_MAX_FRAME_LEN - total)
			st = CDNA_ST_BAD_CHAIN;	/* overflow-safe sum bound */
		else
			total += d.len;
		n++;
		if (n > CDNA_MAX_SEGS) {
			st = CDNA_ST_BAD_CHAIN;
			r->skip_chain = (d.flags & CDNA_DESC_F_MORE) != 0;
			break;
		}
		if (!(d.flags & CDNA_DESC_F_MORE))
			break;
	}
	m = NULL;
	if (st == CDNA_ST_OK) {
		m = nic_mbuf_get(nic);
		if (unlikely(m == NULL ||
			     rte_pktmbuf_tailroom(m) < total)) {
			nic->st.mbuf_alloc_fail++;
			rte_pktmbuf_free(m);
			return 0;	/* retry on the next poll */
		}
	} else {
		c->st.tx_bad_chain++;
	}
	for (i = 0; i < n; i++) {
		const struct cdna_nic_desc *d = &snap[i];
		uint16_t dst_st = st;
		const void *src;

		if (dst_st == CDNA_ST_OK) {
			src = unlikely(c->fault.why != CDNA_NIC_FAULT_NONE) ? NULL :
				nic_xlate(c, d->addr, d->len, CDNA_DIR_TX);
			if (unlikely(src == NULL)) {
				c->st.dma_fault++;
				dst_st = st = CDNA_ST_DMA_FAULT;
			} else {
				if (nic->audit != NULL)
					nic->audit(nic->audit_arg, ci, q, src,
						   d->len, CDNA_DIR_TX);
				if (unlikely(cdna_dma_copy(
						rte_pktmbuf_mtod_offset(m, void *,
							m->data_len),
						src, d->len, src) != 0)) {
					c->st.dma_fault++;
					nic_ctx_mark_faulted(nic, c,
						CDNA_NIC_FAULT_MEMORY);
					dst_st = st = CDNA_ST_DMA_FAULT;
				}
				m->data_len = (uint16_t)(m->data_len + d->len);
			}
		}
		nic_status(r, d->tag, dst_st == CDNA_ST_OK ? d->len : 0,
			   dst_st);
	}
	if (st != CDNA_ST_OK) {
		rte_pktmbuf_free(m);
		return n;
	}
	m->pkt_len = m->data_len;
	if (nic_tx_frame_ok(c, m))
		*out = m;
	return n;
}

/*
 * A run of one-descriptor frames, copied under one recovery point
 * (cdna_dma_copy_burst): sigsetjmp and the call per frame were a tenth of
 * the NIC's instructions per frame (bench/nic_micro).
 */
struct nic_tx_run {
	struct cdna_nic *nic;
	uint32_t ci;
	uint16_t q;
	struct cdna_dma_op op[NIC_BURST_MAX];
	struct rte_mbuf *m[NIC_BURST_MAX];
	uint32_t tag[NIC_BURST_MAX];
};

/* The audit hook ahead of each copy of a run, as nic_tx_one calls it. */
static int
nic_tx_run_audit(void *arg, unsigned int i)
{
	struct nic_tx_run *t = arg;

	t->nic->audit(t->nic->audit_arg, t->ci, t->q, t->op[i].src,
		      t->op[i].len, CDNA_DIR_TX);
	return 0;
}

/*
 * Serves the one-descriptor frames at head, at most budget, with the
 * outcome nic_tx_one would give each: statuses in ring order, the frames
 * switched, a fault's context marked and every later frame of the run
 * refused, as nic_tx_one refuses DMA for a faulted context. Anything else
 * at head (a chain, a length nic_tx_one refuses, a faulted context, a
 * fault being injected, no mbuf) ends the run and is left to nic_tx_one.
 * Each descriptor is read once, and a failed translation is consumed here
 * and not repeated. Returns descriptors consumed; frames sent in *moved.
 */
static uint32_t
nic_tx_run(struct cdna_nic *nic, uint32_t ci, uint16_t q,
	   struct cdna_nic_ring *r, uint32_t head, uint32_t tail,
	   unsigned int budget, unsigned int *moved)
{
	struct nic_ctx *c = &nic->ctx[ci];
	struct nic_tx_run t;
	struct cdna_nic_desc d;
	uint32_t n = 0, done, i, bad = 0;
	int64_t dst;

	if (unlikely(r->skip_chain || c->fault.why != CDNA_NIC_FAULT_NONE ||
		     c->bad_dma_left != 0))
		return 0;
	while (n < budget && head + n != tail) {
		struct rte_mbuf *m;
		const void *src;

		d = r->desc[(head + n) & r->mask];
		rte_compiler_barrier();	/* only the copy is read */
		if ((d.flags & CDNA_DESC_F_MORE) || d.len > CDNA_MAX_FRAME_LEN)
			break;
		m = nic_mbuf_get(nic);
		if (m == NULL)
			break;
		if (unlikely(rte_pktmbuf_tailroom(m) < d.len)) {
			rte_pktmbuf_free(m);	/* nic_tx_one counts it */
			break;
		}
		src = nic_xlate(c, d.addr, d.len, CDNA_DIR_TX);
		if (unlikely(src == NULL)) {
			nic->spare[nic->nb_spare++] = m;	/* just taken: room */
			bad = 1;
			break;
		}
		t.op[n] = (struct cdna_dma_op){ rte_pktmbuf_mtod(m, void *),
						src, d.len };
		t.m[n] = m;
		t.tag[n] = d.tag;
		n++;
	}
	if (n == 0 && !bad)
		return 0;
	t.nic = nic;
	t.ci = ci;
	t.q = q;
	done = n == 0 ? 0 : cdna_dma_copy_burst(t.op, n, 0,
			nic->audit != NULL ? nic_tx_run_audit : NULL, &t);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = t.m[i];

		if (unlikely(i >= done)) {
			/* The faulted copy, and those after it in a faulted context. */
			c->st.dma_fault++;
			if (i == done)
				nic_ctx_mark_faulted(nic, c, CDNA_NIC_FAULT_MEMORY);
			nic_status(r, t.tag[i], 0, CDNA_ST_DMA_FAULT);
			rte_pktmbuf_free(m);
			continue;
		}
		m->data_len = (uint16_t)t.op[i].len;
		m->pkt_len = t.op[i].len;
		nic_status(r, t.tag[i], t.op[i].len, CDNA_ST_OK);
		if (!nic_tx_frame_ok(c, m))
			continue;
		dst = nic_dst(nic, m, ci);
		/* Most of what guests send: to the wire alone, queued right here. */
		if (likely(dst == NIC_DST_UNKNOWN &&
			   nic->nb_wire_out < RTE_DIM(nic->wire_out)))
			nic->wire_out[nic->nb_wire_out++] = m;
		else
			nic_switch_to(nic, m, ci, dst);
		(*moved)++;
		if (nic->nb_wire_out >= NIC_BURST_MAX)
			nic_wire_flush(nic);
	}
	if (bad) {
		/* The refused translation, in its place after the run. */
		c->st.dma_fault++;
		nic_status(r, d.tag, 0, CDNA_ST_DMA_FAULT);
	}
	return n + bad;
}

/*
 * The frames about to be copied were just written by the guest on another
 * CPU: their first lines miss in this cache. Asking for all of them before
 * the first copy lets the misses overlap instead of coming one frame at a
 * time. With the "host" stage the addresses are the driver's, checked; with
 * an address stage they are first translated, as hints (a failed one
 * prefetches nothing), and a guest-written ring's own lines miss too. A
 * prefetch never faults, and nothing read here is used for the DMA itself:
 * nic_tx_one reads each descriptor again, once.
 */
static inline void
nic_tx_prefetch(struct nic_ctx *c, const struct cdna_nic_ring *r,
		uint32_t head, uint32_t tail, unsigned int budget)
{
	uint32_t n = RTE_MIN(tail - head, budget), i;

	if (c->xlate == NULL) {
		for (i = 0; i < n; i++)
			rte_prefetch0((const void *)(uintptr_t)
				      r->desc[(head + i) & r->mask].addr);
		return;
	}
	if (r->guest_written)
		for (i = 0; i < n; i += RTE_CACHE_LINE_SIZE / sizeof(*r->desc))
			rte_prefetch0(&r->desc[(head + i) & r->mask]);
	for (i = 0; i < n; i++) {
		const volatile struct cdna_nic_desc *d =
			&r->desc[(head + i) & r->mask];
		const void *p = c->xlate(c->xlate_arg, d->addr, 1,
					 CDNA_DIR_TX | CDNA_NIC_XLATE_PREFETCH);

		if (p != NULL)
			rte_prefetch0(p);
	}
}

/*
 * Serves up to burst descriptors of ctx, shared by its queues (the queue
 * served first rotates), so opening more queues buys no larger share of the
 * wire. A chain is never split: the last one may overshoot the budget.
 */
static unsigned int
nic_tx_ctx(struct cdna_nic *nic, uint32_t ci)
{
	struct nic_ctx *c = &nic->ctx[ci];
	unsigned int moved = 0, budget = nic->cfg.burst;
	uint16_t i, q;

	for (i = 0; i < c->nb_queues && budget > 0; i++) {
		struct cdna_nic_queue *nq;
		struct cdna_nic_ring *r;
		uint32_t head, tail, used;

		q = (uint16_t)nic_wrap(c->next_tx_queue + i, c->nb_queues);
		nq = c->q[q];
		if (nq == NULL || !nq->active)
			continue;
		r = &nq->tx;
		head = r->head.val;
		if (nic_doorbell(nic, c, r, q, CDNA_DIR_TX, &tail) != 0)
			continue;
		nic_tx_prefetch(c, r, head, tail, budget);
		while (budget > 0 && head != tail) {
			struct rte_mbuf *m = NULL;

			used = nic_tx_run(nic, ci, q, r, head, tail, budget,
					  &moved);
			if (used == 0)
				used = nic_tx_one(nic, ci, q, r, head, tail, &m);
			if (used == 0)
				break;
			head += used;
			r->head.val = head;
			budget -= RTE_MIN(used, budget);
			if (m != NULL) {
				nic_switch(nic, m, ci);
				moved++;
			}
			if (nic->nb_wire_out >= NIC_BURST_MAX)
				nic_wire_flush(nic);
		}
		nic_status_publish(nic, r);
	}
	c->next_tx_queue = (uint16_t)nic_wrap(c->next_tx_queue + 1u, c->nb_queues);
	return moved;
}

/* RX buffers posted in the fullest context queue: how much the wire may send. */
static uint32_t
nic_rx_room(const struct cdna_nic *nic)
{
	uint32_t k, room = 0;
	uint16_t q;

	for (k = 0; k < nic->nb_live; k++) {
		const struct nic_ctx *c = &nic->ctx[nic->live[k]];

		for (q = 0; q < c->nb_queues; q++) {
			const struct cdna_nic_queue *nq = c->q[q];
			uint32_t n;

			if (nq == NULL || !nq->active)
				continue;
			/* A guest's impossible doorbell is caught at delivery. */
			n = RTE_MIN(cdna_load_acquire(nq->rx.tail) -
				    nq->rx.head.val, nq->rx.size);
			if (n > room)
				room = n;
		}
		if (room >= nic->cfg.burst)
			break;	/* a burst's worth: the rest cannot raise it */
	}
	return room;
}

static unsigned int
nic_wire_rx(struct cdna_nic *nic)
{
	struct rte_mbuf *pkts[NIC_BURST_MAX];
	uint32_t room = nic_rx_room(nic);
	uint16_t n, i;

	/* Backpressure: leave frames in the wire port until a buffer waits. */
	if (room == 0)
		return 0;
	if (room > nic->cfg.burst)
		room = nic->cfg.burst;
	n = rte_eth_rx_burst(nic->cfg.wire_port, nic->cfg.wire_queue, pkts,
			     (uint16_t)room);
	nic->st.wire_rx += n;
	for (i = 0; i < n; i++)
		nic_switch(nic, pkts[i], -1);
	nic_rx_run_flush(nic);
	return n;
}

/*
 * Whether any enabled queue of c has TX descriptors past its head: a look
 * only, so that an idle context costs a poll a few loads, not a service.
 * A guest-written doorbell is read again, and bounded, by the service.
 */
static inline int
nic_tx_pending(const struct nic_ctx *c)
{
	const struct cdna_nic_ring *const *r = c->tx_on, *const *end = r + c->nb_tx_on;

	for (; r != end; r++)
		if (cdna_load_acquire((*r)->tail) != (*r)->head.val)
			return 1;
	return 0;
}

/* Serves the live contexts from..to-1 that have TX descriptors waiting. */
static inline unsigned int
nic_tx_live(struct cdna_nic *nic, uint32_t from, uint32_t to)
{
	unsigned int moved = 0;
	uint32_t i;

	for (i = from; i < to; i++)
		if (nic_tx_pending(&nic->ctx[nic->live[i]]))
			moved += nic_tx_ctx(nic, nic->live[i]);
	return moved;
}

unsigned int
cdna_nic_poll(struct cdna_nic *nic)
{
	uint32_t n = nic->nb_live;
	unsigned int moved;

	/*
	 * Round-robin: a different context goes first each round, the list
	 * walked from there to its end and then from its start, with no
	 * wrap-around to work out per context.
	 */
	if (unlikely(nic->next_ctx >= n))
		nic->next_ctx = 0;
	moved = nic_tx_live(nic, nic->next_ctx, n);
	moved += nic_tx_live(nic, 0, nic->next_ctx);
	nic->next_ctx = n != 0 ? nic_wrap(nic->next_ctx + 1, n) : 0;
	nic_wire_flush(nic);
	moved += nic_wire_rx(nic);
	nic_rx_publish_all(nic);
	return moved;
}

void
cdna_nic_queue_flush(struct cdna_nic *nic, uint32_t ctx, uint16_t q)
{
	struct nic_ctx *c = &nic->ctx[ctx];
	struct cdna_nic_queue *nq = c->q[q];
	struct cdna_nic_ring *r;
	uint32_t head, tail;

	if (nq == NULL)
		return;
	/*
	 * Perform every posted TX descriptor: the guest asked for it. A
	 * guest-written ring that cannot be trusted is left as it is.
	 */
	r = &nq->tx;
	head = r->head.val;
	if (nic_doorbell(nic, c, r, q, CDNA_DIR_TX, &tail) != 0)
		tail = head;
	while (head != tail) {
		struct rte_mbuf *m = NULL;
		uint32_t used = nic_tx_one(nic, ctx, q, r, head, tail, &m);

		if (used == 0) {
			/* No mbuf or a torn chain: abort what is left. */
			for (; head != tail; head++)
				nic_status(r, r->desc[head & r->mask].tag, 0,
					   CDNA_ST_ABORTED);
			break;
		}
		head += used;
		if (m != NULL)
			nic_switch(nic, m, ctx);
		if (nic->nb_wire_out >= NIC_BURST_MAX)
			nic_wire_flush(nic);
	}
	r->head.val = head;
	nic_status_publish(nic, r);
	nic_wire_flush(nic);
	/* Every RX status so far, the frames just switched included. */
	nic_rx_publish_all(nic);
	/* Abort every RX buffer that no frame has used. */
	r = &nq->rx;
	head = r->head.val;
	if (nic_doorbell(nic, c, r, q, CDNA_DIR_RX, &tail) != 0)
		tail = head;
	for (; head != tail; head++)
		nic_status(r, r->desc[head & r->mask].tag, 0, CDNA_ST_ABORTED);
	r->head.val = head;
	nic_status_publish(nic, r);
	nq->active = 0;
	nic_ctx_tx_on(c);
}
