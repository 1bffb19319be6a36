// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which pages to save, asked of the kernel with PAGEMAP_SCAN (one ioctl per
 * VMA returns runs of pages by category instead of a u64 per page), then read
 * in large chunks from /proc/PID/mem (which also reads PROT_NONE pages).
 *  - anonymous private (incl. heap, stack): present or swapped, not the
 *    shared zero page;
 *  - file private: only pages the task wrote (anonymous COW copies: present
 *    or swapped and not file pages); the rest comes back from the file;
 *  - shared anonymous (shmem): every present page this task maps;
 *  - file shared: the file holds the data; vDSO/vvar/vsyscall: the kernel's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/uapi-compat.h"
#include "cr/image.h"
#include "cr/pages.h"
#include "pagemap.pb-c.h"

#define PAGE_SZ 4096UL
#define READ_CHUNK (4UL << 20)
#define SCAN_VEC 512

struct pages_out {
	struct dump_ctx *ctx;
	struct cr_img *map, *data;
	int mem_fd;
	uint8_t *buf;
	uint64_t offset;  /* bytes of data written so far */
	uint64_t nr_pages;
};

/* category_inverted/mask/anyof for a VMA kind; false: no pages to save. */
static bool scan_masks(VmaKind kind, struct pm_scan_arg *a)
{
	switch (kind) {
	case VMA_KIND__VMA_ANON_PRIVATE:
	case VMA_KIND__VMA_HEAP:
	case VMA_KIND__VMA_STACK:
	case VMA_KIND__VMA_ANON_SHARED:
		a->category_inverted = PAGE_IS_PFNZERO;
		a->category_mask = PAGE_IS_PFNZERO;
		break;
	case VMA_KIND__VMA_FILE_PRIVATE:
		a->category_inverted = PAGE_IS_PFNZERO | PAGE_IS_FILE;
		a->category_mask = PAGE_IS_PFNZERO | PAGE_IS_FILE;
		break;
	default:
		return false;
	}
	a->category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
	a->return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
	return true;
}

static int copy_run(struct pages_out *o, pid_t pid, uint64_t start, uint64_t end)
{
	for (uint64_t at = start; at < end;) {
		size_t len = end - at < READ_CHUNK ? end - at : READ_CHUNK;
		ssize_t n = pread(o->mem_fd, o->buf, len, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_sys(n < 0 ? errno : EIO, "reading memory of pid %d at 0x%llx", pid,
				       (unsigned long long)at);
		unsigned long long t0 = now_ns();
		int r = img_write_raw(o->data, o->buf, n);
		o->ctx->stats.memwrite_ns += now_ns() - t0;
		if (r < 0)
			return r;
		at += n;
	}
	return 0;
}

static int emit_run(struct pages_out *o, pid_t pid, uint64_t start, uint64_t end)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;
	uint64_t nr = (end - start) / PAGE_SZ;
	int r;

	e.vaddr = start;
	e.nr_pages = nr;
	if (o->ctx->o->lazy_pages) {
		e.has_lazy = e.lazy = true;
		o->ctx->stats.pages_lazy += nr;
	} else {
		e.has_offset = true;
		e.offset = o->offset;
	}
	r = img_write_msg(o->map, &e.base);
	if (r < 0)
		return r;
	o->nr_pages += nr;
	if (o->ctx->o->lazy_pages)
		return 0;
	r = copy_run(o, pid, start, end);
	if (r < 0)
		return r;
	o->offset += end - start;
	o->ctx->stats.pages_written += nr;
	return 0;
}

static int scan_vma(struct pages_out *o, int pagemap_fd, pid_t pid, const VmaEntry *v)
{
	struct page_region vec[SCAN_VEC];
	struct pm_scan_arg a = { 0 };

	if (!scan_masks(v->kind, &a))
		return 0;
	o->ctx->stats.pages_scanned += (v->end - v->start) / PAGE_SZ;
	a.size = sizeof(a);
	a.vec = (uintptr_t)vec;
	a.vec_len = SCAN_VEC;
	for (uint64_t at = v->start; at < v->end;) {
		a.start = at;
		a.end = v->end;
		a.walk_end = 0;
		int n = ioctl(pagemap_fd, PAGEMAP_SCAN, &a);
		if (n < 0)
			return err_sys(errno, "PAGEMAP_SCAN of pid %d at 0x%llx", pid, (unsigned long long)at);
		for (int i = 0; i < n; i++) {
			int r = emit_run(o, pid, vec[i].start, vec[i].end);
			if (r < 0)
				return r;
		}
		if (a.walk_end <= at)
			break;
		at = a.walk_end;
	}
	return 0;
}

static int open_proc(pid_t pid, const char *what, int flags)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return err_sys(errno, "opening %s", path);
	return fd;
}

static int dump_all(struct pages_out *o, const struct dtask *t, const MmEntry *mm)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	_cleanup_close_ int pagemap_fd = -1;
	int r;

	head.pages_id = t->ns_pid;
	r = img_write_msg(o->map, &head.base);
	if (r < 0)
		return r;
	pagemap_fd = open_proc(t->pid, "pagemap", O_RDONLY);
	if (pagemap_fd < 0)
		return pagemap_fd;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		r = scan_vma(o, pagemap_fd, t->ns_pid, mm->vmas[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int pages_dump(struct dump_ctx *ctx, const struct dtask *t, const MmEntry *mm)
{
	struct pages_out o = { .ctx = ctx, .mem_fd = -1 };
	unsigned long long t0 = now_ns();
	int r;

	o.buf = malloc(READ_CHUNK);
	if (!o.buf)
		return err_set(ENOMEM, "out of memory");
	o.mem_fd = r = open_proc(t->pid, "mem", O_RDONLY);
	if (r >= 0)
		r = img_open(ctx->img_dirfd, CR_IMG_PAGEMAP, t->ns_pid, O_WRONLY, &o.map);
	if (r >= 0)
		r = img_open(ctx->img_dirfd, CR_IMG_PAGES, t->ns_pid, O_WRONLY, &o.data);
	if (r >= 0)
		r = dump_all(&o, t, mm);
	/* pagemap_head.nr_pages would need a second pass over the file: the
	 * entries carry the counts, and the log has the total. */
	if (o.map) {
		int r2 = img_close(o.map);
		r = r < 0 ? r : r2;
	}
	if (o.data) {
		int r2 = img_close(o.data);
		r = r < 0 ? r : r2;
	}
	if (o.mem_fd >= 0)
		close(o.mem_fd);
	free(o.buf);
	if (r < 0)
		return r;
	ctx->stats.memdump_ns += now_ns() - t0;
	log_info("pid %d: %llu pages%s", t->ns_pid, (unsigned long long)o.nr_pages,
		 ctx->o->lazy_pages ? " (lazy, left for the page server)" : "");
	return 0;
}
