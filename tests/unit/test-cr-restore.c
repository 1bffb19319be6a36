// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cr_restore() end to end, as root: a child with a known state is dumped
 * (which kills it), restored, and must go on from where it was: its counter
 * keeps rising from the dumped value, its memory pattern is intact, its pid
 * is the dumped one. The child reports through a pipe whose other end the
 * test keeps: at dump that pipe is external, at restore the test hands its
 * own copy of the child's write end back.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/cr.h"
#include "cr/image.h"
#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "tap.h"

#define PATTERN_PAGES 64

struct report {
	uint64_t counter;
	int32_t pid, ppid, sid, pgid;
	int32_t ok;
	int32_t exit_after; /* nonzero: the child exits with 42 after this many more reports */
};

static volatile uint64_t counter;
static unsigned char pattern[PATTERN_PAGES * 4096];
static volatile int reports_left = -1;

static int pattern_ok(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		if (pattern[i] != (unsigned char)(i * 7 + i / 4096))
			return 0;
	return 1;
}

/* A child with no fds but the report pipe (and /dev/null as stdio). */
static void quiet_fds(int keep)
{
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0), dup2(null, 1), dup2(null, 2);
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
}

static void counter_loop(int wfd, int exit_after_reports)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(i * 7 + i / 4096);
	for (;;) {
		counter++;
		if ((counter & 0x3fffff) == 0) {
			struct report r = { counter, getpid(), getppid(), getsid(0), getpgid(0), pattern_ok(), 0 };
			if (write(wfd, &r, sizeof(r)) != sizeof(r))
				_exit(3);
			if (exit_after_reports > 0 && reports_left < 0)
				reports_left = exit_after_reports;
			if (reports_left > 0 && --reports_left == 0)
				_exit(42);
		}
	}
}

static int read_report(int fd, struct report *r, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return read(fd, r, sizeof(*r)) == sizeof(*r) ? 0 : -1;
}

static void drain(int fd)
{
	struct report r;
	while (read_report(fd, &r, 0) == 0)
		;
}

static char *make_dir(void)
{
	char *d = strdup("/tmp/skua-test-restore-XXXXXX");
	return mkdtemp(d);
}

static void rm_rf(const char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd)) {
	}
}

static int pipe_key(int fd, char *buf, size_t len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	snprintf(buf, len, "pipe:[%lu]", (unsigned long)st.st_ino);
	return 0;
}

static int dump(pid_t pid, const char *dir)
{
	struct cr_dump_opts o = { .pid = pid, .image_dir = dir };
	int r = cr_dump(&o);
	if (r < 0) {
		printf("# dump: %s\n", err_msg());
		kill(pid, SIGKILL);
	}
	/* our child: the dump killed it, we reap it */
	waitpid(pid, NULL, 0);
	return r;
}

/* Reap the reaper(s) a detached restore left as our children. */
static void reap_all(void)
{
	while (waitpid(-1, NULL, __WALL) > 0)
		;
}

/* A test's end: the restored root killed and reaped, its report pipe closed,
 * its image directory removed. */
static void end_test(pid_t root, int p[2], char *dir)
{
	if (root > 0)
		kill(root, SIGKILL);
	reap_all();
	close(p[0]), close(p[1]);
	rm_rf(dir);
	free(dir);
}

/* Does pid's VMA at addr carry the VmFlags flag (two letters)? */
static int vma_has_flag(pid_t pid, void *addr, const char *flag)
{
	char path[64], line[512], want[32];
	int in = 0, found = 0;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want)))
			in = 1;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			found = strstr(line, flag) != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_counter(void)
{
	/* a hinted mapping the child inherits: the hint must come back */
	void *hinted = mmap(NULL, 1 << 21, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(hinted, 1 << 21, MADV_HUGEPAGE);
	int p[2];
	struct report before, after;
	char key[64];
	char *dir = make_dir();

	if (pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		quiet_fds(p[1]);
		counter_loop(p[1], 0);
	}
	ok(read_report(p[0], &before, 5000) == 0, "counter child reports");
	pipe_key(p[1], key, sizeof(key));
	is_int(dump(pid, dir), 0, "dump of the counter child");
	drain(p[0]);
	read_report(p[0], &before, 0);

	struct cr_external ext = { .key = key, .fd = p[1] };
	struct cr_restore_opts ro = { .image_dir = dir, .detach = true, .externals = &ext, .n_externals = 1 };
	pid_t root = 0;
	int st = 0;
	int r = cr_restore(&ro, &root, &st);
	if (!is_int(r, 0, "restore of the counter child"))
		printf("# %s\n", err_msg());
	ok(root > 0, "restore returns the root's host pid (%d)", root);
	int got = read_report(p[0], &after, 5000);
	ok(got == 0, "the restored child reports again");
	ok(got == 0 && after.counter > before.counter, "its counter went on (%llu -> %llu)",
	   (unsigned long long)before.counter, (unsigned long long)after.counter);
	ok(got == 0 && after.ok, "its memory pattern is intact");
	is_int(got == 0 ? after.pid : -1, before.pid, "it has its dumped pid in its namespace");
	is_int(root > 0 ? vma_has_flag(root, hinted, " hg") : -1, 1, "a MADV_HUGEPAGE hint comes back");
	munmap(hinted, 1 << 21);
	if (root > 0)
		kill(root, SIGKILL);
	reap_all();
	char log[512];
	snprintf(log, sizeof(log), "%s/restore.log", dir);
	ok(access(log, F_OK) == 0, "restore.log is written");
	snprintf(log, sizeof(log), "%s/stats-restore", dir);
	ok(access(log, F_OK) == 0, "stats-restore is written");
	close(p[0]), close(p[1]);
	rm_rf(dir);
	free(dir);
}

/* Without detach the engine waits and returns the root's exit status. */
static void test_wait_status(void)
{
	int p[2];
	struct report r0;
	char key[64];
	char *dir = make_dir();

	if (pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		quiet_fds(p[1]);
		counter_loop(p[1], 8);
	}
	ok(read_report(p[0], &r0, 5000) == 0, "exiting child reports");
	pipe_key(p[1], key, sizeof(key));
	is_int(dump(pid, dir), 0, "dump of the exiting child");
	struct cr_external ext = { .key = key, .fd = p[1] };
	struct cr_restore_opts ro = { .image_dir = dir, .detach = false, .externals = &ext, .n_externals = 1 };
	pid_t root = 0;
	int st = -1;
	/* the child blocks writing once the pipe is full: keep reading */
	pid_t reader = fork();
	if (reader == 0) {
		struct report r;
		close(p[1]);
		while (read(p[0], &r, sizeof(r)) > 0)
			;
		_exit(0);
	}
	int r = cr_restore(&ro, &root, &st);
	if (!is_int(r, 0, "attached restore"))
		printf("# %s\n", err_msg());
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 42, "the root's exit status comes back (0x%x)", st);
	close(p[0]), close(p[1]);
	reap_all();
	rm_rf(dir);
	free(dir);
}

/* A restore that cannot finish leaves nothing behind and names the pid. */
static void test_failure_cleans_up(void)
{
	int p[2];
	struct report r0;
	char *dir = make_dir();

	if (pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		quiet_fds(p[1]);
		counter_loop(p[1], 0);
	}
	read_report(p[0], &r0, 5000);
	is_int(dump(pid, dir), 0, "dump for the failure test");
	/* no externals: the report pipe cannot be restored */
	struct cr_restore_opts ro = { .image_dir = dir, .detach = true };
	pid_t root = 0;
	int r = cr_restore(&ro, &root, NULL);
	ok(r < 0, "restore without the external pipe fails");
	ok(strstr(err_msg(), "pipe:[") != NULL, "the error names the missing external: %s", err_msg());
	ok(waitpid(-1, NULL, __WALL | WNOHANG) < 0 && errno == ECHILD, "no puppet is left behind");
	char log[512], buf[8192] = "";
	snprintf(log, sizeof(log), "%s/restore.log", dir);
	FILE *f = fopen(log, "r");
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
	}
	ok(strstr(buf, "Error: ") != NULL, "restore.log has the error");
	close(p[0]), close(p[1]);
	rm_rf(dir);
	free(dir);
}

/* Turn child/ into a pre-dump child of parent/: every page run is marked
 * in_parent and child/ holds no page data at all. */
static int make_child_images(const char *dir, pid_t pid)
{
	char cmd[1024], path[512];
	struct cr_img *in, *out;
	PagemapHead *head;
	InventoryEntry *inv;
	int r;

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/child' && cp '%s'/parent/*.img '%s/child/'", dir, dir, dir);
	if (system(cmd))
		return -1;
	snprintf(path, sizeof(path), "%s/parent", dir);
	int pfd = open(path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/child", dir);
	int cfd = open(path, O_RDONLY | O_DIRECTORY);
	if (pfd < 0 || cfd < 0)
		return -1;
	r = img_read_one(pfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor, (ProtobufCMessage **)&inv);
	if (r < 0)
		return r;
	inv->parent_path = "../parent";
	r = img_write_one(cfd, CR_IMG_INVENTORY, 0, &inv->base);
	inv->parent_path = NULL;
	inventory_entry__free_unpacked(inv, NULL);
	if (r < 0 || (r = img_open(pfd, CR_IMG_PAGEMAP, pid, O_RDONLY, &in)) < 0)
		return r;
	if ((r = img_open(cfd, CR_IMG_PAGEMAP, pid, O_WRONLY, &out)) < 0)
		return r;
	r = img_read_msg(in, &pagemap_head__descriptor, (ProtobufCMessage **)&head);
	if (r < 0 || !head)
		return -1;
	img_write_msg(out, &head->base);
	struct cr_img *pages;
	if ((r = img_open(cfd, CR_IMG_PAGES, head->pages_id, O_WRONLY, &pages)) < 0)
		return r;
	img_close(pages);
	pagemap_head__free_unpacked(head, NULL);
	for (;;) {
		PagemapEntry *e;
		r = img_read_msg(in, &pagemap_entry__descriptor, (ProtobufCMessage **)&e);
		if (r < 0 || !e)
			break;
		if (!(e->has_zero && e->zero)) {
			e->has_in_parent = e->in_parent = true;
			e->has_offset = false;
		}
		img_write_msg(out, &e->base);
		pagemap_entry__free_unpacked(e, NULL);
	}
	img_close(in);
	close(pfd), close(cfd);
	return img_close(out) < 0 ? -1 : r;
}

/* Pages found through inventory.parent_path, as after a pre-dump. */
static void test_parent_pages(void)
{
	int p[2];
	struct report before, after;
	char key[64], sub[512];
	char *dir = make_dir();

	if (pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		quiet_fds(p[1]);
		counter_loop(p[1], 0);
	}
	read_report(p[0], &before, 5000);
	pipe_key(p[1], key, sizeof(key));
	snprintf(sub, sizeof(sub), "%s/parent", dir);
	mkdir(sub, 0700);
	is_int(dump(pid, sub), 0, "dump for the parent-pages test");
	drain(p[0]);
	read_report(p[0], &before, 0);
	ok(make_child_images(dir, pid) == 0, "child images with every page in the parent");
	snprintf(sub, sizeof(sub), "%s/child", dir);
	struct cr_external ext = { .key = key, .fd = p[1] };
	struct cr_restore_opts ro = { .image_dir = sub, .detach = true, .externals = &ext, .n_externals = 1 };
	pid_t root = 0;
	int r = cr_restore(&ro, &root, NULL);
	if (!is_int(r, 0, "restore with pages from the parent images"))
		printf("# %s\n", err_msg());
	int got = read_report(p[0], &after, 5000);
	ok(got == 0 && after.counter > before.counter && after.ok,
	   "the counter goes on and the pattern is intact");
	end_test(root, p, dir);
}

/* glibc registers a robust futex list per thread; a fork has none: it must
 * come back from the image (the dump may not record it yet: put it in). */
static void test_robust_list(void)
{
	int p[2];
	struct report r0;
	char key[64];
	char *dir = make_dir();
	void *head = NULL, *head_after = NULL;
	size_t len = 0, len_after = 0;

	if (pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		quiet_fds(p[1]);
		counter_loop(p[1], 0);
	}
	read_report(p[0], &r0, 5000);
	ok(syscall(SYS_get_robust_list, pid, &head, &len) == 0 && head, "the child has a robust list");
	pipe_key(p[1], key, sizeof(key));
	is_int(dump(pid, dir), 0, "dump for the robust-list test");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	TaskCoreEntry *core = NULL;
	if (img_read_one(dfd, CR_IMG_CORE, pid, &task_core_entry__descriptor, (ProtobufCMessage **)&core) == 0) {
		ThreadCoreEntry *tc = core->threads[0];
		if (!tc->has_robust_list) {
			tc->has_robust_list = tc->has_robust_list_len = true;
			tc->robust_list = (uintptr_t)head;
			tc->robust_list_len = len;
			img_write_one(dfd, CR_IMG_CORE, pid, &core->base);
		}
		task_core_entry__free_unpacked(core, NULL);
	}
	close(dfd);
	struct cr_external ext = { .key = key, .fd = p[1] };
	struct cr_restore_opts ro = { .image_dir = dir, .detach = true, .externals = &ext, .n_externals = 1 };
	pid_t root = 0;
	if (!is_int(cr_restore(&ro, &root, NULL), 0, "restore for the robust-list test"))
		printf("# %s\n", err_msg());
	ok(root > 0 && syscall(SYS_get_robust_list, root, &head_after, &len_after) == 0 &&
		   head_after == head && len_after == len,
	   "the restored thread has its robust list back (%p, %p)", head, head_after);
	end_test(root, p, dir);
}

/* getppid() fails with EPERM, everything else is allowed. */
static struct sock_filter no_getppid[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static void filtered_child(int go, int wfd)
{
	struct sock_fprog fp = { .len = sizeof(no_getppid) / sizeof(no_getppid[0]), .filter = no_getppid };
	char b;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		_exit(2);
	for (;;) {
		if (read(go, &b, 1) != 1)
			_exit(0);
		int32_t filtered = syscall(SYS_getppid) < 0 && errno == EPERM;
		if (write(wfd, &filtered, sizeof(filtered)) != sizeof(filtered))
			_exit(3);
	}
}

static int ask_filtered(int go_w, int rfd, int32_t *v)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	if (write(go_w, "g", 1) != 1 || poll(&p, 1, 5000) != 1)
		return -1;
	return read(rfd, v, sizeof(*v)) == sizeof(*v) ? 0 : -1;
}

/* A seccomp filter comes back (the dump may not record it yet: put the
 * program in the image as the dump would). */
static void test_seccomp(void)
{
	int rep[2], go[2];
	char krep[64], kgo[64];
	char *dir = make_dir();
	int32_t v = -1;

	if (pipe(rep) < 0 || pipe(go) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]), close(go[1]);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		for (int fd = 3; fd < 1024; fd++)
			if (fd != rep[1] && fd != go[0])
				close(fd);
		filtered_child(go[0], rep[1]);
	}
	ok(ask_filtered(go[1], rep[0], &v) == 0 && v == 1, "the child's getppid() is filtered");
	pipe_key(rep[1], krep, sizeof(krep));
	pipe_key(go[0], kgo, sizeof(kgo));
	is_int(dump(pid, dir), 0, "dump of the filtered child");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	TaskCoreEntry *core = NULL;
	if (img_read_one(dfd, CR_IMG_CORE, pid, &task_core_entry__descriptor, (ProtobufCMessage **)&core) == 0) {
		if (!core->n_seccomp_filters) {
			ProtobufCBinaryData prog = { sizeof(no_getppid), (uint8_t *)no_getppid };
			core->has_seccomp_mode = true;
			core->seccomp_mode = 2;
			core->n_seccomp_filters = 1;
			core->seccomp_filters = &prog;
			img_write_one(dfd, CR_IMG_CORE, pid, &core->base);
			core->n_seccomp_filters = 0;
			core->seccomp_filters = NULL;
		}
		task_core_entry__free_unpacked(core, NULL);
	}
	close(dfd);
	struct cr_external ext[2] = { { krep, rep[1] }, { kgo, go[0] } };
	struct cr_restore_opts ro = { .image_dir = dir, .detach = true, .externals = ext, .n_externals = 2 };
	pid_t root = 0;
	if (!is_int(cr_restore(&ro, &root, NULL), 0, "restore of the filtered child"))
		printf("# %s\n", err_msg());
	v = -1;
	ok(root > 0 && ask_filtered(go[1], rep[0], &v) == 0 && v == 1,
	   "after restore its getppid() is still filtered");
	char path[64], line[256];
	int mode = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", root);
	FILE *f = root > 0 ? fopen(path, "r") : NULL;
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "Seccomp: %d", &mode);
	if (f)
		fclose(f);
	is_int(mode, 2, "/proc says seccomp mode 2 (filter)");
	if (root > 0)
		kill(root, SIGKILL);
	reap_all();
	close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
	rm_rf(dir);
	free(dir);
}

/* A file the task had mapped is gone at restore: the error names the pid,
 * the mapping and the file, and nothing is left behind. */
static void test_missing_mapped_file(void)
{
	int p[2];
	struct report r0;
	char key[64], path[512];
	char *dir = make_dir();

	snprintf(path, sizeof(path), "%s/mapped", dir);
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 8192) < 0 || pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
			_exit(2);
		quiet_fds(p[1]);
		counter_loop(p[1], 0);
	}
	close(fd);
	read_report(p[0], &r0, 5000);
	pipe_key(p[1], key, sizeof(key));
	is_int(dump(pid, dir), 0, "dump of a child with a mapped file");
	unlink(path);
	struct cr_external ext = { .key = key, .fd = p[1] };
	struct cr_restore_opts ro = { .image_dir = dir, .detach = true, .externals = &ext, .n_externals = 1 };
	pid_t root = 0;
	int r = cr_restore(&ro, &root, NULL);
	ok(r == -ENOENT, "restore fails with ENOENT (%d)", r);
	char want[64];
	snprintf(want, sizeof(want), "restoring pid %d: ", pid);
	ok(strstr(err_msg(), want) && strstr(err_msg(), path) && strstr(err_msg(), "mapping 0x"),
	   "the error names the pid, the mapping and the file: %s", err_msg());
	ok(waitpid(-1, NULL, __WALL | WNOHANG) < 0 && errno == ECHILD, "no puppet is left behind");
	close(p[0]), close(p[1]);
	rm_rf(dir);
	free(dir);
}

/* Whether pid's image of the VMA at addr has MAP_NORESERVE: 1, 0, or -1.
 * With clear, the image loses it, as one written before it was recorded. */
static int image_noreserve(const char *dir, pid_t pid, void *addr, bool clear)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), found = -1;
	MmEntry *mm = NULL;

	if (dfd < 0)
		return -1;
	if (img_read_one(dfd, CR_IMG_MM, pid, &mm_entry__descriptor, (ProtobufCMessage **)&mm) == 0) {
		for (size_t i = 0; i < mm->n_vmas; i++) {
			if (mm->vmas[i]->start != (uint64_t)(uintptr_t)addr)
				continue;
			found = !!(mm->vmas[i]->flags & MAP_NORESERVE);
			mm->vmas[i]->flags &= ~(uint32_t)MAP_NORESERVE;
		}
		if (found >= 0 && clear && img_write_one(dfd, CR_IMG_MM, pid, &mm->base) < 0)
			found = -1;
		protobuf_c_message_free_unpacked(&mm->base, NULL);
	}
	close(dfd);
	return found;
}

/* A MAP_NORESERVE reservation four times memory and swap: the kernel's
 * heuristic overcommit refuses it without the flag. The image records the
 * flag; an image without it is mapped again with it after the refusal. */
static void test_noreserve(void)
{
	struct sysinfo si;
	char key[64], oc[4] = "";
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");

	if (f) {
		if (!fgets(oc, sizeof(oc), f))
			oc[0] = 0;
		fclose(f);
	}
	if (oc[0] != '0' || sysinfo(&si) < 0) {
		printf("ok # SKIP overcommit_memory is not 0 (heuristic)\n");
		return;
	}
	size_t len = ((size_t)si.totalram + si.totalswap) * si.mem_unit * 4;
	len = (len + (1UL << 30) - 1) & ~((1UL << 30) - 1);
	ok(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED,
	   "%zu GiB without MAP_NORESERVE is refused here", len >> 30);
	for (int pass = 0; pass < 2; pass++) {
		int p[2];
		struct report r0, r1;
		char *dir = make_dir();
		unsigned char *resv = mmap(NULL, len, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (resv == MAP_FAILED || pipe(p) < 0)
			return;
		memset(resv + len / 2, 0xa5, 4096);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			quiet_fds(p[1]);
			counter_loop(p[1], 0);
		}
		munmap(resv, len);
		read_report(p[0], &r0, 5000);
		pipe_key(p[1], key, sizeof(key));
		is_int(dump(pid, dir), 0, "dump of a child with a huge reservation");
		drain(p[0]);
		is_int(image_noreserve(dir, pid, resv, pass == 1), 1,
		       pass ? "an image without MAP_NORESERVE (as before it was recorded)" : "the image records MAP_NORESERVE");
		struct cr_external ext = { .key = key, .fd = p[1] };
		struct cr_restore_opts ro = { .image_dir = dir, .detach = true, .externals = &ext, .n_externals = 1 };
		pid_t root = 0;
		int r = cr_restore(&ro, &root, NULL);
		if (!is_int(r, 0, pass ? "restore maps it again with the flag after the refusal" : "restore maps it"))
			printf("# %s\n", err_msg());
		ok(read_report(p[0], &r1, 5000) == 0 && r1.counter > r0.counter, "the child runs on");
		is_int(root > 0 ? vma_has_flag(root, resv, " nr") : -1, 1, "the reservation is VM_NORESERVE again");
		char path[64];
		unsigned char page[4096];
		snprintf(path, sizeof(path), "/proc/%d/mem", root);
		int mfd = root > 0 ? open(path, O_RDONLY) : -1;
		ok(mfd >= 0 && pread(mfd, page, sizeof(page), (off_t)(uintptr_t)(resv + len / 2)) == (ssize_t)sizeof(page) &&
			   page[0] == 0xa5 && page[4095] == 0xa5,
		   "its written page came back");
		if (mfd >= 0)
			close(mfd);
		end_test(root, p, dir);
	}
}

int main(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	test_counter();
	test_wait_status();
	test_failure_cleans_up();
	test_parent_pages();
	test_robust_list();
	test_seccomp();
	test_missing_mapped_file();
	test_noreserve();
	return done_testing();
}
