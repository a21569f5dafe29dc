/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A guest's queues (queues.c): the shared areas of a queue pair and the
 * NIC queue behind them.
 */
#ifndef CDNA_QUEUES_H
#define CDNA_QUEUES_H

#include <stdint.h>

#include "cdna_ctrl.h"

struct vmm;
struct guest;
struct mqueue;

/*
 * QUEUE_CREATE: the two areas, sealed, and the NIC queue; their fds go to
 * reply_fds. 0 or -errno, the refusal said (GREFUSE).
 */
int queue_create(struct vmm *v, struct guest *g, const struct cdna_msg_queue *m,
		 struct cdna_msg_queue_reply *r, int *fds, int *nfds);
/* QUEUE_DESTROY of a stopped port: drained, then gone. 0 or -errno. */
int queue_destroy(struct vmm *v, struct guest *g, uint16_t qid);
/* The queue's own memory, once its NIC queue is destroyed. */
void queue_free(struct mqueue *mq);
/* Bytes of the vmm's memory the queue takes. */
uint64_t queue_footprint(const struct mqueue *mq);

#endif /* CDNA_QUEUES_H */
