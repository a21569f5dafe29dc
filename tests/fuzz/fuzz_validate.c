/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the input builds a region table, then drives a sequence of
 * validate / claim / drop / dying / remove operations. Every verdict is
 * compared with a brute-force model (linear search, 128-bit arithmetic, a
 * per-line shadow of the claims), and the invariants are checked: an OK
 * verdict lies inside its region, and the claim maps are empty once every
 * claim is dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdna_abi.h"
#include "claims.h"
#include "regions.h"
#include "validate.h"
#include "fuzz_reader.h"

#define MAX_REG		8
#define MAX_ACTIVE	256
#define MAX_OPS		512

struct model {
	struct cdna_region reg;
	int in_table;
	size_t lines;
	uint8_t *sh_rx;		/* shadow: line held by an RX */
	uint16_t *sh_tx;	/* shadow: TX readers of the line */
};

struct active {
	int dir;
	struct model *m;
	uint64_t off;
	uint32_t len;
};

struct state {
	struct cdna_region_table rt;
	struct model m[MAX_REG];
	unsigned int nm;
	struct active act[MAX_ACTIVE];
	unsigned int nact;
	struct cdna_rt_hint hint;	/* kept across requests, as a queue keeps it */
	uint64_t fast_accepts;		/* requests cdna_validate_simple took */
};

static int
model_overlaps(const struct state *s, uint64_t g, uint64_t size)
{
	unsigned int i;

	for (i = 0; i < s->nm; i++) {
		const struct cdna_region *o = &s->m[i].reg;

		if (!s->m[i].in_table)
			continue;
		if ((u128)g < (u128)o->gaddr + o->size &&
		    (u128)o->gaddr < (u128)g + size)
			return 1;
	}
	return 0;
}

/* The verdict, computed the slow and obvious way. */
static uint16_t
model_verdict(const struct state *s, const struct cdna_req *q, int dir,
	      struct model **where)
{
	const struct model *hit = NULL;
	uint64_t first, last, l;
	unsigned int i;

	*where = NULL;
	if (q->flags & ~CDNA_REQ_F_KNOWN)
		return CDNA_ST_BAD_FLAGS;
	if (dir == CDNA_DIR_RX && (q->flags & CDNA_REQ_F_MORE))
		return CDNA_ST_BAD_FLAGS;
	if (q->reserved0 || q->reserved1 || q->reserved2)
		return CDNA_ST_BAD_FLAGS;
	if (q->len == 0 || q->len > CDNA_MAX_BUF_LEN ||
	    (dir == CDNA_DIR_TX && q->len > CDNA_MAX_FRAME_LEN))
		return CDNA_ST_BAD_LENGTH;
	for (i = 0; i < s->nm; i++) {
		const struct cdna_region *g = &s->m[i].reg;

		if (s->m[i].in_table && q->addr >= g->gaddr &&
		    (u128)q->addr + q->len <= (u128)g->gaddr + g->size)
			hit = &s->m[i];
	}
	if (hit == NULL || hit->reg.dying)
		return CDNA_ST_BAD_ADDRESS;
	if (!(hit->reg.perm & (dir == CDNA_DIR_TX ? CDNA_PERM_DEV_READ :
						     CDNA_PERM_DEV_WRITE)))
		return CDNA_ST_BAD_PERM;
	first = (q->addr - hit->reg.gaddr) / 64;
	last = (q->addr - hit->reg.gaddr + q->len - 1) / 64;
	for (l = first; l <= last; l++) {
		if (hit->sh_rx[l])
			return CDNA_ST_INVALID_USE;
		if (dir == CDNA_DIR_RX && hit->sh_tx[l])
			return CDNA_ST_INVALID_USE;
		if (dir == CDNA_DIR_TX && hit->sh_tx[l] >= CDNA_CLAIM_TX_MAX)
			return CDNA_ST_INVALID_USE;
	}
	*where = (struct model *)hit;
	return CDNA_ST_OK;
}

static void
shadow_update(struct model *m, int dir, uint64_t off, uint32_t len, int take)
{
	uint64_t l;

	for (l = off / 64; l <= (off + len - 1) / 64; l++) {
		if (dir == CDNA_DIR_RX) {
			FUZZ_CHECK(m->sh_rx[l] == !take);
			m->sh_rx[l] = (uint8_t)take;
		} else {
			m->sh_tx[l] = (uint16_t)(m->sh_tx[l] + (take ? 1 : -1));
		}
	}
}

static void
shadow_compare(const struct state *s)
{
	unsigned int i;
	size_t l;

	for (i = 0; i < s->nm; i++) {
		const struct model *m = &s->m[i];
		uint64_t nz = 0;

		for (l = 0; l < m->lines; l++) {
			uint8_t want = m->sh_rx[l] ? CDNA_CLAIM_RX :
				(uint8_t)m->sh_tx[l];

			FUZZ_CHECK(m->reg.claims[l] == want);
			nz += want != 0;
		}
		FUZZ_CHECK(cdna_claims_count(m->reg.claims, m->lines) == nz);
	}
}

static uint64_t
pick_addr(struct reader *r, const struct state *s)
{
	const struct cdna_region *g = &s->m[rd8(r) % s->nm].reg;
	uint64_t end = g->gaddr + g->size;	/* model regions never wrap */

	switch (rd8(r) % 16) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6:
		return g->gaddr + rd16(r) % g->size;
	case 7: case 8:
		/* Line-aligned, so requests collide on the same lines. */
		return g->gaddr + (rd8(r) % 32) * 64 % g->size;
	case 9: case 10:
		return end - 1 - rd8(r) % 130;
	case 11:
		return end + rd8(r) % 4;
	case 12:
		return g->gaddr - rd8(r) % 4;
	case 13:
		return UINT64_MAX - rd16(r);
	default:
		return rd64(r);
	}
}

static uint32_t
pick_len(struct reader *r)
{
	static const uint32_t edge[] = {
		0, 1, 63, 64, 65, 128, CDNA_MAX_FRAME_LEN,
		CDNA_MAX_FRAME_LEN + 1, CDNA_MAX_BUF_LEN, CDNA_MAX_BUF_LEN + 1,
		UINT32_MAX, UINT32_MAX - 63,
	};

	switch (rd8(r) % 8) {
	case 0:
		return edge[rd8(r) % (sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return rd32(r);
	case 2: case 3:
		return 1 + rd8(r);
	default:
		return 1 + rd16(r) % 2048;
	}
}

static void
setup_regions(struct reader *r, struct state *s)
{
	unsigned int want = 1 + rd8(r) % MAX_REG, i;
	uint64_t prev_end = 0x100000;

	for (i = 0; i < want; i++) {
		struct model *m = &s->m[s->nm];
		uint64_t g, size = 1 + rd16(r);
		int expect, got;

		switch (rd8(r) % 5) {
		case 0:
		case 1:
			g = (uint64_t)rd16(r) << 8;
			break;
		case 2:
			g = prev_end;		/* adjacent to the previous */
			break;
		case 3:
			g = UINT64_MAX - rd32(r);
			break;
		default:
			g = rd64(r);
			break;
		}
		memset(m, 0, sizeof(*m));
		m->reg.gaddr = g;
		m->reg.size = size;
		m->reg.perm = rd8(r) % 4;
		m->reg.dying = rd8(r) % 8 == 0;
		if ((u128)g + size > UINT64_MAX)
			expect = -EINVAL;
		else if (model_overlaps(s, g, size))
			expect = -EEXIST;
		else
			expect = 0;
		got = cdna_rt_insert(&s->rt, &m->reg);
		FUZZ_CHECK(got == expect);
		if (got != 0)
			continue;
		m->lines = cdna_claims_map_len(size);
		m->reg.claims = calloc(m->lines, 1);
		m->sh_rx = calloc(m->lines, 1);
		m->sh_tx = calloc(m->lines, sizeof(*m->sh_tx));
		FUZZ_CHECK(m->reg.claims && m->sh_rx && m->sh_tx);
		m->in_table = 1;
		prev_end = g + size;
		s->nm++;
	}
}

static void
do_validate(struct reader *r, struct state *s)
{
	struct cdna_req q;
	struct cdna_dma_ref out;
	struct model *where;
	uint16_t got, want;
	int dir = rd8(r) & 1;
	uint8_t fl = rd8(r);

	memset(&q, 0, sizeof(q));
	q.addr = pick_addr(r, s);
	q.len = pick_len(r);
	q.cookie = rd8(r);
	if (fl < 8)
		q.flags = rd16(r);
	else if (fl % 8 == 1)
		q.flags = CDNA_REQ_F_MORE;
	if (fl >= 8 && fl < 16) {
		q.reserved0 = rd8(r) & 1;
		q.reserved1 = rd8(r) & 1;
		q.reserved2 = (uint64_t)(rd8(r) & 1) << 63;
	}

	memset(&out, 0, sizeof(out));
	got = cdna_validate_req(&s->rt, &q, dir, &out);
	want = model_verdict(s, &q, dir, &where);
	/* The lookup through a hint must change nothing: same verdict, same place. */
	{
		struct cdna_dma_ref out2;
		uint16_t got2;

		memset(&out2, 0, sizeof(out2));
		got2 = cdna_validate_req_hinted(&s->rt, &q, dir, &out2, &s->hint);
		FUZZ_CHECK(got2 == got);
		FUZZ_CHECK(got != CDNA_ST_OK ||
			   (out2.reg == out.reg && out2.off == out.off &&
			    out2.len == out.len));
	}
	/*
	 * The data path's fast form, over the region the hint now names:
	 * whatever it accepts, the full rules accept (claims aside, which it
	 * leaves to its caller; on TX the chain rules for one segment too),
	 * at the same place.
	 */
	{
		struct cdna_fast_region f;
		uint64_t off = 0;

		cdna_fast_region_load(&f, &s->rt, &s->hint, dir);
		if (cdna_validate_simple(&q, &f, dir, &off)) {
			s->fast_accepts++;
			FUZZ_CHECK(got == CDNA_ST_OK || got == CDNA_ST_INVALID_USE);
			FUZZ_CHECK(dir != CDNA_DIR_TX ||
				   cdna_validate_chain(&q, 1) == CDNA_ST_OK);
			FUZZ_CHECK(got != CDNA_ST_OK ||
				   (out.reg == f.reg && out.off == off));
		}
	}
	if (got != want)
		fprintf(stderr, "addr 0x%" PRIx64 " len %u dir %d flags 0x%x:"
			" got %u, model %u\n", q.addr, q.len, dir, q.flags,
			got, want);
	FUZZ_CHECK(got == want);
	if (got != CDNA_ST_OK)
		return;

	/* An OK verdict lies inside its region, at the offset it names. */
	FUZZ_CHECK(out.reg == &where->reg);
	FUZZ_CHECK(out.len == q.len);
	FUZZ_CHECK(out.off < out.reg->size);
	FUZZ_CHECK(out.len <= out.reg->size - out.off);
	FUZZ_CHECK(out.reg->gaddr + out.off == q.addr);
	FUZZ_CHECK(!out.reg->dying);

	if (s->nact == MAX_ACTIVE)
		return;
	if (dir == CDNA_DIR_TX)
		cdna_claims_take_tx(out.reg->claims, out.off, out.len);
	else
		cdna_claims_take_rx(out.reg->claims, out.off, out.len);
	out.reg->inflight++;
	shadow_update(where, dir, out.off, out.len, 1);
	s->act[s->nact].dir = dir;
	s->act[s->nact].m = where;
	s->act[s->nact].off = out.off;
	s->act[s->nact].len = out.len;
	s->nact++;
}

static void
drop_active(struct state *s, unsigned int k)
{
	struct active a = s->act[k];

	if (a.dir == CDNA_DIR_TX)
		cdna_claims_drop_tx(a.m->reg.claims, a.off, a.len);
	else
		cdna_claims_drop_rx(a.m->reg.claims, a.off, a.len);
	a.m->reg.inflight--;
	shadow_update(a.m, a.dir, a.off, a.len, 0);
	s->act[k] = s->act[--s->nact];
}

/* Remove a region nothing is in flight to, or put a removed one back. */
static void
do_toggle_table(struct reader *r, struct state *s)
{
	struct model *m = &s->m[rd8(r) % s->nm];

	if (m->in_table) {
		if (m->reg.inflight != 0)
			return;
		FUZZ_CHECK(cdna_rt_remove(&s->rt, &m->reg) == 0);
		FUZZ_CHECK(cdna_rt_remove(&s->rt, &m->reg) == -ENOENT);
		FUZZ_CHECK(cdna_rt_find(&s->rt, m->reg.gaddr) == NULL);
		m->in_table = 0;
	} else {
		FUZZ_CHECK(!model_overlaps(s, m->reg.gaddr, m->reg.size));
		FUZZ_CHECK(cdna_rt_insert(&s->rt, &m->reg) == 0);
		FUZZ_CHECK(cdna_rt_find_exact(&s->rt, m->reg.gaddr,
					      m->reg.size) == &m->reg);
		m->in_table = 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Across inputs: the fast form's checks above only mean something if it ran. */
static uint64_t fast_total, inputs_total;

static void __attribute__((destructor))
report_fast(void)
{
	fprintf(stderr, "fuzz_validate: the fast form accepted %" PRIu64
		" requests over %" PRIu64 " inputs\n", fast_total, inputs_total);
	/* A long run in which it never accepted anything checked nothing. */
	if (inputs_total >= 10000 && fast_total == 0) {
		fprintf(stderr, "fuzz_validate: the fast form never ran\n");
		_exit(1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state s;
	struct reader r = { data, size };
	unsigned int i, ops;

	memset(&s, 0, sizeof(s));
	FUZZ_CHECK(cdna_rt_init(&s.rt, MAX_REG) == 0);
	setup_regions(&r, &s);
	if (s.nm == 0)
		goto out;

	for (ops = 0; ops < MAX_OPS && r.n > 0; ops++) {
		uint8_t op = rd8(&r) % 16;

		if (op < 10) {
			do_validate(&r, &s);
		} else if (op < 13) {
			if (s.nact > 0)
				drop_active(&s, rd8(&r) % s.nact);
		} else if (op == 13) {
			s.m[rd8(&r) % s.nm].reg.dying ^= 1;
		} else if (op == 14) {
			do_toggle_table(&r, &s);
		} else {
			shadow_compare(&s);
		}
	}
	shadow_compare(&s);
	fast_total += s.fast_accepts;
	inputs_total++;

	while (s.nact > 0)
		drop_active(&s, s.nact - 1);
	/* Everything dropped: every map is empty again. */
	for (i = 0; i < s.nm; i++) {
		FUZZ_CHECK(s.m[i].reg.inflight == 0);
		FUZZ_CHECK(cdna_claims_count(s.m[i].reg.claims,
					     s.m[i].lines) == 0);
	}
out:
	for (i = 0; i < s.nm; i++) {
		free(s.m[i].reg.claims);
		free(s.m[i].sh_rx);
		free(s.m[i].sh_tx);
	}
	cdna_rt_fini(&s.rt);
	return 0;
}
