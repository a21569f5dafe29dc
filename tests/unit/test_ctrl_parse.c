/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control message checks, table-driven: a valid message of every type,
 * then the same message with one thing wrong. Every rejection must carry a
 * reason.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cdna_ctrl.h"
#include "ctrl_parse.h"

#define MSG_LEN		sizeof(struct cdna_msg)
#define NBQ		4u	/* queues declared in HELLO for most rows */
#define DEFAULT		(-1000)	/* "use the normal value" for len/nfds/nbq */

/* Narrower than the ABI, to show the limits are applied. */
static const struct cdna_ctrl_limits lim = {
	.ring_min = 128, .ring_max = 2048, .max_queues = 8,
};

struct patch {
	uint16_t off;
	uint8_t width;		/* 0 ends the list */
	uint64_t val;
};

#define P(field, v) { offsetof(struct cdna_msg, field), \
		      sizeof(((struct cdna_msg *)0)->field), (uint64_t)(v) }
/* w bytes starting at field, for runs of bytes such as a MAC's middle. */
#define PW(field, w, v) { offsetof(struct cdna_msg, field), (w), (uint64_t)(v) }

struct row {
	const char *name;
	uint16_t type;		/* the valid base message to start from */
	struct patch p[4];
	int want;
	const char *needle;	/* must appear in why, if set */
	long len;		/* DEFAULT: sizeof(struct cdna_msg) */
	int nfds;		/* DEFAULT: cdna_ctrl_expected_fds(type) */
	int nbq;		/* DEFAULT: 0 for HELLO, NBQ otherwise */
};

#define ROW(n, t, w, nd, ...) \
	{ .name = (n), .type = (t), .p = { __VA_ARGS__ }, .want = (w), \
	  .needle = (nd), .len = DEFAULT, .nfds = DEFAULT, .nbq = DEFAULT }

#define HELLO		CDNA_MSG_HELLO
#define RADD		CDNA_MSG_REGION_ADD
#define RDEL		CDNA_MSG_REGION_DEL
#define QCRE		CDNA_MSG_QUEUE_CREATE
#define QDES		CDNA_MSG_QUEUE_DESTROY
#define SMAC		CDNA_MSG_SET_MAC
#define SRXM		CDNA_MSG_SET_RXMODE
#define SMTU		CDNA_MSG_SET_MTU
#define INVAL		(-EINVAL)
#define PROTO		(-EPROTO)

#define HMAC(i, v)	P(u.hello.mac[i], v)
#define MMAC(i, v)	P(u.mac.mac[i], v)
#define PAGE_TOP	0xfffffffffffff000ull

/* Field rows: each changes one field of the type's valid message. */
static const struct row field_rows[] = {
	ROW("hello nb_queues 1", HELLO, 0, NULL, P(u.hello.nb_queues, 1)),
	ROW("hello nb_queues at limit", HELLO, 0, NULL, P(u.hello.nb_queues, 8)),
	ROW("hello nb_queues over limit", HELLO, INVAL, "nb_queues 9",
	    P(u.hello.nb_queues, 9)),
	ROW("hello nb_queues 0", HELLO, INVAL, "nb_queues 0",
	    P(u.hello.nb_queues, 0)),
	ROW("hello nb_queues ABI max", HELLO, INVAL, NULL,
	    P(u.hello.nb_queues, CDNA_MAX_QUEUES)),
	ROW("hello nb_queues 0xffff", HELLO, INVAL, "65535",
	    P(u.hello.nb_queues, 0xffff)),
	ROW("hello mac all zero", HELLO, 0, NULL, HMAC(0, 0)),
	ROW("hello mac 00:..:01", HELLO, 0, NULL, HMAC(0, 0), HMAC(5, 1)),
	ROW("hello mac multicast", HELLO, INVAL, "mac 01:", HMAC(0, 1)),
	ROW("hello mac 03:..", HELLO, INVAL, "mac", HMAC(0, 3)),
	ROW("hello mac broadcast", HELLO, INVAL, "ff:ff:ff:ff:ff:ff",
	    HMAC(0, 0xff), HMAC(1, 0xff), PW(u.hello.mac[2], 4, 0xffffffffu)),
	ROW("hello mode passthrough", HELLO, 0, NULL,
	    P(u.hello.mode, CDNA_MODE_PASSTHROUGH)),
	ROW("hello mode direct-map", HELLO, 0, NULL,
	    P(u.hello.mode, CDNA_MODE_DIRECT_MAP)),
	ROW("hello mode single-use", HELLO, 0, NULL,
	    P(u.hello.mode, CDNA_MODE_SINGLE_USE)),
	ROW("hello mode persistent", HELLO, 0, NULL,
	    P(u.hello.mode, CDNA_MODE_PERSISTENT)),
	ROW("hello mode unprotected", HELLO, 0, NULL,
	    P(u.hello.mode, CDNA_MODE_UNPROTECTED)),
	ROW("hello mode 7", HELLO, INVAL, "mode 7", P(u.hello.mode, 7)),
	ROW("hello mode 0xffffffff", HELLO, INVAL, "mode 4294967295",
	    P(u.hello.mode, 0xffffffffu)),
	ROW("hello reserved", HELLO, INVAL, "reserved",
	    P(u.hello.reserved, 1)),
	ROW("hello reserved top bit", HELLO, INVAL, "reserved",
	    P(u.hello.reserved, 0x80000000u)),

	ROW("region_add size 4097", RADD, INVAL,
	    "REGION_ADD size 4097 is not a multiple of 4096",
	    P(u.region.size, 4097)),
	ROW("region_add size 4095", RADD, INVAL, "4095", P(u.region.size, 4095)),
	ROW("region_add size 0", RADD, INVAL, "size", P(u.region.size, 0)),
	ROW("region_add size 4096", RADD, 0, NULL, P(u.region.size, 4096)),
	ROW("region_add guest_addr +1", RADD, INVAL, "guest_addr",
	    P(u.region.guest_addr, 0x7f0000000001ull)),
	ROW("region_add guest_addr 0x800", RADD, INVAL, "0x800",
	    P(u.region.guest_addr, 0x800)),
	ROW("region_add guest_addr 0", RADD, 0, NULL, P(u.region.guest_addr, 0)),
	ROW("region_add fd_offset 1", RADD, INVAL, "fd_offset",
	    P(u.region.fd_offset, 1)),
	ROW("region_add fd_offset 0x800", RADD, INVAL, "fd_offset",
	    P(u.region.fd_offset, 0x800)),
	ROW("region_add fd_offset 0", RADD, 0, NULL, P(u.region.fd_offset, 0)),
	ROW("region_add end is 2^64", RADD, INVAL, "wraps",
	    P(u.region.guest_addr, PAGE_TOP), P(u.region.size, 0x1000)),
	ROW("region_add wraps", RADD, INVAL, "wraps",
	    P(u.region.guest_addr, PAGE_TOP), P(u.region.size, 0x2000)),
	ROW("region_add huge size wraps", RADD, INVAL, "wraps",
	    P(u.region.guest_addr, 0x2000), P(u.region.size, PAGE_TOP)),
	ROW("region_add ends at top page", RADD, 0, NULL,
	    P(u.region.guest_addr, PAGE_TOP - 0x1000), P(u.region.size, 0x1000)),
	ROW("region_add huge size fits", RADD, 0, NULL,
	    P(u.region.guest_addr, 0x1000), P(u.region.size, PAGE_TOP - 0x1000)),
	ROW("region_add fd_offset + size is 2^64", RADD, INVAL, "fd_offset",
	    P(u.region.fd_offset, PAGE_TOP), P(u.region.size, 0x1000)),
	ROW("region_add fd_offset + size wraps", RADD, INVAL, "fd_offset",
	    P(u.region.fd_offset, 0xffffffffffff0000ull),
	    P(u.region.size, 0x20000)),
	ROW("region_add fd_offset high", RADD, 0, NULL,
	    P(u.region.fd_offset, PAGE_TOP - 0x1000), P(u.region.size, 0x1000)),
	ROW("region_add perm 0", RADD, INVAL, "perm 0x0", P(u.region.perm, 0)),
	ROW("region_add perm read", RADD, 0, NULL, P(u.region.perm, 1)),
	ROW("region_add perm write", RADD, 0, NULL, P(u.region.perm, 2)),
	ROW("region_add perm 4", RADD, INVAL, "perm 0x4", P(u.region.perm, 4)),
	ROW("region_add perm 7", RADD, INVAL, "perm", P(u.region.perm, 7)),
	ROW("region_add perm top bit", RADD, INVAL, "perm",
	    P(u.region.perm, 0x80000000u)),
	ROW("region_add reserved", RADD, INVAL, "reserved",
	    P(u.region.reserved, 1)),

	ROW("region_del size 4096", RDEL, 0, NULL, P(u.region.size, 4096)),
	ROW("region_del size 0", RDEL, INVAL, "size", P(u.region.size, 0)),
	ROW("region_del size 4097", RDEL, INVAL, "4097", P(u.region.size, 4097)),
	ROW("region_del guest_addr unaligned", RDEL, INVAL, "guest_addr",
	    P(u.region.guest_addr, 0x7f0000000010ull)),
	ROW("region_del wraps", RDEL, INVAL, "wraps",
	    P(u.region.guest_addr, PAGE_TOP), P(u.region.size, 0x1000)),
	ROW("region_del fd_offset", RDEL, INVAL, "fd_offset",
	    P(u.region.fd_offset, 0x1000)),
	ROW("region_del perm", RDEL, INVAL, "perm", P(u.region.perm, 3)),
	ROW("region_del reserved", RDEL, INVAL, "reserved",
	    P(u.region.reserved, 1)),

	ROW("queue_create queue_id 0", QCRE, 0, NULL, P(u.queue.queue_id, 0)),
	ROW("queue_create last queue", QCRE, 0, NULL, P(u.queue.queue_id, NBQ - 1)),
	ROW("queue_create queue_id == nb_queues", QCRE, INVAL, "queue_id 4",
	    P(u.queue.queue_id, NBQ)),
	ROW("queue_create queue_id 0xffff", QCRE, INVAL, "queue_id",
	    P(u.queue.queue_id, 0xffff)),
	ROW("queue_create tx_size ring_min", QCRE, 0, NULL,
	    P(u.queue.tx_size, 128)),
	ROW("queue_create tx_size ring_max", QCRE, 0, NULL,
	    P(u.queue.tx_size, 2048)),
	ROW("queue_create tx_size below ring_min", QCRE, INVAL, "tx_size 64",
	    P(u.queue.tx_size, 64)),
	ROW("queue_create tx_size above ring_max", QCRE, INVAL, "tx_size 4096",
	    P(u.queue.tx_size, 4096)),
	ROW("queue_create tx_size not pow2", QCRE, INVAL, "tx_size 1000",
	    P(u.queue.tx_size, 1000)),
	ROW("queue_create tx_size 0", QCRE, INVAL, "tx_size", P(u.queue.tx_size, 0)),
	ROW("queue_create tx_size 2^31", QCRE, INVAL, "tx_size",
	    P(u.queue.tx_size, 0x80000000u)),
	ROW("queue_create tx_size max", QCRE, INVAL, "tx_size",
	    P(u.queue.tx_size, UINT32_MAX)),
	ROW("queue_create rx_size ring_min", QCRE, 0, NULL,
	    P(u.queue.rx_size, 128)),
	ROW("queue_create rx_size ring_max", QCRE, 0, NULL,
	    P(u.queue.rx_size, 2048)),
	ROW("queue_create rx_size below ring_min", QCRE, INVAL, "rx_size 64",
	    P(u.queue.rx_size, 64)),
	ROW("queue_create rx_size above ring_max", QCRE, INVAL, "rx_size",
	    P(u.queue.rx_size, 4096)),
	ROW("queue_create rx_size not pow2", QCRE, INVAL, "rx_size 129",
	    P(u.queue.rx_size, 129)),
	ROW("queue_create rx_size 0", QCRE, INVAL, "rx_size", P(u.queue.rx_size, 0)),
	ROW("queue_create reserved0", QCRE, INVAL, "reserved0",
	    P(u.queue.reserved0, 1)),
	ROW("queue_create reserved1", QCRE, INVAL, "reserved1",
	    P(u.queue.reserved1, 1)),

	ROW("queue_destroy last queue", QDES, 0, NULL, P(u.queue.queue_id, NBQ - 1)),
	ROW("queue_destroy queue_id == nb_queues", QDES, INVAL, "queue_id",
	    P(u.queue.queue_id, NBQ)),
	ROW("queue_destroy tx_size", QDES, INVAL, "tx_size",
	    P(u.queue.tx_size, 512)),
	ROW("queue_destroy rx_size", QDES, INVAL, "rx_size",
	    P(u.queue.rx_size, 1)),
	ROW("queue_destroy reserved0", QDES, INVAL, "reserved0",
	    P(u.queue.reserved0, 1)),
	ROW("queue_destroy reserved1", QDES, INVAL, "reserved1",
	    P(u.queue.reserved1, 1)),

	ROW("set_mac all zero", SMAC, INVAL, "00:00:00:00:00:00",
	    MMAC(0, 0), MMAC(5, 0)),
	ROW("set_mac multicast", SMAC, INVAL, "01:00", MMAC(0, 1)),
	ROW("set_mac 03:", SMAC, INVAL, "mac", MMAC(0, 3)),
	ROW("set_mac broadcast", SMAC, INVAL, "mac",
	    MMAC(0, 0xff), MMAC(1, 0xff), PW(u.mac.mac[2], 4, 0xffffffffu)),
	ROW("set_mac 00:..:07", SMAC, 0, NULL, MMAC(0, 0)),
	ROW("set_mac fe:..", SMAC, 0, NULL, MMAC(0, 0xfe)),
	ROW("set_mac reserved", SMAC, INVAL, "reserved", P(u.mac.reserved, 1)),

	ROW("set_rxmode 0", SRXM, 0, NULL, P(u.rxmode.mode, 0)),
	ROW("set_rxmode promisc", SRXM, 0, NULL, P(u.rxmode.mode, 1)),
	ROW("set_rxmode allmulti", SRXM, 0, NULL, P(u.rxmode.mode, 2)),
	ROW("set_rxmode 4", SRXM, INVAL, "mode 0x4", P(u.rxmode.mode, 4)),
	ROW("set_rxmode top bit", SRXM, INVAL, "mode",
	    P(u.rxmode.mode, 0x80000000u)),
	ROW("set_rxmode reserved", SRXM, INVAL, "reserved",
	    P(u.rxmode.reserved, 1)),

	ROW("set_mtu min", SMTU, 0, NULL, P(u.mtu.mtu, CDNA_MTU_MIN)),
	ROW("set_mtu max", SMTU, 0, NULL, P(u.mtu.mtu, CDNA_MTU_MAX)),
	ROW("set_mtu min - 1", SMTU, INVAL, "mtu 67", P(u.mtu.mtu, CDNA_MTU_MIN - 1)),
	ROW("set_mtu max + 1", SMTU, INVAL, "mtu", P(u.mtu.mtu, CDNA_MTU_MAX + 1)),
	ROW("set_mtu 0", SMTU, INVAL, "mtu 0", P(u.mtu.mtu, 0)),
	ROW("set_mtu UINT32_MAX", SMTU, INVAL, "4294967295",
	    P(u.mtu.mtu, UINT32_MAX)),
	ROW("set_mtu reserved", SMTU, INVAL, "reserved", P(u.mtu.reserved, 1)),

	/* Header fields on one type; the loop covers them for every type. */
	ROW("type 0", HELLO, PROTO, "type", P(hdr.type, 0)),
	ROW("type 13", HELLO, PROTO, "type 13", P(hdr.type, CDNA_MSG_TYPE_MAX + 1)),
	ROW("type 0x7fff", RADD, PROTO, "type", P(hdr.type, 0x7fff)),
	ROW("type 0xffff", HELLO, PROTO, "type", P(hdr.type, 0xffff)),
	ROW("type 0x8000", QCRE, PROTO, "reply", P(hdr.type, 0x8000)),
	ROW("magic byte-swapped", HELLO, PROTO, "magic",
	    P(hdr.magic, 0x4343544cu)),
	ROW("version 0x0101", HELLO, PROTO, "version", P(hdr.version, 0x0101)),
};
#define NFIELD	(sizeof(field_rows) / sizeof(field_rows[0]))

/* The payload bytes each request type uses. */
static size_t
payload_len(uint16_t type)
{
	switch (type) {
	case HELLO: return sizeof(struct cdna_msg_hello);
	case RADD:
	case RDEL: return sizeof(struct cdna_msg_region);
	case QCRE:
	case QDES: return sizeof(struct cdna_msg_queue);
	case SMAC: return sizeof(struct cdna_msg_mac);
	case SRXM: return sizeof(struct cdna_msg_rxmode);
	case SMTU: return sizeof(struct cdna_msg_mtu);
	default: return 0;
	}
}

static void
base_msg(struct cdna_msg *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	m->hdr.magic = CDNA_CTRL_MAGIC;
	m->hdr.version = CDNA_CTRL_VERSION;
	m->hdr.type = type;
	m->hdr.seq = 0x12345678;
	switch (type) {
	case HELLO:
		m->u.hello.nb_queues = 2;
		m->u.hello.mac[0] = 0x02;
		break;
	case RADD:
		m->u.region.guest_addr = 0x7f0000000000ull;
		m->u.region.size = 0x200000;
		m->u.region.fd_offset = 0x1000;
		m->u.region.perm = CDNA_PERM_KNOWN;
		break;
	case RDEL:
		m->u.region.guest_addr = 0x7f0000000000ull;
		m->u.region.size = 0x200000;
		break;
	case QCRE:
		m->u.queue.queue_id = 1;
		m->u.queue.tx_size = 512;
		m->u.queue.rx_size = 1024;
		break;
	case QDES:
		m->u.queue.queue_id = 1;
		break;
	case SMAC:
		m->u.mac.mac[0] = 0x02;
		m->u.mac.mac[5] = 0x07;
		break;
	case SRXM:
		m->u.rxmode.mode = CDNA_RXMODE_KNOWN;
		break;
	case SMTU:
		m->u.mtu.mtu = 1500;
		break;
	default:
		break;
	}
}

static void
apply(struct cdna_msg *m, const struct patch *p)
{
	uint8_t *b = (uint8_t *)m + p->off;
	uint16_t v16 = (uint16_t)p->val;
	uint32_t v32 = (uint32_t)p->val;

	switch (p->width) {
	case 1: *b = (uint8_t)p->val; break;
	case 2: memcpy(b, &v16, 2); break;
	case 4: memcpy(b, &v32, 4); break;
	case 8: memcpy(b, &p->val, 8); break;
	default: break;
	}
}

static unsigned int cases;
static unsigned int failed;

/* Runs one message through the parser; 1 if the verdict is as expected. */
static int
check_one(const char *name, const struct cdna_msg *m, size_t len, int nfds,
	  uint16_t nbq, const struct cdna_ctrl_limits *l, int want,
	  const char *needle)
{
	char why[160];
	int got, ok = 1;

	memset(why, 'X', sizeof(why));
	got = cdna_ctrl_check(m, len, nfds, l, nbq, why, sizeof(why));
	cases++;
	if (memchr(why, '\0', sizeof(why)) == NULL) {
		fprintf(stderr, "%s: why not terminated\n", name);
		ok = 0;
	} else if (got != 0 && why[0] == '\0') {
		fprintf(stderr, "%s: rejected (%d) with an empty reason\n",
			name, got);
		ok = 0;
	}
	if (got != want) {
		fprintf(stderr, "%s: expected %d, got %d (%s)\n", name, want,
			got, ok ? why : "?");
		ok = 0;
	} else if (ok && want != 0 && needle != NULL &&
		   strstr(why, needle) == NULL) {
		fprintf(stderr, "%s: reason \"%s\" does not mention \"%s\"\n",
			name, why, needle);
		ok = 0;
	}
	failed += !ok;
	return ok;
}

static void
run_field_rows(void)
{
	size_t i, k;

	for (i = 0; i < NFIELD; i++) {
		const struct row *r = &field_rows[i];
		struct cdna_msg m;
		char name[160];
		size_t len = r->len == DEFAULT ? MSG_LEN : (size_t)r->len;
		int nfds = r->nfds == DEFAULT ?
			cdna_ctrl_expected_fds(r->type) : r->nfds;
		uint16_t nbq = r->nbq != DEFAULT ? (uint16_t)r->nbq :
			r->type == HELLO ? 0 : NBQ;

		base_msg(&m, r->type);
		for (k = 0; k < 4 && r->p[k].width != 0; k++)
			apply(&m, &r->p[k]);
		snprintf(name, sizeof(name), "field row %zu (%s)", i, r->name);
		check_one(name, &m, len, nfds, nbq, &lim, r->want, r->needle);
	}
}

/* Framing, fd count, HELLO state and padding, for every request type. */
static void
run_type_rows(void)
{
	static const size_t bad_lens[] = { 0, 1, 16, 255, 257, 512, SIZE_MAX };
	static const int32_t bad_status[] = { 1, -1, INT32_MIN, -EPROTO };
	uint16_t t;
	size_t i;

	for (t = 1; t <= CDNA_MSG_TYPE_MAX; t++) {
		/* Room for len 257 and 512: the parser must not read them. */
		union {
			struct cdna_msg m;
			uint8_t big[1024];
		} buf;
		struct cdna_msg *m = &buf.m;
		int fds = cdna_ctrl_expected_fds(t);
		uint16_t nbq = t == HELLO ? 0 : NBQ;
		size_t pl = payload_len(t);
		char name[96];

		memset(&buf, 0, sizeof(buf));
#define NAME(what) (snprintf(name, sizeof(name), "type %u: %s", t, (what)), name)
		base_msg(m, t);
		check_one(NAME("valid"), m, MSG_LEN, fds, nbq, &lim, 0, NULL);
		check_one(NAME("valid, no limits"), m, MSG_LEN, fds, nbq, NULL,
			  0, NULL);

		for (i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
			char what[48];

			snprintf(what, sizeof(what), "length %zu", bad_lens[i]);
			check_one(NAME(what), m, bad_lens[i], fds, nbq, &lim,
				  PROTO, "length");
		}

		base_msg(m, t);
		m->hdr.magic = 0;
		check_one(NAME("magic 0"), m, MSG_LEN, fds, nbq, &lim, PROTO,
			  "magic");
		m->hdr.magic = CDNA_CTRL_MAGIC ^ 0x80000000u;
		check_one(NAME("magic top bit"), m, MSG_LEN, fds, nbq, &lim,
			  PROTO, "magic");

		base_msg(m, t);
		m->hdr.version = 0;
		check_one(NAME("version 0"), m, MSG_LEN, fds, nbq, &lim, PROTO,
			  "version 0");
		m->hdr.version = CDNA_CTRL_VERSION + 1;
		check_one(NAME("version 2"), m, MSG_LEN, fds, nbq, &lim, PROTO,
			  "version 2");

		base_msg(m, t);
		m->hdr.type = (uint16_t)(t | CDNA_MSG_REPLY);
		check_one(NAME("reply bit"), m, MSG_LEN, fds, nbq, &lim, PROTO,
			  "reply");

		for (i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
			char what[48];

			base_msg(m, t);
			m->hdr.status = bad_status[i];
			snprintf(what, sizeof(what), "status %" PRId32,
				 bad_status[i]);
			check_one(NAME(what), m, MSG_LEN, fds, nbq, &lim, PROTO,
				  "status");
		}

		/* fd count: REGION_ADD needs exactly 1, the rest none. */
		base_msg(m, t);
		if (fds == 1) {
			check_one(NAME("0 fds"), m, MSG_LEN, 0, nbq, &lim, PROTO,
				  "fds");
			check_one(NAME("2 fds"), m, MSG_LEN, 2, nbq, &lim, PROTO,
				  "fds");
		} else {
			check_one(NAME("1 fd"), m, MSG_LEN, 1, nbq, &lim, PROTO,
				  "fds");
			check_one(NAME("253 fds"), m, MSG_LEN, 253, nbq, &lim,
				  PROTO, "fds");
		}
		check_one(NAME("-1 fds"), m, MSG_LEN, -1, nbq, &lim, PROTO,
			  "fds");

		/* HELLO first and once. */
		if (t == HELLO) {
			check_one(NAME("second HELLO"), m, MSG_LEN, fds, 1, &lim,
				  PROTO, "HELLO");
			check_one(NAME("HELLO, nb_queues 0xffff"), m, MSG_LEN,
				  fds, 0xffff, &lim, PROTO, "HELLO");
		} else if (t == CDNA_MSG_BYE) {
			/* A guest whose HELLO was refused may still say goodbye. */
			check_one(NAME("BYE before HELLO"), m, MSG_LEN, fds, 0,
				  &lim, 0, NULL);
		} else {
			check_one(NAME("before HELLO"), m, MSG_LEN, fds, 0, &lim,
				  PROTO, "before HELLO");
			check_one(NAME("after HELLO, 1 queue"), m, MSG_LEN, fds,
				  1, &lim, t == QCRE || t == QDES ? INVAL : 0,
				  "queue_id 1");
		}

		/* Nothing may hide after the type's own fields. */
		m->u.raw[pl] = 1;
		check_one(NAME("first padding byte"), m, MSG_LEN, fds, nbq,
			  &lim, INVAL, "payload byte");
		base_msg(m, t);
		m->u.raw[sizeof(m->u.raw) - 1] = 0x80;
		check_one(NAME("last padding byte"), m, MSG_LEN, fds, nbq,
			  &lim, INVAL, "payload byte 239");
		base_msg(m, t);
		memset(m->u.raw + pl, 0xff, sizeof(m->u.raw) - pl);
		check_one(NAME("all padding bytes"), m, MSG_LEN, fds, nbq,
			  &lim, INVAL, "payload byte");
#undef NAME
	}
}

/* Limits wider than the ABI are clamped to it; none means the ABI's. */
static void
run_limit_rows(void)
{
	static const struct cdna_ctrl_limits wide = {
		.ring_min = 16, .ring_max = 1u << 20, .max_queues = 64,
	};
	static const struct cdna_ctrl_limits zero = { 0, 0, 0 };
	static const struct {
		const char *name;
		const struct cdna_ctrl_limits *l;
		uint16_t type;
		struct patch p;
		int want;
	} rows[] = {
		{ "wide: 32 ring", &wide, QCRE, P(u.queue.tx_size, 32), INVAL },
		{ "wide: 64 ring", &wide, QCRE, P(u.queue.tx_size, 64), 0 },
		{ "wide: 4096 ring", &wide, QCRE, P(u.queue.rx_size, 4096), 0 },
		{ "wide: 8192 ring", &wide, QCRE, P(u.queue.rx_size, 8192), INVAL },
		{ "wide: 16 queues", &wide, HELLO, P(u.hello.nb_queues, 16), 0 },
		{ "wide: 17 queues", &wide, HELLO, P(u.hello.nb_queues, 17), INVAL },
		{ "none: 64 ring", NULL, QCRE, P(u.queue.tx_size, 64), 0 },
		{ "none: 8192 ring", NULL, QCRE, P(u.queue.tx_size, 8192), INVAL },
		{ "none: 17 queues", NULL, HELLO, P(u.hello.nb_queues, 17), INVAL },
		{ "zero: no queue allowed", &zero, HELLO, P(u.hello.nb_queues, 1),
		  INVAL },
		{ "zero: no ring allowed", &zero, QCRE, P(u.queue.tx_size, 64),
		  INVAL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cdna_msg m;
		char name[96];

		base_msg(&m, rows[i].type);
		apply(&m, &rows[i].p);
		snprintf(name, sizeof(name), "limit row %zu (%s)", i,
			 rows[i].name);
		check_one(name, &m, MSG_LEN, 0,
			  rows[i].type == HELLO ? 0 : NBQ, rows[i].l,
			  rows[i].want, NULL);
	}
}

/* NULL message, no room for a reason, a reason cut short. */
static void
run_misc(void)
{
	struct cdna_msg m;
	char why[8];
	int got;

	cases++;
	got = cdna_ctrl_check(NULL, MSG_LEN, 0, &lim, NBQ, why, sizeof(why));
	if (got != PROTO || why[0] == '\0') {
		fprintf(stderr, "NULL message: got %d\n", got);
		failed++;
	}

	base_msg(&m, RADD);
	m.u.region.size = 4097;
	cases++;
	memset(why, 'X', sizeof(why));
	got = cdna_ctrl_check(&m, MSG_LEN, 1, &lim, NBQ, why, 0);
	if (got != INVAL || why[0] != 'X') {
		fprintf(stderr, "whylen 0: got %d, why touched\n", got);
		failed++;
	}
	cases++;
	got = cdna_ctrl_check(&m, MSG_LEN, 1, &lim, NBQ, NULL, 0);
	if (got != INVAL) {
		fprintf(stderr, "why NULL: got %d\n", got);
		failed++;
	}
	cases++;
	got = cdna_ctrl_check(&m, MSG_LEN, 1, &lim, NBQ, why, sizeof(why));
	if (got != INVAL || why[sizeof(why) - 1] != '\0' ||
	    strlen(why) != sizeof(why) - 1) {
		fprintf(stderr, "short why: got %d\n", got);
		failed++;
	}
}

static void
run_expected_fds(void)
{
	unsigned int t, bad = 0;

	for (t = 0; t <= 0xffff; t++)
		bad += cdna_ctrl_expected_fds((uint16_t)t) !=
			(t == CDNA_MSG_REGION_ADD ? 1 : 0);
	cases++;
	if (bad != 0) {
		fprintf(stderr, "cdna_ctrl_expected_fds wrong for %u types\n",
			bad);
		failed++;
	}
}

static void
run_fits_file(void)
{
	static const struct {
		uint64_t off, size, file;
		int fits;
	} rows[] = {
		{ 0, 4096, 4096, 1 },
		{ 0, 4097, 4096, 0 },
		{ 4096, 4096, 8192, 1 },
		{ 4096, 4096, 8191, 0 },
		{ 4097, 4096, 8192, 0 },
		{ 8192, 4096, 4096, 0 },		/* offset past the end */
		{ 4096, 1, 4096, 0 },			/* starts at the end */
		{ 4095, 1, 4096, 1 },			/* last byte */
		{ 0, 4096, 0, 0 },			/* empty file */
		{ 0, 0, 0, 0 },				/* empty region */
		{ 100, 0, 4096, 0 },
		/* off + size wraps to 4096: a naive check would accept. */
		{ UINT64_MAX - 4095, 8192, UINT64_MAX, 0 },
		{ UINT64_MAX - 4095, 8192, 8192, 0 },
		{ 8192, UINT64_MAX - 4095, 8192, 0 },
		{ 0, UINT64_MAX, UINT64_MAX, 1 },
		{ 1, UINT64_MAX, UINT64_MAX, 0 },
		{ UINT64_MAX, 1, UINT64_MAX, 0 },
		{ UINT64_MAX - 1, 1, UINT64_MAX, 1 },
		{ UINT64_MAX, UINT64_MAX, UINT64_MAX, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got = cdna_region_fits_file(rows[i].off, rows[i].size,
						rows[i].file);

		cases++;
		if ((got == 0) != rows[i].fits || (got != 0 && got >= 0)) {
			fprintf(stderr, "fits_file row %zu (off 0x%" PRIx64
				" size 0x%" PRIx64 " file 0x%" PRIx64
				"): expected %s, got %d\n", i, rows[i].off,
				rows[i].size, rows[i].file,
				rows[i].fits ? "fit" : "no fit", got);
			failed++;
		}
	}
}

int
main(void)
{
	run_field_rows();
	run_type_rows();
	run_limit_rows();
	run_misc();
	run_expected_fds();
	run_fits_file();
	printf("test_ctrl_parse: %u cases, %u failed\n", cases, failed);
	return failed == 0 ? 0 : 1;
}
