/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A guest's queues: per queue pair, the two shared areas (the guest's
 * request rings, writable by it; the sealed completion rings), the
 * mediator's record of each direction, and the NIC's queue behind them,
 * its own rings (mediated) or the guest's in place (guest-written
 * strategies). Created at QUEUE_CREATE, destroyed at QUEUE_DESTROY or
 * teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <numa.h>

#include "cdna_ring.h"
#include "iomap.h"
#include "queues.h"
#include "vmm.h"

/* A memfd of len bytes, mapped read-write here; the fd is returned. */
static int
area_create(const char *name, size_t len, void **map)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) != 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	*map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED) {
		int e = -errno;

		close(fd);
		return e;
	}
	/* Rings live next to the wire port: the data path touches them per packet. */
	if (numa_available() >= 0 && vmm.socket_id >= 0)
		numa_tonode_memory(*map, len, vmm.socket_id);
	return fd;
}

static void
mq_dir_init(struct mq_dir *d, void *req_area, void *cmp_area, int is_rx,
	    uint32_t size, uint32_t tx_size, struct cdna_nic_ring *nic)
{
	struct cdna_req_area_idx *ri = req_area;
	struct cdna_cmp_area_idx *ci = cmp_area;

	d->size = size;
	d->mask = size - 1;
	d->req = is_rx ? cdna_area_rx_req(req_area, tx_size) :
		cdna_area_tx_req(req_area);
	d->cmp = is_rx ? cdna_area_rx_cmp(cmp_area, tx_size) :
		cdna_area_tx_cmp(cmp_area);
	d->req_prod = is_rx ? &ri->rx_req_prod : &ri->tx_req_prod;
	d->cmp_cons = is_rx ? &ri->rx_cmp_cons : &ri->tx_cmp_cons;
	d->cmp_prod = is_rx ? &ci->rx_cmp_prod : &ci->tx_cmp_prod;
	d->req_cons_pub = is_rx ? &ci->rx_req_cons : &ci->tx_req_cons;
	d->nic = nic;
}

void
queue_free(struct mqueue *mq)
{
	if (mq->req_area != NULL)
		munmap(mq->req_area, mq->req_len);
	if (mq->cmp_area != NULL)
		munmap(mq->cmp_area, mq->cmp_len);
	free(mq->tx.slots);
	free(mq->rx.slots);
	memset(mq, 0, sizeof(*mq));
}

/*
 * Passthrough: the NIC uses the queue's two areas in place. The request
 * ring is its descriptor ring and the guest's producer index its doorbell
 * (cdna_abi.h makes the two entry layouts one); the sealed completion ring
 * is its status ring.
 */
static struct cdna_nic_queue *
queue_attach_passthrough(struct vmm *v, struct guest *g, struct mqueue *mq,
			 const struct cdna_msg_queue *m)
{
	struct cdna_req_area_idx *ri = mq->req_area;
	struct cdna_cmp_area_idx *ci = mq->cmp_area;
	struct cdna_nic_ext_ring tx = {
		.desc = (struct cdna_nic_desc *)cdna_area_tx_req(mq->req_area),
		.status = (struct cdna_nic_status *)cdna_area_tx_cmp(mq->cmp_area),
		.tail = &ri->tx_req_prod,
		.st_prod = &ci->tx_cmp_prod,
		.size = m->tx_size,
	};
	struct cdna_nic_ext_ring rx = {
		.desc = (struct cdna_nic_desc *)cdna_area_rx_req(mq->req_area,
								 m->tx_size),
		.status = (struct cdna_nic_status *)cdna_area_rx_cmp(mq->cmp_area,
								     m->tx_size),
		.tail = &ri->rx_req_prod,
		.st_prod = &ci->rx_cmp_prod,
		.size = m->rx_size,
	};

	return cdna_nic_queue_attach(v->nic, (uint32_t)g->nic_ctx, m->queue_id,
				     &tx, &rx);
}

int
queue_create(struct vmm *v, struct guest *g, const struct cdna_msg_queue *m,
		struct cdna_msg_queue_reply *r, int *fds, int *nfds)
{
	struct mqueue *mq = &g->q[m->queue_id];
	struct cdna_nic_queue *nq;
	struct cdna_area_hdr hdr;
	uint32_t map_size;
	int req_fd, cmp_fd, rc;

	if (g->started) {
		GREFUSE(g, "QUEUE_CREATE %u refused: port is started", m->queue_id);
		return -EBUSY;
	}
	if (mq->created) {
		GREFUSE(g, "QUEUE_CREATE %u refused: queue exists", m->queue_id);
		return -EEXIST;
	}
	map_size = cdna_map_ring_size(g->mode, m->tx_size, m->rx_size);
	mq->req_len = cdna_req_area_size(m->tx_size, m->rx_size, map_size);
	mq->cmp_len = cdna_cmp_area_size(m->tx_size, m->rx_size, map_size);
	req_fd = area_create("cdna-req", mq->req_len, &mq->req_area);
	if (req_fd < 0) {
		mq->req_area = NULL;
		GREFUSE(g, "QUEUE_CREATE %u: request area: %s", m->queue_id,
		     strerror(-req_fd));
		queue_free(mq);
		return req_fd;
	}
	cmp_fd = area_create("cdna-cmp", mq->cmp_len, &mq->cmp_area);
	if (cmp_fd < 0) {
		mq->cmp_area = NULL;
		GREFUSE(g, "QUEUE_CREATE %u: completion area: %s", m->queue_id,
		     strerror(-cmp_fd));
		close(req_fd);
		queue_free(mq);
		return cmp_fd;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = CDNA_ABI_MAGIC;
	hdr.version = CDNA_ABI_VERSION;
	hdr.tx_size = m->tx_size;
	hdr.rx_size = m->rx_size;
	hdr.queue_id = m->queue_id;
	hdr.map_size = map_size;
	memcpy(mq->req_area, &hdr, sizeof(hdr));
	memcpy(mq->cmp_area, &hdr, sizeof(hdr));
	/*
	 * The guest may never resize either area (a shrink would SIGBUS us),
	 * and may never write the completion area: F_SEAL_FUTURE_WRITE makes
	 * the kernel refuse any writable mapping or write() after this point,
	 * while our own mapping stays writable.
	 */
	rc = fcntl(req_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	if (rc == 0)
		rc = fcntl(cmp_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
			   F_SEAL_FUTURE_WRITE | F_SEAL_SEAL);
	if (rc != 0) {
		rc = -errno;
		GREFUSE(g, "QUEUE_CREATE %u: sealing the rings: %s", m->queue_id,
		     strerror(errno));
		goto fail;
	}
	if (!g->strat->mediated) {
		nq = queue_attach_passthrough(v, g, mq, m);
	} else {
		mq->tx.slots = calloc(m->tx_size, sizeof(struct mq_slot));
		mq->rx.slots = calloc(m->rx_size, sizeof(struct mq_slot));
		nq = cdna_nic_queue_create(v->nic, (uint32_t)g->nic_ctx,
					   m->queue_id, m->tx_size, m->rx_size);
		if (mq->tx.slots == NULL || mq->rx.slots == NULL)
			nq = NULL;	/* destroyed below if it was made */
	}
	if (nq == NULL) {
		rc = -ENOMEM;
		GREFUSE(g, "QUEUE_CREATE %u: out of memory for %u/%u entries",
		     m->queue_id, m->tx_size, m->rx_size);
		cdna_nic_queue_destroy(v->nic, (uint32_t)g->nic_ctx,
				       m->queue_id);
		goto fail;
	}
	mq->g = g;
	mq->qid = m->queue_id;
	mq_dir_init(&mq->tx, mq->req_area, mq->cmp_area, 0, m->tx_size,
		    m->tx_size, &nq->tx);
	mq_dir_init(&mq->rx, mq->req_area, mq->cmp_area, 1, m->rx_size,
		    m->tx_size, &nq->rx);
	if (g->strat->mediated) {
		/* The NIC lists the rings it completed on: reclaim visits those. */
		nq->tx.owner = mq;
		nq->rx.owner = mq;
	}
	if (map_size != 0)
		iomap_queue_init(mq, m->tx_size, m->rx_size, map_size);
	mq->created = 1;
	r->queue_id = m->queue_id;
	r->tx_size = m->tx_size;
	r->rx_size = m->rx_size;
	r->map_size = map_size;
	r->req_area_size = mq->req_len;
	r->cmp_area_size = mq->cmp_len;
	fds[0] = req_fd;
	fds[1] = cmp_fd;
	*nfds = 2;
	return 0;
fail:
	close(req_fd);
	close(cmp_fd);
	queue_free(mq);
	return rc;
}

int
queue_destroy(struct vmm *v, struct guest *g, uint16_t qid)
{
	struct mqueue *mq = &g->q[qid];

	if (!mq->created) {
		GREFUSE(g, "QUEUE_DESTROY %u refused: no such queue", qid);
		return -ENOENT;
	}
	if (g->started) {
		GREFUSE(g, "QUEUE_DESTROY %u refused: port is started", qid);
		return -EBUSY;
	}
	/* Stopped: nothing is in flight, but drain is cheap and certain. */
	mediator_queue_drain(v, mq);
	cdna_nic_queue_destroy(v->nic, (uint32_t)g->nic_ctx, qid);
	queue_free(mq);
	/* Whatever was mapped through it since the stop goes with it. */
	g->strat->stopped(v, g);
	return 0;
}

uint64_t
queue_footprint(const struct mqueue *mq)
{
	uint64_t entries = (uint64_t)mq->tx.size + mq->rx.size, n;

	if (!mq->created)
		return 0;
	/* Its two shared areas; mediated, its slot records and the NIC's rings. */
	n = mq->req_len + mq->cmp_len;
	if (mq_mediated(mq))
		n += entries * (sizeof(struct mq_slot) +
				sizeof(struct cdna_nic_desc) +
				sizeof(struct cdna_nic_status));
	return n;
}
