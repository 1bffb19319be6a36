// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The process tree as its own pid namespace sees it. Every task must live in
 * the root's pid namespace: a nested one would need its own reaper on
 * restore, which we do not do.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/dump-internal.h"
#include "cr/image.h"
#include "cr/proc-parse.h"
#include "pstree.pb-c.h"

static int thread_ns_tid(pid_t pid, pid_t tid, pid_t *ret)
{
	char path[96];
	struct proc_status st;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	int r = proc_parse_status_path(path, &st);
	if (r < 0)
		return r;
	*ret = st.ns_pid;
	proc_status_free(&st);
	return 0;
}

static int pidns_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	return proc_readlink(path, buf, len);
}

static int collect_one(struct dump_ctx *ctx, struct dtask *t, const char *root_ns)
{
	struct proc_status st;
	char ns[64];
	int r;

	/* a zombie has left its namespaces; it stays in its parent's */
	r = t->zombie ? 0 : pidns_of(t->pid, ns, sizeof(ns));
	if (r < 0)
		return r;
	if (!t->zombie && !streq(ns, root_ns))
		return err_set(ENOTSUP, "pid %d is in a nested pid namespace (%s, the root's is %s); "
					"not supported", t->pid, ns, root_ns);
	r = proc_parse_status(t->pid, &st);
	if (r < 0)
		return r;
	t->ns_pid = st.ns_pid;
	t->ns_pgid = st.ns_pgid;
	t->ns_sid = st.ns_sid;
	t->host_ppid = st.ppid;
	proc_status_free(&st);
	t->ns_ppid = t->parent >= 0 ? ctx->tasks[t->parent].ns_pid : 0;
	for (size_t i = 0; i < t->n_threads; i++) {
		r = thread_ns_tid(t->pid, t->threads[i].tid, &t->threads[i].ns_tid);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The root's parent is outside the tree: its pid as the tree's namespace
 * sees it, if it is in that namespace at all (else 0). */
static int root_parent(struct dump_ctx *ctx)
{
	struct proc_status root, parent;
	int r;

	ctx->root_ns_ppid = 0;
	if (ctx->own_pid_ns || ctx->tasks[0].host_ppid <= 0)
		return 0;
	if ((r = proc_parse_status(ctx->tasks[0].pid, &root)) < 0)
		return r;
	int levels = root.ns_levels;
	proc_status_free(&root);
	if (proc_parse_status(ctx->tasks[0].host_ppid, &parent) < 0) {
		err_clear(); /* it may be gone already: the root is then an orphan */
		return 0;
	}
	if (parent.ns_levels == levels)
		ctx->root_ns_ppid = parent.ns_pid;
	proc_status_free(&parent);
	return 0;
}

int pstree_collect(struct dump_ctx *ctx)
{
	char root_ns[64];
	int r = pidns_of(ctx->o->pid, root_ns, sizeof(root_ns));
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		r = collect_one(ctx, &ctx->tasks[i], root_ns);
		if (r < 0)
			return err_wrap(r, "pid %d", ctx->tasks[i].pid);
	}
	/* pid 1 of its own namespace: a container's init; restore makes it pid 1
	 * again. Otherwise restore provides a reaper as pid 1. */
	ctx->own_pid_ns = ctx->tasks[0].ns_pid == 1;
	return root_parent(ctx);
}

struct dtask *pstree_find_ns(struct dump_ctx *ctx, pid_t ns_pid)
{
	for (size_t i = 0; i < ctx->n_tasks; i++)
		if (ctx->tasks[i].ns_pid == ns_pid)
			return &ctx->tasks[i];
	return NULL;
}

int pstree_write(struct dump_ctx *ctx)
{
	struct cr_img *img;
	int r = img_open(ctx->img_dirfd, CR_IMG_PSTREE, 0, O_WRONLY, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->n_tasks && r >= 0; i++) {
		struct dtask *t = &ctx->tasks[i];
		_cleanup_free_ uint32_t *tids = calloc(t->n_threads, sizeof(*tids));
		if (!tids) {
			r = err_set(ENOMEM, "out of memory");
			break;
		}
		for (size_t j = 0; j < t->n_threads; j++)
			tids[j] = t->threads[j].ns_tid;
		PstreeEntry e = PSTREE_ENTRY__INIT;
		e.pid = t->ns_pid;
		e.ppid = t->ns_ppid;
		e.pgid = t->ns_pgid;
		e.sid = t->ns_sid;
		e.n_threads = t->n_threads;
		e.threads = tids;
		if (t->zombie) {
			e.has_zombie = e.zombie = true;
			e.has_exit_status = true;
			e.exit_status = t->exit_status;
		}
		r = img_write_msg(img, &e.base);
	}
	int r2 = img_close(img);
	return r < 0 ? r : r2;
}
