// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Puppets: processes the engine holds in ptrace stops and drives one
 * injected syscall at a time. Every puppet has the same gadget block at the
 * same address (the anchor maps it; clone3 copies it into each child):
 *
 *   gadget + 0      r-x  syscall; int3
 *   gadget + 64     r-x  the batch loop (ptrace.h): many syscalls, one stop
 *   gadget + 4096   rw-  scratch: syscall arguments (structs, paths); a
 *                        batch's table in its last 3 KiB
 *
 * The block sits in a hole that no dumped VMA of any task uses, so it
 * survives while the dumped address space is rebuilt around it.
 *
 * The anchor (when the caller gives none) is a fork of the engine in a new
 * pid and mount namespace. It blocks in read() on the "go" pipe and is
 * seized there. If the dumped root was pid 1 of its own namespace the anchor
 * becomes the root; otherwise it is a reaper: after the engine detaches it
 * and writes "go", its read() returns and it waits for the root, reports the
 * root's wait status on the status pipe, and exits with it.
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/syscall.h"
#include "cr/ptrace.h"
#include "cr/restore-internal.h"

#define PUPPET_PTRACE_OPTS \
	(PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_EXITKILL)

#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#endif
#ifndef PTRACE_SETSIGMASK
#define PTRACE_SETSIGMASK 0x420b
#endif

struct range {
	unsigned long start, end;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int add_range(struct range **v, size_t *n, unsigned long s, unsigned long e)
{
	struct range *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = (struct range){ s, e };
	return 0;
}

/* The anchor's mappings count as taken too: every puppet is a fork of it. */
static int add_anchor_maps(pid_t anchor, struct range **v, size_t *n)
{
	char path[64], line[512];

	snprintf(path, sizeof(path), "/proc/%d/maps", anchor);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return err_sys(errno, "reading %s", path);
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && add_range(v, n, s, e) < 0)
			return -ENOMEM;
	}
	return 0;
}

int puppet_pick_gadget(struct rst_ctx *c)
{
	_cleanup_free_ struct range *v = NULL;
	size_t n = 0;
	const unsigned long need = RST_HOLE_PAGES * RST_PAGE;
	/* Above the classic non-PIE text and heap, far below mmap_base. */
	unsigned long cand = 0x40000000UL;
	const unsigned long limit = 0x7ff000000000UL;

	for (size_t i = 0; i < c->n_tasks; i++) {
		MmEntry *mm = c->tasks[i].mm;
		if (!mm)
			continue; /* a zombie */
		for (size_t k = 0; k < mm->n_vmas; k++)
			if (add_range(&v, &n, mm->vmas[k]->start, mm->vmas[k]->end) < 0)
				return -ENOMEM;
		/* the whole vvar..vdso block, whether or not the dump lists vvar */
		if (mm->has_vdso_start && mm->vdso_start &&
		    add_range(&v, &n, mm->vdso_start, mm->vdso_start + 16 * RST_PAGE) < 0)
			return -ENOMEM;
	}
	int r = add_anchor_maps(c->anchor, &v, &n);
	if (r < 0)
		return r;
	qsort(v, n, sizeof(*v), range_cmp);
	for (size_t i = 0; i < n; i++) {
		if (v[i].end <= cand)
			continue;
		if (v[i].start >= cand + need)
			break;
		cand = (v[i].end + RST_PAGE - 1) & ~(RST_PAGE - 1);
	}
	if (cand + need > limit)
		return err_set(ENOMEM, "no free hole for the restore gadget in the dumped address spaces");
	c->gadget = cand;
	return 0;
}

/* The reaper waits for the stand-in parent if there is one, the stand-in
 * (a fork of the reaper, running this same code) for the root. */
static void anchor_child(int ready_fd, int go_fd, int status_fd, bool reaper)
{
	struct puppet_go go;
	char b = 0;
	ssize_t n;
	int st;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		b = errno;
	if (write(ready_fd, &b, 1) != 1 || b)
		_exit(127);
	close(ready_fd);
	/* nothing of the engine's stays open in the namespace */
	for (int fd = 0; fd < 3; fd++)
		if (fd != go_fd && fd != status_fd)
			close(fd);
	{
		int lo = go_fd < status_fd ? go_fd : status_fd, hi = go_fd ^ status_fd ^ lo;
		syscall(SYS_close_range, 3, lo - 1, 0);
		syscall(SYS_close_range, lo + 1, hi - 1, 0);
		syscall(SYS_close_range, hi + 1, ~0U, 0);
	}
	/* Seized and driven by the engine here. A root puppet never returns
	 * from this read: its whole memory is replaced. */
	do
		n = read(go_fd, &go, sizeof(go));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(go) || !reaper)
		_exit(1);
	close(go_fd);
	signal(SIGPIPE, SIG_IGN);
	pid_t target = getpid() == 1 && go.parent_pid ? go.parent_pid : go.root_pid;
	for (;;) {
		pid_t p = waitpid(-1, &st, __WALL);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			_exit(1);
		if (p == target)
			break;
	}
	/* the first report is the root's own status: the stand-in's */
	if (write(status_fd, &st, sizeof(st)) < 0) {
		/* nobody waits: the exit code alone tells */
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static int fork_anchor(struct rst_ctx *c)
{
	int ready[2], go[2], status[2];
	struct clone_args ca = { .flags = CLONE_NEWPID | CLONE_NEWNS, .exit_signal = SIGCHLD };
	bool reaper = !c->inv->own_pid_ns;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return err_sys(errno, "pipe");
	if (pipe2(go, O_CLOEXEC) < 0) {
		close(ready[0]), close(ready[1]);
		return err_sys(errno, "pipe");
	}
	if (pipe2(status, O_CLOEXEC) < 0) {
		close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
		return err_sys(errno, "pipe");
	}
	fflush(NULL);
	pid_t pid = sys_clone3(&ca, sizeof(ca));
	if (pid == 0) {
		close(ready[0]), close(go[1]), close(status[0]);
		anchor_child(ready[1], go[0], status[1], reaper);
	}
	int err = errno;
	close(ready[1]), close(go[0]), close(status[1]);
	if (pid < 0) {
		close(ready[0]), close(go[1]), close(status[0]);
		return err_sys(err, "creating the restore anchor (clone3 NEWPID|NEWNS)");
	}
	c->anchor = pid;
	c->anchor_ours = true;
	c->anchor_is_reaper = reaper;
	c->anchor_is_root = !reaper;
	c->anchor_go_fd = go[1];
	c->anchor_status_fd = status[0];

	char b = 1;
	ssize_t n = read(ready[0], &b, 1);
	close(ready[0]);
	if (n != 1 || b)
		return err_sys(n == 1 ? b : EPIPE, "setting up the anchor's mount namespace");
	return 0;
}

int puppet_make_anchor(struct rst_ctx *c)
{
	const struct cr_restore_opts *o = c->o;

	if (!o->make_root)
		return fork_anchor(c);
	pid_t pid;
	int r = o->make_root(o->make_root_arg, &pid);
	if (r < 0)
		return err_wrap(r, "making the root anchor");
	c->anchor = pid;
	c->anchor_ours = false;
	c->anchor_is_root = c->inv->own_pid_ns;
	c->anchor_is_reaper = false;
	return 0;
}

static int set_sigmask(pid_t tid, uint64_t mask)
{
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask) < 0)
		return err_sys(errno, "setting the signal mask of %d", tid);
	return 0;
}

/* Map the gadget block with an injection at the anchor's own ip (it has no
 * gadget yet); children inherit it. */
int puppet_attach_anchor(struct rst_ctx *c)
{
	unsigned long a[6] = { c->gadget, RST_GADGET_PAGES * RST_PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1UL, 0 };
	long ret;
	int r;

	r = ptrace_seize_stop(c->anchor, PUPPET_PTRACE_OPTS);
	if (r < 0)
		return err_wrap(r, "attaching the anchor");
	if (ptrace(PTRACE_GETSIGMASK, c->anchor, sizeof(c->anchor_sigmask), &c->anchor_sigmask) < 0)
		return err_sys(errno, "reading the signal mask of the anchor");
	r = set_sigmask(c->anchor, ~0ULL);
	if (r < 0)
		return r;
	r = inject_syscall_here(c->anchor, SYS_mmap, a, &ret);
	if (r < 0)
		return err_wrap(r, "mapping the gadget in the anchor");
	if (ret != (long)c->gadget)
		return err_sys(ret < 0 ? -ret : EEXIST, "mapping the gadget at 0x%lx in the anchor %d",
			       c->gadget, c->anchor);
	r = ptrace_poke(c->anchor, c->gadget, INJECT_GADGET_BYTES, INJECT_GADGET_LEN);
	if (r >= 0)
		r = ptrace_poke(c->anchor, c->gadget + RST_BATCH_CODE_OFF, INJECT_BATCH_BYTES, INJECT_BATCH_LEN);
	if (r < 0)
		return r;
	/* still at the anchor's own ip: the gadget is not executable yet */
	unsigned long p[6] = { c->gadget, RST_PAGE, PROT_READ | PROT_EXEC };
	r = inject_syscall_here(c->anchor, SYS_mprotect, p, &ret);
	if (r < 0)
		return err_wrap(r, "protecting the gadget in the anchor");
	return ret < 0 ? err_sys(-ret, "protecting the gadget in the anchor") : 0;
}

long puppet_call_n(struct rst_ctx *c, pid_t host_tid, const char *what, long nr, const unsigned long a[6])
{
	long ret;
	int r = inject_syscall(host_tid, c->gadget, nr, a, &ret);
	if (r < 0)
		return err_wrap(r, "%s", what);
	if (ret < 0 && ret > -4096)
		return err_sys(-ret, "%s", what);
	return ret;
}

int puppet_call_batch(struct rst_ctx *c, pid_t host_tid, const char *what, const struct puppet_sc *sc,
		      size_t n, long *rets, size_t *ret_failed)
{
	struct inject_entry e[PUPPET_BATCH_MAX];
	const unsigned long table = c->gadget + RST_SCRATCH_OFF + RST_BATCH_TABLE_OFF;

	if (ret_failed)
		*ret_failed = n;
	for (size_t at = 0; at < n;) {
		size_t k = n - at < PUPPET_BATCH_MAX ? n - at : PUPPET_BATCH_MAX;
		unsigned long done = 0;
		int r;
		for (size_t i = 0; i < k; i++) {
			e[i].nr = sc[at + i].nr;
			memcpy(e[i].a, sc[at + i].a, sizeof(e[i].a));
			e[i].ret = -ENOSYS;
		}
		if ((r = ptrace_poke(host_tid, table, e, k * sizeof(e[0]))) < 0 ||
		    (r = inject_batch(host_tid, c->gadget + RST_BATCH_CODE_OFF, table, k, &done)) < 0)
			return err_wrap(r, "%s", what);
		/* the results of those that ran, and of the one that failed */
		size_t got = done < k ? done + 1 : k;
		if ((r = ptrace_peek(host_tid, table, e, got * sizeof(e[0]))) < 0)
			return err_wrap(r, "%s", what);
		for (size_t i = 0; rets && i < got; i++)
			rets[at + i] = e[i].ret;
		if (done < k) {
			long ret = e[done].ret;
			if (ret_failed)
				*ret_failed = at + done;
			return err_sys(ret < 0 && ret > -4096 ? (int)-ret : EIO, "%s (call %zu of %zu: syscall %lu)",
				       what, at + done + 1, n, e[done].nr);
		}
		at += k;
	}
	return 0;
}

int puppet_scratch_put(struct rst_ctx *c, pid_t host_pid, size_t off, const void *buf, size_t len,
		       unsigned long *ret_addr)
{
	if (off + len > RST_PAGE)
		return err_set(E2BIG, "%zu bytes do not fit in the scratch page", len);
	unsigned long addr = c->gadget + RST_SCRATCH_OFF + off;
	int r = ptrace_poke(host_pid, addr, buf, len);
	if (r < 0)
		return r;
	if (ret_addr)
		*ret_addr = addr;
	return 0;
}

int puppet_scratch_get(struct rst_ctx *c, pid_t host_pid, size_t off, void *buf, size_t len)
{
	if (off + len > RST_PAGE)
		return err_set(E2BIG, "%zu bytes do not fit in the scratch page", len);
	return ptrace_peek(host_pid, c->gadget + RST_SCRATCH_OFF + off, buf, len);
}

/* Like inject_syscall, but notes the new task's host pid from the clone
 * event on the way to the int3. */
static int run_clone(struct rst_ctx *c, pid_t tid, unsigned long args_addr, long *ret, pid_t *child)
{
	struct user_regs_struct saved, regs;
	int status, r;

	r = ptrace_get_regs(tid, &saved);
	if (r < 0)
		return r;
	regs = saved;
	regs.rip = c->gadget;
	regs.rax = SYS_clone3;
	regs.orig_rax = -1;
	regs.rdi = args_addr;
	regs.rsi = sizeof(struct clone_args);
	r = ptrace_set_regs(tid, &regs);
	if (r < 0)
		return r;
	*child = 0;
	for (;;) {
		if (ptrace(PTRACE_CONT, tid, 0, 0) < 0)
			return err_sys(errno, "running clone3 in %d", tid);
		r = ptrace_wait_stop(tid, &status);
		if (r < 0)
			return r;
		int ev = status >> 16;
		if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_CLONE || ev == PTRACE_EVENT_VFORK) {
			unsigned long msg;
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) < 0)
				return err_sys(errno, "reading the clone event of %d", tid);
			*child = msg;
			continue;
		}
		if (ev == 0 && WSTOPSIG(status) == SIGTRAP)
			break;
		if (ev == 0 && (WSTOPSIG(status) == SIGSEGV || WSTOPSIG(status) == SIGBUS))
			return err_set(EFAULT, "clone3 in %d faulted", tid);
	}
	r = ptrace_get_regs(tid, &regs);
	if (r < 0)
		return r;
	*ret = regs.rax;
	return ptrace_set_regs(tid, &saved);
}

int puppet_clone(struct rst_ctx *c, pid_t parent_tid, uint64_t flags, pid_t set_tid, int exit_signal,
		 pid_t *ret_host)
{
	/* clone_args at the end of the scratch page, out of the way of callers' data */
	const size_t off = RST_PAGE - 256;
	pid_t tid_arr[1] = { set_tid };
	unsigned long tid_addr, args_addr;
	long ret = 0;
	pid_t child = 0;
	int status, r;

	r = puppet_scratch_put(c, parent_tid, off + 128, tid_arr, sizeof(tid_arr), &tid_addr);
	if (r < 0)
		return r;
	struct clone_args ca = { .flags = flags, .exit_signal = exit_signal, .set_tid = tid_addr,
				 .set_tid_size = 1 };
	r = puppet_scratch_put(c, parent_tid, off, &ca, sizeof(ca), &args_addr);
	if (r < 0)
		return r;
	r = run_clone(c, parent_tid, args_addr, &ret, &child);
	if (r < 0)
		return err_wrap(r, "clone3 for %d", set_tid);
	if (ret < 0)
		return err_sys(-ret, "clone3 with set_tid %d in %d", set_tid, parent_tid);
	if (ret != set_tid || child <= 0)
		return err_set(EIO, "clone3 made %ld (host %d), wanted %d", ret, child, set_tid);
	r = ptrace_wait_stop(child, &status);
	if (r < 0)
		return err_wrap(r, "waiting for the new task %d", set_tid);
	*ret_host = child;
	return 0;
}

void puppet_kill_all(struct rst_ctx *c)
{
	for (size_t i = c->n_tasks; i-- > 0;) {
		struct rst_task *t = &c->tasks[i];
		if (t->host_pid > 0 && !(t->host_pid == c->anchor && !c->anchor_ours && !c->anchor_is_root))
			kill(t->host_pid, SIGKILL);
	}
	if (c->parent_host > 0)
		kill(c->parent_host, SIGKILL);
	if (c->anchor > 0) {
		if (c->anchor_ours || c->anchor_is_root)
			kill(c->anchor, SIGKILL);
		else
			ptrace_detach(c->anchor, 0);
	}
	/* Killed tracees stay zombies until their tracer (we) waits, and a
	 * dying pid-namespace init waits for them: tracees first. */
	for (size_t i = c->n_tasks; i-- > 0;)
		for (size_t k = c->tasks[i].n_threads; k-- > 0;) {
			pid_t tid = c->tasks[i].threads[k].host_tid;
			if (tid > 0 && tid != c->anchor)
				while (waitpid(tid, NULL, __WALL) < 0 && errno == EINTR)
					;
		}
	if (c->parent_host > 0)
		while (waitpid(c->parent_host, NULL, __WALL) < 0 && errno == EINTR)
			;
	if (c->anchor_ours && c->anchor > 0) {
		while (waitpid(c->anchor, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	c->anchor = 0;
}
