// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * setup_seccomp(): each filter is loaded in a forked child which then makes
 * the syscall and reports what it saw through its exit code. Building
 * errors (unknown action, arch, flag, operator) are checked in the parent:
 * they fail before anything is loaded.
 */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "runtime/setup.h"
#include "tap.h"

static char tmpdir[64];

/* One rule: names (NULL-terminated), action, optional errno. */
static struct oci_seccomp_syscall rule(char **names, const char *action, int errno_ret)
{
	struct oci_seccomp_syscall sc = { .names = names, .action = (char *)action };
	if (errno_ret >= 0) {
		sc.errno_ret = errno_ret;
		sc.has_errno_ret = true;
	}
	return sc;
}

static struct oci_seccomp profile(const char *def, struct oci_seccomp_syscall *sc, size_t n)
{
	return (struct oci_seccomp){ .default_action = (char *)def, .syscalls = sc, .n_syscalls = n };
}

/* Fork; the child loads s and returns check()'s value as exit code. Returns the wait status. */
static int in_child(const struct oci_seccomp *s, int (*check)(void))
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (setup_seccomp(s) < 0) {
			fprintf(stderr, "# setup_seccomp: %s\n", err_msg());
			_exit(100);
		}
		_exit(check());
	}
	waitpid(pid, &st, 0);
	return st;
}

static int exited(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int mkdir_errno(void)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/d%d", tmpdir, getpid());
	if (mkdir(p, 0755) == 0)
		return 0;
	return errno;
}

static int getppid_errno(void)
{
	return syscall(SYS_getppid) < 0 ? errno : 0;
}

/* dup2-free probe: dup of a high fd is EBADF unless the filter answers first */
static int dup_probe(void)
{
	int a = dup(50) < 0 ? errno : 0, b = dup(60) < 0 ? errno : 0, c = dup(70) < 0 ? errno : 0;
	int d = dup(1) >= 0;
	/* 1: all as the OR-rule predicts */
	return a == EPERM && b == EPERM && c == EBADF && d ? 1 : 2;
}

static int dup_gt_probe(void)
{
	return (dup(1000) < 0 && errno == EPERM && dup(1) >= 0) ? 1 : 2;
}

static void test_actions(void)
{
	char *mk[] = { "no_such_syscall_xyz", "mkdir", "mkdirat", NULL };
	char *gp[] = { "getppid", NULL };
	struct oci_seccomp_syscall sc;
	struct oci_seccomp s;

	sc = rule(mk, "SCMP_ACT_ERRNO", -1);
	s = profile("SCMP_ACT_ALLOW", &sc, 1);
	is_int(exited(in_child(&s, mkdir_errno)), EPERM, "SCMP_ACT_ERRNO without errnoRet gives EPERM (unknown name skipped)");

	sc = rule(mk, "SCMP_ACT_ERRNO", EXDEV);
	s = profile("SCMP_ACT_ALLOW", &sc, 1);
	is_int(exited(in_child(&s, mkdir_errno)), EXDEV, "errnoRet is returned");

	s = profile("SCMP_ACT_ALLOW", NULL, 0);
	is_int(exited(in_child(&s, mkdir_errno)), 0, "an allow-all filter lets mkdir through");

	sc = rule(gp, "SCMP_ACT_KILL_PROCESS", -1);
	s = profile("SCMP_ACT_ALLOW", &sc, 1);
	int st = in_child(&s, getppid_errno);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "SCMP_ACT_KILL_PROCESS kills with SIGSYS");

	sc = rule(gp, "SCMP_ACT_TRAP", -1);
	s = profile("SCMP_ACT_ALLOW", &sc, 1);
	st = in_child(&s, getppid_errno);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "SCMP_ACT_TRAP raises SIGSYS");

	sc = rule(gp, "SCMP_ACT_LOG", -1);
	s = profile("SCMP_ACT_ALLOW", &sc, 1);
	is_int(exited(in_child(&s, getppid_errno)), 0, "SCMP_ACT_LOG lets the call through");

	/* default ERRNO with its own errno, the probed syscall allowed */
	char *ok_names[] = { "exit_group", "exit", "getppid", NULL };
	sc = rule(ok_names, "SCMP_ACT_ALLOW", -1);
	s = profile("SCMP_ACT_ERRNO", &sc, 1);
	s.default_errno_ret = ENOSYS;
	s.has_default_errno_ret = true;
	is_int(exited(in_child(&s, getppid_errno)), 0, "allow-listed syscall passes a default-deny filter");
	is_int(exited(in_child(&s, mkdir_errno)), ENOSYS, "default SCMP_ACT_ERRNO uses defaultErrnoRet");
}

static void test_args(void)
{
	char *dupn[] = { "dup", NULL };
	struct oci_seccomp_arg or_args[] = {
		{ .index = 0, .value = 50, .op = "SCMP_CMP_EQ" },
		{ .index = 0, .value = 60, .op = "SCMP_CMP_EQ" },
	};
	struct oci_seccomp_arg gt[] = { { .index = 0, .value = 100, .op = "SCMP_CMP_GT" } };
	struct oci_seccomp_syscall sc = rule(dupn, "SCMP_ACT_ERRNO", -1);
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", &sc, 1);

	sc.args = gt;
	sc.n_args = 1;
	is_int(exited(in_child(&s, dup_gt_probe)), 1, "SCMP_CMP_GT condition on arg 0");
	sc.args = or_args;
	sc.n_args = 2;
	is_int(exited(in_child(&s, dup_probe)), 1, "two conditions on one argument are ORed");
}

static void expect_error(struct oci_seccomp *s, const char *needle, const char *what)
{
	err_clear();
	int r = setup_seccomp(s);
	ok(r < 0 && strstr(err_msg(), needle), "%s (%s)", what, err_msg());
}

static void test_errors(void)
{
	char *mk[] = { "mkdir", NULL };
	char *bad_arch[] = { "SCMP_ARCH_PDP11", NULL };
	char *bad_flag[] = { "SECCOMP_FILTER_FLAG_BOGUS", NULL };
	struct oci_seccomp_arg bad_op[] = { { .index = 0, .value = 1, .op = "SCMP_CMP_ALMOST" } };
	struct oci_seccomp_syscall sc = rule(mk, "SCMP_ACT_BOGUS", -1);
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", &sc, 1);

	expect_error(&s, "SCMP_ACT_BOGUS", "unknown action is named");
	s = profile("SCMP_ACT_NOPE", NULL, 0);
	expect_error(&s, "SCMP_ACT_NOPE", "unknown default action is named");
	s = profile("SCMP_ACT_ALLOW", NULL, 0);
	s.architectures = bad_arch;
	expect_error(&s, "SCMP_ARCH_PDP11", "unknown architecture is named");
	s = profile("SCMP_ACT_ALLOW", NULL, 0);
	s.flags = bad_flag;
	expect_error(&s, "SECCOMP_FILTER_FLAG_BOGUS", "unknown flag is named");
	sc = rule(mk, "SCMP_ACT_ERRNO", -1);
	sc.args = bad_op;
	sc.n_args = 1;
	s = profile("SCMP_ACT_ALLOW", &sc, 1);
	expect_error(&s, "SCMP_CMP_ALMOST", "unknown operator is named");
	sc = rule(mk, "SCMP_ACT_NOTIFY", -1);
	s = profile("SCMP_ACT_ALLOW", &sc, 1);
	expect_error(&s, "listenerPath", "SCMP_ACT_NOTIFY without listenerPath is refused");
}

static void test_arches_flags(void)
{
	char *arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
	char *flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC", NULL };
	char *mk[] = { "mkdir", "mkdirat", NULL };
	struct oci_seccomp_syscall sc = rule(mk, "SCMP_ACT_ERRNO", EROFS);
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", &sc, 1);

	s.architectures = arches;
	s.flags = flags;
	is_int(exited(in_child(&s, mkdir_errno)), EROFS, "architectures and flags are accepted and the rule applies");
}

/* The listener gets the notify fd and answers the child's mkdir with EXDEV. */
static void test_notify(void)
{
	char *mk[] = { "mkdir", "mkdirat", NULL };
	struct oci_seccomp_syscall sc = rule(mk, "SCMP_ACT_NOTIFY", -1);
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", &sc, 1);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[512], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	int lsock, conn, nfd = -1, st;
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/listener.sock", tmpdir);
	s.listener_path = sa.sun_path;
	lsock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lsock, 1) < 0) {
		ok(0, "listener socket: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (setup_seccomp(&s) < 0)
			_exit(100);
		_exit(mkdir_errno());
	}
	conn = accept(lsock, NULL, NULL);
	ssize_t n = recvmsg(conn, &msg, 0);
	struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&nfd, CMSG_DATA(cm), sizeof(int));
	buf[n > 0 ? n : 0] = '\0';
	ok(nfd >= 0 && strstr(buf, "seccompFd"), "the listener receives the notify fd and a state naming it");
	if (nfd >= 0 && seccomp_notify_alloc(&req, &resp) == 0 && seccomp_notify_receive(nfd, req) == 0) {
		resp->id = req->id;
		resp->error = -EXDEV;
		resp->val = 0;
		resp->flags = 0;
		seccomp_notify_respond(nfd, resp);
	}
	waitpid(pid, &st, 0);
	is_int(exited(st), EXDEV, "the listener's answer reaches the container's syscall");
	seccomp_notify_free(req, resp);
	close(conn);
	close(lsock);
	if (nfd >= 0)
		close(nfd);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-setup-seccomp.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	test_actions();
	test_args();
	test_errors();
	test_arches_flags();
	test_notify();
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return done_testing();
}
