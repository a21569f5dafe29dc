/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_cdna private definitions: device, queue and counter layout shared by
 * the ethdev ops (cdna_ethdev.c), the burst functions (cdna_rxtx.c) and the
 * control channel to cdna-vmm (cdna_ctrl.c).
 */
#ifndef CDNA_PMD_H
#define CDNA_PMD_H

/* Log type name when built outside the DPDK tree. */
#ifndef RTE_LOG_DEFAULT_LOGTYPE
#define RTE_LOG_DEFAULT_LOGTYPE pmd.net.cdna
#endif

#include <pthread.h>
#include <stdint.h>
#include <sys/un.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <ethdev_driver.h>

#include "cdna_abi.h"
#include "cdna_ctrl.h"
#include "cdna_ring.h"
#include "pagetab.h"

extern int cdna_logtype;

#define PMD_LOG(level, fmt, args...) \
	rte_log(RTE_LOG_ ## level, cdna_logtype, "%s(): " fmt "\n", \
		__func__, ##args)

#define CDNA_DEFAULT_RING	1024u
#define CDNA_RX_BULK		64u	/* mbufs allocated per refill step */
#define CDNA_MAP_MAX		64u	/* buffers one cdna_map_get handles at most */
#define CDNA_RX_REFILL_THRESH	32u	/* refill once this many slots are free */
#define CDNA_CTRL_TIMEOUT_S	30	/* longest wait for one control reply */
/* Map answers come within microseconds: a second means the mediator is gone. */
#define CDNA_MAP_WAIT_S		1
/* Longest wait, at a stop, for a dead channel's mediator to close it. */
#define CDNA_GONE_WAIT_MS	2000
#define CDNA_LINK_SPEED		RTE_ETH_SPEED_NUM_10G

/* Per-status counters: index CDNA_ST_COUNT collects unknown status values. */
#define CDNA_ST_SLOTS		(CDNA_ST_COUNT + 1)

struct cdna_rxq_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t errors;	/* completions carrying an error (not ABORTED) */
	uint64_t nombuf;	/* mbufs that could not be allocated for refill */
	uint64_t bad_cookie;	/* completion named no outstanding buffer */
	uint64_t bad_len;	/* OK completion with length 0 or over capacity */
	uint64_t bad_index;	/* producer claimed more completions than posted */
	uint64_t status[CDNA_ST_SLOTS];
};

struct cdna_txq_stats {
	uint64_t packets;	/* posted, less those the mediator refused */
	uint64_t bytes;
	uint64_t errors;	/* packets refused, aborted or dropped here */
	uint64_t bad_cookie;
	uint64_t bad_index;
	uint64_t too_many_segs;	/* dropped: more than CDNA_MAX_SEGS segments */
	uint64_t empty;		/* dropped: every segment had data_len 0 */
	uint64_t status[CDNA_ST_SLOTS];
};

/* What a TX cookie stands for until its completion arrives. */
struct cdna_tx_slot {
	struct rte_mbuf *m;	/* the segment; NULL while the cookie is free */
	uint32_t pkt_len;	/* bytes of the whole packet, on its last segment */
	uint32_t last;		/* nonzero on the last segment of a packet */
	uint64_t iova;		/* mapping strategies: the address posted */
};

struct cdna_map_stats {
	uint64_t map_requests;	/* MAPs sent: the paper's map hypercalls */
	uint64_t unmap_requests;
	uint64_t reused;	/* page uses that needed no MAP (shared, persistent) */
	uint64_t refused;	/* answers with an error */
	uint64_t waits;		/* round trips waited for */
	uint64_t evicted;	/* persistent: idle pages given back */
	uint64_t timeouts;	/* no answer in time: ring broken */
	uint64_t bad_answer;	/* answer for nothing asked: ring broken or counted */
	uint64_t bad_release;	/* a release of a page not held */
	uint64_t dropped;	/* buffers not posted: their MAP was refused */
	uint64_t cycles;	/* TSC cycles spent mapping (waits included) */
};


/*
 * One direction's map ring (cdna_map.c), for the mapping strategies
 * (cdna_mode_maps); req is NULL otherwise.
 */
struct cdna_mapq {
	struct cdna_map_req *req;		/* (rw) */
	const struct cdna_map_cmp *cmp;		/* (ro) */
	struct cdna_index *req_prod;
	struct cdna_index *cmp_cons;
	const struct cdna_index *cmp_prod;
	const int *dead;
	uint32_t size;
	uint32_t mask;
	uint32_t prod;		/* requests written */
	uint32_t pub;		/* ... and published */
	uint32_t cons;		/* answers consumed */
	uint32_t mode;		/* CDNA_MODE_* */
	int dir;		/* CDNA_DIR_* */
	int quiet;		/* stopping: the mediator drops every mapping */
	int broken;		/* no answer came: nothing more is posted */
	int quota_hit;		/* persistent: a MAP met the mediator's quota */
	struct cdna_pagetab pt;		/* shared, persistent: pages held */
	uint32_t cache_max;	/* persistent: idle pages kept */
	uint32_t hand;		/* persistent: where eviction looks next */
	struct cdna_map_stats st;
};

/*
 * Ring pointers below are set at dev_start (when the areas are mapped) and
 * cleared at dev_stop. Cookies come from a free-id stack, not the ring slot:
 * rejected requests complete at once, so completions arrive out of order.
 */
struct cdna_rxq {
	struct cdna_req *req;			/* rx_req entries (rw) */
	const struct cdna_cmp *cmp;		/* rx_cmp entries (ro) */
	struct cdna_index *req_prod;		/* req area: rx_req.prod */
	struct cdna_index *cmp_cons;		/* req area: rx_cmp.cons */
	const struct cdna_index *cmp_prod;	/* cmp area: rx_cmp.prod */
	const int *dead;
	uint32_t size;
	uint32_t mask;
	uint32_t prod;		/* requests posted */
	uint32_t cons;		/* completions consumed */
	uint32_t nb_free;	/* ids on the free stack */
	uint32_t buf_cap;	/* bytes an mbuf takes after the headroom */
	uint32_t *free_ids;
	struct rte_mbuf **slots;	/* cookie -> posted mbuf */
	uint64_t *iovas;		/* mapping strategies: cookie -> address posted */
	struct cdna_mapq map;
	struct rte_mempool *mp;
	uint16_t port_id;
	uint16_t queue_id;
	struct cdna_rxq_stats stats;
};

struct cdna_txq {
	struct cdna_req *req;			/* tx_req entries (rw) */
	const struct cdna_cmp *cmp;		/* tx_cmp entries (ro) */
	struct cdna_index *req_prod;		/* req area: tx_req.prod */
	struct cdna_index *cmp_cons;		/* req area: tx_cmp.cons */
	const struct cdna_index *cmp_prod;	/* cmp area: tx_cmp.prod */
	const int *dead;
	uint32_t size;
	uint32_t mask;
	uint32_t prod;
	uint32_t cons;
	uint32_t nb_free;
	uint32_t *free_ids;
	struct cdna_tx_slot *slots;
	struct cdna_mapq map;
	uint16_t port_id;
	uint16_t queue_id;
	struct cdna_txq_stats stats;
};

/* One mapped queue pair: the mediator creates TX and RX rings together. */
struct cdna_qpair {
	void *req_area;
	void *cmp_area;
	size_t req_size;
	size_t cmp_size;
	uint32_t tx_size;
	uint32_t rx_size;
	uint32_t map_size;	/* entries per map ring; 0: none */
	int created;		/* QUEUE_CREATE succeeded, QUEUE_DESTROY owed */
};

/* A region announced with REGION_ADD, kept so FREE events can delete it. */
struct cdna_region {
	uint64_t addr;
	uint64_t size;
};

static inline const char *
cdna_mode_name(uint32_t mode)
{
	static const char *const names[CDNA_MODE_COUNT] = {
		[CDNA_MODE_MEDIATED] = "mediated",
		[CDNA_MODE_PASSTHROUGH] = "passthrough",
		[CDNA_MODE_DIRECT_MAP] = "direct-map",
		[CDNA_MODE_SINGLE_USE] = "single-use",
		[CDNA_MODE_SHARED] = "shared",
		[CDNA_MODE_PERSISTENT] = "persistent",
		[CDNA_MODE_UNPROTECTED] = "unprotected",
	};

	return mode < CDNA_MODE_COUNT ? names[mode] : "unknown";
}

struct cdna_devargs {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	unsigned int queues;
	int mac_set;
	uint32_t mode;		/* CDNA_MODE_*: devarg mode= or strategy= */
	struct rte_ether_addr mac;
};

struct cdna_priv {
	struct rte_eth_dev *dev;
	char name[RTE_ETH_NAME_MAX_LEN];
	struct cdna_devargs args;

	/* Control channel; everything below it is guarded by ctrl_lock. */
	pthread_mutex_t ctrl_lock;
	int sock;
	uint32_t seq;
	int dead;		/* peer gone or broke the protocol */
	/*
	 * The mediator closed its end: it does so only after completing or
	 * aborting every DMA of this guest, so posted buffers are ours again.
	 */
	int peer_gone;
	int gone_waited;	/* cdna_ctrl_wait_gone gave up once already */
	int map_broken_said;	/* cdna_map_broken logged, since the start */
	int mem_cb;		/* memory event callback registered */
	struct cdna_region *regions;
	uint32_t nb_regions;
	uint32_t cap_regions;

	/* From the HELLO reply. */
	uint32_t guest_id;
	uint32_t max_regions;
	uint32_t ring_min;
	uint32_t ring_max;
	uint32_t max_frame_len;
	uint32_t map_quota;	/* mapping strategies: the mediator's limit */
	uint16_t nb_queues;

	struct cdna_qpair qp[CDNA_MAX_QUEUES];
	struct cdna_msg_stats med_base;	/* mediator counters at xstats_reset */
	struct cdna_msg_stats med_last;	/* the last the mediator answered */
};

static inline int
cdna_is_dead(const int *dead)
{
	return __atomic_load_n(dead, __ATOMIC_RELAXED);
}

/* cdna_rxtx.c */
uint16_t cdna_rx_burst(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t cdna_tx_burst(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t cdna_tx_burst_map(void *queue, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint32_t cdna_rx_refill(struct cdna_rxq *rxq);
void cdna_rx_drain(struct cdna_rxq *rxq);
void cdna_tx_drain(struct cdna_txq *txq);
uint32_t cdna_rx_free_outstanding(struct cdna_rxq *rxq, int do_free);
uint32_t cdna_tx_free_outstanding(struct cdna_txq *txq, int do_free);

/* cdna_map.c */
/*
 * A queue direction's map state. quota_share: the pages of the mediator's
 * quota this direction may keep cached (persistent).
 */
int cdna_map_setup(struct cdna_mapq *mq, uint32_t mode, int dir, uint32_t ring,
		   uint32_t quota_share, int socket);
void cdna_map_release(struct cdna_mapq *mq);
/* Points mq at its map ring in a freshly mapped queue pair; all reset. */
void cdna_map_attach(struct cdna_mapq *mq, void *req_area,
		     const void *cmp_area, uint32_t tx_size, uint32_t rx_size,
		     uint32_t map_size);
/*
 * Maps up to n buffers: returns how many were handled; for each, ok[i]
 * says whether it may be posted, at iova[i]. Waits for the mediator.
 */
uint32_t cdna_map_get(struct cdna_mapq *mq, uint32_t n, const uint64_t *addr,
		      const uint32_t *len, uint64_t *iova, uint8_t *ok);
/* A buffer's DMA completed: its mapping goes (queued, not waited for). */
void cdna_map_put(struct cdna_mapq *mq, uint64_t addr, uint32_t len,
		  uint64_t iova);
void cdna_map_flush(struct cdna_mapq *mq);

/* cdna_ctrl.c; every call returns 0 or -errno and logs its own failure. */
const char *cdna_msg_name(uint16_t type);
int cdna_ctrl_connect(struct cdna_priv *priv);
void cdna_ctrl_disconnect(struct cdna_priv *priv);
void cdna_ctrl_check_alive(struct cdna_priv *priv);
/*
 * Whether the mediator has closed this (dead) connection, waiting up to ms
 * for it the first time: only then may buffers it was given be reused.
 */
int cdna_ctrl_wait_gone(struct cdna_priv *priv, int ms);
int cdna_ctrl_hello(struct cdna_priv *priv);
int cdna_ctrl_share_memory(struct cdna_priv *priv);
void cdna_ctrl_unshare_memory(struct cdna_priv *priv);
int cdna_ctrl_simple(struct cdna_priv *priv, uint16_t type,
		const void *payload, size_t len);
int cdna_ctrl_queue_create(struct cdna_priv *priv, uint16_t qid,
		uint32_t tx_size, uint32_t rx_size);
int cdna_ctrl_queue_destroy(struct cdna_priv *priv, uint16_t qid);
void cdna_ctrl_queue_unmap(struct cdna_priv *priv, uint16_t qid);
int cdna_ctrl_stats(struct cdna_priv *priv, struct cdna_msg_stats *st);

#endif /* CDNA_PMD_H */
