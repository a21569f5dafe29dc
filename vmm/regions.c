/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Region table: a sorted array of pointers, searched by bisection, so a
 * lookup costs O(log n) however many regions a guest registers.
 *
 * Invariant kept by cdna_rt_insert: every region has size > 0 and
 * gaddr + size <= UINT64_MAX, so its end is representable and the ranges
 * are pairwise disjoint.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "regions.h"

#define RT_INITIAL_CAP	16u

int
cdna_rt_init(struct cdna_region_table *rt, uint32_t max)
{
	uint32_t cap = max < RT_INITIAL_CAP ? max : RT_INITIAL_CAP;

	memset(rt, 0, sizeof(*rt));
	rt->max = max;
	if (cap == 0)
		return 0;
	rt->v = calloc(cap, sizeof(*rt->v));
	if (rt->v == NULL)
		return -ENOMEM;
	rt->cap = cap;
	return 0;
}

void
cdna_rt_fini(struct cdna_region_table *rt)
{
	free(rt->v);
	rt->v = NULL;
	rt->n = 0;
	rt->cap = 0;
}

/* Index of the first region whose start is above addr (0..n). */
static uint32_t
rt_upper_bound(const struct cdna_region_table *rt, uint64_t addr)
{
	uint32_t lo = 0, hi = rt->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (rt->v[mid]->gaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
rt_grow(struct cdna_region_table *rt)
{
	/* 64-bit arithmetic: doubling a 32-bit capacity must not wrap. */
	uint64_t want = rt->cap != 0 ? (uint64_t)rt->cap * 2 : RT_INITIAL_CAP;
	struct cdna_region **v;

	if (want > rt->max)
		want = rt->max;
	if (want <= rt->cap)
		return -ENOSPC;
	v = realloc(rt->v, (size_t)want * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	rt->v = v;
	rt->cap = (uint32_t)want;
	return 0;
}

int
cdna_rt_insert(struct cdna_region_table *rt, struct cdna_region *r)
{
	uint32_t pos;
	int ret;

	if (r == NULL || r->size == 0)
		return -EINVAL;
	/* Overflow-safe form of gaddr + size > UINT64_MAX. */
	if (r->size > UINT64_MAX - r->gaddr)
		return -EINVAL;

	pos = rt_upper_bound(rt, r->gaddr);
	/*
	 * Only the neighbours can overlap, the ranges being disjoint and
	 * sorted. Both tests subtract the smaller start from the larger, so
	 * nothing can wrap.
	 */
	if (pos > 0) {
		const struct cdna_region *prev = rt->v[pos - 1];

		if (r->gaddr - prev->gaddr < prev->size)
			return -EEXIST;
	}
	if (pos < rt->n) {
		const struct cdna_region *next = rt->v[pos];

		if (next->gaddr - r->gaddr < r->size)
			return -EEXIST;
	}

	if (rt->n >= rt->max)
		return -ENOSPC;
	if (rt->n == rt->cap) {
		ret = rt_grow(rt);
		if (ret != 0)
			return ret;
	}
	memmove(&rt->v[pos + 1], &rt->v[pos],
		(size_t)(rt->n - pos) * sizeof(rt->v[0]));
	rt->v[pos] = r;
	rt->n++;
	rt->gen++;
	return 0;
}

int
cdna_rt_remove(struct cdna_region_table *rt, struct cdna_region *r)
{
	uint32_t pos;

	if (r == NULL)
		return -ENOENT;
	/* r, if present, is the last region starting at or below r->gaddr. */
	pos = rt_upper_bound(rt, r->gaddr);
	if (pos == 0 || rt->v[pos - 1] != r)
		return -ENOENT;
	pos--;
	memmove(&rt->v[pos], &rt->v[pos + 1],
		(size_t)(rt->n - pos - 1) * sizeof(rt->v[0]));
	rt->n--;
	rt->v[rt->n] = NULL;
	rt->gen++;
	return 0;
}

struct cdna_region *
cdna_rt_find(const struct cdna_region_table *rt, uint64_t addr)
{
	uint32_t pos = rt_upper_bound(rt, addr);
	struct cdna_region *r;

	if (pos == 0)
		return NULL;
	r = rt->v[pos - 1];
	/* r->gaddr <= addr here, so the subtraction cannot wrap. */
	if (addr - r->gaddr >= r->size)
		return NULL;
	return r;
}

struct cdna_region *
cdna_rt_find_exact(const struct cdna_region_table *rt, uint64_t gaddr,
		   uint64_t size)
{
	struct cdna_region *r = cdna_rt_find(rt, gaddr);

	if (r == NULL || r->gaddr != gaddr || r->size != size)
		return NULL;
	return r;
}
