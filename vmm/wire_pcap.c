/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --pcap FILE: every frame the wire port sends or receives, recorded with
 * libpcap through ethdev RX/TX callbacks (they run on the lcore doing the
 * burst, so no locking is needed).
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <pcap/pcap.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "vmm.h"

static pcap_t *pc;
static pcap_dumper_t *dumper;
static const struct rte_eth_rxtx_callback *rx_cb, *tx_cb;
static uint16_t cb_port;

static void
dump_burst(struct rte_mbuf **pkts, uint16_t n)
{
	uint8_t buf[CDNA_MAX_FRAME_LEN];
	struct pcap_pkthdr h;
	struct timeval tv;
	uint16_t i;

	gettimeofday(&tv, NULL);
	for (i = 0; i < n; i++) {
		uint32_t len = RTE_MIN(pkts[i]->pkt_len, (uint32_t)sizeof(buf));
		const void *p = rte_pktmbuf_read(pkts[i], 0, len, buf);

		if (p == NULL)
			continue;
		h.ts = tv;
		h.caplen = len;
		h.len = pkts[i]->pkt_len;
		pcap_dump((u_char *)dumper, &h, p);
	}
}

static uint16_t
on_rx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n,
      uint16_t max, void *arg)
{
	dump_burst(pkts, n);
	return n;
}

/* Records what the NIC offers the wire; frames the port refuses are counted as wire_tx_drop. */
static uint16_t
on_tx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n,
      void *arg)
{
	dump_burst(pkts, n);
	return n;
}

int
wire_pcap_open(uint16_t port, const char *file)
{
	pc = pcap_open_dead(DLT_EN10MB, 65535);
	if (pc == NULL) {
		fprintf(stderr, "cdna-vmm: --pcap: pcap_open_dead failed\n");
		return -1;
	}
	dumper = pcap_dump_open(pc, file);
	if (dumper == NULL) {
		fprintf(stderr, "cdna-vmm: --pcap %s: %s\n", file, pcap_geterr(pc));
		pcap_close(pc);
		pc = NULL;
		return -1;
	}
	cb_port = port;
	rx_cb = rte_eth_add_rx_callback(port, 0, on_rx, NULL);
	tx_cb = rte_eth_add_tx_callback(port, 0, on_tx, NULL);
	if (rx_cb == NULL || tx_cb == NULL) {
		fprintf(stderr, "cdna-vmm: --pcap: cannot add ethdev callbacks on port %u: %s\n",
			port, rte_strerror(rte_errno));
		wire_pcap_close();
		return -1;
	}
	return 0;
}

void
wire_pcap_close(void)
{
	if (rx_cb != NULL)
		rte_eth_remove_rx_callback(cb_port, 0, rx_cb);
	if (tx_cb != NULL)
		rte_eth_remove_tx_callback(cb_port, 0, tx_cb);
	rx_cb = tx_cb = NULL;
	if (dumper != NULL)
		pcap_dump_close(dumper);
	if (pc != NULL)
		pcap_close(pc);
	dumper = NULL;
	pc = NULL;
}
