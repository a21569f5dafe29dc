/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NIC model: a ring-based NIC with many contexts. Each context has a MAC,
 * receive filters, counters, and up to CDNA_MAX_QUEUES queue pairs, each with
 * TX and RX descriptor rings (struct cdna_nic_desc), status rings (struct
 * cdna_nic_status) and doorbells. cdna_nic_poll() is the device: it serves
 * contexts round-robin, performs each descriptor's DMA by copying between the
 * address the context's address stage returns and the wire port's mbufs,
 * writes status, and switches frames between contexts and the wire port
 * (any DPDK ethdev).
 *
 * Single-threaded: the poller and the driver of the rings (the mediator) run
 * on the same lcore; the ring indices still use cdna_ring.h ordering so the
 * two sides could be split across lcores.
 */
#ifndef CDNA_NIC_H
#define CDNA_NIC_H

#include <stdint.h>

#include "cdna_abi.h"

struct rte_mempool;
struct cdna_nic;


/*
 * Address stage: turns a descriptor address into a pointer the DMA engine
 * may use for len bytes, or NULL to abort the DMA (counted as dma_fault).
 * dir is CDNA_DIR_TX or CDNA_DIR_RX, possibly with CDNA_NIC_XLATE_PREFETCH
 * set: then the NIC only wants to prefetch what it will read soon, no DMA
 * follows from this call, and a stage that keeps statistics (or an IOTLB)
 * should not count it.
 */
#define CDNA_NIC_XLATE_PREFETCH	0x100
#define CDNA_NIC_XLATE_DIR(d)	((d) & 1)
typedef void *(*cdna_nic_xlate_fn)(void *arg, uint64_t addr, uint32_t len,
				   int dir);

/* Audit hook, for tests: called for every DMA before it is performed. */
typedef void (*cdna_nic_audit_fn)(void *arg, uint32_t ctx, uint16_t queue,
				  const void *host, uint32_t len, int dir);

/*
 * One direction of a context queue. The NIC owns its rings (mediated: the
 * driver writes the descriptors) or uses the guest's own request and
 * completion rings in place (passthrough, cdna_nic_queue_attach): then the
 * descriptors and the doorbell are guest-written, hostile and volatile, and
 * the NIC reads each descriptor once and bounds the doorbell.
 */
struct cdna_nic_ring {
	struct cdna_nic_desc *desc;	/* (m) or, passthrough, (g) entries */
	struct cdna_nic_status *status;	/* (n) entries, same size */
	struct cdna_index *tail;	/* (m)/(g) doorbell: descriptors posted */
	struct cdna_index *st_prod;	/* (n) status entries written */
	uint32_t size;
	uint32_t mask;
	int guest_written;		/* desc and tail belong to the guest */
	int skip_chain;			/* (n) refusing the rest of an overlong chain */
	struct cdna_index head;		/* (n) descriptors consumed */
	uint32_t st_prod_v;		/* (n) status entries written ... */
	uint32_t st_pub;		/* ... and published: once per service */
	struct cdna_index st_cons;	/* (m) status entries read (mediated) */
	struct cdna_index own_tail;	/* where tail and st_prod point when */
	struct cdna_index own_st_prod;	/* the NIC owns the rings */
	/*
	 * Completion events (cdna_nic_events_take): a ring whose owner is set
	 * (the driver's, NULL for none) joins the NIC's event list when its
	 * statuses are published, and not again until the driver clears
	 * ev_pending.
	 */
	void *owner;
	struct cdna_nic_ring *ev_next;	/* (n) the rest of the event list */
	int ev_pending;			/* set (n), cleared (m): listed */
};

struct cdna_nic_queue {
	struct cdna_nic_ring tx;
	struct cdna_nic_ring rx;
	int active;
};

struct cdna_nic_ctx_stats {
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t rx_nobuf;	/* frame for this context, no RX descriptor posted */
	uint64_t rx_oversize;	/* frame larger than the next RX buffer */
	uint64_t dma_fault;	/* address stage refused a DMA */
	uint64_t tx_bad_chain;	/* TX chain longer than CDNA_MAX_FRAME_LEN */
	uint64_t tx_spoofed;	/* TX frame dropped: source MAC not the context's */
	uint64_t doorbell_bad;	/* passthrough: a doorbell past the ring's end */
	uint64_t bad_dma;	/* DMAs the fault injector sent astray */
};

struct cdna_nic_stats {
	uint64_t wire_rx;
	uint64_t wire_tx;
	uint64_t wire_tx_drop;	/* wire port refused the frame */
	uint64_t wire_rx_unmatched; /* wire frames no context's filter accepted */
	uint64_t switched;	/* context-to-context deliveries attempted (one per receiver) */
	uint64_t mbuf_alloc_fail;
};

struct cdna_nic_config {
	uint16_t wire_port;	/* a started DPDK ethdev */
	uint16_t wire_queue;	/* its RX/TX queue used by this NIC */
	struct rte_mempool *mp;	/* for wire-bound frames; data room >= max frame */
	uint32_t max_contexts;
	int socket_id;		/* NUMA node for NIC state */
	unsigned int burst;	/* descriptors per context per poll, <= 64 */
};

struct cdna_nic *cdna_nic_create(const struct cdna_nic_config *cfg);
void cdna_nic_destroy(struct cdna_nic *nic);

/* A new context: returns its id (>= 0) or -ENOSPC. */
int cdna_nic_ctx_alloc(struct cdna_nic *nic, const uint8_t mac[6],
		       uint16_t nb_queues, cdna_nic_xlate_fn xlate, void *arg);
/* Frees a context; every queue must have been destroyed. */
void cdna_nic_ctx_free(struct cdna_nic *nic, uint32_t ctx);

void cdna_nic_ctx_set_mac(struct cdna_nic *nic, uint32_t ctx, const uint8_t mac[6]);
void cdna_nic_ctx_set_rxmode(struct cdna_nic *nic, uint32_t ctx, int promisc, int allmulti);
/* Spoof check: drop TX frames whose source MAC is not the context's. */
void cdna_nic_ctx_set_spoof_check(struct cdna_nic *nic, uint32_t ctx, int on);
void cdna_nic_ctx_set_mtu(struct cdna_nic *nic, uint32_t ctx, uint32_t mtu);
const struct cdna_nic_ctx_stats *cdna_nic_ctx_stats(const struct cdna_nic *nic, uint32_t ctx);
const struct cdna_nic_stats *cdna_nic_stats(const struct cdna_nic *nic);

/*
 * The rings given statuses since the last take, each once, as a list
 * through ev_next; only rings with an owner. The caller clears each
 * ring's ev_pending as it handles it, before anything that may publish to
 * that ring again (a flush), so that a later publish lists it anew. Rings
 * with no event have nothing new to reclaim: a driver visits these, not
 * every queue of every guest. A queue destroyed leaves the list not yet
 * taken; no queue may be destroyed while a taken list is being walked.
 */
struct cdna_nic_ring *cdna_nic_events_take(struct cdna_nic *nic);

/* Rings for queue q of ctx (sizes powers of two); inactive until enabled. */
struct cdna_nic_queue *cdna_nic_queue_create(struct cdna_nic *nic, uint32_t ctx,
					     uint16_t q, uint32_t tx_size,
					     uint32_t rx_size);
/*
 * Passthrough: queue q of ctx uses the guest's rings in place. desc and
 * tail are guest-written (the guest's request ring and producer index);
 * status and st_prod are the guest's read-only completion ring and index.
 * The memory stays the caller's; sizes are powers of two.
 */
struct cdna_nic_ext_ring {
	struct cdna_nic_desc *desc;
	struct cdna_nic_status *status;
	struct cdna_index *tail;
	struct cdna_index *st_prod;
	uint32_t size;
};
struct cdna_nic_queue *cdna_nic_queue_attach(struct cdna_nic *nic, uint32_t ctx,
					     uint16_t q,
					     const struct cdna_nic_ext_ring *tx,
					     const struct cdna_nic_ext_ring *rx);
void cdna_nic_queue_enable(struct cdna_nic *nic, uint32_t ctx, uint16_t q, int on);
/*
 * Stops queue q: performs every TX descriptor already posted, aborts every
 * posted RX descriptor (status CDNA_ST_ABORTED) and disables the queue. After
 * it returns, every posted descriptor has a status entry.
 */
void cdna_nic_queue_flush(struct cdna_nic *nic, uint32_t ctx, uint16_t q);
void cdna_nic_queue_destroy(struct cdna_nic *nic, uint32_t ctx, uint16_t q);

/*
 * A context is faulted when its memory vanished under a DMA (its owner
 * truncated the file: see dma_guard.h), or when a passthrough guest rang a
 * doorbell past its ring's end; the NIC marks it itself. Every DMA of a
 * faulted context ends with CDNA_ST_DMA_FAULT and a guest-written ring is
 * no longer read. cdna_nic_ctx_fault() marks one by hand (the driver's own
 * reasons, tests).
 */
#define CDNA_NIC_FAULT_NONE	0
#define CDNA_NIC_FAULT_MANUAL	1	/* cdna_nic_ctx_fault() */
#define CDNA_NIC_FAULT_MEMORY	2	/* SIGBUS under a DMA */
#define CDNA_NIC_FAULT_DOORBELL	3	/* tail - head > ring size */

struct cdna_nic_fault {
	int why;			/* CDNA_NIC_FAULT_* */
	uint16_t queue;			/* DOORBELL: where, and the values */
	int dir;			/* CDNA_DIR_* */
	uint32_t tail;
	uint32_t head;
	uint32_t size;
};

void cdna_nic_ctx_fault(struct cdna_nic *nic, uint32_t ctx);
/* Nonzero (a CDNA_NIC_FAULT_*) once faulted; the record says more. */
int cdna_nic_ctx_faulted(const struct cdna_nic *nic, uint32_t ctx);
const struct cdna_nic_fault *cdna_nic_ctx_fault_info(const struct cdna_nic *nic,
						     uint32_t ctx);
/* Contexts newly faulted since the last call: 0 means none to look for. */
uint32_t cdna_nic_take_faults(struct cdna_nic *nic);

void cdna_nic_set_audit(struct cdna_nic *nic, cdna_nic_audit_fn fn, void *arg);

/*
 * Bad-device fault injection (the ATC'08 paper's third fault class; tests
 * and cdna-vmm --fault-injection only): the next count DMAs of ctx go to
 * addr, in the context's own address space and through its address stage,
 * instead of where their descriptors say, for the descriptor's length. A
 * DMA the stage refuses ends in CDNA_ST_DMA_FAULT; one it lets through is
 * performed. Counted as bad_dma either way.
 */
void cdna_nic_inject_bad_dma(struct cdna_nic *nic, uint32_t ctx, uint64_t addr,
			     uint32_t count);

/* One round of device work. Returns the number of frames moved. */
unsigned int cdna_nic_poll(struct cdna_nic *nic);

#endif /* CDNA_NIC_H */
