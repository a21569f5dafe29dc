/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared memory the guest must not be able to change: the completion area
 * is read-only for the guest whatever it tries (ro), and shrinking any
 * shared file under the vmm (region memfd, request area, completion area)
 * must not bring the vmm down (trunc).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cdna_ring.h"
#include "rogue.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif

static struct rg_guest *ro_g;

static int
ro_mmap_shared(struct env *e, const struct dcase *c, char *why, size_t len)
{
	void *p = mmap(NULL, ro_g->cmp_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       ro_g->cmp_fd, 0);

	if (p != MAP_FAILED) {
		munmap(p, ro_g->cmp_len);
		snprintf(why, len, "expected mmap(PROT_WRITE, MAP_SHARED) to fail with EPERM got success");
		return -1;
	}
	if (errno != EPERM) {
		snprintf(why, len, "expected mmap(PROT_WRITE, MAP_SHARED) to fail with EPERM got %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int
ro_mprotect(struct env *e, const struct dcase *c, char *why, size_t len)
{
	if (mprotect((void *)(uintptr_t)ro_g->cmp, ro_g->cmp_len,
		     PROT_READ | PROT_WRITE) == 0) {
		snprintf(why, len, "expected mprotect to writable to fail got success");
		mprotect((void *)(uintptr_t)ro_g->cmp, ro_g->cmp_len, PROT_READ);
		return -1;
	}
	rg_note("mprotect: %s", strerror(errno));
	return 0;
}

static int
ro_pwrite(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint32_t v = 0xdeadbeef;

	if (pwrite(ro_g->cmp_fd, &v, sizeof(v), 64) >= 0) {
		snprintf(why, len, "expected pwrite to the completion area to fail got success");
		return -1;
	}
	rg_note("pwrite: %s", strerror(errno));
	if (fallocate(ro_g->cmp_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      0, (off_t)ro_g->cmp_len) == 0) {
		snprintf(why, len, "expected punching a hole in the completion area to fail got success");
		return -1;
	}
	rg_note("fallocate(PUNCH_HOLE): %s", strerror(errno));
	return 0;
}

static int
ro_reopen(struct env *e, const struct dcase *c, char *why, size_t len)
{
	char path[64];
	uint32_t v = 0xdeadbeef;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", ro_g->cmp_fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rg_note("reopen O_RDWR: %s", strerror(errno));
		return 0;
	}
	p = mmap(NULL, ro_g->cmp_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		munmap(p, ro_g->cmp_len);
		snprintf(why, len, "expected a writable shared mapping of the reopened fd to fail got success");
	} else if (pwrite(fd, &v, sizeof(v), 64) >= 0) {
		snprintf(why, len, "expected pwrite through the reopened fd to fail got success");
	}
	close(fd);
	return why[0] != '\0' ? -1 : 0;
}

static int
ro_seals(struct env *e, const struct dcase *c, char *why, size_t len)
{
	int s = fcntl(ro_g->cmp_fd, F_GET_SEALS);

	if (s < 0 || !(s & (F_SEAL_FUTURE_WRITE | F_SEAL_WRITE))) {
		snprintf(why, len, "expected F_SEAL_FUTURE_WRITE on the completion area got seals 0x%x (%s)",
			 s, s < 0 ? strerror(errno) : "none of the write seals");
		return -1;
	}
	rg_note("completion area seals 0x%x; request area seals 0x%x", s,
		fcntl(ro_g->req_fd, F_GET_SEALS));
	return 0;
}

static int
ro_store(struct env *e, const struct dcase *c, char *why, size_t len)
{
	const struct cdna_index *ix = rg_cmp_idx(ro_g, RG_TX);
	uint32_t before = cdna_load_acquire(ix);
	uint64_t end;
	pid_t pid, done = 0;
	int st = 0;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		alarm(3);
		signal(SIGSEGV, SIG_DFL);
		*(volatile uint32_t *)(uintptr_t)&ix->val = before + 100;
		_exit(0);
	}
	end = rg_now_ms() + 5000;
	while ((done = waitpid(pid, &st, WNOHANG)) == 0 && rg_now_ms() < end)
		rg_drain(5);
	if (done != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		snprintf(why, len, "store child did not finish");
		return -1;
	}
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
		snprintf(why, len, "expected the storing child killed by SIGSEGV got %s %d",
			 WIFSIGNALED(st) ? "signal" : "exit status",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (cdna_load_acquire(ix) != before)
		snprintf(why + strlen(why), len - strlen(why),
			 "%sexpected tx_cmp.prod unchanged got %u (was %u)",
			 why[0] ? "; " : "", cdna_load_acquire(ix), before);
	return why[0] != '\0' ? -1 : 0;
}

static int
ro_private(struct env *e, const struct dcase *c, char *why, size_t len)
{
	uint32_t before = cdna_load_acquire(rg_cmp_idx(ro_g, RG_RX));
	uint8_t *p;

	p = mmap(NULL, ro_g->cmp_len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 ro_g->cmp_fd, 0);
	if (p == MAP_FAILED) {
		rg_note("private writable mapping refused: %s", strerror(errno));
		return 0;
	}
	memset(p, 0xff, ro_g->cmp_len);
	munmap(p, ro_g->cmp_len);
	if (cdna_load_acquire(rg_cmp_idx(ro_g, RG_RX)) != before)
		snprintf(why, len, "expected a private copy-on-write mapping not to reach the shared area got rx_cmp.prod %u (was %u)",
			 cdna_load_acquire(rg_cmp_idx(ro_g, RG_RX)), before);
	return why[0] != '\0' ? -1 : 0;
}

static int
ro_still_works(struct env *e, const struct dcase *c, char *why, size_t len)
{
	rg_post(ro_g, RG_RX, (uintptr_t)ro_g->mem->va, 2048, 0, CDNA_ST_OK);
	rg_publish(ro_g, RG_RX);
	rg_wait_consumed(ro_g, RG_RX, RG_WAIT_MS);
	if (rg_ping(e->S, ro_g, 400) != 0)
		snprintf(why, len, "expected the guest to receive after the attempts got no frame");
	else if (rg_ping(ro_g, e->L, 400) != 0)
		snprintf(why, len, "expected the guest to send after the attempts got no frame");
	if (ro_g->nerr != 0)
		snprintf(why + strlen(why), len - strlen(why), "%s%s",
			 why[0] ? "; " : "", ro_g->err);
	return why[0] != '\0' ? -1 : 0;
}

static const struct dcase ro_cases[] = {
	{ "ro-mmap-shared-writable", "mmap the completion area fd PROT_WRITE MAP_SHARED",
	  "fails with EPERM", NULL, ro_mmap_shared, 0, { { 0 } } },
	{ "ro-mprotect-writable", "mprotect the read-only mapping to PROT_WRITE",
	  "fails", NULL, ro_mprotect, 0, { { 0 } } },
	{ "ro-pwrite-punch", "pwrite to the completion area fd, punch a hole in it",
	  "both fail", NULL, ro_pwrite, 0, { { 0 } } },
	{ "ro-reopen-rdwr", "reopen the fd through /proc/self/fd O_RDWR, map writable, pwrite",
	  "mapping and pwrite fail", NULL, ro_reopen, 0, { { 0 } } },
	{ "ro-seals", "F_GET_SEALS of the completion area",
	  "F_SEAL_FUTURE_WRITE set", NULL, ro_seals, 0, { { 0 } } },
	{ "ro-store-sigsegv", "a forked child stores through the read-only mapping",
	  "child dies of SIGSEGV; index unchanged", NULL, ro_store, 0, { { 0 } } },
	{ "ro-private-cow", "MAP_PRIVATE writable mapping scribbled over",
	  "shared view unchanged", NULL, ro_private, 0, { { 0 } } },
	{ "ro-guest-still-works", "the guest receives and sends after all attempts",
	  "RX and TX work", NULL, ro_still_works, 0, { { 0 } } },
};

int
group_ro(struct env *e)
{
	char o[64];
	int r;

	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	ro_g = rg_guest_new("ro");
	r = ro_g != NULL ? rg_honest(ro_g, e->v.sock, 256u << 10, NULL, 64) : -1;
	if (r != 0) {
		env_fail(e, "setup", "expected the guest up got %s",
			 env_outcome(r, o, sizeof(o)));
		env_down(e);
		return -1;
	}
	rg_sender_init(ro_g, (uintptr_t)ro_g->mem->va + (128u << 10), 8, 10240);
	run_dcases(e, ro_cases, sizeof(ro_cases) / sizeof(ro_cases[0]));
	env_down(e);
	return 0;
}

/* ---- trunc ---- */

enum trunc_kind {
	T_REGION_BEFORE,
	T_REGION_INFLIGHT,
	T_REGION_SEALABLE,
	T_REGION_HALF,
	T_REQ_AREA,
	T_CMP_AREA,
};


static int
trunc_case(struct env *e, enum trunc_kind kind, char *why, size_t len)
{
	struct rg_guest *g = rg_guest_new("trunc");
	const size_t msz = 512u << 10;
	struct rg_mem *m;
	uint64_t va;
	char o[64];
	int r, fd, te = 0;
	off_t to = 0;

	if (g == NULL)
		return -1;
	m = rg_mem_new("trunc", msz, MFD_CLOEXEC |
		       (kind == T_REGION_SEALABLE ? MFD_ALLOW_SEALING : 0));
	if (m == NULL)
		return -1;
	g->mem = m;
	va = (uintptr_t)m->va;
	r = rg_honest(g, e->v.sock, msz, NULL, 64);
	if (r != 0) {
		/* Refusing memory it cannot protect is a valid answer. */
		rg_note("set-up refused: %s (%s)", env_outcome(r, o, sizeof(o)),
			g->err);
		rg_guest_close(g);
		return 0;
	}
	switch (kind) {
	case T_REGION_BEFORE:
	case T_REGION_INFLIGHT:
	case T_REGION_SEALABLE:
	case T_REGION_HALF:
		fd = m->fd;
		to = kind == T_REGION_HALF ? (off_t)(msz / 2) : 0;
		if (kind != T_REGION_BEFORE) {
			rg_post(g, RG_RX, va + msz - 8192, 2048, 0, RG_ST_ANY);
			rg_post(g, RG_RX, va + msz - 4096, 2048, 0, RG_ST_ANY);
			rg_publish(g, RG_RX);
			rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
		}
		/* Our own view of it goes too: stop checking it. */
		m->live = 0;
		break;
	case T_REQ_AREA:
		fd = g->req_fd;
		g->quiet_ring = 1;
		break;
	default:
		fd = g->cmp_fd;
		g->quiet_ring = 1;
		break;
	}
	if (ftruncate(fd, to) != 0) {
		te = errno;
		rg_note("ftruncate refused: %s", strerror(te));
	} else {
		rg_note("ftruncate to %lld succeeded", (long long)to);
	}
	switch (kind) {
	case T_REGION_BEFORE:
		rg_post(g, RG_RX, va, 2048, 0, RG_ST_ANY);
		rg_post(g, RG_TX, va + 8192, 100, 0, RG_ST_ANY);
		rg_publish(g, RG_RX);
		rg_publish(g, RG_TX);
		break;
	case T_REQ_AREA:
		if (te == 0)
			g->qok = 0;	/* its pages are gone for us too */
		else
			rg_send_frame(e->S, g->mac, 200, 0);
		break;
	case T_CMP_AREA:
		/* Makes the mediator write completions into the area. */
		rg_post(g, RG_TX, va, 100, 0x0100, RG_ST_ANY);
		rg_post(g, RG_RX, va, 2048, 0x0100, RG_ST_ANY);
		rg_publish(g, RG_TX);
		rg_publish(g, RG_RX);
		break;
	default:
		break;
	}
	if (kind != T_REQ_AREA && kind != T_CMP_AREA) {
		rg_send_frame(e->S, g->mac, 200, 0);
		rg_send_frame(e->S, g->mac, 200, 0);
	}
	rg_drain(300);
	if (kind == T_REGION_SEALABLE && te == 0)
		rg_note("the vmm did not seal a sealable region memfd against shrinking");
	rg_guest_close(g);
	rg_drain(100);
	return 0;
}

#define TFN(fn, kind) \
static int \
fn(struct env *e, const struct dcase *c, char *why, size_t len) \
{ \
	return trunc_case(e, kind, why, len); \
}

TFN(t_before, T_REGION_BEFORE)
TFN(t_inflight, T_REGION_INFLIGHT)
TFN(t_sealable, T_REGION_SEALABLE)
TFN(t_half, T_REGION_HALF)
TFN(t_req, T_REQ_AREA)
TFN(t_cmp, T_CMP_AREA)

static const struct dcase trunc_cases[] = {
	{ "trunc-region-before-post", "region memfd to 0, then RX and TX posted", "vmm survives; guest may be quarantined or disconnected", NULL, t_before, 0, { { 0 } } },
	{ "trunc-region-rx-in-flight", "region memfd to 0 with RX in flight", "vmm survives", NULL, t_inflight, 0, { { 0 } } },
	{ "trunc-region-sealable", "sealable region memfd to 0 with RX in flight", "shrink refused (sealed) or vmm survives", NULL, t_sealable, 0, { { 0 } } },
	{ "trunc-region-half", "region memfd to half, RX posted in the lost half", "vmm survives", NULL, t_half, 0, { { 0 } } },
	{ "trunc-request-area", "request area fd to 0", "shrink refused (sealed) or vmm survives", NULL, t_req, 0, { { 0 } } },
	{ "trunc-completion-area", "completion area fd to 0, then requests that complete at once", "shrink refused (sealed) or vmm survives", NULL, t_cmp, 0, { { 0 } } },
};

int
group_trunc(struct env *e)
{
	size_t i;

	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	/*
	 * A DMA that faults on truncated memory is aborted (DMA_FAULT), so no
	 * frame made of the zero pages put in its place may reach anyone.
	 */
	rg_zero_frames_ok = 0;
	for (i = 0; i < sizeof(trunc_cases) / sizeof(trunc_cases[0]); i++)
		rg_note("%s: %s", trunc_cases[i].name, trunc_cases[i].what);
	run_dcases(e, trunc_cases, sizeof(trunc_cases) / sizeof(trunc_cases[0]));
	env_down(e);
	return 0;
}
