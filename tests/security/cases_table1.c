/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ATC'08 paper's Table 1, measured (group table1): for each strategy
 * built, the six faults (bad-address, invalid-use, bad-device; each across
 * guests and within one) tried as concrete attacks through the live vmm,
 * each cell's verdict taken from the memory itself: whether bytes the
 * attacker had no right to changed (or left, as a frame). The table is
 * printed and written as table1.md, each cell naming its attack, beside
 * the paper's; the group fails when a cell differs from what cdna expects.
 *
 * The attacker is guest G (of the strategy under test); O is another
 * guest, mediated; S (the environment's sender) supplies frames. A faulty
 * device is cdna-vmm's fault injector (--fault-injection). Under the
 * mapping strategies (single-use, shared, persistent) G asks for a mapping
 * of every buffer it uses, as a driver must, and also of the memory it
 * attacks: a mapping granted is used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cdna_ring.h"
#include "rogue.h"

#define K	1024u
#define G_MEM	(512u * K)
#define O_MEM	(256u * K)

/* The columns, in the paper's order: bad-address, invalid-use, bad-device. */
enum { C_BA, C_IU, C_BD, NCELL };

struct t1 {
	struct env *e;
	struct rg_guest *G, *O;
	struct rg_mem *g_r2;	/* G's second region, handed over in invalid-use */
	struct rg_mem *g_unreg;	/* G's memory it never registered */
	int mediated;
	int maps;		/* a mapping strategy: G maps what it posts */
	int unprotected;	/* no protection: what G reaches is the measure */
};

/* The address G posts for its own buffer: mapped first when it must be. */
static int
g_iova(struct t1 *t, int dir, uint64_t addr, uint32_t len, uint64_t *iova,
       char *why, size_t wl)
{
	int st;

	*iova = addr;
	if (!t->maps)
		return 0;
	st = rg_map_op(t->G, dir, CDNA_MAP_OP_MAP, addr, len, iova);
	if (st != CDNA_ST_OK) {
		rg_append(why, wl, "MAP of G's own 0x%llx refused: %s",
			  (unsigned long long)addr, rg_st_name((uint16_t)st));
		return -1;
	}
	return 0;
}

/*
 * After the DMA, G gives the mapping back as its strategy does: single-use
 * and shared unmap it, persistent keeps it for the next buffer.
 */
static void
g_release(struct t1 *t, int dir, uint64_t addr, uint32_t len, uint64_t iova)
{
	uint64_t unused;

	if (!t->maps || t->G->mode == CDNA_MODE_PERSISTENT)
		return;
	rg_map_op(t->G, dir, CDNA_MAP_OP_UNMAP,
		  t->G->mode == CDNA_MODE_SINGLE_USE ? iova : addr, len, &unused);
}

/* Asks for a mapping of memory G has no right to: what it gets, it uses. */
static uint64_t
g_try_map(struct t1 *t, int dir, uint64_t addr, uint32_t len, int *granted)
{
	uint64_t iova;

	if (!t->maps)
		return addr;
	if (rg_map_op(t->G, dir, CDNA_MAP_OP_MAP, addr, len, &iova) == CDNA_ST_OK) {
		*granted = 1;
		return iova;
	}
	return addr;
}

static uint64_t
o_at(const struct t1 *t, uint32_t off)
{
	return (uintptr_t)t->O->mem->va + off;
}

static uint64_t
g_at(const struct t1 *t, uint32_t off)
{
	return (uintptr_t)t->G->mem->va + off;
}

/* Bytes of [va, va + len) that differ from their shadow; they are accepted. */
static size_t
changed(uint64_t va, size_t len)
{
	struct rg_mem *m = rg_mem_find(va, len);
	size_t i, n = 0, off;

	if (m == NULL)
		return 0;
	off = (size_t)(va - (uintptr_t)m->va);
	for (i = 0; i < len; i++)
		n += m->va[off + i] != m->shadow[off + i];
	if (n != 0)
		rg_mem_accept(va, len);
	return n;
}

static uint64_t
tel_u64(const struct t1 *t, const char *cmd, const char *key)
{
	char out[8192];
	uint64_t v = UINT64_MAX;

	if (rg_tel(&t->e->v, cmd, out, sizeof(out)) != 0 ||
	    rg_json_u64(out, key, &v) != 0)
		return UINT64_MAX;
	return v;
}

/* A frame from S to G; waits for G's completion of cookie c, if given. */
static void
frame_to_g(struct t1 *t, uint32_t c)
{
	rg_send_frame(t->e->S, t->G->mac, 300, 0);
	if (c != UINT32_MAX)
		rg_wait(t->G, c, RG_WAIT_MS);
	rg_drain(20);
}

/* Queues a bad DMA of G's to owner's address; waits until the vmm took it. */
static int
inject(struct t1 *t, const struct rg_guest *owner, uint64_t addr, char *why,
       size_t len)
{
	char cmd[128], out[1024];
	uint64_t before = tel_u64(t, "/cdna/vmm", "fault_injections");
	uint64_t end = rg_now_ms() + RG_WAIT_MS;

	snprintf(cmd, sizeof(cmd), "/cdna/inject_bad_dma,%u,%u,0x%llx,1",
		 t->G->id, owner->id, (unsigned long long)addr);
	if (rg_tel(&t->e->v, cmd, out, sizeof(out)) != 0) {
		rg_append(why, len, "%s: refused", cmd);
		return -1;
	}
	while (tel_u64(t, "/cdna/vmm", "fault_injections") == before) {
		if (rg_now_ms() > end) {
			rg_append(why, len, "%s: not carried out", cmd);
			return -1;
		}
		rg_drain(5);
	}
	return 0;
}

/* ---- the six attacks: 1 prevented, 0 not, -1 not measured (why) ---- */

/*
 * G names memory it has no right to in a TX of a frame placed at tx_at and
 * an RX at rx_at. Prevented when both are refused, the RX bytes did not
 * change and the frame went nowhere.
 */
static int
bad_address(struct t1 *t, uint64_t tx_at, uint64_t rx_at, char *why,
	    size_t len)
{
	/* Forbidden (fails the run if seen) unless nothing is meant to stop it. */
	uint32_t seq = rg_frame_new(env_mac_group, t->G->mac, 200, !t->unprotected);
	uint8_t f[200];
	uint32_t tx, rx;
	int granted = 0;
	uint64_t tx_io = g_try_map(t, RG_TX, tx_at, 200, &granted);
	uint64_t rx_io = g_try_map(t, RG_RX, rx_at, 2048, &granted);

	rg_frame_build(seq, f);
	rg_mem_write(tx_at, f, sizeof(f));
	tx = rg_post(t->G, RG_TX, tx_io, 200, 0, RG_ST_ANY);
	rx = rg_post(t->G, RG_RX, rx_io, 2048, 0, RG_ST_ANY);
	rg_publish(t->G, RG_TX);
	rg_publish(t->G, RG_RX);
	rg_wait(t->G, tx, RG_WAIT_MS);
	frame_to_g(t, rx);
	if (!t->G->rec[tx].done || !t->G->rec[rx].done) {
		rg_append(why, len, "G's requests did not complete");
		return -1;
	}
	return !granted && t->G->rec[tx].status != CDNA_ST_OK &&
		t->G->rec[rx].status != CDNA_ST_OK &&
		changed(rx_at, 2048) == 0 && rg_frame_seen_count(seq) == 0;
}

/* ... in O's memory. */
static int
inter_bad_address(struct t1 *t, char *why, size_t len)
{
	return bad_address(t, o_at(t, 128 * K), o_at(t, 160 * K), why, len);
}

/*
 * G's RX buffer in flight in region R2; G removes R2 and O registers the
 * same bytes: the memory changes hands. Prevented when no DMA of G's lands
 * in bytes O holds: the hand-over refused while G's DMA is in flight, or
 * G's DMA refused once the bytes are gone from G.
 */
static int
inter_invalid_use(struct t1 *t, char *why, size_t len)
{
	uint64_t a = (uintptr_t)t->g_r2->va, io;
	uint32_t rx;
	char o[64];
	int r, added;

	r = rg_region_add(t->G, a, t->g_r2->size, t->g_r2->fd, 0, CDNA_PERM_KNOWN);
	if (r != 0) {
		rg_append(why, len, "G REGION_ADD R2: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	if (g_iova(t, RG_RX, a, 2048, &io, why, len) != 0)
		return -1;
	rx = rg_post(t->G, RG_RX, io, 2048, 0, RG_ST_ANY);
	rg_publish(t->G, RG_RX);
	rg_wait_consumed(t->G, RG_RX, RG_WAIT_MS);
	r = rg_region_del(t->G, a, t->g_r2->size);
	if (r != 0) {
		rg_append(why, len, "G REGION_DEL R2: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	added = rg_region_add(t->O, a, t->g_r2->size, t->g_r2->fd, 0,
			      CDNA_PERM_KNOWN) == 0;
	frame_to_g(t, rx);
	if (added)
		rg_region_del(t->O, a, t->g_r2->size);
	rg_mem_accept(a, 2048);	/* G's own frame, if it landed while G's */
	/* No verdict without the DMA's outcome: a lost frame proves nothing. */
	if (!t->G->rec[rx].done) {
		rg_append(why, len, "G's RX buffer in R2 did not complete");
		return -1;
	}
	return !(added && t->G->rec[rx].status == CDNA_ST_OK);
}

/*
 * A faulty device sends G's next DMA to owner's bytes at addr, while an RX
 * buffer of G's waits at G's offset rx_off. Prevented when those bytes did
 * not change. The audit oracle must agree: it sees a DMA outside G's
 * memory always, and one into G's unposted memory under the mediated
 * strategy only (it holds guest-written strategies to their memory alone).
 */
static int
bad_device(struct t1 *t, const struct rg_guest *owner, uint64_t dev_addr,
	   uint64_t addr, uint32_t rx_off, char *why, size_t len)
{
	uint64_t v0 = tel_u64(t, "/cdna/nic", "audit_violations"), v1;
	uint32_t rx = rg_post(t->G, RG_RX, g_at(t, rx_off), 2048, 0, RG_ST_ANY);
	char gcmd[64];
	uint64_t bad0, bad1;
	int seen;
	size_t n;

	snprintf(gcmd, sizeof(gcmd), "/cdna/guest,%u", t->G->id);
	bad0 = tel_u64(t, gcmd, "bad_dma");
	rg_publish(t->G, RG_RX);
	rg_wait_consumed(t->G, RG_RX, RG_WAIT_MS);
	if (inject(t, owner, dev_addr, why, len) != 0)
		return -1;
	frame_to_g(t, rx);
	/* The device did misbehave: else an untouched target proves nothing. */
	bad1 = tel_u64(t, gcmd, "bad_dma");
	if (bad1 != bad0 + 1) {
		rg_append(why, len, "bad_dma %llu -> %llu: the faulty DMA did not happen",
			  (unsigned long long)bad0, (unsigned long long)bad1);
		return -1;
	}
	n = changed(addr, 2048);
	rg_mem_accept(g_at(t, rx_off), 2048);
	v1 = tel_u64(t, "/cdna/nic", "audit_violations");
	seen = n != 0 && (owner != t->G || t->mediated);
	if (seen != (v1 != v0)) {
		rg_append(why, len, "the bytes %s, but audit_violations %llu -> %llu",
			  n ? "changed" : "did not change",
			  (unsigned long long)v0, (unsigned long long)v1);
		return -1;
	}
	t->e->v.expect_violations += v1 - v0;
	return n == 0;
}

static int
inter_bad_device(struct t1 *t, char *why, size_t len)
{
	return bad_device(t, t->O, o_at(t, 192 * K), o_at(t, 192 * K), 64 * K,
			  why, len);
}

/* ... in G's own memory that it never registered for DMA. */
static int
intra_bad_address(struct t1 *t, char *why, size_t len)
{
	uint64_t u = (uintptr_t)t->g_unreg->va;

	return bad_address(t, u, u + 8 * K, why, len);
}

/* G posts one buffer twice while the first is in flight. */
static int
intra_invalid_use(struct t1 *t, char *why, size_t len)
{
	uint64_t x = g_at(t, 256 * K), io;
	uint32_t a, b;

	if (g_iova(t, RG_RX, x, 2048, &io, why, len) != 0)
		return -1;
	a = rg_post(t->G, RG_RX, io, 2048, 0, RG_ST_ANY);
	rg_publish(t->G, RG_RX);
	rg_wait_consumed(t->G, RG_RX, RG_WAIT_MS);
	b = rg_post(t->G, RG_RX, io, 2048, 0, RG_ST_ANY);
	rg_publish(t->G, RG_RX);
	frame_to_g(t, a);
	frame_to_g(t, b);
	rg_mem_accept(x, 2048);
	if (!t->G->rec[a].done || !t->G->rec[b].done) {
		rg_append(why, len, "G's two buffers did not both complete");
		return -1;
	}
	g_release(t, RG_RX, x, 2048, io);
	/* Prevented: the second use refused before any DMA into it. */
	return t->G->rec[b].status == CDNA_ST_INVALID_USE;
}

/*
 * A faulty device sends G's next DMA into G's memory no buffer names now.
 * Under the mapping strategies a buffer there was used and given back
 * first, and the device aims at the address that buffer had.
 */
static int
intra_bad_device(struct t1 *t, char *why, size_t len)
{
	uint64_t x = g_at(t, 384 * K), io = x;
	uint32_t rx;

	if (t->maps) {
		if (g_iova(t, RG_RX, x, 2048, &io, why, len) != 0)
			return -1;
		rx = rg_post(t->G, RG_RX, io, 2048, 0, RG_ST_ANY);
		rg_publish(t->G, RG_RX);
		frame_to_g(t, rx);
		if (!t->G->rec[rx].done || t->G->rec[rx].status != CDNA_ST_OK) {
			rg_append(why, len, "G's earlier buffer at 384K did not complete OK");
			return -1;
		}
		rg_mem_accept(x, 2048);
		g_release(t, RG_RX, x, 2048, io);
	}
	return bad_device(t, t->G, io, x, 320 * K, why, len);
}

typedef int (*cell_fn)(struct t1 *t, char *why, size_t len);

static const struct {
	const char *test;	/* the cell's attack, as the table names it */
	cell_fn fn;
} cells[2][NCELL] = {
	{ { "t1-inter-bad-address", inter_bad_address },
	  { "t1-inter-invalid-use", inter_invalid_use },
	  { "t1-inter-bad-device", inter_bad_device } },
	{ { "t1-intra-bad-address", intra_bad_address },
	  { "t1-intra-invalid-use", intra_invalid_use },
	  { "t1-intra-bad-device", intra_bad_device } },
};

/*
 * Rows: the strategy, its HELLO mode, the paper's row (1 = prevented;
 * inter then intra), and what cdna must measure. They differ in one cell,
 * said in the table's notes: cdna's direct map holds only the memory a
 * guest registered (DPDK's memory), not all of the guest's, so a DMA to
 * the guest's unregistered memory finds no mapping.
 */
static const struct {
	const char *name;
	const char *paper_row;
	uint32_t mode;
	int paper[2][NCELL];
	int expect[2][NCELL];
} rows[] = {
	{ "software (mediated)", "Software", CDNA_MODE_MEDIATED,
	  { { 1, 1, 0 }, { 1, 1, 0 } }, { { 1, 1, 0 }, { 1, 1, 0 } } },
	{ "direct-map (emulated IOMMU)", "Direct-map", CDNA_MODE_DIRECT_MAP,
	  { { 1, 1, 1 }, { 0, 0, 0 } }, { { 1, 1, 1 }, { 1, 0, 0 } } },
	{ "passthrough (region table)", "Direct-map", CDNA_MODE_PASSTHROUGH,
	  { { 1, 1, 1 }, { 0, 0, 0 } }, { { 1, 1, 1 }, { 1, 0, 0 } } },
	{ "single-use (emulated IOMMU)", "Single-use", CDNA_MODE_SINGLE_USE,
	  { { 1, 1, 1 }, { 1, 0, 1 } }, { { 1, 1, 1 }, { 1, 0, 1 } } },
	{ "shared (emulated IOMMU)", "Shared", CDNA_MODE_SHARED,
	  { { 1, 1, 1 }, { 1, 0, 1 } }, { { 1, 1, 1 }, { 1, 0, 1 } } },
	{ "persistent (emulated IOMMU)", "Persistent", CDNA_MODE_PERSISTENT,
	  { { 1, 1, 1 }, { 1, 0, 0 } }, { { 1, 1, 1 }, { 1, 0, 0 } } },
	{ "no protection", "None (no IOMMU, no mediator)", CDNA_MODE_UNPROTECTED,
	  { { 0, 0, 0 }, { 0, 0, 0 } }, { { 0, 0, 0 }, { 1, 0, 0 } } },
};

static int
t1_setup(struct t1 *t, uint32_t mode, int k)
{
	uint8_t gmac[6] = { 0x02, 0x5e, 0x71, 0x00, 0x00, (uint8_t)(0x10 + k) };
	uint8_t omac[6] = { 0x02, 0x5e, 0x71, 0x00, 0x01, (uint8_t)(0x10 + k) };
	char nm[24], o[64];
	int r;

	snprintf(nm, sizeof(nm), "G%d", k);
	t->G = rg_guest_new(nm);
	snprintf(nm, sizeof(nm), "O%d", k);
	t->O = rg_guest_new(nm);
	if (t->G == NULL || t->O == NULL)
		return -1;
	t->G->mode = mode;
	t->mediated = mode == CDNA_MODE_MEDIATED;
	t->maps = cdna_mode_maps(mode);
	t->unprotected = mode == CDNA_MODE_UNPROTECTED;
	r = rg_honest(t->G, t->e->v.sock, G_MEM, gmac, 256);
	if (r == 0)
		r = rg_honest(t->O, t->e->v.sock, O_MEM, omac, 256);
	if (r != 0) {
		rg_note("table1: G/O set-up: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	snprintf(nm, sizeof(nm), "G%d-r2", k);
	t->g_r2 = rg_mem_new(nm, 64 * K, MFD_CLOEXEC);
	snprintf(nm, sizeof(nm), "G%d-unreg", k);
	t->g_unreg = rg_mem_new(nm, 64 * K, MFD_CLOEXEC);
	return t->g_r2 != NULL && t->g_unreg != NULL ? 0 : -1;
}

int
group_table1(struct env *e)
{
	int got[sizeof(rows) / sizeof(rows[0])][2][NCELL];
	char why[512], path[256], line[512];
	size_t k;
	int s, c, v;
	FILE *f;

	e->v.extra[e->v.nextra++] = "--allow-passthrough";
	e->v.extra[e->v.nextra++] = "--allow-unprotected";
	e->v.extra[e->v.nextra++] = "--fault-injection";
	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected the vmm, S and L up got failure");
		env_down(e);
		return -1;
	}
	for (k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct t1 t = { .e = e };
		uint64_t exp0 = e->v.expect_violations;
		uint64_t viol0 = tel_u64(&t, "/cdna/nic", "audit_violations");

		if (t1_setup(&t, rows[k].mode, (int)k) != 0) {
			env_fail(e, "setup", "expected guests G and O (%s) up got failure",
				 rows[k].name);
			memset(got[k], 0xff, sizeof(got[k]));
			continue;
		}
		for (s = 0; s < 2; s++) {
			for (c = 0; c < NCELL; c++) {
				snprintf(line, sizeof(line), "%s %s", cells[s][c].test,
					 rows[k].name);
				why[0] = '\0';
				v = cells[s][c].fn(&t, why, sizeof(why));
				got[k][s][c] = v;
				if (v < 0)
					env_fail(e, line, "not measured: %s", why);
				else if (v != rows[k].expect[s][c])
					env_fail(e, line, "expected %s got %s",
						 rows[k].expect[s][c] ? "prevented" : "not prevented",
						 v ? "prevented" : "not prevented");
				else if (env_after(e, line, 0) == 0)
					env_pass(e, line);
			}
		}
		/*
		 * Without protection the audit sees G's DMA into O's memory: what
		 * this row exists to show. The vmm's exit status will say so.
		 */
		if (t.unprotected)
			e->v.expect_violations = exp0 +
				tel_u64(&t, "/cdna/nic", "audit_violations") - viol0;
		rg_guest_close(t.G);
		rg_guest_close(t.O);
	}
	/* The table, generated from what was measured. */
	snprintf(path, sizeof(path), "%s/table1.md", e->v.dir);
	f = fopen(path, "w");
	for (int pass = 0; pass < 2; pass++) {
		FILE *out = pass == 0 ? stdout : f;

		if (out == NULL)
			continue;
		fprintf(out, "%sTable 1, measured (x: prevented; paper's in brackets)\n",
			pass == 0 ? "# " : "");
		fprintf(out, "%s| strategy | inter bad-address | inter invalid-use | inter bad-device | intra bad-address | intra invalid-use | intra bad-device |\n",
			pass == 0 ? "# " : "");
		fprintf(out, "%s|---|---|---|---|---|---|---|\n", pass == 0 ? "# " : "");
		for (k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
			fprintf(out, "%s| %s |", pass == 0 ? "# " : "", rows[k].name);
			for (s = 0; s < 2; s++)
				for (c = 0; c < NCELL; c++)
					fprintf(out, " %s (%s%s) |",
						got[k][s][c] < 0 ? "?" :
						got[k][s][c] ? "x" : "-",
						rows[k].paper[s][c] ? "x" : "-",
						got[k][s][c] >= 0 &&
						got[k][s][c] != rows[k].paper[s][c] ?
						", differs" : "");
			fprintf(out, "\n");
		}
		fprintf(out, "%s\n%sCells: tests/security/cases_table1.c, t1-<inter|intra>-<fault>; paper rows, in order:",
			pass == 0 ? "#" : "", pass == 0 ? "# " : "");
		for (k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
			fprintf(out, "%s %s", k ? "," : "", rows[k].paper_row);
		fprintf(out, ".\n");
		fprintf(out, "%sDiffers: intra-guest bad-address under direct-map and passthrough (and with no protection) is prevented here because cdna maps only the memory a guest registered (its DPDK memory), not all of it: a DMA to the rest finds no mapping (with no protection: no guest registered it, and the vmm's own memory is never reachable).\n",
			pass == 0 ? "# " : "");
	}
	if (f != NULL)
		fclose(f);
	env_down(e);
	return 0;
}
