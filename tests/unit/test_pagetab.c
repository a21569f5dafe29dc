/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The page table of the mapping strategies (nic-rings/pagetab.h): every
 * entry is found after any sequence of inserts and removals, including
 * runs that wrap around the end of the table and removals that must move
 * later entries back (or must not), checked against a plain array model.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pagetab.h"

#define SLOTS	64u		/* small: long runs, wrap-around, many moves */
#define KEYS	2000u		/* page numbers drawn from 0..KEYS-1 */

static struct cdna_page_ent ents[SLOTS];

/* Every key the model holds is found with its refs; none other is. */
static void
check_against(const struct cdna_pagetab *t, const uint32_t *model)
{
	uint32_t k, n = 0, bad = 0;

	for (k = 0; k < KEYS; k++) {
		const struct cdna_page_ent *e = cdna_pagetab_find(t, k);

		if (model[k] != 0) {
			n++;
			bad += e == NULL || e->refs != model[k];
		} else {
			bad += e != NULL;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(t->n, n);
}

static void
test_basic(void)
{
	struct cdna_pagetab t = { ents, SLOTS - 1, 0, 0 };
	struct cdna_page_ent *e;

	memset(ents, 0, sizeof(ents));
	CHECK(cdna_pagetab_find(&t, 7) == NULL);
	e = cdna_pagetab_insert(&t, 7);
	CHECK(e != NULL && e->key1 == 8 && e->refs == 0 && e->state == 0);
	e->refs = 3;
	CHECK(cdna_pagetab_find(&t, 7) == e);
	/* Page 0 is a key like any other (key1 0 means empty). */
	cdna_pagetab_insert(&t, 0)->refs = 1;
	CHECK(cdna_pagetab_find(&t, 0) != NULL);
	cdna_pagetab_remove(&t, e);
	CHECK(cdna_pagetab_find(&t, 7) == NULL);
	CHECK(cdna_pagetab_find(&t, 0) != NULL);
	CHECK_EQ(t.n, 1);
	cdna_pagetab_clear(&t);
	CHECK_EQ(t.n, 0);
	CHECK(cdna_pagetab_find(&t, 0) == NULL);
}

/* Keys that share a home: a run, its removal from the middle and the front. */
static void
test_collisions(void)
{
	struct cdna_pagetab t = { ents, SLOTS - 1, 0, 0 };
	static uint32_t model[KEYS];
	uint32_t same[6], n = 0, k, home0;

	memset(ents, 0, sizeof(ents));
	memset(model, 0, sizeof(model));
	home0 = cdna_pagetab_home(&t, 1);
	for (k = 1; k < KEYS && n < 6; k++)
		if (cdna_pagetab_home(&t, k) == home0)
			same[n++] = k;
	CHECK_EQ(n, 6);
	for (k = 0; k < n; k++) {
		cdna_pagetab_insert(&t, same[k])->refs = k + 1;
		model[same[k]] = k + 1;
	}
	/* One whose home is the slot right after the run's start. */
	for (k = 1; k < KEYS; k++)
		if (cdna_pagetab_home(&t, k) == ((home0 + 1) & t.mask) &&
		    model[k] == 0) {
			cdna_pagetab_insert(&t, k)->refs = 99;
			model[k] = 99;
			break;
		}
	check_against(&t, model);
	cdna_pagetab_remove(&t, cdna_pagetab_find(&t, same[2]));
	model[same[2]] = 0;
	check_against(&t, model);
	cdna_pagetab_remove(&t, cdna_pagetab_find(&t, same[0]));
	model[same[0]] = 0;
	check_against(&t, model);
}

static void
test_random(void)
{
	struct cdna_pagetab t = { ents, SLOTS - 1, 0, 0 };
	static uint32_t model[KEYS];
	uint64_t rng = 0x5eed;
	uint32_t step, live = 0;

	memset(ents, 0, sizeof(ents));
	memset(model, 0, sizeof(model));
	for (step = 0; step < 200000; step++) {
		uint32_t k = (uint32_t)(test_rng(&rng) % KEYS);
		struct cdna_page_ent *e = cdna_pagetab_find(&t, k);

		if ((e != NULL) != (model[k] != 0)) {
			CHECK(!"find disagrees with the model");
			break;
		}
		if (e == NULL && live < SLOTS / 2) {
			e = cdna_pagetab_insert(&t, k);
			e->refs = model[k] = 1 + (uint32_t)(test_rng(&rng) % 5);
			live++;
		} else if (e != NULL) {
			cdna_pagetab_remove(&t, e);
			model[k] = 0;
			live--;
		}
		if (step % 997 == 0)
			check_against(&t, model);
	}
	check_against(&t, model);
}

/* The longest distance from an entry's home to its slot. */
static uint32_t
longest_probe(const struct cdna_pagetab *t)
{
	uint32_t i, d, worst = 0;

	for (i = 0; i <= t->mask; i++) {
		if (t->e[i].key1 == 0)
			continue;
		d = (i - cdna_pagetab_home(t, t->e[i].key1 - 1)) & t->mask;
		if (d > worst)
			worst = d;
	}
	return worst;
}

/*
 * What a guest could do against a public hash: pick half a table's worth
 * of pages whose homes all fall in 8 slots under one seed. In a table with
 * that seed they form one run thousands long; under any other seed they
 * spread, and no lookup walks far.
 */
static void
test_seeded(void)
{
	enum { BIG = 16384, CHOSEN = BIG / 2 };
	static struct cdna_page_ent big[BIG];
	static uint64_t pages[CHOSEN];
	struct cdna_pagetab known = { big, BIG - 1, 0, 0x5eed0fa77ac4e5ull };
	struct cdna_pagetab secret = known;
	uint64_t p;
	uint32_t n = 0, i;

	secret.seed = 0x0123456789abcdefull;
	for (p = 0; n < CHOSEN; p++)
		if (cdna_pagetab_home(&known, p) < 8)
			pages[n++] = p;
	memset(big, 0, sizeof(big));
	for (i = 0; i < CHOSEN; i++)
		cdna_pagetab_insert(&known, pages[i]);
	CHECK(longest_probe(&known) >= CHOSEN - 8);	/* the attack works here */
	memset(big, 0, sizeof(big));
	for (i = 0; i < CHOSEN; i++)
		cdna_pagetab_insert(&secret, pages[i]);
	CHECK(longest_probe(&secret) < 64);
	for (i = 0, n = 0; i < CHOSEN; i++)
		n += cdna_pagetab_find(&secret, pages[i]) != NULL;
	CHECK_EQ(n, CHOSEN);
}

int
main(void)
{
	test_basic();
	test_collisions();
	test_random();
	test_seeded();
	printf("test_pagetab: %u cases, %u failed\n", cases, failed);
	return failed != 0;
}
