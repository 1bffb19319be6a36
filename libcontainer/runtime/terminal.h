/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Terminals as runc hands them out: the container side allocates a pty and
 * sends the master over the --console-socket (SCM_RIGHTS); the slave becomes
 * the process's stdio and controlling terminal.
 */
#ifndef SKUA_RUNTIME_TERMINAL_H
#define SKUA_RUNTIME_TERMINAL_H

#include <stdint.h>
#include <sys/types.h>

/* Connect to the console socket (a unix stream socket path); O_CLOEXEC. */
int terminal_connect(const char *path, int *ret_fd);
/* Allocate a pty through /dev/ptmx: master, slave (both O_CLOEXEC) and the slave's path. */
int terminal_open_pty(int *ret_master, int *ret_slave, char **ret_slave_path);
/* Set the window size (0 x 0 leaves it alone). */
int terminal_set_size(int fd, uint32_t width, uint32_t height);
/* Send fd over the unix socket with `name` as the payload. */
int terminal_send_fd(int sock, int fd, const char *name);
/* Make slave our controlling terminal and stdio (new session). */
int terminal_become_stdio(int slave);


/* For `run` in the foreground with a terminal and no --console-socket: a
 * listening socket of our own (non-blocking, O_CLOEXEC) ... */
int terminal_listen(const char *path, int *ret_fd);
/* ... and the pty master the container sent to it; -EAGAIN if none came. */
int terminal_recv_fd(int listen_fd, int *ret_fd);
/* Proxy our stdin/stdout to the master (stdin raw while it runs) until pid,
 * our child, exits; forwards signals and window size changes. */
int terminal_proxy_wait(int master, pid_t pid, int *ret_code);

#endif
