/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Thin helpers over yajl: parse to a tree with a clear error, typed lookups,
 * and a generator that writes strings/ints with short calls. */
#ifndef SKUA_BASE_JSON_H
#define SKUA_BASE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Parse text; on failure err_set()s "what: parse error ..." and returns -EINVAL. */
int json_parse(const char *text, const char *what, yajl_val *ret);
int json_parse_file(const char *path, yajl_val *ret);
static inline void json_freep(yajl_val *v) { if (*v) yajl_tree_free(*v); }
#define _cleanup_json_ __attribute__((cleanup(json_freep)))

/* Child of an object by key; NULL if absent or obj is not an object. */
yajl_val json_get(yajl_val obj, const char *key);
/* Typed readers: return 0, -ENOENT if absent (ret untouched), -EINVAL on a wrong type
 * (with err_set naming `field`). */
int json_get_str(yajl_val obj, const char *key, const char *field, const char **ret);
int json_get_bool(yajl_val obj, const char *key, const char *field, bool *ret);
int json_get_int(yajl_val obj, const char *key, const char *field, int64_t *ret);
int json_get_uint(yajl_val obj, const char *key, const char *field, uint64_t *ret);
/* Array of strings -> NULL-terminated strv (malloc'd). */
int json_get_strv(yajl_val obj, const char *key, const char *field, char ***ret);

/* Generator helpers. */
yajl_gen json_gen_new(bool beautify);
void json_gen_str(yajl_gen g, const char *s);
void json_gen_kv_str(yajl_gen g, const char *k, const char *v);
void json_gen_kv_int(yajl_gen g, const char *k, long long v);
void json_gen_kv_bool(yajl_gen g, const char *k, bool v);
/* Copy the generated text out (malloc'd, NUL-terminated) and free g. */
int json_gen_finish(yajl_gen g, char **ret, size_t *ret_len);

#endif
