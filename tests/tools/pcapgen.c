/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapgen: writes deterministic Ethernet captures for the integration tests.
 *
 *   pcapgen mixed N FILE [--seed S]
 *	N frames of 60..1514 bytes (the first two are exactly 60 and 1514):
 *	unicast to MACs that are never guest MACs, broadcast, IPv4 and IPv6
 *	multicast, 802.1Q-tagged frames, IPv4/UDP, IPv6/UDP and raw payloads.
 *   pcapgen icmp N FILE --dst-mac MAC [--src-mac MAC] [--seed S]
 *	N ICMP echo requests of 60..1514 bytes with valid checksums.
 *   pcapgen arp N FILE [--src-mac MAC] [--seed S]
 *	N broadcast ARP requests "who-has 10.0.0.2 tell 10.0.0.1".
 *
 * Every payload begins with the tag "CDNA" and the frame's big-endian
 * sequence number. Same arguments, same file, byte for byte (timestamps are
 * derived from the sequence number too).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pkt.h"

#define DEFAULT_SEED	0x5eed0fcd0a2007ull

struct gen {
	uint64_t rng;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	int have_dst;
	pcap_dumper_t *dumper;
	uint32_t seq;
};

static const uint8_t default_src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* splitmix64: small, fast and fully determined by the seed. */
static uint64_t
rng_next(struct gen *g)
{
	uint64_t z;

	g->rng += 0x9e3779b97f4a7c15ull;
	z = g->rng;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint32_t
rng_range(struct gen *g, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng_next(g) % ((uint64_t)hi - lo + 1));
}

static void
rng_fill(struct gen *g, uint8_t *p, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((i & 7) == 0)
			v = rng_next(g);
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static int
emit(struct gen *g, const uint8_t *frame, uint32_t len)
{
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	/* Deterministic timestamps: 1 us apart from a fixed epoch. */
	h.ts.tv_sec = 1700000000 + g->seq / 1000000;
	h.ts.tv_usec = g->seq % 1000000;
	h.caplen = len;
	h.len = len;
	pcap_dump((u_char *)g->dumper, &h, frame);
	g->seq++;
	return 0;
}

/* Writes the Ethernet header (and a VLAN tag when vid != 0); returns its length. */
static size_t
put_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
	uint16_t vid, uint8_t pcp, uint16_t etype)
{
	size_t off = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (vid != 0) {
		pkt_put16(f + off, PKT_ETYPE_VLAN);
		pkt_put16(f + off + 2, (uint16_t)(pcp << 13 | vid));
		off += PKT_VLAN_HLEN;
	}
	pkt_put16(f + off, etype);
	return off + 2;
}

/* Payload: tag, sequence number, then pseudo-random bytes. */
static void
put_payload(struct gen *g, uint8_t *p, size_t len)
{
	uint8_t tag[8];

	pkt_put32(tag, PKT_SEQ_MAGIC);
	pkt_put32(tag + 4, g->seq);
	rng_fill(g, p, len);
	memcpy(p, tag, len < sizeof(tag) ? len : sizeof(tag));
}

static void
put_ip4(uint8_t *ip, uint16_t tot_len, uint8_t proto, uint16_t id,
	uint32_t src, uint32_t dst)
{
	ip[0] = 0x45;
	ip[1] = 0;
	pkt_put16(ip + 2, tot_len);
	pkt_put16(ip + 4, id);
	pkt_put16(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;
	ip[9] = proto;
	pkt_put16(ip + 10, 0);
	pkt_put32(ip + 12, src);
	pkt_put32(ip + 16, dst);
	pkt_put16(ip + 10, pkt_csum_fold(pkt_csum_add(0, ip, PKT_IP4_HLEN)));
}

/* IPv4/UDP with header and UDP checksums; ip points at the IPv4 header. */
static void
put_ip4_udp(struct gen *g, uint8_t *ip, size_t l3len, uint32_t src, uint32_t dst)
{
	uint8_t *udp = ip + PKT_IP4_HLEN;
	uint16_t ulen = (uint16_t)(l3len - PKT_IP4_HLEN);
	uint8_t pseudo[12];
	uint16_t csum;
	uint32_t sum;

	put_ip4(ip, (uint16_t)l3len, PKT_PROTO_UDP, (uint16_t)g->seq, src, dst);
	pkt_put16(udp, (uint16_t)rng_range(g, 1024, 65535));
	pkt_put16(udp + 2, (uint16_t)rng_range(g, 5000, 5015));
	pkt_put16(udp + 4, ulen);
	pkt_put16(udp + 6, 0);
	put_payload(g, udp + PKT_UDP_HLEN, ulen - PKT_UDP_HLEN);

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = PKT_PROTO_UDP;
	pkt_put16(pseudo + 10, ulen);
	sum = pkt_csum_add(0, pseudo, sizeof(pseudo));
	sum = pkt_csum_add(sum, udp, ulen);
	csum = pkt_csum_fold(sum);
	pkt_put16(udp + 6, csum == 0 ? 0xffff : csum);
}

/* IPv6/UDP; ip points at the IPv6 header, dst_low is the group's low 32 bits. */
static void
put_ip6_udp(struct gen *g, uint8_t *ip, size_t l3len, uint32_t dst_low)
{
	uint8_t *udp = ip + PKT_IP6_HLEN;
	uint16_t ulen = (uint16_t)(l3len - PKT_IP6_HLEN);
	uint8_t pseudo[40];
	uint16_t csum;
	uint32_t sum;

	memset(ip, 0, PKT_IP6_HLEN);
	ip[0] = 0x60;
	pkt_put16(ip + 4, ulen);
	ip[6] = PKT_PROTO_UDP;
	ip[7] = 64;
	/* src fd00::1:<seq>, dst ff02::<dst_low> */
	ip[8] = 0xfd;
	pkt_put16(ip + 8 + 10, 1);
	pkt_put32(ip + 8 + 12, g->seq);
	ip[24] = 0xff;
	ip[25] = 0x02;
	pkt_put32(ip + 24 + 12, dst_low);

	pkt_put16(udp, (uint16_t)rng_range(g, 1024, 65535));
	pkt_put16(udp + 2, (uint16_t)rng_range(g, 5000, 5015));
	pkt_put16(udp + 4, ulen);
	pkt_put16(udp + 6, 0);
	put_payload(g, udp + PKT_UDP_HLEN, ulen - PKT_UDP_HLEN);

	memcpy(pseudo, ip + 8, 32);
	pkt_put32(pseudo + 32, ulen);
	pkt_put32(pseudo + 36, PKT_PROTO_UDP);
	sum = pkt_csum_add(0, pseudo, sizeof(pseudo));
	sum = pkt_csum_add(sum, udp, ulen);
	csum = pkt_csum_fold(sum);
	pkt_put16(udp + 6, csum == 0 ? 0xffff : csum);
}

/* A unicast MAC that is never a guest's (guests use 02:cd:...). */
static void
rand_ucast_mac(struct gen *g, uint8_t mac[6])
{
	rng_fill(g, mac, 6);
	mac[0] = 0x02;
	mac[1] = (uint8_t)(0x10 + (mac[1] & 0x0f));
}

enum kind {
	K_UCAST_UDP,
	K_UCAST_RAW,
	K_BCAST,
	K_MCAST4,
	K_MCAST6,
	K_VLAN_UDP,
	K_VLAN_RAW,
};

static int
gen_mixed(struct gen *g, uint32_t n)
{
	static const enum kind table[] = {
		K_UCAST_UDP, K_UCAST_UDP, K_UCAST_UDP, K_UCAST_RAW, K_BCAST,
		K_MCAST4, K_MCAST6, K_VLAN_UDP, K_VLAN_RAW, K_UCAST_UDP,
	};
	uint8_t f[PKT_MAX_FRAME];
	uint8_t dst[6], src[6];
	uint32_t i, len, r, group;
	uint16_t vid = 0;
	uint8_t pcp = 0;
	enum kind k;
	size_t l2;

	for (i = 0; i < n; i++) {
		memset(f, 0, sizeof(f));
		r = rng_range(g, 0, 15);
		if (i == 0 || r == 0)
			len = PKT_MIN_FRAME;
		else if (i == 1 || r == 1)
			len = PKT_MAX_FRAME;
		else
			len = rng_range(g, PKT_MIN_FRAME, PKT_MAX_FRAME);
		k = table[rng_range(g, 0, (uint32_t)(sizeof(table) / sizeof(table[0])) - 1)];

		memcpy(src, default_src_mac, 6);
		src[5] = (uint8_t)rng_range(g, 1, 254);
		vid = 0;
		if (k == K_VLAN_UDP || k == K_VLAN_RAW) {
			vid = (uint16_t)rng_range(g, 1, 4094);
			pcp = (uint8_t)rng_range(g, 0, 7);
		}

		switch (k) {
		case K_UCAST_UDP:
		case K_VLAN_UDP:
			rand_ucast_mac(g, dst);
			l2 = put_eth(f, dst, src, vid, pcp, PKT_ETYPE_IP4);
			put_ip4_udp(g, f + l2, len - l2,
				0x0a000000 | rng_range(g, 1, 0xfffe),
				0x0a010000 | rng_range(g, 1, 0xfffe));
			break;
		case K_BCAST:
			l2 = put_eth(f, bcast_mac, src, 0, 0, PKT_ETYPE_IP4);
			put_ip4_udp(g, f + l2, len - l2,
				0x0a000000 | rng_range(g, 1, 0xfffe), 0xffffffff);
			break;
		case K_MCAST4:
			/* 239.x.y.z maps to 01:00:5e + low 23 bits. */
			group = 0xef000000 | rng_range(g, 1, 0xffffff);
			dst[0] = 0x01;
			dst[1] = 0x00;
			dst[2] = 0x5e;
			dst[3] = (group >> 16) & 0x7f;
			dst[4] = (group >> 8) & 0xff;
			dst[5] = group & 0xff;
			l2 = put_eth(f, dst, src, 0, 0, PKT_ETYPE_IP4);
			put_ip4_udp(g, f + l2, len - l2,
				0x0a000000 | rng_range(g, 1, 0xfffe), group);
			break;
		case K_MCAST6:
			/* ff02::x maps to 33:33 + low 32 bits. */
			group = rng_range(g, 1, 0xfffffffe);
			dst[0] = 0x33;
			dst[1] = 0x33;
			pkt_put32(dst + 2, group);
			if (len >= PKT_ETH_HLEN + PKT_IP6_HLEN + PKT_UDP_HLEN + 8) {
				l2 = put_eth(f, dst, src, 0, 0, PKT_ETYPE_IP6);
				put_ip6_udp(g, f + l2, len - l2, group);
			} else {
				l2 = put_eth(f, dst, src, 0, 0, PKT_ETYPE_LOCAL);
				put_payload(g, f + l2, len - l2);
			}
			break;
		case K_UCAST_RAW:
		case K_VLAN_RAW:
		default:
			rand_ucast_mac(g, dst);
			l2 = put_eth(f, dst, src, vid, pcp, PKT_ETYPE_LOCAL);
			put_payload(g, f + l2, len - l2);
			break;
		}
		emit(g, f, len);
	}
	return 0;
}

static int
gen_icmp(struct gen *g, uint32_t n)
{
	uint8_t f[PKT_MAX_FRAME];
	uint8_t *ip, *icmp;
	uint32_t i, len;
	size_t l2;

	for (i = 0; i < n; i++) {
		memset(f, 0, sizeof(f));
		if (i % 4 == 0)
			len = PKT_ETH_HLEN + PKT_IP4_HLEN + PKT_ICMP_HLEN + 56;
		else if (i % 4 == 1)
			len = PKT_MIN_FRAME;
		else if (i % 4 == 2)
			len = PKT_MAX_FRAME;
		else
			len = rng_range(g, PKT_MIN_FRAME, PKT_MAX_FRAME);
		l2 = put_eth(f, g->dst_mac, g->src_mac, 0, 0, PKT_ETYPE_IP4);
		ip = f + l2;
		icmp = ip + PKT_IP4_HLEN;
		put_ip4(ip, (uint16_t)(len - l2), PKT_PROTO_ICMP, (uint16_t)i,
			0x0a000001, 0x0a000002);
		icmp[0] = PKT_ICMP_ECHO_REQUEST;
		icmp[1] = 0;
		pkt_put16(icmp + 4, 0xcd01);		/* identifier */
		pkt_put16(icmp + 6, (uint16_t)i);	/* sequence */
		put_payload(g, icmp + PKT_ICMP_HLEN,
			len - l2 - PKT_IP4_HLEN - PKT_ICMP_HLEN);
		pkt_put16(icmp + 2, pkt_csum_fold(pkt_csum_add(0, icmp,
			len - l2 - PKT_IP4_HLEN)));
		emit(g, f, len);
	}
	return 0;
}

static int
gen_arp(struct gen *g, uint32_t n)
{
	uint8_t f[PKT_MIN_FRAME];
	uint8_t *a;
	uint32_t i;
	size_t l2;

	for (i = 0; i < n; i++) {
		memset(f, 0, sizeof(f));
		l2 = put_eth(f, bcast_mac, g->src_mac, 0, 0, PKT_ETYPE_ARP);
		a = f + l2;
		pkt_put16(a, 1);		/* Ethernet */
		pkt_put16(a + 2, PKT_ETYPE_IP4);
		a[4] = 6;
		a[5] = 4;
		pkt_put16(a + 6, 1);		/* request */
		memcpy(a + 8, g->src_mac, 6);
		pkt_put32(a + 14, 0x0a000001);
		pkt_put32(a + 24, 0x0a000002);
		/* Sequence tag in the padding. */
		put_payload(g, a + PKT_ARP_LEN, sizeof(f) - l2 - PKT_ARP_LEN);
		emit(g, f, sizeof(f));
	}
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: pcapgen mixed N FILE [--seed S]\n"
		"       pcapgen icmp N FILE --dst-mac MAC [--src-mac MAC] [--seed S]\n"
		"       pcapgen arp N FILE [--src-mac MAC] [--seed S]\n");
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct gen g;
	const char *mode, *file;
	uint64_t n, seed = DEFAULT_SEED;
	pcap_t *dead;
	int i, rc;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
			strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 4) {
		usage(stderr);
		return 2;
	}
	memset(&g, 0, sizeof(g));
	memcpy(g.src_mac, default_src_mac, 6);
	mode = argv[1];
	file = argv[3];
	if (parse_u64(argv[2], UINT32_MAX, &n) != 0) {
		fprintf(stderr, "pcapgen: N: '%s' is not a count\n", argv[2]);
		return 2;
	}
	for (i = 4; i < argc; i++) {
		if (i + 1 >= argc) {
			fprintf(stderr, "pcapgen: %s: missing value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--seed") == 0) {
			if (parse_u64(argv[i + 1], UINT64_MAX, &seed) != 0) {
				fprintf(stderr, "pcapgen: --seed: '%s' is not a number\n",
					argv[i + 1]);
				return 2;
			}
		} else if (strcmp(argv[i], "--dst-mac") == 0) {
			if (pkt_parse_mac(argv[i + 1], g.dst_mac) != 0) {
				fprintf(stderr, "pcapgen: --dst-mac: '%s' is not a MAC\n",
					argv[i + 1]);
				return 2;
			}
			g.have_dst = 1;
		} else if (strcmp(argv[i], "--src-mac") == 0) {
			if (pkt_parse_mac(argv[i + 1], g.src_mac) != 0) {
				fprintf(stderr, "pcapgen: --src-mac: '%s' is not a MAC\n",
					argv[i + 1]);
				return 2;
			}
		} else {
			fprintf(stderr, "pcapgen: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (strcmp(mode, "mixed") != 0 && strcmp(mode, "icmp") != 0 &&
			strcmp(mode, "arp") != 0) {
		fprintf(stderr, "pcapgen: unknown mode '%s'\n", mode);
		usage(stderr);
		return 2;
	}
	if (strcmp(mode, "icmp") == 0 && !g.have_dst) {
		fprintf(stderr, "pcapgen: icmp needs --dst-mac\n");
		return 2;
	}
	g.rng = seed;

	dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (dead == NULL) {
		fprintf(stderr, "pcapgen: pcap_open_dead failed\n");
		return 2;
	}
	g.dumper = pcap_dump_open(dead, file);
	if (g.dumper == NULL) {
		fprintf(stderr, "pcapgen: %s: %s\n", file, pcap_geterr(dead));
		pcap_close(dead);
		return 2;
	}

	if (strcmp(mode, "mixed") == 0)
		rc = gen_mixed(&g, (uint32_t)n);
	else if (strcmp(mode, "icmp") == 0)
		rc = gen_icmp(&g, (uint32_t)n);
	else
		rc = gen_arp(&g, (uint32_t)n);

	if (pcap_dump_flush(g.dumper) != 0) {
		fprintf(stderr, "pcapgen: %s: write failed\n", file);
		rc = -1;
	}
	pcap_dump_close(g.dumper);
	pcap_close(dead);
	return rc == 0 ? 0 : 2;
}
