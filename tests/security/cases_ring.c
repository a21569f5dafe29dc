/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring corruption: impossible producer or consumer indices must quarantine
 * the queue (counted once, logged once, telemetry state "quarantined")
 * while every other guest carries on; entries rewritten after publication
 * must never steer a DMA (the mediator copies each entry once); a guest
 * that ignores its completion ring must not make the mediator overwrite
 * completions it has not read.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdna_ring.h"
#include "rogue.h"

enum corrupt {
	C_RX_PROD_JUMP,
	C_TX_PROD_JUMP,
	C_TX_PROD_BACK,
	C_CMP_CONS_BEYOND,
	C_CMP_CONS_BACK_FAR,
	C_CMP_CONS_BACK_ONE,
	C_RX_CMP_CONS_BEYOND,
};

static struct rg_guest *
ring_guest(struct env *e, const char *name, char *why, size_t len)
{
	struct rg_guest *g = rg_guest_new(name);
	char o[64];
	int r;

	if (g == NULL)
		return NULL;
	r = rg_honest(g, e->v.sock, 512u << 10, NULL, 64);
	if (r != 0) {
		snprintf(why, len, "set-up: %s", env_outcome(r, o, sizeof(o)));
		rg_guest_close(g);
		return NULL;
	}
	/* RX buffers in the first 256 KiB, TX slots above. */
	rg_sender_init(g, (uintptr_t)g->mem->va + (256u << 10), 16, 10240);
	return g;
}

static const char *const corrupt_what[] = {
	[C_RX_PROD_JUMP] = "rx_req.prod",
	[C_TX_PROD_JUMP] = "tx_req.prod",
	[C_TX_PROD_BACK] = "tx_req.prod",
	[C_CMP_CONS_BEYOND] = "tx_cmp.cons",
	[C_CMP_CONS_BACK_FAR] = "tx_cmp.cons",
	[C_CMP_CONS_BACK_ONE] = "tx_cmp.cons",
	[C_RX_CMP_CONS_BEYOND] = "rx_cmp.cons",
};

static int
quarantine(struct env *e, enum corrupt kind, char *why, size_t len)
{
	struct rg_guest *g = ring_guest(e, "corrupt", why, len);
	struct cdna_msg_stats st0, st1;
	char line[512], tel[4096], cmd[64], state[32], o[64];
	uint32_t v = 0;
	uint64_t end;
	int r;

	if (g == NULL)
		return -1;
	/* Some honest traffic first, so that no index is at zero. */
	rg_post(g, RG_RX, (uintptr_t)g->mem->va, 2048, 0, CDNA_ST_OK);
	rg_publish(g, RG_RX);
	rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
	if (rg_ping(e->S, g, 200) != 0 || rg_ping(g, e->L, 200) != 0 ||
	    rg_ping(g, e->L, 200) != 0) {
		snprintf(why, len, "honest traffic before the attack failed");
		return -1;
	}
	rg_drain(20);
	r = rg_stats(g, &st0);
	if (r != 0) {
		snprintf(why, len, "STATS: %s", env_outcome(r, o, sizeof(o)));
		return -1;
	}
	/* From here on the test must not touch the indices itself. */
	g->quiet_ring = 1;
	switch (kind) {
	case C_RX_PROD_JUMP:
		rg_post(g, RG_RX, (uintptr_t)g->mem->va + 4096, 2048, 0,
			RG_ST_ANY);
		v = g->prod[RG_RX] + g->size[RG_RX] + 1;
		cdna_store_release(rg_req_idx(g, RG_RX), v);
		break;
	case C_TX_PROD_JUMP:
		v = g->prod[RG_TX] + g->size[RG_TX] + 1;
		cdna_store_release(rg_req_idx(g, RG_TX), v);
		break;
	case C_TX_PROD_BACK:
		v = g->prod[RG_TX] - 1;
		cdna_store_release(rg_req_idx(g, RG_TX), v);
		break;
	case C_CMP_CONS_BEYOND:
		v = g->cons[RG_TX] + 5;
		break;
	case C_CMP_CONS_BACK_FAR:
		v = g->cons[RG_TX] - g->size[RG_TX] - 1;
		break;
	case C_CMP_CONS_BACK_ONE:
		v = g->cons[RG_TX] - 1;
		break;
	case C_RX_CMP_CONS_BEYOND:
		v = g->cons[RG_RX] + 7;
		cdna_store_release(rg_req_idx(g, 2 + RG_RX), v);
		/* More RX buffers make the mediator look at its room. */
		rg_post(g, RG_RX, (uintptr_t)g->mem->va + 8192, 2048, 0,
			RG_ST_ANY);
		rg_publish(g, RG_RX);
		rg_send_frame(e->S, g->mac, 200, 0);
		break;
	}
	if (kind == C_CMP_CONS_BEYOND || kind == C_CMP_CONS_BACK_FAR ||
	    kind == C_CMP_CONS_BACK_ONE) {
		cdna_store_release(rg_req_idx(g, 2 + RG_TX), v);
		/* A new request makes the mediator look at its room. */
		rg_send_frame(g, e->L->mac, 100, 0);
	}
	rg_note("%s set to %u (guest %u)", corrupt_what[kind], v, g->id);
	snprintf(cmd, sizeof(cmd), "/cdna/guest,%u", g->id);
	end = rg_now_ms() + 1000;
	state[0] = '\0';
	while (rg_now_ms() < end) {
		if (rg_tel(&e->v, cmd, tel, sizeof(tel)) == 0 &&
		    rg_json_str(tel, "state", state, sizeof(state)) == 0 &&
		    strcmp(state, "quarantined") == 0)
			break;
		rg_drain(20);
	}
	if (strcmp(state, "quarantined") != 0)
		snprintf(why + strlen(why), len - strlen(why),
			 "expected telemetry state quarantined got '%s'; ", state);
	else if (rg_json_str(tel, "quarantine", line, sizeof(line)) != 0 ||
		 strncmp(line, "queue 0: ", 9) != 0)
		snprintf(why + strlen(why), len - strlen(why),
			 "expected telemetry to say why queue 0 was quarantined got '%s'; ",
			 line);
	else
		rg_note("quarantine: %s", line);
	r = rg_stats(g, &st1);
	if (r != 0) {
		snprintf(why + strlen(why), len - strlen(why),
			 "expected the guest to stay connected (quarantine) got %s on STATS; ",
			 env_outcome(r, o, sizeof(o)));
	} else if (st1.ring_corrupt - st0.ring_corrupt != 1) {
		snprintf(why + strlen(why), len - strlen(why),
			 "expected ring_corrupt delta 1 got %llu; ",
			 (unsigned long long)(st1.ring_corrupt - st0.ring_corrupt));
	}
	/* Poking the dead queue again must not log or count again. */
	cdna_store_release(rg_req_idx(g, RG_TX), g->prod[RG_TX] + 1000);
	cdna_store_release(rg_req_idx(g, RG_RX), g->prod[RG_RX] + 1000);
	rg_drain(100);
	if (rg_stats(g, &st1) == 0 && st1.ring_corrupt - st0.ring_corrupt > 1)
		snprintf(why + strlen(why), len - strlen(why),
			 "expected ring_corrupt counted once got %llu; ",
			 (unsigned long long)(st1.ring_corrupt - st0.ring_corrupt));
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

#define QFN(fn, kind) \
static int \
fn(struct env *e, const struct dcase *c, char *why, size_t len) \
{ \
	return quarantine(e, kind, why, len); \
}

QFN(q_rx_prod_jump, C_RX_PROD_JUMP)
QFN(q_tx_prod_jump, C_TX_PROD_JUMP)
QFN(q_tx_prod_back, C_TX_PROD_BACK)
QFN(q_cmp_beyond, C_CMP_CONS_BEYOND)
QFN(q_cmp_back_far, C_CMP_CONS_BACK_FAR)
QFN(q_cmp_back_one, C_CMP_CONS_BACK_ONE)
QFN(q_rx_cmp_beyond, C_RX_CMP_CONS_BEYOND)

/* A full ring (prod - cons == size) is legal and must not quarantine. */
static int
ring_full(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *g = ring_guest(e, "full", why, len);
	struct cdna_msg_stats st;
	uint32_t i, bad = 0, first;

	if (g == NULL)
		return -1;
	first = g->ncookie;
	for (i = 0; i < g->size[RG_RX]; i++)
		rg_post(g, RG_RX, (uintptr_t)g->mem->va + i * 4096u, 2048, 0,
			CDNA_ST_OK);
	rg_publish(g, RG_RX);
	rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
	for (i = 0; i < g->size[RG_RX]; i++)
		rg_send_frame(e->S, g->mac, 128, 0);
	for (i = 0; i < g->size[RG_RX]; i++) {
		rg_wait(g, first + i, RG_WAIT_MS);
		if (g->rec[first + i].status != CDNA_ST_OK)
			bad++;
	}
	if (bad != 0)
		snprintf(why, len, "expected %u RX OK got %u not OK",
			 g->size[RG_RX], bad);
	if (rg_stats(g, &st) != 0 || st.ring_corrupt != 0)
		snprintf(why + strlen(why), len - strlen(why),
			 "%sexpected ring_corrupt 0 got %llu",
			 why[0] ? "; " : "", (unsigned long long)st.ring_corrupt);
	if (g->nerr != 0)
		snprintf(why + strlen(why), len - strlen(why), "; %s", g->err);
	rg_simple(g, CDNA_MSG_BYE);
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

/*
 * Entries rewritten after the producer index is published: a thread flips
 * each posted RX entry between a valid buffer of the guest and an address
 * in the sink guest's memory (and its flags between 0 and MORE). Whatever
 * copy the mediator takes, the DMA must go only where it validated.
 */
struct flipper {
	struct cdna_req *ring;
	uint32_t n;
	uint64_t good[32];
	uint64_t evil[32];
	volatile int stop;
};

static void *
flip(void *arg)
{
	struct flipper *f = arg;
	volatile struct cdna_req *r = (volatile struct cdna_req *)f->ring;
	uint32_t k = 0, i;

	/*
	 * Each entry is bad for a while now and then, so that some copies
	 * are taken while it is valid and some while it is not.
	 */
	while (!f->stop) {
		for (i = 0; i < f->n; i++) {
			uint32_t ph = (k >> 6) + i;

			r[i].addr = ph % 3 == 0 ? f->evil[i] : f->good[i];
			r[i].flags = ph % 5 == 0 ? CDNA_REQ_F_MORE : 0;
		}
		k++;
	}
	return NULL;
}

static int
toctou(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *g = ring_guest(e, "flip", why, len);
	static struct flipper f;
	pthread_t th;
	uint32_t i, first, pending = 0, nok = 0, nbad = 0;

	if (g == NULL)
		return -1;
	first = g->ncookie;
	f.ring = cdna_area_rx_req(g->req, g->size[RG_TX]);
	f.n = 32;
	f.stop = 0;
	for (i = 0; i < f.n; i++) {
		f.good[i] = (uintptr_t)g->mem->va + i * 4096u;
		f.evil[i] = (uintptr_t)e->L->mem->va + (3u << 20) + i * 4096u;
		rg_post(g, RG_RX, f.good[i], 2048, 0, RG_ST_ANY);
	}
	if (pthread_create(&th, NULL, flip, &f) != 0) {
		snprintf(why, len, "pthread_create failed");
		return -1;
	}
	rg_publish(g, RG_RX);
	rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
	rg_drain(50);
	f.stop = 1;
	pthread_join(th, NULL);
	for (i = 0; i < f.n; i++)
		if (!g->rec[first + i].done)
			pending++;
	rg_note("flipped entries: %u accepted (in flight), %u completed at once",
		pending, f.n - pending);
	for (i = 0; i < pending; i++)
		rg_send_frame(e->S, g->mac, 300, 0);
	for (i = 0; i < f.n; i++) {
		const struct rg_rec *r = &g->rec[first + i];

		rg_wait(g, first + i, RG_WAIT_MS);
		if (!r->done)
			nbad++;
		else if (r->status == CDNA_ST_OK)
			nok++;
		else if (r->status != CDNA_ST_BAD_ADDRESS &&
			 r->status != CDNA_ST_BAD_FLAGS)
			nbad++;
	}
	if (nbad != 0)
		snprintf(why, len, "expected each entry OK, BAD_ADDRESS or BAD_FLAGS got %u others",
			 nbad);
	if (g->nerr != 0)
		snprintf(why + strlen(why), len - strlen(why), "%s%s",
			 why[0] ? "; " : "", g->err);
	rg_note("flipped entries: %u OK with the frame in the valid buffer", nok);
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

/* Scribbling over the request area header and index padding changes nothing. */
static int
hdr_scribble(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *g = ring_guest(e, "scribble", why, len);
	struct cdna_req_area_idx *a;
	uint32_t ck;

	if (g == NULL)
		return -1;
	a = (struct cdna_req_area_idx *)g->req;
	memset(&a->hdr, 0xff, sizeof(a->hdr));
	memset(a->tx_req_prod.pad, 0xee, sizeof(a->tx_req_prod.pad));
	memset(a->rx_req_prod.pad, 0xdd, sizeof(a->rx_req_prod.pad));
	memset(g->req + sizeof(*a), 0xcc, CDNA_AREA_ENTRIES_OFF - sizeof(*a));
	ck = rg_post(g, RG_RX, (uintptr_t)g->mem->va, 2048, 0, CDNA_ST_OK);
	rg_publish(g, RG_RX);
	rg_wait_consumed(g, RG_RX, RG_WAIT_MS);
	if (rg_ping(e->S, g, 500) != 0)
		snprintf(why, len, "expected RX to work after the scribble got no frame (status %s)",
			 rg_st_name(g->rec[ck].status));
	else if (rg_ping(g, e->L, 500) != 0)
		snprintf(why, len, "expected TX to work after the scribble got no frame");
	if (g->nerr != 0)
		snprintf(why + strlen(why), len - strlen(why), "%s%s",
			 why[0] ? "; " : "", g->err);
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

/*
 * The guest stops reading completions and keeps posting: the mediator must
 * not produce more completions than the guest has room for (unread ones
 * would be overwritten). It may wait or quarantine.
 */
static int
cmp_overflow(struct env *e, const struct dcase *c, char *why, size_t len)
{
	struct rg_guest *g = ring_guest(e, "overflow", why, len);
	const struct cdna_cmp *ring;
	uint32_t i, prod, first, size;

	if (g == NULL)
		return -1;
	size = g->size[RG_TX];
	first = g->ncookie;
	g->quiet_ring = 1;
	for (i = 0; i < 2 * size; i++) {
		rg_post(g, RG_TX, (uintptr_t)g->mem->va, 100, 0x0200,
			i < size ? CDNA_ST_BAD_FLAGS : RG_ST_ANY);
		if (i == size - 1) {
			rg_publish(g, RG_TX);
			rg_drain(100);
		}
	}
	rg_publish(g, RG_TX);
	rg_drain(200);
	/* Completion entries up to the index just read. */
	prod = cdna_load_acquire(rg_cmp_idx(g, RG_TX));
	if (prod - g->cons[RG_TX] > size)
		snprintf(why, len, "expected at most %u unread completions got %u",
			 size, prod - g->cons[RG_TX]);
	ring = cdna_area_tx_cmp((void *)(uintptr_t)g->cmp);
	for (i = 0; i < size && why[0] == '\0'; i++) {
		if (ring[i].cookie != first + i ||
		    ring[i].status != CDNA_ST_BAD_FLAGS) {
			snprintf(why, len, "completion slot %u: expected cookie %u BAD_FLAGS got cookie %u %s",
				 i, first + i, ring[i].cookie,
				 rg_st_name(ring[i].status));
		}
	}
	/* Now read them; the rest may follow or the queue may be quarantined. */
	g->quiet_ring = 0;
	rg_drain(200);
	if (g->nerr != 0)
		snprintf(why + strlen(why), len - strlen(why), "%s%s",
			 why[0] ? "; " : "", g->err);
	rg_guest_close(g);
	return why[0] != '\0' ? -1 : 0;
}

static const struct dcase ring_cases[] = {
	{ "rx-prod-jump", "rx_req.prod moved ring size + 1 ahead of the mediator's cons",
	  "queue quarantined: log line, ring_corrupt +1, telemetry quarantined; others unaffected",
	  NULL, q_rx_prod_jump, 0, { { 0 } } },
	{ "tx-prod-jump", "tx_req.prod moved ring size + 1 ahead",
	  "quarantine as above", NULL, q_tx_prod_jump, 0, { { 0 } } },
	{ "tx-prod-backwards", "tx_req.prod moved back by one after the mediator consumed",
	  "quarantine as above", NULL, q_tx_prod_back, 0, { { 0 } } },
	{ "cmp-cons-beyond-prod", "tx_cmp.cons set 5 past the completion producer",
	  "quarantine as above", NULL, q_cmp_beyond, 0, { { 0 } } },
	{ "rx-cmp-cons-beyond-prod", "rx_cmp.cons set 7 past the completion producer",
	  "quarantine as above", NULL, q_rx_cmp_beyond, 0, { { 0 } } },
	{ "cmp-cons-backwards-far", "tx_cmp.cons moved back by ring size + 1",
	  "quarantine as above", NULL, q_cmp_back_far, 0, { { 0 } } },
	{ "cmp-cons-backwards-one", "tx_cmp.cons moved back by one",
	  "quarantine as above", NULL, q_cmp_back_one, 0, { { 0 } } },
	{ "ring-full-is-legal", "exactly ring-size RX requests outstanding",
	  "all accepted and filled; no quarantine", NULL, ring_full, 0, { { 0 } } },
	{ "entry-rewritten-after-publish", "a thread flips published RX entries between a valid buffer and the sink's memory",
	  "each OK (frame in the valid buffer), BAD_ADDRESS or BAD_FLAGS; sink memory untouched",
	  NULL, toctou, 0, { { 0 } } },
	{ "req-area-header-scribble", "guest overwrites the request area header and index padding",
	  "RX and TX keep working", NULL, hdr_scribble, 0, { { 0 } } },
	{ "cmp-ring-ignored", "guest never reads completions and posts twice the ring size",
	  "never more than ring-size unread completions; none overwritten", NULL, cmp_overflow, 0, { { 0 } } },
};

int
group_ring(struct env *e)
{
	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		return -1;
	}
	rogue.L = e->L;
	run_dcases(e, ring_cases, sizeof(ring_cases) / sizeof(ring_cases[0]));
	env_down(e);
	return 0;
}
