// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore: signal dispositions, interval and POSIX timers, and pending
 * signals. All by injection: only the task itself may install handlers,
 * create timers with given ids, or queue a siginfo that claims to come from
 * the kernel or from kill(). Puppets block every signal until they are let
 * go, so re-queued signals wait for the dumped mask.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/restore-internal.h"

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#endif

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* Signals whose disposition the puppet inherited from the engine. */
static int inherited_actions(pid_t pid, uint64_t *ret)
{
	char path[64], line[256];
	uint64_t m = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return err_sys(errno, "opening %s", path);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "SigIgn: %llx", &v) == 1 || sscanf(line, "SigCgt: %llx", &v) == 1)
			m |= v;
	}
	*ret = m;
	return 0;
}

static int set_action(struct rst_ctx *c, pid_t pid, int sig, const struct ksigaction *ka)
{
	unsigned long addr;
	int r = puppet_scratch_put(c, pid, 0, ka, sizeof(*ka), &addr);
	if (r < 0)
		return r;
	long ret = PUPPET_CALL(c, pid, "rt_sigaction", SYS_rt_sigaction, sig, addr, 0, 8);
	return ret < 0 ? err_wrap((int)ret, "signal %d", sig) : 0;
}

int rst_sigactions(struct rst_ctx *c, struct rst_task *t)
{
	uint64_t inherited = 0, dumped = 0;
	int r;

	if ((r = inherited_actions(t->host_pid, &inherited)) < 0)
		return r;
	for (size_t i = 0; i < t->core->n_sigactions; i++) {
		SigactionEntry *s = t->core->sigactions[i];
		if (s->sig < 1 || s->sig > 64 || s->sig == SIGKILL || s->sig == SIGSTOP)
			continue;
		dumped |= 1ULL << (s->sig - 1);
		if (s->handler == (uint64_t)(uintptr_t)SIG_DFL && !(inherited & (1ULL << (s->sig - 1))))
			continue;
		struct ksigaction ka = { s->handler, s->flags, s->restorer, s->mask };
		if ((r = set_action(c, t->host_pid, s->sig, &ka)) < 0)
			return r;
	}
	/* what the engine had and the task did not: back to default */
	for (int sig = 1; sig <= 64; sig++) {
		uint64_t bit = 1ULL << (sig - 1);
		if (!(inherited & bit) || (dumped & bit) || sig == SIGKILL || sig == SIGSTOP)
			continue;
		struct ksigaction ka = { (uint64_t)(uintptr_t)SIG_DFL, 0, 0, 0 };
		if ((r = set_action(c, t->host_pid, sig, &ka)) < 0)
			return r;
	}
	return 0;
}

static int itimers(struct rst_ctx *c, struct rst_task *t)
{
	for (size_t i = 0; i < t->core->n_itimers; i++) {
		ItimerEntry *e = t->core->itimers[i];
		struct itimerval v = { .it_interval = { e->isec, e->iusec }, .it_value = { e->vsec, e->vusec } };
		unsigned long addr;
		if (!e->vsec && !e->vusec)
			continue;
		int r = puppet_scratch_put(c, t->host_pid, 0, &v, sizeof(v), &addr);
		if (r < 0)
			return r;
		long ret = PUPPET_CALL(c, t->host_pid, "setitimer", SYS_setitimer, e->which, addr, 0);
		if (ret < 0)
			return (int)ret;
	}
	return 0;
}

static int posix_timer(struct rst_ctx *c, struct rst_task *t, PosixTimerEntry *e)
{
	pid_t pid = t->host_pid;
	struct sigevent se;
	int id = e->id;
	unsigned long se_addr, id_addr, its_addr;
	int r;

	memset(&se, 0, sizeof(se));
	se.sigev_notify = e->sigev_notify;
	se.sigev_signo = e->sigev_signo;
	se.sigev_value.sival_ptr = (void *)(uintptr_t)e->sigev_value;
	if (e->has_notify_tid)
		se._sigev_un._tid = e->notify_tid;
	if ((r = puppet_scratch_put(c, pid, 0, &se, sizeof(se), &se_addr)) < 0 ||
	    (r = puppet_scratch_put(c, pid, 128, &id, sizeof(id), &id_addr)) < 0)
		return r;
	long ret = PUPPET_CALL(c, pid, "timer_create", SYS_timer_create, e->clock_id, se_addr, id_addr);
	if (ret < 0)
		return (int)ret;
	if ((r = puppet_scratch_get(c, pid, 128, &id, sizeof(id))) < 0)
		return r;
	if ((uint32_t)id != e->id)
		return err_set(EIO, "POSIX timer %u came back as %d", e->id, id);
	if (!e->vsec && !e->vnsec)
		return 0;
	struct itimerspec its = { .it_interval = { e->isec, e->insec }, .it_value = { e->vsec, e->vnsec } };
	if ((r = puppet_scratch_put(c, pid, 256, &its, sizeof(its), &its_addr)) < 0)
		return r;
	ret = PUPPET_CALL(c, pid, "timer_settime", SYS_timer_settime, id, 0, its_addr, 0);
	return ret < 0 ? (int)ret : 0;
}

int rst_timers(struct rst_ctx *c, struct rst_task *t)
{
	int r = itimers(c, t);
	if (r < 0 || !t->core->n_posix_timers)
		return r;
	/* Linux 6.16+: timer_create takes the wanted id from its third argument */
	long ret = PUPPET_CALL(c, t->host_pid, "prctl(PR_TIMER_CREATE_RESTORE_IDS)", SYS_prctl,
			       PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0);
	if (ret < 0)
		return err_wrap((int)ret, "this kernel cannot create POSIX timers with given ids");
	for (size_t i = 0; i < t->core->n_posix_timers; i++) {
		r = posix_timer(c, t, t->core->posix_timers[i]);
		if (r < 0)
			return err_wrap(r, "POSIX timer %u", t->core->posix_timers[i]->id);
	}
	ret = PUPPET_CALL(c, t->host_pid, "prctl(PR_TIMER_CREATE_RESTORE_IDS)", SYS_prctl,
			  PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0);
	return ret < 0 ? (int)ret : 0;
}

/* From the main thread: the kernel lets a task queue any siginfo to itself
 * (its own tgid), not to others. */
static int queue(struct rst_ctx *c, struct rst_task *t, SiginfoEntry *si, pid_t tid)
{
	unsigned long addr;
	int signo;

	if (si->siginfo.len != 128)
		return err_set(EBADMSG, "a pending siginfo of %zu bytes", si->siginfo.len);
	memcpy(&signo, si->siginfo.data, sizeof(signo));
	int r = puppet_scratch_put(c, t->host_pid, 0, si->siginfo.data, 128, &addr);
	if (r < 0)
		return r;
	long ret = tid ? PUPPET_CALL(c, t->host_pid, "rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, t->pid,
				     tid, signo, addr)
		       : PUPPET_CALL(c, t->host_pid, "rt_sigqueueinfo", SYS_rt_sigqueueinfo, t->pid, signo,
				     addr);
	return ret < 0 ? err_wrap((int)ret, "re-queueing signal %d", signo) : 0;
}

int rst_pending(struct rst_ctx *c, struct rst_task *t)
{
	int r;

	for (size_t i = 0; i < t->core->n_shared_pending; i++)
		if ((r = queue(c, t, t->core->shared_pending[i], 0)) < 0)
			return r;
	for (size_t k = 0; k < t->n_threads; k++) {
		ThreadCoreEntry *tc = t->threads[k].core;
		for (size_t i = 0; i < tc->n_pending; i++)
			if ((r = queue(c, t, tc->pending[i], t->threads[k].tid)) < 0)
				return r;
	}
	return 0;
}
