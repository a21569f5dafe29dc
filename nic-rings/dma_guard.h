/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA that survives its memory vanishing. A guest can ftruncate() the file
 * behind memory it registered; the next access to the lost pages raises
 * SIGBUS in the process doing the DMA. Every copy between guest memory and
 * the NIC's buffers runs under a recovery point: a SIGBUS whose address lies
 * in the guest side of the copy in progress jumps back to it, and the copy
 * returns -EFAULT. The handler allocates nothing and maps nothing, so
 * recovery works for every kind of memory (memfd, tmpfs, hugetlbfs) and
 * under any memory pressure (vm.max_map_count, no free huge pages).
 * A SIGBUS anywhere else is a real bug and kills the process as usual.
 *
 * The handler is process-wide. DPDK's EAL swaps in a SIGBUS handler of its
 * own for a moment while it grows its heap (dynamic memory mode); the
 * mediator allocates from that heap on the same lcore that does the
 * copies, so the two never overlap there.
 */
#ifndef CDNA_DMA_GUARD_H
#define CDNA_DMA_GUARD_H

#include <stddef.h>
#include <stdint.h>

/* Installs the SIGBUS handler, once per process. 0 or -errno. */
int cdna_dma_guard_init(void);

/*
 * Copies len bytes from src to dst; guest is whichever of the two is guest
 * memory. 0, or -EFAULT if that memory faulted (some bytes may have been
 * copied). Without cdna_dma_guard_init() a fault kills the process.
 */
int cdna_dma_copy(void *dst, const void *src, size_t len, const void *guest);

/* One copy of a burst: dst <- src, len bytes. */
struct cdna_dma_op {
	void *dst;
	const void *src;
	uint32_t len;
};

/*
 * Called before op i of a burst is copied, outside the guard: 0 to copy
 * it, anything else to leave it out. It must not copy under the guard
 * itself: a thread has one recovery point, and the burst's is in use.
 */
typedef int (*cdna_dma_before_fn)(void *arg, unsigned int i);

/*
 * The n copies of ops in order, under one recovery point: a burst pays for
 * sigsetjmp once, not once a frame. The guest side is each op's dst if
 * guest_dst, else its src. before (if not NULL) runs ahead of each copy.
 * Returns n, or the index of the copy that faulted (-EFAULT for that one,
 * as cdna_dma_copy; the ones after it are not started).
 */
unsigned int cdna_dma_copy_burst(const struct cdna_dma_op *ops, unsigned int n,
				 int guest_dst, cdna_dma_before_fn before,
				 void *arg);

/* Copies that faulted since the process started (for telemetry and tests). */
unsigned long cdna_dma_guard_faults(void);

#endif /* CDNA_DMA_GUARD_H */
