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
 * Honest guests send memory only, which never waits here; the per-uid cap
 * (GUEST_FD_CLOSE_PER_UID) bounds what hostile ones queue. Beyond the queue
 * a descriptor stays open (counted, said once) rather than stop the vmm.
 */
#define FD_CLOSE_QUEUE	256u

struct fd_close_item {
	int fd;
	uid_t uid;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running;
	int stop;
	struct fd_close_item q[FD_CLOSE_QUEUE];
	uint32_t head, tail;	/* tail - head queued */
	int closing;		/* the thread is in close(2) ... */
	uid_t closing_uid;	/* ... of this uid's descriptor */
	uint64_t pending;	/* queued + the one being closed */
	uint64_t dropped;
} fc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

static void *
fd_close_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fc.lock);
	for (;;) {
		int fd;

		while (fc.head == fc.tail && !fc.stop)
			pthread_cond_wait(&fc.wake, &fc.lock);
		if (fc.head == fc.tail)
			break;	/* stopping, nothing left */
		fd = fc.q[fc.head % FD_CLOSE_QUEUE].fd;
		fc.closing_uid = fc.q[fc.head % FD_CLOSE_QUEUE].uid;
		fc.closing = 1;
		fc.head++;
		pthread_mutex_unlock(&fc.lock);
		close(fd);	/* may wait as long as the file's owner likes */
		pthread_mutex_lock(&fc.lock);
		fc.closing = 0;
		__atomic_store_n(&fc.pending, fc.pending - 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&fc.lock);
	return NULL;
}

int
guest_fd_close_start(void)
{
	sigset_t all, old;
	int rc;

	/*
	 * Created with every signal blocked, which it keeps: SIGINT and
	 * SIGTERM are the lcore's to see, not a waiting close's.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&fc.thread, NULL, fd_close_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

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
		/* Stuck in a close, which the exit may wait for as well. */
		VLOG(WARNING, "warning: %" PRIu64 " guest descriptor(s) still closing at exit (a file whose flush does not end)",
		     guest_fd_close_pending());
		pthread_detach(fc.thread);
	}
	fc.running = 0;
}

int
guest_fd_close(int fd, uid_t uid)
{
	int said = 0;

	if (fd < 0)
		return 0;
	/* shmem and hugetlbfs alone answer F_GET_SEALS; neither has a flush. */
	if (fcntl(fd, F_GET_SEALS) >= 0) {
		close(fd);
		return 0;
	}
	if (!fc.running) {
		close(fd);	/* start-up or exit: no guest is served */
		return 1;
	}
	pthread_mutex_lock(&fc.lock);
	if (fc.tail - fc.head < FD_CLOSE_QUEUE) {
		fc.q[fc.tail % FD_CLOSE_QUEUE] = (struct fd_close_item){ fd, uid };
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
	return 1;
}

unsigned int
guest_fd_close_pending_uid(uid_t uid)
{
	unsigned int n;
	uint32_t i;

	pthread_mutex_lock(&fc.lock);
	n = fc.closing && fc.closing_uid == uid;
	for (i = fc.head; i != fc.tail; i++)
		n += fc.q[i % FD_CLOSE_QUEUE].uid == uid;
	pthread_mutex_unlock(&fc.lock);
	return n;
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
