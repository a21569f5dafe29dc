/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the real vmm/mediator.c (tests/unit/mediator_rig.c, a stub
 * NIC) driven by a guest that the input plays. The input lays out up to
 * five regions beside the rig's own (adjacent or apart, any permission),
 * then posts TX and RX requests of any address, length and flags, chains
 * too, polls with the NIC completing or holding everything, removes
 * regions (with DMA in flight or not) and adds them back once retired,
 * and changes the burst and the audit setting. The ring indices carry
 * over from one input to the next, so spans wrap anywhere.
 *
 * Checked at every poll as the NIC's turn comes (every descriptor the
 * mediator posted is then in flight), against the descriptors themselves
 * and a model of the guest's requests, not the mediator's records:
 *   - every descriptor lies inside the mediator's mapping of a region in
 *     the table that grants its direction, or of a region removed since
 *     it was posted (its DMA may finish); it is the one its request asked
 *     for (address, length), posted once;
 *   - no line is under two descriptors when one of them is RX;
 *   - each region's in-flight count, and the guest's, add up to those
 *     descriptors; each claim-map byte under them says what they hold (RX,
 *     or the number of TX reads), and no other byte holds a claim.
 * And after every poll, for every completion: a request made and not yet
 * completed; for a request that is a frame of its own (not part of a TX
 * chain), exactly the status the rules give from its fields, the regions
 * in the table and the descriptors in flight before it (validate.h's
 * order: flags, length, address, permission, claims, then the Ethernet
 * header); for a chain's segment, OK only with fields that allow it.
 * Each TX chain is posted whole within the chain rules or refused whole.
 * The doorbell is what was posted, every reclaimed slot is scrubbed, and
 * the guest overwrites every request the mediator has consumed, so a
 * second read of one would show. No queue is quarantined (this guest
 * never lies about indices), and a removed region retires once its last
 * DMA is reclaimed, not before.
 * At the end of every input all DMA completes, every request has exactly
 * one completion, and every claim and count is back to zero.
 *
 * The mediator's state (ring indices, the regions its batch path holds)
 * carries over from one input to the next, on purpose: a failing input
 * saved alone (fuzz-crash.bin) may not fail again by itself; run the same
 * count of random inputs again, which repeat exactly, to reproduce it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdna_abi.h"
#include "claims.h"
#include "mediator_rig.h"
#include "regions.h"
#include "validate.h"
#include "fuzz_reader.h"

#define NX		5u		/* regions beside the rig's */
#define NREG		(1u + NX)
#define X_MAX		(64u << 10)	/* bytes of each of them, at most */
#define MAX_OPS		48u
#define MAX_REQS	4096u		/* requests per input */
#define RX_FRAME	64u		/* what the stub NIC puts in an RX buffer */
/* Enough polls to take a full ring a request at a time (--burst 1), twice. */
#define DRAIN_POLLS	(2u * RIG_RING + 2u)

enum xstate { X_OUT, X_IN, X_DYING };

struct xreg {
	struct cdna_region reg;
	enum xstate state;
	uint64_t removed_poll;	/* polls done when it left the table */
};

struct reqrec {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint8_t dir;
	uint8_t chained;	/* part of a TX chain (MORE here or before) */
	uint8_t clean;		/* no reserved field set */
	uint8_t done;
	uint16_t status;	/* its completion's, once done */
	uint32_t chain;		/* cookie of its chain's first request (TX) */
	uint64_t poll_seen;	/* the poll its descriptor was first in flight, 0 never */
	uint64_t stamp;		/* the last snapshot that saw its descriptor */
};

/* A descriptor in flight at the NIC's turn. */
struct flight {
	uint32_t k;		/* its region */
	uint32_t dir;
	uint32_t cookie;
	uint64_t poll_seen;
	uint64_t off;
	uint32_t len;
};

static struct xreg xr[NX];
static uint8_t *xmem;
static struct reqrec rec[MAX_REQS];
static uint32_t nrec;
static uint32_t chain_first, chain_len;	/* the TX chain being posted */
static uint64_t npoll, nsnap;
/* Per ring (TX, RX): the NIC slots checked scrubbed, and the requests overwritten, up to here. */
static uint32_t scrubbed[2], scribbled[2];
static struct flight fl[2 * RIG_RING];
static uint32_t nfl;
/* Per region, per line: RX and TX descriptors on it now (the check's own). */
static uint16_t *lines_rx[NREG], *lines_tx[NREG];

static struct cdna_region *
region(unsigned int i)
{
	return i == 0 ? rig.r : &xr[i - 1].reg;
}

static enum xstate
state_of(unsigned int i)
{
	return i == 0 ? X_IN : xr[i - 1].state;
}

static uint32_t
perm_of(int dir)
{
	return dir == CDNA_DIR_TX ? CDNA_PERM_DEV_READ : CDNA_PERM_DEV_WRITE;
}

/* The stub NIC fills an RX buffer with at most RX_FRAME bytes. */
static void
rx_fill(const struct cdna_nic_desc *d, struct cdna_nic_status *s, int is_rx)
{
	if (is_rx)
		s->len = d->len < RX_FRAME ? d->len : RX_FRAME;
}

/* The region whose mapping wholly holds [p, p+len) (in the table or dying), or -1. */
static int
region_of_host(uint64_t p, uint32_t len)
{
	unsigned int i;

	for (i = 0; i < NREG; i++) {
		const struct cdna_region *r = region(i);
		uint64_t h = (uint64_t)(uintptr_t)r->host;

		if (state_of(i) != X_OUT && p >= h && p - h < r->size &&
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

		if (state_of(i) == X_IN && addr >= r->gaddr &&
		    (u128)addr + len <= (u128)r->gaddr + r->size)
			return (int)i;
	}
	return -1;
}

/* One descriptor in flight on d at ring index i: checked, its lines marked. */
static void
take_flight(struct mq_dir *d, int dir, uint32_t i, uint64_t *inflight,
	    uint64_t *distinct, uint64_t *lines)
{
	const struct cdna_nic_desc *nd = &d->nic->desc[i & d->mask];
	const struct mq_slot *sl = &d->slots[i & d->mask];
	int k = region_of_host(nd->addr, nd->len);
	struct reqrec *q;
	uint64_t off, l, l0, l1;

	FUZZ_CHECK(k >= 0 && nd->len > 0);
	FUZZ_CHECK((region(k)->perm & perm_of(dir)) != 0);
	off = nd->addr - (uint64_t)(uintptr_t)region(k)->host;
	FUZZ_CHECK(sl->reg == region(k) && sl->off == off && sl->len == nd->len);
	/* The buffer its request named, and only once. */
	FUZZ_CHECK(sl->cookie < nrec);
	q = &rec[sl->cookie];
	FUZZ_CHECK(q->dir == dir && !q->done && q->stamp != nsnap);
	q->stamp = nsnap;
	FUZZ_CHECK(region(k)->gaddr + off == q->addr && nd->len == q->len);
	/* A chain's segments but its last say more follows; nothing else is set. */
	FUZZ_CHECK(nd->flags == ((q->flags & CDNA_REQ_F_MORE) ? CDNA_DESC_F_MORE : 0));
	FUZZ_CHECK(nd->reserved0 == 0 && nd->reserved1 == 0 && nd->reserved2 == 0);
	if (q->poll_seen == 0)
		q->poll_seen = npoll;
	/* Posted into a region that has since left the table: only before it left. */
	FUZZ_CHECK(state_of(k) == X_IN || q->poll_seen <= xr[k - 1].removed_poll);

	l0 = off / CDNA_CLAIM_LINE;
	l1 = (off + nd->len - 1) / CDNA_CLAIM_LINE;
	for (l = l0; l <= l1; l++) {
		distinct[k] += lines_rx[k][l] == 0 && lines_tx[k][l] == 0;
		if (dir == CDNA_DIR_RX)
			lines_rx[k][l]++;
		else
			lines_tx[k][l]++;
		FUZZ_CHECK(lines_rx[k][l] <= 1 && lines_tx[k][l] <= CDNA_CLAIM_TX_MAX);
		FUZZ_CHECK(lines_rx[k][l] == 0 || lines_tx[k][l] == 0);
	}
	inflight[k]++;
	*lines += l1 - l0 + 1;
	fl[nfl++] = (struct flight){ (uint32_t)k, (uint32_t)dir, sl->cookie,
				     q->poll_seen, off, nd->len };
}

/*
 * Every descriptor posted and not reclaimed, checked against the requests
 * and the regions; each region's in-flight count and claim map against
 * them. Leaves the list in fl[] for the completions' checks.
 */
static void
snapshot(void)
{
	uint64_t inflight[NREG] = { 0 }, distinct[NREG] = { 0 }, lines = 0, total = 0;
	struct mq_dir *dirs[2] = { rig.tx, rig.rx };
	unsigned int k, j;
	uint32_t i;

	nsnap++;
	nfl = 0;
	for (j = 0; j < 2; j++) {
		struct mq_dir *d = dirs[j];
		const struct cdna_nic_ring *nr = d->nic;
		const uint32_t sc = nr->st_cons.val;

		/*
		 * The doorbell says what was posted; the NIC's statuses and
		 * its consumer lie within it, the mediator's reclaim behind.
		 */
		FUZZ_CHECK(nr->tail->val == d->nic_tail);
		FUZZ_CHECK(nr->st_prod->val - sc <= d->nic_tail - sc);
		FUZZ_CHECK(nr->head.val - sc <= d->nic_tail - sc);
		FUZZ_CHECK(d->nic_tail - sc <= d->size);
		/* Single use: every slot reclaimed since the last look is scrubbed. */
		for (; scrubbed[j] != sc; scrubbed[j]++) {
			static const struct cdna_nic_desc zero;

			FUZZ_CHECK(memcmp(&nr->desc[scrubbed[j] & d->mask], &zero,
					  sizeof(zero)) == 0);
		}
		for (i = sc; i != d->nic_tail; i++)
			take_flight(d, j == 0 ? CDNA_DIR_TX : CDNA_DIR_RX, i,
				    inflight, distinct, &lines);
	}
	/* Each line under a descriptor: the claim byte says what it holds. */
	for (j = 0; j < nfl; j++) {
		const struct flight *f = &fl[j];
		const uint8_t *c = region(f->k)->claims;
		uint64_t l;

		for (l = f->off / CDNA_CLAIM_LINE;
		     l <= (f->off + f->len - 1) / CDNA_CLAIM_LINE; l++)
			FUZZ_CHECK(c[l] == (lines_rx[f->k][l] ? CDNA_CLAIM_RX :
					    lines_tx[f->k][l]));
	}
	for (k = 0; k < NREG; k++) {
		const struct cdna_region *r = region(k);

		FUZZ_CHECK(r->inflight == inflight[k]);
		/* ...and no byte elsewhere holds a claim. */
		FUZZ_CHECK(cdna_claims_count(r->claims, cdna_claims_map_len(r->size)) ==
			   distinct[k]);
		total += inflight[k];
	}
	FUZZ_CHECK(rig.g->inflight == total);
	FUZZ_CHECK(rig.g->claimed_lines == lines);
	FUZZ_CHECK(rig.quarantines == 0);
	for (j = 0; j < nfl; j++) {
		const struct flight *f = &fl[j];
		uint64_t n = (f->off + f->len - 1) / CDNA_CLAIM_LINE -
			f->off / CDNA_CLAIM_LINE + 1;

		memset(&lines_rx[f->k][f->off / CDNA_CLAIM_LINE], 0, n * sizeof(uint16_t));
		memset(&lines_tx[f->k][f->off / CDNA_CLAIM_LINE], 0, n * sizeof(uint16_t));
	}
}

/*
 * Whether request q, taken by the mediator in this poll, meets a claim of
 * a descriptor posted before it: in an earlier poll, or in this one ahead
 * of it (the queue's RX ring is served before its TX ring, each in ring
 * order, which is cookie order). RX takes a line alone; TX shares a line
 * with at most CDNA_CLAIM_TX_MAX - 1 other reads and no write.
 */
static int
meets_claim(const struct reqrec *q, uint32_t cookie, int k)
{
	uint64_t off = q->addr - region(k)->gaddr;
	uint64_t lo = off / CDNA_CLAIM_LINE, hi = (off + q->len - 1) / CDNA_CLAIM_LINE, l;
	uint32_t j;

	for (l = lo; l <= hi; l++) {
		uint32_t reads = 0;

		for (j = 0; j < nfl; j++) {
			const struct flight *f = &fl[j];

			if (f->k != (uint32_t)k || f->off / CDNA_CLAIM_LINE > l ||
			    (f->off + f->len - 1) / CDNA_CLAIM_LINE < l)
				continue;
			if (f->poll_seen == npoll &&
			    !(f->dir == CDNA_DIR_RX && q->dir == CDNA_DIR_TX) &&
			    !(f->dir == q->dir && f->cookie < cookie))
				continue;	/* posted after q */
			if (q->dir == CDNA_DIR_RX || f->dir == CDNA_DIR_RX)
				return 1;
			reads++;
		}
		if (reads >= CDNA_CLAIM_TX_MAX)
			return 1;
	}
	return 0;
}

/* The status the rules give a frame of its own, taken in this poll. */
static uint16_t
expected_status(const struct reqrec *q, uint32_t cookie)
{
	int k;

	if (!q->clean || (q->flags & ~CDNA_REQ_F_KNOWN) != 0 ||
	    (q->dir == CDNA_DIR_RX && (q->flags & CDNA_REQ_F_MORE) != 0))
		return CDNA_ST_BAD_FLAGS;
	if (q->len == 0 || q->len > CDNA_MAX_BUF_LEN ||
	    (q->dir == CDNA_DIR_TX && q->len > CDNA_MAX_FRAME_LEN))
		return CDNA_ST_BAD_LENGTH;
	k = region_of_guest(q->addr, q->len);
	if (k < 0)
		return CDNA_ST_BAD_ADDRESS;
	if ((region(k)->perm & perm_of(q->dir)) == 0)
		return CDNA_ST_BAD_PERM;
	if (meets_claim(q, cookie, k))
		return CDNA_ST_INVALID_USE;
	if (q->dir == CDNA_DIR_TX && q->len < CDNA_ETHER_HDR_LEN)
		return CDNA_ST_BAD_LENGTH;
	return CDNA_ST_OK;
}

/* What a completion says about its request, from the request alone. */
static void
check_completion(const struct cdna_cmp *c, int dir)
{
	struct reqrec *q;

	FUZZ_CHECK(c->cookie < nrec);
	q = &rec[c->cookie];
	FUZZ_CHECK(q->dir == dir && !q->done);
	q->done = 1;
	q->status = c->status;
	FUZZ_CHECK(c->status < CDNA_ST_COUNT);
	if (c->status != CDNA_ST_OK) {
		FUZZ_CHECK(c->len == 0);
		/* Refused as it was taken, never posted: an exact verdict for a frame of its own. */
		FUZZ_CHECK(q->poll_seen == 0);
		FUZZ_CHECK(q->chained || c->status == expected_status(q, c->cookie));
		FUZZ_CHECK(!q->chained || (c->status != CDNA_ST_DMA_FAULT &&
					   c->status != CDNA_ST_ABORTED &&
					   c->status != CDNA_ST_MAP_QUOTA));
		return;
	}
	/* OK: posted (its claims checked at the NIC's turn), with fields that allow it. */
	FUZZ_CHECK(q->poll_seen != 0);
	FUZZ_CHECK(q->clean && q->len > 0 && (q->flags & ~CDNA_REQ_F_KNOWN) == 0);
	if (dir == CDNA_DIR_RX) {
		FUZZ_CHECK(q->flags == 0 && q->len <= CDNA_MAX_BUF_LEN);
		FUZZ_CHECK(c->len == (q->len < RX_FRAME ? q->len : RX_FRAME));
	} else {
		FUZZ_CHECK(q->len <= CDNA_MAX_FRAME_LEN && c->len == q->len);
		FUZZ_CHECK(q->chained || q->len >= CDNA_ETHER_HDR_LEN);
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

/* The mediator retires a removed region: only once its last DMA is reclaimed. */
static void
on_retire(struct guest *g, struct cdna_region *r)
{
	unsigned int i;

	FUZZ_CHECK(g == rig.g);
	for (i = 0; i < NX && r != &xr[i].reg; i++)
		;
	FUZZ_CHECK(i < NX && xr[i].state == X_DYING && r->dying);
	FUZZ_CHECK(r->inflight == 0);
	FUZZ_CHECK(cdna_claims_count(r->claims, cdna_claims_map_len(r->size)) == 0);
	xr[i].state = X_OUT;
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
	rig.before_nic = snapshot;
	rig.retire = on_retire;
	xmem = calloc(NX, X_MAX);
	scrubbed[0] = rig.tx->nic->st_cons.val;
	scrubbed[1] = rig.rx->nic->st_cons.val;
	scribbled[0] = rig.tx->req_cons;
	scribbled[1] = rig.rx->req_cons;
	for (i = 0; i < NREG; i++) {
		size_t n = (i == 0 ? RIG_MEM : X_MAX) / CDNA_CLAIM_LINE + 1;

		lines_rx[i] = calloc(n, sizeof(uint16_t));
		lines_tx[i] = calloc(n, sizeof(uint16_t));
		FUZZ_CHECK(lines_rx[i] != NULL && lines_tx[i] != NULL);
	}
	FUZZ_CHECK(xmem != NULL);
}

/*
 * One poll: checked as the NIC's turn comes (snapshot, from the rig),
 * then every completion, then the records again after reclaim.
 */
static void
poll_once(void)
{
	struct mq_dir *dirs[2] = { rig.tx, rig.rx };
	unsigned int j;

	npoll++;
	mediator_poll(&vmm);
	consume(rig.tx, CDNA_DIR_TX);
	consume(rig.rx, CDNA_DIR_RX);
	snapshot();
	/*
	 * The guest may reuse a ring entry the mediator has consumed: each is
	 * overwritten, so that a mediator reading one again (its cookie at
	 * reclaim, say) finds something else.
	 */
	for (j = 0; j < 2; j++)
		for (; scribbled[j] != dirs[j]->req_cons; scribbled[j]++)
			memset(&dirs[j]->req[scribbled[j] & dirs[j]->mask], 0xa5,
			       sizeof(struct cdna_req));
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
static const uint32_t chain_lens[] = { 1, 13, 60, 64, 1514, 2048 };

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
	/* Now and then a TX burst that is one chain: the chain rules' edges. */
	const int one_chain = dir == CDNA_DIR_TX && rd8(in) % 8 == 0;

	/* One request kept back for the end's chain terminator. */
	for (i = 0; i < n && in->n > 0 && nrec + 1 < MAX_REQS &&
		    outstanding(d) + i < RIG_RING; i++) {
		uint8_t kind = rd8(in);
		struct reqrec *q = &rec[nrec];
		struct cdna_req *e = &d->req[(p + i) & d->mask];

		q->addr = pick_addr(in);
		if (one_chain && (kind & 0x3f) != 0) {
			/* A segment fine alone, so that the chain's own rules decide. */
			q->addr = RIG_GADDR + (uint64_t)(rd16(in) % (RIG_MEM / 2048)) * 2048;
			q->len = chain_lens[kind % RTE_DIM(chain_lens)];
			kind = 0x0f;	/* no flag or reserved field of its own */
		} else switch (kind >> 6) {
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
		q->flags = one_chain && i + 1 < n ? CDNA_REQ_F_MORE : 0;
		if ((kind & 15) == 0)
			q->flags = dir == CDNA_DIR_TX ? CDNA_REQ_F_MORE : rd16(in);
		else if ((kind & 63) == 1)
			q->flags = rd16(in);
		q->dir = (uint8_t)dir;
		q->chained = dir == CDNA_DIR_TX &&
			(*open_chain || (q->flags & CDNA_REQ_F_MORE) != 0);
		q->done = 0;
		q->poll_seen = 0;
		q->stamp = 0;
		rig_req(d, p + i, q->addr, q->len, nrec, q->flags);
		if ((kind & 63) == 2) {
			/* One of the reserved fields, or all three. */
			uint8_t which = rd8(in);

			e->reserved0 = which & 1 ? rd16(in) : 0;
			e->reserved1 = which & 2 ? rd32(in) : 0;
			e->reserved2 = which & 4 ? rd64(in) : 0;
		}
		q->clean = e->reserved0 == 0 && e->reserved1 == 0 && e->reserved2 == 0;
		if (dir == CDNA_DIR_TX) {
			if (!*open_chain) {
				chain_first = nrec;
				chain_len = 0;
			}
			q->chain = chain_first;
			chain_len++;
			*open_chain = (q->flags & CDNA_REQ_F_MORE) != 0;
		}
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

		FUZZ_CHECK(xr[i].state == X_OUT);
		memset(r, 0, sizeof(*r));
		/* Adjacent to the one before, or a gap of some pages. */
		r->gaddr = next + (how & 1 ? 0 : 4096u * (1 + (how >> 1) % 16));
		r->size = (how & 0x40) ? X_MAX : 4096u * (1 + rd8(in) % 16);
		if ((how & 0x80) && r->size > 64)
			r->size -= 1 + rd8(in) % 63;	/* not a whole line */
		r->host = xmem + (size_t)i * X_MAX;
		/* Its own allocation, exactly long enough: ASan sees a claim past it. */
		r->claims = calloc(1, cdna_claims_map_len(r->size));
		FUZZ_CHECK(r->claims != NULL);
		r->perm = rd8(in) % 4;
		next = r->gaddr + r->size;
		if (rd8(in) % 4 != 0) {
			FUZZ_CHECK(cdna_rt_insert(&rig.g->rt, r) == 0);
			xr[i].state = X_IN;
		}
	}
}

/*
 * A region leaves the table as REGION_DEL takes it (retired at once with
 * no DMA in flight, else dying until the mediator retires it), or, once
 * retired, comes back as a fresh registration of the same memory.
 */
static void
toggle_region(unsigned int i)
{
	struct xreg *x = &xr[i];

	switch (x->state) {
	case X_IN:
		FUZZ_CHECK(cdna_rt_remove(&rig.g->rt, &x->reg) == 0);
		x->reg.dying = 1;
		x->removed_poll = npoll;
		if (x->reg.inflight != 0) {
			x->state = X_DYING;
			break;
		}
		FUZZ_CHECK(cdna_claims_count(x->reg.claims,
					     cdna_claims_map_len(x->reg.size)) == 0);
		x->state = X_OUT;
		break;
	case X_OUT:
		x->reg.dying = 0;
		FUZZ_CHECK(cdna_rt_insert(&rig.g->rt, &x->reg) == 0);
		x->state = X_IN;
		break;
	case X_DYING:
		break;
	}
}

/*
 * Every TX chain of the input, all completed: posted whole or not at all.
 * Posted (OK) only within the chain rules (at most CDNA_MAX_SEGS segments,
 * an Ethernet header to a largest frame in all); refused with one status
 * for the segments gathered (up to CDNA_MAX_SEGS + 1), and the rest of an
 * overlong chain as BAD_CHAIN, one by one.
 */
static void
check_chains(void)
{
	uint32_t i = 0, j, n, ok;
	uint64_t total;

	while (i < nrec) {
		if (rec[i].dir != CDNA_DIR_TX) {
			i++;
			continue;
		}
		n = 0;
		ok = 0;
		total = 0;
		for (j = i; j < nrec; j++) {
			if (rec[j].dir != CDNA_DIR_TX)
				continue;
			if (rec[j].chain != rec[i].chain)
				break;
			n++;
			ok += rec[j].status == CDNA_ST_OK;
			total += rec[j].len;
			if (n <= CDNA_MAX_SEGS + 1)
				FUZZ_CHECK(rec[j].status == rec[i].status);
			else
				FUZZ_CHECK(rec[j].status == CDNA_ST_BAD_CHAIN);
		}
		FUZZ_CHECK(ok == 0 || (ok == n && n <= CDNA_MAX_SEGS &&
				       total >= CDNA_ETHER_HDR_LEN &&
				       total <= CDNA_MAX_FRAME_LEN));
		i = j;
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
	 * All DMA completes but an open chain's (the ring's last requests,
	 * waiting for their end; a chain past 33 is refused as it comes);
	 * that chain is then ended with a frame that is fine alone, and
	 * completes too. Each poll takes at least one request of each ring
	 * the NIC is not holding.
	 */
	rig.hold = 0;
	for (spins = 0; spins < DRAIN_POLLS &&
	     (outstanding(rig.tx) > (open_chain ? chain_len : 0) || outstanding(rig.rx));
	     spins++)
		poll_once();
	if (open_chain) {
		struct reqrec *q = &rec[nrec];

		FUZZ_CHECK(nrec < MAX_REQS && outstanding(rig.tx) < RIG_RING);
		*q = (struct reqrec){ .addr = RIG_GADDR, .len = 60,
				      .dir = CDNA_DIR_TX, .chained = 1, .clean = 1,
				      .chain = chain_first };
		rig_req(rig.tx, rig.tx->req_prod->val, q->addr, q->len, nrec, 0);
		rig_publish(rig.tx, rig.tx->req_prod->val + 1);
		nrec++;
	}
	for (spins = 0; spins < DRAIN_POLLS && (outstanding(rig.tx) || outstanding(rig.rx)); spins++)
		poll_once();
	FUZZ_CHECK(outstanding(rig.tx) == 0 && outstanding(rig.rx) == 0);
	for (i = 0; i < nrec; i++)
		FUZZ_CHECK(rec[i].done);
	check_chains();
	FUZZ_CHECK(rig.g->inflight == 0 && rig.g->claimed_lines == 0);
	for (i = 0; i < NX; i++) {
		FUZZ_CHECK(xr[i].state != X_DYING);	/* retired with its last DMA */
		if (xr[i].state == X_IN)
			toggle_region(i);
		FUZZ_CHECK(xr[i].state == X_OUT);
		free(xr[i].reg.claims);
		xr[i].reg.claims = NULL;
	}
	return 0;
}
