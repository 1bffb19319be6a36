// SPDX-License-Identifier: GPL-2.0-or-later
/* The page server's frozen source against a stopped child: what it reads is
 * what the child holds, pages it never touched (or dropped) read as zeros
 * without being faulted in (their pagemap entries stay not present), PROT_NONE
 * pages come through /proc/<pid>/mem, and a range of more written stretches
 * than one PAGEMAP_SCAN returns is read whole. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cr/lazy-internal.h"
#include "tap.h"

#define PG 4096UL
#define NP 256 /* pages in the child's main mapping */
#define HOLE_AT 100
#define HOLE_N 40

/* the child writes page i of the main mapping when this says so */
static int written(size_t i)
{
	return i % 3 == 0 && !(i >= HOLE_AT && i < HOLE_AT + HOLE_N) && i != 6;
}

static void fill(uint8_t *p, size_t i)
{
	memset(p, (int)(i % 251) + 1, PG);
	memcpy(p, &i, sizeof(i));
}

static int page_ok(const uint8_t *got, size_t i)
{
	uint8_t want[PG];

	if (!written(i)) {
		for (size_t k = 0; k < PG; k++)
			if (got[k])
				return 0;
		return 1;
	}
	fill(want, i);
	return memcmp(got, want, PG) == 0;
}

static int present(pid_t pid, uint64_t addr)
{
	char path[64];
	uint64_t e = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, &e, sizeof(e), (off_t)(addr / PG * sizeof(e)));
	if (fd >= 0)
		close(fd);
	return n == sizeof(e) ? (int)(e >> 63) : -1;
}

int main(void)
{
	int pfd[2];
	uint64_t addrs[2];
	pid_t pid;

	if (pipe(pfd) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		uint8_t *m = mmap(NULL, NP * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint8_t *pn = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		madvise(m, NP * PG, MADV_NOHUGEPAGE);
		for (size_t i = 0; i < NP; i++)
			if (written(i) || i == 6)
				fill(m + i * PG, i);
		madvise(m + 6 * PG, PG, MADV_DONTNEED); /* written, then dropped */
		for (size_t i = 0; i < 32; i++)
			fill(pn + i * PG, i * 3);
		mprotect(pn, 32 * PG, PROT_NONE);
		addrs[0] = (uintptr_t)m;
		addrs[1] = (uintptr_t)pn;
		if (write(pfd[1], addrs, sizeof(addrs)) != sizeof(addrs))
			_exit(1);
		raise(SIGSTOP);
		_exit(0);
	}
	close(pfd[1]);
	int st;
	if (read(pfd[0], addrs, sizeof(addrs)) != sizeof(addrs) || waitpid(pid, &st, WUNTRACED) != pid ||
	    !WIFSTOPPED(st)) {
		printf("Bail out! the child did not stop\n");
		return 1;
	}

	struct page_source *src = NULL;
	uint8_t *buf = malloc(NP * PG);
	is_int(page_source_frozen(&pid, &pid, 1, &src), 0, "a frozen source for the stopped child");

	is_int(src->ops->read(src, pid, addrs[0], buf, NP * PG), 0, "256 pages read in one call");
	size_t bad = NP;
	for (size_t i = 0; i < NP; i++)
		if (!page_ok(buf + i * PG, i)) {
			bad = i;
			break;
		}
	ok(bad == NP, "written pages read back, the rest zeros (first wrong page: %zu)", bad);
	int faulted = 0;
	for (size_t i = HOLE_AT; i < HOLE_AT + HOLE_N; i++)
		faulted += present(pid, addrs[0] + i * PG) != 0;
	is_int(faulted, 0, "untouched pages were not faulted in by the read");
	is_int(present(pid, addrs[0] + 6 * PG), 0, "nor the dropped one");
	is_int(present(pid, addrs[0] + 3 * PG), 1, "(a written page is present)");

	memset(buf, 0xff, 8 * PG);
	is_int(src->ops->read(src, pid, addrs[0] + 3 * PG, buf, 8 * PG), 0, "a short read (no scan)");
	bad = 8;
	for (size_t i = 0; i < 8; i++)
		if (!page_ok(buf + i * PG, i + 3)) {
			bad = i;
			break;
		}
	ok(bad == 8, "reads back the same (first wrong page: %zu)", bad);

	memset(buf, 0xff, PG);
	is_int(src->ops->read(src, pid, addrs[0] + (HOLE_AT + 1) * PG, buf, PG), 0, "one untouched page");
	ok(page_ok(buf, HOLE_AT + 1), "reads zeros");

	memset(buf, 0, 32 * PG);
	is_int(src->ops->read(src, pid, addrs[1], buf, 32 * PG), 0, "32 PROT_NONE pages read");
	bad = 32;
	for (size_t i = 0; i < 32; i++) {
		uint8_t want[PG];
		fill(want, i * 3);
		if (memcmp(buf + i * PG, want, PG)) {
			bad = i;
			break;
		}
	}
	ok(bad == 32, "through /proc/<pid>/mem, as written (first wrong page: %zu)", bad);

	ok(src->ops->read(src, pid + 100000, addrs[0], buf, PG) == -ESRCH, "a pid not in the tree is refused");

	page_source_destroy(src);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(buf);
	return done_testing();
}
