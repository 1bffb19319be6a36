// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroup v2 backend: one directory in the unified tree. The same helpers
 * serve the unified dir of a hybrid host (cgroup.kill, cgroup.events,
 * hugetlb, "unified" keys).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "cgroups/cgroup-internal.h"

#define FREEZE_DEADLINE_NS (10ULL * 1000000000ULL)

/*
 * Write "+ctrl" for each controller of ctrls (space separated; NULL: every
 * controller the parent has, best effort) into the subtree_control of each
 * ancestor of root+path, top down. One write per controller: the kernel
 * applies a multi-controller write all or nothing.
 */
int cgroup_v2_enable(const char *root, const char *path, const char *ctrls)
{
	char parent[PATH_MAX];
	const char *p = path;
	int r;

	snprintf(parent, sizeof(parent), "%s", root);
	while (*p) {
		const char *next = strchr(p + 1, '/');
		size_t len = next ? (size_t)(next - path) : strlen(path);
		_cleanup_free_ char *avail = NULL;
		char *save = NULL;

		if (!ctrls) {
			if (cgroup_read(parent, "cgroup.controllers", &avail) < 0)
				avail = NULL;
		} else if (!(avail = strdup(ctrls))) {
			return -ENOMEM;
		}
		for (char *t = avail ? strtok_r(avail, " \n", &save) : NULL; t;
		     t = strtok_r(NULL, " \n", &save)) {
			r = cgroup_writef(parent, "cgroup.subtree_control", "+%s", t);
			if (r < 0 && ctrls)
				return r;
		}
		err_clear();
		snprintf(parent, sizeof(parent), "%s%.*s", root, (int)len, path);
		p = path + len;
	}
	return 0;
}

/*
 * Make root+path, one level at a time. On a pure v2 host every controller
 * is enabled down the path so the leaf gets its resource files (best
 * effort: a resource that then lacks its file fails by name in set). In
 * the unified tree of a hybrid host nothing is enabled here: a controller
 * enabled there cannot be mounted as v1 any more (crun needs hugetlb so),
 * so hugetlb is enabled only when a limit asks for it.
 */
int cgroup_v2_create_dir(const char *root, const char *path, bool enable_all)
{
	char cur[PATH_MAX];
	const char *p = path;
	int r;

	while (*p) {
		const char *next = strchr(p + 1, '/');
		size_t len = next ? (size_t)(next - path) : strlen(path);

		snprintf(cur, sizeof(cur), "%s%.*s", root, (int)len, path);
		if (mkdir(cur, 0755) < 0 && errno != EEXIST)
			return err_sys(errno, "mkdir %s", cur);
		p = path + len;
	}
	if (enable_all && (r = cgroup_v2_enable(root, path, NULL)) < 0)
		return r;
	return 0;
}

int cgroup_v2_is_frozen_dir(const char *dir, bool *ret)
{
	_cleanup_free_ char *ev = NULL;
	int r = cgroup_read(dir, "cgroup.events", &ev);

	if (r < 0)
		return r;
	*ret = strstr(ev, "frozen 1") != NULL;
	return 0;
}

int cgroup_v2_freeze_dir(const char *dir, bool freeze)
{
	unsigned long long deadline = now_ns() + FREEZE_DEADLINE_NS;
	bool frozen;
	unsigned wait_us = 0;
	int r;

	if (!cgroup_has_file(dir, "cgroup.freeze"))
		return err_set(ENOTSUP, "%s/cgroup.freeze does not exist (kernel older than 5.2?)", dir);
	r = cgroup_write(dir, "cgroup.freeze", freeze ? "1" : "0");
	if (r < 0)
		return r;
	for (;;) {
		r = cgroup_v2_is_frozen_dir(dir, &frozen);
		if (r < 0)
			return r;
		if (frozen == freeze)
			return 0;
		if (now_ns() > deadline)
			break;
		cgroup_backoff(&wait_us);
	}
	if (freeze) {
		(void)cgroup_write(dir, "cgroup.freeze", "0");
		return err_set(ETIMEDOUT, "%s did not freeze within 10 s; thawed again", dir);
	}
	return err_set(ETIMEDOUT, "%s did not thaw within 10 s", dir);
}

static int v2_create(struct cgroup *cg)
{
	return cgroup_v2_create_dir(CGROUP_ROOT, cg->path, true);
}

static int v2_enter(struct cgroup *cg, pid_t pid)
{
	return cgroup_writef(cg->unified_dir, "cgroup.procs", "%d", (int)pid);
}

static int v2_set(struct cgroup *cg, const struct oci_resources *res)
{
	int r = cgroup_v2_set_resources(cg->unified_dir, res);
	if (r < 0)
		return r;
	if ((r = cgroup_v2_set_hugetlb(cg->unified_dir, res)) < 0)
		return r;
	return cgroup_v2_set_unified(cg->unified_dir, res);
}

static int v2_freeze(struct cgroup *cg)
{
	return cgroup_v2_freeze_dir(cg->unified_dir, true);
}

static int v2_thaw(struct cgroup *cg)
{
	return cgroup_v2_freeze_dir(cg->unified_dir, false);
}

static int v2_is_frozen(struct cgroup *cg, bool *ret)
{
	return cgroup_v2_is_frozen_dir(cg->unified_dir, ret);
}

static const char *v2_procs_dir(const struct cgroup *cg)
{
	return cg->unified_dir;
}

const struct cgroup_ops cgroup_v2_ops = {
	.create = v2_create,
	.enter = v2_enter,
	.set = v2_set,
	.freeze = v2_freeze,
	.freeze_brief = v2_freeze,
	.thaw = v2_thaw,
	.is_frozen = v2_is_frozen,
	.procs_dir = v2_procs_dir,
};
