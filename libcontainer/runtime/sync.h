/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parent <-> child sync channel: a SOCK_SEQPACKET socketpair carrying
 * one small message per packet, so a message is never split or merged.
 * An error message carries the child's err_msg() text, so the parent can
 * report what went wrong inside the container.
 */
#ifndef SKUA_RUNTIME_SYNC_H
#define SKUA_RUNTIME_SYNC_H

#include <stdint.h>
#include <sys/types.h>

enum sync_type {
	SYNC_CHILD_PID = 1, /* stage1 -> parent: host pid of the init (value) */
	SYNC_GO,            /* parent -> init: cgroup entered, id maps written */
	SYNC_HOOKS,         /* init -> parent: namespaces exist, run prestart/createRuntime */
	SYNC_HOOKS_DONE,    /* parent -> init */
	SYNC_READY,         /* init -> parent: set up, now blocking on the exec fifo */
	SYNC_EXEC_PID,      /* exec helper -> parent: host pid of the exec'd process */
	SYNC_ERROR,         /* child -> parent: value = -errno, text = message */
};

struct sync_msg {
	uint32_t type;
	int32_t value;
	char text[2048];
};

/* Create the pair (both O_CLOEXEC): ret[0] for the parent, ret[1] for the child. */
int sync_pair(int ret[2]);
int sync_send(int fd, enum sync_type type, int32_t value);
/* Send SYNC_ERROR with r and the current err_msg(). */
int sync_send_error(int fd, int r);
/* Receive one message; EOF gives -EPIPE. */
int sync_recv(int fd, struct sync_msg *ret);
/* Receive and insist on `want`: a SYNC_ERROR becomes err_set(msg) and its
 * error code; EOF or another type is a protocol error naming `what`. */
int sync_expect(int fd, enum sync_type want, const char *what, int32_t *ret_value);

#endif
