/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Telemetry commands, readable with dpdk-telemetry.py:
 *   /cdna/guests       ids of the connected guests
 *   /cdna/guest,<id>   one guest's state and counters
 *   /cdna/nic          wire and audit counters
 *   /cdna/gone[,<id>]  the last guests to leave; why and how one left
 *   /cdna/vmm          the mediator's own: region reaper, DMA guard, log limiter
 * The callbacks run on the telemetry thread: they read under vmm.lock, and
 * counters may be a poll behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "dma_guard.h"
#include "fd_close.h"
#include "guest_mem.h"
#include "fault_inject.h"
#include "iomap.h"
#include "iommu.h"
#include "vmm.h"

static const char *const reject_names[CDNA_ST_COUNT] = {
	[CDNA_ST_OK] = NULL,
	[CDNA_ST_BAD_ADDRESS] = "reject_bad_address",
	[CDNA_ST_INVALID_USE] = "reject_invalid_use",
	[CDNA_ST_BAD_LENGTH] = "reject_bad_length",
	[CDNA_ST_BAD_FLAGS] = "reject_bad_flags",
	[CDNA_ST_BAD_PERM] = "reject_bad_perm",
	[CDNA_ST_BAD_CHAIN] = "reject_bad_chain",
	[CDNA_ST_ABORTED] = "reject_aborted",
	[CDNA_ST_DMA_FAULT] = "reject_dma_fault",
	[CDNA_ST_MAP_QUOTA] = "reject_map_quota",
};

static int
tm_guests(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint32_t i;

	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	pthread_mutex_lock(&vmm.lock);
	for (i = 0; i < vmm.opt.max_guests; i++)
		if (vmm.guests[i] != NULL && vmm.guests[i]->nic_ctx >= 0)
			rte_tel_data_add_array_int(d, (int)vmm.guests[i]->id);
	pthread_mutex_unlock(&vmm.lock);
	return 0;
}

static int
tm_guest(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct cdna_nic_ctx_stats *ns;
	struct cdna_msg_stats s;
	const struct guest *g = NULL;
	unsigned long id;
	char *end, mac[20];
	uint32_t i;
	uint16_t q, nq = 0;
	int quarantined = 0;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	errno = 0;
	id = strtoul(params, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&vmm.lock);
	for (i = 0; i < vmm.opt.max_guests; i++)
		if (vmm.guests[i] != NULL && vmm.guests[i]->id == id)
			g = vmm.guests[i];
	if (g == NULL) {
		pthread_mutex_unlock(&vmm.lock);
		return -ENOENT;
	}
	guest_counters_sum(&vmm, g, &s);
	ns = g->nic_ctx >= 0 ? cdna_nic_ctx_stats(vmm.nic, (uint32_t)g->nic_ctx) : NULL;
	for (q = 0; q < CDNA_MAX_QUEUES; q++) {
		nq += g->q[q].created;
		quarantined |= g->q[q].quarantined;
	}
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", g->mac[0],
		 g->mac[1], g->mac[2], g->mac[3], g->mac[4], g->mac[5]);
	rte_tel_data_add_dict_u64(d, "id", g->id);
	rte_tel_data_add_dict_int(d, "pid", (int)g->pid);
	rte_tel_data_add_dict_string(d, "state", quarantined ? "quarantined" :
				     g->started ? "started" : "connected");
	rte_tel_data_add_dict_string(d, "mac", mac);
	rte_tel_data_add_dict_string(d, "mode", g->strat->name);
	rte_tel_data_add_dict_int(d, "promisc", !!(g->rxmode & CDNA_RXMODE_PROMISC));
	rte_tel_data_add_dict_int(d, "allmulti", !!(g->rxmode & CDNA_RXMODE_ALLMULTI));
	rte_tel_data_add_dict_u64(d, "mtu", g->mtu);
	rte_tel_data_add_dict_u64(d, "queues", nq);
	rte_tel_data_add_dict_string(d, "quarantine", g->quarantine);
	rte_tel_data_add_dict_u64(d, "refusals", g->refusals);
	rte_tel_data_add_dict_string(d, "last_refusal", g->last_refusal);
	rte_tel_data_add_dict_u64(d, "regions", g->rt.n);
	rte_tel_data_add_dict_u64(d, "regions_dying", g->nb_dying);
	rte_tel_data_add_dict_u64(d, "mem_bytes",
				  __atomic_load_n(&g->mem_bytes, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "vmm_bytes", guest_footprint(g));
	rte_tel_data_add_dict_u64(d, "tx_pkts", s.tx_pkts);
	rte_tel_data_add_dict_u64(d, "tx_bytes", s.tx_bytes);
	rte_tel_data_add_dict_u64(d, "rx_pkts", s.rx_pkts);
	rte_tel_data_add_dict_u64(d, "rx_bytes", s.rx_bytes);
	rte_tel_data_add_dict_u64(d, "rx_nobuf", s.rx_nobuf);
	rte_tel_data_add_dict_u64(d, "rx_oversize", s.rx_oversize);
	rte_tel_data_add_dict_u64(d, "ring_corrupt", s.ring_corrupt);
	rte_tel_data_add_dict_u64(d, "tx_spoofed", ns != NULL ? ns->tx_spoofed : 0);
	/* DMAs the fault injector sent astray (--fault-injection). */
	rte_tel_data_add_dict_u64(d, "bad_dma", ns != NULL ? ns->bad_dma : 0);
	/* The maintained count: the maps belong to the main lcore. */
	rte_tel_data_add_dict_u64(d, "claims", g->claimed_lines);
	rte_tel_data_add_dict_u64(d, "inflight", g->inflight);
	if (g->iomap != NULL) {
		const struct iomap_stats *ms = iomap_stats(g->iomap);

		/* The map channel: the ATC'08 paper's hypercalls. */
		rte_tel_data_add_dict_u64(d, "map_requests", ms->map_requests);
		rte_tel_data_add_dict_u64(d, "unmap_requests", ms->unmap_requests);
		rte_tel_data_add_dict_u64(d, "map_batches", ms->batches);
		rte_tel_data_add_dict_u64(d, "map_refused", ms->refused);
		rte_tel_data_add_dict_u64(d, "map_pages_mapped", ms->pages_mapped);
		rte_tel_data_add_dict_u64(d, "map_pages_reused", ms->pages_reused);
		rte_tel_data_add_dict_u64(d, "map_live", ms->live);
	}
	for (i = 1; i < CDNA_ST_COUNT; i++)
		rte_tel_data_add_dict_u64(d, reject_names[i], s.reject[i]);
	pthread_mutex_unlock(&vmm.lock);
	return 0;
}

static int
tm_nic(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct cdna_nic_stats *s = cdna_nic_stats(vmm.nic);
	uint64_t dma, viol;

	audit_stats(&dma, &viol);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "wire_rx", s->wire_rx);
	rte_tel_data_add_dict_u64(d, "wire_tx", s->wire_tx);
	rte_tel_data_add_dict_u64(d, "wire_tx_drop", s->wire_tx_drop);
	rte_tel_data_add_dict_u64(d, "wire_rx_unmatched", s->wire_rx_unmatched);
	rte_tel_data_add_dict_u64(d, "switched", s->switched);
	rte_tel_data_add_dict_u64(d, "mbuf_alloc_fail", s->mbuf_alloc_fail);
	rte_tel_data_add_dict_u64(d, "audit_dma", dma);
	rte_tel_data_add_dict_u64(d, "audit_violations", viol);
	return 0;
}

/*
 * /cdna/gone: ids of the last guests to leave; /cdna/gone,<id>: why and how
 * one left (its counters at teardown, what was still in flight).
 */
static int
tm_gone(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct guest_gone *r = NULL;
	unsigned long id;
	uint64_t i, first;
	char *end;

	pthread_mutex_lock(&vmm.lock);
	first = vmm.nb_gone > VMM_GONE_KEPT ? vmm.nb_gone - VMM_GONE_KEPT : 0;
	if (params == NULL || *params == '\0') {
		rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
		for (i = first; i < vmm.nb_gone; i++)
			rte_tel_data_add_array_int(d,
				(int)vmm.gone[i % VMM_GONE_KEPT].id);
		pthread_mutex_unlock(&vmm.lock);
		return 0;
	}
	errno = 0;
	id = strtoul(params, &end, 10);
	if (errno != 0 || *end != '\0') {
		pthread_mutex_unlock(&vmm.lock);
		return -EINVAL;
	}
	for (i = first; i < vmm.nb_gone; i++)
		if (vmm.gone[i % VMM_GONE_KEPT].id == id)
			r = &vmm.gone[i % VMM_GONE_KEPT];
	if (r == NULL) {
		pthread_mutex_unlock(&vmm.lock);
		return -ENOENT;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "id", r->id);
	rte_tel_data_add_dict_int(d, "pid", (int)r->pid);
	rte_tel_data_add_dict_int(d, "said_hello", r->said_hello);
	rte_tel_data_add_dict_string(d, "reason", r->why);
	rte_tel_data_add_dict_u64(d, "tx_pkts", r->s.tx_pkts);
	rte_tel_data_add_dict_u64(d, "rx_pkts", r->s.rx_pkts);
	rte_tel_data_add_dict_u64(d, "rx_nobuf", r->s.rx_nobuf);
	rte_tel_data_add_dict_u64(d, "rejects", r->rejects);
	rte_tel_data_add_dict_u64(d, "flushed", r->flushed);
	rte_tel_data_add_dict_u64(d, "claims_after", r->claims_after);
	rte_tel_data_add_dict_u64(d, "regions_released", r->regions_released);
	rte_tel_data_add_dict_u64(d, "refusals", r->refusals);
	rte_tel_data_add_dict_string(d, "last_refusal", r->last_refusal);
	rte_tel_data_add_dict_string(d, "quarantine", r->quarantine);
	pthread_mutex_unlock(&vmm.lock);
	return 0;
}

static int
tm_vmm(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct guest_mem_stats m;
	struct cdna_iommu_stats io;
	char last_injection[RTE_TEL_MAX_STRING_LEN];
	uint64_t injections;

	guest_mem_stats(&m);
	/* Counters of the lcore's, read as they are: 64-bit loads, no lock. */
	cdna_iommu_stats(vmm.iommu, &io);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "guests_seen", vmm.guests_seen);
	rte_tel_data_add_dict_string(d, "iommu_cost", vmm.opt.iommu_cost);
	rte_tel_data_add_dict_u64(d, "iotlb_entries", vmm.opt.iotlb);
	rte_tel_data_add_dict_u64(d, "iommu_translations", io.translations);
	rte_tel_data_add_dict_u64(d, "iotlb_hits", io.iotlb_hits);
	rte_tel_data_add_dict_u64(d, "iotlb_misses", io.iotlb_misses);
	rte_tel_data_add_dict_u64(d, "iommu_faults", io.faults);
	rte_tel_data_add_dict_u64(d, "iommu_pt_updates", io.pt_updates);
	rte_tel_data_add_dict_u64(d, "iommu_invalidations", io.invalidations);
	rte_tel_data_add_dict_u64(d, "iommu_cycles_charged", io.cycles_charged);
	rte_tel_data_add_dict_u64(d, "iommu_table_pages", io.table_pages);
	rte_tel_data_add_dict_u64(d, "guest_fds_closing", guest_fd_close_pending());
	rte_tel_data_add_dict_u64(d, "guest_fds_unclosed", guest_fd_close_dropped());
	fault_inject_stats(&injections, last_injection, sizeof(last_injection));
	rte_tel_data_add_dict_u64(d, "fault_injections", injections);
	rte_tel_data_add_dict_string(d, "last_fault_injection", last_injection);
	rte_tel_data_add_dict_u64(d, "regions_unmapped", m.regions_unmapped);
	rte_tel_data_add_dict_u64(d, "regions_leaked", m.regions_leaked);
	rte_tel_data_add_dict_u64(d, "reap_backlog", m.reap_backlog);
	rte_tel_data_add_dict_u64(d, "reap_backlog_max", m.reap_backlog_max);
	rte_tel_data_add_dict_u64(d, "reap_units_max", m.reap_units_max);
	rte_tel_data_add_dict_u64(d, "reap_units_per_poll", GUEST_MEM_REAP_PER_POLL);
	rte_tel_data_add_dict_u64(d, "reap_forced", m.reap_forced);
	rte_tel_data_add_dict_u64(d, "dma_guard_faults", cdna_dma_guard_faults());
	rte_tel_data_add_dict_u64(d, "log_suppressed", vlog_suppressed_total());
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	rte_tel_data_add_dict_u64(d, "cyc_mediate", vmm.cost.cyc_mediate);
	rte_tel_data_add_dict_u64(d, "cyc_nic", vmm.cost.cyc_nic);
	rte_tel_data_add_dict_u64(d, "cyc_reclaim", vmm.cost.cyc_reclaim);
	rte_tel_data_add_dict_u64(d, "cyc_loop", vmm.cost.loop_start == 0 ? 0 :
				  rte_rdtsc() - vmm.cost.loop_start);
	rte_tel_data_add_dict_u64(d, "requests", vmm.cost.requests);
	rte_tel_data_add_dict_u64(d, "batches", vmm.cost.batches);
	rte_tel_data_add_dict_u64(d, "frames", vmm.cost.frames);
	rte_tel_data_add_dict_u64(d, "completions", vmm.cost.completions);
	rte_tel_data_add_dict_u64(d, "rounds", vmm.cost.rounds);
	rte_tel_data_add_dict_u64(d, "timed_rounds", vmm.cost.timed_rounds);
	rte_tel_data_add_dict_u64(d, "cost_sample_every", VMM_COST_SAMPLE_EVERY);
	return 0;
}

int
telemetry_init(struct vmm *v)
{
	(void)v;
	if (rte_telemetry_register_cmd("/cdna/guests", tm_guests,
			"Ids of connected cdna guests. Takes no parameters") != 0 ||
	    rte_telemetry_register_cmd("/cdna/guest", tm_guest,
			"State and counters of one cdna guest. Parameters: int guest_id") != 0 ||
	    rte_telemetry_register_cmd("/cdna/nic", tm_nic,
			"Wire and audit counters of the cdna NIC. Takes no parameters") != 0 ||
	    rte_telemetry_register_cmd("/cdna/gone", tm_gone,
			"The last guests to leave, or why and how one left. Parameters: none, or int guest_id") != 0 ||
	    rte_telemetry_register_cmd("/cdna/vmm", tm_vmm,
			"cdna-vmm's own counters: region reaper, DMA guard, log limiter. Takes no parameters") != 0)
		return -1;
	return 0;
}
