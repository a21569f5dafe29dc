/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control message checks. Framing is checked before any payload byte is
 * looked at; then the bytes beyond the type's own struct must be zero, so
 * nothing can hide in the union's slack; then each field.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cdna_abi.h"
#include "cdna_ctrl.h"
#include "ctrl_parse.h"

#define PAGE_SIZE_4K	4096u

struct msg_info {
	const char *name;
	size_t payload;		/* bytes of u the type uses; the rest must be 0 */
};

static const struct msg_info msg_info[CDNA_MSG_TYPE_MAX + 1] = {
	[CDNA_MSG_HELLO] = { "HELLO", sizeof(struct cdna_msg_hello) },
	[CDNA_MSG_REGION_ADD] = { "REGION_ADD", sizeof(struct cdna_msg_region) },
	[CDNA_MSG_REGION_DEL] = { "REGION_DEL", sizeof(struct cdna_msg_region) },
	[CDNA_MSG_QUEUE_CREATE] = { "QUEUE_CREATE", sizeof(struct cdna_msg_queue) },
	[CDNA_MSG_QUEUE_DESTROY] = { "QUEUE_DESTROY", sizeof(struct cdna_msg_queue) },
	[CDNA_MSG_START] = { "START", 0 },
	[CDNA_MSG_STOP] = { "STOP", 0 },
	[CDNA_MSG_SET_MAC] = { "SET_MAC", sizeof(struct cdna_msg_mac) },
	[CDNA_MSG_SET_RXMODE] = { "SET_RXMODE", sizeof(struct cdna_msg_rxmode) },
	[CDNA_MSG_SET_MTU] = { "SET_MTU", sizeof(struct cdna_msg_mtu) },
	[CDNA_MSG_STATS] = { "STATS", 0 },
	[CDNA_MSG_BYE] = { "BYE", 0 },
};

__attribute__((format(printf, 4, 5)))
static int
fail(int err, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int
is_pow2(uint32_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static int
mac_is_zero(const uint8_t mac[6])
{
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

#define MAC_FMT		"%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m)	(m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]

int
cdna_ctrl_expected_fds(uint16_t type)
{
	return type == CDNA_MSG_REGION_ADD ? 1 : 0;
}

/* REGION_ADD and REGION_DEL share the range rules. */
static int
check_region_range(const char *name, const struct cdna_msg_region *rg,
		   char *why, size_t whylen)
{
	if (rg->size == 0)
		return fail(-EINVAL, why, whylen, "%s size is 0", name);
	if (rg->size % PAGE_SIZE_4K != 0)
		return fail(-EINVAL, why, whylen,
			    "%s size %" PRIu64 " is not a multiple of 4096",
			    name, rg->size);
	if (rg->guest_addr % PAGE_SIZE_4K != 0)
		return fail(-EINVAL, why, whylen,
			    "%s guest_addr 0x%" PRIx64 " is not a multiple of 4096",
			    name, rg->guest_addr);
	/* Overflow-safe form of guest_addr + size > UINT64_MAX. */
	if (rg->size > UINT64_MAX - rg->guest_addr)
		return fail(-EINVAL, why, whylen,
			    "%s guest_addr 0x%" PRIx64 " + size 0x%" PRIx64
			    " wraps", name, rg->guest_addr, rg->size);
	return 0;
}

static int
check_region_add(const struct cdna_msg_region *rg, char *why, size_t whylen)
{
	int ret = check_region_range("REGION_ADD", rg, why, whylen);

	if (ret != 0)
		return ret;
	if (rg->fd_offset % PAGE_SIZE_4K != 0)
		return fail(-EINVAL, why, whylen,
			    "REGION_ADD fd_offset 0x%" PRIx64
			    " is not a multiple of 4096", rg->fd_offset);
	/* Overflow-safe form of fd_offset + size > UINT64_MAX. */
	if (rg->size > UINT64_MAX - rg->fd_offset)
		return fail(-EINVAL, why, whylen,
			    "REGION_ADD fd_offset 0x%" PRIx64 " + size 0x%"
			    PRIx64 " wraps", rg->fd_offset, rg->size);
	if (rg->perm == 0 || (rg->perm & ~CDNA_PERM_KNOWN) != 0)
		return fail(-EINVAL, why, whylen,
			    "REGION_ADD perm 0x%" PRIx32 " is not a nonzero "
			    "subset of 0x%x", rg->perm, CDNA_PERM_KNOWN);
	if (rg->reserved != 0)
		return fail(-EINVAL, why, whylen,
			    "REGION_ADD reserved 0x%" PRIx32 " is not zero",
			    rg->reserved);
	return 0;
}

static int
check_region_del(const struct cdna_msg_region *rg, char *why, size_t whylen)
{
	int ret = check_region_range("REGION_DEL", rg, why, whylen);

	if (ret != 0)
		return ret;
	if (rg->fd_offset != 0)
		return fail(-EINVAL, why, whylen,
			    "REGION_DEL fd_offset 0x%" PRIx64 " is not zero",
			    rg->fd_offset);
	if (rg->perm != 0)
		return fail(-EINVAL, why, whylen,
			    "REGION_DEL perm 0x%" PRIx32 " is not zero", rg->perm);
	if (rg->reserved != 0)
		return fail(-EINVAL, why, whylen,
			    "REGION_DEL reserved 0x%" PRIx32 " is not zero",
			    rg->reserved);
	return 0;
}

static int
check_ring_size(const char *field, uint32_t v, uint32_t lo, uint32_t hi,
		char *why, size_t whylen)
{
	if (!is_pow2(v) || v < lo || v > hi)
		return fail(-EINVAL, why, whylen,
			    "QUEUE_CREATE %s %" PRIu32 " is not a power of two "
			    "in [%" PRIu32 ", %" PRIu32 "]", field, v, lo, hi);
	return 0;
}

static int
check_queue(uint16_t type, const struct cdna_msg_queue *q, uint16_t nb_queues,
	    uint32_t ring_min, uint32_t ring_max, char *why, size_t whylen)
{
	const char *name = msg_info[type].name;
	int ret;

	if (q->queue_id >= nb_queues)
		return fail(-EINVAL, why, whylen,
			    "%s queue_id %u is not below nb_queues %u",
			    name, q->queue_id, nb_queues);
	if (q->reserved0 != 0)
		return fail(-EINVAL, why, whylen,
			    "%s reserved0 0x%x is not zero", name, q->reserved0);
	if (q->reserved1 != 0)
		return fail(-EINVAL, why, whylen,
			    "%s reserved1 0x%" PRIx32 " is not zero",
			    name, q->reserved1);
	if (type == CDNA_MSG_QUEUE_DESTROY) {
		if (q->tx_size != 0 || q->rx_size != 0)
			return fail(-EINVAL, why, whylen,
				    "QUEUE_DESTROY tx_size %" PRIu32
				    " rx_size %" PRIu32 " are not zero",
				    q->tx_size, q->rx_size);
		return 0;
	}
	ret = check_ring_size("tx_size", q->tx_size, ring_min, ring_max,
			      why, whylen);
	if (ret != 0)
		return ret;
	return check_ring_size("rx_size", q->rx_size, ring_min, ring_max,
			       why, whylen);
}

static int
check_payload(const struct cdna_msg *msg, uint16_t type,
	      uint32_t max_queues, uint32_t ring_min, uint32_t ring_max,
	      uint16_t nb_queues, char *why, size_t whylen)
{
	const struct cdna_msg_hello *h = &msg->u.hello;
	const struct cdna_msg_mac *m = &msg->u.mac;

	switch (type) {
	case CDNA_MSG_HELLO:
		if (h->nb_queues == 0 || h->nb_queues > max_queues)
			return fail(-EINVAL, why, whylen,
				    "HELLO nb_queues %u is not in [1, %" PRIu32 "]",
				    h->nb_queues, max_queues);
		/* All-zero asks the mediator to choose. */
		if (!mac_is_zero(h->mac) && (h->mac[0] & 1) != 0)
			return fail(-EINVAL, why, whylen,
				    "HELLO mac " MAC_FMT " is multicast",
				    MAC_ARGS(h->mac));
		if (h->mode >= CDNA_MODE_COUNT)
			return fail(-EINVAL, why, whylen,
				    "HELLO mode %" PRIu32 " is not 0 (mediated) to 6 (unprotected): 1 passthrough, 2 direct-map, 3 single-use, 4 shared, 5 persistent",
				    h->mode);
		if (h->reserved != 0)
			return fail(-EINVAL, why, whylen,
				    "HELLO reserved 0x%" PRIx32 " is not zero",
				    h->reserved);
		return 0;
	case CDNA_MSG_REGION_ADD:
		return check_region_add(&msg->u.region, why, whylen);
	case CDNA_MSG_REGION_DEL:
		return check_region_del(&msg->u.region, why, whylen);
	case CDNA_MSG_QUEUE_CREATE:
	case CDNA_MSG_QUEUE_DESTROY:
		return check_queue(type, &msg->u.queue, nb_queues,
				   ring_min, ring_max, why, whylen);
	case CDNA_MSG_SET_MAC:
		if (mac_is_zero(m->mac) || (m->mac[0] & 1) != 0)
			return fail(-EINVAL, why, whylen,
				    "SET_MAC mac " MAC_FMT " is not a nonzero "
				    "unicast address", MAC_ARGS(m->mac));
		if (m->reserved != 0)
			return fail(-EINVAL, why, whylen,
				    "SET_MAC reserved 0x%x is not zero", m->reserved);
		return 0;
	case CDNA_MSG_SET_RXMODE:
		if ((msg->u.rxmode.mode & ~CDNA_RXMODE_KNOWN) != 0)
			return fail(-EINVAL, why, whylen,
				    "SET_RXMODE mode 0x%" PRIx32 " has bits "
				    "outside 0x%x", msg->u.rxmode.mode,
				    CDNA_RXMODE_KNOWN);
		if (msg->u.rxmode.reserved != 0)
			return fail(-EINVAL, why, whylen,
				    "SET_RXMODE reserved 0x%" PRIx32 " is not zero",
				    msg->u.rxmode.reserved);
		return 0;
	case CDNA_MSG_SET_MTU:
		if (msg->u.mtu.mtu < CDNA_MTU_MIN || msg->u.mtu.mtu > CDNA_MTU_MAX)
			return fail(-EINVAL, why, whylen,
				    "SET_MTU mtu %" PRIu32 " is not in [%u, %u]",
				    msg->u.mtu.mtu, CDNA_MTU_MIN, CDNA_MTU_MAX);
		if (msg->u.mtu.reserved != 0)
			return fail(-EINVAL, why, whylen,
				    "SET_MTU reserved 0x%" PRIx32 " is not zero",
				    msg->u.mtu.reserved);
		return 0;
	default:
		/* START, STOP, STATS, BYE: no payload, zero checked above. */
		return 0;
	}
}

int
cdna_ctrl_check(const struct cdna_msg *msg, size_t len, int nfds,
		const struct cdna_ctrl_limits *lim, uint16_t nb_queues,
		char *why, size_t whylen)
{
	/*
	 * The configured limits can only narrow the protocol's own: a bad
	 * configuration must not let a guest past the ABI bounds.
	 */
	uint32_t max_queues = CDNA_MAX_QUEUES;
	uint32_t ring_min = CDNA_RING_MIN;
	uint32_t ring_max = CDNA_RING_MAX;
	const struct msg_info *mi;
	uint16_t type;
	size_t i;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (lim != NULL) {
		if (lim->max_queues < max_queues)
			max_queues = lim->max_queues;
		if (lim->ring_min > ring_min)
			ring_min = lim->ring_min;
		if (lim->ring_max < ring_max)
			ring_max = lim->ring_max;
	}

	if (msg == NULL || len != sizeof(*msg))
		return fail(-EPROTO, why, whylen,
			    "message length %zu, expected %zu",
			    msg == NULL ? (size_t)0 : len, sizeof(*msg));
	if (msg->hdr.magic != CDNA_CTRL_MAGIC)
		return fail(-EPROTO, why, whylen,
			    "magic 0x%08" PRIx32 ", expected 0x%08x",
			    msg->hdr.magic, CDNA_CTRL_MAGIC);
	if (msg->hdr.version != CDNA_CTRL_VERSION)
		return fail(-EPROTO, why, whylen, "version %u, expected %u",
			    msg->hdr.version, CDNA_CTRL_VERSION);
	type = msg->hdr.type;
	if ((type & CDNA_MSG_REPLY) != 0)
		return fail(-EPROTO, why, whylen,
			    "type 0x%04x has the reply bit set", type);
	if (type == 0 || type > CDNA_MSG_TYPE_MAX)
		return fail(-EPROTO, why, whylen, "type %u is unknown", type);
	mi = &msg_info[type];
	if (msg->hdr.status != 0)
		return fail(-EPROTO, why, whylen, "%s status %" PRId32
			    " is not zero in a request", mi->name,
			    msg->hdr.status);
	if (nfds != cdna_ctrl_expected_fds(type))
		return fail(-EPROTO, why, whylen, "%s carries %d fds, expected %d",
			    mi->name, nfds, cdna_ctrl_expected_fds(type));
	/* HELLO exactly once, and first. */
	if (type == CDNA_MSG_HELLO && nb_queues != 0)
		return fail(-EPROTO, why, whylen,
			    "HELLO after HELLO (nb_queues %u)", nb_queues);
	/* BYE is the one goodbye that is fine at any time, even after a refused HELLO. */
	if (type != CDNA_MSG_HELLO && type != CDNA_MSG_BYE && nb_queues == 0)
		return fail(-EPROTO, why, whylen, "%s before HELLO", mi->name);

	for (i = mi->payload; i < sizeof(msg->u.raw); i++)
		if (msg->u.raw[i] != 0)
			return fail(-EINVAL, why, whylen,
				    "%s payload byte %zu is 0x%02x, must be zero",
				    mi->name, i, msg->u.raw[i]);

	return check_payload(msg, type, max_queues, ring_min, ring_max,
			     nb_queues, why, whylen);
}

int
cdna_region_fits_file(uint64_t fd_offset, uint64_t size, uint64_t file_size)
{
	/* An empty region is never valid, so do not call it a fit. */
	if (size == 0)
		return -EINVAL;
	/* Overflow-safe form of fd_offset + size > file_size. */
	if (size > file_size || fd_offset > file_size - size)
		return -EINVAL;
	return 0;
}
