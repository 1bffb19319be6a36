// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memhog [MiB] [-H] [-T RATE]: N MiB (default 256) of pseudo-random anonymous
 * memory with a checksum, 16 MiB that are never touched and must read back as
 * zero, and a 4 MiB private file mapping of which every other page was
 * written. -H asks for transparent huge pages on the big area (benchmarks).
 * SIGUSR2 only wakes it: a benchmark lets it run once before a checkpoint.
 * -T RATE (benchmarks): after the first SIGUSR1, read one word of a random
 * page of the big area RATE times a second, as a server answering requests
 * would, until a second SIGUSR1; print how long the reads took, apart for
 * pages that were missing and pages that were there; then verify everything.
 */
#include <sys/mman.h>
#include "zdtm.h"

#define ZERO_SIZE (16UL << 20)
#define FILE_SIZE (4UL << 20)
#define PAGE 4096UL

static void nop(int sig) { (void)sig; }

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

#define LAT_MAX 65536

struct lat {
	uint32_t us[LAT_MAX];
	size_t n;
};

static void lat_add(struct lat *l, long long ns)
{
	if (l->n < LAT_MAX)
		l->us[l->n++] = (uint32_t)(ns / 1000);
}

static void lat_print(const char *what, struct lat *l)
{
	qsort(l->us, l->n, sizeof(l->us[0]), cmp_u32);
	if (l->n)
		printf(" %s %zu p50 %u p99 %u us;", what, l->n, l->us[l->n / 2], l->us[l->n * 99 / 100]);
	else
		printf(" %s 0;", what);
}

/* One read of a random page every 1/rate s until SIGUSR1 (the checksum at
 * the end covers what was read), each timed as the task sees it: a page
 * that was not resident before (mincore) waited for the page server, one
 * that was is the first touch of a page placed from outside. */
static void touch_paced(const uint64_t *big, size_t size, unsigned long rate)
{
	uint64_t seed = 0x2545f4914f6cdd1dULL, sink = 0;
	struct timespec due;
	long step = 1000000000L / (long)rate;
	static struct lat missing, resident;

	zdtm_usr1 = 0;
	clock_gettime(CLOCK_MONOTONIC, &due);
	while (!zdtm_usr1) {
		size_t pg = zdtm_rand(&seed) % (size / PAGE);
		const uint64_t *p = big + pg * (PAGE / 8);
		unsigned char in = 0;
		if (mincore((void *)p, PAGE, &in) < 0)
			in = 0;
		long long t0 = zdtm_now_ns(CLOCK_MONOTONIC);
		sink += *(volatile const uint64_t *)p;
		lat_add(in & 1 ? &resident : &missing, zdtm_now_ns(CLOCK_MONOTONIC) - t0);
		due.tv_nsec += step;
		if (due.tv_nsec >= 1000000000L) {
			due.tv_sec++;
			due.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
	}
	(void)sink;
	printf("memhog reads:");
	lat_print("missing", &missing);
	lat_print("resident", &resident);
	printf("\n");
	fflush(stdout);
}

static uint64_t fill(uint64_t *p, size_t words, uint64_t seed)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < words; i++) {
		p[i] = zdtm_rand(&seed);
		sum = sum * 31 + p[i];
	}
	return sum;
}

static uint64_t checksum(const uint64_t *p, size_t words)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < words; i++)
		sum = sum * 31 + p[i];
	return sum;
}

/* Byte i of the file, and what the workload wrote over it. */
static unsigned char file_byte(size_t i) { return (unsigned char)(i * 7 + i / PAGE); }
static unsigned char dirty_byte(size_t i) { return (unsigned char)(~i ^ 0x5a); }

static unsigned char *map_file(const char *path)
{
	unsigned char *buf = malloc(FILE_SIZE), *m;
	int fd;

	if (!buf)
		zdtm_fail("malloc");
	for (size_t i = 0; i < FILE_SIZE; i++)
		buf[i] = file_byte(i);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	zdtm_check(fd);
	if (write(fd, buf, FILE_SIZE) != (ssize_t)FILE_SIZE)
		zdtm_fail("write %s: %s", path, strerror(errno));
	free(buf);
	m = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		zdtm_fail("mmap %s: %s", path, strerror(errno));
	close(fd);
	for (size_t pg = 0; pg < FILE_SIZE; pg += 2 * PAGE)
		for (size_t i = pg; i < pg + PAGE; i++)
			m[i] = dirty_byte(i);
	return m;
}

static void check_file(const unsigned char *m)
{
	for (size_t i = 0; i < FILE_SIZE; i++) {
		int written = (i / PAGE) % 2 == 0;
		unsigned char want = written ? dirty_byte(i) : file_byte(i);

		if (m[i] != want)
			zdtm_fail("file mapping byte %zu (%s page) is 0x%x, want 0x%x", i,
				  written ? "written" : "clean", m[i], want);
	}
}

int main(int argc, char **argv)
{
	size_t mib = 256, size;
	int thp = 0;
	unsigned long rate = 0;
	uint64_t *big, sum, seed = 0x9e3779b97f4a7c15ULL;
	unsigned char *zero, *fmap;
	char path[4096];

	zdtm_init("memhog");
	signal(SIGUSR2, nop);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-H"))
			thp = 1;
		else if (!strcmp(argv[i], "-T") && i + 1 < argc)
			rate = strtoul(argv[++i], NULL, 0);
		else
			mib = strtoul(argv[i], NULL, 0);
	}
	size = mib << 20;
	big = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	zero = mmap(NULL, ZERO_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED || zero == MAP_FAILED)
		zdtm_fail("mmap: %s", strerror(errno));
	if (thp)
		madvise(big, size, MADV_HUGEPAGE);
	sum = fill(big, size / 8, seed);
	zdtm_path(path, sizeof(path), "memhog.map");
	fmap = map_file(path);
	printf("memhog %zu MiB at %p checksum %016llx\n", mib, (void *)big,
	       (unsigned long long)sum);
	zdtm_ready();
	zdtm_wait();
	if (rate)
		touch_paced(big, size, rate);

	if (checksum(big, size / 8) != sum)
		zdtm_fail("checksum of %zu MiB changed", mib);
	for (size_t i = 0; i < ZERO_SIZE; i++)
		if (zero[i])
			zdtm_fail("untouched area byte %zu is 0x%x", i, zero[i]);
	check_file(fmap);
	unlink(path);
	zdtm_pass();
}
