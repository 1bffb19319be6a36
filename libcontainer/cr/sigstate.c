// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Signal dispositions and timers are only visible from inside the task: one
 * injected syscall per item (rt_sigaction, getitimer, timer_gettime), the
 * answer written to a scratch area under the stack pointer and read back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cr/dump-internal.h"
#include "cr/proc-parse.h"
#include "cr/ptrace.h"
#include "cr/sigstate.h"
#include "cr/thread.h"

/* The kernel's struct sigaction on x86_64 (not glibc's). */
struct ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* /proc/PID/status names the signals that are caught or ignored; the others
 * are at SIG_DFL, which is where restore starts, so only those few are asked
 * for (a SIG_DFL action's flags and mask are lost: they do nothing). */
static int handled_signals(pid_t pid, uint64_t *ret)
{
	struct proc_status st;
	int r = proc_parse_status(pid, &st);
	if (r < 0)
		return r;
	*ret = st.sig_cgt | st.sig_ign;
	proc_status_free(&st);
	return 0;
}

static int dump_sigactions(pid_t pid, struct dump_inject *inj, TaskCoreEntry *core)
{
	uint64_t handled;
	int r = handled_signals(pid, &handled);
	if (r < 0)
		return r;
	core->sigactions = calloc(64, sizeof(*core->sigactions));
	if (!core->sigactions)
		return err_set(ENOMEM, "out of memory");
	for (int sig = 1; sig <= 64; sig++) {
		struct ksigaction ka;
		unsigned long args[6] = { sig, 0, 0, sizeof(uint64_t) };
		long ret;

		if (sig == SIGKILL || sig == SIGSTOP || !(handled & (1ULL << (sig - 1))))
			continue;
		r = dump_inject_out(inj, SYS_rt_sigaction, args, 2, &ka, sizeof(ka), &ret);
		if (r < 0)
			return err_wrap(r, "rt_sigaction(%d)", sig);
		if (ret < 0)
			return err_sys((int)-ret, "rt_sigaction(%d) in %d", sig, inj->tid);
		/* the default disposition with no flags is what restore starts with */
		if (ka.handler == (uint64_t)SIG_DFL && !ka.flags && !ka.mask)
			continue;
		SigactionEntry *e = malloc(sizeof(*e));
		if (!e)
			return err_set(ENOMEM, "out of memory");
		sigaction_entry__init(e);
		e->sig = sig;
		e->handler = ka.handler;
		e->flags = ka.flags;
		e->restorer = ka.restorer;
		e->mask = ka.mask;
		core->sigactions[core->n_sigactions++] = e;
	}
	return 0;
}

static int dump_itimers(struct dump_inject *inj, TaskCoreEntry *core)
{
	core->itimers = calloc(3, sizeof(*core->itimers));
	if (!core->itimers)
		return err_set(ENOMEM, "out of memory");
	for (int which = ITIMER_REAL; which <= ITIMER_PROF; which++) {
		struct itimerval it;
		unsigned long args[6] = { which, 0 };
		long ret;
		int r = dump_inject_out(inj, SYS_getitimer, args, 1, &it, sizeof(it), &ret);
		if (r < 0)
			return err_wrap(r, "getitimer(%d)", which);
		if (ret < 0)
			return err_sys((int)-ret, "getitimer(%d) in %d", which, inj->tid);
		if (!it.it_value.tv_sec && !it.it_value.tv_usec && !it.it_interval.tv_sec &&
		    !it.it_interval.tv_usec)
			continue;
		ItimerEntry *e = malloc(sizeof(*e));
		if (!e)
			return err_set(ENOMEM, "out of memory");
		itimer_entry__init(e);
		e->which = which;
		e->isec = it.it_interval.tv_sec;
		e->iusec = it.it_interval.tv_usec;
		e->vsec = it.it_value.tv_sec;
		e->vusec = it.it_value.tv_usec;
		core->itimers[core->n_itimers++] = e;
	}
	return 0;
}

/* One timer's block in /proc/PID/timers:
 *   ID: 0 / signal: 14/0000000000000000 / notify: signal/pid.7 / ClockID: 1 */
static int parse_timer(char *block, PosixTimerEntry *e)
{
	char how[16] = "", target[16] = "";
	unsigned long long value = 0;
	unsigned int signo = 0, id, tid = 0;
	int clock = 0;

	char *p = strstr(block, "ID:");
	if (!p || sscanf(p, "ID: %u", &id) != 1)
		return -EBADMSG;
	if ((p = strstr(block, "signal:")))
		sscanf(p, "signal: %u/%llx", &signo, &value);
	if ((p = strstr(block, "notify:")))
		sscanf(p, "notify: %15[^/]/%15[^.].%u", how, target, &tid);
	if ((p = strstr(block, "ClockID:")))
		sscanf(p, "ClockID: %d", &clock);
	e->id = id;
	e->clock_id = clock;
	e->sigev_signo = signo;
	e->sigev_value = value;
	if (streq(how, "thread"))
		e->sigev_notify = SIGEV_THREAD;
	else if (streq(how, "none"))
		e->sigev_notify = SIGEV_NONE;
	else
		e->sigev_notify = SIGEV_SIGNAL;
	if (streq(target, "tid")) {
		e->sigev_notify |= SIGEV_THREAD_ID;
		e->has_notify_tid = true;
		e->notify_tid = tid;
	}
	return 0;
}

/* The next line that starts with "ID:" ("ClockID:" also contains it). */
static char *next_timer(char *p)
{
	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "ID:", 3))
			return p;
	return NULL;
}

static int dump_posix_timers(const struct dtask *t, struct dump_inject *inj, TaskCoreEntry *core)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	pid_t tid = inj->tid;

	snprintf(path, sizeof(path), "/proc/%d/timers", t->pid);
	int r = read_file(path, &text, NULL, 0);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	size_t cap = 0;
	for (char *p = text; (p = next_timer(p)); p++)
		cap++;
	if (!cap)
		return 0;
	core->posix_timers = calloc(cap, sizeof(*core->posix_timers));
	if (!core->posix_timers)
		return err_set(ENOMEM, "out of memory");
	char *p = next_timer(text);
	while (p) {
		char *next = next_timer(p + 1);
		if (next)
			next[-1] = '\0';
		PosixTimerEntry *e = malloc(sizeof(*e));
		if (!e)
			return err_set(ENOMEM, "out of memory");
		posix_timer_entry__init(e);
		core->posix_timers[core->n_posix_timers++] = e;
		if (parse_timer(p, e) < 0)
			return err_set(EBADMSG, "parsing %s", path);
		/* /proc shows the target thread as our pid namespace sees it */
		for (size_t i = 0; e->has_notify_tid && i < t->n_threads; i++)
			if (t->threads[i].tid == (pid_t)e->notify_tid) {
				e->notify_tid = t->threads[i].ns_tid;
				break;
			}

		struct itimerspec its;
		unsigned long args[6] = { e->id, 0 };
		long ret;
		r = dump_inject_out(inj, SYS_timer_gettime, args, 1, &its, sizeof(its), &ret);
		if (r < 0)
			return err_wrap(r, "timer_gettime(%u)", e->id);
		if (ret < 0)
			return err_sys((int)-ret, "timer_gettime(%u) in %d", e->id, tid);
		e->isec = its.it_interval.tv_sec;
		e->insec = its.it_interval.tv_nsec;
		e->vsec = its.it_value.tv_sec;
		e->vnsec = its.it_value.tv_nsec;
		unsigned long oargs[6] = { e->id };
		r = dump_inject_call(inj, SYS_timer_getoverrun, oargs, &ret);
		if (r < 0)
			return err_wrap(r, "timer_getoverrun(%u)", e->id);
		if (ret > 0) {
			e->has_overrun = true;
			e->overrun = ret;
		}
		p = next;
	}
	return 0;
}

int sigstate_dump(const struct dtask *t, struct dump_inject *inj, TaskCoreEntry *core)
{
	int r;

	r = dump_sigactions(t->pid, inj, core);
	if (r < 0)
		return r;
	r = thread_peek_siginfo(inj->tid, true, &core->shared_pending, &core->n_shared_pending);
	if (r < 0)
		return r;
	r = dump_itimers(inj, core);
	if (r < 0)
		return r;
	return dump_posix_timers(t, inj, core);
}
