// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Safe paths inside a rootfs and the application of one spec mount.
 *
 * Every mount target is first resolved with openat2(RESOLVE_IN_ROOT) against
 * an fd of the rootfs, then named to mount(2) as /proc/self/fd/N: a symlink
 * planted in the image ("/etc/x -> /../../host") resolves inside the rootfs
 * and can never make us mount over a host path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "runtime/mounts.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#define MS_PROPAGATION (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
#define MAX_SYMLINK_HOPS 40

static int openat2_in_root(int rootfd, const char *path, int *ret_fd)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	int fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int mounts_open_in_root(int rootfd, const char *path, int *ret_fd)
{
	int r = openat2_in_root(rootfd, path, ret_fd);
	if (r < 0)
		return err_sys(-r, "resolving %s inside the rootfs", path);
	return 0;
}

void mounts_fd_path(int fd, char buf[MOUNTS_FD_PATH_MAX])
{
	snprintf(buf, MOUNTS_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

/* Create the one missing component name in the directory dirfd. */
static int create_component(int dirfd, const char *name, bool as_file)
{
	if (as_file) {
		int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return errno == EEXIST ? 0 : -errno;
		close(fd);
		return 0;
	}
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Walk path one component at a time, each prefix resolved in the root.
 * A missing component is created in its (resolved, real) parent; a dangling
 * symlink restarts the walk at its target with the rest of the path appended.
 */
static int mkpath(int rootfd, const char *path, bool is_file, int hops, int *ret_fd)
{
	_cleanup_free_ char *copy = strdup(path);
	char prefix[PATH_MAX] = "";
	char *save = NULL, *comp;
	int r;

	if (!copy)
		return -ENOMEM;
	if (hops > MAX_SYMLINK_HOPS)
		return -ELOOP;
	r = openat2_in_root(rootfd, path, ret_fd);
	if (r != -ENOENT)
		return r;

	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		_cleanup_close_ int dirfd = -1;
		size_t plen = strlen(prefix);
		bool last = !save || !*save;
		int fd;

		/* strtok_r leaves save past trailing slashes' start; skip them */
		if (!last) {
			const char *rest = save;
			while (*rest == '/')
				rest++;
			last = !*rest;
		}
		r = openat2_in_root(rootfd, prefix, &dirfd);
		if (r < 0)
			return r;
		if (snprintf(prefix + plen, sizeof(prefix) - plen, "/%s", comp) >=
		    (int)(sizeof(prefix) - plen))
			return -ENAMETOOLONG;
		r = openat2_in_root(rootfd, prefix, &fd);
		if (r == 0) {
			close(fd);
			continue;
		}
		if (r != -ENOENT)
			return r;

		struct stat st;
		if (fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], next[PATH_MAX];
			ssize_t n = readlinkat(dirfd, comp, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = '\0';
			prefix[plen] = '\0';
			if (snprintf(next, sizeof(next), "%s/%s/%s", target[0] == '/' ? "" : prefix,
				     target, last ? "" : save) >= (int)sizeof(next))
				return -ENAMETOOLONG;
			return mkpath(rootfd, next, is_file, hops + 1, ret_fd);
		}
		r = create_component(dirfd, comp, last && is_file);
		if (r < 0)
			return r;
	}
	return openat2_in_root(rootfd, path, ret_fd);
}

int mounts_mkpath_in_root(int rootfd, const char *path, bool is_file, int *ret_fd)
{
	int r = mkpath(rootfd, path, is_file, 0, ret_fd);
	if (r < 0)
		return err_sys(-r, "creating mountpoint %s inside the rootfs", path);
	return 0;
}

bool mounts_attr_from_flags(unsigned long want, unsigned long clear, struct mount_attr *ret)
{
	static const struct {
		unsigned long ms;
		uint64_t attr;
	} map[] = {
		{ MS_RDONLY, MOUNT_ATTR_RDONLY },   { MS_NOSUID, MOUNT_ATTR_NOSUID },
		{ MS_NODEV, MOUNT_ATTR_NODEV },     { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
		{ MS_NODIRATIME, MOUNT_ATTR_NODIRATIME },
		{ MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
	};
	struct mount_attr a = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (want & map[i].ms)
			a.attr_set |= map[i].attr;
		else if (clear & map[i].ms)
			a.attr_clr |= map[i].attr;
	}
	/* the atime mode is one field: setting it means clearing the others */
	if (want & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
		a.attr_clr |= MOUNT_ATTR__ATIME;
		if (want & MS_NOATIME)
			a.attr_set |= MOUNT_ATTR_NOATIME;
		else if (want & MS_STRICTATIME)
			a.attr_set |= MOUNT_ATTR_STRICTATIME;
		else
			a.attr_set |= MOUNT_ATTR_RELATIME;
	}
	*ret = a;
	return a.attr_set || a.attr_clr;
}

int mounts_setattr_fd(int fd, unsigned long want, unsigned long clear, bool rec)
{
	struct mount_attr a;

	if (!mounts_attr_from_flags(want, clear, &a))
		return 0;
	if (mount_setattr(fd, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

bool mounts_is_bind(const struct oci_mount *m)
{
	return (m->type && streq(m->type, "bind")) || (m->flags & MS_BIND);
}

void mounts_data_drop_option(char *data, const char *key)
{
	size_t klen = strlen(key);
	char *p = data;

	while (p && *p) {
		char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len >= klen && !strncmp(p, key, klen) && (len == klen || p[klen] == '=')) {
			if (!end) {
				/* the last option: cut it with the comma before it */
				p[p > data ? -1 : 0] = '\0';
				return;
			}
			memmove(p, end + 1, strlen(end + 1) + 1);
			continue;
		}
		p = end ? end + 1 : NULL;
	}
}

/* After mounting on top of a path, re-resolve it to get the new mount's root. */
static int reopen(int rootfd, const char *dest, int *fd)
{
	closep(fd);
	*fd = -1;
	return mounts_open_in_root(rootfd, dest, fd);
}

static int apply_propagation(int rootfd, const struct oci_mount *m, int *fd)
{
	char target[MOUNTS_FD_PATH_MAX];
	int r;

	if (!m->propagation)
		return 0;
	r = reopen(rootfd, m->destination, fd);
	if (r < 0)
		return r;
	mounts_fd_path(*fd, target);
	if (mount(NULL, target, NULL, m->propagation, NULL) < 0)
		return err_sys(errno, "setting propagation of %s", m->destination);
	return 0;
}

/*
 * A destination that resolves into procfs (the image may hold a symlink
 * pointing there) could cover or expose kernel files: like runc, only a few
 * files that lxcfs-style setups bind over are allowed inside /proc.
 */
static int check_target(int rootfd, int fd, const struct oci_mount *m)
{
	static const char *const allowed[] = {
		"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
		"/proc/swaps",	 "/proc/uptime",    "/proc/loadavg", "/proc/slabinfo",
		"/proc/sys/kernel/ns_last_pid",
	};
	char link[MOUNTS_FD_PATH_MAX], rootp[PATH_MAX], p[PATH_MAX];
	struct statfs sfs;
	ssize_t n;

	if (fstatfs(fd, &sfs) < 0)
		return err_sys(errno, "statfs of mount destination %s", m->destination);
	if (sfs.f_type != PROC_SUPER_MAGIC)
		return 0;
	mounts_fd_path(rootfd, link);
	n = readlink(link, rootp, sizeof(rootp) - 1);
	rootp[n > 0 ? n : 0] = '\0';
	mounts_fd_path(fd, link);
	n = readlink(link, p, sizeof(p) - 1);
	p[n > 0 ? n : 0] = '\0';
	const char *rel = p;
	size_t rlen = strlen(rootp);
	if (rlen > 1 && !strncmp(p, rootp, rlen))
		rel = p + rlen;
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (streq(rel, allowed[i]))
			return 0;
	return err_set(EPERM, "mount destination %s resolves to %s in procfs: not allowed",
		       m->destination, rel);
}

static int bind_mount(int rootfd, const char *bundle, const struct oci_mount *m)
{
	char source[PATH_MAX], target[MOUNTS_FD_PATH_MAX];
	_cleanup_close_ int fd = -1;
	struct stat st;
	bool rec = m->flags & MS_REC;
	int r;

	if (!m->source)
		return err_set(EINVAL, "bind mount on %s has no source", m->destination);
	if (m->source[0] == '/' || !bundle)
		snprintf(source, sizeof(source), "%s", m->source);
	else
		snprintf(source, sizeof(source), "%s/%s", bundle, m->source);
	if (stat(source, &st) < 0)
		return err_sys(errno, "bind mount source %s", source);
	r = mounts_mkpath_in_root(rootfd, m->destination, !S_ISDIR(st.st_mode), &fd);
	if (r < 0)
		return r;
	r = check_target(rootfd, fd, m);
	if (r < 0)
		return r;
	mounts_fd_path(fd, target);
	if (mount(source, target, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
		return err_sys(errno, "bind-mounting %s on %s", source, m->destination);
	r = reopen(rootfd, m->destination, &fd);
	if (r < 0)
		return r;
	r = mounts_setattr_fd(fd, m->flags, m->clear_flags, rec);
	if (r < 0)
		return err_sys(-r, "applying options of bind mount %s", m->destination);
	return apply_propagation(rootfd, m, &fd);
}

/*
 * In a user namespace some filesystems cannot be mounted fresh: sysfs
 * without a network namespace of that user namespace, mqueue without its
 * ipc namespace. The host's instance is bound instead, as runc and crun do.
 */
static const char *userns_fallback_source(const char *type)
{
	if (streq(type, "sysfs"))
		return "/sys";
	if (streq(type, "mqueue"))
		return "/dev/mqueue";
	return NULL;
}

static int bind_fallback(int rootfd, const struct oci_mount *m, const char *host, int *fd)
{
	char target[MOUNTS_FD_PATH_MAX];
	int r;

	mounts_fd_path(*fd, target);
	if (mount(host, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	r = reopen(rootfd, m->destination, fd);
	if (r < 0)
		return r;
	return mounts_setattr_fd(*fd, m->flags, 0, true);
}

static int fs_mount(int rootfd, const struct oci_mount *m, bool in_userns)
{
	char target[MOUNTS_FD_PATH_MAX];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *data = m->data ? strdup(m->data) : NULL;
	unsigned long flags = m->flags & ~(MS_PROPAGATION | MS_REC | MS_BIND);
	const char *source = m->source ? m->source : m->type;
	int r;

	if (m->data && !data)
		return -ENOMEM;
	r = mounts_mkpath_in_root(rootfd, m->destination, false, &fd);
	if (r < 0)
		return r;
	r = check_target(rootfd, fd, m);
	if (r < 0)
		return r;
	mounts_fd_path(fd, target);
	r = mount(source, target, m->type, flags, data) < 0 ? -errno : 0;
	if (r == -EINVAL && streq(m->type, "devpts") && data && strstr(data, "gid=")) {
		/* gid=5 is not mapped in every user namespace; the group is then left as it is */
		mounts_data_drop_option(data, "gid");
		r = mount(source, target, m->type, flags, data) < 0 ? -errno : 0;
	}
	/* if the host has no instance to lend either, the EPERM is the answer */
	if (r == -EPERM && in_userns && userns_fallback_source(m->type) &&
	    bind_fallback(rootfd, m, userns_fallback_source(m->type), &fd) == 0)
		r = 0;
	if (r < 0)
		return err_sys(-r, "mounting %s (%s) on %s", source, m->type, m->destination);
	return apply_propagation(rootfd, m, &fd);
}

int mounts_apply(int rootfd, const char *bundle, const struct oci_mount *m, bool in_userns,
		 bool in_cgroupns)
{
	if (!m->destination || m->destination[0] != '/')
		return err_set(EINVAL, "mount destination %s is not absolute",
			       m->destination ? m->destination : "(null)");
	if (mounts_is_bind(m))
		return bind_mount(rootfd, bundle, m);
	if (!m->type)
		return err_set(EINVAL, "mount on %s has no type", m->destination);
	if (streq(m->type, "cgroup") || streq(m->type, "cgroup2"))
		return mounts_cgroup(rootfd, m, in_cgroupns);
	return fs_mount(rootfd, m, in_userns);
}

/*
 * Hybrid (v1) hosts: a tmpfs at the destination and, for each hierarchy the
 * container's process belongs to (from /proc/self/cgroup), its own cgroup
 * directory: a fresh cgroup mount when the container has a cgroup
 * namespace (the kernel roots it at the namespace's cgroup), otherwise a
 * bind of the host's directory for the container's cgroup. That is what a
 * container sees under runc on such a host.
 */
static int cgroup_v1_hierarchy(int dirfd, const char *ctrls, const char *cgpath,
			       unsigned long flags, bool in_cgroupns)
{
	char host[PATH_MAX], target[MOUNTS_FD_PATH_MAX], opts[256];
	const char *name = ctrls, *fstype = "cgroup";
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r = 0;

	if (!*ctrls) {
		name = "unified";
		fstype = "cgroup2";
		opts[0] = '\0';
	} else if (!strncmp(ctrls, "name=", 5)) {
		name = ctrls + 5;
		snprintf(opts, sizeof(opts), "none,%s", ctrls);
	} else {
		snprintf(opts, sizeof(opts), "%s", ctrls);
	}
	snprintf(host, sizeof(host), "/sys/fs/cgroup/%s", name);
	if (stat(host, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* hierarchy not mounted on the host: nothing to show */
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return err_sys(errno, "creating cgroup mountpoint %s", name);
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(errno, "opening cgroup mountpoint %s", name);
	mounts_fd_path(fd, target);
	if (in_cgroupns)
		r = mount("cgroup", target, fstype, flags, opts[0] ? opts : NULL) < 0 ? -errno : 0;
	if (!in_cgroupns || r < 0) {
		snprintf(host + strlen(host), sizeof(host) - strlen(host), "%s", cgpath);
		if (mount(host, target, NULL, MS_BIND | MS_REC, NULL) < 0)
			return err_sys(errno, "bind-mounting cgroup %s", host);
	}
	closep(&fd);
	fd = openat(dirfd, name, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return err_sys(errno, "reopening cgroup mountpoint %s", name);
	r = mounts_setattr_fd(fd, flags, 0, true);
	if (r < 0)
		return err_sys(-r, "applying options to cgroup %s", name);
	/* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct" */
	if (strchr(name, ',')) {
		_cleanup_free_ char *copy = strdup(name);
		char *save = NULL;
		if (!copy)
			return -ENOMEM;
		for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
			if (symlinkat(name, dirfd, c) < 0 && errno != EEXIST)
				return err_sys(errno, "linking cgroup %s to %s", c, name);
	}
	return 0;
}

static int cgroup_v1(int rootfd, const struct oci_mount *m, bool in_cgroupns)
{
	char target[MOUNTS_FD_PATH_MAX];
	unsigned long flags = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	_cleanup_close_ int fd = -1;
	_cleanup_fclose_ FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	int r;

	r = mounts_mkpath_in_root(rootfd, m->destination, false, &fd);
	if (r < 0)
		return r;
	mounts_fd_path(fd, target);
	if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		return err_sys(errno, "mounting tmpfs on %s", m->destination);
	r = reopen(rootfd, m->destination, &fd);
	if (r < 0)
		return r;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return err_sys(errno, "opening /proc/self/cgroup");
	while (getline(&line, &cap, f) > 0) {
		char *ctrls = strchr(line, ':'), *path;
		line[strcspn(line, "\n")] = '\0';
		if (!ctrls || !(path = strchr(ctrls + 1, ':')))
			continue;
		*path++ = '\0';
		r = cgroup_v1_hierarchy(fd, ctrls + 1, path, flags, in_cgroupns);
		if (r < 0)
			break;
	}
	free(line);
	if (r < 0)
		return err_wrap(r, "mounting cgroups on %s", m->destination);
	/* the tmpfs itself last: its children had to be created first */
	r = mounts_setattr_fd(fd, flags, 0, false);
	if (r < 0)
		return err_sys(-r, "applying options to %s", m->destination);
	return 0;
}

int mounts_cgroup(int rootfd, const struct oci_mount *m, bool in_cgroupns)
{
	char target[MOUNTS_FD_PATH_MAX];
	unsigned long flags = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	_cleanup_close_ int fd = -1;
	struct statfs sfs;
	int r;

	if (statfs("/sys/fs/cgroup", &sfs) < 0)
		return err_sys(errno, "statfs /sys/fs/cgroup");
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return cgroup_v1(rootfd, m, in_cgroupns);

	r = mounts_mkpath_in_root(rootfd, m->destination, false, &fd);
	if (r < 0)
		return r;
	mounts_fd_path(fd, target);
	r = mount("cgroup2", target, "cgroup2", flags, NULL) < 0 ? -errno : 0;
	if (r == -EPERM || r == -EBUSY) {
		/* no cgroup namespace of our own: show the host's tree */
		if (mount("/sys/fs/cgroup", target, NULL, MS_BIND | MS_REC, NULL) == 0) {
			r = reopen(rootfd, m->destination, &fd);
			if (r == 0)
				r = mounts_setattr_fd(fd, flags, 0, true);
		}
	}
	if (r < 0)
		return err_sys(-r, "mounting cgroup2 on %s", m->destination);
	return 0;
}
