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
#include <time.h>
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

/* Run a puppet to its end: exit_group(code), or its fatal signal (default
 * action, no core file) when sig is nonzero. As its tracer we consume the
 * exit notice; its parent still sees it exit. */
static int exit_puppet(struct rst_ctx *c, pid_t pid, int code, int sig)
{
	int status, r;

	if (sig) {
		struct rlimit nocore = { 0, 0 };
		uint64_t mask = 0;
		unsigned long dfl[4] = { 0 }, addr;
		if (prlimit(pid, RLIMIT_CORE, &nocore, NULL) < 0 ||
		    (r = puppet_scratch_put(c, pid, 0, dfl, sizeof(dfl), &addr)) < 0 ||
		    PUPPET_CALL(c, pid, "rt_sigaction", SYS_rt_sigaction, sig, addr, 0, 8) < 0 ||
		    ptrace(PTRACE_SETSIGMASK, pid, sizeof(mask), &mask) < 0 || kill(pid, sig) < 0)
			return err_sys(errno ? errno : EIO, "making %d die of signal %d", pid, sig);
	} else {
		struct user_regs_struct regs;
		if ((r = ptrace_get_regs(pid, &regs)) < 0)
			return r;
		regs.rip = c->gadget;
		regs.rax = SYS_exit_group;
		regs.orig_rax = -1;
		regs.rdi = code;
		if ((r = ptrace_set_regs(pid, &regs)) < 0)
			return r;
	}
	/* hand it the fatal signal when it stops for it */
	int deliver = 0;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, 0, deliver) < 0)
			return err_sys(errno, "letting %d exit", pid);
		if (waitpid(pid, &status, __WALL) < 0)
			return err_sys(errno, "waiting for %d to exit", pid);
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return 0;
		deliver = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
	}
}

/* A zombie is made like any child, then exits the way it did and stays for
 * its parent to reap. */
static int make_zombie(struct rst_ctx *c, struct rst_task *t)
{
	int st = t->pst->has_exit_status ? (int)t->pst->exit_status : 0;
	int r = puppet_clone(c, t->parent->host_pid, 0, t->pid, SIGCHLD, &t->host_pid);
	if (r < 0)
		return r;
	return exit_puppet(c, t->host_pid, WIFEXITED(st) ? WEXITSTATUS(st) : 0,
			   WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static pid_t free_pid(struct rst_ctx *c)
{
	pid_t p = 2;
	for (size_t i = 0; i < c->n_tasks; i++)
		if (c->tasks[i].pid >= p)
			p = c->tasks[i].pid + 1;
	return p == c->parent_ns ? p + 1 : p;
}

/*
 * An orphan that init (pid 1) adopted, in a session other than init's, was
 * born into that session by a parent that is gone. A helper does it again:
 * born into the session (from a live member of it, or as the session's dead
 * leader itself: pid = sid, then setsid), it forks the task and exits, and
 * init adopts the task. The helper's parent reaps it and forgets the SIGCHLD.
 */
static int make_via_helper(struct rst_ctx *c, struct rst_task *t)
{
	struct rst_task *donor = NULL;
	pid_t sid = t->pst->sid, helper_ns, helper;
	long ret;
	int r;

	for (struct rst_task *d = c->tasks; d < t; d++)
		if (!d->zombie && d->host_pid > 0 && d->pst->sid == (uint32_t)sid) {
			donor = d;
			break;
		}
	if (!donor && rst_task_by_pid(c, sid))
		return 1; /* the leader comes later: cannot help */
	pid_t from = donor ? donor->host_pid : t->parent->host_pid;
	helper_ns = donor ? free_pid(c) : sid;
	r = puppet_clone(c, from, 0, helper_ns, SIGCHLD, &helper);
	if (r < 0)
		return err_wrap(r, "a helper for session %d", sid);
	if (!donor && (ret = PUPPET_CALL(c, helper, "setsid (helper)", SYS_setsid, 0)) < 0)
		return (int)ret;
	r = puppet_clone(c, helper, 0, t->pid, t->core->exit_signal, &t->host_pid);
	if (r < 0)
		return r;
	if ((r = exit_puppet(c, helper, 0, 0)) < 0)
		return r;
	ret = PUPPET_CALL(c, from, "wait4 (helper)", SYS_wait4, helper_ns, 0, __WALL, 0);
	if (ret < 0)
		return (int)ret;
	sigset_t chld;
	struct timespec zero = { 0, 0 };
	unsigned long set_addr, ts_addr;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if ((r = puppet_scratch_put(c, from, 0, &chld, 8, &set_addr)) < 0 ||
	    (r = puppet_scratch_put(c, from, 64, &zero, sizeof(zero), &ts_addr)) < 0)
		return r;
	ret = PUPPET_CALL(c, from, "rt_sigtimedwait (helper's SIGCHLD)", SYS_rt_sigtimedwait, set_addr, 0,
			  ts_addr, 8);
	return ret < 0 && ret != -EAGAIN ? (int)ret : 0;
}

static bool adopted_from_another_session(const struct rst_task *t)
{
	return t->parent && t->parent->pid == 1 && t->pst->sid != (uint32_t)t->pid &&
	       t->pst->sid != t->parent->pst->sid && t->pst->sid != 0;
}

static int make_task(struct rst_ctx *c, struct rst_task *t)
{
	pid_t parent = t->parent ? t->parent->host_pid : c->parent_host > 0 ? c->parent_host : c->anchor;
	bool helped = false;
	int r;

	if (t->zombie)
		return make_zombie(c, t);

	if (!t->parent && c->anchor_is_root) {
		t->host_pid = c->anchor;
	} else if (adopted_from_another_session(t) && (r = make_via_helper(c, t)) <= 0) {
		if (r < 0)
			return r;
		helped = true;
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
	} else if (!helped && t->parent && t->parent->pst->sid != t->pst->sid) {
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
