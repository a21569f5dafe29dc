/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated IOMMU: argument checks, translation across pages and at
 * their edges, permissions, host contiguity, domains kept apart, the IOTLB
 * (hits, stale entries until invalidated, prefetch hints that leave it
 * alone), the Table 2 cost model, table memory returned, and a random run
 * against a plain model of what must translate.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdna_abi.h"
#include "check.h"
#include "iommu.h"
#include "nic.h"

#define PG	CDNA_IOMMU_PAGE
#define TX	CDNA_DIR_TX
#define RX	CDNA_DIR_RX
#define RW	CDNA_PERM_KNOWN

/* Host memory the tests map: page-aligned. */
static uint8_t *
host_pages(unsigned int n)
{
	uint8_t *p = aligned_alloc(PG, (size_t)n * PG);

	if (p == NULL) {
		fprintf(stderr, "test_iommu: out of memory\n");
		exit(1);
	}
	memset(p, 0, (size_t)n * PG);
	return p;
}

static void
test_args(void)
{
	struct cdna_iommu *m;
	struct cdna_iommu_domain *d;
	uint8_t *h = host_pages(2);

	CHECK(cdna_iommu_create(0, NULL) == NULL);
	CHECK(cdna_iommu_create(48, NULL) == NULL);	/* not a power of two */
	CHECK(cdna_iommu_create(CDNA_IOMMU_IOTLB_MAX * 2, NULL) == NULL);
	m = cdna_iommu_create(64, NULL);
	CHECK(m != NULL);
	d = cdna_iommu_domain_new(m);
	CHECK(d != NULL);
	CHECK_EQ(cdna_iommu_map(d, 0x10000, h, 0, RW), -EINVAL);
	CHECK_EQ(cdna_iommu_map(d, 0x10000, h, PG, 0), -EINVAL);
	CHECK_EQ(cdna_iommu_map(d, 0x10000, h, PG, 0x4), -EINVAL);
	CHECK_EQ(cdna_iommu_map(d, 0x10001, h, PG, RW), -EINVAL);	/* offsets differ */
	CHECK_EQ(cdna_iommu_map(d, UINT64_MAX - 10, h + 4085, 100, RW), -EINVAL);	/* wraps */
	CHECK_EQ(cdna_iommu_map(d, 1ull << 48, h, PG, RW), -EINVAL);	/* past 48 bits */
	CHECK_EQ(cdna_iommu_map(d, (1ull << 48) - PG, h, PG + 1, RW), -EINVAL);
	CHECK_EQ(cdna_iommu_map(d, (1ull << 48) - PG, h, PG, RW), 0);	/* the last page */
	CHECK(cdna_iommu_xlate(d, (1ull << 48) - 1, 1, TX) == h + PG - 1);
	CHECK(cdna_iommu_xlate(d, (1ull << 48) - 1, 2, TX) == NULL);
	CHECK(cdna_iommu_xlate(d, UINT64_MAX, 1, TX) == NULL);
	CHECK(cdna_iommu_xlate(d, UINT64_MAX - 3, 8, TX) == NULL);
	CHECK(cdna_iommu_cost_model("vt-d") != NULL);
	CHECK(cdna_iommu_cost_model("none") != NULL);
	CHECK(cdna_iommu_cost_model("VT-D") == NULL);
	cdna_iommu_domain_free(d);
	cdna_iommu_destroy(m);
	free(h);
}

static void
test_translate(void)
{
	struct cdna_iommu *m = cdna_iommu_create(64, NULL);
	struct cdna_iommu_domain *d = cdna_iommu_domain_new(m);
	uint8_t *h = host_pages(4), *ro = host_pages(1), *wo = host_pages(1);
	const uint64_t io = 0x7f0000200000ull;

	/* Three pages, mapped from the middle of the first. */
	CHECK_EQ(cdna_iommu_map(d, io + 100, h + 100, 3 * PG - 100, RW), 0);
	CHECK(cdna_iommu_xlate(d, io, 64, TX) == h);	/* whole pages map */
	CHECK(cdna_iommu_xlate(d, io + 4000, 200, RX) == h + 4000);	/* across a page */
	CHECK(cdna_iommu_xlate(d, io + 3 * PG - 1, 1, TX) == h + 3 * PG - 1);
	CHECK(cdna_iommu_xlate(d, io + 3 * PG - 1, 2, TX) == NULL);	/* one past */
	CHECK(cdna_iommu_xlate(d, io + 3 * PG, 1, TX) == NULL);
	CHECK(cdna_iommu_xlate(d, io - 1, 2, TX) == NULL);	/* one before */
	CHECK(cdna_iommu_xlate(d, io, 3 * PG, RX) == h);
	CHECK(cdna_iommu_xlate(d, io + 10, 0, TX) == h + 10);	/* empty: its page */
	/* Permissions from the device's side. */
	CHECK_EQ(cdna_iommu_map(d, 0x100000, ro, PG, CDNA_PERM_DEV_READ), 0);
	CHECK_EQ(cdna_iommu_map(d, 0x200000, wo, PG, CDNA_PERM_DEV_WRITE), 0);
	CHECK(cdna_iommu_xlate(d, 0x100000, 60, TX) == ro);
	CHECK(cdna_iommu_xlate(d, 0x100000, 60, RX) == NULL);
	CHECK(cdna_iommu_xlate(d, 0x200000, 60, RX) == wo);
	CHECK(cdna_iommu_xlate(d, 0x200000, 60, TX) == NULL);
	/* Two pages not adjacent in host memory: each alone, never both. */
	CHECK_EQ(cdna_iommu_map(d, 0x300000, h + 3 * PG, PG, RW), 0);
	CHECK_EQ(cdna_iommu_map(d, 0x301000, h, PG, RW), 0);
	CHECK(cdna_iommu_xlate(d, 0x300ff0, 16, TX) == h + 3 * PG + 0xff0);
	CHECK(cdna_iommu_xlate(d, 0x301000, 16, TX) == h);
	CHECK(cdna_iommu_xlate(d, 0x300ff0, 32, TX) == NULL);
	/* Remapping a page points it elsewhere (after invalidation). */
	CHECK_EQ(cdna_iommu_map(d, 0x301000, h + 2 * PG, PG, RW), 0);
	cdna_iommu_invalidate(d, 0x301000, 1);
	CHECK(cdna_iommu_xlate(d, 0x301000, 16, TX) == h + 2 * PG);
	cdna_iommu_domain_free(d);
	cdna_iommu_destroy(m);
	free(h);
	free(ro);
	free(wo);
}

static void
test_iotlb(void)
{
	struct cdna_iommu *m = cdna_iommu_create(64, NULL);
	struct cdna_iommu_domain *a = cdna_iommu_domain_new(m);
	struct cdna_iommu_domain *b = cdna_iommu_domain_new(m);
	struct cdna_iommu_stats s0, s1;
	uint8_t *h = host_pages(2);

	CHECK_EQ(cdna_iommu_domain_bytes(a), PG);	/* the root alone */
	CHECK_EQ(cdna_iommu_map(a, 0x40000, h, 2 * PG, RW), 0);
	CHECK_EQ(cdna_iommu_domain_bytes(a), 4 * PG);	/* and one table a level */
	cdna_iommu_stats(m, &s0);
	CHECK(cdna_iommu_xlate(a, 0x40000, 64, TX) == h);
	CHECK(cdna_iommu_xlate(a, 0x40010, 64, TX) == h + 0x10);
	cdna_iommu_stats(m, &s1);
	CHECK_EQ(s1.iotlb_misses - s0.iotlb_misses, 1);
	CHECK_EQ(s1.iotlb_hits - s0.iotlb_hits, 1);
	CHECK_EQ(s1.translations - s0.translations, 2);
	/* The same IOVA in another domain: nothing, whatever A has cached. */
	CHECK(cdna_iommu_xlate(b, 0x40000, 64, TX) == NULL);
	cdna_iommu_stats(m, &s1);
	CHECK_EQ(s1.faults - s0.faults, 1);

	/* Unmapped but not invalidated: the cached page still translates. */
	CHECK_EQ(cdna_iommu_unmap(a, 0x40000, 2 * PG), 2);
	CHECK(cdna_iommu_xlate(a, 0x40000, 64, TX) == h);	/* stale, as on hardware */
	CHECK(cdna_iommu_xlate(a, 0x41000, 64, TX) == NULL);	/* never cached */
	cdna_iommu_invalidate(a, 0x40000, 1);
	CHECK(cdna_iommu_xlate(a, 0x40000, 64, TX) == NULL);

	/* unmap_flush leaves nothing behind. */
	CHECK_EQ(cdna_iommu_map(a, 0x40000, h, PG, RW), 0);
	CHECK(cdna_iommu_xlate(a, 0x40000, 64, TX) == h);
	CHECK_EQ(cdna_iommu_unmap_flush(a, 0x40000, PG), 1);
	CHECK(cdna_iommu_xlate(a, 0x40000, 64, TX) == NULL);

	/* Invalidating a domain or everything drops its cached pages. */
	CHECK_EQ(cdna_iommu_map(a, 0x40000, h, PG, RW), 0);
	CHECK_EQ(cdna_iommu_map(b, 0x40000, h + PG, PG, RW), 0);
	CHECK(cdna_iommu_xlate(a, 0x40000, 8, TX) == h);
	CHECK(cdna_iommu_xlate(b, 0x40000, 8, TX) == h + PG);
	cdna_iommu_unmap(a, 0x40000, PG);
	cdna_iommu_unmap(b, 0x40000, PG);
	cdna_iommu_invalidate_domain(a);
	CHECK(cdna_iommu_xlate(a, 0x40000, 8, TX) == NULL);
	CHECK(cdna_iommu_xlate(b, 0x40000, 8, TX) == h + PG);	/* B's stale entry stays */
	cdna_iommu_invalidate_all(m);
	CHECK(cdna_iommu_xlate(b, 0x40000, 8, TX) == NULL);

	/* A prefetch hint reads the tables only: no counter, no IOTLB fill. */
	CHECK_EQ(cdna_iommu_map(a, 0x50000, h, PG, RW), 0);
	cdna_iommu_stats(m, &s0);
	CHECK(cdna_iommu_xlate(a, 0x50000, 8, TX | CDNA_NIC_XLATE_PREFETCH) == h);
	CHECK(cdna_iommu_xlate(a, 0x60000, 8, TX | CDNA_NIC_XLATE_PREFETCH) == NULL);
	cdna_iommu_stats(m, &s1);
	CHECK(memcmp(&s0, &s1, sizeof(s0)) == 0);
	cdna_iommu_unmap(a, 0x50000, PG);
	CHECK(cdna_iommu_xlate(a, 0x50000, 8, TX) == NULL);	/* was never cached */

	cdna_iommu_domain_free(a);
	cdna_iommu_domain_free(b);
	cdna_iommu_stats(m, &s1);
	CHECK_EQ(s1.table_pages, 0);
	cdna_iommu_destroy(m);
	free(h);
}

/*
 * With one IOTLB entry every lookup shares it: a domain never hits on
 * another's page, and a freed domain's cached pages go with it.
 */
static void
test_domain_free(void)
{
	struct cdna_iommu *m = cdna_iommu_create(1, NULL);	/* one entry */
	struct cdna_iommu_domain *a = cdna_iommu_domain_new(m), *b;
	uint8_t *h = host_pages(1);

	CHECK_EQ(cdna_iommu_map(a, 0x9000, h, PG, RW), 0);
	CHECK(cdna_iommu_xlate(a, 0x9000, 8, RX) == h);
	/* One IOTLB entry: B's lookup lands on A's cached page, and must miss. */
	b = cdna_iommu_domain_new(m);
	CHECK(cdna_iommu_xlate(b, 0x9000, 8, RX) == NULL);
	CHECK(cdna_iommu_xlate(a, 0x9000, 8, RX) == h);
	cdna_iommu_domain_free(b);
	cdna_iommu_domain_free(a);
	b = cdna_iommu_domain_new(m);
	CHECK(cdna_iommu_xlate(b, 0x9000, 8, RX) == NULL);
	cdna_iommu_domain_free(b);
	cdna_iommu_destroy(m);
	free(h);
}

/*
 * Tables outlive unmapping; pruning a range gives back those that map
 * nothing, and only those: a guest adding and deleting regions at ever
 * new addresses must not grow the vmm's tables without end.
 */
static void
test_prune(void)
{
	struct cdna_iommu *m = cdna_iommu_create(16, NULL);
	struct cdna_iommu_domain *d = cdna_iommu_domain_new(m);
	struct cdna_iommu_stats st;
	uint8_t *h = host_pages(2);
	const uint64_t top = (1ull << CDNA_IOMMU_VA_BITS) - PG;
	uint64_t k, a;

	/* Churn across the whole address space: one root left each time. */
	for (k = 0; k < 512; k += 3) {
		a = k << 39 | (k & 7) << 30 | (k & 31) << 21;
		CHECK_EQ(cdna_iommu_map(d, a, h, PG, RW), 0);
		CHECK_EQ(cdna_iommu_domain_bytes(d), 4 * PG);
		CHECK_EQ(cdna_iommu_unmap_flush(d, a, PG), 1);
		CHECK_EQ(cdna_iommu_domain_bytes(d), 4 * PG);	/* unmap keeps them */
		CHECK_EQ(cdna_iommu_prune(d, a, PG), 3);
		CHECK_EQ(cdna_iommu_domain_bytes(d), PG);
	}
	cdna_iommu_stats(m, &st);
	CHECK_EQ(st.table_pages, 1);

	/* Two pages in one leaf table: pruning one keeps the other's path. */
	CHECK_EQ(cdna_iommu_map(d, 0x200000, h, 2 * PG, RW), 0);
	CHECK_EQ(cdna_iommu_unmap(d, 0x200000, PG), 1);
	CHECK_EQ(cdna_iommu_prune(d, 0x200000, PG), 0);
	CHECK(cdna_iommu_xlate(d, 0x201000, 8, RX) == h + PG);
	/* A mapped range prunes to nothing and still translates. */
	CHECK_EQ(cdna_iommu_prune(d, 0, 1ull << 30), 0);
	CHECK(cdna_iommu_xlate(d, 0x201010, 8, TX) == h + PG + 0x10);

	/* A range over two subtrees: only the empty one goes. */
	CHECK_EQ(cdna_iommu_map(d, top, h, PG, RW), 0);
	CHECK_EQ(cdna_iommu_domain_bytes(d), 7 * PG);
	CHECK_EQ(cdna_iommu_unmap(d, top, PG), 1);
	CHECK_EQ(cdna_iommu_prune(d, 0, top + PG), 3);
	CHECK(cdna_iommu_xlate(d, 0x201000, 8, RX) == h + PG);
	CHECK(cdna_iommu_xlate(d, top, 8, RX) == NULL);
	CHECK_EQ(cdna_iommu_unmap(d, 0x201000, PG), 1);
	CHECK_EQ(cdna_iommu_prune(d, 0x201000, PG), 3);
	CHECK_EQ(cdna_iommu_domain_bytes(d), PG);

	/* Ranges it cannot name: nothing. */
	CHECK_EQ(cdna_iommu_prune(d, 0, 0), 0);
	CHECK_EQ(cdna_iommu_prune(d, top, 2 * PG), 0);
	CHECK_EQ(cdna_iommu_prune(NULL, 0, PG), 0);
	cdna_iommu_domain_free(d);
	cdna_iommu_stats(m, &st);
	CHECK_EQ(st.table_pages, 0);
	cdna_iommu_destroy(m);
	free(h);
}

static void
test_cost(void)
{
	const struct cdna_iommu_cost *gart = cdna_iommu_cost_model("gart");
	struct cdna_iommu *m = cdna_iommu_create(64, gart);
	struct cdna_iommu_domain *d = cdna_iommu_domain_new(m);
	struct cdna_iommu_stats s;
	uint8_t *h = host_pages(2);

	CHECK_EQ(gart->pt_update, 27);
	CHECK_EQ(gart->iotlb_flush, 486);
	CHECK_EQ(gart->update_and_flush, 579);
	CHECK_EQ(cdna_iommu_cost_model("calgary")->iotlb_flush, 10207);
	CHECK_EQ(cdna_iommu_cost_model("vt-d")->update_and_flush, 2213);
	CHECK_EQ(cdna_iommu_map(d, 0x1000, h, 2 * PG, RW), 0);	/* 2 updates */
	cdna_iommu_invalidate(d, 0x1000, 1);			/* 1 flush */
	CHECK_EQ(cdna_iommu_unmap_flush(d, 0x1000, 2 * PG), 2);	/* 2 of both */
	cdna_iommu_stats(m, &s);
	CHECK_EQ(s.cycles_charged, 2 * 27 + 486 + 2 * 579);
	CHECK_EQ(s.pt_updates, 4);
	cdna_iommu_domain_free(d);
	cdna_iommu_destroy(m);
	free(h);
}

/*
 * Random maps, unmap_flushes and translations over 64 pages of two
 * domains, against a plain table of what is mapped: with every change
 * invalidated, a translation must answer exactly what the table says.
 */
static void
test_random(void)
{
	enum { NP = 64, OPS = 20000 };
	struct cdna_iommu *m = cdna_iommu_create(16, NULL);
	struct cdna_iommu_domain *d[2] = { cdna_iommu_domain_new(m),
					   cdna_iommu_domain_new(m) };
	uint8_t *h = host_pages(NP);
	int model[2][NP];	/* host page index, or -1 */
	uint32_t perm[2][NP];
	uint64_t rng = 0x1234567u;
	unsigned int i, k, bad = 0;

	memset(model, 0xff, sizeof(model));
	for (i = 0; i < OPS; i++) {
		uint64_t r = test_rng(&rng);
		unsigned int dom = r & 1, p = (r >> 1) % NP, op = (r >> 8) % 5;
		unsigned int hp = (r >> 16) % NP, dir = (r >> 24) & 1;
		unsigned int np = 1 + (unsigned int)((r >> 56) % 8);
		uint32_t pm = 1 + (uint32_t)((r >> 32) % 3);
		uint64_t io = 0x100000 + (uint64_t)p * PG;
		uint32_t off = (uint32_t)((r >> 40) % PG), len = 1 + (uint32_t)((r >> 52) % 256);
		void *got, *want = NULL;

		switch (op) {
		case 0:
			CHECK_EQ(cdna_iommu_map(d[dom], io, h + (size_t)hp * PG, PG, pm), 0);
			/* A remap lingers in the IOTLB until invalidated. */
			cdna_iommu_invalidate(d[dom], io, PG);
			model[dom][p] = (int)hp;
			perm[dom][p] = pm;
			break;
		case 1:
			cdna_iommu_unmap_flush(d[dom], io, PG);
			model[dom][p] = -1;
			break;
		case 2:
			/* Frees only what maps nothing: the model is unchanged. */
			cdna_iommu_prune(d[dom], io, (uint64_t)np * PG);
			break;
		default:
			got = cdna_iommu_xlate(d[dom], io + off, len, dir ? RX : TX);
			if (model[dom][p] >= 0 &&
			    (perm[dom][p] & (dir ? CDNA_PERM_DEV_WRITE : CDNA_PERM_DEV_READ))) {
				want = h + (size_t)model[dom][p] * PG + off;
				/* Spilling into the next page: it must continue the host range. */
				if (off + len > PG) {
					k = p + 1;
					if (k >= NP || model[dom][k] != model[dom][p] + 1 ||
					    !(perm[dom][k] & (dir ? CDNA_PERM_DEV_WRITE :
							      CDNA_PERM_DEV_READ)))
						want = NULL;
				}
			}
			if (got != want)
				bad++;
			break;
		}
	}
	CHECK_EQ(bad, 0);
	cdna_iommu_domain_free(d[0]);
	cdna_iommu_domain_free(d[1]);
	cdna_iommu_destroy(m);
	free(h);
}

int
main(void)
{
	test_args();
	test_translate();
	test_iotlb();
	test_domain_free();
	test_prune();
	test_cost();
	test_random();
	printf("test_iommu: %u cases, %u failed\n", cases, failed);
	return failed == 0 ? 0 : 1;
}
