// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memchurn [MiB]: N MiB (default 32) of anonymous memory, each word a
 * function of its page and place. After SIGUSR1 (given as soon as a lazy
 * restore returns, while pages still arrive) it changes its address space
 * the ways a program does, checking as it goes:
 *   MADV_DONTNEED on a run of pages, and on every 16th page of another
 *                  part: they read back as zeros, their neighbours intact
 *   mremap         a part moves elsewhere and keeps its content there
 *   munmap         a hole in the middle of a part; what is left is intact
 *   rewrite        a dropped run is written anew and reads back so
 * then checks every page that is left. A copy that wrote old data into a
 * dropped or moved range, or lost a page, fails it.
 */
#include <sys/mman.h>
#include "zdtm.h"

#define PG 4096UL
#define MIB (1UL << 20)

static uint64_t word_of(size_t page, size_t i)
{
	return ((uint64_t)page * 0x9e3779b97f4a7c15ULL) ^ (i * 0x2545f4914f6cdd1dULL) ^ 0x5bd1e995;
}

static void fill_page(uint64_t *p, size_t page)
{
	for (size_t i = 0; i < PG / 8; i++)
		p[i] = word_of(page, i);
}

/* Pages [first, first + n) of the original area, now at p. */
static void check_pages(const char *what, const uint8_t *p, size_t first, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const uint64_t *w = (const uint64_t *)(p + k * PG);
		for (size_t i = 0; i < PG / 8; i++)
			if (w[i] != word_of(first + k, i))
				zdtm_fail("%s: page %zu word %zu is %016llx, want %016llx", what, first + k, i,
					  (unsigned long long)w[i], (unsigned long long)word_of(first + k, i));
	}
}

static void check_zero(const char *what, const uint8_t *p, size_t page, size_t n)
{
	for (size_t i = 0; i < n * PG; i++)
		if (p[i])
			zdtm_fail("%s: page %zu byte %zu is 0x%x after MADV_DONTNEED, want 0", what,
				  page + i / PG, i % PG, p[i]);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 32;
	if (mib < 8)
		mib = 8;
	size_t size = mib * MIB, pages = size / PG, part = pages / 8;
	uint8_t *a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* where part 2 moves to: reserved now, so the move has a place */
	uint8_t *dst = mmap(NULL, part * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	zdtm_init("memchurn");
	if (a == MAP_FAILED || dst == MAP_FAILED)
		zdtm_fail("mmap: %s", strerror(errno));
	madvise(a, size, MADV_NOHUGEPAGE);
	for (size_t pg = 0; pg < pages; pg++)
		fill_page((uint64_t *)(a + pg * PG), pg);
	printf("memchurn %zu MiB at %p\n", mib, (void *)a);
	zdtm_ready();
	zdtm_wait();

	/* part 0: its first half dropped */
	size_t p0 = 0, half = part / 2;
	zdtm_check(madvise(a + p0 * PG, half * PG, MADV_DONTNEED));
	check_zero("part 0", a + p0 * PG, p0, half);
	check_pages("part 0's second half", a + (p0 + half) * PG, p0 + half, part - half);

	/* part 1: every 16th page dropped, one at a time */
	size_t p1 = part;
	for (size_t k = 0; k < part; k += 16)
		zdtm_check(madvise(a + (p1 + k) * PG, PG, MADV_DONTNEED));
	for (size_t k = 0; k < part; k++) {
		if (k % 16 == 0)
			check_zero("part 1", a + (p1 + k) * PG, p1 + k, 1);
		else
			check_pages("part 1", a + (p1 + k) * PG, p1 + k, 1);
	}

	/* part 2: moved */
	size_t p2 = 2 * part;
	uint8_t *moved = mremap(a + p2 * PG, part * PG, part * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (moved == MAP_FAILED)
		zdtm_fail("mremap: %s", strerror(errno));
	check_pages("part 2 (moved)", moved, p2, part);

	/* part 3: a hole in the middle */
	size_t p3 = 3 * part, q = part / 4;
	zdtm_check(munmap(a + (p3 + q) * PG, 2 * q * PG));
	check_pages("part 3 before the hole", a + p3 * PG, p3, q);
	check_pages("part 3 after the hole", a + (p3 + 3 * q) * PG, p3 + 3 * q, part - 3 * q);

	/* part 4: dropped, then written anew (as page p4 + part would be) */
	size_t p4 = 4 * part;
	zdtm_check(madvise(a + p4 * PG, part * PG, MADV_DONTNEED));
	for (size_t k = 0; k < part; k++)
		fill_page((uint64_t *)(a + (p4 + k) * PG), p4 + part + k);
	for (size_t k = 0; k < part; k++)
		check_pages("part 4 (rewritten)", a + (p4 + k) * PG, p4 + part + k, 1);

	/* parts 5-7 untouched; then everything left, once more */
	check_pages("parts 5-7", a + 5 * part * PG, 5 * part, pages - 5 * part);
	check_zero("part 0 (again)", a, 0, half);
	check_pages("part 2 (moved, again)", moved, p2, part);
	zdtm_pass();
}
