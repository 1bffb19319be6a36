// SPDX-License-Identifier: GPL-2.0-or-later
/* The lazy-pages handler's page bookkeeping against a real userfaultfd on
 * this process's own memory (never touched before it is filled: residency
 * is checked with mincore, content only of filled pages): copies and zero
 * pages land, a copy without its bookkeeping marks nothing until it is
 * marked done, pages that already exist (EEXIST) count as done, removed
 * ranges are not written again, moved ranges are filled at their new place,
 * a fork doubles what is missing, faults tell whether a task reads forward. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/lazy-state.h"
#include "tap.h"

#define PG 4096UL

static int resident(void *addr, size_t pages)
{
	unsigned char v[64];
	int n = 0;

	if (pages > sizeof(v) || mincore(addr, pages * PG, v) < 0)
		return -1;
	for (size_t i = 0; i < pages; i++)
		n += v[i] & 1;
	return n;
}

static int make_uffd(void *a, size_t len, void *b, size_t blen)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register r1 = { .range = { (uintptr_t)a, len }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_register r2 = { .range = { (uintptr_t)b, blen }, .mode = UFFDIO_REGISTER_MODE_MISSING };

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) < 0 || ioctl(fd, UFFDIO_REGISTER, &r1) < 0 ||
	    ioctl(fd, UFFDIO_REGISTER, &r2) < 0)
		return -1;
	return fd;
}

int main(void)
{
	uint8_t *r = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *r2 = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *data = malloc(16 * PG);
	struct hstate s = { 0 };
	int uffd;

	madvise(r, 16 * PG, MADV_NOHUGEPAGE);
	uffd = make_uffd(r, 16 * PG, r2, 8 * PG);
	if (uffd < 0 && errno == EPERM) {
		printf("1..0 # SKIP userfaultfd needs CAP_SYS_PTRACE\n");
		return 0;
	}
	ok(uffd >= 0, "a userfaultfd over two regions of our own");
	if (uffd < 0)
		return done_testing();
	for (size_t i = 0; i < 16 * PG; i++)
		data[i] = (uint8_t)(i * 13 + i / PG);

	uint64_t runs[2][2] = { { (uintptr_t)r, (uintptr_t)r + 8 * PG },
				{ (uintptr_t)r + 10 * PG, (uintptr_t)r + 16 * PG } };
	is_int(hstate_add_task(&s, 7, 0, uffd, -1, (const uint64_t(*)[2])runs, 2), 0, "task added");
	ok(s.total == 14 && s.missing == 14, "14 pages missing (%llu)", (unsigned long long)s.missing);
	is_int(resident(r, 16), 0, "nothing is there yet");

	/* data into pages 0-1 in two steps (a copy beside the other thread,
	 * then the bookkeeping under the lock), then 2-3 in one */
	is_int(hstate_copy(&s, 7, (uintptr_t)r, 2, data), 0, "two pages copied");
	is_int(resident(r, 16), 2, "two pages resident");
	ok(s.missing == 14 && s.copied == 2, "still 14 missing: a copy alone marks nothing (%llu)",
	   (unsigned long long)s.missing);
	is_int(hstate_copy(&s, 7, (uintptr_t)r, 2, data), 0, "copying them again meets EEXIST, no error");
	hstate_done(&s, 7, (uintptr_t)r, 2);
	ok(s.missing == 12 && s.copied == 2, "marked done: 12 missing (%llu)", (unsigned long long)s.missing);
	is_int(hstate_apply(&s, 7, (uintptr_t)r + 2 * PG, 2, data + 2 * PG), 0, "pages 2-3 applied");
	is_int(resident(r, 16), 4, "four pages resident");
	ok(!memcmp(r, data, 4 * PG), "with the data sent");
	ok(s.missing == 10 && s.copied == 4, "10 missing, 4 copied");

	/* page 7 appears by another way; applying 4-8 must not fail on it */
	struct uffdio_copy c = { .dst = (uintptr_t)r + 7 * PG, .src = (uintptr_t)data + 15 * PG, .len = PG };
	ok(ioctl(uffd, UFFDIO_COPY, &c) == 0, "page 7 filled behind the handler's back");
	is_int(hstate_apply(&s, 7, (uintptr_t)r + 4 * PG, 4, data + 4 * PG), 0, "pages 4-7 applied");
	ok(!memcmp(r + 4 * PG, data + 4 * PG, 3 * PG), "pages 4-6 have the data");
	ok(!memcmp(r + 7 * PG, data + 15 * PG, PG), "page 7 (EEXIST) kept what it had");
	ok(s.missing == 6, "6 missing (%llu)", (unsigned long long)s.missing);

	/* already done pages are not copied again */
	uint64_t before = s.copied;
	is_int(hstate_apply(&s, 7, (uintptr_t)r, 8, data), 0, "re-applying a done range is fine");
	ok(s.copied == before, "and copies nothing");

	/* pages outside any run are ignored */
	is_int(hstate_apply(&s, 7, (uintptr_t)r + 8 * PG, 2, data), 0, "a range outside the runs");
	is_int(resident(r + 8 * PG, 2), 0, "is not written");
	is_int(hstate_apply(&s, 8, (uintptr_t)r + 10 * PG, 1, data), 0, "another pid's pages");
	is_int(resident(r + 10 * PG, 1), 0, "do not land here");

	/* pages 10-11 were dropped by the task (MADV_DONTNEED/munmap event) */
	hstate_remove(&s, 0, (uintptr_t)r + 10 * PG, (uintptr_t)r + 12 * PG);
	ok(s.missing == 4, "removed pages no longer missing (%llu)", (unsigned long long)s.missing);
	/* pages 12-15 moved to r2 (mremap event): the source still names them at r+12 */
	is_int(hstate_remap(&s, 0, (uintptr_t)r + 12 * PG, (uintptr_t)r2, 4 * PG), 0, "remap noted");
	is_int(hstate_apply(&s, 7, (uintptr_t)r + 10 * PG, 6, data + 10 * PG), 0, "pages 10-15 applied");
	is_int(resident(r + 10 * PG, 6), 0, "nothing written to the removed or moved-away range");
	is_int(resident(r2, 8), 4, "the moved pages landed at their new place");
	ok(!memcmp(r2, data + 12 * PG, 4 * PG), "with their data");
	ok(s.missing == 0, "nothing missing");

	/* zero pages */
	uint64_t zr[1][2] = { { (uintptr_t)r2 + 4 * PG, (uintptr_t)r2 + 8 * PG } };
	hstate_add_task(&s, 9, 0, dup(uffd), -1, (const uint64_t(*)[2])zr, 1);
	is_int(hstate_apply(&s, 9, (uintptr_t)r2 + 4 * PG, 4, NULL), 0, "zero pages applied");
	ok(s.zeroed == 4 && s.missing == 0, "as UFFDIO_ZEROPAGE");
	ok(r2[4 * PG] == 0 && r2[8 * PG - 1] == 0, "reading zeros");

	/* a fork: the child misses what the parent misses */
	uint64_t fr[1][2] = { { 0x100000, 0x104000 } };
	hstate_add_task(&s, 11, 0, -1, -1, (const uint64_t(*)[2])fr, 1);
	struct hrun *run = hstate_find(&s, 2, 0x101000);
	ok(run != NULL, "run found by address");
	hstate_mark(&s, run, 0, 1, PG_DONE);
	hstate_mark(&s, run, 1, 1, PG_REQUESTED);
	is_int(hstate_fork(&s, 2, -1), 0, "fork");
	ok(s.missing == 6, "parent 3 + child 3 missing (%llu)", (unsigned long long)s.missing);
	ok(s.tasks[3].src_pid == 11 && s.tasks[3].runs[0].st[1] == PG_MISSING,
	   "the child's pages come from the parent's source; the parent's request is not the child's");
	hstate_task_gone(&s, 3);
	ok(s.missing == 3, "a task that is gone misses nothing");

	/* a fault claims its page without the lock: missing -> requested once,
	 * and a page done stays done (the stream marks it under the lock) */
	struct hrun *cr = &s.tasks[2].runs[0];
	uint64_t unclaimed = s.missing;
	is_int(hstate_claim(cr, 2), PG_MISSING, "a missing page is claimed");
	is_int(cr->st[2], PG_REQUESTED, "  and is requested now");
	is_int(hstate_claim(cr, 2), PG_REQUESTED, "a second fault on it finds it requested");
	is_int(hstate_claim(cr, 0), PG_DONE, "a page done is not claimed");
	is_int(cr->st[0], PG_DONE, "  and stays done");
	ok(s.missing == unclaimed, "claiming does not count a page done");
	hstate_mark(&s, cr, 2, 1, PG_DONE);
	ok(s.missing == unclaimed - 1 && hstate_claim(cr, 2) == PG_DONE,
	   "the claimed page, marked done, counts once and is no longer claimed");

	/* prefetch follows a task that reads forward */
	struct htask *ft = &s.tasks[2];
	ok(!hstate_forward(ft, 0x200000, 8 * PG), "a first fault: no direction yet");
	ok(hstate_forward(ft, 0x201000, 8 * PG), "the next page: forward");
	ok(hstate_forward(ft, 0x208000, 8 * PG), "7 pages on, within reach: forward");
	ok(!hstate_forward(ft, 0x211000, 8 * PG), "9 pages on: beyond reach");
	ok(!hstate_forward(ft, 0x210000, 8 * PG), "a page back: not forward");
	ok(!hstate_forward(ft, 0x210000, 8 * PG), "the same page again: not forward");
	hstate_free(&s);
	free(data);
	munmap(r, 16 * PG);
	munmap(r2, 8 * PG);
	return done_testing();
}
