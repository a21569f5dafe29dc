/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small helpers shared by the capture tools: frame layout constants,
 * big-endian access, the Internet checksum and MAC parsing.
 * Everything works on plain byte buffers; no DPDK dependency.
 */
#ifndef CDNA_TESTS_PKT_H
#define CDNA_TESTS_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PKT_ETH_HLEN		14
#define PKT_VLAN_HLEN		4
#define PKT_IP4_HLEN		20
#define PKT_IP6_HLEN		40
#define PKT_UDP_HLEN		8
#define PKT_ICMP_HLEN		8
#define PKT_ARP_LEN		28
#define PKT_MIN_FRAME		60	/* without FCS */
#define PKT_MAX_FRAME		1514	/* without FCS */

#define PKT_ETYPE_IP4		0x0800
#define PKT_ETYPE_ARP		0x0806
#define PKT_ETYPE_VLAN		0x8100
#define PKT_ETYPE_IP6		0x86dd
#define PKT_ETYPE_LOCAL		0x88b5	/* IEEE 802 local experimental */

#define PKT_PROTO_ICMP		1
#define PKT_PROTO_UDP		17

#define PKT_ICMP_ECHO_REPLY	0
#define PKT_ICMP_ECHO_REQUEST	8

/* Every generated payload starts with this tag and a big-endian sequence. */
#define PKT_SEQ_MAGIC		0x43444e41u	/* "CDNA" */

static inline uint16_t
pkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
pkt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static inline void
pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void
pkt_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* One's-complement sum of len bytes, folded into 32 bits, no final inversion. */
static inline uint32_t
pkt_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += pkt_get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static inline uint16_t
pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Parses "aa:bb:cc:dd:ee:ff"; returns 0 or -1. */
static inline int
pkt_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c",
			&b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

#endif /* CDNA_TESTS_PKT_H */
