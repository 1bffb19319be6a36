// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fd transport: how an fd the engine holds (a pipe it made, the
 * caller's stdio, a file opened in another puppet) gets into a puppet.
 * There is no "pidfd_putfd"; instead the puppet makes a unix socketpair by
 * injection, the engine takes one end with pidfd_getfd, and each fd then
 * travels as SCM_RIGHTS: the engine sends, the puppet recvmsg()s (injected)
 * and dup3()s the result to the wanted number. This works in any namespace
 * the puppet is in, and an object sent to several puppets stays one open
 * file description, as a shared fd must.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/syscall.h"
#include "cr/restore-internal.h"

/* Scratch layout for recvmsg. */
#define OFF_MSG 0
#define OFF_IOV 64
#define OFF_BYTE 96
#define OFF_CTL 128

int transport_open(struct rst_ctx *c, struct rst_task *t, int high_fd)
{
	pid_t pid = t->host_pid;
	unsigned long addr;
	int sv[2] = { -1, -1 };
	long ret;
	int r;

	r = puppet_scratch_put(c, pid, 0, sv, sizeof(sv), &addr);
	if (r < 0)
		return r;
	ret = PUPPET_CALL(c, pid, "socketpair (fd transport)", SYS_socketpair, AF_UNIX,
			  SOCK_DGRAM | SOCK_CLOEXEC, 0, addr);
	if (ret < 0)
		return (int)ret;
	r = puppet_scratch_get(c, pid, 0, sv, sizeof(sv));
	if (r < 0)
		return r;
	_cleanup_close_ int pidfd = sys_pidfd_open(pid, 0);
	if (pidfd < 0)
		return err_sys(errno, "pidfd_open(%d)", pid);
	t->transport_engine = sys_pidfd_getfd(pidfd, sv[0], 0);
	if (t->transport_engine < 0)
		return err_sys(errno, "taking the transport socket of %d", pid);
	ret = PUPPET_CALL(c, pid, "close", SYS_close, sv[0]);
	if (ret < 0)
		return (int)ret;
	ret = PUPPET_CALL(c, pid, "fcntl(F_DUPFD_CLOEXEC)", SYS_fcntl, sv[1], F_DUPFD_CLOEXEC, high_fd);
	if (ret < 0)
		return (int)ret;
	t->transport = ret;
	ret = PUPPET_CALL(c, pid, "close", SYS_close, sv[1]);
	return ret < 0 ? (int)ret : 0;
}

static int engine_send(int sock, int fd)
{
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	memset(u.buf, 0, sizeof(u.buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) != 1)
		return err_sys(errno, "sending an fd through the transport");
	return 0;
}

/* recvmsg in the puppet; the received fd's number comes back from scratch. */
static long puppet_recv(struct rst_ctx *c, struct rst_task *t)
{
	const unsigned long base = c->gadget + RST_SCRATCH_OFF;
	struct iovec iov = { .iov_base = (void *)(base + OFF_BYTE), .iov_len = 1 };
	struct msghdr m = { .msg_iov = (void *)(base + OFF_IOV), .msg_iovlen = 1,
			    .msg_control = (void *)(base + OFF_CTL),
			    .msg_controllen = CMSG_SPACE(sizeof(int)) };
	char ctl[CMSG_SPACE(sizeof(int))];
	long ret;
	int r;

	if ((r = puppet_scratch_put(c, t->host_pid, OFF_IOV, &iov, sizeof(iov), NULL)) < 0 ||
	    (r = puppet_scratch_put(c, t->host_pid, OFF_MSG, &m, sizeof(m), NULL)) < 0)
		return r;
	ret = PUPPET_CALL(c, t->host_pid, "recvmsg (fd transport)", SYS_recvmsg, t->transport,
			  base + OFF_MSG, MSG_CMSG_CLOEXEC);
	if (ret < 0)
		return ret;
	r = puppet_scratch_get(c, t->host_pid, OFF_CTL, ctl, sizeof(ctl));
	if (r < 0)
		return r;
	struct cmsghdr *cm = (struct cmsghdr *)ctl;
	if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return err_set(EIO, "the transport of %d delivered no fd", t->pid);
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

int transport_send(struct rst_ctx *c, struct rst_task *t, int engine_fd, int want_fd, bool cloexec)
{
	long got, ret;
	int r;

	if (t->transport < 0)
		return err_set(EINVAL, "pid %d has no fd transport", t->pid);
	r = engine_send(t->transport_engine, engine_fd);
	if (r < 0)
		return r;
	got = puppet_recv(c, t);
	if (got < 0)
		return (int)got;
	if (got == want_fd) {
		if (cloexec)
			return 0;
		ret = PUPPET_CALL(c, t->host_pid, "fcntl(F_SETFD)", SYS_fcntl, got, F_SETFD, 0);
		return ret < 0 ? (int)ret : 0;
	}
	ret = PUPPET_CALL(c, t->host_pid, "dup3", SYS_dup3, got, want_fd, cloexec ? O_CLOEXEC : 0);
	if (ret >= 0)
		ret = PUPPET_CALL(c, t->host_pid, "close", SYS_close, got);
	return ret < 0 ? (int)ret : 0;
}

void transport_close(struct rst_ctx *c, struct rst_task *t)
{
	if (t->transport >= 0 && t->host_pid > 0)
		PUPPET_CALL(c, t->host_pid, "close", SYS_close, t->transport);
	t->transport = -1;
	if (t->transport_engine >= 0)
		close(t->transport_engine);
	t->transport_engine = -1;
}
