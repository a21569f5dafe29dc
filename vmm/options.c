/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cdna-vmm's own command line (after the EAL arguments and "--").
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "iommu.h"
#include "vmm.h"

/*
 * Mappings DPDK and the vmm itself use besides the guests', and what the
 * region reaper may hold (guest_mem.c).
 */
#define MAP_COUNT_RESERVE	6144u

static void
usage(FILE *f)
{
	fprintf(f,
"usage: cdna-vmm [EAL options] -- --socket PATH --wire NAME [options]\n"
"  --socket PATH        control socket for guests (created; removed on exit)\n"
"  --wire NAME          ethdev name of the wire port (e.g. net_null0 created\n"
"                       with --vdev net_null0,no-rx=1; net_pcap0; net_tap0; a PCI address)\n"
"  --pcap FILE          record every frame crossing the wire to FILE (libpcap)\n"
"  --max-guests N       guests connected at once, 1..256 (default 16)\n"
"  --max-regions N      memory regions per guest, deleted ones still under\n"
"                       DMA included, 1..65536 (default 1024)\n"
"  --max-guest-mem MIB  memory one guest may register, 1..1048576 MiB (default 16384)\n"
"  --ring-min N         smallest ring a guest may ask for, power of two in 64..4096 (default 64)\n"
"  --ring-max N         largest ring, power of two in 64..4096 (default 4096)\n"
"  --burst N            descriptors per queue per poll, 1..64 (default 32)\n"
"  --allow-uid LIST     comma-separated uids allowed to connect (default: this process's uid)\n"
"  --audit              check every DMA against an independent model; exit 3 on a violation\n"
"  --spoof-check        drop guest frames whose source MAC is not the guest's own\n"
"  --allow-passthrough  let guests write the NIC's descriptors themselves\n"
"                       (mode=passthrough, strategy=direct-map, single-use,\n"
"                       shared, persistent): confined to\n"
"                       their own memory, with no protection within it\n"
"  --iommu-cost MODEL   cycles the emulated IOMMU charges per update and flush,\n"
"                       from ATC'08 Table 2: none, calgary, vt-d, gart (default none)\n"
"  --iotlb N            entries of the emulated IOMMU's IOTLB, power of two in\n"
"                       1..4096 (default 64)\n"
"  --allow-unprotected  tests only: a guest may ask for no protection at all\n"
"                       (its DMA reaches any guest's memory; Table 1's baseline)\n"
"  --map-quota N        mappings (single-use) or mapped pages (shared, persistent)\n"
"                       one guest may hold, 1..1048576 (default 8192)\n"
"  --fault-injection    tests only: the telemetry command /cdna/inject_bad_dma\n"
"                       sends a guest's next DMAs astray, like a faulty device\n"
"  --help               this text\n");
}

/* Parses a decimal number in [lo, hi]; prints the error and returns -1. */
static int
parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi,
	  uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < lo || v > hi) {
		fprintf(stderr, "cdna-vmm: --%s: '%s' is not a number in %u..%u\n",
			opt, s, lo, hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
parse_ring(const char *opt, const char *s, uint32_t *out)
{
	if (parse_u32(opt, s, CDNA_RING_MIN, CDNA_RING_MAX, out) != 0)
		return -1;
	if ((*out & (*out - 1)) != 0) {
		fprintf(stderr, "cdna-vmm: --%s: '%s' is not a power of two\n",
			opt, s);
		return -1;
	}
	return 0;
}

static int
parse_uids(const char *s, struct vmm_opts *o)
{
	char buf[512], *tok, *save = NULL;
	uint32_t uid;

	if (strlen(s) >= sizeof(buf)) {
		fprintf(stderr, "cdna-vmm: --allow-uid: list longer than %zu bytes\n",
			sizeof(buf) - 1);
		return -1;
	}
	strcpy(buf, s);
	o->nb_allow_uid = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->nb_allow_uid == VMM_MAX_UIDS) {
			fprintf(stderr, "cdna-vmm: --allow-uid: more than %d uids\n",
				VMM_MAX_UIDS);
			return -1;
		}
		if (parse_u32("allow-uid", tok, 0, UINT32_MAX - 1, &uid) != 0)
			return -1;
		o->allow_uid[o->nb_allow_uid++] = (uid_t)uid;
	}
	if (o->nb_allow_uid == 0) {
		fprintf(stderr, "cdna-vmm: --allow-uid: '%s' names no uid\n", s);
		return -1;
	}
	return 0;
}

/*
 * Every region is one mapping and every queue two: guests at their limits
 * must not reach vm.max_map_count, where the vmm's own mappings (and the
 * other guests' REGION_ADD) would start to fail. A warning, not an error:
 * the limits are the operator's to choose.
 */
static void
map_count_check(const struct vmm_opts *o)
{
	/* A region: its mapping, and its claim map once malloc mmaps it. */
	uint64_t need = (uint64_t)o->max_guests *
		(2u * o->max_regions + 2u * CDNA_MAX_QUEUES) + MAP_COUNT_RESERVE;
	long have = -1;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");

	if (f == NULL)
		return;
	if (fscanf(f, "%ld", &have) == 1 && have > 0 && need > (uint64_t)have)
		VLOG(WARNING, "warning: --max-guests %u x (2 x --max-regions %u + %u"
		     " ring mappings) + %u for DPDK = %" PRIu64 " mappings, more than"
		     " vm.max_map_count %ld: lower a limit or raise the sysctl",
		       o->max_guests, o->max_regions, 2u * CDNA_MAX_QUEUES,
		       MAP_COUNT_RESERVE, need, have);
	fclose(f);
}

/* 0 on success, 1 after --help, -1 on a bad option (message printed). */
int
vmm_parse_options(int argc, char **argv, struct vmm_opts *o)
{
	enum { O_SOCKET = 256, O_WIRE, O_PCAP, O_MAX_GUESTS, O_MAX_REGIONS, O_MAX_MEM,
	       O_RING_MIN, O_RING_MAX, O_BURST, O_ALLOW_UID, O_AUDIT, O_SPOOF,
	       O_PASSTHROUGH, O_IOMMU_COST, O_IOTLB, O_FAULT_INJECTION, O_MAP_QUOTA, O_UNPROTECTED, O_HELP };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "wire", required_argument, NULL, O_WIRE },
		{ "pcap", required_argument, NULL, O_PCAP },
		{ "max-guests", required_argument, NULL, O_MAX_GUESTS },
		{ "max-regions", required_argument, NULL, O_MAX_REGIONS },
		{ "max-guest-mem", required_argument, NULL, O_MAX_MEM },
		{ "ring-min", required_argument, NULL, O_RING_MIN },
		{ "ring-max", required_argument, NULL, O_RING_MAX },
		{ "burst", required_argument, NULL, O_BURST },
		{ "allow-uid", required_argument, NULL, O_ALLOW_UID },
		{ "audit", no_argument, NULL, O_AUDIT },
		{ "spoof-check", no_argument, NULL, O_SPOOF },
		{ "allow-passthrough", no_argument, NULL, O_PASSTHROUGH },
		{ "iommu-cost", required_argument, NULL, O_IOMMU_COST },
		{ "iotlb", required_argument, NULL, O_IOTLB },
		{ "fault-injection", no_argument, NULL, O_FAULT_INJECTION },
		{ "map-quota", required_argument, NULL, O_MAP_QUOTA },
		{ "allow-unprotected", no_argument, NULL, O_UNPROTECTED },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_un sun;
	uint32_t mib = 16384;
	int c, rc = 0;

	memset(o, 0, sizeof(*o));
	o->max_guests = 16;
	o->max_regions = 1024;
	o->ring_min = CDNA_RING_MIN;
	o->ring_max = CDNA_RING_MAX;
	o->burst = 32;
	o->iommu_cost = "none";
	o->iotlb = 64;
	o->map_quota = 8192;
	o->allow_uid[0] = getuid();
	o->nb_allow_uid = 1;

	opterr = 0;
	optind = 1;
	while (rc == 0 &&
	       (c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case O_SOCKET: o->socket_path = optarg; break;
		case O_WIRE: o->wire = optarg; break;
		case O_PCAP: o->pcap = optarg; break;
		case O_MAX_GUESTS:
			rc = parse_u32("max-guests", optarg, 1, 256, &o->max_guests);
			break;
		case O_MAX_REGIONS:
			rc = parse_u32("max-regions", optarg, 1, 65536,
				       &o->max_regions);
			break;
		case O_MAX_MEM:
			rc = parse_u32("max-guest-mem", optarg, 1, 1048576, &mib);
			break;
		case O_RING_MIN: rc = parse_ring("ring-min", optarg, &o->ring_min); break;
		case O_RING_MAX: rc = parse_ring("ring-max", optarg, &o->ring_max); break;
		case O_BURST: rc = parse_u32("burst", optarg, 1, 64, &o->burst); break;
		case O_ALLOW_UID: rc = parse_uids(optarg, o); break;
		case O_AUDIT: o->audit = 1; break;
		case O_SPOOF: o->spoof_check = 1; break;
		case O_PASSTHROUGH: o->allow_passthrough = 1; break;
		case O_FAULT_INJECTION: o->fault_injection = 1; break;
		case O_UNPROTECTED: o->allow_unprotected = 1; break;
		case O_MAP_QUOTA:
			rc = parse_u32("map-quota", optarg, 1, 1048576,
				       &o->map_quota);
			break;
		case O_IOMMU_COST:
			if (cdna_iommu_cost_model(optarg) == NULL) {
				fprintf(stderr, "cdna-vmm: --iommu-cost: '%s' is not one of none, calgary, vt-d, gart\n",
					optarg);
				rc = -1;
			}
			o->iommu_cost = optarg;
			break;
		case O_IOTLB:
			rc = parse_u32("iotlb", optarg, 1, CDNA_IOMMU_IOTLB_MAX,
				       &o->iotlb);
			if (rc == 0 && (o->iotlb & (o->iotlb - 1)) != 0) {
				fprintf(stderr, "cdna-vmm: --iotlb: '%s' is not a power of two\n",
					optarg);
				rc = -1;
			}
			break;
		case O_HELP: usage(stdout); return 1;
		case ':':
			fprintf(stderr, "cdna-vmm: option '%s' needs a value\n",
				argv[optind - 1]);
			rc = -1;
			break;
		default:
			fprintf(stderr, "cdna-vmm: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			rc = -1;
			break;
		}
	}
	if (rc != 0)
		return -1;
	/* Bounds what one guest can make us map and shadow with claim maps. */
	o->max_guest_mem = (uint64_t)mib << 20;
	if (optind < argc) {
		fprintf(stderr, "cdna-vmm: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return -1;
	}
	if (o->socket_path == NULL || o->wire == NULL) {
		fprintf(stderr, "cdna-vmm: --socket and --wire are required (see --help)\n");
		return -1;
	}
	if (o->socket_path[0] == '\0' ||
	    strlen(o->socket_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "cdna-vmm: --socket: path '%s' is empty or longer than %zu bytes\n",
			o->socket_path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (o->ring_min > o->ring_max) {
		fprintf(stderr, "cdna-vmm: --ring-min %u is larger than --ring-max %u\n",
			o->ring_min, o->ring_max);
		return -1;
	}
	map_count_check(o);
	return 0;
}
