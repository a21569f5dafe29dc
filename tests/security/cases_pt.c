/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest-written descriptors under attack: group pt (passthrough, the NIC
 * translating through the guest's region table) and group dm (the
 * direct-map strategy, through the emulated IOMMU's page tables and IOTLB).
 * Such a guest writes the NIC's descriptors itself: nothing checks them
 * before the device does, so the device's address stage is all that stands
 * between it and every other byte. The guest names
 * memory it never registered, another guest's memory (holding a frame that
 * must never be sent), a region lacking the direction, a region it just
 * removed; it rewrites descriptors while the device reads them, and rings a
 * doorbell past its ring. Each DMA must be aborted and counted, and the
 * checks after every case (memory shadows, forbidden frames, the vmm's own
 * audit) prove that no byte outside the guest's memory was read or written.
 * Mediated guests share the NIC and its switch throughout.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cdna_ring.h"
#include "rogue.h"

#define PT_MAC	{ 0x02, 0x5e, 0xc0, 0x00, 0x00, 0x71 }
#define PT2_MAC	{ 0x02, 0x5e, 0xc0, 0x00, 0x00, 0x72 }
#define PT_RING	256u
#define K	1024u

/* The guest P: regions A, RO, WO and DL of the rogue layout. */
static struct {
	uint32_t mode;		/* CDNA_MODE_PASSTHROUGH or _DIRECT_MAP */
	const char *name;	/* as telemetry says it */
	struct rg_guest *P;
	struct rg_mem *mem;
	uint64_t base;
	uint32_t foreign_seq;	/* the forbidden frame in L's memory */
	uint64_t foreign;	/* its address there */
} pt;

static uint64_t
pt_at(uint32_t off)
{
	return pt.base + off;
}

int
layout_guest_up(struct env *e, struct rg_guest *g, struct rg_mem *mem,
		uint32_t mode, const uint8_t mac[6], uint32_t ring)
{
	static const struct {
		uint32_t off, size, perm;
	} reg[] = {
		{ LAY_A, LAY_A_SZ, CDNA_PERM_KNOWN },
		{ LAY_RO, LAY_RO_SZ, CDNA_PERM_DEV_READ },
		{ LAY_WO, LAY_WO_SZ, CDNA_PERM_DEV_WRITE },
		{ LAY_DL, LAY_DL_SZ, CDNA_PERM_KNOWN },
	};
	uint64_t base = (uintptr_t)mem->va;
	char o[64];
	size_t i;
	int r;

	g->mode = mode;
	g->mem = mem;
	r = rg_connect(g, e->v.sock);
	if (r == 0)
		r = rg_hello(g, 1, mac);
	for (i = 0; r == 0 && i < sizeof(reg) / sizeof(reg[0]); i++)
		r = rg_region_add(g, base + reg[i].off, reg[i].size, mem->fd,
				  reg[i].off, reg[i].perm);
	if (r == 0)
		r = rg_queue_create(g, 0, ring, ring);
	if (r == 0)
		r = rg_simple(g, CDNA_MSG_START);
	if (r != 0) {
		rg_note("guest %s: %s (%s)", g->name, env_outcome(r, o, sizeof(o)),
			g->err);
		return -1;
	}
	if (g->hello.mode != mode) {
		rg_note("guest %s: asked for mode %u, granted %u", g->name, mode,
			g->hello.mode);
		return -1;
	}
	rg_sender_init(g, base + LAY_A + 800 * K, 16, 10240);
	return 0;
}

uint32_t
foreign_frame(const uint8_t src[6], uint64_t at)
{
	uint32_t seq = rg_frame_new(env_mac_group, src, 200, 1);
	uint8_t f[200];

	if (seq == 0)
		return 0;
	rg_frame_build(seq, f);
	rg_mem_write(at, f, sizeof(f));
	return seq;
}

static int
pt_setup(struct env *e)
{
	static const uint8_t mac[6] = PT_MAC;

	pt.P = rg_guest_new("P");
	pt.mem = rg_mem_new("P-mem", LAY_TOTAL, MFD_CLOEXEC);
	if (pt.P == NULL || pt.mem == NULL)
		return -1;
	pt.base = (uintptr_t)pt.mem->va;
	if (layout_guest_up(e, pt.P, pt.mem, pt.mode, mac, PT_RING) != 0)
		return -1;
	/*
	 * A frame that must never leave: it sits in the sink L's memory, far
	 * above L's buffers. If any DMA of P read it, L (promiscuous) or the
	 * wire would see it; the after-case check fails on that.
	 */
	pt.foreign = (uintptr_t)e->L->mem->va + (3u << 20);
	pt.foreign_seq = foreign_frame(mac, pt.foreign);
	return pt.foreign_seq != 0 ? 0 : -1;
}

/* P's counter KEY in telemetry. */
static int
pt_tel(struct env *e, struct rg_guest *g, const char *key, uint64_t *v)
{
	char cmd[64], out[8192];

	snprintf(cmd, sizeof(cmd), "/cdna/guest,%u", g->id);
	if (rg_tel(&e->v, cmd, out, sizeof(out)) != 0)
		return -1;
	return rg_json_u64(out, key, v);
}

/* Waits for cookie c of g and checks its status. 0 or -1 (why filled). */
static int
pt_expect(struct rg_guest *g, uint32_t c, uint16_t st, const char *what,
	  char *why, size_t len)
{
	if (c == UINT32_MAX) {
		rg_append(why, len, "%s: could not post", what);
		return -1;
	}
	if (rg_wait(g, c, RG_WAIT_MS) != 0) {
		rg_append(why, len, "%s: expected %s got no completion", what,
			  rg_st_name(st));
		return -1;
	}
	if (g->rec[c].status != st) {
		rg_append(why, len, "%s: expected %s got %s", what,
			  rg_st_name(st), rg_st_name(g->rec[c].status));
		return -1;
	}
	return 0;
}

/* ---- cases ---- */

/* Where a descriptor points that its guest has no right to. */
struct pt_target {
	const char *what;
	uint64_t addr;
	uint32_t len;
};

static int
pt_traffic(struct env *e, const struct dcase *c, char *why, size_t len)
{
	char out[8192], mode[32];
	char cmd[64];
	uint32_t k, rx;
	int bad = 0;

	(void)c;
	snprintf(cmd, sizeof(cmd), "/cdna/guest,%u", pt.P->id);
	if (rg_tel(&e->v, cmd, out, sizeof(out)) != 0 ||
	    rg_json_str(out, "mode", mode, sizeof(mode)) != 0 ||
	    strcmp(mode, pt.name) != 0) {
		rg_append(why, len, "telemetry mode: expected %s got '%s'",
			  pt.name, mode);
		return -1;
	}
	for (k = 0; k < 8; k++) {
		rx = rg_post(pt.P, RG_RX, pt_at(LAY_A + k * 16 * K), 2048, 0,
			     CDNA_ST_OK);
		rg_publish(pt.P, RG_RX);
		if (rg_ping(e->S, pt.P, 60 + k * 180) != 0 ||
		    pt_expect(pt.P, rx, CDNA_ST_OK, "RX from mediated S", why,
			      len) != 0)
			bad++;
		if (rg_ping(pt.P, e->L, 1514 - k * 180) != 0)
			bad++;
	}
	if (bad != 0)
		rg_append(why, len, "%d of 16 frames between P and the mediated guests lost",
			  bad);
	return bad ? -1 : 0;
}

static int
pt_tx_outside(struct env *e, const struct dcase *c, char *why, size_t len)
{
	const struct pt_target bad[] = {
		{ "the unregistered page after A", pt_at(LAY_GAP), 100 },
		{ "straddling the end of A", pt_at(LAY_GAP - 50), 100 },
		{ "address 0", 0, 60 },
		{ "UINT64_MAX - 8, 16 bytes", UINT64_MAX - 8, 16 },
		{ "a frame in the sink guest's memory", pt.foreign, 200 },
		{ "the write-only region (no DEV_READ)", pt_at(LAY_WO), 100 },
	};
	uint64_t f0 = 0, f1 = 0;
	uint32_t ck[8], i;
	int fail = 0;

	(void)c;
	if (pt_tel(e, pt.P, "reject_dma_fault", &f0) != 0) {
		rg_append(why, len, "telemetry reject_dma_fault unreadable");
		return -1;
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck[i] = rg_post(pt.P, RG_TX, bad[i].addr, bad[i].len, 0,
				CDNA_ST_DMA_FAULT);
	rg_publish(pt.P, RG_TX);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fail |= pt_expect(pt.P, ck[i], CDNA_ST_DMA_FAULT, bad[i].what,
				  why, len);
	/* The guest's next honest frame goes out as usual. */
	if (rg_ping(pt.P, e->L, 300) != 0) {
		rg_append(why, len, "the frame after the faults did not reach L");
		fail = -1;
	}
	if (pt_tel(e, pt.P, "reject_dma_fault", &f1) != 0 || f1 - f0 != i) {
		rg_append(why, len, "reject_dma_fault moved by %llu, expected %u",
			  (unsigned long long)(f1 - f0), i);
		fail = -1;
	}
	return fail;
}

static int
pt_rx_outside(struct env *e, const struct dcase *c, char *why, size_t len)
{
	const struct pt_target bad[] = {
		{ "RX into the sink guest's memory", pt.foreign + 4096, 2048 },
		{ "RX into the unregistered page after A", pt_at(LAY_GAP), 2048 },
		{ "RX into the read-only region (no DEV_WRITE)", pt_at(LAY_RO), 2048 },
		/* Room for the frame: a buffer too small stays posted, by design. */
		{ "RX at UINT64_MAX - 63 (wraps)", UINT64_MAX - 63, 2048 },
	};
	uint32_t ck[8], good, i, n = sizeof(bad) / sizeof(bad[0]);
	int fail = 0;

	(void)c;
	for (i = 0; i < n; i++)
		ck[i] = rg_post(pt.P, RG_RX, bad[i].addr, bad[i].len, 0,
				CDNA_ST_DMA_FAULT);
	good = rg_post(pt.P, RG_RX, pt_at(LAY_A + 300 * K), 2048, 0,
		       CDNA_ST_OK);
	rg_publish(pt.P, RG_RX);
	/* Each frame takes the next buffer: n are refused, the last lands. */
	for (i = 0; i < n; i++)
		if (rg_send_frame(e->S, pt.P->mac, 400 + i, 0) == 0)
			fail = -1;
	if (rg_ping(e->S, pt.P, 500) != 0) {
		rg_append(why, len, "the frame after the faults did not land");
		fail = -1;
	}
	for (i = 0; i < n; i++)
		fail |= pt_expect(pt.P, ck[i], CDNA_ST_DMA_FAULT, bad[i].what,
				  why, len);
	fail |= pt_expect(pt.P, good, CDNA_ST_OK, "the valid buffer after them",
			  why, len);
	return fail;
}

static int
pt_region_del(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint32_t rx, tx;
	uint64_t n0 = 0, n1 = 0;
	char o[64];
	int r, fail = 0;

	(void)c;
	/* An RX buffer posted in DL, then DL removed: the buffer is void. */
	rx = rg_post(pt.P, RG_RX, pt_at(LAY_DL), 2048, 0, CDNA_ST_DMA_FAULT);
	rg_publish(pt.P, RG_RX);
	pt_tel(e, pt.P, "regions", &n0);
	r = rg_region_del(pt.P, pt_at(LAY_DL), LAY_DL_SZ);
	if (r != 0) {
		rg_append(why, len, "REGION_DEL: expected status 0 got %s",
			  env_outcome(r, o, sizeof(o)));
		return -1;
	}
	if (pt_tel(e, pt.P, "regions", &n1) != 0 || n1 + 1 != n0) {
		rg_append(why, len, "regions %llu -> %llu after REGION_DEL",
			  (unsigned long long)n0, (unsigned long long)n1);
		fail = -1;
	}
	if (rg_send_frame(e->S, pt.P->mac, 300, 0) == 0)
		fail = -1;
	fail |= pt_expect(pt.P, rx, CDNA_ST_DMA_FAULT,
			  "RX posted into DL before its REGION_DEL", why, len);
	tx = rg_post(pt.P, RG_TX, pt_at(LAY_DL + 4096), 100, 0,
		     CDNA_ST_DMA_FAULT);
	rg_publish(pt.P, RG_TX);
	fail |= pt_expect(pt.P, tx, CDNA_ST_DMA_FAULT, "TX from DL after it",
			  why, len);
	return fail;
}

/*
 * REGION_ADD and REGION_DEL, again and again, each time at a new guest
 * address 2^39 away (a new top-level entry of the I/O page table): the
 * vmm's page tables must come back to what they were, not keep the three
 * tables each address needed. Direct-map makes those three at each ADD
 * (checked, so the case sees the tables it expects to go); passthrough
 * translates over the region table and makes none.
 */
static int
pt_region_churn(struct env *e, const struct dcase *c, char *why, size_t len)
{
	enum { CHURN = 64 };
	struct rg_mem *x = rg_mem_new("churn", CHURN * 4096u, MFD_CLOEXEC);
	char o[64];
	uint64_t t0 = 0, t1 = 0, ga, added;
	int k, r;

	(void)c;
	if (x == NULL || env_table_pages(e, &t0, why, len) != 0)
		return -1;
	/* Direct-map: a table at each level below the root for the new entry. */
	added = t0 + (pt.mode == CDNA_MODE_DIRECT_MAP ? 3 : 0);
	for (k = 0; k < CHURN; k++) {
		ga = ENV_CHURN_ADDR(k);
		r = rg_region_add(pt.P, ga, 4096, x->fd, (uint64_t)k * 4096u,
				  CDNA_PERM_KNOWN);
		if (r == 0 && env_table_pages(e, &t1, why, len) != 0)
			return -1;
		if (r == 0 && t1 != added) {
			rg_append(why, len, "REGION_ADD %d: expected iommu_table_pages %llu got %llu",
				  k, (unsigned long long)added, (unsigned long long)t1);
			return -1;
		}
		if (r == 0)
			r = rg_region_del(pt.P, ga, 4096);
		if (r != 0) {
			rg_append(why, len, "REGION_ADD/DEL %d at 0x%llx: expected 0 got %s",
				  k, (unsigned long long)ga,
				  env_outcome(r, o, sizeof(o)));
			return -1;
		}
	}
	if (env_table_pages(e, &t1, why, len) != 0)
		return -1;
	if (t1 != t0) {
		rg_append(why, len, "expected iommu_table_pages %llu after %d REGION_ADD/DEL got %llu",
			  (unsigned long long)t0, CHURN, (unsigned long long)t1);
		return -1;
	}
	rg_note("%s: iommu_table_pages %llu before and after %d REGION_ADD/DEL",
		pt.name, (unsigned long long)t0, CHURN);
	return 0;
}

/*
 * The guest rewrites its posted descriptors while the device reads them:
 * each one flips between a valid frame and the forbidden frame in L's
 * memory, or an impossible length. Whatever the device reads must be
 * translated and copied as that one reading: a frame arrives whole and
 * valid, or the DMA is aborted.
 */
struct flipper {
	struct cdna_req *ring;
	uint32_t first, n, mask;
	uint64_t foreign;
	volatile int stop;
	uint64_t flips;
};

static void *
flip_loop(void *arg)
{
	struct flipper *f = arg;
	uint64_t *saved_addr = calloc(f->n, sizeof(uint64_t));
	uint32_t *saved_len = calloc(f->n, sizeof(uint32_t));
	uint32_t i;

	if (saved_addr == NULL || saved_len == NULL)
		goto out;
	for (i = 0; i < f->n; i++) {
		saved_addr[i] = f->ring[(f->first + i) & f->mask].addr;
		saved_len[i] = f->ring[(f->first + i) & f->mask].len;
	}
	while (!f->stop) {
		for (i = 0; i < f->n; i++) {
			volatile struct cdna_req *d =
				&f->ring[(f->first + i) & f->mask];

			switch (f->flips++ % 4) {
			case 0: d->addr = f->foreign; break;
			case 1: d->addr = saved_addr[i]; break;
			case 2: d->len = 60000; break;
			default: d->len = saved_len[i]; break;
			}
		}
	}
	/* Leave each as posted, for the bookkeeping of the frames seen. */
	for (i = 0; i < f->n; i++) {
		f->ring[(f->first + i) & f->mask].addr = saved_addr[i];
		f->ring[(f->first + i) & f->mask].len = saved_len[i];
	}
out:
	free(saved_addr);
	free(saved_len);
	return NULL;
}

static int
pt_rewrite_race(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct flipper f;
	pthread_t th;
	uint32_t ck[64], seq[64], i, ok = 0, fault = 0, other = 0, n = 64;
	uint32_t first = pt.P->prod[RG_TX];
	uint8_t *buf = malloc(256);
	int round;

	(void)c;
	if (buf == NULL)
		return -1;
	for (round = 0; round < 4; round++) {
		first = pt.P->prod[RG_TX];
		/* 64 frames to L, in slots of their own, posted unpublished. */
		for (i = 0; i < n; i++) {
			uint64_t a = pt_at(LAY_A + 400 * K + i * 1024);

			seq[i] = rg_frame_new(e->L->mac, pt.P->mac, 200, 0);
			rg_frame_build(seq[i], buf);
			rg_mem_write(a, buf, 200);
			ck[i] = rg_post(pt.P, RG_TX, a, 200, 0, RG_ST_ANY);
			pt.P->rec[ck[i]].seq = seq[i];
		}
		memset(&f, 0, sizeof(f));
		f.ring = (struct cdna_req *)(pt.P->req + CDNA_AREA_ENTRIES_OFF);
		f.first = first;
		f.n = n;
		f.mask = pt.P->size[RG_TX] - 1;
		f.foreign = pt.foreign;
		if (pthread_create(&th, NULL, flip_loop, &f) != 0) {
			free(buf);
			rg_append(why, len, "pthread_create failed");
			return -1;
		}
		usleep(2000);
		rg_publish(pt.P, RG_TX);
		for (i = 0; i < n; i++)
			rg_wait(pt.P, ck[i], RG_WAIT_MS);
		f.stop = 1;
		pthread_join(th, NULL);
		for (i = 0; i < n; i++) {
			uint16_t st = pt.P->rec[ck[i]].status;

			if (!pt.P->rec[ck[i]].done)
				other++;
			else if (st == CDNA_ST_OK)
				ok++;
			else if (st == CDNA_ST_DMA_FAULT || st == CDNA_ST_BAD_CHAIN)
				fault++;
			else
				other++;
		}
	}
	free(buf);
	rg_drain(50);
	rg_note("rewrite race: %u sent whole, %u aborted, %llu rewrites",
		ok, fault, (unsigned long long)f.flips);
	if (other != 0) {
		rg_append(why, len, "%u descriptors ended neither OK nor aborted",
			  other);
		return -1;
	}
	return 0;
}

static int
pt_doorbell(struct env *e, const struct dcase *c, char *why, size_t len)
{
	static const uint8_t mac[6] = PT2_MAC;
	struct rg_guest *g = rg_guest_new("P2");
	uint32_t id;
	char o[64];
	int r;

	(void)c;
	if (g == NULL)
		return -1;
	g->mode = pt.mode;
	r = rg_honest(g, e->v.sock, 256u << 10, mac, PT_RING);
	if (r != 0) {
		rg_append(why, len, "P2 set-up: %s", env_outcome(r, o, sizeof(o)));
		rg_guest_close(g);
		return -1;
	}
	id = g->id;
	g->quiet_ring = 1;
	cdna_store_release(rg_req_idx(g, RG_TX), g->prod[RG_TX] + PT_RING + 1);
	if (rg_gone_u64(&e->v, id, "flushed", &(uint64_t){ 0 }, 3000) != 0) {
		rg_append(why, len, "P2 still connected 3 s after its doorbell went past its ring");
		rg_guest_close(g);
		return -1;
	}
	if (rg_gone_said(&e->v, "reason", "passthrough queue 0 tx doorbell") != id) {
		rg_append(why, len, "P2's departure does not name its doorbell (/cdna/gone,%u reason)",
			  id);
		rg_guest_close(g);
		return -1;
	}
	rg_guest_close(g);
	return 0;
}

static const struct dcase pt_cases[] = {
	{ "pt-traffic-with-mediated", "a passthrough guest and two mediated guests exchange frames through the switch",
	  "every frame arrives whole", NULL, pt_traffic, 0, { { 0 } } },
	{ "pt-tx-outside-memory", "TX descriptors naming unregistered memory, another guest's frame, a wrapping range, a region without DEV_READ",
	  "each DMA_FAULT, counted; nothing sent; the next frame goes", NULL, pt_tx_outside, 0, { { 0 } } },
	{ "pt-rx-outside-memory", "RX descriptors into another guest's memory, unregistered memory, a read-only region, a wrapping range",
	  "each frame refused with DMA_FAULT; the next buffer gets the next frame", NULL, pt_rx_outside, 0, { { 0 } } },
	{ "pt-region-del-revokes", "REGION_DEL with an RX buffer posted in the region, then TX from it",
	  "both DMA_FAULT: no DMA after the region is gone", NULL, pt_region_del, 0, { { 0 } } },
	{ "pt-region-churn", "REGION_ADD and REGION_DEL of 4 KiB, 64 times, each at a new guest address 2^39 apart",
	  "each accepted; the vmm's I/O page-table pages as before", NULL, pt_region_churn, 0, { { 0 } } },
	{ "pt-rewrite-while-read", "256 posted descriptors rewritten by another thread (foreign address, impossible length) while the device reads them",
	  "each frame whole or aborted; nothing foreign read", NULL, pt_rewrite_race, 0, { { 0 } } },
	{ "pt-doorbell-past-ring", "a passthrough guest rings its TX doorbell a ring and one past the device",
	  "disconnected with ring_corrupt naming the doorbell", NULL, pt_doorbell, 0, { { 0 } } },
};

/*
 * The direct-map guests' DMA went through the emulated IOMMU: it
 * translated, missed its IOTLB and walked, and refused the attacks.
 */
static int
dm_iommu_used(struct env *e)
{
	char out[8192];
	uint64_t tr = 0, miss = 0, faults = 0, upd = 0;

	if (rg_tel(&e->v, "/cdna/vmm", out, sizeof(out)) != 0 ||
	    rg_json_u64(out, "iommu_translations", &tr) != 0 ||
	    rg_json_u64(out, "iotlb_misses", &miss) != 0 ||
	    rg_json_u64(out, "iommu_faults", &faults) != 0 ||
	    rg_json_u64(out, "iommu_pt_updates", &upd) != 0)
		return -1;
	rg_note("iommu: %llu translations, %llu IOTLB misses, %llu faults, %llu page-table updates",
		(unsigned long long)tr, (unsigned long long)miss,
		(unsigned long long)faults, (unsigned long long)upd);
	return tr > 0 && miss > 0 && faults > 0 && upd > 0 ? 0 : -1;
}

/* Without --allow-passthrough, HELLO asking for it is refused: no fallback. */
static int
pt_refused(struct env *e)
{
	static const uint8_t mac[6] = PT_MAC;
	struct rg_guest *g = rg_guest_new("P0");
	uint64_t end;
	char o[64];
	int r, fail = 0;

	if (g == NULL || rg_connect(g, e->v.sock) != 0)
		return -1;
	g->mode = pt.mode;
	r = rg_hello(g, 1, mac);
	if (r != -EPERM) {
		env_fail(e, "pt-not-allowed", "expected HELLO refused with EPERM got %s",
			 env_outcome(r, o, sizeof(o)));
		fail = -1;
	}
	/* The same connection may then ask for what the policy allows. */
	g->mode = CDNA_MODE_MEDIATED;
	r = rg_hello(g, 1, mac);
	if (r != 0 || g->hello.mode != CDNA_MODE_MEDIATED) {
		env_fail(e, "pt-not-allowed", "expected a mediated HELLO after it to pass got %s",
			 env_outcome(r, o, sizeof(o)));
		fail = -1;
	}
	rg_guest_close(g);
	/* Its departure is recorded once the vmm sees the socket close. */
	for (end = rg_now_ms() + RG_WAIT_MS;
	     rg_gone_said(&e->v, "last_refusal", "--allow-passthrough") == 0 &&
	     rg_now_ms() < end;)
		rg_drain(10);
	if (fail == 0 &&
	    rg_gone_said(&e->v, "last_refusal", "--allow-passthrough") == 0) {
		env_fail(e, "pt-not-allowed", "expected the refusal to name --allow-passthrough in /cdna/gone");
		fail = -1;
	}
	if (env_after(e, "pt-not-allowed", 1) != 0)
		fail = -1;
	if (fail == 0)
		env_pass(e, "pt-not-allowed");
	return fail;
}

static int
group_guest_written(struct env *e, uint32_t mode, const char *name)
{
	memset(&pt, 0, sizeof(pt));
	pt.mode = mode;
	pt.name = name;
	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	pt_refused(e);
	env_down(e);
	e->v.nextra = 0;
	e->v.extra[e->v.nextra++] = "--allow-passthrough";
	if (rg_pcap_write(e->v.wire_in, NULL, 0) != 0 || env_up(e, 1) != 0 ||
	    pt_setup(e) != 0) {
		env_fail(e, "setup", "expected the vmm, S, L and passthrough P up got failure");
		env_down(e);
		return -1;
	}
	run_dcases(e, pt_cases, sizeof(pt_cases) / sizeof(pt_cases[0]));
	if (mode == CDNA_MODE_DIRECT_MAP && dm_iommu_used(e) != 0)
		env_fail(e, "dm-through-the-iommu", "expected the emulated IOMMU to translate every DMA");
	else if (mode == CDNA_MODE_DIRECT_MAP)
		env_pass(e, "dm-through-the-iommu");
	env_down(e);
	return 0;
}

int
group_pt(struct env *e)
{
	return group_guest_written(e, CDNA_MODE_PASSTHROUGH, "passthrough");
}

int
group_dm(struct env *e)
{
	return group_guest_written(e, CDNA_MODE_DIRECT_MAP, "direct-map");
}
