/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bad-device fault injection (cdna-vmm --fault-injection, for the Table 1
 * tests): the telemetry command
 *
 *   /cdna/inject_bad_dma,<guest>,<owner>,<address>,<count>
 *
 * sends the next <count> DMAs of guest <guest>'s NIC context to the bytes
 * at guest address <address> of guest <owner> (the same guest, or
 * another), as a faulty device would: with the address that device would
 * emit for that memory under <guest>'s strategy. A mediated guest's NIC
 * context takes host addresses, so it gets the vmm's own address of those
 * bytes; a guest-written strategy's context translates guest addresses, so
 * it gets <address> itself, which its address stage maps or refuses. When
 * <owner> is <guest> itself and its strategy is guest-written, <address>
 * is any address of its device address space (a single-use guest's I/O
 * addresses are not guest addresses), given to the device unchecked.
 *
 * The command only queues the request; the data-path lcore applies it, so
 * the NIC is touched by one thread only. Never registered without the
 * option: a production vmm has no such command.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "fault_inject.h"
#include "vmm.h"

static struct {
	pthread_mutex_t lock;
	int pending;		/* set by telemetry, cleared by the lcore */
	uint32_t guest;
	uint32_t owner;
	uint64_t addr;
	uint32_t count;
	uint64_t applied;	/* requests the lcore carried out */
	char last[160];		/* what the last one did, or why not */
} fi = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct guest *
guest_by_id(struct vmm *v, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < v->opt.max_guests; i++)
		if (v->guests[i] != NULL && v->guests[i]->id == id)
			return v->guests[i];
	return NULL;
}

static int
tm_inject(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned long long guest, owner, addr, count;
	int n = 0;

	if (params == NULL ||
	    sscanf(params, "%llu,%llu,%lli,%llu%n", &guest, &owner,
		   (long long *)&addr, &count, &n) != 4 || params[n] != '\0' ||
	    guest > UINT32_MAX || owner > UINT32_MAX || count == 0 ||
	    count > 1000000)
		return -EINVAL;
	pthread_mutex_lock(&fi.lock);
	fi.guest = (uint32_t)guest;
	fi.owner = (uint32_t)owner;
	fi.addr = addr;
	fi.count = (uint32_t)count;
	__atomic_store_n(&fi.pending, 1, __ATOMIC_RELEASE);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "queued", 1);
	rte_tel_data_add_dict_u64(d, "applied_before", fi.applied);
	rte_tel_data_add_dict_string(d, "last", fi.last);
	pthread_mutex_unlock(&fi.lock);
	return 0;
}

int
fault_inject_init(struct vmm *v)
{
	if (!v->opt.fault_injection)
		return 0;
	VLOG(WARNING, "warning: --fault-injection: /cdna/inject_bad_dma can send any guest's DMA astray (tests only)");
	return rte_telemetry_register_cmd("/cdna/inject_bad_dma", tm_inject,
		"Send a guest's next DMAs astray: guest,owner,address,count");
}

void
fault_inject_poll(struct vmm *v)
{
	struct guest *g, *o;
	struct cdna_region *r;
	int own_space;
	uint64_t a;

	if (!v->opt.fault_injection ||
	    !__atomic_load_n(&fi.pending, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&fi.lock);
	fi.pending = 0;
	g = guest_by_id(v, fi.guest);
	o = guest_by_id(v, fi.owner);
	r = o != NULL ? cdna_rt_find(&o->rt, fi.addr) : NULL;
	/* Its own device address space: whatever the stage makes of it. */
	own_space = g != NULL && o == g && !g->strat->mediated;
	if (g == NULL || g->nic_ctx < 0 || o == NULL || (r == NULL && !own_space)) {
		snprintf(fi.last, sizeof(fi.last),
			 "refused: guest %u %s, owner %u %s, address 0x%" PRIx64 " %s",
			 fi.guest, g == NULL || g->nic_ctx < 0 ? "absent" : "present",
			 fi.owner, o == NULL ? "absent" : "present", fi.addr,
			 r == NULL ? "in none of its regions" : "registered");
	} else {
		a = g->strat->mediated ?
			(uint64_t)(uintptr_t)(r->host + (fi.addr - r->gaddr)) :
			fi.addr;
		cdna_nic_inject_bad_dma(v->nic, (uint32_t)g->nic_ctx, a, fi.count);
		snprintf(fi.last, sizeof(fi.last),
			 "guest %u (%s): next %u DMA(s) to guest %u's 0x%" PRIx64,
			 g->id, g->strat->name, fi.count, o->id, fi.addr);
		fi.applied++;
	}
	VLOG(NOTICE, "fault injection: %s", fi.last);
	pthread_mutex_unlock(&fi.lock);
}

void
fault_inject_stats(uint64_t *applied, char *last, size_t len)
{
	pthread_mutex_lock(&fi.lock);
	*applied = fi.applied;
	snprintf(last, len, "%s", fi.last);
	pthread_mutex_unlock(&fi.lock);
}
