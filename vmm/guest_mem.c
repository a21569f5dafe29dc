/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory: what a guest may hand to the device, from REGION_ADD to the
 * last unmap. A region is admitted (only memory, fstat-checked, never two
 * mappings of the same bytes, within --max-regions and --max-guest-mem
 * counted in the file's real pages), mapped, and looked up by the validator.
 * REGION_DEL or teardown retires it: no new DMA may start, and once its last
 * DMA is done (mediator.c reports it) it leaves the audit model and the
 * guest's accounts at once, and its mapping goes to the reaper, which
 * unmaps a bounded slice per poll so that a guest leaving with thousands of
 * regions never stalls the data path of the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <rte_branch_prediction.h>
#include <rte_debug.h>

#include "claims.h"
#include "fd_close.h"
#include "guest_mem.h"
#include "vmm.h"

/*
 * One unit of the reaper's work: unmapping REAP_UNMAP_CHUNK bytes (rounded
 * up to the mapping's page: the cost of munmap grows with the pages it
 * tears down), or, under --audit, checking REAP_SCAN_CHUNK bytes of a claim
 * map empty.
 */
#define REAP_UNMAP_CHUNK	(4u << 20)
#define REAP_SCAN_CHUNK		(16u << 10)
/*
 * Past this many retired regions, or bytes still mapped by them, the
 * reaper works without a budget until the backlog is under both again:
 * regions retire faster than slices unmap them only when guests churn
 * REGION_ADD/DEL or connections, and address space and vm.max_map_count
 * are not theirs to use up.
 */
#define REAP_BACKLOG_MAX	1024u
#define REAP_BACKLOG_BYTES	(1ull << 40)

/*
 * Retired regions waiting to be unmapped, first in first out. The head is
 * worked on in units: its claim map checked (scan_off), then unmapped from
 * the front (unmap_off).
 */
static struct {
	struct cdna_region **q;
	uint32_t head, n, cap;	/* cap a power of two */
	size_t scan_off;
	size_t unmap_off;
	uint64_t bytes;		/* still mapped by the backlog */
	int check_claims;	/* --audit */
	struct guest_mem_stats st;
} reap;

void
guest_mem_init(int check_claims)
{
	reap.check_claims = check_claims;
}

static void
region_free(struct cdna_region *r)
{
	free(r->claims);
	free(r);
	reap.st.regions_unmapped++;
}

/* Unmaps up to one unit of r from unmap_off on. 1 when all of r is gone. */
static int
region_unmap_unit(struct cdna_region *r, size_t *unmap_off)
{
	size_t chunk = REAP_UNMAP_CHUNK, k;

	if (r->map_pgsz > chunk)
		chunk = r->map_pgsz;
	k = r->map_len - *unmap_off < chunk ? r->map_len - *unmap_off : chunk;
	if (munmap((uint8_t *)r->map_base + *unmap_off, k) != 0)
		VLOG(ERR, "munmap of %zu bytes of a guest region at %p: %s", k,
		     (uint8_t *)r->map_base + *unmap_off, strerror(errno));
	*unmap_off += k;
	reap.bytes -= k;
	return *unmap_off == r->map_len;
}

/* Makes room for one more retired region. 0 or -ENOMEM. */
static int
reap_grow(void)
{
	struct cdna_region **q;
	uint32_t cap, i;

	if (reap.n < reap.cap)
		return 0;
	cap = reap.cap ? reap.cap * 2 : 256;
	q = malloc(cap * sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	for (i = 0; i < reap.n; i++)
		q[i] = reap.q[(reap.head + i) & (reap.cap - 1)];
	free(reap.q);
	reap.q = q;
	reap.head = 0;
	reap.cap = cap;
	return 0;
}

/*
 * r has no DMA in flight and none can start: it leaves the audit model and
 * the guest's accounts now, and the reaper unmaps it soon.
 */
static void
region_retire(struct guest *g, struct cdna_region *r)
{
	g->strat->region_retire(g, r);
	audit_region_del((uint32_t)g->nic_ctx, r->host);
	/* Relaxed atomics: the telemetry thread reads these without the lock. */
	__atomic_store_n(&g->mem_bytes, g->mem_bytes - r->map_len,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&g->region_bytes, g->region_bytes - sizeof(*r) -
			 cdna_claims_map_len(r->size), __ATOMIC_RELAXED);
	reap.bytes += r->map_len;
	if (reap_grow() != 0) {
		size_t off = 0;

		/* No room to defer it: pay the unmap now rather than leak. */
		while (!region_unmap_unit(r, &off))
			;
		region_free(r);
		return;
	}
	reap.q[(reap.head + reap.n) & (reap.cap - 1)] = r;
	reap.n++;
	if (reap.n > reap.st.reap_backlog_max)
		reap.st.reap_backlog_max = reap.n;
	if (reap.n > REAP_BACKLOG_MAX || reap.bytes > REAP_BACKLOG_BYTES) {
		reap.st.reap_forced++;
		while (reap.n > REAP_BACKLOG_MAX / 2 ||
		       reap.bytes > REAP_BACKLOG_BYTES / 2)
			guest_mem_reap(UINT32_MAX);
	}
}

void
guest_mem_dma_done(struct guest *g, struct cdna_region *r)
{
	struct cdna_region *last;

	RTE_ASSERT(g->nb_dying > 0 && g->dying[r->dying_idx] == r);
	last = g->dying[--g->nb_dying];

	/* O(1): the last entry takes r's place. */
	g->dying[r->dying_idx] = last;
	last->dying_idx = r->dying_idx;
	region_retire(g, r);
}

uint32_t
guest_mem_retire_all(struct guest *g)
{
	uint32_t n = 0;

	while (g->rt.n > 0) {
		struct cdna_region *r = g->rt.v[g->rt.n - 1];

		cdna_rt_remove(&g->rt, r);
		r->dying = 1;
		region_retire(g, r);
		n++;
	}
	while (g->nb_dying > 0) {
		guest_mem_dma_done(g, g->dying[g->nb_dying - 1]);
		n++;
	}
	return n;
}

unsigned int
guest_mem_reap(unsigned int units)
{
	unsigned int done = 0;

	while (reap.n > 0 && done < units) {
		struct cdna_region *r = reap.q[reap.head];
		size_t len = cdna_claims_map_len(r->size);

		done++;
		/*
		 * Under --audit, the claim map must be empty: an independent
		 * check of the in-flight count that let r retire.
		 */
		if (reap.check_claims && reap.scan_off < len) {
			size_t k = len - reap.scan_off < REAP_SCAN_CHUNK ?
				len - reap.scan_off : REAP_SCAN_CHUNK;

			if (cdna_claims_count(r->claims + reap.scan_off, k) == 0) {
				reap.scan_off += k;
				continue;
			}
			/* Never unmap under DMA: leave it mapped, and say so. */
			VLOG(ERR, "a retired region (%" PRIu64
			     " bytes at %p) still has claimed lines: left mapped",
			     r->size, (void *)r->host);
			reap.st.regions_leaked++;
			reap.bytes -= r->map_len - reap.unmap_off;
		} else if (!region_unmap_unit(r, &reap.unmap_off)) {
			continue;
		} else {
			region_free(r);
		}
		reap.head = (reap.head + 1) & (reap.cap - 1);
		reap.n--;
		reap.scan_off = 0;
		reap.unmap_off = 0;
	}
	if (done > reap.st.reap_units_max && units != UINT32_MAX)
		reap.st.reap_units_max = done;
	return done;
}

void
guest_mem_reap_all(void)
{
	while (reap.n > 0)
		guest_mem_reap(UINT32_MAX);
}

void
guest_mem_stats(struct guest_mem_stats *out)
{
	*out = reap.st;
	out->reap_backlog = reap.n;
}

uint64_t
guest_mem_footprint(const struct guest *g)
{
	/*
	 * A running count: telemetry calls this from its own thread, which
	 * must not walk arrays the data path reallocates without the lock.
	 */
	return __atomic_load_n(&g->region_bytes, __ATOMIC_RELAXED);
}

static const struct cdna_region *
backing_overlap(const struct cdna_region *r, uint64_t dev, uint64_t ino,
		uint64_t off, uint64_t size)
{
	/* Both ranges lie within one file, so neither end can wrap. */
	if (r->file_dev == dev && r->file_ino == ino &&
	    off < r->file_off + r->size && r->file_off < off + size)
		return r;
	return NULL;
}

/*
 * The guest already holding bytes [off, off+size) of file (dev, ino) in a
 * region, live or dying, or 0. Claims are kept per region, so two mappings
 * of the same memory would each let a DMA in while the other has one in
 * flight: every backing byte may be registered once, by one guest.
 */
static uint32_t
backing_in_use(const struct vmm *v, uint64_t dev, uint64_t ino, uint64_t off,
	       uint64_t size)
{
	uint32_t i, j;

	for (i = 0; i < v->opt.max_guests; i++) {
		const struct guest *o = v->guests[i];

		if (o == NULL)
			continue;
		for (j = 0; j < o->rt.n; j++)
			if (backing_overlap(o->rt.v[j], dev, ino, off, size))
				return o->id;
		for (j = 0; j < o->nb_dying; j++)
			if (backing_overlap(o->dying[j], dev, ino, off, size))
				return o->id;
	}
	return 0;
}

/* The page size of the file behind fd: what mmap() maps and pins. */
static uint64_t
file_page_size(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == HUGETLBFS_MAGIC &&
	    sfs.f_bsize > 0 && (sfs.f_bsize & (sfs.f_bsize - 1)) == 0)
		return (uint64_t)sfs.f_bsize;
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

int
guest_mem_add(struct vmm *v, struct guest *g, const struct cdna_msg_region *m,
	      int fd)
{
	uint64_t pgsz, map_off, map_len;
	uint32_t holder;
	struct cdna_region *r;
	struct stat st;
	int prot = 0, rc;
	void *p;

	/*
	 * Only memory: F_GET_SEALS answers for shmem (memfd, tmpfs) and
	 * hugetlbfs files alone, without asking the file's filesystem. Asked
	 * first: a disk, NFS or FUSE file could block the data path in a page
	 * fault, or already in fstat(), for as long as its server likes.
	 */
	if (fcntl(fd, F_GET_SEALS) < 0) {
		GREFUSE(g, "REGION_ADD refused: fd is not memfd, tmpfs or hugetlbfs memory (%s)",
		     strerror(errno));
		/*
		 * And the guest goes: its file's close may wait on a server it
		 * runs (fd_close.h), so one such file per connection at most.
		 */
		snprintf(g->fault, sizeof(g->fault),
			 "REGION_ADD: fd is not memfd, tmpfs or hugetlbfs memory");
		rc = -EBADF;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		GREFUSE(g, "REGION_ADD refused: fstat of its fd: %s", strerror(errno));
		goto out;
	}
	/* Only plain files (memfd, hugetlbfs): never a device or a socket. */
	if (!S_ISREG(st.st_mode)) {
		GREFUSE(g, "REGION_ADD refused: fd is not a regular file (mode 0%o)",
		     (unsigned int)st.st_mode);
		rc = -EBADF;
		goto out;
	}
	if (cdna_region_fits_file(m->fd_offset, m->size, (uint64_t)st.st_size) != 0) {
		GREFUSE(g, "REGION_ADD refused: offset %" PRIu64 " + size %" PRIu64
		     " exceeds the file's %" PRIu64 " bytes",
		     m->fd_offset, m->size, (uint64_t)st.st_size);
		rc = -ERANGE;
		goto out;
	}
	holder = backing_in_use(v, st.st_dev, st.st_ino, m->fd_offset, m->size);
	if (holder != 0) {
		GREFUSE(g, "REGION_ADD refused: bytes [%" PRIu64 ", +%" PRIu64
		     ") of its file are already registered by guest %u",
		     m->fd_offset, m->size, holder);
		rc = -EBUSY;
		goto out;
	}
	/*
	 * Map whole pages of the file (2 MiB or 1 GiB on hugetlbfs), and
	 * count what is mapped: a hugetlb mapping pins whole huge pages. The
	 * file's size is a multiple of its page size, so the rounded end
	 * stays inside it.
	 */
	pgsz = file_page_size(fd);
	map_off = m->fd_offset & ~(pgsz - 1);
	map_len = ((m->fd_offset + m->size + pgsz - 1) & ~(pgsz - 1)) - map_off;
	/* Overflow-safe: mem_bytes never exceeds max_guest_mem. */
	if (map_len > v->opt.max_guest_mem - g->mem_bytes) {
		GREFUSE(g, "REGION_ADD refused: %" PRIu64 " more bytes (%" PRIu64
		     " in %" PRIu64 "-byte pages) would exceed --max-guest-mem (%"
		     PRIu64 " MiB, %" PRIu64 " registered)", map_len, m->size,
		     pgsz, v->opt.max_guest_mem >> 20, g->mem_bytes);
		rc = -ENOSPC;
		goto out;
	}
	/* Regions still dying under DMA hold mappings too: they count. */
	if (g->rt.n + g->nb_dying >= v->opt.max_regions) {
		GREFUSE(g, "REGION_ADD refused: --max-regions %u reached (%u live, %u"
		     " waiting for DMA)", v->opt.max_regions, g->rt.n, g->nb_dying);
		rc = -ENOSPC;
		goto out;
	}
	if (m->perm & CDNA_PERM_DEV_READ)
		prot |= PROT_READ;
	if (m->perm & CDNA_PERM_DEV_WRITE)
		prot |= PROT_READ | PROT_WRITE;
	p = mmap(NULL, map_len, prot, MAP_SHARED, fd, (off_t)map_off);
	if (p == MAP_FAILED) {
		rc = -errno;
		GREFUSE(g, "REGION_ADD refused: mmap of %" PRIu64 " bytes at offset %"
		     PRIu64 ": %s", map_len, map_off, strerror(errno));
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (r != NULL)
		r->claims = calloc(1, cdna_claims_map_len(m->size));
	if (r == NULL || r->claims == NULL) {
		if (r != NULL)
			free(r);
		munmap(p, map_len);
		GREFUSE(g, "REGION_ADD refused: out of memory for %" PRIu64 " bytes",
		     m->size);
		rc = -ENOMEM;
		goto out;
	}
	r->gaddr = m->guest_addr;
	r->size = m->size;
	r->host = (uint8_t *)p + (m->fd_offset - map_off);
	r->perm = m->perm;
	r->map_base = p;
	r->map_len = map_len;
	r->map_pgsz = pgsz;
	r->file_dev = st.st_dev;
	r->file_ino = st.st_ino;
	r->file_off = m->fd_offset;
	pthread_mutex_lock(&v->lock);
	rc = cdna_rt_insert(&g->rt, r);
	pthread_mutex_unlock(&v->lock);
	if (rc != 0) {
		GREFUSE(g, "REGION_ADD refused: [0x%" PRIx64 ", +%" PRIu64 ") %s",
		     m->guest_addr, m->size,
		     rc == -EEXIST ? "overlaps a registered region" :
		     rc == -ENOSPC ? "exceeds --max-regions" : "is invalid");
		free(r->claims);
		free(r);
		munmap(p, map_len);
		goto out;
	}
	/* The strategy's own mapping of it (direct-map: the I/O page table). */
	rc = g->strat->region_add(g, r);
	if (rc != 0) {
		pthread_mutex_lock(&v->lock);
		cdna_rt_remove(&g->rt, r);
		pthread_mutex_unlock(&v->lock);
		g->strat->region_retire(g, r);
		free(r->claims);
		free(r);
		munmap(p, map_len);
		goto out;
	}
	/*
	 * Where the guest's file allows it, forbid shrinking it under us; the
	 * DMA guard (dma_guard.h) covers the files that cannot be sealed.
	 */
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
	__atomic_store_n(&g->mem_bytes, g->mem_bytes + map_len, __ATOMIC_RELAXED);
	__atomic_store_n(&g->region_bytes, g->region_bytes + sizeof(*r) +
			 cdna_claims_map_len(m->size), __ATOMIC_RELAXED);
	audit_region_add((uint32_t)g->nic_ctx, r->host, m->size, m->perm);
out:
	guest_fd_close(fd, g->uid);
	return rc;
}

int
guest_mem_del(struct vmm *v, struct guest *g, const struct cdna_msg_region *m)
{
	struct cdna_region *r, **d;

	r = cdna_rt_find_exact(&g->rt, m->guest_addr, m->size);
	if (r == NULL) {
		GREFUSE(g, "REGION_DEL refused: no region [0x%" PRIx64 ", +%" PRIu64 ")",
		     m->guest_addr, m->size);
		return -ENOENT;
	}
	if (r->inflight != 0) {
		/*
		 * DMA still in flight: the region moves to the dying list and
		 * the last reclaim unmaps it (mediator.c). Make room first, so
		 * it is never out of every list the alias check reads.
		 */
		d = realloc(g->dying, (g->nb_dying + 1) * sizeof(*d));
		if (d == NULL) {
			GREFUSE(g, "REGION_DEL refused: out of memory");
			return -ENOMEM;
		}
		g->dying = d;
	}
	pthread_mutex_lock(&v->lock);
	cdna_rt_remove(&g->rt, r);
	pthread_mutex_unlock(&v->lock);
	r->dying = 1;
	if (r->inflight == 0) {
		region_retire(g, r);
		return 0;
	}
	r->dying_idx = g->nb_dying;
	g->dying[g->nb_dying++] = r;
	return 0;
}


/*
 * The direct-map address stage of a passthrough guest's NIC context: what
 * an IOMMU does for a VFIO guest whose whole memory is mapped. A guest
 * address translates when [addr, addr + len) lies inside one live region
 * that grants the direction; anything else aborts the DMA. A region leaves
 * the table at REGION_DEL, before it is unmapped, and the NIC translates at
 * each DMA on this same lcore: no DMA reaches memory after its removal.
 */
void *
guest_mem_direct_map(void *arg, uint64_t addr, uint32_t len, int dir)
{
	const struct guest *g = arg;
	const struct cdna_region *r = cdna_rt_find(&g->rt, addr);
	uint32_t need = CDNA_NIC_XLATE_DIR(dir) == CDNA_DIR_RX ?
		CDNA_PERM_DEV_WRITE : CDNA_PERM_DEV_READ;
	uint64_t off;

	if (unlikely(r == NULL || !(r->perm & need)))
		return NULL;
	off = addr - r->gaddr;
	/* off < size (found), so size - off cannot wrap. */
	if (unlikely(len > r->size - off))
		return NULL;
	return r->host + off;
}

/*
 * No protection at all (the Table 1 baseline, --allow-unprotected only):
 * the device reaches whatever memory any guest registered, as a device
 * without an IOMMU reaches all of physical memory; the guest's own first,
 * then every other guest's. Only never memory of nobody's: the vmm's own
 * would be corrupted, not measured.
 */
void *
guest_mem_any_map(void *arg, uint64_t addr, uint32_t len, int dir)
{
	const struct guest *self = arg;
	void *p = guest_mem_direct_map(arg, addr, len, dir);
	uint32_t i;

	for (i = 0; p == NULL && i < vmm.opt.max_guests; i++)
		if (vmm.guests[i] != NULL && vmm.guests[i] != self)
			p = guest_mem_direct_map(vmm.guests[i], addr, len, dir);
	return p;
}
