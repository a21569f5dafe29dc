/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapinfo: counts the frames of a capture by kind.
 *
 *   pcapinfo [--src MAC] [--dst MAC] [--len N] [--get KEY] FILE
 *
 * Prints one "key=value" per line: frames, bytes, min_len, max_len, vlan,
 * bcast, mcast, ucast, ipv4, ipv6, udp, icmp_echo_request, icmp_echo_reply,
 * arp_request, arp_reply, bad_ip_csum, bad_icmp_csum, truncated,
 * duration_ns (last timestamp minus first, nanoseconds); with
 * --src / --dst the number of frames whose source / destination MAC equals
 * MAC (src_match, dst_match); with --len the number of IPv4/UDP frames of
 * exactly N bytes (udp_len_match). With --get only that value is printed.
 * Exit 0, or 2 on a usage or read error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pkt.h"

struct counts {
	unsigned long frames, bytes, min_len, max_len;
	unsigned long vlan, bcast, mcast, ucast;
	unsigned long ipv4, ipv6, udp, udp_len_match;
	unsigned long echo_req, echo_reply, arp_req, arp_reply;
	unsigned long bad_ip_csum, bad_icmp_csum, truncated;
	unsigned long src_match, dst_match;
	uint64_t first_ns, last_ns;
};

struct filter {
	uint8_t src[6];
	uint8_t dst[6];
	int have_src;
	int have_dst;
	unsigned long len;	/* 0: no --len */
};

static void
count_ip4(struct counts *c, const struct filter *flt, const uint8_t *ip,
	uint32_t len, uint32_t flen)
{
	uint32_t ihl, tot;
	const uint8_t *icmp;

	if (len < PKT_IP4_HLEN || (ip[0] >> 4) != 4)
		return;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = pkt_get16(ip + 2);
	if (ihl < PKT_IP4_HLEN || ihl > len || tot < ihl || tot > len)
		return;
	c->ipv4++;
	if (pkt_csum_fold(pkt_csum_add(0, ip, ihl)) != 0)
		c->bad_ip_csum++;
	if (ip[9] == PKT_PROTO_UDP && tot - ihl >= PKT_UDP_HLEN) {
		c->udp++;
		if (flt->len != 0 && flen == flt->len)
			c->udp_len_match++;
	}
	if (ip[9] == PKT_PROTO_ICMP && tot - ihl >= PKT_ICMP_HLEN) {
		icmp = ip + ihl;
		if (icmp[0] == PKT_ICMP_ECHO_REQUEST && icmp[1] == 0)
			c->echo_req++;
		else if (icmp[0] == PKT_ICMP_ECHO_REPLY && icmp[1] == 0)
			c->echo_reply++;
		else
			return;
		if (pkt_csum_fold(pkt_csum_add(0, icmp, tot - ihl)) != 0)
			c->bad_icmp_csum++;
	}
}

static void
count_frame(struct counts *c, const struct filter *flt, const uint8_t *f,
	uint32_t len)
{
	uint32_t off = 12;
	uint16_t etype;

	c->frames++;
	c->bytes += len;
	if (c->frames == 1 || len < c->min_len)
		c->min_len = len;
	if (len > c->max_len)
		c->max_len = len;
	if (len < PKT_ETH_HLEN)
		return;
	if (memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0)
		c->bcast++;
	else if (f[0] & 1)
		c->mcast++;
	else
		c->ucast++;
	if (flt->have_src && memcmp(f + 6, flt->src, 6) == 0)
		c->src_match++;
	if (flt->have_dst && memcmp(f, flt->dst, 6) == 0)
		c->dst_match++;

	etype = pkt_get16(f + off);
	if (etype == PKT_ETYPE_VLAN && len >= PKT_ETH_HLEN + PKT_VLAN_HLEN) {
		c->vlan++;
		off += PKT_VLAN_HLEN;
		etype = pkt_get16(f + off);
	}
	off += 2;
	switch (etype) {
	case PKT_ETYPE_IP4:
		count_ip4(c, flt, f + off, len - off, len);
		break;
	case PKT_ETYPE_IP6:
		if (len - off >= PKT_IP6_HLEN && (f[off] >> 4) == 6) {
			c->ipv6++;
			if (f[off + 6] == PKT_PROTO_UDP)
				c->udp++;
		}
		break;
	case PKT_ETYPE_ARP:
		if (len - off >= PKT_ARP_LEN) {
			if (pkt_get16(f + off + 6) == 1)
				c->arp_req++;
			else if (pkt_get16(f + off + 6) == 2)
				c->arp_reply++;
		}
		break;
	default:
		break;
	}
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: pcapinfo [--src MAC] [--dst MAC] [--len N] "
		"[--get KEY] FILE\n");
}

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	struct counts c;
	struct filter flt;
	const u_char *d;
	const char *get = NULL;
	pcap_t *p;
	int i, r;

	memset(&c, 0, sizeof(c));
	memset(&flt, 0, sizeof(flt));
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "pcapinfo: %s: missing value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--src") == 0) {
			if (pkt_parse_mac(argv[i + 1], flt.src) != 0) {
				fprintf(stderr, "pcapinfo: --src: '%s' is not a MAC\n",
					argv[i + 1]);
				return 2;
			}
			flt.have_src = 1;
		} else if (strcmp(argv[i], "--dst") == 0) {
			if (pkt_parse_mac(argv[i + 1], flt.dst) != 0) {
				fprintf(stderr, "pcapinfo: --dst: '%s' is not a MAC\n",
					argv[i + 1]);
				return 2;
			}
			flt.have_dst = 1;
		} else if (strcmp(argv[i], "--len") == 0) {
			char *end;

			errno = 0;
			flt.len = strtoul(argv[i + 1], &end, 10);
			if (errno != 0 || *end != '\0' || flt.len == 0 ||
					argv[i + 1][0] == '-') {
				fprintf(stderr, "pcapinfo: --len: '%s' is not a length\n",
					argv[i + 1]);
				return 2;
			}
		} else if (strcmp(argv[i], "--get") == 0) {
			get = argv[i + 1];
		} else {
			fprintf(stderr, "pcapinfo: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (argc - i != 1) {
		usage(stderr);
		return 2;
	}
	p = pcap_open_offline_with_tstamp_precision(argv[i],
		PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL) {
		fprintf(stderr, "pcapinfo: %s: %s\n", argv[i], err);
		return 2;
	}
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000u +
			(uint64_t)h->ts.tv_usec;	/* tv_usec holds ns here */

		if (c.frames == 0)
			c.first_ns = ts;
		c.last_ns = ts;
		if (h->caplen != h->len)
			c.truncated++;
		count_frame(&c, &flt, d, h->caplen);
	}
	if (r == PCAP_ERROR) {
		fprintf(stderr, "pcapinfo: %s: %s\n", argv[i], pcap_geterr(p));
		pcap_close(p);
		return 2;
	}
	pcap_close(p);

	{
		const struct {
			const char *key;
			unsigned long val;
		} out[] = {
			{ "frames", c.frames }, { "bytes", c.bytes },
			{ "min_len", c.min_len }, { "max_len", c.max_len },
			{ "vlan", c.vlan }, { "bcast", c.bcast },
			{ "mcast", c.mcast }, { "ucast", c.ucast },
			{ "ipv4", c.ipv4 }, { "ipv6", c.ipv6 },
			{ "udp", c.udp }, { "udp_len_match", c.udp_len_match },
			{ "icmp_echo_request", c.echo_req },
			{ "icmp_echo_reply", c.echo_reply },
			{ "arp_request", c.arp_req }, { "arp_reply", c.arp_reply },
			{ "bad_ip_csum", c.bad_ip_csum },
			{ "bad_icmp_csum", c.bad_icmp_csum },
			{ "truncated", c.truncated },
			{ "src_match", c.src_match }, { "dst_match", c.dst_match },
			{ "duration_ns", (unsigned long)(c.last_ns > c.first_ns ?
				c.last_ns - c.first_ns : 0) },
		};
		size_t k;

		for (k = 0; k < sizeof(out) / sizeof(out[0]); k++) {
			if (get == NULL)
				printf("%s=%lu\n", out[k].key, out[k].val);
			else if (strcmp(get, out[k].key) == 0) {
				printf("%lu\n", out[k].val);
				return 0;
			}
		}
		if (get != NULL) {
			fprintf(stderr, "pcapinfo: --get: unknown key '%s'\n", get);
			return 2;
		}
	}
	return 0;
}
