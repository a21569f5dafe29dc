/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapcmp: compares two captures frame by frame, in order: wire length,
 * captured length and every byte. Timestamps are ignored.
 *
 *   pcapcmp [--swap-mac | --set-mac SRC,DST] [--max-report K] A B
 *
 * Without options B must equal A. --swap-mac expects every frame of B to be
 * the frame of A with destination and source MAC exchanged (testpmd macswap);
 * --set-mac expects them replaced by SRC and DST (testpmd mac forwarding).
 * Prints the first K differences (default 1) and the counts.
 * Exit 0 identical, 1 different, 2 usage or read error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pkt.h"

enum xform {
	XF_NONE,
	XF_SWAP_MAC,
	XF_SET_MAC,
};

struct cmp_opts {
	enum xform xform;
	uint8_t set_src[6];
	uint8_t set_dst[6];
	unsigned long max_report;
};

static pcap_t *
open_capture(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	p = pcap_open_offline(path, err);
	if (p == NULL)
		fprintf(stderr, "pcapcmp: %s: %s\n", path, err);
	return p;
}

/* Builds the expected frame from frame a (len bytes) into out. */
static void
transform(const struct cmp_opts *o, const uint8_t *a, uint32_t len,
	uint8_t *out)
{
	memcpy(out, a, len);
	if (len < 12)
		return;
	switch (o->xform) {
	case XF_SWAP_MAC:
		memcpy(out, a + 6, 6);
		memcpy(out + 6, a, 6);
		break;
	case XF_SET_MAC:
		memcpy(out, o->set_dst, 6);
		memcpy(out + 6, o->set_src, 6);
		break;
	case XF_NONE:
	default:
		break;
	}
}

static void
dump_bytes(const char *label, const uint8_t *p, uint32_t len, uint32_t off)
{
	uint32_t lo = off >= 8 ? off - 8 : 0;
	uint32_t hi = off + 8 < len ? off + 8 : len;
	uint32_t i;

	printf("    %s[%u..%u):", label, lo, hi);
	for (i = lo; i < hi; i++)
		printf(i == off ? " [%02x]" : " %02x", p[i]);
	printf("\n");
}

static int
parse_mac_pair(const char *s, uint8_t src[6], uint8_t dst[6])
{
	char buf[64];
	char *comma;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	comma = strchr(buf, ',');
	if (comma == NULL)
		return -1;
	*comma = '\0';
	if (pkt_parse_mac(buf, src) != 0 || pkt_parse_mac(comma + 1, dst) != 0)
		return -1;
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: pcapcmp [--swap-mac | --set-mac SRC,DST] "
		"[--max-report K] A B\n");
}

int
main(int argc, char **argv)
{
	struct cmp_opts o;
	struct pcap_pkthdr *ha, *hb;
	const u_char *da, *db;
	static uint8_t exp[65536];
	unsigned long na = 0, nb = 0, ndiff = 0, idx = 0;
	const char *fa, *fb;
	pcap_t *pa, *pb;
	int ra, rb, i;
	char *end;

	memset(&o, 0, sizeof(o));
	o.max_report = 1;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--swap-mac") == 0) {
			o.xform = XF_SWAP_MAC;
		} else if (strcmp(argv[i], "--set-mac") == 0 && i + 1 < argc) {
			if (parse_mac_pair(argv[++i], o.set_src, o.set_dst) != 0) {
				fprintf(stderr, "pcapcmp: --set-mac: '%s' is not SRC,DST\n",
					argv[i]);
				return 2;
			}
			o.xform = XF_SET_MAC;
		} else if (strcmp(argv[i], "--max-report") == 0 && i + 1 < argc) {
			errno = 0;
			o.max_report = strtoul(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || argv[i][0] == '-') {
				fprintf(stderr, "pcapcmp: --max-report: '%s' is not a count\n",
					argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "pcapcmp: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (argc - i != 2) {
		usage(stderr);
		return 2;
	}
	fa = argv[i];
	fb = argv[i + 1];
	pa = open_capture(fa);
	if (pa == NULL)
		return 2;
	pb = open_capture(fb);
	if (pb == NULL) {
		pcap_close(pa);
		return 2;
	}

	for (;;) {
		ra = pcap_next_ex(pa, &ha, &da);
		rb = pcap_next_ex(pb, &hb, &db);
		if (ra == 1)
			na++;
		if (rb == 1)
			nb++;
		if (ra != 1 || rb != 1)
			break;
		if (ha->caplen != ha->len) {
			fprintf(stderr, "pcapcmp: %s: frame %lu truncated (%u of %u bytes)\n",
				fa, idx, ha->caplen, ha->len);
			ndiff++;
		} else if (hb->caplen != hb->len) {
			fprintf(stderr, "pcapcmp: %s: frame %lu truncated (%u of %u bytes)\n",
				fb, idx, hb->caplen, hb->len);
			ndiff++;
		} else if (ha->caplen > sizeof(exp)) {
			fprintf(stderr, "pcapcmp: %s: frame %lu longer than %zu bytes\n",
				fa, idx, sizeof(exp));
			ndiff++;
		} else if (ha->len != hb->len) {
			if (ndiff < o.max_report)
				printf("pcapcmp: frame %lu: length A=%u B=%u\n",
					idx, ha->len, hb->len);
			ndiff++;
		} else {
			uint32_t off;

			transform(&o, da, ha->caplen, exp);
			for (off = 0; off < ha->caplen; off++)
				if (exp[off] != db[off])
					break;
			if (off < ha->caplen) {
				if (ndiff < o.max_report) {
					printf("pcapcmp: frame %lu: offset %u: expected 0x%02x got 0x%02x\n",
						idx, off, exp[off], db[off]);
					dump_bytes("expected", exp, ha->caplen, off);
					dump_bytes("B", db, hb->caplen, off);
				}
				ndiff++;
			}
		}
		idx++;
	}
	/* Count whatever is left in the longer file. */
	while (ra == 1 && (ra = pcap_next_ex(pa, &ha, &da)) == 1)
		na++;
	while (rb == 1 && (rb = pcap_next_ex(pb, &hb, &db)) == 1)
		nb++;
	if (ra == PCAP_ERROR || rb == PCAP_ERROR) {
		fprintf(stderr, "pcapcmp: read error: %s\n",
			pcap_geterr(ra == PCAP_ERROR ? pa : pb));
		pcap_close(pa);
		pcap_close(pb);
		return 2;
	}
	pcap_close(pa);
	pcap_close(pb);

	if (na != nb && ndiff < o.max_report)
		printf("pcapcmp: frame %lu: only in %s\n", idx, na > nb ? "A" : "B");
	printf("pcapcmp: frames A=%lu B=%lu compared=%lu differing=%lu\n",
		na, nb, idx, ndiff);
	if (ndiff == 0 && na == nb) {
		printf("pcapcmp: identical\n");
		return 0;
	}
	return 1;
}
