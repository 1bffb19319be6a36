// SPDX-License-Identifier: GPL-2.0-or-later
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/json.h"
#include "runtime/ckpt-meta.h"

bool ckpt_fd_is_tty(pid_t pid, int fd)
{
	char path[64];
	struct stat st;
	unsigned int ma;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode))
		return false;
	ma = major(st.st_rdev);
	/* pts slaves, tty/console; not /dev/ptmx (5:2) */
	return (ma >= 136 && ma <= 143) || ma == 4 || (ma == 5 && minor(st.st_rdev) != 2);
}

int ckpt_descriptors_collect(pid_t pid, char *ret[3])
{
	char *d[3] = { NULL };

	for (int i = 0; i < 3; i++) {
		char path[64], link[PATH_MAX];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, i);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0 && errno != ENOENT) {
			int r = err_sys(errno, "reading %s", path);
			ckpt_descriptors_free(d);
			return r;
		}
		link[n < 0 ? 0 : n] = '\0';
		d[i] = strdup(link);
		if (!d[i]) {
			ckpt_descriptors_free(d);
			return -ENOMEM;
		}
	}
	memcpy(ret, d, sizeof(d));
	return 0;
}

void ckpt_descriptors_free(char *d[3])
{
	for (int i = 0; i < 3; i++) {
		free(d[i]);
		d[i] = NULL;
	}
}

static int write_json(const char *dir, const char *name, yajl_gen g)
{
	_cleanup_free_ char *text = NULL, *path = NULL;
	size_t len;
	int r = json_gen_finish(g, &text, &len);

	if (r < 0)
		return err_set(-r, "generating %s", name);
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	/* replaced whole by rename, not fsynced: the engine's images beside it
	 * are not either, and container.json is written while the container
	 * is frozen, where an fsync under other writers cost milliseconds */
	r = write_file_replace(path, text, len, 0600);
	return r < 0 ? err_sys(-r, "writing %s", path) : 0;
}

int ckpt_descriptors_write(const char *dir, char *const d[3])
{
	yajl_gen g = json_gen_new(false);

	if (!g)
		return -ENOMEM;
	yajl_gen_array_open(g);
	for (int i = 0; i < 3; i++)
		json_gen_str(g, d[i] ? d[i] : "");
	yajl_gen_array_close(g);
	return write_json(dir, CKPT_DESCRIPTORS, g);
}

static int parse_file(const char *dir, const char *name, yajl_val *ret)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	if (access(path, F_OK) < 0)
		return err_sys(errno, "%s is not a container checkpoint: %s", dir, path);
	return json_parse_file(path, ret);
}

int ckpt_descriptors_read(const char *dir, char *ret[3])
{
	_cleanup_json_ yajl_val v = NULL;
	char *d[3] = { NULL };
	int r = parse_file(dir, CKPT_DESCRIPTORS, &v);

	if (r < 0)
		return r;
	if (!YAJL_IS_ARRAY(v))
		return err_set(EINVAL, "%s: expected an array", CKPT_DESCRIPTORS);
	for (size_t i = 0; i < 3; i++) {
		const char *s = i < v->u.array.len && YAJL_IS_STRING(v->u.array.values[i])
					? YAJL_GET_STRING(v->u.array.values[i]) : "";
		d[i] = strdup(s);
		if (!d[i]) {
			ckpt_descriptors_free(d);
			return -ENOMEM;
		}
	}
	memcpy(ret, d, sizeof(d));
	return 0;
}

int ckpt_meta_add_tmpfs(struct ckpt_meta *m, const char *dest, const char *archive)
{
	struct ckpt_tmpfs *n = realloc(m->tmpfs, (m->n_tmpfs + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	m->tmpfs = n;
	n[m->n_tmpfs] = (struct ckpt_tmpfs){ .dest = strdup(dest), .archive = archive ? strdup(archive) : NULL };
	if (!n[m->n_tmpfs].dest || (archive && !n[m->n_tmpfs].archive)) {
		free(n[m->n_tmpfs].dest);
		free(n[m->n_tmpfs].archive);
		return -ENOMEM;
	}
	m->n_tmpfs++;
	return 0;
}

int ckpt_meta_add_empty_tmpfs(struct ckpt_meta *m, const char *dest, unsigned int mode, unsigned int uid,
			      unsigned int gid)
{
	int r = ckpt_meta_add_tmpfs(m, dest, NULL);

	if (r < 0)
		return r;
	struct ckpt_tmpfs *t = &m->tmpfs[m->n_tmpfs - 1];
	t->mode = mode & 07777;
	t->uid = uid;
	t->gid = gid;
	return 0;
}

int ckpt_meta_write(const char *dir, const struct ckpt_meta *m)
{
	yajl_gen g = json_gen_new(true);

	if (!g)
		return -ENOMEM;
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "id", m->id);
	json_gen_kv_str(g, "hostname", m->hostname);
	json_gen_kv_str(g, "netFile", m->net_file);
	json_gen_kv_bool(g, "paused", m->paused);
	json_gen_str(g, "stdioTty");
	yajl_gen_array_open(g);
	for (int i = 0; i < 3; i++)
		yajl_gen_bool(g, m->stdio_tty[i]);
	yajl_gen_array_close(g);
	json_gen_str(g, "tmpfs");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < m->n_tmpfs; i++) {
		yajl_gen_map_open(g);
		json_gen_kv_str(g, "destination", m->tmpfs[i].dest);
		if (m->tmpfs[i].archive) {
			json_gen_kv_str(g, "archive", m->tmpfs[i].archive);
		} else {
			json_gen_kv_bool(g, "empty", true);
			json_gen_kv_int(g, "mode", m->tmpfs[i].mode);
			json_gen_kv_int(g, "uid", m->tmpfs[i].uid);
			json_gen_kv_int(g, "gid", m->tmpfs[i].gid);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return write_json(dir, CKPT_META, g);
}

static int dup_opt_str(yajl_val v, const char *key, char **ret)
{
	const char *s = NULL;
	int r = json_get_str(v, key, key, &s);

	if (r == -ENOENT || (r == -EINVAL && json_get(v, key) && YAJL_IS_NULL(json_get(v, key)))) {
		err_clear();
		return 0;
	}
	if (r < 0)
		return err_wrap(r, "%s", CKPT_META);
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static bool safe_archive_name(const char *s)
{
	return s[0] && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static int read_tmpfs(yajl_val v, struct ckpt_meta *m)
{
	yajl_val a = json_get(v, "tmpfs");
	int r;

	if (!a)
		return 0;
	if (!YAJL_IS_ARRAY(a))
		return err_set(EINVAL, "%s: tmpfs: expected an array", CKPT_META);
	for (size_t i = 0; i < a->u.array.len; i++) {
		const char *dest = NULL, *archive = NULL;
		yajl_val e = a->u.array.values[i], empty = json_get(e, "empty");
		int64_t mode, uid, gid;

		if (json_get_str(e, "destination", "tmpfs.destination", &dest) < 0 || dest[0] != '/')
			return err_set(EINVAL, "%s: tmpfs[%zu]: bad destination", CKPT_META, i);
		if (empty && YAJL_IS_TRUE(empty)) {
			if (json_get_int(e, "mode", "tmpfs.mode", &mode) < 0 || mode < 0 || mode > 07777 ||
			    json_get_int(e, "uid", "tmpfs.uid", &uid) < 0 || uid < 0 || uid > UINT32_MAX ||
			    json_get_int(e, "gid", "tmpfs.gid", &gid) < 0 || gid < 0 || gid > UINT32_MAX)
				return err_set(EINVAL, "%s: tmpfs[%zu]: bad mode or owner of an empty tmpfs",
					       CKPT_META, i);
			r = ckpt_meta_add_empty_tmpfs(m, dest, (unsigned)mode, (unsigned)uid, (unsigned)gid);
		} else if (json_get_str(e, "archive", "tmpfs.archive", &archive) < 0 || !safe_archive_name(archive)) {
			return err_set(EINVAL, "%s: tmpfs[%zu]: bad archive", CKPT_META, i);
		} else {
			r = ckpt_meta_add_tmpfs(m, dest, archive);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int ckpt_meta_read(const char *dir, struct ckpt_meta *ret)
{
	_cleanup_json_ yajl_val v = NULL;
	struct ckpt_meta m = { 0 };
	bool paused = false;
	int r = parse_file(dir, CKPT_META, &v);

	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(v))
		return err_set(EINVAL, "%s: expected an object", CKPT_META);
	if ((r = dup_opt_str(v, "id", &m.id)) < 0 ||
	    (r = dup_opt_str(v, "hostname", &m.hostname)) < 0 ||
	    (r = dup_opt_str(v, "netFile", &m.net_file)) < 0 || (r = read_tmpfs(v, &m)) < 0)
		goto fail;
	if (m.net_file && !safe_archive_name(m.net_file)) {
		r = err_set(EINVAL, "%s: bad netFile", CKPT_META);
		goto fail;
	}
	if (json_get_bool(v, "paused", "paused", &paused) == 0)
		m.paused = paused;
	yajl_val tty = json_get(v, "stdioTty");
	for (size_t i = 0; tty && YAJL_IS_ARRAY(tty) && i < 3 && i < tty->u.array.len; i++)
		m.stdio_tty[i] = YAJL_IS_TRUE(tty->u.array.values[i]);
	err_clear();
	*ret = m;
	return 0;
fail:
	ckpt_meta_free(&m);
	return r;
}

void ckpt_meta_free(struct ckpt_meta *m)
{
	free(m->id);
	free(m->hostname);
	free(m->net_file);
	for (size_t i = 0; i < m->n_tmpfs; i++) {
		free(m->tmpfs[i].dest);
		free(m->tmpfs[i].archive);
	}
	free(m->tmpfs);
	memset(m, 0, sizeof(*m));
}
