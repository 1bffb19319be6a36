// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Syscall restart at dump time.
 *
 * A thread that PTRACE_INTERRUPT caught inside a blocking syscall stops with
 * orig_ax = the syscall number and ax = one of the kernel-internal
 * -ERESTART* codes; left alone, the kernel would fix the registers up on its
 * way back to user space. A restored thread never passes that way, so the
 * image carries the registers the kernel would have produced:
 *
 * -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND: no signal handler runs
 *  (we interrupted with ptrace, not a signal), so the kernel would restart the
 *  call: ip -= 2 (back onto the 2-byte `syscall`), ax = orig_ax. Absolute
 *  sleeps (clock_nanosleep TIMER_ABSTIME) return -ERESTARTNOHAND and so
 *  simply sleep on to the same deadline.
 *
 * -ERESTART_RESTARTBLOCK (relative nanosleep/clock_nanosleep, poll/select
 *  with a timeout, futex waits with a timeout): the kernel would call
 *  restart_syscall, which continues from state in the task's restart_block
 *  (the deadline). That state is inside the kernel and does not survive a
 *  restore. We make the call return -EINTR instead, the answer POSIX allows
 *  for an interrupted sleep. What the callers do then:
 *   - nanosleep/clock_nanosleep with a `rem` pointer: on this path the kernel
 *     (do_nanosleep -> nanosleep_copyout, restart_block type TT_NATIVE)
 *     already wrote the remaining time to *rem before the stop, so
 *     glibc's nanosleep() returns -1/EINTR with rem filled, and busybox
 *     `sleep` (libbb's sleep_for_duration() passes the same timespec as req
 *     and rem and calls nanosleep again while errno is EINTR) and the
 *     sleeper workload sleep only what was left.
 *   - glibc sleep()/usleep() pass rem and return the unslept time on EINTR.
 *   - poll/select/epoll_wait/futex: callers retry on EINTR (futex waits
 *     report it as a spurious wakeup), with their own deadline.
 *  A program that calls nanosleep(req, NULL) and does not retry wakes early;
 *  the same happens to it under any signal, so it must already cope.
 *  Rewriting the call into an absolute clock_nanosleep would need the
 *  deadline, which is not visible from outside the kernel.
 */
#include <errno.h>

#include "cr/restart.h"

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

enum cr_restart_kind restart_fixup(struct user_regs_struct *regs)
{
	long nr = (long)regs->orig_rax;
	long ax = (long)regs->rax;
	enum cr_restart_kind k = CR_RESTART_NONE;

	if (nr < 0)
		return CR_RESTART_NONE;
	switch (ax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		regs->rip -= 2;
		regs->rax = regs->orig_rax;
		k = CR_RESTART_REDO;
		break;
	case -ERESTART_RESTARTBLOCK:
		regs->rax = (unsigned long)-EINTR;
		k = CR_RESTART_EINTR;
		break;
	}
	/* The call has finished (or is rewound): nothing in the kernel may act on it again. */
	regs->orig_rax = (unsigned long)-1;
	return k;
}

const char *restart_kind_name(enum cr_restart_kind k)
{
	switch (k) {
	case CR_RESTART_REDO:
		return "restart";
	case CR_RESTART_EINTR:
		return "eintr";
	default:
		return "none";
	}
}
