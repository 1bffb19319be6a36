// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where a page server reads the pages it serves. The source is an ops
 * table so that other backings (parent pre-dump images, a pages file) can
 * stand in later; the one there is today reads the frozen tree's memory
 * with process_vm_readv (one copy, pages pinned in batches), falling back
 * to /proc/<pid>/mem for what it refuses: PROT_NONE pages, which only the
 * forced access of /proc/<pid>/mem reads. /proc/<pid>/mem alone costs two
 * copies and a page walk with the mmap lock per page: the source's stream
 * was bound by it.
 *
 * A read of more than a few pages asks PAGEMAP_SCAN first which of them hold
 * something (present or swapped, not the zero page) and fills the rest with
 * zeros without reading it: process_vm_readv would fault each untouched page
 * in, a page table write in the frozen task, about 1 us a page here (the
 * 16 MiB a memhog never touched, in a VMA the dump sent whole, cost the
 * stream's start about 10 ms). A fault's single page is read directly: the
 * scan would cost it more than it saves.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/error.h"
#include "base/uapi-compat.h"
#include "cr/image.h"
#include "cr/lazy-internal.h"
#include "pagemap.pb-c.h"

struct frozen_task {
	pid_t pid, host;
	int mem, pagemap; /* pagemap -1: every read reads everything */
};

#define SCAN_MIN_PAGES 16
#define SCAN_VEC 64

struct frozen_source {
	struct page_source base;
	struct frozen_task *tasks;
	size_t n;
};

/* [addr, addr + len) as it is, every page read */
static int read_span(struct frozen_task *t, uint64_t addr, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct iovec l = { buf + done, len - done };
		struct iovec rm = { (void *)(uintptr_t)(addr + done), len - done };
		ssize_t n = process_vm_readv(t->host, &l, 1, &rm, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the rest, or its first page, through /proc/<pid>/mem */
		done += (size_t)n;
	}
	while (done < len) {
		ssize_t n = pread(t->mem, buf + done, len - done, addr + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_sys(n < 0 ? errno : EIO, "reading memory of pid %d at 0x%llx", t->pid,
				       (unsigned long long)(addr + done));
		done += n;
	}
	return 0;
}

/* Only the pages that hold something are read; 1 if the scan was refused
 * (the caller reads everything). */
static int read_held(struct frozen_task *t, uint64_t addr, uint8_t *buf, size_t len)
{
	struct page_region vec[SCAN_VEC];
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.vec = (uintptr_t)vec,
		.vec_len = SCAN_VEC,
		.category_inverted = PAGE_IS_PFNZERO,
		.category_mask = PAGE_IS_PFNZERO,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
	};
	uint64_t end = addr + len, at = addr;

	while (at < end) {
		a.start = at;
		a.end = end;
		a.walk_end = 0;
		int n = ioctl(t->pagemap, PAGEMAP_SCAN, &a);
		if (n < 0)
			return at == addr ? 1 : err_sys(errno, "PAGEMAP_SCAN of pid %d at 0x%llx", t->pid,
						      (unsigned long long)at);
		for (int i = 0; i < n; i++) {
			memset(buf + (at - addr), 0, vec[i].start - at);
			int r = read_span(t, vec[i].start, buf + (vec[i].start - addr), vec[i].end - vec[i].start);
			if (r < 0)
				return r;
			at = vec[i].end;
		}
		/* walk_end: where the scan stopped, the range's end unless vec filled */
		uint64_t walked = a.walk_end > at ? a.walk_end : at;
		if (walked > end)
			walked = end;
		/* a scan that went nowhere says nothing of the rest: read it */
		if (walked == at && n == 0)
			return read_span(t, at, buf + (at - addr), end - at);
		memset(buf + (at - addr), 0, walked - at);
		at = walked;
	}
	return 0;
}

static int frozen_read(struct page_source *s, pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct frozen_source *f = (struct frozen_source *)s;
	struct frozen_task *t = NULL;

	for (size_t i = 0; i < f->n; i++)
		if (f->tasks[i].pid == pid)
			t = &f->tasks[i];
	if (!t)
		return err_set(ESRCH, "no task %d in the dumped tree", pid);
	if (t->pagemap >= 0 && len >= SCAN_MIN_PAGES * 4096) {
		int r = read_held(t, addr, buf, len);
		if (r <= 0)
			return r;
	}
	return read_span(t, addr, buf, len);
}

static void frozen_destroy(struct page_source *s)
{
	struct frozen_source *f = (struct frozen_source *)s;

	for (size_t i = 0; i < f->n; i++) {
		if (f->tasks[i].mem >= 0)
			close(f->tasks[i].mem);
		if (f->tasks[i].pagemap >= 0)
			close(f->tasks[i].pagemap);
	}
	free(f->tasks);
	free(f);
}

static const struct page_source_ops frozen_ops = {
	.read = frozen_read,
	.destroy = frozen_destroy,
};

int page_source_frozen(const pid_t *pids, const pid_t *host_pids, size_t n, struct page_source **ret)
{
	struct frozen_source *f = calloc(1, sizeof(*f));
	char path[64];

	if (!f || !(f->tasks = calloc(n ? n : 1, sizeof(*f->tasks)))) {
		free(f);
		return -ENOMEM;
	}
	f->base.ops = &frozen_ops;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/mem", host_pids[i]);
		f->tasks[f->n].pid = pids[i];
		f->tasks[f->n].host = host_pids[i];
		f->tasks[f->n].mem = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/%d/pagemap", host_pids[i]);
		/* without it (an old kernel's pagemap has no PAGEMAP_SCAN, or
		 * no access), every page is read */
		f->tasks[f->n].pagemap = open(path, O_RDONLY | O_CLOEXEC);
		if (f->tasks[f->n++].mem < 0) {
			snprintf(path, sizeof(path), "/proc/%d/mem", host_pids[i]);
			int r = err_sys(errno, "opening %s", path);
			frozen_destroy(&f->base);
			return r;
		}
	}
	*ret = &f->base;
	return 0;
}

int lazy_runs_load(int img_dirfd, pid_t pid, struct lazy_run **ret, size_t *ret_n)
{
	struct cr_img *pm = NULL;
	PagemapHead *head = NULL;
	struct lazy_run *runs = NULL;
	size_t n = 0, cap = 0;
	int r;

	*ret = NULL;
	*ret_n = 0;
	if (!img_exists(img_dirfd, CR_IMG_PAGEMAP, pid))
		return 0;
	r = img_open(img_dirfd, CR_IMG_PAGEMAP, pid, O_RDONLY, &pm);
	if (r < 0)
		return r;
	r = img_read_msg(pm, &pagemap_head__descriptor, (ProtobufCMessage **)&head);
	if (r >= 0 && !head)
		r = err_set(EBADMSG, "pagemap-%d.img has no head", pid);
	while (r >= 0) {
		PagemapEntry *e;
		r = img_read_msg(pm, &pagemap_entry__descriptor, (ProtobufCMessage **)&e);
		if (r < 0 || !e)
			break;
		bool lazy = e->has_lazy && e->lazy;
		struct lazy_run run = { e->vaddr, e->nr_pages };
		pagemap_entry__free_unpacked(e, NULL);
		if (!lazy || !run.nr_pages)
			continue;
		/* adjacent runs (PAGEMAP_SCAN chunking) become one */
		if (n && runs[n - 1].start + runs[n - 1].nr_pages * 4096 == run.start) {
			runs[n - 1].nr_pages += run.nr_pages;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct lazy_run *nr = realloc(runs, cap * sizeof(*runs));
			if (!nr) {
				r = -ENOMEM;
				break;
			}
			runs = nr;
		}
		runs[n++] = run;
	}
	if (head)
		pagemap_head__free_unpacked(head, NULL);
	img_close(pm);
	if (r < 0) {
		free(runs);
		return r;
	}
	*ret = runs;
	*ret_n = n;
	return 0;
}
