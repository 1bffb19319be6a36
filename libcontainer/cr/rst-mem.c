// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore: one task's address space. In the puppet (a copy of the engine's
 * address space plus the gadget block): unmap everything but the gadget
 * block and the kernel's vDSO block, move the vDSO block to its dumped
 * address, map every dumped VMA with MAP_FIXED (files by an injected
 * openat), write the page data through /proc/PID/mem, and last set the mm
 * fields (code/data/brk/stack/args/env, auxv, exe) with PR_SET_MM_MAP:
 * the kernel only accepts the exe file once the old one is unmapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/uapi-compat.h"
#include "cr/image.h"
#include "cr/lazy-internal.h"
#include "cr/restore-internal.h"

#define TASK_SIZE_MAX 0x7ffffffff000UL
#ifndef SYS_rseq
#define SYS_rseq 334
#endif
#define RSEQ_FLAG_UNREGISTER 1
#define VDSO_PIECES 8 /* [vvar], [vvar_vclock], [vdso]: room to spare */

struct vpiece {
	unsigned long start, end;
};

/* The puppet's [vvar], [vvar_vclock] and [vdso] mappings, in address order. */
static int read_vdso_block(pid_t pid, struct vpiece *v, size_t max, size_t *ret_n)
{
	char path[64], line[512];
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return err_sys(errno, "opening %s", path);
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char name[128] = "";
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %127s", &s, &e, name) < 2)
			continue;
		if (strcmp(name, "[vdso]") && strcmp(name, "[vvar]") && strcmp(name, "[vvar_vclock]"))
			continue;
		if (n == max)
			return err_set(E2BIG, "pid %d has more than %zu vDSO mappings", pid, max);
		v[n++] = (struct vpiece){ s, e };
	}
	*ret_n = n;
	return 0;
}

static long do_munmap(struct rst_ctx *c, pid_t pid, unsigned long s, unsigned long e)
{
	if (e <= s)
		return 0;
	return PUPPET_CALL(c, pid, "munmap", SYS_munmap, s, e - s);
}

/* Everything outside the kept ranges goes, in as few calls as the gaps
 * allow, all in one stop. */
static int unmap_all(struct rst_ctx *c, pid_t pid, const struct vpiece *vd, size_t nvd)
{
	struct vpiece keep[1 + VDSO_PIECES];
	struct puppet_sc sc[ARRAY_SIZE(keep) + 1];
	size_t nk = 0, n = 0;
	unsigned long at = 0;

	keep[nk++] = (struct vpiece){ c->gadget, c->gadget + RST_GADGET_PAGES * RST_PAGE };
	for (size_t i = 0; i < nvd && nk < ARRAY_SIZE(keep); i++)
		keep[nk++] = vd[i];
	/* insertion sort: a handful of entries */
	for (size_t i = 1; i < nk; i++)
		for (size_t j = i; j > 0 && keep[j].start < keep[j - 1].start; j--) {
			struct vpiece t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (size_t i = 0; i <= nk; i++) {
		unsigned long end = i < nk ? keep[i].start : TASK_SIZE_MAX;
		if (end > at)
			sc[n++] = (struct puppet_sc){ SYS_munmap, { at, end - at } };
		if (i < nk)
			at = keep[i].end;
	}
	return puppet_call_batch(c, pid, "munmap", sc, n, NULL, NULL);
}

/* The same kernel has the same block layout; move it as a whole, each piece
 * through a parking spot after the gadget so no move overlaps another. */
static int place_vdso(struct rst_ctx *c, struct rst_task *t, struct vpiece *vd, size_t nvd)
{
	MmEntry *mm = t->mm;
	unsigned long base, size, park = c->gadget + RST_GADGET_PAGES * RST_PAGE;
	long r;

	if (!mm->has_vdso_start || !mm->vdso_start) {
		for (size_t i = 0; i < nvd; i++)
			if ((r = do_munmap(c, t->host_pid, vd[i].start, vd[i].end)) < 0)
				return (int)r;
		return 0;
	}
	if (nvd == 0)
		return err_set(ENOENT, "this kernel gave the puppet no vDSO; the image has one");
	base = vd[0].start;
	size = vd[nvd - 1].end - base;
	if (size > (RST_HOLE_PAGES - RST_GADGET_PAGES) * RST_PAGE)
		return err_set(E2BIG, "vDSO block of %lu bytes", size);
	/* [vdso] text comes last, after the vvar pages */
	if (mm->has_vdso_text && vd[nvd - 1].start - base != mm->vdso_text - mm->vdso_start)
		return err_set(EINVAL, "the vDSO layout differs from the dumped one "
				       "(text at +0x%lx, dumped +0x%llx): another kernel?",
			       vd[nvd - 1].start - base,
			       (unsigned long long)(mm->vdso_text - mm->vdso_start));
	if (base == mm->vdso_start)
		return 0;
	/* every piece to the parking spot, then every piece home: one stop */
	struct puppet_sc sc[2 * VDSO_PIECES];
	long got[ARRAY_SIZE(sc)];
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < nvd && n < ARRAY_SIZE(sc); i++) {
			unsigned long len = vd[i].end - vd[i].start, off = vd[i].start - base;
			unsigned long from = pass ? park + off : vd[i].start;
			unsigned long to = pass ? mm->vdso_start + off : park + off;
			sc[n++] = (struct puppet_sc){ SYS_mremap, { from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to } };
		}
	if ((r = puppet_call_batch(c, t->host_pid, "mremap(vdso)", sc, n, got, NULL)) < 0)
		return (int)r;
	for (size_t i = 0; i < n; i++)
		if ((unsigned long)got[i] != sc[i].a[4])
			return err_set(EIO, "mremap of the vDSO to 0x%lx landed at 0x%lx", sc[i].a[4], got[i]);
	return 0;
}

static long open_in(struct rst_ctx *c, pid_t pid, const char *path, int flags)
{
	unsigned long addr;
	size_t len = strlen(path) + 1;
	int r = puppet_scratch_put(c, pid, 0, path, len, &addr);
	if (r < 0)
		return r;
	return PUPPET_CALL(c, pid, "openat", SYS_openat, AT_FDCWD, addr, flags | O_CLOEXEC, 0);
}

/* Shared anonymous memory is one shmem object for every task that mapped
 * it: the first one makes it, the others open it through the first one's
 * /proc/PID/map_files entry (the puppet's /proc is its pid namespace's). */
static struct rst_shm *shm_find(struct rst_ctx *c, const VmaEntry *v)
{
	for (size_t i = 0; v->has_shmid && i < c->n_shm; i++)
		if (c->shm[i].shmid == v->shmid)
			return &c->shm[i];
	return NULL;
}

static int shm_note(struct rst_ctx *c, struct rst_task *t, const VmaEntry *v)
{
	if (!v->has_shmid)
		return 0;
	struct rst_shm *n = realloc(c->shm, (c->n_shm + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->shm = n;
	n[c->n_shm++] = (struct rst_shm){ v->shmid, t->pid, v->start, v->end, v->has_pgoff ? v->pgoff : 0 };
	return 0;
}

static long open_in(struct rst_ctx *c, pid_t pid, const char *path, int flags);

static long shm_open_again(struct rst_ctx *c, struct rst_task *t, const struct rst_shm *s)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", s->owner,
		 (unsigned long long)s->start, (unsigned long long)s->end);
	long fd = open_in(c, t->host_pid, path, O_RDWR);
	return fd < 0 ? err_wrap((int)fd, "shared memory %u of pid %d", s->shmid, s->owner) : fd;
}

/* The mmaps and madvise hints of a run of VMAs go in one stop; an open of
 * a file ends a run (the mmaps after it need its fd), and so does a shared
 * mapping that opens another task's. */
struct map_batch {
	struct puppet_sc sc[PUPPET_BATCH_MAX];
	const VmaEntry *vma[PUPPET_BATCH_MAX]; /* what each call is for */
	size_t n;
};

static int vma_err(int r, const VmaEntry *v)
{
	return err_wrap(r, "mapping 0x%llx-0x%llx", (unsigned long long)v->start, (unsigned long long)v->end);
}

/* One call failed: a madvise hint this kernel refuses (KSM off, say) costs
 * behaviour, not correctness, and a close of our fd changes nothing;
 * huge sparse reservations (sanitizer shadows, GC heaps) were made with
 * MAP_NORESERVE: images record it since session 14, and one written before
 * (without it) still fits. */
static int batch_failed(struct rst_ctx *c, struct rst_task *t, const struct puppet_sc *s, const VmaEntry *v,
			long ret, int r)
{
	if (s->nr == SYS_close)
		return 0;
	if (s->nr == SYS_madvise) {
		log_warn("pid %d: madvise(0x%lx, %lu): %s", t->pid, s->a[0], s->a[2], strerror((int)-ret));
		return 0;
	}
	if (s->nr == SYS_mmap && ret == -ENOMEM && s->a[4] == -1UL && !(s->a[3] & MAP_NORESERVE)) {
		ret = PUPPET_CALL(c, t->host_pid, "mmap", SYS_mmap, s->a[0], s->a[1], s->a[2],
				  s->a[3] | MAP_NORESERVE, -1, 0);
		if (ret < 0)
			return vma_err((int)ret, v);
		return (unsigned long)ret == v->start ? 0 : vma_err(err_set(EIO, "mmap landed at 0x%lx", ret), v);
	}
	return vma_err(r, v);
}

static int batch_flush(struct rst_ctx *c, struct rst_task *t, struct map_batch *b)
{
	long got[PUPPET_BATCH_MAX];
	size_t at = 0;

	while (at < b->n) {
		size_t bad;
		int r = puppet_call_batch(c, t->host_pid, "mmap", b->sc + at, b->n - at, got + at, &bad);
		bad += at;
		if (r < 0 && bad == b->n)
			return r; /* ptrace, not a call */
		for (size_t i = at; i < bad; i++)
			if (b->sc[i].nr == SYS_mmap && (unsigned long)got[i] != b->vma[i]->start)
				return vma_err(err_set(EIO, "mmap landed at 0x%lx", got[i]), b->vma[i]);
		if (bad == b->n)
			break;
		if ((r = batch_failed(c, t, &b->sc[bad], b->vma[bad], got[bad], r)) < 0)
			return r;
		at = bad + 1;
	}
	b->n = 0;
	return 0;
}

static int queue(struct rst_ctx *c, struct rst_task *t, struct map_batch *b, const VmaEntry *v,
		 struct puppet_sc sc)
{
	int r;

	if (b->n == PUPPET_BATCH_MAX && (r = batch_flush(c, t, b)) < 0)
		return r;
	b->sc[b->n] = sc;
	b->vma[b->n++] = v;
	return 0;
}

/* A shared anonymous mapping another task (or an earlier VMA) made: open it
 * through that one's map_files, now. */
static int map_shm_again(struct rst_ctx *c, struct rst_task *t, const VmaEntry *v, const struct rst_shm *s,
			 unsigned long flags)
{
	long sfd = shm_open_again(c, t, s);
	if (sfd < 0)
		return (int)sfd;
	long ret = PUPPET_CALL(c, t->host_pid, "mmap(shared)", SYS_mmap, v->start, v->end - v->start, v->prot,
			       flags, sfd, (v->has_pgoff ? v->pgoff : 0) - s->pgoff);
	PUPPET_CALL(c, t->host_pid, "close", SYS_close, sfd);
	if (ret < 0)
		return (int)ret;
	return (unsigned long)ret == v->start ? 0 : err_set(EIO, "mmap landed at 0x%lx", ret);
}

static int map_vma(struct rst_ctx *c, struct rst_task *t, struct map_batch *b, VmaEntry *v, long *fd,
		   const char **fd_path)
{
	unsigned long flags = (v->flags & (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN | MAP_NORESERVE)) | MAP_FIXED;
	long ret, mfd = -1;
	int r;

	switch (v->kind) {
	case VMA_KIND__VMA_VDSO:
	case VMA_KIND__VMA_VVAR:
	case VMA_KIND__VMA_VSYSCALL:
		return 0;
	case VMA_KIND__VMA_ANON_SHARED: {
		const struct rst_shm *s = shm_find(c, v);
		flags = (flags & ~MAP_PRIVATE) | MAP_SHARED;
		if (!s) {
			flags |= MAP_ANONYMOUS;
			break;
		}
		if ((r = batch_flush(c, t, b)) < 0)
			return r;
		r = map_shm_again(c, t, v, s, flags);
		return r < 0 ? vma_err(r, v) : 0;
	}
	case VMA_KIND__VMA_ANON_PRIVATE:
	case VMA_KIND__VMA_STACK:
	case VMA_KIND__VMA_HEAP:
		flags = (flags & ~MAP_SHARED) | MAP_PRIVATE | MAP_ANONYMOUS;
		break;
	case VMA_KIND__VMA_FILE_PRIVATE:
	case VMA_KIND__VMA_FILE_SHARED: {
		bool shared = v->kind == VMA_KIND__VMA_FILE_SHARED;
		/* a shared mapping may be made writable later: O_RDWR where allowed */
		int oflags = shared ? O_RDWR : O_RDONLY;
		if (!v->path)
			return vma_err(err_set(EBADMSG, "file mapping without a path"), v);
		if (strstr(v->path, " (deleted)"))
			return vma_err(err_set(ENOENT, "mapping of the deleted file %s; not supported", v->path), v);
		if (*fd < 0 || !*fd_path || strcmp(*fd_path, v->path) || oflags == O_RDWR) {
			/* the mmaps queued so far use the old fd: close it after them */
			if (*fd >= 0 && (r = queue(c, t, b, v, (struct puppet_sc){ SYS_close, { *fd } })) < 0)
				return r;
			*fd = -1;
			if ((r = batch_flush(c, t, b)) < 0)
				return r;
			ret = open_in(c, t->host_pid, v->path, oflags);
			if (ret < 0 && oflags == O_RDWR && !(v->prot & PROT_WRITE) &&
			    (ret == -EACCES || ret == -EROFS || ret == -EPERM))
				ret = open_in(c, t->host_pid, v->path, O_RDONLY);
			if (ret < 0)
				return vma_err(err_wrap((int)ret, "opening %s", v->path), v);
			*fd = ret;
			*fd_path = v->path;
		}
		mfd = *fd;
		flags = (flags & ~(MAP_SHARED | MAP_PRIVATE)) | (shared ? MAP_SHARED : MAP_PRIVATE);
		break;
	}
	default:
		return vma_err(err_set(EBADMSG, "VMA of unknown kind %d", v->kind), v);
	}
	r = queue(c, t, b, v,
		  (struct puppet_sc){ SYS_mmap, { v->start, v->end - v->start, v->prot, flags, (unsigned long)mfd,
						  mfd >= 0 ? v->pgoff : 0 } });
	if (r < 0)
		return r;
	return v->kind == VMA_KIND__VMA_ANON_SHARED ? shm_note(c, t, v) : 0;
}

/* madvise hints kept in the image, one bit per MADV_* value. */
static int advise(struct rst_ctx *c, struct rst_task *t, struct map_batch *b, const VmaEntry *v)
{
	if (!v->has_madv || v->kind == VMA_KIND__VMA_VDSO || v->kind == VMA_KIND__VMA_VVAR ||
	    v->kind == VMA_KIND__VMA_VSYSCALL)
		return 0;
	for (int bit = 0; bit < 32; bit++) {
		int r;
		if ((v->madv & (1u << bit)) &&
		    (r = queue(c, t, b, v, (struct puppet_sc){ SYS_madvise, { v->start, v->end - v->start, bit } })) < 0)
			return r;
	}
	return 0;
}

static int map_vmas(struct rst_ctx *c, struct rst_task *t)
{
	struct map_batch b = { .n = 0 };
	long fd = -1;
	const char *fd_path = NULL;
	int r = 0;

	for (size_t i = 0; i < t->mm->n_vmas && r >= 0; i++) {
		VmaEntry *v = t->mm->vmas[i];
		r = map_vma(c, t, &b, v, &fd, &fd_path); /* errors name the VMA */
		if (r >= 0)
			r = advise(c, t, &b, v);
	}
	if (r >= 0 && fd >= 0)
		r = queue(c, t, &b, NULL, (struct puppet_sc){ SYS_close, { fd } });
	if (r >= 0)
		r = batch_flush(c, t, &b);
	else if (fd >= 0)
		PUPPET_CALL(c, t->host_pid, "close", SYS_close, fd);
	return r;
}

static int set_mm(struct rst_ctx *c, struct rst_task *t)
{
	MmEntry *mm = t->mm;
	struct prctl_mm_map map = {
		.start_code = mm->mm_start_code, .end_code = mm->mm_end_code,
		.start_data = mm->mm_start_data, .end_data = mm->mm_end_data,
		.start_brk = mm->mm_start_brk, .brk = mm->mm_brk,
		.start_stack = mm->mm_start_stack,
		.arg_start = mm->mm_arg_start, .arg_end = mm->mm_arg_end,
		.env_start = mm->mm_env_start, .env_end = mm->mm_env_end,
		.exe_fd = -1,
	};
	const size_t auxv_off = 512;
	unsigned long auxv_addr = 0, map_addr;
	long exe = -1, ret;
	int r;

	if (mm->n_auxv) {
		r = puppet_scratch_put(c, t->host_pid, auxv_off, mm->auxv, mm->n_auxv * 8, &auxv_addr);
		if (r < 0)
			return r;
		map.auxv = (__u64 *)auxv_addr;
		map.auxv_size = mm->n_auxv * 8;
	}
	if (mm->exe_file && *mm->exe_file) {
		exe = open_in(c, t->host_pid, mm->exe_file, O_RDONLY);
		if (exe < 0)
			return err_wrap((int)exe, "opening the executable %s", mm->exe_file);
		map.exe_fd = exe;
	}
	r = puppet_scratch_put(c, t->host_pid, 0, &map, sizeof(map), &map_addr);
	if (r < 0)
		return r;
	ret = PUPPET_CALL(c, t->host_pid, "prctl(PR_SET_MM_MAP)", SYS_prctl, PR_SET_MM, PR_SET_MM_MAP,
			  map_addr, sizeof(map), 0);
	if (exe >= 0)
		PUPPET_CALL(c, t->host_pid, "close", SYS_close, exe);
	return ret < 0 ? (int)ret : 0;
}

/* A fork keeps the parent's rseq registration: the kernel would go on
 * writing the engine's rseq area, at an address that is about to mean
 * something else (or nothing: then the task gets SIGSEGV). */
static int drop_rseq(struct rst_ctx *c, pid_t pid)
{
	struct skua_ptrace_rseq_configuration conf = { 0 };

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, sizeof(conf), &conf) < 0)
		return err_sys(errno, "reading the rseq registration of %d", pid);
	if (!conf.rseq_abi_pointer)
		return 0;
	long ret = PUPPET_CALL(c, pid, "rseq(UNREGISTER)", SYS_rseq, conf.rseq_abi_pointer,
			       conf.rseq_abi_size, RSEQ_FLAG_UNREGISTER, conf.signature);
	return ret < 0 ? (int)ret : 0;
}

int rst_mem_restore(struct rst_ctx *c, struct rst_task *t)
{
	struct vpiece vd[VDSO_PIECES];
	size_t nvd = 0;
	int r;

	r = drop_rseq(c, t->host_pid);
	if (r < 0)
		return r;

	r = read_vdso_block(t->host_pid, vd, ARRAY_SIZE(vd), &nvd);
	if (r < 0)
		return r;
	r = unmap_all(c, t->host_pid, vd, nvd);
	if (r < 0)
		return err_wrap(r, "clearing the address space");
	r = place_vdso(c, t, vd, nvd);
	if (r < 0)
		return err_wrap(r, "placing the vDSO");
	r = map_vmas(c, t);
	if (r < 0)
		return r;
	r = rst_pages_restore(c, t);
	if (r < 0)
		return err_wrap(r, "writing pages");
	r = lazy_rst_task(c, t);
	if (r < 0)
		return err_wrap(r, "lazy memory");
	r = set_mm(c, t);
	if (r < 0)
		return err_wrap(r, "setting mm fields");
	return 0;
}
