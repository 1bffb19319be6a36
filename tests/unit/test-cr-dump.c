// SPDX-License-Identifier: GPL-2.0-or-later
/* cr_dump() on a forked child: the images describe it (pids, registers,
 * VMAs, page contents, files), a refused dump leaves it running untouched,
 * and a plain dump kills it. Needs root (ptrace, pidfd_getfd, /proc/PID/mem). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/cr.h"
#include "cr/image.h"
#include "child-sync.h"
#include "tap.h"

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

#define BUF_LEN (256 * 1024)
#define FILE_POS 1234
#define PIPE_DATA "hello pipe"

struct shared {
	volatile unsigned long counter;
	volatile int ready;
	volatile uintptr_t buf_addr;
};

static struct shared *sh;
static char tmpdir[64], regpath[128];
static int pfd[2];

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3 + (i >> 12));
}

static void spin(void)
{
	sh->ready = 1;
	for (;;)
		sh->counter++;
}

static void child_basic(void)
{
	uint8_t *buf = malloc(BUF_LEN);
	for (size_t i = 0; i < BUF_LEN; i++)
		buf[i] = pattern(i);
	int fd = open(regpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char block[4096] = { 0 };
	if (fd < 0 || write(fd, block, sizeof(block)) != sizeof(block))
		_exit(2);
	lseek(fd, FILE_POS, SEEK_SET);
	if (write(pfd[1], PIPE_DATA, strlen(PIPE_DATA)) != (ssize_t)strlen(PIPE_DATA))
		_exit(2);
	sh->buf_addr = (uintptr_t)buf;
	spin();
}

static void child_inotify(void)
{
	if (inotify_init1(0) < 0)
		_exit(2);
	spin();
}

static pid_t start(void (*fn)(void))
{
	memset((void *)sh, 0, sizeof(*sh));
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		_exit(0);
	}
	child_wait_ready(&sh->ready);
	return pid;
}

static bool advancing(void)
{
	return child_advancing(&sh->counter);
}

static int tracer_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			return atoi(line + 10);
	return -1;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* The executable mapping of this program (the child runs the same text). */
static bool in_own_text(uint64_t ip)
{
	char exe[4096], line[4600], path[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	_cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char perms[8];
		path[0] = '\0';
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %4095s", &s, &e, perms, path) >= 3 &&
		    perms[2] == 'x' && streq(path, exe) && ip >= s && ip < e)
			return true;
	}
	return false;
}

static int dump(pid_t pid, const char *dir, bool leave)
{
	struct cr_dump_opts o = { .pid = pid, .image_dir = dir, .leave_running = leave };
	err_clear();
	return cr_dump(&o);
}

static void check_pstree(int dfd, pid_t pid)
{
	struct cr_img *img;
	PstreeEntry *e = NULL;
	if (!ok(img_open(dfd, CR_IMG_PSTREE, 0, O_RDONLY, &img) == 0, "pstree.img opens"))
		return;
	img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&e);
	if (ok(e != NULL, "pstree has an entry")) {
		is_int(e->pid, pid, "pstree pid is the child's");
		is_int(e->n_threads, 1, "one thread");
		is_int(e->threads[0], pid, "main thread tid is the pid");
		is_int(e->ppid, 0, "the root has ppid 0");
		pstree_entry__free_unpacked(e, NULL);
	}
	e = NULL;
	img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&e);
	ok(e == NULL, "only one process");
	img_close(img);
}

static void check_core(int dfd, pid_t pid, uint64_t *ret_sp)
{
	TaskCoreEntry *c = NULL;
	if (!ok(img_read_one(dfd, CR_IMG_CORE, pid, &task_core_entry__descriptor,
			     (ProtobufCMessage **)&c) == 0, "core-%d.img reads", pid))
		return;
	is_int(c->pid, pid, "core pid");
	is_int(c->n_threads, 1, "core has one thread");
	ThreadCoreEntry *t = c->threads[0];
	ok(in_own_text(t->regs->ip), "ip 0x%llx is in the child's text", (unsigned long long)t->regs->ip);
	/* the injection gadget poked at ip is gone: the child's text is ours */
	uint8_t code[16] = { 0 };
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	_cleanup_close_ int mem = open(path, O_RDONLY);
	ok(pread(mem, code, sizeof(code), t->regs->ip) == sizeof(code) &&
	   !memcmp(code, (void *)(uintptr_t)t->regs->ip, sizeof(code)), "the code at ip is untouched");
	is_int(t->restart_kind, 0, "not stopped in a syscall");
	ok(t->xstate.len >= 576, "xstate recorded (%zu bytes)", t->xstate.len);
	is_int(c->creds->uid, getuid(), "uid");
	is_int(c->exit_signal, SIGCHLD, "exit signal SIGCHLD");
	ok(c->n_rlimits == 16, "16 rlimits");
	ok(c->cwd && c->cwd[0] == '/', "cwd recorded");
	*ret_sp = t->regs->sp;
	task_core_entry__free_unpacked(c, NULL);
}

static const VmaEntry *vma_at(const MmEntry *mm, uint64_t addr)
{
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (addr >= mm->vmas[i]->start && addr < mm->vmas[i]->end)
			return mm->vmas[i];
	return NULL;
}

static void check_mm(int dfd, pid_t pid, uint64_t sp)
{
	MmEntry *mm = NULL;
	if (!ok(img_read_one(dfd, CR_IMG_MM, pid, &mm_entry__descriptor,
			     (ProtobufCMessage **)&mm) == 0, "mm-%d.img reads", pid))
		return;
	const VmaEntry *st = vma_at(mm, sp);
	ok(st && st->kind == VMA_KIND__VMA_STACK, "the stack pointer is in a stack VMA");
	const VmaEntry *b = vma_at(mm, sh->buf_addr);
	ok(b && b->kind == VMA_KIND__VMA_ANON_PRIVATE && b->end >= sh->buf_addr + BUF_LEN,
	   "the malloc'd buffer is in an anonymous private VMA");
	ok(mm->has_vdso_start && mm->vdso_text > mm->vdso_start, "vDSO block recorded");
	ok(mm->mm_brk >= mm->mm_start_brk && mm->mm_start_brk, "brk recorded");
	ok(mm->n_auxv > 4, "auxv recorded");
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	is_str(mm->exe_file, exe, "exe");
	mm_entry__free_unpacked(mm, NULL);
}

/* Every page of the buffer is in pages-<pid>.img with its content. */
static void check_pages(int dfd, pid_t pid)
{
	struct cr_img *map, *pages;
	PagemapHead *head = NULL;
	PagemapEntry *e;
	size_t found = 0, good = 0;
	uint8_t page[4096];
	uintptr_t buf = sh->buf_addr;

	if (!ok(img_open(dfd, CR_IMG_PAGEMAP, pid, O_RDONLY, &map) == 0, "pagemap opens") ||
	    !ok(img_open(dfd, CR_IMG_PAGES, pid, O_RDONLY, &pages) == 0, "pages opens"))
		return;
	img_read_msg(map, &pagemap_head__descriptor, (ProtobufCMessage **)&head);
	ok(head && head->pages_id == (uint32_t)pid, "pagemap head names pages-%d", pid);
	if (head)
		pagemap_head__free_unpacked(head, NULL);
	while (img_read_msg(map, &pagemap_entry__descriptor, (ProtobufCMessage **)&e) == 0 && e) {
		for (uint64_t a = e->vaddr; a < e->vaddr + e->nr_pages * 4096ULL; a += 4096) {
			if (a < (buf & ~4095UL) || a >= buf + BUF_LEN)
				continue;
			found++;
			off_t at = img_data_offset(pages) + e->offset + (a - e->vaddr);
			if (pread(img_fd(pages), page, sizeof(page), at) != sizeof(page))
				continue;
			bool same = true;
			for (size_t i = 0; i < 4096 && same; i++) {
				uint64_t va = a + i;
				if (va >= buf && va < buf + BUF_LEN)
					same = page[i] == pattern(va - buf);
			}
			good += same;
		}
		pagemap_entry__free_unpacked(e, NULL);
	}
	ok(found >= BUF_LEN / 4096, "the buffer's pages are in the pagemap (%zu)", found);
	is_int(good, found, "their contents match");
	img_close(map);
	img_close(pages);
}

static void check_files(int dfd, pid_t pid)
{
	struct cr_img *img;
	FileEntry *e;
	uint32_t pipe_r = 0, pipe_w = 0, reg = 0;

	if (!ok(img_open(dfd, CR_IMG_FILES, 0, O_RDONLY, &img) == 0, "files.img opens"))
		return;
	while (img_read_msg(img, &file_entry__descriptor, (ProtobufCMessage **)&e) == 0 && e) {
		if (e->kind == FILE_KIND__FILE_PIPE && !e->pipe->write_end && e->pipe->has_data &&
		    e->pipe->data.len == strlen(PIPE_DATA) &&
		    !memcmp(e->pipe->data.data, PIPE_DATA, strlen(PIPE_DATA)))
			pipe_r = e->id;
		if (e->kind == FILE_KIND__FILE_PIPE && e->pipe->write_end)
			pipe_w = e->id;
		if (e->kind == FILE_KIND__FILE_REG && streq(e->reg->path, regpath) &&
		    e->reg->pos == FILE_POS)
			reg = e->id;
		file_entry__free_unpacked(e, NULL);
	}
	img_close(img);
	ok(pipe_r, "files.img has the pipe's read end with its data");
	ok(pipe_w, "files.img has the pipe's write end");
	ok(reg, "files.img has the regular file at offset %d", FILE_POS);

	FdEntry *fe;
	bool fd_r = false, fd_w = false;
	if (!ok(img_open(dfd, CR_IMG_FDINFO, pid, O_RDONLY, &img) == 0, "fdinfo opens"))
		return;
	while (img_read_msg(img, &fd_entry__descriptor, (ProtobufCMessage **)&fe) == 0 && fe) {
		fd_r |= fe->fd == (uint32_t)pfd[0] && fe->file_id == pipe_r;
		fd_w |= fe->fd == (uint32_t)pfd[1] && fe->file_id == pipe_w;
		fd_entry__free_unpacked(fe, NULL);
	}
	img_close(img);
	ok(fd_r && fd_w, "fdinfo maps the pipe's fds to their files");
}

static void test_basic(void)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/basic", tmpdir);
	pid_t pid = start(child_basic);
	ok(sh->ready && advancing(), "child runs");
	int r = dump(pid, dir, true);
	if (!is_int(r, 0, "dump --leave-running succeeds"))
		printf("#   %s\n", err_msg());
	ok(advancing(), "child still runs after the dump");
	is_int(tracer_of(pid), 0, "child is no longer traced");

	char got[32] = { 0 };
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	ssize_t n = read(pfd[0], got, sizeof(got) - 1);
	ok(n == (ssize_t)strlen(PIPE_DATA) && streq(got, PIPE_DATA), "the pipe's data is still there");

	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	uint64_t sp = 0;
	check_pstree(dfd, pid);
	check_core(dfd, pid, &sp);
	check_mm(dfd, pid, sp);
	check_pages(dfd, pid);
	check_files(dfd, pid);
	InventoryEntry *inv = NULL;
	if (ok(img_read_one(dfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor,
			   (ProtobufCMessage **)&inv) == 0, "inventory reads")) {
		is_int(inv->root_pid, pid, "inventory root pid");
		ok(!inv->own_pid_ns, "not its own pid namespace");
		ok(inv->has_xcr0 && inv->xcr0 & 3, "xcr0 recorded (0x%llx)", (unsigned long long)inv->xcr0);
		ok(inv->has_vdso_hash && inv->vdso_hash.len == 32, "vDSO digest recorded");
		inventory_entry__free_unpacked(inv, NULL);
	}
	char log[256];
	snprintf(log, sizeof(log), "%s/dump.log", dir);
	ok(access(log, F_OK) == 0, "dump.log written");
	stop_child(pid);
}

static void test_refused(void)
{
	char dir[128], want[64];
	snprintf(dir, sizeof(dir), "%s/inotify", tmpdir);
	pid_t pid = start(child_inotify);
	int r = dump(pid, dir, true);
	ok(r < 0, "a child with an inotify fd is refused");
	snprintf(want, sizeof(want), "of pid %d is an inotify instance; not supported", pid);
	if (!ok(strstr(err_msg(), want) != NULL, "the message names the fd"))
		printf("#   got: %s\n", err_msg());
	ok(advancing(), "the child runs on after the refusal");
	is_int(tracer_of(pid), 0, "and is not traced");
	stop_child(pid);
}

static void test_kill(void)
{
	char dir[128];
	int status = 0;
	snprintf(dir, sizeof(dir), "%s/kill", tmpdir);
	pid_t pid = start(spin);
	if (!is_int(dump(pid, dir, false), 0, "dump without --leave-running succeeds")) {
		printf("#   %s\n", err_msg());
		kill(pid, SIGKILL);
	}
	/* the dumper, as the tracer, may have collected its exit already */
	pid_t w = waitpid(pid, &status, 0);
	ok((w == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
	   (w < 0 && errno == ECHILD && kill(pid, 0) < 0), "and kills the child");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/skua-test-cr-dump-XXXXXX");
	if (!mkdtemp(tmpdir) || pipe(pfd) < 0)
		return 1;
	snprintf(regpath, sizeof(regpath), "%s/regular", tmpdir);
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	test_basic();
	test_refused();
	test_kill();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
