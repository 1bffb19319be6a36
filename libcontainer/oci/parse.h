/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to libcontainer/oci: typed readers that name the field in every
 * error, and the per-section parsers config.c calls. A field name is built
 * from its parent's: "config.json: " + "process" -> "config.json: process",
 * then + "args" -> "config.json: process.args".
 * Optional readers return 0 and leave *ret untouched when the key is absent
 * or null.
 */
#ifndef SKUA_OCI_PARSE_H
#define SKUA_OCI_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/json.h"
#include "oci/config.h"

#define OCI_FIELD_MAX 512

/* "base" + "key" as a field name into buf (see above); returns buf. */
const char *oci_field(char *buf, const char *base, const char *key);
/* "base[i]" into buf; returns buf. */
const char *oci_field_idx(char *buf, const char *base, size_t i);

/* The value at key if it is an object/array; *ret = NULL when absent. */
int oci_get_obj(yajl_val obj, const char *key, const char *base, yajl_val *ret);
int oci_get_arr(yajl_val obj, const char *key, const char *base, yajl_val *ret);
/* Check v itself is an object (field names v). */
int oci_expect_obj(yajl_val v, const char *field);

int oci_get_str_dup(yajl_val obj, const char *key, const char *base, char **ret);
int oci_get_strv(yajl_val obj, const char *key, const char *base, char ***ret);
int oci_get_bool(yajl_val obj, const char *key, const char *base, bool *ret);
int oci_get_u32(yajl_val obj, const char *key, const char *base, uint32_t *ret, bool *ret_set);
int oci_get_i64(yajl_val obj, const char *key, const char *base, int64_t *ret, bool *ret_set);
int oci_get_u64(yajl_val obj, const char *key, const char *base, uint64_t *ret, bool *ret_set);
/* A string-to-string object ("annotations", "sysctl", "unified") into two arrays. */
int oci_get_string_map(yajl_val obj, const char *key, const char *base,
		       char ***ret_keys, char ***ret_values, size_t *ret_n);
void oci_string_map_free(char **keys, char **values, size_t n);

/* Join path to dir when relative, then clean it lexically ("a/./b/../c" ->
 * "a/c", no trailing slash) the way Go's filepath.Clean does. */
int oci_path_join_clean(const char *dir, const char *path, char **ret);

/* Sections. Each fills its part of the struct; the matching free releases it. */
int oci_parse_process(yajl_val v, const char *field, struct oci_process **ret);
int oci_parse_mounts(yajl_val root, const char *base, struct oci_config *c);
void oci_mounts_free(struct oci_mount *m, size_t n);
int oci_parse_hooks(yajl_val root, const char *base, struct oci_config *c);
void oci_hooks_free(struct oci_hook *h, size_t n);
int oci_parse_linux(yajl_val v, const char *field, struct oci_linux *l);
void oci_linux_free(struct oci_linux *l);
int oci_parse_resources(yajl_val v, const char *field, struct oci_resources *r);
void oci_resources_free(struct oci_resources *r);
int oci_parse_seccomp(yajl_val v, const char *field, struct oci_seccomp **ret);
void oci_seccomp_free(struct oci_seccomp *s);

/* Apply one mount option string to m's derived fields; false if it is
 * not one we know (then it is fs-specific data). */
bool oci_mount_option(const char *opt, struct oci_mount *m);
/* The i-th known mount option name, NULL past the end (for `features`). */
const char *oci_mount_option_name(size_t i);

#endif
