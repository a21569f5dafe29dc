/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Claim map operations off the data path (the per-descriptor ones are
 * inline in claims.h).
 */
#include <string.h>

#include "claims.h"
#include "regions.h"

size_t
cdna_claims_map_len(uint64_t size)
{
	/* Not (size + 63) >> 6: that wraps for sizes near UINT64_MAX. */
	return (size_t)((size >> CDNA_CLAIM_SHIFT) +
			((size & (CDNA_CLAIM_LINE - 1)) != 0));
}

uint64_t
cdna_claims_count(const uint8_t *map, size_t map_len)
{
	uint64_t count = 0;
	size_t i = 0;

	for (; i + 8 <= map_len; i += 8) {
		uint64_t w = cdna_claims_load64(map + i);
		/* High bit of each byte set iff the byte is nonzero. */
		uint64_t nz = (((w & ~CDNA_CLAIM_HIGHS) + ~CDNA_CLAIM_HIGHS) | w) &
			CDNA_CLAIM_HIGHS;

		/* Sum the eight flags: multiply gathers them in the top byte. */
		count += ((nz >> 7) * CDNA_CLAIM_ONES) >> 56;
	}
	for (; i < map_len; i++)
		count += map[i] != 0;
	return count;
}
