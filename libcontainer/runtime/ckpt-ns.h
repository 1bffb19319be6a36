/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container state the engine does not hold, saved and put back from the
 * host side: tmpfs contents (tar against /proc/PID/root/DEST), the hostname
 * (in the UTS namespace) and the loopback state (iproute2 in the net ns).
 */
#ifndef SKUA_RUNTIME_CKPT_NS_H
#define SKUA_RUNTIME_CKPT_NS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Run argv (PATH search in the usual system dirs), in the net namespace of
 * netns_pid unless it is 0. stdout goes to out_path (NULL: discarded); a
 * failure's message carries the command's stderr. */
int ckpt_run(const char *const argv[], pid_t netns_pid, const char *out_path);

/* Has pid its own namespace of this kind ("uts", "net" ...), not ours? */
int ckpt_own_ns(pid_t pid, const char *ns, bool *ret);

int ckpt_hostname_get(pid_t pid, char **ret);
int ckpt_hostname_set(pid_t pid, const char *name);

/* The tmpfs mount points of pid's mount namespace worth saving (not /dev,
 * /proc, /sys and what lies below them, except /dev/shm); NULL-terminated. */
int ckpt_tmpfs_list(pid_t pid, char ***ret);
int ckpt_tmpfs_save(pid_t pid, const char *dest, const char *archive);
int ckpt_tmpfs_restore(pid_t pid, const char *dest, const char *archive);
/* Is the tmpfs at dest empty (then *ret holds its root's stat)? A container
 * with its own user namespace always answers no: tar records its ids as
 * that namespace sees them. An empty one needs no tar (a fork and exec
 * while the container is frozen) on either side. */
int ckpt_tmpfs_is_empty(pid_t pid, const char *dest, struct stat *ret, bool *empty);
/* Into the new container's fresh tmpfs at dest: the mode and owner the
 * empty one had. */
int ckpt_tmpfs_restore_empty(pid_t pid, const char *dest, unsigned int mode, unsigned int uid, unsigned int gid);

/* Loopback: lo's flags and addresses to a file in the form of `ip -j addr
 * show dev lo` (ckpt-net.c); back: link up, addresses (ip, only for the
 * addresses lo does not get by itself). */
int ckpt_net_save(pid_t pid, const char *path);
int ckpt_net_restore(pid_t pid, const char *path);

#endif
