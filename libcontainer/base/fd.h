/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File-descriptor and whole-file helpers. All return 0/-errno (or a count). */
#ifndef SKUA_BASE_FD_H
#define SKUA_BASE_FD_H

#include <stddef.h>
#include <sys/types.h>

/* Loop over short reads/writes and EINTR. read_full returns bytes read (< len only at EOF). */
ssize_t read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);
/* Read a whole file (NUL-terminated, *ret_len without the NUL). Caps at max bytes (0: 64 MiB). */
int read_file(const char *path, char **ret, size_t *ret_len, size_t max);
int read_file_at(int dirfd, const char *path, char **ret, size_t *ret_len, size_t max);
/* Write a file whole. */
int write_file(const char *path, const void *buf, size_t len, int mode);
/* Write a string to an existing file (sysfs, cgroupfs, /proc). */
int write_string_file(const char *path, const char *s);
/* Atomic replace: temp file in the same directory, fsync, rename. */
/* --pid-file: the pid in decimal, replaced atomically; errors name the path. */
int write_pid_file(const char *path, pid_t pid);
int write_file_atomic(const char *path, const void *buf, size_t len, int mode);
/* Same without the fsync: readers never see a partial file, but a crash may
 * lose the new content. For runtime state under /run, which a reboot wipes. */
int write_file_replace(const char *path, const void *buf, size_t len, int mode);
int fd_set_cloexec(int fd, int on);
int fd_set_nonblock(int fd, int on);
/* mkdir -p with mode for each created component. */
int mkdir_p(const char *path, int mode);
/* Close every fd >= from except those in keep[nkeep] (close_range where possible). */
int close_fds_from(int from, const int *keep, size_t nkeep);

#endif
