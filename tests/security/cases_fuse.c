/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuse: a guest sends the vmm a descriptor of a file on its own FUSE
 * mount, whose server never answers the flush that close(2) asks for.
 * Closing it on the vmm's lcore would stop every guest for as long as that
 * server likes: the vmm must answer, refuse and go on serving the others,
 * and close the file off the data path once the server answers.
 *
 * The server here speaks the kernel's FUSE protocol (linux/fuse.h) itself:
 * one directory, one 4 KiB file "f", every FLUSH held while asked to.
 * Skips (77) where /dev/fuse cannot be mounted.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rogue.h"

#define FUSE_FILE_INO	2u
#define FUSE_HELD_MAX	16

static struct {
	int dev;		/* /dev/fuse, -1 when not mounted */
	char dir[256];		/* the mount point */
	pthread_t thread;
	pthread_mutex_t lock;
	int hold;		/* FLUSH requests wait for fuse_release_flushes */
	uint64_t held[FUSE_HELD_MAX];	/* their unique ids */
	int nheld;
	uint32_t flushes;	/* FLUSH requests seen */
} fz = { .dev = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static void
fuse_reply(uint64_t unique, int error, const void *arg, size_t len)
{
	struct {
		struct fuse_out_header h;
		uint8_t arg[256];
	} out;

	memset(&out, 0, sizeof(out));
	out.h.len = (uint32_t)(sizeof(out.h) + (error == 0 ? len : 0));
	out.h.error = -error;
	out.h.unique = unique;
	if (error == 0 && len != 0)
		memcpy(out.arg, arg, len);
	/* ENOENT: the request was interrupted meanwhile; nothing to do. */
	if (write(fz.dev, &out, out.h.len) < 0 && errno != ENOENT)
		rg_note("fuse: reply to %llu: %s", (unsigned long long)unique,
			strerror(errno));
}

static void
fuse_attr_of(uint64_t ino, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->nlink = 1;
	a->blksize = 4096;
	if (ino == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
	} else {
		a->mode = S_IFREG | 0644;
		a->size = 4096;
		a->blocks = 8;
	}
}

static void *
fuse_serve(void *arg)
{
	static uint8_t buf[FUSE_MIN_READ_BUFFER + 65536];

	(void)arg;
	for (;;) {
		const struct fuse_in_header *in = (const void *)buf;
		const void *body = buf + sizeof(*in);
		ssize_t n = read(fz.dev, buf, sizeof(buf));

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(*in))
			return NULL;	/* unmounted (ENODEV) or closed */
		switch (in->opcode) {
		case FUSE_INIT: {
			const struct fuse_init_in *ii = body;
			struct fuse_init_out io;

			memset(&io, 0, sizeof(io));
			io.major = FUSE_KERNEL_VERSION;
			io.minor = FUSE_KERNEL_MINOR_VERSION;
			io.max_readahead = ii->max_readahead;
			io.max_background = 16;
			io.congestion_threshold = 12;
			io.max_write = 4096;
			io.time_gran = 1;
			fuse_reply(in->unique, 0, &io, sizeof(io));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out eo;

			if (in->nodeid != FUSE_ROOT_ID || strcmp(body, "f") != 0) {
				fuse_reply(in->unique, ENOENT, NULL, 0);
				break;
			}
			memset(&eo, 0, sizeof(eo));
			eo.nodeid = FUSE_FILE_INO;
			eo.entry_valid = eo.attr_valid = 3600;
			fuse_attr_of(FUSE_FILE_INO, &eo.attr);
			fuse_reply(in->unique, 0, &eo, sizeof(eo));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out ao;

			memset(&ao, 0, sizeof(ao));
			ao.attr_valid = 3600;
			fuse_attr_of(in->nodeid, &ao.attr);
			fuse_reply(in->unique, 0, &ao, sizeof(ao));
			break;
		}
		case FUSE_OPEN:
		case FUSE_OPENDIR: {
			struct fuse_open_out oo;

			memset(&oo, 0, sizeof(oo));
			oo.fh = 1;	/* no FOPEN_NOFLUSH: every close flushes */
			fuse_reply(in->unique, 0, &oo, sizeof(oo));
			break;
		}
		case FUSE_FLUSH:
			pthread_mutex_lock(&fz.lock);
			fz.flushes++;
			if (fz.hold && fz.nheld < FUSE_HELD_MAX) {
				fz.held[fz.nheld++] = in->unique;
				pthread_mutex_unlock(&fz.lock);
				break;	/* answered by fuse_release_flushes */
			}
			pthread_mutex_unlock(&fz.lock);
			fuse_reply(in->unique, 0, NULL, 0);
			break;
		case FUSE_RELEASE:
		case FUSE_RELEASEDIR:
		case FUSE_DESTROY:
			fuse_reply(in->unique, 0, NULL, 0);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;	/* no answer is expected */
		default:
			fuse_reply(in->unique, ENOSYS, NULL, 0);
			break;
		}
	}
}

/* Mounts the server under the group's work directory. 0, or -1 (why set). */
static int
fuse_up(struct env *e, char *why, size_t len)
{
	char opts[128];
	int rc;

	snprintf(fz.dir, sizeof(fz.dir), "%s/fuse", e->v.dir);
	if (mkdir(fz.dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, len, "mkdir %s: %s", fz.dir, strerror(errno));
		return -1;
	}
	fz.dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fz.dev < 0) {
		snprintf(why, len, "open /dev/fuse: %s", strerror(errno));
		return -1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0",
		 fz.dev);
	if (mount("cdna-rogue", fz.dir, "fuse.cdna-rogue", MS_NOSUID | MS_NODEV,
		  opts) != 0) {
		snprintf(why, len, "mount fuse on %s: %s", fz.dir, strerror(errno));
		close(fz.dev);
		fz.dev = -1;
		return -1;
	}
	rc = pthread_create(&fz.thread, NULL, fuse_serve, NULL);
	if (rc != 0) {
		snprintf(why, len, "server thread: %s", strerror(rc));
		umount2(fz.dir, MNT_DETACH);
		close(fz.dev);
		fz.dev = -1;
		return -1;
	}
	return 0;
}

/* Answers every held FLUSH and stops holding new ones. */
static void
fuse_release_flushes(void)
{
	uint64_t held[FUSE_HELD_MAX];
	int i, n;

	pthread_mutex_lock(&fz.lock);
	fz.hold = 0;
	n = fz.nheld;
	memcpy(held, fz.held, sizeof(held));
	fz.nheld = 0;
	pthread_mutex_unlock(&fz.lock);
	for (i = 0; i < n; i++)
		fuse_reply(held[i], 0, NULL, 0);
}

static void
fuse_down(void)
{
	if (fz.dev < 0)
		return;
	fuse_release_flushes();
	umount2(fz.dir, MNT_DETACH);
	/* Closing the device ends the connection: the server's read fails. */
	close(fz.dev);
	pthread_join(fz.thread, NULL);
	fz.dev = -1;
	rmdir(fz.dir);
}

static uint32_t
fuse_flushes(void)
{
	uint32_t n;

	pthread_mutex_lock(&fz.lock);
	n = fz.flushes;
	pthread_mutex_unlock(&fz.lock);
	return n;
}

/* Waits until the vmm's key reads want (up to ms). 0 once it does. */
static int
vmm_wait_u64(struct env *e, const char *key, uint64_t want, int ms)
{
	uint64_t end = rg_now_ms() + (uint64_t)ms, v = ~want;

	while (rg_tel_u64(&e->v, "/cdna/vmm", key, &v) == 0 && v != want &&
	       rg_now_ms() < end)
		rg_drain(10);
	return v == want ? 0 : -1;
}

/*
 * A guest sends the FUSE file: as the memory of a REGION_ADD (refused: not
 * memory) or attached to a message that takes none (a protocol fault). The
 * vmm must answer the first at once, and serve S and L and a new guest
 * while the flush of its close waits; its close must still happen.
 */
static int
fuse_fd_case(struct env *e, const char *name, int as_region)
{
	static const uint8_t mac[6] = { 0x02, 0xcd, 0xf5, 0x00, 0x00, 0x01 };
	struct rg_guest *g = rg_guest_new("fuse");
	char path[300], o[64];
	uint32_t flushes0 = fuse_flushes();
	uint64_t end;
	int fd, r, fail = 0;

	snprintf(path, sizeof(path), "%s/f", fz.dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (g == NULL || fd < 0 || rg_connect(g, e->v.sock) != 0 ||
	    rg_hello(g, 1, mac) != 0) {
		env_fail(e, name, "expected the FUSE file open and a guest up got %s",
			 fd < 0 ? strerror(errno) : "no guest");
		if (fd >= 0)
			close(fd);
		rg_guest_close(g);
		return -1;
	}
	pthread_mutex_lock(&fz.lock);
	fz.hold = 1;
	pthread_mutex_unlock(&fz.lock);
	if (as_region) {
		r = rg_region_add(g, 0x100000, 4096, fd, 0, CDNA_PERM_KNOWN);
		if (r != -EBADF) {
			env_fail(e, name, "expected REGION_ADD refused with -EBADF at once got %s",
				 env_outcome(r, o, sizeof(o)));
			fail = -1;
		}
		/* One such file per connection: the guest is let go. */
		r = rg_simple(g, CDNA_MSG_STOP);
		if (r != RG_DISC) {
			env_fail(e, name, "expected the guest disconnected after it got %s",
				 env_outcome(r, o, sizeof(o)));
			fail = -1;
		}
	} else {
		/* START takes no descriptor: a protocol fault, the guest goes. */
		r = rg_xfer(g, CDNA_MSG_START, NULL, 0, &fd, 1, NULL, NULL, NULL);
		if (r != RG_DISC) {
			env_fail(e, name, "expected START with a descriptor to end the connection got %s",
				 env_outcome(r, o, sizeof(o)));
			fail = -1;
		}
	}
	/* The vmm closes its copy: the flush comes, and is held. */
	for (end = rg_now_ms() + RG_WAIT_MS;
	     fuse_flushes() == flushes0 && rg_now_ms() < end;)
		rg_drain(10);
	if (fuse_flushes() == flushes0) {
		env_fail(e, name, "expected the vmm to close the file (a FLUSH) got none");
		fail = -1;
	} else if (vmm_wait_u64(e, "guest_fds_closing", 1, RG_WAIT_MS) != 0) {
		env_fail(e, name, "expected guest_fds_closing 1 while its flush waits");
		fail = -1;
	}
	/* Meanwhile everyone else is served: S -> L, and a new guest. */
	if (env_after(e, name, 1) != 0)
		fail = -1;
	fuse_release_flushes();
	if (vmm_wait_u64(e, "guest_fds_closing", 0, RG_WAIT_MS) != 0) {
		env_fail(e, name, "expected guest_fds_closing 0 once the flush is answered");
		fail = -1;
	}
	close(fd);
	rg_guest_close(g);
	if (fail == 0)
		env_pass(e, name);
	return fail;
}

/* A new connection's HELLO: its status, or RG_DISC when refused. */
static int
fuse_hello_once(struct env *e, const char *who, const uint8_t mac[6])
{
	struct rg_guest *g = rg_guest_new(who);
	int r = g == NULL || rg_connect(g, e->v.sock) != 0 ? RG_DISC :
		rg_hello(g, 1, mac);

	rg_guest_close(g);
	return r;
}

/*
 * Reconnecting to leave one more stuck close each time: the uid's
 * connections are refused once GUEST_FD_CLOSE_PER_UID (4) of its files
 * wait, and admitted again when they are closed.
 */
static int
fuse_fd_per_uid(struct env *e, const char *name)
{
	static const uint8_t mac[6] = { 0x02, 0xcd, 0xf5, 0x00, 0x00, 0x02 };
	char path[300], o[64];
	int i, r, fd, fail = 0;

	snprintf(path, sizeof(path), "%s/f", fz.dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		env_fail(e, name, "expected the FUSE file open got %s", strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&fz.lock);
	fz.hold = 1;
	pthread_mutex_unlock(&fz.lock);
	for (i = 0; i < 4; i++) {
		struct rg_guest *g = rg_guest_new("fuse-n");

		if (g == NULL || rg_connect(g, e->v.sock) != 0 ||
		    rg_hello(g, 1, mac) != 0) {
			env_fail(e, name, "expected connection %d accepted", i + 1);
			fail = -1;
		} else {
			rg_xfer(g, CDNA_MSG_START, NULL, 0, &fd, 1, NULL, NULL, NULL);
		}
		rg_guest_close(g);
	}
	if (vmm_wait_u64(e, "guest_fds_closing", 4, RG_WAIT_MS) != 0) {
		env_fail(e, name, "expected guest_fds_closing 4");
		fail = -1;
	}
	r = fuse_hello_once(e, "fuse-5", mac);
	if (r != RG_DISC) {
		env_fail(e, name, "expected connection 5 refused (4 closes waiting) got %s",
			 env_outcome(r, o, sizeof(o)));
		fail = -1;
	}
	fuse_release_flushes();
	if (vmm_wait_u64(e, "guest_fds_closing", 0, RG_WAIT_MS) != 0) {
		env_fail(e, name, "expected guest_fds_closing 0 once the flushes are answered");
		fail = -1;
	}
	r = fuse_hello_once(e, "fuse-6", mac);
	if (r != 0) {
		env_fail(e, name, "expected a connection accepted again got %s",
			 env_outcome(r, o, sizeof(o)));
		fail = -1;
	}
	close(fd);
	if (env_after(e, name, 1) != 0)
		fail = -1;
	if (fail == 0)
		env_pass(e, name);
	return fail;
}

int
group_fuse(struct env *e)
{
	char why[300];

	if (fuse_up(e, why, sizeof(why)) != 0) {
		printf("SKIP rogue fuse: cannot serve a FUSE mount here (%s)\n", why);
		return 77;
	}
	if (env_up(e, 1) != 0) {
		env_fail(e, "setup", "expected vmm and guests up got failure");
		env_down(e);
		fuse_down();
		return -1;
	}
	fuse_fd_case(e, "fuse-fd-as-region", 1);
	fuse_fd_case(e, "fuse-fd-on-start", 0);
	fuse_fd_per_uid(e, "fuse-fd-per-uid");
	env_down(e);
	fuse_down();
	return 0;
}
