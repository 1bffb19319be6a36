// SPDX-License-Identifier: GPL-2.0-or-later
/* cr/pages.c on a live child: which pages are saved (written file-private
 * pages only, no shared-zero pages, shmem pages), their contents, and the
 * lazy variant (an index of runs, no data, but for the page under the
 * stack pointer). Needs root (/proc/PID/mem, PAGEMAP_SCAN and ptrace of
 * another process). */
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/uapi-compat.h"
#include "cr/dump-internal.h"
#include "cr/image.h"
#include "cr/pages.h"
#include "cr/vma.h"
#include "tap.h"

#include "pagemap.pb-c.h"

#define PG 4096UL

struct shared {
	volatile int ready;
	volatile uintptr_t file_map, zero_map, anon_map, shm_map, zeroed_map;
};

static struct shared *sh;
static char tmpdir[64];

static void child(const char *path)
{
	int fd = open(path, O_RDONLY);
	/* 4 file pages, private; only page 1 written */
	char *f = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	volatile char sink = f[0] + f[2 * PG] + f[3 * PG];
	f[PG + 5] = 'W';
	/* 4 anonymous pages, only read: the shared zero page */
	char *z = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 4; i++)
		sink += z[i * PG];
	/* 4 anonymous pages, pages 0 and 2 written */
	char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(a, 'A', PG);
	memset(a + 2 * PG, 'B', PG);
	/* shared anonymous, 1 page written */
	char *s = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(s, 'S', PG);
	/* 2 anonymous pages: one written then cleared, one written */
	char *y = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(y, 'x', PG);
	memset(y, 0, PG);
	memset(y + PG, 'Y', PG);
	sh->zeroed_map = (uintptr_t)y;
	(void)sink;
	sh->file_map = (uintptr_t)f;
	sh->zero_map = (uintptr_t)z;
	sh->anon_map = (uintptr_t)a;
	sh->shm_map = (uintptr_t)s;
	sh->ready = 1;
	for (;;)
		pause();
}

/* Pages of [start, start+len) listed in pagemap-<pid>.img, as a bitmask. */
struct run {
	uint64_t vaddr, nr, offset;
	bool lazy, zero;
};

static size_t load_runs(int dfd, pid_t pid, struct run *runs, size_t max)
{
	struct cr_img *img;
	PagemapHead *h = NULL;
	PagemapEntry *e;
	size_t n = 0;
	if (img_open(dfd, CR_IMG_PAGEMAP, pid, O_RDONLY, &img) < 0)
		return 0;
	img_read_msg(img, &pagemap_head__descriptor, (ProtobufCMessage **)&h);
	if (h)
		pagemap_head__free_unpacked(h, NULL);
	while (n < max && img_read_msg(img, &pagemap_entry__descriptor, (ProtobufCMessage **)&e) == 0 && e) {
		runs[n++] = (struct run){ e->vaddr, e->nr_pages, e->offset, e->has_lazy && e->lazy,
					  e->has_zero && e->zero };
		pagemap_entry__free_unpacked(e, NULL);
	}
	img_close(img);
	return n;
}

/* Pages of [start, start + pages) in runs with data (zero: in zero runs). */
static unsigned mask_of_kind(const struct run *runs, size_t n, uint64_t start, int pages, bool zero)
{
	unsigned m = 0;
	for (size_t i = 0; i < n; i++)
		for (uint64_t k = 0; k < runs[i].nr; k++) {
			uint64_t a = runs[i].vaddr + k * PG;
			if (a >= start && a < start + pages * PG && runs[i].zero == zero)
				m |= 1u << ((a - start) / PG);
		}
	return m;
}

static unsigned mask_of(const struct run *runs, size_t n, uint64_t start, int pages)
{
	return mask_of_kind(runs, n, start, pages, false);
}

static int byte_at(int dfd, pid_t pid, const struct run *runs, size_t n, uint64_t addr)
{
	struct cr_img *img;
	uint8_t b = 0;
	for (size_t i = 0; i < n; i++)
		if (addr >= runs[i].vaddr && addr < runs[i].vaddr + runs[i].nr * PG) {
			if (img_open(dfd, CR_IMG_PAGES, pid, O_RDONLY, &img) < 0)
				return -1;
			pread(img_fd(img), &b, 1, img_data_offset(img) + runs[i].offset + (addr - runs[i].vaddr));
			img_close(img);
			return b;
		}
	return -1;
}

/* seen: the stack pointer and rseq area as the dump's core step notes them */
static int dump_pages(pid_t pid, const char *name, bool lazy, const struct dthread *seen, int *ret_dfd)
{
	char dir[128];
	struct cr_dump_opts o = { .pid = pid, .lazy_pages = lazy };
	struct dthread th = { .tid = pid, .ns_tid = pid };
	if (seen) {
		th.sp = seen->sp;
		th.rseq = seen->rseq;
		th.rseq_size = seen->rseq_size;
	}
	struct dtask t = { .pid = pid, .ns_pid = pid, .threads = &th, .n_threads = 1 };
	MmEntry mm = MM_ENTRY__INIT;

	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	mkdir(dir, 0700);
	struct dump_ctx ctx = { .o = &o, .img_dirfd = open(dir, O_RDONLY | O_DIRECTORY) };
	*ret_dfd = ctx.img_dirfd;
	int r = vma_parse_smaps(pid, &mm.vmas, &mm.n_vmas);
	if (r >= 0)
		r = pages_dump(&ctx, &t, &mm);
	for (size_t i = 0; i < mm.n_vmas; i++)
		vma_entry__free_unpacked(mm.vmas[i], NULL);
	free(mm.vmas);
	if (r < 0)
		printf("#   %s\n", err_msg());
	return r;
}

int main(void)
{
	char path[128];
	struct run runs[256];
	_cleanup_close_ int dfd = -1, dfd2 = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/skua-test-cr-dump-pages-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	{
		_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT, 0600);
		char page[PG];
		for (int i = 0; i < 4; i++) {
			memset(page, 'a' + i, PG);
			if (write(fd, page, PG) != PG)
				return 1;
		}
	}
	sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid = fork();
	if (pid == 0)
		child(path);
	for (int i = 0; i < 5000 && !sh->ready; i++)
		usleep(1000);

	is_int(dump_pages(pid, "eager", false, NULL, &dfd), 0, "pages dumped");
	size_t n = load_runs(dfd, pid, runs, 256);
	is_int(mask_of(runs, n, sh->file_map, 4), 0x2, "file private: only the written page");
	is_int(byte_at(dfd, pid, runs, n, sh->file_map + PG + 5), 'W', "with the written byte");
	is_int(byte_at(dfd, pid, runs, n, sh->file_map + PG + 6), 'b', "and the file's others");
	is_int(mask_of(runs, n, sh->zero_map, 4), 0, "read-only anonymous pages: no data");
	is_int(mask_of_kind(runs, n, sh->zeroed_map, 2, true), 0x1, "a cleared anonymous page: a zero run");
	is_int(mask_of(runs, n, sh->zeroed_map, 2), 0x2, "its written neighbour: data");
	is_int(byte_at(dfd, pid, runs, n, sh->zeroed_map + PG), 'Y', "with its content");
	is_int(mask_of(runs, n, sh->anon_map, 4), 0x5, "anonymous: the two written pages");
	is_int(byte_at(dfd, pid, runs, n, sh->anon_map + 2 * PG + 100), 'B', "with their contents");
	is_int(mask_of(runs, n, sh->shm_map, 2), 0x1, "shared anonymous: the written page");
	is_int(byte_at(dfd, pid, runs, n, sh->shm_map + 7), 'S', "with its content");
	bool offsets = true;
	uint64_t next = 0;
	for (size_t i = 0; i < n; i++) {
		if (runs[i].zero)
			continue;
		offsets &= runs[i].offset == next;
		next += runs[i].nr * PG;
	}
	ok(offsets, "runs are stored back to back, in order");

	/* a lazy dump keeps the pages at the stack pointer and the rseq area
	 * that the core step saw: read here the same way, the child stopped */
	struct user_regs_struct regs = { 0 };
	struct iovec iov = { .iov_base = &regs, .iov_len = sizeof(regs) };
	int wst;
	ok(ptrace(PTRACE_SEIZE, pid, 0, 0) == 0 && ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0 &&
	   waitpid(pid, &wst, __WALL) == pid && ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov) == 0,
	   "the child stopped under ptrace");
	struct skua_ptrace_rseq_configuration rs = { 0 };
	ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, sizeof(rs), &rs);
	struct dthread seen = { .sp = regs.rsp, .rseq = rs.rseq_abi_pointer, .rseq_size = rs.rseq_abi_size };
	is_int(dump_pages(pid, "lazy", true, &seen, &dfd2), 0, "lazy pages dumped");
	ptrace(PTRACE_DETACH, pid, 0, 0);
	uint64_t eager_pages = 0, lazy_pages = 0;
	for (size_t i = 0; i < n; i++)
		eager_pages += runs[i].nr;
	size_t n2 = load_runs(dfd2, pid, runs, 256);
	/* only anonymous private memory (restore puts it under userfaultfd) is
	 * left to the page server; file-private and shared pages keep their data */
	bool anon_lazy = n2 > 0, others_eager = true;
	uint64_t data_pages = 0;
	for (size_t i = 0; i < n2; i++) {
		bool anon = runs[i].vaddr >= sh->anon_map && runs[i].vaddr < sh->anon_map + 4 * PG;
		bool other = (runs[i].vaddr >= sh->file_map && runs[i].vaddr < sh->file_map + 4 * PG) ||
			     (runs[i].vaddr >= sh->shm_map && runs[i].vaddr < sh->shm_map + 2 * PG);
		if (anon)
			anon_lazy &= runs[i].lazy;
		if (other)
			others_eager &= !runs[i].lazy && !runs[i].zero;
		lazy_pages += runs[i].nr;
		if (!runs[i].lazy && !runs[i].zero)
			data_pages += runs[i].nr;
	}
	ok(lazy_pages == eager_pages, "lazy: the same pages listed");
	uint64_t sp = regs.rsp & ~(PG - 1), rseq = rs.rseq_abi_pointer & ~(PG - 1);
	int sp_kind = -1, rseq_kind = -1; /* 0 data, 1 zero, 2 lazy */
	for (size_t i = 0; i < n2; i++) {
		int kind = runs[i].lazy ? 2 : runs[i].zero;
		if (sp >= runs[i].vaddr && sp < runs[i].vaddr + runs[i].nr * PG)
			sp_kind = kind;
		if (rseq >= runs[i].vaddr && rseq < runs[i].vaddr + runs[i].nr * PG)
			rseq_kind = kind;
	}
	ok(sp && sp_kind == 0, "lazy: the page under the stack pointer (0x%llx) carries its data",
	   (unsigned long long)sp);
	/* glibc registers rseq; restore's registration writes that page */
	ok(rseq && (rseq_kind == 0 || rseq_kind == 1), "lazy: the rseq area's page (0x%llx) is in the images, not lazy",
	   (unsigned long long)rseq);
	ok(anon_lazy && mask_of(runs, n2, sh->anon_map, 4) != 0, "lazy: anonymous runs marked lazy");
	ok(others_eager, "lazy: file-private and shared runs carry their data");
	is_int(byte_at(dfd2, pid, runs, n2, sh->shm_map + 7), 'S', "lazy: the shared page's content");
	struct stat st;
	char pages[160];
	snprintf(pages, sizeof(pages), "%s/lazy/pages-%d.img", tmpdir, pid);
	ok(stat(pages, &st) == 0 && (uint64_t)st.st_size < (data_pages + 1) * PG,
	   "lazy: pages-%d.img holds only the eager runs' data", pid);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
