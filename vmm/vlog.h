/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log lines a guest can cause (refusals, connects, disconnects, faults) go
 * through a token bucket per uid and one shared by all uids, so that no
 * client, however often it reconnects, can grow the log faster than a few
 * lines a second. Suppressed lines are counted and said, once a second.
 * Main lcore only.
 */
#ifndef CDNA_VLOG_H
#define CDNA_VLOG_H

#include <stdint.h>
#include <sys/types.h>

#include <rte_log.h>

/*
 * cdna-vmm logs through rte_log with its own type, "cdna.vmm": EAL's
 * --log-level=cdna.vmm:<level> and --syslog apply. Every line starts
 * "cdna-vmm: ".
 */
extern int cdna_vmm_logtype;
#define VLOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, cdna_vmm_logtype, "cdna-vmm: " fmt "\n", \
		##__VA_ARGS__)

#define VLOG_UID_BURST		256	/* lines a uid may log at once */
#define VLOG_UID_PER_SEC	32	/* and then per second */
#define VLOG_ALL_BURST		1024	/* the same for all uids together */
#define VLOG_ALL_PER_SEC	128

/* Logs fmt at NOTICE if uid's and the global bucket allow it. */
void vlog_uid(uid_t uid, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Says how many lines each uid had suppressed; call about once a second. */
void vlog_tick(void);

/* Lines suppressed so far, all uids (telemetry). */
uint64_t vlog_suppressed_total(void);

#endif /* CDNA_VLOG_H */
