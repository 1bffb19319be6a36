// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A buffer's first use pays a page fault per page. On the paravirtualised
 * guest skua is developed on that is 12-14 us a page (a 4 MiB buffer: 12-14 ms
 * of CPU, in the kernel, where nothing preempts it); MADV_POPULATE_WRITE puts
 * the pages in for 0.7 ms and one write after it for about 3.5 ms more (the
 * host's own tables). The lazy migration's streams take their buffers this
 * way when they start, not during their first megabytes. On bare metal the
 * same costs a fraction of a millisecond.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/mem.h"

void mem_prefault(void *p, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	/* the whole pages inside [p, p + len); best effort (before 5.14 there
	 * is no MADV_POPULATE_WRITE, and the write below does it all) */
	uintptr_t a = ((uintptr_t)p + pg - 1) & ~(uintptr_t)(pg - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)(pg - 1);

	if (e > a)
		madvise((void *)a, e - a, MADV_POPULATE_WRITE);
	memset(p, 0, len);
}
