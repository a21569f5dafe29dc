/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data-path attacks: bad-address (addr), invalid-use (use) and bad
 * length/flags/permission/chain (req). Each row names its requests and the
 * completion status each must get; the reject counters of the posting
 * guest must move by exactly the rejections the row expects. RX requests
 * expected to be valid are filled with real frames (from the wire capture
 * or from the sender guest), so the device really writes guest memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "rogue.h"

#define BA	CDNA_ST_BAD_ADDRESS
#define IU	CDNA_ST_INVALID_USE
#define BL	CDNA_ST_BAD_LENGTH
#define BF	CDNA_ST_BAD_FLAGS
#define BP	CDNA_ST_BAD_PERM
#define OK	CDNA_ST_OK
#define ANY	RG_ST_ANY
#define K	1024

struct rogue rogue;

uint64_t
rogue_addr(uint8_t where, int64_t off)
{
	uint64_t b = rogue.base;

	switch (where) {
	case W_A: return b + LAY_A + off;
	case W_AEND: return b + LAY_GAP + off;
	case W_B: return b + LAY_B + off;
	case W_C: return b + LAY_C + off;
	case W_D: return b + LAY_D + off;
	case W_RO: return b + LAY_RO + off;
	case W_WO: return b + LAY_WO + off;
	case W_DL: return b + LAY_DL + off;
	case W_R2:
		return rogue.mem2 != NULL ? (uintptr_t)rogue.mem2->va + off : 0;
	case W_LMEM:
		/* Far above the sink's posted buffers. */
		return rogue.L != NULL ?
			(uintptr_t)rogue.L->mem->va + (3u << 20) + off : 0;
	default: return (uint64_t)off;
	}
}

static int
setup_r(struct env *e)
{
	static const uint8_t mac1[6] = ROGUE_MAC1;
	static const struct {
		uint32_t off, size, perm;
	} reg[] = {
		{ LAY_A, LAY_A_SZ, CDNA_PERM_KNOWN },
		{ LAY_B, LAY_B_SZ, CDNA_PERM_KNOWN },
		{ LAY_C, LAY_C_SZ, CDNA_PERM_KNOWN },
		{ LAY_D, LAY_D_SZ, CDNA_PERM_KNOWN },
		{ LAY_RO, LAY_RO_SZ, CDNA_PERM_DEV_READ },
		{ LAY_WO, LAY_WO_SZ, CDNA_PERM_DEV_WRITE },
		{ LAY_DL, LAY_DL_SZ, CDNA_PERM_KNOWN },
	};
	struct rg_guest *R = rg_guest_new("R");
	char o[64];
	size_t i;
	int r;

	if (R == NULL)
		return -1;
	rogue.R = R;
	rogue.mem = rg_mem_new("R-mem", LAY_TOTAL, MFD_CLOEXEC);
	if (rogue.mem == NULL)
		return -1;
	R->mem = rogue.mem;
	rogue.base = (uintptr_t)rogue.mem->va;
	r = rg_connect(R, e->v.sock);
	if (r == 0)
		r = rg_hello(R, 1, mac1);
	if (r != 0) {
		rg_note("rogue R: connect/HELLO: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	if (memcmp(R->mac, mac1, 6) != 0) {
		rg_note("rogue R: requested MAC not granted");
		return -1;
	}
	/* Several regions of one memfd, as with DPDK single-file segments. */
	for (i = 0; i < sizeof(reg) / sizeof(reg[0]); i++) {
		r = rg_region_add(R, rogue.base + reg[i].off, reg[i].size,
				  rogue.mem->fd, reg[i].off, reg[i].perm);
		if (r != 0) {
			rg_note("rogue R: REGION_ADD %zu: %s", i,
				env_outcome(r, o, sizeof(o)));
			return -1;
		}
	}
	r = rg_queue_create(R, 0, 256, 256);
	if (r == 0)
		r = rg_simple(R, CDNA_MSG_START);
	/* TX slots for plain sends, above every offset the rows use. */
	rg_sender_init(R, rogue.base + LAY_A + 800 * K, 16, 10240);
	if (r != 0) {
		rg_note("rogue R: queue: %s (%s)", env_outcome(r, o, sizeof(o)),
			R->err);
		return -1;
	}
	return 0;
}

static int
setup_r2(struct env *e)
{
	static const uint8_t mac2[6] = ROGUE_MAC2;
	char o[64];
	int r;

	rogue.L = e->L;
	rogue.R2 = rg_guest_new("R2");
	if (rogue.R2 == NULL)
		return -1;
	r = rg_honest(rogue.R2, e->v.sock, 256u << 10, mac2, 256);
	if (r != 0) {
		rg_note("rogue R2: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	rogue.mem2 = rogue.R2->mem;
	return 0;
}

int
rogue_setup(struct env *e, int two)
{
	if (setup_r(e) != 0)
		return -1;
	return two ? setup_r2(e) : 0;
}

static const char *
dir_name(int dir)
{
	return dir == RG_TX ? "TX" : "RX";
}

static int
run_specs(struct env *e, const struct dcase *c, char *why, size_t wlen)
{
	struct rg_guest *G[2] = { rogue.R, rogue.R2 };
	struct cdna_msg_stats before[2], after[2];
	uint32_t cookie[10], seqs[10];
	uint32_t exp_rej[2][CDNA_ST_COUNT];
	uint32_t rxmin[2] = { UINT32_MAX, UINT32_MAX };
	int used[2] = { 0, 0 }, any[2] = { 0, 0 }, nrx[2] = { 0, 0 };
	int i, j, w, st, maxstage = 0;
	uint8_t frame[CDNA_MAX_FRAME_LEN];
	uint64_t end;
	char o[64];

	memset(exp_rej, 0, sizeof(exp_rej));
	for (i = 0; i < c->nspec; i++) {
		const struct spec *s = &c->s[i];

		used[s->who] = 1;
		if (s->stage > maxstage)
			maxstage = s->stage;
		if (s->expect == ANY)
			any[s->who] = 1;
		else if (s->expect != OK)
			exp_rej[s->who][s->expect]++;
		if (s->dir == RG_RX && s->expect == OK) {
			nrx[s->who]++;
			if (s->len < rxmin[s->who])
				rxmin[s->who] = s->len;
		}
	}
	for (w = 0; w < 2; w++) {
		if (!used[w])
			continue;
		if (G[w] == NULL) {
			rg_append(why, wlen, "rogue guest %d missing", w);
			return -1;
		}
		j = rg_stats(G[w], &before[w]);
		if (j != 0) {
			rg_append(why, wlen, "STATS before: %s",
			       env_outcome(j, o, sizeof(o)));
			return -1;
		}
	}
	for (st = 0; st <= maxstage; st++) {
		int posted[2][2] = { { 0, 0 }, { 0, 0 } };

		for (i = 0; i < c->nspec; i++) {
			const struct spec *s = &c->s[i];
			struct rg_guest *g = G[s->who];
			struct cdna_req rq;
			uint64_t addr = rogue_addr(s->where, s->off);
			uint32_t seq = 0;

			if (s->stage != st)
				continue;
			if (s->dir == RG_TX) {
				for (j = 0; j < i; j++)
					if (c->s[j].dir == RG_TX && seqs[j] != 0 &&
					    rogue_addr(c->s[j].where, c->s[j].off) == addr &&
					    c->s[j].len == s->len)
						seq = seqs[j];
				if (seq == 0 && s->len >= RG_FRAME_MIN &&
				    s->len <= CDNA_MAX_FRAME_LEN &&
				    rg_mem_find(addr, s->len) != NULL) {
					seq = rg_frame_new(e->L->mac, g->mac, s->len,
							   s->expect != OK &&
							   s->expect != ANY);
					rg_frame_build(seq, frame);
					rg_mem_write(addr, frame, s->len);
				}
			}
			seqs[i] = seq;
			memset(&rq, 0, sizeof(rq));
			rq.addr = addr;
			rq.len = s->len;
			rq.flags = s->flags;
			rq.reserved0 = s->res0;
			rq.reserved1 = s->res1;
			rq.reserved2 = s->res2;
			cookie[i] = rg_post_raw(g, s->dir, &rq, s->expect);
			if (cookie[i] == UINT32_MAX) {
				rg_append(why, wlen, "cannot post on %s", g->name);
				return -1;
			}
			g->rec[cookie[i]].seq = seq;
			posted[s->who][s->dir] = 1;
		}
		for (w = 0; w < 2; w++) {
			for (j = 0; j < 2; j++) {
				if (!posted[w][j])
					continue;
				rg_publish(G[w], j);
				if (rg_wait_consumed(G[w], j, RG_WAIT_MS) != 0)
					rg_note("%s: %s requests not consumed in time",
						G[w]->name, dir_name(j));
			}
		}
	}
	/* Fill every RX buffer expected valid with a real frame. */
	for (w = 0; w < 2; w++) {
		uint32_t flen = rxmin[w] > 512 ? 512 : rxmin[w];

		if (flen < RG_FRAME_MIN)
			flen = RG_FRAME_MIN;
		for (j = 0; j < nrx[w]; j++)
			if (rg_send_frame(e->S, G[w]->mac, flen, 0) == 0)
				rg_append(why, wlen, "sender could not send");
	}
	end = rg_now_ms() + 3000;
	for (i = 0; i < c->nspec; i++) {
		uint64_t t = rg_now_ms();

		rg_wait(G[c->s[i].who], cookie[i], t < end ? (int)(end - t) : 0);
	}
	/* Valid TX frames must reach the sink, as often as they were posted. */
	end = rg_now_ms() + 1500;
	for (i = 0; i < c->nspec; i++) {
		uint32_t want = 0;

		if (c->s[i].dir != RG_TX || c->s[i].expect != OK || seqs[i] == 0)
			continue;
		for (j = 0; j < c->nspec; j++)
			if (seqs[j] == seqs[i] && c->s[j].expect == OK)
				want++;
		while (rg_frame_seen_count(seqs[i]) < want && rg_now_ms() < end)
			rg_drain(5);
		if (rg_frame_seen_count(seqs[i]) != want)
			rg_append(why, wlen, "TX #%d: expected its frame delivered %u times got %u",
			       i, want, rg_frame_seen_count(seqs[i]));
	}
	for (i = 0; i < c->nspec; i++) {
		const struct spec *s = &c->s[i];
		const struct rg_rec *r = &G[s->who]->rec[cookie[i]];
		uint16_t got = r->done ? r->status : RG_ST_NONE;

		if (s->expect == ANY || got == s->expect)
			continue;
		rg_append(why, wlen, "%s%s #%d %s 0x%llx len %u: expected %s got %s",
		       s->who ? "R2 " : "", dir_name(s->dir), i,
		       s->where == W_ABS ? "addr" : "at",
		       (unsigned long long)r->addr, s->len,
		       rg_st_name(s->expect), rg_st_name(got));
	}
	for (w = 0; w < 2; w++) {
		if (!used[w])
			continue;
		j = rg_stats(G[w], &after[w]);
		if (j != 0) {
			rg_append(why, wlen, "%s: expected no disconnect got %s on STATS",
			       G[w]->name, env_outcome(j, o, sizeof(o)));
			continue;
		}
		for (st = 1; st < (int)CDNA_ST_COUNT; st++) {
			uint64_t d = after[w].reject[st] - before[w].reject[st];

			if (any[w] ? d < exp_rej[w][st] : d != exp_rej[w][st])
				rg_append(why, wlen, "%s reject[%s]: expected delta %u got %llu",
				       G[w]->name, rg_st_name((uint16_t)st),
				       exp_rej[w][st], (unsigned long long)d);
		}
		if (after[w].ring_corrupt != before[w].ring_corrupt)
			rg_append(why, wlen, "%s: expected no ring_corrupt got delta %llu",
			       G[w]->name,
			       (unsigned long long)(after[w].ring_corrupt -
						    before[w].ring_corrupt));
		if (G[w]->nerr != 0) {
			rg_append(why, wlen, "%s: %s", G[w]->name, G[w]->err);
			G[w]->nerr = 0;
		}
	}
	return why[0] != '\0' ? -1 : 0;
}

int
run_dcases(struct env *e, const struct dcase *c, int n)
{
	char why[1024];
	int i, r, a, failed = 0;

	for (i = 0; i < n; i++) {
		why[0] = '\0';
		if (rg_verbose)
			rg_note("%s: %s", c[i].name, c[i].what);
		r = 0;
		if (c[i].pre != NULL)
			r = c[i].pre(e, &c[i], why, sizeof(why));
		if (r == 0)
			r = c[i].fn != NULL ? c[i].fn(e, &c[i], why, sizeof(why)) :
				run_specs(e, &c[i], why, sizeof(why));
		if (r != 0) {
			env_fail(e, c[i].name, "%s", why);
			failed++;
		}
		a = env_after(e, c[i].name, 1);
		if (a == 0 && r == 0)
			env_pass(e, c[i].name);
		if (a == -2 && rogue.R != NULL) {
			/* The vmm was restarted: so must the rogues be. */
			rg_guest_close(rogue.R);
			rg_guest_close(rogue.R2);
			rogue.R = rogue.R2 = NULL;
			if (rogue_setup(e, 1) != 0)
				return failed + 1;
		}
	}
	return failed;
}

/* ---- custom rows ---- */

static int
wire_rx(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *R = rogue.R;
	struct {
		uint8_t where;
		int64_t off;
		uint32_t len;
		uint16_t expect;
	} rq[] = {
		{ W_A, 0, 2048, OK },
		{ W_AEND, -16, 64, BA },
		{ W_A, 4096, 2048, OK },
		{ W_ABS, (int64_t)(UINT64_MAX - 8), 16, BA },
		{ W_A, 8192, 2048, OK },
		{ W_C, -64, 2048, BA },
		{ W_A, 12288, 2048, OK },
	};
	uint32_t ck[8];
	uint32_t i, s;
	uint64_t end;

	for (i = 0; i < sizeof(rq) / sizeof(rq[0]); i++)
		ck[i] = rg_post(R, RG_RX, rogue_addr(rq[i].where, rq[i].off),
				rq[i].len, 0, rq[i].expect);
	rg_publish(R, RG_RX);
	end = rg_now_ms() + 4000;
	for (i = 0; i < sizeof(rq) / sizeof(rq[0]); i++) {
		uint64_t t = rg_now_ms();
		const struct rg_rec *r = &R->rec[ck[i]];

		rg_wait(R, ck[i], t < end ? (int)(end - t) : 0);
		if (!r->done || r->status != rq[i].expect)
			rg_append(why, len, "RX #%u at 0x%llx len %u: expected %s got %s",
			       i, (unsigned long long)r->addr, r->len,
			       rg_st_name(rq[i].expect),
			       rg_st_name(r->done ? r->status : RG_ST_NONE));
	}
	for (s = 1; s <= 4; s++)
		if (rg_frame_seen_count(s) != 1)
			rg_append(why, len, "wire frame %u: expected received once got %u",
			       s, rg_frame_seen_count(s));
	if (R->nerr != 0)
		rg_append(why, len, "%s", R->err);
	return why[0] != '\0' ? -1 : 0;
}

static int
del_dl(struct env *e, const struct dcase *c, char *why, size_t len)
{
	char o[64];
	int r = rg_region_del(rogue.R, rogue_addr(W_DL, 0), LAY_DL_SZ);

	if (r != 0) {
		rg_append(why, len, "REGION_DEL: expected status 0 got %s",
		       env_outcome(r, o, sizeof(o)));
		return -1;
	}
	return 0;
}

static int
reuse_pre(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint32_t ck;

	ck = rg_post(rogue.R, RG_RX, rogue_addr(W_A, 328 * K), 2048, 0, OK);
	rg_publish(rogue.R, RG_RX);
	rg_wait_consumed(rogue.R, RG_RX, RG_WAIT_MS);
	rg_send_frame(e->S, rogue.R->mac, 300, 0);
	if (rg_wait(rogue.R, ck, RG_WAIT_MS) != 0 ||
	    rogue.R->rec[ck].status != OK) {
		rg_append(why, len, "first RX: expected OK got %s",
		       rg_st_name(rogue.R->rec[ck].status));
		return -1;
	}
	return 0;
}

/*
 * REGION_DEL while an RX into the region is in flight: the mediator must
 * either refuse (-EBUSY) or keep the mapping until the DMA is done; the
 * in-flight buffer ends OK (with a real frame) or ABORTED, and new requests
 * into a deleted region are BAD_ADDRESS.
 */
static int
del_inflight(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *R = rogue.R;
	uint32_t ck, ck2;
	char o[64];
	int r;

	ck = rg_post(R, RG_RX, rogue_addr(W_DL, 0), 2048, 0, ANY);
	rg_publish(R, RG_RX);
	rg_wait_consumed(R, RG_RX, RG_WAIT_MS);
	rg_drain(10);
	if (R->rec[ck].done) {
		rg_append(why, len, "in-flight RX: expected no completion yet got %s",
		       rg_st_name(R->rec[ck].status));
		return -1;
	}
	r = rg_region_del(R, rogue_addr(W_DL, 0), LAY_DL_SZ);
	if (r != 0 && r != -EBUSY) {
		rg_append(why, len, "REGION_DEL: expected 0 or -EBUSY got %s",
		       env_outcome(r, o, sizeof(o)));
		return -1;
	}
	rg_note("REGION_DEL with RX in flight: %s", env_outcome(r, o, sizeof(o)));
	ck2 = rg_post(R, RG_RX, rogue_addr(W_DL, 8192), 2048, 0,
		      r == 0 ? BA : OK);
	rg_publish(R, RG_RX);
	rg_wait_consumed(R, RG_RX, RG_WAIT_MS);
	rg_send_frame(e->S, R->mac, 400, 0);
	if (r != 0)
		rg_send_frame(e->S, R->mac, 400, 0);
	rg_wait(R, ck, RG_WAIT_MS);
	rg_wait(R, ck2, RG_WAIT_MS);
	if (!R->rec[ck].done || (R->rec[ck].status != OK &&
				 R->rec[ck].status != CDNA_ST_ABORTED))
		rg_append(why, len, "in-flight RX: expected OK or ABORTED got %s",
		       rg_st_name(R->rec[ck].done ? R->rec[ck].status :
				  RG_ST_NONE));
	if (!R->rec[ck2].done || R->rec[ck2].status != R->rec[ck2].expect)
		rg_append(why, len, "RX after REGION_DEL: expected %s got %s",
		       rg_st_name(R->rec[ck2].expect),
		       rg_st_name(R->rec[ck2].done ? R->rec[ck2].status :
				  RG_ST_NONE));
	if (R->nerr != 0)
		rg_append(why, len, "%s", R->err);
	return why[0] != '\0' ? -1 : 0;
}

/*
 * A guest dies (closes its socket) with RX buffers posted. Once the vmm
 * reports the disconnect, frames sent to its MAC must not reach its memory,
 * and the teardown must report no claims left.
 */
static int
die_inflight(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *g = rg_guest_new("dying");
	uint64_t claims = 1, flushed = 0;
	char o[64];
	uint8_t mac[6];
	uint32_t i, id;
	int r;

	if (g == NULL)
		return -1;
	r = rg_honest(g, e->v.sock, 256u << 10, NULL, 64);
	if (r != 0) {
		rg_append(why, len, "set-up: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	for (i = 0; i < 8; i++)
		rg_post(g, RG_RX, (uintptr_t)g->mem->va + i * 4096u, 2048, 0, OK);
	rg_publish(g, RG_RX);
	rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
	memcpy(mac, g->mac, 6);
	id = g->id;
	/* Dies: no BYE, rings and memory simply dropped by the process. */
	rg_guest_close(g);
	if (rg_gone_u64(&e->v, id, "claims_after", &claims, RG_WAIT_MS) != 0) {
		rg_append(why, len, "expected guest %u in /cdna/gone got nothing", id);
		return -1;
	}
	rg_gone_u64(&e->v, id, "flushed", &flushed, 0);
	rg_note("guest %u gone: flushed=%llu claims_after=%llu", id,
		(unsigned long long)flushed, (unsigned long long)claims);
	for (i = 0; i < 8; i++)
		rg_send_frame(e->S, mac, 256, 0);
	rg_drain(100);
	if (claims != 0)
		rg_append(why, len, "expected claims_after 0 got %llu",
			  (unsigned long long)claims);
	if (flushed != 8)
		rg_append(why, len, "expected the 8 RX buffers in flight flushed got %llu",
			  (unsigned long long)flushed);
	return why[0] != '\0' ? -1 : 0;
}

/* The oracle itself: a stray byte and a corrupted frame must be caught. */
static int
oracle_selftest(struct env *e, const struct dcase *c, char *why, size_t len)
{
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)rogue_addr(W_AEND, 77);
	uint8_t frame[128], old = *p;
	char w[256];
	uint32_t seq;
	size_t bad;

	*p = (uint8_t)(old ^ 0x40);
	bad = rg_mem_verify(w, sizeof(w));
	*p = old;
	if (bad != 1)
		rg_append(why, len, "stray write: expected 1 byte found got %zu", bad);
	seq = rg_frame_new(rogue.R->mac, rogue.R->mac, sizeof(frame), 0);
	rg_frame_build(seq, frame);
	if (rg_frame_match(frame, sizeof(frame)) != seq)
		rg_append(why, len, "frame check rejects a good frame");
	frame[100] ^= 1;
	if (rg_frame_match(frame, sizeof(frame)) != 0)
		rg_append(why, len, "frame check accepts a corrupted frame");
	frame[100] ^= 1;
	if (rg_frame_match(frame, sizeof(frame) - 1) != 0)
		rg_append(why, len, "frame check accepts a truncated frame");
	return why[0] != '\0' ? -1 : 0;
}

/* ---- addr ---- */

static const struct dcase wire_case[] = {
	{ "oracle-selftest", "flip one canary byte behind the shadow's back; corrupt and cut a frame",
	  "the memory check finds exactly that byte; the frame check refuses both",
	  NULL, oracle_selftest, 0, { { 0 } } },
	{ "wire-rx-mixed-batch",
	  "frames from the wire capture land in the valid RX buffers of a batch that also holds bad-address requests",
	  "valid buffers OK with exactly the wire frames, bad ones BAD_ADDRESS",
	  NULL, wire_rx, 0, { { 0 } } },
};

static const struct dcase addr_cases[] = {
	{ "outside-every-region", "RX and TX naming the unregistered page after region A", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_AEND, 0, 64, 0, 0, 0, 0, BA },
		{ WHO_R, RG_TX, 0, W_AEND, 512, 100, 0, 0, 0, 0, BA } } },
	{ "last-bytes-of-region", "RX of exactly the last 128 bytes of A (edge, allowed)", NULL, NULL, NULL, 1, {
		{ WHO_R, RG_RX, 0, W_AEND, -128, 128, 0, 0, 0, 0, OK } } },
	{ "one-byte-past-end", "RX ending one byte past A, RX starting at its end, TX ending one past", NULL, NULL, NULL, 3, {
		{ WHO_R, RG_RX, 0, W_AEND, -63, 64, 0, 0, 0, 0, BA },
		{ WHO_R, RG_RX, 0, W_AEND, 0, 64, 0, 0, 0, 0, BA },
		{ WHO_R, RG_TX, 0, W_AEND, -59, 60, 0, 0, 0, 0, BA } } },
	{ "straddle-end", "RX and TX straddling the end of A", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_AEND, -1024, 2048, 0, 0, 0, 0, BA },
		{ WHO_R, RG_TX, 0, W_AEND, -50, 100, 0, 0, 0, 0, BA } } },
	{ "straddle-gap", "RX and TX from A across the unregistered gap into B", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_AEND, -100, 4296, 0, 0, 0, 0, BA },
		{ WHO_R, RG_TX, 0, W_AEND, -100, 4296, 0, 0, 0, 0, BA } } },
	{ "straddle-adjacent-regions", "RX and TX across the boundary of two adjacent regions C|D of one memfd", NULL, NULL, NULL, 3, {
		{ WHO_R, RG_RX, 0, W_D, -64, 128, 0, 0, 0, 0, BA },
		{ WHO_R, RG_TX, 0, W_D, -30, 60, 0, 0, 0, 0, BA },
		{ WHO_R, RG_RX, 0, W_C, 0, 2048, 0, 0, 0, 0, OK } } },
	{ "wrap-uint64", "addr UINT64_MAX-8 len 16, UINT64_MAX len 1, UINT64_MAX-63 len 128", NULL, NULL, NULL, 4, {
		{ WHO_R, RG_RX, 0, W_ABS, (int64_t)(UINT64_MAX - 8), 16, 0, 0, 0, 0, BA },
		{ WHO_R, RG_TX, 0, W_ABS, (int64_t)(UINT64_MAX - 8), 16, 0, 0, 0, 0, BA },
		{ WHO_R, RG_RX, 0, W_ABS, (int64_t)UINT64_MAX, 1, 0, 0, 0, 0, BA },
		{ WHO_R, RG_RX, 0, W_ABS, (int64_t)(UINT64_MAX - 63), 128, 0, 0, 0, 0, BA } } },
	{ "addr-zero", "RX and TX at address 0 and 4096", NULL, NULL, NULL, 3, {
		{ WHO_R, RG_RX, 0, W_ABS, 0, 64, 0, 0, 0, 0, BA },
		{ WHO_R, RG_TX, 0, W_ABS, 0, 60, 0, 0, 0, 0, BA },
		{ WHO_R, RG_RX, 0, W_ABS, 4096, 64, 0, 0, 0, 0, BA } } },
	{ "before-region-start", "RX starting one byte and one line before A", NULL, NULL, NULL, 3, {
		{ WHO_R, RG_RX, 0, W_A, -1, 64, 0, 0, 0, 0, BA },
		{ WHO_R, RG_RX, 0, W_A, -64, 64, 0, 0, 0, 0, BA },
		{ WHO_R, RG_TX, 0, W_A, -1, 60, 0, 0, 0, 0, BA } } },
	{ "other-guest-region", "guest R2 names addresses valid only in R's and L's registrations", NULL, NULL, NULL, 6, {
		{ WHO_R2, RG_RX, 0, W_A, 64 * K, 2048, 0, 0, 0, 0, BA },
		{ WHO_R2, RG_TX, 0, W_A, 68 * K, 100, 0, 0, 0, 0, BA },
		{ WHO_R2, RG_RX, 0, W_LMEM, 0, 2048, 0, 0, 0, 0, BA },
		{ WHO_R2, RG_TX, 0, W_LMEM, 4096, 200, 0, 0, 0, 0, BA },
		{ WHO_R2, RG_RX, 0, W_R2, 0, 2048, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 0, W_A, 64 * K, 2048, 0, 0, 0, 0, OK } } },
	{ "after-region-del", "REGION_DEL of region DL, then RX and TX into it", NULL, del_dl, NULL, 3, {
		{ WHO_R, RG_RX, 0, W_DL, 0, 2048, 0, 0, 0, 0, BA },
		{ WHO_R, RG_TX, 0, W_DL, 4096, 100, 0, 0, 0, 0, BA },
		{ WHO_R, RG_RX, 0, W_DL, 8192, 64, 0, 0, 0, 0, BA } } },
};

int
group_addr(struct env *e)
{
	static const uint8_t mac1[6] = ROGUE_MAC1;
	static const uint8_t src[6] = { 0x02, 0x77, 0x77, 0x77, 0x77, 0x77 };
	static const uint32_t lens[4] = { 60, 100, 1000, 1514 };
	uint32_t seqs[4];
	int i, f;

	/* Frames the wire delivers to R: seq 1..4. */
	for (i = 0; i < 4; i++)
		seqs[i] = rg_frame_new(mac1, src, lens[i], 0);
	if (rg_pcap_write(e->v.wire_in, seqs, 4) != 0 || env_up(e, 0) != 0 ||
	    rogue_setup(e, 0) != 0) {
		env_fail(e, "setup", "expected vmm and rogue guest up got failure");
		env_down(e);
		return -1;
	}
	run_dcases(e, wire_case, sizeof(wire_case) / sizeof(wire_case[0]));
	if (env_add_sl(e) != 0 || setup_r2(e) != 0) {
		env_fail(e, "setup", "expected sender, sink and R2 up got failure");
		env_down(e);
		return -1;
	}
	f = run_dcases(e, addr_cases, sizeof(addr_cases) / sizeof(addr_cases[0]));
	(void)f;
	env_down(e);
	return 0;
}

/* ---- use ---- */

static const struct dcase use_cases[] = {
	{ "rx-rx-same-buffer", "two RX requests on one buffer in one batch", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 256 * K, 2048, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 0, W_A, 256 * K, 2048, 0, 0, 0, 0, IU } } },
	{ "rx-rx-same-buffer-later", "RX on a buffer already posted in an earlier batch", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 264 * K, 2048, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 1, W_A, 264 * K, 2048, 0, 0, 0, 0, IU } } },
	{ "rx-rx-overlap-one-line", "second RX overlaps the first by one 64-byte line", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 272 * K, 2048, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 0, W_A, 272 * K + 2048 - 64, 2048, 0, 0, 0, 0, IU } } },
	{ "rx-rx-share-partial-line", "second RX starts in the last, partly used line of the first", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 280 * K, 2000, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 0, W_A, 280 * K + 2000, 1000, 0, 0, 0, 0, IU } } },
	{ "rx-rx-adjacent-lines", "two RX buffers back to back, no shared line (allowed)", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 288 * K, 2048, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 0, W_A, 288 * K + 2048, 2048, 0, 0, 0, 0, OK } } },
	{ "rx-eight-on-one", "eight RX requests on one buffer", NULL, NULL, NULL, 8, {
		{ WHO_R, RG_RX, 0, W_A, 296 * K, 1024, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 0, W_A, 296 * K, 1024, 0, 0, 0, 0, IU },
		{ WHO_R, RG_RX, 0, W_A, 296 * K + 64, 64, 0, 0, 0, 0, IU },
		{ WHO_R, RG_RX, 0, W_A, 296 * K, 1024, 0, 0, 0, 0, IU },
		{ WHO_R, RG_RX, 0, W_A, 296 * K + 960, 128, 0, 0, 0, 0, IU },
		{ WHO_R, RG_RX, 0, W_A, 296 * K, 1024, 0, 0, 0, 0, IU },
		{ WHO_R, RG_RX, 0, W_A, 296 * K - 64, 128, 0, 0, 0, 0, IU },
		{ WHO_R, RG_RX, 0, W_A, 296 * K, 1024, 0, 0, 0, 0, IU } } },
	{ "tx-while-rx-in-flight", "TX of a buffer the device may be writing", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 304 * K, 2048, 0, 0, 0, 0, OK },
		{ WHO_R, RG_TX, 1, W_A, 304 * K, 1000, 0, 0, 0, 0, IU } } },
	{ "tx-one-line-into-rx", "TX whose first line is the last line of an in-flight RX", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 312 * K, 2048, 0, 0, 0, 0, OK },
		{ WHO_R, RG_TX, 1, W_A, 312 * K + 1984, 100, 0, 0, 0, 0, IU } } },
	{ "tx-tx-same-buffer", "two TX of one buffer (clone, allowed): both reach the peer", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_TX, 0, W_A, 320 * K, 500, 0, 0, 0, 0, OK },
		{ WHO_R, RG_TX, 0, W_A, 320 * K, 500, 0, 0, 0, 0, OK } } },
	{ "rx-reuse-after-completion", "RX on a buffer whose previous RX has completed (allowed)", NULL, reuse_pre, NULL, 1, {
		{ WHO_R, RG_RX, 0, W_A, 328 * K, 2048, 0, 0, 0, 0, OK } } },
	{ "same-offset-other-region", "RX at the same offset in A and B: claims are per region", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 0, 2048, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 0, W_B, 0, 2048, 0, 0, 0, 0, OK } } },
	{ "region-del-rx-in-flight",
	  "REGION_DEL of a region with an RX in flight, then a frame and a new RX into it",
	  "DEL 0 or -EBUSY; in-flight RX OK (frame) or ABORTED; new RX BAD_ADDRESS if deleted",
	  NULL, del_inflight, 0, { { 0 } } },
	{ "guest-dies-rx-in-flight",
	  "a guest closes its socket with 8 RX buffers posted; frames then sent to its MAC",
	  "in /cdna/gone with its 8 buffers flushed and claims_after 0; its memory untouched",
	  NULL, die_inflight, 0, { { 0 } } },
};

int
group_use(struct env *e)
{
	if (env_up(e, 1) != 0 || rogue_setup(e, 0) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	rogue.L = e->L;
	run_dcases(e, use_cases, sizeof(use_cases) / sizeof(use_cases[0]));
	env_down(e);
	return 0;
}

/* ---- req: lengths, flags, permissions, chains ---- */

/*
 * A TX chain of nseg segments of seglen bytes (each in its own 4 KiB
 * page), to a MAC no guest has, so that the sink and the wire would see it.
 * bad: -1 none; otherwise the index of a segment given a bad address.
 */
static int
chain(struct env *e, int nseg, uint32_t seglen, int bad, int bad_flags,
      int valid, char *why, size_t len)
{
	struct rg_guest *R = rogue.R;
	struct cdna_msg_stats st0, st1;
	uint8_t *frame;
	uint32_t flen = (uint32_t)nseg * seglen, seq, ck[40], nok = 0, nchain = 0;
	uint32_t nlen = 0;
	uint64_t base = rogue_addr(W_A, 512 * K), end;
	int i;

	if (rg_stats(R, &st0) != 0) {
		rg_append(why, len, "STATS failed");
		return -1;
	}
	frame = malloc(flen);
	if (frame == NULL)
		return -1;
	seq = rg_frame_new(env_mac_group, R->mac, flen, !valid);
	rg_frame_build(seq, frame);
	for (i = 0; i < nseg; i++) {
		uint64_t a = base + (uint64_t)i * ((seglen + 4095u) & ~4095u);
		struct cdna_req rq;

		rg_mem_write(a, frame + (size_t)i * seglen, seglen);
		memset(&rq, 0, sizeof(rq));
		rq.addr = i == bad ? rogue_addr(W_AEND, 0) : a;
		rq.len = seglen;
		rq.flags = i + 1 < nseg ? CDNA_REQ_F_MORE : 0;
		if (i == bad_flags)
			rq.flags |= 0x0100;
		ck[i] = rg_post_raw(R, RG_TX, &rq, valid ? OK : ANY);
	}
	free(frame);
	rg_publish(R, RG_TX);
	end = rg_now_ms() + 3000;
	for (i = 0; i < nseg; i++) {
		uint64_t t = rg_now_ms();
		const struct rg_rec *r = &R->rec[ck[i]];

		rg_wait(R, ck[i], t < end ? (int)(end - t) : 0);
		if (!r->done) {
			rg_append(why, len, "segment %d: expected a completion got none", i);
			continue;
		}
		if (r->status == OK)
			nok++;
		if (r->status == CDNA_ST_BAD_CHAIN)
			nchain++;
		if (r->status == CDNA_ST_BAD_LENGTH)
			nlen++;
	}
	if (valid) {
		if (nok != (uint32_t)nseg)
			rg_append(why, len, "expected %d segments OK got %u", nseg, nok);
		end = rg_now_ms() + 1500;
		while (rg_frame_seen_count(seq) == 0 && rg_now_ms() < end)
			rg_drain(5);
		if (rg_frame_seen_count(seq) != 1)
			rg_append(why, len, "expected the %u-byte frame at the sink once got %u",
			       flen, rg_frame_seen_count(seq));
		env_wire_must(e, seq);
	} else {
		rg_drain(100);
		if (nok != 0)
			rg_append(why, len, "expected no segment OK (whole packet rejected) got %u OK of %d",
			       nok, nseg);
		/* Too many segments is BAD_CHAIN; too many bytes may be BAD_LENGTH. */
		if (bad < 0 && bad_flags < 0 && nchain == 0 && nlen == 0)
			rg_append(why, len, "expected BAD_CHAIN or BAD_LENGTH completions got none");
		if (nseg > (int)CDNA_MAX_SEGS && nchain == 0)
			rg_append(why, len, "expected BAD_CHAIN for %d segments got none", nseg);
	}
	if (rg_stats(R, &st1) != 0) {
		rg_append(why, len, "expected no disconnect got STATS failure");
	} else if (!valid) {
		uint64_t d = 0;
		int s;

		for (s = 1; s < (int)CDNA_ST_COUNT; s++)
			d += st1.reject[s] - st0.reject[s];
		if (d == 0)
			rg_append(why, len, "expected reject counters to move got no change");
	}
	/* The mediator must resynchronise after a rejected chain. */
	if (rg_ping(R, e->L, 200) != 0)
		rg_append(why, len, "expected a plain TX after the chain to arrive got none");
	if (R->nerr != 0)
		rg_append(why, len, "%s", R->err);
	return why[0] != '\0' ? -1 : 0;
}

static int
chain_max(struct env *e, const struct dcase *c, char *why, size_t len)
{
	return chain(e, CDNA_MAX_SEGS, 64, -1, -1, 1, why, len);
}

static int
chain_too_many(struct env *e, const struct dcase *c, char *why, size_t len)
{
	return chain(e, CDNA_MAX_SEGS + 1, 64, -1, -1, 0, why, len);
}

static int
chain_bad_addr(struct env *e, const struct dcase *c, char *why, size_t len)
{
	return chain(e, 4, 256, 2, -1, 0, why, len);
}

static int
chain_bad_flags(struct env *e, const struct dcase *c, char *why, size_t len)
{
	return chain(e, 4, 256, -1, 1, 0, why, len);
}

static int
chain_too_long(struct env *e, const struct dcase *c, char *why, size_t len)
{
	return chain(e, 2, 5000, -1, -1, 0, why, len);
}

/*
 * An overlong TX chain followed by a plain packet, published in pieces of
 * split entries (0: all at once). The whole chain is refused BAD_CHAIN,
 * none of its tail goes out as a frame of its own, and the plain packet
 * after it passes, wherever the publishes cut the chain. With bad_seg >= 0
 * that segment lies outside every region: the first CDNA_MAX_SEGS + 1
 * segments are refused BAD_ADDRESS for it, and the tail still BAD_CHAIN.
 */
static int
chain_overlong_then_packet(struct env *e, int nseg, int split, int bad_seg,
			   char *why, size_t len)
{
	struct rg_guest *R = rogue.R;
	uint64_t base = rogue_addr(W_A, 512 * K), pa;
	uint32_t ck[48], seq, pk, i, nchain = 0, nbad = 0, flen = 64;
	/* Segments the bad one's fault covers: the first packet's gather. */
	uint32_t nhead = bad_seg >= 0 ? CDNA_MAX_SEGS + 1 : 0;
	uint8_t frame[256];
	struct cdna_req rq;
	uint64_t end;

	for (i = 0; i < (uint32_t)nseg; i++) {
		/* Each segment a whole frame: any piece sent alone would be seen. */
		seq = rg_frame_new(env_mac_group, R->mac, flen, 1);
		rg_frame_build(seq, frame);
		rg_mem_write(base + i * 4096u, frame, flen);
		memset(&rq, 0, sizeof(rq));
		rq.addr = (int)i == bad_seg ? rogue_addr(W_AEND, 0) :
			base + i * 4096u;
		rq.len = flen;
		rq.flags = i + 1 < (uint32_t)nseg ? CDNA_REQ_F_MORE : 0;
		ck[i] = rg_post_raw(R, RG_TX, &rq, i < nhead ?
				    CDNA_ST_BAD_ADDRESS : CDNA_ST_BAD_CHAIN);
		if (split != 0 && (i + 1) % (uint32_t)split == 0) {
			rg_publish(R, RG_TX);
			/* An unfinished chain is not consumed: just let it poll. */
			rg_drain(30);
		}
	}
	pa = base + (uint64_t)nseg * 4096u;
	seq = rg_frame_new(e->L->mac, R->mac, 200, 0);
	rg_frame_build(seq, frame);
	rg_mem_write(pa, frame, 200);
	memset(&rq, 0, sizeof(rq));
	rq.addr = pa;
	rq.len = 200;
	pk = rg_post_raw(R, RG_TX, &rq, OK);
	rg_publish(R, RG_TX);
	end = rg_now_ms() + 3000;
	for (i = 0; i < (uint32_t)nseg; i++) {
		uint64_t t = rg_now_ms();

		rg_wait(R, ck[i], t < end ? (int)(end - t) : 0);
		if (R->rec[ck[i]].done && i < nhead &&
		    R->rec[ck[i]].status == CDNA_ST_BAD_ADDRESS)
			nbad++;
		if (R->rec[ck[i]].done && i >= nhead &&
		    R->rec[ck[i]].status == CDNA_ST_BAD_CHAIN)
			nchain++;
	}
	if (nbad != nhead)
		rg_append(why, len, "expected the first %u segments BAD_ADDRESS got %u",
			  nhead, nbad);
	if (nchain != (uint32_t)nseg - nhead)
		rg_append(why, len, "expected the other %u segments BAD_CHAIN got %u",
			  (uint32_t)nseg - nhead, nchain);
	rg_wait(R, pk, RG_WAIT_MS);
	if (!R->rec[pk].done || R->rec[pk].status != OK)
		rg_append(why, len, "expected the packet after the chain OK got %s",
			  rg_st_name(R->rec[pk].done ? R->rec[pk].status : RG_ST_NONE));
	end = rg_now_ms() + 1500;
	while (rg_frame_seen_count(seq) == 0 && rg_now_ms() < end)
		rg_drain(5);
	if (rg_frame_seen_count(seq) != 1)
		rg_append(why, len, "expected the packet after the chain at the sink once got %u",
			  rg_frame_seen_count(seq));
	if (R->nerr != 0)
		rg_append(why, len, "%s", R->err);
	return why[0] != '\0' ? -1 : 0;
}

static int
chain_40_one_publish(struct env *e, const struct dcase *c, char *why, size_t len)
{
	return chain_overlong_then_packet(e, 40, 0, -1, why, len);
}

static int
chain_40_split_20(struct env *e, const struct dcase *c, char *why, size_t len)
{
	return chain_overlong_then_packet(e, 40, 20, -1, why, len);
}

static int
chain_40_split_7(struct env *e, const struct dcase *c, char *why, size_t len)
{
	return chain_overlong_then_packet(e, 40, 7, -1, why, len);
}

static int
chain_40_bad_first(struct env *e, const struct dcase *c, char *why, size_t len)
{
	return chain_overlong_then_packet(e, 40, 0, 0, why, len);
}

static const struct dcase req_cases[] = {
	{ "len-zero", "RX and TX of length 0", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 0, 0, 0, 0, 0, 0, BL },
		{ WHO_R, RG_TX, 0, W_A, 4096, 0, 0, 0, 0, 0, BL } } },
	{ "len-uint32-max", "RX and TX of length UINT32_MAX", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 0, UINT32_MAX, 0, 0, 0, 0, BL },
		{ WHO_R, RG_TX, 0, W_A, 0, UINT32_MAX, 0, 0, 0, 0, BL } } },
	{ "rx-len-max-buf", "RX of CDNA_MAX_BUF_LEN (allowed) and of one byte more", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_A, 0, CDNA_MAX_BUF_LEN, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 0, W_A, 64 * K, CDNA_MAX_BUF_LEN + 1, 0, 0, 0, 0, BL } } },
	{ "tx-len-max-frame", "TX of CDNA_MAX_FRAME_LEN (allowed), one more, and 65535", NULL, NULL, NULL, 3, {
		{ WHO_R, RG_TX, 0, W_A, 128 * K, CDNA_MAX_FRAME_LEN, 0, 0, 0, 0, OK },
		{ WHO_R, RG_TX, 0, W_A, 144 * K, CDNA_MAX_FRAME_LEN + 1, 0, 0, 0, 0, BL },
		{ WHO_R, RG_TX, 0, W_A, 160 * K, CDNA_MAX_BUF_LEN, 0, 0, 0, 0, BL } } },
	{ "tx-runt", "TX of 1 and 13 bytes (shorter than an Ethernet header): any verdict, no crash", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_TX, 0, W_A, 176 * K, 1, 0, 0, 0, 0, ANY },
		{ WHO_R, RG_TX, 0, W_A, 180 * K, 13, 0, 0, 0, 0, ANY } } },
	{ "flags-unknown", "unknown flag bits on RX and TX", NULL, NULL, NULL, 3, {
		{ WHO_R, RG_RX, 0, W_A, 184 * K, 2048, 0x0002, 0, 0, 0, BF },
		{ WHO_R, RG_TX, 0, W_A, 188 * K, 100, 0x8000, 0, 0, 0, BF },
		{ WHO_R, RG_TX, 0, W_A, 192 * K, 100, 0xfffe, 0, 0, 0, BF } } },
	{ "reserved-nonzero", "each reserved field of the request nonzero", NULL, NULL, NULL, 4, {
		{ WHO_R, RG_TX, 0, W_A, 196 * K, 100, 0, 1, 0, 0, BF },
		{ WHO_R, RG_RX, 0, W_A, 200 * K, 2048, 0, 0, 0x80000000u, 0, BF },
		{ WHO_R, RG_RX, 0, W_A, 204 * K, 2048, 0, 0, 0, 1, BF },
		{ WHO_R, RG_TX, 0, W_A, 208 * K, 100, 0, 0, 0, 1ull << 63, BF } } },
	{ "more-on-rx", "RX request with the MORE flag", NULL, NULL, NULL, 1, {
		{ WHO_R, RG_RX, 0, W_A, 212 * K, 2048, CDNA_REQ_F_MORE, 0, 0, 0, BF } } },
	{ "flags-checked-first", "bad flags, zero length and address 0 at once: BAD_FLAGS (validate.h order)", NULL, NULL, NULL, 1, {
		{ WHO_R, RG_RX, 0, W_ABS, 0, 0, 0x0004, 0, 0, 0, BF } } },
	{ "perm-rx-into-dev-read", "RX into a region registered DEV_READ only", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_RX, 0, W_RO, 0, 2048, 0, 0, 0, 0, BP },
		{ WHO_R, RG_RX, 0, W_RO, 4096, 64, 0, 0, 0, 0, BP } } },
	{ "perm-tx-from-dev-write", "TX from a region registered DEV_WRITE only", NULL, NULL, NULL, 1, {
		{ WHO_R, RG_TX, 0, W_WO, 0, 100, 0, 0, 0, 0, BP } } },
	{ "perm-allowed-directions", "TX from the DEV_READ region and RX into the DEV_WRITE one (allowed)", NULL, NULL, NULL, 2, {
		{ WHO_R, RG_TX, 0, W_RO, 8192, 100, 0, 0, 0, 0, OK },
		{ WHO_R, RG_RX, 0, W_WO, 8192, 2048, 0, 0, 0, 0, OK } } },
	{ "chain-max-segs", "TX chain of CDNA_MAX_SEGS segments (allowed)",
	  "all OK; the frame at the sink once and on the wire", NULL, chain_max, 0, { { 0 } } },
	{ "chain-too-many-segs", "TX chain of CDNA_MAX_SEGS+1 segments",
	  "no segment OK, BAD_CHAIN; nothing at the sink or on the wire", NULL, chain_too_many, 0, { { 0 } } },
	{ "chain-40-then-packet", "40-segment TX chain then a plain packet, in one publish",
	  "all 40 BAD_CHAIN, no piece sent; the packet OK and at the sink", NULL, chain_40_one_publish, 0, { { 0 } } },
	{ "chain-40-then-packet-split-20", "the same, published 20 entries at a time",
	  "all 40 BAD_CHAIN, no piece sent; the packet OK and at the sink", NULL, chain_40_split_20, 0, { { 0 } } },
	{ "chain-40-then-packet-split-7", "the same, published 7 entries at a time",
	  "all 40 BAD_CHAIN, no piece sent; the packet OK and at the sink", NULL, chain_40_split_7, 0, { { 0 } } },
	{ "chain-40-bad-first-segment", "40-segment TX chain whose first segment is outside every region, then a plain packet",
	  "the first 33 BAD_ADDRESS, the other 7 BAD_CHAIN, no piece sent; the packet OK and at the sink", NULL, chain_40_bad_first, 0, { { 0 } } },
	{ "chain-bad-address-segment", "4-segment chain whose third segment is outside every region",
	  "no segment OK; nothing sent", NULL, chain_bad_addr, 0, { { 0 } } },
	{ "chain-bad-flags-segment", "4-segment chain whose second segment has an unknown flag",
	  "no segment OK; nothing sent", NULL, chain_bad_flags, 0, { { 0 } } },
	{ "chain-too-long-bytes", "2 segments of 5000 bytes: each valid, the packet longer than CDNA_MAX_FRAME_LEN",
	  "no segment OK; nothing sent", NULL, chain_too_long, 0, { { 0 } } },
};

int
group_req(struct env *e)
{
	if (env_up(e, 1) != 0 || rogue_setup(e, 0) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	rogue.L = e->L;
	run_dcases(e, req_cases, sizeof(req_cases) / sizeof(req_cases[0]));
	env_down(e);
	return 0;
}
