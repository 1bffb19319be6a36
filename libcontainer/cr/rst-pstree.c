// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore: the process tree. Every task is cloned from its parent's puppet
 * with clone3(set_tid = its dumped pid), parents first, while the puppets
 * still have the engine's pristine address space. A session leader calls
 * setsid() right after it is made, so its children are born into the
 * session; process groups are joined once every task exists.
 */
#include <linux/sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/syscall.h>

#include "base/error.h"
#include "base/log.h"
#include "cr/ptrace.h"
#include "cr/restore-internal.h"

#define THREAD_FLAGS \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

/* A zombie is made like any child, then exits the way it did (exit code,
 * or its fatal signal, without a core file) and stays for its parent to
 * reap; we only consume the exit notice we get as its tracer. */
static int make_zombie(struct rst_ctx *c, struct rst_task *t)
{
	int st = t->pst->has_exit_status ? (int)t->pst->exit_status : 0, status, r;
	pid_t pid;

	r = puppet_clone(c, t->parent->host_pid, 0, t->pid, SIGCHLD, &pid);
	if (r < 0)
		return r;
	t->host_pid = pid;
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		struct rlimit nocore = { 0, 0 };
		uint64_t mask = 0;
		unsigned long dfl[4] = { 0 }, addr;
		if (prlimit(pid, RLIMIT_CORE, &nocore, NULL) < 0 ||
		    (r = puppet_scratch_put(c, pid, 0, dfl, sizeof(dfl), &addr)) < 0 ||
		    PUPPET_CALL(c, pid, "rt_sigaction", SYS_rt_sigaction, sig, addr, 0, 8) < 0 ||
		    ptrace(PTRACE_SETSIGMASK, pid, sizeof(mask), &mask) < 0 || kill(pid, sig) < 0)
			return err_sys(errno ? errno : EIO, "making zombie %d die of signal %d", t->pid, sig);
	} else {
		struct user_regs_struct regs;
		if ((r = ptrace_get_regs(pid, &regs)) < 0)
			return r;
		regs.rip = c->gadget;
		regs.rax = SYS_exit_group;
		regs.orig_rax = -1;
		regs.rdi = WEXITSTATUS(st);
		if ((r = ptrace_set_regs(pid, &regs)) < 0)
			return r;
	}
	/* run it to its end, handing it the fatal signal when it stops for it */
	int deliver = 0;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, 0, deliver) < 0)
			return err_sys(errno, "letting zombie %d exit", t->pid);
		if (waitpid(pid, &status, __WALL) < 0)
			return err_sys(errno, "waiting for zombie %d", t->pid);
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return 0;
		deliver = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
	}
}

static int make_task(struct rst_ctx *c, struct rst_task *t)
{
	pid_t parent = t->parent ? t->parent->host_pid : c->parent_host > 0 ? c->parent_host : c->anchor;
	int r;

	if (t->zombie)
		return make_zombie(c, t);

	if (!t->parent && c->anchor_is_root) {
		t->host_pid = c->anchor;
	} else {
		r = puppet_clone(c, parent, 0, t->pid, t->core->exit_signal, &t->host_pid);
		if (r < 0)
			return r;
	}
	t->threads[0].host_tid = t->host_pid;
	if (t->pst->sid == (uint32_t)t->pid) {
		long ret = PUPPET_CALL(c, t->host_pid, "setsid", SYS_setsid, 0);
		if (ret < 0)
			return (int)ret;
	} else if (t->parent && t->parent->pst->sid != t->pst->sid) {
		log_warn("pid %d: session %u cannot be restored (its parent is in session %u)", t->pid,
			 t->pst->sid, t->parent->pst->sid);
	}
	return 0;
}

/* The root's parent was outside the tree; in the fresh namespace a copy of
 * the reaper takes its pid, so the root's getppid() is what it was. */
static int make_stand_in(struct rst_ctx *c)
{
	pid_t ppid = c->inv->has_root_ppid ? (pid_t)c->inv->root_ppid : (pid_t)c->tasks[0].pst->ppid;

	if (!c->anchor_is_reaper || ppid <= 1 || rst_task_by_pid(c, ppid))
		return 0;
	struct user_regs_struct regs;
	int r = puppet_clone(c, c->anchor, 0, ppid, SIGCHLD, &c->parent_host);
	if (r < 0)
		return err_wrap(r, "making a stand-in for the root's parent %d", ppid);
	c->parent_ns = ppid;
	/* It resumes where the reaper is, in its interrupted read() of the go
	 * pipe (not at the gadget's int3, where the clone left it). */
	r = ptrace_get_regs(c->anchor, &regs);
	if (r < 0)
		return r;
	return ptrace_set_regs(c->parent_host, &regs);
}

int rst_pstree_create(struct rst_ctx *c)
{
	int r = make_stand_in(c);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_tasks; i++) {
		int r = make_task(c, &c->tasks[i]);
		if (r < 0)
			return err_wrap(r, "restoring pid %d: creating it", c->tasks[i].pid);
	}
	return 0;
}

static int join_group(struct rst_ctx *c, struct rst_task *t, bool leaders)
{
	pid_t pgid = t->pst->pgid;
	bool leader = pgid == t->pid;
	long ret;

	if (t->zombie || leader != leaders || t->pst->sid == (uint32_t)t->pid)
		return 0;
	if (!leader && !rst_task_by_pid(c, pgid))
		return 0; /* a group outside the tree: stays inherited */
	ret = PUPPET_CALL(c, t->host_pid, "setpgid", SYS_setpgid, 0, leader ? 0 : pgid);
	return ret < 0 ? err_wrap((int)ret, "restoring pid %d: joining process group %d", t->pid, pgid) : 0;
}

int rst_pstree_groups(struct rst_ctx *c)
{
	for (int pass = 1; pass >= 0; pass--)
		for (size_t i = 0; i < c->n_tasks; i++) {
			int r = join_group(c, &c->tasks[i], pass);
			if (r < 0)
				return r;
		}
	return 0;
}

/* After the task's memory is back: the threads share it. */
int rst_threads_create(struct rst_ctx *c, struct rst_task *t)
{
	for (size_t i = 1; i < t->n_threads; i++) {
		int r = puppet_clone(c, t->host_pid, THREAD_FLAGS, t->threads[i].tid, 0,
				     &t->threads[i].host_tid);
		if (r < 0)
			return err_wrap(r, "restoring pid %d: creating thread %d", t->pid,
					t->threads[i].tid);
	}
	return 0;
}
