/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest descriptors closed off the data path (fd_close.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fd_close.h"
#include "vlog.h"

/*
 * Deep enough for every guest's worst honest burst of refused messages;
 * beyond it the thread is stuck on a file whose flush never ends, and what
 * comes next stays open (counted, said once) rather than stopping the vmm.
 */
#define FD_CLOSE_QUEUE	1024u

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running;
	int stop;
	int q[FD_CLOSE_QUEUE];
	uint32_t head, tail;	/* tail - head queued */
	uint64_t pending;	/* queued + the one being closed */
	uint64_t dropped;
} fc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

static void *
fd_close_main(void *arg)
{
	sigset_t all;

	(void)arg;
	/* SIGINT and SIGTERM are the lcore's to see, not a waiting close's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&fc.lock);
	for (;;) {
		int fd;

		while (fc.head == fc.tail && !fc.stop)
			pthread_cond_wait(&fc.wake, &fc.lock);
		if (fc.head == fc.tail)
			break;	/* stopping, nothing left */
		fd = fc.q[fc.head % FD_CLOSE_QUEUE];
		fc.head++;
		pthread_mutex_unlock(&fc.lock);
		close(fd);	/* may wait as long as the file's owner likes */
		pthread_mutex_lock(&fc.lock);
		__atomic_store_n(&fc.pending, fc.pending - 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&fc.lock);
	return NULL;
}

int
guest_fd_close_start(void)
{
	int rc = pthread_create(&fc.thread, NULL, fd_close_main, NULL);

	if (rc != 0) {
		VLOG(ERR, "error: cannot start the thread that closes guests' descriptors: %s",
		     strerror(rc));
		return -rc;
	}
	(void)pthread_setname_np(fc.thread, "cdna-fd-close");
	fc.running = 1;
	return 0;
}

void
guest_fd_close_stop(void)
{
	struct timespec until;
	int rc;

	if (!fc.running)
		return;
	pthread_mutex_lock(&fc.lock);
	fc.stop = 1;
	pthread_cond_signal(&fc.wake);
	pthread_mutex_unlock(&fc.lock);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	rc = pthread_timedjoin_np(fc.thread, NULL, &until);
	if (rc != 0) {
		/* Stuck in a close: the process's exit must not wait on it. */
		VLOG(WARNING, "warning: %" PRIu64 " guest descriptor(s) still closing at exit",
		     guest_fd_close_pending());
		pthread_detach(fc.thread);
	}
	fc.running = 0;
}

void
guest_fd_close(int fd)
{
	int said = 0;

	if (fd < 0)
		return;
	/* shmem and hugetlbfs alone answer F_GET_SEALS; neither has a flush. */
	if (!fc.running || fcntl(fd, F_GET_SEALS) >= 0) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&fc.lock);
	if (fc.tail - fc.head < FD_CLOSE_QUEUE) {
		fc.q[fc.tail % FD_CLOSE_QUEUE] = fd;
		fc.tail++;
		__atomic_store_n(&fc.pending, fc.pending + 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&fc.wake);
	} else {
		said = fc.dropped == 0;
		__atomic_store_n(&fc.dropped, fc.dropped + 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&fc.lock);
	if (said)
		VLOG(WARNING, "warning: %u guest descriptors wait for close(2) (a file whose flush does not end); further ones stay open, counted in guest_fds_unclosed",
		     FD_CLOSE_QUEUE);
}

uint64_t
guest_fd_close_pending(void)
{
	return __atomic_load_n(&fc.pending, __ATOMIC_RELAXED);
}

uint64_t
guest_fd_close_dropped(void)
{
	return __atomic_load_n(&fc.dropped, __ATOMIC_RELAXED);
}
