/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cdna shared-memory ABI: everything the guest PMD, the mediator (cdna-vmm)
 * and the NIC model exchange through memory. Only <stdint.h> is needed.
 *
 * Who writes a field is marked on it: (g) guest, (m) mediator, (n) NIC.
 * Everything (g) is hostile and volatile: the mediator reads it once into
 * private memory and validates the copy.
 *
 * Per guest queue pair the mediator creates two memfd areas:
 *
 *   request area (guest maps read-write; its only writable shared memory)
 *   +--------------------------------------------------------------+
 *   | 0     struct cdna_area_hdr            (m, before hand-over)   |
 *   | 64    tx_req.prod                     (g)                     |
 *   | 128   rx_req.prod                     (g)                     |
 *   | 192   tx_cmp.cons                     (g)                     |
 *   | 256   rx_cmp.cons                     (g)                     |
 *   | 4096  struct cdna_req tx_req[tx_size] (g)                     |
 *   |       struct cdna_req rx_req[rx_size] (g)                     |
 *   +--------------------------------------------------------------+
 *
 *   completion area (sealed with F_SEAL_FUTURE_WRITE: guest maps read-only)
 *   +--------------------------------------------------------------+
 *   | 0     struct cdna_area_hdr            (m)                     |
 *   | 64    tx_cmp.prod                     (m)                     |
 *   | 128   rx_cmp.prod                     (m)                     |
 *   | 192   tx_req.cons                     (m, informational)      |
 *   | 256   rx_req.cons                     (m, informational)      |
 *   | 4096  struct cdna_cmp tx_cmp[tx_size] (m)                     |
 *   |       struct cdna_cmp rx_cmp[rx_size] (m)                     |
 *   +--------------------------------------------------------------+
 *
 * Guests of the IOMMU mapping strategies (single-use, shared, persistent:
 * cdna_ctrl.h) also have a map channel per direction, map_size entries
 * each (cdna_area_hdr): their map requests (struct cdna_map_req, the
 * "hypercalls" of the ATC'08 paper) follow rx_req in the request area,
 * the mediator's answers (struct cdna_map_cmp) follow rx_cmp in the
 * completion area, and four more index lines sit at 320..575:
 *
 *   request area                     completion area
 *   320   tx_map.prod     (g)        320   tx_mapc.prod   (m)
 *   384   rx_map.prod     (g)        384   rx_mapc.prod   (m)
 *   448   tx_mapc.cons    (g)        448   tx_map.cons    (m, informational)
 *   512   rx_mapc.cons    (g)        512   rx_map.cons    (m, informational)
 *
 * The mediator answers map requests in order, one answer each.
 *
 * Indices are free-running uint32_t; slot = index & (size - 1). Each request
 * produces exactly one completion (possibly an error), so a guest may post
 * while req.prod - cmp.cons < size, and the mediator consumes a request only
 * while req.cons - cmp.cons < size: a completion always has room.
 *
 * The NIC descriptor and status rings (struct cdna_nic_desc/status) are
 * written by the mediator and the NIC only; in mediated mode the guest never
 * sees them. In passthrough mode (cdna_ctrl.h) there is no mediator between:
 * the request ring is the NIC's descriptor ring, req.prod its doorbell, the
 * completion ring its status ring and cmp.prod the NIC's status index, so a
 * request and a descriptor, a completion and a status, are laid out alike
 * (asserted below).
 */
#ifndef CDNA_ABI_H
#define CDNA_ABI_H

#include <stdint.h>

#define CDNA_ABI_MAGIC		0x414e4443u	/* "CDNA" little-endian */
#define CDNA_ABI_VERSION	1u

#define CDNA_CACHE_LINE		64u
#define CDNA_AREA_ENTRIES_OFF	4096u
#define CDNA_RING_MIN		64u
#define CDNA_RING_MAX		4096u

/* Largest frame on the wire and largest single buffer a guest may name. */
#define CDNA_MAX_FRAME_LEN	9728u

/*
 * The longest frame the NIC hands a context whose MTU is mtu: an Ethernet
 * header (14), two VLAN tags (8) and a CRC's room (4) around the payload.
 * A driver without RX scatter needs buffers at least this long.
 */
static inline uint32_t
cdna_mtu_frame_max(uint32_t mtu)
{
	return mtu + 14u + 8u + 4u;
}
#define CDNA_MAX_BUF_LEN	65535u
/* Queue pairs per guest (and per NIC context). */
#define CDNA_MAX_QUEUES		16u
/* Longest TX chain (segments of one packet). */
#define CDNA_MAX_SEGS		32u

/* One free-running ring index, alone on its cache line. */
struct cdna_index {
	uint32_t val;
	uint8_t pad[CDNA_CACHE_LINE - 4];
};

struct cdna_area_hdr {
	uint32_t magic;		/* (m) CDNA_ABI_MAGIC */
	uint32_t version;	/* (m) CDNA_ABI_VERSION */
	uint32_t tx_size;	/* (m) entries in each TX ring */
	uint32_t rx_size;	/* (m) entries in each RX ring */
	uint16_t queue_id;	/* (m) */
	uint16_t reserved0;	/* must be zero */
	uint32_t map_size;	/* (m) entries in each map ring; 0: none */
	uint8_t reserved1[40];	/* must be zero */
};

/* Layout of both areas: header, then four index lines, then entries. */
struct cdna_req_area_idx {
	struct cdna_area_hdr hdr;
	struct cdna_index tx_req_prod;	/* (g) TX requests written */
	struct cdna_index rx_req_prod;	/* (g) RX requests written */
	struct cdna_index tx_cmp_cons;	/* (g) TX completions read */
	struct cdna_index rx_cmp_cons;	/* (g) RX completions read */
	struct cdna_index tx_map_prod;	/* (g) TX map requests written */
	struct cdna_index rx_map_prod;	/* (g) RX map requests written */
	struct cdna_index tx_mapc_cons;	/* (g) TX map answers read */
	struct cdna_index rx_mapc_cons;	/* (g) RX map answers read */
};

struct cdna_cmp_area_idx {
	struct cdna_area_hdr hdr;
	struct cdna_index tx_cmp_prod;	/* (m) TX completions written */
	struct cdna_index rx_cmp_prod;	/* (m) RX completions written */
	struct cdna_index tx_req_cons;	/* (m) TX requests read (informational) */
	struct cdna_index rx_req_cons;	/* (m) RX requests read (informational) */
	struct cdna_index tx_mapc_prod;	/* (m) TX map answers written */
	struct cdna_index rx_mapc_prod;	/* (m) RX map answers written */
	struct cdna_index tx_map_cons;	/* (m) TX map requests read (informational) */
	struct cdna_index rx_map_cons;	/* (m) RX map requests read (informational) */
};

/*
 * The direction of a DMA, from the device's side, everywhere: TX reads the
 * host's memory, RX writes it.
 */
#define CDNA_DIR_TX		0
#define CDNA_DIR_RX		1

/* Request flags. */
#define CDNA_REQ_F_MORE		0x0001u	/* TX: another segment of this packet follows */
#define CDNA_REQ_F_KNOWN	CDNA_REQ_F_MORE

/* A guest request: a TX segment to send or an empty RX buffer to fill. */
struct cdna_req {
	uint64_t addr;		/* (g) guest virtual address of the buffer */
	uint32_t len;		/* (g) TX: bytes to send; RX: buffer capacity */
	uint32_t cookie;	/* (g) opaque; returned in the completion */
	uint16_t flags;		/* (g) CDNA_REQ_F_* */
	uint16_t reserved0;	/* (g) must be zero */
	uint32_t reserved1;	/* (g) must be zero */
	uint64_t reserved2;	/* (g) must be zero */
};

/* Completion and reject status; also the index of the reject counters. */
#define CDNA_ST_OK		0u
#define CDNA_ST_BAD_ADDRESS	1u	/* range not inside one region of this guest */
#define CDNA_ST_INVALID_USE	2u	/* range conflicts with an in-flight DMA */
#define CDNA_ST_BAD_LENGTH	3u	/* zero, oversize, or chain too long in bytes */
#define CDNA_ST_BAD_FLAGS	4u	/* unknown flag bit or nonzero reserved field */
#define CDNA_ST_BAD_PERM	5u	/* region does not grant this DMA direction */
#define CDNA_ST_BAD_CHAIN	6u	/* too many segments, or a bad segment in the chain */
#define CDNA_ST_ABORTED		7u	/* queue stopped before the device used it */
#define CDNA_ST_DMA_FAULT	8u	/* device address stage refused the DMA */
#define CDNA_ST_MAP_QUOTA	9u	/* map request over the guest's mapping quota */
#define CDNA_ST_COUNT		10u

struct cdna_cmp {
	uint32_t cookie;	/* (m) the request's cookie */
	uint32_t len;		/* (m) TX: bytes sent; RX: frame length */
	uint16_t status;	/* (m) CDNA_ST_* */
	uint16_t flags;		/* (m) zero in this version */
	uint32_t reserved;	/* (m) zero */
};

/* NIC descriptor: written by the mediator into a ring the guest cannot write. */
#define CDNA_DESC_F_MORE	0x0001u	/* TX chain continues in the next slot */

struct cdna_nic_desc {
	uint64_t addr;		/* (m) address for the context's address stage */
	uint32_t len;		/* (m) bytes (TX) or capacity (RX) */
	uint32_t tag;		/* (m) opaque to the NIC; echoed in the status */
	uint16_t flags;		/* (m) CDNA_DESC_F_* */
	uint16_t reserved0;	/* zero */
	uint32_t reserved1;	/* zero */
	uint64_t reserved2;	/* zero */
};

struct cdna_nic_status {
	uint32_t tag;		/* (n) the descriptor's tag */
	uint32_t len;		/* (n) bytes transferred */
	uint16_t status;	/* (n) CDNA_ST_OK, _ABORTED, _DMA_FAULT or _BAD_CHAIN */
	uint16_t flags;		/* (n) zero */
	uint32_t reserved;	/* (n) zero */
};

/*
 * A map request: make [addr, addr + len) reachable by the device in the
 * direction of the ring it is on (TX: read, RX: write), or stop that. The
 * answer carries the I/O address the guest then writes into its NIC
 * descriptor: a fresh one per mapping under single-use, the guest address
 * itself under shared and persistent (which map whole pages).
 */
#define CDNA_MAP_OP_MAP		1u
#define CDNA_MAP_OP_UNMAP	2u	/* addr: the I/O address MAP answered */

struct cdna_map_req {
	uint64_t addr;		/* (g) MAP: guest address; UNMAP: I/O address */
	uint32_t len;		/* (g) bytes, as mapped */
	uint32_t cookie;	/* (g) opaque; returned in the answer */
	uint16_t op;		/* (g) CDNA_MAP_OP_* */
	uint16_t reserved0;	/* (g) must be zero */
	uint32_t reserved1;	/* (g) must be zero */
	uint64_t reserved2;	/* (g) must be zero */
};

struct cdna_map_cmp {
	uint64_t iova;		/* (m) MAP: where the device finds addr */
	uint32_t cookie;	/* (m) the request's cookie */
	uint16_t status;	/* (m) CDNA_ST_* */
	uint16_t reserved;	/* (m) zero */
};

/* Region permissions, from the device's point of view. */
#define CDNA_PERM_DEV_READ	0x1u	/* device may read: TX buffers */
#define CDNA_PERM_DEV_WRITE	0x2u	/* device may write: RX buffers */
#define CDNA_PERM_KNOWN		(CDNA_PERM_DEV_READ | CDNA_PERM_DEV_WRITE)

static inline uint64_t
cdna_area_size(uint32_t tx_size, uint32_t rx_size, uint32_t entry_size)
{
	uint64_t sz = CDNA_AREA_ENTRIES_OFF +
		((uint64_t)tx_size + rx_size) * entry_size;

	/* Round to a page so the area can be mapped on its own. */
	return (sz + 4095u) & ~(uint64_t)4095u;
}

/* The map rings (map_size entries each, 0 for none) follow the RX entries. */
static inline uint64_t
cdna_req_area_size(uint32_t tx_size, uint32_t rx_size, uint32_t map_size)
{
	return cdna_area_size(tx_size, rx_size + 2 * map_size,
			      sizeof(struct cdna_req));
}

static inline uint64_t
cdna_cmp_area_size(uint32_t tx_size, uint32_t rx_size, uint32_t map_size)
{
	return cdna_area_size(tx_size, rx_size + 2 * map_size,
			      sizeof(struct cdna_cmp));
}

_Static_assert(sizeof(struct cdna_index) == 64, "index line");
_Static_assert(sizeof(struct cdna_area_hdr) == 64, "area header");
_Static_assert(sizeof(struct cdna_req_area_idx) == 576, "request area index block");
_Static_assert(sizeof(struct cdna_cmp_area_idx) == 576, "completion area index block");
_Static_assert(__builtin_offsetof(struct cdna_req_area_idx, tx_map_prod) == 320, "tx_map.prod");
_Static_assert(__builtin_offsetof(struct cdna_cmp_area_idx, tx_mapc_prod) == 320, "tx_mapc.prod");
_Static_assert(sizeof(struct cdna_map_req) == sizeof(struct cdna_req), "map request entry");
_Static_assert(sizeof(struct cdna_map_cmp) == sizeof(struct cdna_cmp), "map answer entry");
_Static_assert(__builtin_offsetof(struct cdna_req_area_idx, tx_req_prod) == 64, "tx_req.prod");
_Static_assert(__builtin_offsetof(struct cdna_req_area_idx, rx_req_prod) == 128, "rx_req.prod");
_Static_assert(__builtin_offsetof(struct cdna_req_area_idx, tx_cmp_cons) == 192, "tx_cmp.cons");
_Static_assert(__builtin_offsetof(struct cdna_req_area_idx, rx_cmp_cons) == 256, "rx_cmp.cons");
_Static_assert(__builtin_offsetof(struct cdna_cmp_area_idx, tx_cmp_prod) == 64, "tx_cmp.prod");
_Static_assert(__builtin_offsetof(struct cdna_cmp_area_idx, rx_cmp_prod) == 128, "rx_cmp.prod");
_Static_assert(__builtin_offsetof(struct cdna_cmp_area_idx, tx_req_cons) == 192, "tx_req.cons");
_Static_assert(__builtin_offsetof(struct cdna_cmp_area_idx, rx_req_cons) == 256, "rx_req.cons");
_Static_assert(sizeof(struct cdna_req_area_idx) <= CDNA_AREA_ENTRIES_OFF, "entries");
_Static_assert(sizeof(struct cdna_req) == 32, "request entry");
_Static_assert(__builtin_offsetof(struct cdna_req, len) == 8, "req.len");
_Static_assert(__builtin_offsetof(struct cdna_req, flags) == 16, "req.flags");
_Static_assert(sizeof(struct cdna_cmp) == 16, "completion entry");
_Static_assert(__builtin_offsetof(struct cdna_cmp, status) == 8, "cmp.status");
_Static_assert(sizeof(struct cdna_nic_desc) == 32, "NIC descriptor");
_Static_assert(sizeof(struct cdna_nic_status) == 16, "NIC status");
/* Passthrough: one ring, two names. */
_Static_assert(sizeof(struct cdna_req) == sizeof(struct cdna_nic_desc), "req = desc");
_Static_assert(__builtin_offsetof(struct cdna_req, addr) == __builtin_offsetof(struct cdna_nic_desc, addr), "req.addr");
_Static_assert(__builtin_offsetof(struct cdna_req, len) == __builtin_offsetof(struct cdna_nic_desc, len), "req.len");
_Static_assert(__builtin_offsetof(struct cdna_req, cookie) == __builtin_offsetof(struct cdna_nic_desc, tag), "req.cookie = desc.tag");
_Static_assert(__builtin_offsetof(struct cdna_req, flags) == __builtin_offsetof(struct cdna_nic_desc, flags), "req.flags");
_Static_assert(CDNA_REQ_F_MORE == CDNA_DESC_F_MORE, "MORE");
_Static_assert(sizeof(struct cdna_cmp) == sizeof(struct cdna_nic_status), "cmp = status");
_Static_assert(__builtin_offsetof(struct cdna_cmp, cookie) == __builtin_offsetof(struct cdna_nic_status, tag), "cmp.cookie = status.tag");
_Static_assert(__builtin_offsetof(struct cdna_cmp, len) == __builtin_offsetof(struct cdna_nic_status, len), "cmp.len");
_Static_assert(__builtin_offsetof(struct cdna_cmp, status) == __builtin_offsetof(struct cdna_nic_status, status), "cmp.status");
_Static_assert((CDNA_RING_MIN & (CDNA_RING_MIN - 1)) == 0, "ring min pow2");
_Static_assert((CDNA_RING_MAX & (CDNA_RING_MAX - 1)) == 0, "ring max pow2");

#endif /* CDNA_ABI_H */
