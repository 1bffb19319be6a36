// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Taking hold of the tree with ptrace. Threads and children can appear while
 * we walk (a thread not yet seized may clone), so the walk repeats until a
 * whole pass finds nothing new; a seized thread is stopped and makes nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "cr/dump-internal.h"
#include "cr/proc-parse.h"
#include "cr/ptrace.h"

typedef int (*seize_fn)(pid_t tid);

static int find_task(struct dump_ctx *ctx, pid_t pid)
{
	for (size_t i = 0; i < ctx->n_tasks; i++)
		if (ctx->tasks[i].pid == pid)
			return (int)i;
	return -1;
}

static bool has_thread(const struct dtask *t, pid_t tid)
{
	for (size_t i = 0; i < t->n_threads; i++)
		if (t->threads[i].tid == tid)
			return true;
	return false;
}

static int add_task(struct dump_ctx *ctx, pid_t pid, int parent)
{
	struct dtask *n = realloc(ctx->tasks, (ctx->n_tasks + 1) * sizeof(*n));
	if (!n)
		return err_set(ENOMEM, "out of memory");
	ctx->tasks = n;
	memset(&n[ctx->n_tasks], 0, sizeof(n[0]));
	n[ctx->n_tasks].pid = pid;
	n[ctx->n_tasks].parent = parent;
	ctx->n_tasks++;
	return 0;
}

/* The main thread goes first: restore recreates the process with it. */
static int add_thread(struct dtask *t, pid_t tid)
{
	struct dthread *n = realloc(t->threads, (t->n_threads + 1) * sizeof(*n));
	if (!n)
		return err_set(ENOMEM, "out of memory");
	t->threads = n;
	size_t at = t->n_threads;
	if (tid == t->pid && at > 0) {
		memmove(&n[1], &n[0], at * sizeof(n[0]));
		at = 0;
	}
	memset(&n[at], 0, sizeof(n[at]));
	n[at].tid = tid;
	t->n_threads++;
	return 0;
}

/* State and wait status of a thread from /proc/PID/task/TID/stat. */
static int thread_state(pid_t pid, pid_t tid, char *ret_state, int *ret_status)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (proc_read_line(path, buf, sizeof(buf)) < 0) {
		err_clear();
		return -ESRCH;
	}
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return err_set(EBADMSG, "parsing %s", path);
	*ret_state = p[2];
	/* field 52, exit_code: the 50th after the state */
	int field = 3;
	*ret_status = 0;
	for (char *q = p + 2; *q && field < 52; q++)
		if (*q == ' ' && ++field == 52)
			*ret_status = atoi(q + 1);
	return 0;
}

/* A child that exited and waits for its parent is dumped as a zombie, for the
 * parent to reap after restore. The root itself cannot be one; an exiting
 * thread is simply gone. */
static int check_zombie(struct dump_ctx *ctx, size_t ti, pid_t tid, bool *ret_zombie)
{
	struct dtask *t = &ctx->tasks[ti];
	char state;
	int status, r;

	*ret_zombie = false;
	if ((r = thread_state(t->pid, tid, &state, &status)) < 0)
		return r;
	if (state != 'Z' && state != 'X')
		return 0;
	if (t->pid != tid)
		return -ESRCH;
	if (ti == 0)
		return err_set(EBUSY, "pid %d is a zombie", t->pid);
	if (t->n_threads > 0)
		return err_set(ENOTSUP, "pid %d: its main thread exited while other threads run on; "
					"not supported", t->pid);
	t->zombie = true;
	t->exit_status = status;
	*ret_zombie = true;
	return 0;
}

static pid_t tracer_of(pid_t pid, pid_t tid)
{
	char path[96], buf[64];
	_cleanup_free_ char *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if (read_file(path, &text, NULL, 0) < 0)
		return 0;
	return proc_field(text, "TracerPid", buf, sizeof(buf)) ? atoi(buf) : 0;
}

static int seize_one(struct dump_ctx *ctx, size_t ti, pid_t tid, seize_fn fn, bool *changed)
{
	struct dtask *t = &ctx->tasks[ti];
	bool zombie;
	int r = check_zombie(ctx, ti, tid, &zombie);
	if (r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	if (zombie) {
		*changed = true;
		return add_thread(t, tid);
	}
	r = fn(tid);
	if (r == -ESRCH) {
		err_clear();
		*changed = true;
		return 0;
	}
	if (r == -EPERM && tracer_of(t->pid, tid) > 0)
		return err_set(EBUSY, "pid %d thread %d is already traced by pid %d (a debugger?); "
				      "it cannot be dumped", t->pid, tid, tracer_of(t->pid, tid));
	/* the kernel refuses to attach to a task that is exiting: try again */
	if (r == -EPERM)
		return err_set(EAGAIN, "pid %d thread %d could not be seized (exiting?)", t->pid, tid);
	if (r < 0)
		return err_wrap(r, "pid %d thread %d", t->pid, tid);
	r = add_thread(t, tid);
	if (r < 0) {
		ptrace_detach(tid, 0);
		return r;
	}
	for (size_t i = 0; i < t->n_threads; i++)
		if (t->threads[i].tid == tid)
			t->threads[i].seized = true;
	*changed = true;
	return 0;
}

static int scan_children(struct dump_ctx *ctx, size_t ti, pid_t tid, bool *changed)
{
	char path[96];
	pid_t pid = ctx->tasks[ti].pid;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return 0; /* the thread went away */
	int child;
	while (fscanf(f, "%d", &child) == 1) {
		if (find_task(ctx, child) >= 0)
			continue;
		/* A vfork child borrows its parent's memory until it execs or
		 * exits, and the parent cannot stop before that: stopping the
		 * child would hang both. Let it go on; a later pass (after the
		 * parent's stop) finds it with a memory of its own. */
		if (syscall(SYS_kcmp, pid, child, KCMP_VM, 0, 0) == 0) {
			ctx->vfork_pending = true;
			continue;
		}
		int r = add_task(ctx, child, (int)ti);
		if (r < 0)
			return r;
		*changed = true;
	}
	return 0;
}

static int scan_task(struct dump_ctx *ctx, size_t ti, seize_fn fn, bool *changed)
{
	char path[64];
	pid_t pid = ctx->tasks[ti].pid;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	_cleanup_closedir_ DIR *d = opendir(path);
	if (!d) {
		if (ti == 0)
			return err_sys(errno, "pid %d", pid);
		/* reaped between the listing and now: a moment's state, try again */
		return err_set(EAGAIN, "pid %d (child of %d) vanished during the dump", pid,
			       ctx->tasks[ctx->tasks[ti].parent].pid);
	}
	struct dirent *de;
	if (ctx->tasks[ti].zombie)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		pid_t tid = atoi(de->d_name);
		if (!has_thread(&ctx->tasks[ti], tid)) {
			int r = seize_one(ctx, ti, tid, fn, changed);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < ctx->tasks[ti].n_threads; i++) {
		int r = scan_children(ctx, ti, ctx->tasks[ti].threads[i].tid, changed);
		if (r < 0)
			return r;
	}
	return 0;
}

static int wait_interrupt(pid_t tid);

/* Collect the stop of every thread seized since the last call. A thread
 * that exited meanwhile leaves the list; a whole process that did is a
 * moment's state (EAGAIN: freeze_tree() tries again). */
static int wait_new(struct dump_ctx *ctx, bool *changed)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct dtask *t = &ctx->tasks[i];
		for (size_t j = 0; j < t->n_threads;) {
			struct dthread *th = &t->threads[j];
			if (!th->seized || th->stopped) {
				j++;
				continue;
			}
			int r = wait_interrupt(th->tid);
			if (r == -ESRCH) {
				err_clear();
				memmove(th, th + 1, (t->n_threads - j - 1) * sizeof(*th));
				t->n_threads--;
				*changed = true;
				continue;
			}
			if (r < 0)
				return err_wrap(r, "stopping pid %d", t->pid);
			th->stopped = true;
			j++;
		}
		if (!t->n_threads)
			return err_set(EAGAIN, "pid %d exited during the dump", t->pid);
	}
	return 0;
}

/* Each pass seizes and interrupts every new thread without waiting (the
 * stops come in parallel), reads the children, then (wait) collects the
 * stops; a pass after which nothing is new, with all stopped, ends it. */
static int passes(struct dump_ctx *ctx, seize_fn fn, bool wait)
{
	int r;
	for (int pass = 0; pass < 1000; pass++) {
		bool changed = false;
		for (size_t i = 0; i < ctx->n_tasks; i++) {
			r = scan_task(ctx, i, fn, &changed);
			if (r < 0)
				return r;
			if (ctx->tasks[i].n_threads == 0)
				return err_set(EAGAIN, "pid %d exited during the dump", ctx->tasks[i].pid);
		}
		if (wait && (r = wait_new(ctx, &changed)) < 0)
			return r;
		if (!changed && !(wait && ctx->vfork_pending))
			return 0;
		ctx->vfork_pending = false;
	}
	return err_set(EAGAIN, "the tree of pid %d keeps changing; giving up", ctx->o->pid);
}

static int walk(struct dump_ctx *ctx, seize_fn fn, bool wait)
{
	int r = add_task(ctx, ctx->o->pid, -1);
	return r < 0 ? r : passes(ctx, fn, wait);
}

static int seize_nowait(pid_t tid);

int seize_adopt(struct dump_ctx *ctx, pid_t pid)
{
	int r = add_task(ctx, pid, 0);
	return r < 0 ? r : passes(ctx, seize_nowait, false);
}

int seize_tree(struct dump_ctx *ctx)
{
	return walk(ctx, seize_nowait, true);
}

static int seize_nowait(pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
		return err_sys(errno, "seizing %d", tid);
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		int e = errno;
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return err_sys(e, "interrupting %d", tid);
	}
	return 0;
}

int seize_tree_frozen(struct dump_ctx *ctx)
{
	return walk(ctx, seize_nowait, false);
}

/* The same dance as ptrace_seize_stop's tail: a signal that arrives first is
 * passed on, then we ask for our stop again. */
static int wait_interrupt(pid_t tid)
{
	int status;
	for (;;) {
		int r = ptrace_wait_stop(tid, &status);
		if (r < 0)
			return r;
		if ((status >> 16) == PTRACE_EVENT_STOP)
			return 0;
		if (ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(status)) < 0)
			return err_sys(errno, "resuming %d to take its stop", tid);
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
			return err_sys(errno, "interrupting %d", tid);
	}
}

int seize_wait_all(struct dump_ctx *ctx)
{
	bool changed = false;
	int r = wait_new(ctx, &changed);
	/* what ran after the thaw (a vfork child left alone) is taken now */
	return r < 0 ? r : passes(ctx, seize_nowait, true);
}

/* PTRACE_DETACH wants a stopped tracee. A thread seized but not stopped yet
 * (a vfork parent that waits for its child to exec, say) has our interrupt
 * pending and stops as soon as it can: wait for that, up to a second, and
 * let it go then, with the signal that stopped it if it was one. Left
 * traced, it would stop for good once this process forgot it (and a later
 * dump would find it "already traced"). */
static void detach_when_stopped(pid_t tid)
{
	for (int i = 0; i < 1000; i++) {
		int status;
		pid_t p = waitpid(tid, &status, __WALL | WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			return; /* gone, or no longer ours */
		if (p == tid) {
			if (!WIFSTOPPED(status))
				return; /* it exited */
			/* a signal-delivery stop passes its signal on; our
			 * interrupt's stop and group stops pass none */
			int sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
			if (ptrace(PTRACE_DETACH, tid, 0, sig) == 0 || errno != ESRCH)
				return;
			continue;
		}
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	log_warn("thread %d did not stop within 1 s to be let go: it stays traced until this process exits",
		 tid);
}

void seize_release(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_tasks; i++)
		for (size_t j = 0; j < ctx->tasks[i].n_threads; j++) {
			struct dthread *th = &ctx->tasks[i].threads[j];
			if (th->seized && ptrace(PTRACE_DETACH, th->tid, 0, 0) < 0 && errno == ESRCH)
				detach_when_stopped(th->tid);
			th->seized = th->stopped = false;
		}
}

/* Reap one traced thread if its exit is there: true once it is gone (or no
 * longer ours to wait for), false while it still runs. A stop reported
 * before the kill is consumed on the way. */
static bool reap_if_exited(pid_t tid)
{
	for (;;) {
		int status;
		pid_t p = waitpid(tid, &status, __WALL | WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			return true;
		if (p == 0)
			return false;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return true;
	}
}

#define KILL_REAP_TIMEOUT_NS (10ULL * 1000000000ULL)

/* SIGKILL works on ptrace-stopped tasks. As their tracer we must reap the
 * exit of each traced thread, or its pid stays allocated. No blocking order
 * is safe: the last thread of a pid namespace's init to exit waits in the
 * kernel (zap_pid_ns_processes) until every other pid of the namespace is
 * freed, our traced zombies included, so a blocking wait on that thread
 * before the others never returns. Reap whatever has exited, in rounds,
 * until every thread is gone or the deadline passes. A zombie leader is
 * reported only after its other threads are reaped: the rounds see to that. */
void seize_kill(struct dump_ctx *ctx)
{
	unsigned long long deadline = now_ns() + KILL_REAP_TIMEOUT_NS;
	useconds_t nap = 50;
	size_t left;

	for (size_t i = 0; i < ctx->n_tasks; i++)
		kill(ctx->tasks[i].pid, SIGKILL);
	for (;;) {
		left = 0;
		for (size_t i = ctx->n_tasks; i-- > 0;)
			for (size_t j = ctx->tasks[i].n_threads; j-- > 0;) {
				struct dthread *th = &ctx->tasks[i].threads[j];
				if (!th->seized)
					continue;
				if (reap_if_exited(th->tid))
					th->seized = th->stopped = false;
				else
					left++;
			}
		if (!left || now_ns() > deadline)
			break;
		usleep(nap);
		if (nap < 5000)
			nap *= 2;
	}
	if (left)
		log_warn("%zu killed threads of the tree of pid %d did not exit in %llu s; "
			 "left to their parents", left, ctx->o->pid, KILL_REAP_TIMEOUT_NS / 1000000000ULL);
}

void dump_ctx_free_tasks(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_tasks; i++)
		free(ctx->tasks[i].threads);
	free(ctx->tasks);
	ctx->tasks = NULL;
	ctx->n_tasks = 0;
}
