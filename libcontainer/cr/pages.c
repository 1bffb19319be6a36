// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which pages to save, asked of the kernel with PAGEMAP_SCAN (one ioctl per
 * VMA returns runs of pages by category instead of a u64 per page), then read
 * in large chunks from /proc/PID/mem (which also reads PROT_NONE pages).
 *  - anonymous private (incl. heap, stack): present or swapped, not the
 *    shared zero page; pages that read as zero are listed without data;
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
#include "cr/mm-cache.h"
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
	uint64_t nr_pages, nr_zero;
	size_t whole; /* lazy VMAs left whole, without a scan */
	/* lazy dumps: the pages the restore itself touches (each thread's rseq
	 * area) and the ones the tree touches first (under each stack pointer),
	 * sorted; they go into the images, so that the restore needs nothing
	 * from the page server before it lets the tree go */
	uint64_t *first;
	size_t n_first;
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

static bool page_is_zero(const uint8_t *p)
{
	static const uint64_t z;
	return !memcmp(p, &z, sizeof(z)) && !memcmp(p, p + sizeof(z), PAGE_SZ - sizeof(z));
}

static int write_entry(struct pages_out *o, uint64_t start, uint64_t nr, bool zero, bool lazy)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;

	e.vaddr = start;
	e.nr_pages = nr;
	if (lazy) {
		e.has_lazy = e.lazy = true;
		o->ctx->stats.pages_lazy += nr;
	} else if (zero) {
		e.has_zero = e.zero = true;
		o->nr_zero += nr;
	} else {
		e.has_offset = true;
		e.offset = o->offset;
	}
	o->nr_pages += nr;
	return img_write_msg(o->map, &e.base);
}

static int write_data(struct pages_out *o, const uint8_t *buf, size_t len)
{
	unsigned long long t0 = now_ns();
	int r = img_write_raw(o->data, buf, len);
	o->ctx->stats.memwrite_ns += now_ns() - t0;
	o->offset += len;
	o->ctx->stats.pages_written += len / PAGE_SZ;
	return r;
}

/* One chunk read from the task, split into runs of zero and non-zero pages
 * when zero_ok (anonymous memory, where a zero page needs no data: restore
 * maps fresh memory). Page faults on this host often hand out real pages
 * for reads, so the kernel's zero-page category alone misses them. */
static int emit_chunk(struct pages_out *o, uint64_t at, size_t len, bool zero_ok)
{
	size_t i = 0;
	while (i < len) {
		bool zero = zero_ok && page_is_zero(o->buf + i);
		size_t j = i + PAGE_SZ;
		while (j < len && zero_ok && page_is_zero(o->buf + j) == zero)
			j += PAGE_SZ;
		if (!zero_ok)
			j = len;
		int r = write_entry(o, at + i, (j - i) / PAGE_SZ, zero, false);
		if (r >= 0 && !zero)
			r = write_data(o, o->buf + i, j - i);
		if (r < 0)
			return r;
		i = j;
	}
	return 0;
}

/* Only memory that restore puts under userfaultfd (lazy-restore.c) is left
 * to the page server. Dirty pages of private file mappings and the like
 * would be fetched one request at a time before the task runs; they are
 * few, so they go into the images now. */
static bool lazy_vma(VmaKind k)
{
	return k == VMA_KIND__VMA_ANON_PRIVATE || k == VMA_KIND__VMA_HEAP || k == VMA_KIND__VMA_STACK;
}

static int emit_run(struct pages_out *o, pid_t pid, uint64_t start, uint64_t end, bool zero_ok, bool lazy);

/* [start, end) for the page server, but for the first-touched pages inside it. */
static int emit_lazy(struct pages_out *o, pid_t pid, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < o->n_first && start < end; i++) {
		uint64_t p = o->first[i];
		if (p < start || p >= end)
			continue;
		int r = p > start ? write_entry(o, start, (p - start) / PAGE_SZ, false, true) : 0;
		if (r >= 0)
			r = emit_run(o, pid, p, p + PAGE_SZ, true, false);
		if (r < 0)
			return r;
		start = p + PAGE_SZ;
	}
	return start < end ? write_entry(o, start, (end - start) / PAGE_SZ, false, true) : 0;
}

static int emit_run(struct pages_out *o, pid_t pid, uint64_t start, uint64_t end, bool zero_ok, bool lazy)
{
	if (lazy)
		return emit_lazy(o, pid, start, end);
	for (uint64_t at = start; at < end;) {
		size_t len = end - at < READ_CHUNK ? end - at : READ_CHUNK;
		ssize_t n = pread(o->mem_fd, o->buf, len, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || n % PAGE_SZ)
			return err_sys(n < 0 ? errno : EIO, "reading memory of pid %d at 0x%llx", pid,
				       (unsigned long long)at);
		int r = emit_chunk(o, at, n, zero_ok);
		if (r < 0)
			return r;
		at += n;
	}
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
		bool zero_ok = v->kind != VMA_KIND__VMA_FILE_PRIVATE && v->kind != VMA_KIND__VMA_ANON_SHARED;
		bool lazy = o->ctx->o->lazy_pages && lazy_vma(v->kind);
		for (int i = 0; i < n; i++) {
			int r = emit_run(o, pid, vec[i].start, vec[i].end, zero_ok, lazy);
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
		const VmaEntry *v = mm->vmas[i];
		/* mm-cache.c: a dense lazy VMA goes whole, unscanned */
		if (o->ctx->o->lazy_pages && lazy_vma(v->kind) &&
		    mm_cache_dense(o->ctx->o->mm_cache, t->pid, v->start, v->end)) {
			o->whole++;
			r = emit_lazy(o, t->ns_pid, v->start, v->end);
		} else {
			r = scan_vma(o, pagemap_fd, t->ns_pid, v);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The page under each thread's stack pointer and the one below it (the red
 * zone, a signal frame): the first things the restored tree touches; and
 * the thread's rseq area, which the kernel writes when restore registers it
 * (rst_thread_state). As the core step saw them: no ptrace call here. */
static int first_pages(struct pages_out *o, const struct dtask *t)
{
	o->first = calloc(4 * t->n_threads + 1, sizeof(*o->first));
	if (!o->first)
		return err_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n_threads; i++) {
		const struct dthread *th = &t->threads[i];
		if (th->sp) {
			uint64_t p = th->sp & ~(PAGE_SZ - 1);
			o->first[o->n_first++] = p;
			o->first[o->n_first++] = p - PAGE_SZ;
		}
		if (th->rseq) {
			uint64_t e = th->rseq + (th->rseq_size ? th->rseq_size : 32) - 1;
			o->first[o->n_first++] = th->rseq & ~(PAGE_SZ - 1);
			o->first[o->n_first++] = e & ~(PAGE_SZ - 1);
		}
	}
	qsort(o->first, o->n_first, sizeof(*o->first), cmp_u64);
	size_t n = 0;
	for (size_t i = 0; i < o->n_first; i++)
		if (!n || o->first[n - 1] != o->first[i])
			o->first[n++] = o->first[i];
	o->n_first = n;
	return 0;
}

int pages_dump(struct dump_ctx *ctx, const struct dtask *t, const MmEntry *mm)
{
	struct pages_out o = { .ctx = ctx, .mem_fd = -1 };
	unsigned long long t0 = now_ns();
	uint64_t lazy0 = ctx->stats.pages_lazy;
	int r;

	o.buf = malloc(READ_CHUNK);
	if (!o.buf)
		return err_set(ENOMEM, "out of memory");
	o.mem_fd = r = open_proc(t->pid, "mem", O_RDONLY);
	if (r >= 0 && ctx->o->lazy_pages)
		r = first_pages(&o, t);
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
	free(o.first);
	if (r < 0)
		return r;
	ctx->stats.memdump_ns += now_ns() - t0;
	if (ctx->o->lazy_pages)
		log_info("pid %d: %llu pages (%llu zero), %llu of them lazy, left for the page server "
			 "(%zu dense VMAs whole, unscanned)", t->ns_pid, (unsigned long long)o.nr_pages,
			 (unsigned long long)o.nr_zero, (unsigned long long)(ctx->stats.pages_lazy - lazy0),
			 o.whole);
	else
		log_info("pid %d: %llu pages (%llu zero)", t->ns_pid, (unsigned long long)o.nr_pages,
			 (unsigned long long)o.nr_zero);
	return 0;
}
