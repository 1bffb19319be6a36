// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * setup_rootfs(): runs in the container init, inside its new mount
 * namespace, before pivot_root. The steps, in order:
 *
 *   1. "/" recursively slave (or linux.rootfsPropagation), so nothing we
 *      mount leaks back to the host;
 *   2. the rootfs bind-mounted on itself (pivot_root needs a mount point);
 *   3. a tmpfs on /dev unless the spec mounts something there;
 *   4. every spec mount, in order, at a destination resolved inside the rootfs;
 *   5. /dev populated (unless /dev is a bind of a host directory), console,
 *      the seccomp agent's socket connected while its host path is reachable;
 *   6. pivot_root (or MS_MOVE + chroot with --no-pivot), process.cwd created;
 *   7. masked paths, readonly paths, then the read-only root (an fd of
 *      /proc/sys is kept first so that setup_sysctl() can still write);
 *   8. a shared or unbindable rootfsPropagation applied to the new root
 *      (step 1 had to make the rootfs' parents private for pivot_root).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/syscall.h"
#include "runtime/devices.h"
#include "runtime/mounts.h"
#include "runtime/seccomp.h"
#include "runtime/setup.h"
#include "runtime/sysctl.h"

static bool has_ns(const struct oci_config *c, enum oci_ns_type t)
{
	for (size_t i = 0; i < c->linux_.n_namespaces; i++)
		if (c->linux_.namespaces[i].type == t)
			return true;
	return false;
}

static int root_propagation(const char *name, unsigned long *ret)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} map[] = {
		{ "slave", MS_SLAVE },	 { "rslave", MS_SLAVE },
		{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE },
		{ "shared", MS_SHARED }, { "rshared", MS_SHARED },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE },
	};

	if (!name || !*name) {
		*ret = MS_SLAVE | MS_REC;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (streq(map[i].name, name)) {
			*ret = map[i].flag | MS_REC;
			return 0;
		}
	}
	return err_set(EINVAL, "linux.rootfsPropagation: unknown value \"%s\"", name);
}

static const struct oci_mount *find_mount(const struct oci_config *c, const char *dest)
{
	const struct oci_mount *found = NULL;

	for (size_t i = 0; i < c->n_mounts; i++) {
		const char *d = c->mounts[i].destination;
		size_t n = d ? strlen(d) : 0;
		while (n > 1 && d[n - 1] == '/')
			n--;
		if (d && strlen(dest) == n && !strncmp(d, dest, n))
			found = &c->mounts[i]; /* the last one wins: it is on top */
	}
	return found;
}

static int mount_dev_tmpfs(int rootfd)
{
	char target[MOUNTS_FD_PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	r = mounts_mkpath_in_root(rootfd, "/dev", false, &fd);
	if (r < 0)
		return r;
	mounts_fd_path(fd, target);
	if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0)
		return err_sys(errno, "mounting tmpfs on /dev");
	return 0;
}

/* The mount point of the mount that holds path: walk up to a mount root. */
static int containing_mount(const char *path, char *buf, size_t len)
{
	struct statx stx;

	if (snprintf(buf, len, "%s", path) >= (int)len)
		return -ENAMETOOLONG;
	for (;;) {
		if (statx(AT_FDCWD, buf, AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &stx) < 0)
			return -errno;
		if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
			return 0;
		if (streq(buf, "/"))
			return 0;
		char *slash = strrchr(buf, '/');
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/*
 * pivot_root refuses a shared parent of the new root or of the old one, and
 * an unbindable mount cannot be bound: with those propagations the mounts
 * holding the rootfs and "/" become private (alone, not their children)
 * and the requested propagation is applied to the new root after the pivot.
 */
static int unshare_rootfs_parents(const char *root)
{
	char parent[PATH_MAX];
	int r;

	r = containing_mount(root, parent, sizeof(parent));
	if (r < 0)
		return err_sys(-r, "finding the mount of %s", root);
	if (mount(NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
		return err_sys(errno, "making %s private", parent);
	if (mount(NULL, "/", NULL, MS_PRIVATE, NULL) < 0)
		return err_sys(errno, "making / private");
	return 0;
}

static int prepare_root(const struct oci_config *c, unsigned long prop)
{
	int r;

	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return err_sys(errno, "making / %s", c->linux_.rootfs_propagation ?: "rslave");
	if ((prop & (MS_SHARED | MS_UNBINDABLE)) && (r = unshare_rootfs_parents(c->root_path)) < 0)
		return r;
	if (mount(c->root_path, c->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_sys(errno, "bind-mounting rootfs %s", c->root_path);
	return 0;
}

static int mount_everything(int rootfd, const struct oci_config *c, const char *console)
{
	bool in_userns = has_ns(c, OCI_NS_USER), in_cgroupns = has_ns(c, OCI_NS_CGROUP);
	const struct oci_mount *dev = find_mount(c, "/dev");
	int r;

	if (!dev && (r = mount_dev_tmpfs(rootfd)) < 0)
		return r;
	for (size_t i = 0; i < c->n_mounts; i++) {
		r = mounts_apply(rootfd, c->bundle, &c->mounts[i], in_userns, in_cgroupns);
		if (r < 0)
			return err_wrap(r, "mount %s", c->mounts[i].destination);
	}
	/* a host /dev bound in brings its own nodes */
	if (!dev || !mounts_is_bind(dev)) {
		r = devices_populate(rootfd, c, in_userns);
		if (r < 0)
			return r;
	}
	if (console && (r = devices_console(rootfd, console)) < 0)
		return r;
	return 0;
}

static int do_pivot_root(const char *root)
{
	_cleanup_close_ int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int newroot = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	if (oldroot < 0 || newroot < 0)
		return err_sys(errno, "opening %s for pivot_root", oldroot < 0 ? "/" : root);
	if (fchdir(newroot) < 0)
		return err_sys(errno, "chdir to %s", root);
	/* the old root ends up stacked under the new one, at "." */
	if (sys_pivot_root(".", ".") < 0)
		return err_sys(errno, "pivot_root to %s", root);
	if (fchdir(oldroot) < 0)
		return err_sys(errno, "chdir to the old root");
	/* so that the lazy unmount below does not propagate to the host */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return err_sys(errno, "making the old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		return err_sys(errno, "unmounting the old root");
	if (chdir("/") < 0)
		return err_sys(errno, "chdir to /");
	return 0;
}

static int do_chroot(const char *root)
{
	if (chdir(root) < 0)
		return err_sys(errno, "chdir to %s", root);
	if (mount(root, "/", NULL, MS_MOVE, NULL) < 0)
		return err_sys(errno, "moving %s to /", root);
	if (chroot(".") < 0)
		return err_sys(errno, "chroot to %s", root);
	if (chdir("/") < 0)
		return err_sys(errno, "chdir to /");
	return 0;
}

static int mask_path(int rootfd, const char *path)
{
	char target[MOUNTS_FD_PATH_MAX];
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	r = mounts_open_in_root(rootfd, path, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return err_sys(errno, "stat of masked path %s", path);
	mounts_fd_path(fd, target);
	if (S_ISDIR(st.st_mode))
		r = mount("tmpfs", target, "tmpfs", MS_RDONLY, NULL);
	else
		r = mount("/dev/null", target, NULL, MS_BIND, NULL);
	if (r < 0)
		return err_sys(errno, "masking %s", path);
	return 0;
}

static int readonly_path(int rootfd, const char *path)
{
	char target[MOUNTS_FD_PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	r = mounts_open_in_root(rootfd, path, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	mounts_fd_path(fd, target);
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_sys(errno, "bind-mounting readonly path %s", path);
	closep(&fd);
	fd = -1;
	r = mounts_open_in_root(rootfd, path, &fd);
	if (r < 0)
		return r;
	r = mounts_setattr_fd(fd, MS_RDONLY, 0, true);
	if (r < 0)
		return err_sys(-r, "making %s read-only", path);
	return 0;
}

static int finalize_root(const struct oci_config *c)
{
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (rootfd < 0)
		return err_sys(errno, "opening the new root");
	for (char **p = c->linux_.masked_paths; p && *p; p++)
		if ((r = mask_path(rootfd, *p)) < 0)
			return r;
	for (char **p = c->linux_.readonly_paths; p && *p; p++)
		if ((r = readonly_path(rootfd, *p)) < 0)
			return r;
	if (c->root_readonly && (r = mounts_setattr_fd(rootfd, MS_RDONLY, 0, false)) < 0)
		return err_sys(-r, "making the root filesystem read-only");
	return 0;
}

int setup_rootfs(const struct oci_config *c, bool no_pivot, const char *console_path)
{
	_cleanup_close_ int rootfd = -1;
	unsigned long prop = 0;
	int r;

	if (!has_ns(c, OCI_NS_MOUNT))
		return err_set(EINVAL, "setting up the rootfs needs a mount namespace");
	if (!c->root_path)
		return err_set(EINVAL, "root.path is not set");
	r = root_propagation(c->linux_.rootfs_propagation, &prop);
	if (r < 0)
		return r;
	r = prepare_root(c, prop);
	if (r < 0)
		return r;
	rootfd = open(c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(errno, "opening rootfs %s", c->root_path);
	r = mount_everything(rootfd, c, console_path);
	if (r < 0)
		return r;
	r = seccomp_listener_preconnect(c);
	if (r < 0)
		return r;
	r = no_pivot ? do_chroot(c->root_path) : do_pivot_root(c->root_path);
	if (r < 0)
		return r;
	if (c->linux_.n_sysctl)
		sysctl_keep_procsys();
	/* as runc: a missing cwd is created, inside the new root, before it turns read-only */
	if (c->process && c->process->cwd && c->process->cwd[0] == '/' &&
	    (r = mkdir_p(c->process->cwd, 0755)) < 0)
		return err_sys(-r, "creating cwd %s", c->process->cwd);
	r = finalize_root(c);
	if (r < 0)
		return r;
	/* last: masked and readonly paths need binds, which unbindable forbids */
	if ((prop & (MS_SHARED | MS_UNBINDABLE)) && mount(NULL, "/", NULL, prop, NULL) < 0)
		return err_sys(errno, "applying rootfsPropagation %s", c->linux_.rootfs_propagation);
	return 0;
}
