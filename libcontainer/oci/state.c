// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/json.h"
#include "oci/state.h"

static void gen_annotations(yajl_gen g, const struct oci_state *s)
{
	json_gen_str(g, "annotations");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < s->n_annotations; i++)
		json_gen_kv_str(g, s->annotation_keys[i], s->annotation_values[i]);
	yajl_gen_map_close(g);
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

int oci_state_json(const struct oci_state *s, char **ret)
{
	yajl_gen g = json_gen_new(true);

	if (!g)
		return -ENOMEM;
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersion", s->oci_version ? s->oci_version : OCI_SPEC_VERSION);
	json_gen_kv_str(g, "id", str_or_empty(s->id));
	json_gen_kv_int(g, "pid", s->pid);
	json_gen_kv_str(g, "status", str_or_empty(s->status));
	json_gen_kv_str(g, "bundle", str_or_empty(s->bundle));
	json_gen_kv_str(g, "rootfs", str_or_empty(s->rootfs));
	json_gen_kv_str(g, "created", str_or_empty(s->created));
	json_gen_kv_str(g, "owner", str_or_empty(s->owner));
	if (s->n_annotations)
		gen_annotations(g, s);
	yajl_gen_map_close(g);
	return json_gen_finish(g, ret, NULL);
}

int oci_state_hook_json(const struct oci_state *s, char **ret)
{
	yajl_gen g = json_gen_new(false);

	if (!g)
		return -ENOMEM;
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersion", s->oci_version ? s->oci_version : OCI_SPEC_VERSION);
	json_gen_kv_str(g, "id", str_or_empty(s->id));
	json_gen_kv_str(g, "status", str_or_empty(s->status));
	if (s->pid > 0)
		json_gen_kv_int(g, "pid", s->pid);
	json_gen_kv_str(g, "bundle", str_or_empty(s->bundle));
	if (s->n_annotations)
		gen_annotations(g, s);
	yajl_gen_map_close(g);
	return json_gen_finish(g, ret, NULL);
}

char *oci_time_rfc3339(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	char frac[16] = "";
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	if (ts->tv_nsec) {
		snprintf(frac, sizeof(frac), ".%09ld", ts->tv_nsec);
		for (n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	return buf;
}
