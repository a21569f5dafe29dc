/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every fuzz target needs: a failing invariant that aborts (so both
 * libFuzzer and the standalone driver see it), 128-bit arithmetic for the
 * reference checks, and a reader that turns input bytes into integers,
 * little-endian, reading zeros past the end.
 */
#ifndef CDNA_FUZZ_READER_H
#define CDNA_FUZZ_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

typedef unsigned __int128 u128;

struct reader {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
rd8(struct reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static inline uint16_t
rd16(struct reader *r)
{
	uint16_t lo = rd8(r);

	return (uint16_t)(lo | rd8(r) << 8);
}

static inline uint32_t
rd32(struct reader *r)
{
	uint32_t lo = rd16(r);

	return lo | (uint32_t)rd16(r) << 16;
}

static inline uint64_t
rd64(struct reader *r)
{
	uint64_t lo = rd32(r);

	return lo | (uint64_t)rd32(r) << 32;
}

#endif /* CDNA_FUZZ_READER_H */
