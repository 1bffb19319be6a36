// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "oci/parse.h"

const char *oci_field(char *buf, const char *base, const char *key)
{
	size_t n = strlen(base);

	/* a base ending in ": " is the file name prefix, not a parent field */
	if (n == 0 || base[n - 1] == ' ')
		snprintf(buf, OCI_FIELD_MAX, "%s%s", base, key);
	else
		snprintf(buf, OCI_FIELD_MAX, "%s.%s", base, key);
	return buf;
}

const char *oci_field_idx(char *buf, const char *base, size_t i)
{
	snprintf(buf, OCI_FIELD_MAX, "%s[%zu]", base, i);
	return buf;
}

static yajl_val get_present(yajl_val obj, const char *key)
{
	yajl_val v = json_get(obj, key);
	return v && !YAJL_IS_NULL(v) ? v : NULL;
}

int oci_expect_obj(yajl_val v, const char *field)
{
	size_t n = strlen(field);

	if (v && YAJL_IS_OBJECT(v))
		return 0;
	/* the whole document: "process.json: expected an object" */
	if (n >= 2 && field[n - 1] == ' ' && field[n - 2] == ':')
		return err_set(EINVAL, "%.*s: expected an object", (int)(n - 2), field);
	return err_set(EINVAL, "%s: expected an object", field);
}

int oci_get_obj(yajl_val obj, const char *key, const char *base, yajl_val *ret)
{
	char f[OCI_FIELD_MAX];
	yajl_val v = get_present(obj, key);

	if (v && !YAJL_IS_OBJECT(v))
		return err_set(EINVAL, "%s: expected an object", oci_field(f, base, key));
	*ret = v;
	return 0;
}

int oci_get_arr(yajl_val obj, const char *key, const char *base, yajl_val *ret)
{
	char f[OCI_FIELD_MAX];
	yajl_val v = get_present(obj, key);

	if (v && !YAJL_IS_ARRAY(v))
		return err_set(EINVAL, "%s: expected an array", oci_field(f, base, key));
	*ret = v;
	return 0;
}

int oci_get_str_dup(yajl_val obj, const char *key, const char *base, char **ret)
{
	char f[OCI_FIELD_MAX];
	const char *s;
	int r = json_get_str(obj, key, oci_field(f, base, key), &s);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	char *d = strdup(s);
	if (!d)
		return -ENOMEM;
	free(*ret);
	*ret = d;
	return 0;
}

int oci_get_strv(yajl_val obj, const char *key, const char *base, char ***ret)
{
	char f[OCI_FIELD_MAX];
	char **v = NULL;
	int r = json_get_strv(obj, key, oci_field(f, base, key), &v);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

int oci_get_bool(yajl_val obj, const char *key, const char *base, bool *ret)
{
	char f[OCI_FIELD_MAX];
	int r = json_get_bool(obj, key, oci_field(f, base, key), ret);

	return r == -ENOENT ? 0 : r;
}

int oci_get_u32(yajl_val obj, const char *key, const char *base, uint32_t *ret, bool *ret_set)
{
	char f[OCI_FIELD_MAX];
	uint64_t u;
	int r = json_get_uint(obj, key, oci_field(f, base, key), &u);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (u > UINT32_MAX)
		return err_set(ERANGE, "%s: %llu is out of range", f, (unsigned long long)u);
	*ret = (uint32_t)u;
	if (ret_set)
		*ret_set = true;
	return 0;
}

int oci_get_i64(yajl_val obj, const char *key, const char *base, int64_t *ret, bool *ret_set)
{
	char f[OCI_FIELD_MAX];
	int r = json_get_int(obj, key, oci_field(f, base, key), ret);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (ret_set)
		*ret_set = true;
	return 0;
}

int oci_get_u64(yajl_val obj, const char *key, const char *base, uint64_t *ret, bool *ret_set)
{
	char f[OCI_FIELD_MAX];
	int r = json_get_uint(obj, key, oci_field(f, base, key), ret);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (ret_set)
		*ret_set = true;
	return 0;
}

void oci_string_map_free(char **keys, char **values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(keys ? keys[i] : NULL);
		free(values ? values[i] : NULL);
	}
	free(keys);
	free(values);
}

int oci_get_string_map(yajl_val obj, const char *key, const char *base,
		       char ***ret_keys, char ***ret_values, size_t *ret_n)
{
	char f[OCI_FIELD_MAX], fk[OCI_FIELD_MAX];
	yajl_val m = NULL;
	int r = oci_get_obj(obj, key, base, &m);

	if (r < 0 || !m)
		return r;
	oci_field(f, base, key);
	size_t n = m->u.object.len;
	char **keys = calloc(n + 1, sizeof(char *));
	char **values = calloc(n + 1, sizeof(char *));
	if (!keys || !values) {
		free(keys);
		free(values);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		yajl_val v = m->u.object.values[i];
		if (!YAJL_IS_STRING(v)) {
			oci_string_map_free(keys, values, n);
			return err_set(EINVAL, "%s: expected a string",
				       oci_field(fk, f, m->u.object.keys[i]));
		}
		keys[i] = strdup(m->u.object.keys[i]);
		values[i] = strdup(v->u.string);
		if (!keys[i] || !values[i]) {
			oci_string_map_free(keys, values, n);
			return -ENOMEM;
		}
	}
	*ret_keys = keys;
	*ret_values = values;
	*ret_n = n;
	return 0;
}

int oci_path_join_clean(const char *dir, const char *path, char **ret)
{
	_cleanup_free_ char *joined = NULL;
	bool abs;

	if (path[0] == '/' || !dir || !dir[0])
		joined = strdup(path);
	else if (asprintf(&joined, "%s/%s", dir, path) < 0)
		joined = NULL;
	if (!joined)
		return -ENOMEM;
	abs = joined[0] == '/';

	/* split into components, resolving "." and ".." lexically */
	size_t len = strlen(joined);
	_cleanup_free_ char *out = malloc(len + 2);
	_cleanup_free_ size_t *starts = calloc(len + 1, sizeof(size_t));
	if (!out || !starts)
		return -ENOMEM;
	size_t o = 0, depth = 0, kept_dotdot = 0;
	if (abs)
		out[o++] = '/';
	char *save = NULL;
	for (char *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (streq(c, "."))
			continue;
		if (streq(c, "..")) {
			if (depth > kept_dotdot) {
				o = starts[--depth];
				continue;
			}
			if (abs)
				continue; /* "/.." is "/" */
			kept_dotdot++;
		}
		size_t clen = strlen(c);
		starts[depth++] = o;
		if (o > (abs ? 1u : 0u))
			out[o++] = '/';
		memcpy(out + o, c, clen);
		o += clen;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}
