/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The attack groups of the rogue test and the environment they share: one
 * cdna-vmm, a sender guest S, a promiscuous sink guest L that catches any
 * frame a rejected request might have leaked, and the rogue guests.
 */
#ifndef ROGUE_H
#define ROGUE_H

#include <stdint.h>

#include "rg.h"

struct env {
	const char *group;
	struct rg_vmm v;
	struct rg_guest *S;	/* honest sender */
	struct rg_guest *L;	/* honest promiscuous sink */
	int pass;
	int fail;
	int crashes;
	uint32_t wire_must[64];	/* frames that must be on the wire */
	int nwire_must;
};

#define ENV_S_MEM	(4u << 20)
#define ENV_L_MEM	(4u << 20)
#define ENV_L_BUFS	128u
#define ENV_L_BUFLEN	CDNA_MAX_FRAME_LEN
#define ENV_S_SLOTS	128u
#define ENV_S_SLOTLEN	10240u

/* MAC that no guest has: frames to it go to L (promiscuous) and the wire. */
extern const uint8_t env_mac_group[6];

void env_pass(struct env *e, const char *name);
void env_fail(struct env *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Starts the vmm (and S and L when with_sl). 0 or -1. */
int env_up(struct env *e, int with_sl);
int env_add_sl(struct env *e);
/*
 * After a case: the vmm still runs (else the case fails with how it died,
 * and the vmm, S and L are restarted), S and L still exchange frames, a
 * fresh honest guest is served, no guest memory byte changed unexpectedly
 * and no forbidden frame arrived anywhere. 0 if all hold.
 */
int env_after(struct env *e, const char *name, int fresh);
/* Connects a fresh honest guest and pings it from S. 0 or -1 (why filled). */
int env_fresh_guest(struct env *e, char *why, size_t len);
/*
 * Region churn (cases_pt.c, cases_map.c): guest address of round k, each
 * in a top-level I/O page-table entry of its own, far from every layout.
 */
#define ENV_CHURN_ADDR(k)	((uint64_t)((k) + 1) << 39)
/* The vmm's I/O page-table pages into *pages: 0, or -1 with why said. */
int env_table_pages(struct env *e, uint64_t *pages, char *why, size_t len);
/* Stops the vmm, checks the summary and the wire capture. */
void env_down(struct env *e);
/* Records a frame that must appear on the wire capture. */
void env_wire_must(struct env *e, uint32_t seq);

/* Outcome text of a control exchange. */
const char *env_outcome(int r, char *buf, size_t len);

int group_addr(struct env *e);
int group_use(struct env *e);
int group_req(struct env *e);
int group_ring(struct env *e);
int group_ctrl(struct env *e);
int group_ro(struct env *e);
int group_trunc(struct env *e);
int group_policy(struct env *e);
int group_pt(struct env *e);
int group_dm(struct env *e);
/*
 * A guest of the given mode over mem with the rogue layout's regions A, RO,
 * WO and DL, queue 0 of ring entries, started, a sender of 16 slots in A.
 * 0, or -1 (said).
 */
int layout_guest_up(struct env *e, struct rg_guest *g, struct rg_mem *mem,
		    uint32_t mode, const uint8_t mac[6], uint32_t ring);
/* A 200-byte frame from src that must never be seen, written at at. Its seq or 0. */
uint32_t foreign_frame(const uint8_t src[6], uint64_t at);
int group_table1(struct env *e);
int group_map(struct env *e);
/* These return 77 when the machine cannot run them (said why). */
int group_hard(struct env *e);
int group_fuse(struct env *e);
int group_huge(struct env *e);
int group_mapcount(struct env *e);

/* ---- table-driven data-path cases (cases_data.c) ---- */

/* Where a request address points, in the rogue's memory layout. */
enum where {
	W_ABS,		/* off is the address */
	W_A,		/* region A, 1 MiB, read-write */
	W_AEND,		/* first byte after A (the unregistered gap page) */
	W_B,		/* region B, after the gap */
	W_C,		/* region C, 64 KiB */
	W_D,		/* region D, 64 KiB, starts where C ends */
	W_RO,		/* region with DEV_READ only */
	W_WO,		/* region with DEV_WRITE only */
	W_DL,		/* region removed with REGION_DEL */
	W_R2,		/* the second rogue's own region */
	W_LMEM,		/* the sink guest's memory (not its posted buffers) */
};

#define WHO_R	0
#define WHO_R2	1

struct spec {
	uint8_t who;	/* WHO_R or WHO_R2: the guest that posts */
	uint8_t dir;	/* RG_TX or RG_RX */
	uint8_t stage;	/* posted, published and consumed before the next */
	uint8_t where;
	int64_t off;
	uint32_t len;
	uint16_t flags;
	uint16_t res0;
	uint32_t res1;
	uint64_t res2;
	uint16_t expect;	/* CDNA_ST_* or RG_ST_ANY */
};

struct dcase;
typedef int (*dcase_fn)(struct env *e, const struct dcase *c, char *why,
			size_t len);

struct dcase {
	const char *name;
	const char *what;
	const char *verdict;	/* expected verdict in words (custom rows) */
	dcase_fn pre;		/* optional set-up before the specs */
	dcase_fn fn;		/* custom case instead of specs */
	int nspec;
	struct spec s[10];
};

/* Rogue memory layout shared by the data groups. */
struct rogue {
	struct rg_guest *R;
	struct rg_guest *R2;
	struct rg_guest *L;	/* the sink, whose memory W_LMEM names */
	struct rg_mem *mem;
	struct rg_mem *mem2;
	uint64_t base;
};

extern struct rogue rogue;

#define LAY_A		0u
#define LAY_A_SZ	(1u << 20)
#define LAY_GAP		(LAY_A + LAY_A_SZ)
#define LAY_B		(LAY_GAP + 4096u)
#define LAY_B_SZ	(256u << 10)
#define LAY_C		(LAY_B + LAY_B_SZ)
#define LAY_C_SZ	(64u << 10)
#define LAY_D		(LAY_C + LAY_C_SZ)
#define LAY_D_SZ	(64u << 10)
#define LAY_RO		(LAY_D + LAY_D_SZ)
#define LAY_RO_SZ	(64u << 10)
#define LAY_WO		(LAY_RO + LAY_RO_SZ)
#define LAY_WO_SZ	(64u << 10)
#define LAY_DL		(LAY_WO + LAY_WO_SZ)
#define LAY_DL_SZ	(64u << 10)
#define LAY_TOTAL	(2u << 20)

#define ROGUE_MAC1	{ 0x02, 0x5e, 0xc0, 0x00, 0x00, 0x01 }
#define ROGUE_MAC2	{ 0x02, 0x5e, 0xc0, 0x00, 0x00, 0x02 }

/* Sets up R (and R2 when two) with the layout above. 0 or -1. */
int rogue_setup(struct env *e, int two);
uint64_t rogue_addr(uint8_t where, int64_t off);
/* Runs the rows of a table; returns failures. */
int run_dcases(struct env *e, const struct dcase *c, int n);

#endif /* ROGUE_H */
