/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A guest can ftruncate() the file behind memory it registered; the next DMA
 * into that memory then raises SIGBUS in the mediator. The handler below
 * replaces the guest's whole mapping with anonymous zero pages (so the copy
 * in progress can finish) and marks the guest's NIC context faulted, which
 * aborts that DMA and every later one; the main loop then disconnects every
 * faulted guest. A SIGBUS anywhere else is a real bug and crashes as usual.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm.h"

struct membus_range {
	uintptr_t base;
	uintptr_t end;
	uint32_t nic_ctx;
};

/* Changed only by the main lcore, which is also the only one doing DMA. */
static struct membus_range *ranges;
static size_t nb_ranges, cap_ranges;
static volatile sig_atomic_t fault_seen;

static void
membus_handler(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	size_t i;

	(void)uctx;
	for (i = 0; i < nb_ranges; i++) {
		if (a >= ranges[i].base && a < ranges[i].end) {
			if (mmap((void *)ranges[i].base,
				 ranges[i].end - ranges[i].base,
				 PROT_READ | PROT_WRITE,
				 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS |
				 MAP_NORESERVE, -1, 0) == MAP_FAILED)
				break;
			fault_seen = 1;
			/* Aborts this DMA and every later one of the guest. */
			cdna_nic_ctx_fault(vmm.nic, ranges[i].nic_ctx);
			return;
		}
	}
	/* Not guest memory: let the fault kill us with the usual signal. */
	signal(sig, SIG_DFL);
}

int
membus_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = membus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL);
}

void
membus_add(const void *base, size_t len, uint32_t nic_ctx)
{
	struct membus_range *n;

	if (nb_ranges == cap_ranges) {
		size_t cap = cap_ranges ? cap_ranges * 2 : 64;

		n = realloc(ranges, cap * sizeof(*n));
		if (n == NULL)
			return;	/* unprotected range: a truncation then crashes */
		ranges = n;
		cap_ranges = cap;
	}
	ranges[nb_ranges].base = (uintptr_t)base;
	ranges[nb_ranges].end = (uintptr_t)base + len;
	ranges[nb_ranges].nic_ctx = nic_ctx;
	nb_ranges++;
}

void
membus_del(const void *base)
{
	size_t i;

	for (i = 0; i < nb_ranges; i++) {
		if (ranges[i].base == (uintptr_t)base) {
			ranges[i] = ranges[--nb_ranges];
			return;
		}
	}
}

/*
 * 1 if any guest's memory faulted since the last call; which ones the NIC
 * knows (cdna_nic_ctx_faulted), however many there were.
 */
int
membus_take_fault(void)
{
	int seen = fault_seen;

	fault_seen = 0;
	return seen;
}
