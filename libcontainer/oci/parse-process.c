// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json "process" (and exec --process): args, env, user, capabilities, rlimits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "oci/parse.h"

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

void oci_process_free(struct oci_process *p)
{
	if (!p)
		return;
	free(p->user.additional_gids);
	free(p->user.username);
	strvfreep(&p->args);
	strvfreep(&p->env);
	free(p->cwd);
	free(p->caps.bounding);
	free(p->caps.effective);
	free(p->caps.inheritable);
	free(p->caps.permitted);
	free(p->caps.ambient);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p);
}

static void process_freep(struct oci_process **p)
{
	oci_process_free(*p);
}

static int parse_user(yajl_val proc, const char *base, struct oci_user *u)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX];
	yajl_val v, gids;
	int r;

	if ((r = oci_get_obj(proc, "user", base, &v)) < 0 || !v)
		return r;
	oci_field(f, base, "user");
	if ((r = oci_get_u32(v, "uid", f, &u->uid, NULL)) < 0 ||
	    (r = oci_get_u32(v, "gid", f, &u->gid, NULL)) < 0 ||
	    (r = oci_get_u32(v, "umask", f, &u->umask, &u->has_umask)) < 0 ||
	    (r = oci_get_str_dup(v, "username", f, &u->username)) < 0 ||
	    (r = oci_get_arr(v, "additionalGids", f, &gids)) < 0)
		return r;
	if (!gids)
		return 0;
	oci_field(f, f, "additionalGids");
	size_t n = gids->u.array.len;
	u->additional_gids = calloc(n ? n : 1, sizeof(uint32_t));
	if (!u->additional_gids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val g = gids->u.array.values[i];
		if (!YAJL_IS_INTEGER(g) || YAJL_GET_INTEGER(g) < 0 || YAJL_GET_INTEGER(g) > UINT32_MAX)
			return err_set(EINVAL, "%s: expected a gid (0..4294967295)",
				       oci_field_idx(fi, f, i));
		u->additional_gids[i] = (uint32_t)YAJL_GET_INTEGER(g);
	}
	u->n_additional_gids = n;
	return 0;
}

static int parse_cap_set(yajl_val caps, const char *key, const char *base, int **ret, size_t *ret_n)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(caps, key, base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, key);
	size_t n = arr->u.array.len;
	_cleanup_free_ int *out = calloc(n ? n : 1, sizeof(int));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = arr->u.array.values[i];
		cap_value_t cv;
		if (!YAJL_IS_STRING(e))
			return err_set(EINVAL, "%s: expected a string", oci_field_idx(fi, f, i));
		/* libcap also takes bare numbers; the spec only allows names */
		const char *name = e->u.string;
		if (strncasecmp(name, "CAP_", 4) != 0 || cap_from_name(name, &cv) < 0)
			return err_set(EINVAL, "%s: unknown capability \"%s\"",
				       oci_field_idx(fi, f, i), name);
		out[i] = cv;
	}
	*ret = TAKE_PTR(out);
	*ret_n = n;
	return 0;
}

static int parse_caps(yajl_val proc, const char *base, struct oci_caps *c)
{
	char f[OCI_FIELD_MAX];
	yajl_val v;
	int r;

	if ((r = oci_get_obj(proc, "capabilities", base, &v)) < 0 || !v)
		return r;
	oci_field(f, base, "capabilities");
	c->present = true;
	if ((r = parse_cap_set(v, "bounding", f, &c->bounding, &c->n_bounding)) < 0 ||
	    (r = parse_cap_set(v, "effective", f, &c->effective, &c->n_effective)) < 0 ||
	    (r = parse_cap_set(v, "inheritable", f, &c->inheritable, &c->n_inheritable)) < 0 ||
	    (r = parse_cap_set(v, "permitted", f, &c->permitted, &c->n_permitted)) < 0 ||
	    (r = parse_cap_set(v, "ambient", f, &c->ambient, &c->n_ambient)) < 0)
		return r;
	return 0;
}

static int rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (streq(rlimit_names[i].name, name))
			return rlimit_names[i].resource;
	return -1;
}

static int parse_rlimits(yajl_val proc, const char *base, struct oci_process *p)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX], ft[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(proc, "rlimits", base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, "rlimits");
	size_t n = arr->u.array.len;
	p->rlimits = calloc(n ? n : 1, sizeof(*p->rlimits));
	if (!p->rlimits)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = arr->u.array.values[i];
		struct oci_rlimit *rl = &p->rlimits[i];
		const char *type;
		bool has_soft = false, has_hard = false;

		oci_field_idx(fi, f, i);
		if ((r = oci_expect_obj(e, fi)) < 0)
			return r;
		r = json_get_str(e, "type", oci_field(ft, fi, "type"), &type);
		if (r == -ENOENT)
			return err_set(EINVAL, "%s: missing", ft);
		if (r < 0)
			return r;
		rl->resource = rlimit_from_name(type);
		if (rl->resource < 0)
			return err_set(EINVAL, "%s: unknown rlimit \"%s\"", ft, type);
		if ((r = oci_get_u64(e, "soft", fi, &rl->soft, &has_soft)) < 0 ||
		    (r = oci_get_u64(e, "hard", fi, &rl->hard, &has_hard)) < 0)
			return r;
		if (!has_soft || !has_hard)
			return err_set(EINVAL, "%s: both soft and hard are required", fi);
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[j].resource == rl->resource)
				return err_set(EINVAL, "%s: duplicate rlimit \"%s\"", ft, type);
		p->n_rlimits++;
	}
	return 0;
}

int oci_parse_process(yajl_val v, const char *field, struct oci_process **ret)
{
	_cleanup_(process_freep) struct oci_process *p = NULL;
	yajl_val cs;
	int64_t oom;
	int r;

	if ((r = oci_expect_obj(v, field)) < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if ((r = oci_get_bool(v, "terminal", field, &p->terminal)) < 0 ||
	    (r = oci_get_obj(v, "consoleSize", field, &cs)) < 0)
		return r;
	if (cs) {
		char f[OCI_FIELD_MAX];
		oci_field(f, field, "consoleSize");
		if ((r = oci_get_u32(cs, "height", f, &p->console_height, NULL)) < 0 ||
		    (r = oci_get_u32(cs, "width", f, &p->console_width, NULL)) < 0)
			return r;
	}
	if ((r = parse_user(v, field, &p->user)) < 0 ||
	    (r = oci_get_strv(v, "args", field, &p->args)) < 0 ||
	    (r = oci_get_strv(v, "env", field, &p->env)) < 0 ||
	    (r = oci_get_str_dup(v, "cwd", field, &p->cwd)) < 0 ||
	    (r = parse_caps(v, field, &p->caps)) < 0 ||
	    (r = parse_rlimits(v, field, p)) < 0 ||
	    (r = oci_get_bool(v, "noNewPrivileges", field, &p->no_new_privileges)) < 0 ||
	    (r = oci_get_str_dup(v, "apparmorProfile", field, &p->apparmor_profile)) < 0 ||
	    (r = oci_get_str_dup(v, "selinuxLabel", field, &p->selinux_label)) < 0 ||
	    (r = oci_get_i64(v, "oomScoreAdj", field, &oom, &p->has_oom_score_adj)) < 0)
		return r;
	if (p->has_oom_score_adj) {
		char f[OCI_FIELD_MAX];
		if (oom < -1000 || oom > 1000)
			return err_set(ERANGE, "%s: %lld is outside -1000..1000",
				       oci_field(f, field, "oomScoreAdj"), (long long)oom);
		p->oom_score_adj = (int)oom;
	}
	*ret = TAKE_PTR(p);
	return 0;
}

int oci_process_parse(const char *text, struct oci_process **ret)
{
	_cleanup_json_ yajl_val root = NULL;
	int r = json_parse(text, "process.json", &root);

	if (r < 0)
		return r;
	return oci_parse_process(root, "process.json: ", ret);
}
