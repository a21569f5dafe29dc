/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdint.h>

#include "cdna_abi.h"
#include "claims.h"
#include "regions.h"
#include "validate.h"

uint16_t
cdna_validate_req(const struct cdna_region_table *rt,
		  const struct cdna_req *req, int dir,
		  struct cdna_dma_ref *out)
{
	/* Read each field once, even if the caller passed shared memory. */
	const struct cdna_req r = *req;
	struct cdna_region *reg;
	uint64_t off;

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

	reg = cdna_rt_find(rt, r.addr);
	if (reg == NULL)
		return CDNA_ST_BAD_ADDRESS;
	/* find() guarantees gaddr <= addr < gaddr + size, so off < size. */
	off = r.addr - reg->gaddr;
	/* Overflow-safe form of off + len > size (addr + len may wrap). */
	if (r.len > reg->size - off)
		return CDNA_ST_BAD_ADDRESS;
	if (reg->dying)
		return CDNA_ST_BAD_ADDRESS;

	if (dir == CDNA_DIR_TX && (reg->perm & CDNA_PERM_DEV_READ) == 0)
		return CDNA_ST_BAD_PERM;
	if (dir == CDNA_DIR_RX && (reg->perm & CDNA_PERM_DEV_WRITE) == 0)
		return CDNA_ST_BAD_PERM;

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
