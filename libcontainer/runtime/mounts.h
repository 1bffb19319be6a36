/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private helpers of the rootfs setup: paths resolved safely inside a
 * container rootfs, and one spec mount applied at such a path.
 * Used by rootfs.c and devices.c only.
 */
#ifndef SKUA_RUNTIME_MOUNTS_H
#define SKUA_RUNTIME_MOUNTS_H

#include <stdbool.h>

#include "oci/config.h"

/*
 * Open path (absolute or relative, always taken as inside the root) as an
 * O_PATH fd, resolving every symlink and ".." as if rootfd were "/": a
 * symlink cannot lead out of the rootfs.
 */
int mounts_open_in_root(int rootfd, const char *path, int *ret_fd);
/*
 * Like mounts_open_in_root(), creating what is missing: directories for
 * each component, and the last one as an empty regular file when is_file.
 * A dangling symlink is followed and its target created inside the root.
 */
int mounts_mkpath_in_root(int rootfd, const char *path, bool is_file, int *ret_fd);

/* "/proc/self/fd/N": a mount(2) target that names exactly the resolved object. */
#define MOUNTS_FD_PATH_MAX 32
void mounts_fd_path(int fd, char buf[MOUNTS_FD_PATH_MAX]);

/*
 * The mount_setattr() change that applies a mount's per-mount options:
 * MS_* flags to set (want) and explicitly cleared ones (clear) mapped to
 * MOUNT_ATTR_*. Flags neither set nor cleared are left as they are, which
 * keeps the flags the kernel locks in a user namespace (nosuid, nodev ...).
 * Returns false when there is nothing to change.
 */
struct mount_attr;
bool mounts_attr_from_flags(unsigned long want, unsigned long clear, struct mount_attr *ret);
/* Apply mounts_attr_from_flags() to the mount at fd (recursively if rec). */
int mounts_setattr_fd(int fd, unsigned long want, unsigned long clear, bool rec);

/* Whether a spec mount is a bind mount (type "bind" or option bind/rbind). */
bool mounts_is_bind(const struct oci_mount *m);

/* Remove one "key" or "key=value" option from a comma-separated data string in place. */
void mounts_data_drop_option(char *data, const char *key);

/*
 * Mount one spec mount inside the root open as rootfd. bundle resolves
 * relative bind sources. in_userns: the container has its own user
 * namespace (sysfs then may fall back to a recursive bind of the host's
 * /sys); in_cgroupns: it has its own cgroup namespace.
 */
int mounts_apply(int rootfd, const char *bundle, const struct oci_mount *m,
		 bool in_userns, bool in_cgroupns);

/* type "cgroup": the container's view of the cgroup hierarchies . */
int mounts_cgroup(int rootfd, const struct oci_mount *m, bool in_cgroupns);

#endif
