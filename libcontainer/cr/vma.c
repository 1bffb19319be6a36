// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mm-<pid>.img: the VMAs (from /proc/PID/smaps, whose VmFlags tell what the
 * maps line does not: grows-down, madvise hints, PFN maps), the mm fields
 * (/proc/PID/stat, brk from an injected brk(0)), exe, auxv and where the
 * vDSO block sits. The pages themselves are pages.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/sha256.h"
#include "cr/dump-internal.h"
#include "cr/image.h"
#include "cr/mm-cache.h"
#include "cr/pages.h"
#include "cr/proc-parse.h"
#include "cr/ptrace.h"
#include "cr/vma.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && streq(s + a - b, suffix);
}

static bool has_flag(const char *vmflags, const char *f)
{
	for (const char *p = vmflags; p && *p; p += 3)
		if (p[0] == f[0] && p[1] == f[1])
			return true;
	return false;
}

static int classify(VmaEntry *v, const char *perms, const char *path, const char *vmflags, pid_t pid)
{
	bool shared = perms[3] == 's';

	v->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	v->flags = shared ? MAP_SHARED : MAP_PRIVATE;
	if (has_flag(vmflags, "gd"))
		v->flags |= MAP_GROWSDOWN;
	/* a reservation larger than memory (a sanitizer's shadow) maps again
	 * only so under the kernel's heuristic overcommit */
	if (has_flag(vmflags, "nr"))
		v->flags |= MAP_NORESERVE;
	if (streq(path, "[vsyscall]"))
		v->kind = VMA_KIND__VMA_VSYSCALL;
	else if (streq(path, "[vvar]") || streq(path, "[vvar_vclock]"))
		v->kind = VMA_KIND__VMA_VVAR;
	else if (streq(path, "[vdso]"))
		v->kind = VMA_KIND__VMA_VDSO;
	else if (has_flag(vmflags, "io") || has_flag(vmflags, "pf"))
		return err_set(ENOTSUP, "pid %d maps device memory at 0x%llx (%s); not supported", pid,
			       (unsigned long long)v->start, path[0] ? path : "anonymous");
	else if (!v->ino || (streq(path, "/dev/zero") && !shared)) {
		if (shared)
			v->kind = VMA_KIND__VMA_ANON_SHARED;
		else if (streq(path, "[heap]"))
			v->kind = VMA_KIND__VMA_HEAP;
		else if (streq(path, "[stack]") || (v->flags & MAP_GROWSDOWN))
			v->kind = VMA_KIND__VMA_STACK;
		else
			v->kind = VMA_KIND__VMA_ANON_PRIVATE;
		v->flags |= MAP_ANONYMOUS;
	} else if (shared && (streq(path, "/dev/zero (deleted)") || !strncmp(path, "/SYSV", 5))) {
		v->kind = VMA_KIND__VMA_ANON_SHARED;
		v->flags |= MAP_ANONYMOUS;
		v->has_shmid = true;
		v->shmid = v->ino;
	} else if (ends_with(path, " (deleted)")) {
		return err_set(ENOTSUP, "pid %d maps a deleted file %s at 0x%llx; not supported", pid,
			       path, (unsigned long long)v->start);
	} else {
		v->kind = shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
		v->path = strdup(path);
		if (!v->path)
			return err_set(ENOMEM, "out of memory");
	}
	if (path[0] == '[' || (path[0] && v->flags & MAP_ANONYMOUS)) {
		v->name = strdup(path);
		if (!v->name)
			return err_set(ENOMEM, "out of memory");
	}
	return 0;
}

static uint32_t madv_bits(const char *vmflags)
{
	static const struct {
		const char *flag;
		int advice;
	} map[] = {
		{ "dc", MADV_DONTFORK }, { "dd", MADV_DONTDUMP }, { "hg", MADV_HUGEPAGE },
		{ "nh", MADV_NOHUGEPAGE }, { "wf", MADV_WIPEONFORK }, { "mg", MADV_MERGEABLE },
	};
	uint32_t bits = 0;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (has_flag(vmflags, map[i].flag))
			bits |= 1u << map[i].advice;
	return bits;
}

struct smaps_hdr {
	unsigned long long start, end, pgoff, ino;
	unsigned int maj, min;
	char perms[5];
	char path[4096];
};

/* Only a full match may touch *h: "FilePmdMapped:" parses as hex 0xF. */
static bool parse_header(const char *line, struct smaps_hdr *h)
{
	struct smaps_hdr t;
	int n = 0;
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &t.start, &t.end, t.perms, &t.pgoff,
		   &t.maj, &t.min, &t.ino, &n) < 7 || !n)
		return false;
	h->start = t.start;
	h->end = t.end;
	h->pgoff = t.pgoff;
	h->maj = t.maj;
	h->min = t.min;
	h->ino = t.ino;
	memcpy(h->perms, t.perms, sizeof(h->perms));
	snprintf(h->path, sizeof(h->path), "%s", line + n);
	return true;
}

static int finish_vma(pid_t pid, struct smaps_hdr *h, const char *vmflags, VmaEntry **ret)
{
	VmaEntry *v = malloc(sizeof(*v));
	if (!v)
		return err_set(ENOMEM, "out of memory");
	vma_entry__init(v);
	v->start = h->start;
	v->end = h->end;
	v->has_pgoff = true;
	v->pgoff = h->pgoff;
	v->has_dev = true;
	v->dev = makedev(h->maj, h->min);
	v->has_ino = true;
	v->ino = h->ino;
	int r = classify(v, h->perms, h->path, vmflags, pid);
	if (r < 0) {
		protobuf_c_message_free_unpacked(&v->base, NULL);
		return r;
	}
	uint32_t madv = madv_bits(vmflags);
	if (madv) {
		v->has_madv = true;
		v->madv = madv;
	}
	*ret = v;
	return 0;
}

int vma_parse_smaps_text(pid_t pid, char *text, VmaEntry ***ret, size_t *ret_n)
{
	VmaEntry **v = NULL;
	size_t n = 0, cap = 0;
	struct smaps_hdr h;
	bool open_vma = false;
	int r = 0;

	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "VmFlags:", 8)) {
			if (!open_vma)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				VmaEntry **nv = realloc(v, cap * sizeof(*nv));
				if (!nv) {
					r = err_set(ENOMEM, "out of memory");
					break;
				}
				v = nv;
			}
			const char *flags = line + 8;
			while (*flags == ' ')
				flags++;
			r = finish_vma(pid, &h, flags, &v[n]);
			if (r < 0)
				break;
			n++;
			open_vma = false;
		} else if (parse_header(line, &h)) {
			open_vma = true;
		}
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			protobuf_c_message_free_unpacked(&v[i]->base, NULL);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int vma_read_maps(pid_t pid, const char *which, char **ret)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, which);
	int r = read_file(path, ret, NULL, 256u << 20);
	return r < 0 ? err_sys(-r, "reading %s", path) : 0;
}

int vma_parse_smaps(pid_t pid, VmaEntry ***ret, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	int r = vma_read_maps(pid, "smaps", &text);

	return r < 0 ? r : vma_parse_smaps_text(pid, text, ret, ret_n);
}

/* The next line of smaps (or maps) text that says what a mapping is rather
 * than what it holds: its maps-style header and, with flags, its VmFlags.
 * A statistics line's first word ends with ':' ("Rss:"); a header's is the
 * address range. NULL at the end. */
static const char *id_line(const char **p, bool flags, size_t *len)
{
	while (**p) {
		const char *line = *p, *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		size_t w = strcspn(line, " \n");
		*p = line + n + (nl ? 1 : 0);
		if ((w && line[w - 1] != ':') || (flags && !strncmp(line, "VmFlags:", 8))) {
			*len = n;
			return line;
		}
	}
	return NULL;
}

bool vma_same_mappings(const char *a, const char *b, bool flags)
{
	for (;;) {
		size_t la = 0, lb = 0;
		const char *x = id_line(&a, flags, &la), *y = id_line(&b, flags, &lb);
		if (!x || !y)
			return !x && !y;
		if (la != lb || memcmp(x, y, la))
			return false;
	}
}

void vma_vdso_digest(const void *text, size_t len, uint8_t out[VDSO_DIGEST_LEN])
{
	sha256(text, len, out);
}

/* The vDSO block is [vvar][vvar_vclock][vdso], contiguous: its start is the
 * lowest address of the run of VVAR/VDSO VMAs that ends with the vDSO. */
static int find_vdso(struct dump_ctx *ctx, pid_t pid, MmEntry *mm)
{
	for (size_t i = 0; i < mm->n_vmas; i++) {
		VmaEntry *v = mm->vmas[i];
		if (v->kind != VMA_KIND__VMA_VDSO)
			continue;
		uint64_t start = v->start;
		for (size_t j = i; j-- > 0;) {
			VmaEntry *p = mm->vmas[j];
			if (p->kind != VMA_KIND__VMA_VVAR || p->end != start)
				break;
			start = p->start;
		}
		mm->has_vdso_start = mm->has_vdso_text = true;
		mm->vdso_start = start;
		mm->vdso_text = v->start;
		if (ctx->have_vdso)
			return 0;
		size_t len = v->end - v->start;
		_cleanup_free_ void *text = malloc(len);
		if (!text)
			return err_set(ENOMEM, "out of memory");
		int r = ptrace_peek(pid, v->start, text, len);
		if (r < 0)
			return err_wrap(r, "reading the vDSO");
		vma_vdso_digest(text, len, ctx->vdso_digest);
		ctx->vdso_size = len;
		ctx->have_vdso = true;
		return 0;
	}
	return 0;
}

static int read_auxv(pid_t pid, MmEntry *mm)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	int r = read_file(path, &buf, &len, 0);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	mm->n_auxv = len / sizeof(uint64_t);
	mm->auxv = malloc(len + 1);
	if (!mm->auxv)
		return err_set(ENOMEM, "out of memory");
	memcpy(mm->auxv, buf, mm->n_auxv * sizeof(uint64_t));
	return 0;
}

static int mm_fields(const struct dtask *t, MmEntry *mm)
{
	unsigned long long st[PROC_STAT_FIELDS];
	char path[64], exe[4096];
	int r;

	if ((r = proc_parse_stat(t->pid, st)) < 0)
		return r;
	mm->mm_start_code = st[26];
	mm->mm_end_code = st[27];
	mm->mm_start_stack = st[28];
	mm->mm_start_data = st[45];
	mm->mm_end_data = st[46];
	mm->mm_start_brk = st[47];
	mm->mm_arg_start = st[48];
	mm->mm_arg_end = st[49];
	mm->mm_env_start = st[50];
	mm->mm_env_end = st[51];

	unsigned long args[6] = { 0 };
	long brk;
	r = inject_syscall_here(t->threads[0].tid, SYS_brk, args, &brk);
	if (r < 0)
		return err_wrap(r, "brk(0)");
	mm->mm_brk = brk;

	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	if ((r = proc_readlink(path, exe, sizeof(exe))) < 0)
		return r;
	if (ends_with(exe, " (deleted)"))
		return err_set(ENOTSUP, "pid %d runs a deleted executable %s; not supported", t->ns_pid, exe);
	mm->exe_file = strdup(exe);
	if (!mm->exe_file)
		return err_set(ENOMEM, "out of memory");
	return read_auxv(t->pid, mm);
}

static int build_mm(struct dump_ctx *ctx, const struct dtask *t, MmEntry *mm)
{
	int r = mm_cache_vmas(ctx->o->mm_cache, t->pid, &mm->vmas, &mm->n_vmas);
	if (r == 0)
		r = vma_parse_smaps(t->pid, &mm->vmas, &mm->n_vmas);
	if (r < 0)
		return r;
	if ((r = mm_fields(t, mm)) < 0)
		return r;
	return find_vdso(ctx, t->pid, mm);
}

int vma_dump_mm(struct dump_ctx *ctx, struct dtask *t)
{
	MmEntry *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return err_set(ENOMEM, "out of memory");
	mm_entry__init(mm);
	int r = build_mm(ctx, t, mm);
	if (r >= 0)
		r = img_write_one(ctx->img_dirfd, CR_IMG_MM, t->ns_pid, &mm->base);
	if (r >= 0) {
		log_info("pid %d: %zu VMAs", t->ns_pid, mm->n_vmas);
		r = pages_dump(ctx, t, mm);
	}
	protobuf_c_message_free_unpacked(&mm->base, NULL);
	return r < 0 ? err_wrap(r, "memory of pid %d", t->ns_pid) : 0;
}
