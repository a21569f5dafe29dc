/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Claim map: take/drop counts, saturation, partial-line coverage, and a
 * randomized comparison against a naive per-byte model.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "claims.h"
#include "regions.h"

static void
test_map_len(void)
{
	CHECK_EQ(cdna_claims_map_len(0), 0);
	CHECK_EQ(cdna_claims_map_len(1), 1);
	CHECK_EQ(cdna_claims_map_len(63), 1);
	CHECK_EQ(cdna_claims_map_len(64), 1);
	CHECK_EQ(cdna_claims_map_len(65), 2);
	CHECK_EQ(cdna_claims_map_len(4096), 64);
	CHECK_EQ(cdna_claims_map_len(UINT64_MAX), 1ull << 58);
	CHECK_EQ(cdna_claims_map_len(UINT64_MAX - 62), 1ull << 58);
	CHECK_EQ(cdna_claims_map_len(UINT64_MAX - 63), (1ull << 58) - 1);
	CHECK_EQ(cdna_claims_map_len(UINT64_MAX - 64), (1ull << 58) - 1);
}

/* Which claim bytes [off, off+len) marks, checked byte by byte. */
static void
test_partial_lines(void)
{
	static const struct {
		uint64_t off;
		uint32_t len;
		size_t first, last;	/* claim bytes covered, inclusive */
	} rows[] = {
		{ 0, 1, 0, 0 },
		{ 0, 64, 0, 0 },
		{ 0, 65, 0, 1 },
		{ 1, 62, 0, 0 },
		{ 1, 63, 0, 0 },
		{ 1, 64, 0, 1 },
		{ 63, 1, 0, 0 },
		{ 63, 2, 0, 1 },
		{ 64, 64, 1, 1 },
		{ 127, 130, 1, 4 },
		{ 100, 1000, 1, 17 },
		{ 4095, 1, 63, 63 },
		{ 0, 4096, 0, 63 },
	};
	uint8_t map[80];
	size_t i, b;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int ok = 1;

		memset(map, 0, sizeof(map));
		cdna_claims_take_rx(map, rows[i].off, rows[i].len);
		for (b = 0; b < sizeof(map); b++) {
			int in = b >= rows[i].first && b <= rows[i].last;

			if (map[b] != (in ? CDNA_CLAIM_RX : 0))
				ok = 0;
		}
		ok &= cdna_claims_count(map, sizeof(map)) ==
			rows[i].last - rows[i].first + 1;
		/* The neighbours of the span stay usable. */
		if (rows[i].first > 0)
			ok &= cdna_claims_rx_ok(map, rows[i].first * 64 - 1, 1);
		ok &= cdna_claims_rx_ok(map, (rows[i].last + 1) * 64, 1);
		ok &= !cdna_claims_rx_ok(map, rows[i].off, 1);
		ok &= !cdna_claims_tx_ok(map, rows[i].off + rows[i].len - 1, 1);
		cdna_claims_drop_rx(map, rows[i].off, rows[i].len);
		ok &= cdna_claims_count(map, sizeof(map)) == 0;

		memset(map, 0, sizeof(map));
		cdna_claims_take_tx(map, rows[i].off, rows[i].len);
		cdna_claims_take_tx(map, rows[i].off, rows[i].len);
		for (b = 0; b < sizeof(map); b++) {
			int in = b >= rows[i].first && b <= rows[i].last;

			if (map[b] != (in ? 2 : 0))
				ok = 0;
		}
		cdna_claims_drop_tx(map, rows[i].off, rows[i].len);
		cdna_claims_drop_tx(map, rows[i].off, rows[i].len);
		ok &= cdna_claims_count(map, sizeof(map)) == 0;

		cases++;
		if (!ok) {
			failed++;
			fprintf(stderr, "partial row %zu (off %" PRIu64
				" len %u): wrong lines\n", i, rows[i].off,
				rows[i].len);
		}
	}
}

static void
test_take_drop(void)
{
	uint8_t map[64] = { 0 };
	unsigned int i;

	CHECK(cdna_claims_rx_ok(map, 0, 4096));
	CHECK(cdna_claims_tx_ok(map, 0, 4096));

	cdna_claims_take_rx(map, 128, 64);
	CHECK_EQ(cdna_claims_count(map, sizeof(map)), 1);
	CHECK_EQ(map[2], CDNA_CLAIM_RX);
	CHECK(!cdna_claims_rx_ok(map, 128, 64));
	CHECK(!cdna_claims_tx_ok(map, 128, 64));
	CHECK(!cdna_claims_rx_ok(map, 0, 4096));	/* long range over it */
	CHECK(!cdna_claims_tx_ok(map, 0, 4096));
	CHECK(cdna_claims_rx_ok(map, 0, 128));
	CHECK(cdna_claims_rx_ok(map, 192, 3904));
	cdna_claims_drop_rx(map, 128, 64);
	CHECK_EQ(cdna_claims_count(map, sizeof(map)), 0);

	cdna_claims_take_tx(map, 0, 4096);
	cdna_claims_take_tx(map, 1000, 1);
	CHECK_EQ(cdna_claims_count(map, sizeof(map)), 64);
	CHECK_EQ(map[15], 2);
	CHECK_EQ(map[16], 1);
	CHECK(cdna_claims_tx_ok(map, 0, 4096));		/* TX shares */
	CHECK(!cdna_claims_rx_ok(map, 4032, 64));	/* RX does not */
	cdna_claims_drop_tx(map, 0, 4096);
	CHECK_EQ(cdna_claims_count(map, sizeof(map)), 1);
	CHECK_EQ(map[15], 1);
	cdna_claims_drop_tx(map, 1000, 1);
	CHECK_EQ(cdna_claims_count(map, sizeof(map)), 0);

	/* Saturation: TX_MAX readers fill a line; one more is refused. */
	for (i = 0; i < CDNA_CLAIM_TX_MAX; i++) {
		if (!cdna_claims_tx_ok(map, 70, 10))
			break;
		cdna_claims_take_tx(map, 70, 10);
	}
	CHECK_EQ(i, CDNA_CLAIM_TX_MAX);
	CHECK_EQ(map[1], CDNA_CLAIM_TX_MAX);
	CHECK(!cdna_claims_tx_ok(map, 70, 10));
	CHECK(!cdna_claims_tx_ok(map, 0, 4096));	/* any range over it */
	CHECK(cdna_claims_tx_ok(map, 0, 64));		/* the line before */
	CHECK(cdna_claims_tx_ok(map, 128, 64));		/* the line after */
	CHECK(!cdna_claims_rx_ok(map, 64, 1));
	/* A take past the limit (a caller bug) must not become an RX mark. */
	cdna_claims_take_tx(map, 70, 10);
	CHECK_EQ(map[1], CDNA_CLAIM_TX_MAX);
	for (i = 0; i < CDNA_CLAIM_TX_MAX; i++)
		cdna_claims_drop_tx(map, 70, 10);
	CHECK_EQ(map[1], 0);
	CHECK_EQ(cdna_claims_count(map, sizeof(map)), 0);
	/* One short of the limit still admits a reader. */
	for (i = 0; i < CDNA_CLAIM_TX_MAX - 1; i++)
		cdna_claims_take_tx(map, 64, 64);
	CHECK(cdna_claims_tx_ok(map, 64, 64));
	for (i = 0; i < CDNA_CLAIM_TX_MAX - 1; i++)
		cdna_claims_drop_tx(map, 64, 64);
	CHECK_EQ(cdna_claims_count(map, sizeof(map)), 0);

	/* Stray drops (caller bugs) never free the other kind of claim. */
	cdna_claims_take_rx(map, 0, 64);
	cdna_claims_drop_tx(map, 0, 64);
	CHECK_EQ(map[0], CDNA_CLAIM_RX);
	cdna_claims_drop_rx(map, 0, 64);
	cdna_claims_take_tx(map, 0, 64);
	cdna_claims_drop_rx(map, 0, 64);
	CHECK_EQ(map[0], 1);
	cdna_claims_drop_tx(map, 0, 64);
	cdna_claims_drop_tx(map, 0, 64);	/* below zero stays zero */
	CHECK_EQ(map[0], 0);
	/* The same for the data path's fused forms, one line and several. */
	cdna_claims_take_rx(map, 0, 64);
	CHECK_EQ(cdna_claims_put_tx(map, 0, 64), 1);
	CHECK_EQ(map[0], CDNA_CLAIM_RX);
	CHECK_EQ(cdna_claims_try_take_tx(map, 10, 20), 0);	/* RX holds it */
	CHECK_EQ(cdna_claims_put_rx(map, 0, 64), 1);
	CHECK_EQ(cdna_claims_put_tx(map, 0, 64), 1);
	CHECK_EQ(cdna_claims_put_tx(map, 0, 200), 4);
	CHECK_EQ(cdna_claims_count(map, sizeof(map)), 0);
	CHECK_EQ(cdna_claims_try_take_tx(map, 60, 8), 2);
	CHECK_EQ(cdna_claims_try_take_rx(map, 0, 64), 0);	/* TX holds it */
	CHECK_EQ(cdna_claims_put_rx(map, 60, 8), 2);
	CHECK_EQ(map[0], 1);
	CHECK_EQ(cdna_claims_put_tx(map, 60, 8), 2);
	CHECK_EQ(cdna_claims_count(map, sizeof(map)), 0);
}

/*
 * Every claim byte position must be seen by the word-at-a-time checks:
 * put one blocking value at each offset of a span and expect a refusal.
 */
static void
test_word_positions(void)
{
	static const uint8_t blockers[] = { 1, 0x7f, 0x80, 0xfd, 0xfe, 0xff };
	/*
	 * 40 lines: the block, word and byte loops; 32: the one-block
	 * forms; 24, 17 and 16: a chunk of 16 and one overlapping it by 8,
	 * 15 or all; 15: words and bytes alone.
	 */
	static const uint32_t spans[] = { 40, 32, 24, 17, 16, 15 };
	uint8_t map[64];
	size_t start, pos, k, sp;
	unsigned int bad = 0;

	for (sp = 0; sp < sizeof(spans) / sizeof(spans[0]); sp++) {
		for (start = 0; start < 9; start++) {
			const uint32_t nl = spans[sp];

			for (pos = start; pos < start + nl; pos++) {
				for (k = 0; k < sizeof(blockers); k++) {
					uint8_t v = blockers[k];
					uint64_t off = start * 64;
					uint32_t len = nl * 64;

					memset(map, 0, sizeof(map));
					map[pos] = v;
					bad += cdna_claims_rx_ok(map, off, len) != 0;
					bad += cdna_claims_tx_ok(map, off, len) !=
						(v < CDNA_CLAIM_TX_MAX);
					bad += cdna_claims_count(map, sizeof(map)) != 1;
					/* Just outside the span is not seen. */
					memset(map, 0, sizeof(map));
					if (start > 0)
						map[start - 1] = v;
					map[start + nl] = v;
					bad += cdna_claims_rx_ok(map, off, len) != 1;
					bad += cdna_claims_tx_ok(map, off, len) != 1;
					/*
					 * Releasing an RX span clears its RX marks
					 * and nothing else, at every position of the
					 * word and block loops; and takes only its own.
					 */
					memset(map, 0, sizeof(map));
					cdna_claims_take_rx(map, off, len);
					bad += map[start + nl] != 0 ||
						(start > 0 && map[start - 1] != 0);
					map[pos] = v;
					cdna_claims_drop_rx(map, off, len);
					bad += map[pos] != (v == CDNA_CLAIM_RX ? 0 : v);
					bad += cdna_claims_count(map, sizeof(map)) !=
						(v != CDNA_CLAIM_RX);
					/* The same through the fused RX forms. */
					memset(map, 0, sizeof(map));
					map[pos] = v;
					bad += cdna_claims_try_take_rx(map, off, len) != 0;
					bad += cdna_claims_count(map, sizeof(map)) != 1;
					memset(map, 0, sizeof(map));
					bad += cdna_claims_try_take_rx(map, off, len) != nl;
					map[pos] = v;
					bad += cdna_claims_put_rx(map, off, len) != nl;
					bad += map[pos] != (v == CDNA_CLAIM_RX ? 0 : v);
					bad += cdna_claims_count(map, sizeof(map)) !=
						(v != CDNA_CLAIM_RX);
					/*
					 * The fused TX forms over the same span: a
					 * blocker refuses the take and changes
					 * nothing; a release moves only TX counts,
					 * never a free line or an RX mark.
					 */
					memset(map, 0, sizeof(map));
					map[pos] = v;
					bad += (cdna_claims_try_take_tx(map, off, len) != 0) !=
						(v < CDNA_CLAIM_TX_MAX);
					if (v < CDNA_CLAIM_TX_MAX) {
						bad += map[pos] != v + 1;
						map[pos] = v == 1 ? 0 : CDNA_CLAIM_RX;
						CHECK_EQ(cdna_claims_put_tx(map, off, len), nl);
						bad += map[pos] != (v == 1 ? 0 : CDNA_CLAIM_RX);
						bad += cdna_claims_count(map, sizeof(map)) !=
							(v != 1);
					} else {
						bad += cdna_claims_count(map, sizeof(map)) != 1;
					}
				}
			}
		}
	}
	/* Count over an odd-length map with every byte value. */
	{
		uint8_t all[259];
		uint64_t want = 0;
		size_t i;

		for (i = 0; i < sizeof(all); i++) {
			all[i] = (uint8_t)(i * 37);
			want += all[i] != 0;
		}
		bad += cdna_claims_count(all, sizeof(all)) != want;
		bad += cdna_claims_count(all + 1, sizeof(all) - 1) != want - 1 +
			(all[0] == 0);
	}
	CHECK_EQ(bad, 0);
}

/*
 * The fused forms write only their own span: every byte of the map is
 * compared with what it must hold after each take and release, over spans
 * of every length the byte, word, vector and block forms split
 * differently, at every alignment, with sentinels of every kind around.
 */
static int
map_is(const uint8_t *map, size_t len, size_t start, size_t nl,
       uint8_t inside, uint8_t outside)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (map[i] != (i >= start && i < start + nl ? inside : outside))
			return 0;
	return 1;
}

static void
test_fused_edges(void)
{
	/* Every length of the two-word (2..15) and two-vector (16..32) forms, and their neighbours. */
	static const size_t spans[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
					13, 14, 15, 16, 17, 18, 19, 20,
					21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
					31, 32, 33, 40, 47, 48, 49 };
	static const uint8_t sentinels[] = { 0x42, 0xff, 0xfe, 1 };
	uint8_t map[80];
	size_t k, start, sv;
	unsigned int bad = 0;

	for (k = 0; k < sizeof(spans) / sizeof(spans[0]); k++)
	for (start = 0; start < 9; start++)
	for (sv = 0; sv < sizeof(sentinels); sv++) {
		const size_t nl = spans[k];
		const uint8_t o = sentinels[sv];
		const uint64_t off = start * 64 + 5;	/* not on a line start */
		const uint32_t len = (uint32_t)(nl * 64 - 5);

		memset(map, o, sizeof(map));
		memset(map + start, 0, nl);
		bad += cdna_claims_try_take_tx(map, off, len) != nl;
		bad += !map_is(map, sizeof(map), start, nl, 1, o);
		bad += cdna_claims_put_tx(map, off, len) != nl;
		bad += !map_is(map, sizeof(map), start, nl, 0, o);
		bad += cdna_claims_try_take_rx(map, off, len) != nl;
		bad += !map_is(map, sizeof(map), start, nl, CDNA_CLAIM_RX, o);
		bad += cdna_claims_put_rx(map, off, len) != nl;
		bad += !map_is(map, sizeof(map), start, nl, 0, o);
		/* To the last count and back: a vector's bytes at 0xfe. */
		memset(map + start, CDNA_CLAIM_TX_MAX - 1, nl);
		bad += cdna_claims_try_take_tx(map, off, len) != nl;
		bad += !map_is(map, sizeof(map), start, nl, CDNA_CLAIM_TX_MAX, o);
		bad += cdna_claims_try_take_tx(map, off, len) != 0;
		bad += cdna_claims_put_tx(map, off, len) != nl;
		bad += !map_is(map, sizeof(map), start, nl, CDNA_CLAIM_TX_MAX - 1, o);
	}
	CHECK_EQ(bad, 0);
}

/* The naive model: one rx flag and one tx count per byte of the region. */
#define REGION_SIZE	8000u		/* not a multiple of 64 on purpose */
#define MAX_ACTIVE	4096u
#define RAND_OPS	300000u

struct claim {
	int rx;
	uint64_t off;
	uint32_t len;
};

static uint64_t rng_state = 0x243f6a8885a308d3ull;

/* Line-rounded byte span of a claim, clipped to the region. */
static void
model_span(uint64_t off, uint32_t len, uint64_t *lo, uint64_t *hi)
{
	*lo = off / 64 * 64;
	*hi = (off + len + 63) / 64 * 64;
	if (*hi > REGION_SIZE)
		*hi = REGION_SIZE;
}

static void
test_random_model(void)
{
	static uint8_t m_rx[REGION_SIZE];
	static unsigned int m_tx[REGION_SIZE];
	static struct claim active[MAX_ACTIVE];
	size_t map_len = cdna_claims_map_len(REGION_SIZE);
	uint8_t *map = calloc(map_len, 1);
	unsigned int nact = 0, op, bad = 0, sat = 0, took = 0, took_rx = 0;
	unsigned int fused_ops = 0;
	uint64_t b, lo, hi;

	if (map == NULL) {
		CHECK(!"out of memory");
		return;
	}
	for (op = 0; op < RAND_OPS && bad < 10; op++) {
		uint64_t r = test_rng(&rng_state);
		/*
		 * Phases of 5000 operations: mixed, then piling readers on a
		 * few hot lines until they saturate, then mostly draining.
		 */
		unsigned int phase = (op / 5000) % 3;
		unsigned int drop_pct = phase == 0 ? 45 : phase == 1 ? 10 : 80;

		if (nact == MAX_ACTIVE || (nact > 0 && r % 100 < drop_pct)) {
			/* Drop a random active claim. */
			unsigned int k = (unsigned int)((r >> 8) % nact);
			struct claim c = active[k];

			model_span(c.off, c.len, &lo, &hi);
			for (b = lo; b < hi; b++) {
				if (c.rx)
					m_rx[b] = 0;
				else
					m_tx[b]--;
			}
			if ((r >> 59) & 1) {
				/* The data path's fused form: same effect. */
				uint64_t span = c.rx ?
					cdna_claims_put_rx(map, c.off, c.len) :
					cdna_claims_put_tx(map, c.off, c.len);

				CHECK_EQ(span, cdna_claims_span(c.off, c.len));
				fused_ops++;
			} else if (c.rx) {
				cdna_claims_drop_rx(map, c.off, c.len);
			} else {
				cdna_claims_drop_tx(map, c.off, c.len);
			}
			active[k] = active[--nact];
		} else {
			struct claim c;
			int want_ok = 1, got_ok, full = 0, fused;

			c.rx = (r >> 60) % 3 == 0;
			if (phase == 1 && (r >> 62) != 0) {
				c.rx = 0;
				c.off = 64 * ((r >> 8) % 4) + ((r >> 16) % 3);
				c.len = (uint32_t)(1 + (r >> 24) % 100);
			} else {
				/* Some as long as an RX buffer: the block loops. */
				c.len = (uint32_t)(1 + (r >> 8) %
						   ((r >> 40) % 4 == 0 ? 2600 : 700));
				c.off = (r >> 24) % (REGION_SIZE - c.len + 1);
			}
			model_span(c.off, c.len, &lo, &hi);
			for (b = lo; b < hi; b++) {
				if (m_rx[b] != 0)
					want_ok = 0;
				if (c.rx && m_tx[b] != 0)
					want_ok = 0;
				if (!c.rx && m_tx[b] >= CDNA_CLAIM_TX_MAX)
					want_ok = 0, full = 1;
			}
			fused = (r >> 59) & 1;
			if (fused) {
				/* Check and take in one: takes only when ok. */
				uint64_t span = c.rx ?
					cdna_claims_try_take_rx(map, c.off, c.len) :
					cdna_claims_try_take_tx(map, c.off, c.len);

				got_ok = span != 0;
				if (got_ok)
					CHECK_EQ(span, cdna_claims_span(c.off, c.len));
				fused_ops++;
			} else {
				got_ok = c.rx ? cdna_claims_rx_ok(map, c.off, c.len) :
					cdna_claims_tx_ok(map, c.off, c.len);
			}
			if (got_ok != want_ok) {
				bad++;
				fprintf(stderr, "op %u: %s off %" PRIu64 " len %u:"
					" expected ok=%d, got %d\n", op,
					c.rx ? "rx" : "tx", c.off, c.len,
					want_ok, got_ok);
			}
			if (!want_ok) {
				sat += full;
				continue;
			}
			for (b = lo; b < hi; b++) {
				if (c.rx)
					m_rx[b] = 1;
				else
					m_tx[b]++;
			}
			if (fused)
				;	/* already taken */
			else if (c.rx)
				cdna_claims_take_rx(map, c.off, c.len);
			else
				cdna_claims_take_tx(map, c.off, c.len);
			active[nact++] = c;
			took++;
			took_rx += c.rx;
		}
		/* The map must equal the model, line by line. */
		{
			uint64_t l, nz = 0;

			for (l = 0; l < map_len; l++) {
				uint8_t want = m_rx[l * 64] ? CDNA_CLAIM_RX :
					(uint8_t)m_tx[l * 64];

				nz += want != 0;
				if (map[l] != want) {
					bad++;
					fprintf(stderr, "op %u: line %" PRIu64
						" is %u, model %u\n", op, l,
						map[l], want);
					break;
				}
			}
			if (cdna_claims_count(map, map_len) != nz) {
				bad++;
				fprintf(stderr, "op %u: count mismatch\n", op);
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(took > RAND_OPS / 4);
	CHECK(took_rx > RAND_OPS / 50);
	CHECK(sat > 0);		/* the saturation path was reached */
	CHECK(fused_ops > RAND_OPS / 4);	/* the fused forms ran too */

	while (nact > 0) {
		struct claim c = active[--nact];

		if (c.rx)
			cdna_claims_drop_rx(map, c.off, c.len);
		else
			cdna_claims_drop_tx(map, c.off, c.len);
	}
	CHECK_EQ(cdna_claims_count(map, map_len), 0);
	free(map);
}

/*
 * The word-at-a-time RX release must find exactly the 0xff bytes, whatever
 * their neighbours: every value at every position, beside the values where
 * a borrow or carry would spill (0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff).
 */
static void
test_rx_marks(void)
{
	static const uint8_t around[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
	unsigned int v, pos, a, b, bad = 0;

	for (v = 0; v < 256; v++)
		for (pos = 0; pos < 8; pos++)
			for (a = 0; a < (sizeof(around) / sizeof(around[0])); a++) {
				uint8_t bytes[8];
				uint64_t w, m;

				for (b = 0; b < 8; b++)
					bytes[b] = around[(a + b) % (sizeof(around) / sizeof(around[0]))];
				bytes[pos] = (uint8_t)v;
				memcpy(&w, bytes, sizeof(w));
				m = cdna_claims_rx_marks(w);
				for (b = 0; b < 8; b++) {
					uint8_t want = bytes[b] == CDNA_CLAIM_RX ? 0xff : 0;

					bad += (uint8_t)(m >> (8 * b)) != want;
				}
			}
	CHECK_EQ(bad, 0);
}

int
main(void)
{
	test_rx_marks();
	test_map_len();
	test_partial_lines();
	test_take_drop();
	test_word_positions();
	test_fused_edges();
	test_random_model();
	printf("test_claims: %u cases, %u failed\n", cases, failed);
	return failed == 0 ? 0 : 1;
}
