/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rogue: attack tests for cdna-vmm. A guest that speaks the control protocol
 * and the shared rings directly tries every fault class (bad-address,
 * invalid-use, bad length/flags/permission/chain, ring corruption, control
 * protocol abuse, writes to read-only rings, truncation of shared memory)
 * and checks the verdict, that the vmm survives and keeps serving honest
 * guests, and independently that no byte of any guest's memory changed
 * that should not have, that no rejected frame left, and that the vmm's own
 * DMA audit counted no violation.
 *
 *   rogue GROUP     GROUP: addr use req ring ctrl ro trunc policy pt dm
 *                          table1 hard huge mapcount
 *
 * Environment: CDNA_VMM = path of cdna-vmm. Exit 0 pass, 1 fail, 77 skip.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rogue.h"

int rg_verbose;

/*
 * A group address nobody joined: the NIC floods it to the wire and to the
 * promiscuous sink (unknown unicast from a guest reaches the wire only).
 */
const uint8_t env_mac_group[6] = { 0x03, 0xee, 0xee, 0xee, 0xee, 0x01 };

static const char *const st_names[] = {
	"OK", "BAD_ADDRESS", "INVALID_USE", "BAD_LENGTH", "BAD_FLAGS",
	"BAD_PERM", "BAD_CHAIN", "ABORTED", "DMA_FAULT", "MAP_QUOTA",
};

const char *
rg_st_name(uint16_t st)
{
	static char buf[4][24];
	static int k;

	if (st < CDNA_ST_COUNT)
		return st_names[st];
	if (st == RG_ST_ANY)
		return "any";
	if (st == RG_ST_NONE)
		return "no completion";
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "status %u", st);
	return buf[k];
}

void
rg_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

const char *
env_outcome(int r, char *buf, size_t len)
{
	if (r == RG_DISC)
		snprintf(buf, len, "disconnect");
	else if (r == RG_TIMEOUT)
		snprintf(buf, len, "no reply within %d ms", RG_WAIT_MS);
	else if (r == RG_BADREPLY)
		snprintf(buf, len, "malformed reply");
	else if (r == 0)
		snprintf(buf, len, "status 0");
	else
		snprintf(buf, len, "status %d (%s)", r, strerror(-r));
	return buf;
}

void
env_pass(struct env *e, const char *name)
{
	e->pass++;
	printf("PASS %s\n", name);
	fflush(stdout);
}

void
env_fail(struct env *e, const char *name, const char *fmt, ...)
{
	va_list ap;

	e->fail++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void
env_wire_must(struct env *e, uint32_t seq)
{
	if (e->nwire_must < 64)
		e->wire_must[e->nwire_must++] = seq;
}

int
env_add_sl(struct env *e)
{
	char why[64];
	int r;

	e->S = rg_guest_new("S");
	e->L = rg_guest_new("L");
	if (e->S == NULL || e->L == NULL)
		return -1;
	r = rg_honest(e->S, e->v.sock, ENV_S_MEM, NULL, 256);
	if (r != 0) {
		printf("# sender guest set-up: %s\n",
		       env_outcome(r, why, sizeof(why)));
		return -1;
	}
	rg_sender_init(e->S, (uintptr_t)e->S->mem->va, ENV_S_SLOTS,
		       ENV_S_SLOTLEN);
	r = rg_honest(e->L, e->v.sock, ENV_L_MEM, NULL, 256);
	if (r == 0)
		r = rg_rxmode(e->L, CDNA_RXMODE_PROMISC);
	if (r == 0)
		r = rg_mtu(e->L, CDNA_MTU_MAX);
	if (r != 0) {
		printf("# sink guest set-up: %s\n",
		       env_outcome(r, why, sizeof(why)));
		return -1;
	}
	if (rg_sink_start(e->L, (uintptr_t)e->L->mem->va, ENV_L_BUFS,
			  ENV_L_BUFLEN) != 0)
		printf("# note: sink RX requests not consumed within %d ms\n",
		       RG_WAIT_MS);
	if (rg_ping(e->S, e->L, 200) != 0) {
		printf("# S -> L frame did not arrive (S: %s, L: %s)\n",
		       e->S->err, e->L->err);
		return -1;
	}
	return 0;
}

int
env_up(struct env *e, int with_sl)
{
	if (rg_vmm_start(&e->v) != 0)
		return -1;
	if (with_sl)
		return env_add_sl(e);
	return 0;
}

int
env_fresh_guest(struct env *e, char *why, size_t len)
{
	struct rg_guest *h = rg_guest_new("fresh");
	char o[64];
	int r;

	if (h == NULL) {
		snprintf(why, len, "out of guest slots");
		return -1;
	}
	r = rg_honest(h, e->v.sock, 128u << 10, NULL, 64);
	if (r != 0) {
		snprintf(why, len, "fresh honest guest set-up: %s",
			 env_outcome(r, o, sizeof(o)));
		rg_guest_close(h);
		return -1;
	}
	rg_post(h, RG_RX, (uintptr_t)h->mem->va, 2048, 0, CDNA_ST_OK);
	rg_publish(h, RG_RX);
	rg_wait_consumed(h, RG_RX, RG_WAIT_MS);
	if (rg_ping(e->S, h, 128) != 0) {
		snprintf(why, len, "frame S -> fresh guest did not arrive");
		rg_guest_close(h);
		return -1;
	}
	rg_simple(h, CDNA_MSG_BYE);
	rg_guest_close(h);
	return 0;
}

static void
env_restart(struct env *e)
{
	rg_guest_close(e->S);
	rg_guest_close(e->L);
	e->S = e->L = NULL;
	e->v.pid = 0;
	if (env_up(e, 1) != 0)
		printf("# vmm restart failed\n");
}

int
env_table_pages(struct env *e, uint64_t *pages, char *why, size_t len)
{
	if (rg_tel_u64(&e->v, "/cdna/vmm", "iommu_table_pages", pages) == 0)
		return 0;
	rg_append(why, len, "no iommu_table_pages in /cdna/vmm");
	return -1;
}

int
env_after(struct env *e, const char *name, int fresh)
{
	char why[256], d[96];
	uint32_t seq = 0;
	size_t bad;
	int ok = 1;

	rg_drain(20);
	if (!rg_vmm_alive(&e->v)) {
		env_fail(e, name, "expected the vmm to survive got %s",
			 rg_vmm_death(&e->v, d, sizeof(d)));
		rg_log_tail(&e->v, 12);
		e->crashes++;
		e->v.failed = 1;
		env_restart(e);
		return -2;
	}
	if (e->S != NULL && e->L != NULL && rg_ping(e->S, e->L, 300) != 0) {
		env_fail(e, name, "expected S -> L traffic to go on got no frame");
		ok = 0;
	}
	if (ok && fresh && e->S != NULL &&
	    env_fresh_guest(e, why, sizeof(why)) != 0) {
		env_fail(e, name, "expected a fresh guest to be served got: %s",
			 why);
		ok = 0;
	}
	bad = rg_mem_verify(why, sizeof(why));
	if (bad != 0) {
		env_fail(e, name, "expected guest memory untouched got %zu bytes changed, first %s",
			 bad, why);
		ok = 0;
	}
	if (rg_frame_forbidden_seen(&seq) != 0) {
		env_fail(e, name, "expected no rejected frame delivered got frame seq %u (%u bytes) seen %u times",
			 seq, rg_frame_len(seq), rg_frame_seen_count(seq));
		ok = 0;
	}
	if (e->S != NULL && e->S->nerr != 0) {
		env_fail(e, name, "sender guest error: %s", e->S->err);
		e->S->nerr = 0;
		ok = 0;
	}
	if (e->L != NULL && e->L->nerr != 0) {
		env_fail(e, name, "sink guest error: %s", e->L->err);
		e->L->nerr = 0;
		ok = 0;
	}
	return ok ? 0 : -1;
}

struct wire_scan {
	struct env *e;
	uint32_t foreign;
};

static void
wire_frame(const uint8_t *pkt, uint32_t len, void *arg)
{
	struct wire_scan *ws = arg;
	uint32_t seq = rg_frame_match(pkt, len);

	if (seq != 0)
		rg_frame_seen(seq);
	else
		ws->foreign++;
}

void
env_down(struct env *e)
{
	struct wire_scan ws = { e, 0 };
	uint32_t seq = 0;
	char why[256];
	int i, n;

	rg_drain(50);
	rg_vmm_stop(&e->v);
	/* The wire capture is the NIC's own record of what left. */
	n = rg_pcap_read(e->v.wire_out, wire_frame, &ws);
	if (n < 0) {
		env_fail(e, "wire-capture", "expected a readable %s got %s",
			 e->v.wire_out, strerror(-n));
	} else {
		int ok = 1;

		for (i = 0; i < e->nwire_must; i++) {
			if (rg_frame_seen_count(e->wire_must[i]) == 0) {
				env_fail(e, "wire-capture", "expected frame seq %u on the wire got none (%d frames captured)",
					 e->wire_must[i], n);
				ok = 0;
			}
		}
		if (rg_frame_forbidden_seen(&seq) != 0) {
			env_fail(e, "wire-capture", "expected no rejected frame on the wire got seq %u",
				 seq);
			ok = 0;
		}
		if (ws.foreign != 0)
			printf("# note: %u frames on the wire were not generated by the test\n",
			       ws.foreign);
		if (ok)
			env_pass(e, "wire-capture");
	}
	if (rg_mem_verify(why, sizeof(why)) != 0)
		env_fail(e, "memory-after-exit",
			 "expected guest memory untouched after vmm exit got %s", why);
	else
		env_pass(e, "memory-after-exit");
	if (e->v.failed)
		e->fail++;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static const struct {
	const char *name;
	int (*fn)(struct env *e);
} groups[] = {
	{ "addr", group_addr },
	{ "use", group_use },
	{ "req", group_req },
	{ "ring", group_ring },
	{ "ctrl", group_ctrl },
	{ "ro", group_ro },
	{ "trunc", group_trunc },
	{ "policy", group_policy },
	{ "pt", group_pt },
	{ "dm", group_dm },
	{ "map", group_map },
	{ "table1", group_table1 },
	{ "hard", group_hard },
	{ "huge", group_huge },
	{ "mapcount", group_mapcount },
	{ "fuse", group_fuse },
};

static void
on_alarm(int sig)
{
	static const char msg[] = "FAIL timeout: group ran out of time\n";

	(void)sig;
	if (rg_vmm_last_pid > 0)
		kill(rg_vmm_last_pid, SIGKILL);
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

int
main(int argc, char **argv)
{
	static struct env env;
	const char *vmm = getenv("CDNA_VMM");
	struct stat st;
	size_t i;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc != 2) {
		fprintf(stderr, "usage: rogue addr|use|req|ring|ctrl|ro|trunc|policy|pt|dm|table1|map|hard|huge|mapcount|fuse\n");
		return 1;
	}
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (strcmp(argv[1], groups[i].name) == 0)
			break;
	if (i == sizeof(groups) / sizeof(groups[0])) {
		fprintf(stderr, "rogue: unknown group '%s'\n", argv[1]);
		return 1;
	}
	if (geteuid() != 0) {
		printf("SKIP rogue %s: not root (the vmm needs /var/run/dpdk and memfd sharing)\n",
		       argv[1]);
		return 77;
	}
	if (vmm == NULL || stat(vmm, &st) != 0 || !(st.st_mode & S_IXUSR)) {
		printf("SKIP rogue %s: cdna-vmm not found (CDNA_VMM=%s)\n",
		       argv[1], vmm != NULL ? vmm : "unset");
		return 77;
	}
	env.group = argv[1];
	if (rg_vmm_init(&env.v, argv[1]) != 0) {
		printf("FAIL setup: cannot create work directory\n");
		return 1;
	}
	/* Every wait is bounded; this is the last resort. */
	signal(SIGALRM, on_alarm);
	alarm(150);
	r = groups[i].fn(&env);
	if (r == 77) {
		nftw(env.v.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
		return 77;
	}
	if (r != 0)
		env.fail++;
	printf("rogue %s: %d passed, %d failed\n", argv[1], env.pass, env.fail);
	/* Logs and captures stay for a failed run only. */
	if (env.fail == 0)
		nftw(env.v.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	else
		printf("# logs and captures kept in %s\n", env.v.dir);
	return env.fail == 0 ? 0 : 1;
}
