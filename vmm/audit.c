/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DMA audit oracle (--audit). It keeps its own model, built from events
 * and not from the mediator's tables: which host ranges each NIC context's
 * guest registered (and with which permission), and which buffers are
 * posted and not yet completed. Every DMA the NIC performs must lie inside a
 * registered range of that context with the right permission, and inside a
 * buffer posted for that direction; an RX buffer may not overlap any other
 * posted buffer. A passthrough context posts nothing through the mediator,
 * so its DMA is held to the first rule alone. Anything else is a violation:
 * counted, and the first few printed. Regions are found by binary search (a guest may hold thousands);
 * posts by linear scans, kept simple on purpose: it is a test instrument.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "vmm.h"

#define AUDIT_PRINT_MAX	10

struct audit_range {
	uint32_t ctx;
	uint32_t perm;
	uintptr_t base;
	uintptr_t end;
};

struct audit_post {
	uint32_t ctx;
	int dir;
	uintptr_t base;
	uintptr_t end;
};

static struct {
	int on;
	struct audit_range *r;
	size_t nr, capr;
	struct audit_post *p;
	size_t np, capp;
	uint8_t *owned_only;	/* per context: passthrough */
	uint32_t nb_ctx;
	uint64_t dma;
	uint64_t violations;
} au;

static void
violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
violation(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	au.violations++;
	if (au.violations > AUDIT_PRINT_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	VLOG(ERR, "AUDIT VIOLATION: %s", line);
}

/*
 * Index of the range with the largest base <= a, or au.nr if none. The
 * ranges are kept sorted by base and never overlap: each is a mapping of
 * its own in this process, whichever context it belongs to.
 */
static size_t
range_at(uintptr_t a)
{
	size_t lo = 0, hi = au.nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (au.r[mid].base <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? au.nr : lo - 1;
}

static void
audit_dma(void *arg, uint32_t ctx, uint16_t queue, const void *host,
	  uint32_t len, int dir)
{
	uintptr_t a = (uintptr_t)host;
	uint32_t need = dir == CDNA_DIR_RX ? CDNA_PERM_DEV_WRITE :
		CDNA_PERM_DEV_READ;
	size_t i;
	int owned = 0, posted = 0;

	(void)arg;
	if (ctx < au.nb_ctx && au.owned_only[ctx])
		posted = 1;
	au.dma++;
	i = range_at(a);
	if (i < au.nr) {
		const struct audit_range *r = &au.r[i];

		/* a < end first: end - a must not wrap. */
		owned = r->ctx == ctx && a >= r->base && a < r->end &&
			len <= r->end - a && (r->perm & need);
	}
	for (i = 0; i < au.np && !posted; i++) {
		const struct audit_post *p = &au.p[i];

		if (p->ctx == ctx && p->dir == dir && a >= p->base &&
		    a < p->end && len <= p->end - a) {
			posted = 1;
			break;
		}
	}
	if (!owned || !posted)
		violation("ctx %u queue %u %s DMA of %u bytes at %p: %s", ctx,
			  queue, dir == CDNA_DIR_RX ? "write" : "read", len,
			  host, !owned ? "outside the guest's registered memory" :
			  "not a posted buffer");
}

/* Room for one more element in an array of n used out of *cap. */
static int
grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	p = realloc(*arr, c * elem);
	if (p == NULL)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

int
audit_init(struct vmm *v)
{
	au.owned_only = calloc(v->opt.max_guests, 1);
	if (au.owned_only == NULL)
		return -1;
	au.nb_ctx = v->opt.max_guests;
	au.on = 1;
	cdna_nic_set_audit(v->nic, audit_dma, NULL);
	return 0;
}

void
audit_ctx_owned_only(uint32_t ctx, int on)
{
	if (au.on && ctx < au.nb_ctx)
		au.owned_only[ctx] = on != 0;
}

void
audit_region_add(uint32_t ctx, const void *host, uint64_t size, uint32_t perm)
{
	size_t i;

	if (!au.on)
		return;
	if (grow((void **)&au.r, &au.capr, au.nr, sizeof(*au.r)) != 0) {
		violation("out of memory recording a region");
		return;
	}
	i = range_at((uintptr_t)host);
	i = i == au.nr ? 0 : i + 1;	/* after the last base below it */
	memmove(&au.r[i + 1], &au.r[i], (au.nr - i) * sizeof(*au.r));
	au.r[i].ctx = ctx;
	au.r[i].perm = perm;
	au.r[i].base = (uintptr_t)host;
	au.r[i].end = (uintptr_t)host + size;
	au.nr++;
}

void
audit_region_del(uint32_t ctx, const void *host)
{
	struct audit_range *r;
	size_t i, j;

	if (!au.on)
		return;
	i = range_at((uintptr_t)host);
	if (i == au.nr || au.r[i].base != (uintptr_t)host || au.r[i].ctx != ctx) {
		violation("ctx %u region %p removed but never added", ctx, host);
		return;
	}
	r = &au.r[i];
	/* Unmapping memory with a buffer still posted is a violation. */
	for (j = 0; j < au.np; j++)
		if (au.p[j].ctx == ctx && au.p[j].base < r->end &&
		    au.p[j].end > r->base)
			violation("ctx %u region %p unmapped with a buffer in flight",
				  ctx, host);
	memmove(&au.r[i], &au.r[i + 1], (au.nr - i - 1) * sizeof(*au.r));
	au.nr--;
}

void
audit_post(uint32_t ctx, const void *host, uint32_t len, int dir)
{
	uintptr_t a = (uintptr_t)host;
	size_t i;

	if (!au.on)
		return;
	/* Invalid use: an RX buffer overlaps anything in flight, or TX overlaps RX. */
	for (i = 0; i < au.np; i++) {
		const struct audit_post *p = &au.p[i];

		if (p->ctx != ctx || p->base >= a + len || p->end <= a)
			continue;
		if (dir == CDNA_DIR_RX || p->dir == CDNA_DIR_RX)
			violation("ctx %u %s buffer %p+%u posted over an in-flight %s buffer",
				  ctx, dir == CDNA_DIR_RX ? "RX" : "TX", host, len,
				  p->dir == CDNA_DIR_RX ? "RX" : "TX");
	}
	if (grow((void **)&au.p, &au.capp, au.np, sizeof(*au.p)) != 0) {
		violation("out of memory recording a post");
		return;
	}
	au.p[au.np].ctx = ctx;
	au.p[au.np].dir = dir;
	au.p[au.np].base = a;
	au.p[au.np].end = a + len;
	au.np++;
}

void
audit_complete(uint32_t ctx, const void *host, int dir)
{
	size_t i;

	if (!au.on)
		return;
	for (i = 0; i < au.np; i++) {
		if (au.p[i].ctx == ctx && au.p[i].dir == dir &&
		    au.p[i].base == (uintptr_t)host) {
			au.p[i] = au.p[--au.np];
			return;
		}
	}
	violation("ctx %u completion of %p that was never posted", ctx, host);
}

void
audit_stats(uint64_t *dma, uint64_t *violations)
{
	*dma = au.dma;
	*violations = au.violations;
}
