/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One guest must never crash, starve or out-resource the vmm:
 *   hard      regions deleted with DMA in flight count against the limits;
 *             a guest leaving with thousands of regions is unmapped in
 *             bounded slices; the vmm's MAC range cannot be squatted; a
 *             client reconnecting in a loop cannot flood the log;
 *   huge      hugetlb memory: mapped and counted in huge pages, never
 *             leaked, and truncating it under DMA does not kill the vmm
 *             (skips when no huge page is free);
 *   mapcount  truncating memory under DMA when the vmm is at
 *             vm.max_map_count does not kill it (skips when the sysctl
 *             cannot be written).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rogue.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif

#define HUGE_PAGE	(2u << 20)
#define HARD_MAX_REGIONS	8
#define HARD_MAX_MIB		16	/* --max-guest-mem of the huge group */
#define REAP_REGIONS	1000	/* under the reaper's backlog cap (1024) */
#define CAP_REGIONS	1500	/* over it */
#define REAP_MAX_REGIONS	"2048"

/* ---- plumbing ---- */

static int
vmm_u64(struct env *e, const char *cmd, const char *key, uint64_t *val)
{
	char out[4096];
	int r = rg_tel(&e->v, cmd, out, sizeof(out));

	return r != 0 ? r : rg_json_u64(out, key, val);
}

static int
guest_u64(struct env *e, uint32_t id, const char *key, uint64_t *val)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "/cdna/guest,%u", id);
	return vmm_u64(e, cmd, key, val);
}

/* Waits until no mapping of memfd:name is left in the vmm. 0 if so. */
static int
maps_gone(struct env *e, const char *name, int ms)
{
	uint64_t end = rg_now_ms() + (uint64_t)ms;

	while (rg_maps_count(e->v.pid, name) > 0) {
		if (rg_now_ms() >= end)
			return -1;
		rg_drain(10);
	}
	return 0;
}

/* 02:cd:<id>, the address the vmm gives guest id by default. */
static void
vmm_mac(uint32_t id, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0xcd;
	mac[2] = (uint8_t)(id >> 24);
	mac[3] = (uint8_t)(id >> 16);
	mac[4] = (uint8_t)(id >> 8);
	mac[5] = (uint8_t)id;
}

/* ---- hard ---- */

/*
 * REGION_ADD, an RX buffer posted in it, REGION_DEL, again and again: the
 * dying regions count against --max-regions, so the loop is refused once
 * live + dying reach it, and admitted again when their DMA ends.
 */
static int
dying_limit(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *g = rg_guest_new("dying");
	struct rg_mem *x = rg_mem_new("dying-x", 16 * 4096, MFD_CLOEXEC);
	uint64_t dying = 0;
	int i, r = 0, refused_at = -1, want = HARD_MAX_REGIONS - 1;
	char o[64];

	if (g == NULL || x == NULL)
		return -1;
	r = rg_honest(g, e->v.sock, 64u << 10, NULL, 64);
	if (r != 0) {
		rg_append(why, len, "set-up: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	for (i = 0; i < 16; i++) {
		uint64_t va = (uintptr_t)x->va + (uint64_t)i * 4096;

		r = rg_region_add(g, va, 4096, x->fd, (uint64_t)i * 4096,
				  CDNA_PERM_KNOWN);
		if (r != 0) {
			refused_at = i;
			break;
		}
		rg_post(g, RG_RX, va, 2048, 0, RG_ST_ANY);
		rg_publish(g, RG_RX);
		rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
		r = rg_region_del(g, va, 4096);
		if (r != 0) {
			rg_append(why, len, "REGION_DEL %d: expected status 0 got %s",
				  i, env_outcome(r, o, sizeof(o)));
			return -1;
		}
	}
	/* The guest's first region is live; the rest wait for their DMA. */
	if (refused_at != want || r != -ENOSPC)
		rg_append(why, len, "expected REGION_ADD %d refused with -ENOSPC (--max-regions %d) got %s at %d",
			  want, HARD_MAX_REGIONS, env_outcome(r, o, sizeof(o)),
			  refused_at);
	if (guest_u64(e, g->id, "regions_dying", &dying) != 0 ||
	    dying != (uint64_t)want)
		rg_append(why, len, "expected regions_dying %d in telemetry got %llu",
			  want, (unsigned long long)dying);
	/* A stop ends every DMA: the dying regions go, and room comes back. */
	r = rg_simple(g, CDNA_MSG_STOP);
	rg_drain(50);
	if (r == 0 && guest_u64(e, g->id, "regions_dying", &dying) == 0 &&
	    dying != 0)
		rg_append(why, len, "expected regions_dying 0 after STOP got %llu",
			  (unsigned long long)dying);
	r = rg_region_add(g, (uintptr_t)x->va, 4096, x->fd, 0, CDNA_PERM_KNOWN);
	if (r != 0)
		rg_append(why, len, "expected REGION_ADD admitted after the DMA ended got %s",
			  env_outcome(r, o, sizeof(o)));
	rg_guest_close(g);
	close(x->fd);
	x->fd = -1;
	return why[0] != '\0' ? -1 : 0;
}

/*
 * A guest takes the address the vmm would give the next guest: that guest
 * still gets a HELLO, with an address nobody holds, and traffic reaches it.
 */
static int
mac_squat(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *a = rg_guest_new("squatter");
	struct rg_guest *b = rg_guest_new("victim");
	uint8_t next[6];
	char o[64];
	int r, rs, rh;

	if (a == NULL || b == NULL)
		return -1;
	r = rg_connect(a, e->v.sock);
	if (r == 0)
		r = rg_hello(a, 1, NULL);
	if (r != 0) {
		rg_append(why, len, "squatter set-up: %s",
			  env_outcome(r, o, sizeof(o)));
		return -1;
	}
	vmm_mac(a->id + 1, next);
	rs = rg_set_mac(a, next);
	/* The same through HELLO: a second squatter asks for the one after. */
	rh = rg_honest(b, e->v.sock, 128u << 10, NULL, 64);
	if (rh != 0) {
		rg_append(why, len, "expected the next guest's HELLO to succeed (squatter's SET_MAC %s) got %s",
			  rs == 0 ? "accepted" : "refused",
			  env_outcome(rh, o, sizeof(o)));
	} else {
		if (rs == 0 && memcmp(b->mac, next, 6) == 0)
			rg_append(why, len, "expected the next guest to get an address other than the squatter's");
		rg_post(b, RG_RX, (uintptr_t)b->mem->va, 2048, 0, CDNA_ST_OK);
		rg_publish(b, RG_RX);
		rg_wait_consumed(b, RG_RX, RG_WAIT_MS);
		if (rg_ping(e->S, b, 128) != 0)
			rg_append(why, len, "expected a frame S -> next guest to arrive got none");
	}
	rg_note("squatter's SET_MAC to the next guest's address: %s",
		env_outcome(rs, o, sizeof(o)));
	rg_guest_close(a);
	rg_guest_close(b);
	return why[0] != '\0' ? -1 : 0;
}

/* Connects a guest that registers n 4 KiB regions of x. 0 or -1. */
static int
many_regions(struct env *e, struct rg_guest *g, struct rg_mem *x, int n,
	     char *why, size_t len)
{
	char o[64];
	int i, r;

	memset(g, 0, sizeof(*g));
	g->sock = -1;
	r = rg_connect(g, e->v.sock);
	if (r == 0)
		r = rg_hello(g, 1, NULL);
	for (i = 0; r == 0 && i < n; i++)
		r = rg_region_add(g, (uintptr_t)x->va + (uint64_t)i * 4096,
				  4096, x->fd, (uint64_t)i * 4096,
				  CDNA_PERM_KNOWN);
	if (r != 0) {
		rg_append(why, len, "set-up: region %d: %s", i,
			  env_outcome(r, o, sizeof(o)));
		if (g->sock >= 0)
			close(g->sock);
		return -1;
	}
	return 0;
}

/* Waits until the reaper has nothing left and no mapping of name remains. */
static void
reap_wait(struct env *e, const char *name, uint64_t *backlog)
{
	uint64_t end = rg_now_ms() + 5000;

	*backlog = 1;
	do {
		rg_drain(20);
		if (vmm_u64(e, "/cdna/vmm", "reap_backlog", backlog) != 0)
			break;
	} while ((*backlog != 0 || rg_maps_count(e->v.pid, name) > 0) &&
		 rg_now_ms() < end);
}

/*
 * A guest leaves with REAP_REGIONS regions: they are all unmapped, never
 * more than a slice per poll, while S and L go on (env_after checks them).
 */
static int
reap_slices(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest g;
	struct rg_mem *x = rg_mem_new("reap-x", REAP_REGIONS * 4096u,
				      MFD_CLOEXEC);
	uint64_t un0 = 0, un1 = 0, backlog, bmax = 0, umax = 0, per = 0;
	uint64_t leaked = 1, forced0 = 0, forced1 = 0;

	if (x == NULL || many_regions(e, &g, x, REAP_REGIONS, why, len) != 0)
		return -1;
	vmm_u64(e, "/cdna/vmm", "regions_unmapped", &un0);
	vmm_u64(e, "/cdna/vmm", "reap_forced", &forced0);
	close(g.sock);
	reap_wait(e, "reap-x", &backlog);
	vmm_u64(e, "/cdna/vmm", "regions_unmapped", &un1);
	vmm_u64(e, "/cdna/vmm", "reap_backlog_max", &bmax);
	vmm_u64(e, "/cdna/vmm", "reap_units_max", &umax);
	vmm_u64(e, "/cdna/vmm", "reap_units_per_poll", &per);
	vmm_u64(e, "/cdna/vmm", "regions_leaked", &leaked);
	vmm_u64(e, "/cdna/vmm", "reap_forced", &forced1);
	rg_note("reaper: %llu regions unmapped, backlog peaked at %llu, at most %llu units in one poll (slice %llu)",
		(unsigned long long)(un1 - un0), (unsigned long long)bmax,
		(unsigned long long)umax, (unsigned long long)per);
	if (backlog != 0 || rg_maps_count(e->v.pid, "reap-x") > 0)
		rg_append(why, len, "expected every region unmapped within 5 s got backlog %llu, %d mappings left",
			  (unsigned long long)backlog,
			  rg_maps_count(e->v.pid, "reap-x"));
	if (un1 - un0 < REAP_REGIONS)
		rg_append(why, len, "expected %u regions unmapped got %llu",
			  REAP_REGIONS, (unsigned long long)(un1 - un0));
	/* Teardown handed them over at once: the reaper, not teardown, unmapped. */
	if (bmax < REAP_REGIONS)
		rg_append(why, len, "expected the reaper's backlog to reach %u got %llu",
			  REAP_REGIONS, (unsigned long long)bmax);
	if (forced1 != forced0)
		rg_append(why, len, "expected no forced drain under the backlog cap got %llu",
			  (unsigned long long)(forced1 - forced0));
	if (per == 0 || umax > per)
		rg_append(why, len, "expected at most %llu units of reaping per poll got %llu",
			  (unsigned long long)per, (unsigned long long)umax);
	if (leaked != 0)
		rg_append(why, len, "expected no region left mapped with claims got %llu",
			  (unsigned long long)leaked);
	close(x->fd);
	x->fd = -1;
	return why[0] != '\0' ? -1 : 0;
}

/*
 * A guest leaves with more regions than the reaper's backlog may hold: the
 * backlog never grows past the cap (the reaper drains it at once), and
 * everything is unmapped.
 */
static int
reap_cap(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest g;
	struct rg_mem *x = rg_mem_new("reap-cap", CAP_REGIONS * 4096u,
				      MFD_CLOEXEC);
	uint64_t backlog, bmax = 0, forced0 = 0, forced1 = 0;

	if (x == NULL || many_regions(e, &g, x, CAP_REGIONS, why, len) != 0)
		return -1;
	vmm_u64(e, "/cdna/vmm", "reap_forced", &forced0);
	close(g.sock);
	reap_wait(e, "reap-cap", &backlog);
	vmm_u64(e, "/cdna/vmm", "reap_backlog_max", &bmax);
	vmm_u64(e, "/cdna/vmm", "reap_forced", &forced1);
	rg_note("reaper: backlog peaked at %llu, %llu forced drains",
		(unsigned long long)bmax,
		(unsigned long long)(forced1 - forced0));
	if (backlog != 0 || rg_maps_count(e->v.pid, "reap-cap") > 0)
		rg_append(why, len, "expected every region unmapped within 5 s got backlog %llu, %d mappings left",
			  (unsigned long long)backlog,
			  rg_maps_count(e->v.pid, "reap-cap"));
	if (bmax > 1025)
		rg_append(why, len, "expected the backlog capped at 1025 got %llu",
			  (unsigned long long)bmax);
	if (forced1 == forced0)
		rg_append(why, len, "expected a forced drain past the cap got none");
	close(x->fd);
	x->fd = -1;
	return why[0] != '\0' ? -1 : 0;
}

/*
 * One client reconnects 300 times, each time asking for three refused
 * things: the log grows by what the per-uid bucket allows, no more, and a
 * line says how many were suppressed. Every reply still carries its error.
 */
static int
log_flood(struct env *e, const struct dcase *c, char *why, size_t len)
{
	static const uint8_t gmac[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x58 };
	static const char *sup = "lines suppressed for uid 0";
	uint64_t t0 = rg_now_ms(), t1, allowed, end;
	int lines0 = rg_log_count(&e->v, "cdna-vmm:"), grown, i, k, neg = 0;
	int sup0 = rg_log_count(&e->v, sup);

	for (i = 0; i < 300; i++) {
		struct rg_guest g;

		memset(&g, 0, sizeof(g));
		g.sock = -1;
		if (rg_connect(&g, e->v.sock) != 0 || rg_hello(&g, 1, NULL) != 0) {
			rg_append(why, len, "connection %d: set-up failed", i);
			if (g.sock >= 0)
				close(g.sock);
			break;
		}
		for (k = 0; k < 3; k++)
			neg += rg_set_mac(&g, gmac) == -EPERM;
		close(g.sock);
	}
	if (neg != 900)
		rg_append(why, len, "expected 900 -EPERM replies got %d", neg);
	rg_drain(100);
	t1 = rg_now_ms();
	grown = rg_log_count(&e->v, "cdna-vmm:") - lines0;
	/* Burst, what the elapsed time earned, and the suppression notes. */
	allowed = 256 + 32 * ((t1 - t0) / 1000 + 1) + 8;
	rg_note("300 reconnects, 1500 loggable events: the log grew by %d lines in %llu ms",
		grown, (unsigned long long)(t1 - t0));
	if ((uint64_t)grown > allowed)
		rg_append(why, len, "expected the log to grow by at most %llu lines got %d",
			  (unsigned long long)allowed, grown);
	end = rg_now_ms() + 3000;
	while (rg_log_count(&e->v, sup) == sup0 && rg_now_ms() < end)
		rg_drain(50);
	if (rg_log_count(&e->v, sup) == sup0)
		rg_append(why, len, "expected a '%s' line within 3 s got none", sup);
	return why[0] != '\0' ? -1 : 0;
}

static const struct dcase hard_limit_cases[] = {
	{ "dying-regions-count", "REGION_ADD, RX posted, REGION_DEL, repeated under --max-regions 8",
	  "refused -ENOSPC at live + dying = 8; admitted again once the DMA ended", NULL, dying_limit, 0, { { 0 } } },
	{ "mac-squat-next-guest", "a guest takes 02:cd:<next guest id>, then the next guest connects",
	  "the next guest's HELLO succeeds with a free address; traffic reaches it", NULL, mac_squat, 0, { { 0 } } },
	/* Last: it leaves uid 0's log bucket empty. */
	{ "log-flood-reconnect", "300 reconnects with 3 refused requests each",
	  "log growth bounded by the per-uid rate; suppression said", NULL, log_flood, 0, { { 0 } } },
};

static const struct dcase hard_reap_cases[] = {
	{ "reap-1000-regions", "a guest with 1000 regions disconnects",
	  "all unmapped by the reaper, a bounded slice per poll, others served", NULL, reap_slices, 0, { { 0 } } },
	{ "reap-backlog-cap", "a guest with 1500 regions disconnects",
	  "the reaper's backlog stays within its cap; all unmapped", NULL, reap_cap, 0, { { 0 } } },
};

int
group_hard(struct env *e)
{
	static char mr[16];

	snprintf(mr, sizeof(mr), "%d", HARD_MAX_REGIONS);
	e->v.extra[e->v.nextra++] = "--max-regions";
	e->v.extra[e->v.nextra++] = mr;
	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	run_dcases(e, hard_limit_cases,
		   sizeof(hard_limit_cases) / sizeof(hard_limit_cases[0]));
	env_down(e);
	/* Room for more regions than the reaper's backlog cap. */
	e->v.nextra = 0;
	e->v.extra[e->v.nextra++] = "--max-regions";
	e->v.extra[e->v.nextra++] = REAP_MAX_REGIONS;
	if (rg_pcap_write(e->v.wire_in, NULL, 0) != 0 || env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected the vmm restarted got failure");
		env_down(e);
		return -1;
	}
	run_dcases(e, hard_reap_cases,
		   sizeof(hard_reap_cases) / sizeof(hard_reap_cases[0]));
	env_down(e);
	return 0;
}

/* ---- huge ---- */

/* A guest whose only memory is nbytes of a hugetlb memfd of one huge page. */
static struct rg_guest *
huge_guest(struct env *e, const char *name, uint32_t nbytes, char *why,
	   size_t len)
{
	struct rg_guest *g = rg_guest_new(name);
	struct rg_mem *m = rg_mem_new(name, HUGE_PAGE, MFD_CLOEXEC | MFD_HUGETLB);
	char o[64];
	int r;

	if (g == NULL || m == NULL) {
		rg_append(why, len, "no hugetlb memfd for %s", name);
		return NULL;
	}
	g->mem = m;
	r = rg_connect(g, e->v.sock);
	if (r == 0)
		r = rg_hello(g, 1, NULL);
	if (r == 0)
		r = rg_region_add(g, (uintptr_t)m->va, nbytes, m->fd, 0,
				  CDNA_PERM_KNOWN);
	if (r == 0)
		r = rg_queue_create(g, 0, 64, 64);
	if (r == 0)
		r = rg_simple(g, CDNA_MSG_START);
	if (r != 0) {
		rg_append(why, len, "%s set-up: %s", name,
			  env_outcome(r, o, sizeof(o)));
		return NULL;
	}
	return g;
}

/*
 * 4 KiB of a 2 MiB hugetlb memfd without sealing registered, the file
 * truncated, then a TX from it: the DMA faults, the guest goes, the vmm
 * stays.
 */
static int
huge_trunc_tx(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *g = huge_guest(e, "huge-trunc", 4096, why, len);
	uint64_t faults0 = 0, faults1 = 0;

	if (g == NULL)
		return -1;
	vmm_u64(e, "/cdna/vmm", "dma_guard_faults", &faults0);
	g->mem->live = 0;	/* its bytes go for us too */
	if (ftruncate(g->mem->fd, 0) != 0) {
		rg_append(why, len, "ftruncate of the hugetlb memfd: %s",
			  strerror(errno));
		return -1;
	}
	rg_post(g, RG_TX, (uintptr_t)g->mem->va, 100, 0, RG_ST_ANY);
	rg_publish(g, RG_TX);
	rg_drain(300);
	if (!rg_vmm_alive(&e->v))
		return 0;	/* env_after says how it died */
	vmm_u64(e, "/cdna/vmm", "dma_guard_faults", &faults1);
	if (faults1 <= faults0)
		rg_append(why, len, "expected the DMA guard to count a fault got %llu -> %llu",
			  (unsigned long long)faults0,
			  (unsigned long long)faults1);
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

/*
 * 4 KiB of a hugetlb memfd, REGION_DEL, twenty times, then the guest
 * leaves: no mapping of it is left in the vmm.
 */
static int
huge_no_leak(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *g = huge_guest(e, "huge-leak", 4096, why, len);
	char o[64];
	int i, r;

	if (g == NULL)
		return -1;
	for (i = 0; i < 20; i++) {
		r = rg_region_del(g, (uintptr_t)g->mem->va, 4096);
		if (r == 0)
			r = rg_region_add(g, (uintptr_t)g->mem->va, 4096,
					  g->mem->fd, 0, CDNA_PERM_KNOWN);
		if (r != 0) {
			rg_append(why, len, "round %d: %s", i,
				  env_outcome(r, o, sizeof(o)));
			break;
		}
	}
	rg_drain(50);
	r = rg_maps_count(e->v.pid, "huge-leak");
	if (r != 1)
		rg_append(why, len, "expected 1 mapping of the memfd while registered got %d",
			  r);
	rg_guest_close(g);
	if (maps_gone(e, "huge-leak", 2000) != 0)
		rg_append(why, len, "expected no mapping of the hugetlb memfd after the guest left got %d",
			  rg_maps_count(e->v.pid, "huge-leak"));
	return why[0] != '\0' ? -1 : 0;
}

/*
 * 4 KiB of each of several huge pages: each pins a whole huge page, so
 * --max-guest-mem counts 2 MiB for each and refuses the one too many.
 */
static int
huge_accounting(struct env *e, const struct dcase *c, char *why, size_t len)
{
	const int pages = HARD_MAX_MIB / 2 + 1;
	struct rg_guest *g = huge_guest(e, "huge-acct", 4096, why, len);
	struct rg_mem *m[HARD_MAX_MIB / 2 + 1];
	uint64_t mem = 0;
	char nm[24], o[64];
	int i, r = 0, admitted = 1;

	if (g == NULL)
		return -1;
	for (i = 1; i < pages; i++) {
		snprintf(nm, sizeof(nm), "huge-acct-%d", i);
		m[i] = rg_mem_new(nm, HUGE_PAGE, MFD_CLOEXEC | MFD_HUGETLB);
		if (m[i] == NULL) {
			rg_append(why, len, "no free huge page for %s", nm);
			return -1;
		}
		r = rg_region_add(g, (uintptr_t)m[i]->va, 4096, m[i]->fd, 0,
				  CDNA_PERM_KNOWN);
		if (r != 0)
			break;
		admitted++;
	}
	guest_u64(e, g->id, "mem_bytes", &mem);
	rg_note("%d huge pages registered 4 KiB at a time; mem_bytes %llu",
		admitted, (unsigned long long)mem);
	if (admitted != HARD_MAX_MIB / 2 || r != -ENOSPC)
		rg_append(why, len, "expected %d regions admitted and the next refused -ENOSPC (--max-guest-mem %d) got %d admitted, then %s",
			  HARD_MAX_MIB / 2, HARD_MAX_MIB, admitted,
			  env_outcome(r, o, sizeof(o)));
	if (mem != (uint64_t)admitted * HUGE_PAGE)
		rg_append(why, len, "expected mem_bytes %llu (whole huge pages) got %llu",
			  (unsigned long long)admitted * HUGE_PAGE,
			  (unsigned long long)mem);
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

static const struct dcase huge_cases[] = {
	{ "huge-trunc-tx", "4 KiB of an unsealable 2 MiB hugetlb memfd registered, truncated to 0, then a TX from it",
	  "the vmm survives; the DMA guard counts the fault", NULL, huge_trunc_tx, 0, { { 0 } } },
	{ "huge-region-no-leak", "REGION_DEL and REGION_ADD of 4 KiB of a hugetlb memfd, 20 times, then disconnect",
	  "one mapping while registered, none after", NULL, huge_no_leak, 0, { { 0 } } },
	{ "huge-mem-accounting", "4 KiB of each of 9 huge pages under --max-guest-mem 16",
	  "8 admitted (2 MiB counted each), the 9th refused -ENOSPC", NULL, huge_accounting, 0, { { 0 } } },
};

/* Free 2 MiB huge pages, from /proc/meminfo; 0 if unknown. */
static long
huge_free(void)
{
	char line[128];
	long n = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

int
group_huge(struct env *e)
{
	static char mib[16];
	long need = HARD_MAX_MIB / 2 + 3, have = huge_free();

	if (have < need) {
		printf("SKIP rogue huge: %ld free 2 MiB huge pages, %ld needed (reserve them in /proc/sys/vm/nr_hugepages)\n",
		       have, need);
		return 77;
	}
	snprintf(mib, sizeof(mib), "%d", HARD_MAX_MIB);
	e->v.extra[e->v.nextra++] = "--max-guest-mem";
	e->v.extra[e->v.nextra++] = mib;
	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	run_dcases(e, huge_cases, sizeof(huge_cases) / sizeof(huge_cases[0]));
	env_down(e);
	return 0;
}

/* ---- mapcount ---- */

#define MAP_COUNT_SYSCTL	"/proc/sys/vm/max_map_count"

static long
sysctl_read(void)
{
	long v = -1;
	FILE *f = fopen(MAP_COUNT_SYSCTL, "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int
sysctl_write(long v)
{
	FILE *f = fopen(MAP_COUNT_SYSCTL, "w");
	int ok;

	if (f == NULL)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/*
 * The vmm at vm.max_map_count (no new mapping possible), a plain memfd
 * truncated under a posted TX and RX: the vmm survives.
 */
static int
maxmap_trunc(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *g = rg_guest_new("maxmap");
	struct rg_mem *m = rg_mem_new("maxmap", 512u << 10, MFD_CLOEXEC);
	long orig = sysctl_read();
	uint64_t va;
	char o[64];
	int r, n;

	if (g == NULL || m == NULL || orig < 0)
		return -1;
	g->mem = m;
	va = (uintptr_t)m->va;
	r = rg_honest(g, e->v.sock, m->size, NULL, 64);
	if (r != 0) {
		rg_append(why, len, "set-up: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	rg_post(g, RG_RX, va + 8192, 2048, 0, RG_ST_ANY);
	rg_publish(g, RG_RX);
	rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
	/*
	 * Below what the vmm holds ([vsyscall] and rounding aside): any new
	 * mapping of its fails with ENOMEM.
	 */
	n = rg_maps_count(e->v.pid, NULL) - 8;
	if (n <= 0 || sysctl_write(n) != 0) {
		rg_append(why, len, "cannot lower %s to %d", MAP_COUNT_SYSCTL, n);
		return -1;
	}
	m->live = 0;
	r = ftruncate(m->fd, 0);
	rg_post(g, RG_TX, va, 100, 0, RG_ST_ANY);
	rg_publish(g, RG_TX);
	rg_send_frame(e->S, g->mac, 200, 0);
	rg_drain(300);
	if (sysctl_write(orig) != 0)
		rg_append(why, len, "could not restore %s to %ld", MAP_COUNT_SYSCTL, orig);
	rg_note("vmm held %d mappings, limit set to %d; ftruncate %s", n + 8, n,
		r == 0 ? "succeeded" : strerror(errno));
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

static const struct dcase mapcount_cases[] = {
	{ "maxmap-trunc", "vm.max_map_count below the vmm's mappings, a memfd truncated under TX and RX",
	  "the vmm survives", NULL, maxmap_trunc, 0, { { 0 } } },
};

int
group_mapcount(struct env *e)
{
	long orig = sysctl_read();

	if (orig < 0 || access(MAP_COUNT_SYSCTL, W_OK) != 0 ||
	    sysctl_write(orig) != 0) {
		printf("SKIP rogue mapcount: %s cannot be written here\n",
		       MAP_COUNT_SYSCTL);
		return 77;
	}
	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	run_dcases(e, mapcount_cases,
		   sizeof(mapcount_cases) / sizeof(mapcount_cases[0]));
	env_down(e);
	return 0;
}
