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

/* The closing thread. 0, or -errno (then nothing to stop). */
int guest_fd_close_start(void);
/* Closes what is queued and ends the thread, waiting at most ~1 s for it. */
void guest_fd_close_stop(void);

/* Closes fd (>= 0), a descriptor a guest sent, without ever blocking. */
void guest_fd_close(int fd);

/* Descriptors handed to the thread and not closed yet (any thread may ask). */
uint64_t guest_fd_close_pending(void);
/* Descriptors left open because the thread's queue was full. */
uint64_t guest_fd_close_dropped(void);

#endif /* CDNA_FD_CLOSE_H */
