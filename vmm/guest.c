/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest lifecycle: what each control message does, and teardown. Messages
 * reach here already framed and field-checked by cdna_ctrl_check(); this
 * file adds the checks that need state (MACs, limits) and hands memory to
 * guest_mem.c, queues to queues.c and protection to the guest's strategy.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ether.h>

#include "fd_close.h"
#include "guest_mem.h"
#include "iomap.h"
#include "iommu.h"
#include "queues.h"
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

/*
 * The next guest id: never 0 (backing_in_use's "no guest"), never one a
 * connected guest still has, even once 2^32 connections have wrapped the
 * counter. At most --max-guests ids are in use, so this ends.
 */
static uint32_t
guest_id_next(struct vmm *v)
{
	uint32_t id, i;

	for (;;) {
		id = ++v->next_guest_id;
		if (id == 0)
			continue;
		for (i = 0; i < v->opt.max_guests; i++)
			if (v->guests[i] != NULL && v->guests[i]->id == id)
				break;
		if (i == v->opt.max_guests)
			return id;
	}
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
	g->id = guest_id_next(v);
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
	mediator_poll_stale(v);
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
	if (st->mode == CDNA_MODE_UNPROTECTED) {
		if (!v->opt.allow_unprotected) {
			GREFUSE(g, "HELLO refused: mode unprotected is not allowed (cdna-vmm runs without --allow-unprotected)");
			return -EPERM;
		}
	} else if (!st->mediated && !v->opt.allow_passthrough) {
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
	/* A persistent guest sizes its cache by it, not by trial and refusal. */
	r->map_quota = cdna_mode_maps(g->mode) ? v->opt.map_quota : 0;
	vlog_uid(g->uid, "guest %u connected pid=%d uid=%u mac=%s queues=%u mode=%s",
		 g->id, (int)g->pid, (unsigned int)g->uid, ms, g->nb_queues,
		 g->strat->name);
	return 0;
}

static int
on_start(struct vmm *v, struct guest *g)
{
	uint16_t q, n = 0, quarantined = 0;

	for (q = 0; q < g->nb_queues; q++) {
		if (g->q[q].created && !g->q[q].quarantined) {
			cdna_nic_queue_enable(v->nic, (uint32_t)g->nic_ctx, q, 1);
			n++;
		}
		quarantined += g->q[q].created && g->q[q].quarantined;
	}
	if (n == 0) {
		if (quarantined != 0)
			GREFUSE(g, "START refused: all %u created queues are quarantined",
				quarantined);
		else
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
	mediator_poll_stale(v);
	for (q = 0; q < g->nb_queues; q++)
		if (g->q[q].created)
			mediator_queue_drain(v, &g->q[q]);
	/* Nothing is in flight: the strategy may drop what it mapped. */
	g->strat->stopped(v, g);
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
	/* These change what the data path visits: a strategy, queues, started. */
	if (m->hdr.type == CDNA_MSG_HELLO || m->hdr.type == CDNA_MSG_QUEUE_CREATE ||
	    m->hdr.type == CDNA_MSG_QUEUE_DESTROY || m->hdr.type == CDNA_MSG_START ||
	    m->hdr.type == CDNA_MSG_STOP)
		mediator_poll_stale(v);
	switch (m->hdr.type) {
	case CDNA_MSG_HELLO:
		return on_hello(v, g, &m->u.hello, &reply->u.hello_reply);
	case CDNA_MSG_REGION_ADD:
		return guest_mem_add(v, g, &m->u.region, fd);
	case CDNA_MSG_REGION_DEL:
		return guest_mem_del(v, g, &m->u.region);
	case CDNA_MSG_QUEUE_CREATE:
		return queue_create(v, g, &m->u.queue, &reply->u.queue_reply,
				       reply_fds, nb_reply_fds);
	case CDNA_MSG_QUEUE_DESTROY:
		return queue_destroy(v, g, m->u.queue.queue_id);
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
	guest_fd_close(fd, g->uid);
	return -EPROTO;
}

uint64_t
guest_footprint(const struct guest *g)
{
	/* Its I/O page table too: it grows with what the guest registers. */
	uint64_t n = sizeof(*g) + guest_mem_footprint(g) +
		cdna_iommu_domain_bytes(g->iodom) + iomap_bytes(g->iomap);
	uint16_t q;

	for (q = 0; q < CDNA_MAX_QUEUES; q++)
		n += queue_footprint(&g->q[q]);
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
	mediator_poll_stale(v);
	if (g->nic_ctx >= 0) {
		for (q = 0; q < CDNA_MAX_QUEUES; q++)
			if (g->q[q].created) {
				cdna_nic_queue_destroy(v->nic,
						       (uint32_t)g->nic_ctx, q);
				queue_free(&g->q[q]);
			}
	}
	/*
	 * Closed once the NIC has no queue of this guest left, so no DMA can
	 * happen any more, whatever the accounts below say: the driver takes
	 * the end of its connection as leave to reuse its buffers.
	 */
	close(g->fd);
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
