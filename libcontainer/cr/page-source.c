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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/image.h"
#include "cr/lazy-internal.h"
#include "pagemap.pb-c.h"

struct frozen_task {
	pid_t pid, host;
	int mem;
};

struct frozen_source {
	struct page_source base;
	struct frozen_task *tasks;
	size_t n;
};

static int frozen_read(struct page_source *s, pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct frozen_source *f = (struct frozen_source *)s;
	struct frozen_task *t = NULL;
	size_t done = 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->tasks[i].pid == pid)
			t = &f->tasks[i];
	if (!t)
		return err_set(ESRCH, "no task %d in the dumped tree", pid);
	while (done < len) {
		struct iovec l = { (char *)buf + done, len - done };
		struct iovec rm = { (void *)(uintptr_t)(addr + done), len - done };
		ssize_t n = process_vm_readv(t->host, &l, 1, &rm, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the rest, or its first page, through /proc/<pid>/mem */
		done += (size_t)n;
	}
	while (done < len) {
		ssize_t n = pread(t->mem, (char *)buf + done, len - done, addr + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_sys(n < 0 ? errno : EIO, "reading memory of pid %d at 0x%llx", pid,
				       (unsigned long long)(addr + done));
		done += n;
	}
	return 0;
}

static void frozen_destroy(struct page_source *s)
{
	struct frozen_source *f = (struct frozen_source *)s;

	for (size_t i = 0; i < f->n; i++)
		if (f->tasks[i].mem >= 0)
			close(f->tasks[i].mem);
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
		if (f->tasks[f->n++].mem < 0) {
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
