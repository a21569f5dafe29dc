/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver for a fuzz target built without libFuzzer (gcc, or any plain
 * build): runs LLVMFuzzerTestOneInput over N pseudo-random inputs from a
 * fixed seed, then over each file named on the command line, so the
 * targets run as ordinary tests under ASan/UBSan.
 *
 *   fuzz_x_standalone [N] [file...]      N defaults to 200000
 *
 * A failed check aborts inside the target: the handler below prints the
 * input's index and saves its bytes to fuzz-crash.bin, so the input can be
 * replayed here or under libFuzzer. FUZZ_TRACE=1 logs every index.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_RUNS	200000ul
#define MAX_INPUT	4096u
#define SEED		0x5eed0cd4a2024ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = SEED;
static uint8_t cur_buf[MAX_INPUT];
static size_t cur_len;
static volatile unsigned long cur_index;

static void
crash_handler(int sig)
{
	char msg[64];
	unsigned long v = cur_index;
	int n = 0, fd;
	char digits[24];
	int d = 0;

	/* Only async-signal-safe calls: no stdio here. */
	do {
		digits[d++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(msg, "standalone: failed on random input ", 35);
	n = 35;
	while (d > 0)
		msg[n++] = digits[--d];
	msg[n++] = '\n';
	(void)!write(2, msg, (size_t)n);
	fd = open("fuzz-crash.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		(void)!write(fd, cur_buf, cur_len);
		close(fd);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t
rng(void)
{
	/* xorshift64*: fast, and the same sequence on every host. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/*
 * Inputs mix plain random bytes with bytes from a small set of boundary
 * values, and half the time mutate the previous input instead, so that
 * structure that got deep once is kept and varied.
 */
static size_t
next_input(uint8_t *buf, size_t prev_len)
{
	static const uint8_t special[] = {
		0x00, 0x01, 0x02, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0xfe, 0xff,
	};
	uint64_t r = rng();
	size_t len, i, nmut;

	if (prev_len > 0 && (r & 1)) {
		nmut = 1 + (r >> 1) % 8;
		for (i = 0; i < nmut; i++) {
			uint64_t x = rng();

			buf[x % prev_len] = (x >> 32) & 0x10 ?
				special[(x >> 40) % sizeof(special)] :
				(uint8_t)(x >> 48);
		}
		return prev_len;
	}
	len = (r >> 8) % 4 == 0 ? (r >> 16) % MAX_INPUT : (r >> 16) % 400;
	for (i = 0; i < len; i++) {
		uint64_t x = rng();

		buf[i] = (x & 3) == 0 ? special[(x >> 8) % sizeof(special)] :
			(uint8_t)(x >> 32);
	}
	return len;
}

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int
is_number(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int
main(int argc, char **argv)
{
	unsigned long runs = DEFAULT_RUNS, i;
	unsigned int files = 0;
	int a = 1, trace = getenv("FUZZ_TRACE") != NULL;

	if (argc > 1 && is_number(argv[1])) {
		runs = strtoul(argv[1], NULL, 10);
		a = 2;
	}
	signal(SIGABRT, crash_handler);
	signal(SIGSEGV, crash_handler);
	for (i = 0; i < runs; i++) {
		uint8_t *copy;

		cur_len = next_input(cur_buf, cur_len);
		cur_index = i;
		if (trace)
			fprintf(stderr, "input %lu (%zu bytes)\n", i, cur_len);
		/*
		 * The target gets an exact-size heap copy: ASan then catches
		 * a read past the end, and cur_buf survives for the dump.
		 */
		copy = malloc(cur_len + (cur_len == 0));
		if (copy == NULL)
			return 1;
		memcpy(copy, cur_buf, cur_len);
		LLVMFuzzerTestOneInput(copy, cur_len);
		free(copy);
	}
	/* Files are named in the report by the harness's own log. */
	signal(SIGABRT, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	for (; a < argc; a++) {
		fprintf(stderr, "running %s\n", argv[a]);
		if (run_file(argv[a]) != 0)
			return 1;
		files++;
	}
	printf("%s: %lu random inputs, %u files, no failures\n", argv[0],
	       runs, files);
	return 0;
}
