/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the real vmm/mediator.c (tests/unit/mediator_rig.c, a stub
 * NIC) driven by a guest that the input plays. The input lays out up to
 * five regions beside the rig's own (adjacent or apart, any permission),
 * then posts TX and RX requests of any address, length and flags, chains
 * too, polls with the NIC completing or holding everything, removes and
 * adds back regions with no DMA in flight, and changes the burst and the
 * audit setting. The ring indices carry over from one input to the next,
 * so spans wrap anywhere.
 *
 * Checked after every poll, independently of the mediator's own records:
 *   - every descriptor posted and not reclaimed lies inside the mediator's
 *     mapping of a region in the table that grants its direction: no DMA
 *     outside what the guest registered;
 *   - no line is in two such descriptors when one of them is RX: the
 *     invalid-use rule, from the descriptors themselves;
 *   - each region's in-flight count, and the guest's, add up to those
 *     descriptors, and each region's claim map holds a claim on exactly
 *     the lines they cover;
 *   - every completion names a request made and not yet completed, with a
 *     known status; an OK request lies inside a region that grants its
 *     direction, with clean flags and a length the rules accept; a
 *     BAD_ADDRESS one inside none; a BAD_PERM one inside a region that
 *     lacks the permission;
 *   - no queue is quarantined (the guest here never lies about indices).
 * At the end of every input all DMA completes, every request has exactly
 * one completion, and every claim and count is back to zero.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdna_abi.h"
#include "claims.h"
#include "mediator_rig.h"
#include "regions.h"
#include "fuzz_reader.h"

#define NX		5u		/* regions beside the rig's */
#define NREG		(1u + NX)
#define X_MAX		(64u << 10)	/* bytes of each of them, at most */
#define MAX_OPS		48u
#define MAX_REQS	4096u		/* requests per input */
#define RX_FRAME	64u		/* what the stub NIC puts in an RX buffer */
/* Enough polls to take a full ring a request at a time (--burst 1), twice. */
#define DRAIN_POLLS	(2u * RIG_RING + 2u)

struct xreg {
	struct cdna_region reg;
	int in_table;
};

struct reqrec {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint8_t dir;
	uint8_t chained;	/* part of a TX chain (MORE here or before) */
	uint8_t clean;		/* no reserved field set */
	uint8_t done;
};

static struct xreg xr[NX];
static uint8_t *xmem, *xclaims;
static struct reqrec rec[MAX_REQS];
static uint32_t nrec;
/* Per region, per line: RX and TX descriptors on it now (the check's own). */
static uint16_t *lines_rx[NREG], *lines_tx[NREG];

static struct cdna_region *
region(unsigned int i)
{
	return i == 0 ? rig.r : &xr[i - 1].reg;
}

static int
in_table(unsigned int i)
{
	return i == 0 || xr[i - 1].in_table;
}

/* The stub NIC fills an RX buffer with at most RX_FRAME bytes. */
static void
rx_fill(const struct cdna_nic_desc *d, struct cdna_nic_status *s, int is_rx)
{
	if (is_rx)
		s->len = d->len < RX_FRAME ? d->len : RX_FRAME;
}

static void
setup_once(void)
{
	static int done;
	unsigned int i;

	if (done)
		return;
	done = 1;
	rig_init(32);
	rig.hook = rx_fill;
	xmem = calloc(NX, X_MAX);
	xclaims = calloc(NX, cdna_claims_map_len(X_MAX));
	for (i = 0; i < NREG; i++) {
		size_t n = (i == 0 ? RIG_MEM : X_MAX) / CDNA_CLAIM_LINE + 1;

		lines_rx[i] = calloc(n, sizeof(uint16_t));
		lines_tx[i] = calloc(n, sizeof(uint16_t));
		FUZZ_CHECK(lines_rx[i] != NULL && lines_tx[i] != NULL);
	}
	FUZZ_CHECK(xmem != NULL && xclaims != NULL);
}

/* The index of the region in the table that holds host address p, or -1. */
static int
region_of_host(uint64_t p, uint32_t len)
{
	unsigned int i;

	for (i = 0; i < NREG; i++) {
		const struct cdna_region *r = region(i);
		uint64_t h = (uint64_t)(uintptr_t)r->host;

		if (in_table(i) && p >= h && p - h < r->size &&
		    len <= r->size - (p - h))
			return (int)i;
	}
	return -1;
}

/* Brute force: the region in the table wholly holding [addr, addr+len), or -1. */
static int
region_of_guest(uint64_t addr, uint32_t len)
{
	unsigned int i;

	for (i = 0; i < NREG; i++) {
		const struct cdna_region *r = region(i);

		if (in_table(i) && addr >= r->gaddr &&
		    (u128)addr + len <= (u128)r->gaddr + r->size)
			return (int)i;
	}
	return -1;
}

static uint32_t
perm_of(int dir)
{
	return dir == CDNA_DIR_TX ? CDNA_PERM_DEV_READ : CDNA_PERM_DEV_WRITE;
}

/* The descriptors d holds posted and not reclaimed, checked; lines marked. */
static void
check_dir(struct mq_dir *d, int dir, uint64_t *inflight, uint64_t *distinct,
	  uint64_t *lines)
{
	uint32_t i;

	for (i = d->nic->st_cons.val; i != d->nic_tail; i++) {
		const struct cdna_nic_desc *nd = &d->nic->desc[i & d->mask];
		const struct mq_slot *sl = &d->slots[i & d->mask];
		int k = region_of_host(nd->addr, nd->len);
		uint64_t off, l, l0, l1;

		FUZZ_CHECK(k >= 0);
		FUZZ_CHECK(nd->len > 0);
		FUZZ_CHECK((region(k)->perm & perm_of(dir)) != 0);
		FUZZ_CHECK(sl->reg == region(k));
		off = nd->addr - (uint64_t)(uintptr_t)region(k)->host;
		FUZZ_CHECK(sl->off == off && sl->len == nd->len);
		l0 = off / CDNA_CLAIM_LINE;
		l1 = (off + nd->len - 1) / CDNA_CLAIM_LINE;
		for (l = l0; l <= l1; l++) {
			distinct[k] += lines_rx[k][l] == 0 && lines_tx[k][l] == 0;
			if (dir == CDNA_DIR_RX)
				lines_rx[k][l]++;
			else
				lines_tx[k][l]++;
			FUZZ_CHECK(lines_rx[k][l] <= 1);
			FUZZ_CHECK(lines_rx[k][l] == 0 || lines_tx[k][l] == 0);
		}
		inflight[k]++;
		*lines += l1 - l0 + 1;
	}
}

/* Undoes check_dir's marks. */
static void
unmark_dir(struct mq_dir *d)
{
	uint32_t i;

	for (i = d->nic->st_cons.val; i != d->nic_tail; i++) {
		const struct mq_slot *sl = &d->slots[i & d->mask];
		unsigned int k;

		for (k = 0; k < NREG; k++)
			if (sl->reg == region(k))
				break;
		memset(&lines_rx[k][sl->off / CDNA_CLAIM_LINE], 0,
		       ((sl->off + sl->len - 1) / CDNA_CLAIM_LINE -
			sl->off / CDNA_CLAIM_LINE + 1) * sizeof(uint16_t));
		memset(&lines_tx[k][sl->off / CDNA_CLAIM_LINE], 0,
		       ((sl->off + sl->len - 1) / CDNA_CLAIM_LINE -
			sl->off / CDNA_CLAIM_LINE + 1) * sizeof(uint16_t));
	}
}

static void
check_inflight(void)
{
	uint64_t inflight[NREG] = { 0 }, distinct[NREG] = { 0 }, lines = 0, total = 0;
	unsigned int k;

	check_dir(rig.tx, CDNA_DIR_TX, inflight, distinct, &lines);
	check_dir(rig.rx, CDNA_DIR_RX, inflight, distinct, &lines);
	unmark_dir(rig.tx);
	unmark_dir(rig.rx);
	for (k = 0; k < NREG; k++) {
		const struct cdna_region *r = region(k);

		FUZZ_CHECK(r->inflight == inflight[k]);
		/* The claim map holds a claim on exactly the lines in flight. */
		FUZZ_CHECK(cdna_claims_count(r->claims, cdna_claims_map_len(r->size)) ==
			   distinct[k]);
		total += inflight[k];
	}
	FUZZ_CHECK(rig.g->inflight == total);
	FUZZ_CHECK(rig.g->claimed_lines == lines);
	FUZZ_CHECK(rig.quarantines == 0);
}

/* What a completion says about its request, from the request alone. */
static void
check_completion(const struct cdna_cmp *c, int dir)
{
	struct reqrec *q;
	int k;

	FUZZ_CHECK(c->cookie < nrec);
	q = &rec[c->cookie];
	FUZZ_CHECK(q->dir == dir);
	FUZZ_CHECK(!q->done);
	q->done = 1;
	FUZZ_CHECK(c->status < CDNA_ST_COUNT);
	FUZZ_CHECK(c->status != CDNA_ST_DMA_FAULT && c->status != CDNA_ST_ABORTED &&
		   c->status != CDNA_ST_MAP_QUOTA);
	k = region_of_guest(q->addr, q->len);
	switch (c->status) {
	case CDNA_ST_OK:
		FUZZ_CHECK(k >= 0 && (region(k)->perm & perm_of(dir)) != 0);
		FUZZ_CHECK(q->clean && q->len > 0);
		FUZZ_CHECK((q->flags & ~CDNA_REQ_F_KNOWN) == 0);
		if (dir == CDNA_DIR_RX) {
			FUZZ_CHECK(q->flags == 0 && q->len <= CDNA_MAX_BUF_LEN);
			FUZZ_CHECK(c->len == (q->len < RX_FRAME ? q->len : RX_FRAME));
		} else {
			FUZZ_CHECK(q->len <= CDNA_MAX_FRAME_LEN && c->len == q->len);
			/* A frame of one segment holds at least an Ethernet header. */
			FUZZ_CHECK(q->chained || q->len >= 14);
		}
		break;
	case CDNA_ST_BAD_ADDRESS:
		/* Chains are refused as a whole: a segment's own range may be fine. */
		FUZZ_CHECK(q->chained || k < 0);
		break;
	case CDNA_ST_BAD_PERM:
		FUZZ_CHECK(q->chained ||
			   (k >= 0 && (region(k)->perm & perm_of(dir)) == 0));
		break;
	default:
		break;
	}
}

static void
consume(struct mq_dir *d, int dir)
{
	uint32_t i, prod = d->cmp_prod->val;

	for (i = d->cmp_cons->val; i != prod; i++)
		check_completion(&d->cmp[i & d->mask], dir);
	rig_consume(d, prod);
}

static void
poll_once(void)
{
	mediator_poll(&vmm);
	check_inflight();
	consume(rig.tx, CDNA_DIR_TX);
	consume(rig.rx, CDNA_DIR_RX);
}

/* Requests the guest has out: published and not yet completed and taken. */
static uint32_t
outstanding(const struct mq_dir *d)
{
	return d->req_prod->val - d->cmp_cons->val;
}

static const uint32_t lens[] = {
	0, 1, 13, 14, 15, 60, 63, 64, 65, 128, 1514, 1518, 2048, 2049,
	CDNA_MAX_FRAME_LEN, CDNA_MAX_FRAME_LEN + 1, CDNA_MAX_BUF_LEN,
	CDNA_MAX_BUF_LEN + 1, UINT32_MAX,
};

static const uint32_t common_lens[] = { 60, 64, 128, 1514, 2048 };

/* One request's address: mostly in or near a region, now and then anywhere. */
static uint64_t
pick_addr(struct reader *in)
{
	uint8_t how = rd8(in);
	const struct cdna_region *r = region(how % NREG);
	uint32_t off = rd16(in);

	switch ((how >> 4) % 9) {
	case 0:
		return rd64(in);
	case 1:		/* near the end, either side */
		return r->gaddr + r->size - (off % 4096);
	case 2:		/* just before the start */
		return r->gaddr - 1 - (off % 128);
	case 3:		/* a 2 KiB buffer, as net_cdna posts */
		return r->gaddr + ((uint64_t)off * 2048) % r->size;
	case 4:
	case 5:		/* a few KiB at its start: requests meet in flight */
		return r->gaddr + off % 8192;
	default:
		return r->gaddr + off % r->size;
	}
}

static void
post(struct reader *in, struct mq_dir *d, int dir, unsigned int n,
     int *open_chain)
{
	uint32_t p = d->req_prod->val;
	unsigned int i;

	/* One request kept back for the end's chain terminator. */
	for (i = 0; i < n && in->n > 0 && nrec + 1 < MAX_REQS &&
		    outstanding(d) + i < RIG_RING; i++) {
		uint8_t kind = rd8(in);
		struct reqrec *q = &rec[nrec];
		struct cdna_req *e = &d->req[(p + i) & d->mask];

		q->addr = pick_addr(in);
		switch (kind >> 6) {
		case 0:
			q->len = rd32(in) % 4096;
			break;
		case 1:
			q->len = lens[rd8(in) % RTE_DIM(lens)];
			break;
		default:	/* what guests send */
			q->len = common_lens[rd8(in) % RTE_DIM(common_lens)];
			break;
		}
		q->flags = 0;
		if ((kind & 15) == 0)
			q->flags = dir == CDNA_DIR_TX ? CDNA_REQ_F_MORE : rd16(in);
		else if ((kind & 63) == 1)
			q->flags = rd16(in);
		q->dir = (uint8_t)dir;
		q->chained = dir == CDNA_DIR_TX &&
			(*open_chain || (q->flags & CDNA_REQ_F_MORE) != 0);
		q->done = 0;
		rig_req(d, p + i, q->addr, q->len, nrec, q->flags);
		if ((kind & 63) == 2) {
			/* One of the reserved fields, or all three. */
			uint8_t which = rd8(in);

			e->reserved0 = which & 1 ? rd16(in) : 0;
			e->reserved1 = which & 2 ? rd32(in) : 0;
			e->reserved2 = which & 4 ? rd64(in) : 0;
		}
		q->clean = e->reserved0 == 0 && e->reserved1 == 0 && e->reserved2 == 0;
		if (dir == CDNA_DIR_TX)
			*open_chain = (q->flags & CDNA_REQ_F_MORE) != 0;
		nrec++;
	}
	rig_publish(d, p + i);
}

/* An extra region's layout: where it starts, its size and permission. */
static void
lay_out(struct reader *in)
{
	uint64_t next = RIG_GADDR + RIG_MEM;
	unsigned int i;

	for (i = 0; i < NX; i++) {
		struct cdna_region *r = &xr[i].reg;
		uint8_t how = rd8(in);

		memset(r, 0, sizeof(*r));
		/* Adjacent to the one before, or a gap of some pages. */
		r->gaddr = next + (how & 1 ? 0 : 4096u * (1 + (how >> 1) % 16));
		r->size = (how & 0x40) ? X_MAX : 4096u * (1 + rd8(in) % 16);
		if ((how & 0x80) && r->size > 64)
			r->size -= 1 + rd8(in) % 63;	/* not a whole line */
		r->host = xmem + (size_t)i * X_MAX;
		r->claims = xclaims + (size_t)i * cdna_claims_map_len(X_MAX);
		r->perm = rd8(in) % 4;
		memset(r->claims, 0, cdna_claims_map_len(X_MAX));
		next = r->gaddr + r->size;
		xr[i].in_table = 0;
		if (rd8(in) % 4 != 0) {
			FUZZ_CHECK(cdna_rt_insert(&rig.g->rt, r) == 0);
			xr[i].in_table = 1;
		}
	}
}

/* A region leaves the table (as REGION_DEL does with no DMA in flight) or comes back. */
static void
toggle_region(unsigned int i)
{
	struct xreg *x = &xr[i];

	if (x->in_table) {
		if (x->reg.inflight != 0)
			return;
		FUZZ_CHECK(cdna_claims_count(x->reg.claims,
					     cdna_claims_map_len(x->reg.size)) == 0);
		FUZZ_CHECK(cdna_rt_remove(&rig.g->rt, &x->reg) == 0);
		x->reg.dying = 1;
		x->in_table = 0;
	} else {
		x->reg.dying = 0;
		FUZZ_CHECK(cdna_rt_insert(&rig.g->rt, &x->reg) == 0);
		x->in_table = 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader in = { data, size };
	int open_chain = 0, rx_open = 0;
	unsigned int op, i, spins;

	setup_once();
	nrec = 0;
	vmm.opt.burst = 1u + rd8(&in) % 64;
	vmm.opt.audit = rd8(&in) & 1;
	lay_out(&in);
	for (op = 0; op < MAX_OPS && in.n > 0; op++) {
		uint8_t what = rd8(&in);

		switch (what % 8) {
		case 0:
		case 1:
		case 2:
			post(&in, rig.tx, CDNA_DIR_TX, 1 + rd8(&in) % 48, &open_chain);
			break;
		case 3:
		case 4:
			post(&in, rig.rx, CDNA_DIR_RX, 1 + rd8(&in) % 48, &rx_open);
			break;
		case 5:
			toggle_region(rd8(&in) % NX);
			break;
		default:
			rig.hold = (what >> 3) & 1;
			poll_once();
			break;
		}
	}

	/*
	 * All DMA completes; an open chain (at most 32 requests: a longer
	 * one is refused as it comes) is then ended with a frame that is
	 * fine alone, so that it completes too. Each poll takes at least
	 * one request of each ring the NIC is not holding.
	 */
	rig.hold = 0;
	for (spins = 0; spins < DRAIN_POLLS && (outstanding(rig.tx) || outstanding(rig.rx)); spins++)
		poll_once();
	if (open_chain) {
		struct reqrec *q = &rec[nrec];

		FUZZ_CHECK(nrec < MAX_REQS && outstanding(rig.tx) < RIG_RING);
		*q = (struct reqrec){ .addr = RIG_GADDR, .len = 60,
				      .dir = CDNA_DIR_TX, .chained = 1, .clean = 1 };
		rig_req(rig.tx, rig.tx->req_prod->val, q->addr, q->len, nrec, 0);
		rig_publish(rig.tx, rig.tx->req_prod->val + 1);
		nrec++;
	}
	for (spins = 0; spins < DRAIN_POLLS && (outstanding(rig.tx) || outstanding(rig.rx)); spins++)
		poll_once();
	FUZZ_CHECK(outstanding(rig.tx) == 0 && outstanding(rig.rx) == 0);
	for (i = 0; i < nrec; i++)
		FUZZ_CHECK(rec[i].done);
	check_inflight();
	FUZZ_CHECK(rig.g->inflight == 0 && rig.g->claimed_lines == 0);
	for (i = 0; i < NX; i++)
		if (xr[i].in_table)
			toggle_region(i);
	return 0;
}
