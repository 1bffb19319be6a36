// SPDX-License-Identifier: GPL-2.0-or-later
/* The container's /dev: device nodes (or binds of the host's), symlinks, console. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "runtime/devices.h"
#include "runtime/mounts.h"

static const struct oci_device default_devices[] = {
	{ .type = 'c', .path = "/dev/null", .major = 1, .minor = 3 },
	{ .type = 'c', .path = "/dev/zero", .major = 1, .minor = 5 },
	{ .type = 'c', .path = "/dev/full", .major = 1, .minor = 7 },
	{ .type = 'c', .path = "/dev/random", .major = 1, .minor = 8 },
	{ .type = 'c', .path = "/dev/urandom", .major = 1, .minor = 9 },
	{ .type = 'c', .path = "/dev/tty", .major = 5, .minor = 0 },
};

static int bind_host_node(int rootfd, const struct oci_device *d)
{
	char target[MOUNTS_FD_PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	r = mounts_mkpath_in_root(rootfd, d->path, true, &fd);
	if (r < 0)
		return r;
	mounts_fd_path(fd, target);
	if (mount(d->path, target, NULL, MS_BIND, NULL) < 0)
		return err_sys(errno, "bind-mounting host device %s", d->path);
	return 0;
}

static int make_node(int rootfd, const struct oci_device *d)
{
	char parent[PATH_MAX], base[NAME_MAX + 1];
	_cleanup_close_ int dirfd = -1;
	mode_t type, mode = d->has_file_mode ? d->file_mode & 07777 : 0666;
	int r;

	switch (d->type) {
	case 'c':
	case 'u':
		type = S_IFCHR;
		break;
	case 'b':
		type = S_IFBLK;
		break;
	case 'p':
		type = S_IFIFO;
		break;
	default:
		return err_set(EINVAL, "device %s: unknown type '%c'", d->path, d->type);
	}
	snprintf(parent, sizeof(parent), "%s", d->path);
	snprintf(base, sizeof(base), "%s", basename(parent));
	r = mounts_mkpath_in_root(rootfd, dirname(parent), false, &dirfd);
	if (r < 0)
		return r;
	/* O_PATH dir fds serve *at() calls; a node left by the image is replaced */
	if (unlinkat(dirfd, base, 0) < 0 && errno != ENOENT)
		return err_sys(errno, "removing old %s", d->path);
	if (mknodat(dirfd, base, type | mode, makedev(d->major, d->minor)) < 0)
		return err_sys(errno, "creating device %s", d->path);
	if (fchmodat(dirfd, base, mode, 0) < 0)
		return err_sys(errno, "chmod of device %s", d->path);
	if (fchownat(dirfd, base, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(errno, "chown of device %s", d->path);
	return 0;
}

static int create_device(int rootfd, const struct oci_device *d, bool in_userns)
{
	if (!d->path || d->path[0] != '/')
		return err_set(EINVAL, "device path %s is not absolute", d->path ? d->path : "(null)");
	return in_userns ? bind_host_node(rootfd, d) : make_node(rootfd, d);
}

static int make_links(int rootfd)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" },
	};
	_cleanup_close_ int devfd = -1;
	int r;

	r = mounts_mkpath_in_root(rootfd, "/dev", false, &devfd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
			return err_sys(errno, "linking /dev/%s", links[i][1]);
	/* the devpts instance's ptmx, not a node pointing at the host's */
	if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
		return err_sys(errno, "removing /dev/ptmx");
	if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
		return err_sys(errno, "linking /dev/ptmx");
	return 0;
}

int devices_populate(int rootfd, const struct oci_config *c, bool in_userns)
{
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		r = create_device(rootfd, &default_devices[i], in_userns);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < c->linux_.n_devices; i++) {
		r = create_device(rootfd, &c->linux_.devices[i], in_userns);
		if (r < 0)
			return r;
	}
	return make_links(rootfd);
}

int devices_console(int rootfd, const char *console_path)
{
	char target[MOUNTS_FD_PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	r = mounts_mkpath_in_root(rootfd, "/dev/console", true, &fd);
	if (r < 0)
		return r;
	mounts_fd_path(fd, target);
	if (mount(console_path, target, NULL, MS_BIND, NULL) < 0)
		return err_sys(errno, "bind-mounting console %s on /dev/console", console_path);
	return 0;
}
