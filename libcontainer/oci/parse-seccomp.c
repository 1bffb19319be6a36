// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json "linux.seccomp": kept as strings; libseccomp resolves them at
 * setup time. Only the shape of the names is checked here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "oci/parse.h"

void oci_seccomp_free(struct oci_seccomp *s)
{
	if (!s)
		return;
	free(s->default_action);
	strvfreep(&s->architectures);
	strvfreep(&s->flags);
	free(s->listener_path);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		struct oci_seccomp_syscall *sc = &s->syscalls[i];
		strvfreep(&sc->names);
		free(sc->action);
		for (size_t j = 0; j < sc->n_args; j++)
			free(sc->args[j].op);
		free(sc->args);
	}
	free(s->syscalls);
	free(s);
}

static void seccomp_freep(struct oci_seccomp **s)
{
	oci_seccomp_free(*s);
}

static int check_prefix(const char *s, const char *prefix, const char *base, const char *key)
{
	char f[OCI_FIELD_MAX];

	if (s && strncmp(s, prefix, strlen(prefix)) != 0)
		return err_set(EINVAL, "%s: \"%s\" does not start with %s",
			       oci_field(f, base, key), s, prefix);
	return 0;
}

static int parse_args(yajl_val sc, const char *base, struct oci_seccomp_syscall *s)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX], ff[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(sc, "args", base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, "args");
	size_t n = arr->u.array.len;
	s->args = calloc(n ? n : 1, sizeof(*s->args));
	if (!s->args)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = arr->u.array.values[i];
		struct oci_seccomp_arg *a = &s->args[i];
		uint32_t index = 0;
		bool has_index = false;

		oci_field_idx(fi, f, i);
		s->n_args++;
		if ((r = oci_expect_obj(e, fi)) < 0 ||
		    (r = oci_get_u32(e, "index", fi, &index, &has_index)) < 0 ||
		    (r = oci_get_u64(e, "value", fi, &a->value, NULL)) < 0 ||
		    (r = oci_get_u64(e, "valueTwo", fi, &a->value_two, NULL)) < 0 ||
		    (r = oci_get_str_dup(e, "op", fi, &a->op)) < 0)
			return r;
		if (index > 5)
			return err_set(EINVAL, "%s: %u is not a syscall argument index (0..5)",
				       oci_field(ff, fi, "index"), index);
		a->index = index;
		if (!a->op)
			return err_set(EINVAL, "%s: missing", oci_field(ff, fi, "op"));
		if ((r = check_prefix(a->op, "SCMP_CMP_", fi, "op")) < 0)
			return r;
	}
	return 0;
}

static int parse_syscall(yajl_val e, const char *fi, struct oci_seccomp_syscall *s)
{
	char f[OCI_FIELD_MAX];
	int r;

	if ((r = oci_expect_obj(e, fi)) < 0 ||
	    (r = oci_get_strv(e, "names", fi, &s->names)) < 0 ||
	    (r = oci_get_str_dup(e, "action", fi, &s->action)) < 0 ||
	    (r = oci_get_u32(e, "errnoRet", fi, &s->errno_ret, &s->has_errno_ret)) < 0 ||
	    (r = parse_args(e, fi, s)) < 0)
		return r;
	if (!s->names || !s->names[0])
		return err_set(EINVAL, "%s: expected at least one name", oci_field(f, fi, "names"));
	if (!s->action)
		return err_set(EINVAL, "%s: missing", oci_field(f, fi, "action"));
	return check_prefix(s->action, "SCMP_ACT_", fi, "action");
}

int oci_parse_seccomp(yajl_val v, const char *field, struct oci_seccomp **ret)
{
	_cleanup_(seccomp_freep) struct oci_seccomp *s = NULL;
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_expect_obj(v, field)) < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if ((r = oci_get_str_dup(v, "defaultAction", field, &s->default_action)) < 0 ||
	    (r = oci_get_u32(v, "defaultErrnoRet", field, &s->default_errno_ret,
			     &s->has_default_errno_ret)) < 0 ||
	    (r = oci_get_strv(v, "architectures", field, &s->architectures)) < 0 ||
	    (r = oci_get_strv(v, "flags", field, &s->flags)) < 0 ||
	    (r = oci_get_str_dup(v, "listenerPath", field, &s->listener_path)) < 0 ||
	    (r = oci_get_arr(v, "syscalls", field, &arr)) < 0)
		return r;
	if (!s->default_action)
		return err_set(EINVAL, "%s: missing", oci_field(f, field, "defaultAction"));
	if ((r = check_prefix(s->default_action, "SCMP_ACT_", field, "defaultAction")) < 0)
		return r;
	for (char **a = s->architectures; a && *a; a++)
		if ((r = check_prefix(*a, "SCMP_ARCH_", field, "architectures")) < 0)
			return r;
	if (arr) {
		size_t n = arr->u.array.len;
		oci_field(f, field, "syscalls");
		s->syscalls = calloc(n ? n : 1, sizeof(*s->syscalls));
		if (!s->syscalls)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			s->n_syscalls++;
			r = parse_syscall(arr->u.array.values[i], oci_field_idx(fi, f, i),
					  &s->syscalls[i]);
			if (r < 0)
				return r;
		}
	}
	*ret = TAKE_PTR(s);
	return 0;
}
