// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ckpt_wake_before_freeze against a real cgroup (root): a thread asleep in
 * epoll_wait returns to user mode exactly once (epoll_wait is never
 * restarted: it comes back with EINTR, which the child counts), is asleep
 * again when the call returns, and SKUA_LAZY_PREWAKE=0 leaves it alone.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "cgroups/cgroup.h"
#include "runtime/ckpt-wake.h"
#include "tap.h"

/* Sleeps in epoll_wait on an fd that never fires; counts its returns. */
static pid_t spawn_waiter(volatile unsigned long *returns)
{
	pid_t pid = fork();

	if (pid == 0) {
		int ep = epoll_create1(0), p[2];
		struct epoll_event ev = { .events = EPOLLIN };

		if (ep < 0 || pipe(p) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) < 0)
			_exit(1);
		for (;;)
			if (epoll_wait(ep, &ev, 1, -1) < 0 && errno == EINTR)
				(*returns)++;
	}
	return pid;
}

static char state_of(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p ? p[2] : 0;
}

/* Wait (up to 2 s) until pid sleeps. */
static bool asleep(pid_t pid)
{
	for (int i = 0; i < 2000; i++) {
		if (state_of(pid) == 'S')
			return true;
		usleep(1000);
	}
	return false;
}

int main(void)
{
	char path[64];
	struct cgroup *cg = NULL;
	struct ckpt_wake w;
	int status, r;

	if (geteuid() != 0) {
		ok(1, "# SKIP not root");
		return done_testing();
	}
	volatile unsigned long *returns =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!ok(returns != MAP_FAILED, "shared counter"))
		return done_testing();
	snprintf(path, sizeof(path), "/skua-unit-wake-%d", getpid());
	if (!ok(cgroup_new(path, "wake", false, &cg) == 0 && cgroup_create(cg) == 0, "cgroup %s: %s", path,
		err_msg()))
		return done_testing();
	pid_t child = spawn_waiter(returns);
	ok(cgroup_enter(cg, child) == 0, "child entered: %s", err_msg());
	ok(asleep(child), "child asleep in epoll_wait");

	setenv("SKUA_LAZY_PREWAKE", "0", 1);
	r = ckpt_wake_before_freeze(cg, &w);
	ok(r == 0 && w.threads == 0, "SKUA_LAZY_PREWAKE=0: nothing woken (%zu)", w.threads);
	usleep(20000);
	is_int(*returns, 0, "SKUA_LAZY_PREWAKE=0: the child stayed in epoll_wait");

	unsetenv("SKUA_LAZY_PREWAKE");
	r = ckpt_wake_before_freeze(cg, &w);
	ok(r == 0, "ckpt_wake_before_freeze: %s", r ? err_msg() : "ok");
	is_int(w.threads, 1, "one sleeping thread woken");
	is_int(w.running, 0, "and asleep again before the deadline");
	is_int(*returns, 1, "the child returned to user mode once");
	ok(state_of(child) == 'S', "the child sleeps when the call returns (state %c)", state_of(child));
	bool frozen = true;
	ok(cgroup_is_frozen(cg, &frozen) == 0 && !frozen, "the cgroup is not left frozen");
	ok(w.ms >= 0 && w.ms < 200, "took %.2f ms", w.ms);

	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	ok(cgroup_destroy(cg, true) == 0, "cgroup removed: %s", err_msg());
	cgroup_free(cg);
	return done_testing();
}
