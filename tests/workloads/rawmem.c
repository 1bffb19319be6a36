// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rawmem PID: the raw rate at which one process can read and write another's
 * memory through /proc/PID/mem in 1 MiB chunks, for the engine benchmark to
 * compare dump and restore against. It takes the largest private writable
 * anonymous mapping of PID (memhog's area), reads it whole, then writes the
 * same bytes back (so the target is unchanged), and prints
 * "rawmem bytes N read_gbps R write_gbps W". Not a zdtm workload: it includes
 * zdtm.h only for its helpers.
 */
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
	for (unsigned long off = 0; off < len; off += CHUNK)
		if (pwrite(fd, buf + off, CHUNK, start + off) != (ssize_t)CHUNK) {
			fprintf(stderr, "rawmem: pwrite at %lx: %s\n", start + off, strerror(errno));
			return 1;
		}
	t2 = zdtm_now_ns(CLOCK_MONOTONIC);
	printf("rawmem bytes %lu read_gbps %.3f write_gbps %.3f\n", len,
	       len / (double)(t1 - t0), len / (double)(t2 - t1));
	return 0;
}
