// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stopping the tree. With a cgroup, the freezer stops every task at once
 * (no task can fork or exit while we walk); we then seize and interrupt
 * each thread, thaw, and collect the ptrace stops: a ptrace stop outlives
 * the thaw, and the tasks are then in the state every later step expects.
 * Without a cgroup, ptrace alone (seize.c rescans until the set is stable).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "cgroups/cgroup.h"
#include "cr/dump-internal.h"
#include "cr/proc-parse.h"

static bool in_tree(const struct dump_ctx *ctx, pid_t pid)
{
	for (size_t i = 0; i < ctx->n_tasks; i++)
		if (ctx->tasks[i].pid == pid)
			return true;
	return false;
}

/* A process in the container's cgroup but not below its init would be
 * silently lost: refuse it by name. */
static int check_cgroup_members(struct dump_ctx *ctx)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r = cgroup_pids(ctx->o->cgroup, &pids, &n);
	if (r < 0)
		return err_wrap(r, "listing the cgroup's processes");
	for (size_t i = 0; i < n; i++)
		if (!in_tree(ctx, pids[i]))
			return err_set(EBUSY, "pid %d is in the container's cgroup but not in the "
					      "process tree of pid %d; not supported",
				       pids[i], ctx->o->pid);
	return 0;
}

/* Processes in the container whose parent lives outside it (`exec` makes
 * them the caller's children) are not below the init; they belong to the
 * container all the same, as with runc, whose exec'd processes CRIU dumps.
 * Adopt each one whose parent is not in the cgroup; its own children are
 * then found by the walk. Only for a container's own pid namespace: there,
 * restore can make them children of pid 1 and keep their pids. */
static int adopt_outside_children(struct dump_ctx *ctx)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r = cgroup_pids(ctx->o->cgroup, &pids, &n);
	if (r < 0)
		return err_wrap(r, "listing the cgroup's processes");
	for (size_t i = 0; i < n; i++) {
		struct proc_status st;
		bool parent_inside = false;

		if (in_tree(ctx, pids[i]))
			continue;
		if (proc_parse_status(pids[i], &st) < 0)
			continue; /* gone; check_cgroup_members decides */
		for (size_t j = 0; j < n; j++)
			parent_inside |= pids[j] == st.ppid;
		bool own_ns = st.ns_levels > 1;
		proc_status_free(&st);
		if (parent_inside || !own_ns)
			continue;
		log_info("adopting pid %d: its parent is outside the container", pids[i]);
		r = seize_adopt(ctx, pids[i]);
		if (r < 0)
			return err_wrap(r, "adopting pid %d", pids[i]);
	}
	return 0;
}

static int freeze_cgroup(struct dump_ctx *ctx)
{
	int r = cgroup_freeze_brief(ctx->o->cgroup);
	if (r < 0)
		return err_wrap(r, "freezing the cgroup");
	ctx->frozen_cgroup = true;
	log_info("cgroup frozen");
	r = seize_tree_frozen(ctx);
	if (r < 0)
		return r;
	r = adopt_outside_children(ctx);
	if (r < 0)
		return r;
	r = cgroup_thaw(ctx->o->cgroup);
	if (r < 0)
		return err_wrap(r, "thawing the cgroup after seizing");
	ctx->frozen_cgroup = false;
	if ((r = seize_wait_all(ctx)) < 0)
		return r;
	/* after the stops: a vfork child left to run has joined the tree */
	return check_cgroup_members(ctx);
}

/* A zombie, or a tree that changed under the walk, is usually a moment's
 * state (a parent about to reap, a fork in flight): let the tree run a
 * little and try again before giving up. */
#define FREEZE_ATTEMPTS 50
#define FREEZE_RETRY_US 10000

static int freeze_once(struct dump_ctx *ctx)
{
	return ctx->o->cgroup ? freeze_cgroup(ctx) : seize_tree(ctx);
}

int freeze_tree(struct dump_ctx *ctx)
{
	int r;

	ctx->stats.freeze_start_ns = now_ns();
	for (int attempt = 1;; attempt++) {
		r = freeze_once(ctx);
		if (r != -EAGAIN || attempt == FREEZE_ATTEMPTS)
			break;
		seize_release(ctx);
		freeze_thaw(ctx);
		dump_ctx_free_tasks(ctx);
		err_clear();
		usleep(FREEZE_RETRY_US);
	}
	if (r < 0)
		return err_wrap(r, "freezing the tree of pid %d", ctx->o->pid);
	ctx->stats.frozen_ns = now_ns();
	size_t nthreads = 0;
	for (size_t i = 0; i < ctx->n_tasks; i++)
		nthreads += ctx->tasks[i].n_threads;
	log_info("tree of pid %d stopped: %zu processes, %zu threads in %llu us", ctx->o->pid,
		 ctx->n_tasks, nthreads, (ctx->stats.frozen_ns - ctx->stats.freeze_start_ns) / 1000);
	return 0;
}

void freeze_thaw(struct dump_ctx *ctx)
{
	if (ctx->frozen_cgroup && ctx->o->cgroup)
		cgroup_thaw(ctx->o->cgroup);
	ctx->frozen_cgroup = false;
}
