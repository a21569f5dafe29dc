/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Region table: ordering, overlap and wrap rejection, the policy limit,
 * lookups at the edges of each region, removal, and a large table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "regions.h"

static struct cdna_region
mk(uint64_t gaddr, uint64_t size)
{
	struct cdna_region r;

	memset(&r, 0, sizeof(r));
	r.gaddr = gaddr;
	r.size = size;
	return r;
}

static int
table_sorted_disjoint(const struct cdna_region_table *rt)
{
	uint32_t i;

	for (i = 1; i < rt->n; i++) {
		const struct cdna_region *a = rt->v[i - 1], *b = rt->v[i];

		if (a->gaddr >= b->gaddr || b->gaddr - a->gaddr < a->size)
			return 0;
	}
	return 1;
}

static void
test_order(void)
{
	struct cdna_region_table rt;
	struct cdna_region a = mk(0x3000, 0x1000);
	struct cdna_region b = mk(0x1000, 0x1000);
	struct cdna_region c = mk(0x5000, 0x1000);
	struct cdna_region d = mk(0x2000, 0x1000);

	CHECK_EQ(cdna_rt_init(&rt, 64), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &a), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &b), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &c), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &d), 0);
	CHECK_EQ(rt.n, 4);
	CHECK(rt.v[0] == &b && rt.v[1] == &d && rt.v[2] == &a && rt.v[3] == &c);
	CHECK(table_sorted_disjoint(&rt));
	cdna_rt_fini(&rt);
	CHECK(rt.v == NULL && rt.n == 0);
}

static void
test_overlap(void)
{
	static const struct {
		uint64_t gaddr, size;
		int want;
	} rows[] = {
		/* present: [0x10000, 0x14000) */
		{ 0x10000, 0x4000, -EEXIST },	/* identical */
		{ 0x11000, 0x1000, -EEXIST },	/* contained */
		{ 0x0f000, 0x6000, -EEXIST },	/* contains */
		{ 0x0f000, 0x1001, -EEXIST },	/* ends one byte inside */
		{ 0x13fff, 0x1000, -EEXIST },	/* starts at the last byte */
		{ 0x10000, 0x0001, -EEXIST },	/* first byte only */
		{ 0x0f000, 0x1000, 0 },		/* touches below */
		{ 0x14000, 0x1000, 0 },		/* touches above */
		{ 0x0e000, 0x1000, 0 },		/* touches the one below */
		{ 0x0e800, 0x1000, -EEXIST },	/* straddles two present */
		{ 0x16000, 0x0001, 0 },		/* one-byte region in a gap */
		{ 0x15fff, 0x0002, -EEXIST },	/* reaches into it */
		{ 0x15fff, 0x0001, 0 },		/* exactly fills the byte below */
	};
	struct cdna_region_table rt;
	struct cdna_region base = mk(0x10000, 0x4000);
	struct cdna_region r[sizeof(rows) / sizeof(rows[0])];
	size_t i;

	CHECK_EQ(cdna_rt_init(&rt, 64), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &base), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &base), -EEXIST);	/* itself again */
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got;

		r[i] = mk(rows[i].gaddr, rows[i].size);
		got = cdna_rt_insert(&rt, &r[i]);
		cases++;
		if (got != rows[i].want) {
			failed++;
			fprintf(stderr, "overlap row %zu [0x%" PRIx64 ", +0x%"
				PRIx64 "): expected %d, got %d\n", i,
				rows[i].gaddr, rows[i].size, rows[i].want, got);
		}
	}
	CHECK(table_sorted_disjoint(&rt));
	cdna_rt_fini(&rt);
}

static void
test_wrap(void)
{
	static const struct {
		uint64_t gaddr, size;
		int want;
	} rows[] = {
		{ 0x1000, 0, -EINVAL },
		{ UINT64_MAX - 4095, 4096, -EINVAL },	/* end is 2^64 */
		{ UINT64_MAX, 1, -EINVAL },
		{ UINT64_MAX, UINT64_MAX, -EINVAL },
		{ 0x1000, UINT64_MAX, -EINVAL },
		{ UINT64_MAX - 4096, 4096, 0 },		/* end is UINT64_MAX */
		{ 0, 4096, 0 },
	};
	struct cdna_region_table rt;
	struct cdna_region r[sizeof(rows) / sizeof(rows[0])];
	size_t i;

	CHECK_EQ(cdna_rt_init(&rt, 64), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got;

		r[i] = mk(rows[i].gaddr, rows[i].size);
		got = cdna_rt_insert(&rt, &r[i]);
		cases++;
		if (got != rows[i].want) {
			failed++;
			fprintf(stderr, "wrap row %zu: expected %d, got %d\n",
				i, rows[i].want, got);
		}
	}
	CHECK_EQ(rt.n, 2);
	CHECK(cdna_rt_insert(&rt, NULL) == -EINVAL);
	CHECK(cdna_rt_find(&rt, UINT64_MAX) == NULL);
	CHECK(cdna_rt_find(&rt, UINT64_MAX - 1) == &r[5]);
	CHECK(cdna_rt_find(&rt, UINT64_MAX - 4096) == &r[5]);
	CHECK(cdna_rt_find(&rt, UINT64_MAX - 4097) == NULL);
	CHECK(cdna_rt_find(&rt, 0) == &r[6]);
	cdna_rt_fini(&rt);
}

static void
test_limit(void)
{
	struct cdna_region_table rt;
	struct cdna_region r[6];
	unsigned int i;

	for (i = 0; i < 6; i++)
		r[i] = mk(0x100000 * (i + 1), 0x1000);
	CHECK_EQ(cdna_rt_init(&rt, 4), 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(cdna_rt_insert(&rt, &r[i]), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &r[4]), -ENOSPC);
	CHECK_EQ(rt.n, 4);
	/* Overlap is reported before the limit. */
	CHECK_EQ(cdna_rt_insert(&rt, &r[0]), -EEXIST);
	CHECK_EQ(cdna_rt_remove(&rt, &r[1]), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &r[4]), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &r[5]), -ENOSPC);
	cdna_rt_fini(&rt);

	/* A zero limit admits nothing. */
	CHECK_EQ(cdna_rt_init(&rt, 0), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &r[0]), -ENOSPC);
	CHECK(cdna_rt_find(&rt, r[0].gaddr) == NULL);
	cdna_rt_fini(&rt);
}

static void
test_find_remove(void)
{
	struct cdna_region_table rt;
	struct cdna_region a = mk(0x10000, 0x1000);
	struct cdna_region b = mk(0x11000, 0x2000);	/* adjacent to a */
	struct cdna_region c = mk(0x20000, 0x1000);	/* after a gap */
	struct cdna_region twin = mk(0x11000, 0x2000);	/* same range as b */

	CHECK_EQ(cdna_rt_init(&rt, 16), 0);
	CHECK(cdna_rt_find(&rt, 0x10000) == NULL);	/* empty table */
	CHECK_EQ(cdna_rt_insert(&rt, &c), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &a), 0);
	CHECK_EQ(cdna_rt_insert(&rt, &b), 0);

	CHECK(cdna_rt_find(&rt, 0) == NULL);
	CHECK(cdna_rt_find(&rt, 0xffff) == NULL);
	CHECK(cdna_rt_find(&rt, 0x10000) == &a);	/* first byte */
	CHECK(cdna_rt_find(&rt, 0x10fff) == &a);	/* last byte */
	CHECK(cdna_rt_find(&rt, 0x11000) == &b);	/* one past a: b */
	CHECK(cdna_rt_find(&rt, 0x12fff) == &b);
	CHECK(cdna_rt_find(&rt, 0x13000) == NULL);	/* one past b: gap */
	CHECK(cdna_rt_find(&rt, 0x1ffff) == NULL);
	CHECK(cdna_rt_find(&rt, 0x20000) == &c);
	CHECK(cdna_rt_find(&rt, 0x20fff) == &c);
	CHECK(cdna_rt_find(&rt, 0x21000) == NULL);
	CHECK(cdna_rt_find(&rt, UINT64_MAX) == NULL);

	CHECK(cdna_rt_find_exact(&rt, 0x11000, 0x2000) == &b);
	CHECK(cdna_rt_find_exact(&rt, 0x11000, 0x1000) == NULL);
	CHECK(cdna_rt_find_exact(&rt, 0x11000, 0x3000) == NULL);
	CHECK(cdna_rt_find_exact(&rt, 0x12000, 0x1000) == NULL);
	CHECK(cdna_rt_find_exact(&rt, 0x13000, 0x1000) == NULL);

	/* Removal is by identity: an equal-looking region is not b. */
	CHECK_EQ(cdna_rt_remove(&rt, &twin), -ENOENT);
	CHECK_EQ(cdna_rt_remove(&rt, NULL), -ENOENT);
	CHECK_EQ(cdna_rt_remove(&rt, &b), 0);
	CHECK_EQ(cdna_rt_remove(&rt, &b), -ENOENT);
	CHECK_EQ(rt.n, 2);
	CHECK(cdna_rt_find(&rt, 0x11000) == NULL);
	CHECK(cdna_rt_find(&rt, 0x10fff) == &a);
	CHECK(cdna_rt_find(&rt, 0x20000) == &c);
	CHECK_EQ(cdna_rt_insert(&rt, &twin), 0);
	CHECK(cdna_rt_find(&rt, 0x12345) == &twin);
	CHECK_EQ(cdna_rt_remove(&rt, &a), 0);
	CHECK_EQ(cdna_rt_remove(&rt, &c), 0);
	CHECK_EQ(cdna_rt_remove(&rt, &twin), 0);
	CHECK_EQ(rt.n, 0);
	CHECK(cdna_rt_find(&rt, 0x12345) == NULL);
	cdna_rt_fini(&rt);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

#define BIG	10000u

static void
test_large(void)
{
	struct cdna_region_table rt;
	struct cdna_region *r = calloc(BIG, sizeof(*r));
	uint32_t *order = calloc(BIG, sizeof(*order));
	unsigned int bad = 0;
	uint32_t i;

	if (r == NULL || order == NULL) {
		CHECK(!"out of memory");
		free(r);
		free(order);
		return;
	}
	/*
	 * Region i starts at 1 MiB * i + 1 MiB; even ones are 4 KiB, odd ones
	 * fill up to the next region, so there are gaps and adjacencies.
	 */
	for (i = 0; i < BIG; i++) {
		r[i] = mk(0x100000ull * (i + 1), i % 2 ? 0x100000 : 0x1000);
		order[i] = i;
	}
	for (i = BIG - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(test_rng(&rng_state) % (i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	CHECK_EQ(cdna_rt_init(&rt, BIG), 0);
	for (i = 0; i < BIG; i++)
		bad += cdna_rt_insert(&rt, &r[order[i]]) != 0;
	CHECK_EQ(bad, 0);
	CHECK_EQ(rt.n, BIG);
	CHECK(table_sorted_disjoint(&rt));
	CHECK_EQ(cdna_rt_insert(&rt, &r[0]), -EEXIST);

	bad = 0;
	for (i = 0; i < BIG; i++) {
		uint64_t end = r[i].gaddr + r[i].size;
		struct cdna_region *next = i + 1 < BIG &&
			r[i + 1].gaddr == end ? &r[i + 1] : NULL;

		bad += cdna_rt_find(&rt, r[i].gaddr) != &r[i];
		bad += cdna_rt_find(&rt, end - 1) != &r[i];
		bad += cdna_rt_find(&rt, r[i].gaddr + r[i].size / 2) != &r[i];
		bad += cdna_rt_find(&rt, end) != next;
		bad += cdna_rt_find_exact(&rt, r[i].gaddr, r[i].size) != &r[i];
	}
	CHECK_EQ(bad, 0);
	CHECK(cdna_rt_find(&rt, 0xfffff) == NULL);

	/* Remove every third region and check the rest still resolve. */
	bad = 0;
	for (i = 0; i < BIG; i += 3)
		bad += cdna_rt_remove(&rt, &r[i]) != 0;
	CHECK_EQ(bad, 0);
	bad = 0;
	for (i = 0; i < BIG; i++) {
		struct cdna_region *want = i % 3 == 0 ? NULL : &r[i];

		bad += cdna_rt_find(&rt, r[i].gaddr) != want;
		bad += cdna_rt_find(&rt, r[i].gaddr + r[i].size - 1) != want;
	}
	CHECK_EQ(bad, 0);
	CHECK(table_sorted_disjoint(&rt));
	cdna_rt_fini(&rt);
	free(r);
	free(order);
}

int
main(void)
{
	test_order();
	test_overlap();
	test_wrap();
	test_limit();
	test_find_remove();
	test_large();
	printf("test_regions: %u cases, %u failed\n", cases, failed);
	return failed == 0 ? 0 : 1;
}
