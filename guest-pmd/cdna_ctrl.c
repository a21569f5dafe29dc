/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_cdna control channel: one SOCK_SEQPACKET connection to cdna-vmm,
 * strictly request/reply, serialized by ctrl_lock. Also shares the DPDK
 * memory holding packet buffers, at probe and on memory hot-plug.
 *
 * Lock order: the EAL memory hot-plug lock, then ctrl_lock. Nothing may
 * allocate or free DPDK memory while holding ctrl_lock, since that can
 * call back into cdna_mem_event() on the same thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal_memconfig.h>
#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_string_fns.h>

#include "cdna_pmd.h"

#define CDNA_MAX_FDS	2u
/* EAL tells callbacks apart by name and argument: one name serves all ports. */
#define CDNA_MEM_CB_NAME	"net_cdna"

static const char * const cdna_msg_names[] = {
	[CDNA_MSG_HELLO] = "HELLO",
	[CDNA_MSG_REGION_ADD] = "REGION_ADD",
	[CDNA_MSG_REGION_DEL] = "REGION_DEL",
	[CDNA_MSG_QUEUE_CREATE] = "QUEUE_CREATE",
	[CDNA_MSG_QUEUE_DESTROY] = "QUEUE_DESTROY",
	[CDNA_MSG_START] = "START",
	[CDNA_MSG_STOP] = "STOP",
	[CDNA_MSG_SET_MAC] = "SET_MAC",
	[CDNA_MSG_SET_RXMODE] = "SET_RXMODE",
	[CDNA_MSG_SET_MTU] = "SET_MTU",
	[CDNA_MSG_STATS] = "STATS",
	[CDNA_MSG_BYE] = "BYE",
};

const char *
cdna_msg_name(uint16_t type)
{
	type &= (uint16_t)~CDNA_MSG_REPLY;
	if (type < RTE_DIM(cdna_msg_names) && cdna_msg_names[type] != NULL)
		return cdna_msg_names[type];
	return "UNKNOWN";
}

static void
cdna_close_fds(int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/*
 * Called with ctrl_lock held: the channel is unusable from now on. Unless
 * the mediator closed it, our end is shut for writing: the mediator then
 * reads its end, tears this guest down, and closes, which
 * cdna_ctrl_wait_gone waits for before posted buffers are reused.
 */
static void
cdna_mark_dead(struct cdna_priv *priv, const char *why, uint16_t type)
{
	if (!priv->dead)
		PMD_LOG(ERR, "%s: control channel to %s lost%s%s: %s; "
			"device disabled", priv->name, priv->args.path,
			type != 0 ? " during " : "",
			type != 0 ? cdna_msg_name(type) : "", why);
	if (!priv->dead && !priv->peer_gone && priv->sock >= 0)
		shutdown(priv->sock, SHUT_WR);
	__atomic_store_n(&priv->dead, 1, __ATOMIC_RELAXED);
}

static int
cdna_send(struct cdna_priv *priv, const struct cdna_msg *req, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {
		.iov_base = (void *)(uintptr_t)req,
		.iov_len = sizeof(*req),
	};
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do {
		n = sendmsg(priv->sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			priv->peer_gone = 1;
		return -errno;
	}
	if ((size_t)n != sizeof(*req))
		return -EPROTO;
	return 0;
}

/* Receive one reply; any fds that came with it are stored in fds[]. */
static int
cdna_recv(struct cdna_priv *priv, struct cdna_msg *rep, int *fds,
		unsigned int *nb_fds, const char **why)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {
		.iov_base = rep,
		.iov_len = sizeof(*rep),
	};
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;
	int ret = 0;

	*nb_fds = 0;
	do {
		n = recvmsg(priv->sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		*why = (errno == EAGAIN || errno == EWOULDBLOCK) ?
			"no reply before the timeout" : strerror(errno);
		if (errno == ECONNRESET)
			priv->peer_gone = 1;
		return -EIO;
	}

	/* Collect every fd first so none leaks, whatever else is wrong. */
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k, cnt;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(fd));
			if (*nb_fds < CDNA_MAX_FDS) {
				fds[(*nb_fds)++] = fd;
			} else {
				close(fd);
				*why = "too many file descriptors in reply";
				ret = -EPROTO;
			}
		}
	}

	if (n == 0) {
		*why = "mediator closed the connection";
		priv->peer_gone = 1;
		ret = -EIO;
	} else if ((size_t)n != sizeof(*rep) || (mh.msg_flags & MSG_TRUNC)) {
		*why = "reply has the wrong size";
		ret = -EPROTO;
	} else if (mh.msg_flags & MSG_CTRUNC) {
		*why = "file descriptors in reply were truncated";
		ret = -EPROTO;
	}
	if (ret != 0) {
		cdna_close_fds(fds, *nb_fds);
		*nb_fds = 0;
	}
	return ret;
}

/*
 * One request/reply exchange, ctrl_lock held. fd_out (or -1) travels with
 * the request; the reply must carry exactly nb_fds_in fds when it succeeds.
 * Returns the reply status (0 or -errno) or -EIO if the channel broke.
 */
static int
cdna_xfer_locked(struct cdna_priv *priv, struct cdna_msg *msg, int fd_out,
		int *fds_in, unsigned int nb_fds_in)
{
	uint16_t type = msg->hdr.type;
	int fds[CDNA_MAX_FDS] = { -1, -1 };
	unsigned int nb_fds = 0;
	const char *why = NULL;
	uint32_t seq;
	int ret;

	if (priv->dead || priv->sock < 0)
		return -EIO;

	seq = ++priv->seq;
	msg->hdr.magic = CDNA_CTRL_MAGIC;
	msg->hdr.version = CDNA_CTRL_VERSION;
	msg->hdr.seq = seq;
	msg->hdr.status = 0;

	ret = cdna_send(priv, msg, fd_out);
	if (ret != 0) {
		cdna_mark_dead(priv, strerror(-ret), type);
		return -EIO;
	}

	ret = cdna_recv(priv, msg, fds, &nb_fds, &why);
	if (ret != 0) {
		cdna_mark_dead(priv, why, type);
		return -EIO;
	}
	if (msg->hdr.magic != CDNA_CTRL_MAGIC ||
			msg->hdr.version != CDNA_CTRL_VERSION) {
		why = "reply has a bad magic or version";
		goto broken;
	}
	if (msg->hdr.type != (type | CDNA_MSG_REPLY) || msg->hdr.seq != seq) {
		why = "reply does not match the request (type or seq)";
		goto broken;
	}
	if (msg->hdr.status > 0 || msg->hdr.status < -4095) {
		why = "reply status is not 0 or -errno";
		goto broken;
	}
	if (msg->hdr.status == 0 && nb_fds != nb_fds_in) {
		why = "reply carries the wrong number of file descriptors";
		goto broken;
	}
	if (msg->hdr.status != 0 || nb_fds_in == 0) {
		/* Unexpected fds are closed unread. */
		if (nb_fds != 0)
			PMD_LOG(WARNING, "%s: %s reply carried %u unexpected fd(s); closed",
				priv->name, cdna_msg_name(type), nb_fds);
		cdna_close_fds(fds, nb_fds);
		return msg->hdr.status;
	}
	memcpy(fds_in, fds, sizeof(int) * nb_fds_in);
	return 0;

broken:
	cdna_close_fds(fds, nb_fds);
	cdna_mark_dead(priv, why, type);
	return -EIO;
}

static int
cdna_xfer(struct cdna_priv *priv, struct cdna_msg *msg, int *fds_in,
		unsigned int nb_fds_in)
{
	int ret;

	pthread_mutex_lock(&priv->ctrl_lock);
	ret = cdna_xfer_locked(priv, msg, -1, fds_in, nb_fds_in);
	pthread_mutex_unlock(&priv->ctrl_lock);
	return ret;
}

int
cdna_ctrl_connect(struct cdna_priv *priv)
{
	struct sockaddr_un sa;
	struct timeval tv = { .tv_sec = CDNA_CTRL_TIMEOUT_S };
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		PMD_LOG(ERR, "%s: cannot create a UNIX socket: %s",
			priv->name, strerror(errno));
		return -errno;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	/* Length was checked against sun_path when the devargs were parsed. */
	strlcpy(sa.sun_path, priv->args.path, sizeof(sa.sun_path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		PMD_LOG(ERR, "%s: cannot connect to mediator socket %s: %s",
			priv->name, priv->args.path, strerror(err));
		close(fd);
		return -err;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		PMD_LOG(WARNING, "%s: cannot set socket timeouts: %s",
			priv->name, strerror(errno));
	priv->sock = fd;
	return 0;
}

void
cdna_ctrl_disconnect(struct cdna_priv *priv)
{
	struct cdna_msg msg;

	pthread_mutex_lock(&priv->ctrl_lock);
	if (priv->sock >= 0 && !priv->dead) {
		int ret;

		memset(&msg, 0, sizeof(msg));
		msg.hdr.type = CDNA_MSG_BYE;
		ret = cdna_xfer_locked(priv, &msg, -1, NULL, 0);
		if (ret != 0 && ret != -EIO)
			PMD_LOG(WARNING, "%s: mediator refused BYE: %s",
				priv->name, strerror(-ret));
	}
	if (priv->sock >= 0)
		close(priv->sock);
	priv->sock = -1;
	__atomic_store_n(&priv->dead, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&priv->ctrl_lock);
}

/*
 * Notice a mediator that went away between requests: nothing may arrive
 * unasked, so a readable socket means it closed or broke the protocol.
 */
void
cdna_ctrl_check_alive(struct cdna_priv *priv)
{
	char c;
	ssize_t n;

	/* Skip rather than wait behind a request in progress. */
	if (pthread_mutex_trylock(&priv->ctrl_lock) != 0)
		return;
	if (!priv->dead && priv->sock >= 0) {
		n = recv(priv->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0) {
			priv->peer_gone = 1;
			cdna_mark_dead(priv, "mediator closed the connection", 0);
		}
		else if (n > 0)
			cdna_mark_dead(priv, "unsolicited message", 0);
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			cdna_mark_dead(priv, strerror(errno), 0);
	}
	pthread_mutex_unlock(&priv->ctrl_lock);
}

int
cdna_ctrl_hello(struct cdna_priv *priv)
{
	struct cdna_msg msg;
	const struct cdna_msg_hello_reply *r = &msg.u.hello_reply;
	struct rte_ether_addr mac;
	char buf[RTE_ETHER_ADDR_FMT_SIZE];
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.hdr.type = CDNA_MSG_HELLO;
	msg.u.hello.nb_queues = (uint16_t)priv->args.queues;
	if (priv->args.mac_set)
		memcpy(msg.u.hello.mac, priv->args.mac.addr_bytes, 6);
	msg.u.hello.mode = priv->args.mode;

	ret = cdna_xfer(priv, &msg, NULL, 0);
	if (ret == -EIO)
		return ret;
	if (ret != 0) {
		PMD_LOG(ERR, "%s: mediator refused HELLO (queues=%u mode=%s): %s%s",
			priv->name, priv->args.queues,
			cdna_mode_name(priv->args.mode), strerror(-ret),
			ret == -EPERM && priv->args.mode != CDNA_MODE_MEDIATED ?
			" (it needs cdna-vmm --allow-passthrough)" : "");
		return ret;
	}
	if (r->mode != priv->args.mode) {
		PMD_LOG(ERR, "%s: mediator granted mode %u, %s was asked for",
			priv->name, r->mode, cdna_mode_name(priv->args.mode));
		return -EPROTO;
	}

	memcpy(mac.addr_bytes, r->mac, 6);
	rte_ether_format_addr(buf, sizeof(buf), &mac);
	if (r->max_queues < priv->args.queues) {
		PMD_LOG(ERR, "%s: mediator allows %u queues, %u requested",
			priv->name, r->max_queues, priv->args.queues);
		return -EPROTO;
	}
	if (!cdna_is_pow2(r->ring_min) || !cdna_is_pow2(r->ring_max) ||
			r->ring_min > r->ring_max ||
			r->ring_max < CDNA_RING_MIN || r->ring_min > CDNA_RING_MAX) {
		PMD_LOG(ERR, "%s: mediator ring limits [%u, %u] unusable with [%u, %u]",
			priv->name, r->ring_min, r->ring_max,
			CDNA_RING_MIN, CDNA_RING_MAX);
		return -EPROTO;
	}
	if (r->max_frame_len < RTE_ETHER_MIN_LEN + CDNA_MTU_MIN ||
			r->max_frame_len > CDNA_MAX_FRAME_LEN) {
		PMD_LOG(ERR, "%s: mediator max frame length %u out of range",
			priv->name, r->max_frame_len);
		return -EPROTO;
	}
	if (!rte_is_unicast_ether_addr(&mac) || rte_is_zero_ether_addr(&mac)) {
		PMD_LOG(ERR, "%s: mediator assigned unusable MAC %s",
			priv->name, buf);
		return -EPROTO;
	}
	if (r->max_regions == 0) {
		PMD_LOG(ERR, "%s: mediator allows no memory regions", priv->name);
		return -EPROTO;
	}
	if (cdna_mode_maps(priv->args.mode) && r->map_quota == 0) {
		PMD_LOG(ERR, "%s: mediator allows no mappings", priv->name);
		return -EPROTO;
	}
	if (priv->args.mac_set && !rte_is_same_ether_addr(&mac, &priv->args.mac))
		PMD_LOG(WARNING, "%s: mediator assigned MAC %s instead of the one requested",
			priv->name, buf);

	priv->guest_id = r->guest_id;
	priv->max_regions = r->max_regions;
	priv->ring_min = RTE_MAX(r->ring_min, CDNA_RING_MIN);
	priv->ring_max = RTE_MIN(r->ring_max, CDNA_RING_MAX);
	priv->max_frame_len = r->max_frame_len;
	priv->map_quota = r->map_quota;
	priv->nb_queues = (uint16_t)priv->args.queues;
	rte_ether_addr_copy(&mac, &priv->dev->data->mac_addrs[0]);
	PMD_LOG(INFO, "%s: guest %u on %s, MAC %s, %u queue(s), rings %u..%u, %s",
		priv->name, priv->guest_id, priv->args.path, buf,
		priv->nb_queues, priv->ring_min, priv->ring_max,
		cdna_mode_name(priv->args.mode));
	return 0;
}

/* ---- memory sharing ---- */

/* ctrl_lock held. */
static int
cdna_region_add_locked(struct cdna_priv *priv, uint64_t addr, uint64_t size,
		uint64_t fd_offset, int fd)
{
	struct cdna_msg msg;
	int ret;

	if (priv->nb_regions >= priv->max_regions) {
		PMD_LOG(ERR, "%s: cannot share memory at 0x%" PRIx64 " (%" PRIu64
			" bytes): mediator limit of %u regions reached",
			priv->name, addr, size, priv->max_regions);
		return -ENOSPC;
	}
	if (priv->nb_regions == priv->cap_regions) {
		uint32_t cap = priv->cap_regions == 0 ? 64 : priv->cap_regions * 2;
		struct cdna_region *r;

		/* libc, not rte_malloc: see the lock order note at the top. */
		r = realloc(priv->regions, sizeof(*r) * cap);
		if (r == NULL) {
			PMD_LOG(ERR, "%s: out of memory tracking %u regions",
				priv->name, cap);
			return -ENOMEM;
		}
		priv->regions = r;
		priv->cap_regions = cap;
	}

	memset(&msg, 0, sizeof(msg));
	msg.hdr.type = CDNA_MSG_REGION_ADD;
	msg.u.region.guest_addr = addr;
	msg.u.region.size = size;
	msg.u.region.fd_offset = fd_offset;
	msg.u.region.perm = CDNA_PERM_DEV_READ | CDNA_PERM_DEV_WRITE;
	ret = cdna_xfer_locked(priv, &msg, fd, NULL, 0);
	if (ret != 0) {
		if (ret != -EIO)
			PMD_LOG(ERR, "%s: mediator refused REGION_ADD 0x%" PRIx64
				" size %" PRIu64 " offset %" PRIu64 ": %s",
				priv->name, addr, size, fd_offset,
				strerror(-ret));
		return ret;
	}
	priv->regions[priv->nb_regions].addr = addr;
	priv->regions[priv->nb_regions].size = size;
	priv->nb_regions++;
	return 0;
}

/* ctrl_lock held. */
static int
cdna_region_del_locked(struct cdna_priv *priv, uint32_t idx)
{
	struct cdna_region *r = &priv->regions[idx];
	struct cdna_msg msg;
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.hdr.type = CDNA_MSG_REGION_DEL;
	msg.u.region.guest_addr = r->addr;
	msg.u.region.size = r->size;
	ret = cdna_xfer_locked(priv, &msg, -1, NULL, 0);
	if (ret != 0 && ret != -EIO)
		PMD_LOG(ERR, "%s: mediator refused REGION_DEL 0x%" PRIx64
			" size %" PRIu64 ": %s", priv->name, r->addr, r->size,
			strerror(-ret));
	/* Forget it either way: the memory is going away. */
	priv->regions[idx] = priv->regions[--priv->nb_regions];
	return ret;
}

/* Segments accumulated by the walk until they stop being contiguous. */
struct cdna_walk {
	struct cdna_priv *priv;
	uint64_t addr;
	uint64_t size;
	uint64_t off;
	int fd;
	int pinned;	/* the run so far can never be freed piecemeal */
	int merge_all;	/* legacy memory: nothing is ever freed */
	int ret;
};

static int
cdna_walk_flush(struct cdna_walk *w)
{
	int ret = 0;

	if (w->size != 0)
		ret = cdna_region_add_locked(w->priv, w->addr, w->size, w->off,
				w->fd);
	w->size = 0;
	w->fd = -1;
	return ret;
}

static int
cdna_seg_fd(struct cdna_priv *priv, const struct rte_memseg *ms, int *fd,
		uint64_t *off)
{
	size_t offset = 0;

	*fd = rte_memseg_get_fd_thread_unsafe(ms);
	if (*fd < 0) {
		PMD_LOG(ERR, "%s: memory segment %p (%zu bytes) has no file descriptor: %s",
			priv->name, ms->addr, ms->len, rte_strerror(rte_errno));
		return -ENOTSUP;
	}
	if (rte_memseg_get_fd_offset_thread_unsafe(ms, &offset) < 0) {
		PMD_LOG(ERR, "%s: memory segment %p: no file offset: %s",
			priv->name, ms->addr, rte_strerror(rte_errno));
		return -ENOTSUP;
	}
	if (((uintptr_t)ms->addr | ms->len | offset) & 4095u) {
		PMD_LOG(ERR, "%s: memory segment %p len %zu offset %zu is not 4 KiB aligned",
			priv->name, ms->addr, ms->len, offset);
		return -EINVAL;
	}
	*off = offset;
	return 0;
}

static int
cdna_walk_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		void *arg)
{
	struct cdna_walk *w = arg;
	uint64_t addr = (uintptr_t)ms->addr;
	uint64_t off;
	int fd, ret, pinned;

	if (msl->external)
		return 0;
	ret = cdna_seg_fd(w->priv, ms, &fd, &off);
	if (ret != 0)
		goto fail;
	/*
	 * Merge when the same file continues at the same pace in VA and
	 * offset, but only memory that is never freed: the mediator deletes
	 * whole regions only, and a FREE event names single segments.
	 */
	pinned = w->merge_all || (ms->flags & RTE_MEMSEG_FLAG_DO_NOT_FREE);
	if (w->size != 0 && pinned && w->pinned && fd == w->fd &&
			addr == w->addr + w->size && off == w->off + w->size) {
		w->size += ms->len;
		return 0;
	}
	ret = cdna_walk_flush(w);
	if (ret != 0)
		goto fail;
	w->addr = addr;
	w->size = ms->len;
	w->off = off;
	w->fd = fd;
	w->pinned = pinned;
	return 0;
fail:
	w->ret = ret;
	return -1;
}

static int
cdna_walk_external(const struct rte_memseg_list *msl, void *arg)
{
	struct cdna_priv *priv = arg;

	if (msl->external && msl->memseg_arr.count != 0)
		PMD_LOG(WARNING, "%s: external memory at %p (%zu bytes) cannot be shared; "
			"buffers there will be rejected", priv->name,
			msl->base_va, msl->len);
	return 0;
}

/* Hot-plug: one region per memseg so each can be deleted on its own. */
static void
cdna_mem_alloc_event(struct cdna_priv *priv, const void *addr, size_t len)
{
	const struct rte_memseg_list *msl;
	size_t done;

	msl = rte_mem_virt2memseg_list(addr);
	if (msl == NULL || msl->external) {
		PMD_LOG(WARNING, "%s: new memory at %p (%zu bytes) is not shareable; "
			"buffers there will be rejected", priv->name, addr, len);
		return;
	}
	for (done = 0; done < len; done += msl->page_sz) {
		const void *va = RTE_PTR_ADD(addr, done);
		const struct rte_memseg *ms;
		uint64_t off;
		int fd;

		if (priv->dead)
			break;
		ms = rte_mem_virt2memseg(va, msl);
		if (ms == NULL || cdna_seg_fd(priv, ms, &fd, &off) != 0 ||
				cdna_region_add_locked(priv, (uintptr_t)ms->addr,
					ms->len, off, fd) != 0) {
			PMD_LOG(ERR, "%s: hot-plugged memory at %p not shared; "
				"buffers there will be rejected", priv->name, va);
			continue;
		}
	}
}

static void
cdna_mem_free_event(struct cdna_priv *priv, const void *addr, size_t len)
{
	uint64_t start = (uintptr_t)addr;
	uint32_t i = 0;

	while (i < priv->nb_regions && !priv->dead) {
		const struct cdna_region *r = &priv->regions[i];

		/* Overflow-safe: both ranges are valid mappings. */
		if (r->addr >= start && r->size <= len &&
				r->addr - start <= len - r->size) {
			cdna_region_del_locked(priv, i);
			continue;	/* slot i now holds the last region */
		}
		if (r->addr < start + len && start < r->addr + r->size)
			PMD_LOG(WARNING, "%s: freed memory %p (%zu bytes) covers part "
				"of region 0x%" PRIx64 " (%" PRIu64 " bytes); kept",
				priv->name, addr, len, r->addr, r->size);
		i++;
	}
}

/* Runs with the EAL hot-plug lock held, on whichever thread (de)allocated. */
static void
cdna_mem_event(enum rte_mem_event type, const void *addr, size_t len,
		void *arg)
{
	struct cdna_priv *priv = arg;

	pthread_mutex_lock(&priv->ctrl_lock);
	if (!priv->dead && priv->sock >= 0) {
		if (type == RTE_MEM_EVENT_ALLOC)
			cdna_mem_alloc_event(priv, addr, len);
		else if (type == RTE_MEM_EVENT_FREE)
			cdna_mem_free_event(priv, addr, len);
	}
	pthread_mutex_unlock(&priv->ctrl_lock);
}

int
cdna_ctrl_share_memory(struct cdna_priv *priv)
{
	struct cdna_walk w = {
		.priv = priv,
		.fd = -1,
	};
	int ret = 0;

	/*
	 * Hold off hot-plug so no segment is missed or shared twice; events
	 * need the write side, so the callback cannot run before the walk.
	 */
	rte_mcfg_mem_read_lock();
	if (rte_mem_event_callback_register(CDNA_MEM_CB_NAME, cdna_mem_event,
			priv) == 0) {
		priv->mem_cb = 1;
	} else if (rte_errno == ENOTSUP) {
		/* Legacy memory (also --no-huge): it never changes. */
		w.merge_all = 1;
	} else {
		PMD_LOG(ERR, "%s: cannot register memory event callback: %s",
			priv->name, rte_strerror(rte_errno));
		ret = -rte_errno;
	}

	if (ret == 0) {
		pthread_mutex_lock(&priv->ctrl_lock);
		rte_memseg_list_walk_thread_unsafe(cdna_walk_external, priv);
		ret = rte_memseg_walk_thread_unsafe(cdna_walk_seg, &w);
		if (ret == 0)
			ret = cdna_walk_flush(&w);
		else
			ret = w.ret != 0 ? w.ret : -EIO;
		pthread_mutex_unlock(&priv->ctrl_lock);
	}
	if (ret != 0 && priv->mem_cb) {
		rte_mem_event_callback_unregister(CDNA_MEM_CB_NAME, priv);
		priv->mem_cb = 0;
	}
	rte_mcfg_mem_read_unlock();

	if (ret == 0)
		PMD_LOG(INFO, "%s: shared %u memory region(s)%s", priv->name,
			priv->nb_regions, priv->mem_cb ? "" :
			" (no hot-plug in this memory mode)");
	else
		PMD_LOG(ERR, "%s: sharing memory with the mediator failed",
			priv->name);
	return ret;
}

void
cdna_ctrl_unshare_memory(struct cdna_priv *priv)
{
	if (priv->mem_cb) {
		/* Must not hold ctrl_lock: a running callback may be waiting on it. */
		rte_mem_event_callback_unregister(CDNA_MEM_CB_NAME, priv);
		priv->mem_cb = 0;
	}
	pthread_mutex_lock(&priv->ctrl_lock);
	free(priv->regions);
	priv->regions = NULL;
	priv->nb_regions = 0;
	priv->cap_regions = 0;
	pthread_mutex_unlock(&priv->ctrl_lock);
}

/* ---- other requests ---- */

int
cdna_ctrl_simple(struct cdna_priv *priv, uint16_t type, const void *payload,
		size_t len)
{
	struct cdna_msg msg;
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.hdr.type = type;
	if (payload != NULL)
		memcpy(msg.u.raw, payload, RTE_MIN(len, sizeof(msg.u.raw)));
	ret = cdna_xfer(priv, &msg, NULL, 0);
	if (ret != 0 && ret != -EIO)
		PMD_LOG(ERR, "%s: mediator refused %s: %s", priv->name,
			cdna_msg_name(type), strerror(-ret));
	return ret;
}

static int
cdna_check_area_hdr(struct cdna_priv *priv, const void *area, const char *what,
		uint16_t qid, uint32_t tx_size, uint32_t rx_size)
{
	const struct cdna_area_hdr *h = area;

	if (h->magic != CDNA_ABI_MAGIC || h->version != CDNA_ABI_VERSION ||
			h->tx_size != tx_size || h->rx_size != rx_size ||
			h->queue_id != qid ||
			h->map_size != cdna_map_ring_size(priv->args.mode,
							  tx_size, rx_size)) {
		PMD_LOG(ERR, "%s: queue %u %s area header invalid: magic 0x%08x "
			"version %u sizes %u/%u/%u queue %u (expected 0x%08x %u "
			"%u/%u/%u %u)", priv->name, qid, what, h->magic,
			h->version, h->tx_size, h->rx_size, h->map_size,
			h->queue_id, CDNA_ABI_MAGIC, CDNA_ABI_VERSION, tx_size,
			rx_size, cdna_map_ring_size(priv->args.mode, tx_size,
						    rx_size), qid);
		return -EPROTO;
	}
	return 0;
}

static void *
cdna_map_area(struct cdna_priv *priv, int fd, size_t size, int prot,
		const char *what, uint16_t qid)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0) {
		PMD_LOG(ERR, "%s: queue %u %s area: fstat failed: %s",
			priv->name, qid, what, strerror(errno));
		return NULL;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size < size) {
		PMD_LOG(ERR, "%s: queue %u %s area fd holds %lld bytes, need %zu",
			priv->name, qid, what, (long long)st.st_size, size);
		return NULL;
	}
	p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		PMD_LOG(ERR, "%s: queue %u %s area: mmap of %zu bytes failed: %s",
			priv->name, qid, what, size, strerror(errno));
		return NULL;
	}
	return p;
}

int
cdna_ctrl_queue_create(struct cdna_priv *priv, uint16_t qid, uint32_t tx_size,
		uint32_t rx_size)
{
	struct cdna_qpair *qp = &priv->qp[qid];
	const struct cdna_msg_queue_reply *r;
	uint32_t map_size = cdna_map_ring_size(priv->args.mode, tx_size, rx_size);
	uint64_t req_size = cdna_req_area_size(tx_size, rx_size, map_size);
	uint64_t cmp_size = cdna_cmp_area_size(tx_size, rx_size, map_size);
	struct cdna_msg msg;
	int fds[2] = { -1, -1 };
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.hdr.type = CDNA_MSG_QUEUE_CREATE;
	msg.u.queue.queue_id = qid;
	msg.u.queue.tx_size = tx_size;
	msg.u.queue.rx_size = rx_size;
	ret = cdna_xfer(priv, &msg, fds, 2);
	if (ret != 0) {
		if (ret != -EIO)
			PMD_LOG(ERR, "%s: mediator refused QUEUE_CREATE queue %u "
				"tx %u rx %u: %s", priv->name, qid, tx_size,
				rx_size, strerror(-ret));
		return ret;
	}
	qp->created = 1;

	r = &msg.u.queue_reply;
	if (r->queue_id != qid || r->tx_size != tx_size ||
			r->rx_size != rx_size || r->map_size != map_size ||
			r->req_area_size != req_size ||
			r->cmp_area_size != cmp_size) {
		PMD_LOG(ERR, "%s: QUEUE_CREATE reply for queue %u does not match: "
			"queue %u sizes %u/%u/%u areas %" PRIu64 "/%" PRIu64
			" (expected %u/%u/%u %" PRIu64 "/%" PRIu64 ")",
			priv->name, qid, r->queue_id, r->tx_size, r->rx_size,
			r->map_size, r->req_area_size, r->cmp_area_size,
			tx_size, rx_size, map_size, req_size, cmp_size);
		ret = -EPROTO;
		goto out;
	}

	qp->req_area = cdna_map_area(priv, fds[0], req_size,
			PROT_READ | PROT_WRITE, "request", qid);
	if (qp->req_area == NULL) {
		ret = -EPROTO;
		goto out;
	}
	qp->req_size = req_size;
	/* Read-only: the mediator sealed it against writable mappings. */
	qp->cmp_area = cdna_map_area(priv, fds[1], cmp_size, PROT_READ,
			"completion", qid);
	if (qp->cmp_area == NULL) {
		ret = -EPROTO;
		goto out;
	}
	qp->cmp_size = cmp_size;
	ret = cdna_check_area_hdr(priv, qp->cmp_area, "completion", qid,
			tx_size, rx_size);
	if (ret == 0)
		ret = cdna_check_area_hdr(priv, qp->req_area, "request", qid,
				tx_size, rx_size);
	qp->tx_size = tx_size;
	qp->rx_size = rx_size;
	qp->map_size = map_size;
out:
	cdna_close_fds(fds, 2);
	return ret;
}

/* Tell the mediator to drop the pair; it completes in-flight requests first. */
int
cdna_ctrl_queue_destroy(struct cdna_priv *priv, uint16_t qid)
{
	struct cdna_qpair *qp = &priv->qp[qid];
	struct cdna_msg_queue q = { .queue_id = qid };
	int ret = 0;

	if (qp->created) {
		ret = cdna_ctrl_simple(priv, CDNA_MSG_QUEUE_DESTROY, &q,
				sizeof(q));
		qp->created = 0;
	}
	return ret;
}

/* Unmap whatever cdna_ctrl_queue_create mapped, even partly. */
void
cdna_ctrl_queue_unmap(struct cdna_priv *priv, uint16_t qid)
{
	struct cdna_qpair *qp = &priv->qp[qid];

	if (qp->req_area != NULL)
		munmap(qp->req_area, qp->req_size);
	if (qp->cmp_area != NULL)
		munmap(qp->cmp_area, qp->cmp_size);
	memset(qp, 0, sizeof(*qp));
}

int
cdna_ctrl_stats(struct cdna_priv *priv, struct cdna_msg_stats *st)
{
	struct cdna_msg msg;
	int ret;

	memset(&msg, 0, sizeof(msg));
	msg.hdr.type = CDNA_MSG_STATS;
	ret = cdna_xfer(priv, &msg, NULL, 0);
	if (ret != 0) {
		if (ret != -EIO)
			PMD_LOG(ERR, "%s: mediator refused STATS: %s",
				priv->name, strerror(-ret));
		return ret;
	}
	memcpy(st, &msg.u.stats, sizeof(*st));
	return 0;
}

int
cdna_ctrl_wait_gone(struct cdna_priv *priv, int ms)
{
	uint64_t end;
	char buf[256];
	int gone;

	pthread_mutex_lock(&priv->ctrl_lock);
	/* From now: the lock may have been held by a reply's long wait. */
	end = rte_get_timer_cycles() + (uint64_t)ms * rte_get_timer_hz() / 1000;
	while (!priv->peer_gone && !priv->gone_waited && priv->sock >= 0) {
		struct pollfd p = { .fd = priv->sock, .events = POLLIN };
		uint64_t now = rte_get_timer_cycles();
		/* Whatever is still queued is read and dropped: the end is all. */
		ssize_t n = recv(priv->sock, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			priv->peer_gone = 1;
			break;
		}
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			priv->gone_waited = 1;	/* a socket error: no end to see */
			break;
		}
		if (now >= end) {
			priv->gone_waited = 1;
			break;
		}
		if (poll(&p, 1, (int)((end - now) * 1000 / rte_get_timer_hz()) + 1) < 0 &&
		    errno != EINTR) {
			priv->gone_waited = 1;
			break;
		}
	}
	gone = priv->peer_gone;
	pthread_mutex_unlock(&priv->ctrl_lock);
	return gone;
}
