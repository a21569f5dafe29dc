/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Self-describing frames and canary-filled guest memory with a shadow copy:
 * the independent oracle of the security tests. Every byte of every guest
 * memory object must equal its shadow at each check, except buffers still
 * posted for RX that the test expects to be valid (the device may be
 * writing them). The shadow only changes when the test writes (TX data) or
 * when an RX completion delivers a frame that matches a registered one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rg.h"

#define RG_MAX_FRAMES	65536u
#define RG_MAX_MEM	256

struct rg_frame_rec {
	uint8_t dst[6];
	uint8_t src[6];
	uint32_t len;
	uint8_t forbidden;
	uint32_t seen;
};

static struct rg_frame_rec frames[RG_MAX_FRAMES];
static uint32_t nframes = 1;	/* seq 0 is "none" */

static struct rg_mem *mems[RG_MAX_MEM];
static int nmems;
static uint32_t canary_seed = 0x9e3779b9u;

static uint8_t
frame_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (i >> 8) + 0x3cu);
}

uint32_t
rg_frame_new(const uint8_t dst[6], const uint8_t src[6], uint32_t len,
	     int forbidden)
{
	struct rg_frame_rec *f;

	if (nframes >= RG_MAX_FRAMES || len < RG_FRAME_MIN)
		return 0;
	f = &frames[nframes];
	memcpy(f->dst, dst, 6);
	memcpy(f->src, src, 6);
	f->len = len;
	f->forbidden = forbidden != 0;
	f->seen = 0;
	return nframes++;
}

uint32_t
rg_frame_len(uint32_t seq)
{
	return seq != 0 && seq < nframes ? frames[seq].len : 0;
}

void
rg_frame_build(uint32_t seq, uint8_t *buf)
{
	const struct rg_frame_rec *f = &frames[seq];
	uint32_t magic = RG_FRAME_MAGIC;
	uint32_t i;

	memcpy(buf, f->dst, 6);
	memcpy(buf + 6, f->src, 6);
	buf[12] = RG_ETHERTYPE >> 8;
	buf[13] = RG_ETHERTYPE & 0xff;
	memcpy(buf + 14, &magic, 4);
	memcpy(buf + 18, &seq, 4);
	memcpy(buf + 22, &f->len, 4);
	for (i = 26; i < f->len; i++)
		buf[i] = frame_byte(seq, i);
}

uint32_t
rg_frame_match(const uint8_t *buf, uint32_t len)
{
	uint32_t magic, seq, flen, i;
	const struct rg_frame_rec *f;

	if (len < RG_FRAME_MIN)
		return 0;
	memcpy(&magic, buf + 14, 4);
	memcpy(&seq, buf + 18, 4);
	memcpy(&flen, buf + 22, 4);
	if (magic != RG_FRAME_MAGIC || seq == 0 || seq >= nframes)
		return 0;
	f = &frames[seq];
	if (flen != f->len || len != f->len)
		return 0;
	if (memcmp(buf, f->dst, 6) != 0 || memcmp(buf + 6, f->src, 6) != 0 ||
	    buf[12] != (RG_ETHERTYPE >> 8) || buf[13] != (RG_ETHERTYPE & 0xff))
		return 0;
	for (i = 26; i < len; i++)
		if (buf[i] != frame_byte(seq, i))
			return 0;
	return seq;
}

void
rg_frame_seen(uint32_t seq)
{
	if (seq != 0 && seq < nframes)
		frames[seq].seen++;
}

uint32_t
rg_frame_seen_count(uint32_t seq)
{
	return seq != 0 && seq < nframes ? frames[seq].seen : 0;
}

uint32_t
rg_frame_forbidden_seen(uint32_t *seq)
{
	uint32_t i, n = 0;

	for (i = 1; i < nframes; i++) {
		if (frames[i].forbidden && frames[i].seen != 0) {
			if (n == 0 && seq != NULL)
				*seq = i;
			n++;
		}
	}
	return n;
}

static void
canary_fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed | 1u;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 7);
	}
}

struct rg_mem *
rg_mem_new(const char *name, size_t size, unsigned mfd_flags)
{
	struct rg_mem *m;

	if (nmems >= RG_MAX_MEM)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->size = size;
	m->fd = memfd_create(name, mfd_flags);
	if (m->fd < 0 || ftruncate(m->fd, (off_t)size) != 0)
		goto fail;
	m->va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->va == MAP_FAILED)
		goto fail;
	m->shadow = malloc(size);
	if (m->shadow == NULL)
		goto fail;
	canary_fill(m->shadow, size, canary_seed);
	canary_seed = canary_seed * 1103515245u + 12345u;
	memcpy(m->va, m->shadow, size);
	m->live = 1;
	mems[nmems++] = m;
	return m;
fail:
	fprintf(stderr, "rogue: memory %s (%zu bytes): %s\n", name, size,
		strerror(errno));
	if (m->fd >= 0)
		close(m->fd);
	free(m);
	return NULL;
}

struct rg_mem *
rg_mem_find(uint64_t va, uint64_t len)
{
	int i;

	for (i = 0; i < nmems; i++) {
		struct rg_mem *m = mems[i];
		uint64_t base = (uintptr_t)m->va;

		/* Overflow-safe: va - base < size, len <= size - (va - base). */
		if (!m->live || va < base || va - base >= m->size)
			continue;
		if (len > m->size - (va - base))
			return NULL;
		return m;
	}
	return NULL;
}

int
rg_mem_write(uint64_t va, const void *src, size_t len)
{
	struct rg_mem *m = rg_mem_find(va, len);

	if (m == NULL)
		return -1;
	memcpy((void *)(uintptr_t)va, src, len);
	memcpy(m->shadow + (va - (uintptr_t)m->va), src, len);
	return 0;
}

void
rg_mem_accept(uint64_t va, size_t len)
{
	struct rg_mem *m = rg_mem_find(va, len);

	if (m != NULL)
		memcpy(m->shadow + (va - (uintptr_t)m->va),
		       (const void *)(uintptr_t)va, len);
}

void
rg_mem_recanary(struct rg_mem *m)
{
	canary_fill(m->shadow, m->size, canary_seed);
	canary_seed = canary_seed * 1103515245u + 12345u;
	memcpy(m->va, m->shadow, m->size);
}

/* 1 if byte va lies in a posted RX buffer the test expects to be valid. */
static int
in_posted_rx(uint64_t va)
{
	int i;
	uint32_t c;

	for (i = 0; i < RG_MAX_GUESTS; i++) {
		struct rg_guest *g = rg_guests[i];

		if (g == NULL || g->rec == NULL)
			continue;
		for (c = 0; c < g->ncookie; c++) {
			const struct rg_rec *r = &g->rec[c];

			if (r->done || r->dir != RG_RX ||
			    (r->expect != CDNA_ST_OK && r->expect != RG_ST_ANY))
				continue;
			if (va >= r->addr && va - r->addr < r->len)
				return 1;
		}
	}
	return 0;
}

size_t
rg_mem_verify(char *why, size_t len)
{
	size_t bad = 0;
	int i;

	if (why != NULL && len != 0)
		why[0] = '\0';
	for (i = 0; i < nmems; i++) {
		struct rg_mem *m = mems[i];
		size_t off = 0;

		if (!m->live)
			continue;
		while (off < m->size) {
			size_t chunk = m->size - off < 4096 ? m->size - off : 4096;
			size_t j;

			if (memcmp(m->va + off, m->shadow + off, chunk) == 0) {
				off += chunk;
				continue;
			}
			for (j = off; j < off + chunk; j++) {
				uint64_t va = (uintptr_t)m->va + j;

				if (m->va[j] == m->shadow[j] || in_posted_rx(va))
					continue;
				if (bad == 0 && why != NULL)
					snprintf(why, len,
						 "%s+0x%zx (va 0x%llx) holds 0x%02x, expected 0x%02x",
						 m->name, j, (unsigned long long)va,
						 m->va[j], m->shadow[j]);
				bad++;
			}
			off += chunk;
		}
	}
	return bad;
}
