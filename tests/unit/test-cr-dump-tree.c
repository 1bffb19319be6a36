// SPDX-License-Identifier: GPL-2.0-or-later
/* cr_dump() on richer children: threads, a child process, signal state,
 * threads caught inside syscalls (restart rewriting), and freezing through
 * a cgroup. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cgroups/cgroup.h"
#include "cr/cr.h"
#include "cr/image.h"
#include "cr/restart.h"
#include "child-sync.h"
#include "tap.h"

#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"

struct shared {
	volatile unsigned long counter;
	volatile int ready;
	volatile pid_t grandchild;
	volatile int got_byte;
};

static struct shared *sh;
static char tmpdir[64];
static int pfd[2];

static void spin(void)
{
	sh->ready = 1;
	for (;;)
		sh->counter++;
}

static void *spin_thread(void *arg)
{
	for (;;)
		__atomic_fetch_add(&sh->counter, 1, __ATOMIC_RELAXED);
	return arg;
}

static void child_threads(void)
{
	pthread_t t;
	pthread_create(&t, NULL, spin_thread, NULL);
	pthread_create(&t, NULL, spin_thread, NULL);
	spin();
}

static void child_forker(void)
{
	pid_t p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	sh->grandchild = p;
	spin();
}

static void child_zombie_parent(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(7);
	sh->grandchild = p; /* never reaped */
	usleep(20000);
	spin();
}

/* Two allow-all filters, of 1 and 2 instructions, in that order. */
static void child_seccomp(void)
{
	struct sock_filter one[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_filter two[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
				     BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog p1 = { 1, one }, p2 = { 2, two };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p1) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p2) < 0)
		_exit(2);
	spin();
}

/* Forever vfork + exec: the dump must neither hang on a parent waiting for
 * its vfork child nor stop that child. */
static void child_vforker(void)
{
	sh->ready = 1;
	for (;;) {
		pid_t p = vfork();
		if (p == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
		sh->counter++;
	}
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void child_signals(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	sigset_t set;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2); /* the thread's queue */
	kill(getpid(), SIGRTMIN);                                     /* the process's queue */
	spin();
}

static void child_sleeper(void)
{
	struct timespec req = { 30, 0 }, rem;
	sh->ready = 1;
	while (nanosleep(&req, &rem) < 0 && errno == EINTR)
		req = rem;
	_exit(0);
}

static void child_reader(void)
{
	char c;
	sh->ready = 1;
	if (read(pfd[0], &c, 1) == 1)
		sh->got_byte = c;
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
	usleep(50000); /* let the child reach its loop or its syscall */
	return pid;
}

static bool advancing(void)
{
	return child_advancing(&sh->counter);
}

/* Gone, or a zombie waiting for whoever reaps orphans here. */
static bool dead(pid_t pid)
{
	char path[64], buf[512] = "";
	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		_cleanup_close_ int fd = open(path, O_RDONLY);
		if (fd < 0)
			return true;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		char *p = strrchr(buf, ')');
		if (p && (p[2] == 'Z' || p[2] == 'X'))
			return true;
		usleep(10000);
	}
	printf("#   %s\n", buf);
	return false;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int dump_to(pid_t pid, const char *name, bool leave, struct cgroup *cg, int *ret_dfd)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	struct cr_dump_opts o = { .pid = pid, .image_dir = dir, .leave_running = leave, .cgroup = cg };
	err_clear();
	int r = cr_dump(&o);
	if (r < 0)
		printf("#   dump failed: %s\n", err_msg());
	*ret_dfd = open(dir, O_RDONLY | O_DIRECTORY);
	return r;
}

static TaskCoreEntry *read_core(int dfd, pid_t pid)
{
	TaskCoreEntry *c = NULL;
	if (img_read_one(dfd, CR_IMG_CORE, pid, &task_core_entry__descriptor, (ProtobufCMessage **)&c) < 0)
		printf("#   %s\n", err_msg());
	return c;
}

static void test_threads(void)
{
	_cleanup_close_ int dfd = -1;
	pid_t pid = start(child_threads);
	is_int(dump_to(pid, "threads", true, NULL, &dfd), 0, "dump a 3-thread child");
	ok(advancing(), "it runs on");
	PstreeEntry *e = NULL;
	struct cr_img *img;
	if (img_open(dfd, CR_IMG_PSTREE, 0, O_RDONLY, &img) == 0) {
		img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&e);
		img_close(img);
	}
	ok(e && e->n_threads == 3 && e->threads[0] == (uint32_t)pid, "pstree lists 3 threads, main first");
	if (e)
		pstree_entry__free_unpacked(e, NULL);
	TaskCoreEntry *c = read_core(dfd, pid);
	ok(c && c->n_threads == 3, "core has 3 threads");
	if (c && c->n_threads == 3)
		ok(c->threads[1]->tid != c->threads[2]->tid && c->threads[1]->tid != (uint32_t)pid &&
		   c->threads[1]->regs->sp != c->threads[0]->regs->sp, "each with its own tid and stack");
	if (c)
		task_core_entry__free_unpacked(c, NULL);
	stop_child(pid);
}

static void test_forker(void)
{
	_cleanup_close_ int dfd = -1;
	pid_t pid = start(child_forker);
	pid_t gc = sh->grandchild;
	is_int(dump_to(pid, "forker", false, NULL, &dfd), 0, "dump a child with a child of its own");
	struct cr_img *img;
	PstreeEntry *e[3] = { 0 };
	if (img_open(dfd, CR_IMG_PSTREE, 0, O_RDONLY, &img) == 0) {
		for (int i = 0; i < 3; i++)
			img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&e[i]);
		img_close(img);
	}
	ok(e[0] && e[1] && !e[2], "pstree has two processes");
	if (e[0] && e[1]) {
		is_int(e[0]->pid, pid, "the root first");
		is_int(e[1]->pid, gc, "then its child");
		is_int(e[1]->ppid, pid, "whose parent is the root");
	}
	for (int i = 0; i < 3; i++)
		if (e[i])
			pstree_entry__free_unpacked(e[i], NULL);
	ok(img_exists(dfd, CR_IMG_CORE, gc) && img_exists(dfd, CR_IMG_MM, gc) &&
	   img_exists(dfd, CR_IMG_FDINFO, gc), "the grandchild has its images");
	waitpid(pid, NULL, 0);
	ok(dead(gc), "both were killed");
}

/* An exited child its parent has not reaped yet is dumped as a zombie with
 * its wait status, for the parent to reap after restore. */
static void test_zombie(void)
{
	_cleanup_close_ int dfd = -1;
	pid_t pid = start(child_zombie_parent);
	pid_t z = sh->grandchild;
	is_int(dump_to(pid, "zombie", true, NULL, &dfd), 0, "a tree holding a zombie is dumped");
	struct cr_img *img;
	PstreeEntry *e[3] = { 0 };
	if (img_open(dfd, CR_IMG_PSTREE, 0, O_RDONLY, &img) == 0) {
		for (int i = 0; i < 3; i++)
			img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&e[i]);
		img_close(img);
	}
	ok(e[0] && !e[0]->zombie && e[1] && !e[2], "pstree: the root and one more");
	if (e[1]) {
		is_int(e[1]->pid, z, "the zombie's pid");
		ok(e[1]->has_zombie && e[1]->zombie, "marked a zombie");
		ok(e[1]->has_exit_status && WIFEXITED(e[1]->exit_status) &&
		   WEXITSTATUS(e[1]->exit_status) == 7, "with its exit status 7");
	}
	for (int i = 0; i < 3; i++)
		if (e[i])
			pstree_entry__free_unpacked(e[i], NULL);
	ok(!img_exists(dfd, CR_IMG_CORE, z) && !img_exists(dfd, CR_IMG_MM, z), "and no other images");
	InventoryEntry *inv = NULL;
	if (img_read_one(dfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor,
			 (ProtobufCMessage **)&inv) == 0) {
		ok(inv->has_root_ppid && inv->root_ppid == (uint32_t)getpid(), "inventory: the root's parent is us");
		inventory_entry__free_unpacked(inv, NULL);
	}
	ok(advancing(), "the tree runs on");
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", z);
	ok(access(path, F_OK) == 0, "the zombie is still there");
	stop_child(pid);
}

static void test_seccomp(void)
{
	_cleanup_close_ int dfd = -1;
	pid_t pid = start(child_seccomp);
	is_int(dump_to(pid, "seccomp", true, NULL, &dfd), 0, "dump a child with seccomp filters");
	TaskCoreEntry *c = read_core(dfd, pid);
	if (ok(c != NULL, "core reads")) {
		ok(c->has_seccomp_mode && c->seccomp_mode == 2, "seccomp mode 2");
		ok(c->n_seccomp_filters == 2 && c->seccomp_filters[0].len == 8 &&
		   c->seccomp_filters[1].len == 16, "both filters, oldest first");
		ok(c->no_new_privs, "no_new_privs");
		task_core_entry__free_unpacked(c, NULL);
	}
	ok(advancing(), "it runs on");
	stop_child(pid);
}

static void test_vfork(void)
{
	pid_t pid = start(child_vforker);
	int good = 0;
	for (int i = 0; i < 20; i++) {
		_cleanup_close_ int dfd = -1;
		char name[32];
		snprintf(name, sizeof(name), "vfork-%d", i);
		good += dump_to(pid, name, true, NULL, &dfd) == 0;
	}
	is_int(good, 20, "20 dumps of a vfork+exec loop, none hangs or fails");
	ok(advancing(), "it runs on");
	stop_child(pid);
}

static void test_signals(void)
{
	_cleanup_close_ int dfd = -1;
	pid_t pid = start(child_signals);
	is_int(dump_to(pid, "signals", true, NULL, &dfd), 0, "dump a child with signal state");
	TaskCoreEntry *c = read_core(dfd, pid);
	if (!ok(c != NULL, "core reads"))
		goto out;
	bool usr1 = false;
	for (size_t i = 0; i < c->n_sigactions; i++)
		if (c->sigactions[i]->sig == SIGUSR1)
			usr1 = c->sigactions[i]->handler == (uint64_t)(uintptr_t)on_usr1 &&
			       (c->sigactions[i]->flags & SA_RESTART);
	ok(usr1, "the SIGUSR1 handler and its SA_RESTART are recorded");
	ThreadCoreEntry *t = c->threads[0];
	ok((t->blocked & (1ULL << (SIGUSR2 - 1))) && (t->blocked & (1ULL << (SIGRTMIN - 1))),
	   "the signal mask");
	ok(t->n_pending == 1 && ((siginfo_t *)t->pending[0]->siginfo.data)->si_signo == SIGUSR2,
	   "SIGUSR2 pending for the thread");
	ok(c->n_shared_pending == 1 &&
	   ((siginfo_t *)c->shared_pending[0]->siginfo.data)->si_signo == SIGRTMIN,
	   "SIGRTMIN pending for the process");
	ok(t->has_clear_child_tid, "clear_child_tid recorded");
	task_core_entry__free_unpacked(c, NULL);
out:
	ok(advancing(), "it runs on");
	stop_child(pid);
}

static void test_restart(void)
{
	_cleanup_close_ int dfd = -1, dfd2 = -1;
	pid_t pid = start(child_sleeper);
	is_int(dump_to(pid, "sleeper", true, NULL, &dfd), 0, "dump a child inside nanosleep");
	TaskCoreEntry *c = read_core(dfd, pid);
	if (c) {
		X86RegsEntry *r = c->threads[0]->regs;
		is_int(c->threads[0]->restart_kind, CR_RESTART_EINTR, "restart: EINTR");
		is_int((long)r->ax, -EINTR, "ax is -EINTR");
		is_int((long)r->orig_ax, -1, "orig_ax is cleared");
		task_core_entry__free_unpacked(c, NULL);
	}
	ok(kill(pid, 0) == 0 && waitpid(pid, NULL, WNOHANG) == 0, "the sleeper sleeps on");
	stop_child(pid);

	pid = start(child_reader);
	is_int(dump_to(pid, "reader", true, NULL, &dfd2), 0, "dump a child blocked in read()");
	c = read_core(dfd2, pid);
	if (c) {
		X86RegsEntry *r = c->threads[0]->regs;
		uint8_t insn[2] = { 0 };
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", pid);
		_cleanup_close_ int mem = open(path, O_RDONLY);
		pread(mem, insn, 2, r->ip);
		is_int(c->threads[0]->restart_kind, CR_RESTART_REDO, "restart: redo");
		is_int(r->ax, SYS_read, "ax is read's number");
		ok(insn[0] == 0x0f && insn[1] == 0x05, "ip is on the syscall instruction");
		task_core_entry__free_unpacked(c, NULL);
	}
	if (write(pfd[1], "x", 1) != 1)
		printf("#   write failed\n");
	for (int i = 0; i < 1000 && !sh->got_byte; i++)
		usleep(1000);
	is_int(sh->got_byte, 'x', "the read completes after the dump");
	stop_child(pid);
}

/* pid 1 of its own pid namespace, with a child: a container's shape. */
static void test_pidns(void)
{
	_cleanup_close_ int dfd = -1;
	memset((void *)sh, 0, sizeof(*sh));
	pid_t pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		if (getpid() != 1)
			_exit(2);
		child_forker();
	}
	child_wait_ready(&sh->ready);
	is_int(sh->grandchild, 2, "the child is pid 1 of its namespace, its child pid 2");
	is_int(dump_to(pid, "pidns", true, NULL, &dfd), 0, "dump a pid namespace's init");
	InventoryEntry *inv = NULL;
	if (img_read_one(dfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor,
			 (ProtobufCMessage **)&inv) == 0) {
		ok(inv->root_pid == 1 && inv->own_pid_ns && inv->root_host_pid == (uint64_t)pid,
		   "inventory: root pid 1 of its own namespace, host pid %d", pid);
		inventory_entry__free_unpacked(inv, NULL);
	}
	ok(img_exists(dfd, CR_IMG_CORE, 1) && img_exists(dfd, CR_IMG_CORE, 2) &&
	   img_exists(dfd, CR_IMG_MM, 2) && !img_exists(dfd, CR_IMG_CORE, pid),
	   "images are named by the namespace's pids");
	TaskCoreEntry *c = read_core(dfd, 2);
	ok(c && c->pid == 2 && c->threads[0]->tid == 2, "the child's core uses its namespace pid");
	if (c)
		task_core_entry__free_unpacked(c, NULL);
	ok(advancing(), "it runs on");
	stop_child(pid);
}

static void test_cgroup(void (*fn)(void), const char *what)
{
	_cleanup_close_ int dfd = -1;
	struct cgroup *cg = NULL;
	char name[64];
	bool frozen = true;

	/* Other tests on this host mount and unmount v1 hierarchies (hugetlb)
	 * under our feet: a cgroup that cannot be made is skipped, not failed. */
	snprintf(name, sizeof(name), "/skua-test-cr-dump-%d-%s", getpid(), what);
	if (cgroup_new(name, "cr-dump", false, &cg) < 0 || cgroup_create(cg) < 0) {
		ok(1, "# SKIP no cgroup for %s: %s", what, err_msg());
		if (cg) {
			cgroup_destroy(cg, true); /* what was made in other hierarchies */
			cgroup_free(cg);
		}
		return;
	}
	pid_t pid = start(fn);
	if (cgroup_enter(cg, pid) < 0) {
		ok(1, "# SKIP the child cannot enter the cgroup: %s", err_msg());
		stop_child(pid);
		cgroup_destroy(cg, true);
		cgroup_free(cg);
		return;
	}
	is_int(dump_to(pid, what, true, cg, &dfd), 0, "dump through the freezer (%s)", what);
	ok(img_exists(dfd, CR_IMG_CORE, pid), "core written");
	ok(cgroup_is_frozen(cg, &frozen) == 0 && !frozen, "the cgroup is thawed");
	ok(advancing(), "the child runs on");
	stop_child(pid);
	cgroup_destroy(cg, true);
	cgroup_free(cg);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120); /* a hung dump fails the test instead of the suite */
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/skua-test-cr-dump-tree-XXXXXX");
	if (!mkdtemp(tmpdir) || pipe(pfd) < 0)
		return 1;
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	test_threads();
	test_forker();
	test_zombie();
	test_vfork();
	test_seccomp();
	test_signals();
	test_restart();
	test_pidns();
	test_cgroup(child_threads, "cg-threads");
	test_cgroup(child_vforker, "cg-vfork");
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
