/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Request validation, table-driven: each row is a request (optionally
 * preceded by claims taken on behalf of earlier in-flight DMA) and the
 * verdict it must get.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdna_abi.h"
#include "claims.h"
#include "regions.h"
#include "validate.h"

#define RW	(CDNA_PERM_DEV_READ | CDNA_PERM_DEV_WRITE)
#define RO	CDNA_PERM_DEV_READ
#define WO	CDNA_PERM_DEV_WRITE

/*
 * The guest's memory. R0, a gap, then R1 and R2 adjacent; R3 device-read
 * only, R4 device-write only, R5 dying, R6 near the top of the address
 * space, R7 without a claim map.
 */
#define R0A	0x100000ull
#define R0E	0x120000ull
#define R1A	0x200000ull
#define R2A	0x202000ull
#define R2E	0x204000ull
#define R3A	0x300000ull
#define R4A	0x400000ull
#define R5A	0x500000ull
#define R7A	0x600000ull
#define R6A	0xffffffffffffe000ull
#define R6E	0xfffffffffffff000ull

static const struct {
	uint64_t gaddr, size;
	uint32_t perm;
	int dying;
	int no_map;
} regions[] = {
	{ R0A, R0E - R0A, RW, 0, 0 },
	{ R1A, R2A - R1A, RW, 0, 0 },
	{ R2A, R2E - R2A, RW, 0, 0 },
	{ R3A, 0x1000, RO, 0, 0 },
	{ R4A, 0x1000, WO, 0, 0 },
	{ R5A, 0x1000, RW, 1, 0 },
	{ R6A, R6E - R6A, RW, 0, 0 },
	{ R7A, 0x1000, RW, 0, 1 },
};
#define NREG	(sizeof(regions) / sizeof(regions[0]))

#define TX	CDNA_DIR_TX
#define RX	CDNA_DIR_RX
#define OK	CDNA_ST_OK
#define ADDR	CDNA_ST_BAD_ADDRESS
#define USE	CDNA_ST_INVALID_USE
#define LEN	CDNA_ST_BAD_LENGTH
#define FLAGS	CDNA_ST_BAD_FLAGS
#define PERM	CDNA_ST_BAD_PERM

struct row {
	const char *name;
	int dir;
	struct cdna_req req;
	uint16_t want;
	/* In-flight DMA to set up first: pre_n claims of pre_len at pre_addr. */
	unsigned int pre_n;
	int pre_dir;
	uint64_t pre_addr;
	uint32_t pre_len;
};

#define R(n, d, a, l, w) \
	{ .name = (n), .dir = (d), .req = { .addr = (a), .len = (l) }, .want = (w) }
#define RF(n, d, a, l, f, w) \
	{ .name = (n), .dir = (d), \
	  .req = { .addr = (a), .len = (l), .flags = (f) }, .want = (w) }
#define RRES(n, d, r0, r1, r2) \
	{ .name = (n), .dir = (d), \
	  .req = { .addr = R0A, .len = 64, .reserved0 = (r0), \
		   .reserved1 = (r1), .reserved2 = (r2) }, .want = FLAGS }
#define RC(n, pd, pa, pl, pn, d, a, l, w) \
	{ .name = (n), .dir = (d), .req = { .addr = (a), .len = (l) }, \
	  .want = (w), .pre_n = (pn), .pre_dir = (pd), .pre_addr = (pa), \
	  .pre_len = (pl) }
/* One flag bit on TX and on RX: only MORE, and only on TX, is allowed. */
#define FLAGBIT(b) \
	RF("tx flag bit " #b, TX, R0A, 64, 1u << (b), (b) == 0 ? OK : FLAGS), \
	RF("rx flag bit " #b, RX, R0A, 64, 1u << (b), FLAGS)

static const struct row rows[] = {
	/* Inside a region, at its edges, and just outside. */
	R("tx first bytes of R0", TX, R0A, 64, OK),
	R("rx first bytes of R0", RX, R0A, 2048, OK),
	R("tx ends exactly at end of R0", TX, R0E - 60, 60, OK),
	R("rx ends exactly at end of R0", RX, R0E - 1, 1, OK),
	R("tx one byte past end of R0", TX, R0E - 60, 61, ADDR),
	R("rx one byte past end of R0", RX, R0E - 1, 2, ADDR),
	R("first byte after R0", TX, R0E, 1, ADDR),
	R("starts one byte before R0", RX, R0A - 1, 2, ADDR),
	R("ends just before R0", TX, R0A - 64, 64, ADDR),
	R("straddles R0 end into the gap", TX, R0E - 16, 32, ADDR),
	R("inside the gap", RX, R0E + 0x1000, 64, ADDR),
	R("ends exactly at end of R1", TX, R2A - 32, 32, OK),
	R("starts exactly at R2", RX, R2A, 32, OK),
	R("tx straddles adjacent R1/R2", TX, R2A - 16, 32, ADDR),
	R("rx straddles adjacent R1/R2", RX, R2A - 1, 2, ADDR),
	R("rx covers all of R1 and into R2", RX, R1A, 0x2001, ADDR),
	R("rx exactly all of R1", RX, R1A, 0x2000, OK),
	R("end of R2 one past", RX, R2E - 8, 9, ADDR),

	/* Extreme addresses: the arithmetic must not wrap. */
	R("addr UINT64_MAX-10 len 100", TX, UINT64_MAX - 10, 100, ADDR),
	R("addr UINT64_MAX-10 len 100 rx", RX, UINT64_MAX - 10, 100, ADDR),
	R("addr UINT64_MAX len 1", TX, UINT64_MAX, 1, ADDR),
	R("last byte of R6", RX, R6E - 1, 1, OK),
	R("last byte of R6 plus one", RX, R6E - 1, 2, ADDR),
	R("R6 rx len max wraps past 2^64", RX, R6A + 0x800, CDNA_MAX_BUF_LEN, ADDR),
	R("R6 tx len max frame wraps", TX, R6E - 0x100, CDNA_MAX_FRAME_LEN, ADDR),
	R("R6 all of it", TX, R6A, 0x1000, OK),
	R("addr 0", TX, 0, 64, ADDR),
	R("addr 0 rx", RX, 0, 1, ADDR),

	/* Lengths. */
	R("tx len 0", TX, R0A, 0, LEN),
	R("rx len 0", RX, R0A, 0, LEN),
	R("addr 0 len 0: length first", TX, 0, 0, LEN),
	R("tx len UINT32_MAX", TX, R0A, UINT32_MAX, LEN),
	R("rx len UINT32_MAX", RX, R0A, UINT32_MAX, LEN),
	R("rx len MAX_BUF_LEN", RX, R0A, CDNA_MAX_BUF_LEN, OK),
	R("rx len MAX_BUF_LEN + 1", RX, R0A, CDNA_MAX_BUF_LEN + 1, LEN),
	R("tx len MAX_BUF_LEN", TX, R0A, CDNA_MAX_BUF_LEN, LEN),
	R("tx len MAX_FRAME_LEN", TX, R0A, CDNA_MAX_FRAME_LEN, OK),
	R("tx len MAX_FRAME_LEN + 1", TX, R0A, CDNA_MAX_FRAME_LEN + 1, LEN),
	R("rx len MAX_FRAME_LEN + 1", RX, R0A, CDNA_MAX_FRAME_LEN + 1, OK),
	R("tx len 1", TX, R0A + 7, 1, OK),

	/* Flags, one bit at a time. */
	FLAGBIT(0), FLAGBIT(1), FLAGBIT(2), FLAGBIT(3),
	FLAGBIT(4), FLAGBIT(5), FLAGBIT(6), FLAGBIT(7),
	FLAGBIT(8), FLAGBIT(9), FLAGBIT(10), FLAGBIT(11),
	FLAGBIT(12), FLAGBIT(13), FLAGBIT(14), FLAGBIT(15),
	RF("tx all flags", TX, R0A, 64, 0xffff, FLAGS),
	RF("rx MORE", RX, R0A, 64, CDNA_REQ_F_MORE, FLAGS),

	/* Reserved fields. */
	RRES("tx reserved0", TX, 1, 0, 0),
	RRES("rx reserved0", RX, 0x8000, 0, 0),
	RRES("tx reserved1", TX, 0, 1, 0),
	RRES("rx reserved1", RX, 0, 0x80000000u, 0),
	RRES("tx reserved2", TX, 0, 0, 1),
	RRES("rx reserved2 top bit", RX, 0, 0, 1ull << 63),

	/* Check order: flags, length, address, permission, use. */
	RF("bad flag and bad length", TX, R0A, 0, 0x2, FLAGS),
	RF("bad flag and bad address", RX, 0, 64, 0x4, FLAGS),
	R("bad length and bad address", TX, 0, UINT32_MAX, LEN),
	R("bad length in dying region: length first", RX, R5A, 0, LEN),

	/* Permissions. */
	R("rx into read-only region", RX, R3A, 64, PERM),
	R("tx from read-only region", TX, R3A, 64, OK),
	R("tx from write-only region", TX, R4A, 64, PERM),
	R("rx into write-only region", RX, R4A, 64, OK),
	R("read-only, past its end: address first", RX, R3A + 0xfff, 2, ADDR),

	/* Dying region: no new DMA. */
	R("tx in dying region", TX, R5A, 64, ADDR),
	R("rx in dying region", RX, R5A + 0x100, 64, ADDR),

	/* No claim map: cannot be tracked, so refused. */
	R("tx in region without claim map", TX, R7A, 64, USE),

	/* Invalid use: conflicts with in-flight DMA. */
	RC("rx over in-flight rx", RX, R1A, 64, 1, RX, R1A, 64, USE),
	RC("tx over in-flight rx", RX, R1A, 64, 1, TX, R1A, 64, USE),
	RC("rx over in-flight tx", TX, R1A, 64, 1, RX, R1A, 64, USE),
	RC("tx over in-flight tx", TX, R1A, 64, 1, TX, R1A, 64, OK),
	RC("tx over 5 in-flight tx", TX, R1A, 1500, 5, TX, R1A + 100, 64, OK),
	RC("rx on the line after an rx", RX, R1A, 64, 1, RX, R1A + 64, 64, OK),
	RC("rx on the line before an rx", RX, R1A + 64, 64, 1, RX, R1A, 64, OK),
	RC("rx on the line after a tx", TX, R1A, 64, 1, RX, R1A + 64, 64, OK),
	RC("tx on the line after an rx", RX, R1A, 64, 1, TX, R1A + 64, 1, OK),
	RC("rx sharing the last line of an rx", RX, R1A, 100, 1,
	   RX, R1A + 0x70, 16, USE),
	RC("tx sharing the last line of an rx", RX, R1A, 100, 1,
	   TX, R1A + 127, 1, USE),
	RC("rx sharing the first line of a tx", TX, R1A + 0x7f, 10, 1,
	   RX, R1A + 0x40, 0x3f, USE),
	RC("disjoint bytes of one line, rx then tx", RX, R1A + 0x10, 8, 1,
	   TX, R1A + 0x38, 8, USE),
	RC("disjoint bytes of one line, rx then rx", RX, R1A, 1, 1,
	   RX, R1A + 63, 1, USE),
	RC("first byte of the next line after 1-byte rx", RX, R1A, 1, 1,
	   RX, R1A + 64, 1, OK),
	RC("long rx over a short in-flight rx", RX, R1A + 0x1000, 1, 1,
	   RX, R1A, 0x2000, USE),
	RC("same offset in the adjacent region", RX, R1A, 64, 1,
	   RX, R2A, 64, OK),
	RC("tx at saturation", TX, R1A, 64, CDNA_CLAIM_TX_MAX,
	   TX, R1A + 10, 10, USE),
	RC("tx one below saturation", TX, R1A, 64, CDNA_CLAIM_TX_MAX - 1,
	   TX, R1A + 10, 10, OK),
	RC("perm before use", RX, R4A, 64, 1, TX, R4A, 64, PERM),
};
#define NROWS	(sizeof(rows) / sizeof(rows[0]))

static const char *
st_name(uint16_t st)
{
	static const char *const names[CDNA_ST_COUNT] = {
		"OK", "BAD_ADDRESS", "INVALID_USE", "BAD_LENGTH", "BAD_FLAGS",
		"BAD_PERM", "BAD_CHAIN", "ABORTED", "DMA_FAULT", "MAP_QUOTA",
	};

	return st < CDNA_ST_COUNT ? names[st] : "?";
}

static struct cdna_region reg[NREG];
static struct cdna_region_table rt;

static uint64_t
total_claims(void)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < NREG; i++)
		if (reg[i].claims != NULL)
			n += cdna_claims_count(reg[i].claims,
					       cdna_claims_map_len(reg[i].size));
	return n;
}

static void
take(int dir, const struct cdna_dma_ref *ref)
{
	if (dir == TX)
		cdna_claims_take_tx(ref->reg->claims, ref->off, ref->len);
	else
		cdna_claims_take_rx(ref->reg->claims, ref->off, ref->len);
}

static void
drop(int dir, const struct cdna_dma_ref *ref)
{
	if (dir == TX)
		cdna_claims_drop_tx(ref->reg->claims, ref->off, ref->len);
	else
		cdna_claims_drop_rx(ref->reg->claims, ref->off, ref->len);
}

/* The region that truly holds [addr, addr+len), by brute force. */
static struct cdna_region *
owner(uint64_t addr, uint32_t len)
{
	size_t i;

	for (i = 0; i < NREG; i++) {
		unsigned __int128 end = (unsigned __int128)reg[i].gaddr +
			reg[i].size;

		if (addr >= reg[i].gaddr &&
		    (unsigned __int128)addr + len <= end)
			return &reg[i];
	}
	return NULL;
}

/* Returns 1 if the row passes. */
static int
run_row(size_t idx, const struct row *r)
{
	struct cdna_dma_ref pre, out;
	uint64_t before;
	uint16_t got;
	int ok = 1;
	unsigned int k;

	memset(&pre, 0, sizeof(pre));
	if (r->pre_n > 0) {
		struct cdna_req preq;

		memset(&preq, 0, sizeof(preq));
		preq.addr = r->pre_addr;
		preq.len = r->pre_len;
		for (k = 0; k < r->pre_n; k++) {
			uint16_t st = cdna_validate_req(&rt, &preq, r->pre_dir,
							&pre);

			if (st != OK) {
				fprintf(stderr, "row %zu (%s): set-up claim %u "
					"refused: %s\n", idx, r->name, k,
					st_name(st));
				/* Undo what was taken, then fail the row. */
				while (k-- > 0)
					drop(r->pre_dir, &pre);
				return 0;
			}
			take(r->pre_dir, &pre);
		}
	}

	before = total_claims();
	memset(&out, 0xa5, sizeof(out));
	got = cdna_validate_req(&rt, &r->req, r->dir, &out);
	if (got != r->want) {
		fprintf(stderr, "row %zu (%s): expected %s, got %s\n", idx,
			r->name, st_name(r->want), st_name(got));
		ok = 0;
	}
	if (total_claims() != before) {
		fprintf(stderr, "row %zu (%s): validation changed claims\n",
			idx, r->name);
		ok = 0;
	}
	if (got == OK) {
		struct cdna_region *o = owner(r->req.addr, r->req.len);

		if (o == NULL || out.reg != o ||
		    out.off != r->req.addr - o->gaddr ||
		    out.len != r->req.len || out.len > o->size - out.off) {
			fprintf(stderr, "row %zu (%s): OK but wrong dma ref "
				"(off 0x%" PRIx64 " len %u)\n", idx, r->name,
				out.off, out.len);
			ok = 0;
		}
	}

	for (k = 0; k < r->pre_n; k++)
		drop(r->pre_dir, &pre);
	if (total_claims() != 0) {
		fprintf(stderr, "row %zu (%s): claims left behind\n", idx,
			r->name);
		ok = 0;
	}
	return ok;
}

/*
 * The chain as a whole (cdna_validate_chain): segment count and the frame's
 * total length, at its edges and where a careless sum would wrap. A row's
 * lens: the first nlens given, the rest (up to n) repeat the last one.
 */
static const struct {
	const char *what;
	uint32_t n;
	uint32_t nlens;
	uint32_t lens[3];
	uint16_t expect;
} chains[] = {
	{ "no segment", 0, 0, { 0 }, CDNA_ST_BAD_CHAIN },
	{ "one 14-byte segment: a bare header", 1, 1, { 14 }, CDNA_ST_OK },
	{ "one 13-byte segment: shorter than a header", 1, 1, { 13 }, CDNA_ST_BAD_LENGTH },
	{ "one 0-byte segment", 1, 1, { 0 }, CDNA_ST_BAD_LENGTH },
	{ "7 + 7 bytes: a header in two", 2, 2, { 7, 7 }, CDNA_ST_OK },
	{ "CDNA_MAX_SEGS segments of 64", CDNA_MAX_SEGS, 1, { 64 }, CDNA_ST_OK },
	{ "CDNA_MAX_SEGS + 1 segments", CDNA_MAX_SEGS + 1, 1, { 64 }, CDNA_ST_BAD_CHAIN },
	{ "32 x 304 = CDNA_MAX_FRAME_LEN exactly", 32, 1, { 304 }, CDNA_ST_OK },
	{ "32 x 305: one segment's worth past the largest frame", 32, 1, { 305 }, CDNA_ST_BAD_LENGTH },
	{ "largest frame - 14, then 14", 2, 2, { CDNA_MAX_FRAME_LEN - 14, 14 }, CDNA_ST_OK },
	{ "largest frame - 14, then 15", 2, 2, { CDNA_MAX_FRAME_LEN - 14, 15 }, CDNA_ST_BAD_LENGTH },
	{ "5000 + 5000", 2, 2, { 5000, 5000 }, CDNA_ST_BAD_LENGTH },
	{ "UINT32_MAX then 20", 2, 2, { UINT32_MAX, 20 }, CDNA_ST_BAD_LENGTH },
	{ "largest frame then UINT32_MAX (a sum that would wrap to 9727)", 2, 2,
	  { CDNA_MAX_FRAME_LEN, UINT32_MAX }, CDNA_ST_BAD_LENGTH },
	{ "100, UINT32_MAX - 99 (would wrap to 0), 20", 3, 3,
	  { 100, UINT32_MAX - 99, 20 }, CDNA_ST_BAD_LENGTH },
};

static unsigned int
run_chains(void)
{
	struct cdna_req seg[CDNA_MAX_SEGS + 1];
	unsigned int nfail = 0;
	size_t r;
	uint32_t i;

	for (r = 0; r < sizeof(chains) / sizeof(chains[0]); r++) {
		uint16_t got;

		memset(seg, 0, sizeof(seg));
		for (i = 0; i < chains[r].n; i++) {
			seg[i].len = chains[r].lens[i < chains[r].nlens ? i :
						    chains[r].nlens - 1];
			seg[i].flags = i + 1 < chains[r].n ? CDNA_REQ_F_MORE : 0;
		}
		got = cdna_validate_chain(seg, chains[r].n);
		if (got != chains[r].expect) {
			fprintf(stderr, "chain '%s': got %u, expected %u\n",
				chains[r].what, got, chains[r].expect);
			nfail++;
		}
	}
	return nfail;
}

int
main(void)
{
	unsigned int nfail = 0;
	size_t i;

	if (cdna_rt_init(&rt, 64) != 0) {
		fprintf(stderr, "cdna_rt_init failed\n");
		return 1;
	}
	for (i = 0; i < NREG; i++) {
		reg[i].gaddr = regions[i].gaddr;
		reg[i].size = regions[i].size;
		reg[i].perm = regions[i].perm;
		reg[i].dying = regions[i].dying;
		if (!regions[i].no_map) {
			reg[i].claims = calloc(cdna_claims_map_len(reg[i].size),
					       1);
			if (reg[i].claims == NULL) {
				fprintf(stderr, "out of memory\n");
				return 1;
			}
		}
		if (cdna_rt_insert(&rt, &reg[i]) != 0) {
			fprintf(stderr, "cannot insert region %zu\n", i);
			return 1;
		}
	}

	for (i = 0; i < NROWS; i++)
		nfail += !run_row(i, &rows[i]);
	nfail += run_chains();

	for (i = 0; i < NREG; i++)
		free(reg[i].claims);
	cdna_rt_fini(&rt);
	printf("test_validate: %zu cases, %u failed\n",
	       NROWS + sizeof(chains) / sizeof(chains[0]), nfail);
	return nfail == 0 ? 0 : 1;
}
