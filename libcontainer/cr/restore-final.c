// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore, last steps. Per thread: tid address, altstack, rseq, name (by
 * injection), then the dumped FPU state and registers. The main thread's
 * last injected syscall unmaps the gadget block; it cannot come back to the
 * int3 that is gone, so it runs under PTRACE_SYSCALL and gets its dumped
 * registers at the syscall-exit stop. Every puppet is fully prepared before
 * the first one is let go; signal masks are set right before detaching so
 * that re-queued signals stay pending until then.
 */
#include <elf.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/arch/x86_64/regs.h"
#include "cr/ptrace.h"
#include "cr/restore-internal.h"

#ifndef PTRACE_SETSIGMASK
#define PTRACE_SETSIGMASK 0x420b
#endif
#ifndef SYS_rseq
#define SYS_rseq 334
#endif

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

static int thread_state(struct rst_ctx *c, struct rst_thread *th, const char *fallback_name)
{
	ThreadCoreEntry *tc = th->core;
	const char *comm = tc->comm && *tc->comm ? tc->comm : fallback_name;
	pid_t tid = th->host_tid;
	unsigned long addr;
	long ret;
	int r;

	if (tc->has_clear_child_tid) {
		ret = PUPPET_CALL(c, tid, "set_tid_address", SYS_set_tid_address, tc->clear_child_tid);
		if (ret < 0)
			return (int)ret;
	}
	/* always: a forked puppet may carry the engine's altstack */
	{
		stack_t ss = { .ss_flags = SS_DISABLE };
		if (tc->altstack && !(tc->altstack->ss_flags & SS_DISABLE))
			ss = (stack_t){ .ss_sp = (void *)(uintptr_t)tc->altstack->ss_sp,
					.ss_size = tc->altstack->ss_size,
					.ss_flags = tc->altstack->ss_flags & ~SS_ONSTACK };
		r = puppet_scratch_put(c, tid, 0, &ss, sizeof(ss), &addr);
		if (r < 0)
			return r;
		ret = PUPPET_CALL(c, tid, "sigaltstack", SYS_sigaltstack, addr, 0);
		if (ret < 0)
			return (int)ret;
	}
	if (tc->has_robust_list && tc->robust_list) {
		ret = PUPPET_CALL(c, tid, "set_robust_list", SYS_set_robust_list, tc->robust_list,
				  tc->has_robust_list_len ? tc->robust_list_len : 24);
		if (ret < 0)
			return (int)ret;
	}
	if (tc->rseq && tc->rseq->rseq_abi_pointer) {
		ret = PUPPET_CALL(c, tid, "rseq", SYS_rseq, tc->rseq->rseq_abi_pointer,
				  tc->rseq->rseq_abi_size, 0, tc->rseq->signature);
		if (ret < 0)
			return (int)ret;
	}
	if (comm && *comm) {
		char name[16] = "";
		strncpy(name, comm, sizeof(name) - 1);
		r = puppet_scratch_put(c, tid, 0, name, sizeof(name), &addr);
		if (r < 0)
			return r;
		ret = PUPPET_CALL(c, tid, "prctl(PR_SET_NAME)", SYS_prctl, PR_SET_NAME, addr);
		if (ret < 0)
			return (int)ret;
	}
	return 0;
}

int rst_thread_state(struct rst_ctx *c, struct rst_task *t)
{
	for (size_t i = 0; i < t->n_threads; i++) {
		int r = thread_state(c, &t->threads[i], i == 0 ? t->core->comm : NULL);
		if (r < 0)
			return err_wrap(r, "thread %d", t->threads[i].tid);
	}
	return 0;
}

/* A thread caught inside a syscall resumes as the kernel would have resumed
 * it: the ERESTART* codes rewind to the syscall instruction; a
 * restart_syscall() needs kernel state that did not survive, so it sees
 * EINTR (glibc and busybox retry sleeps with the remaining time). */
static void apply_restart(struct user_regs_struct *r)
{
	long ax = (long)r->rax;

	if ((long)r->orig_rax < 0)
		return;
	switch (-ax) {
	case ERESTARTSYS:
	case ERESTARTNOINTR:
	case ERESTARTNOHAND:
		r->rip -= 2;
		r->rax = r->orig_rax;
		break;
	case ERESTART_RESTARTBLOCK:
		r->rax = -EINTR;
		break;
	}
	r->orig_rax = -1;
}

static int set_cpu(struct rst_thread *th)
{
	struct user_regs_struct regs;
	int r;

	if (th->core->xstate.len) {
		r = ptrace_set_xstate(th->host_tid, th->core->xstate.data, th->core->xstate.len);
		if (r < 0)
			return r;
	}
	regs_from_entry(th->core->regs, &regs);
	apply_restart(&regs);
	return ptrace_set_regs(th->host_tid, &regs);
}

/* munmap(gadget) as the main thread's last syscall, stopping at its exit. */
static int unmap_gadget(struct rst_ctx *c, pid_t tid)
{
	struct user_regs_struct regs;
	int status, r;

	r = ptrace_get_regs(tid, &regs);
	if (r < 0)
		return r;
	regs.rip = c->gadget;
	regs.rax = SYS_munmap;
	regs.orig_rax = -1;
	regs.rdi = c->gadget;
	regs.rsi = RST_GADGET_PAGES * RST_PAGE;
	r = ptrace_set_regs(tid, &regs);
	if (r < 0)
		return r;
	for (int stop = 0; stop < 2; stop++) {
		if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
			return err_sys(errno, "running the last syscall in %d", tid);
		r = ptrace_wait_stop(tid, &status);
		if (r < 0)
			return r;
		if (WSTOPSIG(status) != SIGTRAP || (status >> 16) != 0)
			return err_set(EIO, "unexpected stop 0x%x of %d in its last syscall", status, tid);
	}
	r = ptrace_get_regs(tid, &regs);
	if (r < 0)
		return r;
	if ((long)regs.rax != 0)
		return err_sys(-(long)regs.rax, "unmapping the gadget");
	return 0;
}

int rst_final_task(struct rst_ctx *c, struct rst_task *t)
{
	int r;

	for (size_t i = 1; i < t->n_threads; i++) {
		r = set_cpu(&t->threads[i]);
		if (r < 0)
			return err_wrap(r, "restoring pid %d: registers of thread %d", t->pid,
					t->threads[i].tid);
	}
	r = unmap_gadget(c, t->host_pid);
	if (r < 0)
		return err_wrap(r, "restoring pid %d", t->pid);
	r = set_cpu(&t->threads[0]);
	if (r < 0)
		return err_wrap(r, "restoring pid %d: registers", t->pid);
	return 0;
}

static int let_go(pid_t tid, uint64_t mask)
{
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask) < 0)
		return err_sys(errno, "setting the signal mask of %d", tid);
	return ptrace_detach(tid, 0);
}

/* Children first, so a parent never runs before its tree is complete. */
int rst_detach_all(struct rst_ctx *c)
{
	int r, first = 0;

	for (size_t i = c->n_tasks; i-- > 0;) {
		struct rst_task *t = &c->tasks[i];
		for (size_t k = 0; k < t->n_threads; k++) {
			r = let_go(t->threads[k].host_tid, t->threads[k].core->blocked);
			if (r < 0 && !first)
				first = r;
		}
	}
	if (c->parent_host > 0) {
		r = let_go(c->parent_host, c->anchor_sigmask);
		if (r < 0 && !first)
			first = r;
	}
	if (!c->anchor_is_root) {
		r = let_go(c->anchor, c->anchor_sigmask);
		if (r < 0 && !first)
			first = r;
	}
	return first;
}
