/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The map channel under attack (group map): for each mapping strategy
 * (single-use, shared, persistent) a guest M that writes its own NIC
 * descriptors and may only reach what it asked the mediator to map. It
 * asks for another guest's memory, for memory it never registered, for a
 * region without the direction, with bad lengths, fields and operations;
 * it unmaps what it does not hold, posts buffers it never mapped or has
 * unmapped, removes a region under a live mapping, runs into its quota,
 * and finally corrupts its map ring. Every refusal must carry its reason
 * and be counted; every DMA outside a live mapping must be aborted; the
 * checks after each case (memory shadows, forbidden frames, the vmm's
 * audit) show that no byte outside M's memory was read or written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cdna_ring.h"
#include "rogue.h"

#define K		1024u
#define MAP_RING	128u
#define MAP_QUOTA	64u	/* --map-quota: mappings, or pages */
#define MAP_QUOTA_ARG	"64"
/*
 * Where cdna-vmm puts single-use I/O addresses (vmm/iomap.h): any address
 * not mapped must be refused; one in this window reaches the slot lookup.
 */
#define SLOT_WINDOW	(1ull << 40)

static struct {
	uint32_t mode;
	const char *name;
	struct rg_guest *M;
	struct rg_mem *mem;
	uint64_t base;
	uint32_t foreign_seq;	/* a frame in L's memory that must never leave */
	uint64_t foreign;
} mp;

static uint64_t
m_at(uint32_t off)
{
	return mp.base + off;
}

static int
m_setup(struct env *e, int k)
{
	uint8_t mac[6] = { 0x02, 0x5e, 0xa0, 0x00, 0x00, (uint8_t)(0x40 + k) };
	char nm[24];

	snprintf(nm, sizeof(nm), "M%d", k);
	mp.M = rg_guest_new(nm);
	snprintf(nm, sizeof(nm), "M%d-mem", k);
	mp.mem = rg_mem_new(nm, LAY_TOTAL, MFD_CLOEXEC);
	if (mp.M == NULL || mp.mem == NULL)
		return -1;
	mp.base = (uintptr_t)mp.mem->va;
	if (layout_guest_up(e, mp.M, mp.mem, mp.mode, mac, MAP_RING) != 0)
		return -1;
	if (mp.M->map_size == 0) {
		rg_note("%s guest M: no map ring", mp.name);
		return -1;
	}
	/* Never to leave: in L's memory, where no DMA of M may read it. */
	mp.foreign = (uintptr_t)e->L->mem->va + (3u << 20) + (uint64_t)k * 4096;
	mp.foreign_seq = foreign_frame(mac, mp.foreign);
	return mp.foreign_seq != 0 ? 0 : -1;
}

static int
m_tel(struct env *e, const char *key, uint64_t *v)
{
	char cmd[64], out[8192];

	snprintf(cmd, sizeof(cmd), "/cdna/guest,%u", mp.M->id);
	if (rg_tel(&e->v, cmd, out, sizeof(out)) != 0)
		return -1;
	return rg_json_u64(out, key, v);
}

/* One map request whose answer must be want. 0 or -1 (why said). */
static int
m_expect(const char *what, int dir, const struct cdna_map_req *rq,
	 uint16_t want, uint64_t *iova, char *why, size_t len)
{
	uint64_t io;
	int st = rg_map_req(mp.M, dir, rq, iova != NULL ? iova : &io);

	if (st == want)
		return 0;
	rg_append(why, len, "%s: expected %s got %s%s", what, rg_st_name(want),
		  st >= 0 ? rg_st_name((uint16_t)st) : "no answer",
		  st == RG_TIMEOUT ? " (timeout)" : "");
	return -1;
}

static struct cdna_map_req
req(uint16_t op, uint64_t addr, uint32_t len)
{
	struct cdna_map_req r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.addr = addr;
	r.len = len;
	return r;
}

/*
 * The UNMAP that gives M's mapping of buf back: named by the I/O address
 * under single-use, by the guest address under shared and persistent.
 */
static struct cdna_map_req
unmap_of(uint64_t buf, uint64_t io, uint32_t len)
{
	return req(CDNA_MAP_OP_UNMAP, mp.mode == CDNA_MODE_SINGLE_USE ? io : buf,
		   len);
}

/* Waits for cookie c of M and checks its status. */
static int
m_done(uint32_t c, uint16_t st, const char *what, char *why, size_t len)
{
	if (c == UINT32_MAX || rg_wait(mp.M, c, RG_WAIT_MS) != 0) {
		rg_append(why, len, "%s: no completion", what);
		return -1;
	}
	if (mp.M->rec[c].status != st) {
		rg_append(why, len, "%s: expected %s got %s", what,
			  rg_st_name(st), rg_st_name(mp.M->rec[c].status));
		return -1;
	}
	return 0;
}

/* ---- cases ---- */

/* Requests the mediator must refuse, each with its reason, none mapped. */
static int
map_refused(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct {
		const char *what;
		int dir;
		struct cdna_map_req r;
		uint16_t want;
	} t[] = {
		{ "the sink guest's memory", RG_TX,
		  req(CDNA_MAP_OP_MAP, 0, 200), CDNA_ST_BAD_ADDRESS },
		{ "the unregistered page after A", RG_RX,
		  req(CDNA_MAP_OP_MAP, m_at(LAY_GAP), 2048), CDNA_ST_BAD_ADDRESS },
		{ "straddling the end of A", RG_TX,
		  req(CDNA_MAP_OP_MAP, m_at(LAY_GAP - 100), 200), CDNA_ST_BAD_ADDRESS },
		{ "address 0", RG_TX, req(CDNA_MAP_OP_MAP, 0, 64), CDNA_ST_BAD_ADDRESS },
		{ "UINT64_MAX - 8, 16 bytes", RG_TX,
		  req(CDNA_MAP_OP_MAP, UINT64_MAX - 8, 16), CDNA_ST_BAD_ADDRESS },
		{ "RX into the read-only region", RG_RX,
		  req(CDNA_MAP_OP_MAP, m_at(LAY_RO), 2048), CDNA_ST_BAD_PERM },
		{ "TX from the write-only region", RG_TX,
		  req(CDNA_MAP_OP_MAP, m_at(LAY_WO), 200), CDNA_ST_BAD_PERM },
		{ "length 0", RG_TX, req(CDNA_MAP_OP_MAP, m_at(LAY_A), 0),
		  CDNA_ST_BAD_LENGTH },
		{ "length 65536", RG_TX, req(CDNA_MAP_OP_MAP, m_at(LAY_A), 65536),
		  CDNA_ST_BAD_LENGTH },
		{ "operation 7", RG_TX, req(7, m_at(LAY_A), 64), CDNA_ST_BAD_FLAGS },
		{ "reserved0 set", RG_TX, req(CDNA_MAP_OP_MAP, m_at(LAY_A), 64),
		  CDNA_ST_BAD_FLAGS },
		{ "reserved2 set", RG_RX, req(CDNA_MAP_OP_MAP, m_at(LAY_A), 64),
		  CDNA_ST_BAD_FLAGS },
	};
	uint64_t r0 = 0, r1 = 0, live = 1;
	size_t i, n = sizeof(t) / sizeof(t[0]);
	int fail = 0;

	(void)c;
	t[0].r.addr = mp.foreign;
	t[n - 2].r.reserved0 = 1;
	t[n - 1].r.reserved2 = 1ull << 40;
	if (m_tel(e, "map_refused", &r0) != 0) {
		rg_append(why, len, "telemetry map_refused unreadable");
		return -1;
	}
	for (i = 0; i < n; i++)
		fail |= m_expect(t[i].what, t[i].dir, &t[i].r, t[i].want, NULL,
				 why, len);
	if (m_tel(e, "map_refused", &r1) != 0 || r1 - r0 != n ||
	    m_tel(e, "map_live", &live) != 0 || live != 0) {
		rg_append(why, len, "map_refused moved by %llu (expected %zu), map_live %llu (expected 0)",
			  (unsigned long long)(r1 - r0), n,
			  (unsigned long long)live);
		fail = -1;
	}
	return fail;
}

/* Descriptors at memory M never mapped (its own, another guest's). */
static int
posted_unmapped(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint32_t t1, t2, r1;
	int fail = 0;

	(void)e;
	(void)c;
	t1 = rg_post(mp.M, RG_TX, m_at(LAY_A + 64 * K), 200, 0, CDNA_ST_DMA_FAULT);
	t2 = rg_post(mp.M, RG_TX, mp.foreign, 200, 0, CDNA_ST_DMA_FAULT);
	r1 = rg_post(mp.M, RG_RX, m_at(LAY_A + 96 * K), 2048, 0, RG_ST_ANY);
	rg_publish(mp.M, RG_TX);
	rg_publish(mp.M, RG_RX);
	fail |= m_done(t1, CDNA_ST_DMA_FAULT, "TX of its own unmapped memory", why, len);
	fail |= m_done(t2, CDNA_ST_DMA_FAULT, "TX of the sink's frame", why, len);
	rg_send_frame(e->S, mp.M->mac, 300, 0);
	fail |= m_done(r1, CDNA_ST_DMA_FAULT, "RX into its own unmapped memory",
		       why, len);
	return fail;
}

/*
 * A mapped buffer works; once unmapped, the same I/O address is refused by
 * the device at once (the IOTLB was flushed), and a second UNMAP, or one
 * of memory never mapped, is refused.
 */
static int
map_use_unmap(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint64_t buf = m_at(LAY_A + 128 * K), io = 0;
	uint32_t seq, tx, rx;
	struct cdna_map_req r = req(CDNA_MAP_OP_MAP, buf, 300);
	uint8_t f[300];
	int fail = 0;

	(void)c;
	seq = rg_frame_new(e->L->mac, mp.M->mac, 300, 0);
	rg_frame_build(seq, f);
	rg_mem_write(buf, f, sizeof(f));
	if (m_expect("MAP of a TX buffer in A", RG_TX, &r, CDNA_ST_OK, &io,
		     why, len) != 0)
		return -1;
	tx = rg_post(mp.M, RG_TX, io, 300, 0, CDNA_ST_OK);
	rg_publish(mp.M, RG_TX);
	fail |= m_done(tx, CDNA_ST_OK, "TX through its mapping", why, len);
	rg_drain(20);
	if (rg_frame_seen_count(seq) == 0) {
		rg_append(why, len, "the mapped frame did not reach L");
		fail = -1;
	}
	r = unmap_of(buf, io, 300);
	fail |= m_expect("UNMAP of it", RG_TX, &r, CDNA_ST_OK, NULL, why, len);
	tx = rg_post(mp.M, RG_TX, io, 300, 0, CDNA_ST_DMA_FAULT);
	rg_publish(mp.M, RG_TX);
	fail |= m_done(tx, CDNA_ST_DMA_FAULT, "TX at the unmapped I/O address",
		       why, len);
	fail |= m_expect("UNMAP again", RG_TX, &r, CDNA_ST_BAD_ADDRESS, NULL,
			 why, len);
	r = req(CDNA_MAP_OP_UNMAP, mp.mode == CDNA_MODE_SINGLE_USE ?
		SLOT_WINDOW + 5 * (1ull << 17) : m_at(LAY_A + 512 * K), 64);
	fail |= m_expect("UNMAP of what was never mapped", RG_RX, &r,
			 CDNA_ST_BAD_ADDRESS, NULL, why, len);
	/* An RX buffer: write permission is what RX mappings give. */
	r = req(CDNA_MAP_OP_MAP, m_at(LAY_A + 160 * K), 2048);
	if (m_expect("MAP of an RX buffer", RG_RX, &r, CDNA_ST_OK, &io, why,
		     len) == 0) {
		rx = rg_post(mp.M, RG_RX, io, 2048, 0, CDNA_ST_OK);
		rg_publish(mp.M, RG_RX);
		rg_send_frame(e->S, mp.M->mac, 400, 0);
		fail |= m_done(rx, CDNA_ST_OK, "RX through its mapping", why, len);
		rg_mem_accept(m_at(LAY_A + 160 * K), 2048);
		r = unmap_of(m_at(LAY_A + 160 * K), io, 2048);
		fail |= m_expect("UNMAP of the RX buffer", RG_RX, &r, CDNA_ST_OK,
				 NULL, why, len);
	} else {
		fail = -1;
	}
	return fail;
}

/*
 * An RX buffer mapped and posted in region DL; M removes DL. The mapping
 * goes with it: the frame that follows must not land there, and DL can no
 * longer be mapped.
 */
static int
revoke_region(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint64_t buf = m_at(LAY_DL + 8 * K), io = 0, live = 1;
	struct cdna_map_req r = req(CDNA_MAP_OP_MAP, buf, 2048);
	char o[64];
	uint32_t rx;
	int fail = 0, st;

	(void)c;
	if (m_expect("MAP in DL", RG_RX, &r, CDNA_ST_OK, &io, why, len) != 0)
		return -1;
	rx = rg_post(mp.M, RG_RX, io, 2048, 0, CDNA_ST_DMA_FAULT);
	rg_publish(mp.M, RG_RX);
	st = rg_region_del(mp.M, m_at(LAY_DL), LAY_DL_SZ);
	if (st != 0) {
		rg_append(why, len, "REGION_DEL of DL: %s", env_outcome(st, o, sizeof(o)));
		return -1;
	}
	rg_send_frame(e->S, mp.M->mac, 500, 0);
	fail |= m_done(rx, CDNA_ST_DMA_FAULT, "RX into DL after its removal",
		       why, len);
	fail |= m_expect("MAP in DL after its removal", RG_RX, &r,
			 CDNA_ST_BAD_ADDRESS, NULL, why, len);
	if (m_tel(e, "map_live", &live) != 0 || live != 0) {
		rg_append(why, len, "map_live %llu after the region went, expected 0",
			  (unsigned long long)live);
		fail = -1;
	}
	return fail;
}

/*
 * A region added at a new guest address 2^39 away each time (a new
 * top-level entry of the I/O page table), a buffer in it mapped, the region
 * removed, 32 times: the vmm's page tables must come back to what they
 * were, not keep the three tables each address needed.
 */
static int
region_churn(struct env *e, const struct dcase *c, char *why, size_t len)
{
	enum { CHURN = 32 };
	struct rg_mem *x = rg_mem_new("map-churn", CHURN * 4096u, MFD_CLOEXEC);
	char o[64];
	uint64_t t0 = 0, t1 = 0, ga, live = 1, slack;
	int k, st;

	(void)c;
	if (x == NULL || env_table_pages(e, &t0, why, len) != 0)
		return -1;
	for (k = 0; k < CHURN; k++) {
		struct cdna_map_req r;

		ga = ENV_CHURN_ADDR(k);
		st = rg_region_add(mp.M, ga, 4096, x->fd, (uint64_t)k * 4096u,
				   CDNA_PERM_KNOWN);
		if (st != 0) {
			rg_append(why, len, "REGION_ADD %d at 0x%llx: %s", k,
				  (unsigned long long)ga, env_outcome(st, o, sizeof(o)));
			return -1;
		}
		r = req(CDNA_MAP_OP_MAP, ga, 2048);
		if (m_expect("MAP in the new region", RG_RX, &r, CDNA_ST_OK,
			     NULL, why, len) != 0)
			return -1;
		st = rg_region_del(mp.M, ga, 4096);
		if (st != 0) {
			rg_append(why, len, "REGION_DEL %d at 0x%llx: %s", k,
				  (unsigned long long)ga, env_outcome(st, o, sizeof(o)));
			return -1;
		}
	}
	/*
	 * Shared and persistent map at guest addresses: every table the
	 * regions needed must be gone. Single-use maps in its slot window
	 * alone (--map-quota slots of IOMAP_SLOT_BYTES, 8 MiB here), whose
	 * tables stay: at most 4 leaves and 2 above them more than before.
	 */
	slack = mp.mode == CDNA_MODE_SINGLE_USE ? 6 : 0;
	if (env_table_pages(e, &t1, why, len) != 0)
		return -1;
	if (t1 > t0 + slack) {
		rg_append(why, len, "expected iommu_table_pages at most %llu after %d regions mapped and removed got %llu",
			  (unsigned long long)(t0 + slack), CHURN,
			  (unsigned long long)t1);
		return -1;
	}
	if (m_tel(e, "map_live", &live) != 0 || live != 0) {
		rg_append(why, len, "map_live %llu after the regions went, expected 0",
			  (unsigned long long)live);
		return -1;
	}
	return 0;
}

/*
 * A buffer mapped for RX and for TX; the RX mapping given back. The device
 * may still read it for the TX, but never write it again: an RX descriptor
 * at the address the TX mapping gave must fault.
 */
static int
perm_follows_holders(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint64_t buf = m_at(LAY_A + 224 * K), io_rx = 0, io_tx = 0;
	struct cdna_map_req r = req(CDNA_MAP_OP_MAP, buf, 2048);
	uint32_t seq, rx, tx;
	uint8_t f[300];
	int fail = 0;

	(void)c;
	if (m_expect("MAP for RX", RG_RX, &r, CDNA_ST_OK, &io_rx, why, len) != 0 ||
	    m_expect("MAP for TX", RG_TX, &r, CDNA_ST_OK, &io_tx, why, len) != 0)
		return -1;
	r = unmap_of(buf, io_rx, 2048);
	fail |= m_expect("UNMAP of the RX mapping", RG_RX, &r, CDNA_ST_OK, NULL,
			 why, len);
	rx = rg_post(mp.M, RG_RX, io_tx, 2048, 0, CDNA_ST_DMA_FAULT);
	rg_publish(mp.M, RG_RX);
	rg_send_frame(e->S, mp.M->mac, 600, 0);
	fail |= m_done(rx, CDNA_ST_DMA_FAULT, "RX at the TX mapping's address",
		       why, len);
	seq = rg_frame_new(e->L->mac, mp.M->mac, 300, 0);
	rg_frame_build(seq, f);
	rg_mem_write(buf, f, sizeof(f));
	tx = rg_post(mp.M, RG_TX, io_tx, 300, 0, CDNA_ST_OK);
	rg_publish(mp.M, RG_TX);
	fail |= m_done(tx, CDNA_ST_OK, "TX through the mapping still held", why,
		       len);
	rg_drain(20);
	r = unmap_of(buf, io_tx, 2048);
	fail |= m_expect("UNMAP of the TX mapping", RG_TX, &r, CDNA_ST_OK, NULL,
			 why, len);
	return fail;
}

/* The quota: MAP_QUOTA past it, room again after an UNMAP. */
static int
quota(struct env *e, const struct dcase *c, char *why, size_t len)
{
	/* Single-use counts mappings; shared and persistent count pages. */
	uint32_t per = mp.mode == CDNA_MODE_SINGLE_USE ? 1 : 8;
	uint32_t blen = per * 4096, n = MAP_QUOTA / per, i;
	uint64_t io[MAP_QUOTA], q0 = 0, q1 = 0;
	struct cdna_map_req r;
	int fail = 0;

	(void)c;
	m_tel(e, "reject_map_quota", &q0);
	for (i = 0; i < n && fail == 0; i++) {
		r = req(CDNA_MAP_OP_MAP, m_at(LAY_A + 256 * K) + (uint64_t)i * blen,
			per == 1 ? 64 : blen);
		fail |= m_expect("MAP within the quota", RG_RX, &r, CDNA_ST_OK,
				 &io[i], why, len);
	}
	r = req(CDNA_MAP_OP_MAP, m_at(LAY_A + 256 * K) + (uint64_t)n * blen, 64);
	fail |= m_expect("MAP past the quota", RG_RX, &r, CDNA_ST_MAP_QUOTA,
			 NULL, why, len);
	if (m_tel(e, "reject_map_quota", &q1) != 0 || q1 != q0 + 1) {
		rg_append(why, len, "reject_map_quota %llu -> %llu, expected one more",
			  (unsigned long long)q0, (unsigned long long)q1);
		fail = -1;
	}
	for (i = 0; i < n; i++) {
		struct cdna_map_req u = req(CDNA_MAP_OP_UNMAP,
			per == 1 ? io[i] : m_at(LAY_A + 256 * K) + (uint64_t)i * blen,
			per == 1 ? 64 : blen);

		fail |= m_expect("UNMAP", RG_RX, &u, CDNA_ST_OK, NULL, why, len);
	}
	fail |= m_expect("MAP after the UNMAPs", RG_RX, &r, CDNA_ST_OK, &io[0],
			 why, len);
	r = req(CDNA_MAP_OP_UNMAP, per == 1 ? io[0] : r.addr, 64);
	fail |= m_expect("its UNMAP", RG_RX, &r, CDNA_ST_OK, NULL, why, len);
	return fail;
}

/* STOP: the port's mappings all go; START again serves new ones. */
static int
stop_drops(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct cdna_map_req r = req(CDNA_MAP_OP_MAP, m_at(LAY_A + 192 * K), 512);
	uint64_t io = 0, live = 0;
	char o[64];
	int fail = 0, st;

	(void)c;
	if (m_expect("MAP before STOP", RG_TX, &r, CDNA_ST_OK, &io, why, len) != 0)
		return -1;
	if (m_tel(e, "map_live", &live) != 0 || live == 0) {
		rg_append(why, len, "map_live is 0 with a mapping held");
		return -1;
	}
	st = rg_simple(mp.M, CDNA_MSG_STOP);
	if (st != 0 || m_tel(e, "map_live", &live) != 0 || live != 0) {
		rg_append(why, len, "STOP %s, map_live %llu after it (expected 0)",
			  env_outcome(st, o, sizeof(o)), (unsigned long long)live);
		fail = -1;
	}
	st = rg_simple(mp.M, CDNA_MSG_START);
	if (st != 0) {
		rg_append(why, len, "START again: %s", env_outcome(st, o, sizeof(o)));
		return -1;
	}
	return fail;
}

/* A map producer index past the ring: M is disconnected, saying why. */
static int
ring_corrupt(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct cdna_req_area_idx *ri = (struct cdna_req_area_idx *)mp.M->req;
	uint64_t end = rg_now_ms() + RG_WAIT_MS;
	uint32_t id = mp.M->id;

	(void)c;
	cdna_store_release(&ri->rx_map_prod,
			   mp.M->map_prod[RG_RX] + mp.M->map_size + 7);
	mp.M->quiet_ring = 1;
	while (rg_gone_said(&e->v, "reason", "map ring") != id) {
		if (rg_now_ms() > end) {
			rg_append(why, len, "M still connected, or gone without naming its map ring");
			return -1;
		}
		rg_drain(10);
	}
	return 0;
}

/* xorshift64: the same sequence every run, so a failure replays. */
static uint64_t
fuzz_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Random map requests (fields drawn from edges and from M's layout), each
 * answer checked against a plain statement of the rule: OK exactly when
 * the operation is MAP, the reserved fields are zero, the length is in
 * 1..65535 and the range lies in one of M's live regions that grants the
 * ring's direction. A mapping granted is given back at once (and that must
 * succeed); at the end M holds nothing.
 */
static uint16_t
fuzz_expect(const struct cdna_map_req *r, int dir)
{
	static const struct {
		uint32_t off, size, perm;
	} live[] = {
		{ LAY_A, LAY_A_SZ, CDNA_PERM_KNOWN },
		{ LAY_RO, LAY_RO_SZ, CDNA_PERM_DEV_READ },
		{ LAY_WO, LAY_WO_SZ, CDNA_PERM_DEV_WRITE },
	};
	uint32_t need = dir == RG_RX ? CDNA_PERM_DEV_WRITE : CDNA_PERM_DEV_READ;
	size_t i;

	if (r->reserved0 != 0 || r->reserved1 != 0 || r->reserved2 != 0)
		return CDNA_ST_BAD_FLAGS;
	if (r->len == 0 || r->len > CDNA_MAX_BUF_LEN)
		return CDNA_ST_BAD_LENGTH;
	if (r->op != CDNA_MAP_OP_MAP)
		return CDNA_ST_BAD_FLAGS;
	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		uint64_t lo = m_at(live[i].off), hi = lo + live[i].size;

		if (r->addr >= lo && r->addr < hi)
			return r->len > hi - r->addr ? CDNA_ST_BAD_ADDRESS :
				(live[i].perm & need) ? CDNA_ST_OK : CDNA_ST_BAD_PERM;
	}
	return CDNA_ST_BAD_ADDRESS;
}

static int
map_fuzz(struct env *e, const struct dcase *c, char *why, size_t len)
{
	static const uint64_t offs[] = {
		LAY_A, LAY_A + 4095, LAY_A + 4096, LAY_GAP - 1, LAY_GAP - 64,
		LAY_GAP, LAY_B, LAY_RO, LAY_RO + LAY_RO_SZ - 1, LAY_WO,
		LAY_DL, LAY_TOTAL - 1,
	};
	static const uint32_t lens[] = {
		0, 1, 64, 2048, 4095, 4096, 4097, 65535, 65536, UINT32_MAX,
	};
	uint64_t rng = 0x6d61702d66757a7aull, live = 1, io, io2;
	uint32_t k, bad = 0;

	(void)c;
	for (k = 0; k < 2000 && bad < 5; k++) {
		struct cdna_map_req r;
		int dir = (int)(fuzz_rand(&rng) & 1), st;
		uint16_t want;

		memset(&r, 0, sizeof(r));
		r.op = (fuzz_rand(&rng) % 16) ? CDNA_MAP_OP_MAP :
			(uint16_t)(fuzz_rand(&rng) % 4);
		r.addr = (fuzz_rand(&rng) % 8) ?
			m_at((uint32_t)offs[fuzz_rand(&rng) % 12]) +
			(fuzz_rand(&rng) % 3) * 128 :
			(fuzz_rand(&rng) % 2 ? mp.foreign : fuzz_rand(&rng));
		r.len = (fuzz_rand(&rng) % 4) ? lens[fuzz_rand(&rng) % 10] :
			(uint32_t)fuzz_rand(&rng) % 70000;
		if (fuzz_rand(&rng) % 32 == 0)
			r.reserved1 = 1;
		if (r.op == CDNA_MAP_OP_UNMAP)
			continue;	/* unmaps of random addresses: below */
		want = fuzz_expect(&r, dir);
		st = rg_map_req(mp.M, dir, &r, &io);
		if (st != want) {
			rg_append(why, len, "[%u] %s addr 0x%llx len %u op %u res1 %u: expected %s got %s",
				  k, dir ? "rx" : "tx", (unsigned long long)r.addr,
				  r.len, r.op, r.reserved1, rg_st_name(want),
				  st >= 0 ? rg_st_name((uint16_t)st) : "no answer");
			bad++;
		}
		if (st != CDNA_ST_OK)
			continue;
		r.op = CDNA_MAP_OP_UNMAP;
		r.addr = mp.mode == CDNA_MODE_SINGLE_USE ? io : r.addr;
		st = rg_map_req(mp.M, dir, &r, &io2);
		if (st != CDNA_ST_OK) {
			rg_append(why, len, "[%u] UNMAP of a granted mapping: %s", k,
				  st >= 0 ? rg_st_name((uint16_t)st) : "no answer");
			bad++;
		}
	}
	if (m_tel(e, "map_live", &live) != 0 || live != 0) {
		rg_append(why, len, "map_live %llu after every mapping was given back",
			  (unsigned long long)live);
		bad++;
	}
	return bad ? -1 : 0;
}

static const struct dcase map_cases[] = {
	{ "map-refused", "MAPs of memory M may not reach, or malformed",
	  "each refused with its reason, counted, nothing mapped",
	  NULL, map_refused, 0, { { 0 } } },
	{ "map-posted-unmapped", "descriptors at memory M never mapped",
	  "DMA_FAULT, nothing read or written", NULL, posted_unmapped, 0,
	  { { 0 } } },
	{ "map-use-unmap", "a mapping used, unmapped, used again",
	  "works while mapped, DMA_FAULT after, double UNMAP refused", NULL,
	  map_use_unmap, 0, { { 0 } } },
	{ "map-revoke-region", "REGION_DEL under a posted, mapped buffer",
	  "the DMA after it aborted, the mapping gone", NULL, revoke_region, 0,
	  { { 0 } } },
	{ "map-region-churn", "32 regions at guest addresses 2^39 apart, each mapped once and removed",
	  "every MAP OK; map_live and the vmm's I/O page-table pages as before (single-use: but its slot window's)",
	  NULL, region_churn, 0, { { 0 } } },
	{ "map-perm", "a buffer mapped for RX and TX, the RX mapping given back",
	  "still readable, never writable", NULL, perm_follows_holders, 0,
	  { { 0 } } },
	{ "map-quota", "MAPs past --map-quota", "MAP_QUOTA, room after UNMAP",
	  NULL, quota, 0, { { 0 } } },
	{ "map-stop", "STOP with a mapping held", "every mapping dropped", NULL,
	  stop_drops, 0, { { 0 } } },
	{ "map-fuzz", "2000 random map requests, each granted one given back",
	  "every answer as the plain rule says, nothing held after", NULL,
	  map_fuzz, 0, { { 0 } } },
};

/*
 * No protection is for tests only: without --allow-unprotected (this vmm
 * has none) a HELLO asking for it is refused, the refusal names the option,
 * and nothing is granted instead.
 */
static void
unprotected_refused(struct env *e)
{
	static const uint8_t mac[6] = { 0x02, 0x5e, 0xa0, 0x00, 0x00, 0x3f };
	struct rg_guest *g = rg_guest_new("U");
	uint64_t end;
	char o[64];
	int r, fail = 0;

	if (g == NULL || rg_connect(g, e->v.sock) != 0) {
		env_fail(e, "unprotected-not-allowed", "expected a connection got none");
		rg_guest_close(g);
		return;
	}
	g->mode = CDNA_MODE_UNPROTECTED;
	r = rg_hello(g, 1, mac);
	if (r != -EPERM) {
		env_fail(e, "unprotected-not-allowed", "expected HELLO refused with EPERM got %s",
			 env_outcome(r, o, sizeof(o)));
		fail = 1;
	}
	rg_guest_close(g);
	/* Its departure is recorded once the vmm sees the socket close. */
	for (end = rg_now_ms() + RG_WAIT_MS;
	     rg_gone_said(&e->v, "last_refusal", "--allow-unprotected") == 0 &&
	     rg_now_ms() < end;)
		rg_drain(10);
	if (fail == 0 &&
	    rg_gone_said(&e->v, "last_refusal", "--allow-unprotected") == 0) {
		env_fail(e, "unprotected-not-allowed", "expected the refusal to name --allow-unprotected in /cdna/gone");
		fail = 1;
	}
	if (env_after(e, "unprotected-not-allowed", 1) == 0 && fail == 0)
		env_pass(e, "unprotected-not-allowed");
}

/* Runs cases against M, named "<case> <strategy>". 0, or -1 if the vmm died. */
static int
run_map_cases(struct env *e, const struct dcase *c, size_t n)
{
	char why[1024], name[96];
	size_t i;
	int r, a;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s %s", c[i].name, mp.name);
		why[0] = '\0';
		if (rg_verbose)
			rg_note("%s: %s", name, c[i].what);
		r = c[i].fn(e, &c[i], why, sizeof(why));
		if (r != 0)
			env_fail(e, name, "expected %s got: %s", c[i].verdict, why);
		a = env_after(e, name, 1);
		if (a == 0 && r == 0)
			env_pass(e, name);
		if (a == -2)
			return -1;
	}
	return 0;
}

int
group_map(struct env *e)
{
	static const struct {
		uint32_t mode;
		const char *name;
	} modes[] = {
		{ CDNA_MODE_SINGLE_USE, "single-use" },
		{ CDNA_MODE_SHARED, "shared" },
		{ CDNA_MODE_PERSISTENT, "persistent" },
	};
	static const struct dcase corrupt = {
		"map-ring-corrupt", "a map producer index past the ring",
		"M disconnected, /cdna/gone names its map ring", NULL,
		ring_corrupt, 0, { { 0 } } };
	char name[64];
	size_t k;

	e->v.extra[e->v.nextra++] = "--allow-passthrough";
	e->v.extra[e->v.nextra++] = "--map-quota";
	e->v.extra[e->v.nextra++] = MAP_QUOTA_ARG;
	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected the vmm, S and L up got failure");
		env_down(e);
		return -1;
	}
	unprotected_refused(e);
	for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		memset(&mp, 0, sizeof(mp));
		mp.mode = modes[k].mode;
		mp.name = modes[k].name;
		snprintf(name, sizeof(name), "setup %s", mp.name);
		if (m_setup(e, (int)k) != 0) {
			env_fail(e, name, "expected guest M (%s) up got failure",
				 mp.name);
			continue;
		}
		if (run_map_cases(e, map_cases,
				  sizeof(map_cases) / sizeof(map_cases[0])) == 0)
			run_map_cases(e, &corrupt, 1);
	}
	env_down(e);
	return 0;
}
