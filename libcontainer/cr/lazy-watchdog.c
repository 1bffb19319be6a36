// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The handler's watchdog: a small child that holds a pidfd of every
 * restored task. The handler sends each pidfd as it takes a task, and one
 * byte 'D' once every page is in. If the handler goes away without it —
 * killed, crashed — the kernel has already dropped its userfaultfd
 * registrations and the tasks would read zeros where pages were missing:
 * the watchdog kills them.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/syscall.h"
#include "cr/lazy-handler-internal.h"

#define WD_MAX 4096

static void __attribute__((noreturn)) watch(int sock)
{
	static int pidfds[WD_MAX];
	size_t n = 0;

	for (;;) {
		char b;
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = &b, .iov_len = 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				    .msg_controllen = sizeof(u.buf) };
		ssize_t r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 1 && b == 'D')
			_exit(0);
		if (r <= 0)
			break;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		if (cm && cm->cmsg_type == SCM_RIGHTS && n < WD_MAX)
			memcpy(&pidfds[n++], CMSG_DATA(cm), sizeof(int));
	}
	for (size_t i = 0; i < n; i++)
		sys_pidfd_send_signal(pidfds[i], SIGKILL, NULL, 0);
	_exit(n ? 1 : 0);
}

int lazy_watchdog_start(struct handler *h)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_sys(errno, "socketpair");
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return err_sys(errno, "forking the watchdog");
	}
	if (pid == 0) {
		int keep[1] = { sv[1] };
		close_fds_from(0, keep, 1);
		signal(SIGPIPE, SIG_IGN);
		watch(sv[1]);
	}
	close(sv[1]);
	h->wd = sv[0];
	h->wd_pid = pid;
	log_info("watchdog %d: kills the restored tasks if this handler dies", (int)pid);
	return 0;
}

void lazy_watchdog_add(struct handler *h, int pidfd)
{
	char b = 'P';
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };

	if (h->wd < 0 || pidfd < 0)
		return;
	memset(u.buf, 0, sizeof(u.buf));
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pidfd, sizeof(int));
	if (sendmsg(h->wd, &m, MSG_NOSIGNAL) != 1)
		log_warn("watchdog: could not hand it a pidfd: %m");
}

void lazy_watchdog_done(struct handler *h, bool ok)
{
	if (h->wd < 0)
		return;
	/* a failed handler has killed the tasks itself; the watchdog may too */
	if (ok && send(h->wd, "D", 1, MSG_NOSIGNAL) != 1)
		log_warn("watchdog: could not release it: %m");
	close(h->wd);
	h->wd = -1;
	int st;
	while (waitpid(h->wd_pid, &st, 0) < 0 && errno == EINTR)
		;
}
