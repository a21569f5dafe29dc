/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest lifecycle: what each control message does, and teardown. Messages
 * reach here already framed and field-checked by cdna_ctrl_check(); this
 * file adds the checks that need state (fstat of an fd, overlaps, limits).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <numa.h>
#include <rte_cycles.h>
#include <rte_ether.h>

#include "cdna_ring.h"
#include "claims.h"
#include "guest_mem.h"
#include "vmm.h"

/* A connection holds a guest slot; one that never says HELLO gives it back. */
#define GUEST_HELLO_SECONDS	5


void
guest_refuse(struct guest *g, const char *fmt, ...)
{
	char why[sizeof(g->last_refusal)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* The telemetry thread reads it. */
	pthread_mutex_lock(&vmm.lock);
	memcpy(g->last_refusal, why, sizeof(why));
	g->refusals++;
	pthread_mutex_unlock(&vmm.lock);
	vlog_uid(g->uid, "guest %u: %s", g->id, why);
}

static int
mac_in_use(const struct vmm *v, const struct guest *self, const uint8_t *mac)
{
	uint32_t i;

	for (i = 0; i < v->opt.max_guests; i++) {
		const struct guest *o = v->guests[i];

		if (o != NULL && o != self && o->nic_ctx >= 0 &&
		    memcmp(o->mac, mac, 6) == 0)
			return 1;
	}
	return 0;
}

/*
 * Locally administered, 02:cd:<guest id>. Any guest may choose an address in
 * that range too, so an address a guest already holds is skipped: choosing
 * the next guest's address must not deny it its HELLO. At most max_guests
 * addresses are held, so a free one is found within max_guests + 1 tries.
 */
static void
mac_assign(const struct vmm *v, struct guest *g)
{
	uint32_t k, n;

	for (k = 0; k <= v->opt.max_guests; k++) {
		n = g->id + k;
		g->mac[0] = 0x02;
		g->mac[1] = 0xcd;
		g->mac[2] = (uint8_t)(n >> 24);
		g->mac[3] = (uint8_t)(n >> 16);
		g->mac[4] = (uint8_t)(n >> 8);
		g->mac[5] = (uint8_t)n;
		if (!mac_in_use(v, g, g->mac))
			return;
	}
}

static void
mac_str(const uint8_t *mac, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

struct guest *
guest_new(struct vmm *v, int fd, pid_t pid, uid_t uid)
{
	struct guest *g;
	uint32_t slot;

	for (slot = 0; slot < v->opt.max_guests; slot++)
		if (v->guests[slot] == NULL)
			break;
	if (slot == v->opt.max_guests) {
		vlog_uid(uid, "refused guest pid %d: --max-guests %u reached",
			 (int)pid, v->opt.max_guests);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL || cdna_rt_init(&g->rt, v->opt.max_regions) != 0) {
		vlog_uid(uid, "refused guest pid %d: out of memory", (int)pid);
		free(g);
		return NULL;
	}
	g->id = ++v->next_guest_id;
	g->fd = fd;
	g->pid = pid;
	g->uid = uid;
	g->nic_ctx = -1;
	g->strat = strategy_of(CDNA_MODE_MEDIATED);
	g->hello_deadline = rte_get_timer_cycles() +
		GUEST_HELLO_SECONDS * rte_get_timer_hz();
	pthread_mutex_lock(&v->lock);
	v->guests[slot] = g;
	v->guests_seen++;
	pthread_mutex_unlock(&v->lock);
	return g;
}

static int
on_hello(struct vmm *v, struct guest *g, const struct cdna_msg_hello *h,
	 struct cdna_msg_hello_reply *r)
{
	static const uint8_t zero[6];
	const struct strategy *st = strategy_of(h->mode);
	cdna_nic_xlate_fn xlate;
	void *xlate_arg;
	char ms[20];
	int ctx, rc;

	if (memcmp(h->mac, zero, 6) == 0) {
		mac_assign(v, g);
	} else {
		memcpy(g->mac, h->mac, 6);
	}
	mac_str(g->mac, ms, sizeof(ms));
	/*
	 * Only locally administered addresses: a guest may not take the
	 * burned-in MAC of a host or router on the wire and draw its traffic.
	 */
	if (!(g->mac[0] & 0x02)) {
		GREFUSE(g, "HELLO refused: MAC %s is not locally administered", ms);
		return -EPERM;
	}
	if (mac_in_use(v, g, g->mac)) {
		GREFUSE(g, "HELLO refused: MAC %s is used by another guest", ms);
		return -EADDRINUSE;
	}
	/* No silent fallback: a guest gets the mode it asked for, or nothing. */
	if (!st->mediated && !v->opt.allow_passthrough) {
		GREFUSE(g, "HELLO refused: mode %s is not allowed (cdna-vmm runs without --allow-passthrough)",
			st->name);
		return -EPERM;
	}
	/* The strategy gives the NIC context its address stage. */
	g->strat = st;
	rc = st->attach(v, g, &xlate, &xlate_arg);
	if (rc != 0) {
		g->strat = strategy_of(CDNA_MODE_MEDIATED);
		return rc;
	}
	ctx = cdna_nic_ctx_alloc(v->nic, g->mac, h->nb_queues, xlate, xlate_arg);
	if (ctx < 0) {
		GREFUSE(g, "HELLO refused: no free NIC context (%d)", ctx);
		st->detach(v, g);
		g->strat = strategy_of(CDNA_MODE_MEDIATED);
		return ctx;
	}
	cdna_nic_ctx_set_spoof_check(v->nic, (uint32_t)ctx, v->opt.spoof_check);
	/* Guest-written descriptors: the audit can only hold them to its memory. */
	audit_ctx_owned_only((uint32_t)ctx, !st->mediated);
	g->mode = h->mode;
	g->nic_ctx = ctx;
	g->nb_queues = h->nb_queues;
	g->mtu = RTE_ETHER_MTU;	/* the NIC context's default */
	r->guest_id = g->id;
	r->max_regions = v->opt.max_regions;
	r->ring_min = v->lim.ring_min;
	r->ring_max = v->lim.ring_max;
	r->max_queues = CDNA_MAX_QUEUES;
	memcpy(r->mac, g->mac, 6);
	r->max_frame_len = CDNA_MAX_FRAME_LEN;
	r->mode = g->mode;
	vlog_uid(g->uid, "guest %u connected pid=%d uid=%u mac=%s queues=%u mode=%s",
		 g->id, (int)g->pid, (unsigned int)g->uid, ms, g->nb_queues,
		 g->strat->name);
	return 0;
}

/* A memfd of len bytes, mapped read-write here; the fd is returned. */
static int
area_create(const char *name, size_t len, void **map)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) != 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	*map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED) {
		int e = -errno;

		close(fd);
		return e;
	}
	/* Rings live next to the wire port: the data path touches them per packet. */
	if (numa_available() >= 0 && vmm.socket_id >= 0)
		numa_tonode_memory(*map, len, vmm.socket_id);
	return fd;
}

static void
mq_dir_init(struct mq_dir *d, void *req_area, void *cmp_area, int is_rx,
	    uint32_t size, uint32_t tx_size, struct cdna_nic_ring *nic)
{
	struct cdna_req_area_idx *ri = req_area;
	struct cdna_cmp_area_idx *ci = cmp_area;

	d->size = size;
	d->mask = size - 1;
	d->req = is_rx ? cdna_area_rx_req(req_area, tx_size) :
		cdna_area_tx_req(req_area);
	d->cmp = is_rx ? cdna_area_rx_cmp(cmp_area, tx_size) :
		cdna_area_tx_cmp(cmp_area);
	d->req_prod = is_rx ? &ri->rx_req_prod : &ri->tx_req_prod;
	d->cmp_cons = is_rx ? &ri->rx_cmp_cons : &ri->tx_cmp_cons;
	d->cmp_prod = is_rx ? &ci->rx_cmp_prod : &ci->tx_cmp_prod;
	d->req_cons_pub = is_rx ? &ci->rx_req_cons : &ci->tx_req_cons;
	d->nic = nic;
}

static void
mq_free(struct mqueue *mq)
{
	if (mq->req_area != NULL)
		munmap(mq->req_area, mq->req_len);
	if (mq->cmp_area != NULL)
		munmap(mq->cmp_area, mq->cmp_len);
	free(mq->tx.slots);
	free(mq->rx.slots);
	memset(mq, 0, sizeof(*mq));
}

/*
 * Passthrough: the NIC uses the queue's two areas in place. The request
 * ring is its descriptor ring and the guest's producer index its doorbell
 * (cdna_abi.h makes the two entry layouts one); the sealed completion ring
 * is its status ring.
 */
static struct cdna_nic_queue *
queue_attach_passthrough(struct vmm *v, struct guest *g, struct mqueue *mq,
			 const struct cdna_msg_queue *m)
{
	struct cdna_req_area_idx *ri = mq->req_area;
	struct cdna_cmp_area_idx *ci = mq->cmp_area;
	struct cdna_nic_ext_ring tx = {
		.desc = (struct cdna_nic_desc *)cdna_area_tx_req(mq->req_area),
		.status = (struct cdna_nic_status *)cdna_area_tx_cmp(mq->cmp_area),
		.tail = &ri->tx_req_prod,
		.st_prod = &ci->tx_cmp_prod,
		.size = m->tx_size,
	};
	struct cdna_nic_ext_ring rx = {
		.desc = (struct cdna_nic_desc *)cdna_area_rx_req(mq->req_area,
								 m->tx_size),
		.status = (struct cdna_nic_status *)cdna_area_rx_cmp(mq->cmp_area,
								     m->tx_size),
		.tail = &ri->rx_req_prod,
		.st_prod = &ci->rx_cmp_prod,
		.size = m->rx_size,
	};

	return cdna_nic_queue_attach(v->nic, (uint32_t)g->nic_ctx, m->queue_id,
				     &tx, &rx);
}

static int
on_queue_create(struct vmm *v, struct guest *g, const struct cdna_msg_queue *m,
		struct cdna_msg_queue_reply *r, int *fds, int *nfds)
{
	struct mqueue *mq = &g->q[m->queue_id];
	struct cdna_nic_queue *nq;
	struct cdna_area_hdr hdr;
	int req_fd, cmp_fd, rc;

	if (g->started) {
		GREFUSE(g, "QUEUE_CREATE %u refused: port is started", m->queue_id);
		return -EBUSY;
	}
	if (mq->created) {
		GREFUSE(g, "QUEUE_CREATE %u refused: queue exists", m->queue_id);
		return -EEXIST;
	}
	mq->req_len = cdna_req_area_size(m->tx_size, m->rx_size);
	mq->cmp_len = cdna_cmp_area_size(m->tx_size, m->rx_size);
	req_fd = area_create("cdna-req", mq->req_len, &mq->req_area);
	if (req_fd < 0) {
		mq->req_area = NULL;
		GREFUSE(g, "QUEUE_CREATE %u: request area: %s", m->queue_id,
		     strerror(-req_fd));
		mq_free(mq);
		return req_fd;
	}
	cmp_fd = area_create("cdna-cmp", mq->cmp_len, &mq->cmp_area);
	if (cmp_fd < 0) {
		mq->cmp_area = NULL;
		GREFUSE(g, "QUEUE_CREATE %u: completion area: %s", m->queue_id,
		     strerror(-cmp_fd));
		close(req_fd);
		mq_free(mq);
		return cmp_fd;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = CDNA_ABI_MAGIC;
	hdr.version = CDNA_ABI_VERSION;
	hdr.tx_size = m->tx_size;
	hdr.rx_size = m->rx_size;
	hdr.queue_id = m->queue_id;
	memcpy(mq->req_area, &hdr, sizeof(hdr));
	memcpy(mq->cmp_area, &hdr, sizeof(hdr));
	/*
	 * The guest may never resize either area (a shrink would SIGBUS us),
	 * and may never write the completion area: F_SEAL_FUTURE_WRITE makes
	 * the kernel refuse any writable mapping or write() after this point,
	 * while our own mapping stays writable.
	 */
	rc = fcntl(req_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	if (rc == 0)
		rc = fcntl(cmp_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
			   F_SEAL_FUTURE_WRITE | F_SEAL_SEAL);
	if (rc != 0) {
		rc = -errno;
		GREFUSE(g, "QUEUE_CREATE %u: sealing the rings: %s", m->queue_id,
		     strerror(errno));
		goto fail;
	}
	if (!g->strat->mediated) {
		nq = queue_attach_passthrough(v, g, mq, m);
	} else {
		mq->tx.slots = calloc(m->tx_size, sizeof(struct mq_slot));
		mq->rx.slots = calloc(m->rx_size, sizeof(struct mq_slot));
		nq = cdna_nic_queue_create(v->nic, (uint32_t)g->nic_ctx,
					   m->queue_id, m->tx_size, m->rx_size);
		if (mq->tx.slots == NULL || mq->rx.slots == NULL)
			nq = NULL;	/* destroyed below if it was made */
	}
	if (nq == NULL) {
		rc = -ENOMEM;
		GREFUSE(g, "QUEUE_CREATE %u: out of memory for %u/%u entries",
		     m->queue_id, m->tx_size, m->rx_size);
		cdna_nic_queue_destroy(v->nic, (uint32_t)g->nic_ctx,
				       m->queue_id);
		goto fail;
	}
	mq->g = g;
	mq->qid = m->queue_id;
	mq_dir_init(&mq->tx, mq->req_area, mq->cmp_area, 0, m->tx_size,
		    m->tx_size, &nq->tx);
	mq_dir_init(&mq->rx, mq->req_area, mq->cmp_area, 1, m->rx_size,
		    m->tx_size, &nq->rx);
	mq->created = 1;
	r->queue_id = m->queue_id;
	r->tx_size = m->tx_size;
	r->rx_size = m->rx_size;
	r->req_area_size = mq->req_len;
	r->cmp_area_size = mq->cmp_len;
	fds[0] = req_fd;
	fds[1] = cmp_fd;
	*nfds = 2;
	return 0;
fail:
	close(req_fd);
	close(cmp_fd);
	mq_free(mq);
	return rc;
}

static int
on_queue_destroy(struct vmm *v, struct guest *g, uint16_t qid)
{
	struct mqueue *mq = &g->q[qid];

	if (!mq->created) {
		GREFUSE(g, "QUEUE_DESTROY %u refused: no such queue", qid);
		return -ENOENT;
	}
	if (g->started) {
		GREFUSE(g, "QUEUE_DESTROY %u refused: port is started", qid);
		return -EBUSY;
	}
	/* Stopped: nothing is in flight, but drain is cheap and certain. */
	mediator_queue_drain(v, mq);
	cdna_nic_queue_destroy(v->nic, (uint32_t)g->nic_ctx, qid);
	mq_free(mq);
	return 0;
}

static int
on_start(struct vmm *v, struct guest *g)
{
	uint16_t q, n = 0;

	for (q = 0; q < g->nb_queues; q++) {
		if (g->q[q].created && !g->q[q].quarantined) {
			cdna_nic_queue_enable(v->nic, (uint32_t)g->nic_ctx, q, 1);
			n++;
		}
	}
	if (n == 0) {
		GREFUSE(g, "START refused: no queue created");
		return -ENOENT;
	}
	g->started = 1;
	return 0;
}

static void
guest_stop(struct vmm *v, struct guest *g)
{
	uint16_t q;

	g->started = 0;
	for (q = 0; q < g->nb_queues; q++)
		if (g->q[q].created)
			mediator_queue_drain(v, &g->q[q]);
}

static int
on_set_mac(struct vmm *v, struct guest *g, const uint8_t *mac)
{
	char ms[20];

	mac_str(mac, ms, sizeof(ms));
	if (!(mac[0] & 0x02)) {
		GREFUSE(g, "SET_MAC refused: %s is not locally administered", ms);
		return -EPERM;
	}
	if (mac_in_use(v, g, mac)) {
		GREFUSE(g, "SET_MAC refused: %s is used by another guest", ms);
		return -EADDRINUSE;
	}
	memcpy(g->mac, mac, 6);
	cdna_nic_ctx_set_mac(v->nic, (uint32_t)g->nic_ctx, mac);
	return 0;
}

void
guest_counters_sum(const struct vmm *v, const struct guest *g,
		   struct cdna_msg_stats *out)
{
	const struct cdna_nic_ctx_stats *s;

	memset(out, 0, sizeof(*out));
	memcpy(out->reject, g->ctr.reject, sizeof(out->reject));
	out->ring_corrupt = g->ctr.ring_corrupt;
	if (g->nic_ctx < 0)
		return;
	s = cdna_nic_ctx_stats(v->nic, (uint32_t)g->nic_ctx);
	out->tx_pkts = s->tx_pkts;
	out->tx_bytes = s->tx_bytes;
	out->rx_pkts = s->rx_pkts;
	out->rx_bytes = s->rx_bytes;
	out->rx_nobuf = s->rx_nobuf;
	out->rx_oversize = s->rx_oversize;
	/* Guest-written descriptors: the NIC refuses, not the mediator; same counters. */
	if (!g->strat->mediated) {
		out->reject[CDNA_ST_DMA_FAULT] += s->dma_fault;
		out->reject[CDNA_ST_BAD_CHAIN] += s->tx_bad_chain;
		out->ring_corrupt += s->doorbell_bad;
	}
}

int
guest_handle(struct vmm *v, struct guest *g, const struct cdna_msg *m, int fd,
	     struct cdna_msg *reply, int *reply_fds, int *nb_reply_fds)
{
	switch (m->hdr.type) {
	case CDNA_MSG_HELLO:
		return on_hello(v, g, &m->u.hello, &reply->u.hello_reply);
	case CDNA_MSG_REGION_ADD:
		return guest_mem_add(v, g, &m->u.region, fd);
	case CDNA_MSG_REGION_DEL:
		return guest_mem_del(v, g, &m->u.region);
	case CDNA_MSG_QUEUE_CREATE:
		return on_queue_create(v, g, &m->u.queue, &reply->u.queue_reply,
				       reply_fds, nb_reply_fds);
	case CDNA_MSG_QUEUE_DESTROY:
		return on_queue_destroy(v, g, m->u.queue.queue_id);
	case CDNA_MSG_START:
		return on_start(v, g);
	case CDNA_MSG_STOP:
		guest_stop(v, g);
		return 0;
	case CDNA_MSG_SET_MAC:
		return on_set_mac(v, g, m->u.mac.mac);
	case CDNA_MSG_SET_RXMODE:
		g->rxmode = m->u.rxmode.mode;
		cdna_nic_ctx_set_rxmode(v->nic, (uint32_t)g->nic_ctx,
					!!(m->u.rxmode.mode & CDNA_RXMODE_PROMISC),
					!!(m->u.rxmode.mode & CDNA_RXMODE_ALLMULTI));
		return 0;
	case CDNA_MSG_SET_MTU:
		g->mtu = m->u.mtu.mtu;
		cdna_nic_ctx_set_mtu(v->nic, (uint32_t)g->nic_ctx, m->u.mtu.mtu);
		return 0;
	case CDNA_MSG_STATS:
		guest_counters_sum(v, g, &reply->u.stats);
		return 0;
	case CDNA_MSG_BYE:
		return 0;
	}
	/* cdna_ctrl_check() admits no other type. */
	if (fd >= 0)
		close(fd);
	return -EPROTO;
}

uint64_t
guest_footprint(const struct guest *g)
{
	uint64_t n = sizeof(*g) + guest_mem_footprint(g);
	uint16_t q;

	for (q = 0; q < CDNA_MAX_QUEUES; q++) {
		const struct mqueue *mq = &g->q[q];
		uint64_t entries = (uint64_t)mq->tx.size + mq->rx.size;

		if (!mq->created)
			continue;
		/* Its two shared areas; mediated, its slot records and the NIC's rings. */
		n += mq->req_len + mq->cmp_len;
		if (g->strat->mediated)
			n += entries * (sizeof(struct mq_slot) +
					sizeof(struct cdna_nic_desc) +
					sizeof(struct cdna_nic_status));
	}
	return n;
}

/* Keeps g's last word for /cdna/gone: the oldest record makes room. */
static void
gone_record(struct vmm *v, const struct guest *g, const char *why,
	    const struct cdna_msg_stats *s, uint64_t rejects, uint64_t flushed,
	    uint64_t claims, uint32_t released)
{
	struct guest_gone *r = &v->gone[v->nb_gone % VMM_GONE_KEPT];

	pthread_mutex_lock(&v->lock);
	memset(r, 0, sizeof(*r));
	r->id = g->id;
	r->pid = g->pid;
	r->said_hello = g->nic_ctx >= 0;
	snprintf(r->why, sizeof(r->why), "%s", why);
	r->s = *s;
	r->rejects = rejects;
	r->flushed = flushed;
	r->claims_after = claims;
	r->regions_released = released;
	r->refusals = g->refusals;
	memcpy(r->last_refusal, g->last_refusal, sizeof(r->last_refusal));
	memcpy(r->quarantine, g->quarantine, sizeof(r->quarantine));
	v->nb_gone++;
	pthread_mutex_unlock(&v->lock);
}

/*
 * Any cause. Order matters: stop taking requests, let the NIC finish or
 * abort every posted descriptor and reclaim them (claims drop to zero), and
 * only then unmap the guest's memory.
 */
void
guest_teardown(struct vmm *v, struct guest *g, const char *why)
{
	struct cdna_msg_stats s;
	uint64_t flushed = g->inflight, claims, rejects = 0;
	uint32_t i, unmapped = 0;
	uint16_t q;

	epoll_ctl(v->epoll_fd, EPOLL_CTL_DEL, g->fd, NULL);
	close(g->fd);
	if (g->nic_ctx >= 0)
		guest_stop(v, g);
	/*
	 * Every descriptor is reclaimed now; the claim maps themselves are
	 * checked region by region before each unmap (guest_mem_reap).
	 */
	claims = g->claimed_lines;
	guest_counters_sum(v, g, &s);
	for (i = 0; i < CDNA_ST_COUNT; i++)
		if (i != CDNA_ST_ABORTED)
			rejects += s.reject[i];
	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->opt.max_guests; i++)
		if (v->guests[i] == g)
			v->guests[i] = NULL;
	pthread_mutex_unlock(&v->lock);
	if (g->nic_ctx >= 0) {
		for (q = 0; q < CDNA_MAX_QUEUES; q++)
			if (g->q[q].created) {
				cdna_nic_queue_destroy(v->nic,
						       (uint32_t)g->nic_ctx, q);
				mq_free(&g->q[q]);
			}
	}
	/* Nothing is in flight now (claims == 0), so unmapping is safe. */
	if (claims == 0 && g->inflight == 0) {
		unmapped = guest_mem_retire_all(g);
	} else {
		/* Never unmap under DMA: leak instead, and say so. */
		GLOG(g, "teardown: %" PRIu64 " lines still claimed, %" PRIu64
		     " descriptors in flight: memory left mapped", claims,
		     g->inflight);
	}
	if (g->nic_ctx >= 0) {
		audit_ctx_owned_only((uint32_t)g->nic_ctx, 0);
		cdna_nic_ctx_free(v->nic, (uint32_t)g->nic_ctx);
		g->strat->detach(v, g);
	}
	gone_record(v, g, why, &s, rejects, flushed, claims, unmapped);
	vlog_uid(g->uid, "guest %u disconnected: %s; tx_pkts=%" PRIu64
		 " rx_pkts=%" PRIu64 " rx_nobuf=%" PRIu64 " rejects=%" PRIu64
		 " flushed=%" PRIu64 " claims_after=%" PRIu64
		 " regions_released=%u", g->id, why, s.tx_pkts, s.rx_pkts,
		 s.rx_nobuf, rejects, flushed, claims, unmapped);
	cdna_rt_fini(&g->rt);
	free(g->dying);
	free(g);
}

/* Disconnects every connection that let GUEST_HELLO_SECONDS pass without HELLO. */
void
guest_expire(struct vmm *v)
{
	uint64_t now = rte_get_timer_cycles();
	uint32_t i;

	for (i = 0; i < v->opt.max_guests; i++) {
		struct guest *g = v->guests[i];

		if (g != NULL && g->nb_queues == 0 && now > g->hello_deadline)
			guest_teardown(v, g, "no HELLO within "
				       RTE_STR(GUEST_HELLO_SECONDS) " s");
	}
}
