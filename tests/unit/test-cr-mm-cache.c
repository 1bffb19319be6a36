// SPDX-License-Identifier: GPL-2.0-or-later
/* cr/mm-cache.c and the smaps comparison in cr/vma.c: a child's mappings
 * read early are used only while its maps lines are unchanged, a dense VMA
 * is told from a sparse one, and an madvise over a whole VMA after the early
 * read (invisible in maps) fails the verification. Needs root or the
 * child's own uid (/proc/PID/smaps). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/cr.h"
#include "cr/mm-cache.h"
#include "cr/vma.h"
#include "child-sync.h"
#include "tap.h"

#define MIB (1UL << 20)

struct shared {
	volatile int ready, cmd, ack;
	volatile uintptr_t dense, sparse;
};

static struct shared *sh;

enum { CMD_NONE, CMD_DONTDUMP, CMD_MAP };

static void child(void)
{
	char *dense = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *sparse = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dense == MAP_FAILED || sparse == MAP_FAILED)
		_exit(1);
	/* different protections keep the two VMAs from merging */
	mprotect(sparse, 8 * MIB, PROT_READ);
	memset(dense, 1, 8 * MIB);
	sh->dense = (uintptr_t)dense;
	sh->sparse = (uintptr_t)sparse;
	sh->ready = 1;
	for (;;) {
		int c = sh->cmd;
		if (c != CMD_NONE && sh->ack != c) {
			if (c == CMD_DONTDUMP)
				madvise(dense, 8 * MIB, MADV_DONTDUMP);
			else if (c == CMD_MAP)
				mmap(NULL, MIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			sh->ack = c;
		}
		usleep(1000);
	}
}

static void command(int c)
{
	sh->cmd = c;
	for (int i = 0; i < 5000 && sh->ack != c; i++)
		usleep(1000);
}

static void free_vmas(VmaEntry **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(&v[i]->base, NULL);
	free(v);
}

static void test_texts(void)
{
	const char *a = "1000-2000 rw-p 00000000 00:00 0 \nRss:                 4 kB\nVmFlags: rd wr mr mw me ac\n"
			"3000-4000 r--p 00000000 08:01 12 /bin/x\nRss:                 0 kB\nVmFlags: rd mr mw me\n";
	const char *rss = "1000-2000 rw-p 00000000 00:00 0 \nRss:               400 kB\nVmFlags: rd wr mr mw me ac\n"
			  "3000-4000 r--p 00000000 08:01 12 /bin/x\nRss:                 4 kB\nVmFlags: rd mr mw me\n";
	const char *flags = "1000-2000 rw-p 00000000 00:00 0 \nRss:                 4 kB\nVmFlags: rd wr mr mw me ac dd\n"
			    "3000-4000 r--p 00000000 08:01 12 /bin/x\nRss:                 0 kB\nVmFlags: rd mr mw me\n";
	const char *maps = "1000-2000 rw-p 00000000 00:00 0 \n3000-4000 r--p 00000000 08:01 12 /bin/x\n";
	const char *fewer = "1000-2000 rw-p 00000000 00:00 0 \n";
	const char *moved = "1000-2800 rw-p 00000000 00:00 0 \n3000-4000 r--p 00000000 08:01 12 /bin/x\n";

	ok(vma_same_mappings(a, rss, true), "statistics (Rss) are not part of a mapping's identity");
	ok(!vma_same_mappings(a, flags, true), "a VmFlags difference is seen with flags");
	ok(vma_same_mappings(a, flags, false), "and ignored without");
	ok(vma_same_mappings(maps, a, false), "maps lines match smaps headers");
	ok(!vma_same_mappings(fewer, a, false), "a mapping fewer is a difference");
	ok(!vma_same_mappings(moved, a, false), "a grown mapping is a difference");
}

int main(void)
{
	struct cr_mm_cache *c = NULL;
	VmaEntry **v = NULL;
	size_t n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_texts();
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid = fork();
	if (pid == 0)
		child();
	child_wait_ready(&sh->ready);
	ok(sh->ready, "child ready");

	is_int(cr_mm_cache_fill(&pid, 1, &c), 0, "early read of the child's mappings");
	is_int(mm_cache_vmas(c, pid + 1000000, &v, &n), 0, "no early read for another pid");
	is_int(mm_cache_vmas(c, pid, &v, &n), 1, "maps unchanged: the early read is used");
	ok(n > 2, "with its VMAs (%zu)", n);
	free_vmas(v, n);
	ok(mm_cache_dense(c, pid, sh->dense, sh->dense + 8 * MIB), "the written 8 MiB are dense");
	ok(!mm_cache_dense(c, pid, sh->sparse, sh->sparse + 8 * MIB), "the untouched 8 MiB are not");
	ok(!mm_cache_dense(c, pid, sh->dense, sh->dense + 4 * MIB), "a range that is no VMA is not");
	is_int(mm_cache_verify(c), 0, "nothing changed: verified");

	command(CMD_DONTDUMP);
	is_int(mm_cache_verify(c), -EAGAIN, "MADV_DONTDUMP over a whole VMA since: refused");
	ok(strstr(err_msg(), "changed the flags") != NULL, "the error says why: %s", err_msg());
	cr_mm_cache_free(c);

	is_int(cr_mm_cache_fill(&pid, 1, &c), 0, "read again");
	command(CMD_MAP);
	is_int(mm_cache_vmas(c, pid, &v, &n), 0, "a new mapping since: the early read is not used");
	ok(!mm_cache_dense(c, pid, sh->dense, sh->dense + 8 * MIB), "nor its residency");
	is_int(mm_cache_verify(c), 0, "and nothing is left to verify");
	cr_mm_cache_free(c);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return done_testing();
}
