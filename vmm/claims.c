/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Claim map operations. A buffer is at most CDNA_MAX_BUF_LEN bytes, so a
 * range spans at most 1026 claim bytes; the checks run on the data path for
 * every request, so they read the map eight bytes at a time, and the update
 * loops are branch-free byte loops the compiler can vectorize.
 */
#include <string.h>

#include "claims.h"
#include "regions.h"

#define ONES	0x0101010101010101ull
#define HIGHS	0x8080808080808080ull

/*
 * First and number of claim bytes covering [off, off+len). A partly covered
 * line counts as covered. Callers guarantee len > 0 and off + len <= region
 * size <= UINT64_MAX, so off + len - 1 does not wrap.
 */
static inline void
line_span(uint64_t off, uint32_t len, size_t *first, size_t *n)
{
	uint64_t lo = off >> CDNA_CLAIM_SHIFT;
	uint64_t hi = (off + len - 1) >> CDNA_CLAIM_SHIFT;

	*first = (size_t)lo;
	*n = (size_t)(hi - lo + 1);
}

static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t w;

	/* memcpy: the map has no alignment guarantee; compiles to one load. */
	memcpy(&w, p, sizeof(w));
	return w;
}

/* Nonzero if some byte of w is zero (exact for "any", the classic test). */
static inline uint64_t
has_zero_byte(uint64_t w)
{
	return (w - ONES) & ~w & HIGHS;
}

size_t
cdna_claims_map_len(uint64_t size)
{
	/* Not (size + 63) >> 6: that wraps for sizes near UINT64_MAX. */
	return (size_t)((size >> CDNA_CLAIM_SHIFT) +
			((size & (CDNA_CLAIM_LINE - 1)) != 0));
}

int
cdna_claims_rx_ok(const uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n, i = 0;
	const uint8_t *p;

	if (len == 0)
		return 1;
	line_span(off, len, &first, &n);
	p = map + first;
	/* A device write needs every line free: all bytes zero. */
	for (; i + 8 <= n; i += 8)
		if (load64(p + i) != 0)
			return 0;
	for (; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

int
cdna_claims_tx_ok(const uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n, i = 0;
	const uint8_t *p;

	if (len == 0)
		return 1;
	line_span(off, len, &first, &n);
	p = map + first;
	/*
	 * A device read is refused on a line at CDNA_CLAIM_TX_MAX (0xfe) or
	 * CDNA_CLAIM_RX (0xff). Those are exactly the bytes that become 0xff
	 * once bit 0 is set, i.e. whose complement is a zero byte.
	 */
	for (; i + 8 <= n; i += 8)
		if (has_zero_byte(~(load64(p + i) | ONES)) != 0)
			return 0;
	for (; i < n; i++)
		if (p[i] >= CDNA_CLAIM_TX_MAX)
			return 0;
	return 1;
}

void
cdna_claims_take_rx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n;

	if (len == 0)
		return;
	line_span(off, len, &first, &n);
	memset(map + first, CDNA_CLAIM_RX, n);
}

void
cdna_claims_drop_rx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n, i;
	uint8_t *p;

	if (len == 0)
		return;
	line_span(off, len, &first, &n);
	p = map + first;
	/* Clear only RX marks: a stray drop must not erase TX counts. */
	for (i = 0; i < n; i++)
		p[i] = p[i] == CDNA_CLAIM_RX ? 0 : p[i];
}

void
cdna_claims_take_tx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n, i;
	uint8_t *p;

	if (len == 0)
		return;
	line_span(off, len, &first, &n);
	p = map + first;
	/*
	 * Callers check cdna_claims_tx_ok first. The guard still stops a
	 * count at CDNA_CLAIM_TX_MAX from ever becoming the RX mark, or an
	 * RX mark from wrapping to "free".
	 */
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(p[i] + (p[i] < CDNA_CLAIM_TX_MAX));
}

void
cdna_claims_drop_tx(uint8_t *map, uint64_t off, uint32_t len)
{
	size_t first, n, i;
	uint8_t *p;

	if (len == 0)
		return;
	line_span(off, len, &first, &n);
	p = map + first;
	/* Decrement only 1..CDNA_CLAIM_TX_MAX: never a free line or RX mark. */
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(p[i] - ((uint8_t)(p[i] - 1) < CDNA_CLAIM_TX_MAX));
}

uint64_t
cdna_claims_count(const uint8_t *map, size_t map_len)
{
	uint64_t count = 0;
	size_t i = 0;

	for (; i + 8 <= map_len; i += 8) {
		uint64_t w = load64(map + i);
		/* High bit of each byte set iff the byte is nonzero. */
		uint64_t nz = (((w & ~HIGHS) + ~HIGHS) | w) & HIGHS;

		/* Sum the eight flags: multiply gathers them in the top byte. */
		count += ((nz >> 7) * ONES) >> 56;
	}
	for (; i < map_len; i++)
		count += map[i] != 0;
	return count;
}
