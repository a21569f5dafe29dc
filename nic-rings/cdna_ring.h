/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ordering helpers for the free-running indices of cdna_abi.h. Every index
 * published to a peer is stored with release (the entries written before it
 * become visible first) and every index read from a peer is loaded with
 * acquire (the entries read after it are the ones the peer published).
 */
#ifndef CDNA_RING_H
#define CDNA_RING_H

#include <stdatomic.h>
#include <stdint.h>

#include "cdna_abi.h"

static inline uint32_t
cdna_load_acquire(const struct cdna_index *ix)
{
	return atomic_load_explicit((const _Atomic uint32_t *)&ix->val,
				    memory_order_acquire);
}

static inline void
cdna_store_release(struct cdna_index *ix, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)&ix->val, v,
			      memory_order_release);
}

static inline int
cdna_is_pow2(uint32_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* Entries of the request/completion rings inside a mapped area. */
static inline struct cdna_req *
cdna_area_tx_req(void *area)
{
	return (struct cdna_req *)((uint8_t *)area + CDNA_AREA_ENTRIES_OFF);
}

static inline struct cdna_req *
cdna_area_rx_req(void *area, uint32_t tx_size)
{
	return cdna_area_tx_req(area) + tx_size;
}

static inline struct cdna_cmp *
cdna_area_tx_cmp(void *area)
{
	return (struct cdna_cmp *)((uint8_t *)area + CDNA_AREA_ENTRIES_OFF);
}

static inline struct cdna_cmp *
cdna_area_rx_cmp(void *area, uint32_t tx_size)
{
	return cdna_area_tx_cmp(area) + tx_size;
}

/* The map rings (cdna_abi.h): after the RX entries, TX's then RX's. */
static inline struct cdna_map_req *
cdna_area_map_req(void *area, uint32_t tx_size, uint32_t rx_size,
		  uint32_t map_size, int dir)
{
	return (struct cdna_map_req *)(cdna_area_rx_req(area, tx_size) +
				       rx_size) + (dir ? map_size : 0);
}

static inline struct cdna_map_cmp *
cdna_area_map_cmp(void *area, uint32_t tx_size, uint32_t rx_size,
		  uint32_t map_size, int dir)
{
	return (struct cdna_map_cmp *)(cdna_area_rx_cmp(area, tx_size) +
				       rx_size) + (dir ? map_size : 0);
}

#endif /* CDNA_RING_H */
