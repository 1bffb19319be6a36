// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * checkpoint: the steps, in order.
 *
 *   check      the container runs (or is paused); the image dir exists
 *   stdio      descriptors.json: the init's fds 0-2 as runc records them
 *   freeze     the cgroup, so the extra state below matches the memory
 *   extras     tmpfs archives, hostname, loopback -> container.json
 *   dump       cr_dump through the cgroup (it seizes, thaws and, without
 *              leave_running, kills the tree)
 *   finish     delete the container, or re-pause one that was paused
 *
 * Any failure thaws the container (unless it was paused) and it runs on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "cgroups/cgroup.h"
#include "cr/cr.h"
#include "runtime/checkpoint.h"
#include "runtime/ckpt-meta.h"
#include "runtime/ckpt-ns.h"
#include "runtime/ckpt-wake.h"

struct ckpt {
	struct container *c;
	const struct container_checkpoint_opts *o;
	const char *work_dir;
	struct cgroup *cg;
	bool was_paused;
	bool engine_logged; /* cr_dump wrote its error to dump.log */
	char *desc[3];
	struct ckpt_meta meta;
	struct cr_mm_cache *mm_cache;
};

static int step_log_open(struct ckpt *k)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "%s/dump.log", k->work_dir) < 0)
		return -ENOMEM;
	r = log_step_open(path);
	return r < 0 ? err_sys(-r, "opening %s", path) : 0;
}

static int prepare(struct ckpt *k)
{
	enum container_status s = container_status(k->c);
	int r;

	if (s != CONTAINER_RUNNING && s != CONTAINER_PAUSED)
		return err_set(EINVAL, "container %s is not running: %s", k->c->id,
			       container_status_name(s));
	k->was_paused = s == CONTAINER_PAUSED;
	if ((r = mkdir_p(k->o->image_dir, 0700)) < 0)
		return err_sys(-r, "creating the image directory %s", k->o->image_dir);
	if ((r = mkdir_p(k->work_dir, 0700)) < 0)
		return err_sys(-r, "creating the work directory %s", k->work_dir);
	if ((r = step_log_open(k)) < 0)
		return r;
	r = container_cgroup(k->c, &k->cg);
	return r < 0 ? err_wrap(r, "container %s: its cgroup", k->c->id) : 0;
}

static int save_tmpfs(struct ckpt *k)
{
	_cleanup_strv_ char **mnts = NULL;
	int r = ckpt_tmpfs_list(k->c->pid, &mnts);

	if (r < 0)
		return r;
	for (size_t i = 0; mnts[i]; i++) {
		_cleanup_free_ char *path = NULL;
		char name[64];
		struct stat st;
		bool empty;

		if ((r = ckpt_tmpfs_is_empty(k->c->pid, mnts[i], &st, &empty)) < 0)
			return r;
		if (empty) {
			log_info("the tmpfs at %s is empty: its mode and owner only", mnts[i]);
			if ((r = ckpt_meta_add_empty_tmpfs(&k->meta, mnts[i], st.st_mode, st.st_uid,
							   st.st_gid)) < 0)
				return r;
			continue;
		}

		snprintf(name, sizeof(name), "tmpfs-%zu.tar", i);
		if (asprintf(&path, "%s/%s", k->o->image_dir, name) < 0)
			return -ENOMEM;
		log_info("archiving the tmpfs at %s into %s", mnts[i], name);
		if ((r = ckpt_tmpfs_save(k->c->pid, mnts[i], path)) < 0 ||
		    (r = ckpt_meta_add_tmpfs(&k->meta, mnts[i], name)) < 0)
			return r;
	}
	return 0;
}

static int save_extras(struct ckpt *k)
{
	pid_t pid = k->c->pid;
	bool own;
	int r;

	if (!(k->meta.id = strdup(k->c->id)))
		return -ENOMEM;
	if ((r = ckpt_own_ns(pid, "uts", &own)) < 0)
		return r;
	if (own && (r = ckpt_hostname_get(pid, &k->meta.hostname)) < 0)
		return r;
	if ((r = ckpt_own_ns(pid, "net", &own)) < 0)
		return r;
	if (own && !k->o->empty_netns) {
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s", k->o->image_dir, CKPT_NET_FILE) < 0)
			return -ENOMEM;
		if ((r = ckpt_net_save(pid, path)) < 0)
			return r;
		if (!(k->meta.net_file = strdup(CKPT_NET_FILE)))
			return -ENOMEM;
	}
	if ((r = save_tmpfs(k)) < 0)
		return r;
	k->meta.paused = k->was_paused;
	for (int i = 0; i < 3; i++)
		k->meta.stdio_tty[i] = ckpt_fd_is_tty(pid, i);
	return ckpt_meta_write(k->o->image_dir, &k->meta);
}

/* The init's stdio is the caller's business: pipes, sockets, terminals and
 * host files there become externals, handed back by whoever restores (runc
 * through descriptors.json). /dev/null is the container's own to reopen. */
static void external_keys(struct ckpt *k, const char *keys[3], size_t *n)
{
	*n = 0;
	for (int i = 0; i < 3; i++) {
		const char *d = k->desc[i];
		bool dup = false;
		if (!d[0] || streq(d, "/dev/null"))
			continue;
		for (size_t j = 0; j < *n; j++)
			dup |= streq(keys[j], d);
		if (!dup)
			keys[(*n)++] = d;
	}
}

static int dump(struct ckpt *k)
{
	const char *keys[3];
	struct cr_dump_opts d = {
		.pid = k->c->pid,
		.image_dir = k->o->image_dir,
		.work_dir = k->work_dir,
		.leave_running = k->o->leave_running,
		.cgroup = k->cg,
		.tcp_established = k->o->tcp_established,
		.ext_unix_sk = k->o->ext_unix_sk,
		.shell_job = k->o->shell_job,
		.file_locks = k->o->file_locks,
		.container_id = k->c->id,
		.external_keys = keys,
		.lazy_pages = k->o->lazy_pages,
		.mm_cache = k->mm_cache,
	};

	external_keys(k, keys, &d.n_external_keys);
	/* cr_dump writes its own steps to dump.log */
	log_step_close();
	int r = cr_dump(&d);
	step_log_open(k);
	k->engine_logged = r < 0;
	return r;
}

static int finish(struct ckpt *k)
{
	int r;

	if (k->o->leave_running) {
		if (k->was_paused && (r = cgroup_freeze(k->cg)) < 0)
			return err_wrap(r, "pausing the container again after the dump");
		log_info("container %s left running", k->c->id);
		return 0;
	}
	log_info("destroying container %s", k->c->id);
	r = container_delete(k->c, true);
	return r < 0 ? err_wrap(r, "removing container %s after the dump", k->c->id) : 0;
}

/* Lazy pages: the mappings' page walk happens now, not frozen (mm-cache.c). */
static int read_mappings_early(struct ckpt *k)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r = cgroup_pids(k->cg, &pids, &n);

	if (r < 0)
		return err_wrap(r, "listing the container's processes");
	return cr_mm_cache_fill(pids, n, &k->mm_cache);
}

/* Lazy pages: tasks that slept pay this VM's cost of their first return to
 * user mode now, not in the frozen window (ckpt-wake.c). */
static int wake_before_freeze(struct ckpt *k)
{
	struct ckpt_wake w;
	int r = ckpt_wake_before_freeze(k->cg, &w);

	if (r < 0)
		return err_wrap(r, "waking the container before the freeze");
	if (w.threads)
		log_info("woke %zu sleeping threads before the freeze: asleep again in %.1f ms%s", w.threads,
			 w.ms, w.running ? " (some still running)" : "");
	return 0;
}

static int run(struct ckpt *k)
{
	int r;

	if ((r = prepare(k)) < 0)
		return r;
	log_info("checkpointing container %s (init pid %d) into %s", k->c->id, k->c->pid,
		 k->o->image_dir);
	if ((r = ckpt_descriptors_collect(k->c->pid, k->desc)) < 0 ||
	    (r = ckpt_descriptors_write(k->o->image_dir, k->desc)) < 0)
		return err_wrap(r, "recording the init's stdio");
	if (k->o->lazy_pages && (r = read_mappings_early(k)) < 0)
		return r;
	if (k->o->lazy_pages && !k->was_paused && (r = wake_before_freeze(k)) < 0)
		return r;
	/* downtime counts from here: the freeze itself is part of it */
	log_wallclock("container freezing");
	if (!k->was_paused && (r = cgroup_freeze_brief(k->cg)) < 0)
		return err_wrap(r, "freezing container %s", k->c->id);
	log_wallclock("container frozen");
	if ((r = save_extras(k)) < 0)
		return err_wrap(r, "saving the container's state");
	if ((r = dump(k)) < 0)
		return r;
	return finish(k);
}

int container_checkpoint(struct container *c, const struct container_checkpoint_opts *o)
{
	struct ckpt k = { .c = c, .o = o };
	int r;

	if (!o->image_dir)
		return err_set(EINVAL, "checkpoint needs an image directory");
	k.work_dir = o->work_dir ? o->work_dir : o->image_dir;
	r = run(&k);
	if (r < 0) {
		if (!k.engine_logged)
			log_error("%s", err_msg()[0] ? err_msg() : strerror(-r));
		/* the engine thaws what it froze; this undoes our own freeze */
		if (k.cg && !k.was_paused && container_init_alive(c))
			cgroup_thaw(k.cg);
	}
	log_step_close();
	ckpt_descriptors_free(k.desc);
	ckpt_meta_free(&k.meta);
	cr_mm_cache_free(k.mm_cache);
	return r;
}
