// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/json.h"

int json_parse(const char *text, const char *what, yajl_val *ret)
{
	char errbuf[512];
	yajl_val v = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	if (!v) {
		/* yajl's message spans lines; keep the first */
		char *nl = strchr(errbuf, '\n');
		if (nl)
			*nl = '\0';
		return err_set(EINVAL, "%s: invalid JSON: %s", what, errbuf[0] ? errbuf : "parse error");
	}
	*ret = v;
	return 0;
}

int json_parse_file(const char *path, yajl_val *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file(path, &text, NULL, 0);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	return json_parse(text, path, ret);
}

yajl_val json_get(yajl_val obj, const char *key)
{
	if (!obj || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

int json_get_str(yajl_val obj, const char *key, const char *field, const char **ret)
{
	yajl_val v = json_get(obj, key);
	if (!v || YAJL_IS_NULL(v))
		return -ENOENT;
	if (!YAJL_IS_STRING(v))
		return err_set(EINVAL, "%s: expected a string", field);
	*ret = YAJL_GET_STRING(v);
	return 0;
}

int json_get_bool(yajl_val obj, const char *key, const char *field, bool *ret)
{
	yajl_val v = json_get(obj, key);
	if (!v || YAJL_IS_NULL(v))
		return -ENOENT;
	if (YAJL_IS_TRUE(v))
		*ret = true;
	else if (YAJL_IS_FALSE(v))
		*ret = false;
	else
		return err_set(EINVAL, "%s: expected true or false", field);
	return 0;
}

int json_get_int(yajl_val obj, const char *key, const char *field, int64_t *ret)
{
	yajl_val v = json_get(obj, key);
	if (!v || YAJL_IS_NULL(v))
		return -ENOENT;
	if (!YAJL_IS_INTEGER(v))
		return err_set(EINVAL, "%s: expected an integer", field);
	*ret = YAJL_GET_INTEGER(v);
	return 0;
}

int json_get_uint(yajl_val obj, const char *key, const char *field, uint64_t *ret)
{
	yajl_val v = json_get(obj, key);
	if (!v || YAJL_IS_NULL(v))
		return -ENOENT;
	if (YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= 0) {
		*ret = (uint64_t)YAJL_GET_INTEGER(v);
		return 0;
	}
	if (YAJL_IS_NUMBER(v) && v->u.number.r && v->u.number.r[0] != '-') {
		/* beyond int64: yajl leaves it as a string of digits */
		char *end;
		errno = 0;
		unsigned long long u = strtoull(v->u.number.r, &end, 10);
		if (!errno && !*end) {
			*ret = u;
			return 0;
		}
	}
	return err_set(EINVAL, "%s: expected a non-negative integer", field);
}

int json_get_strv(yajl_val obj, const char *key, const char *field, char ***ret)
{
	yajl_val v = json_get(obj, key);
	if (!v || YAJL_IS_NULL(v))
		return -ENOENT;
	if (!YAJL_IS_ARRAY(v))
		return err_set(EINVAL, "%s: expected an array of strings", field);
	size_t n = v->u.array.len;
	_cleanup_strv_ char **out = calloc(n + 1, sizeof(char *));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		if (!YAJL_IS_STRING(e))
			return err_set(EINVAL, "%s[%zu]: expected a string", field, i);
		const char *str = YAJL_GET_STRING(e);
		out[i] = strdup(str ? str : "");
		if (!out[i])
			return -ENOMEM;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

yajl_gen json_gen_new(bool beautify)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (g && beautify) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "  ");
	}
	return g;
}

void json_gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void json_gen_kv_str(yajl_gen g, const char *k, const char *v)
{
	json_gen_str(g, k);
	if (v)
		json_gen_str(g, v);
	else
		yajl_gen_null(g);
}

void json_gen_kv_int(yajl_gen g, const char *k, long long v)
{
	json_gen_str(g, k);
	yajl_gen_integer(g, v);
}

void json_gen_kv_bool(yajl_gen g, const char *k, bool v)
{
	json_gen_str(g, k);
	yajl_gen_bool(g, v);
}

int json_gen_finish(yajl_gen g, char **ret, size_t *ret_len)
{
	const unsigned char *buf;
	size_t len;
	int r = 0;

	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
		r = -EINVAL;
		goto out;
	}
	char *s = malloc(len + 1);
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(s, buf, len);
	s[len] = '\0';
	*ret = s;
	if (ret_len)
		*ret_len = len;
out:
	yajl_gen_free(g);
	return r;
}
