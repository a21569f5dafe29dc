/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: accepts guests, checks their credentials, receives
 * fixed-size messages with their fds, and sends the replies. What a message
 * means is guest.c's business; this file only frames it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fd_close.h"
#include "vmm.h"

#define CTRL_MAX_FDS	4	/* more than any message carries: extras are closed */

/*
 * One vmm per socket: an flock on "<socket>.lock", held while we run,
 * tells a live owner from a stale socket left by one that died (which may
 * be replaced). The lock file says the owner's pid.
 */
static int
socket_lock(struct vmm *v)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8], pid[32];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s.lock", v->opt.socket_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
		  O_NOCTTY, 0600);
	if (fd < 0) {
		fprintf(stderr, "cdna-vmm: --socket %s: cannot open %s: %s\n",
			v->opt.socket_path, path, strerror(errno));
		return -1;
	}
	/*
	 * Ours alone: in a directory others may write, someone else's file
	 * (or a hard link to one of ours) must neither block us with its lock
	 * nor be truncated by us.
	 */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_nlink != 1 ||
	    (st.st_mode & 022) != 0) {
		fprintf(stderr, "cdna-vmm: --socket %s: %s is not a regular file of uid %u with one link and mode 0600 (uid %u, %u links, mode 0%o): remove it\n",
			v->opt.socket_path, path, (unsigned int)geteuid(),
			(unsigned int)st.st_uid, (unsigned int)st.st_nlink,
			(unsigned int)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr, "cdna-vmm: --socket %s: %s\n", v->opt.socket_path,
			e == EWOULDBLOCK ?
			"another cdna-vmm owns it (it holds the .lock file)" :
			strerror(e));
		if (e == EWOULDBLOCK && pid[0] != '\0')
			fprintf(stderr, "cdna-vmm: --socket %s: owner pid %s\n",
				v->opt.socket_path, pid);
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		fprintf(stderr, "cdna-vmm: warning: cannot write pid to %s: %s\n",
			path, strerror(errno));
	v->lock_fd = fd;
	return 0;
}

int
control_init(struct vmm *v)
{
	struct sockaddr_un sun;
	struct epoll_event ev;
	struct stat st;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, v->opt.socket_path);	/* length checked by options */
	if (socket_lock(v) != 0)
		return -1;
	/* Replace a stale socket, never another kind of file. */
	if (lstat(sun.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "cdna-vmm: --socket %s exists and is not a socket\n",
				sun.sun_path);
			return -1;
		}
		unlink(sun.sun_path);
	}
	v->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (v->listen_fd < 0) {
		fprintf(stderr, "cdna-vmm: socket(AF_UNIX, SOCK_SEQPACKET): %s\n",
			strerror(errno));
		return -1;
	}
	if (bind(v->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(v->listen_fd, 16) != 0) {
		fprintf(stderr, "cdna-vmm: cannot listen on %s: %s\n",
			sun.sun_path, strerror(errno));
		close(v->listen_fd);
		return -1;
	}
	v->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (v->epoll_fd < 0) {
		fprintf(stderr, "cdna-vmm: epoll_create1: %s\n", strerror(errno));
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;	/* NULL marks the listening socket */
	if (epoll_ctl(v->epoll_fd, EPOLL_CTL_ADD, v->listen_fd, &ev) != 0) {
		fprintf(stderr, "cdna-vmm: epoll_ctl: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int
uid_allowed(const struct vmm *v, uid_t uid)
{
	unsigned int i;

	for (i = 0; i < v->opt.nb_allow_uid; i++)
		if (v->opt.allow_uid[i] == uid)
			return 1;
	return 0;
}

static void
control_accept(struct vmm *v)
{
	struct epoll_event ev;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct guest *g;
	int fd;

	fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		vlog_uid((uid_t)-1, "refused a guest: SO_PEERCRED: %s",
			 strerror(errno));
		close(fd);
		return;
	}
	if (!uid_allowed(v, cred.uid)) {
		vlog_uid(cred.uid, "refused a guest: pid %d uid %u not in --allow-uid",
			 (int)cred.pid, (unsigned int)cred.uid);
		close(fd);
		return;
	}
	if (guest_fd_close_pending_uid(cred.uid) >= GUEST_FD_CLOSE_PER_UID) {
		vlog_uid(cred.uid, "refused a guest: pid %d uid %u: %u files its guests sent still wait for close(2) (at most %u)",
			 (int)cred.pid, (unsigned int)cred.uid,
			 guest_fd_close_pending_uid(cred.uid), GUEST_FD_CLOSE_PER_UID);
		close(fd);
		return;
	}
	g = guest_new(v, fd, cred.pid, cred.uid);
	if (g == NULL) {
		close(fd);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = g;
	if (epoll_ctl(v->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		guest_teardown(v, g, "epoll_ctl failed");
		return;
	}
}

/*
 * Receives one message. Returns its length (0 on orderly close, -1 on error)
 * and at most one fd in *fd (-1 if none); *nfds counts every fd that came,
 * all but the first already closed.
 */
static ssize_t
control_recv(int sock, uid_t uid, struct cdna_msg *m, int *fd, int *nfds,
	     int *truncated)
{
	char cbuf[CMSG_SPACE(CTRL_MAX_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	*nfds = 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	memset(m, 0, sizeof(*m));
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return -1;
	*truncated = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t i, cnt;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < cnt; i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = f;
			else
				guest_fd_close(f, uid);	/* only one fd is ever expected */
			(*nfds)++;
		}
	}
	return n;
}

static int
control_send(int sock, const struct cdna_msg *m, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)(uintptr_t)m, .iov_len = sizeof(*m) };
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) ==
		(ssize_t)sizeof(*m) ? 0 : -1;
}

static void
control_guest_readable(struct vmm *v, struct guest *g)
{
	struct cdna_msg m, reply;
	int fd, nfds, truncated, reply_fds[2], nb_reply_fds = 0, i;
	char why[160];
	ssize_t n;

	n = control_recv(g->fd, g->uid, &m, &fd, &nfds, &truncated);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/*
		 * recvmsg() returns 0 both at the peer's close and for an
		 * empty message; only the latter can carry fds.
		 */
		guest_fd_close(fd, g->uid);
		if (n == 0 && nfds > 0) {
			snprintf(why, sizeof(why),
				 "protocol: empty message carrying %d fds", nfds);
			guest_teardown(v, g, why);
			return;
		}
		guest_teardown(v, g, n == 0 ? "closed the control socket" :
			       "control socket error");
		return;
	}
	if (truncated) {
		guest_fd_close(fd, g->uid);
		snprintf(why, sizeof(why),
			 "protocol: message longer than %zu bytes or too many fds (%d)",
			 sizeof(m), nfds);
		guest_teardown(v, g, why);
		return;
	}
	if (cdna_ctrl_check(&m, (size_t)n, nfds, &v->lim, g->nb_queues,
			    why, sizeof(why)) != 0) {
		char msg[200];

		guest_fd_close(fd, g->uid);
		snprintf(msg, sizeof(msg), "protocol: %s", why);
		guest_teardown(v, g, msg);
		return;
	}
	memset(&reply, 0, sizeof(reply));
	reply.hdr.magic = CDNA_CTRL_MAGIC;
	reply.hdr.version = CDNA_CTRL_VERSION;
	reply.hdr.type = (uint16_t)(m.hdr.type | CDNA_MSG_REPLY);
	reply.hdr.seq = m.hdr.seq;
	/* guest_handle owns fd from here on. */
	reply.hdr.status = guest_handle(v, g, &m, fd, &reply, reply_fds,
					&nb_reply_fds);
	if (reply.hdr.status != 0)
		nb_reply_fds = 0;
	if (control_send(g->fd, &reply, reply_fds, nb_reply_fds) != 0 &&
	    g->fault[0] == '\0')
		snprintf(g->fault, sizeof(g->fault), "reply to %u failed: %s",
			 (unsigned int)m.hdr.type, strerror(errno));
	for (i = 0; i < nb_reply_fds; i++)
		close(reply_fds[i]);
	if (m.hdr.type == CDNA_MSG_BYE && g->fault[0] == '\0')
		snprintf(g->fault, sizeof(g->fault), "said BYE");
	if (g->fault[0] != '\0')
		guest_teardown(v, g, g->fault);
}

void
control_poll(struct vmm *v, int timeout_ms)
{
	struct epoll_event ev[16];
	int n, i;

	n = epoll_wait(v->epoll_fd, ev, 16, timeout_ms);
	for (i = 0; i < n; i++) {
		if (ev[i].data.ptr == NULL)
			control_accept(v);
		else
			control_guest_readable(v, ev[i].data.ptr);
	}
}

void
control_fini(struct vmm *v)
{
	uint32_t i;

	for (i = 0; i < v->opt.max_guests; i++)
		if (v->guests[i] != NULL)
			guest_teardown(v, v->guests[i], "cdna-vmm is shutting down");
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->opt.socket_path);
	}
	/*
	 * The lock file stays: unlinking it would let one vmm lock the old
	 * file and the next one a new file, both "owning" the socket.
	 */
	if (v->lock_fd >= 0) {
		close(v->lock_fd);
		v->lock_fd = -1;
	}
	if (v->epoll_fd >= 0)
		close(v->epoll_fd);
}
