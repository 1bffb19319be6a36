// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cr_dump(): a linear list of named steps. The tree is stopped first and
 * stays stopped until the end; any failure puts it back exactly as it was
 * (registers untouched, ptrace detached, cgroup thawed) and it runs on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "cr/dump-internal.h"
#include "cr/image.h"
#include "cr/lazy-internal.h"
#include "cr/stats.h"
#include "cr/tcp-repair.h"
#include "inventory.pb-c.h"

static int open_dirs(struct dump_ctx *ctx)
{
	const struct cr_dump_opts *o = ctx->o;
	const char *work = o->work_dir ? o->work_dir : o->image_dir;
	char path[4096];
	int r;

	if (!o->image_dir)
		return err_set(EINVAL, "no image directory");
	if ((r = mkdir_p(o->image_dir, 0700)) < 0)
		return err_sys(-r, "creating %s", o->image_dir);
	if ((r = mkdir_p(work, 0700)) < 0)
		return err_sys(-r, "creating %s", work);
	ctx->img_dirfd = open(o->image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->img_dirfd < 0)
		return err_sys(errno, "opening %s", o->image_dir);
	snprintf(path, sizeof(path), "%s/dump.log", work);
	if ((r = log_step_open(path)) < 0)
		return err_sys(-r, "opening %s", path);
	return 0;
}

static int dump_tasks(struct dump_ctx *ctx)
{
	int r;

	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct dtask *t = &ctx->tasks[i];
		if (t->zombie)
			continue;
		if (!ctx->o->pre_dump && (r = task_dump_core(ctx, t)) < 0)
			return r;
		if ((r = vma_dump_mm(ctx, t)) < 0)
			return r;
	}
	return 0;
}

static int dump_files(struct dump_ctx *ctx)
{
	int r;

	for (size_t i = 0; i < ctx->n_tasks; i++)
		if (!ctx->tasks[i].zombie && (r = files_collect(ctx, &ctx->tasks[i])) < 0)
			return r;
	return files_dump(ctx);
}

static int write_inventory(struct dump_ctx *ctx)
{
	const struct cr_dump_opts *o = ctx->o;
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	struct utsname u;
	struct timespec ts;

	inv.format_version = CR_IMAGE_VERSION;
	inv.root_pid = ctx->tasks[0].ns_pid;
	inv.own_pid_ns = ctx->own_pid_ns;
	if (uname(&u) == 0)
		inv.kernel_release = u.release;
	inv.has_xcr0 = inv.has_xstate_size = ctx->xstate_size != 0;
	inv.xcr0 = ctx->xcr0;
	inv.xstate_size = ctx->xstate_size;
	if (ctx->have_vdso) {
		inv.has_vdso_hash = inv.has_vdso_size = true;
		inv.vdso_hash.data = ctx->vdso_digest;
		inv.vdso_hash.len = sizeof(ctx->vdso_digest);
		inv.vdso_size = ctx->vdso_size;
	}
	inv.has_lazy_pages = true;
	inv.lazy_pages = o->lazy_pages;
	if (o->lazy_pages)
		lazy_src_inventory(&inv);
	inv.parent_path = (char *)o->parent_path;
	clock_gettime(CLOCK_REALTIME, &ts);
	inv.has_dump_time_ns = true;
	inv.dump_time_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	inv.container_id = (char *)o->container_id;
	inv.has_root_ppid = true;
	inv.root_ppid = ctx->root_ns_ppid;
	inv.has_root_host_pid = true;
	inv.root_host_pid = ctx->tasks[0].pid;
	return img_write_one(ctx->img_dirfd, CR_IMG_INVENTORY, 0, &inv.base);
}

static int write_stats(struct dump_ctx *ctx, unsigned long long t_end)
{
	const struct dump_stats *s = &ctx->stats;
	DumpStatsEntry e = DUMP_STATS_ENTRY__INIT;

	e.freezing_time = (s->frozen_ns - s->freeze_start_ns) / 1000;
	e.frozen_time = (t_end - s->frozen_ns) / 1000;
	e.memdump_time = s->memdump_ns / 1000;
	e.memwrite_time = s->memwrite_ns / 1000;
	e.pages_scanned = s->pages_scanned;
	e.pages_skipped_parent = 0;
	e.pages_written = s->pages_written;
	e.has_pages_lazy = true;
	e.pages_lazy = s->pages_lazy;
	return stats_write_dump(ctx->o->work_dir ? ctx->o->work_dir : ctx->o->image_dir, &e);
}

/* Success: the tree dies (or runs on with leave_running/pre_dump). */
static void finish(struct dump_ctx *ctx)
{
	if (ctx->o->leave_running || ctx->o->pre_dump) {
		tcp_repair_dump_end(ctx, false);
		seize_release(ctx);
		freeze_thaw(ctx);
		log_info("tree left running");
		return;
	}
	seize_kill(ctx);
	freeze_thaw(ctx);
	/* after the kill: their sockets close in repair mode, silently */
	tcp_repair_dump_end(ctx, true);
	log_info("tree killed");
}

static int run_steps(struct dump_ctx *ctx)
{
	int r;

	log_info("dumping the tree of pid %d into %s", ctx->o->pid, ctx->o->image_dir);
	if ((r = freeze_tree(ctx)) < 0)
		return r;
	if ((r = pstree_collect(ctx)) < 0)
		return r;
	if ((r = pstree_write(ctx)) < 0)
		return err_wrap(r, "writing the process tree");
	/* files before memory: an fd we cannot restore fails the dump early */
	if (!ctx->o->pre_dump && (r = dump_files(ctx)) < 0)
		return r;
	if ((r = dump_tasks(ctx)) < 0)
		return r;
	if ((r = write_inventory(ctx)) < 0)
		return err_wrap(r, "writing the inventory");
	log_info("dump done: %llu pages written", (unsigned long long)ctx->stats.pages_written);
	return 0;
}

/* After the tree is released or gone: the statistics file is synced to
 * disk, which is no reason to keep the tree frozen longer. Its failure
 * cannot undo the dump any more, so it is only logged. */
static void finish_stats(struct dump_ctx *ctx)
{
	unsigned long long t_end = now_ns();
	log_info("frozen for %llu us", (t_end - ctx->stats.frozen_ns) / 1000);
	int r = write_stats(ctx, t_end);
	if (r < 0)
		log_warn("writing dump statistics: %s", err_msg()[0] ? err_msg() : strerror(-r));
}

int cr_dump(const struct cr_dump_opts *o)
{
	struct dump_ctx ctx = { .o = o, .img_dirfd = -1 };
	int r;

	r = open_dirs(&ctx);
	if (r >= 0)
		r = run_steps(&ctx);
	/* lazy: the tree stays frozen while its memory is served; success
	 * (every page delivered) kills it below, failure lets it run on */
	if (r >= 0 && o->lazy_pages)
		r = lazy_src_serve(&ctx);
	if (r < 0) {
		/* put everything back: a failed dump leaves the tree as it was */
		tcp_repair_dump_end(&ctx, false);
		seize_release(&ctx);
		freeze_thaw(&ctx);
		log_error("%s", err_msg()[0] ? err_msg() : strerror(-r));
	} else {
		finish(&ctx);
		finish_stats(&ctx);
	}
	log_step_close();
	files_free(&ctx);
	dump_ctx_free_tasks(&ctx);
	if (ctx.img_dirfd >= 0)
		close(ctx.img_dirfd);
	return r;
}
