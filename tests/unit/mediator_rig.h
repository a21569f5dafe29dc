/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The real vmm/mediator.c on its own, with no EAL and no NIC model: one
 * guest with one queue and a 1 MiB region of ordinary memory (more on
 * request, and idle guests beside it), and a stub NIC that completes
 * descriptors in the same thread. The guest's side is
 * played by the caller through the queue's rings. Used by
 * tests/unit/test_mediator.c (the data path's rules, and a NIC that
 * reports what it was never given), tests/fuzz/fuzz_mediator.c (a fuzzed
 * guest) and bench/mediator_micro.c (instructions per descriptor).
 */
#ifndef CDNA_MEDIATOR_RIG_H
#define CDNA_MEDIATOR_RIG_H

#include <stdint.h>

#include "cdna_ring.h"
#include "vmm.h"

#define RIG_RING	256u			/* entries of every ring */
#define RIG_MEM		(1u << 20)		/* bytes of the one region */
#define RIG_GADDR	0x100000000ull		/* its guest address */

/*
 * What the stub NIC writes for a descriptor it completes (s already holds
 * the honest status: its tag, OK, the TX length or rx_frame). May change
 * any field of *s.
 */
typedef void (*rig_nic_hook)(const struct cdna_nic_desc *d,
			     struct cdna_nic_status *s, int is_rx);

/* A region the mediator retires (its last DMA reclaimed, the region dying). */
typedef void (*rig_retire_hook)(struct guest *g, struct cdna_region *r);

struct rig {
	struct guest *g;
	struct cdna_region *r;
	uint8_t *mem;			/* the region's memory */
	struct mq_dir *tx, *rx;		/* the queue's two directions */
	rig_nic_hook hook;		/* NULL: every status honest */
	void (*before_nic)(void);	/* called as the NIC's poll starts, if set */
	rig_retire_hook retire;		/* NULL: a retirement aborts the test */
	int hold;			/* nonzero: the NIC completes nothing */
	uint32_t rx_frame;		/* bytes an RX buffer receives */
	unsigned int quarantines;	/* queues the mediator quarantined */
};

extern struct vmm vmm;		/* the one mediator.c serves */
extern struct rig rig;

/* Sets up vmm, the guest, its region and queue; burst as --burst. */
void rig_init(uint32_t burst);

/*
 * After rig_init: n more started guests beside the first, each with one
 * queue that never has a request (what polling them costs), up to
 * RIG_IDLE_MAX in all.
 */
#define RIG_IDLE_MAX	63u
void rig_add_idle(unsigned int n);

/*
 * After rig_init: another region of the guest, size bytes of fresh memory
 * at guest address gaddr (clear of the others), readable and writable by
 * the device.
 */
struct cdna_region *rig_add_region(uint64_t gaddr, uint32_t size);

/* The guest: writes request number idx of d's ring (not yet published). */
void rig_req(struct mq_dir *d, uint32_t idx, uint64_t addr, uint32_t len,
	     uint32_t cookie, uint16_t flags);

/* The guest: publishes its requests up to prod; takes completions up to cons. */
void rig_publish(struct mq_dir *d, uint32_t prod);
void rig_consume(struct mq_dir *d, uint32_t cons);

#endif /* CDNA_MEDIATOR_RIG_H */
