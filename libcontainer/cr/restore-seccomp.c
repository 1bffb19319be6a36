// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore: seccomp filters, by injection, oldest first, synchronised to
 * every thread (TSYNC). The kernel takes a filter from a task that has
 * no_new_privs or CAP_SYS_ADMIN: a task that had no_new_privs gets its
 * filters after its credentials (the filters then cannot get in the way of
 * restoring them); one without it gets them before, while the puppet still
 * holds every capability, and its credential syscalls then pass through
 * them as they would have in the original. A program may be larger than
 * the scratch page: it goes to a temporary mapping in the task.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "base/error.h"
#include "cr/ptrace.h"
#include "cr/restore-internal.h"

#define SECCOMP_MODE_FILTER_VALUE 2

static int install(struct rst_ctx *c, struct rst_task *t, const ProtobufCBinaryData *prog)
{
	pid_t pid = t->host_pid;
	size_t n = prog->len / sizeof(struct sock_filter);
	size_t size = (sizeof(struct sock_fprog) + prog->len + RST_PAGE - 1) & ~(RST_PAGE - 1);
	long addr, ret;
	int r;

	if (!n || prog->len % sizeof(struct sock_filter) || n > BPF_MAXINSNS)
		return err_set(EBADMSG, "a seccomp filter of %zu bytes", prog->len);
	addr = PUPPET_CALL(c, pid, "mmap(seccomp program)", SYS_mmap, 0, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1UL, 0);
	if (addr < 0)
		return (int)addr;
	struct sock_fprog fp = { .len = n, .filter = (struct sock_filter *)(addr + sizeof(struct sock_fprog)) };
	r = ptrace_poke(pid, addr, &fp, sizeof(fp));
	if (r >= 0)
		r = ptrace_poke(pid, addr + sizeof(fp), prog->data, prog->len);
	ret = r < 0 ? r
		    : PUPPET_CALL(c, pid, "seccomp(SET_MODE_FILTER)", SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				  t->n_threads > 1 ? SECCOMP_FILTER_FLAG_TSYNC : 0, addr);
	long un = PUPPET_CALL(c, pid, "munmap(seccomp program)", SYS_munmap, addr, size);
	if (ret < 0)
		return (int)ret;
	if (ret > 0)
		return err_set(EBUSY, "seccomp TSYNC: thread %ld has other filters", ret);
	return un < 0 ? (int)un : 0;
}

static int rst_seccomp(struct rst_ctx *c, struct rst_task *t)
{
	TaskCoreEntry *core = t->core;

	if (!core->has_seccomp_mode || !core->seccomp_mode)
		return 0;
	if (core->seccomp_mode != SECCOMP_MODE_FILTER_VALUE)
		return err_set(ENOTSUP, "seccomp mode %u (strict); not supported", core->seccomp_mode);
	for (size_t i = 0; i < core->n_seccomp_filters; i++) {
		int r = install(c, t, &core->seccomp_filters[i]);
		if (r < 0)
			return err_wrap(r, "seccomp filter %zu", i);
	}
	return 0;
}

static bool nnp(const struct rst_task *t)
{
	return (t->core->has_no_new_privs && t->core->no_new_privs) ||
	       (t->core->creds && t->core->creds->has_no_new_privs && t->core->creds->no_new_privs);
}

int rst_seccomp_before_creds(struct rst_ctx *c, struct rst_task *t)
{
	return nnp(t) ? 0 : rst_seccomp(c, t);
}

int rst_seccomp_after_creds(struct rst_ctx *c, struct rst_task *t)
{
	return nnp(t) ? rst_seccomp(c, t) : 0;
}
