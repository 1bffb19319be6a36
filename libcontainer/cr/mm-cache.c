// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mappings of a tree read before it is frozen. /proc/PID/smaps is the
 * only place that tells a VMA's VmFlags, and reading it walks every page
 * table entry: 15 ms for 4 GiB of memory, which a lazy migration would
 * otherwise spend with the container frozen. So checkpoint --lazy-pages
 * reads it while the container still runs; once frozen, the dump reads
 * /proc/PID/maps (no page walk) and keeps the early copy only if every maps
 * line is unchanged. What maps cannot show (an madvise or mlock over a whole
 * VMA in between) is checked by reading smaps again after the page server
 * said ready, while the destination starts: the tree is still frozen, and
 * the destination cannot run it before the page server answers. A
 * difference fails the checkpoint, and the source runs on.
 *
 * The early read also tells how much of each VMA is resident. A dense lazy
 * VMA is then handed to the page server whole, without the frozen
 * PAGEMAP_SCAN (8-13 ms for 4 GiB): the few pages it never touched are read
 * as zeros and travel as a flag, exactly what the task would have read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "cr/cr.h"
#include "cr/mm-cache.h"
#include "cr/vma.h"

struct mm_cached {
	pid_t pid;
	char *smaps; /* as read before the freeze */
	bool used;   /* the dump took its VMAs from it: verify */
	bool changed; /* its maps differ now: its Rss says nothing */
};

#define DENSE_MIN (2UL << 20) /* smaller VMAs are quick to scan anyway */

struct cr_mm_cache {
	struct mm_cached *e;
	size_t n;
};

int cr_mm_cache_fill(const pid_t *pids, size_t n, struct cr_mm_cache **ret)
{
	struct cr_mm_cache *c = calloc(1, sizeof(*c));

	if (!c || !(c->e = calloc(n ? n : 1, sizeof(*c->e)))) {
		free(c);
		return err_set(ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct mm_cached *m = &c->e[c->n];
		/* a task that exits meanwhile is simply not cached */
		if (vma_read_smaps(pids[i], &m->smaps) < 0)
			continue;
		m->pid = pids[i];
		c->n++;
	}
	*ret = c;
	return 0;
}

void cr_mm_cache_free(struct cr_mm_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].smaps);
	free(c->e);
	free(c);
}

int mm_cache_vmas(struct cr_mm_cache *c, pid_t pid, VmaEntry ***ret, size_t *ret_n)
{
	_cleanup_free_ char *maps = NULL, *copy = NULL;
	char path[64];
	struct mm_cached *m = NULL;

	for (size_t i = 0; c && i < c->n && !m; i++)
		if (c->e[i].pid == pid)
			m = &c->e[i];
	if (!m)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	int r = read_file(path, &maps, NULL, 256u << 20);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	if (!vma_same_mappings(maps, m->smaps, false)) {
		m->changed = true;
		log_info("pid %d mapped or unmapped memory since its mappings were first read: "
			 "reading them again", pid);
		return 0;
	}
	if (!(copy = strdup(m->smaps)))
		return err_set(ENOMEM, "out of memory");
	if ((r = vma_parse_smaps_text(pid, copy, ret, ret_n)) < 0)
		return r;
	m->used = true;
	return 1;
}

int mm_cache_verify(struct cr_mm_cache *c)
{
	unsigned long long t0 = now_ns();
	size_t n = 0;

	for (size_t i = 0; c && i < c->n; i++) {
		struct mm_cached *m = &c->e[i];
		_cleanup_free_ char *now = NULL;
		if (!m->used)
			continue;
		int r = vma_read_smaps(m->pid, &now);
		if (r < 0)
			return r;
		if (!vma_same_mappings(now, m->smaps, true))
			return err_set(EAGAIN, "pid %d changed the flags of its mappings (madvise, mlock) "
					       "while it was being checkpointed; its images are not used, "
					       "checkpoint again", m->pid);
		n++;
	}
	if (n)
		log_info("mappings of %zu tasks read again while frozen: unchanged (%.1f ms)", n,
			 (now_ns() - t0) / 1e6);
	return 0;
}

bool mm_cache_dense(struct cr_mm_cache *c, pid_t pid, uint64_t start, uint64_t end)
{
	const struct mm_cached *m = NULL;
	unsigned long long a = 0, b = 0, kb;
	bool in = false;

	for (size_t i = 0; c && i < c->n && !m; i++)
		if (c->e[i].pid == pid && c->e[i].used && !c->e[i].changed)
			m = &c->e[i];
	if (!m || end - start < DENSE_MIN)
		return false;
	for (const char *p = m->smaps; p && *p;) {
		const char *nl = strchr(p, '\n');
		if (sscanf(p, "%llx-%llx ", &a, &b) == 2 && strchr(p, '-') < strchr(p, ' '))
			in = a == start && b == end;
		else if (in && sscanf(p, "Rss: %llu kB", &kb) == 1)
			return kb * 1024 * 2 >= end - start;
		p = nl ? nl + 1 : p + strlen(p);
	}
	return false;
}
