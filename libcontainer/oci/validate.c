// SPDX-License-Identifier: GPL-2.0-or-later
/* Semantic checks on a parsed config, before anything is created: each
 * message names the field and says what is wrong with it. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "oci/config.h"

#define WHAT "config.json: "

static bool is_abs(const char *p)
{
	return p && p[0] == '/';
}

static int check_root(const struct oci_config *c)
{
	struct stat st;

	if (!c->root_path)
		return err_set(EINVAL, WHAT "root.path: missing");
	if (stat(c->root_path, &st) < 0) {
		if (errno == ENOENT)
			return err_set(ENOENT, "rootfs (%s) does not exist", c->root_path);
		return err_sys(errno, "rootfs (%s)", c->root_path);
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(ENOTDIR, "rootfs (%s) is not a directory", c->root_path);
	return 0;
}

int oci_process_validate(const struct oci_process *p, const char *field)
{
	if (!p)
		return err_set(EINVAL, "%s: missing", field);
	if (!p->args || !p->args[0])
		return err_set(EINVAL, "%s.args: must not be empty", field);
	if (!p->args[0][0])
		return err_set(EINVAL, "%s.args[0]: must not be empty", field);
	if (!p->cwd)
		return err_set(EINVAL, "%s.cwd: missing", field);
	if (!is_abs(p->cwd))
		return err_set(EINVAL, "%s.cwd: \"%s\" is not an absolute path", field, p->cwd);
	for (char **e = p->env; e && *e; e++)
		if (!strchr(*e, '=') || **e == '=')
			return err_set(EINVAL, "%s.env[%td]: \"%s\" is not KEY=VALUE", field,
				       e - p->env, *e);
	return 0;
}

static int check_mounts(const struct oci_config *c)
{
	for (size_t i = 0; i < c->n_mounts; i++)
		if (!is_abs(c->mounts[i].destination))
			return err_set(EINVAL, WHAT "mounts[%zu].destination: \"%s\" is not an absolute path",
				       i, c->mounts[i].destination);
	return 0;
}

static int check_hooks(const struct oci_config *c)
{
	for (int k = 0; k < OCI_HOOK_COUNT; k++)
		for (size_t i = 0; i < c->n_hooks[k]; i++)
			if (!is_abs(c->hooks[k][i].path))
				return err_set(EINVAL, WHAT "hooks.%s[%zu].path: \"%s\" is not an absolute path",
					       oci_hook_kind_name(k), i, c->hooks[k][i].path);
	return 0;
}

/* True when the config asks for a fresh namespace of this type (not one joined by path). */
static bool new_ns(const struct oci_config *c, enum oci_ns_type t)
{
	const struct oci_namespace *ns = oci_config_namespace(c, t);
	return ns && !ns->path;
}

static int check_namespaces(const struct oci_config *c)
{
	const struct oci_linux *l = &c->linux_;
	bool seen[OCI_NS_COUNT] = { false };

	for (size_t i = 0; i < l->n_namespaces; i++) {
		const struct oci_namespace *ns = &l->namespaces[i];
		if (seen[ns->type])
			return err_set(EINVAL, WHAT "linux.namespaces[%zu].type: duplicate namespace \"%s\"",
				       i, oci_ns_type_name(ns->type));
		seen[ns->type] = true;
		if (ns->path && !is_abs(ns->path))
			return err_set(EINVAL, WHAT "linux.namespaces[%zu].path: \"%s\" is not an absolute path",
				       i, ns->path);
	}
	if ((l->n_uid_mappings || l->n_gid_mappings) && !seen[OCI_NS_USER])
		return err_set(EINVAL, WHAT "linux.%s: id mappings need a user namespace",
			       l->n_uid_mappings ? "uidMappings" : "gidMappings");
	if (new_ns(c, OCI_NS_USER) && (!l->n_uid_mappings || !l->n_gid_mappings))
		return err_set(EINVAL, WHAT "linux.%s: a new user namespace needs uid and gid mappings",
			       l->n_uid_mappings ? "gidMappings" : "uidMappings");
	if (c->hostname && c->hostname[0] && !seen[OCI_NS_UTS])
		return err_set(EINVAL, WHAT "hostname: setting it needs a uts namespace");
	if (c->domainname && c->domainname[0] && !seen[OCI_NS_UTS])
		return err_set(EINVAL, WHAT "domainname: setting it needs a uts namespace");
	if (l->time_offsets.set && !new_ns(c, OCI_NS_TIME))
		return err_set(EINVAL, WHAT "linux.timeOffsets: needs a new time namespace");
	return 0;
}

static int check_sysctl(const struct oci_config *c)
{
	const struct oci_linux *l = &c->linux_;

	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *k = l->sysctl[i].key;
		/* these write to a namespace the host shares unless we make our own */
		if (!strncmp(k, "net.", 4) && !oci_config_namespace(c, OCI_NS_NETWORK))
			return err_set(EINVAL, WHAT "linux.sysctl.%s: not allowed in the host's network namespace", k);
		if ((!strncmp(k, "kernel.msg", 10) || !strncmp(k, "kernel.sem", 10) ||
		     !strncmp(k, "kernel.shm", 10) || !strncmp(k, "fs.mqueue.", 10)) &&
		    !oci_config_namespace(c, OCI_NS_IPC))
			return err_set(EINVAL, WHAT "linux.sysctl.%s: not allowed in the host's ipc namespace", k);
		if ((streq(k, "kernel.hostname") || streq(k, "kernel.domainname")) &&
		    !oci_config_namespace(c, OCI_NS_UTS))
			return err_set(EINVAL, WHAT "linux.sysctl.%s: not allowed in the host's uts namespace", k);
	}
	return 0;
}

static int check_paths(const char *key, char **paths)
{
	for (size_t i = 0; paths && paths[i]; i++)
		if (!is_abs(paths[i]))
			return err_set(EINVAL, WHAT "linux.%s[%zu]: \"%s\" is not an absolute path",
				       key, i, paths[i]);
	return 0;
}

static int check_linux_misc(const struct oci_config *c)
{
	const struct oci_linux *l = &c->linux_;
	static const char *const props[] = { "private", "rprivate", "shared", "rshared",
					     "slave", "rslave", "unbindable", "runbindable" };
	int r;

	if (l->rootfs_propagation && l->rootfs_propagation[0]) {
		bool ok = false;
		for (size_t i = 0; i < ARRAY_SIZE(props); i++)
			ok |= streq(props[i], l->rootfs_propagation);
		if (!ok)
			return err_set(EINVAL, WHAT "linux.rootfsPropagation: unknown value \"%s\"",
				       l->rootfs_propagation);
	}
	for (size_t i = 0; i < l->n_devices; i++)
		if (!is_abs(l->devices[i].path))
			return err_set(EINVAL, WHAT "linux.devices[%zu].path: \"%s\" is not an absolute path",
				       i, l->devices[i].path);
	if ((r = check_paths("maskedPaths", l->masked_paths)) < 0 ||
	    (r = check_paths("readonlyPaths", l->readonly_paths)) < 0)
		return r;
	if (l->personality_domain && !streq(l->personality_domain, "LINUX") &&
	    !streq(l->personality_domain, "LINUX32"))
		return err_set(EINVAL, WHAT "linux.personality.domain: unknown value \"%s\"",
			       l->personality_domain);
	return 0;
}

int oci_config_validate(const struct oci_config *c)
{
	int r;

	if (!c->oci_version || !c->oci_version[0])
		return err_set(EINVAL, WHAT "ociVersion: missing");
	if (strncmp(c->oci_version, "1.", 2) != 0)
		return err_set(EINVAL, WHAT "ociVersion: version \"%s\" is not supported (need 1.x)",
			       c->oci_version);
	if ((r = check_root(c)) < 0 ||
	    (r = oci_process_validate(c->process, WHAT "process")) < 0 ||
	    (r = check_mounts(c)) < 0 ||
	    (r = check_hooks(c)) < 0 ||
	    (r = check_namespaces(c)) < 0 ||
	    (r = check_sysctl(c)) < 0 ||
	    (r = check_linux_misc(c)) < 0)
		return r;
	return 0;
}
