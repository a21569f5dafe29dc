/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rogue guest toolkit for the security tests: starts cdna-vmm, speaks the
 * control protocol and the shared rings directly (plain libc, no DPDK),
 * generates self-describing frames, and keeps a shadow copy of every byte
 * of guest memory so that any write the guest did not expect is found.
 */
#ifndef RG_H
#define RG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cdna_abi.h"
#include "cdna_ctrl.h"

#define RG_TX		CDNA_DIR_TX
#define RG_RX		CDNA_DIR_RX

/* Outcomes of a control exchange besides a reply status (0 or -errno). */
#define RG_DISC		1000	/* peer closed or reset the connection */
#define RG_TIMEOUT	1001	/* no reply in time */
#define RG_BADREPLY	1002	/* reply of the wrong size, type or seq */

/* Expected completion status meaning "any status, or none". */
#define RG_ST_ANY	0xffffu
/* Request still in flight (no completion seen). */
#define RG_ST_NONE	0xfffeu

#define RG_WAIT_MS	2000	/* default bound for one wait */

/* ---- vmm process (rg_vmm.c) ---- */

struct rg_vmm {
	pid_t pid;		/* 0 when not running */
	int instance;		/* incremented per start */
	char dir[128];		/* private work directory */
	char sock[192];
	char log[192];
	char prefix[64];	/* EAL file prefix */
	char wire_in[192];	/* net_pcap rx_pcap */
	char wire_out[192];	/* net_pcap tx_pcap of the current instance */
	const char *extra[8];	/* extra cdna-vmm options */
	int nextra;
	int wstatus;		/* wait status once exited */
	int exited;
	int failed;		/* a summary/exit check failed */
	/* Audit violations the group caused on purpose (an unprevented fault). */
	uint64_t expect_violations;
};

/* Creates the work directory and an empty wire input capture. */
int rg_vmm_init(struct rg_vmm *v, const char *group);
int rg_vmm_start(struct rg_vmm *v);
/* Pid of the vmm started last, for a last-resort kill from a signal handler. */
extern volatile pid_t rg_vmm_last_pid;
/* 1 while the vmm process runs; records its status once it has exited. */
int rg_vmm_alive(struct rg_vmm *v);
/* SIGTERM, bounded wait, summary check (exit 0, audit_violations=0). */
int rg_vmm_stop(struct rg_vmm *v);
/* Describes how the vmm died ("signal 7 (Bus error)") into buf. */
const char *rg_vmm_death(const struct rg_vmm *v, char *buf, size_t len);
/* Copies the first log line containing needle; waits up to ms. 0 if found. */
int rg_log_find(const struct rg_vmm *v, const char *needle, char *line,
		size_t len, int ms);
/* Number of log lines containing needle. */
int rg_log_count(const struct rg_vmm *v, const char *needle);
/* Prints the last lines of the vmm log to stdout. */
void rg_log_tail(const struct rg_vmm *v, int lines);
/* Runs a telemetry command; reply JSON in out. 0 or -errno. */
int rg_tel(const struct rg_vmm *v, const char *cmd, char *out, size_t len);
/* Value of "key" in a flat JSON text, as a string or number. 0 if found. */
int rg_json_str(const char *json, const char *key, char *val, size_t len);
int rg_json_u64(const char *json, const char *key, uint64_t *val);
/* One number of a telemetry command's reply: rg_tel, then rg_json_u64. */
int rg_tel_u64(const struct rg_vmm *v, const char *cmd, const char *key,
	       uint64_t *val);
/* Lines of /proc/PID/maps naming memfd:name (all lines if name is NULL). */
int rg_maps_count(pid_t pid, const char *name);
/*
 * 1 if guest id's last refused request (telemetry last_refusal, live or
 * gone) contains needle; its refusal count to *refusals if not NULL.
 */
int rg_guest_said(const struct rg_vmm *v, uint32_t id, const char *needle,
		  uint64_t *refusals);
/* The newest departed guest whose /cdna/gone key contains needle, or 0. */
uint32_t rg_gone_said(const struct rg_vmm *v, const char *key,
		      const char *needle);
/* key of /cdna/gone,id, waiting up to ms for the guest to be gone. */
int rg_gone_u64(const struct rg_vmm *v, uint32_t id, const char *key,
		uint64_t *val, int ms);

/* ---- captures (rg_vmm.c) ---- */

int rg_pcap_write(const char *path, const uint32_t *seqs, int n);
/* Calls fn on every record of a capture. Number of records or -errno. */
int rg_pcap_read(const char *path,
		 void (*fn)(const uint8_t *pkt, uint32_t len, void *arg),
		 void *arg);

/* ---- frames (rg_mem.c) ---- */

#define RG_ETHERTYPE	0x88b5u		/* local experimental */
#define RG_FRAME_MAGIC	0x43455343u	/* "CSEC" */
#define RG_FRAME_MIN	60u

/* Registers a frame; returns its sequence number (> 0). */
uint32_t rg_frame_new(const uint8_t dst[6], const uint8_t src[6],
		      uint32_t len, int forbidden);
uint32_t rg_frame_len(uint32_t seq);
void rg_frame_build(uint32_t seq, uint8_t *buf);
/* Sequence number if buf[0..len) is exactly a registered frame, else 0. */
uint32_t rg_frame_match(const uint8_t *buf, uint32_t len);
/* Counts an arrival of seq (at a guest, or on the wire). */
void rg_frame_seen(uint32_t seq);
uint32_t rg_frame_seen_count(uint32_t seq);
/* Number of forbidden frames that were seen anywhere; first one to *seq. */
uint32_t rg_frame_forbidden_seen(uint32_t *seq);

/* ---- memory with a shadow copy (rg_mem.c) ---- */

struct rg_mem {
	char name[24];
	int fd;
	uint8_t *va;
	uint8_t *shadow;	/* what every byte must hold */
	size_t size;
	int live;
};

/* memfd of size bytes (mfd_flags for memfd_create), mapped and canary-filled. */
struct rg_mem *rg_mem_new(const char *name, size_t size, unsigned mfd_flags);
/* The memory object holding [va, va+len), or NULL. */
struct rg_mem *rg_mem_find(uint64_t va, uint64_t len);
/* Stores src at va and in the shadow. -1 if not inside one object. */
int rg_mem_write(uint64_t va, const void *src, size_t len);
/* Accepts the current bytes of [va, va+len) into the shadow. */
void rg_mem_accept(uint64_t va, size_t len);
/* Resets every byte of an object to its canary (memory and shadow). */
void rg_mem_recanary(struct rg_mem *m);
/*
 * Compares all memory with the shadows, skipping buffers still posted for
 * RX and expected to be valid. Returns bytes that differ; a description of
 * the first difference goes to why.
 */
size_t rg_mem_verify(char *why, size_t len);

/* ---- a guest (rg_guest.c) ---- */

struct rg_rec {
	uint64_t addr;
	uint32_t len;
	uint8_t dir;
	uint8_t done;
	uint16_t expect;	/* CDNA_ST_* or RG_ST_ANY */
	uint16_t status;	/* completion status once done */
	uint16_t ncmp;		/* completions seen for this cookie */
	uint32_t cmp_len;
	uint32_t seq;		/* TX: frame sent; RX: frame received */
};

#define RG_COOKIES	16384u
#define RG_MAX_GUESTS	64

struct rg_region {
	uint64_t gaddr;
	uint64_t size;
};

struct rg_guest {
	char name[24];
	int sock;
	uint32_t seq;
	int disc;		/* connection gone */
	uint32_t id;
	uint8_t mac[6];
	uint32_t mode;		/* CDNA_MODE_* asked for in HELLO */
	struct cdna_msg_hello_reply hello;
	/* queue 0 */
	int qok;
	int req_fd, cmp_fd;
	uint8_t *req;
	const uint8_t *cmp;
	size_t req_len, cmp_len;
	uint32_t size[2];	/* entries per direction */
	uint32_t prod[2];	/* next request index (published or not) */
	uint32_t cons[2];	/* next completion index */
	uint32_t map_size;	/* mapping strategies: entries per map ring */
	uint32_t map_prod[2];	/* next map request index (answers: same) */
	int quiet_ring;		/* ring deliberately corrupted: stop polling */
	struct rg_rec *rec;
	uint32_t ncookie;
	char err[256];		/* first protocol or content error seen */
	int nerr;
	/* sink: keeps nbuf RX buffers of buflen posted at base */
	int sink;
	uint64_t sink_base;
	uint32_t sink_buflen;
	/* sender: TX slots at base */
	uint64_t tx_base;
	uint32_t tx_slot, tx_nslot, tx_slotlen;
	uint32_t *tx_slot_cookie;
	struct rg_mem *mem;	/* the guest's main memory */
	struct rg_region regions[16];
	int nregions;
	int live;
};

struct rg_guest *rg_guest_new(const char *name);
void rg_guest_close(struct rg_guest *g);
int rg_connect(struct rg_guest *g, const char *path);

int rg_send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds);
/* Receives one message (up to cap bytes). Bytes, 0 on EOF, -errno, -ETIMEDOUT. */
int rg_recv_raw(int sock, void *buf, size_t cap, int *fds, int *nfds, int ms);
/* Request/reply exchange; returns reply status or RG_DISC/RG_TIMEOUT/RG_BADREPLY. */
int rg_xfer(struct rg_guest *g, uint16_t type, const void *payload,
	    size_t plen, const int *fds, int nfds, struct cdna_msg *reply,
	    int *rfds, int *nrfds);

int rg_hello(struct rg_guest *g, uint16_t nb_queues, const uint8_t mac[6]);
int rg_set_mac(struct rg_guest *g, const uint8_t mac[6]);
int rg_region_add(struct rg_guest *g, uint64_t gaddr, uint64_t size, int fd,
		  uint64_t off, uint32_t perm);
int rg_region_del(struct rg_guest *g, uint64_t gaddr, uint64_t size);
int rg_queue_create(struct rg_guest *g, uint16_t qid, uint32_t tx, uint32_t rx);
int rg_simple(struct rg_guest *g, uint16_t type);
int rg_rxmode(struct rg_guest *g, uint32_t mode);
int rg_mtu(struct rg_guest *g, uint32_t mtu);
int rg_stats(struct rg_guest *g, struct cdna_msg_stats *st);

/* Connect, HELLO, memory of memsize, one region, queue 0, START. 0 or error. */
int rg_honest(struct rg_guest *g, const char *path, size_t memsize,
	      const uint8_t mac[6], uint32_t ring);

/* Writes one request entry (unpublished); returns its cookie. */
uint32_t rg_post_raw(struct rg_guest *g, int dir, const struct cdna_req *r,
		     uint16_t expect);
uint32_t rg_post(struct rg_guest *g, int dir, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t expect);
void rg_publish(struct rg_guest *g, int dir);
/*
 * Waits until the mediator's informational request cons reaches prod. A
 * passthrough guest's ring is the NIC's own: nothing consumes it ahead of
 * the device, so there is nothing to wait for.
 */
int rg_wait_consumed(struct rg_guest *g, int dir, int ms);

/*
 * Mapping strategies: one map request on dir's map ring, waited for.
 * Returns the answer's CDNA_ST_* (iova set when OK), RG_TIMEOUT,
 * RG_BADREPLY or -ENOTCONN.
 */
int rg_map_op(struct rg_guest *g, int dir, uint16_t op, uint64_t addr,
	      uint32_t len, uint64_t *iova);
/* The same with every field as given (the cookie is set). */
int rg_map_req(struct rg_guest *g, int dir, const struct cdna_map_req *rq,
	       uint64_t *iova);

/* Polls completions of every live guest; returns completions processed. */
int rg_poll_all(void);
/* Waits (polling everyone) until cookie completes. 0 or -ETIMEDOUT. */
int rg_wait(struct rg_guest *g, uint32_t cookie, int ms);
/* Polls everyone for ms milliseconds. */
void rg_drain(int ms);

/* Makes g a sink: n RX buffers of buflen at base, reposted on completion. */
int rg_sink_start(struct rg_guest *g, uint64_t base, uint32_t n,
		  uint32_t buflen);
/* Makes g a sender with n TX slots of slotlen at base. */
void rg_sender_init(struct rg_guest *g, uint64_t base, uint32_t n,
		    uint32_t slotlen);
/* Sends one registered frame of len bytes to dst; returns its seq or 0. */
uint32_t rg_send_frame(struct rg_guest *g, const uint8_t dst[6], uint32_t len,
		       int forbidden);
/* Sends a frame and waits until it has arrived once. 0 or -1. */
int rg_ping(struct rg_guest *from, struct rg_guest *to, uint32_t len);

/* Index pointers inside the mapped areas. */
struct cdna_index *rg_req_idx(struct rg_guest *g, int which);
const struct cdna_index *rg_cmp_idx(const struct rg_guest *g, int which);

extern struct rg_guest *rg_guests[RG_MAX_GUESTS];
/* Accept all-zero frames at sinks (what a truncated region reads as). */
extern int rg_zero_frames_ok;

uint64_t rg_now_ms(void);
void rg_append(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- reporting (rogue.c) ---- */

extern int rg_verbose;
void rg_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *rg_st_name(uint16_t st);

#endif /* RG_H */
