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
#include "base/log.h"
#include "cr/cr.h"
#include "cr/mm-cache.h"
#include "cr/vma.h"

struct vma_rss {
	uint64_t start, end, kb;
};

struct mm_cached {
	pid_t pid;
	char *smaps; /* as read before the freeze */
	bool used;   /* the dump took its VMAs from it: verify */
	struct vma_rss *rss; /* per VMA, filled when used */
	size_t n_rss;
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
		if (vma_read_maps(pids[i], "smaps", &m->smaps) < 0)
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
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].smaps);
		free(c->e[i].rss);
	}
	free(c->e);
	free(c);
}

static struct mm_cached *find(struct cr_mm_cache *c, pid_t pid)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->e[i].pid == pid)
			return &c->e[i];
	return NULL;
}

/* Each VMA's Rss from the early read, in one pass (the dump asks per VMA);
 * in address order, as smaps lists them. */
static int index_rss(struct mm_cached *m, size_t n_vmas)
{
	unsigned long long a, b, kb;

	m->rss = calloc(n_vmas ? n_vmas : 1, sizeof(*m->rss));
	if (!m->rss)
		return err_set(ENOMEM, "out of memory");
	for (const char *p = m->smaps; *p;) {
		const char *nl = strchr(p, '\n');
		if (sscanf(p, "%llx-%llx ", &a, &b) == 2 && m->n_rss < n_vmas)
			m->rss[m->n_rss++] = (struct vma_rss){ a, b, 0 };
		else if (m->n_rss && sscanf(p, "Rss: %llu kB", &kb) == 1)
			m->rss[m->n_rss - 1].kb = kb;
		p = nl ? nl + 1 : p + strlen(p);
	}
	return 0;
}

int mm_cache_vmas(struct cr_mm_cache *c, pid_t pid, VmaEntry ***ret, size_t *ret_n)
{
	_cleanup_free_ char *maps = NULL, *copy = NULL;
	struct mm_cached *m = find(c, pid);

	if (!m)
		return 0;
	int r = vma_read_maps(pid, "maps", &maps);
	if (r < 0)
		return r;
	if (!vma_same_mappings(maps, m->smaps, false)) {
		log_info("pid %d mapped or unmapped memory since its mappings were first read: "
			 "reading them again", pid);
		return 0;
	}
	if (!(copy = strdup(m->smaps)))
		return err_set(ENOMEM, "out of memory");
	if ((r = vma_parse_smaps_text(pid, copy, ret, ret_n)) < 0)
		return r;
	if ((r = index_rss(m, *ret_n)) < 0)
		return r; /* the caller frees *ret with the MmEntry */
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
		int r = vma_read_maps(m->pid, "smaps", &now);
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

static int cmp_rss(const void *key, const void *elem)
{
	uint64_t a = *(const uint64_t *)key, b = ((const struct vma_rss *)elem)->start;
	return a < b ? -1 : a > b;
}

bool mm_cache_dense(struct cr_mm_cache *c, pid_t pid, uint64_t start, uint64_t end)
{
	const struct mm_cached *m = find(c, pid);
	const struct vma_rss *v;

	if (!m || !m->used || end - start < DENSE_MIN)
		return false;
	/* asked once per VMA while frozen: a search, not a walk per VMA */
	v = bsearch(&start, m->rss, m->n_rss, sizeof(*m->rss), cmp_rss);
	return v && v->end == end && v->kb * 1024 * 2 >= end - start;
}
