// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cr_restore(): rebuild a dumped process tree, as a linear list of steps.
 *
 *   images     read and cross-check every image (restore-images.c)
 *   anchor     a stopped process in the target pid namespace: ours (reaper
 *              or root, puppet.c) or the caller's (make_root)
 *   tasks      clone3(set_tid) from parents' puppets; sessions, groups
 *   memory     per task: address space, pages, mm fields; then threads
 *   files      per task: every fd at its number
 *   state      per task: attributes, signal handlers, timers, per-thread
 *              state, pending signals, credentials last
 *   final      registers; the gadget goes; then all detach together
 *   wait       unless detached: the root's wait status
 *
 * On failure every puppet made so far is killed: nothing is left behind.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "cr/lazy-internal.h"
#include "cr/ptrace.h"
#include "cr/restore-internal.h"
#include "cr/tcp-repair.h"
#include "cr/stats.h"

typedef int (*task_step_fn)(struct rst_ctx *c, struct rst_task *t);

static int step(struct rst_ctx *c, const char *name, int (*fn)(struct rst_ctx *c))
{
	log_info("%s", name);
	return fn(c);
}

static int each_task(struct rst_ctx *c, const char *name, task_step_fn fn)
{
	log_info("%s", name);
	for (size_t i = 0; i < c->n_tasks; i++) {
		if (c->tasks[i].zombie)
			continue; /* made and gone in "creating tasks" */
		int r = fn(c, &c->tasks[i]);
		if (r < 0) {
			const char *m = err_msg();
			/* say which pid unless a deeper step already did */
			if (strncmp(m, "restoring pid ", 14))
				err_wrap(r, "restoring pid %d: %s", c->tasks[i].pid, name);
			return r;
		}
	}
	return 0;
}

static int check_xstate(struct rst_ctx *c)
{
	char buf[16384];
	size_t len;
	int r;

	if (!c->inv->has_xstate_size)
		return 0;
	r = ptrace_get_xstate(c->anchor, buf, sizeof(buf), &len);
	if (r < 0)
		return r;
	if (len != c->inv->xstate_size)
		return err_set(EINVAL, "images hold %u bytes of xstate per thread, this machine %zu: "
				       "another CPU?", c->inv->xstate_size, len);
	return 0;
}

static int attach_anchor(struct rst_ctx *c)
{
	int r = puppet_attach_anchor(c);
	return r < 0 ? r : check_xstate(c);
}

static int mem_and_threads(struct rst_ctx *c, struct rst_task *t)
{
	int r = rst_mem_restore(c, t);
	if (r < 0)
		return r;
	return rst_threads_create(c, t);
}

static int task_state(struct rst_ctx *c, struct rst_task *t)
{
	int r;

	if ((r = rst_sigactions(c, t)) < 0 ||
	    (r = rst_timers(c, t)) < 0 || (r = rst_thread_state(c, t)) < 0 ||
	    (r = rst_pending(c, t)) < 0 || (r = rst_files_finish(c, t)) < 0 ||
	    (r = rst_seccomp_before_creds(c, t)) < 0 || (r = rst_creds(c, t)) < 0 ||
	    (r = rst_seccomp_after_creds(c, t)) < 0)
		return r;
	return 0;
}

/* A caller's anchor that is not the root gets its own state back. */
static int release_foreign_anchor(struct rst_ctx *c)
{
	unsigned long a[6] = { c->gadget, RST_GADGET_PAGES * RST_PAGE };
	long ret;

	if (c->anchor_ours || c->anchor_is_root)
		return 0;
	int r = inject_syscall_here(c->anchor, SYS_munmap, a, &ret);
	return r < 0 ? err_wrap(r, "unmapping the gadget from the anchor") : 0;
}

static int let_go(struct rst_ctx *c)
{
	int r = release_foreign_anchor(c);
	if (r < 0)
		return r;
	r = rst_detach_all(c);
	if (r < 0)
		return r;
	if (c->anchor_is_reaper) {
		struct puppet_go go = { .root_pid = c->tasks[0].pid, .parent_pid = c->parent_ns };
		for (int i = 0; i < (c->parent_ns ? 2 : 1); i++)
			if (write(c->anchor_go_fd, &go, sizeof(go)) != sizeof(go))
				return err_sys(errno, "releasing the reaper");
	}
	return 0;
}

static void write_stats(struct rst_ctx *c)
{
	RestoreStatsEntry s = RESTORE_STATS_ENTRY__INIT;
	unsigned long long now = now_ns();

	s.forking_time = (c->t_fork_done - c->t_start) / 1000;
	s.restore_time = (now - c->t_start) / 1000;
	s.has_pages_restored = true;
	s.pages_restored = c->pages_restored;
	if (stats_write_restore(c->work_dir, &s) < 0)
		log_warn("could not write stats-restore: %s", err_msg());
}

/* Without detach: the root's wait status. Ours when the root is our child
 * (root anchor) or through the reaper's status pipe; a caller's anchor
 * makes it the caller's business: -1. */
static int wait_root(struct rst_ctx *c, int *ret_status)
{
	int st = -1;

	if (c->anchor_ours && c->anchor_is_reaper) {
		ssize_t n;
		do
			n = read(c->anchor_status_fd, &st, sizeof(st));
		while (n < 0 && errno == EINTR);
		int rst;
		while (waitpid(c->anchor, &rst, 0) < 0 && errno == EINTR)
			;
		if (n != sizeof(st))
			st = rst; /* the reaper died without a report */
	} else if (c->anchor_ours || c->anchor_is_root) {
		pid_t p;
		do
			p = waitpid(c->tasks[0].host_pid, &st, __WALL);
		while (p < 0 && errno == EINTR);
		if (p < 0)
			st = -1;
	}
	if (ret_status)
		*ret_status = st;
	return 0;
}

static void ctx_close(struct rst_ctx *c)
{
	for (size_t i = 0; i < c->n_tasks; i++)
		if (c->tasks[i].transport_engine >= 0)
			close(c->tasks[i].transport_engine);
	rst_files_cleanup(c);
	if (c->anchor_go_fd >= 0)
		close(c->anchor_go_fd);
	if (c->anchor_status_fd >= 0)
		close(c->anchor_status_fd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->shm);
	rst_images_free(c);
}

static int run(struct rst_ctx *c)
{
	int r;

	if ((r = step(c, "reading images", rst_images_load)) < 0 ||
	    (r = lazy_rst_begin(c)) < 0 ||
	    (r = step(c, "making the root anchor", puppet_make_anchor)) < 0 ||
	    (r = step(c, "choosing the gadget address", puppet_pick_gadget)) < 0 ||
	    (r = step(c, "attaching the anchor", attach_anchor)) < 0 ||
	    (r = step(c, "creating tasks", rst_pstree_create)) < 0 ||
	    (r = step(c, "joining process groups", rst_pstree_groups)) < 0)
		return r;
	c->t_fork_done = now_ns();
	if ((r = each_task(c, "restoring memory and threads", mem_and_threads)) < 0 ||
	    (r = each_task(c, "restoring task attributes", rst_task_attrs)) < 0 ||
	    (r = step(c, "creating shared files", rst_files_prepare)) < 0 ||
	    (r = each_task(c, "restoring files", rst_files_restore)) < 0 ||
	    (r = each_task(c, "restoring task state", task_state)) < 0 ||
	    (r = each_task(c, "restoring registers", rst_final_task)) < 0 ||
	    (r = lazy_rst_connected(c)) < 0 ||
	    /* last: until here a failure closes them in repair mode, silently */
	    (r = step(c, "TCP connections out of repair mode", tcp_repair_finish)) < 0 ||
	    (r = step(c, "detaching", let_go)) < 0)
		return r;
	/* the tasks execute from here: the end of a migration's downtime (the
	 * caller's bookkeeping, and a lazy handler told to start its stream,
	 * come after) */
	log_wallclock("tree running");
	log_info("restored %zu tasks, %llu pages", c->n_tasks, (unsigned long long)c->pages_restored);
	return 0;
}

int cr_restore(const struct cr_restore_opts *o, pid_t *ret_root_pid, int *ret_status)
{
	struct rst_ctx c = { .o = o, .dirfd = -1, .anchor_go_fd = -1, .anchor_status_fd = -1 };
	char path[4096];
	int r;

	if (!o || !o->image_dir)
		return err_set(EINVAL, "restore needs an image directory");
	c.work_dir = o->work_dir ? o->work_dir : o->image_dir;
	c.t_start = now_ns();
	snprintf(path, sizeof(path), "%s/restore.log", c.work_dir);
	r = log_step_open(path);
	if (r < 0)
		return err_sys(-r, "opening %s", path);
	c.dirfd = open(o->image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.dirfd < 0) {
		r = err_sys(errno, "opening the image directory %s", o->image_dir);
		goto out;
	}
	r = run(&c);
	lazy_rst_finish(&c, r);
	if (r < 0) {
		puppet_kill_all(&c);
		goto out;
	}
	write_stats(&c);
	if (ret_root_pid)
		*ret_root_pid = c.tasks[0].host_pid;
	if (!o->detach)
		wait_root(&c, ret_status);
	else if (ret_status)
		*ret_status = -1;
out:
	if (r < 0)
		log_error("%s", err_msg());
	ctx_close(&c);
	log_step_close();
	return r;
}
