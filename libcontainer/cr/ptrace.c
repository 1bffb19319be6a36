// SPDX-License-Identifier: GPL-2.0-or-later
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/ptrace.h"

int ptrace_wait_stop(pid_t tid, int *ret_status)
{
	int status;

	for (;;) {
		pid_t r = waitpid(tid, &status, __WALL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(errno, "waiting for %d", tid);
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return err_set(ESRCH, "task %d exited (status 0x%x)", tid, status);
		if (WIFSTOPPED(status)) {
			if (ret_status)
				*ret_status = status;
			return 0;
		}
	}
}

int ptrace_seize_stop(pid_t tid, unsigned long opts)
{
	int status;

	if (ptrace(PTRACE_SEIZE, tid, 0, opts) < 0)
		return err_sys(errno, "seizing %d", tid);
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return err_sys(errno, "interrupting %d", tid);
	for (;;) {
		int r = ptrace_wait_stop(tid, &status);
		if (r < 0)
			return r;
		/* PTRACE_EVENT_STOP is the interrupt we asked for (or a group stop). */
		if ((status >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* A signal arrived first: keep it pending for the task, and wait for our stop. */
		int sig = WSTOPSIG(status);
		if (ptrace(PTRACE_CONT, tid, 0, sig) < 0)
			return err_sys(errno, "resuming %d to take its stop", tid);
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
			return err_sys(errno, "interrupting %d", tid);
	}
}

int ptrace_get_regs(pid_t tid, struct user_regs_struct *ret)
{
	struct iovec iov = { .iov_base = ret, .iov_len = sizeof(*ret) };
	if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov) < 0)
		return err_sys(errno, "reading registers of %d", tid);
	return 0;
}

int ptrace_set_regs(pid_t tid, const struct user_regs_struct *regs)
{
	struct iovec iov = { .iov_base = (void *)regs, .iov_len = sizeof(*regs) };
	if (ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov) < 0)
		return err_sys(errno, "writing registers of %d", tid);
	return 0;
}

int ptrace_get_xstate(pid_t tid, void *buf, size_t len, size_t *ret_len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		return err_sys(errno, "reading xstate of %d", tid);
	*ret_len = iov.iov_len;
	return 0;
}

int ptrace_set_xstate(pid_t tid, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	if (ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		return err_sys(errno, "writing xstate of %d", tid);
	return 0;
}

int ptrace_detach(pid_t tid, int sig)
{
	if (ptrace(PTRACE_DETACH, tid, 0, sig) < 0)
		return err_sys(errno, "detaching from %d", tid);
	return 0;
}

static int mem_io(pid_t pid, unsigned long addr, void *buf, size_t len, int write)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	_cleanup_close_ int fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return err_sys(errno, "opening %s", path);
	size_t done = 0;
	while (done < len) {
		ssize_t n = write ? pwrite(fd, (char *)buf + done, len - done, addr + done)
				  : pread(fd, (char *)buf + done, len - done, addr + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_sys(n < 0 ? errno : EIO, "%s %zu bytes at 0x%lx of %d",
				       write ? "writing" : "reading", len, addr, pid);
		done += n;
	}
	return 0;
}

int ptrace_peek(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	return mem_io(pid, addr, buf, len, 0);
}

int ptrace_poke(pid_t pid, unsigned long addr, const void *buf, size_t len)
{
	return mem_io(pid, addr, (void *)buf, len, 1);
}

/* "syscall N" or "syscall batch", for messages: formatted only on failure. */
static const char *inject_what(long nr, char buf[32])
{
	if (nr < 0)
		return "syscall batch";
	snprintf(buf, 32, "syscall %ld", nr);
	return buf;
}

/* The registers an injection sets; the rest keep the thread's values. */
struct inject_regs {
	unsigned long rip, rax, rdi, rsi, rdx, r10, r8, r9, rbx, r12;
};

/* Runs from `in` to the gadget's int3 (nr: the syscall, for messages; -1 a
 * batch); *out gets the registers there, and the thread's are put back. */
static int inject_run(pid_t tid, const struct inject_regs *in, long nr, struct user_regs_struct *out)
{
	struct user_regs_struct saved, regs;
	char wb[32];
	int status, r;

	r = ptrace_get_regs(tid, &saved);
	if (r < 0)
		return r;
	regs = saved;
	regs.rip = in->rip;
	regs.rax = in->rax;
	regs.rdi = in->rdi;
	regs.rsi = in->rsi;
	regs.rdx = in->rdx;
	regs.r10 = in->r10;
	regs.r8 = in->r8;
	regs.r9 = in->r9;
	regs.rbx = in->rbx;
	regs.r12 = in->r12;
	regs.orig_rax = -1; /* not in a syscall: no restart logic on resume */
	r = ptrace_set_regs(tid, &regs);
	if (r < 0)
		return r;
	for (;;) {
		if (ptrace(PTRACE_CONT, tid, 0, 0) < 0) {
			int e = errno;
			return err_sys(e, "running injected %s in %d", inject_what(nr, wb), tid);
		}
		r = ptrace_wait_stop(tid, &status);
		if (r < 0)
			return err_wrap(r, "injected %s", inject_what(nr, wb));
		if (WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0)
			break;
		/* A group stop or an event (e.g. a clone event from an injected
		 * clone3) is not our int3: note and go on. Other signals stay
		 * pending in the kernel's queue for the task; a fault is ours. */
		if ((status >> 16) != 0)
			continue;
		if (WSTOPSIG(status) == SIGSEGV || WSTOPSIG(status) == SIGBUS || WSTOPSIG(status) == SIGILL)
			return err_set(EFAULT, "injected %s in %d faulted (signal %d)", inject_what(nr, wb), tid,
				       WSTOPSIG(status));
	}
	r = ptrace_get_regs(tid, out);
	if (r < 0)
		return r;
	return ptrace_set_regs(tid, &saved);
}

int inject_syscall(pid_t tid, unsigned long ip, long nr, const unsigned long args[6], long *ret)
{
	const struct inject_regs in = { .rip = ip, .rax = nr, .rdi = args[0], .rsi = args[1], .rdx = args[2],
					.r10 = args[3], .r8 = args[4], .r9 = args[5] };
	struct user_regs_struct regs;
	int r = inject_run(tid, &in, nr, &regs);

	if (r < 0)
		return r;
	*ret = (long)regs.rax;
	return 0;
}

int inject_batch(pid_t tid, unsigned long ip, unsigned long table, unsigned long n, unsigned long *ret_done)
{
	const struct inject_regs in = { .rip = ip, .rbx = table, .r12 = n };
	struct user_regs_struct regs;
	int r = inject_run(tid, &in, -1, &regs);

	if (r < 0)
		return r;
	if (regs.r12 > n)
		return err_set(EIO, "syscall batch in %d: %llu of %lu left", tid, (unsigned long long)regs.r12, n);
	*ret_done = n - regs.r12;
	return 0;
}

int inject_syscall_here(pid_t tid, long nr, const unsigned long args[6], long *ret)
{
	struct user_regs_struct regs;
	unsigned char orig[INJECT_GADGET_LEN];
	int r, r2;

	r = ptrace_get_regs(tid, &regs);
	if (r < 0)
		return r;
	r = ptrace_peek(tid, regs.rip, orig, sizeof(orig));
	if (r < 0)
		return r;
	r = ptrace_poke(tid, regs.rip, INJECT_GADGET_BYTES, INJECT_GADGET_LEN);
	if (r < 0)
		return r;
	r = inject_syscall(tid, regs.rip, nr, args, ret);
	r2 = ptrace_poke(tid, regs.rip, orig, sizeof(orig));
	return r < 0 ? r : r2;
}

unsigned long inject_scratch_addr(const struct user_regs_struct *regs, size_t len)
{
	/* below the 128-byte red zone, 64-byte aligned */
	return (regs->rsp - 128 - len - 256) & ~63UL;
}
