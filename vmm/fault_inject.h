/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bad-device fault injection, for tests (fault_inject.c).
 */
#ifndef CDNA_FAULT_INJECT_H
#define CDNA_FAULT_INJECT_H

#include <stddef.h>
#include <stdint.h>

struct vmm;

/* Registers the telemetry command when --fault-injection. 0 or -errno. */
int fault_inject_init(struct vmm *v);
/* On the data-path lcore: carries out a queued request. */
void fault_inject_poll(struct vmm *v);
/* Requests carried out, and what the last one did or why not. */
void fault_inject_stats(uint64_t *applied, char *last, size_t len);

#endif /* CDNA_FAULT_INJECT_H */
