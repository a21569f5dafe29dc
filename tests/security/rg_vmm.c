/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cdna-vmm as a child process: start with a private socket, EAL prefix and
 * wire captures, watch its log, ask its telemetry, stop it and check the
 * summary line. Plus minimal pcap reading and writing (no libpcap needed).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rg.h"

#define RG_START_MS	30000
#define RG_STOP_MS	20000

volatile pid_t rg_vmm_last_pid;

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* The EAL runtime directory of a vmm that has exited: nobody else uses it. */
static void
runtime_dir_remove(const char *prefix)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int
rg_vmm_init(struct rg_vmm *v, const char *group)
{
	char tmpl[128];

	memset(v, 0, sizeof(*v));
	snprintf(tmpl, sizeof(tmpl), "/tmp/cdna-sec-%s-XXXXXX", group);
	if (mkdtemp(tmpl) == NULL)
		return -errno;
	snprintf(v->dir, sizeof(v->dir), "%s", tmpl);
	snprintf(v->sock, sizeof(v->sock), "%s/vmm.sock", v->dir);
	snprintf(v->prefix, sizeof(v->prefix), "cdna-sec-%d", (int)getpid());
	snprintf(v->wire_in, sizeof(v->wire_in), "%s/wire-in.pcap", v->dir);
	return rg_pcap_write(v->wire_in, NULL, 0);
}

int
rg_vmm_start(struct rg_vmm *v)
{
	const char *bin = getenv("CDNA_VMM");
	char vdev[512];
	const char *argv[40];
	char line[512];
	uint64_t end;
	int argc = 0, i;
	pid_t pid;

	if (bin == NULL)
		return -ENOENT;
	v->instance++;
	v->expect_violations = 0;
	v->exited = 0;
	snprintf(v->log, sizeof(v->log), "%s/vmm-%d.log", v->dir, v->instance);
	snprintf(v->wire_out, sizeof(v->wire_out), "%s/wire-out-%d.pcap",
		 v->dir, v->instance);
	snprintf(vdev, sizeof(vdev), "net_pcap0,rx_pcap=%s,tx_pcap=%s",
		 v->wire_in, v->wire_out);
	argv[argc++] = bin;
	argv[argc++] = "--file-prefix";
	argv[argc++] = v->prefix;
	argv[argc++] = "--lcores";
	argv[argc++] = "0@1";
	argv[argc++] = "--no-huge";
	argv[argc++] = "-m";
	argv[argc++] = "256";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--vdev";
	argv[argc++] = vdev;
	argv[argc++] = "--";
	argv[argc++] = "--socket";
	argv[argc++] = v->sock;
	argv[argc++] = "--wire";
	argv[argc++] = "net_pcap0";
	argv[argc++] = "--audit";
	for (i = 0; i < v->nextra; i++)
		argv[argc++] = v->extra[i];
	argv[argc] = NULL;

	printf("# vmm:");
	for (i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n# vmm log: %s\n", v->log);
	fflush(stdout);

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(v->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bin, (char **)(uintptr_t)argv);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	v->pid = pid;
	rg_vmm_last_pid = pid;
	end = rg_now_ms() + RG_START_MS;
	while (rg_now_ms() < end) {
		if (rg_log_find(v, "cdna-vmm: ready", line, sizeof(line), 0) == 0)
			return 0;
		if (!rg_vmm_alive(v))
			break;
		sleep_ms(20);
	}
	printf("# vmm did not become ready\n");
	rg_log_tail(v, 20);
	if (rg_vmm_alive(v)) {
		kill(v->pid, SIGKILL);
		waitpid(v->pid, &v->wstatus, 0);
		v->exited = 1;
	}
	v->pid = 0;
	return -ETIMEDOUT;
}

int
rg_vmm_alive(struct rg_vmm *v)
{
	pid_t r;

	if (v->pid == 0 || v->exited)
		return 0;
	r = waitpid(v->pid, &v->wstatus, WNOHANG);
	if (r == v->pid) {
		v->exited = 1;
		return 0;
	}
	return 1;
}

const char *
rg_vmm_death(const struct rg_vmm *v, char *buf, size_t len)
{
	if (!v->exited)
		snprintf(buf, len, "running");
	else if (WIFSIGNALED(v->wstatus))
		snprintf(buf, len, "killed by signal %d (%s)",
			 WTERMSIG(v->wstatus), strsignal(WTERMSIG(v->wstatus)));
	else
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(v->wstatus));
	return buf;
}

int
rg_vmm_stop(struct rg_vmm *v)
{
	char line[512], d[96];
	uint64_t end;
	int ok = 1;
	const char *p;

	if (v->pid == 0)
		return -1;
	if (rg_vmm_alive(v)) {
		kill(v->pid, SIGTERM);
		end = rg_now_ms() + RG_STOP_MS;
		while (rg_vmm_alive(v) && rg_now_ms() < end)
			sleep_ms(10);
		if (rg_vmm_alive(v)) {
			printf("FAIL vmm-stop: no exit %d s after SIGTERM\n",
			       RG_STOP_MS / 1000);
			kill(v->pid, SIGKILL);
			waitpid(v->pid, &v->wstatus, 0);
			v->exited = 1;
			ok = 0;
		}
	}
	v->pid = 0;
	runtime_dir_remove(v->prefix);
	rg_vmm_death(v, d, sizeof(d));
	/* cdna-vmm exits 3 when its audit counted a violation. */
	if (!WIFEXITED(v->wstatus) ||
	    WEXITSTATUS(v->wstatus) != (v->expect_violations != 0 ? 3 : 0)) {
		printf("FAIL vmm-exit: expected exit status %d got %s\n",
		       v->expect_violations != 0 ? 3 : 0, d);
		ok = 0;
	}
	if (rg_log_find(v, "cdna-vmm: summary", line, sizeof(line), 0) != 0) {
		printf("FAIL vmm-summary: expected a summary line got none\n");
		ok = 0;
	} else {
		printf("# %s\n", line);
		p = strstr(line, "audit_violations=");
		if (p == NULL ||
		    strtoull(p + 17, NULL, 10) != v->expect_violations) {
			printf("FAIL vmm-audit: expected audit_violations=%llu got %s\n",
			       (unsigned long long)v->expect_violations,
			       p != NULL ? p : "no audit_violations field");
			ok = 0;
		}
		p = strstr(line, "audit_dma=");
		if (p == NULL)
			printf("# note: summary has no audit_dma field\n");
	}
	if (!ok) {
		rg_log_tail(v, 15);
		v->failed = 1;
	}
	return ok ? 0 : -1;
}

int
rg_log_find(const struct rg_vmm *v, const char *needle, char *out,
	    size_t len, int ms)
{
	uint64_t end = rg_now_ms() + (uint64_t)ms;
	char line[1024];
	FILE *f;

	for (;;) {
		f = fopen(v->log, "r");
		if (f != NULL) {
			while (fgets(line, sizeof(line), f) != NULL) {
				if (strstr(line, needle) == NULL)
					continue;
				line[strcspn(line, "\n")] = '\0';
				snprintf(out, len, "%s", line);
				fclose(f);
				return 0;
			}
			fclose(f);
		}
		if (rg_now_ms() >= end)
			return -ENOENT;
		sleep_ms(10);
	}
}

int
rg_log_count(const struct rg_vmm *v, const char *needle)
{
	char line[1024];
	FILE *f = fopen(v->log, "r");
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

void
rg_log_tail(const struct rg_vmm *v, int lines)
{
	char buf[64][256];
	int n = 0, i;
	FILE *f = fopen(v->log, "r");

	if (f == NULL)
		return;
	if (lines > 64)
		lines = 64;
	while (fgets(buf[n % lines], sizeof(buf[0]), f) != NULL)
		n++;
	fclose(f);
	i = n > lines ? n - lines : 0;
	for (; i < n; i++)
		printf("#   vmm| %s", buf[i % lines]);
}

int
rg_tel(const struct rg_vmm *v, const char *cmd, char *out, size_t len)
{
	struct sockaddr_un sa;
	struct timeval tv = { 2, 0 };
	char info[1024];
	ssize_t n;
	int s, e;

	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path),
		 "/var/run/dpdk/%s/dpdk_telemetry.v2", v->prefix);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto err;
	/* The server first sends its info block. */
	if (recv(s, info, sizeof(info), 0) < 0)
		goto err;
	if (send(s, cmd, strlen(cmd), MSG_NOSIGNAL) < 0)
		goto err;
	n = recv(s, out, len - 1, 0);
	if (n < 0)
		goto err;
	out[n] = '\0';
	close(s);
	return 0;
err:
	e = -errno;
	close(s);
	return e;
}

static const char *
json_value(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(json, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int
rg_json_str(const char *json, const char *key, char *val, size_t len)
{
	const char *p = json_value(json, key);
	size_t n = 0;

	if (p == NULL || len == 0)
		return -ENOENT;
	if (*p == '"') {
		/* A string: up to its closing quote, escapes undone. */
		for (p++; *p != '\0' && *p != '"' && n + 1 < len; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			val[n++] = *p;
		}
	} else {
		while (*p != '\0' && *p != ',' && *p != '}' && n + 1 < len)
			val[n++] = *p++;
	}
	val[n] = '\0';
	return 0;
}

int
rg_maps_count(pid_t pid, const char *name)
{
	char path[64], line[512], pat[64];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	snprintf(pat, sizeof(pat), "/memfd:%s ", name != NULL ? name : "");
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (name == NULL || strstr(line, pat) != NULL)
			n++;
	fclose(f);
	return n;
}

int
rg_guest_said(const struct rg_vmm *v, uint32_t id, const char *needle,
	      uint64_t *refusals)
{
	char cmd[64], out[8192], last[512];

	snprintf(cmd, sizeof(cmd), "/cdna/guest,%u", id);
	if (rg_tel(v, cmd, out, sizeof(out)) != 0 ||
	    rg_json_str(out, "last_refusal", last, sizeof(last)) != 0) {
		snprintf(cmd, sizeof(cmd), "/cdna/gone,%u", id);
		if (rg_tel(v, cmd, out, sizeof(out)) != 0 ||
		    rg_json_str(out, "last_refusal", last, sizeof(last)) != 0)
			return 0;
	}
	if (refusals != NULL && rg_json_u64(out, "refusals", refusals) != 0)
		*refusals = 0;
	return strstr(last, needle) != NULL;
}

uint32_t
rg_gone_said(const struct rg_vmm *v, const char *key, const char *needle)
{
	char out[8192], cmd[64], val[512];
	uint32_t found = 0;
	const char *p;

	if (rg_tel(v, "/cdna/gone", out, sizeof(out)) != 0)
		return 0;
	p = strchr(out, '[');
	while (p != NULL && *p != '\0' && *p != ']') {
		char *end;
		unsigned long id = strtoul(p + 1, &end, 10);
		char rep[8192];

		if (end == p + 1)
			break;
		snprintf(cmd, sizeof(cmd), "/cdna/gone,%lu", id);
		if (rg_tel(v, cmd, rep, sizeof(rep)) == 0 &&
		    rg_json_str(rep, key, val, sizeof(val)) == 0 &&
		    strstr(val, needle) != NULL)
			found = (uint32_t)id;	/* the newest wins */
		p = end;
	}
	return found;
}

int
rg_gone_u64(const struct rg_vmm *v, uint32_t id, const char *key,
	    uint64_t *val, int ms)
{
	char cmd[64], out[8192];
	uint64_t end = rg_now_ms() + (uint64_t)ms;

	snprintf(cmd, sizeof(cmd), "/cdna/gone,%u", id);
	for (;;) {
		if (rg_tel(v, cmd, out, sizeof(out)) == 0 &&
		    rg_json_u64(out, key, val) == 0)
			return 0;
		if (rg_now_ms() >= end)
			return -ETIMEDOUT;
		rg_drain(10);
	}
}

int
rg_json_u64(const char *json, const char *key, uint64_t *val)
{
	const char *p = json_value(json, key);
	char *endp;

	if (p == NULL)
		return -ENOENT;
	*val = strtoull(p, &endp, 10);
	return endp == p ? -EINVAL : 0;
}

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major;
	uint16_t minor;
	int32_t zone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t sec;
	uint32_t usec;
	uint32_t caplen;
	uint32_t len;
};

int
rg_pcap_write(const char *path, const uint32_t *seqs, int n)
{
	struct pcap_file_hdr fh = { 0xa1b2c3d4u, 2, 4, 0, 0, 65535, 1 };
	uint8_t buf[CDNA_MAX_FRAME_LEN];
	FILE *f = fopen(path, "wb");
	int i, ok;

	if (f == NULL)
		return -errno;
	ok = fwrite(&fh, sizeof(fh), 1, f) == 1;
	for (i = 0; i < n && ok; i++) {
		struct pcap_rec_hdr rh;
		uint32_t len = rg_frame_len(seqs[i]);

		rg_frame_build(seqs[i], buf);
		rh.sec = 1700000000u + (uint32_t)i;
		rh.usec = 0;
		rh.caplen = len;
		rh.len = len;
		ok = fwrite(&rh, sizeof(rh), 1, f) == 1 &&
			fwrite(buf, len, 1, f) == 1;
	}
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -EIO;
}

int
rg_pcap_read(const char *path,
	     void (*fn)(const uint8_t *pkt, uint32_t len, void *arg), void *arg)
{
	struct pcap_file_hdr fh;
	struct pcap_rec_hdr rh;
	uint8_t *buf;
	FILE *f = fopen(path, "rb");
	int n = 0, swap;

	if (f == NULL)
		return -errno;
	if (fread(&fh, sizeof(fh), 1, f) != 1) {
		fclose(f);
		return -EINVAL;
	}
	if (fh.magic == 0xa1b2c3d4u || fh.magic == 0xa1b23c4du)
		swap = 0;
	else if (fh.magic == 0xd4c3b2a1u || fh.magic == 0x4d3cb2a1u)
		swap = 1;
	else {
		fclose(f);
		return -EINVAL;
	}
	buf = malloc(262144);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	while (fread(&rh, sizeof(rh), 1, f) == 1) {
		if (swap)
			rh.caplen = __builtin_bswap32(rh.caplen);
		if (rh.caplen > 262144 || fread(buf, rh.caplen, 1, f) != 1) {
			n = -EINVAL;
			break;
		}
		fn(buf, rh.caplen, arg);
		n++;
	}
	free(buf);
	fclose(f);
	return n;
}

int
rg_tel_u64(const struct rg_vmm *v, const char *cmd, const char *key,
	   uint64_t *val)
{
	char out[8192];
	int rc = rg_tel(v, cmd, out, sizeof(out));

	return rc != 0 ? rc : rg_json_u64(out, key, val);
}
