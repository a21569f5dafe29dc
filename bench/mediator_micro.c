/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mediator's data path alone, for instruction counts: one guest, one
 * queue, TX requests of 64 bytes (or RX buffers of 2 KiB that take 64-byte
 * frames) fetched, validated, claimed, posted, reclaimed and completed by
 * the real mediator.c, in rounds of a burst.
 * The NIC is a stub that completes every posted descriptor at once, and
 * the "guest" here posts and consumes in this same thread, so the figure
 * is the mediator's work per descriptor and nothing else.
 *
 *   mediator_micro [ROUNDS] [tx|rx]   (default 20000 rounds of 32 TX descriptors)
 *
 * Run under `valgrind --tool=callgrind --toggle-collect=mediator_poll` by
 * bench/micro.sh, which subtracts the stub NIC's own instructions. No EAL,
 * no root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdna_ring.h"
#include "claims.h"
#include "guest_mem.h"
#include "vmm.h"

#define RING	256u
#define BURST	32u
#define MEM	(1u << 20)
#define FRAME	64u

struct vmm vmm;
static struct cdna_nic_ring *stub_ring;
static int stub_rx;		/* the ring served is the RX one */

/* ---- what mediator.c calls outside itself ---- */

/*
 * The stub NIC: every posted descriptor done, at once; a TX one whole, an
 * RX buffer filled with a FRAME-byte frame.
 */
unsigned int __attribute__((noinline))
cdna_nic_poll(struct cdna_nic *nic)
{
	struct cdna_nic_ring *r = stub_ring;
	uint32_t head = r->head.val, tail = r->tail->val, n = 0;

	(void)nic;
	for (; head != tail; head++, n++) {
		const struct cdna_nic_desc *d = &r->desc[head & r->mask];
		struct cdna_nic_status *s = &r->status[r->st_prod->val & r->mask];

		s->tag = d->tag;
		s->len = stub_rx ? FRAME : d->len;
		s->status = CDNA_ST_OK;
		s->flags = 0;
		s->reserved = 0;
		r->st_prod->val++;
	}
	r->head.val = head;
	return n;
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
	(void)g;
	(void)r;
	abort();	/* no region dies here */
}

void
vlog_uid(uid_t uid, const char *fmt, ...)
{
	(void)uid;
	fprintf(stderr, "mediator_micro: quarantined: %s\n", fmt);
	exit(1);
}

/* ---- set-up ---- */

static void *
zalloc(size_t n)
{
	void *p = calloc(1, n);

	if (p == NULL) {
		fprintf(stderr, "mediator_micro: out of memory\n");
		exit(1);
	}
	return p;
}

int
main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	/* An RX buffer as net_cdna posts one from a default mbuf pool. */
	uint32_t req_len = FRAME;
	struct guest *g = zalloc(sizeof(*g));
	struct cdna_region *r = zalloc(sizeof(*r));
	struct cdna_index *req_prod = zalloc(sizeof(*req_prod));
	struct cdna_index *cmp_cons = zalloc(sizeof(*cmp_cons));
	struct cdna_index *cmp_prod = zalloc(sizeof(*cmp_prod));
	struct cdna_index *req_cons = zalloc(sizeof(*req_cons));
	uint8_t *mem = zalloc(MEM);
	struct mq_dir *d;
	struct timespec t0, t1;
	unsigned long i, k, descs = 0;
	double ns;

	/* The mediator serves only guests whose strategy is mediated. */
	static const struct strategy mediated = { .name = "mediated", .mediated = 1 };

	if (argc > 2 && strcmp(argv[2], "rx") == 0) {
		stub_rx = 1;
		req_len = 2048;
	} else if (argc > 2 && strcmp(argv[2], "tx") != 0) {
		fprintf(stderr, "mediator_micro: direction '%s' is neither tx nor rx\n",
			argv[2]);
		return 2;
	}
	g->strat = &mediated;
	vmm.opt.burst = BURST;
	vmm.opt.max_guests = 1;
	vmm.guests = &g;
	pthread_mutex_init(&vmm.lock, NULL);
	if (cdna_rt_init(&g->rt, 8) != 0)
		return 1;
	r->gaddr = 0x100000000ull;
	r->size = MEM;
	r->host = mem;
	r->perm = CDNA_PERM_DEV_READ | CDNA_PERM_DEV_WRITE;
	r->claims = zalloc(cdna_claims_map_len(MEM));
	if (cdna_rt_insert(&g->rt, r) != 0)
		return 1;
	g->id = 1;
	g->started = 1;
	g->nb_queues = 1;
	g->nic_ctx = 0;
	g->q[0].g = g;
	g->q[0].created = 1;
	d = &g->q[0].tx;
	d->req = zalloc(RING * sizeof(*d->req));
	d->cmp = zalloc(RING * sizeof(*d->cmp));
	d->req_prod = req_prod;
	d->cmp_cons = cmp_cons;
	d->cmp_prod = cmp_prod;
	d->req_cons_pub = req_cons;
	d->size = RING;
	d->mask = RING - 1;
	d->slots = zalloc(RING * sizeof(*d->slots));
	stub_ring = zalloc(sizeof(*stub_ring));
	stub_ring->desc = zalloc(RING * sizeof(*stub_ring->desc));
	stub_ring->status = zalloc(RING * sizeof(*stub_ring->status));
	stub_ring->size = RING;
	stub_ring->mask = RING - 1;
	/* The NIC owns this ring: its indices are its own, as nic.c sets up. */
	stub_ring->tail = &stub_ring->own_tail;
	stub_ring->st_prod = &stub_ring->own_st_prod;
	d->nic = stub_ring;
	/* RX: an empty ring the mediator looks at every round, as it does. */
	g->q[0].rx = *d;
	g->q[0].rx.req_prod = zalloc(sizeof(struct cdna_index));
	g->q[0].rx.cmp_cons = zalloc(sizeof(struct cdna_index));
	g->q[0].rx.nic = zalloc(sizeof(*stub_ring));
	g->q[0].rx.nic->tail = &g->q[0].rx.nic->own_tail;
	g->q[0].rx.nic->st_prod = &g->q[0].rx.nic->own_st_prod;
	if (stub_rx) {
		/* The RX direction is the one served; TX stays empty. */
		struct mq_dir t = g->q[0].tx;

		g->q[0].tx = g->q[0].rx;
		g->q[0].rx = t;
		d = &g->q[0].rx;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < rounds; i++) {
		uint32_t p = req_prod->val;

		/* The guest: a burst of 64-byte frames (or 2 KiB buffers), each its own 2 KiB slot. */
		for (k = 0; k < BURST; k++) {
			struct cdna_req *q = &d->req[(p + k) & d->mask];

			memset(q, 0, sizeof(*q));
			q->addr = r->gaddr + ((p + k) % (MEM / 2048)) * 2048;
			q->len = req_len;
			q->cookie = p + k;
		}
		cdna_store_release(req_prod, p + BURST);
		mediator_poll(&vmm);
		/* The guest takes every completion. */
		if (cdna_load_acquire(cmp_prod) != p + BURST) {
			fprintf(stderr, "mediator_micro: round %lu: %u completions, expected %u\n",
				i, cdna_load_acquire(cmp_prod) - p, BURST);
			return 1;
		}
		for (k = 0; k < BURST; k++)
			if (d->cmp[(p + k) & d->mask].status != CDNA_ST_OK ||
			    d->cmp[(p + k) & d->mask].len != FRAME) {
				fprintf(stderr, "mediator_micro: completion %lu: status %u, length %u\n",
					p + k, d->cmp[(p + k) & d->mask].status,
					d->cmp[(p + k) & d->mask].len);
				return 1;
			}
		cdna_store_release(cmp_cons, p + BURST);
		descs += BURST;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	printf("descriptors %lu\n", descs);
	printf("ns_per_descriptor %.1f (whole loop, guest side included; not a benchmark figure)\n",
	       ns / (double)descs);
	return 0;
}
