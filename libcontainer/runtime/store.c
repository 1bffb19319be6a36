// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/json.h"
#include "runtime/container-internal.h"
#include "runtime/store.h"

int container_validate_id(const char *id)
{
	if (!id || !*id)
		return err_set(EINVAL, "container id cannot be empty");
	if (streq(id, ".") || streq(id, ".."))
		return err_set(EINVAL, "invalid container id format: %s", id);
	for (const char *p = id; *p; p++) {
		unsigned char ch = *p;
		if (!isalnum(ch) && ch != '_' && ch != '+' && ch != '-' && ch != '.')
			return err_set(EINVAL, "invalid container id format: %s", id);
	}
	if (strlen(id) > 1024)
		return err_set(EINVAL, "invalid container id format: %s (too long)", id);
	return 0;
}

char *store_path(const struct container *c, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", c->dir, name) < 0)
		return NULL;
	return p;
}

static int store_lock(int fd, const char *id)
{
	struct stat st;

	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_sys(errno, "locking container %s", id);
	/* Whoever held the lock may have deleted the container meanwhile. */
	if (fstat(fd, &st) < 0)
		return err_sys(errno, "stat container %s", id);
	if (st.st_nlink == 0)
		return err_set(ENOENT, "container does not exist: %s", id);
	return 0;
}

static int store_names(struct container *c, const char *root, const char *id)
{
	c->root = strdup(root);
	c->id = strdup(id);
	if (!c->root || !c->id || asprintf(&c->dir, "%s/%s", root, id) < 0) {
		c->dir = NULL;
		return -ENOMEM;
	}
	return 0;
}

int store_create(struct container *c, const char *root, const char *id)
{
	int r;

	r = container_validate_id(id);
	if (r < 0)
		return r;
	r = store_names(c, root, id);
	if (r < 0)
		return r;
	/* the root is there but for the first container: try the leaf first */
	r = mkdir(c->dir, 0700) < 0 ? -errno : 0;
	if (r == -ENOENT) {
		r = mkdir_p(root, 0700);
		if (r < 0)
			return err_sys(-r, "creating state root %s", root);
		r = mkdir(c->dir, 0700) < 0 ? -errno : 0;
	}
	if (r < 0) {
		errno = -r;
		if (errno == EEXIST)
			return err_set(EEXIST, "container with id exists: %s", id);
		return err_sys(errno, "creating %s", c->dir);
	}
	c->lock_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->lock_fd < 0) {
		r = err_sys(errno, "opening %s", c->dir);
		rmdir(c->dir);
		return r;
	}
	return store_lock(c->lock_fd, id);
}

static int store_read_annotations(struct container *c, yajl_val obj)
{
	size_t n;

	if (!obj || !YAJL_IS_OBJECT(obj))
		return 0;
	n = obj->u.object.len;
	c->annotation_keys = calloc(n + 1, sizeof(char *));
	c->annotation_values = calloc(n + 1, sizeof(char *));
	if (!c->annotation_keys || !c->annotation_values)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *v = YAJL_GET_STRING(obj->u.object.values[i]);
		c->annotation_keys[c->n_annotations] = strdup(obj->u.object.keys[i]);
		c->annotation_values[c->n_annotations] = strdup(v ? v : "");
		c->n_annotations++;
	}
	return 0;
}

static int dup_str(yajl_val v, const char *key, char **ret)
{
	const char *s = NULL;
	int r = json_get_str(v, key, key, &s);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int store_parse(struct container *c, const char *text)
{
	_cleanup_json_ yajl_val v = NULL;
	int64_t pid = 0;
	uint64_t st = 0;
	bool sd = false;
	int r;

	r = json_parse(text, STORE_STATE_FILE, &v);
	if (r < 0)
		return r;
	if ((r = json_get_int(v, "pid", "pid", &pid)) < 0 && r != -ENOENT)
		return r;
	if ((r = json_get_uint(v, "start_time", "start_time", &st)) < 0 && r != -ENOENT)
		return r;
	if ((r = json_get_bool(v, "systemd_cgroup", "systemd_cgroup", &sd)) < 0 && r != -ENOENT)
		return r;
	c->pid = pid;
	c->start_time = st;
	c->systemd_cgroup = sd;
	if ((r = dup_str(v, "bundle", &c->bundle)) < 0 ||
	    (r = dup_str(v, "rootfs", &c->rootfs)) < 0 ||
	    (r = dup_str(v, "created", &c->created)) < 0 ||
	    (r = dup_str(v, "owner", &c->owner)) < 0 ||
	    (r = dup_str(v, "cgroups_path_config", &c->cgroups_path_cfg)) < 0 ||
	    (r = dup_str(v, "cgroup_path", &c->cgroup_path)) < 0)
		return r;
	return store_read_annotations(c, json_get(v, "annotations"));
}

int store_open(struct container *c, const char *root, const char *id)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	int r;

	r = container_validate_id(id);
	if (r < 0)
		return r;
	r = store_names(c, root, id);
	if (r < 0)
		return r;
	if (stat(c->dir, &st) < 0) {
		if (errno == ENOENT)
			return err_set(ENOENT, "container does not exist: %s", id);
		return err_sys(errno, "container %s: %s", id, c->dir);
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(ENOTDIR, "container %s: %s is not a directory, not a skua state dir",
			       id, c->dir);
	c->lock_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->lock_fd < 0)
		return err_sys(errno, "opening %s", c->dir);
	r = store_lock(c->lock_fd, id);
	if (r < 0)
		return r;
	r = read_file_at(c->lock_fd, STORE_STATE_FILE, &text, NULL, 1 << 20);
	if (r == -ENOENT)
		return err_set(ENOMSG, "container %s: %s has no %s: not a skua container "
			       "(or its creation failed)", id, c->dir, STORE_STATE_FILE);
	if (r < 0)
		return err_sys(-r, "container %s: reading %s/%s", id, c->dir, STORE_STATE_FILE);
	r = store_parse(c, text);
	if (r < 0)
		return err_wrap(r, "container %s", id);
	return 0;
}

static void gen_opt_str(yajl_gen g, const char *k, const char *v)
{
	if (v)
		json_gen_kv_str(g, k, v);
}

int store_save(const struct container *c)
{
	_cleanup_free_ char *text = NULL, *path = NULL;
	yajl_gen g = json_gen_new(true);
	size_t len;
	int r;

	if (!g)
		return -ENOMEM;
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "id", c->id);
	json_gen_kv_int(g, "pid", c->pid);
	json_gen_kv_int(g, "start_time", (long long)c->start_time);
	gen_opt_str(g, "bundle", c->bundle);
	gen_opt_str(g, "rootfs", c->rootfs);
	gen_opt_str(g, "created", c->created);
	gen_opt_str(g, "owner", c->owner);
	gen_opt_str(g, "cgroups_path_config", c->cgroups_path_cfg);
	gen_opt_str(g, "cgroup_path", c->cgroup_path);
	json_gen_kv_bool(g, "systemd_cgroup", c->systemd_cgroup);
	json_gen_str(g, "annotations");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < c->n_annotations; i++)
		json_gen_kv_str(g, c->annotation_keys[i], c->annotation_values[i]);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	r = json_gen_finish(g, &text, &len);
	if (r < 0)
		return err_sys(-r, "generating %s", STORE_STATE_FILE);
	path = store_path(c, STORE_STATE_FILE);
	if (!path)
		return -ENOMEM;
	r = write_file_replace(path, text, len, 0600);
	if (r < 0)
		return err_sys(-r, "writing %s", path);
	return 0;
}

static int rm_rf_at(int dfd, const char *name)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
		return errno == ENOENT ? 0 : -errno;
	}
	d = fdopendir(TAKE_FD(fd));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR)
			rm_rf_at(dirfd(d), de->d_name);
		else
			unlinkat(dirfd(d), de->d_name, 0);
	}
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int store_remove(const struct container *c)
{
	int r = rm_rf_at(AT_FDCWD, c->dir);

	if (r < 0)
		return err_sys(-r, "removing %s", c->dir);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int container_list(const char *root, char ***ret)
{
	_cleanup_closedir_ DIR *d = opendir(root);
	_cleanup_strv_ char **ids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d && errno != ENOENT)
		return err_sys(errno, "opening %s", root);
	ids = calloc(1, sizeof(char *));
	if (!ids)
		return -ENOMEM;
	while (d && (de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(ids, cap * sizeof(char *));
			if (!nv)
				return -ENOMEM;
			ids = nv;
		}
		ids[n] = strdup(de->d_name);
		if (!ids[n])
			return -ENOMEM;
		ids[++n] = NULL;
	}
	qsort(ids, n, sizeof(char *), cmp_str);
	*ret = TAKE_PTR(ids);
	return 0;
}

/* Only what create puts there before state.json exists. */
static bool store_is_stale(int dfd)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd = dup(dfd);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
		    streq(de->d_name, STORE_EXEC_FIFO) ||
		    strncmp(de->d_name, STORE_STATE_FILE ".tmp.", strlen(STORE_STATE_FILE) + 5) == 0)
			continue;
		return false;
	}
	return true;
}

int container_remove_stale(const char *root, const char *id)
{
	struct container *c = container_alloc();
	int r;

	if (!c)
		return -ENOMEM;
	r = store_open(c, root, id);
	if (r == -ENOMSG) {
		if (store_is_stale(c->lock_fd)) {
			err_clear();
			r = store_remove(c);
		} else {
			r = err_set(ENOTEMPTY, "container %s: %s is not a skua state dir, not removing it",
				    id, c->dir);
		}
	} else if (r == 0) {
		r = err_set(EEXIST, "container %s has a state: not stale", id);
	}
	container_free(c);
	return r;
}
