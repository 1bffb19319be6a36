/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ptrace primitives shared by dump and restore: seize/interrupt a thread,
 * wait for its stop, register sets, and running one syscall inside a
 * stopped task ("injection"). The task executes `syscall; int3` at a given
 * address: either a gadget page the restore puppet maps, or two bytes poked
 * at the task's current ip for the duration of the call (dump).
 */
#ifndef SKUA_CR_PTRACE_H
#define SKUA_CR_PTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/user.h>

/* The 3 bytes at a gadget: syscall (0f 05), int3 (cc). */
#define INJECT_GADGET_BYTES "\x0f\x05\xcc"
#define INJECT_GADGET_LEN 3

/* A batch gadget: runs table entries {nr, a0..a5, ret} (64 bytes each) from
 * rbx, r12 of them, storing each result in its entry; stops at the first
 * that fails (-4095..-1) without counting it; then int3. Hand-assembled:
 *   0: test %r12,%r12; je done
 *      mov (%rbx),%rax; mov 8(%rbx),%rdi; mov 16(%rbx),%rsi;
 *      mov 24(%rbx),%rdx; mov 32(%rbx),%r10; mov 40(%rbx),%r8;
 *      mov 48(%rbx),%r9; syscall; mov %rax,56(%rbx)
 *      cmp $-4095,%rax; jae done
 *      add $64,%rbx; dec %r12; jmp 0
 *   done: int3 */
#define INJECT_BATCH_BYTES \
	"\x4d\x85\xe4\x74\x32\x48\x8b\x03\x48\x8b\x7b\x08\x48\x8b\x73\x10" \
	"\x48\x8b\x53\x18\x4c\x8b\x53\x20\x4c\x8b\x43\x28\x4c\x8b\x4b\x30" \
	"\x0f\x05\x48\x89\x43\x38\x48\x3d\x01\xf0\xff\xff\x73\x09\x48\x83" \
	"\xc3\x40\x49\xff\xcc\xeb\xc9\xcc"
#define INJECT_BATCH_LEN 56
struct inject_entry {
	unsigned long nr, a[6];
	long ret;
};

/* PTRACE_SEIZE (with opts) + PTRACE_INTERRUPT, then wait for the stop. */
int ptrace_seize_stop(pid_t tid, unsigned long opts);
/* Wait for tid to enter a ptrace stop; *ret_status is the wait status. __WALL. */
int ptrace_wait_stop(pid_t tid, int *ret_status);
int ptrace_get_regs(pid_t tid, struct user_regs_struct *ret);
int ptrace_set_regs(pid_t tid, const struct user_regs_struct *regs);
/* NT_X86_XSTATE: buf of len bytes; *ret_len is what the kernel filled. */
int ptrace_get_xstate(pid_t tid, void *buf, size_t len, size_t *ret_len);
int ptrace_set_xstate(pid_t tid, const void *buf, size_t len);
/* Detach (optionally delivering sig). */
int ptrace_detach(pid_t tid, int sig);
/* Copy memory out of / into a stopped task via /proc/PID/mem (works on
 * read-only and PROT_NONE mappings). */
int ptrace_peek(pid_t pid, unsigned long addr, void *buf, size_t len);
int ptrace_poke(pid_t pid, unsigned long addr, const void *buf, size_t len);

/*
 * Injection. The thread must be in a ptrace stop (not a syscall-enter/exit
 * stop of its own). inject_syscall() saves the registers, runs
 * nr(args) at `ip` (which must hold INJECT_GADGET_BYTES), waits for the
 * int3, takes rax, and restores the registers. *ret is the raw return
 * value (-errno on failure, as the kernel returns it). Returns -errno for a
 * ptrace failure, 0 otherwise (check *ret for the syscall's own result).
 */
int inject_syscall(pid_t tid, unsigned long ip, long nr, const unsigned long args[6], long *ret);

/* Runs the batch gadget at ip over n entries at `table` (in the task): one
 * stop for all. *ret_done is how many succeeded (the next one, if any,
 * failed: its result is in its entry). Registers are restored. */
int inject_batch(pid_t tid, unsigned long ip, unsigned long table, unsigned long n, unsigned long *ret_done);

/* For dump: poke the gadget at the thread's current ip (saving the original
 * bytes), run one syscall, put the bytes back. Code pages are private COW,
 * so only this process's copy changes, and only while it is stopped. */
int inject_syscall_here(pid_t tid, long nr, const unsigned long args[6], long *ret);

/* Syscall into a buffer in the task: writes the gadget-style scratch area.
 * scratch is an address in the task usable for len bytes (e.g. below the
 * red zone of its stack: sp - 128 - len, aligned). */
unsigned long inject_scratch_addr(const struct user_regs_struct *regs, size_t len);

#endif
