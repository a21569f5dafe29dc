/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Assertions for the small unit-test programs: each counts a case, and a
 * failing one prints where and what and is counted, so one run reports
 * every failure. Values are compared as 64-bit patterns (negative errno
 * values compare equal to themselves) and printed signed.
 */
#ifndef CDNA_TEST_CHECK_H
#define CDNA_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>

static unsigned int cases;
static unsigned int failed;

#define CHECK(cond) do {						\
	cases++;							\
	if (!(cond)) {							\
		failed++;						\
		fprintf(stderr, "%s:%d: FAIL: %s\n",			\
			__FILE__, __LINE__, #cond);			\
	}								\
} while (0)

#define CHECK_EQ(got, want) do {					\
	unsigned long long g_ = (unsigned long long)(got);		\
	unsigned long long w_ = (unsigned long long)(want);		\
	cases++;							\
	if (g_ != w_) {							\
		failed++;						\
		fprintf(stderr, "%s:%d: FAIL: %s = %lld, expected %lld\n", \
			__FILE__, __LINE__, #got, (long long)g_,	\
			(long long)w_);					\
	}								\
} while (0)

/* xorshift64: the same sequence every run, so a failure replays. */
static inline uint64_t
test_rng(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

#endif /* CDNA_TEST_CHECK_H */
