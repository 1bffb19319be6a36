// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroup v1 backend, also used on hybrid hosts: one directory per mounted
 * hierarchy, plus (hybrid) the same path in the unified tree so that
 * cgroup.kill, cgroup.events and the v2-only controllers are there too.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "cgroups/cgroup-internal.h"

#define FREEZE_DEADLINE_NS (10ULL * 1000000000ULL)

/* Keep the controller names of a cgroup v1 superblock option list. */
static char *controllers_from_opts(const char *opts)
{
	_cleanup_free_ char *copy = strdup(opts), *out = NULL;
	char *save = NULL;
	size_t n = 0;

	if (!copy)
		return NULL;
	out = calloc(1, strlen(opts) + 1);
	if (!out)
		return NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (streq(t, "rw") || streq(t, "ro") || streq(t, "noprefix") ||
		    streq(t, "clone_children") || streq(t, "xattr") || streq(t, "cpuset_v2_mode") ||
		    streq(t, "favordynmods") || (strchr(t, '=') && strncmp(t, "name=", 5) != 0))
			continue;
		n += sprintf(out + n, "%s%s", n ? "," : "", t);
	}
	return n ? TAKE_PTR(out) : NULL;
}

static bool has_hier(const struct cgroup *cg, const char *controllers)
{
	for (size_t i = 0; i < cg->n_hiers; i++)
		if (streq(cg->hiers[i].controllers, controllers))
			return true;
	return false;
}

int cgroup_v1_scan(struct cgroup *cg)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return err_sys(errno, "opening /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], fstype[64], opts[1024];
		char *sep = strstr(line, " - ");
		_cleanup_free_ char *ctrls = NULL;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2 || !streq(fstype, "cgroup"))
			continue;
		ctrls = controllers_from_opts(opts);
		if (!ctrls || has_hier(cg, ctrls))
			continue;
		struct cgroup_hier *nh = realloc(cg->hiers, (cg->n_hiers + 1) * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		cg->hiers = nh;
		nh = &cg->hiers[cg->n_hiers];
		memset(nh, 0, sizeof(*nh));
		nh->mnt = strdup(mnt);
		nh->controllers = TAKE_PTR(ctrls);
		if (!nh->mnt || asprintf(&nh->dir, "%s%s", mnt, cg->path) < 0) {
			free(nh->mnt);
			free(nh->controllers);
			return -ENOMEM;
		}
		cg->n_hiers++;
	}
	if (!cg->n_hiers)
		return err_set(ENOENT, "no cgroup v1 hierarchy is mounted");
	return 0;
}

struct cgroup_hier *cgroup_v1_find(const struct cgroup *cg, const char *controller)
{
	size_t len = strlen(controller);

	for (size_t i = 0; i < cg->n_hiers; i++) {
		const char *c = cg->hiers[i].controllers;
		for (const char *p = c; (p = strstr(p, controller)); p += len)
			if ((p == c || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
				return &cg->hiers[i];
	}
	return NULL;
}

/* v1 cpuset refuses tasks while cpus or mems is empty: inherit from the parent, top down. */
static int cpuset_fill(const char *mnt, const char *path)
{
	char parent[PATH_MAX], cur[PATH_MAX];
	const char *p = path;
	int r;

	snprintf(parent, sizeof(parent), "%s", mnt);
	while (*p) {
		const char *next = strchr(p + 1, '/');
		size_t len = next ? (size_t)(next - path) : strlen(path);
		snprintf(cur, sizeof(cur), "%s%.*s", mnt, (int)len, path);
		for (int i = 0; i < 2; i++) {
			const char *file = i ? "cpuset.mems" : "cpuset.cpus";
			_cleanup_free_ char *mine = NULL, *theirs = NULL;

			r = cgroup_read(cur, file, &mine);
			if (r < 0)
				return r;
			if (mine[strspn(mine, " \n")] != '\0')
				continue;
			r = cgroup_read(parent, file, &theirs);
			if (r < 0)
				return r;
			r = cgroup_write(cur, file, theirs);
			if (r < 0)
				return r;
		}
		snprintf(parent, sizeof(parent), "%s", cur);
		p = path + len;
	}
	return 0;
}

static int v1_create(struct cgroup *cg)
{
	int r;

	for (size_t i = 0; i < cg->n_hiers; i++) {
		struct cgroup_hier *h = &cg->hiers[i];

		/* the parents usually exist: one mkdir instead of one per
		 * path component, in each of the ten or so hierarchies */
		r = mkdir(h->dir, 0755) < 0 ? -errno : 0;
		if (r == -ENOENT)
			r = mkdir_p(h->dir, 0755);
		else if (r == -EEXIST)
			r = 0;
		if (r < 0)
			return err_sys(-r, "mkdir %s", h->dir);
		if (cgroup_v1_find(cg, "cpuset") == h) {
			r = cpuset_fill(h->mnt, cg->path);
			if (r < 0)
				return r;
		}
	}
	if (cg->unified_dir)
		return cgroup_v2_create_dir(CGROUP_UNIFIED_HYBRID, cg->path, false);
	return 0;
}

static int v1_enter(struct cgroup *cg, pid_t pid)
{
	char val[32];
	int r;

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (size_t i = 0; i < cg->n_hiers; i++) {
		r = cgroup_write(cg->hiers[i].dir, "cgroup.procs", val);
		if (r < 0)
			return r;
	}
	if (cg->unified_dir)
		return cgroup_write(cg->unified_dir, "cgroup.procs", val);
	return 0;
}

static int freezer_state(const char *dir, char *buf, size_t len)
{
	_cleanup_free_ char *s = NULL;
	int r = cgroup_read(dir, "freezer.state", &s);

	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = '\0';
	snprintf(buf, len, "%s", s);
	return 0;
}

/*
 * A v1 freeze can stay in FREEZING when a task is in an uninterruptible
 * sleep the freezer cannot break; writing FROZEN again retries, and a short
 * thaw now and then lets such a task leave that sleep first.
 */
static int v1_freeze(struct cgroup *cg)
{
	struct cgroup_hier *h = cgroup_v1_find(cg, "freezer");
	unsigned long long deadline = now_ns() + FREEZE_DEADLINE_NS;
	char state[32];
	unsigned wait_us = 0;
	int r;

	if (!h)
		return cg->unified_dir ? cgroup_v2_freeze_dir(cg->unified_dir, true)
				       : err_set(ENOTSUP, "no freezer controller is mounted");
	for (unsigned i = 0;; i++) {
		if (i % 500 == 499) {
			(void)cgroup_write(h->dir, "freezer.state", "THAWED");
			cgroup_sleep_ms(10);
		}
		r = cgroup_write(h->dir, "freezer.state", "FROZEN");
		if (r < 0)
			return r;
		r = freezer_state(h->dir, state, sizeof(state));
		if (r < 0)
			return r;
		if (streq(state, "FROZEN"))
			return 0;
		if (now_ns() > deadline)
			break;
		cgroup_backoff(&wait_us);
	}
	(void)cgroup_write(h->dir, "freezer.state", "THAWED");
	return err_set(ETIMEDOUT, "%s stayed in %s for 10 s; thawed again", h->dir, state);
}

/* The unified tree's freezer of a hybrid host (v1_freeze_brief uses it). */
static bool has_unified_freezer(const struct cgroup *cg)
{
	return cg->unified_dir && cgroup_has_file(cg->unified_dir, "cgroup.freeze");
}

static int v1_thaw(struct cgroup *cg)
{
	struct cgroup_hier *h = cgroup_v1_find(cg, "freezer");
	unsigned long long deadline = now_ns() + FREEZE_DEADLINE_NS;
	char state[32];
	unsigned wait_us = 0;
	int r;

	if (!h)
		return cg->unified_dir ? cgroup_v2_freeze_dir(cg->unified_dir, false)
				       : err_set(ENOTSUP, "no freezer controller is mounted");
	/* what v1_freeze_brief froze */
	if (has_unified_freezer(cg) && (r = cgroup_v2_freeze_dir(cg->unified_dir, false)) < 0)
		return r;
	for (;;) {
		r = cgroup_write(h->dir, "freezer.state", "THAWED");
		if (r < 0)
			return r;
		r = freezer_state(h->dir, state, sizeof(state));
		if (r < 0)
			return r;
		if (streq(state, "THAWED"))
			return 0;
		if (now_ns() > deadline)
			return err_set(ETIMEDOUT, "%s stayed in %s after THAWED", h->dir, state);
		cgroup_backoff(&wait_us);
	}
}

static const char *v1_procs_dir(const struct cgroup *cg)
{
	struct cgroup_hier *h = cgroup_v1_find(cg, "pids");

	if (!h)
		h = cgroup_v1_find(cg, "freezer");
	return h ? h->dir : cg->hiers[0].dir;
}

static int v1_is_frozen(struct cgroup *cg, bool *ret)
{
	struct cgroup_hier *h = cgroup_v1_find(cg, "freezer");
	char state[32];
	int r;

	if (!h) {
		if (cg->unified_dir)
			return cgroup_v2_is_frozen_dir(cg->unified_dir, ret);
		return err_set(ENOTSUP, "no freezer controller is mounted");
	}
	r = freezer_state(h->dir, state, sizeof(state));
	if (r < 0)
		return r;
	*ret = streq(state, "FROZEN");
	/* frozen for a moment through the unified tree (v1_freeze_brief) */
	if (!*ret && has_unified_freezer(cg))
		return cgroup_v2_is_frozen_dir(cg->unified_dir, ret);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* The unified tree's cgroup (has_unified_freezer) holds exactly the
 * processes of the v1 one (a freeze there would otherwise stop too little). */
static bool unified_matches(struct cgroup *cg)
{
	_cleanup_free_ pid_t *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;

	if (cgroup_read_procs(cg->unified_dir, &a, &na) < 0 ||
	    cgroup_read_procs(v1_procs_dir(cg), &b, &nb) < 0) {
		err_clear();
		return false;
	}
	if (na != nb || !na)
		return false;
	qsort(a, na, sizeof(*a), cmp_pid);
	qsort(b, nb, sizeof(*b), cmp_pid);
	return !memcmp(a, b, na * sizeof(*a));
}

/*
 * A freeze that lasts only while the runtime works on the tree (checkpoint).
 * On a hybrid host the v1 freezer flips a kernel static key on the first
 * freeze and on the last thaw, which patches kernel text on every CPU:
 * 1.3-1.7 ms each way on the development VM, inside a migration's downtime.
 * The unified tree's cgroup.freeze stops the same processes in about
 * 0.1 ms. A container paused through v1 stays with v1.
 */
static int v1_freeze_brief(struct cgroup *cg)
{
	struct cgroup_hier *h = cgroup_v1_find(cg, "freezer");
	char state[32];
	bool frozen;

	if (h && has_unified_freezer(cg)) {
		/* the engine's freeze after the runtime's: nothing to redo */
		if (cgroup_v2_is_frozen_dir(cg->unified_dir, &frozen) == 0 && frozen)
			return 0;
		if (unified_matches(cg) && freezer_state(h->dir, state, sizeof(state)) == 0 &&
		    streq(state, "THAWED"))
			return cgroup_v2_freeze_dir(cg->unified_dir, true);
	}
	err_clear();
	return v1_freeze(cg);
}

static int v1_set(struct cgroup *cg, const struct oci_resources *res)
{
	int r = cgroup_v1_set_resources(cg, res);
	if (r < 0)
		return r;
	if (res->n_unified) {
		if (!cg->unified_dir)
			return err_set(ENOTSUP, "linux.resources.unified needs cgroup v2; this host has v1 only");
		r = cgroup_v2_set_unified(cg->unified_dir, res);
	}
	return r;
}

const struct cgroup_ops cgroup_v1_ops = {
	.create = v1_create,
	.enter = v1_enter,
	.set = v1_set,
	.freeze = v1_freeze,
	.freeze_brief = v1_freeze_brief,
	.thaw = v1_thaw,
	.is_frozen = v1_is_frozen,
	.procs_dir = v1_procs_dir,
};
