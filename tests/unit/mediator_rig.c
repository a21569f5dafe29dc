/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stand-ins for what mediator.c calls outside itself (the NIC, the
 * audit, a region's retirement, the log), and the rig's set-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "guest_mem.h"
#include "mediator_rig.h"

struct vmm vmm;
struct rig rig;

/* Completes every descriptor posted on ring r (none while rig.hold). */
static unsigned int
stub_ring_poll(struct cdna_nic_ring *r, int is_rx)
{
	uint32_t head = r->head.val, tail = r->tail->val, n = 0;

	if (rig.hold)
		return 0;
	for (; head != tail; head++, n++) {
		const struct cdna_nic_desc *d = &r->desc[head & r->mask];
		struct cdna_nic_status *s = &r->status[r->st_prod->val & r->mask];

		s->tag = d->tag;
		s->len = is_rx ? rig.rx_frame : d->len;
		s->status = CDNA_ST_OK;
		s->flags = 0;
		s->reserved = 0;
		if (rig.hook != NULL)
			rig.hook(d, s, is_rx);
		r->st_prod->val++;
	}
	r->head.val = head;
	return n;
}

unsigned int __attribute__((noinline))
cdna_nic_poll(struct cdna_nic *nic)
{
	(void)nic;
	if (rig.before_nic != NULL)
		rig.before_nic();
	return stub_ring_poll(rig.tx->nic, 0) + stub_ring_poll(rig.rx->nic, 1);
}

/*
 * Both rings, every poll: the stub's cases also move the NIC's index by
 * hand, and reclaim must look at it then too (the real NIC lists a ring
 * whenever it publishes; test_nic checks that).
 */
struct cdna_nic_ring *
cdna_nic_events_take(struct cdna_nic *nic)
{
	struct cdna_nic_ring *tx = rig.tx->nic, *rx = rig.rx->nic;

	(void)nic;
	tx->ev_pending = 1;
	tx->ev_next = rx;
	rx->ev_pending = 1;
	rx->ev_next = NULL;
	return tx;
}

void
cdna_nic_queue_flush(struct cdna_nic *nic, uint32_t ctx, uint16_t q)
{
	(void)ctx;
	(void)q;
	cdna_nic_poll(nic);
}

void
audit_post(uint32_t ctx, const void *host, uint32_t len, int dir)
{
	(void)ctx; (void)host; (void)len; (void)dir;
}

void
audit_complete(uint32_t ctx, const void *host, int dir)
{
	(void)ctx; (void)host; (void)dir;
}

void
guest_mem_dma_done(struct guest *g, struct cdna_region *r)
{
	if (rig.retire != NULL) {
		rig.retire(g, r);
		return;
	}
	fprintf(stderr, "mediator_rig: the region retired, which no case asks for\n");
	abort();
}

/* The one message mediator.c logs: a queue quarantined. */
void
vlog_uid(uid_t uid, const char *fmt, ...)
{
	(void)uid;
	(void)fmt;
	rig.quarantines++;
}

static void *
zalloc(size_t n)
{
	void *p = calloc(1, n);

	if (p == NULL) {
		fprintf(stderr, "mediator_rig: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

/* One direction: the guest's rings and indices, and the NIC's ring. */
static void
dir_init(struct mq_dir *d)
{
	struct cdna_nic_ring *nr = zalloc(sizeof(*nr));
	uint32_t i;

	d->req = zalloc(RIG_RING * sizeof(*d->req));
	d->cmp = zalloc(RIG_RING * sizeof(*d->cmp));
	d->req_prod = zalloc(sizeof(*d->req_prod));
	d->cmp_cons = zalloc(sizeof(*d->cmp_cons));
	d->cmp_prod = zalloc(sizeof(*d->cmp_prod));
	d->req_cons_pub = zalloc(sizeof(*d->req_cons_pub));
	d->size = RIG_RING;
	d->mask = RIG_RING - 1;
	d->slots = zalloc(RIG_RING * sizeof(*d->slots));
	nr->desc = zalloc(RIG_RING * sizeof(*nr->desc));
	nr->status = zalloc(RIG_RING * sizeof(*nr->status));
	nr->size = RIG_RING;
	nr->mask = RIG_RING - 1;
	/* As nic.c leaves a status it has not written: matching no descriptor. */
	for (i = 0; i < RIG_RING; i++)
		nr->status[i].tag = ~i;
	/* The NIC owns this ring: its indices are its own, as nic.c sets up. */
	nr->tail = &nr->own_tail;
	nr->st_prod = &nr->own_st_prod;
	d->nic = nr;
}

/* The mediator's lists of what it visits, for the guests there are now. */
static void
rig_poll_init(void)
{
	if (mediator_init(&vmm) != 0) {
		fprintf(stderr, "mediator_rig: mediator lists: out of memory\n");
		exit(1);
	}
}

/* The mediator serves only guests whose strategy is mediated. */
static const struct strategy mediated = { .name = "mediated", .mediated = 1 };
static struct guest *guests[1 + RIG_IDLE_MAX];

/* A started guest with one queue, id id; its rings owned by the queue. */
static struct guest *
rig_guest_new(uint32_t id)
{
	struct guest *g = zalloc(sizeof(*g));

	g->strat = &mediated;
	g->id = id;
	g->started = 1;
	g->nb_queues = 1;
	g->nic_ctx = id - 1;
	g->q[0].g = g;
	g->q[0].created = 1;
	dir_init(&g->q[0].tx);
	dir_init(&g->q[0].rx);
	g->q[0].tx.nic->owner = &g->q[0];
	g->q[0].rx.nic->owner = &g->q[0];
	return g;
}

void
rig_add_idle(unsigned int n)
{
	unsigned int i;

	if (vmm.opt.max_guests - 1 + n > RIG_IDLE_MAX) {
		fprintf(stderr, "mediator_rig: %u idle guests asked for, at most %u\n",
			vmm.opt.max_guests - 1 + n, RIG_IDLE_MAX);
		exit(1);
	}
	for (i = 0; i < n; i++) {
		guests[vmm.opt.max_guests] = rig_guest_new(vmm.opt.max_guests + 1);
		vmm.opt.max_guests++;
	}
	rig_poll_init();
}

void
rig_init(uint32_t burst)
{
	struct guest *g;
	struct cdna_region *r = zalloc(sizeof(*r));

	memset(&rig, 0, sizeof(rig));
	g = rig_guest_new(1);
	vmm.opt.burst = burst;
	vmm.opt.max_guests = 1;
	guests[0] = g;
	vmm.guests = guests;
	pthread_mutex_init(&vmm.lock, NULL);
	rig_poll_init();
	if (cdna_rt_init(&g->rt, 8) != 0) {
		fprintf(stderr, "mediator_rig: region table: out of memory\n");
		exit(1);
	}
	rig.mem = zalloc(RIG_MEM);
	r->gaddr = RIG_GADDR;
	r->size = RIG_MEM;
	r->host = rig.mem;
	r->perm = CDNA_PERM_DEV_READ | CDNA_PERM_DEV_WRITE;
	r->claims = zalloc(cdna_claims_map_len(RIG_MEM));
	if (cdna_rt_insert(&g->rt, r) != 0) {
		fprintf(stderr, "mediator_rig: region table: insert refused\n");
		exit(1);
	}
	rig.g = g;
	rig.r = r;
	rig.tx = &g->q[0].tx;
	rig.rx = &g->q[0].rx;
	rig.rx_frame = 64;
}

struct cdna_region *
rig_add_region(uint64_t gaddr, uint32_t size)
{
	struct cdna_region *r = zalloc(sizeof(*r));

	r->gaddr = gaddr;
	r->size = size;
	r->host = zalloc(size);
	r->perm = CDNA_PERM_DEV_READ | CDNA_PERM_DEV_WRITE;
	r->claims = zalloc(cdna_claims_map_len(size));
	if (cdna_rt_insert(&rig.g->rt, r) != 0) {
		fprintf(stderr, "mediator_rig: region table: insert refused\n");
		exit(1);
	}
	return r;
}

void
rig_req(struct mq_dir *d, uint32_t idx, uint64_t addr, uint32_t len,
	uint32_t cookie, uint16_t flags)
{
	struct cdna_req *q = &d->req[idx & d->mask];

	memset(q, 0, sizeof(*q));
	q->addr = addr;
	q->len = len;
	q->cookie = cookie;
	q->flags = flags;
}

void
rig_publish(struct mq_dir *d, uint32_t prod)
{
	cdna_store_release(d->req_prod, prod);
}

void
rig_consume(struct mq_dir *d, uint32_t cons)
{
	cdna_store_release(d->cmp_cons, cons);
}
