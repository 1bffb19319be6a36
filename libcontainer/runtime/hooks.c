// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The hook's stdin, stdout and stderr are memfds rather than pipes: the
 * state goes in before the fork, output needs no reader while we wait, a
 * hook that never reads stdin cannot block us, and a grandchild holding the
 * fds open cannot keep us from seeing the exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/syscall.h"
#include "runtime/hooks.h"

/* How much of a failing hook's output goes into the error message. */
#define HOOK_OUTPUT_MAX 512

static int memfd_with(const char *name, const char *content, int *ret)
{
	_cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC);
	int r;

	if (fd < 0)
		return err_sys(errno, "memfd_create");
	if (content) {
		if ((r = write_full(fd, content, strlen(content))) < 0)
			return err_sys(-r, "writing hook state");
		if (lseek(fd, 0, SEEK_SET) < 0)
			return err_sys(errno, "lseek");
	}
	*ret = TAKE_FD(fd);
	return 0;
}

static __attribute__((noreturn)) void exec_hook(const struct oci_hook *h, int in, int out, int err)
{
	char *fallback[] = { h->path, NULL };
	sigset_t all;

	/* the runtime may block or ignore signals the hook expects to have */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	/* move them above 2 first: any of them may itself be 0, 1 or 2 */
	int fds[3] = { in, out, err };
	for (int i = 0; i < 3; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
			_exit(127);
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(127);
	close_fds_from(3, NULL, 0);
	if (h->env)
		execve(h->path, h->args ? h->args : fallback, h->env);
	else
		execv(h->path, h->args ? h->args : fallback);
	dprintf(2, "exec %s: %s", h->path, strerror(errno));
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait for pid up to timeout_s seconds (<= 0: forever). Returns 1 if it
 * exited, 0 on timeout (the child is still there), -errno on error. */
static int wait_exit(pid_t pid, int timeout_s)
{
	_cleanup_close_ int pidfd = -1;

	if (timeout_s <= 0)
		return 1;
	pidfd = sys_pidfd_open(pid, 0);
	if (pidfd < 0)
		return err_sys(errno, "pidfd_open");
	long long deadline = now_ms() + timeout_s * 1000LL;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int n = poll(&p, 1, left > 3600000 ? 3600000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return err_sys(errno, "poll on pidfd");
	}
}

static int reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return err_sys(errno, "waitpid %d", (int)pid);
	return 0;
}

/* The first HOOK_OUTPUT_MAX bytes of a capture, trailing newlines dropped. */
static void read_capture(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		n = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
}

static int hook_failed(const char *kind, size_t i, const struct oci_hook *h, const char *what,
		       int out, int err)
{
	char o[HOOK_OUTPUT_MAX + 1], e[HOOK_OUTPUT_MAX + 1];

	read_capture(out, o, sizeof(o));
	read_capture(err, e, sizeof(e));
	return err_set(EIO, "%s hook #%zu (%s): %s%s%s%s%s", kind, i, h->path, what,
		       o[0] ? ", stdout: " : "", o, e[0] ? ", stderr: " : "", e);
}

static int hook_run_one(const struct oci_hook *h, size_t i, const char *state_json,
			const char *kind)
{
	_cleanup_close_ int in = -1, out = -1, err = -1;
	char what[64];
	int r, status;

	if ((r = memfd_with("hook-stdin", state_json, &in)) < 0 ||
	    (r = memfd_with("hook-stdout", NULL, &out)) < 0 ||
	    (r = memfd_with("hook-stderr", NULL, &err)) < 0)
		return err_wrap(r, "%s hook #%zu (%s)", kind, i, h->path);

	pid_t pid = fork();
	if (pid < 0)
		return err_sys(errno, "%s hook #%zu (%s): fork", kind, i, h->path);
	if (pid == 0)
		exec_hook(h, in, out, err);

	r = wait_exit(pid, h->has_timeout ? h->timeout : 0);
	if (r == 0) {
		kill(pid, SIGKILL);
		reap(pid, &status);
		snprintf(what, sizeof(what), "timed out after %d s, killed", h->timeout);
		return hook_failed(kind, i, h, what, out, err);
	}
	if (r < 0) {
		kill(pid, SIGKILL);
		reap(pid, &status);
		return err_wrap(r, "%s hook #%zu (%s)", kind, i, h->path);
	}
	if ((r = reap(pid, &status)) < 0)
		return err_wrap(r, "%s hook #%zu (%s)", kind, i, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(what, sizeof(what), "exit status %d", WEXITSTATUS(status));
	else
		snprintf(what, sizeof(what), "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	return hook_failed(kind, i, h, what, out, err);
}

int hooks_run(const struct oci_hook *hooks, size_t n, const char *state_json, const char *kind_name)
{
	for (size_t i = 0; i < n; i++) {
		int r = hook_run_one(&hooks[i], i, state_json, kind_name);
		if (r < 0)
			return r;
	}
	return 0;
}
