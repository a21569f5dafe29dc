/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include <rte_atomic.h>
#include <rte_common.h>
#include <rte_memcpy.h>

#include "dma_guard.h"

/*
 * One recovery point per thread: a copy runs on the thread that polls the
 * NIC, and SIGBUS from a memory access is delivered to the faulting thread.
 * initial-exec: reaching it from the handler must not call into the
 * dynamic loader.
 */
static __thread __attribute__((tls_model("initial-exec"))) struct {
	sigjmp_buf env;
	/* The copy in progress, kept here (not in registers) across sigsetjmp. */
	void *dst;
	const void *src;
	size_t len;
	uintptr_t lo;			/* its guest side */
	volatile sig_atomic_t armed;
	/*
	 * A burst: its copies, which side of each is the guest's, and the
	 * one in progress. The handler finds that copy's guest side from
	 * these, so that a copy costs the burst one store, not three.
	 */
	const struct cdna_dma_op *ops;
	int guest_dst;
	unsigned int op;
} guard;

static volatile unsigned long faults;

static void
dma_guard_handler(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)uctx;
	if (guard.armed && guard.ops != NULL) {
		/* A burst's copy: its guest side. */
		const struct cdna_dma_op *o = &guard.ops[guard.op];

		guard.lo = guard.guest_dst ? (uintptr_t)o->dst : (uintptr_t)o->src;
		guard.len = o->len;
	}
	/* a >= lo first: a - lo must not wrap. */
	if (guard.armed && si->si_code > 0 && a >= guard.lo &&
	    a - guard.lo < guard.len) {
		guard.armed = 0;
		faults++;
		/*
		 * SA_NODEFER left SIGBUS unblocked, so jumping out without
		 * restoring a signal mask leaves the next fault catchable.
		 */
		siglongjmp(guard.env, 1);
	}
	/* Not guest memory under a guarded copy: die of it, as without us. */
	signal(sig, SIG_DFL);
	raise(sig);
}

int
cdna_dma_guard_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = dma_guard_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) == 0 ? 0 : -errno;
}

static void __rte_noinline
guarded_copy(void)
{
	rte_memcpy(guard.dst, guard.src, guard.len);
}

int __rte_noinline
cdna_dma_copy(void *dst, const void *src, size_t len, const void *guest)
{
	guard.dst = dst;
	guard.src = src;
	guard.len = len;
	guard.lo = (uintptr_t)guest;
	/* savemask 0: no system call per copy (see the handler). */
	if (sigsetjmp(guard.env, 0) != 0)
		return -EFAULT;
	guard.armed = 1;
	rte_compiler_barrier();	/* armed before the first access */
	guarded_copy();
	rte_compiler_barrier();	/* disarmed only after the last one */
	guard.armed = 0;
	return 0;
}

/*
 * The burst's copies, armed throughout but for the before hook, which runs
 * outside the guard; guard.op names the copy in progress to the handler.
 */
static void __rte_noinline
guarded_copy_burst(const struct cdna_dma_op *ops, unsigned int n,
		   cdna_dma_before_fn before, void *arg)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		guard.op = i;
		if (before != NULL) {
			int skip;

			guard.armed = 0;
			rte_compiler_barrier();
			skip = before(arg, i);
			rte_compiler_barrier();
			guard.armed = 1;
			if (skip != 0)
				continue;
		}
		rte_compiler_barrier();	/* op set before its first access */
		rte_memcpy(ops[i].dst, ops[i].src, ops[i].len);
		rte_compiler_barrier();	/* and left only after its last one */
	}
}

unsigned int __rte_noinline
cdna_dma_copy_burst(const struct cdna_dma_op *ops, unsigned int n,
		    int guest_dst, cdna_dma_before_fn before, void *arg)
{
	guard.op = 0;
	guard.ops = ops;
	guard.guest_dst = guest_dst;
	/*
	 * After a fault, guard.op names the copy that faulted: a local
	 * changed since sigsetjmp would be indeterminate here. The handler
	 * disarmed the guard.
	 */
	if (sigsetjmp(guard.env, 0) != 0) {
		guard.ops = NULL;
		return guard.op;
	}
	rte_compiler_barrier();
	guard.armed = 1;
	guarded_copy_burst(ops, n, before, arg);
	rte_compiler_barrier();	/* disarmed only after the last access */
	guard.armed = 0;
	guard.ops = NULL;
	return n;
}

unsigned long
cdna_dma_guard_faults(void)
{
	return faults;
}
