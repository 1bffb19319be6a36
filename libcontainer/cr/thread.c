// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One thread's CPU and signal state: registers (rewritten for restart, see
 * restart.c), xstate, signal mask, its private pending signals, rseq,
 * clear_child_tid and sigaltstack (the last two only the thread can tell:
 * one injected syscall each).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/uapi-compat.h"
#include "cr/arch/x86_64/regs.h"
#include "cr/dump-internal.h"
#include "cr/proc-parse.h"
#include "cr/ptrace.h"
#include "cr/restart.h"
#include "cr/thread.h"

/* The kernel writes XCR0 into the software-reserved bytes of the xsave area. */
#define XSAVE_XCR0_OFFSET 464
#define XSTATE_BUF_SIZE (64 * 1024)

static int mem_io(struct dump_inject *s, unsigned long addr, void *buf, size_t len, bool write)
{
	ssize_t n = write ? pwrite(s->mem_fd, buf, len, addr) : pread(s->mem_fd, buf, len, addr);
	if (n != (ssize_t)len)
		return err_sys(n < 0 ? errno : EIO, "%s %zu bytes at 0x%lx of %d",
			       write ? "writing" : "reading", len, addr, s->tid);
	return 0;
}

int dump_inject_begin(pid_t tid, struct dump_inject *s)
{
	struct user_regs_struct regs;
	char path[64];
	int r;

	memset(s, 0, sizeof(*s));
	s->tid = tid;
	snprintf(path, sizeof(path), "/proc/%d/mem", tid);
	s->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	if (s->mem_fd < 0)
		return err_sys(errno, "opening %s", path);
	if ((r = ptrace_get_regs(tid, &regs)) < 0)
		return r;
	s->ip = regs.rip;
	s->scratch = inject_scratch_addr(&regs, DUMP_SCRATCH_LEN);
	if ((r = mem_io(s, s->scratch, s->saved, DUMP_SCRATCH_LEN, false)) < 0)
		return err_wrap(r, "scratch area below the stack of %d", tid);
	s->scratch_saved = true;
	if ((r = mem_io(s, s->ip, s->orig, INJECT_GADGET_LEN, false)) < 0)
		return r;
	if ((r = mem_io(s, s->ip, INJECT_GADGET_BYTES, INJECT_GADGET_LEN, true)) < 0)
		return r;
	s->gadget = true;
	return 0;
}

int dump_inject_call(struct dump_inject *s, long nr, const unsigned long args[6], long *ret)
{
	return inject_syscall(s->tid, s->ip, nr, args, ret);
}

int dump_inject_out(struct dump_inject *s, long nr, unsigned long args[6], int scratch_arg,
		    void *out, size_t len, long *ret)
{
	if (len > DUMP_SCRATCH_LEN)
		return err_set(EINVAL, "%zu bytes do not fit the scratch area", len);
	args[scratch_arg] = s->scratch;
	int r = dump_inject_call(s, nr, args, ret);
	if (r >= 0 && *ret >= 0)
		r = mem_io(s, s->scratch, out, len, false);
	return r;
}

int dump_inject_end(struct dump_inject *s)
{
	int r = 0, r2 = 0;
	if (s->gadget)
		r = mem_io(s, s->ip, s->orig, INJECT_GADGET_LEN, true);
	if (s->scratch_saved)
		r2 = mem_io(s, s->scratch, s->saved, DUMP_SCRATCH_LEN, true);
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	s->gadget = s->scratch_saved = false;
	s->mem_fd = -1;
	return r < 0 ? r : r2;
}

int thread_peek_siginfo(pid_t tid, bool shared, SiginfoEntry ***ret, size_t *ret_n)
{
	SiginfoEntry **v = NULL;
	size_t n = 0;
	siginfo_t si[32];
	struct {
		uint64_t off;
		uint32_t flags;
		int32_t nr;
	} arg = { .off = 0, .flags = shared ? 1 /* PTRACE_PEEKSIGINFO_SHARED */ : 0, .nr = 32 };

	for (;;) {
		long got = ptrace(PTRACE_PEEKSIGINFO, tid, &arg, si);
		if (got < 0) {
			int e = errno;
			for (size_t i = 0; i < n; i++)
				protobuf_c_message_free_unpacked(&v[i]->base, NULL);
			free(v);
			return err_sys(e, "reading pending signals of %d", tid);
		}
		if (got == 0)
			break;
		SiginfoEntry **nv = realloc(v, (n + got) * sizeof(*nv));
		if (!nv)
			goto oom;
		v = nv;
		for (long i = 0; i < got; i++) {
			SiginfoEntry *e = malloc(sizeof(*e));
			void *data = malloc(sizeof(si[i]));
			if (!e || !data) {
				free(e);
				free(data);
				goto oom;
			}
			siginfo_entry__init(e);
			memcpy(data, &si[i], sizeof(si[i]));
			e->siginfo.data = data;
			e->siginfo.len = sizeof(si[i]);
			v[n++] = e;
		}
		arg.off += got;
	}
	*ret = v;
	*ret_n = n;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(&v[i]->base, NULL);
	free(v);
	return err_set(ENOMEM, "out of memory");
}

static int dump_xstate(struct dump_ctx *ctx, pid_t tid, ThreadCoreEntry *e)
{
	_cleanup_free_ uint8_t *buf = calloc(1, XSTATE_BUF_SIZE);
	size_t len;
	uint64_t xcr0;

	if (!buf)
		return err_set(ENOMEM, "out of memory");
	int r = ptrace_get_xstate(tid, buf, XSTATE_BUF_SIZE, &len);
	if (r < 0)
		return r;
	if (len < XSAVE_XCR0_OFFSET + 8)
		return err_set(EBADMSG, "xstate of %d is only %zu bytes", tid, len);
	memcpy(&xcr0, buf + XSAVE_XCR0_OFFSET, sizeof(xcr0));
	if (!ctx->xstate_size) {
		ctx->xstate_size = len;
		ctx->xcr0 = xcr0;
	} else if (ctx->xstate_size != len || ctx->xcr0 != xcr0) {
		return err_set(EBADMSG, "xstate of %d differs from the tree's (%zu bytes, xcr0 0x%llx)",
			       tid, len, (unsigned long long)xcr0);
	}
	e->xstate.data = realloc(TAKE_PTR(buf), len);
	e->xstate.len = len;
	return 0;
}

/* If the thread stopped inside an rseq critical section, it resumes at the
 * abort handler, as the kernel would do on preemption. */
static int dump_rseq(pid_t tid, struct user_regs_struct *regs, ThreadCoreEntry *e)
{
	struct skua_ptrace_rseq_configuration conf = { 0 };
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(conf), &conf) < 0)
		return err_sys(errno, "reading the rseq configuration of %d", tid);
	if (!conf.rseq_abi_pointer)
		return 0;
	RseqEntry *re = malloc(sizeof(*re));
	if (!re)
		return err_set(ENOMEM, "out of memory");
	rseq_entry__init(re);
	re->rseq_abi_pointer = conf.rseq_abi_pointer;
	re->rseq_abi_size = conf.rseq_abi_size;
	re->signature = conf.signature;
	e->rseq = re;

	uint64_t cs_ptr = 0;
	if (ptrace_peek(tid, conf.rseq_abi_pointer + 8, &cs_ptr, sizeof(cs_ptr)) < 0 || !cs_ptr) {
		err_clear();
		return 0;
	}
	re->has_rseq_cs_pointer = true;
	re->rseq_cs_pointer = cs_ptr;
	struct {
		uint32_t version, flags;
		uint64_t start_ip, post_commit_offset, abort_ip;
	} cs;
	if (ptrace_peek(tid, cs_ptr, &cs, sizeof(cs)) < 0) {
		err_clear();
		return 0;
	}
	if (regs->rip >= cs.start_ip && regs->rip < cs.start_ip + cs.post_commit_offset)
		regs->rip = cs.abort_ip;
	return 0;
}

static int dump_injected(struct dump_inject *inj, ThreadCoreEntry *e)
{
	unsigned long args[6] = { PR_GET_TID_ADDRESS, 0 };
	uint64_t tid_addr = 0;
	long ret;
	int r = dump_inject_out(inj, SYS_prctl, args, 1, &tid_addr, sizeof(tid_addr), &ret);
	if (r < 0)
		return err_wrap(r, "PR_GET_TID_ADDRESS");
	if (ret < 0)
		return err_sys((int)-ret, "PR_GET_TID_ADDRESS in %d", inj->tid);
	e->has_clear_child_tid = true;
	e->clear_child_tid = tid_addr;

	stack_t ss = { 0 };
	unsigned long sargs[6] = { 0, 0 };
	r = dump_inject_out(inj, SYS_sigaltstack, sargs, 1, &ss, sizeof(ss), &ret);
	if (r < 0)
		return err_wrap(r, "sigaltstack");
	if (ret < 0)
		return err_sys((int)-ret, "sigaltstack in %d", inj->tid);
	if (!(ss.ss_flags & SS_DISABLE)) {
		SigaltstackEntry *a = malloc(sizeof(*a));
		if (!a)
			return err_set(ENOMEM, "out of memory");
		sigaltstack_entry__init(a);
		a->ss_sp = (uint64_t)ss.ss_sp;
		a->ss_size = ss.ss_size;
		/* SS_ONSTACK is a fact of the moment, not a setting to restore */
		a->ss_flags = ss.ss_flags & ~SS_ONSTACK;
		e->altstack = a;
	}
	return 0;
}

static int dump_thread_body(struct dump_ctx *ctx, pid_t pid, struct dthread *th, ThreadCoreEntry *e)
{
	struct user_regs_struct regs;
	char path[96], comm[64];
	int r;

	e->tid = th->ns_tid;
	r = ptrace_get_regs(th->tid, &regs);
	if (r < 0)
		return r;
	r = dump_xstate(ctx, th->tid, e);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_GETSIGMASK, th->tid, sizeof(uint64_t), &e->blocked) < 0)
		return err_sys(errno, "reading the signal mask of %d", th->tid);
	r = thread_peek_siginfo(th->tid, false, &e->pending, &e->n_pending);
	if (r < 0)
		return r;
	struct dump_inject inj;
	r = dump_inject_begin(th->tid, &inj);
	if (r >= 0)
		r = dump_injected(&inj, e);
	int r2 = dump_inject_end(&inj);
	if (r < 0 || r2 < 0)
		return r < 0 ? r : r2;
	r = dump_rseq(th->tid, &regs, e);
	if (r < 0)
		return r;
	uint64_t head = 0;
	size_t head_len = 0;
	if (syscall(SYS_get_robust_list, th->tid, &head, &head_len) < 0)
		return err_sys(errno, "get_robust_list of %d", th->tid);
	e->has_robust_list = e->has_robust_list_len = true;
	e->robust_list = head;
	e->robust_list_len = head_len;
	enum cr_restart_kind k = restart_fixup(&regs);
	e->has_restart_kind = true;
	e->restart_kind = k;
	e->regs = malloc(sizeof(*e->regs));
	if (!e->regs)
		return err_set(ENOMEM, "out of memory");
	x86_regs_entry__init(e->regs);
	regs_to_entry(&regs, e->regs);
	th->sp = regs.rsp;
	if (e->rseq) {
		th->rseq = e->rseq->rseq_abi_pointer;
		th->rseq_size = e->rseq->rseq_abi_size;
	}

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, th->tid);
	r = proc_read_line(path, comm, sizeof(comm));
	if (r < 0)
		return r;
	e->comm = strdup(comm);
	if (!e->comm)
		return err_set(ENOMEM, "out of memory");
	return 0;
}

int thread_dump(struct dump_ctx *ctx, const struct dtask *t, struct dthread *th,
		ThreadCoreEntry **ret)
{
	ThreadCoreEntry *e = calloc(1, sizeof(*e));
	if (!e)
		return err_set(ENOMEM, "out of memory");
	thread_core_entry__init(e);
	int r = dump_thread_body(ctx, t->pid, th, e);
	if (r < 0) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return err_wrap(r, "thread %d", th->ns_tid);
	}
	*ret = e;
	return 0;
}
