// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json "linux": namespaces, id mappings, devices, paths, sysctl, time offsets. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/syscall.h"
#include "oci/parse.h"

static const struct {
	const char *name;
	int flag;
} ns_types[OCI_NS_COUNT] = {
	[OCI_NS_PID] = { "pid", CLONE_NEWPID },
	[OCI_NS_NETWORK] = { "network", CLONE_NEWNET },
	[OCI_NS_MOUNT] = { "mount", CLONE_NEWNS },
	[OCI_NS_IPC] = { "ipc", CLONE_NEWIPC },
	[OCI_NS_UTS] = { "uts", CLONE_NEWUTS },
	[OCI_NS_USER] = { "user", CLONE_NEWUSER },
	[OCI_NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP },
	[OCI_NS_TIME] = { "time", CLONE_NEWTIME },
};

const char *oci_ns_type_name(enum oci_ns_type t)
{
	return (unsigned)t < OCI_NS_COUNT ? ns_types[t].name : "unknown";
}

int oci_ns_clone_flag(enum oci_ns_type t)
{
	return (unsigned)t < OCI_NS_COUNT ? ns_types[t].flag : 0;
}

const struct oci_namespace *oci_config_namespace(const struct oci_config *c, enum oci_ns_type t)
{
	for (size_t i = 0; i < c->linux_.n_namespaces; i++)
		if (c->linux_.namespaces[i].type == t)
			return &c->linux_.namespaces[i];
	return NULL;
}

void oci_linux_free(struct oci_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	oci_resources_free(&l->resources);
	free(l->rootfs_propagation);
	strvfreep(&l->masked_paths);
	strvfreep(&l->readonly_paths);
	free(l->mount_label);
	for (size_t i = 0; i < l->n_sysctl; i++) {
		free(l->sysctl[i].key);
		free(l->sysctl[i].value);
	}
	free(l->sysctl);
	oci_seccomp_free(l->seccomp);
	free(l->personality_domain);
	memset(l, 0, sizeof(*l));
}

static int parse_namespaces(yajl_val lx, const char *base, struct oci_linux *l)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX], ft[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(lx, "namespaces", base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, "namespaces");
	size_t n = arr->u.array.len;
	l->namespaces = calloc(n ? n : 1, sizeof(*l->namespaces));
	if (!l->namespaces)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = arr->u.array.values[i];
		struct oci_namespace *ns = &l->namespaces[i];
		const char *type;

		oci_field_idx(fi, f, i);
		if ((r = oci_expect_obj(e, fi)) < 0)
			return r;
		r = json_get_str(e, "type", oci_field(ft, fi, "type"), &type);
		if (r == -ENOENT)
			return err_set(EINVAL, "%s: missing", ft);
		if (r < 0)
			return r;
		ns->type = OCI_NS_COUNT;
		for (int t = 0; t < OCI_NS_COUNT; t++)
			if (streq(ns_types[t].name, type))
				ns->type = t;
		if (ns->type == OCI_NS_COUNT)
			return err_set(EINVAL, "%s: unknown namespace type \"%s\"", ft, type);
		l->n_namespaces++;
		if ((r = oci_get_str_dup(e, "path", fi, &ns->path)) < 0)
			return r;
	}
	return 0;
}

static int parse_mappings(yajl_val lx, const char *key, const char *base,
			  struct oci_id_mapping **ret, size_t *ret_n)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX], fk[OCI_FIELD_MAX];
	static const char *const keys[] = { "containerID", "hostID", "size" };
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(lx, key, base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, key);
	size_t n = arr->u.array.len;
	_cleanup_free_ struct oci_id_mapping *m = calloc(n ? n : 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = arr->u.array.values[i];
		uint32_t *dst[] = { &m[i].container_id, &m[i].host_id, &m[i].size };

		oci_field_idx(fi, f, i);
		if ((r = oci_expect_obj(e, fi)) < 0)
			return r;
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			bool set = false;
			if ((r = oci_get_u32(e, keys[k], fi, dst[k], &set)) < 0)
				return r;
			if (!set)
				return err_set(EINVAL, "%s: missing", oci_field(fk, fi, keys[k]));
		}
	}
	*ret = TAKE_PTR(m);
	*ret_n = n;
	return 0;
}

static int parse_device(yajl_val e, const char *fi, struct oci_device *d)
{
	char f[OCI_FIELD_MAX];
	const char *type;
	bool has_major = false, has_minor = false;
	int r;

	if ((r = oci_expect_obj(e, fi)) < 0)
		return r;
	r = json_get_str(e, "type", oci_field(f, fi, "type"), &type);
	if (r == -ENOENT)
		return err_set(EINVAL, "%s: missing", f);
	if (r < 0)
		return r;
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		return err_set(EINVAL, "%s: \"%s\" is not one of c, b, u, p", f, type);
	d->type = type[0];
	if ((r = oci_get_str_dup(e, "path", fi, &d->path)) < 0 ||
	    (r = oci_get_i64(e, "major", fi, &d->major, &has_major)) < 0 ||
	    (r = oci_get_i64(e, "minor", fi, &d->minor, &has_minor)) < 0 ||
	    (r = oci_get_u32(e, "fileMode", fi, &d->file_mode, &d->has_file_mode)) < 0 ||
	    (r = oci_get_u32(e, "uid", fi, &d->uid, &d->has_uid)) < 0 ||
	    (r = oci_get_u32(e, "gid", fi, &d->gid, &d->has_gid)) < 0)
		return r;
	if (!d->path)
		return err_set(EINVAL, "%s: missing", oci_field(f, fi, "path"));
	/* a fifo has no device number; the others need both */
	if (d->type != 'p' && (!has_major || !has_minor))
		return err_set(EINVAL, "%s: major and minor are required for type %c", fi, d->type);
	return 0;
}

static int parse_devices(yajl_val lx, const char *base, struct oci_linux *l)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(lx, "devices", base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, "devices");
	size_t n = arr->u.array.len;
	l->devices = calloc(n ? n : 1, sizeof(*l->devices));
	if (!l->devices)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		l->n_devices++;
		r = parse_device(arr->u.array.values[i], oci_field_idx(fi, f, i), &l->devices[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_sysctl(yajl_val lx, const char *base, struct oci_linux *l)
{
	char **keys = NULL, **values = NULL;
	size_t n = 0;
	int r = oci_get_string_map(lx, "sysctl", base, &keys, &values, &n);

	if (r < 0 || !keys)
		return r;
	l->sysctl = calloc(n ? n : 1, sizeof(*l->sysctl));
	if (!l->sysctl) {
		oci_string_map_free(keys, values, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		l->sysctl[i].key = keys[i];
		l->sysctl[i].value = values[i];
	}
	l->n_sysctl = n;
	free(keys);
	free(values);
	return 0;
}

static int parse_time_offset(yajl_val to, const char *key, const char *base,
			     int64_t *secs, uint32_t *nsecs)
{
	char f[OCI_FIELD_MAX];
	yajl_val v;
	int r;

	if ((r = oci_get_obj(to, key, base, &v)) < 0 || !v)
		return r;
	oci_field(f, base, key);
	if ((r = oci_get_i64(v, "secs", f, secs, NULL)) < 0 ||
	    (r = oci_get_u32(v, "nanosecs", f, nsecs, NULL)) < 0)
		return r;
	return 0;
}

static int parse_extras(yajl_val lx, const char *base, struct oci_linux *l)
{
	char f[OCI_FIELD_MAX];
	yajl_val to, pers;
	int r;

	if ((r = oci_get_obj(lx, "timeOffsets", base, &to)) < 0)
		return r;
	if (to) {
		oci_field(f, base, "timeOffsets");
		l->time_offsets.set = true;
		if ((r = parse_time_offset(to, "boottime", f, &l->time_offsets.boottime_secs,
					   &l->time_offsets.boottime_nsecs)) < 0 ||
		    (r = parse_time_offset(to, "monotonic", f, &l->time_offsets.monotonic_secs,
					   &l->time_offsets.monotonic_nsecs)) < 0)
			return r;
	}
	if ((r = oci_get_obj(lx, "personality", base, &pers)) < 0)
		return r;
	if (pers) {
		oci_field(f, base, "personality");
		if ((r = oci_get_str_dup(pers, "domain", f, &l->personality_domain)) < 0)
			return r;
	}
	return 0;
}

int oci_parse_linux(yajl_val v, const char *field, struct oci_linux *l)
{
	char f[OCI_FIELD_MAX];
	yajl_val res, sc;
	int r;

	if ((r = oci_expect_obj(v, field)) < 0 ||
	    (r = parse_namespaces(v, field, l)) < 0 ||
	    (r = parse_mappings(v, "uidMappings", field, &l->uid_mappings, &l->n_uid_mappings)) < 0 ||
	    (r = parse_mappings(v, "gidMappings", field, &l->gid_mappings, &l->n_gid_mappings)) < 0 ||
	    (r = parse_devices(v, field, l)) < 0 ||
	    (r = oci_get_str_dup(v, "cgroupsPath", field, &l->cgroups_path)) < 0 ||
	    (r = oci_get_str_dup(v, "rootfsPropagation", field, &l->rootfs_propagation)) < 0 ||
	    (r = oci_get_strv(v, "maskedPaths", field, &l->masked_paths)) < 0 ||
	    (r = oci_get_strv(v, "readonlyPaths", field, &l->readonly_paths)) < 0 ||
	    (r = oci_get_str_dup(v, "mountLabel", field, &l->mount_label)) < 0 ||
	    (r = parse_sysctl(v, field, l)) < 0 ||
	    (r = parse_extras(v, field, l)) < 0)
		return r;
	if (l->cgroups_path && !l->cgroups_path[0]) {
		free(l->cgroups_path);
		l->cgroups_path = NULL;
	}
	if ((r = oci_get_obj(v, "resources", field, &res)) < 0)
		return r;
	if (res) {
		l->has_resources = true;
		if ((r = oci_parse_resources(res, oci_field(f, field, "resources"),
					     &l->resources)) < 0)
			return r;
	}
	if ((r = oci_get_obj(v, "seccomp", field, &sc)) < 0)
		return r;
	if (sc && (r = oci_parse_seccomp(sc, oci_field(f, field, "seccomp"), &l->seccomp)) < 0)
		return r;
	return 0;
}
