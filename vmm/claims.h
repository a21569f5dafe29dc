/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Claim map: one byte per 64-byte line of a region, counting the in-flight
 * DMA that touches the line. 0 = free; 1..CDNA_CLAIM_TX_MAX = that many
 * device reads (TX, may be shared); CDNA_CLAIM_RX = one device write (RX,
 * exclusive). A line partly covered by a range counts as covered, so the
 * protection is never coarser than 64 bytes.
 *
 * off and len are relative to the region start; callers guarantee
 * len > 0 and off + len <= region size (the validator checks that first).
 */
#ifndef CDNA_CLAIMS_H
#define CDNA_CLAIMS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "regions.h"

#define CDNA_CLAIM_RX		0xffu
#define CDNA_CLAIM_TX_MAX	0xfeu

/* Bytes of claim map needed for a region of size bytes. */
size_t cdna_claims_map_len(uint64_t size);

/* Lines a range of len > 0 bytes at off touches. */
static inline uint64_t
cdna_claims_span(uint64_t off, uint32_t len)
{
	return ((off + len - 1) >> 6) - (off >> 6) + 1;
}

/*
 * The checks and updates below run for every descriptor: inline, so that
 * a range of a line or two costs a few instructions, not a call. They read
 * the map eight bytes at a time; the updates work a word at a time where
 * no byte of the word can carry into the next, else byte by byte. A buffer
 * is at most CDNA_MAX_BUF_LEN bytes, so a range spans at most 1026 claim
 * bytes.
 */
#define CDNA_CLAIM_ONES		0x0101010101010101ull
#define CDNA_CLAIM_HIGHS	0x8080808080808080ull

/*
 * First and number of claim bytes covering [off, off+len). A partly covered
 * line counts as covered. Callers guarantee len > 0 and off + len <= region
 * size <= UINT64_MAX, so off + len - 1 does not wrap.
 */
static inline void
cdna_claims_line_span(uint64_t off, uint32_t len, size_t *first, size_t *n)
{
	uint64_t lo = off >> CDNA_CLAIM_SHIFT;
	uint64_t hi = (off + len - 1) >> CDNA_CLAIM_SHIFT;

	*first = (size_t)lo;
	*n = (size_t)(hi - lo + 1);
}

static inline uint64_t
cdna_claims_load64(const uint8_t *p)
{
	uint64_t w;

	/* memcpy: the map has no alignment guarantee; compiles to one load. */
	memcpy(&w, p, sizeof(w));
	return w;
}

/* Nonzero if some byte of w is zero (exact for "any", the classic test). */
static inline uint64_t
cdna_claims_has_zero_byte(uint64_t w)
{
	return (w - CDNA_CLAIM_ONES) & ~w & CDNA_CLAIM_HIGHS;
}

static inline void
cdna_claims_store64(uint8_t *p, uint64_t w)
{
	memcpy(p, &w, sizeof(w));
}

/*
 * 0xff in each byte of w that is CDNA_CLAIM_RX (0xff), 0 in the others.
 * Exact byte by byte (no borrow runs from one byte into the next, unlike
 * the "has a zero byte" test): the complement's zero bytes are found with
 * each byte's high bit kept out of the addition.
 */
static inline uint64_t
cdna_claims_rx_marks(uint64_t w)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
	uint64_t x = ~w;
	uint64_t nonzero = ((x & low7) + low7) | x;

	return ((~nonzero & CDNA_CLAIM_HIGHS) >> 7) * 0xffu;
}

/* 1 if a device write (RX) may start on [off, off+len): every line free. */
static inline int
cdna_claims_rx_ok(const uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n, i = 0;
	const uint8_t *p;

	if (len == 0)
		return 1;
	cdna_claims_line_span(off, len, &first, &n);
	p = map + first;
	/* A device write needs every line free: all bytes zero. */
	for (; i + 32 <= n; i += 32)	/* an RX buffer of 2 KiB: one test */
		if ((cdna_claims_load64(p + i) | cdna_claims_load64(p + i + 8) |
		     cdna_claims_load64(p + i + 16) |
		     cdna_claims_load64(p + i + 24)) != 0)
			return 0;
	for (; i + 8 <= n; i += 8)
		if (cdna_claims_load64(p + i) != 0)
			return 0;
	for (; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

#ifdef __SSE2__
/*
 * Sixteen claim bytes at a time, for the long ranges of large frames (a
 * 1518-byte frame spans 24 lines): loaded and stored unaligned, and only
 * where all sixteen lie inside the range, so no byte outside it is ever
 * written (words and bytes take the rest).
 */
#define CDNA_CLAIM_VEC	16

static inline __m128i
cdna_claims_load128(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline void
cdna_claims_store128(uint8_t *p, __m128i v)
{
	_mm_storeu_si128((__m128i *)(void *)p, v);
}

/* Nonzero if a byte of v refuses a read: 0xfe and 0xff saturate at 0xff. */
static inline int
cdna_claims_vec_tx_full(__m128i v)
{
	return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_adds_epu8(v, _mm_set1_epi8(1)),
						_mm_set1_epi8(-1)));
}

/* Nonzero if a byte of v is free (0) or an RX mark (0xff). */
static inline int
cdna_claims_vec_free_or_rx(__m128i v)
{
	return _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_setzero_si128()),
					      _mm_cmpeq_epi8(v, _mm_set1_epi8(-1))));
}

/*
 * The mask of lanes where a byte of a or of b is free or an RX mark: such
 * a byte is 0 where their minimum is, 0xff where their maximum is.
 */
static inline int
cdna_claims_vec2_free_or_rx(__m128i a, __m128i b)
{
	return _mm_movemask_epi8(_mm_or_si128(
		_mm_cmpeq_epi8(_mm_min_epu8(a, b), _mm_setzero_si128()),
		_mm_cmpeq_epi8(_mm_max_epu8(a, b), _mm_set1_epi8(-1))));
}

/*
 * A range of 16 to 32 claim bytes (a full-size frame spans 24 or 25
 * lines) is two vectors, the head at p and the tail ending at p + n, both
 * inside the range; they overlap unless n is 32. Both are loaded before
 * either is stored, so a byte they share is written twice with the same
 * value, its old one moved by one: every byte of the range moves once.
 */
#define CDNA_CLAIM_PAIR_MAX	(2 * CDNA_CLAIM_VEC)

/* 16 <= n <= 32 claim bytes from p taken for a device read: 1, or 0 (none). */
static inline int
cdna_claims_pair_take_tx(uint8_t *p, size_t n)
{
	uint8_t *const tail = p + n - CDNA_CLAIM_VEC;
	const __m128i head_v = cdna_claims_load128(p);
	const __m128i tail_v = cdna_claims_load128(tail);

	if (cdna_claims_vec_tx_full(_mm_max_epu8(head_v, tail_v)) != 0)
		return 0;
	cdna_claims_store128(p, _mm_add_epi8(head_v, _mm_set1_epi8(1)));
	cdna_claims_store128(tail, _mm_add_epi8(tail_v, _mm_set1_epi8(1)));
	return 1;
}

/*
 * 16 <= n <= 32 claim bytes from p given back by a device read: 1; or 0,
 * nothing written, if a byte is free or an RX mark (the caller then steps
 * byte by byte, moving only the TX counts).
 */
static inline int
cdna_claims_pair_put_tx(uint8_t *p, size_t n)
{
	uint8_t *const tail = p + n - CDNA_CLAIM_VEC;
	const __m128i head_v = cdna_claims_load128(p);
	const __m128i tail_v = cdna_claims_load128(tail);

	if (cdna_claims_vec2_free_or_rx(head_v, tail_v) != 0)
		return 0;
	cdna_claims_store128(p, _mm_sub_epi8(head_v, _mm_set1_epi8(1)));
	cdna_claims_store128(tail, _mm_sub_epi8(tail_v, _mm_set1_epi8(1)));
	return 1;
}
#endif

/*
 * The n claim bytes from p allow a device read: none at CDNA_CLAIM_TX_MAX
 * (0xfe) or CDNA_CLAIM_RX (0xff). Those are exactly the bytes that become
 * 0xff once bit 0 is set, i.e. whose complement is a zero byte. Walked by
 * pointer, a word at a time, then the bytes left.
 */
static inline int
cdna_claims_tx_ok_n(const uint8_t *p, size_t n)
{
	const uint8_t *const end = p + n;
	const uint8_t *words;

#ifdef __SSE2__
	for (; (size_t)(end - p) >= CDNA_CLAIM_VEC; p += CDNA_CLAIM_VEC)
		if (cdna_claims_vec_tx_full(cdna_claims_load128(p)) != 0)
			return 0;
#endif
	words = p + ((size_t)(end - p) & ~(size_t)7);
	for (; p != words; p += 8)
		if (cdna_claims_has_zero_byte(~(cdna_claims_load64(p) |
						CDNA_CLAIM_ONES)) != 0)
			return 0;
	for (; p != end; p++)
		if (*p >= CDNA_CLAIM_TX_MAX)
			return 0;
	return 1;
}

/* 1 if a device read (TX) may start: no line held by RX, none saturated. */
static inline int
cdna_claims_tx_ok(const uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n;

	if (len == 0)
		return 1;
	cdna_claims_line_span(off, len, &first, &n);
	return cdna_claims_tx_ok_n(map + first, n);
}

/* Marks n claim bytes RX, eight at a time (n is small: no memset call). */
static inline void
cdna_claims_fill_rx(uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		cdna_claims_store64(p + i, ~0ull);
		cdna_claims_store64(p + i + 8, ~0ull);
		cdna_claims_store64(p + i + 16, ~0ull);
		cdna_claims_store64(p + i + 24, ~0ull);
	}
	for (; i + 8 <= n; i += 8)
		cdna_claims_store64(p + i, ~0ull);
	for (; i < n; i++)
		p[i] = CDNA_CLAIM_RX;
}

/* Takes and drops claims; callers checked with the _ok test first. */
static inline void
cdna_claims_take_rx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n;

	if (len == 0)
		return;
	cdna_claims_line_span(off, len, &first, &n);
	cdna_claims_fill_rx(map + first, n);
}

static inline void
cdna_claims_drop_rx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n, i;
	uint8_t *p;

	if (len == 0)
		return;
	cdna_claims_line_span(off, len, &first, &n);
	p = map + first;
	/* Clear only RX marks: a stray drop must not erase TX counts. */
	for (i = 0; i + 32 <= n; i += 32) {
		/* All RX, the usual case: four words cleared, no byte test. */
		if ((cdna_claims_load64(p + i) & cdna_claims_load64(p + i + 8) &
		     cdna_claims_load64(p + i + 16) &
		     cdna_claims_load64(p + i + 24)) != ~0ull)
			break;
		cdna_claims_store64(p + i, 0);
		cdna_claims_store64(p + i + 8, 0);
		cdna_claims_store64(p + i + 16, 0);
		cdna_claims_store64(p + i + 24, 0);
	}
	for (; i + 8 <= n; i += 8) {
		uint64_t w = cdna_claims_load64(p + i);

		/* All eight RX, the usual case, needs no byte test. */
		cdna_claims_store64(p + i, w == ~0ull ? 0 :
				    w & ~cdna_claims_rx_marks(w));
	}
	for (; i < n; i++)
		p[i] = p[i] == CDNA_CLAIM_RX ? 0 : p[i];
}

static inline void
cdna_claims_take_tx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n, i;
	uint8_t *p;

	if (len == 0)
		return;
	cdna_claims_line_span(off, len, &first, &n);
	p = map + first;
	/*
	 * Callers check cdna_claims_tx_ok first. The guard still stops a
	 * count at CDNA_CLAIM_TX_MAX from ever becoming the RX mark, or an
	 * RX mark from wrapping to "free".
	 */
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(p[i] + (p[i] < CDNA_CLAIM_TX_MAX));
}

/* One claim byte taken by a device read, unless saturated or RX: 1, else 0. */
static inline int
cdna_claims_take_tx_one(uint8_t *c)
{
	if (*c >= CDNA_CLAIM_TX_MAX)
		return 0;
	(*c)++;
	return 1;
}

/* One claim byte's release by a device read: only 1..CDNA_CLAIM_TX_MAX moves. */
static inline void
cdna_claims_dec_tx(uint8_t *c)
{
	if (__builtin_expect((uint8_t)(*c - 1) < CDNA_CLAIM_TX_MAX, 1))
		(*c)--;
}


#ifdef __SSE2__
/*
 * A range of 2 to 15 claim bytes (a frame of up to 960 bytes that crosses
 * a line) is two words of w bytes, w the widest of 2, 4 and 8 not above n
 * (so n <= 2w): the head at p and the tail ending at p + n, both inside
 * the range, overlapping unless n is 2w. As with the two vectors, both
 * are loaded before either is stored, so a byte they share is written
 * twice with the same value. Each word sits in a vector's low lanes, the
 * others zero: they pass the read test and are masked out of the release
 * test, and never stored.
 */
#define CDNA_CLAIM_DUO_MAX	15u

static inline __attribute__((always_inline)) __m128i
cdna_claims_load_w(const uint8_t *p, const size_t w)
{
	uint64_t x = 0;

	memcpy(&x, p, w);
	return _mm_cvtsi64_si128((long long)x);
}

static inline __attribute__((always_inline)) void
cdna_claims_store_w(uint8_t *p, __m128i v, const size_t w)
{
	uint64_t x = (uint64_t)_mm_cvtsi128_si64(v);

	memcpy(p, &x, w);
}

/*
 * Takes (put 0) or gives back (put 1) the range for a device read as two
 * words of w bytes; w and put are constants in every call. Taking needs
 * every byte below CDNA_CLAIM_TX_MAX; giving back, every byte a TX count
 * (1..0xfe): none free, none an RX mark. 1, or 0 with nothing written.
 */
static inline __attribute__((always_inline)) int
cdna_claims_duo_move_tx_w(uint8_t *p, size_t n, const size_t w, const int put)
{
	const __m128i head = cdna_claims_load_w(p, w);
	const __m128i tail = cdna_claims_load_w(p + n - w, w);
	const __m128i step = _mm_set1_epi8(put ? -1 : 1);

	if (put ? (cdna_claims_vec2_free_or_rx(head, tail) & ((1 << w) - 1)) != 0 :
		  cdna_claims_vec_tx_full(_mm_max_epu8(head, tail)) != 0)
		return 0;
	cdna_claims_store_w(p, _mm_add_epi8(head, step), w);
	cdna_claims_store_w(p + n - w, _mm_add_epi8(tail, step), w);
	return 1;
}

/* The move with w the widest of 8, 4 and 2 not above n. */
#define CDNA_CLAIMS_DUO_MOVE(p, n, put)						\
	((n) >= 8 ? cdna_claims_duo_move_tx_w(p, n, 8, put) :			\
	 (n) >= 4 ? cdna_claims_duo_move_tx_w(p, n, 4, put) :			\
		    cdna_claims_duo_move_tx_w(p, n, 2, put))

/* 2 <= n <= CDNA_CLAIM_DUO_MAX claim bytes from p taken for a device read: 1, or 0 (none). */
static inline int
cdna_claims_duo_take_tx(uint8_t *p, size_t n)
{
	return CDNA_CLAIMS_DUO_MOVE(p, n, 0);
}

/*
 * 2 <= n <= CDNA_CLAIM_DUO_MAX claim bytes from p given back by a device
 * read: 1; or 0, nothing written, if a byte is free or an RX mark (the
 * caller then steps byte by byte, moving only the TX counts). Always
 * inlined: as a call, a 256-byte TX descriptor cost 182.5 instructions
 * against 171.4 (bench/micro.sh).
 */
static inline __attribute__((always_inline)) int
cdna_claims_duo_put_tx(uint8_t *p, size_t n)
{
	return CDNA_CLAIMS_DUO_MOVE(p, n, 1);
}
#endif

/*
 * The data path's forms: check and take (or drop) in one, returning the
 * lines the range spans. A range inside one line, which a small frame
 * nearly always is, costs a byte's test and store. The TX forms are always
 * inlined: as calls, the registers they take cost the one-line case in
 * the loops around them (bench/micro.sh: 118 against 117 instructions).
 */
static inline __attribute__((always_inline)) uint64_t
cdna_claims_try_take_tx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n;
	uint8_t *p, *words, *end;

	cdna_claims_line_span(off, len, &first, &n);
	p = map + first;
	if (__builtin_expect(n == 1, 1))
		return cdna_claims_take_tx_one(p);
#ifdef __SSE2__
	if (n <= CDNA_CLAIM_DUO_MAX)
		return cdna_claims_duo_take_tx(p, n) ? n : 0;
	if (n >= CDNA_CLAIM_VEC && n <= CDNA_CLAIM_PAIR_MAX)
		return cdna_claims_pair_take_tx(p, n) ? n : 0;
#endif
	if (!cdna_claims_tx_ok_n(p, n))
		return 0;
	/* No byte is at CDNA_CLAIM_TX_MAX or above: no carry between bytes. */
	end = p + n;
#ifdef __SSE2__
	for (; (size_t)(end - p) >= CDNA_CLAIM_VEC; p += CDNA_CLAIM_VEC)
		cdna_claims_store128(p, _mm_add_epi8(cdna_claims_load128(p),
						     _mm_set1_epi8(1)));
#endif
	words = p + ((size_t)(end - p) & ~(size_t)7);
	for (; p != words; p += 8)
		cdna_claims_store64(p, cdna_claims_load64(p) + CDNA_CLAIM_ONES);
	for (; p != end; p++)
		(*p)++;
	return n;
}

/*
 * The usual RX buffer (2 KiB on line boundaries, as a mempool's mbufs
 * are) spans exactly one block of 32 claim bytes: four words, tested and
 * set without a loop.
 */
#define CDNA_CLAIM_BLOCK	32u

/* One block of 32 claim bytes taken for RX if all are free: 1, else 0. */
static inline int
cdna_claims_block_take_rx(uint8_t *p)
{
	if ((cdna_claims_load64(p) | cdna_claims_load64(p + 8) |
	     cdna_claims_load64(p + 16) | cdna_claims_load64(p + 24)) != 0)
		return 0;
	cdna_claims_store64(p, ~0ull);
	cdna_claims_store64(p + 8, ~0ull);
	cdna_claims_store64(p + 16, ~0ull);
	cdna_claims_store64(p + 24, ~0ull);
	return 1;
}

/* One block released if every byte is an RX mark: 1, else 0 (unchanged). */
static inline int
cdna_claims_block_put_rx(uint8_t *p)
{
	if ((cdna_claims_load64(p) & cdna_claims_load64(p + 8) &
	     cdna_claims_load64(p + 16) & cdna_claims_load64(p + 24)) != ~0ull)
		return 0;
	cdna_claims_store64(p, 0);
	cdna_claims_store64(p + 8, 0);
	cdna_claims_store64(p + 16, 0);
	cdna_claims_store64(p + 24, 0);
	return 1;
}

static inline uint64_t
cdna_claims_try_take_rx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n;
	uint8_t *p;

	cdna_claims_line_span(off, len, &first, &n);
	p = map + first;
	if (__builtin_expect(n == CDNA_CLAIM_BLOCK, 1))
		return cdna_claims_block_take_rx(p) ? n : 0;
	if (!cdna_claims_rx_ok(map, off, len))
		return 0;
	cdna_claims_fill_rx(p, n);
	return n;
}

static inline __attribute__((always_inline)) uint64_t
cdna_claims_put_tx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n, b;
	uint8_t *p, *words, *end;

	cdna_claims_line_span(off, len, &first, &n);
	p = map + first;
	if (__builtin_expect(n == 1, 1)) {
		cdna_claims_dec_tx(p);
		return 1;
	}
#ifdef __SSE2__
	if (n <= CDNA_CLAIM_DUO_MAX && __builtin_expect(cdna_claims_duo_put_tx(p, n), 1))
		return n;
	if (n >= CDNA_CLAIM_VEC && n <= CDNA_CLAIM_PAIR_MAX &&
	    __builtin_expect(cdna_claims_pair_put_tx(p, n), 1))
		return n;
#endif
	end = p + n;
#ifdef __SSE2__
	for (; (size_t)(end - p) >= CDNA_CLAIM_VEC; p += CDNA_CLAIM_VEC) {
		__m128i v = cdna_claims_load128(p);

		if (__builtin_expect(cdna_claims_vec_free_or_rx(v) == 0, 1)) {
			cdna_claims_store128(p, _mm_sub_epi8(v, _mm_set1_epi8(1)));
			continue;
		}
		for (b = 0; b < CDNA_CLAIM_VEC; b++)
			cdna_claims_dec_tx(&p[b]);
	}
#endif
	words = p + ((size_t)(end - p) & ~(size_t)7);
	for (; p != words; p += 8) {
		uint64_t w = cdna_claims_load64(p);

		/* No byte free (0) or RX (0xff): no borrow between bytes. */
		if (__builtin_expect((cdna_claims_has_zero_byte(w) |
				      cdna_claims_has_zero_byte(~w)) == 0, 1)) {
			cdna_claims_store64(p, w - CDNA_CLAIM_ONES);
			continue;
		}
		for (b = 0; b < 8; b++)
			cdna_claims_dec_tx(&p[b]);
	}
	for (; p != end; p++)
		cdna_claims_dec_tx(p);
	return n;
}

/* A device read's release: never a free line or an RX mark moves. */
static inline void
cdna_claims_drop_tx(uint8_t *map, uint64_t off, uint32_t len)
{
	if (len != 0)
		(void)cdna_claims_put_tx(map, off, len);
}

static inline uint64_t
cdna_claims_put_rx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n;

	cdna_claims_line_span(off, len, &first, &n);
	/* One block, every byte an RX mark (the usual case): cleared at once. */
	if (__builtin_expect(n == CDNA_CLAIM_BLOCK, 1) &&
	    cdna_claims_block_put_rx(map + first))
		return n;
	cdna_claims_drop_rx(map, off, len);
	return n;
}

/* Number of lines with any claim: 0 means nothing in flight. */
uint64_t cdna_claims_count(const uint8_t *map, size_t map_len);

#endif /* CDNA_CLAIMS_H */
