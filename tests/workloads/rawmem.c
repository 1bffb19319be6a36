// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rawmem PID: the raw rate at which one process can read and write another's
 * memory through /proc/PID/mem in 1 MiB chunks, for the engine benchmark to
 * compare dump and restore against. It takes the largest private writable
 * anonymous mapping of PID (memhog's area), reads it whole, then writes the
 * same bytes back (so the target is unchanged), then writes them once more
 * into fresh, never touched anonymous memory of a child of its own (what a
 * restore does: every page is faulted in by the write), and prints
 * "rawmem bytes N read_gbps R write_gbps W write_fresh_gbps F".
 * Not a zdtm workload: it includes zdtm.h only for its helpers.
 */
#include <sys/mman.h>
#include "zdtm.h"

#define CHUNK (1UL << 20)

static int largest_anon(pid_t pid, unsigned long *ret_start, unsigned long *ret_end)
{
	char path[64], line[512], perms[8];
	unsigned long s, e, best = 0;
	int fields, pathpos;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		pathpos = 0;
		fields = sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perms, &pathpos);
		if (fields < 3 || perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p')
			continue;
		if (pathpos && line[pathpos] && line[pathpos] != '\n')
			continue;	/* file-backed or [heap]/[stack] */
		if (e - s > best) {
			best = e - s;
			*ret_start = s;
			*ret_end = e;
		}
	}
	fclose(f);
	return best ? 0 : -ENOENT;
}

static int write_all(int fd, const char *buf, unsigned long len, unsigned long at)
{
	for (unsigned long off = 0; off < len; off += CHUNK)
		if (pwrite(fd, buf + off, CHUNK, at + off) != (ssize_t)CHUNK) {
			fprintf(stderr, "rawmem: pwrite at %lx: %s\n", at + off, strerror(errno));
			return -1;
		}
	return 0;
}

/* The rate of writing into fresh pages of a child that maps len bytes and
 * then waits for us on a pipe; 0 on failure. */
static double fresh_write_gbps(const char *buf, unsigned long len)
{
	int up[2], down[2], fd;
	unsigned long at = 0;
	char path[64], c = 0;
	int64_t t0, t1;
	pid_t kid;

	if (pipe(up) < 0 || pipe(down) < 0)
		return 0;
	kid = fork();
	if (kid < 0)
		return 0;
	if (kid == 0) {
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		at = m == MAP_FAILED ? 0 : (unsigned long)m;
		if (write(up[1], &at, sizeof(at)) != sizeof(at) || read(down[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	if (read(up[0], &at, sizeof(at)) != sizeof(at) || !at)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", kid);
	fd = open(path, O_RDWR);
	t0 = zdtm_now_ns(CLOCK_MONOTONIC);
	if (fd < 0 || write_all(fd, buf, len, at) < 0)
		return 0;
	t1 = zdtm_now_ns(CLOCK_MONOTONIC);
	close(fd);
	if (write(down[1], &c, 1) != 1)
		kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	return len / (double)(t1 - t0);
}

int main(int argc, char **argv)
{
	pid_t pid = argc > 1 ? atoi(argv[1]) : 0;
	unsigned long start = 0, end = 0, len;
	char path[64], *buf;
	int64_t t0, t1, t2;
	int fd;

	if (pid <= 0) {
		fprintf(stderr, "usage: rawmem PID\n");
		return 2;
	}
	if (largest_anon(pid, &start, &end) < 0) {
		fprintf(stderr, "rawmem: no anonymous mapping in pid %d\n", pid);
		return 1;
	}
	len = end - start;
	buf = malloc(len);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR);
	if (!buf || fd < 0) {
		fprintf(stderr, "rawmem: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* fault our own buffer in first: we measure the copy, not our page faults */
	memset(buf, 1, len);
	t0 = zdtm_now_ns(CLOCK_MONOTONIC);
	for (unsigned long off = 0; off < len; off += CHUNK)
		if (pread(fd, buf + off, CHUNK, start + off) != (ssize_t)CHUNK) {
			fprintf(stderr, "rawmem: pread at %lx: %s\n", start + off, strerror(errno));
			return 1;
		}
	t1 = zdtm_now_ns(CLOCK_MONOTONIC);
	if (write_all(fd, buf, len, start) < 0)
		return 1;
	t2 = zdtm_now_ns(CLOCK_MONOTONIC);
	close(fd);
	printf("rawmem bytes %lu read_gbps %.3f write_gbps %.3f write_fresh_gbps %.3f\n", len,
	       len / (double)(t1 - t0), len / (double)(t2 - t1), fresh_write_gbps(buf, len));
	return 0;
}
