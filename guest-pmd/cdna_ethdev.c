/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_cdna: guest poll-mode driver for a NIC shared through cdna-vmm.
 * Probe/remove, devargs and the ethdev ops; the burst functions are in
 * cdna_rxtx.c and the mediator protocol in cdna_ctrl.c.
 *
 *   --vdev net_cdna0,path=<socket>[,queues=N][,mac=XX:XX:XX:XX:XX:XX]
 *          [,mode=mediated|passthrough | ,strategy=software|direct-map|
 *           single-use|shared|persistent|unprotected]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_string_fns.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>

#include "cdna_pmd.h"

#define CDNA_ARG_PATH	"path"
#define CDNA_ARG_QUEUES	"queues"
#define CDNA_ARG_MAC	"mac"
#define CDNA_ARG_MODE	"mode"
#define CDNA_ARG_STRATEGY "strategy"

static const char * const cdna_valid_args[] = {
	CDNA_ARG_PATH,
	CDNA_ARG_QUEUES,
	CDNA_ARG_MAC,
	CDNA_ARG_MODE,
	CDNA_ARG_STRATEGY,
	NULL
};

RTE_LOG_REGISTER_DEFAULT(cdna_logtype, NOTICE);

/* ---- devargs ---- */

static int
cdna_arg_path(const char *key, const char *value, void *opaque)
{
	struct cdna_devargs *a = opaque;

	if (value == NULL || value[0] == '\0') {
		PMD_LOG(ERR, "devarg %s: empty socket path", key);
		return -EINVAL;
	}
	if (strlen(value) >= sizeof(a->path)) {
		PMD_LOG(ERR, "devarg %s=%s: path longer than %zu bytes",
			key, value, sizeof(a->path) - 1);
		return -ENAMETOOLONG;
	}
	strlcpy(a->path, value, sizeof(a->path));
	return 0;
}

static int
cdna_arg_queues(const char *key, const char *value, void *opaque)
{
	struct cdna_devargs *a = opaque;
	unsigned long v;
	char *end = NULL;

	/* strtoul alone would accept leading blanks and signs. */
	if (value == NULL || value[0] < '0' || value[0] > '9') {
		PMD_LOG(ERR, "devarg %s=%s: not a number", key,
			value == NULL ? "" : value);
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0') {
		PMD_LOG(ERR, "devarg %s=%s: not a number", key, value);
		return -EINVAL;
	}
	if (v < 1 || v > CDNA_MAX_QUEUES) {
		PMD_LOG(ERR, "devarg %s=%s: must be 1..%u", key, value,
			CDNA_MAX_QUEUES);
		return -ERANGE;
	}
	a->queues = (unsigned int)v;
	return 0;
}

static int
cdna_arg_mac(const char *key, const char *value, void *opaque)
{
	struct cdna_devargs *a = opaque;

	if (value == NULL || rte_ether_unformat_addr(value, &a->mac) != 0) {
		PMD_LOG(ERR, "devarg %s=%s: not a MAC address", key,
			value == NULL ? "" : value);
		return -EINVAL;
	}
	if (!rte_is_unicast_ether_addr(&a->mac) ||
			rte_is_zero_ether_addr(&a->mac)) {
		PMD_LOG(ERR, "devarg %s=%s: must be a non-zero unicast address",
			key, value);
		return -EINVAL;
	}
	a->mac_set = 1;
	return 0;
}

/*
 * mediated (the default): the mediator checks and posts every descriptor.
 * passthrough: the descriptors go to the NIC as written, confined to this
 * guest's memory by its address stage; the mediator must allow it.
 */
static int
cdna_arg_mode(const char *key, const char *value, void *opaque)
{
	struct cdna_devargs *a = opaque;

	if (value != NULL && strcmp(value, "mediated") == 0) {
		a->mode = CDNA_MODE_MEDIATED;
	} else if (value != NULL && strcmp(value, "passthrough") == 0) {
		a->mode = CDNA_MODE_PASSTHROUGH;
	} else {
		PMD_LOG(ERR, "devarg %s=%s: must be mediated or passthrough",
			key, value == NULL ? "" : value);
		return -EINVAL;
	}
	return 0;
}

/*
 * The ATC'08 protection strategy: software (the mediated mode, the
 * default), or guest-written descriptors through the emulated IOMMU with
 * the whole registered memory mapped (direct-map) or only what is asked
 * for (single-use, shared, persistent); the mediator must allow those.
 */
static int
cdna_arg_strategy(const char *key, const char *value, void *opaque)
{
	static const struct {
		const char *name;
		uint32_t mode;
	} strategies[] = {
		{ "software", CDNA_MODE_MEDIATED },
		{ "direct-map", CDNA_MODE_DIRECT_MAP },
		{ "single-use", CDNA_MODE_SINGLE_USE },
		{ "shared", CDNA_MODE_SHARED },
		{ "persistent", CDNA_MODE_PERSISTENT },
		/* Tests and baselines only: cdna-vmm --allow-unprotected. */
		{ "unprotected", CDNA_MODE_UNPROTECTED },
	};
	struct cdna_devargs *a = opaque;
	unsigned int i;

	for (i = 0; value != NULL && i < RTE_DIM(strategies); i++) {
		if (strcmp(value, strategies[i].name) == 0) {
			a->mode = strategies[i].mode;
			return 0;
		}
	}
	PMD_LOG(ERR, "devarg %s=%s: must be software, direct-map, single-use, shared, persistent or unprotected",
		key, value == NULL ? "" : value);
	return -EINVAL;
}

/* Name the offending key: rte_kvargs_parse only says that one was bad. */
static void
cdna_report_bad_args(const char *name, const char *params)
{
	struct rte_kvargs *all = rte_kvargs_parse(params, NULL);
	unsigned int i, j;

	if (all == NULL) {
		PMD_LOG(ERR, "%s: cannot parse devargs '%s'", name, params);
		return;
	}
	for (i = 0; i < all->count; i++) {
		const struct rte_kvargs_pair *p = &all->pairs[i];

		for (j = 0; cdna_valid_args[j] != NULL; j++)
			if (strcmp(p->key, cdna_valid_args[j]) == 0)
				break;
		if (cdna_valid_args[j] == NULL)
			PMD_LOG(ERR, "%s: unknown devarg %s=%s (valid: %s, %s, %s, %s, %s)",
				name, p->key, p->value == NULL ? "" : p->value,
				CDNA_ARG_PATH, CDNA_ARG_QUEUES, CDNA_ARG_MAC,
				CDNA_ARG_MODE, CDNA_ARG_STRATEGY);
	}
	rte_kvargs_free(all);
}

static int
cdna_parse_devargs(const char *name, const char *params, struct cdna_devargs *a)
{
	static const struct {
		const char *key;
		arg_handler_t fn;
	} handlers[] = {
		{ CDNA_ARG_PATH, cdna_arg_path },
		{ CDNA_ARG_QUEUES, cdna_arg_queues },
		{ CDNA_ARG_MAC, cdna_arg_mac },
		{ CDNA_ARG_MODE, cdna_arg_mode },
		{ CDNA_ARG_STRATEGY, cdna_arg_strategy },
	};
	struct rte_kvargs *kv;
	unsigned int i;
	int ret = 0;

	memset(a, 0, sizeof(*a));
	a->queues = 1;
	if (params == NULL || params[0] == '\0') {
		PMD_LOG(ERR, "%s: missing required devarg %s=<socket>",
			name, CDNA_ARG_PATH);
		return -EINVAL;
	}
	kv = rte_kvargs_parse(params, cdna_valid_args);
	if (kv == NULL) {
		cdna_report_bad_args(name, params);
		return -EINVAL;
	}
	for (i = 0; i < RTE_DIM(handlers) && ret == 0; i++) {
		unsigned int n = rte_kvargs_count(kv, handlers[i].key);

		if (n > 1) {
			PMD_LOG(ERR, "%s: devarg %s given %u times", name,
				handlers[i].key, n);
			ret = -EINVAL;
		} else if (n == 1 && rte_kvargs_process(kv, handlers[i].key,
				handlers[i].fn, a) != 0) {
			ret = -EINVAL;
		}
	}
	/* Both name one field: one of them, or the question is ambiguous. */
	if (ret == 0 && rte_kvargs_count(kv, CDNA_ARG_MODE) != 0 &&
	    rte_kvargs_count(kv, CDNA_ARG_STRATEGY) != 0) {
		PMD_LOG(ERR, "%s: devargs %s and %s both given: give one",
			name, CDNA_ARG_MODE, CDNA_ARG_STRATEGY);
		ret = -EINVAL;
	}
	rte_kvargs_free(kv);
	if (ret == 0 && a->path[0] == '\0') {
		PMD_LOG(ERR, "%s: missing required devarg %s=<socket>",
			name, CDNA_ARG_PATH);
		ret = -EINVAL;
	}
	return ret;
}

/* ---- queues ---- */

static uint32_t
cdna_ring_size(const struct cdna_priv *priv, uint16_t nb_desc)
{
	uint32_t n = rte_align32pow2(nb_desc == 0 ? CDNA_DEFAULT_RING : nb_desc);

	return RTE_MIN(RTE_MAX(n, priv->ring_min), priv->ring_max);
}

/*
 * The mediator's mapping quota split over the queue directions, with half
 * kept back for pages in flight, which no cache may give up.
 */
static uint32_t
cdna_quota_share(const struct cdna_priv *priv)
{
	return priv->map_quota / (4u * RTE_MAX(priv->nb_queues, (uint16_t)1));
}

static void
cdna_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct cdna_rxq *rxq = dev->data->rx_queues[qid];

	if (rxq != NULL)
		cdna_map_release(&rxq->map);
	rte_free(rxq);
	dev->data->rx_queues[qid] = NULL;
}

static void
cdna_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	struct cdna_txq *txq = dev->data->tx_queues[qid];

	if (txq != NULL)
		cdna_map_release(&txq->map);
	rte_free(txq);
	dev->data->tx_queues[qid] = NULL;
}

/*
 * Whether every set-up RX queue's buffers hold the longest frame the NIC
 * hands a port with this MTU (no RX scatter: else such frames are dropped).
 * 0, or -EINVAL and says which queue is short.
 */
static int
cdna_rx_bufs_hold(struct rte_eth_dev *dev, uint32_t mtu)
{
	struct cdna_priv *priv = dev->data->dev_private;
	uint16_t q;

	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		const struct cdna_rxq *rxq = dev->data->rx_queues[q];

		if (rxq != NULL && rxq->buf_cap < cdna_mtu_frame_max(mtu)) {
			PMD_LOG(ERR, "%s: MTU %u refused: its frames need %u bytes, "
				"rx queue %u's buffers hold %u (no RX scatter)",
				priv->name, mtu, cdna_mtu_frame_max(mtu), q,
				rxq->buf_cap);
			return -EINVAL;
		}
	}
	return 0;
}

static int
cdna_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		unsigned int socket_id, const struct rte_eth_rxconf *conf,
		struct rte_mempool *mp)
{
	struct cdna_priv *priv = dev->data->dev_private;
	uint32_t size = cdna_ring_size(priv, nb_desc);
	uint16_t room = rte_pktmbuf_data_room_size(mp);
	struct cdna_rxq *rxq;
	uint32_t i;

	RTE_SET_USED(conf);
	if (room < RTE_PKTMBUF_HEADROOM + RTE_ETHER_MIN_LEN) {
		PMD_LOG(ERR, "%s: rx queue %u: mempool %s data room %u too small "
			"(need %u)", priv->name, qid, mp->name, room,
			RTE_PKTMBUF_HEADROOM + RTE_ETHER_MIN_LEN);
		return -EINVAL;
	}
	if ((uint32_t)(room - RTE_PKTMBUF_HEADROOM) <
	    cdna_mtu_frame_max(dev->data->mtu)) {
		PMD_LOG(ERR, "%s: rx queue %u: mempool %s buffers hold %u bytes, "
			"MTU %u frames need %u (no RX scatter)", priv->name, qid,
			mp->name, room - RTE_PKTMBUF_HEADROOM, dev->data->mtu,
			cdna_mtu_frame_max(dev->data->mtu));
		return -EINVAL;
	}
	rxq = rte_zmalloc_socket("net_cdna_rxq", sizeof(*rxq) +
			size * (sizeof(*rxq->iovas) + sizeof(*rxq->slots) +
				sizeof(*rxq->free_ids)),
			RTE_CACHE_LINE_SIZE, socket_id);
	if (rxq == NULL || cdna_map_setup(&rxq->map, priv->args.mode,
					  CDNA_DIR_RX, size,
					  cdna_quota_share(priv), socket_id) != 0) {
		PMD_LOG(ERR, "%s: rx queue %u: cannot allocate %u entries",
			priv->name, qid, size);
		rte_free(rxq);
		return -ENOMEM;
	}
	rxq->iovas = (uint64_t *)(rxq + 1);
	rxq->slots = (struct rte_mbuf **)(rxq->iovas + size);
	rxq->free_ids = (uint32_t *)(rxq->slots + size);
	rxq->map.dead = &priv->dead;
	rxq->size = size;
	rxq->mask = size - 1;
	for (i = 0; i < size; i++)
		rxq->free_ids[i] = i;
	rxq->nb_free = size;
	rxq->mp = mp;
	rxq->buf_cap = room - RTE_PKTMBUF_HEADROOM;
	rxq->port_id = dev->data->port_id;
	rxq->queue_id = qid;
	rxq->dead = &priv->dead;
	dev->data->rx_queues[qid] = rxq;
	if (size != nb_desc)
		PMD_LOG(INFO, "%s: rx queue %u: %u descriptors requested, using %u",
			priv->name, qid, nb_desc, size);
	return 0;
}

static int
cdna_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		unsigned int socket_id, const struct rte_eth_txconf *conf)
{
	struct cdna_priv *priv = dev->data->dev_private;
	uint32_t size = cdna_ring_size(priv, nb_desc);
	struct cdna_txq *txq;
	uint32_t i;

	RTE_SET_USED(conf);
	txq = rte_zmalloc_socket("net_cdna_txq", sizeof(*txq) +
			size * (sizeof(*txq->slots) + sizeof(*txq->free_ids)),
			RTE_CACHE_LINE_SIZE, socket_id);
	if (txq == NULL || cdna_map_setup(&txq->map, priv->args.mode,
					  CDNA_DIR_TX, size,
					  cdna_quota_share(priv), socket_id) != 0) {
		PMD_LOG(ERR, "%s: tx queue %u: cannot allocate %u entries",
			priv->name, qid, size);
		rte_free(txq);
		return -ENOMEM;
	}
	txq->map.dead = &priv->dead;
	txq->slots = (struct cdna_tx_slot *)(txq + 1);
	txq->free_ids = (uint32_t *)(txq->slots + size);
	txq->size = size;
	txq->mask = size - 1;
	for (i = 0; i < size; i++)
		txq->free_ids[i] = i;
	txq->nb_free = size;
	txq->port_id = dev->data->port_id;
	txq->queue_id = qid;
	txq->dead = &priv->dead;
	dev->data->tx_queues[qid] = txq;
	if (size != nb_desc)
		PMD_LOG(INFO, "%s: tx queue %u: %u descriptors requested, using %u",
			priv->name, qid, nb_desc, size);
	return 0;
}

static struct cdna_rxq *
cdna_rxq_get(struct rte_eth_dev *dev, uint16_t q)
{
	return q < dev->data->nb_rx_queues ? dev->data->rx_queues[q] : NULL;
}

static struct cdna_txq *
cdna_txq_get(struct rte_eth_dev *dev, uint16_t q)
{
	return q < dev->data->nb_tx_queues ? dev->data->tx_queues[q] : NULL;
}

static uint16_t
cdna_nb_pairs(struct rte_eth_dev *dev)
{
	return RTE_MAX(dev->data->nb_rx_queues, dev->data->nb_tx_queues);
}

/* Point the queues at a freshly mapped pair. */
static int
cdna_attach_rings(struct cdna_priv *priv, uint16_t q, struct cdna_rxq *rxq,
		struct cdna_txq *txq)
{
	struct cdna_qpair *qp = &priv->qp[q];
	struct cdna_req_area_idx *ri = qp->req_area;
	const struct cdna_cmp_area_idx *ci = qp->cmp_area;
	uint32_t tx_prod = cdna_load_acquire(&ci->tx_cmp_prod);
	uint32_t rx_prod = cdna_load_acquire(&ci->rx_cmp_prod);

	if (tx_prod != 0 || rx_prod != 0) {
		PMD_LOG(ERR, "%s: queue %u: new completion rings not empty "
			"(tx prod %u, rx prod %u)", priv->name, q, tx_prod,
			rx_prod);
		return -EPROTO;
	}
	cdna_store_release(&ri->tx_req_prod, 0);
	cdna_store_release(&ri->rx_req_prod, 0);
	cdna_store_release(&ri->tx_cmp_cons, 0);
	cdna_store_release(&ri->rx_cmp_cons, 0);

	cdna_store_release(&ri->tx_map_prod, 0);
	cdna_store_release(&ri->rx_map_prod, 0);
	cdna_store_release(&ri->tx_mapc_cons, 0);
	cdna_store_release(&ri->rx_mapc_cons, 0);

	if (rxq != NULL) {
		cdna_rx_free_outstanding(rxq, 1);
		if (qp->map_size != 0)
			cdna_map_attach(&rxq->map, qp->req_area, qp->cmp_area,
					qp->tx_size, qp->rx_size, qp->map_size);
		rxq->req_prod = &ri->rx_req_prod;
		rxq->cmp_cons = &ri->rx_cmp_cons;
		rxq->cmp_prod = &ci->rx_cmp_prod;
		rxq->cmp = cdna_area_rx_cmp(qp->cmp_area, qp->tx_size);
		rxq->req = cdna_area_rx_req(qp->req_area, qp->tx_size);
	}
	if (txq != NULL) {
		cdna_tx_free_outstanding(txq, 1);
		if (qp->map_size != 0)
			cdna_map_attach(&txq->map, qp->req_area, qp->cmp_area,
					qp->tx_size, qp->rx_size, qp->map_size);
		txq->req_prod = &ri->tx_req_prod;
		txq->cmp_cons = &ri->tx_cmp_cons;
		txq->cmp_prod = &ci->tx_cmp_prod;
		txq->cmp = cdna_area_tx_cmp(qp->cmp_area);
		txq->req = cdna_area_tx_req(qp->req_area);
	}
	return 0;
}

/*
 * Take every queue off its rings: collect completions, then free (or, when
 * the mediator may still own them, forget) what is left, and unmap.
 */
static void
cdna_teardown_queues(struct rte_eth_dev *dev, int stopped)
{
	struct cdna_priv *priv = dev->data->dev_private;
	uint16_t q;

	for (q = 0; q < CDNA_MAX_QUEUES; q++) {
		struct cdna_rxq *rxq = cdna_rxq_get(dev, q);
		struct cdna_txq *txq = cdna_txq_get(dev, q);
		uint32_t left = 0;
		int destroyed, safe;

		/* The mediator drops every mapping at STOP: release none. */
		if (rxq != NULL)
			rxq->map.quiet = 1;
		if (txq != NULL)
			txq->map.quiet = 1;
		if (rxq != NULL)
			cdna_rx_drain(rxq);
		if (txq != NULL)
			cdna_tx_drain(txq);
		destroyed = cdna_ctrl_queue_destroy(priv, q) == 0;
		/*
		 * After STOP or QUEUE_DESTROY no DMA targets these buffers, nor
		 * once the mediator has closed a dead channel (it does so last
		 * in its teardown). A channel that timed out or broke the
		 * protocol may still have a mediator serving it: then leak.
		 */
		safe = stopped || destroyed ||
			(cdna_is_dead(&priv->dead) &&
			 cdna_ctrl_wait_gone(priv, CDNA_GONE_WAIT_MS));
		if (rxq != NULL && rxq->req != NULL) {
			cdna_rx_drain(rxq);
			left += cdna_rx_free_outstanding(rxq, safe);
			rxq->req = NULL;
		}
		if (txq != NULL && txq->req != NULL) {
			cdna_tx_drain(txq);
			left += cdna_tx_free_outstanding(txq, safe);
			txq->req = NULL;
		}
		if (left != 0 && !safe)
			PMD_LOG(ERR, "%s: queue %u: %u buffers may still be in use "
				"by the mediator; leaked", priv->name, q, left);
		else if (left != 0 && !cdna_is_dead(&priv->dead))
			PMD_LOG(WARNING, "%s: queue %u: %u buffers never completed",
				priv->name, q, left);
		cdna_ctrl_queue_unmap(priv, q);
	}
}

/* ---- ethdev ops ---- */

static void
cdna_link_set(struct rte_eth_dev *dev, int up)
{
	struct rte_eth_link link = {
		.link_speed = CDNA_LINK_SPEED,
		.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
		.link_autoneg = RTE_ETH_LINK_FIXED,
		.link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN,
	};

	rte_eth_linkstatus_set(dev, &link);
}

/*
 * Queues whose map channel broke (no answer within CDNA_MAP_WAIT_S, or a bad
 * one): they post nothing more until the port restarts. Said once, here on
 * the control path, since the data path only counts it (map_timeouts).
 */
static uint16_t
cdna_map_broken(struct rte_eth_dev *dev)
{
	struct cdna_priv *priv = dev->data->dev_private;
	uint16_t q, n = 0;

	for (q = 0; q < CDNA_MAX_QUEUES; q++) {
		struct cdna_rxq *rxq = cdna_rxq_get(dev, q);
		struct cdna_txq *txq = cdna_txq_get(dev, q);

		n += (rxq != NULL && __atomic_load_n(&rxq->map.broken, __ATOMIC_RELAXED)) ||
			(txq != NULL && __atomic_load_n(&txq->map.broken, __ATOMIC_RELAXED));
	}
	if (n != 0 && !priv->map_broken_said) {
		PMD_LOG(ERR, "%s: %u queue(s) got no map answer within %u s (or a bad one); "
			"link down until the port is restarted", priv->name, n,
			(unsigned int)CDNA_MAP_WAIT_S);
		priv->map_broken_said = 1;
	}
	return n;
}

static int
cdna_link_update(struct rte_eth_dev *dev, int wait_to_complete)
{
	struct cdna_priv *priv = dev->data->dev_private;
	struct rte_eth_link link = {
		.link_speed = CDNA_LINK_SPEED,
		.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
		.link_autoneg = RTE_ETH_LINK_FIXED,
	};

	RTE_SET_USED(wait_to_complete);
	cdna_ctrl_check_alive(priv);
	link.link_status = dev->data->dev_started &&
		!cdna_is_dead(&priv->dead) && cdna_map_broken(dev) == 0 ?
		RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	return rte_eth_linkstatus_set(dev, &link);
}

static int
cdna_dev_configure(struct rte_eth_dev *dev)
{
	struct cdna_priv *priv = dev->data->dev_private;
	struct cdna_msg_mtu m = { .mtu = dev->data->mtu };

	if (cdna_is_dead(&priv->dead))
		return -EIO;
	if (dev->data->nb_rx_queues > priv->nb_queues ||
			dev->data->nb_tx_queues > priv->nb_queues) {
		PMD_LOG(ERR, "%s: %u rx / %u tx queues requested, devarg %s=%u",
			priv->name, dev->data->nb_rx_queues,
			dev->data->nb_tx_queues, CDNA_ARG_QUEUES,
			priv->nb_queues);
		return -EINVAL;
	}
	if (dev->data->dev_conf.rxmode.mq_mode & RTE_ETH_MQ_RX_RSS_FLAG)
		PMD_LOG(WARNING, "%s: RSS not supported; the mediator picks "
			"the rx queue", priv->name);
	/* RX queues kept from before must hold the (new) MTU's frames. */
	if (cdna_rx_bufs_hold(dev, m.mtu) != 0)
		return -EINVAL;
	/* The MTU is part of the configuration: keep the mediator in step. */
	return cdna_ctrl_simple(priv, CDNA_MSG_SET_MTU, &m, sizeof(m));
}

static int
cdna_dev_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct cdna_priv *priv = dev->data->dev_private;
	uint32_t ring_default = RTE_MIN(RTE_MAX(CDNA_DEFAULT_RING, priv->ring_min),
			priv->ring_max);

	info->if_index = 0;
	info->max_mac_addrs = 1;
	info->max_rx_pktlen = priv->max_frame_len;
	info->min_rx_bufsize = RTE_ETHER_MIN_LEN;
	info->min_mtu = CDNA_MTU_MIN;
	info->max_mtu = RTE_MIN(CDNA_MTU_MAX,
			priv->max_frame_len - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN);
	info->max_rx_queues = priv->nb_queues;
	info->max_tx_queues = priv->nb_queues;
	info->rx_offload_capa = 0;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	info->rx_queue_offload_capa = 0;
	info->tx_queue_offload_capa = 0;
	info->flow_type_rss_offloads = 0;
	info->speed_capa = RTE_ETH_LINK_SPEED_10G | RTE_ETH_LINK_SPEED_FIXED;

	/* Any count is accepted and rounded up to a power of two. */
	info->rx_desc_lim.nb_min = priv->ring_min;
	info->rx_desc_lim.nb_max = priv->ring_max;
	info->rx_desc_lim.nb_align = 1;
	info->rx_desc_lim.nb_seg_max = 1;
	info->rx_desc_lim.nb_mtu_seg_max = 1;
	info->tx_desc_lim.nb_min = priv->ring_min;
	info->tx_desc_lim.nb_max = priv->ring_max;
	info->tx_desc_lim.nb_align = 1;
	info->tx_desc_lim.nb_seg_max = CDNA_MAX_SEGS;
	info->tx_desc_lim.nb_mtu_seg_max = CDNA_MAX_SEGS;

	info->default_rxportconf.ring_size = ring_default;
	info->default_txportconf.ring_size = ring_default;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	info->default_rxportconf.burst_size = 32;
	info->default_txportconf.burst_size = 32;
	return 0;
}

static int
cdna_dev_start(struct rte_eth_dev *dev)
{
	struct cdna_priv *priv = dev->data->dev_private;
	uint16_t nb = cdna_nb_pairs(dev);
	uint16_t q;
	int ret;

	if (cdna_is_dead(&priv->dead))
		return -EIO;

	for (q = 0; q < nb; q++) {
		struct cdna_rxq *rxq = cdna_rxq_get(dev, q);
		struct cdna_txq *txq = cdna_txq_get(dev, q);
		/* A pair always has both rings; an unused half stays minimal. */
		uint32_t tx_size = txq != NULL ? txq->size : priv->ring_min;
		uint32_t rx_size = rxq != NULL ? rxq->size : priv->ring_min;

		if ((q < dev->data->nb_rx_queues && rxq == NULL) ||
				(q < dev->data->nb_tx_queues && txq == NULL)) {
			PMD_LOG(ERR, "%s: queue %u was not set up", priv->name, q);
			ret = -EINVAL;
			goto fail;
		}
		ret = cdna_ctrl_queue_create(priv, q, tx_size, rx_size);
		if (ret != 0)
			goto fail;
		ret = cdna_attach_rings(priv, q, rxq, txq);
		if (ret != 0)
			goto fail;
	}

	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		struct cdna_rxq *rxq = dev->data->rx_queues[q];
		uint32_t posted = cdna_rx_refill(rxq);

		if (posted < rxq->size)
			PMD_LOG(WARNING, "%s: rx queue %u: only %u of %u buffers "
				"posted (mempool %s short%s)", priv->name, q,
				posted, rxq->size, rxq->mp->name,
				cdna_mode_maps(priv->args.mode) ?
				", or their mappings refused: see rx_q*_map_* xstats" : "");
	}

	ret = cdna_ctrl_simple(priv, CDNA_MSG_START, NULL, 0);
	if (ret != 0)
		goto fail;

	for (q = 0; q < dev->data->nb_rx_queues; q++)
		dev->data->rx_queue_state[q] = RTE_ETH_QUEUE_STATE_STARTED;
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		dev->data->tx_queue_state[q] = RTE_ETH_QUEUE_STATE_STARTED;
	priv->map_broken_said = 0;
	cdna_link_set(dev, 1);
	return 0;

fail:
	/*
	 * Nothing was started, so nothing posted can be in flight: unless the
	 * channel died under START, which the mediator may have carried out.
	 */
	cdna_teardown_queues(dev, !cdna_is_dead(&priv->dead));
	return ret;
}

static int
cdna_dev_stop(struct rte_eth_dev *dev)
{
	struct cdna_priv *priv = dev->data->dev_private;
	int stopped = 0;
	uint16_t q;

	cdna_link_set(dev, 0);
	/* The mediator completes every in-flight request before replying. */
	if (!cdna_is_dead(&priv->dead))
		stopped = cdna_ctrl_simple(priv, CDNA_MSG_STOP, NULL, 0) == 0;
	cdna_teardown_queues(dev, stopped);

	for (q = 0; q < dev->data->nb_rx_queues; q++)
		dev->data->rx_queue_state[q] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		dev->data->tx_queue_state[q] = RTE_ETH_QUEUE_STATE_STOPPED;
	/* Local state is clean either way; an error here would block close. */
	return 0;
}

static int
cdna_dev_close(struct rte_eth_dev *dev)
{
	struct cdna_priv *priv = dev->data->dev_private;
	uint16_t q;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	if (dev->data->dev_started) {
		cdna_dev_stop(dev);
		dev->data->dev_started = 0;
	}
	/* Unregister first: the callback takes the control lock. */
	cdna_ctrl_unshare_memory(priv);
	cdna_ctrl_disconnect(priv);

	for (q = 0; q < dev->data->nb_rx_queues; q++)
		cdna_rx_queue_release(dev, q);
	for (q = 0; q < dev->data->nb_tx_queues; q++)
		cdna_tx_queue_release(dev, q);
	pthread_mutex_destroy(&priv->ctrl_lock);
	PMD_LOG(INFO, "%s: closed", priv->name);
	return 0;
}

static int
cdna_set_rxmode(struct rte_eth_dev *dev, int promisc, int allmulti)
{
	struct cdna_priv *priv = dev->data->dev_private;
	struct cdna_msg_rxmode m = {
		.mode = (promisc ? CDNA_RXMODE_PROMISC : 0) |
			(allmulti ? CDNA_RXMODE_ALLMULTI : 0),
	};

	return cdna_ctrl_simple(priv, CDNA_MSG_SET_RXMODE, &m, sizeof(m));
}

/* ethdev updates its flag only after these return: pass the new mode. */
static int
cdna_promiscuous_enable(struct rte_eth_dev *dev)
{
	return cdna_set_rxmode(dev, 1, dev->data->all_multicast);
}

static int
cdna_promiscuous_disable(struct rte_eth_dev *dev)
{
	return cdna_set_rxmode(dev, 0, dev->data->all_multicast);
}

static int
cdna_allmulticast_enable(struct rte_eth_dev *dev)
{
	return cdna_set_rxmode(dev, dev->data->promiscuous, 1);
}

static int
cdna_allmulticast_disable(struct rte_eth_dev *dev)
{
	return cdna_set_rxmode(dev, dev->data->promiscuous, 0);
}

static int
cdna_mac_addr_set(struct rte_eth_dev *dev, struct rte_ether_addr *addr)
{
	struct cdna_priv *priv = dev->data->dev_private;
	struct cdna_msg_mac m;

	if (!rte_is_unicast_ether_addr(addr) || rte_is_zero_ether_addr(addr)) {
		char buf[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(buf, sizeof(buf), addr);
		PMD_LOG(ERR, "%s: MAC %s is not a non-zero unicast address",
			priv->name, buf);
		return -EINVAL;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.mac, addr->addr_bytes, sizeof(m.mac));
	return cdna_ctrl_simple(priv, CDNA_MSG_SET_MAC, &m, sizeof(m));
}

static int
cdna_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	struct cdna_priv *priv = dev->data->dev_private;
	struct cdna_msg_mtu m = { .mtu = mtu };

	if (cdna_rx_bufs_hold(dev, mtu) != 0)
		return -EINVAL;
	return cdna_ctrl_simple(priv, CDNA_MSG_SET_MTU, &m, sizeof(m));
}

static int
cdna_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *stats)
{
	uint16_t q;

	/* Cheap, and apps poll stats: a good moment to notice a lost mediator. */
	cdna_ctrl_check_alive(dev->data->dev_private);

	stats->rx_nombuf = 0;
	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		const struct cdna_rxq *rxq = dev->data->rx_queues[q];

		if (rxq == NULL)
			continue;
		stats->ipackets += rxq->stats.packets;
		stats->ibytes += rxq->stats.bytes;
		stats->ierrors += rxq->stats.errors;
		stats->rx_nombuf += rxq->stats.nombuf;
		if (q < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			stats->q_ipackets[q] = rxq->stats.packets;
			stats->q_ibytes[q] = rxq->stats.bytes;
			stats->q_errors[q] = rxq->stats.errors;
		}
	}
	for (q = 0; q < dev->data->nb_tx_queues; q++) {
		const struct cdna_txq *txq = dev->data->tx_queues[q];

		if (txq == NULL)
			continue;
		stats->opackets += txq->stats.packets;
		stats->obytes += txq->stats.bytes;
		stats->oerrors += txq->stats.errors;
		if (q < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			stats->q_opackets[q] = txq->stats.packets;
			stats->q_obytes[q] = txq->stats.bytes;
		}
	}
	return 0;
}

static int
cdna_stats_reset(struct rte_eth_dev *dev)
{
	uint16_t q;

	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		struct cdna_rxq *rxq = dev->data->rx_queues[q];

		if (rxq != NULL) {
			rxq->stats.packets = 0;
			rxq->stats.bytes = 0;
			rxq->stats.errors = 0;
			rxq->stats.nombuf = 0;
		}
	}
	for (q = 0; q < dev->data->nb_tx_queues; q++) {
		struct cdna_txq *txq = dev->data->tx_queues[q];

		if (txq != NULL) {
			txq->stats.packets = 0;
			txq->stats.bytes = 0;
			txq->stats.errors = 0;
		}
	}
	return 0;
}

/* ---- xstats ---- */

struct cdna_xstat_field {
	const char *name;
	size_t off;
};

static const struct cdna_xstat_field cdna_rxq_xstats[] = {
	{ "cmp_bad_cookie", offsetof(struct cdna_rxq_stats, bad_cookie) },
	{ "cmp_bad_len", offsetof(struct cdna_rxq_stats, bad_len) },
	{ "cmp_bad_index", offsetof(struct cdna_rxq_stats, bad_index) },
	{ "mbuf_alloc_failed", offsetof(struct cdna_rxq_stats, nombuf) },
};

static const struct cdna_xstat_field cdna_txq_xstats[] = {
	{ "cmp_bad_cookie", offsetof(struct cdna_txq_stats, bad_cookie) },
	{ "cmp_bad_index", offsetof(struct cdna_txq_stats, bad_index) },
	{ "drop_too_many_segs", offsetof(struct cdna_txq_stats, too_many_segs) },
	{ "drop_empty", offsetof(struct cdna_txq_stats, empty) },
};

/* Per queue, mapping strategies only: the map channel (cdna_map.c). */
static const struct cdna_xstat_field cdna_map_xstats[] = {
	{ "map_requests", offsetof(struct cdna_map_stats, map_requests) },
	{ "unmap_requests", offsetof(struct cdna_map_stats, unmap_requests) },
	{ "map_reused", offsetof(struct cdna_map_stats, reused) },
	{ "map_refused", offsetof(struct cdna_map_stats, refused) },
	{ "map_waits", offsetof(struct cdna_map_stats, waits) },
	{ "map_evicted", offsetof(struct cdna_map_stats, evicted) },
	{ "map_timeouts", offsetof(struct cdna_map_stats, timeouts) },
	{ "map_bad_answer", offsetof(struct cdna_map_stats, bad_answer) },
	{ "map_bad_release", offsetof(struct cdna_map_stats, bad_release) },
	{ "map_dropped", offsetof(struct cdna_map_stats, dropped) },
	{ "map_cycles", offsetof(struct cdna_map_stats, cycles) },
};

static unsigned int
cdna_nb_map_xstats(const struct rte_eth_dev *dev)
{
	const struct cdna_priv *priv = dev->data->dev_private;

	return cdna_mode_maps(priv->args.mode) ? RTE_DIM(cdna_map_xstats) : 0;
}

static const struct cdna_xstat_field cdna_med_xstats[] = {
	{ "tx_pkts", offsetof(struct cdna_msg_stats, tx_pkts) },
	{ "tx_bytes", offsetof(struct cdna_msg_stats, tx_bytes) },
	{ "rx_pkts", offsetof(struct cdna_msg_stats, rx_pkts) },
	{ "rx_bytes", offsetof(struct cdna_msg_stats, rx_bytes) },
	{ "rx_nobuf", offsetof(struct cdna_msg_stats, rx_nobuf) },
	{ "rx_oversize", offsetof(struct cdna_msg_stats, rx_oversize) },
	{ "ring_corrupt", offsetof(struct cdna_msg_stats, ring_corrupt) },
};

/* Indexed by CDNA_ST_*; the extra last entry counts unknown values. */
static const char * const cdna_status_names[CDNA_ST_SLOTS] = {
	[CDNA_ST_OK] = "ok",
	[CDNA_ST_BAD_ADDRESS] = "bad_address",
	[CDNA_ST_INVALID_USE] = "invalid_use",
	[CDNA_ST_BAD_LENGTH] = "bad_length",
	[CDNA_ST_BAD_FLAGS] = "bad_flags",
	[CDNA_ST_BAD_PERM] = "bad_perm",
	[CDNA_ST_BAD_CHAIN] = "bad_chain",
	[CDNA_ST_ABORTED] = "aborted",
	[CDNA_ST_DMA_FAULT] = "dma_fault",
	[CDNA_ST_MAP_QUOTA] = "map_quota",
	[CDNA_ST_COUNT] = "unknown",
};

/* Status 0 (OK) is not an error, so each error set starts at 1. */
#define CDNA_NB_RX_ERR	(CDNA_ST_SLOTS - 1)
#define CDNA_NB_TX_ERR	(CDNA_ST_SLOTS - 1)
#define CDNA_NB_MED_REJ	(CDNA_ST_COUNT - 1)

static unsigned int
cdna_xstats_count(struct rte_eth_dev *dev)
{
	return dev->data->nb_rx_queues *
			(RTE_DIM(cdna_rxq_xstats) + CDNA_NB_RX_ERR +
			 cdna_nb_map_xstats(dev)) +
		dev->data->nb_tx_queues *
			(RTE_DIM(cdna_txq_xstats) + CDNA_NB_TX_ERR +
			 cdna_nb_map_xstats(dev)) +
		RTE_DIM(cdna_med_xstats) + CDNA_NB_MED_REJ;
}

static int
cdna_xstats_get_names(struct rte_eth_dev *dev,
		struct rte_eth_xstat_name *names, unsigned int size)
{
	unsigned int count = cdna_xstats_count(dev);
	unsigned int i, k = 0;
	uint16_t q;

	if (names == NULL || size < count)
		return count;

	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		for (i = 0; i < RTE_DIM(cdna_rxq_xstats); i++)
			snprintf(names[k++].name, sizeof(names[0].name),
				"rx_q%u_%s", q, cdna_rxq_xstats[i].name);
		for (i = 1; i < CDNA_ST_SLOTS; i++)
			snprintf(names[k++].name, sizeof(names[0].name),
				"rx_q%u_error_%s", q, cdna_status_names[i]);
		for (i = 0; i < cdna_nb_map_xstats(dev); i++)
			snprintf(names[k++].name, sizeof(names[0].name),
				"rx_q%u_%s", q, cdna_map_xstats[i].name);
	}
	for (q = 0; q < dev->data->nb_tx_queues; q++) {
		for (i = 0; i < RTE_DIM(cdna_txq_xstats); i++)
			snprintf(names[k++].name, sizeof(names[0].name),
				"tx_q%u_%s", q, cdna_txq_xstats[i].name);
		for (i = 1; i < CDNA_ST_SLOTS; i++)
			snprintf(names[k++].name, sizeof(names[0].name),
				"tx_q%u_error_%s", q, cdna_status_names[i]);
		for (i = 0; i < cdna_nb_map_xstats(dev); i++)
			snprintf(names[k++].name, sizeof(names[0].name),
				"tx_q%u_%s", q, cdna_map_xstats[i].name);
	}
	for (i = 0; i < RTE_DIM(cdna_med_xstats); i++)
		snprintf(names[k++].name, sizeof(names[0].name),
			"mediator_%s", cdna_med_xstats[i].name);
	for (i = 1; i < CDNA_ST_COUNT; i++)
		snprintf(names[k++].name, sizeof(names[0].name),
			"mediator_reject_%s", cdna_status_names[i]);
	return k;
}

static uint64_t
cdna_u64_at(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)base + off, sizeof(v));
	return v;
}

/* Mediator counters relative to the last xstats_reset. */
static uint64_t
cdna_med_delta(uint64_t cur, uint64_t base)
{
	return cur >= base ? cur - base : cur;
}

static int
cdna_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xstats,
		unsigned int n)
{
	struct cdna_priv *priv = dev->data->dev_private;
	unsigned int count = cdna_xstats_count(dev);
	struct cdna_msg_stats med;
	unsigned int i, k = 0;
	uint16_t q;
	int ret;

	if (xstats == NULL || n < count)
		return count;

	/*
	 * Without a mediator, its counters stay where they were last read:
	 * the driver's own, which say what went wrong, must stay readable.
	 */
	ret = cdna_ctrl_stats(priv, &med);
	if (ret == 0)
		priv->med_last = med;
	else
		med = priv->med_last;

	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		const struct cdna_rxq *rxq = dev->data->rx_queues[q];
		struct cdna_rxq_stats zero = { 0 };
		const struct cdna_rxq_stats *st = rxq != NULL ? &rxq->stats : &zero;
		struct cdna_map_stats mzero = { 0 };
		const struct cdna_map_stats *ms = rxq != NULL ? &rxq->map.st : &mzero;

		for (i = 0; i < RTE_DIM(cdna_rxq_xstats); i++, k++) {
			xstats[k].id = k;
			xstats[k].value = cdna_u64_at(st, cdna_rxq_xstats[i].off);
		}
		for (i = 1; i < CDNA_ST_SLOTS; i++, k++) {
			xstats[k].id = k;
			xstats[k].value = st->status[i];
		}
		for (i = 0; i < cdna_nb_map_xstats(dev); i++, k++) {
			xstats[k].id = k;
			xstats[k].value = cdna_u64_at(ms, cdna_map_xstats[i].off);
		}
	}
	for (q = 0; q < dev->data->nb_tx_queues; q++) {
		const struct cdna_txq *txq = dev->data->tx_queues[q];
		struct cdna_txq_stats zero = { 0 };
		const struct cdna_txq_stats *st = txq != NULL ? &txq->stats : &zero;
		struct cdna_map_stats mzero = { 0 };
		const struct cdna_map_stats *ms = txq != NULL ? &txq->map.st : &mzero;

		for (i = 0; i < RTE_DIM(cdna_txq_xstats); i++, k++) {
			xstats[k].id = k;
			xstats[k].value = cdna_u64_at(st, cdna_txq_xstats[i].off);
		}
		for (i = 1; i < CDNA_ST_SLOTS; i++, k++) {
			xstats[k].id = k;
			xstats[k].value = st->status[i];
		}
		for (i = 0; i < cdna_nb_map_xstats(dev); i++, k++) {
			xstats[k].id = k;
			xstats[k].value = cdna_u64_at(ms, cdna_map_xstats[i].off);
		}
	}
	for (i = 0; i < RTE_DIM(cdna_med_xstats); i++, k++) {
		xstats[k].id = k;
		xstats[k].value = cdna_med_delta(
			cdna_u64_at(&med, cdna_med_xstats[i].off),
			cdna_u64_at(&priv->med_base, cdna_med_xstats[i].off));
	}
	for (i = 1; i < CDNA_ST_COUNT; i++, k++) {
		xstats[k].id = k;
		xstats[k].value = cdna_med_delta(med.reject[i],
				priv->med_base.reject[i]);
	}
	return k;
}

static int
cdna_xstats_reset(struct rte_eth_dev *dev)
{
	struct cdna_priv *priv = dev->data->dev_private;
	struct cdna_msg_stats med;
	uint16_t q;
	int ret;

	for (q = 0; q < dev->data->nb_rx_queues; q++) {
		struct cdna_rxq *rxq = dev->data->rx_queues[q];

		if (rxq != NULL) {
			memset(&rxq->stats, 0, sizeof(rxq->stats));
			memset(&rxq->map.st, 0, sizeof(rxq->map.st));
		}
	}
	for (q = 0; q < dev->data->nb_tx_queues; q++) {
		struct cdna_txq *txq = dev->data->tx_queues[q];

		if (txq != NULL) {
			memset(&txq->stats, 0, sizeof(txq->stats));
			memset(&txq->map.st, 0, sizeof(txq->map.st));
		}
	}
	/*
	 * The mediator's counters cannot be cleared: remember where they were
	 * (without a mediator, where they were last read).
	 */
	ret = cdna_ctrl_stats(priv, &med);
	if (ret == 0)
		priv->med_last = med;
	else if (!cdna_is_dead(&priv->dead))
		return ret;	/* a live mediator refused: nothing to rebase on */
	priv->med_base = priv->med_last;
	return 0;
}

static const struct eth_dev_ops cdna_ops = {
	.dev_configure = cdna_dev_configure,
	.dev_infos_get = cdna_dev_infos_get,
	.dev_start = cdna_dev_start,
	.dev_stop = cdna_dev_stop,
	.dev_close = cdna_dev_close,
	.link_update = cdna_link_update,
	.rx_queue_setup = cdna_rx_queue_setup,
	.tx_queue_setup = cdna_tx_queue_setup,
	.rx_queue_release = cdna_rx_queue_release,
	.tx_queue_release = cdna_tx_queue_release,
	.promiscuous_enable = cdna_promiscuous_enable,
	.promiscuous_disable = cdna_promiscuous_disable,
	.allmulticast_enable = cdna_allmulticast_enable,
	.allmulticast_disable = cdna_allmulticast_disable,
	.mac_addr_set = cdna_mac_addr_set,
	.mtu_set = cdna_mtu_set,
	.stats_get = cdna_stats_get,
	.stats_reset = cdna_stats_reset,
	.xstats_get = cdna_xstats_get,
	.xstats_get_names = cdna_xstats_get_names,
	.xstats_reset = cdna_xstats_reset,
};

/* ---- probe / remove ---- */

static int
cdna_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct rte_eth_dev *eth_dev;
	struct cdna_priv *priv;
	struct cdna_devargs args;
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		PMD_LOG(ERR, "%s: secondary processes are not supported", name);
		return -ENOTSUP;
	}
	ret = cdna_parse_devargs(name, rte_vdev_device_args(vdev), &args);
	if (ret != 0) {
		PMD_LOG(ERR, "%s: invalid devargs '%s'", name,
			rte_vdev_device_args(vdev) == NULL ? "" :
			rte_vdev_device_args(vdev));
		return ret;
	}

	eth_dev = rte_eth_vdev_allocate(vdev, sizeof(*priv));
	if (eth_dev == NULL) {
		PMD_LOG(ERR, "%s: cannot allocate the ethdev", name);
		return -ENOMEM;
	}
	priv = eth_dev->data->dev_private;
	priv->dev = eth_dev;
	strlcpy(priv->name, name, sizeof(priv->name));
	priv->args = args;
	priv->sock = -1;
	pthread_mutex_init(&priv->ctrl_lock, NULL);

	eth_dev->data->mac_addrs = rte_zmalloc_socket("net_cdna_mac",
			sizeof(struct rte_ether_addr), 0, eth_dev->data->numa_node);
	if (eth_dev->data->mac_addrs == NULL) {
		PMD_LOG(ERR, "%s: cannot allocate the MAC table", name);
		ret = -ENOMEM;
		goto fail;
	}
	eth_dev->dev_ops = &cdna_ops;
	eth_dev->rx_pkt_burst = cdna_rx_burst;
	eth_dev->tx_pkt_burst = cdna_mode_maps(priv->args.mode) ?
		cdna_tx_burst_map : cdna_tx_burst;
	eth_dev->data->dev_flags |= RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	cdna_link_set(eth_dev, 0);

	ret = cdna_ctrl_connect(priv);
	if (ret == 0)
		ret = cdna_ctrl_hello(priv);
	if (ret == 0)
		ret = cdna_ctrl_share_memory(priv);
	if (ret != 0)
		goto fail;

	rte_eth_dev_probing_finish(eth_dev);
	return 0;

fail:
	PMD_LOG(ERR, "%s: probe failed: %s", name, strerror(-ret));
	cdna_ctrl_unshare_memory(priv);
	cdna_ctrl_disconnect(priv);
	pthread_mutex_destroy(&priv->ctrl_lock);
	rte_eth_dev_release_port(eth_dev);
	return ret;
}

static int
cdna_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth_dev;

	eth_dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));
	if (eth_dev == NULL)
		return 0;
	if (eth_dev->data->dev_started)
		rte_eth_dev_stop(eth_dev->data->port_id);
	return rte_eth_dev_close(eth_dev->data->port_id);
}

static struct rte_vdev_driver cdna_vdev_drv = {
	.probe = cdna_probe,
	.remove = cdna_remove,
};

RTE_PMD_REGISTER_VDEV(net_cdna, cdna_vdev_drv);
RTE_PMD_REGISTER_PARAM_STRING(net_cdna,
	"path=<string> queues=<int> mac=<mac> mode=mediated|passthrough "
	"strategy=software|direct-map|single-use|shared|persistent|unprotected");
