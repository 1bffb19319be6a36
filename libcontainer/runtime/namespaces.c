// SPDX-License-Identifier: GPL-2.0-or-later
/* Joining namespaces given by path, user namespace id maps, and the UTS names. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/syscall.h"
#include "runtime/setup.h"

static const char *ns_name(enum oci_ns_type t)
{
	static const char *const names[OCI_NS_COUNT] = {
		[OCI_NS_PID] = "pid",	  [OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",
		[OCI_NS_IPC] = "ipc",	  [OCI_NS_UTS] = "uts",	 [OCI_NS_USER] = "user",
		[OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
	};
	return (unsigned)t < OCI_NS_COUNT ? names[t] : "unknown";
}

static int ns_flag(enum oci_ns_type t)
{
	static const int flags[OCI_NS_COUNT] = {
		[OCI_NS_PID] = CLONE_NEWPID,	[OCI_NS_NETWORK] = CLONE_NEWNET,
		[OCI_NS_MOUNT] = CLONE_NEWNS,	[OCI_NS_IPC] = CLONE_NEWIPC,
		[OCI_NS_UTS] = CLONE_NEWUTS,	[OCI_NS_USER] = CLONE_NEWUSER,
		[OCI_NS_CGROUP] = CLONE_NEWCGROUP, [OCI_NS_TIME] = CLONE_NEWTIME,
	};
	return (unsigned)t < OCI_NS_COUNT ? flags[t] : 0;
}

static const struct oci_namespace *find_ns(const struct oci_config *c, enum oci_ns_type t)
{
	for (size_t i = 0; i < c->linux_.n_namespaces; i++)
		if (c->linux_.namespaces[i].type == t)
			return &c->linux_.namespaces[i];
	return NULL;
}

static int join_one(const struct oci_namespace *ns, int fd)
{
	/* the flag makes the kernel check that the file is a namespace of this type */
	if (setns(fd, ns_flag(ns->type)) < 0) {
		if (errno == EINVAL)
			return err_set(EINVAL, "joining %s namespace %s: not a %s namespace (or not joinable)",
				       ns_name(ns->type), ns->path, ns_name(ns->type));
		return err_sys(errno, "joining %s namespace %s", ns_name(ns->type), ns->path);
	}
	return 0;
}

/*
 * linux.timeOffsets: offsets can only be written before a process enters
 * the time namespace, and clone3(CLONE_NEWTIME) puts the child in at once.
 * So the joining stage makes a time namespace for its children, writes the
 * offsets there, and the kernel copies them into the one the init's
 * clone3(CLONE_NEWTIME) creates from it.
 */
static int prepare_time_ns(const struct oci_config *c)
{
	const struct oci_namespace *ns = find_ns(c, OCI_NS_TIME);
	char buf[128];
	int r;

	if (!ns || ns->path || !c->linux_.time_offsets.set)
		return 0;
	if (unshare(CLONE_NEWTIME) < 0)
		return err_sys(errno, "creating a time namespace for linux.timeOffsets");
	snprintf(buf, sizeof(buf), "monotonic %lld %u\nboottime %lld %u\n",
		 (long long)c->linux_.time_offsets.monotonic_secs, c->linux_.time_offsets.monotonic_nsecs,
		 (long long)c->linux_.time_offsets.boottime_secs, c->linux_.time_offsets.boottime_nsecs);
	r = write_string_file("/proc/self/timens_offsets", buf);
	if (r < 0)
		return err_sys(-r, "writing linux.timeOffsets to /proc/self/timens_offsets");
	return 0;
}

/*
 * After joining a user namespace our host ids (0) mean nothing there: files
 * we create would fail with EOVERFLOW. Become its root, as runc does; the
 * capabilities setns() granted in that namespace stay.
 */
static int become_ns_root(const char *path)
{
	/* drop the host's supplementary groups where the namespace allows it */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return err_sys(errno, "setgroups in user namespace %s", path);
	if (setresgid(0, 0, 0) < 0)
		return err_sys(errno, "setgid(0) in user namespace %s (is gid 0 mapped?)", path);
	if (setresuid(0, 0, 0) < 0)
		return err_sys(errno, "setuid(0) in user namespace %s (is uid 0 mapped?)", path);
	return 0;
}

int setup_namespaces_join(const struct oci_config *c)
{
	size_t n = c->linux_.n_namespaces;
	_cleanup_free_ int *fds = calloc(n ? n : 1, sizeof(int));
	int r = 0;

	if (!fds)
		return -ENOMEM;
	/* open every path first: joining a mount namespace changes what paths mean */
	for (size_t i = 0; i < n; i++) {
		const struct oci_namespace *ns = &c->linux_.namespaces[i];
		fds[i] = -1;
		if (!ns->path)
			continue;
		fds[i] = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			r = err_sys(errno, "opening %s namespace %s", ns_name(ns->type), ns->path);
			goto out;
		}
	}
	/* the user namespace first: it grants the rights to join the others */
	for (size_t i = 0; i < n && r == 0; i++)
		if (fds[i] >= 0 && c->linux_.namespaces[i].type == OCI_NS_USER &&
		    (r = join_one(&c->linux_.namespaces[i], fds[i])) == 0)
			r = become_ns_root(c->linux_.namespaces[i].path);
	for (size_t i = 0; i < n && r == 0; i++)
		if (fds[i] >= 0 && c->linux_.namespaces[i].type != OCI_NS_USER)
			r = join_one(&c->linux_.namespaces[i], fds[i]);
	if (r == 0)
		r = prepare_time_ns(c);
out:
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int write_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	if (!n)
		return 0;
	buf = malloc(n * 40 + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		len += sprintf(buf + len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	/* the kernel takes the whole map in a single write */
	r = write_string_file(path, buf);
	if (r < 0)
		return err_sys(-r, "writing %s", path);
	return 0;
}

int setup_write_id_maps(pid_t pid, const struct oci_config *c)
{
	const struct oci_namespace *ns = find_ns(c, OCI_NS_USER);
	int r;

	if (!ns || ns->path)
		return 0;
	r = write_map(pid, "uid_map", c->linux_.uid_mappings, c->linux_.n_uid_mappings);
	if (r < 0)
		return r;
	/* as root on the host we may write gid_map without setgroups "deny",
	 * which keeps setgroups() usable for additionalGids */
	return write_map(pid, "gid_map", c->linux_.gid_mappings, c->linux_.n_gid_mappings);
}

int setup_hostname(const struct oci_config *c)
{
	bool uts = find_ns(c, OCI_NS_UTS) != NULL;

	if ((c->hostname && *c->hostname) || (c->domainname && *c->domainname)) {
		if (!uts)
			return err_set(EINVAL, "unable to set hostname without a private UTS namespace");
	}
	if (c->hostname && *c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
		return err_sys(errno, "sethostname \"%s\"", c->hostname);
	if (c->domainname && *c->domainname &&
	    setdomainname(c->domainname, strlen(c->domainname)) < 0)
		return err_sys(errno, "setdomainname \"%s\"", c->domainname);
	return 0;
}
