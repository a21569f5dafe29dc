/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy attacks (policy): invalid use through two mappings of the same
 * memory (one file range registered twice, re-added while a DMA into it is
 * in flight, or registered by a second guest that was handed the fd), the
 * --max-guest-mem budget, MACs a guest may take, --spoof-check, and what a
 * promiscuous guest may see. Each row names the attack and the verdict; a
 * refusal must also leave its line in the vmm log, and wherever memory
 * could be aliased a real DMA pair proves that only one RX is ever in
 * flight on the same bytes.
 *
 * The group runs one vmm with --max-guest-mem 64 and then one with
 * --spoof-check, so that the default (no spoof check) is covered too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rogue.h"

#define OK	CDNA_ST_OK
#define BA	CDNA_ST_BAD_ADDRESS
#define K	1024u
#define M	(1024u * 1024u)

#define POL_MAX_MEM_MIB	64u

/* P's memfd: M at [0, 1 MiB), X at [1 MiB, +64 KiB), the rest unregistered. */
#define P_MEM		(4u * M)
#define P_M_OFF		0u
#define P_M_SZ		(1u * M)
#define P_X_OFF		(1u * M)
#define P_X_SZ		(64u * K)
#define P_TX_OFF	(768u * K)

/* Guest addresses nothing else uses: aliases of P's bytes would go here. */
#define ALIAS_GADDR	0x7e0000000000ull
#define BUDGET_GADDR	0x7c0000000000ull

struct pol {
	struct rg_guest *P;	/* owns the memory others try to alias */
	struct rg_guest *Q;	/* second guest, handed P's fd */
	struct rg_guest *B;	/* sender for the spoof rows */
	struct rg_guest *C;	/* sink for the spoof rows */
	struct rg_mem *pmem;
	uint32_t wire_uu;	/* unknown unicast in the wire input */
};

static struct pol pol;

static const uint8_t mac_unknown[6] = { 0x02, 0x99, 0x99, 0x99, 0x99, 0x01 };
static const uint8_t mac_wire_uu[6] = { 0x02, 0x99, 0x99, 0x99, 0x99, 0x02 };
static const uint8_t mac_wire_src[6] = { 0x02, 0x77, 0x77, 0x77, 0x77, 0x77 };
static const uint8_t mac_foreign[6] = { 0x02, 0x66, 0x66, 0x66, 0x66, 0x01 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint64_t
p_addr(uint64_t off)
{
	return (uintptr_t)pol.pmem->va + off;
}

/* 1 if a connected guest has MAC text ms (telemetry). */
static int
guest_with_mac(struct env *e, const char *ms)
{
	char out[4096], cmd[64], mac[32];
	const char *p;

	if (rg_tel(&e->v, "/cdna/guests", out, sizeof(out)) != 0)
		return 0;
	for (p = strchr(out, '['); p != NULL && *p != '\0' && *p != ']';) {
		char *end, rep[4096];
		unsigned long id = strtoul(p + 1, &end, 10);

		if (end == p + 1)
			break;
		snprintf(cmd, sizeof(cmd), "/cdna/guest,%lu", id);
		if (rg_tel(&e->v, cmd, rep, sizeof(rep)) == 0 &&
		    rg_json_str(rep, "mac", mac, sizeof(mac)) == 0 &&
		    strcmp(mac, ms) == 0)
			return 1;
		p = end;
	}
	return 0;
}

/* 1 if g received seq into one of its RX buffers. */
static int
got_at(const struct rg_guest *g, uint32_t seq)
{
	uint32_t c;

	if (g == NULL || g->rec == NULL || seq == 0)
		return 0;
	for (c = 0; c < g->ncookie; c++)
		if (g->rec[c].dir == RG_RX && g->rec[c].done &&
		    g->rec[c].seq == seq)
			return 1;
	return 0;
}

struct wire_cnt {
	uint32_t seq;
	uint32_t n;
};

static void
wire_cnt_fn(const uint8_t *pkt, uint32_t len, void *arg)
{
	struct wire_cnt *w = arg;

	if (rg_frame_match(pkt, len) == w->seq)
		w->n++;
}

/*
 * Times seq is in the wire capture, waiting up to ms for at least want.
 * The pcap PMD flushes its dump file per burst, so the capture is current.
 */
static uint32_t
wire_count(struct env *e, uint32_t seq, uint32_t want, int ms)
{
	uint64_t end = rg_now_ms() + (uint64_t)ms;
	struct wire_cnt w;

	for (;;) {
		w.seq = seq;
		w.n = 0;
		rg_pcap_read(e->v.wire_out, wire_cnt_fn, &w);
		if (w.n >= want || rg_now_ms() >= end)
			return w.n;
		rg_drain(10);
	}
}

/*
 * Like rg_send_frame with a source MAC of the caller's choice. The TX
 * cookie goes to *cookie so that its completion status can be checked.
 */
static uint32_t
send_src(struct rg_guest *g, const uint8_t dst[6], const uint8_t src[6],
	 uint32_t len, int forbidden, uint32_t *cookie)
{
	uint8_t frame[CDNA_MAX_FRAME_LEN];
	uint32_t slot, seq, c;
	uint64_t addr;

	if (g->tx_slot_cookie == NULL || len > g->tx_slotlen || !g->qok)
		return 0;
	slot = g->tx_slot++ % g->tx_nslot;
	c = g->tx_slot_cookie[slot];
	if (c != UINT32_MAX && rg_wait(g, c, RG_WAIT_MS) != 0)
		return 0;
	seq = rg_frame_new(dst, src, len, forbidden);
	if (seq == 0)
		return 0;
	rg_frame_build(seq, frame);
	addr = g->tx_base + (uint64_t)slot * g->tx_slotlen;
	rg_mem_write(addr, frame, len);
	c = rg_post(g, RG_TX, addr, len, 0, OK);
	if (c == UINT32_MAX)
		return 0;
	g->rec[c].seq = seq;
	g->tx_slot_cookie[slot] = c;
	rg_publish(g, RG_TX);
	*cookie = c;
	return seq;
}

/* Posts one RX buffer and waits until the mediator has taken it. */
static uint32_t
post_rx(struct rg_guest *g, uint64_t addr, uint32_t len, uint16_t expect)
{
	uint32_t c = rg_post(g, RG_RX, addr, len, 0, expect);

	rg_publish(g, RG_RX);
	rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
	return c;
}

/* Waits for an RX (or TX) completion and checks its status. */
static void
expect_status(struct rg_guest *g, uint32_t c, const char *what, char *why,
	      size_t len)
{
	const struct rg_rec *r;

	if (c == UINT32_MAX || c >= g->ncookie) {
		rg_append(why, len, "%s: could not post", what);
		return;
	}
	rg_wait(g, c, RG_WAIT_MS);
	r = &g->rec[c];
	if (!r->done || r->status != r->expect)
		rg_append(why, len, "%s: expected %s got %s", what,
		       rg_st_name(r->expect),
		       rg_st_name(r->done ? r->status : RG_ST_NONE));
}

static int
telemetry_u64(struct env *e, uint32_t id, const char *key, uint64_t *val)
{
	char cmd[64], out[4096];
	int r;

	snprintf(cmd, sizeof(cmd), "/cdna/guest,%u", id);
	r = rg_tel(&e->v, cmd, out, sizeof(out));
	if (r != 0)
		return r;
	return rg_json_u64(out, key, val);
}

/* ---- set-up ---- */

static int
setup_pq(struct env *e)
{
	char o[64];
	int r;

	pol.P = rg_guest_new("P");
	pol.Q = rg_guest_new("Q");
	if (pol.P == NULL || pol.Q == NULL)
		return -1;
	pol.pmem = rg_mem_new("P-mem", P_MEM, MFD_CLOEXEC);
	if (pol.pmem == NULL)
		return -1;
	pol.P->mem = pol.pmem;
	r = rg_connect(pol.P, e->v.sock);
	if (r == 0)
		r = rg_hello(pol.P, 1, NULL);
	if (r == 0)
		r = rg_region_add(pol.P, p_addr(P_M_OFF), P_M_SZ, pol.pmem->fd,
				  P_M_OFF, CDNA_PERM_KNOWN);
	if (r == 0)
		r = rg_region_add(pol.P, p_addr(P_X_OFF), P_X_SZ, pol.pmem->fd,
				  P_X_OFF, CDNA_PERM_KNOWN);
	if (r == 0)
		r = rg_queue_create(pol.P, 0, 256, 256);
	if (r == 0)
		r = rg_simple(pol.P, CDNA_MSG_START);
	if (r != 0) {
		rg_note("guest P: %s (%s)", env_outcome(r, o, sizeof(o)),
			pol.P->err);
		return -1;
	}
	rg_sender_init(pol.P, p_addr(P_TX_OFF), 16, 10240);
	r = rg_honest(pol.Q, e->v.sock, 256u * K, NULL, 64);
	if (r != 0) {
		rg_note("guest Q: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	return 0;
}

/* B sends, C sinks: the pair the spoof rows use on the current vmm. */
static int
setup_bc(struct env *e)
{
	char o[64];
	int r;

	rg_guest_close(pol.B);
	rg_guest_close(pol.C);
	pol.B = rg_guest_new("B");
	pol.C = rg_guest_new("C");
	if (pol.B == NULL || pol.C == NULL)
		return -1;
	r = rg_honest(pol.B, e->v.sock, 256u * K, NULL, 64);
	if (r == 0)
		r = rg_honest(pol.C, e->v.sock, 256u * K, NULL, 64);
	if (r != 0) {
		rg_note("guests B, C: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	rg_sender_init(pol.B, (uintptr_t)pol.B->mem->va, 16, 10240);
	if (rg_sink_start(pol.C, (uintptr_t)pol.C->mem->va, 32, 2048) != 0)
		rg_note("C: RX buffers not consumed in time");
	return 0;
}

/* ---- aliasing ---- */


/*
 * g registers bytes [off, off+size) of P's file at gaddr, bytes P already
 * has registered: refused, with the log line naming P. Whatever the answer,
 * the DMA pair aliasing would allow is then tried on file byte f: RX on P's
 * own buffer first (in flight), then RX on the alias. Only the first may be
 * accepted: claims are per mapping, so the second would be a second device
 * write racing on the same bytes.
 */
static void
alias_try(struct env *e, struct rg_guest *g, uint64_t gaddr, uint64_t size,
	  int fd, uint64_t off, uint64_t f, char *why, size_t len)
{
	char o[64], needle[96];
	uint32_t c1, c2;
	int r;

	snprintf(needle, sizeof(needle),
		 "of its file are already registered by guest %u", pol.P->id);
	r = rg_region_add(g, gaddr, size, fd, off, CDNA_PERM_KNOWN);
	if (!(r < 0))
		rg_append(why, len, "%s REGION_ADD at 0x%llx of file bytes [%llu, +%llu) P holds: expected a negative status got %s",
		       g->name, (unsigned long long)gaddr,
		       (unsigned long long)off, (unsigned long long)size,
		       env_outcome(r, o, sizeof(o)));
	else if (!rg_guest_said(&e->v, g->id, needle, NULL))
		rg_append(why, len, "expected last_refusal '...%s' in telemetry got another",
			  needle);
	c1 = post_rx(pol.P, p_addr(f), 2048, OK);
	c2 = post_rx(g, gaddr + (f - off), 2048, BA);
	expect_status(g, c2, "RX on the alias of an in-flight buffer", why, len);
	rg_send_frame(e->S, pol.P->mac, 300, 0);
	expect_status(pol.P, c1, "RX on P's own buffer", why, len);
}

static int
alias_two_addr(struct env *e, const struct dcase *c, char *why, size_t len)
{
	alias_try(e, pol.P, ALIAS_GADDR, 64u * K, pol.pmem->fd, P_M_OFF,
		  P_M_OFF + 8u * K, why, len);
	return why[0] != '\0' ? -1 : 0;
}

static int
alias_overlap(struct env *e, const struct dcase *c, char *why, size_t len)
{
	/* Last page of M and first page of X, at an address of its own. */
	alias_try(e, pol.P, ALIAS_GADDR + 16u * M, 8u * K, pol.pmem->fd,
		  P_X_OFF - 4u * K, P_X_OFF + K, why, len);
	return why[0] != '\0' ? -1 : 0;
}

/* The check is per byte: bytes of the same file nobody holds are fine. */
static int
alias_disjoint(struct env *e, const struct dcase *c, char *why, size_t len)
{
	const uint64_t off = 2u * M, sz = 64u * K;
	uint32_t ck;
	char o[64];
	int r;

	r = rg_region_add(pol.P, p_addr(off), sz, pol.pmem->fd, off,
			  CDNA_PERM_KNOWN);
	if (r != 0) {
		rg_append(why, len, "REGION_ADD of unregistered bytes of the same file: expected status 0 got %s",
		       env_outcome(r, o, sizeof(o)));
		return -1;
	}
	ck = post_rx(pol.P, p_addr(off), 2048, OK);
	rg_send_frame(e->S, pol.P->mac, 300, 0);
	expect_status(pol.P, ck, "RX into the new region", why, len);
	r = rg_region_del(pol.P, p_addr(off), sz);
	if (r != 0)
		rg_append(why, len, "REGION_DEL: expected status 0 got %s",
		       env_outcome(r, o, sizeof(o)));
	return why[0] != '\0' ? -1 : 0;
}

/*
 * REGION_DEL of X with an RX in flight keeps X mapped until the DMA is
 * done; adding its bytes again meanwhile (at the same or another address)
 * would give them a second, empty claim map.
 */
static int
alias_readd_inflight(struct env *e, const struct dcase *c, char *why,
		     size_t len)
{
	struct rg_guest *P = pol.P;
	const uint64_t x = p_addr(P_X_OFF);
	char o[64], needle[96];
	uint32_t c1, c2, c3;
	uint64_t ref0 = 0, ref1 = 0;
	int r;

	snprintf(needle, sizeof(needle),
		 "of its file are already registered by guest %u", P->id);
	c1 = post_rx(P, x, 2048, OK);
	rg_drain(10);
	if (P->rec[c1].done) {
		rg_append(why, len, "RX into X: expected it in flight got %s",
		       rg_st_name(P->rec[c1].status));
		return -1;
	}
	r = rg_region_del(P, x, P_X_SZ);
	if (r != 0)
		rg_append(why, len, "REGION_DEL of X with an RX in flight: expected status 0 got %s",
		       env_outcome(r, o, sizeof(o)));
	rg_guest_said(&e->v, P->id, needle, &ref0);
	r = rg_region_add(P, x, P_X_SZ, pol.pmem->fd, P_X_OFF, CDNA_PERM_KNOWN);
	if (!(r < 0))
		rg_append(why, len, "REGION_ADD of X again, DMA in flight: expected a negative status got %s",
		       env_outcome(r, o, sizeof(o)));
	r = rg_region_add(P, ALIAS_GADDR + 32u * M, P_X_SZ, pol.pmem->fd,
			  P_X_OFF, CDNA_PERM_KNOWN);
	if (!(r < 0))
		rg_append(why, len, "REGION_ADD of X's bytes at another address, DMA in flight: expected a negative status got %s",
		       env_outcome(r, o, sizeof(o)));
	if (!rg_guest_said(&e->v, P->id, needle, &ref1) || ref1 - ref0 != 2)
		rg_append(why, len, "expected two refusals, the last '...%s', in telemetry got %llu",
			  needle, (unsigned long long)(ref1 - ref0));
	/* The same bytes, through both names: neither may take a second RX. */
	c2 = post_rx(P, x, 2048, BA);
	expect_status(P, c2, "second RX on the in-flight buffer", why, len);
	c2 = post_rx(P, ALIAS_GADDR + 32u * M, 2048, BA);
	expect_status(P, c2, "RX on the other address of the in-flight buffer",
		      why, len);
	rg_send_frame(e->S, P->mac, 300, 0);
	expect_status(P, c1, "the in-flight RX", why, len);
	if (why[0] != '\0')
		return -1;
	/* Its DMA done and reclaimed, the bytes are free again. */
	r = rg_region_add(P, x, P_X_SZ, pol.pmem->fd, P_X_OFF, CDNA_PERM_KNOWN);
	if (r != 0) {
		rg_append(why, len, "REGION_ADD of X after the RX completed: expected status 0 got %s",
		       env_outcome(r, o, sizeof(o)));
		return -1;
	}
	c3 = post_rx(P, x + 4u * K, 2048, OK);
	rg_send_frame(e->S, P->mac, 300, 0);
	expect_status(P, c3, "RX into X re-added", why, len);
	return why[0] != '\0' ? -1 : 0;
}

/* Guest P hands its memfd to guest Q over a socket, as a peer process would. */
static int
alias_other_guest(struct env *e, const struct dcase *c, char *why,
		  size_t len)
{
	int sv[2], fds[1], nfds = 1, n;
	char b = 'P';

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	n = rg_send_raw(sv[0], &b, 1, &pol.pmem->fd, 1);
	if (n == 0)
		n = rg_recv_raw(sv[1], &b, 1, fds, &nfds, 1000);
	close(sv[0]);
	close(sv[1]);
	if (n != 1 || nfds != 1) {
		rg_append(why, len, "passing the memfd between the guests failed");
		return -1;
	}
	/* P's region M, at the same address and at another one. */
	alias_try(e, pol.Q, p_addr(P_M_OFF), P_M_SZ, fds[0], P_M_OFF,
		  P_M_OFF + 16u * K, why, len);
	alias_try(e, pol.Q, ALIAS_GADDR, 8u * K, fds[0], P_X_OFF - 4u * K,
		  P_X_OFF + K, why, len);
	close(fds[0]);
	if (pol.Q->nerr != 0)
		rg_append(why, len, "Q: %s", pol.Q->err);
	return why[0] != '\0' ? -1 : 0;
}

/* ---- --max-guest-mem ---- */

static int
sparse_memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A guest with the whole budget registered: two 32 MiB regions of big. */
static struct rg_guest *
budget_guest(struct env *e, int big, char *why, size_t len)
{
	const uint64_t half = (POL_MAX_MEM_MIB / 2) * (uint64_t)M;
	struct rg_guest *g = rg_guest_new("budget");
	char o[64];
	int r;

	if (g == NULL)
		return NULL;
	r = rg_connect(g, e->v.sock);
	if (r == 0)
		r = rg_hello(g, 1, NULL);
	if (r == 0)
		r = rg_region_add(g, BUDGET_GADDR, half, big, 0, CDNA_PERM_KNOWN);
	/* Exactly the budget: allowed. */
	if (r == 0)
		r = rg_region_add(g, BUDGET_GADDR + half, half, big, half,
				  CDNA_PERM_KNOWN);
	if (r != 0) {
		rg_append(why, len, "registering %u MiB in two regions: expected status 0 got %s",
		       POL_MAX_MEM_MIB, env_outcome(r, o, sizeof(o)));
		rg_guest_close(g);
		return NULL;
	}
	return g;
}

static int
budget_check(struct env *e, int r, const char *what, uint32_t id, char *why,
	     size_t len)
{
	char o[64];

	if (r != -ENOSPC) {
		rg_append(why, len, "%s: expected -ENOSPC got %s", what,
		       env_outcome(r, o, sizeof(o)));
		return -1;
	}
	if (!rg_guest_said(&e->v, id, "--max-guest-mem", NULL)) {
		rg_append(why, len, "%s: expected last_refusal naming --max-guest-mem in telemetry got another",
		       what);
		return -1;
	}
	return 0;
}

static int
budget_sum(struct env *e, const struct dcase *c, char *why, size_t len)
{
	int big = sparse_memfd("budget-big", POL_MAX_MEM_MIB * (uint64_t)M);
	int small = sparse_memfd("budget-small", 4u * K);
	struct rg_guest *g = NULL;

	if (big < 0 || small < 0) {
		rg_append(why, len, "memfd: %s", strerror(errno));
		goto out;
	}
	g = budget_guest(e, big, why, len);
	if (g == NULL)
		goto out;
	budget_check(e, rg_region_add(g, BUDGET_GADDR + 128u * M, 4u * K,
				      small, 0, CDNA_PERM_KNOWN),
		     "one page past the budget", g->id, why, len);
	rg_simple(g, CDNA_MSG_BYE);
	rg_guest_close(g);
out:
	if (big >= 0)
		close(big);
	if (small >= 0)
		close(small);
	return why[0] != '\0' ? -1 : 0;
}

static int
budget_del(struct env *e, const struct dcase *c, char *why, size_t len)
{
	const uint64_t half = (POL_MAX_MEM_MIB / 2) * (uint64_t)M;
	int big = sparse_memfd("budget-big", POL_MAX_MEM_MIB * (uint64_t)M);
	int small = sparse_memfd("budget-small", 1u * M);
	const uint64_t sg = BUDGET_GADDR + 128u * M;
	struct rg_guest *g = NULL;
	char o[64];
	int r;

	if (big < 0 || small < 0) {
		rg_append(why, len, "memfd: %s", strerror(errno));
		goto out;
	}
	g = budget_guest(e, big, why, len);
	if (g == NULL)
		goto out;
	r = rg_region_del(g, BUDGET_GADDR + half, half);
	if (r == 0)
		r = rg_region_add(g, sg, 1u * M, small, 0, CDNA_PERM_KNOWN);
	if (r != 0) {
		rg_append(why, len, "REGION_DEL of 32 MiB then REGION_ADD of 1 MiB: expected status 0 got %s",
		       env_outcome(r, o, sizeof(o)));
		goto bye;
	}
	/* 33 MiB registered: the 32 MiB removed no longer fits. */
	if (budget_check(e, rg_region_add(g, BUDGET_GADDR + half, half, big,
					  half, CDNA_PERM_KNOWN),
			 "32 MiB back with 33 MiB registered", g->id, why,
			 len) != 0)
		goto bye;
	r = rg_region_del(g, sg, 1u * M);
	if (r == 0)
		r = rg_region_add(g, BUDGET_GADDR + half, half, big, half,
				  CDNA_PERM_KNOWN);
	if (r != 0)
		rg_append(why, len, "REGION_DEL of 1 MiB then REGION_ADD of 32 MiB: expected status 0 got %s",
		       env_outcome(r, o, sizeof(o)));
bye:
	rg_simple(g, CDNA_MSG_BYE);
	rg_guest_close(g);
out:
	if (big >= 0)
		close(big);
	if (small >= 0)
		close(small);
	return why[0] != '\0' ? -1 : 0;
}

/*
 * 1 TiB of sparse memfd costs the guest nothing; mapping it and shadowing
 * it with a claim map must not cost the vmm (or the other guests) either.
 */
static int
budget_sparse(struct env *e, const struct dcase *c, char *why, size_t len)
{
	const uint64_t tib = 1ull << 40;
	struct rg_guest *g = rg_guest_new("sparse");
	struct cdna_msg_stats st;
	int fd = sparse_memfd("sparse-1tib", tib);
	uint64_t t0, dt;
	char o[64];
	int r;

	if (g == NULL || fd < 0) {
		rg_append(why, len, "1 TiB sparse memfd: %s", strerror(errno));
		goto out;
	}
	r = rg_connect(g, e->v.sock);
	if (r == 0)
		r = rg_hello(g, 1, NULL);
	if (r != 0) {
		rg_append(why, len, "HELLO: %s", env_outcome(r, o, sizeof(o)));
		goto out;
	}
	t0 = rg_now_ms();
	r = rg_region_add(g, BUDGET_GADDR, tib, fd, 0, CDNA_PERM_KNOWN);
	dt = rg_now_ms() - t0;
	budget_check(e, r, "REGION_ADD of 1 TiB", g->id, why, len);
	if (dt > 1000)
		rg_append(why, len, "REGION_ADD of 1 TiB: expected a reply within 1000 ms got %llu ms",
		       (unsigned long long)dt);
	t0 = rg_now_ms();
	r = rg_stats(e->S, &st);
	dt = rg_now_ms() - t0;
	if (r != 0 || dt > 1000)
		rg_append(why, len, "honest guest's STATS after it: expected status 0 within 1000 ms got %s in %llu ms",
		       env_outcome(r, o, sizeof(o)), (unsigned long long)dt);
	rg_simple(g, CDNA_MSG_BYE);
out:
	rg_guest_close(g);
	if (fd >= 0)
		close(fd);
	return why[0] != '\0' ? -1 : 0;
}

/* ---- MAC policy ---- */

/*
 * A connection that never says HELLO holds a guest slot; the vmm drops it
 * after 5 s. Waits up to 8 s for the close, and checks the reason logged.
 */
static int
hello_timeout(struct env *e, const struct dcase *c, char *why, size_t len)
{
	static const char needle[] = "no HELLO within 5 s";
	struct rg_guest *g = rg_guest_new("silent");
	uint8_t buf[256];
	uint64_t t0;
	uint32_t before;
	int n, nfds = 0;

	if (g == NULL)
		return -1;
	before = rg_gone_said(&e->v, "reason", needle);
	if (rg_connect(g, e->v.sock) != 0) {
		rg_append(why, len, "connect failed");
		rg_guest_close(g);
		return -1;
	}
	t0 = rg_now_ms();
	n = rg_recv_raw(g->sock, buf, sizeof(buf), NULL, &nfds, 8000);
	if (n != 0)
		rg_append(why, len, "expected the vmm to close the silent connection got %d",
		       n);
	else if (rg_now_ms() - t0 < 4000)
		rg_append(why, len, "closed after %" PRIu64 " ms, before the 5 s grace",
		       rg_now_ms() - t0);
	else if (rg_gone_said(&e->v, "reason", needle) == before)
		rg_append(why, len, "expected a guest gone with reason '%s' in telemetry got none",
			  needle);
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

static int
mac_hello_global(struct env *e, const struct dcase *c, char *why,
		 size_t len)
{
	static const uint8_t macs[2][6] = {
		{ 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 },
		{ 0xa8, 0xa1, 0x59, 0x00, 0x00, 0x01 },	/* bit 1 of a8 clear */
	};
	char o[64], needle[96], ms[20];
	uint32_t before;
	uint64_t end;
	int i, r;

	for (i = 0; i < 2; i++) {
		struct rg_guest *g = rg_guest_new("global-mac");

		if (g == NULL)
			return -1;
		snprintf(ms, sizeof(ms), "%02x:%02x:%02x:%02x:%02x:%02x",
			 macs[i][0], macs[i][1], macs[i][2], macs[i][3],
			 macs[i][4], macs[i][5]);
		snprintf(needle, sizeof(needle),
			 "HELLO refused: MAC %s is not locally administered", ms);
		before = rg_gone_said(&e->v, "last_refusal", needle);
		r = rg_connect(g, e->v.sock);
		if (r == 0)
			r = rg_hello(g, 1, macs[i]);
		if (r != -EPERM)
			rg_append(why, len, "HELLO with %s: expected -EPERM got %s",
			       ms, env_outcome(r, o, sizeof(o)));
		if (guest_with_mac(e, ms))
			rg_append(why, len, "expected no guest connected with %s got one",
			       ms);
		rg_guest_close(g);
		/* Its refusal is said in its record once it has gone. */
		end = rg_now_ms() + 1000;
		while (r == -EPERM &&
		       rg_gone_said(&e->v, "last_refusal", needle) == before &&
		       rg_now_ms() < end)
			rg_drain(10);
		if (r == -EPERM &&
		    rg_gone_said(&e->v, "last_refusal", needle) == before)
			rg_append(why, len, "expected last_refusal '%s' in /cdna/gone got none",
				  needle);
	}
	return why[0] != '\0' ? -1 : 0;
}

static int
mac_set_global(struct env *e, const struct dcase *c, char *why, size_t len)
{
	static const uint8_t gmac[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x56 };
	static const char *needle =
		"SET_MAC refused: 00:11:22:33:44:56 is not locally administered";
	struct rg_guest *g = rg_guest_new("setmac");
	uint32_t seq, i;
	char o[64];
	int r;

	if (g == NULL)
		return -1;
	r = rg_honest(g, e->v.sock, 128u * K, NULL, 64);
	if (r != 0) {
		rg_append(why, len, "set-up: %s", env_outcome(r, o, sizeof(o)));
		goto out;
	}
	for (i = 0; i < 4; i++)
		rg_post(g, RG_RX, (uintptr_t)g->mem->va + i * 4096u, 2048, 0, OK);
	rg_publish(g, RG_RX);
	rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
	r = rg_set_mac(g, gmac);
	if (r != -EPERM)
		rg_append(why, len, "SET_MAC to 00:11:22:33:44:56: expected -EPERM got %s",
		       env_outcome(r, o, sizeof(o)));
	else if (!rg_guest_said(&e->v, g->id, needle, NULL))
		rg_append(why, len, "expected last_refusal '%s' in telemetry got another",
			  needle);
	/* Frames for that MAC are not the guest's; its own MAC still is. */
	seq = rg_send_frame(e->S, gmac, 200, 0);
	if (rg_ping(e->S, g, 200) != 0)
		rg_append(why, len, "expected frames to the guest's own MAC to arrive got none");
	if (got_at(g, seq))
		rg_append(why, len, "expected the frame to 00:11:22:33:44:56 not at the guest got it");
	if (g->nerr != 0)
		rg_append(why, len, "%s", g->err);
	rg_simple(g, CDNA_MSG_BYE);
out:
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

static int
mac_local_ok(struct env *e, const struct dcase *c, char *why, size_t len)
{
	static const uint8_t lmac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t lmac2[6] = { 0x06, 0x11, 0x22, 0x33, 0x44, 0x57 };
	struct rg_guest *g = rg_guest_new("local-mac");
	char o[64];
	int r;

	if (g == NULL)
		return -1;
	r = rg_honest(g, e->v.sock, 128u * K, lmac, 64);
	if (r != 0 || memcmp(g->mac, lmac, 6) != 0) {
		rg_append(why, len, "HELLO with 02:11:22:33:44:55: expected status 0 and that MAC got %s",
		       env_outcome(r, o, sizeof(o)));
		goto out;
	}
	post_rx(g, (uintptr_t)g->mem->va, 2048, OK);
	if (rg_ping(e->S, g, 200) != 0)
		rg_append(why, len, "expected a frame to 02:11:22:33:44:55 to arrive got none");
	r = rg_set_mac(g, lmac2);
	if (r != 0) {
		rg_append(why, len, "SET_MAC to 06:11:22:33:44:57: expected status 0 got %s",
		       env_outcome(r, o, sizeof(o)));
		goto bye;
	}
	memcpy(g->mac, lmac2, 6);
	post_rx(g, (uintptr_t)g->mem->va + 4096u, 2048, OK);
	if (rg_ping(e->S, g, 200) != 0)
		rg_append(why, len, "expected a frame to 06:11:22:33:44:57 to arrive got none");
	if (g->nerr != 0)
		rg_append(why, len, "%s", g->err);
bye:
	rg_simple(g, CDNA_MSG_BYE);
out:
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

/* ---- source MAC spoofing ---- */

static int
spoofed(struct env *e, struct rg_guest *g, uint64_t *v, char *why,
	size_t len)
{
	int r = telemetry_u64(e, g->id, "tx_spoofed", v);

	if (r != 0)
		rg_append(why, len, "telemetry /cdna/guest,%u tx_spoofed: %s",
		       g->id, strerror(-r));
	return r;
}

/* Waits until seq has reached g. */
static int
wait_at(struct rg_guest *g, uint32_t seq, int ms)
{
	uint64_t end = rg_now_ms() + (uint64_t)ms;

	while (!got_at(g, seq) && rg_now_ms() < end)
		rg_drain(5);
	return got_at(g, seq) ? 0 : -1;
}

/* Without --spoof-check a foreign source MAC goes through, as documented. */
static int
spoof_default(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint64_t s0, s1;
	uint32_t seq, ck = UINT32_MAX;

	if (spoofed(e, pol.B, &s0, why, len) != 0)
		return -1;
	seq = send_src(pol.B, pol.C->mac, mac_foreign, 200, 0, &ck);
	expect_status(pol.B, ck, "TX with a foreign source MAC", why, len);
	if (wait_at(pol.C, seq, RG_WAIT_MS) != 0)
		rg_append(why, len, "expected the frame at C (no --spoof-check) got none");
	if (spoofed(e, pol.B, &s1, why, len) == 0 && s1 != s0)
		rg_append(why, len, "tx_spoofed: expected unchanged got delta %llu",
		       (unsigned long long)(s1 - s0));
	return why[0] != '\0' ? -1 : 0;
}

/*
 * With --spoof-check: a broadcast and a unicast to C, both with a foreign
 * source MAC, each completing OK and counted once, reach no guest and not
 * the wire. A broadcast with B's own MAC sent after them is the barrier:
 * once it is at C, at L and on the wire, the earlier ones would be too.
 */
static int
spoof_foreign(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint32_t seq[2], ck[2] = { UINT32_MAX, UINT32_MAX }, bar, bck = 0;
	const uint8_t *dst[2] = { mac_bcast, pol.C->mac };
	uint64_t s0, s1;
	int i;

	for (i = 0; i < 2; i++) {
		if (spoofed(e, pol.B, &s0, why, len) != 0)
			return -1;
		seq[i] = send_src(pol.B, dst[i], mac_foreign, 200, 1, &ck[i]);
		expect_status(pol.B, ck[i], i == 0 ?
			      "spoofed broadcast TX" : "spoofed unicast TX",
			      why, len);
		if (spoofed(e, pol.B, &s1, why, len) == 0 && s1 - s0 != 1)
			rg_append(why, len, "%s: expected tx_spoofed up by 1 got %llu -> %llu",
			       i == 0 ? "broadcast" : "unicast to C",
			       (unsigned long long)s0, (unsigned long long)s1);
	}
	bar = send_src(pol.B, mac_bcast, pol.B->mac, 200, 0, &bck);
	if (wait_at(pol.C, bar, RG_WAIT_MS) != 0 ||
	    wait_at(e->L, bar, RG_WAIT_MS) != 0 ||
	    wire_count(e, bar, 1, RG_WAIT_MS) != 1)
		rg_append(why, len, "own-source broadcast after them: expected at C, at L and on the wire once got %s, %s, %u",
		       got_at(pol.C, bar) ? "C" : "not C",
		       got_at(e->L, bar) ? "L" : "not L", wire_count(e, bar, 0, 0));
	for (i = 0; i < 2; i++) {
		uint32_t w = wire_count(e, seq[i], 0, 0);

		if (rg_frame_seen_count(seq[i]) != 0 || w != 0)
			rg_append(why, len, "spoofed %s: expected at no guest and not on the wire got %u arrivals, %u on the wire",
			       i == 0 ? "broadcast" : "unicast",
			       rg_frame_seen_count(seq[i]), w);
	}
	return why[0] != '\0' ? -1 : 0;
}

static int
spoof_own(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint32_t seq[2], ck[2] = { UINT32_MAX, UINT32_MAX };
	uint64_t s0, s1;

	if (spoofed(e, pol.B, &s0, why, len) != 0)
		return -1;
	seq[0] = send_src(pol.B, pol.C->mac, pol.B->mac, 200, 0, &ck[0]);
	seq[1] = send_src(pol.B, mac_unknown, pol.B->mac, 200, 0, &ck[1]);
	expect_status(pol.B, ck[0], "TX to C", why, len);
	expect_status(pol.B, ck[1], "TX to the wire", why, len);
	if (wait_at(pol.C, seq[0], RG_WAIT_MS) != 0)
		rg_append(why, len, "expected the frame at C got none");
	if (wire_count(e, seq[1], 1, RG_WAIT_MS) != 1)
		rg_append(why, len, "expected the frame to an unknown MAC on the wire once got %u",
		       wire_count(e, seq[1], 0, 0));
	if (spoofed(e, pol.B, &s1, why, len) == 0 && s1 != s0)
		rg_append(why, len, "tx_spoofed: expected unchanged got delta %llu",
		       (unsigned long long)(s1 - s0));
	return why[0] != '\0' ? -1 : 0;
}

/* ---- promiscuous guests ---- */

/*
 * L is promiscuous. What S sends to a MAC no guest has goes to the wire
 * only; the broadcast S sends next is the barrier that L has had its
 * chance to see it.
 */
static int
promisc_uu_guest(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint32_t uu, bar, w;

	uu = rg_send_frame(e->S, mac_unknown, 300, 0);
	bar = rg_send_frame(e->S, mac_bcast, 300, 0);
	if (wait_at(e->L, bar, RG_WAIT_MS) != 0)
		rg_append(why, len, "barrier broadcast: expected at L got none");
	if (got_at(e->L, uu) || rg_frame_seen_count(uu) != 0)
		rg_append(why, len, "unknown unicast from S: expected at no guest got %u arrivals%s",
		       rg_frame_seen_count(uu),
		       got_at(e->L, uu) ? " (at promiscuous L)" : "");
	w = wire_count(e, uu, 1, RG_WAIT_MS);
	if (w != 1)
		rg_append(why, len, "unknown unicast from S: expected on the wire once got %u",
		       w);
	return why[0] != '\0' ? -1 : 0;
}

static int
promisc_bcast_guest(struct env *e, const struct dcase *c, char *why,
		    size_t len)
{
	uint32_t b = rg_send_frame(e->S, mac_bcast, 300, 0), w;

	if (wait_at(e->L, b, RG_WAIT_MS) != 0)
		rg_append(why, len, "broadcast from S: expected at promiscuous L got none");
	w = wire_count(e, b, 1, RG_WAIT_MS);
	if (w != 1)
		rg_append(why, len, "broadcast from S: expected on the wire once got %u",
		       w);
	return why[0] != '\0' ? -1 : 0;
}

/* The wire input holds one frame to a MAC no guest has. */
static int
promisc_uu_wire(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint32_t w;

	if (wait_at(e->L, pol.wire_uu, RG_WAIT_MS) != 0)
		rg_append(why, len, "unknown unicast from the wire: expected at promiscuous L got none");
	if (rg_frame_seen_count(pol.wire_uu) != 1)
		rg_append(why, len, "unknown unicast from the wire: expected one arrival (L) got %u",
		       rg_frame_seen_count(pol.wire_uu));
	w = wire_count(e, pol.wire_uu, 0, 0);
	if (w != 0)
		rg_append(why, len, "unknown unicast from the wire: expected never sent back to the wire got %u",
		       w);
	return why[0] != '\0' ? -1 : 0;
}

static const struct dcase policy_cases[] = {
	{ "alias-same-bytes-two-addresses",
	  "P registers bytes [0, 64K) of its memfd again at another guest address; RX on both names",
	  "REGION_ADD refused, logged 'already registered by guest P'; RX on the alias BAD_ADDRESS, the original OK",
	  NULL, alias_two_addr, 0, { { 0 } } },
	{ "alias-overlapping-bytes",
	  "P registers 8K of its memfd straddling its regions M and X at another address; RX on both names",
	  "REGION_ADD refused and logged; RX on the alias BAD_ADDRESS, the original OK",
	  NULL, alias_overlap, 0, { { 0 } } },
	{ "alias-disjoint-bytes-same-file",
	  "P registers bytes of its memfd no region holds (control)",
	  "REGION_ADD 0; RX into it OK with a frame; REGION_DEL 0",
	  NULL, alias_disjoint, 0, { { 0 } } },
	{ "alias-readd-while-rx-in-flight",
	  "RX in flight in X, REGION_DEL X, REGION_ADD of X's bytes at the same and at another address, RX on both",
	  "both adds refused and logged and both RX BAD_ADDRESS while the DMA is in flight; once a frame fills it, X re-added and RX into it OK",
	  NULL, alias_readd_inflight, 0, { { 0 } } },
	{ "alias-fd-passed-to-other-guest",
	  "P passes its memfd to Q over a socket; Q registers P's region M, and bytes straddling M|X, RX on each",
	  "both refused, logged as registered by guest P; Q's RX BAD_ADDRESS, P's OK",
	  NULL, alias_other_guest, 0, { { 0 } } },
	{ "mem-budget-sum",
	  "with --max-guest-mem 64: two 32 MiB regions, then one page more",
	  "64 MiB accepted; the page -ENOSPC, logged naming --max-guest-mem",
	  NULL, budget_sum, 0, { { 0 } } },
	{ "mem-budget-del-frees",
	  "budget full; REGION_DEL 32 MiB, add 1 MiB, add the 32 MiB back, delete the 1 MiB, add the 32 MiB",
	  "0, 0, -ENOSPC (logged), 0, 0",
	  NULL, budget_del, 0, { { 0 } } },
	{ "mem-budget-sparse-1tib",
	  "REGION_ADD of a 1 TiB sparse memfd, then the sender's STATS",
	  "-ENOSPC within 1 s, logged; STATS answered within 1 s",
	  NULL, budget_sparse, 0, { { 0 } } },
	{ "hello-timeout",
	  "connect and say nothing",
	  "the vmm closes the connection after 5 s and logs why",
	  NULL, hello_timeout, 0, { { 0 } } },
	{ "mac-hello-global",
	  "HELLO asking for 00:11:22:33:44:55 and a8:a1:59:00:00:01 (globally administered)",
	  "-EPERM, logged 'not locally administered'; no guest connected with it",
	  NULL, mac_hello_global, 0, { { 0 } } },
	{ "mac-set-global",
	  "SET_MAC to 00:11:22:33:44:56, then frames to it and to the guest's MAC",
	  "-EPERM, logged; the guest keeps its MAC and does not get the other's frames",
	  NULL, mac_set_global, 0, { { 0 } } },
	{ "mac-local-accepted",
	  "HELLO with 02:11:22:33:44:55, SET_MAC to 06:11:22:33:44:57 (control)",
	  "both 0; frames to each MAC arrive",
	  NULL, mac_local_ok, 0, { { 0 } } },
	{ "spoof-default-off",
	  "without --spoof-check, B sends C a frame with a foreign source MAC",
	  "TX OK, the frame at C (documented default), tx_spoofed unchanged",
	  NULL, spoof_default, 0, { { 0 } } },
	{ "promisc-unknown-unicast-from-guest",
	  "S sends to a MAC no guest has while L is promiscuous",
	  "on the wire once, at no guest (not at L)",
	  NULL, promisc_uu_guest, 0, { { 0 } } },
	{ "promisc-broadcast-from-guest",
	  "S sends a broadcast while L is promiscuous",
	  "at L, and on the wire once",
	  NULL, promisc_bcast_guest, 0, { { 0 } } },
	{ "promisc-unknown-unicast-from-wire",
	  "the wire delivers a frame to a MAC no guest has",
	  "at promiscuous L only, never back to the wire",
	  NULL, promisc_uu_wire, 0, { { 0 } } },
};

static const struct dcase spoof_cases[] = {
	{ "spoof-check-foreign-source",
	  "with --spoof-check, B sends a broadcast and a unicast to C with a foreign source MAC",
	  "each TX OK and tx_spoofed up by one; neither at C, at L nor on the wire",
	  NULL, spoof_foreign, 0, { { 0 } } },
	{ "spoof-check-own-source",
	  "with --spoof-check, B sends to C and to an unknown MAC with its own source MAC",
	  "TX OK; at C and on the wire; tx_spoofed unchanged",
	  NULL, spoof_own, 0, { { 0 } } },
};

static void
pol_close(struct env *e)
{
	rg_guest_close(pol.P);
	rg_guest_close(pol.Q);
	rg_guest_close(pol.B);
	rg_guest_close(pol.C);
	rg_guest_close(e->S);
	rg_guest_close(e->L);
	pol.P = pol.Q = pol.B = pol.C = NULL;
	e->S = e->L = NULL;
}

int
group_policy(struct env *e)
{
	static char mib[16];

	snprintf(mib, sizeof(mib), "%u", POL_MAX_MEM_MIB);
	e->v.extra[e->v.nextra++] = "--max-guest-mem";
	e->v.extra[e->v.nextra++] = mib;
	pol.wire_uu = rg_frame_new(mac_wire_uu, mac_wire_src, 200, 0);
	if (rg_pcap_write(e->v.wire_in, &pol.wire_uu, 1) != 0 ||
	    env_up(e, 1) != 0 || setup_pq(e) != 0 || setup_bc(e) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	run_dcases(e, policy_cases,
		   sizeof(policy_cases) / sizeof(policy_cases[0]));
	env_down(e);
	pol_close(e);
	/* A second vmm: spoof checking is an option, off above. */
	e->v.nextra = 0;
	e->v.extra[e->v.nextra++] = "--spoof-check";
	if (rg_pcap_write(e->v.wire_in, NULL, 0) != 0 || env_up(e, 1) != 0 ||
	    setup_bc(e) != 0) {
		env_fail(e, "setup", "expected the --spoof-check vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	run_dcases(e, spoof_cases, sizeof(spoof_cases) / sizeof(spoof_cases[0]));
	env_down(e);
	pol_close(e);
	return 0;
}
