// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json "hooks": one array per kind, in the order the spec lists them. */
#include <errno.h>
#include <stdlib.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "oci/parse.h"

static const char *const hook_kind_names[OCI_HOOK_COUNT] = {
	[OCI_HOOK_PRESTART] = "prestart",
	[OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
	[OCI_HOOK_CREATE_CONTAINER] = "createContainer",
	[OCI_HOOK_START_CONTAINER] = "startContainer",
	[OCI_HOOK_POSTSTART] = "poststart",
	[OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_kind_name(enum oci_hook_kind k)
{
	return (unsigned)k < OCI_HOOK_COUNT ? hook_kind_names[k] : "unknown";
}

void oci_hooks_free(struct oci_hook *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].path);
		strvfreep(&h[i].args);
		strvfreep(&h[i].env);
	}
	free(h);
}

static int parse_hook(yajl_val v, const char *field, struct oci_hook *h)
{
	char f[OCI_FIELD_MAX];
	int64_t timeout;
	int r;

	if ((r = oci_expect_obj(v, field)) < 0 ||
	    (r = oci_get_str_dup(v, "path", field, &h->path)) < 0 ||
	    (r = oci_get_strv(v, "args", field, &h->args)) < 0 ||
	    (r = oci_get_strv(v, "env", field, &h->env)) < 0 ||
	    (r = oci_get_i64(v, "timeout", field, &timeout, &h->has_timeout)) < 0)
		return r;
	if (!h->path)
		return err_set(EINVAL, "%s: missing", oci_field(f, field, "path"));
	if (h->has_timeout) {
		if (timeout <= 0 || timeout > 86400 * 365)
			return err_set(EINVAL, "%s: must be a positive number of seconds",
				       oci_field(f, field, "timeout"));
		h->timeout = (int)timeout;
	}
	return 0;
}

int oci_parse_hooks(yajl_val root, const char *base, struct oci_config *c)
{
	char f[OCI_FIELD_MAX], fk[OCI_FIELD_MAX], fi[OCI_FIELD_MAX];
	yajl_val hooks;
	int r;

	if ((r = oci_get_obj(root, "hooks", base, &hooks)) < 0 || !hooks)
		return r;
	oci_field(f, base, "hooks");
	for (int k = 0; k < OCI_HOOK_COUNT; k++) {
		yajl_val arr;
		if ((r = oci_get_arr(hooks, hook_kind_names[k], f, &arr)) < 0)
			return r;
		if (!arr)
			continue;
		oci_field(fk, f, hook_kind_names[k]);
		size_t n = arr->u.array.len;
		c->hooks[k] = calloc(n ? n : 1, sizeof(struct oci_hook));
		if (!c->hooks[k])
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			c->n_hooks[k]++;
			r = parse_hook(arr->u.array.values[i], oci_field_idx(fi, fk, i),
				       &c->hooks[k][i]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
