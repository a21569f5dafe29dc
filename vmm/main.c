/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cdna-vmm: the trusted mediator. Owns the wire port and the NIC model,
 * serves guests on a UNIX socket, and runs the data path on the main lcore.
 */
#include <inttypes.h>
#include <numa.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include "dma_guard.h"
#include "fd_close.h"
#include "fault_inject.h"
#include "guest_mem.h"
#include "vmm.h"

#define WIRE_RING	1024
#define POOL_MBUFS	8191
/* Data room for the largest frame, so the NIC never chains on TX. */
#define POOL_DATA_ROOM	(RTE_PKTMBUF_HEADROOM + CDNA_MAX_FRAME_LEN)
/* Poll the control socket this often when the data path is busy. */
#define CTRL_EVERY	256

struct vmm vmm = {
	.listen_fd = -1,
	.lock_fd = -1,
	.epoll_fd = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static void
on_signal(int sig)
{
	(void)sig;
	vmm.quit = 1;
}

static int
wire_setup(struct vmm *v, struct rte_mempool **mp)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t port, nrx = WIRE_RING, ntx = WIRE_RING;
	int rc;

	if (rte_eth_dev_get_port_by_name(v->opt.wire, &port) != 0) {
		fprintf(stderr, "cdna-vmm: --wire %s: no such ethdev (create it with an EAL --vdev or PCI device; %u ports exist)\n",
			v->opt.wire, rte_eth_dev_count_avail());
		return -1;
	}
	v->wire_port = port;
	v->socket_id = rte_eth_dev_socket_id(port);
	if (v->socket_id < 0)
		v->socket_id = (int)rte_socket_id();
	*mp = rte_pktmbuf_pool_create("cdna_wire", POOL_MBUFS, 256, 0,
				      POOL_DATA_ROOM, v->socket_id);
	if (*mp == NULL) {
		fprintf(stderr, "cdna-vmm: mbuf pool of %u x %u bytes on socket %d: %s\n",
			POOL_MBUFS, POOL_DATA_ROOM, v->socket_id,
			rte_strerror(rte_errno));
		return -1;
	}
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		fprintf(stderr, "cdna-vmm: --wire %s: dev_info: %s\n", v->opt.wire,
			rte_strerror(-rc));
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	if (info.max_rx_pktlen >= CDNA_MAX_FRAME_LEN)
		conf.rxmode.mtu = CDNA_MTU_MAX;
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, nrx, v->socket_id, NULL, *mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, ntx, v->socket_id, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0) {
		fprintf(stderr, "cdna-vmm: --wire %s: configure/start port %u: %s\n",
			v->opt.wire, port, rte_strerror(-rc));
		return -1;
	}
	/* The embedded switch decides delivery; the wire must hand us everything. */
	rte_eth_promiscuous_enable(port);
	return 0;
}

static void
numa_check(const struct vmm *v)
{
	unsigned int lsock = rte_socket_id();

	if (numa_available() < 0)
		return;
	/* Per-guest state from malloc follows the lcore; keep it on the port's node. */
	numa_set_preferred(v->socket_id);
	if ((int)lsock != v->socket_id)
		VLOG(WARNING, "warning: datapath lcore %u is on NUMA node %u, wire port on node %d",
		       rte_lcore_id(), lsock, v->socket_id);
}

static void
summary(struct vmm *v)
{
	const struct cdna_nic_stats *s = cdna_nic_stats(v->nic);
	uint64_t dma, viol;

	audit_stats(&dma, &viol);
	VLOG(NOTICE, "summary wire_rx=%" PRIu64 " wire_tx=%" PRIu64
	     " wire_tx_drop=%" PRIu64 " wire_rx_unmatched=%" PRIu64
	     " switched=%" PRIu64 " audit_dma=%" PRIu64
	     " audit_violations=%" PRIu64 " guests_seen=%" PRIu64,
	     s->wire_rx, s->wire_tx, s->wire_tx_drop, s->wire_rx_unmatched,
	     s->switched, dma, viol, v->guests_seen);
}

/* Disconnects every guest whose NIC context faulted, saying why. */
static void
teardown_faulted(struct vmm *v)
{
	char why[128];
	uint32_t i;

	for (i = 0; i < v->opt.max_guests; i++) {
		struct guest *g = v->guests[i];
		const struct cdna_nic_fault *f;

		if (g == NULL || g->nic_ctx < 0 ||
		    !cdna_nic_ctx_faulted(v->nic, (uint32_t)g->nic_ctx))
			continue;
		f = cdna_nic_ctx_fault_info(v->nic, (uint32_t)g->nic_ctx);
		if (f->why == CDNA_NIC_FAULT_DOORBELL)
			snprintf(why, sizeof(why),
				 "ring_corrupt: passthrough queue %u %s doorbell %u is %u past the NIC's head %u; ring holds %u",
				 f->queue, f->dir == CDNA_DIR_RX ? "rx" : "tx",
				 f->tail, f->tail - f->head, f->head, f->size);
		else if (f->why == CDNA_NIC_FAULT_MANUAL && g->fault[0] != '\0')
			snprintf(why, sizeof(why), "%.120s", g->fault);
		else
			snprintf(why, sizeof(why),
				 "its memory vanished under DMA (file truncated: SIGBUS)");
		guest_teardown(v, g, why);
	}
}

static void
run(struct vmm *v)
{
	uint64_t hz = rte_get_timer_hz(), next_tick = rte_get_timer_cycles() + hz;
	unsigned int iter = 0, idle = 0;

	/* cyc_loop is read off the TSC against this: no read in the loop (vmm.h). */
	v->cost.loop_start = rte_rdtsc();
	while (!v->quit) {
		unsigned int work = mediator_poll(v);

		/* Unmapping is slow: a bounded slice per poll, never all at once. */
		work += guest_mem_reap(GUEST_MEM_REAP_PER_POLL);

		if (cdna_nic_take_faults(v->nic) != 0)
			teardown_faulted(v);
		idle = work ? 0 : idle + 1;
		/* Sleep in epoll only when nothing moves; otherwise peek now and then. */
		if (idle > 1024)
			control_poll(v, 1);
		else if (++iter % CTRL_EVERY == 0)
			control_poll(v, 0);
		if (iter % (CTRL_EVERY * 64) == 0 || idle > 1024) {
			guest_expire(v);
			fault_inject_poll(v);
			if (rte_get_timer_cycles() > next_tick) {
				vlog_tick();
				next_tick = rte_get_timer_cycles() + hz;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	struct rte_mempool *mp = NULL;
	struct cdna_nic_config nc;
	uint64_t dma, viol;
	int n, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "cdna-vmm: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 2;
	}
	argc -= n;
	argv += n;
	argv[0] = (char *)"cdna-vmm";
	rc = vmm_parse_options(argc, argv, &vmm.opt);
	if (rc != 0) {
		rte_eal_cleanup();
		return rc > 0 ? 0 : 2;
	}
	vmm.lim.ring_min = vmm.opt.ring_min;
	vmm.lim.ring_max = vmm.opt.ring_max;
	vmm.lim.max_queues = CDNA_MAX_QUEUES;
	vmm.guests = calloc(vmm.opt.max_guests, sizeof(*vmm.guests));
	if (vmm.guests == NULL || mediator_init(&vmm) != 0) {
		fprintf(stderr, "cdna-vmm: out of memory for %u guests\n",
			vmm.opt.max_guests);
		rte_eal_cleanup();
		return 2;
	}
	if (wire_setup(&vmm, &mp) != 0) {
		rte_eal_cleanup();
		return 2;
	}
	numa_check(&vmm);
	guest_mem_init(vmm.opt.audit);
	memset(&nc, 0, sizeof(nc));
	nc.wire_port = vmm.wire_port;
	nc.mp = mp;
	nc.max_contexts = vmm.opt.max_guests;
	nc.socket_id = vmm.socket_id;
	nc.burst = vmm.opt.burst;
	vmm.nic = cdna_nic_create(&nc);
	if (vmm.nic == NULL) {
		fprintf(stderr, "cdna-vmm: cannot create the NIC model (%u contexts)\n",
			nc.max_contexts);
		return 2;
	}
	if (strategy_init(&vmm) != 0 ||
	    (vmm.opt.audit && audit_init(&vmm) != 0) ||
	    (vmm.opt.pcap != NULL && wire_pcap_open(vmm.wire_port, vmm.opt.pcap) != 0) ||
	    telemetry_init(&vmm) != 0 || fault_inject_init(&vmm) != 0 ||
	    cdna_dma_guard_init() != 0 || guest_fd_close_start() != 0 ||
	    control_init(&vmm) != 0) {
		fprintf(stderr, "cdna-vmm: start-up failed (see above)\n");
		return 2;
	}
	/*
	 * Stock dpdk-dumpcap and dpdk-pdump attach as secondary processes
	 * and capture the wire port (secondaries need hugepages: not with
	 * --no-huge or --in-memory, where this still returns 0).
	 */
	if (rte_pdump_init() != 0)
		VLOG(WARNING, "warning: packet capture framework: %s (dpdk-dumpcap will not attach)",
		     rte_strerror(rte_errno));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	VLOG(NOTICE, "ready socket=%s wire=%s port=%u", vmm.opt.socket_path,
	       vmm.opt.wire, vmm.wire_port);
	run(&vmm);

	control_fini(&vmm);
	guest_fd_close_stop();
	rte_pdump_uninit();
	guest_mem_reap_all();
	wire_pcap_close();
	rte_eth_dev_stop(vmm.wire_port);
	rte_eth_dev_close(vmm.wire_port);
	summary(&vmm);
	cdna_nic_destroy(vmm.nic);
	strategy_fini(&vmm);
	mediator_fini(&vmm);
	free(vmm.guests);
	rte_eal_cleanup();
	audit_stats(&dma, &viol);
	return viol != 0 ? 3 : 0;
}
