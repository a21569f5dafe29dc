/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cdna control protocol: guest PMD <-> cdna-vmm over a UNIX SOCK_SEQPACKET
 * socket. Every message, both ways, is exactly sizeof(struct cdna_msg)
 * bytes. File descriptors travel with SCM_RIGHTS only where noted:
 *
 *   guest -> mediator                       mediator -> guest (reply)
 *   HELLO          (no fd)                  HELLO|REPLY        guest id, limits
 *   REGION_ADD     1 fd: the memory         REGION_ADD|REPLY   status
 *   REGION_DEL     (no fd)                  REGION_DEL|REPLY   status
 *   QUEUE_CREATE   (no fd)                  QUEUE_CREATE|REPLY 2 fds: request
 *                                           area (rw), completion area (ro)
 *   QUEUE_DESTROY, START, STOP, SET_MAC, SET_RXMODE, SET_MTU, BYE (no fd)
 *   STATS          (no fd)                  STATS|REPLY        counters
 *
 * Every request gets exactly one reply with the same seq; status is 0 or a
 * negative errno. Any other fd that arrives is closed unread; a malformed
 * message disconnects the guest.
 */
#ifndef CDNA_CTRL_H
#define CDNA_CTRL_H

#include <stdint.h>

#include "cdna_abi.h"

#define CDNA_CTRL_MAGIC		0x4c544343u	/* "CCTL" */
#define CDNA_CTRL_VERSION	1u

enum {
	CDNA_MSG_HELLO = 1,
	CDNA_MSG_REGION_ADD = 2,
	CDNA_MSG_REGION_DEL = 3,
	CDNA_MSG_QUEUE_CREATE = 4,
	CDNA_MSG_QUEUE_DESTROY = 5,
	CDNA_MSG_START = 6,
	CDNA_MSG_STOP = 7,
	CDNA_MSG_SET_MAC = 8,
	CDNA_MSG_SET_RXMODE = 9,
	CDNA_MSG_SET_MTU = 10,
	CDNA_MSG_STATS = 11,
	CDNA_MSG_BYE = 12,
	CDNA_MSG_TYPE_MAX = 12,
};
#define CDNA_MSG_REPLY		0x8000u

#define CDNA_RXMODE_PROMISC	0x1u
#define CDNA_RXMODE_ALLMULTI	0x2u
#define CDNA_RXMODE_KNOWN	(CDNA_RXMODE_PROMISC | CDNA_RXMODE_ALLMULTI)
#define CDNA_MTU_MIN		68u
#define CDNA_MTU_MAX		(CDNA_MAX_FRAME_LEN - 18u)

struct cdna_msg_hdr {
	uint32_t magic;		/* CDNA_CTRL_MAGIC */
	uint16_t version;	/* CDNA_CTRL_VERSION */
	uint16_t type;		/* CDNA_MSG_*, | CDNA_MSG_REPLY in replies */
	uint32_t seq;		/* echoed in the reply */
	int32_t status;		/* replies: 0 or -errno; requests: must be zero */
};

/*
 * How the guest's descriptors reach the NIC, and what keeps its DMA in its
 * own memory. Mediated (the ATC'08 "software" strategy): the mediator
 * checks each request and posts the descriptor itself. Passthrough (the
 * baseline a VFIO user would compare against): the request ring *is* the
 * NIC's descriptor ring and the completion ring its status ring; the NIC
 * translates guest addresses through a direct map of the guest's
 * registered memory and aborts what falls outside it. Direct-map: the
 * same, the translation done by an emulated IOMMU (I/O page tables, an
 * IOTLB). The last two isolate guests from each other only; the
 * mediator's policy decides who may have them.
 *
 * Single-use, shared and persistent: guest-written descriptors too, but
 * through an I/O page table that holds only what the guest asked the
 * mediator to map over its map channel (cdna_abi.h), each request checked
 * against the guest's regions. Single-use maps each buffer at a fresh I/O
 * address and unmaps it when its DMA completes; shared maps pages at their
 * guest address, counted, unmapped when no DMA holds them; persistent
 * keeps them mapped for reuse, up to a quota.
 *
 * Unprotected: guest-written descriptors reaching any guest's registered
 * memory, a device with no IOMMU at all. It exists to measure what the
 * others prevent (Table 1's baseline); the vmm grants it only with
 * --allow-unprotected.
 */
#define CDNA_MODE_MEDIATED	0u
#define CDNA_MODE_PASSTHROUGH	1u
#define CDNA_MODE_DIRECT_MAP	2u
#define CDNA_MODE_SINGLE_USE	3u
#define CDNA_MODE_SHARED	4u
#define CDNA_MODE_PERSISTENT	5u
#define CDNA_MODE_UNPROTECTED	6u
#define CDNA_MODE_COUNT		7u

/* Modes with a map channel. */
static inline int
cdna_mode_maps(uint32_t mode)
{
	return mode >= CDNA_MODE_SINGLE_USE && mode <= CDNA_MODE_PERSISTENT;
}

/*
 * Entries of each map ring of a queue pair: room for a MAP and an UNMAP of
 * every descriptor the larger ring holds; 0 without a map channel.
 */
static inline uint32_t
cdna_map_ring_size(uint32_t mode, uint32_t tx_size, uint32_t rx_size)
{
	return cdna_mode_maps(mode) ?
		2 * (tx_size > rx_size ? tx_size : rx_size) : 0;
}

struct cdna_msg_hello {
	uint16_t nb_queues;	/* 1..CDNA_MAX_QUEUES */
	uint8_t mac[6];		/* requested unicast MAC, or all-zero: mediator picks */
	uint32_t mode;		/* CDNA_MODE_*; 0 (mediated) for older guests */
	uint32_t reserved;	/* must be zero */
};

struct cdna_msg_hello_reply {
	uint32_t guest_id;
	uint32_t max_regions;
	uint32_t ring_min;
	uint32_t ring_max;
	uint16_t max_queues;
	uint8_t mac[6];		/* the MAC the guest was given */
	uint32_t max_frame_len;
	uint32_t mode;		/* the mode granted: always the one asked for */
	uint32_t map_quota;	/* mapping strategies: mappings or pages it may hold */
	uint32_t reserved;	/* zero */
};

struct cdna_msg_region {
	uint64_t guest_addr;	/* guest virtual address of the first byte */
	uint64_t size;		/* bytes; multiple of 4096 */
	uint64_t fd_offset;	/* offset of guest_addr in the fd; multiple of 4096 */
	uint32_t perm;		/* CDNA_PERM_*, nonzero */
	uint32_t reserved;	/* must be zero */
};

struct cdna_msg_queue {
	uint16_t queue_id;	/* < nb_queues from HELLO */
	uint16_t reserved0;	/* must be zero */
	uint32_t tx_size;	/* power of two in [CDNA_RING_MIN, CDNA_RING_MAX] */
	uint32_t rx_size;	/* likewise */
	uint32_t reserved1;	/* must be zero */
};

struct cdna_msg_queue_reply {
	uint16_t queue_id;
	uint16_t reserved0;
	uint32_t tx_size;
	uint32_t rx_size;
	uint32_t map_size;	/* entries in each map ring (cdna_abi.h); 0: none */
	uint64_t req_area_size;	/* bytes of the read-write area fd */
	uint64_t cmp_area_size;	/* bytes of the read-only area fd */
};

struct cdna_msg_mac {
	uint8_t mac[6];		/* unicast, not all-zero */
	uint16_t reserved;	/* must be zero */
};

struct cdna_msg_rxmode {
	uint32_t mode;		/* CDNA_RXMODE_* */
	uint32_t reserved;	/* must be zero */
};

struct cdna_msg_mtu {
	uint32_t mtu;		/* CDNA_MTU_MIN..CDNA_MTU_MAX */
	uint32_t reserved;	/* must be zero */
};

/* Per-guest counters, summed over its queues. */
struct cdna_msg_stats {
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t rx_nobuf;	/* frames for this guest dropped: no RX buffer posted */
	uint64_t rx_oversize;	/* frames larger than the posted buffer */
	uint64_t ring_corrupt;	/* impossible ring indices seen (queue quarantined) */
	uint64_t reject[CDNA_ST_COUNT];	/* per CDNA_ST_* reason */
};

struct cdna_msg {
	struct cdna_msg_hdr hdr;
	union {
		struct cdna_msg_hello hello;
		struct cdna_msg_hello_reply hello_reply;
		struct cdna_msg_region region;
		struct cdna_msg_queue queue;
		struct cdna_msg_queue_reply queue_reply;
		struct cdna_msg_mac mac;
		struct cdna_msg_rxmode rxmode;
		struct cdna_msg_mtu mtu;
		struct cdna_msg_stats stats;
		uint8_t raw[240];
	} u;
};

_Static_assert(sizeof(struct cdna_msg_hdr) == 16, "msg header");
_Static_assert(sizeof(struct cdna_msg) == 256, "msg size");
_Static_assert(sizeof(struct cdna_msg_hello) == 16, "hello");
_Static_assert(sizeof(struct cdna_msg_hello_reply) == 40, "hello reply");
_Static_assert(sizeof(struct cdna_msg_region) == 32, "region");
_Static_assert(sizeof(struct cdna_msg_queue) == 16, "queue");
_Static_assert(sizeof(struct cdna_msg_queue_reply) == 32, "queue reply");
_Static_assert(sizeof(struct cdna_msg_stats) <= 240, "stats fit");
_Static_assert(__builtin_offsetof(struct cdna_msg, u) == 16, "payload offset");

#endif /* CDNA_CTRL_H */
