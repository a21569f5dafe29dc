/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NIC model driven through its rings alone: no mediator, no guest. The
 * test writes descriptors and rings doorbells itself, cdna_nic_poll() is the
 * device and net_null is the wire. Every case checks the status entries, the
 * bytes in the host buffers (each surrounded by canaries, so a DMA one byte
 * too long shows), and every counter involved. Each case runs on a fresh NIC
 * so the expected counters are absolute: a counter a case does not name must
 * still be zero.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "cdna_ring.h"
#include "dma_guard.h"
#include "nic.h"

#define NB_CTX		4u	/* contexts of every NIC: A, B, C, D */
#define RING		64u	/* entries of every descriptor ring */
#define NB_MBUF		512u
#define CANARY_LEN	64u
#define CANARY		0xa5
#define HB_MAX		512u
#define WIRE_CAP	256u
#define AUDIT_CAP	256u
#define XLATE_CAP	256u

enum { A, B, C, D };

static unsigned int cases;
static unsigned int failed;
static char cur[160];	/* the running case, named in every failure line */

static void
case_begin(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cur, sizeof(cur), fmt, ap);
	va_end(ap);
}

static void
fail(int line, const char *fmt, ...)
{
	va_list ap;

	failed++;
	fprintf(stderr, "%s: %s:%d: FAIL: ", cur, __FILE__, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define CHECK(cond) do {						\
	cases++;							\
	if (!(cond))							\
		fail(__LINE__, "%s", #cond);				\
} while (0)

#define CHECK_EQ(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	cases++;							\
	if (g_ != w_)							\
		fail(__LINE__, "%s = %lld, expected %lld", #got, g_, w_); \
} while (0)

static void __attribute__((noreturn))
fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "test_nic: %s: ", cur);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- host buffers ---- */

/*
 * A host buffer: cap bytes between two canary zones. TX buffers also keep a
 * private copy of what was written, to prove the device only read them.
 */
struct hbuf {
	uint8_t *mem;
	uint8_t *ref;
	uint32_t cap;
	int fd;		/* >= 0: mem maps this memfd (hb_vanishing) */
	size_t map_len;
};

static struct hbuf hb[HB_MAX];
static unsigned int nb_hb;
/* Descriptors carry IOVAs for the table stage instead of host pointers. */
static int iova_mode;

static uint8_t *
hb_data(unsigned int i)
{
	return hb[i].mem + CANARY_LEN;
}

static unsigned int
hb_new(uint32_t cap)
{
	struct hbuf *b;

	if (nb_hb == HB_MAX)
		fatal("out of host buffers");
	b = &hb[nb_hb];
	b->mem = malloc(2 * CANARY_LEN + cap);
	if (b->mem == NULL)
		fatal("malloc %u", cap);
	memset(b->mem, CANARY, 2 * CANARY_LEN + cap);
	b->ref = NULL;
	b->cap = cap;
	b->fd = -1;
	return nb_hb++;
}

/*
 * A host buffer in a memfd of its own, holding a copy of p (len bytes) when
 * p is not NULL, that hb_vanish() truncates to nothing: the next access to
 * it raises SIGBUS, as when a guest shrinks the file under a DMA.
 */
static unsigned int
hb_vanishing(uint32_t cap, const uint8_t *p, uint32_t len)
{
	struct hbuf *b;
	size_t sz = (2 * CANARY_LEN + cap + 4095u) & ~(size_t)4095u;

	if (nb_hb == HB_MAX)
		fatal("out of host buffers");
	b = &hb[nb_hb];
	b->fd = memfd_create("test-nic-vanishing", MFD_CLOEXEC);
	if (b->fd < 0 || ftruncate(b->fd, (off_t)sz) != 0)
		fatal("memfd of %zu bytes: %s", sz, strerror(errno));
	b->mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->mem == MAP_FAILED)
		fatal("mmap of %zu bytes: %s", sz, strerror(errno));
	b->map_len = sz;
	memset(b->mem, CANARY, 2 * CANARY_LEN + cap);
	b->cap = cap;
	b->ref = NULL;
	if (p != NULL)
		memcpy(b->mem + CANARY_LEN, p, len);
	return nb_hb++;
}

static void
hb_vanish(unsigned int i)
{
	if (hb[i].fd < 0 || ftruncate(hb[i].fd, 0) != 0)
		fatal("cannot truncate buffer %u", i);
}

static unsigned int
hb_bytes(const uint8_t *p, uint32_t len)
{
	unsigned int i = hb_new(len);

	memcpy(hb_data(i), p, len);
	hb[i].ref = malloc(len ? len : 1);
	if (hb[i].ref == NULL)
		fatal("malloc %u", len);
	memcpy(hb[i].ref, p, len);
	return i;
}

static void
hb_free_all(void)
{
	unsigned int i;

	for (i = 0; i < nb_hb; i++) {
		if (hb[i].fd >= 0) {
			munmap(hb[i].mem, hb[i].map_len);
			close(hb[i].fd);
		} else {
			free(hb[i].mem);
		}
		free(hb[i].ref);
	}
	nb_hb = 0;
}

/*
 * The IOVA of buffer i in the table stage: index + 1 in the high half, so
 * zero and anything above the table are unmapped.
 */
static uint64_t
hb_iova(unsigned int i)
{
	return (uint64_t)(i + 1) << 32;
}

#define UNMAPPED_IOVA	((uint64_t)(HB_MAX + 7) << 32)

static uint64_t
hb_addr(unsigned int i)
{
	return iova_mode ? hb_iova(i) : (uint64_t)(uintptr_t)hb_data(i);
}

/*
 * Offset into mem of the first byte that differs from "frame at the start of
 * the buffer, canary everywhere else" (frame NULL: the TX reference, or an
 * untouched buffer); -1 when the buffer is exactly that.
 */
static long
hb_diff(unsigned int i, const uint8_t *frame, uint32_t len)
{
	const struct hbuf *b = &hb[i];
	uint32_t k, total = 2 * CANARY_LEN + b->cap;

	if (frame == NULL) {
		frame = b->ref;
		len = b->ref != NULL ? b->cap : 0;
	}
	if (len > b->cap)
		return 0;
	for (k = 0; k < total; k++) {
		uint8_t want = CANARY;

		if (k >= CANARY_LEN && k < CANARY_LEN + len)
			want = frame[k - CANARY_LEN];
		if (b->mem[k] != want)
			return (long)k;
	}
	return -1;
}

/* ---- frames ---- */

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t mac_unknown[6] = { 0x02, 0xcd, 0x4e, 0x00, 0x00, 0x99 };
static uint8_t mac_ctx[NB_CTX][6];

/* Distinct content per seed, so a frame delivered twice or swapped shows. */
static void
frame_fill(uint8_t *f, uint32_t len, const uint8_t dst[6],
	   const uint8_t src[6], uint32_t seed)
{
	uint32_t i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;	/* local experimental ethertype */
	f[13] = 0xb5;
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

static uint64_t
fnv1a(const uint8_t *p, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* ---- the wire port ---- */

static uint16_t wire_port;
static struct rte_mempool *pool;
static uint64_t wire_base;	/* wire opackets when the case began */

/* What reached the wire, seen by a TX callback before net_null drops it. */
static struct {
	unsigned int n;
	uint32_t len[WIRE_CAP];
	uint64_t hash[WIRE_CAP];
} wire;

static uint16_t
wire_tap(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb,
	 void *arg)
{
	static uint8_t flat[CDNA_MAX_FRAME_LEN];
	struct rte_mbuf *m;
	uint16_t i;

	for (i = 0; i < nb; i++) {
		const uint8_t *p;
		uint32_t len = pkts[i]->pkt_len;

		if (wire.n < WIRE_CAP) {
			p = len <= sizeof(flat) ?
				rte_pktmbuf_read(pkts[i], 0, len, flat) : NULL;
			wire.len[wire.n] = len;
			wire.hash[wire.n] = p != NULL ? fnv1a(p, len) : 0;
		}
		wire.n++;
		/*
		 * Sent: a wire may reuse the buffer at once. Nothing of the
		 * NIC's may read a frame after handing it over (a frame also
		 * delivered to guests is copied before), so this shows.
		 */
		for (m = pkts[i]; m != NULL; m = m->next)
			memset(rte_pktmbuf_mtod(m, void *), 0xee, m->data_len);
	}
	return nb;
}

static uint64_t
wire_opackets(void)
{
	struct rte_eth_stats s;

	if (rte_eth_stats_get(wire_port, &s) != 0)
		fatal("rte_eth_stats_get");
	return s.opackets;
}

#define CHECK_WIRE(want) do {						\
	CHECK_EQ(wire_opackets() - wire_base, (want));			\
	CHECK_EQ(wire.n, (want));					\
} while (0)

#define CHECK_WIRE_FRAME(k, frame, flen) do {				\
	CHECK_EQ(wire.len[k], (flen));					\
	CHECK(wire.hash[k] == fnv1a((frame), (flen)));			\
} while (0)

static int
wire_setup(void)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nrx = 512, ntx = 512;
	int rc;

	if (rte_eth_dev_get_port_by_name("net_null0", &wire_port) != 0) {
		fprintf(stderr, "test_nic: no net_null0 port\n");
		return -1;
	}
	/* No cache: the free count is then exact and shows a leaked mbuf. */
	pool = rte_pktmbuf_pool_create("test_nic", NB_MBUF, 0, 0,
				       RTE_PKTMBUF_HEADROOM + CDNA_MAX_FRAME_LEN,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "test_nic: mbuf pool: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	rc = rte_eth_dev_info_get(wire_port, &info);
	if (rc != 0)
		goto err;
	memset(&conf, 0, sizeof(conf));
	if (info.max_rx_pktlen >= CDNA_MAX_FRAME_LEN)
		conf.rxmode.mtu = CDNA_MAX_FRAME_LEN - RTE_ETHER_HDR_LEN -
			RTE_ETHER_CRC_LEN;
	rc = rte_eth_dev_configure(wire_port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(wire_port, &nrx, &ntx);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(wire_port, 0, nrx, SOCKET_ID_ANY,
					    NULL, pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(wire_port, 0, ntx, SOCKET_ID_ANY,
					    NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(wire_port);
	if (rc != 0)
		goto err;
	if (rte_eth_add_tx_callback(wire_port, 0, wire_tap, NULL) == NULL) {
		fprintf(stderr, "test_nic: TX callback: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
err:
	fprintf(stderr, "test_nic: wire port %u: %s\n", wire_port,
		rte_strerror(-rc));
	return -1;
}

/* ---- audit hook and address stage ---- */

struct audit_rec {
	uint32_t ctx;
	uint16_t queue;
	const void *host;
	uint32_t len;
	int dir;
};

static struct cdna_nic *nic;
static struct audit_rec audits[AUDIT_CAP];
static unsigned int nb_audits;
/*
 * The context whose memory vanishes during its next DMA, or -1, and the
 * buffer that vanishes then.
 */
static int fault_in_dma = -1;
static unsigned int fault_hb;

static void
audit_rec(void *arg, uint32_t ctx, uint16_t queue, const void *host,
	  uint32_t len, int dir)
{
	if (nb_audits < AUDIT_CAP)
		audits[nb_audits] = (struct audit_rec){ ctx, queue, host, len, dir };
	nb_audits++;
	/* The hook runs just before the copy: faulting here is mid-DMA. */
	if (fault_in_dma >= 0 && (uint32_t)fault_in_dma == ctx) {
		hb_vanish(fault_hb);
		fault_in_dma = -1;
	}
}

static struct {
	uint64_t addr;
	uint32_t len;
	int dir;
} xlates[XLATE_CAP];
static unsigned int nb_xlates;
/*
 * A passthrough guest rewriting a descriptor while the NIC uses it: at the
 * next translation, this descriptor (in the guest's ring) becomes a longer
 * one, and the NIC must go on with the one it read.
 */
static struct cdna_nic_desc *rewrite_on_xlate;

/* Table stage: IOVA -> host buffer, bounds-checked like an IOMMU would. */
static void *
stage_lookup(uint64_t addr, uint32_t len)
{
	uint64_t idx = addr >> 32, off = addr & 0xffffffffu;

	if (idx == 0 || idx > nb_hb)
		return NULL;
	if (off > hb[idx - 1].cap || len > hb[idx - 1].cap - off)
		return NULL;
	return hb_data((unsigned int)idx - 1) + off;
}

static void *
stage_xlate(void *arg, uint64_t addr, uint32_t len, int dir)
{
	(void)arg;
	/* A prefetch hint: answered, not a DMA, so neither recorded nor hooked. */
	if (dir & CDNA_NIC_XLATE_PREFETCH)
		return stage_lookup(addr, len);
	if (nb_xlates < XLATE_CAP) {
		xlates[nb_xlates].addr = addr;
		xlates[nb_xlates].len = len;
		xlates[nb_xlates].dir = dir;
	}
	nb_xlates++;
	if (rewrite_on_xlate != NULL) {
		rewrite_on_xlate->len = 4000;
		rewrite_on_xlate->flags = CDNA_DESC_F_MORE;
		rewrite_on_xlate->tag = 0xbad;
		rewrite_on_xlate = NULL;
	}
	return stage_lookup(addr, len);
}

/* ---- the NIC under test ---- */

static struct cdna_nic_queue *tq[NB_CTX][2];

/*
 * A fresh NIC with NB_CTX contexts of nb_queues queue pairs each, queue 0
 * enabled; descriptors carry host pointers, or IOVAs for the table stage.
 */
static void
nic_up(unsigned int burst, uint16_t nb_queues, int iova)
{
	struct cdna_nic_config cfg = {
		.wire_port = wire_port,
		.wire_queue = 0,
		.mp = pool,
		.max_contexts = NB_CTX,
		.socket_id = SOCKET_ID_ANY,
		.burst = burst,
	};
	unsigned int c;
	uint16_t q;
	int id;

	nic = cdna_nic_create(&cfg);
	if (nic == NULL)
		fatal("cdna_nic_create");
	iova_mode = iova;
	memset(tq, 0, sizeof(tq));
	for (c = 0; c < NB_CTX; c++) {
		id = cdna_nic_ctx_alloc(nic, mac_ctx[c], nb_queues,
					iova ? stage_xlate : NULL, NULL);
		if (id != (int)c)
			fatal("cdna_nic_ctx_alloc %u: %d", c, id);
		for (q = 0; q < nb_queues; q++) {
			tq[c][q] = cdna_nic_queue_create(nic, c, q, RING, RING);
			if (tq[c][q] == NULL)
				fatal("cdna_nic_queue_create %u/%u", c, q);
		}
		cdna_nic_queue_enable(nic, c, 0, 1);
	}
	cdna_nic_set_audit(nic, audit_rec, NULL);
	nb_audits = 0;
	nb_xlates = 0;
	fault_in_dma = -1;
	memset(&wire, 0, sizeof(wire));
	wire_base = wire_opackets();
}

static void
nic_down(void)
{
	unsigned int i, k;

	/* Whatever else a case checks: no DMA touched memory outside a buffer. */
	for (i = 0; i < nb_audits && i < AUDIT_CAP; i++) {
		const uint8_t *p = audits[i].host;
		int inside = 0;

		for (k = 0; k < nb_hb && !inside; k++)
			inside = p >= hb_data(k) &&
				audits[i].len <= hb[k].cap &&
				p + audits[i].len <= hb_data(k) + hb[k].cap;
		CHECK(inside);
	}
	cdna_nic_destroy(nic);
	nic = NULL;
	/* Every mbuf the NIC took went back, to net_null or to the pool. */
	CHECK_EQ(rte_mempool_avail_count(pool), NB_MBUF);
	hb_free_all();
}

static void
ring_post(struct cdna_nic_ring *r, const struct cdna_nic_desc *d,
	  unsigned int n)
{
	uint32_t t = r->tail->val;	/* only this side writes it */
	unsigned int i;

	for (i = 0; i < n; i++)
		r->desc[(t + i) & r->mask] = d[i];
	/* Entries before the doorbell: a chain is posted whole. */
	cdna_store_release(r->tail, t + n);
}

static void
tx_post_q(unsigned int c, uint16_t q, unsigned int b, uint32_t tag)
{
	struct cdna_nic_desc d = {
		.addr = hb_addr(b), .len = hb[b].cap, .tag = tag,
	};

	ring_post(&tq[c][q]->tx, &d, 1);
}

static void
tx_post(unsigned int c, unsigned int b, uint32_t tag)
{
	tx_post_q(c, 0, b, tag);
}

static void
rx_post(unsigned int c, uint16_t q, unsigned int b, uint32_t tag)
{
	struct cdna_nic_desc d = {
		.addr = hb_addr(b), .len = hb[b].cap, .tag = tag,
	};

	ring_post(&tq[c][q]->rx, &d, 1);
}

/* A frame from context src in a fresh TX buffer, posted on src's queue 0. */
static unsigned int
tx_frame(unsigned int src, const uint8_t dst[6], uint32_t len, uint32_t tag)
{
	uint8_t *f = malloc(len);
	unsigned int b;

	if (f == NULL)
		fatal("malloc %u", len);
	frame_fill(f, len, dst, mac_ctx[src], tag);
	b = hb_bytes(f, len);
	free(f);
	tx_post(src, b, tag);
	return b;
}

/* Status entries written since the last call; consumes them. */
static unsigned int
reap(struct cdna_nic_ring *r, struct cdna_nic_status *st, unsigned int max)
{
	uint32_t cons = r->st_cons.val;
	uint32_t prod = cdna_load_acquire(r->st_prod);
	unsigned int n = 0;

	while (cons != prod && n < max) {
		st[n++] = r->status[cons & r->mask];
		cons++;
	}
	cdna_store_release(&r->st_cons, cons);
	return n;
}

static const char *
st_name(unsigned int s)
{
	static const char *const names[CDNA_ST_COUNT] = {
		"OK", "BAD_ADDRESS", "INVALID_USE", "BAD_LENGTH", "BAD_FLAGS",
		"BAD_PERM", "BAD_CHAIN", "ABORTED", "DMA_FAULT", "MAP_QUOTA",
	};

	return s < CDNA_ST_COUNT ? names[s] : "?";
}

static void
check_st(int line, const char *what, const struct cdna_nic_status *s,
	 uint32_t tag, uint32_t len, uint16_t st)
{
	cases++;
	if (s->tag != tag || s->len != len || s->status != st ||
	    s->flags != 0 || s->reserved != 0)
		fail(line, "%s = {tag %#x, len %u, %s, flags %#x, reserved %#x}, expected {tag %#x, len %u, %s}",
		     what, s->tag, s->len, st_name(s->status), s->flags,
		     s->reserved, tag, len, st_name(st));
}

#define CHECK_ST(s, tag, len, st) check_st(__LINE__, #s, &(s), tag, len, st)

/* Exactly one new status on ring r, and it is {tag, len, st}. */
#define CHECK_ONE_ST(r, tag, len, st) do {				\
	struct cdna_nic_status s1_[RING];				\
	unsigned int n1_ = reap((r), s1_, RING);			\
									\
	CHECK_EQ(n1_, 1);						\
	if (n1_ >= 1)							\
		check_st(__LINE__, #r, &s1_[0], tag, len, st);		\
} while (0)

#define CHECK_NO_ST(r) do {						\
	struct cdna_nic_status s0_[RING];				\
									\
	CHECK_EQ(reap((r), s0_, RING), 0);				\
} while (0)

static const struct {
	const char *name;
	size_t off;
} ctx_fields[] = {
	{ "tx_pkts", offsetof(struct cdna_nic_ctx_stats, tx_pkts) },
	{ "tx_bytes", offsetof(struct cdna_nic_ctx_stats, tx_bytes) },
	{ "rx_pkts", offsetof(struct cdna_nic_ctx_stats, rx_pkts) },
	{ "rx_bytes", offsetof(struct cdna_nic_ctx_stats, rx_bytes) },
	{ "rx_nobuf", offsetof(struct cdna_nic_ctx_stats, rx_nobuf) },
	{ "rx_oversize", offsetof(struct cdna_nic_ctx_stats, rx_oversize) },
	{ "dma_fault", offsetof(struct cdna_nic_ctx_stats, dma_fault) },
	{ "tx_bad_chain", offsetof(struct cdna_nic_ctx_stats, tx_bad_chain) },
	{ "tx_spoofed", offsetof(struct cdna_nic_ctx_stats, tx_spoofed) },
	{ "doorbell_bad", offsetof(struct cdna_nic_ctx_stats, doorbell_bad) },
	{ "bad_dma", offsetof(struct cdna_nic_ctx_stats, bad_dma) },
}, nic_fields[] = {
	{ "wire_rx", offsetof(struct cdna_nic_stats, wire_rx) },
	{ "wire_tx", offsetof(struct cdna_nic_stats, wire_tx) },
	{ "wire_tx_drop", offsetof(struct cdna_nic_stats, wire_tx_drop) },
	{ "wire_rx_unmatched", offsetof(struct cdna_nic_stats, wire_rx_unmatched) },
	{ "switched", offsetof(struct cdna_nic_stats, switched) },
	{ "mbuf_alloc_fail", offsetof(struct cdna_nic_stats, mbuf_alloc_fail) },
};

static uint64_t
field(const void *s, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)s + off, sizeof(v));
	return v;
}

static void
check_ctx(int line, unsigned int c, const struct cdna_nic_ctx_stats *want)
{
	const struct cdna_nic_ctx_stats *got = cdna_nic_ctx_stats(nic, c);
	size_t i;

	for (i = 0; i < RTE_DIM(ctx_fields); i++) {
		uint64_t g = field(got, ctx_fields[i].off);
		uint64_t w = field(want, ctx_fields[i].off);

		cases++;
		if (g != w)
			fail(line, "ctx %c %s = %" PRIu64 ", expected %" PRIu64,
			     'A' + c, ctx_fields[i].name, g, w);
	}
}

static void
check_nic(int line, const struct cdna_nic_stats *want)
{
	const struct cdna_nic_stats *got = cdna_nic_stats(nic);
	size_t i;

	for (i = 0; i < RTE_DIM(nic_fields); i++) {
		uint64_t g = field(got, nic_fields[i].off);
		uint64_t w = field(want, nic_fields[i].off);

		cases++;
		if (g != w)
			fail(line, "nic %s = %" PRIu64 ", expected %" PRIu64,
			     nic_fields[i].name, g, w);
	}
}

/* Absolute values: each case starts on a fresh NIC. */
#define CHECK_CTX(c, ...) \
	check_ctx(__LINE__, (c), &(const struct cdna_nic_ctx_stats){ __VA_ARGS__ })
#define CHECK_NIC(...) \
	check_nic(__LINE__, &(const struct cdna_nic_stats){ __VA_ARGS__ })

#define CHECK_AUDIT(k, c, q, ptr, l, d) do {				\
	CHECK((k) < nb_audits);						\
	if ((k) < nb_audits) {						\
		CHECK_EQ(audits[k].ctx, (c));				\
		CHECK_EQ(audits[k].queue, (q));				\
		CHECK(audits[k].host == (const void *)(ptr));		\
		CHECK_EQ(audits[k].len, (l));				\
		CHECK_EQ(audits[k].dir, (d));				\
	}								\
} while (0)

/* ---- 1-4: the embedded switch ---- */

#define MASK(c)	(1u << (c))

static const struct {
	const char *name;
	unsigned int from;
	const uint8_t *dst;	/* NULL: the MAC of context to */
	unsigned int to;
	unsigned int promisc;	/* contexts in promiscuous mode */
	unsigned int allmulti;	/* contexts in all-multicast mode */
	unsigned int rx;	/* contexts that must receive the frame */
	unsigned int wire;	/* frames the wire must get */
	unsigned int switched;	/* one per receiving context */
} switch_rows[] = {
	{ "unicast A->B", A, NULL, B, 0, 0, MASK(B), 0, 1 },
	{ "unicast D->A", D, NULL, A, 0, 0, MASK(A), 0, 1 },
	/* A known MAC is not flooded, whatever the others' filters. */
	{ "unicast A->B, C promisc, D allmulti", A, NULL, B,
	  MASK(C), MASK(D), MASK(B), 0, 1 },
	{ "broadcast from A", A, mac_bcast, 0, 0, 0,
	  MASK(B) | MASK(C) | MASK(D), 1, 3 },
	{ "broadcast from C, B promisc", C, mac_bcast, 0, MASK(B), 0,
	  MASK(A) | MASK(B) | MASK(D), 1, 3 },
	{ "multicast, B allmulti, C promisc", A, mac_mcast, 0, MASK(C),
	  MASK(B), MASK(B) | MASK(C), 1, 2 },
	{ "multicast, nobody listens", A, mac_mcast, 0, 0, 0, 0, 1, 0 },
	{ "multicast, only the sender allmulti", A, mac_mcast, 0, MASK(A),
	  MASK(A), 0, 1, 0 },
	/*
	 * Unknown unicast from a context goes to the wire only: promiscuous
	 * contexts see unknown unicast from the wire, never another
	 * context's traffic towards the wire.
	 */
	{ "unknown unicast, C promisc", A, mac_unknown, 0, MASK(C), 0,
	  0, 1, 0 },
	{ "unknown unicast, B allmulti", A, mac_unknown, 0, 0, MASK(B),
	  0, 1, 0 },
	{ "unknown unicast, all promisc", B, mac_unknown, 0,
	  MASK(A) | MASK(B) | MASK(C) | MASK(D), 0, 0, 1, 0 },
};

/*
 * A fresh queue's status entries match no descriptor: a mediator tags a
 * descriptor with its number (slot and lap), so an unwritten entry must
 * not hold one of its slot's numbers (a zeroed one would read as
 * "descriptor 0, OK" to a mediator whose NIC moved its index too far).
 */
static void
test_fresh_status(void)
{
	unsigned int c, bad = 0;
	uint32_t i;

	case_begin("fresh status entries");
	nic_up(32, 2, 0);
	for (c = 0; c < NB_CTX; c++) {
		const struct cdna_nic_ring *rings[] = { &tq[c][0]->tx, &tq[c][0]->rx,
							&tq[c][1]->tx, &tq[c][1]->rx };
		unsigned int k;

		for (k = 0; k < RTE_DIM(rings); k++)
			for (i = 0; i < rings[k]->size; i++)
				bad += (rings[k]->status[i].tag & rings[k]->mask) == i;
	}
	CHECK_EQ(bad, 0);
	nic_down();
}

/*
 * The event list a driver reclaims from: each ring given statuses, once,
 * only rings with an owner, none that has nothing new, none destroyed.
 * Returns the events as a mask over rings[] (bit k), and counts the
 * entries in *len (a ring listed twice would show there).
 */
static unsigned int
events_mask(struct cdna_nic_ring *const *rings, unsigned int nb, unsigned int *len)
{
	struct cdna_nic_ring *r = cdna_nic_events_take(nic), *next;
	unsigned int mask = 0, k;

	*len = 0;
	for (; r != NULL && *len <= 2 * nb; r = next) {
		next = r->ev_next;
		CHECK_EQ(r->ev_pending, 1);
		r->ev_pending = 0;
		(*len)++;
		for (k = 0; k < nb; k++)
			if (rings[k] == r)
				mask |= 1u << k;
	}
	return mask;
}

/* An RX buffer posted on queue 1 of c and aborted by a flush: one status. */
static void
abort_one(unsigned int c, uint32_t tag)
{
	rx_post(c, 1, hb_new(2048), tag);
	cdna_nic_queue_flush(nic, c, 1);
}

static void
queue1_gone(unsigned int c)
{
	cdna_nic_queue_destroy(nic, c, 1);
	tq[c][1] = NULL;
}

static void
test_events(void)
{
	enum { A_TX, B_RX, C_RX1, D_TX, B_RX1, D_RX1, NB_EV };
	struct cdna_nic_ring *rings[NB_EV];
	unsigned int len, b;

	case_begin("completion events");
	nic_up(32, 2, 0);
	rings[A_TX] = &tq[A][0]->tx;
	rings[B_RX] = &tq[B][0]->rx;
	rings[C_RX1] = &tq[C][1]->rx;
	rings[D_TX] = &tq[D][0]->tx;
	rings[B_RX1] = &tq[B][1]->rx;
	rings[D_RX1] = &tq[D][1]->rx;
	/* D's queue 0 has no owner: the NIC lists neither of its rings. */
	for (b = 0; b < NB_CTX; b++) {
		if (b != D)
			tq[b][0]->tx.owner = tq[b][0]->rx.owner = tq[b][0];
		tq[b][1]->tx.owner = tq[b][1]->rx.owner = tq[b][1];
	}
	CHECK(cdna_nic_events_take(nic) == NULL);

	/* A -> B: A's TX status and B's RX status, each listed once. */
	rx_post(B, 0, hb_new(2048), 0x10);
	rx_post(B, 0, hb_new(2048), 0x11);
	tx_frame(A, mac_ctx[B], 100, 0x20);
	CHECK_EQ(cdna_nic_poll(nic), 1);
	CHECK_EQ(events_mask(rings, NB_EV, &len), (1u << A_TX) | (1u << B_RX));
	CHECK_EQ(len, 2);
	/* Nothing new: no event. */
	CHECK_EQ(cdna_nic_poll(nic), 0);
	CHECK(cdna_nic_events_take(nic) == NULL);

	/* Two polls with statuses, one take: still once each. */
	tx_frame(A, mac_ctx[C], 100, 0x21);
	CHECK_EQ(cdna_nic_poll(nic), 1);
	tx_frame(A, mac_ctx[B], 100, 0x22);
	CHECK_EQ(cdna_nic_poll(nic), 1);
	CHECK_EQ(events_mask(rings, NB_EV, &len), (1u << A_TX) | (1u << B_RX));
	CHECK_EQ(len, 2);

	/* D's TX status is published with no event; A's RX ring has one. */
	rx_post(A, 0, hb_new(2048), 0x12);
	tx_frame(D, mac_ctx[A], 100, 0x23);
	CHECK_EQ(cdna_nic_poll(nic), 1);
	CHECK_EQ(events_mask(rings, NB_EV, &len), 0);
	CHECK_EQ(len, 1);	/* A's RX ring, not in rings[] */
	CHECK_ONE_ST(&tq[D][0]->tx, 0x23, 100, CDNA_ST_OK);

	/* A flush's aborts are events too; a destroyed queue leaves the list. */
	abort_one(C, 0x13);
	CHECK_EQ(events_mask(rings, NB_EV, &len), 1u << C_RX1);
	CHECK_EQ(len, 1);
	abort_one(C, 0x14);
	rx_post(B, 0, hb_new(2048), 0x15);
	tx_frame(A, mac_ctx[B], 100, 0x24);
	CHECK_EQ(cdna_nic_poll(nic), 1);
	queue1_gone(C);
	rings[C_RX1] = NULL;
	CHECK_EQ(events_mask(rings, NB_EV, &len), (1u << A_TX) | (1u << B_RX));
	CHECK_EQ(len, 2);

	/* C's queue 1 left the tail of the list; now its middle, its head. */
	abort_one(B, 0x16);
	abort_one(A, 0x17);
	abort_one(D, 0x18);
	queue1_gone(A);
	CHECK_EQ(events_mask(rings, NB_EV, &len), (1u << B_RX1) | (1u << D_RX1));
	CHECK_EQ(len, 2);
	abort_one(B, 0x19);
	abort_one(D, 0x1a);
	queue1_gone(D);
	rings[D_RX1] = NULL;
	CHECK_EQ(events_mask(rings, NB_EV, &len), 1u << B_RX1);
	CHECK_EQ(len, 1);
	nic_down();
}

static void
test_switch(void)
{
	unsigned int r, c;

	for (r = 0; r < RTE_DIM(switch_rows); r++) {
		const uint8_t *dst = switch_rows[r].dst;
		unsigned int from = switch_rows[r].from;
		unsigned int want_rx = switch_rows[r].rx;
		unsigned int rxb[NB_CTX], tx, nrx = 0;
		uint32_t len = 60 + 97 * r;

		case_begin("switch: %s", switch_rows[r].name);
		nic_up(32, 1, 0);
		if (dst == NULL)
			dst = mac_ctx[switch_rows[r].to];
		for (c = 0; c < NB_CTX; c++) {
			cdna_nic_ctx_set_rxmode(nic, c,
					!!(switch_rows[r].promisc & MASK(c)),
					!!(switch_rows[r].allmulti & MASK(c)));
			rxb[c] = hb_new(2048);
			rx_post(c, 0, rxb[c], 0x100 + c);
		}
		tx = tx_frame(from, dst, len, 0x200);
		CHECK_EQ(cdna_nic_poll(nic), 1);

		CHECK_ONE_ST(&tq[from][0]->tx, 0x200, len, CDNA_ST_OK);
		CHECK_EQ(hb_diff(tx, NULL, 0), -1);
		for (c = 0; c < NB_CTX; c++) {
			struct cdna_nic_ring *rx = &tq[c][0]->rx;

			if (want_rx & MASK(c)) {
				nrx++;
				CHECK_ONE_ST(rx, 0x100 + c, len, CDNA_ST_OK);
				CHECK_EQ(hb_diff(rxb[c], hb[tx].ref, len), -1);
				CHECK_CTX(c, .rx_pkts = 1, .rx_bytes = len,
					  .tx_pkts = c == from,
					  .tx_bytes = c == from ? len : 0);
			} else {
				/* Not for it: the buffer stays posted, untouched. */
				CHECK_NO_ST(rx);
				CHECK_EQ(rx->head.val, 0);
				CHECK_EQ(hb_diff(rxb[c], NULL, 0), -1);
				CHECK_CTX(c, .tx_pkts = c == from,
					  .tx_bytes = c == from ? len : 0);
			}
		}
		CHECK_NIC(.switched = switch_rows[r].switched,
			  .wire_tx = switch_rows[r].wire);
		CHECK_WIRE(switch_rows[r].wire);
		if (switch_rows[r].wire == 1)
			CHECK_WIRE_FRAME(0, hb[tx].ref, len);
		CHECK_EQ(nb_audits, 1 + nrx);

		/* Nothing left to do: no second delivery, no second send. */
		CHECK_EQ(cdna_nic_poll(nic), 0);
		CHECK_WIRE(switch_rows[r].wire);
		for (c = 0; c < NB_CTX; c++)
			CHECK_NO_ST(&tq[c][0]->rx);
		nic_down();
	}
}

/* ---- 5: no RX buffer posted ---- */

static void
test_nobuf(void)
{
	static const struct {
		const char *name;
		int bcast;
		int disabled;	/* B posts a buffer but its queue is off */
	} rows[] = {
		{ "unicast, B posted nothing", 0, 0 },
		{ "unicast, B's queue disabled", 0, 1 },
		{ "broadcast, B posted nothing", 1, 0 },
	};
	unsigned int r, c, tx, rxb[NB_CTX];
	uint32_t len = 300;

	for (r = 0; r < RTE_DIM(rows); r++) {
		case_begin("no RX buffer: %s", rows[r].name);
		nic_up(32, 1, 0);
		for (c = C; c < NB_CTX; c++) {
			rxb[c] = hb_new(2048);
			rx_post(c, 0, rxb[c], 0x100 + c);
		}
		rxb[B] = hb_new(2048);
		if (rows[r].disabled) {
			cdna_nic_queue_enable(nic, B, 0, 0);
			rx_post(B, 0, rxb[B], 0x101);
		}
		tx = tx_frame(A, rows[r].bcast ? mac_bcast : mac_ctx[B], len, 1);
		cdna_nic_poll(nic);

		CHECK_ONE_ST(&tq[A][0]->tx, 1, len, CDNA_ST_OK);
		CHECK_NO_ST(&tq[B][0]->rx);
		CHECK_EQ(hb_diff(rxb[B], NULL, 0), -1);
		CHECK_CTX(B, .rx_nobuf = 1);
		CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = len);
		for (c = C; c < NB_CTX; c++) {
			if (rows[r].bcast) {
				CHECK_ONE_ST(&tq[c][0]->rx, 0x100 + c, len,
					     CDNA_ST_OK);
				CHECK_EQ(hb_diff(rxb[c], hb[tx].ref, len), -1);
				CHECK_CTX(c, .rx_pkts = 1, .rx_bytes = len);
			} else {
				CHECK_NO_ST(&tq[c][0]->rx);
				CHECK_CTX(c, 0);
			}
		}
		/*
		 * The switch forwarded the frame to B's port (switched counts
		 * that); B dropping it for want of a buffer is B's rx_nobuf.
		 */
		CHECK_NIC(.switched = rows[r].bcast ? 3 : 1,
			  .wire_tx = rows[r].bcast);
		CHECK_WIRE(rows[r].bcast ? 1 : 0);

		/* The frame is gone, not queued: a buffer posted now stays empty. */
		if (rows[r].disabled) {
			cdna_nic_queue_enable(nic, B, 0, 1);
		} else {
			rx_post(B, 0, rxb[B], 0x101);
		}
		CHECK_EQ(cdna_nic_poll(nic), 0);
		CHECK_NO_ST(&tq[B][0]->rx);
		CHECK_EQ(hb_diff(rxb[B], NULL, 0), -1);
		CHECK_CTX(B, .rx_nobuf = 1);
		nic_down();
	}
}

/* ---- 6: frame larger than the RX buffer ---- */

static void
test_oversize(void)
{
	unsigned int small, big, tx, fit;

	case_begin("oversize: 257-byte frame, 256-byte buffer");
	nic_up(32, 1, 0);
	small = hb_new(256);
	rx_post(B, 0, small, 7);
	tx_frame(A, mac_ctx[B], 257, 1);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->tx, 1, 257, CDNA_ST_OK);
	CHECK_NO_ST(&tq[B][0]->rx);
	CHECK_EQ(tq[B][0]->rx.head.val, 0);	/* still posted */
	CHECK_EQ(hb_diff(small, NULL, 0), -1);
	CHECK_CTX(B, .rx_oversize = 1);
	CHECK_EQ(nb_audits, 1);	/* the TX only: no RX DMA happened */

	/* The same buffer takes the next frame that fits, exactly filling it. */
	case_begin("oversize: then a 256-byte frame uses the buffer");
	fit = tx_frame(A, mac_ctx[B], 256, 2);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->tx, 2, 256, CDNA_ST_OK);
	CHECK_ONE_ST(&tq[B][0]->rx, 7, 256, CDNA_ST_OK);
	CHECK_EQ(hb_diff(small, hb[fit].ref, 256), -1);
	CHECK_CTX(B, .rx_oversize = 1, .rx_pkts = 1, .rx_bytes = 256);
	CHECK_CTX(A, .tx_pkts = 2, .tx_bytes = 513);
	CHECK_NIC(.switched = 2);
	CHECK_WIRE(0);

	/* And the next buffer in line is used after it. */
	case_begin("oversize: a second buffer after the first");
	big = hb_new(2048);
	rx_post(B, 0, big, 8);
	tx = tx_frame(A, mac_ctx[B], 1000, 3);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[B][0]->rx, 8, 1000, CDNA_ST_OK);
	CHECK_EQ(hb_diff(big, hb[tx].ref, 1000), -1);
	CHECK_EQ(hb_diff(small, hb[fit].ref, 256), -1);
	nic_down();
}

/* ---- 7: TX chains ---- */

static void
test_chain(void)
{
	static const struct {
		const char *name;
		unsigned int nseg;
		uint32_t len[3];
		int to_wire;	/* B's MTU would refuse a jumbo frame */
		int ok;
	} rows[] = {
		{ "3 segments to B", 3, { 20, 300, 1000 }, 0, 1 },
		{ "3 segments, header split", 3, { 6, 8, 500 }, 0, 1 },
		{ "exactly CDNA_MAX_FRAME_LEN", 3,
		  { 4000, 4000, CDNA_MAX_FRAME_LEN - 8000 }, 1, 1 },
		{ "one byte over CDNA_MAX_FRAME_LEN", 3,
		  { 4000, 4000, CDNA_MAX_FRAME_LEN - 8000 + 1 }, 1, 0 },
		{ "first segment over CDNA_MAX_FRAME_LEN", 3,
		  { CDNA_MAX_FRAME_LEN + 1, 10, 10 }, 1, 0 },
		{ "one segment over CDNA_MAX_FRAME_LEN", 1,
		  { CDNA_MAX_FRAME_LEN + 1 }, 1, 0 },
	};
	unsigned int r, i, rxb, seg[3], after;
	struct cdna_nic_desc d[4];
	struct cdna_nic_status st[RING];
	/* The longest row overruns CDNA_MAX_FRAME_LEN by a segment. */
	static uint8_t f[2 * CDNA_MAX_FRAME_LEN];

	for (r = 0; r < RTE_DIM(rows); r++) {
		uint32_t total = 0, off = 0;
		const uint8_t *dst = rows[r].to_wire ? mac_unknown : mac_ctx[B];

		case_begin("chain: %s", rows[r].name);
		nic_up(32, 1, 0);
		for (i = 0; i < rows[r].nseg; i++)
			total += rows[r].len[i];
		frame_fill(f, total, dst, mac_ctx[A], r);
		rxb = hb_new(2048);
		rx_post(B, 0, rxb, 0x100);
		memset(d, 0, sizeof(d));
		for (i = 0; i < rows[r].nseg; i++) {
			seg[i] = hb_bytes(f + off, rows[r].len[i]);
			off += rows[r].len[i];
			d[i].addr = hb_addr(seg[i]);
			d[i].len = rows[r].len[i];
			d[i].tag = 0x10 + i;
			if (i + 1 < rows[r].nseg)
				d[i].flags = CDNA_DESC_F_MORE;
		}
		/* A plain frame behind the chain: the ring must stay in step. */
		after = hb_bytes(f, 64);
		d[i].addr = hb_addr(after);
		d[i].len = 64;
		d[i].tag = 0x20;
		ring_post(&tq[A][0]->tx, d, rows[r].nseg + 1);
		cdna_nic_poll(nic);

		CHECK_EQ(reap(&tq[A][0]->tx, st, RING), rows[r].nseg + 1);
		for (i = 0; i < rows[r].nseg; i++) {
			if (rows[r].ok)
				CHECK_ST(st[i], 0x10 + i, rows[r].len[i],
					 CDNA_ST_OK);
			else
				CHECK_ST(st[i], 0x10 + i, 0, CDNA_ST_BAD_CHAIN);
			CHECK_EQ(hb_diff(seg[i], NULL, 0), -1);
		}
		CHECK_ST(st[i], 0x20, 64, CDNA_ST_OK);
		if (rows[r].ok) {
			CHECK_CTX(A, .tx_pkts = 2, .tx_bytes = total + 64);
			/* One DMA per segment, plus the plain frame's. */
			CHECK_EQ(nb_audits, rows[r].nseg + 1 +
				 (rows[r].to_wire ? 0 : 1));
		} else {
			CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = 64,
				  .tx_bad_chain = 1);
			CHECK_EQ(nb_audits, 1);
		}
		if (rows[r].to_wire) {
			/* The plain frame carries the chain's header: wire too. */
			CHECK_WIRE(rows[r].ok ? 2 : 1);
			if (rows[r].ok)
				CHECK_WIRE_FRAME(0, f, total);
			CHECK_WIRE_FRAME(rows[r].ok ? 1 : 0, f, 64);
			CHECK_NO_ST(&tq[B][0]->rx);
			CHECK_CTX(B, 0);
			CHECK_NIC(.wire_tx = rows[r].ok ? 2 : 1);
		} else {
			CHECK_WIRE(0);
			CHECK_ONE_ST(&tq[B][0]->rx, 0x100, total, CDNA_ST_OK);
			CHECK_EQ(hb_diff(rxb, f, total), -1);
			/* The plain frame found no second buffer. */
			CHECK_CTX(B, .rx_pkts = 1, .rx_bytes = total,
				  .rx_nobuf = 1);
			CHECK_NIC(.switched = 2);
		}
		nic_down();
	}
}

/*
 * CDNA_MAX_SEGS bounds one packet. A longer chain is one bad packet: it
 * must not leave as a packet of the first CDNA_MAX_SEGS segments followed
 * by one whose "header" is the rest of the payload.
 */
static void
test_chain_segs(void)
{
	static const unsigned int rows[] = { CDNA_MAX_SEGS, CDNA_MAX_SEGS + 1 };
	struct cdna_nic_desc d[CDNA_MAX_SEGS + 1];
	struct cdna_nic_status st[RING];
	uint8_t f[(CDNA_MAX_SEGS + 1) * 20];
	unsigned int r, i, b, n;

	for (r = 0; r < RTE_DIM(rows); r++) {
		int ok = rows[r] <= CDNA_MAX_SEGS;
		uint32_t total = rows[r] * 20;

		case_begin("chain: %u segments of 20 bytes", rows[r]);
		nic_up(32, 1, 0);
		frame_fill(f, total, mac_unknown, mac_ctx[A], r);
		b = hb_bytes(f, total);
		memset(d, 0, sizeof(d));
		for (i = 0; i < rows[r]; i++) {
			d[i].addr = hb_addr(b) + 20 * i;
			d[i].len = 20;
			d[i].tag = i;
			d[i].flags = i + 1 < rows[r] ? CDNA_DESC_F_MORE : 0;
		}
		ring_post(&tq[A][0]->tx, d, rows[r]);
		cdna_nic_poll(nic);
		n = reap(&tq[A][0]->tx, st, RING);
		CHECK_EQ(n, rows[r]);
		/* One line for the lot: the first status that is wrong. */
		for (i = 0; i < n && i < rows[r]; i++)
			if (st[i].tag != i || st[i].len != (ok ? 20u : 0u) ||
			    st[i].status != (ok ? CDNA_ST_OK : CDNA_ST_BAD_CHAIN))
				break;
		if (i < n && i < rows[r])
			check_st(__LINE__, "first wrong status", &st[i], i,
				 ok ? 20 : 0, ok ? CDNA_ST_OK : CDNA_ST_BAD_CHAIN);
		else
			cases++;
		if (ok) {
			CHECK_WIRE(1);
			CHECK_WIRE_FRAME(0, f, total);
			CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = total);
		} else {
			CHECK_WIRE(0);
			CHECK_CTX(A, .tx_bad_chain = 1);
		}
		nic_down();
	}
}

/* ---- 8: the address stage refuses ---- */

static void
test_xlate_fault(void)
{
	struct cdna_nic_desc d[3];
	struct cdna_nic_status st[RING];
	unsigned int tx, rxb, good, seg[3], i;
	uint8_t f[600];

	case_begin("address stage: TX buffer unmapped");
	nic_up(32, 1, 1);
	rxb = hb_new(2048);
	rx_post(B, 0, rxb, 0x100);
	memset(d, 0, sizeof(d));
	d[0].addr = UNMAPPED_IOVA;
	d[0].len = 100;
	d[0].tag = 1;
	ring_post(&tq[A][0]->tx, d, 1);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->tx, 1, 0, CDNA_ST_DMA_FAULT);
	CHECK_CTX(A, .dma_fault = 1);
	CHECK_NO_ST(&tq[B][0]->rx);
	CHECK_EQ(hb_diff(rxb, NULL, 0), -1);
	CHECK_CTX(B, 0);
	CHECK_NIC(0);
	CHECK_WIRE(0);
	CHECK_EQ(nb_audits, 0);	/* refused, so never performed */
	CHECK_EQ(nb_xlates, 1);
	CHECK(xlates[0].addr == UNMAPPED_IOVA);
	CHECK_EQ(xlates[0].len, 100);
	CHECK_EQ(xlates[0].dir, CDNA_DIR_TX);
	nic_down();

	case_begin("address stage: TX length past the mapping");
	nic_up(32, 1, 1);
	tx = hb_new(100);
	d[0].addr = hb_iova(tx);
	d[0].len = 101;
	d[0].tag = 2;
	ring_post(&tq[A][0]->tx, d, 1);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->tx, 2, 0, CDNA_ST_DMA_FAULT);
	CHECK_CTX(A, .dma_fault = 1);
	CHECK_WIRE(0);
	CHECK_EQ(nb_audits, 0);
	nic_down();

	case_begin("address stage: middle segment of a chain unmapped");
	nic_up(32, 1, 1);
	rxb = hb_new(2048);
	rx_post(B, 0, rxb, 0x100);
	frame_fill(f, 600, mac_ctx[B], mac_ctx[A], 9);
	memset(d, 0, sizeof(d));
	for (i = 0; i < 3; i++) {
		seg[i] = hb_bytes(f + 200 * i, 200);
		d[i].addr = hb_iova(seg[i]);
		d[i].len = 200;
		d[i].tag = 0x10 + i;
		d[i].flags = i < 2 ? CDNA_DESC_F_MORE : 0;
	}
	d[1].addr = UNMAPPED_IOVA;
	ring_post(&tq[A][0]->tx, d, 3);
	cdna_nic_poll(nic);
	CHECK_EQ(reap(&tq[A][0]->tx, st, RING), 3);
	/* Segment 0 was read before the fault: either report is defensible. */
	CHECK(st[0].tag == 0x10 && (st[0].status == CDNA_ST_OK ||
				    st[0].status == CDNA_ST_DMA_FAULT));
	CHECK_ST(st[1], 0x11, 0, CDNA_ST_DMA_FAULT);
	CHECK_ST(st[2], 0x12, 0, CDNA_ST_DMA_FAULT);
	CHECK_CTX(A, .dma_fault = 1);
	CHECK_NO_ST(&tq[B][0]->rx);
	CHECK_EQ(hb_diff(rxb, NULL, 0), -1);
	CHECK_CTX(B, 0);
	CHECK_WIRE(0);
	CHECK_EQ(nb_audits, 1);	/* segment 0 only */
	nic_down();

	case_begin("address stage: RX buffer unmapped, next buffer used");
	nic_up(32, 1, 1);
	rxb = hb_new(2048);
	good = hb_new(2048);
	memset(d, 0, sizeof(d));
	d[0].addr = UNMAPPED_IOVA;
	d[0].len = 2048;
	d[0].tag = 0x100;
	ring_post(&tq[B][0]->rx, d, 1);
	rx_post(B, 0, good, 0x101);
	tx_frame(A, mac_ctx[B], 300, 1);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[B][0]->rx, 0x100, 0, CDNA_ST_DMA_FAULT);
	CHECK_CTX(B, .dma_fault = 1);
	CHECK_EQ(hb_diff(good, NULL, 0), -1);
	CHECK_EQ(nb_xlates, 2);
	CHECK(xlates[1].addr == UNMAPPED_IOVA);
	CHECK_EQ(xlates[1].len, 300);	/* the frame, not the buffer */
	CHECK_EQ(xlates[1].dir, CDNA_DIR_RX);
	CHECK_EQ(nb_audits, 1);	/* A's TX */
	/* The refused buffer was consumed; the next frame goes to the next. */
	tx = tx_frame(A, mac_ctx[B], 400, 2);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[B][0]->rx, 0x101, 400, CDNA_ST_OK);
	CHECK_EQ(hb_diff(good, hb[tx].ref, 400), -1);
	CHECK_CTX(B, .dma_fault = 1, .rx_pkts = 1, .rx_bytes = 400);
	CHECK_CTX(A, .tx_pkts = 2, .tx_bytes = 700);
	CHECK_NIC(.switched = 2);
	nic_down();

	case_begin("address stage: RX frame past the mapping");
	nic_up(32, 1, 1);
	rxb = hb_new(100);
	/* The descriptor claims more room than the stage maps. */
	d[0].addr = hb_iova(rxb);
	d[0].len = 2048;
	d[0].tag = 0x100;
	d[0].flags = 0;
	ring_post(&tq[B][0]->rx, d, 1);
	tx_frame(A, mac_ctx[B], 101, 1);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[B][0]->rx, 0x100, 0, CDNA_ST_DMA_FAULT);
	CHECK_CTX(B, .dma_fault = 1);
	CHECK_EQ(hb_diff(rxb, NULL, 0), -1);
	nic_down();
}

/* ---- 9: a context's memory goes away ---- */

/*
 * In a child: copies between a buffer that vanishes and a good one, the
 * vanishing one named as the guest side (outside == 0) or not. Returns the
 * signal that ended the child, or 0 if the copy returned -EFAULT.
 */
static int
guard_child(int outside)
{
	static uint8_t good[4096];
	int st = 0;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		unsigned int v = hb_vanishing(1024, NULL, 0);

		hb_vanish(v);
		if (outside)
			cdna_dma_copy(good, hb_data(v), 1024, good);
		_exit(cdna_dma_copy(good, hb_data(v), 1024, hb_data(v)) ==
		      -EFAULT ? 0 : 1);
	}
	if (waitpid(pid, &st, 0) != pid)
		fatal("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(st))
		return WTERMSIG(st);
	return WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void
test_ctx_fault(void)
{
	unsigned int rxb[NB_CTX][2], c, tx, run[3], i, n;
	/* 3 contexts x 43 broadcasts: one more delivery than the run holds. */
	enum { FULL_RUN_FRAMES = 43 };
	unsigned int full[NB_CTX][FULL_RUN_FRAMES], full_tx[FULL_RUN_FRAMES];
	struct cdna_nic_desc d[2];
	struct cdna_nic_status st[RING];
	unsigned long faults0;
	uint8_t f[100];

	case_begin("ctx fault: B faulted, A and C carry on");
	nic_up(32, 1, 0);
	for (c = 0; c < NB_CTX; c++) {
		rxb[c][0] = hb_new(2048);
		rxb[c][1] = hb_new(2048);
		rx_post(c, 0, rxb[c][0], 0x100 + c);
		rx_post(c, 0, rxb[c][1], 0x200 + c);
	}
	cdna_nic_ctx_fault(nic, B);

	tx_frame(A, mac_ctx[B], 300, 1);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->tx, 1, 300, CDNA_ST_OK);
	CHECK_ONE_ST(&tq[B][0]->rx, 0x101, 0, CDNA_ST_DMA_FAULT);
	CHECK_EQ(hb_diff(rxb[B][0], NULL, 0), -1);
	CHECK_CTX(B, .dma_fault = 1);

	tx_frame(B, mac_ctx[A], 200, 2);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[B][0]->tx, 2, 0, CDNA_ST_DMA_FAULT);
	CHECK_NO_ST(&tq[A][0]->rx);
	CHECK_CTX(B, .dma_fault = 2);

	tx = tx_frame(A, mac_bcast, 400, 3);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->tx, 3, 400, CDNA_ST_OK);
	CHECK_ONE_ST(&tq[B][0]->rx, 0x201, 0, CDNA_ST_DMA_FAULT);
	CHECK_EQ(hb_diff(rxb[B][1], NULL, 0), -1);
	for (c = C; c < NB_CTX; c++) {
		CHECK_ONE_ST(&tq[c][0]->rx, 0x100 + c, 400, CDNA_ST_OK);
		CHECK_EQ(hb_diff(rxb[c][0], hb[tx].ref, 400), -1);
	}
	CHECK_WIRE(1);
	CHECK_WIRE_FRAME(0, hb[tx].ref, 400);

	tx = tx_frame(C, mac_ctx[A], 500, 4);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[C][0]->tx, 4, 500, CDNA_ST_OK);
	CHECK_ONE_ST(&tq[A][0]->rx, 0x100, 500, CDNA_ST_OK);
	CHECK_EQ(hb_diff(rxb[A][0], hb[tx].ref, 500), -1);

	CHECK_CTX(A, .tx_pkts = 2, .tx_bytes = 700, .rx_pkts = 1,
		  .rx_bytes = 500);
	CHECK_CTX(B, .dma_fault = 3);
	CHECK_CTX(C, .tx_pkts = 1, .tx_bytes = 500, .rx_pkts = 1,
		  .rx_bytes = 400);
	CHECK_CTX(D, .rx_pkts = 1, .rx_bytes = 400);
	CHECK_NIC(.switched = 5, .wire_tx = 1);
	/* Not one DMA of B's was performed. */
	for (c = 0; c < nb_audits && c < AUDIT_CAP; c++)
		CHECK(audits[c].ctx != B);
	nic_down();

	case_begin("ctx fault: memory gone during an RX copy");
	nic_up(32, 1, 0);
	faults0 = cdna_dma_guard_faults();
	rxb[B][0] = hb_vanishing(2048, NULL, 0);
	rxb[C][0] = hb_new(2048);
	rx_post(B, 0, rxb[B][0], 0x101);
	rx_post(C, 0, rxb[C][0], 0x102);
	fault_in_dma = B;
	fault_hb = rxb[B][0];
	tx = tx_frame(A, mac_bcast, 300, 1);
	cdna_nic_poll(nic);
	/* The copy hit SIGBUS: B is told nothing arrived, and is faulted. */
	CHECK_ONE_ST(&tq[B][0]->rx, 0x101, 0, CDNA_ST_DMA_FAULT);
	CHECK_CTX(B, .dma_fault = 1);
	CHECK_EQ(cdna_dma_guard_faults() - faults0, 1);
	CHECK_EQ(cdna_nic_ctx_faulted(nic, B), CDNA_NIC_FAULT_MEMORY);
	CHECK_EQ(cdna_nic_take_faults(nic), 1);
	CHECK_EQ(cdna_nic_take_faults(nic), 0);
	CHECK_ONE_ST(&tq[C][0]->rx, 0x102, 300, CDNA_ST_OK);
	CHECK_EQ(hb_diff(rxb[C][0], hb[tx].ref, 300), -1);
	CHECK_CTX(C, .rx_pkts = 1, .rx_bytes = 300);
	CHECK_WIRE(1);
	nic_down();

	/*
	 * Deliveries are copied as a run: after B's first copy faults, B's
	 * later delivery in the same run is refused, never performed or
	 * audited, and C's on either side of it go on.
	 */
	case_begin("ctx fault: memory gone in the middle of an RX run");
	nic_up(32, 1, 0);
	faults0 = cdna_dma_guard_faults();
	rxb[B][0] = hb_vanishing(2048, NULL, 0);
	rxb[B][1] = hb_new(2048);
	rxb[C][0] = hb_new(2048);
	rxb[C][1] = hb_new(2048);
	rx_post(B, 0, rxb[B][0], 0x101);
	rx_post(B, 0, rxb[B][1], 0x102);
	rx_post(C, 0, rxb[C][0], 0x201);
	rx_post(C, 0, rxb[C][1], 0x202);
	fault_in_dma = B;
	fault_hb = rxb[B][0];
	run[0] = tx_frame(A, mac_bcast, 120, 1);
	run[1] = tx_frame(A, mac_bcast, 130, 2);
	cdna_nic_poll(nic);
	CHECK_EQ(reap(&tq[B][0]->rx, st, RING), 2);
	CHECK_ST(st[0], 0x101, 0, CDNA_ST_DMA_FAULT);
	CHECK_ST(st[1], 0x102, 0, CDNA_ST_DMA_FAULT);
	CHECK_EQ(hb_diff(rxb[B][1], NULL, 0), -1);	/* untouched */
	CHECK_CTX(B, .dma_fault = 2);
	CHECK_EQ(reap(&tq[C][0]->rx, st, RING), 2);
	CHECK_ST(st[0], 0x201, 120, CDNA_ST_OK);
	CHECK_ST(st[1], 0x202, 130, CDNA_ST_OK);
	CHECK_EQ(hb_diff(rxb[C][0], hb[run[0]].ref, 120), -1);
	CHECK_EQ(hb_diff(rxb[C][1], hb[run[1]].ref, 130), -1);
	for (i = 0, n = 0; i < nb_audits && i < AUDIT_CAP; i++)
		n += audits[i].ctx == B;
	CHECK_EQ(n, 1);
	CHECK_EQ(cdna_dma_guard_faults() - faults0, 1);
	CHECK_EQ(cdna_nic_ctx_faulted(nic, B), CDNA_NIC_FAULT_MEMORY);
	CHECK_EQ(cdna_nic_take_faults(nic), 1);
	CHECK_WIRE(2);
	nic_down();

	/*
	 * The run fills up (NIC_RX_RUN_MAX deliveries) and is performed in
	 * the middle of a broadcast's deliveries: D's first copy faults
	 * there, so D's delivery that found the run full must be refused
	 * too, not queued with the address it translated before.
	 */
	case_begin("ctx fault: memory gone in a full RX run");
	nic_up(64, 1, 0);
	faults0 = cdna_dma_guard_faults();
	for (c = B; c < NB_CTX; c++)
		for (i = 0; i < FULL_RUN_FRAMES; i++) {
			full[c][i] = c == D && i == 0 ?
				hb_vanishing(2048, NULL, 0) : hb_new(2048);
			rx_post(c, 0, full[c][i], 0x1000 * c + i);
		}
	fault_in_dma = D;
	fault_hb = full[D][0];
	for (i = 0; i < FULL_RUN_FRAMES; i++)
		full_tx[i] = tx_frame(A, mac_bcast, 60 + i, 1 + i);
	cdna_nic_poll(nic);
	for (c = B; c <= C; c++) {
		CHECK_EQ(reap(&tq[c][0]->rx, st, RING), FULL_RUN_FRAMES);
		for (i = 0; i < FULL_RUN_FRAMES; i++) {
			CHECK_ST(st[i], 0x1000 * c + i, 60 + i, CDNA_ST_OK);
			CHECK_EQ(hb_diff(full[c][i], hb[full_tx[i]].ref, 60 + i), -1);
		}
	}
	CHECK_EQ(reap(&tq[D][0]->rx, st, RING), FULL_RUN_FRAMES);
	for (i = 0; i < FULL_RUN_FRAMES; i++) {
		CHECK_ST(st[i], 0x1000 * D + i, 0, CDNA_ST_DMA_FAULT);
		if (i > 0)
			CHECK_EQ(hb_diff(full[D][i], NULL, 0), -1);	/* untouched */
	}
	CHECK_CTX(D, .dma_fault = FULL_RUN_FRAMES);
	for (i = 0, n = 0; i < nb_audits && i < AUDIT_CAP; i++)
		n += audits[i].ctx == D;
	CHECK_EQ(n, 1);
	CHECK_EQ(cdna_dma_guard_faults() - faults0, 1);
	CHECK_EQ(cdna_nic_take_faults(nic), 1);
	CHECK_WIRE(FULL_RUN_FRAMES);
	nic_down();

	case_begin("ctx fault: memory gone during a TX chain");
	nic_up(32, 1, 0);
	faults0 = cdna_dma_guard_faults();
	rxb[A][0] = hb_new(2048);
	rx_post(A, 0, rxb[A][0], 0x100);
	frame_fill(f, sizeof(f), mac_ctx[A], mac_ctx[B], 1);
	tx = hb_vanishing(sizeof(f), f, sizeof(f));
	fault_in_dma = B;
	fault_hb = tx;
	memset(d, 0, sizeof(d));
	d[0].addr = hb_addr(tx);
	d[0].len = 50;
	d[0].tag = 1;
	d[0].flags = CDNA_DESC_F_MORE;
	d[1].addr = hb_addr(tx) + 50;
	d[1].len = 50;
	d[1].tag = 2;
	ring_post(&tq[B][0]->tx, d, 2);
	cdna_nic_poll(nic);
	CHECK_EQ(reap(&tq[B][0]->tx, st, RING), 2);
	CHECK_ST(st[0], 1, 0, CDNA_ST_DMA_FAULT);
	CHECK_ST(st[1], 2, 0, CDNA_ST_DMA_FAULT);
	CHECK_CTX(B, .dma_fault = 1);
	CHECK_NO_ST(&tq[A][0]->rx);
	CHECK_CTX(A, 0);
	CHECK_WIRE(0);
	CHECK_EQ(nb_audits, 1);	/* segment 1 was never started */
	CHECK_EQ(cdna_dma_guard_faults() - faults0, 1);
	CHECK_EQ(cdna_nic_take_faults(nic), 1);
	nic_down();

	/*
	 * One-descriptor frames are copied as a run under one recovery point:
	 * a fault in the second of three must end exactly as frame by frame.
	 */
	case_begin("ctx fault: memory gone in the middle of a TX run");
	nic_up(32, 1, 0);
	faults0 = cdna_dma_guard_faults();
	rxb[A][0] = hb_new(2048);
	rx_post(A, 0, rxb[A][0], 0x100);
	frame_fill(f, 100, mac_ctx[A], mac_ctx[B], 1);
	run[0] = hb_bytes(f, 100);
	frame_fill(f, 100, mac_ctx[A], mac_ctx[B], 2);
	run[1] = hb_vanishing(100, f, 100);
	frame_fill(f, 100, mac_ctx[A], mac_ctx[B], 3);
	run[2] = hb_bytes(f, 100);
	/* Gone at the run's first audit: after the lookups, before copy 1. */
	fault_in_dma = B;
	fault_hb = run[1];
	for (i = 0; i < 3; i++)
		tx_post(B, run[i], 1 + i);
	cdna_nic_poll(nic);
	CHECK_EQ(reap(&tq[B][0]->tx, st, RING), 3);
	CHECK_ST(st[0], 1, 100, CDNA_ST_OK);
	CHECK_ST(st[1], 2, 0, CDNA_ST_DMA_FAULT);
	CHECK_ST(st[2], 3, 0, CDNA_ST_DMA_FAULT);	/* context faulted */
	CHECK_CTX(B, .tx_pkts = 1, .tx_bytes = 100, .dma_fault = 2);
	CHECK_ONE_ST(&tq[A][0]->rx, 0x100, 100, CDNA_ST_OK);
	CHECK_EQ(hb_diff(rxb[A][0], hb[run[0]].ref, 100), -1);
	CHECK_CTX(A, .rx_pkts = 1, .rx_bytes = 100);
	/* Frames 1 and 2 were started, 3 never was; A's RX is the fourth. */
	CHECK_EQ(nb_audits, 3);
	for (i = 0, n = 0; i < nb_audits && i < AUDIT_CAP; i++)
		n += audits[i].ctx == B;
	CHECK_EQ(n, 2);
	CHECK_EQ(cdna_dma_guard_faults() - faults0, 1);
	CHECK_EQ(cdna_nic_ctx_faulted(nic, B), CDNA_NIC_FAULT_MEMORY);
	CHECK_EQ(cdna_nic_take_faults(nic), 1);
	nic_down();

	/* A refused translation inside a run: that frame alone, once. */
	case_begin("TX run: an untranslatable descriptor between two frames");
	nic_up(32, 1, 0);
	run[0] = tx_frame(B, mac_unknown, 80, 1);
	memset(d, 0, sizeof(d));
	d[0].addr = 0;		/* the host stage's one address that is no address */
	d[0].len = 80;
	d[0].tag = 2;
	ring_post(&tq[B][0]->tx, d, 1);
	run[2] = tx_frame(B, mac_unknown, 90, 3);
	cdna_nic_poll(nic);
	CHECK_EQ(reap(&tq[B][0]->tx, st, RING), 3);
	CHECK_ST(st[0], 1, 80, CDNA_ST_OK);
	CHECK_ST(st[1], 2, 0, CDNA_ST_DMA_FAULT);
	CHECK_ST(st[2], 3, 90, CDNA_ST_OK);
	CHECK_CTX(B, .tx_pkts = 2, .tx_bytes = 170, .dma_fault = 1);
	CHECK_EQ(cdna_nic_ctx_faulted(nic, B), CDNA_NIC_FAULT_NONE);
	CHECK_WIRE(2);
	CHECK_WIRE_FRAME(0, hb[run[0]].ref, 80);
	CHECK_WIRE_FRAME(1, hb[run[2]].ref, 90);
	nic_down();

	/*
	 * The guard catches faults in the guest side of a copy only: one in
	 * the other side is a bug of ours and must still kill the process.
	 */
	case_begin("dma guard: a fault outside the guest side kills");
	CHECK_EQ(guard_child(0), 0);
	CHECK_EQ(guard_child(1), SIGBUS);
}

/* ---- 10: queue flush ---- */

static void
test_flush(void)
{
	unsigned int rxa[2], rxb[2], rxc, rxd, t_b, t_w, t_bc, i;
	struct cdna_nic_desc d[2];
	struct cdna_nic_status st[RING];
	uint8_t f[700];

	case_begin("flush: TX performed, RX aborted, queue off");
	nic_up(32, 1, 0);
	for (i = 0; i < 2; i++) {
		rxa[i] = hb_new(2048);
		rx_post(A, 0, rxa[i], 0x100 + i);
		rxb[i] = hb_new(2048);
		rx_post(B, 0, rxb[i], 0x110 + i);
	}
	rxc = hb_new(2048);
	rx_post(C, 0, rxc, 0x120);
	rxd = hb_new(2048);
	rx_post(D, 0, rxd, 0x130);
	t_b = tx_frame(A, mac_ctx[B], 200, 10);
	t_w = tx_frame(A, mac_unknown, 300, 11);
	frame_fill(f, sizeof(f), mac_bcast, mac_ctx[A], 12);
	t_bc = hb_bytes(f, sizeof(f));
	memset(d, 0, sizeof(d));
	d[0].addr = hb_addr(t_bc);
	d[0].len = 100;
	d[0].tag = 12;
	d[0].flags = CDNA_DESC_F_MORE;
	d[1].addr = hb_addr(t_bc) + 100;
	d[1].len = 600;
	d[1].tag = 13;
	ring_post(&tq[A][0]->tx, d, 2);

	/* No poll: the flush itself must do the work. */
	cdna_nic_queue_flush(nic, A, 0);
	CHECK_EQ(tq[A][0]->active, 0);
	CHECK_EQ(tq[A][0]->tx.st_prod->val, tq[A][0]->tx.tail->val);
	CHECK_EQ(tq[A][0]->rx.st_prod->val, tq[A][0]->rx.tail->val);
	CHECK_EQ(reap(&tq[A][0]->tx, st, RING), 4);
	CHECK_ST(st[0], 10, 200, CDNA_ST_OK);
	CHECK_ST(st[1], 11, 300, CDNA_ST_OK);
	CHECK_ST(st[2], 12, 100, CDNA_ST_OK);
	CHECK_ST(st[3], 13, 600, CDNA_ST_OK);
	CHECK_EQ(reap(&tq[A][0]->rx, st, RING), 2);
	CHECK_ST(st[0], 0x100, 0, CDNA_ST_ABORTED);
	CHECK_ST(st[1], 0x101, 0, CDNA_ST_ABORTED);
	CHECK_EQ(hb_diff(rxa[0], NULL, 0), -1);
	CHECK_EQ(hb_diff(rxa[1], NULL, 0), -1);
	CHECK_EQ(reap(&tq[B][0]->rx, st, RING), 2);
	CHECK_ST(st[0], 0x110, 200, CDNA_ST_OK);
	CHECK_ST(st[1], 0x111, 700, CDNA_ST_OK);
	CHECK_EQ(hb_diff(rxb[0], hb[t_b].ref, 200), -1);
	CHECK_EQ(hb_diff(rxb[1], f, 700), -1);
	CHECK_ONE_ST(&tq[C][0]->rx, 0x120, 700, CDNA_ST_OK);
	CHECK_EQ(hb_diff(rxc, f, 700), -1);
	CHECK_ONE_ST(&tq[D][0]->rx, 0x130, 700, CDNA_ST_OK);
	CHECK_EQ(hb_diff(rxd, f, 700), -1);
	/* Wire-bound frames left during the flush, not at some later poll. */
	CHECK_WIRE(2);
	CHECK_WIRE_FRAME(0, hb[t_w].ref, 300);
	CHECK_WIRE_FRAME(1, f, 700);
	CHECK_CTX(A, .tx_pkts = 3, .tx_bytes = 1200);
	CHECK_CTX(B, .rx_pkts = 2, .rx_bytes = 900);
	CHECK_CTX(C, .rx_pkts = 1, .rx_bytes = 700);
	CHECK_CTX(D, .rx_pkts = 1, .rx_bytes = 700);
	CHECK_NIC(.switched = 4, .wire_tx = 2);

	/* Disabled: a new TX is left alone and A receives nothing. */
	case_begin("flush: the queue stays off afterwards");
	tx_frame(A, mac_unknown, 100, 14);
	rx_post(A, 0, rxa[0], 0x102);
	tx_frame(B, mac_ctx[A], 100, 15);
	cdna_nic_poll(nic);
	CHECK_NO_ST(&tq[A][0]->tx);
	CHECK_NO_ST(&tq[A][0]->rx);
	CHECK_EQ(hb_diff(rxa[0], NULL, 0), -1);
	CHECK_WIRE(2);
	CHECK_CTX(A, .tx_pkts = 3, .tx_bytes = 1200, .rx_nobuf = 1);
	nic_down();

	case_begin("flush: a chain posted without its end is aborted");
	nic_up(32, 1, 0);
	frame_fill(f, 200, mac_unknown, mac_ctx[A], 20);
	t_w = hb_bytes(f, 200);
	memset(d, 0, sizeof(d));
	for (i = 0; i < 2; i++) {
		d[i].addr = hb_addr(t_w) + 100 * i;
		d[i].len = 100;
		d[i].tag = 20 + i;
		d[i].flags = CDNA_DESC_F_MORE;
	}
	ring_post(&tq[A][0]->tx, d, 2);
	/* The device waits for the rest of a chain... */
	CHECK_EQ(cdna_nic_poll(nic), 0);
	CHECK_NO_ST(&tq[A][0]->tx);
	/* ...which a flush will not: each descriptor gets its status. */
	cdna_nic_queue_flush(nic, A, 0);
	CHECK_EQ(reap(&tq[A][0]->tx, st, RING), 2);
	CHECK_ST(st[0], 20, 0, CDNA_ST_ABORTED);
	CHECK_ST(st[1], 21, 0, CDNA_ST_ABORTED);
	CHECK_EQ(tq[A][0]->active, 0);
	CHECK_WIRE(0);
	CHECK_CTX(A, 0);
	CHECK_EQ(nb_audits, 0);
	nic_down();
}

/* ---- 11: the audit hook ---- */

static void
test_audit(void)
{
	unsigned int seg[3], b0, b1, c1, t_u, i, k;
	struct cdna_nic_desc d[3];
	uint8_t f[900];

	/*
	 * IOVAs in the descriptors, so the hook provably gets the translated
	 * pointer. Two queues per context: B has both on, C only queue 1, D
	 * none.
	 */
	case_begin("audit: one call per DMA, exact pointer, length, direction");
	nic_up(32, 2, 1);
	cdna_nic_queue_enable(nic, B, 1, 1);
	cdna_nic_queue_enable(nic, C, 0, 0);
	cdna_nic_queue_enable(nic, C, 1, 1);
	cdna_nic_queue_enable(nic, D, 0, 0);
	b0 = hb_new(2048);
	b1 = hb_new(2048);
	c1 = hb_new(2048);
	rx_post(B, 0, b0, 0xb0);
	rx_post(B, 1, b1, 0xb1);
	rx_post(C, 1, c1, 0xc1);
	frame_fill(f, sizeof(f), mac_bcast, mac_ctx[A], 1);
	memset(d, 0, sizeof(d));
	for (i = 0; i < 3; i++) {
		seg[i] = hb_bytes(f + 300 * i, 300);
		d[i].addr = hb_iova(seg[i]);
		d[i].len = 300 - 100 * (i == 2);	/* 800 bytes in all */
		d[i].tag = i;
		d[i].flags = i < 2 ? CDNA_DESC_F_MORE : 0;
	}
	ring_post(&tq[A][0]->tx, d, 3);
	t_u = tx_frame(A, mac_ctx[B], 150, 3);
	CHECK_EQ(cdna_nic_poll(nic), 2);

	CHECK_EQ(nb_audits, 7);
	for (i = 0; i < 3; i++)
		CHECK_AUDIT(i, A, 0, hb_data(seg[i]), 300 - 100 * (i == 2),
			    CDNA_DIR_TX);
	CHECK_AUDIT(3, A, 0, hb_data(t_u), 150, CDNA_DIR_TX);
	/*
	 * Deliveries are copied as a run after the TX service, in the order
	 * they were switched. The broadcast: B on its first queue, C on the
	 * only one it has on.
	 */
	CHECK_AUDIT(4, B, 0, hb_data(b0), 800, CDNA_DIR_RX);
	CHECK_AUDIT(5, C, 1, hb_data(c1), 800, CDNA_DIR_RX);
	/* B's next frame goes to its next queue. */
	CHECK_AUDIT(6, B, 1, hb_data(b1), 150, CDNA_DIR_RX);
	CHECK_ONE_ST(&tq[B][0]->rx, 0xb0, 800, CDNA_ST_OK);
	CHECK_ONE_ST(&tq[B][1]->rx, 0xb1, 150, CDNA_ST_OK);
	CHECK_ONE_ST(&tq[C][1]->rx, 0xc1, 800, CDNA_ST_OK);
	CHECK_EQ(hb_diff(b0, f, 800), -1);
	CHECK_EQ(hb_diff(b1, hb[t_u].ref, 150), -1);
	CHECK_EQ(hb_diff(c1, f, 800), -1);
	CHECK_CTX(D, .rx_nobuf = 1);
	/*
	 * Every DMA went through the stage, with the same length: as many
	 * translations as audits of each length and direction (deliveries are
	 * translated when switched and copied, audited, when the run ends).
	 */
	CHECK_EQ(nb_xlates, 7);
	for (k = 0; k < 7 && k < nb_xlates; k++) {
		unsigned int na = 0, nx = 0, j;

		for (j = 0; j < 7 && j < nb_xlates; j++) {
			na += audits[j].len == audits[k].len &&
			      audits[j].dir == audits[k].dir;
			nx += xlates[j].len == audits[k].len &&
			      xlates[j].dir == audits[k].dir;
		}
		CHECK_EQ(nx, na);
	}
	CHECK_WIRE(1);
	CHECK_WIRE_FRAME(0, f, 800);

	/* Refusals are not DMAs: no further calls. */
	case_begin("audit: no call for oversize, bad chain or nobuf");
	b0 = hb_new(64);
	rx_post(B, 0, b0, 0xb2);
	tx_frame(A, mac_ctx[B], 100, 4);		/* B q0: oversize */
	tx_frame(A, mac_ctx[D], 100, 5);		/* D: no queue on */
	memset(d, 0, sizeof(d));
	d[0].addr = hb_iova(seg[0]);
	d[0].len = CDNA_MAX_FRAME_LEN + 1;
	d[0].tag = 6;
	ring_post(&tq[A][0]->tx, d, 1);
	cdna_nic_poll(nic);
	CHECK_EQ(nb_audits, 9);	/* the two TX reads */
	CHECK_CTX(D, .rx_nobuf = 2);
	nic_down();
}

/* ---- 12: fairness ---- */

static void
test_fairness(void)
{
	/*
	 * burst is per context (nic.h): a context must not get a bigger share
	 * of the wire by spreading its frames over more queues.
	 */
	static const struct {
		const char *name;
		unsigned int na, nb;	/* TX descriptors posted per queue */
		uint16_t aq;		/* A's queues with TX posted */
	} rows[] = {
		{ "A 64, B 64", 64, 64, 1 },
		{ "A 64, B 20", 64, 20, 1 },
		{ "A 64 on each of 2 queues, B 64", 64, 64, 2 },
	};
	struct cdna_nic_status st[RING];
	unsigned int r, i, poll, k, sent, n;
	const unsigned int burst = 8;
	uint16_t q;

	for (r = 0; r < RTE_DIM(rows); r++) {
		unsigned int total_a = rows[r].na * rows[r].aq;
		unsigned int got_aq[2] = { 0, 0 };
		unsigned int got_a = 0, got_b = 0;
		int reported = 0;

		case_begin("fairness: %s, burst %u", rows[r].name, burst);
		nic_up(burst, 2, 0);
		if (rows[r].aq == 2)
			cdna_nic_queue_enable(nic, A, 1, 1);
		for (q = 0; q < rows[r].aq; q++) {
			for (i = 0; i < rows[r].na; i++) {
				uint8_t f[64];

				frame_fill(f, sizeof(f), mac_unknown, mac_ctx[A],
					   0x1000 * q + i);
				tx_post_q(A, q, hb_bytes(f, sizeof(f)),
					  0x1000 * q + i);
			}
		}
		for (i = 0; i < rows[r].nb; i++)
			tx_frame(B, mac_unknown, 64, 0x8000 + i);
		for (poll = 1; poll <= total_a / burst + 1; poll++) {
			unsigned int want_a = RTE_MIN(poll * burst, total_a);
			unsigned int want_b = RTE_MIN(poll * burst, rows[r].nb);
			unsigned int moved = 0;

			sent = cdna_nic_poll(nic);
			for (q = 0; q < rows[r].aq; q++) {
				n = reap(&tq[A][q]->tx, st, RING);
				for (k = 0; k < n; k++)
					CHECK_ST(st[k], 0x1000 * q + got_aq[q] + k,
						 64, CDNA_ST_OK);
				got_aq[q] += n;
				got_a += n;
				moved += n;
			}
			n = reap(&tq[B][0]->tx, st, RING);
			for (k = 0; k < n; k++)
				CHECK_ST(st[k], 0x8000 + got_b + k, 64, CDNA_ST_OK);
			got_b += n;
			moved += n;
			/*
			 * Each context at most its burst, none starved. The
			 * first poll that goes wrong says it all.
			 */
			cases++;
			if ((got_a != want_a || got_b != want_b) && !reported++)
				fail(__LINE__, "after poll %u: A served %u, B served %u; expected %u and %u",
				     poll, got_a, got_b, want_a, want_b);
			CHECK_EQ(sent, moved);
		}
		CHECK_EQ(got_a, total_a);
		CHECK_EQ(got_b, rows[r].nb);
		CHECK_CTX(A, .tx_pkts = total_a, .tx_bytes = 64 * total_a);
		CHECK_CTX(B, .tx_pkts = rows[r].nb, .tx_bytes = 64 * rows[r].nb);
		CHECK_NIC(.wire_tx = total_a + rows[r].nb);
		CHECK_WIRE(total_a + rows[r].nb);
		nic_down();
	}
}

/* ---- 13: MTU ---- */

static void
test_mtu(void)
{
	/* nic.c allows the Ethernet header, the CRC and two VLAN tags. */
	const uint32_t extra = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN +
		2 * RTE_VLAN_HLEN;
	static const struct {
		uint32_t mtu;	/* 0: the default */
		int32_t over;	/* frame length - (mtu + extra) */
	} rows[] = {
		{ 0, 0 }, { 0, 1 },
		{ RTE_ETHER_MTU, 0 }, { RTE_ETHER_MTU, 1 },
		{ 9000, 0 }, { 9000, 1 }, { 9000, -1 },
		{ RTE_ETHER_MIN_MTU, 0 }, { RTE_ETHER_MIN_MTU, 1 },
	};
	unsigned int r, rxb, tx;

	for (r = 0; r < RTE_DIM(rows); r++) {
		uint32_t mtu = rows[r].mtu ? rows[r].mtu : RTE_ETHER_MTU;
		uint32_t len = mtu + extra + rows[r].over;

		case_begin("MTU: B's mtu %u%s, %u-byte frame", mtu,
			   rows[r].mtu ? "" : " (default)", len);
		nic_up(32, 1, 0);
		if (rows[r].mtu)
			cdna_nic_ctx_set_mtu(nic, B, rows[r].mtu);
		rxb = hb_new(CDNA_MAX_FRAME_LEN);
		rx_post(B, 0, rxb, 0x100);
		tx = tx_frame(A, mac_ctx[B], len, 1);
		cdna_nic_poll(nic);
		CHECK_ONE_ST(&tq[A][0]->tx, 1, len, CDNA_ST_OK);
		if (rows[r].over <= 0) {
			CHECK_ONE_ST(&tq[B][0]->rx, 0x100, len, CDNA_ST_OK);
			CHECK_EQ(hb_diff(rxb, hb[tx].ref, len), -1);
			CHECK_CTX(B, .rx_pkts = 1, .rx_bytes = len);
		} else {
			CHECK_NO_ST(&tq[B][0]->rx);
			CHECK_EQ(tq[B][0]->rx.head.val, 0);
			CHECK_EQ(hb_diff(rxb, NULL, 0), -1);
			CHECK_CTX(B, .rx_oversize = 1);
		}
		CHECK_WIRE(0);
		nic_down();
	}
}

/* The EAL leaves its runtime directory behind; one per run would pile up. */
static void
runtime_dir_remove(const char *path)
{
	char file[PATH_MAX];
	struct dirent *e;
	DIR *dir = opendir(path);

	if (dir == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(file, sizeof(file), "%s/%s", path, e->d_name) <
		    (int)sizeof(file))
			unlink(file);
	}
	closedir(dir);
	rmdir(path);
}

/* ---- main ---- */

/* ---- passthrough: the guest's own rings, in place ---- */

/* What a passthrough guest shares for one direction: ring, doorbell, status. */
struct pt_ring {
	struct cdna_index tail;		/* the guest's: hostile */
	struct cdna_index st_prod;	/* the NIC's */
	struct cdna_nic_desc desc[RING];
	struct cdna_nic_status status[RING];
};

static struct pt_ring *pt_tx, *pt_rx;

/* A chain of MORE longer than CDNA_MAX_SEGS + 1, its end and a frame fit the ring. */
#define LONG_CHAIN	(RING - 8)
_Static_assert(LONG_CHAIN > CDNA_MAX_SEGS + 1, "a chain past the limit");

/* Context c's queue 0 becomes a passthrough queue over pt_tx and pt_rx. */
static void
pt_attach(unsigned int c)
{
	struct cdna_nic_ext_ring tx, rx;

	pt_tx = calloc(1, sizeof(*pt_tx));
	pt_rx = calloc(1, sizeof(*pt_rx));
	if (pt_tx == NULL || pt_rx == NULL)
		fatal("calloc passthrough rings");
	tx = (struct cdna_nic_ext_ring){ pt_tx->desc, pt_tx->status,
		&pt_tx->tail, &pt_tx->st_prod, RING };
	rx = (struct cdna_nic_ext_ring){ pt_rx->desc, pt_rx->status,
		&pt_rx->tail, &pt_rx->st_prod, RING };
	cdna_nic_queue_destroy(nic, c, 0);
	tq[c][0] = cdna_nic_queue_attach(nic, c, 0, &tx, &rx);
	if (tq[c][0] == NULL)
		fatal("cdna_nic_queue_attach %u", c);
	cdna_nic_queue_enable(nic, c, 0, 1);
}

static void
pt_free(void)
{
	free(pt_tx);
	free(pt_rx);
	pt_tx = pt_rx = NULL;
}

static void
test_passthrough(void)
{
	const struct cdna_nic_fault *f;
	struct cdna_nic_status st[RING];
	struct cdna_nic_desc d[2];
	unsigned int tx, rxb, i;
	uint8_t fr[300];

	case_begin("passthrough: TX and RX through the guest's own rings");
	nic_up(32, 1, 1);
	pt_attach(A);
	rxb = hb_new(2048);
	rx_post(A, 0, rxb, 0x100);
	CHECK_EQ(pt_rx->tail.val, 1);	/* the descriptor went to the guest's ring */
	tx = tx_frame(A, mac_ctx[B], 300, 1);
	frame_fill(fr, sizeof(fr), mac_ctx[A], mac_ctx[B], 2);
	i = hb_bytes(fr, sizeof(fr));
	rx_post(B, 0, hb_new(2048), 0x200);
	tx_post(B, i, 2);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->tx, 1, 300, CDNA_ST_OK);
	CHECK_EQ(pt_tx->st_prod.val, 1);
	CHECK_ONE_ST(&tq[A][0]->rx, 0x100, 300, CDNA_ST_OK);
	CHECK_EQ(pt_rx->st_prod.val, 1);
	CHECK_EQ(hb_diff(rxb, fr, sizeof(fr)), -1);
	CHECK_EQ(hb_diff(tx, NULL, 0), -1);
	CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = 300, .rx_pkts = 1,
		  .rx_bytes = 300);
	CHECK_NIC(.switched = 2);
	CHECK_EQ(cdna_nic_ctx_faulted(nic, A), CDNA_NIC_FAULT_NONE);
	nic_down();
	pt_free();

	case_begin("passthrough: a descriptor rewritten during its DMA");
	nic_up(32, 1, 1);
	pt_attach(A);
	tx = hb_new(100);
	frame_fill(hb_data(tx), 100, mac_bcast, mac_ctx[A], 3);
	memset(d, 0, sizeof(d));
	d[0].addr = hb_iova(tx);
	d[0].len = 100;
	d[0].tag = 3;
	ring_post(&tq[A][0]->tx, d, 1);
	rewrite_on_xlate = &pt_tx->desc[0];
	cdna_nic_poll(nic);
	CHECK(rewrite_on_xlate == NULL);	/* the guest did rewrite it */
	/* The frame and the status are the descriptor as first read. */
	CHECK_ONE_ST(&tq[A][0]->tx, 3, 100, CDNA_ST_OK);
	CHECK_WIRE(1);
	CHECK_EQ(wire.len[0], 100);
	CHECK_EQ(nb_audits, 1);
	CHECK_EQ(audits[0].len, 100);
	CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = 100);
	nic_down();
	pt_free();

	case_begin("passthrough: a descriptor outside the guest's memory");
	nic_up(32, 1, 1);
	pt_attach(A);
	tx = tx_frame(A, mac_bcast, 200, 4);
	d[0].addr = UNMAPPED_IOVA;
	d[0].len = 64;
	d[0].tag = 5;
	d[0].flags = 0;
	ring_post(&tq[A][0]->tx, d, 1);
	rx_post(A, 0, hb_new(2048), 6);
	pt_rx->desc[0].addr = UNMAPPED_IOVA;	/* guest rewrites its RX post */
	rx_post(B, 0, hb_new(2048), 7);
	cdna_nic_poll(nic);
	CHECK_EQ(reap(&tq[A][0]->tx, st, RING), 2);
	CHECK_ST(st[0], 4, 200, CDNA_ST_OK);
	CHECK_ST(st[1], 5, 0, CDNA_ST_DMA_FAULT);
	CHECK_ONE_ST(&tq[B][0]->rx, 7, 200, CDNA_ST_OK);
	tx = tx_frame(B, mac_ctx[A], 120, 8);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->rx, 6, 0, CDNA_ST_DMA_FAULT);
	CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = 200, .dma_fault = 2);
	CHECK_EQ(cdna_nic_ctx_faulted(nic, A), CDNA_NIC_FAULT_NONE);
	nic_down();
	pt_free();

	case_begin("passthrough: a doorbell past the ring faults the context");
	nic_up(32, 1, 1);
	pt_attach(A);
	for (i = 0; i < 2; i++)
		rx_post(B, 0, hb_new(2048), 0x10 + i);
	tx_frame(A, mac_ctx[B], 64, 1);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->tx, 1, 64, CDNA_ST_OK);
	cdna_store_release(&pt_tx->tail, 1 + RING + 1);
	cdna_nic_poll(nic);
	CHECK_NO_ST(&tq[A][0]->tx);
	CHECK_EQ(cdna_nic_ctx_faulted(nic, A), CDNA_NIC_FAULT_DOORBELL);
	CHECK_EQ(cdna_nic_take_faults(nic), 1);
	f = cdna_nic_ctx_fault_info(nic, A);
	CHECK_EQ(f->queue, 0);
	CHECK_EQ(f->dir, CDNA_DIR_TX);
	CHECK_EQ(f->tail, 1 + RING + 1);
	CHECK_EQ(f->head, 1);
	CHECK_EQ(f->size, RING);
	/* Its rings are read no more, even with a sane doorbell again. */
	cdna_store_release(&pt_tx->tail, 1);
	tx_frame(A, mac_ctx[B], 64, 2);
	cdna_nic_poll(nic);
	CHECK_NO_ST(&tq[A][0]->tx);
	/* A flush of it returns at once, and B carries on. */
	cdna_nic_queue_flush(nic, A, 0);
	CHECK_NO_ST(&tq[A][0]->tx);
	CHECK_NO_ST(&tq[A][0]->rx);
	tx_frame(C, mac_ctx[B], 64, 3);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[C][0]->tx, 3, 64, CDNA_ST_OK);
	CHECK_EQ(reap(&tq[B][0]->rx, st, RING), 2);
	CHECK_ST(st[0], 0x10, 64, CDNA_ST_OK);
	CHECK_ST(st[1], 0x11, 64, CDNA_ST_OK);
	CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = 64, .doorbell_bad = 1);
	nic_down();
	pt_free();

	case_begin("passthrough: a chain that never ends costs a chain a call");
	nic_up(32, 1, 1);
	pt_attach(A);
	tx = hb_new(64);
	memset(d, 0, sizeof(d));
	for (i = 0; i < LONG_CHAIN; i++) {
		d[0].addr = hb_iova(tx);
		d[0].len = 1;
		d[0].tag = i;
		d[0].flags = CDNA_DESC_F_MORE;
		ring_post(&tq[A][0]->tx, d, 1);
	}
	cdna_nic_poll(nic);
	/* Refused at its CDNA_MAX_SEGS + 1st segment, not scanned to its end. */
	CHECK_EQ(reap(&tq[A][0]->tx, st, RING), CDNA_MAX_SEGS + 1);
	CHECK_ST(st[0], 0, 0, CDNA_ST_BAD_CHAIN);
	CHECK_ST(st[CDNA_MAX_SEGS], CDNA_MAX_SEGS, 0, CDNA_ST_BAD_CHAIN);
	/* Its end, then a frame of its own: the end is refused, the frame goes. */
	d[0].tag = LONG_CHAIN;
	d[0].flags = 0;
	ring_post(&tq[A][0]->tx, d, 1);
	tx_frame(A, mac_bcast, 80, LONG_CHAIN + 1);
	for (i = 0; i < 8; i++)
		cdna_nic_poll(nic);
	CHECK_EQ(reap(&tq[A][0]->tx, st, RING), LONG_CHAIN - CDNA_MAX_SEGS - 1 + 2);
	CHECK_ST(st[LONG_CHAIN - CDNA_MAX_SEGS - 1], LONG_CHAIN, 0, CDNA_ST_BAD_CHAIN);
	CHECK_ST(st[LONG_CHAIN - CDNA_MAX_SEGS], LONG_CHAIN + 1, 80, CDNA_ST_OK);
	CHECK_WIRE(1);
	CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = 80, .tx_bad_chain = 1);
	nic_down();
	pt_free();

	case_begin("passthrough: an RX doorbell past the ring, at delivery");
	nic_up(32, 1, 1);
	pt_attach(A);
	cdna_store_release(&pt_rx->tail, RING + 1);
	tx_frame(B, mac_ctx[A], 64, 1);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[B][0]->tx, 1, 64, CDNA_ST_OK);
	CHECK_NO_ST(&tq[A][0]->rx);
	CHECK_EQ(cdna_nic_ctx_faulted(nic, A), CDNA_NIC_FAULT_DOORBELL);
	CHECK_EQ(cdna_nic_ctx_fault_info(nic, A)->dir, CDNA_DIR_RX);
	CHECK_CTX(A, .rx_nobuf = 1, .doorbell_bad = 1);
	nic_down();
	pt_free();
}

/* ---- bad device: the fault injector ---- */

static void
test_bad_device(void)
{
	struct cdna_nic_status st[RING];
	unsigned int rxb, other, tx, k, n;
	uint8_t fr[200];

	case_begin("bad device: host stage, an RX DMA lands where injected");
	nic_up(32, 1, 0);
	rxb = hb_new(2048);
	other = hb_new(2048);	/* memory the descriptor never named */
	rx_post(B, 0, rxb, 0x10);
	cdna_nic_inject_bad_dma(nic, B, hb_addr(other), 1);
	tx = tx_frame(A, mac_ctx[B], 200, 1);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[B][0]->rx, 0x10, 200, CDNA_ST_OK);
	CHECK_EQ(hb_diff(rxb, NULL, 0), -1);		/* the posted buffer: untouched */
	CHECK_EQ(hb_diff(other, hb[tx].ref, 200), -1);	/* the frame went astray */
	CHECK_CTX(B, .rx_pkts = 1, .rx_bytes = 200, .bad_dma = 1);
	/* Only the next DMA: the one after lands where posted. */
	rx_post(B, 0, rxb, 0x11);
	tx = tx_frame(A, mac_ctx[B], 100, 2);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[B][0]->rx, 0x11, 100, CDNA_ST_OK);
	CHECK_EQ(hb_diff(rxb, hb[tx].ref, 100), -1);
	nic_down();

	case_begin("bad device: host stage, a TX DMA reads where injected");
	nic_up(32, 1, 0);
	frame_fill(fr, sizeof(fr), mac_bcast, mac_ctx[A], 3);
	other = hb_bytes(fr, sizeof(fr));
	tx = hb_new(200);
	memset(hb_data(tx), 0x5a, 200);
	cdna_nic_inject_bad_dma(nic, A, hb_addr(other), 1);
	tx_post(A, tx, 3);
	cdna_nic_poll(nic);
	CHECK_ONE_ST(&tq[A][0]->tx, 3, 200, CDNA_ST_OK);
	CHECK_WIRE(1);
	CHECK_WIRE_FRAME(0, fr, 200);
	CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = 200, .bad_dma = 1);
	nic_down();

	case_begin("bad device: an address stage refuses what it does not map");
	nic_up(32, 1, 1);
	rxb = hb_new(2048);
	rx_post(B, 0, rxb, 0x20);
	rx_post(B, 0, rxb, 0x21);
	cdna_nic_inject_bad_dma(nic, B, UNMAPPED_IOVA, 1);
	tx = tx_frame(A, mac_ctx[B], 120, 4);
	tx_frame(A, mac_ctx[B], 120, 5);
	cdna_nic_poll(nic);
	CHECK_EQ(reap(&tq[B][0]->rx, st, RING), 2);
	CHECK_ST(st[0], 0x20, 0, CDNA_ST_DMA_FAULT);	/* refused, never performed */
	CHECK_ST(st[1], 0x21, 120, CDNA_ST_OK);
	CHECK_CTX(B, .rx_pkts = 1, .rx_bytes = 120, .dma_fault = 1, .bad_dma = 1);
	/*
	 * The stage was asked for the injected address, for B's RX, once (A's
	 * TX run is translated before its frames are delivered).
	 */
	for (k = 0, n = 0; k < nb_xlates && k < XLATE_CAP; k++)
		n += xlates[k].addr == UNMAPPED_IOVA &&
		     xlates[k].dir == CDNA_DIR_RX;
	CHECK_EQ(n, 1);
	nic_down();
}

/*
 * The switch's MAC table follows every change: a new MAC, a context
 * leaving, and two contexts sharing one (the switch then scans, and the
 * first in its list gets the frame, as before there was a table).
 */
static void
test_switch_table(void)
{
	static const uint8_t mac_new[6] = { 0x02, 0xcd, 0x4e, 0x00, 0x00, 0x77 };
	unsigned int c, rxb[NB_CTX];
	uint64_t before;

	case_begin("switch: the MAC table follows set_mac, free and shared MACs");
	nic_up(32, 1, 0);
	for (c = 0; c < NB_CTX; c++) {
		rxb[c] = hb_new(2048);
		rx_post(c, 0, rxb[c], 0x100 + c);
	}
	cdna_nic_ctx_set_mac(nic, B, mac_new);
	tx_frame(A, mac_ctx[B], 100, 1);	/* B's old MAC: nobody's now */
	tx_frame(A, mac_new, 110, 2);
	cdna_nic_poll(nic);
	CHECK_WIRE(1);
	CHECK_ONE_ST(&tq[B][0]->rx, 0x100 + B, 110, CDNA_ST_OK);
	/* C and D share a MAC: one of them gets each frame, never both. */
	cdna_nic_ctx_set_mac(nic, C, mac_ctx[D]);
	tx_frame(A, mac_ctx[D], 120, 3);
	cdna_nic_poll(nic);
	CHECK_EQ(cdna_nic_ctx_stats(nic, C)->rx_pkts +
		 cdna_nic_ctx_stats(nic, D)->rx_pkts, 1);
	CHECK_WIRE(1);
	/* D leaves: its MAC is C's alone, and the table says so. */
	cdna_nic_queue_destroy(nic, D, 0);
	cdna_nic_ctx_free(nic, D);
	rx_post(C, 0, hb_new(2048), 0x300);
	before = cdna_nic_ctx_stats(nic, C)->rx_bytes;
	tx_frame(A, mac_ctx[D], 130, 4);
	cdna_nic_poll(nic);
	CHECK_EQ(cdna_nic_ctx_stats(nic, C)->rx_bytes - before, 130);
	CHECK_WIRE(1);
	nic_down();
}

/*
 * A frame shorter than an Ethernet header has no destination: its DMA is
 * done and counted, and it goes nowhere, neither to the wire nor to a
 * promiscuous context, whatever its first bytes say.
 */
static void
test_runt(void)
{
	unsigned int rxb, len;
	uint8_t f[RTE_ETHER_HDR_LEN];

	for (len = 1; len < RTE_ETHER_HDR_LEN; len += 6) {
		case_begin("switch: a frame of %u bytes goes nowhere", len);
		nic_up(32, 1, 0);
		cdna_nic_ctx_set_rxmode(nic, B, 1, 1);
		rxb = hb_new(2048);
		rx_post(B, 0, rxb, 0x100);
		memcpy(f, mac_ctx[B], 6);	/* as if to B, were it whole */
		memcpy(f + 6, mac_ctx[A], 6);
		tx_post(A, hb_bytes(f, len), 0x21);
		cdna_nic_poll(nic);
		CHECK_ONE_ST(&tq[A][0]->tx, 0x21, len, CDNA_ST_OK);
		CHECK_NO_ST(&tq[B][0]->rx);
		CHECK_EQ(hb_diff(rxb, NULL, 0), -1);
		CHECK_WIRE(0);
		CHECK_CTX(A, .tx_pkts = 1, .tx_bytes = len);
		CHECK_CTX(B, 0);
		CHECK_NIC(0);
		nic_down();
	}
}

/*
 * A poll looks only at the TX rings of active queues (nic_tx_pending): a
 * queue turned on is served even when it alone has frames, one turned off
 * keeps its frames until it is turned on again.
 */
static void
test_queue_on_off(void)
{
	struct cdna_nic_status st[RING];
	unsigned int b;
	uint8_t f[64];

	case_begin("queues: TX on a second queue alone, off, on again");
	nic_up(32, 2, 0);
	cdna_nic_queue_enable(nic, A, 1, 1);
	frame_fill(f, sizeof(f), mac_unknown, mac_ctx[A], 1);
	b = hb_bytes(f, sizeof(f));
	tx_post_q(A, 1, b, 0x41);
	CHECK_EQ(cdna_nic_poll(nic), 1);
	CHECK_ONE_ST(&tq[A][1]->tx, 0x41, 64, CDNA_ST_OK);
	CHECK_WIRE(1);

	cdna_nic_queue_enable(nic, A, 1, 0);
	tx_post_q(A, 1, b, 0x42);
	CHECK_EQ(cdna_nic_poll(nic), 0);
	CHECK_EQ(reap(&tq[A][1]->tx, st, RING), 0);
	CHECK_WIRE(1);
	cdna_nic_queue_enable(nic, A, 1, 1);
	CHECK_EQ(cdna_nic_poll(nic), 1);
	CHECK_ONE_ST(&tq[A][1]->tx, 0x42, 64, CDNA_ST_OK);
	CHECK_WIRE(2);
	CHECK_CTX(A, .tx_pkts = 2, .tx_bytes = 128);
	nic_down();
}

/* ---- the wire's frames, however built, delivered and freed whole ---- */

/* Frames the next wire RX burst brings, handed in by an RX callback. */
static struct rte_mbuf *wire_in[8];
static unsigned int nb_wire_in;

static uint16_t
wire_inject(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb,
	    uint16_t max, void *arg)
{
	unsigned int k = 0;

	(void)port;
	(void)queue;
	(void)arg;
	while (k < nb_wire_in && nb < max)
		pkts[nb++] = wire_in[k++];
	if (k != nb_wire_in)
		fatal("wire_inject: %u frames for a burst of %u", nb_wire_in, max);
	nb_wire_in = 0;
	return nb;
}

/* Frame f of len bytes in nseg mbufs of mp, chained. */
static struct rte_mbuf *
wire_frame(const uint8_t *f, uint32_t len, unsigned int nseg,
	   struct rte_mempool *mp)
{
	struct rte_mbuf *head = NULL, *m;
	uint32_t off = 0, part;
	unsigned int i;

	for (i = 0; i < nseg; i++) {
		part = i + 1 < nseg ? len / nseg : len - off;
		m = rte_pktmbuf_alloc(mp);
		if (m == NULL || rte_pktmbuf_append(m, (uint16_t)part) == NULL)
			fatal("wire_frame: mbuf of %u bytes", part);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), f + off, part);
		off += part;
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0)
			fatal("wire_frame: chain of %u", nseg);
	}
	return head;
}

/* How a frame the wire brings is built. */
enum wire_kind {
	W_PLAIN,	/* one direct segment of the NIC's pool, refcount 1 */
	W_CHAIN2,	/* two segments */
	W_CHAIN3,	/* three segments */
	W_SHARED,	/* refcount 2: the wire keeps a reference */
	W_CLONE,	/* an indirect mbuf onto a frame the test keeps */
	W_OTHER_POOL,	/* one direct segment of another pool */
};

#define OTHER_POOL_N	16u

/*
 * The NIC frees what the wire brings in bursts: frames in one direct
 * segment of refcount 1 and of one pool go back to it at once, any other
 * burst the general way. Each frame must reach the guest whole, and every
 * mbuf must go back exactly once, to its own pool: a chain's later
 * segments too, a shared frame and a clone's parent only by the
 * reference the NIC held (nic_down counts the NIC's pool, this case the
 * other one). The odd frame comes last in some rows, first in others.
 */
static void
test_wire_rx(void)
{
	static const struct {
		const char *name;
		enum wire_kind kind[3];
	} rows[] = {
		{ "three plain frames", { W_PLAIN, W_PLAIN, W_PLAIN } },
		{ "a two-segment chain among plain frames", { W_PLAIN, W_CHAIN2, W_PLAIN } },
		{ "a frame the wire holds a reference to, last", { W_PLAIN, W_PLAIN, W_SHARED } },
		{ "a clone (indirect) among plain frames", { W_PLAIN, W_CLONE, W_PLAIN } },
		{ "a frame of another pool, last", { W_PLAIN, W_PLAIN, W_OTHER_POOL } },
		{ "a frame of another pool, first", { W_OTHER_POOL, W_PLAIN, W_PLAIN } },
		{ "a chain and a shared frame", { W_CHAIN3, W_SHARED, W_PLAIN } },
	};
	static uint8_t f[3][400];
	const struct rte_eth_rxtx_callback *cb;
	struct rte_mempool *other;
	unsigned int r, k, rxb[3];

	other = rte_pktmbuf_pool_create("test_nic_other", OTHER_POOL_N, 0, 0,
					RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (other == NULL)
		fatal("second mbuf pool: %s", rte_strerror(rte_errno));
	for (r = 0; r < RTE_DIM(rows); r++) {
		struct rte_mbuf *kept[3] = { NULL, NULL, NULL }, *m;
		uint32_t len[3], bytes = 0;

		case_begin("wire rx: %s", rows[r].name);
		nic_up(32, 1, 0);
		cb = rte_eth_add_rx_callback(wire_port, 0, wire_inject, NULL);
		if (cb == NULL)
			fatal("RX callback: %s", rte_strerror(rte_errno));
		for (k = 0; k < 3; k++) {
			enum wire_kind w = rows[r].kind[k];

			len[k] = 100 + 97 * k + 13 * r;
			bytes += len[k];
			frame_fill(f[k], len[k], mac_ctx[B], mac_unknown, 10 * r + k);
			rxb[k] = hb_new(2048);
			rx_post(B, 0, rxb[k], 0x100 + k);
			m = wire_frame(f[k], len[k],
				       w == W_CHAIN2 ? 2 : w == W_CHAIN3 ? 3 : 1,
				       w == W_OTHER_POOL ? other : pool);
			if (w == W_SHARED) {
				rte_mbuf_refcnt_update(m, 1);
				kept[k] = m;
			} else if (w == W_CLONE) {
				kept[k] = m;
				m = rte_pktmbuf_clone(m, pool);
				if (m == NULL)
					fatal("rte_pktmbuf_clone");
			}
			if (nb_wire_in == RTE_DIM(wire_in))
				fatal("wire rx: more than %u frames waiting for the wire",
				      nb_wire_in);
			wire_in[nb_wire_in++] = m;
		}
		CHECK_EQ(cdna_nic_poll(nic), 3);

		{
			struct cdna_nic_status st[RING];

			CHECK_EQ(reap(&tq[B][0]->rx, st, RING), 3);
			for (k = 0; k < 3; k++) {
				CHECK_ST(st[k], 0x100 + k, len[k], CDNA_ST_OK);
				CHECK_EQ(hb_diff(rxb[k], f[k], len[k]), -1);
			}
		}
		CHECK_CTX(B, .rx_pkts = 3, .rx_bytes = bytes);
		CHECK_NIC(.wire_rx = 3);
		for (k = 0; k < 3; k++) {
			if (kept[k] == NULL)
				continue;
			/* The NIC let go of its reference, and only that. */
			CHECK_EQ(rte_mbuf_refcnt_read(kept[k]), 1);
			CHECK(memcmp(rte_pktmbuf_mtod(kept[k], uint8_t *), f[k],
				     len[k]) == 0);
			rte_pktmbuf_free(kept[k]);
		}
		if (rte_eth_remove_rx_callback(wire_port, 0, cb) != 0)
			fatal("remove RX callback");
		/* Removed, and this thread the only one that ran it: freed. */
		rte_free((void *)(uintptr_t)cb);
		/* nic_down: every mbuf of the NIC's pool back, none twice. */
		nic_down();
		CHECK_EQ(rte_mempool_avail_count(other), OTHER_POOL_N);
	}
	rte_mempool_free(other);
}

int
main(int argc, char **argv)
{
	char prefix[64], rundir[PATH_MAX];
	char *eal_argv[] = {
		argv[0], "--no-huge", "-m", "128", "--no-pci",
		"--file-prefix", prefix, "--lcores", "0@0",
		"--log-level=lib.eal:error", "--vdev", "net_null0,no-rx=1",
		NULL,
	};
	int eal_argc = (int)RTE_DIM(eal_argv) - 1;
	unsigned int c;

	(void)argc;
	if (geteuid() != 0) {
		printf("test_nic: SKIP: the DPDK EAL needs root\n");
		return 77;
	}
	snprintf(prefix, sizeof(prefix), "cdna-test-nic-%d", (int)getpid());
	case_begin("setup");
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		int e = rte_errno;

		if (e == EACCES || e == EPERM) {
			printf("test_nic: SKIP: rte_eal_init: %s\n",
			       rte_strerror(e));
			return 77;
		}
		fprintf(stderr, "test_nic: rte_eal_init: %s\n", rte_strerror(e));
		return 1;
	}
	if (wire_setup() != 0)
		return 1;
	for (c = 0; c < NB_CTX; c++) {
		static const uint8_t base[6] = { 0x02, 0xcd, 0x4e, 0, 0, 0 };

		memcpy(mac_ctx[c], base, 6);
		mac_ctx[c][5] = (uint8_t)(c + 1);
	}

	if (cdna_dma_guard_init() != 0)
		fatal("cdna_dma_guard_init: %s", strerror(errno));
	test_fresh_status();
	test_events();
	test_switch();
	test_switch_table();
	test_wire_rx();
	test_queue_on_off();
	test_runt();
	test_nobuf();
	test_oversize();
	test_chain();
	test_chain_segs();
	test_xlate_fault();
	test_ctx_fault();
	test_flush();
	test_audit();
	test_fairness();
	test_mtu();
	test_passthrough();
	test_bad_device();

	rte_eth_dev_stop(wire_port);
	rte_eth_dev_close(wire_port);
	rte_mempool_free(pool);
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	runtime_dir_remove(rundir);
	printf("test_nic: %u cases, %u failed\n", cases, failed);
	return failed == 0 ? 0 : 1;
}
