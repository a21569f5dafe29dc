/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless checks of one received control message: everything that can be
 * decided from the bytes, their count, the number of fds that came with them
 * and the guest's declared queue count. Pure; the reason goes to why.
 */
#ifndef CDNA_CTRL_PARSE_H
#define CDNA_CTRL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "cdna_ctrl.h"

struct cdna_ctrl_limits {
	uint32_t ring_min;	/* power of two, >= CDNA_RING_MIN */
	uint32_t ring_max;	/* power of two, <= CDNA_RING_MAX */
	uint16_t max_queues;	/* <= CDNA_MAX_QUEUES */
};

/* fds this request type must carry: 1 for REGION_ADD, 0 otherwise. */
int cdna_ctrl_expected_fds(uint16_t type);

/*
 * 0 if msg (len bytes, nfds fds attached) is a well-formed request from a
 * guest that declared nb_queues queues (0 before HELLO); otherwise -EPROTO
 * (framing: length, magic, version, type, reply bit, status, fd count) or
 * -EINVAL (a payload field out of range or a nonzero reserved field), with a
 * one-line reason naming the field and its value written to why.
 */
int cdna_ctrl_check(const struct cdna_msg *msg, size_t len, int nfds,
		    const struct cdna_ctrl_limits *lim, uint16_t nb_queues,
		    char *why, size_t whylen);

/* 0 if [fd_offset, fd_offset+size) lies within a file of file_size bytes. */
int cdna_region_fits_file(uint64_t fd_offset, uint64_t size, uint64_t file_size);

#endif /* CDNA_CTRL_PARSE_H */
