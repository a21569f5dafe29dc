/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cdna-vmm private header: options, guests, mediated queues.
 *
 * One lcore runs everything that touches guest state: the control socket,
 * the mediator and the NIC model, so guest state needs no locking on the data
 * path. The telemetry thread only reads counters, under vmm.lock.
 */
#ifndef CDNA_VMM_H
#define CDNA_VMM_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "cdna_abi.h"
#include "cdna_ctrl.h"
#include "ctrl_parse.h"
#include "nic.h"
#include "regions.h"
#include "strategy.h"
#include "validate.h"
#include "vlog.h"

#define VMM_MAX_UIDS	16

struct vmm_opts {
	const char *socket_path;
	const char *wire;
	const char *pcap;
	uint32_t max_guests;
	uint32_t max_regions;
	uint64_t max_guest_mem;		/* bytes one guest may register */
	uint32_t ring_min;
	uint32_t ring_max;
	uint32_t burst;
	uid_t allow_uid[VMM_MAX_UIDS];
	unsigned int nb_allow_uid;
	int audit;
	int spoof_check;		/* drop TX frames with a foreign source MAC */
	int allow_passthrough;		/* guests may write NIC descriptors (passthrough, direct-map) */
	int allow_unprotected;		/* tests: a guest's DMA may reach any guest's memory */
	const char *iommu_cost;		/* cost model of the emulated IOMMU (iommu.h) */
	uint32_t iotlb;			/* its IOTLB entries */
	int fault_injection;		/* /cdna/inject_bad_dma (fault_inject.c) */
	uint32_t map_quota;		/* mappings or pages a guest may hold (iomap.h) */
};

/* The mediator's own record of one descriptor it posted. */
struct mq_slot {
	struct cdna_region *reg;
	uint64_t off;
	uint32_t len;
	uint32_t cookie;
};

/* One direction (TX or RX) of a mediated queue. */
struct mq_dir {
	struct cdna_req *req;		/* (g) entries, read once each */
	struct cdna_cmp *cmp;		/* (m) entries */
	struct cdna_index *req_prod;	/* (g) */
	struct cdna_index *cmp_cons;	/* (g) */
	struct cdna_index *cmp_prod;	/* (m) */
	struct cdna_index *req_cons_pub; /* (m), informational for the guest */
	uint32_t size;
	uint32_t mask;
	uint32_t req_cons;		/* private: requests consumed */
	uint32_t cmp_prod_v;		/* private: completions written */
	uint32_t cmp_cons_seen;		/* private: last valid guest consumer */
	int skip_chain;			/* TX: rejecting the tail of an overlong chain */
	struct cdna_rt_hint hint;	/* the full path's last region */
	struct cdna_fast_ways ways;	/* the batch path's regions (validate.h) */
	struct cdna_nic_ring *nic;
	uint32_t nic_tail;		/* private: descriptors posted */
	struct mq_slot *slots;		/* per NIC descriptor slot */
};

/* One map ring of a queue (cdna_abi.h's map channel; iomap.c serves it). */
struct mq_map {
	struct cdna_map_req *req;	/* (g) entries, read once each */
	struct cdna_map_cmp *cmp;	/* (m) entries */
	struct cdna_index *req_prod;	/* (g) */
	struct cdna_index *cmp_cons;	/* (g) */
	struct cdna_index *cmp_prod;	/* (m) */
	struct cdna_index *req_cons_pub; /* (m), informational for the guest */
	uint32_t size;			/* 0: the queue has no map channel */
	uint32_t mask;
	uint32_t req_cons;		/* private: requests consumed */
	uint32_t cmp_prod_v;		/* private: answers written */
	uint32_t cmp_cons_seen;		/* private: last valid guest consumer */
};

struct mqueue {
	struct guest *g;
	uint16_t qid;
	int created;
	int quarantined;
	int nic_lost;		/* its NIC status index was impossible: no status is read again */
	void *req_area;
	size_t req_len;
	void *cmp_area;
	size_t cmp_len;
	struct mq_dir tx;
	struct mq_dir rx;
	struct mq_map map[2];		/* by CDNA_DIR_*: mapping strategies */
};

struct guest_counters {
	uint64_t reject[CDNA_ST_COUNT];	/* rejected packets per reason */
	uint64_t ring_corrupt;
	uint64_t nic_bad_status;	/* status entry not matching what was posted */
};

struct guest {
	uint32_t id;
	int fd;
	pid_t pid;
	uid_t uid;
	uint16_t nb_queues;		/* 0 until HELLO */
	uint32_t mode;			/* CDNA_MODE_*, from HELLO */
	const struct strategy *strat;	/* of mode (strategy.h); mediated before HELLO */
	struct cdna_iommu_domain *iodom; /* direct-map, mapping strategies: its I/O page table */
	struct iomap *iomap;		/* mapping strategies: what is mapped (iomap.h) */
	int started;
	uint8_t mac[6];
	uint32_t rxmode;		/* CDNA_RXMODE_* last set */
	uint32_t mtu;
	int nic_ctx;			/* -1 until HELLO */
	uint64_t inflight;		/* descriptors posted, not reclaimed */
	uint64_t claimed_lines;		/* sum over in-flight DMA of lines claimed */
	uint64_t mem_bytes;		/* mapped, in whole file pages, including dying regions */
	uint64_t region_bytes;		/* vmm memory its regions take: records, claim maps */
	struct cdna_region_table rt;
	struct cdna_region **dying;	/* removed from rt, DMA still in flight */
	uint32_t nb_dying;
	struct mqueue q[CDNA_MAX_QUEUES];
	struct guest_counters ctr;
	uint64_t hello_deadline;	/* TSC: disconnect if no HELLO by then */
	uint64_t refusals;		/* control requests refused */
	/* Telemetry strings hold at most RTE_TEL_MAX_STRING_LEN - 1 characters. */
	char last_refusal[128];		/* why the last one was */
	char quarantine[128];		/* why a queue was quarantined, if one was */
	char fault[160];		/* set: disconnect at the next chance, why */
};

/*
 * A departed guest's last word, kept for telemetry (/cdna/gone) so that a
 * client learns why and how it left without reading the log.
 */
#define VMM_GONE_KEPT	64
struct guest_gone {
	uint32_t id;
	pid_t pid;
	int said_hello;			/* HELLO accepted: it had a NIC context */
	char why[128];
	struct cdna_msg_stats s;
	uint64_t rejects;		/* all reasons but ABORTED */
	uint64_t flushed;		/* descriptors in flight at teardown */
	uint64_t claims_after;		/* 64-byte lines still claimed after it */
	uint32_t regions_released;
	uint64_t refusals;
	char last_refusal[128];
	char quarantine[128];
};

/*
 * Where the data-path lcore's time goes, over rounds that moved anything
 * (TSC cycles): mediate (fetch, validate, claim, post), the NIC model (DMA,
 * switch, wire), reclaim (release, scrub, complete); and how much.
 *
 * A TSC read costs about 20 ns in a VM (18-21 ns on the bench machine),
 * against about 65 ns of the lcore per 64-byte frame: five reads in every
 * round were some 5% of it. So the stages are timed in one round out of
 * VMM_COST_SAMPLE_EVERY that move anything, and each timed round's cycles
 * count that many times: it stands for itself and the rounds before it
 * since the last one timed. The period is odd, so that it does not keep
 * step with the main loop's power-of-two chores (control every 256
 * rounds). The counts (requests, frames, completions) are exact, and so
 * is the loop's time in all (cyc_loop in telemetry: every round, idle
 * ones included), read off the TSC when asked.
 */
#define VMM_COST_SAMPLE_EVERY	7u

/*
 * A timed stage also holds one TSC read (about 40 cycles here), counted
 * VMM_COST_SAMPLE_EVERY times: about one cycle per descriptor per stage
 * at 32 descriptors a round, more in smaller rounds.
 *
 * The stages' clock; test_mediator builds mediator.c with a clock of its
 * own (-DVMM_TSC=...) that moves by one per read, so that what is added
 * where can be checked exactly.
 */
#ifndef VMM_TSC
#define VMM_TSC	rte_rdtsc
#else
uint64_t VMM_TSC(void);
#endif

struct vmm_cost {
	uint64_t cyc_mediate;		/* estimated, as above */
	uint64_t cyc_nic;		/* estimated, as above */
	uint64_t cyc_reclaim;		/* estimated, as above */
	uint64_t loop_start;		/* TSC at the loop's start: cyc_loop is time since */
	uint64_t requests;		/* guest requests consumed */
	uint64_t batches;		/* mediator invocations that consumed any */
	uint64_t frames;		/* frames the NIC moved */
	uint64_t completions;		/* descriptors reclaimed, drains' included */
	uint64_t rounds;		/* rounds that moved anything */
	uint64_t timed_rounds;		/* of those, the ones timed */
	uint32_t untimed;		/* rounds that moved anything since the last timed */
};

struct vmm {
	struct vmm_opts opt;
	struct cdna_ctrl_limits lim;
	struct cdna_nic *nic;
	struct cdna_iommu *iommu;	/* the emulated IOMMU (direct-map guests) */
	uint16_t wire_port;
	int socket_id;
	int listen_fd;
	int lock_fd;			/* flock of <socket>.lock: one vmm per socket */
	int epoll_fd;
	struct guest **guests;		/* max_guests slots */
	uint32_t next_guest_id;
	uint64_t guests_seen;
	struct vmm_cost cost;
	struct guest_gone gone[VMM_GONE_KEPT];	/* the last guests to leave */
	uint64_t nb_gone;		/* ever; the newest is gone[(nb_gone - 1) % KEPT] */
	pthread_mutex_t lock;		/* guest table vs telemetry */
	volatile int quit;
	/*
	 * What the data path visits each round, densely: the queues of the
	 * started mediated guests, and the guests whose strategy serves
	 * requests of its own. Rebuilt from the guest table at the start of
	 * the next round whenever anything they follow from may have changed
	 * (mediator_poll_stale): an idle guest then costs a round the test of
	 * its queue's indices, not a walk through the table.
	 */
	struct mqueue **poll_q;		/* max_guests * CDNA_MAX_QUEUES slots */
	uint32_t nb_poll_q;
	struct guest **poll_serve;	/* max_guests slots */
	uint32_t nb_poll_serve;
	int poll_stale;
};

extern struct vmm vmm;

/* A line about guest g, rate-limited by its uid (vlog.h). */
#define GLOG(g, fmt, ...) \
	vlog_uid((g)->uid, "guest %u: " fmt, (g)->id, ##__VA_ARGS__)
/*
 * A request of g refused: said in telemetry (refusals, last_refusal)
 * whatever the log limiter lets through, and logged like GLOG.
 */
void guest_refuse(struct guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define GREFUSE(g, fmt, ...) guest_refuse((g), fmt, ##__VA_ARGS__)

/* options.c */
int vmm_parse_options(int argc, char **argv, struct vmm_opts *o);

/* control.c: the socket side. */
int control_init(struct vmm *v);
void control_poll(struct vmm *v, int timeout_ms);
void control_fini(struct vmm *v);

/* guest.c: guest lifecycle and message handlers. */
struct guest *guest_new(struct vmm *v, int fd, pid_t pid, uid_t uid);
int guest_handle(struct vmm *v, struct guest *g, const struct cdna_msg *m,
		 int fd, struct cdna_msg *reply, int *reply_fds, int *nb_reply_fds);
void guest_teardown(struct vmm *v, struct guest *g, const char *why);
void guest_counters_sum(const struct vmm *v, const struct guest *g,
			struct cdna_msg_stats *out);
void guest_expire(struct vmm *v);
/* Bytes of the vmm's own memory guest g takes (telemetry vmm_bytes). */
uint64_t guest_footprint(const struct guest *g);

/*
 * Whether mq is the mediator's to serve: a passthrough guest's queues are
 * the NIC's alone, with no request to validate and nothing to reclaim.
 */
static inline int
mq_mediated(const struct mqueue *mq)
{
	return mq->g->strat->mediated;
}

/* mediator.c: the data path. */
/* The visiting lists for v->opt.max_guests guests (again, after it grows). 0 or -ENOMEM. */
int mediator_init(struct vmm *v);
void mediator_fini(struct vmm *v);
/*
 * A guest came or went, started or stopped, changed strategy, or a queue
 * came, went or was quarantined: the next round rebuilds what it visits.
 * Called on the lcore that polls, between rounds (or by the round itself).
 */
static inline void
mediator_poll_stale(struct vmm *v)
{
	v->poll_stale = 1;
}
unsigned int mediator_poll(struct vmm *v);
void mediator_queue_drain(struct vmm *v, struct mqueue *mq);
unsigned int mediator_reclaim(struct vmm *v, struct mqueue *mq);

/* audit.c: the independent DMA oracle (--audit). */
int audit_init(struct vmm *v);
void audit_region_add(uint32_t ctx, const void *host, uint64_t size, uint32_t perm);
void audit_region_del(uint32_t ctx, const void *host);
/*
 * A passthrough context posts nothing the oracle can see: its DMA is
 * checked against its registered memory only (the direct-map guarantee).
 */
void audit_ctx_owned_only(uint32_t ctx, int on);
void audit_post(uint32_t ctx, const void *host, uint32_t len, int dir);
void audit_complete(uint32_t ctx, const void *host, int dir);
void audit_stats(uint64_t *dma, uint64_t *violations);

/* telemetry.c */
int telemetry_init(struct vmm *v);

/* wire_pcap.c */
int wire_pcap_open(uint16_t port, const char *file);
void wire_pcap_close(void);


#endif /* CDNA_VMM_H */
