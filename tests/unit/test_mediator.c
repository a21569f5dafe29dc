/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mediator's data path end to end, on the rig (mediator_rig.h): the
 * real mediator.c between a guest played here and a stub NIC. Each case
 * publishes requests, polls, and checks the completions, the counters, and
 * that every claim and in-flight count is back to zero afterwards. The
 * stub NIC checks each descriptor it is given lies inside the guest's
 * region, and can report what it was never given (a wrong tag, an unknown
 * status, an RX frame longer than its buffer).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "claims.h"
#include "mediator_rig.h"

#define A(off)	(RIG_GADDR + (uint64_t)(off))	/* guest address in the region */

/* mediator.c's stage clock here (-DVMM_TSC=test_tsc): one tick per read. */
static uint64_t tsc_reads;

uint64_t
test_tsc(void)
{
	return ++tsc_reads;
}

/* Descriptors the NIC was given outside the region (must stay 0). */
static unsigned int outside;

/* How the NIC lies about the k-th descriptor it completes. */
enum rogue { HONEST, BAD_TAG, BAD_STATUS, ABORTED, RX_TOO_LONG, RX_FULL, OVERRUN };
static enum rogue rogue;
static unsigned int rogue_at, completed;

static void
nic_hook(const struct cdna_nic_desc *d, struct cdna_nic_status *s, int is_rx)
{
	const uint8_t *lo = rig.mem, *hi = rig.mem + RIG_MEM;
	const uint8_t *p = (const uint8_t *)(uintptr_t)d->addr;

	if (p < lo || p > hi || d->len > (size_t)(hi - p))
		outside++;
	if (completed++ != rogue_at)
		return;
	switch (rogue) {
	case HONEST:
		break;
	case BAD_TAG:
		s->tag ^= 1;
		break;
	case BAD_STATUS:
		s->status = 77;
		break;
	case ABORTED:
		s->status = CDNA_ST_ABORTED;
		break;
	case RX_TOO_LONG:
		if (is_rx)
			s->len = d->len + 1;
		break;
	case RX_FULL:
		if (is_rx)
			s->len = d->len;
		break;
	case OVERRUN:
		/* One status more than it was given descriptors. */
		(is_rx ? rig.rx : rig.tx)->nic->st_prod->val++;
		break;
	}
}

static void
nic_lies(enum rogue how, unsigned int at)
{
	rogue = how;
	rogue_at = at;
	completed = 0;
}

/* The guest's view of one direction: what it published and consumed. */
static uint32_t
prod_of(const struct mq_dir *d)
{
	return d->req_prod->val;
}

static const struct cdna_cmp *
cmp_at(const struct mq_dir *d, uint32_t i)
{
	return &d->cmp[i & d->mask];
}

static void
req(struct mq_dir *d, uint64_t addr, uint32_t len, uint32_t cookie)
{
	uint32_t p = prod_of(d);

	rig_req(d, p, addr, len, cookie, 0);
	rig_publish(d, p + 1);
}

/* Polls until the mediator has nothing left to do (a bounded number of times). */
static void
poll_idle(void)
{
	int i;

	for (i = 0; i < 64 && mediator_poll(&vmm) != 0; i++)
		;
}

/* Every completion written so far is consumed; returns how many there were. */
static uint32_t
consume_all(struct mq_dir *d)
{
	uint32_t n = d->cmp_prod->val - d->cmp_cons->val;

	rig_consume(d, d->cmp_prod->val);
	return n;
}

/* Nothing in flight and not a line claimed: what every case ends with. */
static void
check_quiet_q(const char *what, unsigned int quarantines)
{
	uint64_t lines = cdna_claims_count(rig.r->claims,
					   cdna_claims_map_len(RIG_MEM));

	if (rig.g->inflight != 0 || rig.r->inflight != 0 ||
	    rig.g->claimed_lines != 0 || lines != 0)
		fprintf(stderr, "%s: inflight %" PRIu64 " (region %" PRIu64
			"), claimed_lines %" PRIu64 ", claimed in map %" PRIu64 "\n",
			what, rig.g->inflight, rig.r->inflight,
			rig.g->claimed_lines, lines);
	CHECK_EQ(rig.g->inflight, 0);
	CHECK_EQ(rig.r->inflight, 0);
	CHECK_EQ(rig.g->claimed_lines, 0);
	CHECK_EQ(lines, 0);
	CHECK_EQ(outside, 0);
	CHECK_EQ(rig.quarantines, quarantines);
}

static void
check_quiet(const char *what)
{
	check_quiet_q(what, 0);
}

/* A burst of one-line frames: each posted once, completed with its cookie. */
static void
test_tx_burst(void)
{
	struct mq_dir *d = rig.tx;
	uint32_t base = prod_of(d), i;

	nic_lies(HONEST, 0);
	for (i = 0; i < 40; i++)
		req(d, A(i * 128), 60, 1000 + i);
	poll_idle();
	CHECK_EQ(d->cmp_prod->val - base, 40);
	for (i = 0; i < 40; i++) {
		CHECK_EQ(cmp_at(d, base + i)->status, CDNA_ST_OK);
		CHECK_EQ(cmp_at(d, base + i)->cookie, 1000 + i);
		CHECK_EQ(cmp_at(d, base + i)->len, 60);
	}
	consume_all(d);
	check_quiet("tx burst");
}

/*
 * A line's read count saturates: 254 reads in flight on one line, the
 * 255th refused as invalid use (it must never become the RX mark), a read
 * of the next line still taken; all released when the NIC completes.
 */
static void
test_tx_saturation(void)
{
	struct mq_dir *d = rig.tx;
	uint32_t base = prod_of(d), i;
	uint64_t refused = rig.g->ctr.reject[CDNA_ST_INVALID_USE];

	nic_lies(HONEST, 0);
	rig.hold = 1;
	for (i = 0; i < CDNA_CLAIM_TX_MAX; i++)
		req(d, A(4096), 60, i);
	poll_idle();
	CHECK_EQ(rig.g->inflight, CDNA_CLAIM_TX_MAX);
	CHECK_EQ(rig.r->claims[4096 / 64], CDNA_CLAIM_TX_MAX);
	req(d, A(4096 + 4), 32, 999);
	req(d, A(4096 + 64), 32, 1000);
	poll_idle();
	CHECK_EQ(d->cmp_prod->val - base, 1);
	CHECK_EQ(cmp_at(d, base)->cookie, 999);
	CHECK_EQ(cmp_at(d, base)->status, CDNA_ST_INVALID_USE);
	CHECK_EQ(rig.g->ctr.reject[CDNA_ST_INVALID_USE] - refused, 1);
	CHECK_EQ(rig.r->claims[4096 / 64], CDNA_CLAIM_TX_MAX);
	CHECK_EQ(rig.g->inflight, CDNA_CLAIM_TX_MAX + 1);
	consume_all(d);
	rig.hold = 0;
	poll_idle();
	CHECK_EQ(consume_all(d), CDNA_CLAIM_TX_MAX + 1);
	check_quiet("tx saturation");
	/* The line takes reads again. */
	req(d, A(4096), 60, 7);
	poll_idle();
	CHECK_EQ(cmp_at(d, d->cmp_prod->val - 1)->status, CDNA_ST_OK);
	consume_all(d);
	check_quiet("tx after saturation");
}

/*
 * An RX buffer in flight owns its lines: a second buffer over them and a
 * read of one of them are refused; a read of the line after it is not.
 */
static void
test_rx_conflicts(void)
{
	uint32_t rbase = prod_of(rig.rx), tbase = prod_of(rig.tx);

	nic_lies(HONEST, 0);
	rig.hold = 1;
	req(rig.rx, A(8192), 2048, 1);
	req(rig.rx, A(8192 + 1024), 2048, 2);
	req(rig.tx, A(8192 + 100), 64, 3);
	req(rig.tx, A(8192 + 2048), 64, 4);
	poll_idle();
	CHECK_EQ(rig.rx->cmp_prod->val - rbase, 1);
	CHECK_EQ(cmp_at(rig.rx, rbase)->cookie, 2);
	CHECK_EQ(cmp_at(rig.rx, rbase)->status, CDNA_ST_INVALID_USE);
	CHECK_EQ(rig.tx->cmp_prod->val - tbase, 1);
	CHECK_EQ(cmp_at(rig.tx, tbase)->cookie, 3);
	CHECK_EQ(cmp_at(rig.tx, tbase)->status, CDNA_ST_INVALID_USE);
	consume_all(rig.rx);
	consume_all(rig.tx);
	rig.hold = 0;
	poll_idle();
	CHECK_EQ(cmp_at(rig.rx, rbase + 1)->cookie, 1);
	CHECK_EQ(cmp_at(rig.rx, rbase + 1)->status, CDNA_ST_OK);
	CHECK_EQ(cmp_at(rig.rx, rbase + 1)->len, rig.rx_frame);
	CHECK_EQ(cmp_at(rig.tx, tbase + 1)->cookie, 4);
	CHECK_EQ(cmp_at(rig.tx, tbase + 1)->status, CDNA_ST_OK);
	consume_all(rig.rx);
	consume_all(rig.tx);
	check_quiet("rx conflicts");
}

/*
 * Everything else the data path takes, in one batch: a three-segment TX
 * chain (the full path), frames of 24 lines and more (the vector claims),
 * RX buffers of other sizes than the usual 2 KiB; all completed, and the
 * claim lines counted on the way in (by both paths) all given back.
 */
static void
test_mixed(void)
{
	struct mq_dir *d = rig.tx;
	uint32_t base = prod_of(d), rbase = prod_of(rig.rx), p, i;

	nic_lies(HONEST, 0);
	p = prod_of(d);
	rig_req(d, p, A(200000), 1514, 1, 0);
	rig_req(d, p + 1, A(210000), 100, 2, CDNA_REQ_F_MORE);
	rig_req(d, p + 2, A(220000), 700, 3, CDNA_REQ_F_MORE);
	rig_req(d, p + 3, A(230000 + 3), 1000, 4, 0);
	rig_req(d, p + 4, A(240000 + 60), 2000, 5, 0);
	rig_req(d, p + 5, A(250000), 60, 6, 0);
	rig_publish(d, p + 6);
	req(rig.rx, A(300000), 1000, 7);
	req(rig.rx, A(310000 + 17), 2100, 8);
	req(rig.rx, A(320000), 2048, 9);
	poll_idle();
	CHECK_EQ(d->cmp_prod->val - base, 6);
	for (i = 0; i < 6; i++) {
		CHECK_EQ(cmp_at(d, base + i)->cookie, i + 1);
		CHECK_EQ(cmp_at(d, base + i)->status, CDNA_ST_OK);
	}
	CHECK_EQ(rig.rx->cmp_prod->val - rbase, 3);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(cmp_at(rig.rx, rbase + i)->cookie, 7 + i);
		CHECK_EQ(cmp_at(rig.rx, rbase + i)->status, CDNA_ST_OK);
	}
	consume_all(d);
	consume_all(rig.rx);
	check_quiet("mixed");
}

/*
 * The region's edges: a frame ending at the last byte is taken; one byte
 * further, or starting below the region (where the offset wraps), or near
 * the top of the address space, is refused as a bad address and claims
 * nothing. Each follows a frame in the region, so that the batch path
 * (which goes on in the region of the request before) sees it first.
 */
static void
test_bounds(void)
{
	static const struct { uint64_t addr; uint32_t len; uint16_t st; } c[] = {
		{ A(RIG_MEM - 64), 64, CDNA_ST_OK },
		{ A(RIG_MEM - 63), 64, CDNA_ST_BAD_ADDRESS },
		{ RIG_GADDR - 10, 64, CDNA_ST_BAD_ADDRESS },
		{ RIG_GADDR - 10, 14, CDNA_ST_BAD_ADDRESS },
		{ RIG_GADDR - 64, 64, CDNA_ST_BAD_ADDRESS },
		{ UINT64_MAX - 10, 64, CDNA_ST_BAD_ADDRESS },
		{ A(RIG_MEM), 64, CDNA_ST_BAD_ADDRESS },
	};
	struct mq_dir *d = rig.tx;
	uint32_t i;

	nic_lies(HONEST, 0);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint32_t base = prod_of(d);
		const struct cdna_cmp *first, *second;

		req(d, A(128), 64, 1);
		req(d, c[i].addr, c[i].len, 2);
		poll_idle();
		CHECK_EQ(d->cmp_prod->val - base, 2);
		/* A refusal completes at once, ahead of the frame the NIC sends. */
		first = cmp_at(d, base);
		second = cmp_at(d, base + 1);
		if (first->cookie == 2) {
			const struct cdna_cmp *t = first;

			first = second;
			second = t;
		}
		CHECK_EQ(first->cookie, 1);
		CHECK_EQ(first->status, CDNA_ST_OK);
		CHECK_EQ(second->cookie, 2);
		if (second->status != c[i].st)
			fprintf(stderr, "bounds: addr 0x%" PRIx64 " len %u: status %u, expected %u\n",
				c[i].addr, c[i].len, second->status, c[i].st);
		CHECK_EQ(second->status, c[i].st);
		consume_all(d);
		check_quiet("bounds");
	}
}

/*
 * A NIC that reports what it was not given: the completion says the DMA
 * faulted (with no length), the mediator counts it, and the claims still
 * go back from the mediator's own record. A status the NIC may give
 * (aborted) passes through as itself; an RX frame filling its buffer
 * exactly is fine.
 */
static void
test_rogue_nic(void)
{
	static const struct {
		enum rogue how;
		int rx;
		uint16_t st;
		int bad;	/* counted as a bad status */
	} c[] = {
		{ BAD_TAG, 0, CDNA_ST_DMA_FAULT, 1 },
		{ BAD_TAG, 1, CDNA_ST_DMA_FAULT, 1 },
		{ BAD_STATUS, 0, CDNA_ST_DMA_FAULT, 1 },
		{ BAD_STATUS, 1, CDNA_ST_DMA_FAULT, 1 },
		{ RX_TOO_LONG, 1, CDNA_ST_DMA_FAULT, 1 },
		{ ABORTED, 0, CDNA_ST_ABORTED, 0 },
		{ ABORTED, 1, CDNA_ST_ABORTED, 0 },
		{ RX_FULL, 1, CDNA_ST_OK, 0 },
	};
	uint32_t k;

	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		struct mq_dir *d = c[k].rx ? rig.rx : rig.tx;
		uint32_t base = prod_of(d), i;
		uint64_t bad = rig.g->ctr.nic_bad_status;
		uint64_t rej = rig.g->ctr.reject[c[k].st];

		nic_lies(c[k].how, 2);
		for (i = 0; i < 6; i++)
			req(d, A(65536 + i * 2048), c[k].rx ? 2048 : 100, 50 + i);
		poll_idle();
		CHECK_EQ(d->cmp_prod->val - base, 6);
		for (i = 0; i < 6; i++) {
			const struct cdna_cmp *cp = cmp_at(d, base + i);
			uint16_t want = i == 2 ? c[k].st : CDNA_ST_OK;
			uint32_t len = c[k].rx ? rig.rx_frame : 100;

			if (i == 2 && c[k].how == RX_FULL)
				len = 2048;
			if (want != CDNA_ST_OK)
				len = 0;
			CHECK_EQ(cp->cookie, 50 + i);
			CHECK_EQ(cp->status, want);
			CHECK_EQ(cp->len, len);
		}
		CHECK_EQ(rig.g->ctr.nic_bad_status - bad, c[k].bad);
		if (c[k].st != CDNA_ST_OK)
			CHECK_EQ(rig.g->ctr.reject[c[k].st] - rej, 1);
		consume_all(d);
		check_quiet("rogue nic");
	}
	nic_lies(HONEST, 0);
}

/*
 * A NIC that moves its status index over descriptors without writing
 * their statuses: the entries there hold what it wrote on the ring's last
 * lap, each in the right slot, with status OK (written here, so the case
 * does not rest on the ones before). A tag carries the lap, so none of
 * them matches: every one completes as a DMA fault, counted, the claims
 * released. (The index stays within what was posted: no quarantine.)
 */
static void
test_stale_status(void)
{
	struct mq_dir *d = rig.tx;
	struct cdna_nic_ring *r = d->nic;
	uint32_t base = prod_of(d), first = d->nic_tail, i;
	uint64_t bad = rig.g->ctr.nic_bad_status;

	nic_lies(HONEST, 0);
	rig.hold = 1;
	for (i = 0; i < 6; i++)
		req(d, A(140000 + i * 128), 100, 60 + i);
	poll_idle();
	CHECK_EQ(rig.g->inflight, 6);
	for (i = 0; i < 6; i++) {
		struct cdna_nic_status *s = &r->status[(first + i) & r->mask];

		*s = (struct cdna_nic_status){ .tag = first + i - RIG_RING,
					       .len = 100, .status = CDNA_ST_OK };
	}
	r->head.val = r->tail->val;		/* "done", and nothing written */
	r->st_prod->val += 6;
	poll_idle();
	rig.hold = 0;
	CHECK_EQ(d->cmp_prod->val - base, 6);
	for (i = 0; i < 6; i++) {
		CHECK_EQ(cmp_at(d, base + i)->cookie, 60 + i);
		CHECK_EQ(cmp_at(d, base + i)->status, CDNA_ST_DMA_FAULT);
	}
	CHECK_EQ(rig.g->ctr.nic_bad_status - bad, 6);
	consume_all(d);
	check_quiet("stale status");
}

/*
 * A NIC whose status index is impossible: one past the descriptors it was
 * given (TX, all of them really done), or behind its consumer (RX, none
 * done). No status of it is believed: every descriptor posted completes
 * as a DMA fault (no RX length), the claims still released from the
 * mediator's record, counted once, the queue quarantined and nothing more
 * posted on it. Each ends with its queue quarantined: the second on a new
 * rig.
 */
static void
check_lost(struct mq_dir *d, uint32_t base, uint32_t cookie0, uint64_t bad,
	   uint64_t faults, const char *what)
{
	uint32_t i, posted = d->nic_tail;

	CHECK_EQ(rig.g->q[0].quarantined, 1);
	CHECK_EQ(rig.g->ctr.nic_bad_status - bad, 1);
	CHECK_EQ(rig.g->ctr.reject[CDNA_ST_DMA_FAULT] - faults, 6);
	CHECK_EQ(d->cmp_prod->val - base, 6);
	for (i = 0; i < 6; i++) {
		CHECK_EQ(cmp_at(d, base + i)->cookie, cookie0 + i);
		CHECK_EQ(cmp_at(d, base + i)->status, CDNA_ST_DMA_FAULT);
		CHECK_EQ(cmp_at(d, base + i)->len, 0);
	}
	consume_all(d);
	check_quiet_q(what, 1);
	/* A quarantined queue takes nothing more. */
	req(d, A(0), 64, 99);
	poll_idle();
	CHECK_EQ(d->cmp_prod->val - base, 6);
	CHECK_EQ(d->nic_tail, posted);
}

static void
test_nic_lost(void)
{
	struct mq_dir *d = rig.tx;
	uint32_t base = prod_of(d), i;
	uint64_t bad = rig.g->ctr.nic_bad_status;
	uint64_t faults = rig.g->ctr.reject[CDNA_ST_DMA_FAULT];
	uint64_t reclaimed = vmm.cost.completions;

	nic_lies(OVERRUN, 5);	/* after the last honest status */
	for (i = 0; i < 6; i++)
		req(d, A(131072 + i * 128), 100, 70 + i);
	poll_idle();
	check_lost(d, base, 70, bad, faults, "nic overrun");
	/* The six, all completed inside the quarantine's drain: counted too. */
	CHECK_EQ(vmm.cost.completions - reclaimed, 6);
	nic_lies(HONEST, 0);

	rig_init(32);
	rig.hook = nic_hook;
	d = rig.rx;
	base = prod_of(d);
	rig.hold = 1;
	for (i = 0; i < 6; i++)
		req(d, A(i * 2048), 2048, 80 + i);
	poll_idle();
	CHECK_EQ(rig.g->inflight, 6);
	d->nic->st_prod->val = d->nic->st_cons.val - 1;
	poll_idle();
	check_lost(d, base, 80, 0, 0, "nic index behind");
	rig.hold = 0;
}

/*
 * Guests with nothing to send beside a busy one: their indices are still
 * bounded every poll (the poll loop's own path for an idle direction, and
 * its return for indices that did not move). One moves its request
 * producer past its ring, one its completion consumer past the producer,
 * in the same polls as the busy guest's traffic, and a third does the
 * latter only after many idle polls: each is quarantined at once, the
 * fourth is not, and the busy guest's frames all complete.
 */
static void
test_idle_guests(void)
{
	struct mq_dir *d;
	struct mqueue *q[4];
	uint32_t base, i;

	rig_init(32);
	rig.hook = nic_hook;
	nic_lies(HONEST, 0);
	rig_add_idle(4);
	for (i = 0; i < 4; i++)
		q[i] = &vmm.guests[1 + i]->q[0];
	d = rig.tx;
	base = prod_of(d);
	rig_publish(&q[0]->tx, RIG_RING + 1);
	rig_consume(&q[1]->rx, 5);
	for (i = 0; i < 8; i++)
		req(d, A(i * 128), 60, 300 + i);
	poll_idle();
	CHECK_EQ(q[0]->quarantined, 1);
	CHECK_EQ(q[1]->quarantined, 1);
	CHECK_EQ(q[2]->quarantined, 0);
	CHECK_EQ(q[3]->quarantined, 0);
	CHECK_EQ(d->cmp_prod->val - base, 8);
	for (i = 0; i < 100; i++)
		mediator_poll(&vmm);
	rig_consume(&q[2]->tx, 1);
	mediator_poll(&vmm);
	CHECK_EQ(q[2]->quarantined, 1);
	CHECK_EQ(q[3]->quarantined, 0);
	consume_all(d);
	check_quiet_q("idle guests", 3);
}

/*
 * Requests whose buffers change region within a burst, as buffers do when
 * EAL maps a region per page: back and forth between two regions, among
 * the four the batch path holds (the most recent first), and among six,
 * so that the least recently used is dropped and looked up again later.
 * Every descriptor points at its own buffer in its own region's memory,
 * is counted in that region (in flight, claims) and completes. A request
 * between the regions is refused on its own, and the run goes on past it.
 * Both directions.
 */
static void
test_region_changes(void)
{
	/* Region of each request: 0 the rig's, 1 to 5 five more, NREG none. */
	enum { NREG = 6 };
	static const uint8_t where[] = {
		0, 0, 1, 1, 0, 1, 1, 1, NREG, 1, 0, 2, 2, 0, 1, 2,
		0, 0, 1, 3, 4, 5, 0, 3, 2, 4, 5, 1, 0, 3, 1, 3,
	};
	const unsigned int n = RTE_DIM(where);
	const uint64_t gap = RIG_GADDR + 2 * (uint64_t)RIG_MEM;
	uint64_t gaddr[NREG];
	struct cdna_region *r[NREG];
	struct mq_dir *dirs[2];
	unsigned int i, j, k, in[NREG];

	RTE_BUILD_BUG_ON(RTE_DIM(where) > 32);	/* one poll's burst */
	rig_init(32);
	r[0] = rig.r;
	gaddr[0] = RIG_GADDR;
	for (j = 1; j < NREG; j++) {
		gaddr[j] = RIG_GADDR + 4 * j * (uint64_t)RIG_MEM;
		r[j] = rig_add_region(gaddr[j], 64 * 2048);
	}
	dirs[0] = rig.tx;
	dirs[1] = rig.rx;
	for (k = 0; k < 2; k++) {
		struct mq_dir *d = dirs[k];
		const uint32_t len = k == 0 ? 60 : 2048, lines = k == 0 ? 1 : 32;
		uint32_t base = d->cmp_prod->val, tail = d->nic_tail, refused = 0;
		uint32_t posted = 0;

		rig.hold = 1;
		memset(in, 0, sizeof(in));
		for (i = 0; i < n; i++) {
			if (where[i] < NREG)
				in[where[i]]++;
			else
				refused = i;
			req(d, where[i] < NREG ? gaddr[where[i]] + i * 2048 : gap, len,
			    500 + i);
		}
		mediator_poll(&vmm);
		/* The one refused completes at once; the others are in flight, each in its region. */
		CHECK_EQ(d->cmp_prod->val - base, 1);
		CHECK_EQ(cmp_at(d, base)->cookie, 500 + refused);
		CHECK_EQ(cmp_at(d, base)->status, CDNA_ST_BAD_ADDRESS);
		CHECK_EQ(rig.g->inflight, n - 1);
		CHECK_EQ(rig.g->claimed_lines, (n - 1) * lines);
		for (i = 0; i < n; i++) {
			const struct cdna_nic_desc *nd;

			if (where[i] == NREG)
				continue;
			nd = &d->nic->desc[(tail + posted++) & d->mask];
			CHECK_EQ(nd->addr, (uint64_t)(uintptr_t)(r[where[i]]->host + i * 2048));
			CHECK_EQ(nd->len, len);
		}
		/* The ways: the last four regions the requests named, the latest first. */
		CHECK(d->ways.reg[0] == r[3] && d->ways.reg[1] == r[1] &&
		      d->ways.reg[2] == r[0] && d->ways.reg[3] == r[5]);
		for (j = 0; j < NREG; j++) {
			CHECK_EQ(r[j]->inflight, in[j]);
			CHECK_EQ(cdna_claims_count(r[j]->claims,
						   cdna_claims_map_len(r[j]->size)),
				 in[j] * lines);
		}
		rig.hold = 0;
		poll_idle();
		CHECK_EQ(d->cmp_prod->val - base, n);
		for (i = 1; i < n; i++)
			CHECK_EQ(cmp_at(d, base + i)->status, CDNA_ST_OK);
		for (j = 0; j < NREG; j++) {
			CHECK_EQ(r[j]->inflight, 0);
			CHECK_EQ(cdna_claims_count(r[j]->claims,
						   cdna_claims_map_len(r[j]->size)), 0);
		}
		consume_all(d);
	}
	check_quiet("region changes");
}

/*
 * A TX request whose lines an RX buffer in flight holds (invalid use),
 * met where the batch path changes region: once when it swaps back to the
 * region before (its second way), once when it takes on a third (a
 * lookup, fast_ways_take). Each is refused as
 * INVALID_USE by the full path from the same copy, nothing of it claimed,
 * and the run goes on past it.
 */
static void
test_region_change_conflicts(void)
{
	const uint64_t g1 = RIG_GADDR + 4 * (uint64_t)RIG_MEM;
	const uint64_t g2 = RIG_GADDR + 8 * (uint64_t)RIG_MEM;
	/* TX buffers: region, offset; the RX buffers sit at offset 0 of regions 1 and 2. */
	static const struct { uint8_t reg; uint32_t off; } tx[] = {
		{ 0, 0 }, { 1, 2048 }, { 0, 2048 }, { 1, 0 },	/* swap back: conflict */
		{ 0, 4096 }, { 2, 64 },				/* a third: conflict */
		{ 2, 4096 }, { 0, 6144 },
	};
	const uint64_t base_of[3] = { RIG_GADDR, g1, g2 };
	struct cdna_region *r1, *r2;
	struct mq_dir *d;
	uint32_t base, rxbase, i, refused = 0;

	rig_init(32);
	d = rig.tx;
	r1 = rig_add_region(g1, 64 * 2048);
	r2 = rig_add_region(g2, 64 * 2048);
	rig.hold = 1;
	rxbase = rig.rx->cmp_prod->val;
	req(rig.rx, g1, 2048, 900);
	req(rig.rx, g2, 2048, 901);
	poll_idle();
	CHECK_EQ(r1->inflight, 1);
	CHECK_EQ(r2->inflight, 1);
	base = d->cmp_prod->val;
	for (i = 0; i < RTE_DIM(tx); i++)
		req(d, base_of[tx[i].reg] + tx[i].off, 60, 700 + i);
	mediator_poll(&vmm);
	/* The two refused complete at once, in ring order, as invalid use. */
	CHECK_EQ(d->cmp_prod->val - base, 2);
	CHECK_EQ(cmp_at(d, base)->cookie, 703);
	CHECK_EQ(cmp_at(d, base)->status, CDNA_ST_INVALID_USE);
	CHECK_EQ(cmp_at(d, base + 1)->cookie, 705);
	CHECK_EQ(cmp_at(d, base + 1)->status, CDNA_ST_INVALID_USE);
	/* In flight: the two RX buffers and the six TX frames, each in its region. */
	CHECK_EQ(rig.g->inflight, 2 + RTE_DIM(tx) - 2);
	CHECK_EQ(rig.r->inflight, 4);
	CHECK_EQ(r1->inflight, 1 + 1);
	CHECK_EQ(r2->inflight, 1 + 1);
	CHECK_EQ(rig.g->claimed_lines, 2 * 32 + RTE_DIM(tx) - 2);
	rig.hold = 0;
	poll_idle();
	for (i = 2; i < RTE_DIM(tx); i++)
		refused += cmp_at(d, base + i)->status != CDNA_ST_OK;
	CHECK_EQ(d->cmp_prod->val - base, RTE_DIM(tx));
	CHECK_EQ(refused, 0);
	CHECK_EQ(rig.rx->cmp_prod->val - rxbase, 2);
	CHECK_EQ(r1->inflight, 0);
	CHECK_EQ(r2->inflight, 0);
	CHECK_EQ(cdna_claims_count(r1->claims, cdna_claims_map_len(r1->size)), 0);
	CHECK_EQ(cdna_claims_count(r2->claims, cdna_claims_map_len(r2->size)), 0);
	consume_all(d);
	consume_all(rig.rx);
	check_quiet("region change conflicts");
}

/* The one completion on d since base: request cookie, refused with st. */
static void
only_refused(const struct mq_dir *d, uint32_t base, uint32_t cookie, uint16_t st)
{
	CHECK_EQ(d->cmp_prod->val - base, 1);
	CHECK_EQ(cmp_at(d, base)->cookie, cookie);
	CHECK_EQ(cmp_at(d, base)->status, st);
}

/*
 * A change of region in the batch path takes on only a region that can
 * take the DMA: a TX-only region refuses an RX buffer and an RX-only one a
 * TX frame (BAD_PERM), each met after a request in the rig's region, with
 * the run going on past it. Then a region the batch path holds is removed
 * (as REGION_DEL does, once its DMA is done): a request in it is refused
 * as a bad address, never posted into memory the guest has taken back.
 */
static void
test_region_change_refusals(void)
{
	const uint64_t ga = RIG_GADDR + 4 * (uint64_t)RIG_MEM;
	const uint64_t gb = RIG_GADDR + 8 * (uint64_t)RIG_MEM;
	struct cdna_region *a, *b;
	uint32_t base, i;

	rig_init(32);
	a = rig_add_region(ga, 64 * 2048);
	b = rig_add_region(gb, 64 * 2048);
	/* Fields change only out of the table: out, changed, back in. */
	CHECK_EQ(cdna_rt_remove(&rig.g->rt, a), 0);
	CHECK_EQ(cdna_rt_remove(&rig.g->rt, b), 0);
	a->perm = CDNA_PERM_DEV_READ;
	b->perm = CDNA_PERM_DEV_WRITE;
	CHECK_EQ(cdna_rt_insert(&rig.g->rt, a), 0);
	CHECK_EQ(cdna_rt_insert(&rig.g->rt, b), 0);

	/* RX: rig, A (TX only), rig, B. */
	base = rig.rx->cmp_prod->val;
	rig.hold = 1;
	req(rig.rx, A(0), 2048, 10);
	req(rig.rx, ga, 2048, 11);
	req(rig.rx, A(2048), 2048, 12);
	req(rig.rx, gb, 2048, 13);
	mediator_poll(&vmm);
	only_refused(rig.rx, base, 11, CDNA_ST_BAD_PERM);
	CHECK_EQ(rig.r->inflight, 2);
	CHECK_EQ(a->inflight, 0);
	CHECK_EQ(b->inflight, 1);

	/* TX: rig, B (RX only), rig, A. */
	base = rig.tx->cmp_prod->val;
	req(rig.tx, A(8192), 60, 20);
	req(rig.tx, gb + 4096, 60, 21);
	req(rig.tx, A(8192 + 64), 60, 22);
	req(rig.tx, ga + 4096, 60, 23);
	mediator_poll(&vmm);
	only_refused(rig.tx, base, 21, CDNA_ST_BAD_PERM);
	CHECK_EQ(rig.r->inflight, 4);
	CHECK_EQ(a->inflight, 1);
	CHECK_EQ(b->inflight, 1);
	CHECK_EQ(cdna_claims_count(a->claims, cdna_claims_map_len(a->size)), 1);
	rig.hold = 0;
	poll_idle();
	CHECK_EQ(rig.tx->cmp_prod->val - base, 4);
	CHECK_EQ(a->inflight, 0);
	consume_all(rig.tx);

	/* A leaves the table, its DMA done, while the batch path holds it. */
	CHECK_EQ(cdna_rt_remove(&rig.g->rt, a), 0);
	a->dying = 1;
	base = rig.tx->cmp_prod->val;
	rig.hold = 1;
	req(rig.tx, ga + 8192, 60, 30);
	req(rig.tx, A(8192 + 128), 60, 31);
	req(rig.tx, ga + 8192 + 64, 60, 32);
	mediator_poll(&vmm);
	CHECK_EQ(rig.tx->cmp_prod->val - base, 2);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(cmp_at(rig.tx, base + i)->cookie, 30 + 2 * i);
		CHECK_EQ(cmp_at(rig.tx, base + i)->status, CDNA_ST_BAD_ADDRESS);
	}
	CHECK_EQ(a->inflight, 0);
	CHECK_EQ(cdna_claims_count(a->claims, cdna_claims_map_len(a->size)), 0);
	CHECK_EQ(rig.r->inflight, 1);	/* the earlier DMA all completed */
	rig.hold = 0;
	poll_idle();
	CHECK_EQ(rig.tx->cmp_prod->val - base, 3);
	consume_all(rig.tx);
	consume_all(rig.rx);
	check_quiet("region change refusals");
}

/*
 * The mediator visits what its lists hold, rebuilt from the guest table
 * once marked stale (mediator_poll_stale): a stopped guest and a guest gone
 * from the table are not served, a guest started again or back in the
 * table is, and a queue quarantined in a round is left out of the next.
 * A guest here has no region: its request is refused with a completion,
 * which shows that it was served.
 */
static void
test_poll_lists(void)
{
	struct guest *g;
	struct mq_dir *d;
	uint32_t base;

	rig_init(32);
	rig_add_idle(2);
	g = vmm.guests[1];
	d = &g->q[0].tx;
	base = d->cmp_prod->val;
	req(d, A(0), 60, 1);
	poll_idle();
	CHECK_EQ(d->cmp_prod->val - base, 1);
	CHECK_EQ(cmp_at(d, base)->status, CDNA_ST_BAD_ADDRESS);

	g->started = 0;
	mediator_poll_stale(&vmm);
	req(d, A(0), 60, 2);
	poll_idle();
	CHECK_EQ(d->cmp_prod->val - base, 1);
	CHECK_EQ(vmm.nb_poll_q, 2);
	g->started = 1;
	mediator_poll_stale(&vmm);
	poll_idle();
	CHECK_EQ(d->cmp_prod->val - base, 2);
	CHECK_EQ(vmm.nb_poll_q, 3);

	vmm.guests[1] = NULL;
	mediator_poll_stale(&vmm);
	req(d, A(0), 60, 3);
	poll_idle();
	CHECK_EQ(d->cmp_prod->val - base, 2);
	vmm.guests[1] = g;
	mediator_poll_stale(&vmm);
	poll_idle();
	CHECK_EQ(d->cmp_prod->val - base, 3);

	/* Past its ring: quarantined in this round, not listed in the next. */
	rig_publish(d, d->req_prod->val + RIG_RING + 1);
	poll_idle();
	CHECK_EQ(g->q[0].quarantined, 1);
	CHECK_EQ(vmm.poll_stale, 1);
	CHECK_EQ(mediator_poll(&vmm), 0);
	CHECK_EQ(vmm.nb_poll_q, 2);
	CHECK_EQ(vmm.poll_stale, 0);
	CHECK_EQ(rig.quarantines, 1);
	check_quiet_q("poll lists", 1);
}

/*
 * The stage cycles are timed in one round of VMM_COST_SAMPLE_EVERY that
 * move anything, and each timed round's cycles count that many times
 * (vmm.h); the counts are exact, and a round that moves nothing counts
 * nowhere, nor takes a timed round's place.
 */
static void
test_cost_sampling(void)
{
	const uint32_t every = VMM_COST_SAMPLE_EVERY, rounds = 3 * every;
	struct mq_dir *d;
	uint32_t k, idle = 0;

	rig_init(32);
	rig.hook = nic_hook;
	nic_lies(HONEST, 0);
	memset(&vmm.cost, 0, sizeof(vmm.cost));
	d = rig.tx;
	for (k = 0; k < rounds; k++) {
		/* One request, posted, completed and reclaimed in one round. */
		req(d, A(k % 8 * 128), 60, 500 + k);
		CHECK_EQ(mediator_poll(&vmm), 3);
		/* The seventh, the fourteenth, ...: each after six untimed. */
		CHECK_EQ(vmm.cost.timed_rounds, (k + 1) / every);
		consume_all(d);
		/* Then rounds with nothing to move: none of them counts. */
		for (; mediator_poll(&vmm) == 0 && idle < (k + 1) * 2; idle++)
			;
	}
	CHECK_EQ(idle, rounds * 2);
	CHECK_EQ(vmm.cost.rounds, rounds);
	CHECK_EQ(vmm.cost.timed_rounds, 3);
	CHECK_EQ(vmm.cost.requests, rounds);
	CHECK_EQ(vmm.cost.frames, rounds);
	CHECK_EQ(vmm.cost.completions, rounds);
	/*
	 * The clock ticks once per read: each stage of a timed round lasts
	 * one tick, counted VMM_COST_SAMPLE_EVERY times; untimed rounds read
	 * it never, idle ones never add what they read.
	 */
	CHECK_EQ(vmm.cost.cyc_mediate, 3 * every);
	CHECK_EQ(vmm.cost.cyc_nic, 3 * every);
	CHECK_EQ(vmm.cost.cyc_reclaim, 3 * every);
	check_quiet_q("cost sampling", 0);
}

int
main(void)
{
	rig_init(32);
	rig.hook = nic_hook;
	test_tx_burst();
	test_tx_saturation();
	test_rx_conflicts();
	test_mixed();
	test_bounds();
	test_rogue_nic();
	test_stale_status();
	test_nic_lost();
	test_idle_guests();
	test_poll_lists();
	test_region_changes();
	test_region_change_conflicts();
	test_region_change_refusals();
	test_cost_sampling();
	printf("test_mediator: %u checks, %u failed\n", cases, failed);
	return failed != 0;
}
