// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A task that sat idle while its page tables were written to pays when it
 * next returns to user mode: on a guest whose page tables the host shadows
 * (the development VM), the host rebuilds its shadow then, about 5 ms per
 * GiB mapped. The guest's own memory daemons write them: DAMON clears the
 * accessed bits of sampled pages every 500 ms. The dump's first injected
 * syscall is such a return, so a large idle container paid it inside the
 * frozen window of a lazy migration (8-30 ms at 4 GiB).
 *
 * So the checkpoint freezes and thaws the container once, just before the
 * real freeze: each sleeping task leaves its syscall, returns to user mode
 * (paying the rebuild), restarts the syscall and sleeps again, as after
 * `skua pause` and `skua resume`. The task would pay the same cost on its
 * next wake-up anyway; now it pays it before the downtime starts. Then the
 * checkpoint waits until every task that slept sleeps again, and freezes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "runtime/ckpt-wake.h"

#define WAKE_DEADLINE_NS (200ULL * 1000000ULL)
#define WAKE_POLL_NS 100000L

struct thread_ref {
	pid_t pid, tid;
};

/* The state letter of /proc/PID/task/TID/stat; 0 when gone. */
static char thread_state(pid_t pid, pid_t tid)
{
	char path[64];
	_cleanup_free_ char *s = NULL;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (read_file(path, &s, NULL, 0) < 0)
		return 0;
	const char *p = strrchr(s, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Asleep inside a system call (or gone). A task can also sleep outside one:
 * in a page fault that the host resolves while the guest runs something
 * else (an asynchronous page fault), which is how part of the rebuild can
 * look from here; /proc/PID/syscall then says -1, not a syscall number. */
static bool back_in_syscall(pid_t pid, pid_t tid)
{
	char path[64];
	_cleanup_free_ char *s = NULL;
	char st = thread_state(pid, tid);

	if (!st)
		return true;
	if (st == 'R')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	if (read_file(path, &s, NULL, 0) < 0)
		return true;
	return s[0] >= '0' && s[0] <= '9';
}

static int add_sleepers(pid_t pid, struct thread_ref **v, size_t *n, size_t *cap)
{
	char path[64];
	struct dirent *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	_cleanup_closedir_ DIR *dir = opendir(path);
	if (!dir)
		return 0; /* gone */
	while ((d = readdir(dir))) {
		pid_t tid = atoi(d->d_name);
		char st = tid > 0 ? thread_state(pid, tid) : 0;
		/* running ones return to user mode all the time anyway */
		if (!st || st == 'R' || st == 'Z' || st == 'X' || st == 'T' || st == 't')
			continue;
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 16;
			struct thread_ref *nv = realloc(*v, c * sizeof(*nv));
			if (!nv)
				return err_set(ENOMEM, "out of memory");
			*v = nv, *cap = c;
		}
		(*v)[(*n)++] = (struct thread_ref){ pid, tid };
	}
	return 0;
}

int ckpt_wake_before_freeze(struct cgroup *cg, struct ckpt_wake *ret)
{
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ struct thread_ref *v = NULL;
	size_t np = 0, n = 0, cap = 0;
	const char *env = getenv("SKUA_LAZY_PREWAKE");
	int r;

	*ret = (struct ckpt_wake){ 0 };
	if (env && !strcmp(env, "0"))
		return 0;
	if ((r = cgroup_pids(cg, &pids, &np)) < 0)
		return err_wrap(r, "listing the container's processes");
	for (size_t i = 0; i < np; i++)
		if ((r = add_sleepers(pids[i], &v, &n, &cap)) < 0)
			return r;
	if (!n)
		return 0;
	unsigned long long t0 = now_ns();
	if ((r = cgroup_freeze_brief(cg)) < 0)
		return r;
	if ((r = cgroup_thaw(cg)) < 0)
		return r;
	size_t left = n;
	for (;;) {
		for (size_t i = 0; i < left;) {
			if (!back_in_syscall(v[i].pid, v[i].tid)) {
				i++;
				continue;
			}
			v[i] = v[--left]; /* asleep in a syscall again, or gone */
		}
		if (!left || now_ns() - t0 > WAKE_DEADLINE_NS)
			break;
		nanosleep(&(struct timespec){ 0, WAKE_POLL_NS }, NULL);
	}
	ret->threads = n;
	ret->running = left;
	ret->ms = (now_ns() - t0) / 1e6;
	return 0;
}
