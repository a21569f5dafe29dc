/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control protocol abuse. Every row sends one hostile message on a fresh
 * connection (after HELLO, REGION_ADD or QUEUE_CREATE as the row needs) and
 * requires a negative status reply or a disconnect, never success, silence
 * or a crash. Every fd sent along that the vmm should not keep must be
 * closed (checked through a pipe), its fd count must return to where it
 * was, and the case's memfd must not stay mapped in the vmm.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rogue.h"

#define MAX_REGIONS	8
#define MAX_GUESTS	8
#define CMEM		(256u << 10)

enum { FD_NONE, FD_MEM, FD_MEM_PIPE, FD_PIPE, FD_RDONLY, FD_DEVZERO,
	FD_FLOOD, FD_SOCK, FD_DISK };
enum { H_OK, H_MAGIC, H_VERSION0, H_VERSION2, H_REPLY, H_STATUS };
enum { X_NEG, X_SUCCESS };

struct cctx {
	struct env *e;
	struct rg_guest *g;
	struct rg_mem *mem;
};

struct ccase {
	const char *name;
	const char *what;
	uint8_t setup;		/* 0 none, 1 HELLO, 2 + region, 3 + queue 0 */
	uint16_t type;
	int len;		/* bytes sent; -1: a whole message */
	uint8_t hdr;
	void (*fill)(struct cctx *c, struct cdna_msg *m);
	uint8_t fds;
	uint8_t expect;
	int (*fn)(struct cctx *c, char *why, size_t len);
};

/*
 * An unlinked file of size bytes on a disk file system (not tmpfs or
 * hugetlbfs, which are memory): the build directory, else /var/tmp.
 */
static int
disk_file(size_t size, char *why, size_t len)
{
	static const char *const dirs[] = { ".", "/var/tmp" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[PATH_MAX];
		struct statfs sf;
		int fd;

		if (statfs(dirs[i], &sf) != 0 || sf.f_type == TMPFS_MAGIC ||
		    sf.f_type == HUGETLBFS_MAGIC)
			continue;
		snprintf(path, sizeof(path), "%s/cdna-rogue-disk-XXXXXX", dirs[i]);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd < 0)
			continue;
		unlink(path);
		if (ftruncate(fd, (off_t)size) != 0) {
			close(fd);
			continue;
		}
		return fd;
	}
	snprintf(why, len, "no disk-backed directory to make a file in");
	return -1;
}

/* ---- payloads ---- */

static void
p_hello(struct cctx *c, struct cdna_msg *m)
{
	m->u.hello.nb_queues = 1;
}

#define HELLO_FILL(nm, stmt) \
static void \
nm(struct cctx *c, struct cdna_msg *m) \
{ \
	p_hello(c, m); \
	stmt; \
}

HELLO_FILL(p_hello_q0, m->u.hello.nb_queues = 0)
HELLO_FILL(p_hello_q17, m->u.hello.nb_queues = CDNA_MAX_QUEUES + 1)
HELLO_FILL(p_hello_res, m->u.hello.reserved = 1)
HELLO_FILL(p_hello_mode, m->u.hello.mode = 7)
HELLO_FILL(p_hello_mcast, memcpy(m->u.hello.mac, "\x03\x00\x5e\x00\x00\x01", 6))
HELLO_FILL(p_hello_bcast, memset(m->u.hello.mac, 0xff, 6))
HELLO_FILL(p_hello_taken, memcpy(m->u.hello.mac, c->e->L->mac, 6))

static void
p_region(struct cctx *c, struct cdna_msg *m)
{
	m->u.region.guest_addr = (uintptr_t)c->mem->va;
	m->u.region.size = 64u << 10;
	m->u.region.fd_offset = 0;
	m->u.region.perm = CDNA_PERM_KNOWN;
}

#define REGION_FILL(nm, stmt) \
static void \
nm(struct cctx *c, struct cdna_msg *m) \
{ \
	p_region(c, m); \
	stmt; \
}

REGION_FILL(p_reg_big, m->u.region.size = 2 * CMEM)
REGION_FILL(p_reg_off_past, (m->u.region.fd_offset = CMEM - 4096,
			     m->u.region.size = 8192))
REGION_FILL(p_reg_off_at_end, (m->u.region.fd_offset = CMEM,
			       m->u.region.size = 4096))
REGION_FILL(p_reg_off_wrap, (m->u.region.fd_offset = UINT64_MAX & ~4095ull,
			     m->u.region.size = 8192))
REGION_FILL(p_reg_size_wrap, (m->u.region.fd_offset = 4096,
			      m->u.region.size = UINT64_MAX & ~4095ull))
REGION_FILL(p_reg_gaddr_wrap, (m->u.region.guest_addr = UINT64_MAX & ~4095ull,
			       m->u.region.size = 8192))
REGION_FILL(p_reg_size0, m->u.region.size = 0)
REGION_FILL(p_reg_size_odd, m->u.region.size = 4097)
REGION_FILL(p_reg_off_odd, m->u.region.fd_offset = 100)
REGION_FILL(p_reg_perm0, m->u.region.perm = 0)
REGION_FILL(p_reg_perm4, m->u.region.perm = 4)
REGION_FILL(p_reg_perm_all, m->u.region.perm = UINT32_MAX)
REGION_FILL(p_reg_res, m->u.region.reserved = 1)
REGION_FILL(p_reg_huge, m->u.region.size = 1ull << 62)

/* REGION_DEL names a range only: perm must be zero. */
static void
p_del(struct cctx *c, struct cdna_msg *m)
{
	m->u.region.guest_addr = (uintptr_t)c->mem->va;
	m->u.region.size = 64u << 10;
}

static void
p_del_missing(struct cctx *c, struct cdna_msg *m)
{
	m->u.region.guest_addr = 0x7e0000000000ull;
	m->u.region.size = 64u << 10;
}

static void
p_queue(struct cctx *c, struct cdna_msg *m)
{
	m->u.queue.queue_id = 0;
	m->u.queue.tx_size = 64;
	m->u.queue.rx_size = 64;
}

#define QUEUE_FILL(nm, stmt) \
static void \
nm(struct cctx *c, struct cdna_msg *m) \
{ \
	p_queue(c, m); \
	stmt; \
}

QUEUE_FILL(p_q_tx_npow2, m->u.queue.tx_size = 100)
QUEUE_FILL(p_q_rx_npow2, m->u.queue.rx_size = 96)
QUEUE_FILL(p_q_big, m->u.queue.tx_size = CDNA_RING_MAX * 2)
QUEUE_FILL(p_q_huge, m->u.queue.rx_size = 1u << 31)
QUEUE_FILL(p_q_small, m->u.queue.rx_size = CDNA_RING_MIN / 2)
QUEUE_FILL(p_q_zero, m->u.queue.tx_size = 0)
QUEUE_FILL(p_q_id, m->u.queue.queue_id = 1)
QUEUE_FILL(p_q_id_max, m->u.queue.queue_id = 0xffff)
QUEUE_FILL(p_q_res0, m->u.queue.reserved0 = 1)
QUEUE_FILL(p_q_res1, m->u.queue.reserved1 = 0x100)

static void
p_mac_mcast(struct cctx *c, struct cdna_msg *m)
{
	memcpy(m->u.mac.mac, "\x01\x00\x5e\x00\x00\x01", 6);
}

static void
p_mac_zero(struct cctx *c, struct cdna_msg *m)
{
	memset(m->u.mac.mac, 0, 6);
}

static void
p_mac_taken(struct cctx *c, struct cdna_msg *m)
{
	memcpy(m->u.mac.mac, c->e->L->mac, 6);
}

static void
p_mac_res(struct cctx *c, struct cdna_msg *m)
{
	memcpy(m->u.mac.mac, "\x02\x11\x22\x33\x44\x55", 6);
	m->u.mac.reserved = 1;
}

static void
p_mtu0(struct cctx *c, struct cdna_msg *m)
{
	m->u.mtu.mtu = 0;
}

static void
p_mtu_small(struct cctx *c, struct cdna_msg *m)
{
	m->u.mtu.mtu = CDNA_MTU_MIN - 1;
}

static void
p_mtu_big(struct cctx *c, struct cdna_msg *m)
{
	m->u.mtu.mtu = CDNA_MTU_MAX + 1;
}

static void
p_rxmode_bad(struct cctx *c, struct cdna_msg *m)
{
	m->u.rxmode.mode = 4;
}

static void
p_stats_junk(struct cctx *c, struct cdna_msg *m)
{
	memset(m->u.raw, 0x5a, sizeof(m->u.raw));
}

/* ---- plumbing ---- */

static int
fd_count(pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* Waits until the read end of a pipe reports EOF. 0 if it did. */
static int
pipe_eof(int rfd, int ms)
{
	struct pollfd p = { rfd, POLLIN, 0 };
	char b;

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return read(rfd, &b, 1) == 0 ? 0 : -1;
}

static int
setup_conn(struct cctx *c, int level, char *why, size_t len)
{
	char o[64];
	int r;

	r = rg_connect(c->g, c->e->v.sock);
	if (r != 0) {
		snprintf(why, len, "connect: %s", strerror(-r));
		return -1;
	}
	if (level >= 1 && (r = rg_hello(c->g, 1, NULL)) != 0) {
		snprintf(why, len, "set-up HELLO: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	if (level >= 2 && (r = rg_region_add(c->g, (uintptr_t)c->mem->va,
					     64u << 10, c->mem->fd, 0,
					     CDNA_PERM_KNOWN)) != 0) {
		snprintf(why, len, "set-up REGION_ADD: %s",
			 env_outcome(r, o, sizeof(o)));
		return -1;
	}
	if (level >= 3 && (r = rg_queue_create(c->g, 0, 64, 64)) != 0) {
		snprintf(why, len, "set-up QUEUE_CREATE: %s",
			 env_outcome(r, o, sizeof(o)));
		return -1;
	}
	return 0;
}

/* Sends len bytes of m with fds; returns the outcome (status or RG_*). */
static int
send_recv(struct rg_guest *g, const struct cdna_msg *m, int len,
	  const int *fds, int nfds)
{
	static uint8_t buf[4096];
	struct cdna_msg rep;
	int n;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, m, sizeof(*m));
	if (len > (int)sizeof(*m))
		memset(buf + sizeof(*m), 0x41, (size_t)len - sizeof(*m));
	n = rg_send_raw(g->sock, buf, (size_t)len, fds, nfds);
	if (n == -EPIPE || n == -ECONNRESET)
		return RG_DISC;
	if (n < 0)
		return RG_BADREPLY;
	n = rg_recv_raw(g->sock, &rep, sizeof(rep), NULL, NULL, RG_WAIT_MS);
	if (n == 0)
		return RG_DISC;
	if (n == -ETIMEDOUT)
		return RG_TIMEOUT;
	if (n != (int)sizeof(rep) || rep.hdr.magic != CDNA_CTRL_MAGIC ||
	    rep.hdr.seq != m->hdr.seq || !(rep.hdr.type & CDNA_MSG_REPLY))
		return RG_BADREPLY;
	return rep.hdr.status > 0 ? RG_BADREPLY : rep.hdr.status;
}

static int
run_row(struct cctx *c, const struct ccase *k, char *why, size_t len)
{
	struct cdna_msg m;
	int fds[256], nfds = 0, pfd[2] = { -1, -1 }, r, i, pipe_used = 0;
	char o[64];

	if (setup_conn(c, k->setup, why, len) != 0)
		return -1;
	if (k->fn != NULL)
		return k->fn(c, why, len);
	memset(&m, 0, sizeof(m));
	m.hdr.magic = CDNA_CTRL_MAGIC;
	m.hdr.version = CDNA_CTRL_VERSION;
	m.hdr.type = k->type;
	m.hdr.seq = 77;
	switch (k->hdr) {
	case H_MAGIC: m.hdr.magic ^= 0x01000000u; break;
	case H_VERSION0: m.hdr.version = 0; break;
	case H_VERSION2: m.hdr.version = CDNA_CTRL_VERSION + 1; break;
	case H_REPLY: m.hdr.type |= CDNA_MSG_REPLY; break;
	case H_STATUS: m.hdr.status = -1; break;
	default: break;
	}
	if (k->fill != NULL)
		k->fill(c, &m);
	if (k->fds == FD_MEM_PIPE || k->fds == FD_PIPE || k->fds == FD_FLOOD) {
		if (pipe2(pfd, O_CLOEXEC) != 0) {
			snprintf(why, len, "pipe: %s", strerror(errno));
			return -1;
		}
		pipe_used = 1;
	}
	switch (k->fds) {
	case FD_MEM:
		fds[nfds++] = c->mem->fd;
		break;
	case FD_MEM_PIPE:
		fds[nfds++] = c->mem->fd;
		fds[nfds++] = pfd[1];
		break;
	case FD_PIPE:
		fds[nfds++] = pfd[1];
		break;
	case FD_FLOOD:
		fds[nfds++] = c->mem->fd;
		for (i = 0; i < 200; i++)
			fds[nfds++] = pfd[1];
		break;
	case FD_RDONLY: {
		char p[64];

		snprintf(p, sizeof(p), "/proc/self/fd/%d", c->mem->fd);
		fds[nfds] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[nfds] < 0) {
			snprintf(why, len, "reopen read-only: %s", strerror(errno));
			return -1;
		}
		nfds++;
		break;
	}
	case FD_DEVZERO:
		fds[nfds] = open("/dev/zero", O_RDWR | O_CLOEXEC);
		if (fds[nfds] < 0)
			return -1;
		nfds++;
		break;
	case FD_DISK:
		fds[nfds] = disk_file(CMEM, why, len);
		if (fds[nfds] < 0)
			return -1;
		nfds++;
		break;
	case FD_SOCK: {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			return -1;
		close(sv[1]);
		fds[nfds++] = sv[0];
		break;
	}
	default:
		break;
	}
	r = send_recv(c->g, &m, k->len < 0 ? (int)sizeof(m) : k->len, fds, nfds);
	if (k->fds == FD_RDONLY || k->fds == FD_DEVZERO || k->fds == FD_SOCK ||
	    k->fds == FD_DISK)
		close(fds[0]);
	if (k->expect == X_NEG && r != RG_DISC && !(r < 0))
		snprintf(why, len, "expected a negative status or a disconnect got %s",
			 env_outcome(r, o, sizeof(o)));
	if (k->expect == X_SUCCESS && r != 0)
		snprintf(why, len, "expected status 0 got %s",
			 env_outcome(r, o, sizeof(o)));
	if (pipe_used) {
		/* Our copy goes; the vmm's must go too, on its own. */
		close(pfd[1]);
		if (pipe_eof(pfd[0], RG_WAIT_MS) != 0)
			snprintf(why + strlen(why), len - strlen(why),
				 "%sexpected the extra fd closed by the vmm got it still open (%s)",
				 why[0] ? "; " : "", env_outcome(r, o, sizeof(o)));
		close(pfd[0]);
	}
	if (why[0] == '\0' && rg_verbose)
		rg_note("%s: %s", k->name, env_outcome(r, o, sizeof(o)));
	return why[0] != '\0' ? -1 : 0;
}

/* ---- custom rows ---- */

static int
c_double_hello(struct cctx *c, char *why, size_t len)
{
	char o[64];
	int r = rg_hello(c->g, 1, NULL);

	if (r != RG_DISC && !(r < 0))
		snprintf(why, len, "second HELLO: expected a negative status or a disconnect got %s",
			 env_outcome(r, o, sizeof(o)));
	return why[0] != '\0' ? -1 : 0;
}

static int
c_overlap(struct cctx *c, char *why, size_t len)
{
	uint64_t va = (uintptr_t)c->mem->va;
	char o[64];
	int r;

	/* setup 2 registered [va, va+64K). */
	r = rg_region_add(c->g, va + 4096, 64u << 10, c->mem->fd, 4096,
			  CDNA_PERM_KNOWN);
	if (r != RG_DISC && !(r < 0)) {
		snprintf(why, len, "overlapping region: expected a negative status or a disconnect got %s",
			 env_outcome(r, o, sizeof(o)));
		return -1;
	}
	if (r == RG_DISC)
		return 0;
	r = rg_region_add(c->g, va, 64u << 10, c->mem->fd, 0, CDNA_PERM_KNOWN);
	if (r != RG_DISC && !(r < 0)) {
		snprintf(why, len, "duplicate region: expected a negative status or a disconnect got %s",
			 env_outcome(r, o, sizeof(o)));
		return -1;
	}
	if (r == RG_DISC)
		return 0;
	r = rg_region_add(c->g, va - 4096, 8192, c->mem->fd, 0, CDNA_PERM_KNOWN);
	if (r != RG_DISC && !(r < 0)) {
		snprintf(why, len, "region overlapping the start: expected a negative status or a disconnect got %s",
			 env_outcome(r, o, sizeof(o)));
		return -1;
	}
	return 0;
}

static int
c_queue_twice(struct cctx *c, char *why, size_t len)
{
	char o[64];
	int r = rg_queue_create(c->g, 0, 64, 64);

	if (r != RG_DISC && !(r < 0))
		snprintf(why, len, "second QUEUE_CREATE of queue 0: expected a negative status or a disconnect got %s",
			 env_outcome(r, o, sizeof(o)));
	return why[0] != '\0' ? -1 : 0;
}

static int
c_max_regions(struct cctx *c, char *why, size_t len)
{
	uint64_t va = (uintptr_t)c->mem->va;
	char o[64];
	int i, r;

	for (i = 0; i < MAX_REGIONS; i++) {
		r = rg_region_add(c->g, va + (uint64_t)i * 8192, 4096, c->mem->fd,
				  (uint64_t)i * 8192, CDNA_PERM_KNOWN);
		if (r != 0) {
			snprintf(why, len, "region %d of %d: expected status 0 got %s",
				 i + 1, MAX_REGIONS, env_outcome(r, o, sizeof(o)));
			return -1;
		}
	}
	r = rg_region_add(c->g, va + (uint64_t)MAX_REGIONS * 8192, 4096,
			  c->mem->fd, (uint64_t)MAX_REGIONS * 8192, CDNA_PERM_KNOWN);
	if (r != RG_DISC && !(r < 0)) {
		snprintf(why, len, "region %d with --max-regions %d: expected a negative status or a disconnect got %s",
			 MAX_REGIONS + 1, MAX_REGIONS, env_outcome(r, o, sizeof(o)));
		return -1;
	}
	if (r == RG_DISC)
		return 0;
	/* The limit counts live regions: one freed, one more fits. */
	r = rg_region_del(c->g, va, 4096);
	if (r == 0)
		r = rg_region_add(c->g, va + (uint64_t)MAX_REGIONS * 8192, 4096,
				  c->mem->fd, (uint64_t)MAX_REGIONS * 8192,
				  CDNA_PERM_KNOWN);
	if (r != 0)
		snprintf(why, len, "REGION_DEL then REGION_ADD at the limit: expected status 0 got %s",
			 env_outcome(r, o, sizeof(o)));
	return why[0] != '\0' ? -1 : 0;
}

static int
c_max_guests(struct cctx *c, char *why, size_t len)
{
	struct rg_guest *g[MAX_GUESTS + 2];
	int i, n = 0, ok = 0, r = 0;
	char o[64];

	for (i = 0; i < MAX_GUESTS + 2; i++) {
		g[i] = rg_guest_new("many");
		if (g[i] == NULL)
			break;
		n++;
		r = rg_connect(g[i], c->e->v.sock);
		if (r != 0) {
			r = RG_DISC;
			break;
		}
		r = rg_hello(g[i], 1, NULL);
		if (r != 0)
			break;
		ok++;
	}
	rg_note("guests admitted beyond S, L and this one: %d (max-guests %d)",
		ok, MAX_GUESTS);
	if (r == 0)
		snprintf(why, len, "expected HELLO refused beyond --max-guests %d got %d more admitted",
			 MAX_GUESTS, ok);
	else if (r != RG_DISC && !(r < 0))
		snprintf(why, len, "guest over the limit: expected a negative status or a disconnect got %s",
			 env_outcome(r, o, sizeof(o)));
	else if (ok > MAX_GUESTS - 2)
		snprintf(why, len, "expected at most %d more guests got %d",
			 MAX_GUESTS - 2, ok);
	for (i = 0; i < n; i++)
		rg_guest_close(g[i]);
	return why[0] != '\0' ? -1 : 0;
}

/* A process of another uid connects: SO_PEERCRED policy refuses it. */
static int
c_foreign_uid(struct cctx *c, char *why, size_t len)
{
	pid_t pid, done;
	int st = 0;
	uint64_t end;

	rg_guest_close(c->g);
	/* Let the file system allow it, so that the vmm's policy decides. */
	chmod(c->e->v.dir, 0711);
	chmod(c->e->v.sock, 0777);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rg_guest g;
		int r;

		alarm(5);
		memset(&g, 0, sizeof(g));
		g.sock = -1;
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		r = rg_connect(&g, c->e->v.sock);
		if (r != 0)
			_exit(2);
		r = rg_xfer(&g, CDNA_MSG_HELLO, "\x01\x00", 2, NULL, 0, NULL,
			    NULL, NULL);
		_exit(r == 0 ? 0 : 1);
	}
	end = rg_now_ms() + 6000;
	while ((done = waitpid(pid, &st, WNOHANG)) == 0 && rg_now_ms() < end)
		rg_drain(10);
	chmod(c->e->v.dir, 0700);
	if (done != pid || !WIFEXITED(st)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		snprintf(why, len, "uid 65534 client did not finish");
		return -1;
	}
	switch (WEXITSTATUS(st)) {
	case 0:
		snprintf(why, len, "uid 65534: expected refusal got HELLO status 0");
		return -1;
	case 2:
		rg_note("uid 65534 could not even connect (socket file permissions)");
		return 0;
	case 3:
		rg_note("cannot drop privileges; case not exercised");
		return 0;
	default:
		return 0;
	}
}

static const struct ccase ctrl_cases[] = {
	/* framing */
	{ "len-0", "zero-length message", 0, 0, 0, H_OK, NULL, FD_NONE, X_NEG, NULL },
	{ "len-0-with-fd", "zero-length message carrying a pipe fd", 0, 0, 0, H_OK, NULL, FD_PIPE, X_NEG, NULL },
	{ "len-0-with-fd-after-hello", "zero-length message carrying a pipe fd after HELLO", 1, 0, 0, H_OK, NULL, FD_PIPE, X_NEG, NULL },
	{ "len-1", "one byte", 0, 0, 1, H_OK, NULL, FD_NONE, X_NEG, NULL },
	{ "len-16-header-only", "a valid HELLO header with no payload", 0, CDNA_MSG_HELLO, 16, H_OK, p_hello, FD_NONE, X_NEG, NULL },
	{ "len-255", "a valid HELLO cut to 255 bytes", 0, CDNA_MSG_HELLO, 255, H_OK, p_hello, FD_NONE, X_NEG, NULL },
	{ "len-257", "a valid HELLO plus one byte", 0, CDNA_MSG_HELLO, 257, H_OK, p_hello, FD_NONE, X_NEG, NULL },
	{ "len-4096", "a valid HELLO padded to 4096 bytes", 0, CDNA_MSG_HELLO, 4096, H_OK, p_hello, FD_NONE, X_NEG, NULL },
	{ "len-257-after-hello", "a valid STATS plus one byte", 1, CDNA_MSG_STATS, 257, H_OK, NULL, FD_NONE, X_NEG, NULL },
	{ "bad-magic", "HELLO with a wrong magic", 0, CDNA_MSG_HELLO, -1, H_MAGIC, p_hello, FD_NONE, X_NEG, NULL },
	{ "bad-version-0", "HELLO with version 0", 0, CDNA_MSG_HELLO, -1, H_VERSION0, p_hello, FD_NONE, X_NEG, NULL },
	{ "bad-version-2", "HELLO with version 2", 0, CDNA_MSG_HELLO, -1, H_VERSION2, p_hello, FD_NONE, X_NEG, NULL },
	{ "type-0", "message type 0", 1, 0, -1, H_OK, NULL, FD_NONE, X_NEG, NULL },
	{ "type-13", "message type TYPE_MAX+1", 1, CDNA_MSG_TYPE_MAX + 1, -1, H_OK, NULL, FD_NONE, X_NEG, NULL },
	{ "type-7fff", "message type 0x7fff", 1, 0x7fff, -1, H_OK, NULL, FD_NONE, X_NEG, NULL },
	{ "reply-bit", "HELLO with the reply bit set", 0, CDNA_MSG_HELLO, -1, H_REPLY, p_hello, FD_NONE, X_NEG, NULL },
	{ "reply-bit-stats", "STATS|REPLY after HELLO", 1, CDNA_MSG_STATS, -1, H_REPLY, NULL, FD_NONE, X_NEG, NULL },
	{ "status-nonzero", "HELLO with a nonzero status field", 0, CDNA_MSG_HELLO, -1, H_STATUS, p_hello, FD_NONE, X_NEG, NULL },
	/* order */
	{ "region-before-hello", "REGION_ADD before HELLO", 0, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_MEM, X_NEG, NULL },
	{ "queue-before-hello", "QUEUE_CREATE before HELLO", 0, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_queue, FD_NONE, X_NEG, NULL },
	{ "start-before-hello", "START before HELLO", 0, CDNA_MSG_START, -1, H_OK, NULL, FD_NONE, X_NEG, NULL },
	{ "stats-before-hello", "STATS before HELLO", 0, CDNA_MSG_STATS, -1, H_OK, NULL, FD_NONE, X_NEG, NULL },
	{ "setmac-before-hello", "SET_MAC before HELLO", 0, CDNA_MSG_SET_MAC, -1, H_OK, p_mac_res, FD_NONE, X_NEG, NULL },
	{ "double-hello", "a second HELLO", 1, 0, 0, H_OK, NULL, FD_NONE, X_NEG, c_double_hello },
	/* HELLO fields */
	{ "hello-queues-0", "HELLO with nb_queues 0", 0, CDNA_MSG_HELLO, -1, H_OK, p_hello_q0, FD_NONE, X_NEG, NULL },
	{ "hello-queues-17", "HELLO with nb_queues CDNA_MAX_QUEUES+1", 0, CDNA_MSG_HELLO, -1, H_OK, p_hello_q17, FD_NONE, X_NEG, NULL },
	{ "hello-reserved", "HELLO with a reserved word set", 0, CDNA_MSG_HELLO, -1, H_OK, p_hello_res, FD_NONE, X_NEG, NULL },
	{ "hello-mode-unknown", "HELLO asking for mode 7", 0, CDNA_MSG_HELLO, -1, H_OK, p_hello_mode, FD_NONE, X_NEG, NULL },
	{ "hello-multicast-mac", "HELLO asking for a multicast MAC", 0, CDNA_MSG_HELLO, -1, H_OK, p_hello_mcast, FD_NONE, X_NEG, NULL },
	{ "hello-broadcast-mac", "HELLO asking for ff:ff:ff:ff:ff:ff", 0, CDNA_MSG_HELLO, -1, H_OK, p_hello_bcast, FD_NONE, X_NEG, NULL },
	{ "hello-mac-of-other-guest", "HELLO asking for the sink guest's MAC (to steal its frames)", 0, CDNA_MSG_HELLO, -1, H_OK, p_hello_taken, FD_NONE, X_NEG, NULL },
	{ "hello-with-fd", "HELLO carrying a pipe fd", 0, CDNA_MSG_HELLO, -1, H_OK, p_hello, FD_PIPE, X_NEG, NULL },
	/* REGION_ADD */
	{ "region-no-fd", "REGION_ADD without an fd", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_NONE, X_NEG, NULL },
	{ "region-two-fds", "REGION_ADD with the memfd and a pipe", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_MEM_PIPE, X_NEG, NULL },
	{ "region-fd-flood", "REGION_ADD with 201 fds", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_FLOOD, X_NEG, NULL },
	{ "region-fd-pipe", "REGION_ADD whose fd is a pipe", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_PIPE, X_NEG, NULL },
	{ "region-fd-socket", "REGION_ADD whose fd is a socket", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_SOCK, X_NEG, NULL },
	{ "region-fd-devzero", "REGION_ADD whose fd is /dev/zero", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_DEVZERO, X_NEG, NULL },
	{ "region-fd-disk-file", "REGION_ADD whose fd is a plain file on disk (not memory)", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_DISK, X_NEG, NULL },
	{ "region-fd-readonly", "REGION_ADD, DEV_WRITE, of a memfd reopened read-only", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_RDONLY, X_NEG, NULL },
	{ "region-larger-than-fd", "size twice the memfd's size", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_big, FD_MEM, X_NEG, NULL },
	{ "region-offset-past-end", "offset + size one page past the memfd's end", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_off_past, FD_MEM, X_NEG, NULL },
	{ "region-offset-at-end", "offset equal to the memfd's size", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_off_at_end, FD_MEM, X_NEG, NULL },
	{ "region-offset-wrap", "offset + size wraps past UINT64_MAX", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_off_wrap, FD_MEM, X_NEG, NULL },
	{ "region-size-wrap", "size near UINT64_MAX, offset 4096", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_size_wrap, FD_MEM, X_NEG, NULL },
	{ "region-gaddr-wrap", "guest_addr + size wraps", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_gaddr_wrap, FD_MEM, X_NEG, NULL },
	{ "region-size-0", "size 0", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_size0, FD_MEM, X_NEG, NULL },
	{ "region-size-4097", "size not a multiple of 4096", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_size_odd, FD_MEM, X_NEG, NULL },
	{ "region-offset-100", "fd_offset not a multiple of 4096", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_off_odd, FD_MEM, X_NEG, NULL },
	{ "region-size-2^62", "size 2^62", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_huge, FD_MEM, X_NEG, NULL },
	{ "region-perm-0", "perm 0", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_perm0, FD_MEM, X_NEG, NULL },
	{ "region-perm-unknown", "perm bit 0x4", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_perm4, FD_MEM, X_NEG, NULL },
	{ "region-perm-all-bits", "perm 0xffffffff", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_perm_all, FD_MEM, X_NEG, NULL },
	{ "region-reserved", "reserved field set", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_reg_res, FD_MEM, X_NEG, NULL },
	{ "region-overlap", "regions overlapping an existing one, and an exact duplicate", 2, 0, 0, H_OK, NULL, FD_NONE, X_NEG, c_overlap },
	{ "region-max", "one region more than --max-regions, then delete one and add again", 1, 0, 0, H_OK, NULL, FD_NONE, X_NEG, c_max_regions },
	{ "region-valid-control", "a valid REGION_ADD (the harness's positive control)", 1, CDNA_MSG_REGION_ADD, -1, H_OK, p_region, FD_MEM, X_SUCCESS, NULL },
	{ "region-del-unknown", "REGION_DEL of a range never added", 2, CDNA_MSG_REGION_DEL, -1, H_OK, p_del_missing, FD_NONE, X_NEG, NULL },
	{ "region-del-with-fd", "REGION_DEL of a registered region carrying a pipe fd", 2, CDNA_MSG_REGION_DEL, -1, H_OK, p_del, FD_PIPE, X_NEG, NULL },
	{ "stats-with-fd", "STATS carrying a pipe fd", 1, CDNA_MSG_STATS, -1, H_OK, NULL, FD_PIPE, X_NEG, NULL },
	/* QUEUE_CREATE */
	{ "queue-tx-not-pow2", "tx_size 100", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_tx_npow2, FD_NONE, X_NEG, NULL },
	{ "queue-rx-not-pow2", "rx_size 96", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_rx_npow2, FD_NONE, X_NEG, NULL },
	{ "queue-too-large", "tx_size 2 * CDNA_RING_MAX", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_big, FD_NONE, X_NEG, NULL },
	{ "queue-2^31", "rx_size 2^31", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_huge, FD_NONE, X_NEG, NULL },
	{ "queue-too-small", "rx_size CDNA_RING_MIN / 2", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_small, FD_NONE, X_NEG, NULL },
	{ "queue-size-0", "tx_size 0", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_zero, FD_NONE, X_NEG, NULL },
	{ "queue-id-eq-nb", "queue_id 1 with nb_queues 1", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_id, FD_NONE, X_NEG, NULL },
	{ "queue-id-ffff", "queue_id 0xffff", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_id_max, FD_NONE, X_NEG, NULL },
	{ "queue-reserved0", "reserved0 set", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_res0, FD_NONE, X_NEG, NULL },
	{ "queue-reserved1", "reserved1 set", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_q_res1, FD_NONE, X_NEG, NULL },
	{ "queue-twice", "QUEUE_CREATE of a queue that exists", 3, 0, 0, H_OK, NULL, FD_NONE, X_NEG, c_queue_twice },
	{ "queue-destroy-unknown", "QUEUE_DESTROY of queue 0 before it was created", 2, CDNA_MSG_QUEUE_DESTROY, -1, H_OK, NULL, FD_NONE, X_NEG, NULL },
	{ "queue-with-fd", "QUEUE_CREATE carrying a pipe fd", 2, CDNA_MSG_QUEUE_CREATE, -1, H_OK, p_queue, FD_PIPE, X_NEG, NULL },
	/* other messages */
	{ "setmac-multicast", "SET_MAC to a multicast MAC", 3, CDNA_MSG_SET_MAC, -1, H_OK, p_mac_mcast, FD_NONE, X_NEG, NULL },
	{ "setmac-zero", "SET_MAC to 00:00:00:00:00:00", 3, CDNA_MSG_SET_MAC, -1, H_OK, p_mac_zero, FD_NONE, X_NEG, NULL },
	{ "setmac-of-other-guest", "SET_MAC to the sink guest's MAC", 3, CDNA_MSG_SET_MAC, -1, H_OK, p_mac_taken, FD_NONE, X_NEG, NULL },
	{ "setmac-reserved", "SET_MAC with reserved set", 3, CDNA_MSG_SET_MAC, -1, H_OK, p_mac_res, FD_NONE, X_NEG, NULL },
	{ "mtu-0", "SET_MTU 0", 3, CDNA_MSG_SET_MTU, -1, H_OK, p_mtu0, FD_NONE, X_NEG, NULL },
	{ "mtu-below-min", "SET_MTU CDNA_MTU_MIN-1", 3, CDNA_MSG_SET_MTU, -1, H_OK, p_mtu_small, FD_NONE, X_NEG, NULL },
	{ "mtu-above-max", "SET_MTU CDNA_MTU_MAX+1", 3, CDNA_MSG_SET_MTU, -1, H_OK, p_mtu_big, FD_NONE, X_NEG, NULL },
	{ "rxmode-unknown", "SET_RXMODE with bit 0x4", 3, CDNA_MSG_SET_RXMODE, -1, H_OK, p_rxmode_bad, FD_NONE, X_NEG, NULL },
	{ "stats-junk-payload", "STATS with a nonzero payload", 1, CDNA_MSG_STATS, -1, H_OK, p_stats_junk, FD_NONE, X_NEG, NULL },
	/* limits and policy */
	{ "max-guests", "HELLO from more guests than --max-guests", 0, 0, 0, H_OK, NULL, FD_NONE, X_NEG, c_max_guests },
	{ "foreign-uid", "a process of uid 65534 connects and sends HELLO", 0, 0, 0, H_OK, NULL, FD_NONE, X_NEG, c_foreign_uid },
};

int
group_ctrl(struct env *e)
{
	static char margs[2][16];
	size_t i;

	snprintf(margs[0], sizeof(margs[0]), "%d", MAX_REGIONS);
	snprintf(margs[1], sizeof(margs[1]), "%d", MAX_GUESTS);
	e->v.extra[e->v.nextra++] = "--max-regions";
	e->v.extra[e->v.nextra++] = margs[0];
	e->v.extra[e->v.nextra++] = "--max-guests";
	e->v.extra[e->v.nextra++] = margs[1];
	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	for (i = 0; i < sizeof(ctrl_cases) / sizeof(ctrl_cases[0]); i++) {
		const struct ccase *k = &ctrl_cases[i];
		struct cctx c;
		char why[512], nm[24];
		int fd0, fd1, r, a;
		uint64_t end;

		why[0] = '\0';
		snprintf(nm, sizeof(nm), "c%zu", i);
		c.e = e;
		c.mem = rg_mem_new(nm, CMEM, MFD_CLOEXEC);
		c.g = rg_guest_new(k->name);
		if (c.mem == NULL || c.g == NULL) {
			env_fail(e, k->name, "out of resources");
			continue;
		}
		fd0 = fd_count(e->v.pid);
		r = run_row(&c, k, why, sizeof(why));
		rg_guest_close(c.g);
		/* Memory is not reused across cases. */
		close(c.mem->fd);
		c.mem->fd = -1;
		if (r != 0)
			env_fail(e, k->name, "%s", why);
		a = env_after(e, k->name, 1);
		if (a == 0) {
			/* Back to the fds it had; the case's memfd unmapped. */
			end = rg_now_ms() + 1000;
			do {
				fd1 = fd_count(e->v.pid);
				if (fd1 <= fd0 && rg_maps_count(e->v.pid, nm) <= 0)
					break;
				rg_drain(20);
			} while (rg_now_ms() < end);
			if (fd1 > fd0) {
				env_fail(e, k->name, "expected the vmm back to %d open fds got %d (fd leak)",
					 fd0, fd1);
				a = -1;
			}
			if (rg_maps_count(e->v.pid, nm) > 0) {
				env_fail(e, k->name, "expected memfd:%s unmapped after the guest left got still mapped",
					 nm);
				a = -1;
			}
		}
		if (r == 0 && a == 0)
			env_pass(e, k->name);
	}
	env_down(e);
	return 0;
}
