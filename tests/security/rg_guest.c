/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A guest that speaks the control protocol and the shared rings directly.
 * It trusts nothing it reads from the mediator either: a completion with an
 * unknown cookie, a second completion for one cookie or an RX completion
 * whose bytes are not exactly a registered frame is recorded as an error.
 */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cdna_ring.h"
#include "rg.h"

struct rg_guest *rg_guests[RG_MAX_GUESTS];
int rg_zero_frames_ok;

/* Appends "; <formatted>" to the reason why (or starts it), never past len. */
void
rg_append(char *why, size_t len, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 3 >= len)
		return;
	if (n != 0) {
		why[n++] = ';';
		why[n++] = ' ';
		why[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(why + n, len - n, fmt, ap);
	va_end(ap);
}

/* Milliseconds on the monotonic clock: every wait in the tests is bounded by it. */
uint64_t
rg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
nap(void)
{
	struct timespec ts = { 0, 200000 };

	nanosleep(&ts, NULL);
}

static void
gerr(struct rg_guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
gerr(struct rg_guest *g, const char *fmt, ...)
{
	va_list ap;

	if (g->nerr++ == 0) {
		va_start(ap, fmt);
		vsnprintf(g->err, sizeof(g->err), fmt, ap);
		va_end(ap);
	}
}

/*
 * Closed guests stay allocated (callers may still read them) until exit,
 * where they are freed so that leak checkers see only real leaks.
 */
#define RG_CLOSED_MAX	4096
static struct rg_guest *rg_closed[RG_CLOSED_MAX];
static int rg_nb_closed;

static void
rg_closed_free(void)
{
	int i;

	for (i = 0; i < rg_nb_closed; i++) {
		free(rg_closed[i]->rec);
		free(rg_closed[i]->tx_slot_cookie);
		free(rg_closed[i]);
	}
	rg_nb_closed = 0;
}

static void
rg_closed_add(struct rg_guest *g)
{
	static int registered;
	int i;

	if (!registered) {
		atexit(rg_closed_free);
		registered = 1;
	}
	for (i = 0; i < rg_nb_closed; i++)
		if (rg_closed[i] == g)
			return;
	if (rg_nb_closed < RG_CLOSED_MAX)
		rg_closed[rg_nb_closed++] = g;
}

struct rg_guest *
rg_guest_new(const char *name)
{
	struct rg_guest *g;
	int i;

	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->rec = calloc(RG_COOKIES, sizeof(*g->rec));
	if (g->rec == NULL) {
		free(g);
		return NULL;
	}
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->sock = -1;
	g->req_fd = -1;
	g->cmp_fd = -1;
	g->live = 1;
	for (i = 0; i < RG_MAX_GUESTS; i++) {
		if (rg_guests[i] == NULL) {
			rg_guests[i] = g;
			return g;
		}
	}
	fprintf(stderr, "rogue: more than %d guests open\n", RG_MAX_GUESTS);
	free(g->rec);
	free(g);
	return NULL;
}

/*
 * Drops the connection and the ring mappings. The guest's memory stays
 * mapped and checked: a late DMA into it must still be found.
 */
void
rg_guest_close(struct rg_guest *g)
{
	int i;

	if (g == NULL)
		return;
	if (g->sock >= 0)
		close(g->sock);
	g->sock = -1;
	g->disc = 1;
	if (g->req != NULL)
		munmap(g->req, g->req_len);
	if (g->cmp != NULL)
		munmap((void *)(uintptr_t)g->cmp, g->cmp_len);
	g->req = NULL;
	g->cmp = NULL;
	if (g->req_fd >= 0)
		close(g->req_fd);
	if (g->cmp_fd >= 0)
		close(g->cmp_fd);
	g->req_fd = -1;
	g->cmp_fd = -1;
	g->qok = 0;
	g->live = 0;
	/*
	 * Buffers it posted are no longer expected to be valid: from now on
	 * all of its memory must keep what the shadow says.
	 */
	free(g->rec);
	g->rec = NULL;
	g->ncookie = 0;
	for (i = 0; i < RG_MAX_GUESTS; i++)
		if (rg_guests[i] == g)
			rg_guests[i] = NULL;
	rg_closed_add(g);
}

int
rg_connect(struct rg_guest *g, const char *path)
{
	struct sockaddr_un sa;
	int s;

	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = -errno;

		close(s);
		return e;
	}
	g->sock = s;
	g->disc = 0;
	return 0;
}

int
rg_send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 253)];
	} cb;
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msghdr mh;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cb, 0, sizeof(cb));
		mh.msg_control = cb.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EMSGSIZE;
}

int
rg_recv_raw(int sock, void *buf, size_t cap, int *fds, int *nfds, int ms)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 8)];
	} cb;
	struct pollfd p = { sock, POLLIN, 0 };
	struct iovec iov = { buf, cap };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;
	int r, got = 0;

	r = poll(&p, 1, ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cb.b;
	mh.msg_controllen = sizeof(cb.b);
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == ECONNRESET ? 0 : -errno;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		int k, cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (fds != NULL && nfds != NULL && got < *nfds)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	if (nfds != NULL)
		*nfds = got;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	return (int)n;
}

int
rg_xfer(struct rg_guest *g, uint16_t type, const void *payload, size_t plen,
	const int *fds, int nfds, struct cdna_msg *reply, int *rfds,
	int *nrfds)
{
	struct cdna_msg m, rep;
	int n, k, want = 0;

	if (g->sock < 0 || g->disc)
		return RG_DISC;
	memset(&m, 0, sizeof(m));
	m.hdr.magic = CDNA_CTRL_MAGIC;
	m.hdr.version = CDNA_CTRL_VERSION;
	m.hdr.type = type;
	m.hdr.seq = ++g->seq;
	if (payload != NULL)
		memcpy(m.u.raw, payload, plen);
	n = rg_send_raw(g->sock, &m, sizeof(m), fds, nfds);
	if (n == -EPIPE || n == -ECONNRESET || n == -ENOTCONN) {
		g->disc = 1;
		return RG_DISC;
	}
	if (n < 0)
		return RG_BADREPLY;
	if (nrfds != NULL) {
		want = *nrfds;
		*nrfds = 0;
	}
	k = want;
	n = rg_recv_raw(g->sock, &rep, sizeof(rep), rfds, &k, RG_WAIT_MS);
	if (n == -ETIMEDOUT)
		return RG_TIMEOUT;
	if (n == 0 || n == -ECONNRESET) {
		g->disc = 1;
		return RG_DISC;
	}
	if (nrfds != NULL)
		*nrfds = k;
	if (n != (int)sizeof(rep) || rep.hdr.magic != CDNA_CTRL_MAGIC ||
	    rep.hdr.version != CDNA_CTRL_VERSION ||
	    rep.hdr.type != (type | CDNA_MSG_REPLY) || rep.hdr.seq != m.hdr.seq) {
		gerr(g, "bad reply to type %u: %d bytes, type 0x%x seq %u",
		     type, n, n > 8 ? rep.hdr.type : 0, n > 12 ? rep.hdr.seq : 0);
		return RG_BADREPLY;
	}
	if (rep.hdr.status > 0)
		return RG_BADREPLY;
	if (reply != NULL)
		*reply = rep;
	return rep.hdr.status;
}

int
rg_hello(struct rg_guest *g, uint16_t nb_queues, const uint8_t mac[6])
{
	struct cdna_msg_hello h;
	struct cdna_msg rep;
	int r;

	memset(&h, 0, sizeof(h));
	h.nb_queues = nb_queues;
	h.mode = g->mode;
	if (mac != NULL)
		memcpy(h.mac, mac, 6);
	r = rg_xfer(g, CDNA_MSG_HELLO, &h, sizeof(h), NULL, 0, &rep, NULL, NULL);
	if (r == 0) {
		g->hello = rep.u.hello_reply;
		g->id = rep.u.hello_reply.guest_id;
		memcpy(g->mac, rep.u.hello_reply.mac, 6);
	}
	return r;
}

int
rg_set_mac(struct rg_guest *g, const uint8_t mac[6])
{
	struct cdna_msg_mac m;

	memset(&m, 0, sizeof(m));
	memcpy(m.mac, mac, 6);
	return rg_xfer(g, CDNA_MSG_SET_MAC, &m, sizeof(m), NULL, 0, NULL,
		       NULL, NULL);
}

int
rg_region_add(struct rg_guest *g, uint64_t gaddr, uint64_t size, int fd,
	      uint64_t off, uint32_t perm)
{
	struct cdna_msg_region rg;
	int r;

	memset(&rg, 0, sizeof(rg));
	rg.guest_addr = gaddr;
	rg.size = size;
	rg.fd_offset = off;
	rg.perm = perm;
	r = rg_xfer(g, CDNA_MSG_REGION_ADD, &rg, sizeof(rg), &fd, fd >= 0,
		    NULL, NULL, NULL);
	if (r == 0 && g->nregions < 16) {
		g->regions[g->nregions].gaddr = gaddr;
		g->regions[g->nregions].size = size;
		g->nregions++;
	}
	return r;
}

int
rg_region_del(struct rg_guest *g, uint64_t gaddr, uint64_t size)
{
	struct cdna_msg_region rg;

	memset(&rg, 0, sizeof(rg));
	rg.guest_addr = gaddr;
	rg.size = size;
	return rg_xfer(g, CDNA_MSG_REGION_DEL, &rg, sizeof(rg), NULL, 0, NULL,
		       NULL, NULL);
}

int
rg_queue_create(struct rg_guest *g, uint16_t qid, uint32_t tx, uint32_t rx)
{
	struct cdna_msg_queue q;
	struct cdna_msg rep;
	int fds[2] = { -1, -1 }, nfds = 2, r;
	const struct cdna_msg_queue_reply *qr = &rep.u.queue_reply;
	void *p;

	memset(&q, 0, sizeof(q));
	q.queue_id = qid;
	q.tx_size = tx;
	q.rx_size = rx;
	r = rg_xfer(g, CDNA_MSG_QUEUE_CREATE, &q, sizeof(q), NULL, 0, &rep,
		    fds, &nfds);
	if (r != 0) {
		if (nfds > 0)
			close(fds[0]);
		if (nfds > 1)
			close(fds[1]);
		return r;
	}
	if (nfds != 2) {
		gerr(g, "QUEUE_CREATE reply carried %d fds", nfds);
		if (nfds > 0)
			close(fds[0]);
		return RG_BADREPLY;
	}
	if (qr->tx_size != tx || qr->rx_size != rx ||
	    qr->req_area_size < cdna_req_area_size(tx, rx, qr->map_size) ||
	    qr->cmp_area_size < cdna_cmp_area_size(tx, rx, qr->map_size)) {
		gerr(g, "QUEUE_CREATE reply sizes %u/%u areas %llu/%llu",
		     qr->tx_size, qr->rx_size,
		     (unsigned long long)qr->req_area_size,
		     (unsigned long long)qr->cmp_area_size);
		close(fds[0]);
		close(fds[1]);
		return RG_BADREPLY;
	}
	g->req_fd = fds[0];
	g->cmp_fd = fds[1];
	g->req_len = cdna_req_area_size(tx, rx, qr->map_size);
	g->cmp_len = cdna_cmp_area_size(tx, rx, qr->map_size);
	g->map_size = qr->map_size;
	p = mmap(NULL, g->req_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 g->req_fd, 0);
	if (p == MAP_FAILED) {
		gerr(g, "map request area: %s", strerror(errno));
		return RG_BADREPLY;
	}
	g->req = p;
	p = mmap(NULL, g->cmp_len, PROT_READ, MAP_SHARED, g->cmp_fd, 0);
	if (p == MAP_FAILED) {
		gerr(g, "map completion area: %s", strerror(errno));
		return RG_BADREPLY;
	}
	g->cmp = p;
	g->size[RG_TX] = tx;
	g->size[RG_RX] = rx;
	g->prod[RG_TX] = g->prod[RG_RX] = 0;
	g->cons[RG_TX] = g->cons[RG_RX] = 0;
	g->map_prod[RG_TX] = g->map_prod[RG_RX] = 0;
	g->qok = 1;
	return 0;
}

int
rg_simple(struct rg_guest *g, uint16_t type)
{
	return rg_xfer(g, type, NULL, 0, NULL, 0, NULL, NULL, NULL);
}

int
rg_rxmode(struct rg_guest *g, uint32_t mode)
{
	struct cdna_msg_rxmode m;

	memset(&m, 0, sizeof(m));
	m.mode = mode;
	return rg_xfer(g, CDNA_MSG_SET_RXMODE, &m, sizeof(m), NULL, 0, NULL,
		       NULL, NULL);
}

int
rg_mtu(struct rg_guest *g, uint32_t mtu)
{
	struct cdna_msg_mtu m;

	memset(&m, 0, sizeof(m));
	m.mtu = mtu;
	return rg_xfer(g, CDNA_MSG_SET_MTU, &m, sizeof(m), NULL, 0, NULL,
		       NULL, NULL);
}

int
rg_stats(struct rg_guest *g, struct cdna_msg_stats *st)
{
	struct cdna_msg rep;
	int r;

	r = rg_xfer(g, CDNA_MSG_STATS, NULL, 0, NULL, 0, &rep, NULL, NULL);
	if (r == 0)
		*st = rep.u.stats;
	else
		memset(st, 0, sizeof(*st));
	return r;
}

int
rg_honest(struct rg_guest *g, const char *path, size_t memsize,
	  const uint8_t mac[6], uint32_t ring)
{
	char nm[32];
	int r;

	r = rg_connect(g, path);
	if (r != 0)
		return r;
	r = rg_hello(g, 1, mac);
	if (r != 0)
		return r;
	if (g->mem == NULL) {
		snprintf(nm, sizeof(nm), "%s-mem", g->name);
		g->mem = rg_mem_new(nm, memsize, MFD_CLOEXEC);
		if (g->mem == NULL)
			return -ENOMEM;
	}
	r = rg_region_add(g, (uintptr_t)g->mem->va, g->mem->size, g->mem->fd,
			  0, CDNA_PERM_KNOWN);
	if (r != 0)
		return r;
	r = rg_queue_create(g, 0, ring, ring);
	if (r != 0)
		return r;
	return rg_simple(g, CDNA_MSG_START);
}

struct cdna_index *
rg_req_idx(struct rg_guest *g, int which)
{
	struct cdna_req_area_idx *a = (struct cdna_req_area_idx *)g->req;

	switch (which) {
	case 0: return &a->tx_req_prod;
	case 1: return &a->rx_req_prod;
	case 2: return &a->tx_cmp_cons;
	default: return &a->rx_cmp_cons;
	}
}

const struct cdna_index *
rg_cmp_idx(const struct rg_guest *g, int which)
{
	const struct cdna_cmp_area_idx *a = (const struct cdna_cmp_area_idx *)g->cmp;

	switch (which) {
	case 0: return &a->tx_cmp_prod;
	case 1: return &a->rx_cmp_prod;
	case 2: return &a->tx_req_cons;
	default: return &a->rx_req_cons;
	}
}

uint32_t
rg_post_raw(struct rg_guest *g, int dir, const struct cdna_req *r,
	    uint16_t expect)
{
	struct cdna_req *ring;
	struct rg_rec *rec;
	uint32_t cookie = g->ncookie;

	if (!g->qok || cookie >= RG_COOKIES)
		return UINT32_MAX;
	g->ncookie++;
	rec = &g->rec[cookie];
	memset(rec, 0, sizeof(*rec));
	rec->addr = r->addr;
	rec->len = r->len;
	rec->dir = (uint8_t)dir;
	rec->expect = expect;
	rec->status = RG_ST_NONE;
	ring = dir == RG_TX ? cdna_area_tx_req(g->req) :
		cdna_area_rx_req(g->req, g->size[RG_TX]);
	ring[g->prod[dir] & (g->size[dir] - 1)] = *r;
	ring[g->prod[dir] & (g->size[dir] - 1)].cookie = cookie;
	g->prod[dir]++;
	return cookie;
}

uint32_t
rg_post(struct rg_guest *g, int dir, uint64_t addr, uint32_t len,
	uint16_t flags, uint16_t expect)
{
	struct cdna_req r;

	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.len = len;
	r.flags = flags;
	return rg_post_raw(g, dir, &r, expect);
}

void
rg_publish(struct rg_guest *g, int dir)
{
	/* Orders the entries written by rg_post before the new producer index. */
	cdna_store_release(rg_req_idx(g, dir), g->prod[dir]);
}

int
rg_wait_consumed(struct rg_guest *g, int dir, int ms)
{
	uint64_t end = rg_now_ms() + (uint64_t)ms;

	if (g->mode != CDNA_MODE_MEDIATED)
		return g->qok ? 0 : -ENOTCONN;
	while (g->qok) {
		/* Informational copy of the mediator's request cons. */
		if (cdna_load_acquire(rg_cmp_idx(g, 2 + dir)) == g->prod[dir])
			return 0;
		rg_poll_all();
		if (rg_now_ms() > end)
			return -ETIMEDOUT;
		nap();
	}
	return -ENOTCONN;
}

int
rg_map_op(struct rg_guest *g, int dir, uint16_t op, uint64_t addr,
	  uint32_t len, uint64_t *iova)
{
	struct cdna_map_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.addr = addr;
	rq.len = len;
	rq.op = op;
	return rg_map_req(g, dir, &rq, iova);
}

int
rg_map_req(struct rg_guest *g, int dir, const struct cdna_map_req *req,
	   uint64_t *iova)
{
	struct cdna_req_area_idx *ri = (struct cdna_req_area_idx *)g->req;
	const struct cdna_cmp_area_idx *ci =
		(const struct cdna_cmp_area_idx *)g->cmp;
	const struct cdna_index *ans = dir == RG_TX ? &ci->tx_mapc_prod :
		&ci->rx_mapc_prod;
	uint32_t i = g->map_prod[dir], mask = g->map_size - 1;
	uint64_t end = rg_now_ms() + RG_WAIT_MS;
	struct cdna_map_req *rq;
	struct cdna_map_cmp c;

	*iova = 0;
	if (!g->qok || g->map_size == 0)
		return -ENOTCONN;
	rq = &cdna_area_map_req(g->req, g->size[RG_TX], g->size[RG_RX],
				g->map_size, dir)[i & mask];
	*rq = *req;
	rq->cookie = i;
	g->map_prod[dir] = i + 1;
	cdna_store_release(dir == RG_TX ? &ri->tx_map_prod : &ri->rx_map_prod,
			   i + 1);
	while (cdna_load_acquire(ans) != i + 1) {
		rg_poll_all();
		if (rg_now_ms() > end)
			return RG_TIMEOUT;
		nap();
	}
	c = cdna_area_map_cmp((void *)g->cmp, g->size[RG_TX], g->size[RG_RX],
			      g->map_size, dir)[i & mask];
	cdna_store_release(dir == RG_TX ? &ri->tx_mapc_cons : &ri->rx_mapc_cons,
			   i + 1);
	if (c.cookie != i) {
		gerr(g, "map answer %u carries cookie %u", i, c.cookie);
		return RG_BADREPLY;
	}
	*iova = c.iova;
	return c.status;
}

static void
sink_repost(struct rg_guest *g, uint64_t addr, uint32_t len)
{
	uint32_t c = rg_post(g, RG_RX, addr, len, 0, CDNA_ST_OK);

	if (c != UINT32_MAX)
		rg_publish(g, RG_RX);
}

static int
is_zero(const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
on_rx_ok(struct rg_guest *g, struct rg_rec *rec, uint32_t len)
{
	uint32_t seq;

	if (len > rec->len) {
		gerr(g, "RX completion len %u > buffer %u", len, rec->len);
		return;
	}
	if (rg_mem_find(rec->addr, rec->len) == NULL) {
		gerr(g, "RX OK for 0x%llx+%u outside the guest's memory",
		     (unsigned long long)rec->addr, rec->len);
		return;
	}
	seq = rg_frame_match((const uint8_t *)(uintptr_t)rec->addr, len);
	if (seq == 0 && rg_zero_frames_ok &&
	    is_zero((const uint8_t *)(uintptr_t)rec->addr, len)) {
		rg_note("%s: received a %u-byte all-zero frame (memory of a truncated region)",
			g->name, len);
		rg_mem_accept(rec->addr, len);
		return;
	}
	if (seq == 0) {
		gerr(g, "RX buffer 0x%llx (len %u) does not hold a sent frame",
		     (unsigned long long)rec->addr, len);
		return;
	}
	rec->seq = seq;
	rg_frame_seen(seq);
	/* The frame bytes are now what the guest owns there. */
	rg_mem_accept(rec->addr, len);
}

static int
poll_dir(struct rg_guest *g, int dir)
{
	const struct cdna_cmp *ring;
	uint32_t prod, n = 0;

	ring = dir == RG_TX ? cdna_area_tx_cmp((void *)(uintptr_t)g->cmp) :
		cdna_area_rx_cmp((void *)(uintptr_t)g->cmp, g->size[RG_TX]);
	/* Completion entries published before the producer index. */
	prod = cdna_load_acquire(rg_cmp_idx(g, dir));
	if (prod - g->cons[dir] > g->size[dir]) {
		gerr(g, "completion prod %u vs cons %u: beyond ring", prod,
		     g->cons[dir]);
		return 0;
	}
	while (g->cons[dir] != prod) {
		struct cdna_cmp c = ring[g->cons[dir] & (g->size[dir] - 1)];
		struct rg_rec *rec;

		g->cons[dir]++;
		n++;
		if (c.cookie >= g->ncookie) {
			gerr(g, "completion with unknown cookie %u", c.cookie);
			continue;
		}
		rec = &g->rec[c.cookie];
		rec->ncmp++;
		if (rec->done || rec->dir != dir) {
			gerr(g, "second completion for cookie %u", c.cookie);
			continue;
		}
		rec->done = 1;
		rec->status = c.status;
		rec->cmp_len = c.len;
		if (dir == RG_RX && c.status == CDNA_ST_OK)
			on_rx_ok(g, rec, c.len);
		if (g->sink && dir == RG_RX && rec->expect == CDNA_ST_OK)
			sink_repost(g, rec->addr, rec->len);
	}
	/* Orders our reads of the entries before handing the slots back. */
	cdna_store_release(rg_req_idx(g, 2 + dir), g->cons[dir]);
	return (int)n;
}

int
rg_poll_all(void)
{
	int i, n = 0;

	for (i = 0; i < RG_MAX_GUESTS; i++) {
		struct rg_guest *g = rg_guests[i];

		if (g == NULL || !g->live || !g->qok || g->quiet_ring)
			continue;
		n += poll_dir(g, RG_TX);
		n += poll_dir(g, RG_RX);
	}
	return n;
}

int
rg_wait(struct rg_guest *g, uint32_t cookie, int ms)
{
	uint64_t end = rg_now_ms() + (uint64_t)ms;

	if (cookie >= g->ncookie)
		return -EINVAL;
	for (;;) {
		rg_poll_all();
		if (g->rec[cookie].done)
			return 0;
		if (rg_now_ms() > end)
			return -ETIMEDOUT;
		nap();
	}
}

void
rg_drain(int ms)
{
	uint64_t end = rg_now_ms() + (uint64_t)ms;

	while (rg_now_ms() <= end) {
		if (rg_poll_all() == 0)
			nap();
	}
}

int
rg_sink_start(struct rg_guest *g, uint64_t base, uint32_t n, uint32_t buflen)
{
	uint32_t i;

	g->sink = 1;
	g->sink_base = base;
	g->sink_buflen = buflen;
	for (i = 0; i < n; i++)
		rg_post(g, RG_RX, base + (uint64_t)i * buflen, buflen, 0,
			CDNA_ST_OK);
	rg_publish(g, RG_RX);
	return rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
}

void
rg_sender_init(struct rg_guest *g, uint64_t base, uint32_t n, uint32_t slotlen)
{
	g->tx_base = base;
	g->tx_nslot = n;
	g->tx_slotlen = slotlen;
	g->tx_slot = 0;
	free(g->tx_slot_cookie);
	g->tx_slot_cookie = calloc(n, sizeof(uint32_t));
	if (g->tx_slot_cookie != NULL)
		memset(g->tx_slot_cookie, 0xff, n * sizeof(uint32_t));
}

uint32_t
rg_send_frame(struct rg_guest *g, const uint8_t dst[6], uint32_t len,
	      int forbidden)
{
	uint32_t slot, seq, c;
	uint64_t addr;
	uint8_t *tmp;

	if (g->tx_slot_cookie == NULL || len > g->tx_slotlen || !g->qok)
		return 0;
	slot = g->tx_slot++ % g->tx_nslot;
	c = g->tx_slot_cookie[slot];
	if (c != UINT32_MAX && rg_wait(g, c, RG_WAIT_MS) != 0) {
		gerr(g, "TX slot %u still in flight", slot);
		return 0;
	}
	seq = rg_frame_new(dst, g->mac, len, forbidden);
	if (seq == 0)
		return 0;
	tmp = malloc(len);
	if (tmp == NULL)
		return 0;
	rg_frame_build(seq, tmp);
	addr = g->tx_base + (uint64_t)slot * g->tx_slotlen;
	rg_mem_write(addr, tmp, len);
	free(tmp);
	c = rg_post(g, RG_TX, addr, len, 0, CDNA_ST_OK);
	if (c == UINT32_MAX)
		return 0;
	g->rec[c].seq = seq;
	g->tx_slot_cookie[slot] = c;
	rg_publish(g, RG_TX);
	return seq;
}

int
rg_ping(struct rg_guest *from, struct rg_guest *to, uint32_t len)
{
	uint64_t end = rg_now_ms() + RG_WAIT_MS;
	uint32_t seq = rg_send_frame(from, to->mac, len, 0);

	if (seq == 0)
		return -1;
	while (rg_now_ms() <= end) {
		rg_poll_all();
		if (rg_frame_seen_count(seq) != 0)
			return 0;
		nap();
	}
	return -1;
}
