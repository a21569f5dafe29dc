/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Validation of one guest request, applied to a private copy (never to the
 * shared ring entry). Pure: no state is changed, nothing is logged.
 */
#ifndef CDNA_VALIDATE_H
#define CDNA_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cdna_abi.h"
#include "claims.h"
#include "regions.h"


/* Where a validated request lands. */
struct cdna_dma_ref {
	struct cdna_region *reg;
	uint64_t off;		/* from reg->gaddr */
	uint32_t len;
};

/*
 * Returns CDNA_ST_OK and fills *out, or the first failing reason, checked in
 * this order:
 *   BAD_FLAGS    a flag bit outside CDNA_REQ_F_KNOWN, MORE on an RX request,
 *                or a nonzero reserved field;
 *   BAD_LENGTH   len == 0, len > CDNA_MAX_BUF_LEN, or on TX len > CDNA_MAX_FRAME_LEN;
 *   BAD_ADDRESS  [addr, addr+len) not inside one region of rt (overflow-safe),
 *                or inside a dying region;
 *   BAD_PERM     the region lacks DEV_READ (TX) or DEV_WRITE (RX);
 *   INVALID_USE  the claim map forbids it (claims.h).
 */
uint16_t cdna_validate_req(const struct cdna_region_table *rt,
			   const struct cdna_req *req, int dir,
			   struct cdna_dma_ref *out);
/*
 * The region rule alone, for every strategy that lets a guest name memory
 * (the mediated requests here, the map channel's MAPs in vmm/iomap.c):
 * [addr, addr+len), len > 0, lies inside one live region of rt (looked up
 * through hint when not NULL) that grants dir's access. CDNA_ST_OK with
 * the region and the offset in it, else BAD_ADDRESS or BAD_PERM.
 */
static inline uint16_t
cdna_validate_range(const struct cdna_region_table *rt, uint64_t addr,
		    uint32_t len, int dir, struct cdna_rt_hint *hint,
		    struct cdna_region **reg_out, uint64_t *off_out)
{
	struct cdna_region *reg;
	uint64_t off;

	reg = hint != NULL ? cdna_rt_find_hinted(rt, addr, hint) :
		cdna_rt_find(rt, addr);
	if (reg == NULL)
		return CDNA_ST_BAD_ADDRESS;
	/* find() guarantees gaddr <= addr < gaddr + size, so off < size. */
	off = addr - reg->gaddr;
	/* Overflow-safe form of off + len > size (addr + len may wrap). */
	if (len > reg->size - off)
		return CDNA_ST_BAD_ADDRESS;
	if (reg->dying)
		return CDNA_ST_BAD_ADDRESS;

	if (dir == CDNA_DIR_TX && (reg->perm & CDNA_PERM_DEV_READ) == 0)
		return CDNA_ST_BAD_PERM;
	if (dir == CDNA_DIR_RX && (reg->perm & CDNA_PERM_DEV_WRITE) == 0)
		return CDNA_ST_BAD_PERM;
	*reg_out = reg;
	*off_out = off;
	return CDNA_ST_OK;
}

/*
 * The same, the region looked up through a hint (regions.h) when not NULL.
 * Inline: the data path runs it for every descriptor, on a private copy
 * the compiler then need not copy again.
 */
static inline uint16_t
cdna_validate_req_hinted(const struct cdna_region_table *rt,
			 const struct cdna_req *req, int dir,
			 struct cdna_dma_ref *out, struct cdna_rt_hint *hint)
{
	/* Read each field once, even if the caller passed shared memory. */
	const struct cdna_req r = *req;
	struct cdna_region *reg;
	uint64_t off;
	uint16_t st;

	if (dir != CDNA_DIR_TX && dir != CDNA_DIR_RX)
		return CDNA_ST_BAD_FLAGS;
	if ((r.flags & ~CDNA_REQ_F_KNOWN) != 0)
		return CDNA_ST_BAD_FLAGS;
	/* An RX buffer is filled with one frame: it cannot be chained. */
	if (dir == CDNA_DIR_RX && (r.flags & CDNA_REQ_F_MORE) != 0)
		return CDNA_ST_BAD_FLAGS;
	if (r.reserved0 != 0 || r.reserved1 != 0 || r.reserved2 != 0)
		return CDNA_ST_BAD_FLAGS;

	if (r.len == 0 || r.len > CDNA_MAX_BUF_LEN)
		return CDNA_ST_BAD_LENGTH;
	if (dir == CDNA_DIR_TX && r.len > CDNA_MAX_FRAME_LEN)
		return CDNA_ST_BAD_LENGTH;

	st = cdna_validate_range(rt, r.addr, r.len, dir, hint, &reg, &off);
	if (st != CDNA_ST_OK)
		return st;

	/* No claim map means no way to track the DMA: refuse it. */
	if (reg->claims == NULL)
		return CDNA_ST_INVALID_USE;
	if (dir == CDNA_DIR_TX ? !cdna_claims_tx_ok(reg->claims, off, r.len) :
				 !cdna_claims_rx_ok(reg->claims, off, r.len))
		return CDNA_ST_INVALID_USE;

	out->reg = reg;
	out->off = off;
	out->len = r.len;
	return CDNA_ST_OK;
}



_Static_assert(offsetof(struct cdna_req, reserved2) ==
	       offsetof(struct cdna_req, flags) + 8, "flags..reserved1 is one word");

/* An Ethernet header: the shortest frame a TX chain may make. */
#define CDNA_ETHER_HDR_LEN	14u

/*
 * What cdna_validate_simple reads of a region the caller knows can take
 * new DMA in the direction (cdna_region_usable): the batch path's copy of
 * its first way (struct cdna_fast_ways below) for a run of requests.
 * size 0 when there is none, so that the range test below fails without a
 * test of its own.
 */
struct cdna_fast_region {
	struct cdna_region *reg;
	uint64_t gaddr;
	uint64_t size;
	uint8_t *host;
	uint8_t *claims;
};

/* Whether r can take new DMA in direction dir: not dying, the permission granted, a claim map. */
static inline int
cdna_region_usable(const struct cdna_region *r, int dir)
{
	uint32_t need = dir == CDNA_DIR_TX ? CDNA_PERM_DEV_READ :
		CDNA_PERM_DEV_WRITE;

	return !r->dying && (r->perm & need) != 0 && r->claims != NULL;
}

/*
 * f made from r when r (which may be NULL) is usable in dir, else emptied
 * (size 0); and from a hint below. The mediator keeps region pointers
 * (cdna_fast_ways); tests/fuzz/fuzz_validate.c builds its fast regions
 * with these.
 */
static inline void
cdna_fast_region_set(struct cdna_fast_region *f, struct cdna_region *r,
		     int dir)
{
	if (r != NULL && cdna_region_usable(r, dir)) {
		f->reg = r;
		f->gaddr = r->gaddr;
		f->size = r->size;
		f->host = r->host;
		f->claims = r->claims;
	} else {
		f->reg = NULL;
		f->gaddr = 0;
		f->size = 0;
		f->host = NULL;
		f->claims = NULL;
	}
}

/* The same from a hint, which must still be current. */
static inline void
cdna_fast_region_load(struct cdna_fast_region *f,
		      const struct cdna_region_table *rt,
		      const struct cdna_rt_hint *h, int dir)
{
	cdna_fast_region_set(f, h->gen == rt->gen ? h->reg : NULL, dir);
}

/*
 * The regions a queue direction's batch path holds, the most recently
 * used first: reg[0] holds the requests of the moment, and a request in
 * another region is looked for among the rest before the table's
 * bisection. A guest whose memory is a region per page (EAL without
 * --single-file-segments) has its buffers move among a few pages at a
 * time. Each is usable in the direction (cdna_region_usable), or the
 * mediator's empty region (size 0) in an unused way. They stay valid
 * while the table's generation is gen: a region's fields do not change
 * while it is in the table, and it is marked dying only once out of it.
 */
#define CDNA_FAST_WAYS 4u

struct cdna_fast_ways {
	uint64_t gen;
	struct cdna_region *reg[CDNA_FAST_WAYS];
};

/*
 * The request nearly every guest sends, recognised in a few instructions:
 * no flag and nothing reserved set (on TX: a whole frame in one segment),
 * a length the full rules accept (on TX at least an Ethernet header, so
 * the chain rules hold too), inside the usable region f. 1 and the offset
 * in f's region, else 0 and the request goes through cdna_validate_req and
 * cdna_validate_chain, which say why. It accepts nothing those refuse and
 * names the same place (the fuzzer checks both); the claims are still the
 * caller's to check.
 */
static inline int
cdna_validate_simple(const struct cdna_req *r, const struct cdna_fast_region *f,
		     int dir, uint64_t *off_out)
{
	uint64_t off = r->addr - f->gaddr, rest, end;
	uint32_t lo = dir == CDNA_DIR_TX ? CDNA_ETHER_HDR_LEN : 1u;
	uint32_t hi = dir == CDNA_DIR_TX ? CDNA_MAX_FRAME_LEN : CDNA_MAX_BUF_LEN;

	/*
	 * flags, reserved0 and reserved1 are the 8 bytes before reserved2
	 * (cdna_abi.h): all four fields zero is two words zero.
	 */
	memcpy(&rest, (const uint8_t *)r + offsetof(struct cdna_req, flags),
	       sizeof(rest));
	if ((rest | r->reserved2) != 0)
		return 0;
	/* lo <= len <= hi in one unsigned test. */
	if (r->len - lo > hi - lo)
		return 0;
	/*
	 * off + len <= size, with the carry: below gaddr, off wraps to
	 * 2^64 - k, and off + len either carries out (len >= k) or stays
	 * above any size (len < k). One add and two tests.
	 */
	end = off + r->len;
	if (end < off || end > f->size)
		return 0;
	*off_out = off;
	return 1;
}

/*
 * The rules a TX chain of n segments (private copies, the last one without
 * CDNA_REQ_F_MORE) must meet as a whole, checked in this order:
 *   BAD_CHAIN    n == 0 or n > CDNA_MAX_SEGS;
 *   BAD_LENGTH   the segments' lengths sum past CDNA_MAX_FRAME_LEN (summed
 *                without overflow) or to less than CDNA_ETHER_HDR_LEN.
 * Each segment must also pass cdna_validate_req; its faults are reported
 * first. Pure, like it; inline, as it runs once per packet on the data path.
 */
static inline uint16_t
cdna_validate_chain(const struct cdna_req *seg, uint32_t n)
{
	uint32_t i, total = 0;

	if (n == 0 || n > CDNA_MAX_SEGS)
		return CDNA_ST_BAD_CHAIN;
	for (i = 0; i < n; i++) {
		/* Overflow-safe form of total + len > CDNA_MAX_FRAME_LEN. */
		if (seg[i].len > CDNA_MAX_FRAME_LEN - total)
			return CDNA_ST_BAD_LENGTH;
		total += seg[i].len;
	}
	if (total < CDNA_ETHER_HDR_LEN)
		return CDNA_ST_BAD_LENGTH;
	return CDNA_ST_OK;
}

#endif /* CDNA_VALIDATE_H */
