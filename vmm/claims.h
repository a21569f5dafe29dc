/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Claim map: one byte per 64-byte line of a region, counting the in-flight
 * DMA that touches the line. 0 = free; 1..CDNA_CLAIM_TX_MAX = that many
 * device reads (TX, may be shared); CDNA_CLAIM_RX = one device write (RX,
 * exclusive). A line partly covered by a range counts as covered, so the
 * protection is never coarser than 64 bytes.
 *
 * off and len are relative to the region start; callers guarantee
 * len > 0 and off + len <= region size (the validator checks that first).
 */
#ifndef CDNA_CLAIMS_H
#define CDNA_CLAIMS_H

#include <stddef.h>
#include <stdint.h>

#define CDNA_CLAIM_RX		0xffu
#define CDNA_CLAIM_TX_MAX	0xfeu

/* Bytes of claim map needed for a region of size bytes. */
size_t cdna_claims_map_len(uint64_t size);

/* Lines a range of len > 0 bytes at off touches. */
static inline uint64_t
cdna_claims_span(uint64_t off, uint32_t len)
{
	return ((off + len - 1) >> 6) - (off >> 6) + 1;
}

/* 1 if a device write (RX) may start on [off, off+len): every line free. */
int cdna_claims_rx_ok(const uint8_t *map, uint64_t off, uint32_t len);
/* 1 if a device read (TX) may start: no line held by RX, none saturated. */
int cdna_claims_tx_ok(const uint8_t *map, uint64_t off, uint32_t len);

void cdna_claims_take_rx(uint8_t *map, uint64_t off, uint32_t len);
void cdna_claims_take_tx(uint8_t *map, uint64_t off, uint32_t len);
void cdna_claims_drop_rx(uint8_t *map, uint64_t off, uint32_t len);
void cdna_claims_drop_tx(uint8_t *map, uint64_t off, uint32_t len);

/* Number of lines with any claim: 0 means nothing in flight. */
uint64_t cdna_claims_count(const uint8_t *map, size_t map_len);

#endif /* CDNA_CLAIMS_H */
