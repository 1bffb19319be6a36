/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private: lets setup_rootfs() keep /proc/sys writable for setup_sysctl(). */
#ifndef SKUA_RUNTIME_SYSCTL_H
#define SKUA_RUNTIME_SYSCTL_H

/*
 * Open the container's /proc/sys (after pivot_root, before readonlyPaths
 * makes it read-only) and keep the fd for setup_sysctl(): writes through it
 * go to the original, writable proc mount, as runc writes sysctls before it
 * applies readonlyPaths. A missing /proc/sys is not an error here.
 */
int sysctl_keep_procsys(void);

#endif
