/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A table of pages with a reference count and a word of state each: what
 * the mapping strategies hold, on the mediator's side (vmm/iomap.c) and on
 * the guest's (guest-pmd/cdna_map.c). Open addressing with linear probing
 * and deletion by backward shift, so lookups never meet tombstones. The
 * caller keeps it at most half full (a full table would never end a probe)
 * and bounds what goes in; an entry's slot changes only when an entry is
 * removed. Header only, no allocation, no DPDK: both sides and the unit
 * test use the same code.
 *
 * The slot a page starts from is keyed by a secret seed: page numbers are
 * the guest's to choose, and with a public hash a guest could choose
 * thousands that share one probe run and make every lookup of the
 * mediator's table walk it. The vmm draws a seed per table.
 */
#ifndef CDNA_PAGETAB_H
#define CDNA_PAGETAB_H

#include <stdint.h>
#include <string.h>

struct cdna_page_ent {
	uint64_t key1;		/* page number + 1; 0: an empty slot */
	uint32_t refs;
	uint32_t state;		/* the user's */
};

struct cdna_pagetab {
	struct cdna_page_ent *e;	/* mask + 1 slots, zeroed */
	uint32_t mask;
	uint32_t n;			/* entries in use */
	uint64_t seed;			/* keys the hash; any value, kept secret */
};

static inline uint32_t
cdna_pagetab_home(const struct cdna_pagetab *t, uint64_t page)
{
	/*
	 * The seeded page through a 64-bit finalizer (MurmurHash3's): every
	 * bit of both reaches the low bits taken, so without the seed no
	 * choice of pages lands them together.
	 */
	uint64_t x = page ^ t->seed;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x & t->mask;
}

static inline struct cdna_page_ent *
cdna_pagetab_find(const struct cdna_pagetab *t, uint64_t page)
{
	uint32_t i = cdna_pagetab_home(t, page);

	for (;; i = (i + 1) & t->mask) {
		if (t->e[i].key1 == 0)
			return NULL;
		if (t->e[i].key1 == page + 1)
			return &t->e[i];
	}
}

/* page must be absent and the table below half full. refs and state 0. */
static inline struct cdna_page_ent *
cdna_pagetab_insert(struct cdna_pagetab *t, uint64_t page)
{
	uint32_t i = cdna_pagetab_home(t, page);

	while (t->e[i].key1 != 0)
		i = (i + 1) & t->mask;
	t->e[i].key1 = page + 1;
	t->e[i].refs = 0;
	t->e[i].state = 0;
	t->n++;
	return &t->e[i];
}

/*
 * Later entries of the probe run move back into the hole, each unless its
 * home lies cyclically in (hole, its slot]: it could not be found there.
 */
static inline void
cdna_pagetab_remove(struct cdna_pagetab *t, struct cdna_page_ent *ent)
{
	uint32_t hole = (uint32_t)(ent - t->e), i = hole;

	for (;;) {
		uint32_t home;

		i = (i + 1) & t->mask;
		if (t->e[i].key1 == 0)
			break;
		home = cdna_pagetab_home(t, t->e[i].key1 - 1);
		if (((i - home) & t->mask) >= ((i - hole) & t->mask)) {
			t->e[hole] = t->e[i];
			hole = i;
		}
	}
	memset(&t->e[hole], 0, sizeof(t->e[hole]));
	t->n--;
}

static inline void
cdna_pagetab_clear(struct cdna_pagetab *t)
{
	memset(t->e, 0, ((size_t)t->mask + 1) * sizeof(*t->e));
	t->n = 0;
}

#endif /* CDNA_PAGETAB_H */
