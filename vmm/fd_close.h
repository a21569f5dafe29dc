/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Closing the file descriptors guests send. close(2) calls the file's
 * flush, and some files' flush waits for someone else: a FUSE file's for
 * its server, which the guest may run and never let answer. The control
 * path runs on the data-path lcore, so such a close would stop every
 * guest. Memory files (shmem, hugetlbfs) have no flush and are closed at
 * once; any other file goes to a thread of its own, where waiting stops
 * nobody else.
 */
#ifndef CDNA_FD_CLOSE_H
#define CDNA_FD_CLOSE_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Closes a uid's guests may leave waiting before its next connection is
 * refused: each connection can leave at most one (a guest sending a file
 * that is not memory is disconnected), so a uid cannot pile up open
 * descriptors in the vmm by reconnecting.
 */
#define GUEST_FD_CLOSE_PER_UID	4u

/* The closing thread. 0, or -errno (then nothing to stop). */
int guest_fd_close_start(void);
/*
 * Closes what is queued and ends the thread, waiting at most ~1 s for it.
 * A close stuck past that stays stuck: the process's exit may then wait
 * for the file's server as well (a FUSE flush cannot be interrupted).
 */
void guest_fd_close_stop(void);

/*
 * Closes fd, a descriptor a guest of uid sent, without ever blocking.
 * Returns 1 when it is not memory (its close was handed to the thread),
 * else 0 (closed, or fd < 0).
 */
int guest_fd_close(int fd, uid_t uid);
/* Closes of uid's descriptors still waiting (or under way). */
unsigned int guest_fd_close_pending_uid(uid_t uid);

/* Descriptors handed to the thread and not closed yet (any thread may ask). */
uint64_t guest_fd_close_pending(void);
/* Descriptors left open because the thread's queue was full. */
uint64_t guest_fd_close_dropped(void);

#endif /* CDNA_FD_CLOSE_H */
