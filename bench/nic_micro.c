/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NIC model's poll alone, for instruction counts: one busy context
 * sending 64-byte frames to the wire (net_null), or receiving the wire's
 * 64-byte frames (rx: promiscuous, a burst of 2 KiB buffers posted each
 * round), beside IDLE contexts that have RX buffers posted and nothing to
 * send, as idle rxonly guests leave them. What an idle guest costs each
 * poll shows as the difference between IDLE 0 and IDLE 15, per frame,
 * repeatably (bench/micro.sh).
 *
 *   nic_micro [ROUNDS] [IDLE] [tx|rx]   (default 20000 rounds of 32 frames, 0 idle, tx)
 *
 * The descriptors carry host pointers (the "host" address stage, as the
 * mediator posts them). EAL runs --no-huge with a private --file-prefix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "cdna_ring.h"
#include "dma_guard.h"
#include "nic.h"

#define RING	512u
#define BURST	32u
#define FRAME	64u
#define MAX_IDLE 63u

static int
die(const char *what, int rc)
{
	fprintf(stderr, "nic_micro: %s: %s\n", what, rte_strerror(rc < 0 ? -rc : rc));
	exit(1);
}

static uint16_t
wire_up(struct rte_mempool *mp)
{
	struct rte_eth_conf conf;
	uint16_t port;
	int rc;

	if (rte_eth_dev_get_port_by_name("net_null0", &port) != 0)
		die("no net_null0 port", ENODEV);
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, 512, SOCKET_ID_ANY, NULL, mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, 512, SOCKET_ID_ANY, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0)
		die("wire port set-up", rc);
	return port;
}

int
main(int argc, char **argv)
{
	char prefix[64];
	int rx = argc > 3 && strcmp(argv[3], "rx") == 0;
	/* The wire sends frames only when they are what is counted. */
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-pci",
			"--vdev", rx ? "net_null0,size=64" : "net_null0,no-rx=1",
			"--log-level", "lib.*:error", "--file-prefix", prefix, NULL };
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	unsigned long idle = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
	static uint8_t frames[RING][FRAME];
	static uint8_t rxbuf[RING][2048];
	struct cdna_nic_config cfg;
	struct cdna_nic_queue *busy = NULL;
	struct rte_mempool *mp;
	struct cdna_nic *nic;
	unsigned long i, k, sent = 0;
	uint32_t c;

	if (argc > 3 && !rx && strcmp(argv[3], "tx") != 0) {
		fprintf(stderr, "nic_micro: direction '%s' is neither tx nor rx\n", argv[3]);
		return 2;
	}
	if (idle > MAX_IDLE) {
		fprintf(stderr, "nic_micro: %lu idle contexts, at most %u\n", idle, MAX_IDLE);
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "cdna-nic-micro-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		die("rte_eal_init", rte_errno);
	if (cdna_dma_guard_init() != 0)
		die("dma guard", EINVAL);
	mp = rte_pktmbuf_pool_create("nic_micro", 4096, 256, 0,
				     RTE_PKTMBUF_HEADROOM + CDNA_MAX_FRAME_LEN,
				     SOCKET_ID_ANY);
	if (mp == NULL)
		die("mbuf pool", rte_errno);
	memset(&cfg, 0, sizeof(cfg));
	cfg.wire_port = wire_up(mp);
	cfg.mp = mp;
	cfg.max_contexts = (uint32_t)idle + 1;
	cfg.socket_id = SOCKET_ID_ANY;
	cfg.burst = BURST;
	nic = cdna_nic_create(&cfg);
	if (nic == NULL)
		die("cdna_nic_create", ENOMEM);
	for (c = 0; c <= idle; c++) {
		/* Locally administered MACs, none the frames are sent to. */
		uint8_t mac[6] = { 0x02, 0, 0, 0, (uint8_t)(c >> 8), (uint8_t)c };
		struct cdna_nic_queue *q;

		if (cdna_nic_ctx_alloc(nic, mac, 1, NULL, NULL) != (int)c)
			die("cdna_nic_ctx_alloc", ENOSPC);
		q = cdna_nic_queue_create(nic, c, 0, RING, RING);
		if (q == NULL)
			die("cdna_nic_queue_create", ENOMEM);
		cdna_nic_queue_enable(nic, c, 0, 1);
		if (c == 0) {
			busy = q;
			/* rx: the wire's frames are to no MAC: promiscuous takes them. */
			cdna_nic_ctx_set_rxmode(nic, 0, rx, 0);
			continue;
		}
		/* An idle rxonly guest: every RX buffer posted, nothing arriving. */
		for (k = 0; k < RING; k++)
			q->rx.desc[k] = (struct cdna_nic_desc){
				.addr = (uint64_t)(uintptr_t)rxbuf[k],
				.len = sizeof(rxbuf[k]), .tag = (uint32_t)k };
		cdna_store_release(q->rx.tail, RING);
	}
	for (k = 0; k < RING; k++) {
		/* To a unicast MAC nobody owns: the wire, as txonly sends. */
		static const uint8_t dst[6] = { 0x02, 0xff, 0, 0, 0, 1 };

		memcpy(frames[k], dst, 6);
		memset(frames[k] + 6, 0, 6);
		frames[k][6] = 0x02;
		frames[k][11] = 0;	/* context 0's MAC: passes a spoof check */
		frames[k][12] = 0x08;
	}
	for (i = 0; rx && i < rounds; i++) {
		struct cdna_nic_ring *r = &busy->rx;
		uint32_t tail = r->tail->val, done;

		/* A burst of buffers, as the mediator posts them each round. */
		for (k = 0; k < BURST; k++)
			r->desc[(tail + k) & r->mask] = (struct cdna_nic_desc){
				.addr = (uint64_t)(uintptr_t)rxbuf[(tail + k) & r->mask],
				.len = sizeof(rxbuf[0]), .tag = (uint32_t)((tail + k) & r->mask) };
		cdna_store_release(r->tail, tail + BURST);
		cdna_nic_poll(nic);
		/* Every buffer filled with a frame: else the figure lies. */
		done = cdna_load_acquire(r->st_prod);
		if (done != tail + BURST ||
		    r->status[(done - 1) & r->mask].status != CDNA_ST_OK ||
		    r->status[(done - 1) & r->mask].len != FRAME) {
			fprintf(stderr, "nic_micro: rx round %lu: %u statuses, expected %u (last %u, %u bytes)\n",
				i, done - tail, BURST,
				r->status[(done - 1) & r->mask].status,
				r->status[(done - 1) & r->mask].len);
			return 1;
		}
		r->st_cons.val = done;
		sent += BURST;
	}
	for (i = 0; !rx && i < rounds; i++) {
		struct cdna_nic_ring *r = &busy->tx;
		uint32_t tail = r->tail->val, done;

		for (k = 0; k < BURST; k++)
			r->desc[(tail + k) & r->mask] = (struct cdna_nic_desc){
				.addr = (uint64_t)(uintptr_t)frames[(tail + k) & r->mask],
				.len = FRAME, .tag = (uint32_t)((tail + k) & r->mask) };
		cdna_store_release(r->tail, tail + BURST);
		cdna_nic_poll(nic);
		/* Every descriptor performed and sent: else the figure lies. */
		done = cdna_load_acquire(r->st_prod);
		if (done != tail + BURST ||
		    r->status[(done - 1) & r->mask].status != CDNA_ST_OK) {
			fprintf(stderr, "nic_micro: round %lu: %u statuses, expected %u (last %u)\n",
				i, done - tail, BURST,
				r->status[(done - 1) & r->mask].status);
			return 1;
		}
		r->st_cons.val = done;
		sent += BURST;
	}
	if (!rx && cdna_nic_stats(nic)->wire_tx != sent) {
		fprintf(stderr, "nic_micro: %lu frames to the wire, expected %lu\n",
			(unsigned long)cdna_nic_stats(nic)->wire_tx, sent);
		return 1;
	}
	printf("frames %lu\nidle_contexts %lu\n", sent, idle);
	cdna_nic_destroy(nic);
	rte_eal_cleanup();
	return 0;
}
