/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <rte_log.h>

#include <rte_cycles.h>

#include "vmm.h"
#include "vlog.h"

/* One bucket per uid in --allow-uid, one for any other uid. */
#define VLOG_BUCKETS	(VMM_MAX_UIDS + 1)

struct vlog_bucket {
	uid_t uid;
	int used;
	uint64_t tokens;	/* whole lines */
	uint64_t last;		/* TSC of the last refill */
	uint64_t suppressed;	/* since last said */
};

RTE_LOG_REGISTER(cdna_vmm_logtype, cdna.vmm, INFO);

static struct vlog_bucket uids[VLOG_BUCKETS];
static struct vlog_bucket all;
static uint64_t suppressed_total;

/* Adds the lines b earned since b->last, up to burst. */
static void
bucket_refill(struct vlog_bucket *b, uint64_t now, uint64_t burst, uint64_t rate)
{
	uint64_t hz = rte_get_timer_hz(), earned;

	/* New, or quiet for a minute (and no product below can overflow). */
	if (b->last == 0 || now - b->last > 60 * hz) {
		b->tokens = burst;
		b->last = now;
		return;
	}
	earned = (now - b->last) * rate / hz;
	if (earned > 0) {
		b->tokens = b->tokens + earned > burst ? burst : b->tokens + earned;
		/* Keep the remainder: advance last by what was earned only. */
		b->last += earned * hz / rate;
	}
}

static struct vlog_bucket *
bucket_of(uid_t uid)
{
	unsigned int i;

	for (i = 0; i < vmm.opt.nb_allow_uid && i < VMM_MAX_UIDS; i++) {
		if (vmm.opt.allow_uid[i] == uid) {
			uids[i].uid = uid;
			uids[i].used = 1;
			return &uids[i];
		}
	}
	uids[VMM_MAX_UIDS].uid = (uid_t)-1;	/* "any other uid" */
	uids[VMM_MAX_UIDS].used = 1;
	return &uids[VMM_MAX_UIDS];
}

void
vlog_uid(uid_t uid, const char *fmt, ...)
{
	struct vlog_bucket *b = bucket_of(uid);
	uint64_t now = rte_get_timer_cycles();
	char line[512];
	va_list ap;

	bucket_refill(b, now, VLOG_UID_BURST, VLOG_UID_PER_SEC);
	bucket_refill(&all, now, VLOG_ALL_BURST, VLOG_ALL_PER_SEC);
	/* Both or neither: a refused line costs the uid nothing. */
	if (b->tokens == 0 || all.tokens == 0) {
		b->suppressed++;
		suppressed_total++;
		return;
	}
	b->tokens--;
	all.tokens--;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	VLOG(NOTICE, "%s", line);
}

void
vlog_tick(void)
{
	unsigned int i;

	for (i = 0; i < VLOG_BUCKETS; i++) {
		struct vlog_bucket *b = &uids[i];

		if (!b->used || b->suppressed == 0)
			continue;
		if (i == VMM_MAX_UIDS)
			VLOG(NOTICE, "log rate limit: %" PRIu64
			     " lines suppressed for uids not allowed",
			     b->suppressed);
		else
			VLOG(NOTICE, "log rate limit: %" PRIu64
			     " lines suppressed for uid %u", b->suppressed,
			     (unsigned int)b->uid);
		b->suppressed = 0;
	}
}

uint64_t
vlog_suppressed_total(void)
{
	return suppressed_total;
}
