// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The front of the cgroups module: detection of the host's layout, naming a
 * container's cgroup, dispatch to the v1/v2 backend, and what both share
 * (kill, pids, destroy, file helpers).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "cgroups/cgroup-internal.h"

#define DESTROY_DEADLINE_NS (3ULL * 1000000000ULL)
#define KILL_DEADLINE_NS (5ULL * 1000000000ULL)

static bool fs_is(const char *path, long magic)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && (long)sfs.f_type == magic;
}

enum cgroup_mode cgroup_detect_mode(void)
{
	if (fs_is(CGROUP_ROOT, CGROUP2_SUPER_MAGIC))
		return CGROUP_MODE_V2;
	if (fs_is(CGROUP_ROOT, TMPFS_MAGIC) && fs_is(CGROUP_UNIFIED_HYBRID, CGROUP2_SUPER_MAGIC))
		return CGROUP_MODE_HYBRID;
	return CGROUP_MODE_V1;
}

void cgroup_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void cgroup_backoff(unsigned *us)
{
	if (*us < 20)
		*us = 20;
	nanosleep(&(struct timespec){ 0, (long)*us * 1000L }, NULL);
	*us = *us >= 500 ? 1000 : *us * 2;
}

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice", as systemd nests slices. */
static int expand_slice(const char *slice, char **ret)
{
	size_t len = strlen(slice), sfx = strlen(".slice");
	_cleanup_free_ char *out = NULL;
	size_t cap, n = 0;

	if (streq(slice, "-.slice")) {
		out = strdup("");
		goto done;
	}
	if (len <= sfx || strcmp(slice + len - sfx, ".slice") != 0 || strchr(slice, '/'))
		return err_set(EINVAL, "invalid systemd slice name '%s'", slice);
	const char *stem_end = slice + len - sfx;
	cap = 2 * len * len + 1;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	out[0] = '\0';
	for (const char *p = slice; p <= stem_end; p++) {
		if (p != stem_end && *p != '-')
			continue;
		if (p == slice || p[-1] == '-' || (p != stem_end && p + 1 == stem_end))
			return err_set(EINVAL, "invalid systemd slice name '%s'", slice);
		n += snprintf(out + n, cap - n, "/%.*s.slice", (int)(p - slice), slice);
	}
done:
	*ret = TAKE_PTR(out);
	return 0;
}

/* "slice:prefix:name" -> "/slice.../prefix-name.scope" (no D-Bus: the path only). */
static int systemd_path(const char *spec, const char *id, char **ret)
{
	_cleanup_free_ char *copy = NULL, *slice_path = NULL;
	char *slice, *prefix, *name, *c1, *c2;
	int r;

	if (!spec) {
		if (asprintf(&copy, "system.slice:skua:%s", id) < 0)
			return -ENOMEM;
	} else {
		copy = strdup(spec);
		if (!copy)
			return -ENOMEM;
	}
	c1 = strchr(copy, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2 || strchr(c2 + 1, ':'))
		return err_set(EINVAL, "systemd cgroupsPath '%s': expected \"slice:prefix:name\"", copy);
	*c1 = *c2 = '\0';
	slice = copy;
	prefix = c1 + 1;
	name = c2 + 1;
	if (!*name)
		return err_set(EINVAL, "systemd cgroupsPath '%s': empty name", spec ? spec : copy);
	r = expand_slice(*slice ? slice : "system.slice", &slice_path);
	if (r < 0)
		return err_wrap(r, "systemd cgroupsPath");
	/* A name that is itself a slice is used as is (runc does the same). */
	size_t nl = strlen(name);
	if (nl > 6 && streq(name + nl - 6, ".slice"))
		r = asprintf(ret, "%s/%s", slice_path, name);
	else if (*prefix)
		r = asprintf(ret, "%s/%s-%s.scope", slice_path, prefix, name);
	else
		r = asprintf(ret, "%s/%s.scope", slice_path, name);
	return r < 0 ? -ENOMEM : 0;
}

/* Plain path: absolute as given, relative under "/", no ".." escapes. */
static int plain_path(const char *spec, const char *id, char **ret)
{
	_cleanup_free_ char *out = NULL;
	size_t n = 0;

	if (!spec || !*spec) {
		if (!id || !*id || strchr(id, '/'))
			return err_set(EINVAL, "cgroup: invalid container id '%s'", id ? id : "");
		if (asprintf(&out, "/skua/%s", id) < 0)
			return -ENOMEM;
	} else if (asprintf(&out, "%s%s", spec[0] == '/' ? "" : "/", spec) < 0) {
		return -ENOMEM;
	}
	for (const char *p = out; (p = strstr(p, "..")); p += 2)
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return err_set(EINVAL, "cgroupsPath '%s' contains '..'", spec);
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	if (streq(out, "/"))
		return err_set(EINVAL, "cgroupsPath '%s' names the root cgroup", spec);
	*ret = TAKE_PTR(out);
	return 0;
}

int cgroup_new(const char *cgroups_path, const char *id, bool systemd, struct cgroup **ret)
{
	struct cgroup *cg;
	int r;

	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return -ENOMEM;
	cg->mode = cgroup_detect_mode();
	r = systemd ? systemd_path(cgroups_path, id, &cg->path)
		    : plain_path(cgroups_path, id, &cg->path);
	if (r < 0)
		goto fail;
	if (cg->mode == CGROUP_MODE_V2) {
		cg->ops = &cgroup_v2_ops;
		if (asprintf(&cg->unified_dir, "%s%s", CGROUP_ROOT, cg->path) < 0)
			cg->unified_dir = NULL, r = -ENOMEM;
	} else {
		cg->ops = &cgroup_v1_ops;
		r = cgroup_v1_scan(cg);
		if (r == 0 && cg->mode == CGROUP_MODE_HYBRID &&
		    asprintf(&cg->unified_dir, "%s%s", CGROUP_UNIFIED_HYBRID, cg->path) < 0)
			cg->unified_dir = NULL, r = -ENOMEM;
	}
	if (r < 0)
		goto fail;
	*ret = cg;
	return 0;
fail:
	cgroup_free(cg);
	return r;
}

const char *cgroup_path(const struct cgroup *cg)
{
	return cg->path;
}

const char *cgroup_freezer_dir(const struct cgroup *cg)
{
	struct cgroup_hier *h = cgroup_v1_find(cg, "freezer");

	return h ? h->dir : cg->unified_dir;
}

const char *cgroup_procs_dir(const struct cgroup *cg)
{
	return cg->ops->procs_dir(cg);
}

int cgroup_create(struct cgroup *cg)
{
	int r = cg->ops->create(cg);
	return r < 0 ? err_wrap(r, "creating cgroup %s", cg->path) : 0;
}

int cgroup_enter(struct cgroup *cg, pid_t pid)
{
	int r = cg->ops->enter(cg, pid);
	return r < 0 ? err_wrap(r, "moving pid %d into cgroup %s", (int)pid, cg->path) : 0;
}

int cgroup_set(struct cgroup *cg, const struct oci_resources *res)
{
	int r;

	if (!res)
		return 0;
	r = cg->ops->set(cg, res);
	return r < 0 ? err_wrap(r, "cgroup %s", cg->path) : 0;
}

int cgroup_freeze(struct cgroup *cg)
{
	int r = cg->ops->freeze(cg);
	return r < 0 ? err_wrap(r, "freezing cgroup %s", cg->path) : 0;
}

int cgroup_freeze_brief(struct cgroup *cg)
{
	int r = cg->ops->freeze_brief(cg);
	return r < 0 ? err_wrap(r, "freezing cgroup %s", cg->path) : 0;
}

int cgroup_thaw(struct cgroup *cg)
{
	int r = cg->ops->thaw(cg);
	return r < 0 ? err_wrap(r, "thawing cgroup %s", cg->path) : 0;
}

int cgroup_is_frozen(struct cgroup *cg, bool *ret)
{
	return cg->ops->is_frozen(cg, ret);
}

int cgroup_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n)
{
	int r = cgroup_read_procs(cg->ops->procs_dir(cg), ret, ret_n);
	return r < 0 ? err_wrap(r, "cgroup %s", cg->path) : 0;
}

static int signal_all(const char *dir, int sig, size_t *ret_n)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r;

	r = cgroup_read_procs(dir, &pids, &n);
	if (r == -ENOENT)
		n = 0;
	else if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return err_sys(errno, "sending signal %d to pid %d", sig, (int)pids[i]);
	*ret_n = n;
	return 0;
}

int cgroup_kill(struct cgroup *cg, int sig)
{
	const char *dir = cg->ops->procs_dir(cg);
	unsigned long long deadline = now_ns() + KILL_DEADLINE_NS;
	bool frozen = false, thawed = false;
	size_t n = 0;
	int r;

	if (sig == SIGKILL && cg->unified_dir && cgroup_has_file(cg->unified_dir, "cgroup.kill")) {
		r = cgroup_write(cg->unified_dir, "cgroup.kill", "1");
		if (r < 0)
			return err_wrap(r, "killing cgroup %s", cg->path);
	}
	/* The signal loop also catches what cgroup.kill cannot see (v1-only members). */
	for (;;) {
		r = signal_all(dir, sig, &n);
		if (r < 0)
			return err_wrap(r, "killing cgroup %s", cg->path);
		if (sig != SIGKILL || n == 0)
			return 0;
		/* Frozen tasks do not act on SIGKILL until thawed. */
		if (!thawed && cgroup_is_frozen(cg, &frozen) == 0 && frozen) {
			r = cgroup_thaw(cg);
			if (r < 0)
				return r;
			thawed = true;
		}
		if (now_ns() > deadline)
			return err_set(EBUSY, "killing cgroup %s: %zu processes still there after 5 s",
				       cg->path, n);
		cgroup_sleep_ms(2);
	}
}

int cgroup_destroy(struct cgroup *cg, bool kill_first)
{
	int r, first = 0;

	if (kill_first) {
		r = cgroup_kill(cg, SIGKILL);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < cg->n_hiers; i++) {
		r = cgroup_rmdir_tree(cg->hiers[i].dir);
		if (r < 0 && !first)
			first = r;
	}
	if (cg->unified_dir) {
		r = cgroup_rmdir_tree(cg->unified_dir);
		if (r < 0 && !first)
			first = r;
	}
	return first < 0 ? err_wrap(first, "removing cgroup %s", cg->path) : 0;
}

void cgroup_free(struct cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n_hiers; i++) {
		free(cg->hiers[i].mnt);
		free(cg->hiers[i].controllers);
		free(cg->hiers[i].dir);
	}
	free(cg->hiers);
	free(cg->unified_dir);
	free(cg->path);
	free(cg);
}

/* ---- file helpers shared by the backends ---- */

int cgroup_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	r = write_string_file(path, val);
	if (r < 0)
		return err_sys(-r, "writing '%s' to %s", val, path);
	return 0;
}

int cgroup_writef(const char *dir, const char *file, const char *fmt, ...)
{
	_cleanup_free_ char *val = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return cgroup_write(dir, file, val);
}

int cgroup_read(const char *dir, const char *file, char **ret)
{
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	r = read_file(path, ret, NULL, 0);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	return 0;
}

bool cgroup_has_file(const char *dir, const char *file)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

int cgroup_read_procs(const char *dir, pid_t **ret, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	char path[PATH_MAX], *p, *end;
	int r;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	r = read_file(path, &text, NULL, 0);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	for (p = text; *p; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p) {
			end = p + 1;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			pid_t *np = realloc(pids, cap * sizeof(*pids));
			if (!np)
				return -ENOMEM;
			pids = np;
		}
		pids[n++] = (pid_t)v;
	}
	*ret = TAKE_PTR(pids);
	*ret_n = n;
	return 0;
}

static int rmdir_retry(const char *dir)
{
	unsigned long long deadline = now_ns() + DESTROY_DEADLINE_NS;

	for (;;) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		/* EBUSY while the last members are still exiting (zombies hold it). */
		if (errno != EBUSY || now_ns() > deadline)
			return err_sys(errno, "rmdir %s", dir);
		cgroup_sleep_ms(10);
	}
}

int cgroup_rmdir_tree(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int r;

	if (!d)
		return errno == ENOENT ? 0 : err_sys(errno, "opening %s", dir);
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
			return -ENOMEM;
		r = cgroup_rmdir_tree(sub);
		if (r < 0)
			return r;
	}
	return rmdir_retry(dir);
}
