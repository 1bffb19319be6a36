/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The zdtm protocol, after CRIU's test suite: a workload prepares its state,
 * says "ready", waits for SIGUSR1 (sent after restore), verifies that its state
 * survived and reports a verdict.
 *
 * Environment (all optional, so a workload also runs bare in a container):
 *   ZDTM_STATUS  file that receives "ready\n" (written and closed: no fd of
 *                ours stays open for the dump); unset: "ready\n" on stdout.
 *   ZDTM_RESULT  file that receives "PASS\n" or "FAIL: why\n", opened fresh
 *                when the verdict is known, so it needs nothing from restore.
 *                The verdict also goes to stdout and the exit code is 0/1:
 *                a test that restored the tree is not its parent and cannot
 *                see the exit code.
 *   ZDTM_DIR     directory for the files a workload creates (default ".").
 *
 * Only the root of a multi-process workload writes the verdict; its children
 * report through their exit codes (zdtm_fail() in a child prints the reason to
 * stderr and exits 1) and the root names the child that failed.
 */
#ifndef ZDTM_H
#define ZDTM_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *zdtm_name = "zdtm";
static pid_t zdtm_root_pid;
static volatile sig_atomic_t zdtm_usr1;
/* An optional hook run inside the SIGUSR1 handler (async-signal-safe only). */
static void (*zdtm_usr1_hook)(void);

static inline void zdtm_on_usr1(int sig)
{
	(void)sig;
	zdtm_usr1 = 1;
	if (zdtm_usr1_hook)
		zdtm_usr1_hook();
}

/* Install the SIGUSR1 handler. No SA_RESTART: a blocking call that SIGUSR1
 * interrupts returns EINTR, so a workload loop can look at zdtm_usr1. */
static inline void zdtm_init(const char *name)
{
	struct sigaction sa;

	zdtm_name = name;
	zdtm_root_pid = getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = zdtm_on_usr1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0) {
		perror("sigaction");
		exit(1);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline const char *zdtm_dir(void)
{
	const char *d = getenv("ZDTM_DIR");

	return d && *d ? d : ".";
}

/* dst = ZDTM_DIR/name */
static inline void zdtm_path(char *dst, size_t len, const char *name)
{
	snprintf(dst, len, "%s/%s", zdtm_dir(), name);
}

static inline void zdtm_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "%s: open %s: %s\n", zdtm_name, path, strerror(errno));
		return;
	}
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fprintf(stderr, "%s: write %s: %s\n", zdtm_name, path, strerror(errno));
	close(fd);
}

static inline void zdtm_ready(void)
{
	const char *st = getenv("ZDTM_STATUS");

	if (st && *st)
		zdtm_write_file(st, "ready\n");
	else
		printf("ready\n");
	fflush(stdout);
}

static inline __attribute__((noreturn)) void zdtm_verdict(int ok, const char *msg)
{
	const char *res = getenv("ZDTM_RESULT");
	char line[512];

	if (getpid() != zdtm_root_pid) {
		if (!ok)
			fprintf(stderr, "%s[%d]: FAIL: %s\n", zdtm_name, getpid(), msg);
		_exit(ok ? 0 : 1);
	}
	if (ok)
		snprintf(line, sizeof(line), "PASS\n");
	else
		snprintf(line, sizeof(line), "FAIL: %s: %s\n", zdtm_name, msg);
	if (res && *res)
		zdtm_write_file(res, line);
	fputs(line, stdout);
	fflush(stdout);
	exit(ok ? 0 : 1);
}

static inline __attribute__((noreturn)) void zdtm_pass(void)
{
	zdtm_verdict(1, "");
}

static inline __attribute__((noreturn, format(printf, 1, 2)))
void zdtm_fail(const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	zdtm_verdict(0, msg);
}

/* Fail with the errno text when a setup call fails. */
#define zdtm_check(expr)                                                       \
	do {                                                                   \
		if ((expr) < 0)                                                \
			zdtm_fail("%s:%d: %s: %s", __FILE__, __LINE__, #expr,  \
				  strerror(errno));                            \
	} while (0)

/* Sleep until SIGUSR1 has arrived. SIGUSR1 is blocked between the test of the
 * flag and sigsuspend(), so a signal cannot slip in between and be lost. */
static inline void zdtm_wait(void)
{
	sigset_t usr1, old, wait_mask;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	wait_mask = old;
	sigdelset(&wait_mask, SIGUSR1);
	while (!zdtm_usr1)
		sigsuspend(&wait_mask);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static inline int64_t zdtm_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Wait for a child and say whether it passed; names it in the verdict if not. */
static inline void zdtm_reap(pid_t pid, const char *role)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			zdtm_fail("waitpid %s (%d): %s", role, pid, strerror(errno));
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		zdtm_fail("%s (pid %d) failed: status 0x%x", role, pid, st);
}

/* xorshift64: a cheap reproducible pattern for memory contents. */
static inline uint64_t zdtm_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

#endif
