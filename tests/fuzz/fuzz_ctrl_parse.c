/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the input becomes a control message, its length, the fd
 * count, the guest's queue count and the limits. A control byte can force
 * the framing fields valid, so the payload checks are reached often. The
 * verdict is compared with a second, deliberately plain statement of the
 * rules; an accepted message must satisfy all of them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdna_ctrl.h"
#include "ctrl_parse.h"
#include "fuzz_reader.h"

static size_t
used_bytes(uint16_t type)
{
	switch (type) {
	case CDNA_MSG_HELLO:
		return 16;
	case CDNA_MSG_REGION_ADD:
	case CDNA_MSG_REGION_DEL:
		return 32;
	case CDNA_MSG_QUEUE_CREATE:
	case CDNA_MSG_QUEUE_DESTROY:
		return 16;
	case CDNA_MSG_SET_MAC:
	case CDNA_MSG_SET_RXMODE:
	case CDNA_MSG_SET_MTU:
		return 8;
	default:
		return 0;
	}
}

static int
ring_ok(uint32_t v, uint32_t lo, uint32_t hi)
{
	uint32_t p;

	for (p = 1; p != 0 && p <= hi; p <<= 1)
		if (p == v)
			return p >= lo;
	return 0;
}

static int
mac_zero(const uint8_t *m)
{
	static const uint8_t z[6];

	return memcmp(m, z, 6) == 0;
}

/* The payload rules of one request type, restated. */
static int
payload_ok(const struct cdna_msg *m, uint16_t nbq, uint32_t maxq,
	   uint32_t rmin, uint32_t rmax)
{
	const struct cdna_msg_region *rg = &m->u.region;
	const struct cdna_msg_queue *q = &m->u.queue;

	switch (m->hdr.type) {
	case CDNA_MSG_HELLO:
		return m->u.hello.nb_queues >= 1 &&
			m->u.hello.nb_queues <= maxq &&
			(mac_zero(m->u.hello.mac) ||
			 (m->u.hello.mac[0] & 1) == 0) &&
			m->u.hello.mode < CDNA_MODE_COUNT &&
			m->u.hello.reserved == 0;
	case CDNA_MSG_REGION_ADD:
		return rg->size != 0 && rg->size % 4096 == 0 &&
			rg->guest_addr % 4096 == 0 &&
			rg->fd_offset % 4096 == 0 &&
			(u128)rg->guest_addr + rg->size <= UINT64_MAX &&
			(u128)rg->fd_offset + rg->size <= UINT64_MAX &&
			rg->perm != 0 && (rg->perm & ~CDNA_PERM_KNOWN) == 0 &&
			rg->reserved == 0;
	case CDNA_MSG_REGION_DEL:
		return rg->size != 0 && rg->size % 4096 == 0 &&
			rg->guest_addr % 4096 == 0 &&
			(u128)rg->guest_addr + rg->size <= UINT64_MAX &&
			rg->fd_offset == 0 && rg->perm == 0 &&
			rg->reserved == 0;
	case CDNA_MSG_QUEUE_CREATE:
		return q->queue_id < nbq && q->reserved0 == 0 &&
			q->reserved1 == 0 && ring_ok(q->tx_size, rmin, rmax) &&
			ring_ok(q->rx_size, rmin, rmax);
	case CDNA_MSG_QUEUE_DESTROY:
		return q->queue_id < nbq && q->reserved0 == 0 &&
			q->reserved1 == 0 && q->tx_size == 0 && q->rx_size == 0;
	case CDNA_MSG_SET_MAC:
		return !mac_zero(m->u.mac.mac) && (m->u.mac.mac[0] & 1) == 0 &&
			m->u.mac.reserved == 0;
	case CDNA_MSG_SET_RXMODE:
		return (m->u.rxmode.mode & ~CDNA_RXMODE_KNOWN) == 0 &&
			m->u.rxmode.reserved == 0;
	case CDNA_MSG_SET_MTU:
		return m->u.mtu.mtu >= CDNA_MTU_MIN &&
			m->u.mtu.mtu <= CDNA_MTU_MAX &&
			m->u.mtu.reserved == 0;
	default:
		return 1;
	}
}

static void
fuzz_fits_file(struct reader *r)
{
	uint64_t off = rd64(r), size = rd64(r), file = rd64(r);
	int got;

	/* Bias towards the interesting top of the range. */
	if (off & 1)
		file = UINT64_MAX - (file & 0xffff);
	got = cdna_region_fits_file(off, size, file);
	FUZZ_CHECK(got == 0 || got < 0);
	FUZZ_CHECK((got == 0) ==
		   (size != 0 && (u128)off + size <= (u128)file));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct cdna_ctrl_limits lim;
	struct cdna_msg m;
	uint32_t maxq, rmin, rmax;
	uint8_t ctl, ctl2;
	size_t len, whylen, i, used;
	char why[200];
	uint16_t nbq, type;
	int nfds, got, framing, state, pad;

	ctl = rd8(&r);
	ctl2 = rd8(&r);
	nfds = (int8_t)rd8(&r);
	nbq = rd16(&r);
	len = rd16(&r);
	lim.ring_min = 1u << (rd8(&r) % 32);
	lim.ring_max = 1u << (rd8(&r) % 32);
	lim.max_queues = rd8(&r) % 24;
	whylen = rd8(&r) % sizeof(why);

	memset(&m, 0, sizeof(m));
	for (i = 0; i < sizeof(m) && r.n > 0; i++)
		((uint8_t *)&m)[i] = rd8(&r);

	/* Make the framing right on request, to reach the payload checks. */
	if (ctl2 & 0x04)
		ctl = 0xff;
	if (ctl & 0x01)
		m.hdr.magic = CDNA_CTRL_MAGIC;
	if (ctl & 0x02)
		m.hdr.version = CDNA_CTRL_VERSION;
	if (ctl & 0x04)
		m.hdr.type = (uint16_t)(1 + m.hdr.type % CDNA_MSG_TYPE_MAX);
	if (ctl & 0x08)
		m.hdr.status = 0;
	if (ctl & 0x10)
		nfds = cdna_ctrl_expected_fds(m.hdr.type);
	if (ctl & 0x20)
		len = sizeof(m);
	if (ctl & 0x40) {
		used = used_bytes(m.hdr.type);
		memset(m.u.raw + used, 0, sizeof(m.u.raw) - used);
	}
	if (ctl & 0x80)
		nbq = m.hdr.type == CDNA_MSG_HELLO ? 0 : (uint16_t)(1 + nbq % 16);
	if (ctl2 & 0x01) {
		lim.ring_min = CDNA_RING_MIN;
		lim.ring_max = CDNA_RING_MAX;
		lim.max_queues = CDNA_MAX_QUEUES;
	}

	memset(why, 0x5a, sizeof(why));
	got = cdna_ctrl_check(&m, len, nfds, (ctl2 & 0x02) ? NULL : &lim, nbq,
			      why, whylen);

	FUZZ_CHECK(got == 0 || got == -EPROTO || got == -EINVAL);
	/* The reason fits its buffer, is terminated, and is never empty. */
	if (whylen > 0) {
		FUZZ_CHECK(memchr(why, '\0', whylen) != NULL);
		if (got != 0 && whylen > 1)
			FUZZ_CHECK(why[0] != '\0');
	}
	for (i = whylen; i < sizeof(why); i++)
		FUZZ_CHECK(why[i] == 0x5a);

	maxq = CDNA_MAX_QUEUES;
	rmin = CDNA_RING_MIN;
	rmax = CDNA_RING_MAX;
	if (!(ctl2 & 0x02)) {
		maxq = lim.max_queues < maxq ? lim.max_queues : maxq;
		rmin = lim.ring_min > rmin ? lim.ring_min : rmin;
		rmax = lim.ring_max < rmax ? lim.ring_max : rmax;
	}

	type = m.hdr.type;
	framing = len == sizeof(m) && m.hdr.magic == CDNA_CTRL_MAGIC &&
		m.hdr.version == CDNA_CTRL_VERSION && type >= 1 &&
		type <= CDNA_MSG_TYPE_MAX && m.hdr.status == 0 &&
		nfds == (type == CDNA_MSG_REGION_ADD ? 1 : 0);
	state = type == CDNA_MSG_HELLO ? nbq == 0 :
		type == CDNA_MSG_BYE || nbq != 0;
	pad = 1;
	if (framing)
		for (i = used_bytes(type); i < sizeof(m.u.raw); i++)
			pad &= m.u.raw[i] == 0;

	if (!framing || !state)
		FUZZ_CHECK(got == -EPROTO);
	else if (!pad || !payload_ok(&m, nbq, maxq, rmin, rmax))
		FUZZ_CHECK(got == -EINVAL);
	else
		FUZZ_CHECK(got == 0);

	/* The same bytes under fits_file. */
	r.p = data;
	r.n = size;
	rd8(&r);
	fuzz_fits_file(&r);
	return 0;
}
