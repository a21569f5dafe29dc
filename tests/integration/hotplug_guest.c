/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A DPDK guest for test_hotplug.sh: it grows and shrinks its hugepage memory
 * at run time while attached to cdna-vmm through net_cdna, so the test can
 * see the PMD share hot-plugged pages (REGION_ADD) and withdraw them
 * (REGION_DEL), and the mediator accept DMA from them.
 *
 *   hotplug_guest EAL_ARGS... [-- --frames N --block-mb M]
 *
 * EAL memory must be dynamic (hugepages, no --legacy-mem, no -m) so that EAL
 * allocates and frees pages on demand. Phases, each announced with one line
 * on stdout and each but the first entered after a line "next" on stdin:
 *
 *   hotplug: phase=started segs=S
 *   hotplug: phase=grow segs=S new_segs=K run_mb=R mbufs=M sent=N opackets=N oerrors=0
 *   hotplug: phase=shrink segs=S
 *   hotplug: phase=quit
 *
 * S counts the memory segments EAL has allocated at that point. Any failure
 * prints "hotplug: error: <what> <value>" and exits 1.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_memory.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#define HP_PORT_NAME "net_cdna0"
#define HP_RX_DESC 256
#define HP_TX_DESC 512
#define HP_RX_MBUFS 1023
#define HP_BURST 32
#define HP_FRAME_MIN 64
#define HP_FRAME_MAX 1514
#define HP_TX_LIMIT_S 20	/* for all frames to be accepted and completed */

static const struct rte_ether_addr hp_dst = {
	.addr_bytes = { 0x02, 0xcd, 0x00, 0x00, 0x00, 0xee }
};

/* Start addresses of the segments EAL had allocated when the port started. */
struct hp_segs {
	uintptr_t *addr;
	unsigned int n;
	unsigned int cap;
};

static struct hp_segs start_segs;

static void
hp_error(const char *what, long long value)
{
	printf("hotplug: error: %s %lld\n", what, value);
	fflush(stdout);
	exit(1);
}

static int
hp_collect_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		void *arg)
{
	struct hp_segs *s = arg;

	/* Only EAL's own memory can be hot-plugged; external memory is not. */
	if (msl->external)
		return 0;
	if (s->n == s->cap) {
		unsigned int cap = s->cap == 0 ? 256 : s->cap * 2;
		uintptr_t *a = realloc(s->addr, cap * sizeof(*a));

		if (a == NULL)
			return -1;
		s->addr = a;
		s->cap = cap;
	}
	s->addr[s->n++] = (uintptr_t)ms->addr;
	return 0;
}

static int
hp_count_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		void *arg)
{
	unsigned int *n = arg;

	RTE_SET_USED(ms);
	if (!msl->external)
		(*n)++;
	return 0;
}

static unsigned int
hp_nb_segs(void)
{
	unsigned int n = 0;

	rte_memseg_walk(hp_count_seg, &n);
	return n;
}

static int
hp_addr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

static void
hp_snapshot(void)
{
	if (rte_memseg_walk(hp_collect_seg, &start_segs) != 0)
		hp_error("memseg snapshot failed, segments so far", start_segs.n);
	qsort(start_segs.addr, start_segs.n, sizeof(uintptr_t), hp_addr_cmp);
}

/* The segment was not allocated yet when the snapshot was taken. */
static int
hp_seg_is_new(const struct rte_memseg *ms)
{
	uintptr_t a = (uintptr_t)ms->addr;

	return bsearch(&a, start_segs.addr, start_segs.n, sizeof(uintptr_t),
			hp_addr_cmp) == NULL;
}

/* Blocks for the script's go-ahead, so it can read telemetry in between. */
static void
hp_wait_next(const char *phase)
{
	char line[64];

	if (fgets(line, sizeof(line), stdin) == NULL)
		hp_error("no 'next' on stdin before phase", 0);
	if (strncmp(line, "next", 4) != 0) {
		printf("hotplug: error: expected 'next' before %s, got %s", phase,
			line);
		fflush(stdout);
		exit(1);
	}
}

struct hp_check {
	unsigned int objs;
	unsigned int old_seg;	/* objects in memory that predates the snapshot */
	unsigned int split;	/* data buffers that straddle two segments */
};

static void
hp_check_mbuf(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct hp_check *c = arg;
	struct rte_mbuf *m = obj;
	const struct rte_memseg *first, *last;
	const char *end = (const char *)m->buf_addr + m->buf_len - 1;

	RTE_SET_USED(mp);
	RTE_SET_USED(idx);
	c->objs++;
	first = rte_mem_virt2memseg(m, NULL);
	last = rte_mem_virt2memseg(end, NULL);
	if (first == NULL || last == NULL || !hp_seg_is_new(first) ||
			!hp_seg_is_new(last))
		c->old_seg++;
	else if (first != last)
		c->split++;
}

/*
 * The longest run of whole pages inside the memzone that all come from
 * segments allocated after the snapshot: the memzone itself may begin in
 * the free tail of a page that was already there.
 */
static void
hp_new_run(const struct rte_memzone *mz, uintptr_t *run_addr, size_t *run_len)
{
	uintptr_t start = (uintptr_t)mz->addr;
	uintptr_t end = start + mz->len;
	uintptr_t pg = (uintptr_t)mz->hugepage_sz;
	uintptr_t va, cur = 0;

	*run_addr = 0;
	*run_len = 0;
	for (va = RTE_ALIGN_CEIL(start, pg); va + pg <= end; va += pg) {
		const struct rte_memseg *ms = rte_mem_virt2memseg((void *)va, NULL);

		if (ms == NULL || !hp_seg_is_new(ms) || ms->len != pg) {
			cur = 0;
			continue;
		}
		if (cur == 0)
			cur = va;
		if (va + pg - cur > *run_len) {
			*run_addr = cur;
			*run_len = va + pg - cur;
		}
	}
}

/* A pktmbuf pool whose objects all live in [addr, addr + len). */
static struct rte_mempool *
hp_pool_in(uintptr_t addr, size_t len, size_t pg_sz)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE,
		.mbuf_priv_size = 0,
	};
	unsigned int elt = sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE;
	struct rte_mempool_objsz sz;
	struct rte_mempool *mp;
	unsigned int n;
	int ret;

	/*
	 * Objects never straddle a page (the pool needs IOVA-contiguous
	 * objects), so size the pool by whole pages; populate may still fit
	 * fewer, which is why the rest of the test uses populated_size.
	 */
	rte_mempool_calc_obj_size(elt, 0, &sz);
	n = (unsigned int)(len / pg_sz) * (unsigned int)(pg_sz / sz.total_size);
	if (n == 0)
		hp_error("no mbuf fits in the new run, bytes", (long long)len);
	mp = rte_mempool_create_empty("hp_new_pool", n, elt, 0,
			sizeof(struct rte_pktmbuf_pool_private), rte_socket_id(), 0);
	if (mp == NULL)
		hp_error("rte_mempool_create_empty failed, rte_errno", rte_errno);
	ret = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (ret != 0)
		hp_error("rte_mempool_set_ops_byname failed", ret);
	rte_pktmbuf_pool_init(mp, &priv);
	ret = rte_mempool_populate_virt(mp, (char *)addr, len, pg_sz, NULL,
			NULL);
	if (ret <= 0)
		hp_error("rte_mempool_populate_virt failed", ret);
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
}

/* Frame i: lengths sweep 64..1514, payload a counter so frames differ. */
static void
hp_fill(struct rte_mbuf *m, const struct rte_ether_addr *src, uint32_t i)
{
	uint16_t len = HP_FRAME_MIN +
		(uint16_t)((i * 7919u) % (HP_FRAME_MAX - HP_FRAME_MIN + 1));
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint8_t *p = (uint8_t *)(eh + 1);
	uint16_t k;

	rte_ether_addr_copy(&hp_dst, &eh->dst_addr);
	rte_ether_addr_copy(src, &eh->src_addr);
	/* IEEE local experimental EtherType: nobody will parse these. */
	eh->ether_type = rte_cpu_to_be_16(0x88b5);
	for (k = 0; k < len - sizeof(*eh); k++)
		p[k] = (uint8_t)(i + k);
	m->data_len = len;
	m->pkt_len = len;
	m->nb_segs = 1;
	m->next = NULL;
}

/* Sends frames from mp until all are accepted; returns how many. */
static uint32_t
hp_send(uint16_t port, struct rte_mempool *mp, uint32_t frames)
{
	struct rte_ether_addr src;
	struct rte_mbuf *burst[HP_BURST];
	uint64_t deadline = rte_get_timer_cycles() +
		rte_get_timer_hz() * HP_TX_LIMIT_S;
	uint32_t sent = 0;
	uint16_t nb = 0, done = 0, k;

	if (rte_eth_macaddr_get(port, &src) != 0)
		hp_error("rte_eth_macaddr_get failed, port", port);
	while (sent < frames) {
		if (rte_get_timer_cycles() > deadline)
			hp_error("tx stalled, frames accepted", sent);
		if (done == nb) {
			nb = (uint16_t)RTE_MIN((uint32_t)HP_BURST, frames - sent);
			done = 0;
			/* Empty only while completions lag: reap and retry. */
			if (rte_pktmbuf_alloc_bulk(mp, burst, nb) != 0) {
				nb = 0;
				rte_eth_tx_burst(port, 0, NULL, 0);
				continue;
			}
			for (k = 0; k < nb; k++)
				hp_fill(burst[k], &src, sent + k);
		}
		k = rte_eth_tx_burst(port, 0, burst + done, nb - done);
		done += k;
		sent += k;
	}
	/* Every mbuf must be back before the pool and its memory go away. */
	while (rte_mempool_avail_count(mp) != mp->populated_size) {
		if (rte_get_timer_cycles() > deadline)
			hp_error("tx completions missing, mbufs still out",
				(long long)mp->populated_size -
				rte_mempool_avail_count(mp));
		rte_eth_tx_burst(port, 0, NULL, 0);
		rte_delay_us_sleep(100);
	}
	return sent;
}

static void
hp_args(int argc, char **argv, uint32_t *frames, size_t *block_mb)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--frames") == 0)
			*frames = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (i + 1 < argc && strcmp(argv[i], "--block-mb") == 0)
			*block_mb = (size_t)strtoul(argv[++i], NULL, 0);
		else
			hp_error("unknown argument at index", i);
	}
	if (*frames == 0 || *block_mb == 0)
		hp_error("--frames and --block-mb must be positive", 0);
}

static uint16_t
hp_port_start(struct rte_mempool *rx_pool)
{
	struct rte_eth_conf conf;
	uint16_t port;
	int ret;

	if (rte_eth_dev_get_port_by_name(HP_PORT_NAME, &port) != 0)
		hp_error("no port " HP_PORT_NAME ", ports", rte_eth_dev_count_avail());
	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret != 0)
		hp_error("rte_eth_dev_configure failed", ret);
	ret = rte_eth_rx_queue_setup(port, 0, HP_RX_DESC, rte_socket_id(), NULL,
			rx_pool);
	if (ret != 0)
		hp_error("rte_eth_rx_queue_setup failed", ret);
	ret = rte_eth_tx_queue_setup(port, 0, HP_TX_DESC, rte_socket_id(), NULL);
	if (ret != 0)
		hp_error("rte_eth_tx_queue_setup failed", ret);
	ret = rte_eth_dev_start(port);
	if (ret != 0)
		hp_error("rte_eth_dev_start failed", ret);
	return port;
}

int
main(int argc, char **argv)
{
	struct rte_mempool *rx_pool, *mp;
	const struct rte_memzone *mz;
	struct rte_eth_stats st;
	struct hp_check chk = { 0 };
	uint32_t frames = 10000, sent;
	size_t block_mb = 96, run_len;
	uintptr_t run_addr;
	unsigned int segs;
	uint16_t port;
	int ret;

	/* The script reads us through a pipe, one line per phase. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		hp_error("rte_eal_init failed, rte_errno", rte_errno);
	hp_args(argc - ret - 1, argv + ret + 1, &frames, &block_mb);
	if (rte_eal_has_hugepages() == 0)
		hp_error("needs hugepages, rte_eal_has_hugepages", 0);

	rx_pool = rte_pktmbuf_pool_create("hp_rx_pool", HP_RX_MBUFS, 32, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (rx_pool == NULL)
		hp_error("rx pool creation failed, rte_errno", rte_errno);
	port = hp_port_start(rx_pool);

	hp_snapshot();
	printf("hotplug: phase=started segs=%u\n", start_segs.n);

	hp_wait_next("grow");
	/* More than the startup heap has free: EAL must map new pages. */
	mz = rte_memzone_reserve("hp_block", block_mb << 20, rte_socket_id(), 0);
	if (mz == NULL)
		hp_error("rte_memzone_reserve failed, MiB", (long long)block_mb);
	segs = hp_nb_segs();
	if (segs <= start_segs.n)
		hp_error("no segment hot-plugged, segs", segs);
	hp_new_run(mz, &run_addr, &run_len);
	/* At most the first and the last page may be shared with older data. */
	if (run_len + 2 * mz->hugepage_sz < mz->len)
		hp_error("new pages in the block, bytes", (long long)run_len);
	mp = hp_pool_in(run_addr, run_len, mz->hugepage_sz);
	rte_mempool_obj_iter(mp, hp_check_mbuf, &chk);
	if (chk.objs != mp->populated_size || chk.objs < frames)
		hp_error("mbufs in the new pool", chk.objs);
	if (chk.old_seg != 0)
		hp_error("mbufs in segments allocated before start", chk.old_seg);
	if (chk.split != 0)
		hp_error("mbufs straddling two segments", chk.split);
	if (rte_eth_stats_reset(port) != 0)
		hp_error("rte_eth_stats_reset failed, port", port);
	sent = hp_send(port, mp, frames);
	if (rte_eth_stats_get(port, &st) != 0)
		hp_error("rte_eth_stats_get failed, port", port);
	/*
	 * Completions are all in, so opackets no longer counts frames the
	 * mediator refused. Checked before the phase line so that the script
	 * sees the error rather than a phase it would go on with.
	 */
	if (st.opackets != frames || st.oerrors != 0) {
		printf("hotplug: error: frames sent %u, refused by the mediator (oerrors) %"
			PRIu64 ", accepted (opackets) %" PRIu64 "\n",
			sent, st.oerrors, st.opackets);
		exit(1);
	}
	printf("hotplug: phase=grow segs=%u new_segs=%u run_mb=%zu mbufs=%u "
		"sent=%u opackets=%" PRIu64 " oerrors=%" PRIu64 "\n",
		segs, segs - start_segs.n, run_len >> 20, chk.objs, sent,
		st.opackets, st.oerrors);

	hp_wait_next("shrink");
	rte_mempool_free(mp);
	ret = rte_memzone_free(mz);
	if (ret != 0)
		hp_error("rte_memzone_free failed", ret);
	printf("hotplug: phase=shrink segs=%u\n", hp_nb_segs());

	hp_wait_next("quit");
	ret = rte_eth_dev_stop(port);
	if (ret != 0)
		hp_error("rte_eth_dev_stop failed", ret);
	ret = rte_eth_dev_close(port);
	if (ret != 0)
		hp_error("rte_eth_dev_close failed", ret);
	rte_mempool_free(rx_pool);
	free(start_segs.addr);
	ret = rte_eal_cleanup();
	if (ret != 0)
		hp_error("rte_eal_cleanup failed", ret);
	printf("hotplug: phase=quit\n");
	return 0;
}
