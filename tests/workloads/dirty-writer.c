// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dirty-writer [MiB] [PAGES_PER_SEC]: keeps writing to random pages of a big
 * buffer (default 256 MiB, as fast as it can unless a rate is given), for
 * pre-copy. Every write stamps a page's first and last word with a new
 * generation and records it in a table; after SIGUSR1 every page must carry
 * the stamp the table holds, so a dirty page that a pre-copy round missed
 * shows up as a stale stamp.
 */
#include <sys/mman.h>
#include "zdtm.h"

#define PAGE 4096UL
#define WORDS (PAGE / 8)

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	long rate = argc > 2 ? atol(argv[2]) : 0;
	size_t npages = (mib << 20) / PAGE, idx;
	uint64_t *buf, *gen, seed = 0x2545f4914f6cdd1dULL, g = 0, writes = 0;
	int64_t t0;

	zdtm_init("dirty-writer");
	buf = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = calloc(npages, sizeof(*gen));
	if (buf == MAP_FAILED || !gen)
		zdtm_fail("allocating %zu MiB: %s", mib, strerror(errno));
	/* every page starts stamped with its own index */
	for (idx = 0; idx < npages; idx++) {
		gen[idx] = idx + 1;
		buf[idx * WORDS] = buf[idx * WORDS + WORDS - 1] = idx + 1;
	}
	g = npages + 1;
	zdtm_ready();
	t0 = zdtm_now_ns(CLOCK_MONOTONIC);
	while (!zdtm_usr1) {
		idx = zdtm_rand(&seed) % npages;
		g++;
		buf[idx * WORDS] = g;
		buf[idx * WORDS + WORDS - 1] = g;
		gen[idx] = g;
		writes++;
		if (rate > 0 && writes % 64 == 0) {
			int64_t due = t0 + (int64_t)(writes * 1000000000.0 / rate);
			int64_t now = zdtm_now_ns(CLOCK_MONOTONIC);

			if (due > now) {
				struct timespec ts = { (due - now) / 1000000000, (due - now) % 1000000000 };
				nanosleep(&ts, NULL);
			}
		}
	}
	for (idx = 0; idx < npages; idx++)
		if (buf[idx * WORDS] != gen[idx] || buf[idx * WORDS + WORDS - 1] != gen[idx])
			zdtm_fail("page %zu holds stamps %llu/%llu, want %llu", idx,
				  (unsigned long long)buf[idx * WORDS],
				  (unsigned long long)buf[idx * WORDS + WORDS - 1],
				  (unsigned long long)gen[idx]);
	printf("dirty-writer: %llu writes\n", (unsigned long long)writes);
	zdtm_pass();
}
