// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * core-<pid>.img: everything about one process that is not memory or files.
 * Read from /proc where the kernel shows it; asked of the task
 * by injected syscalls (prctl) where only the task can tell.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "cr/creds.h"
#include "cr/dump-internal.h"
#include "cr/image.h"
#include "cr/proc-parse.h"
#include "cr/ptrace.h"
#include "cr/sigstate.h"
#include "cr/thread.h"

#define NR_RLIMITS 16 /* RLIMIT_NLIMITS on x86_64 */

static uint64_t limit_value(const char *s)
{
	return streq(s, "unlimited") ? (uint64_t)RLIM_INFINITY : strtoull(s, NULL, 10);
}

/* /proc/PID/limits rather than prlimit(): prlimit on a task with other
 * credentials needs CAP_SYS_RESOURCE, which this host's bounding set lacks.
 * The kernel prints one line per resource, in resource order, the values
 * in columns 26 and 47. */
static int dump_rlimits(pid_t pid, TaskCoreEntry *core)
{
	char path[64];
	_cleanup_free_ char *text = NULL;

	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	int r = read_file(path, &text, NULL, 0);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	core->rlimits = calloc(NR_RLIMITS, sizeof(*core->rlimits));
	if (!core->rlimits)
		return err_set(ENOMEM, "out of memory");
	char *line = strchr(text, '\n'); /* the header */
	for (int res = 0; res < NR_RLIMITS; res++) {
		char soft[32], hard[32];
		if (!line || strlen(++line) < 47 || sscanf(line + 26, "%31s %31s", soft, hard) != 2)
			return err_set(EBADMSG, "parsing %s: line %d", path, res + 2);
		RlimitEntry *e = malloc(sizeof(*e));
		if (!e)
			return err_set(ENOMEM, "out of memory");
		rlimit_entry__init(e);
		e->resource = res;
		e->cur = limit_value(soft);
		e->max = limit_value(hard);
		core->rlimits[core->n_rlimits++] = e;
		line = strchr(line, '\n');
	}
	return 0;
}

static int dump_proc_files(pid_t pid, TaskCoreEntry *core)
{
	char path[64], buf[4096];
	unsigned long long stat[PROC_STAT_FIELDS];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if ((r = proc_read_line(path, buf, sizeof(buf))) < 0)
		return r;
	core->comm = strdup(buf);
	snprintf(path, sizeof(path), "/proc/%d/personality", pid);
	if ((r = proc_read_line(path, buf, sizeof(buf))) < 0)
		return r;
	core->personality = strtoul(buf, NULL, 16);
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
	if ((r = proc_read_line(path, buf, sizeof(buf))) < 0)
		return r;
	core->has_oom_score_adj = true;
	core->oom_score_adj = strtol(buf, NULL, 10);
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	if ((r = proc_readlink(path, buf, sizeof(buf))) < 0)
		return r;
	size_t n = strlen(buf);
	if (n > 10 && streq(buf + n - 10, " (deleted)"))
		return err_set(ENOTSUP, "pid %d works in a deleted directory %s; not supported", core->pid, buf);
	core->cwd = strdup(buf);
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	if ((r = proc_readlink(path, buf, sizeof(buf))) < 0)
		return r;
	core->root = strdup(buf);
	if (!core->comm || !core->cwd || !core->root)
		return err_set(ENOMEM, "out of memory");
	if ((r = proc_parse_stat(pid, stat)) < 0)
		return r;
	core->exit_signal = stat[38];
	return 0;
}

/* The thread's seccomp filters, oldest first. PTRACE_SECCOMP_GET_FILTER
 * (which answers a ptrace-stopped tracee of ours) counts from the oldest:
 * the kernel walks back count - index filters from the newest. */
static int dump_seccomp(pid_t tid, TaskCoreEntry *core)
{
	long count;
	for (count = 0;; count++) {
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)count, NULL);
		if (n < 0 && errno == ENOENT)
			break;
		if (n < 0)
			return err_sys(errno, "reading seccomp filter %ld of %d", count, tid);
	}
	core->seccomp_filters = calloc(count ? count : 1, sizeof(*core->seccomp_filters));
	if (!core->seccomp_filters)
		return err_set(ENOMEM, "out of memory");
	for (long i = 0; i < count; i++) {
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)i, NULL);
		struct sock_filter *prog = n > 0 ? calloc(n, sizeof(*prog)) : NULL;
		if (!prog)
			return n < 0 ? err_sys(errno, "reading seccomp filter %ld of %d", i, tid)
				     : err_set(ENOMEM, "out of memory");
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)i, prog) != n) {
			free(prog);
			return err_sys(errno, "reading seccomp filter %ld of %d", i, tid);
		}
		ProtobufCBinaryData *b = &core->seccomp_filters[core->n_seccomp_filters++];
		b->data = (uint8_t *)prog;
		b->len = n * sizeof(*prog);
	}
	return 0;
}

static int dump_status(pid_t pid, pid_t tid, TaskCoreEntry *core)
{
	struct proc_status st;
	int r = proc_parse_status(pid, &st);
	if (r < 0)
		return r;
	core->has_seccomp_mode = true;
	core->seccomp_mode = st.seccomp;
	if (st.seccomp == 1)
		r = err_set(ENOTSUP, "pid %d is in strict seccomp mode; not supported", core->pid);
	else if (st.seccomp == 2)
		r = dump_seccomp(tid, core);
	if (r < 0) {
		proc_status_free(&st);
		return r;
	}
	core->umask = st.umask;
	core->has_no_new_privs = true;
	core->no_new_privs = st.no_new_privs;
	proc_status_free(&st);
	return 0;
}

static int prctl_get(struct dump_inject *inj, int option, bool to_memory, uint32_t *ret)
{
	unsigned long args[6] = { option, 0 };
	long rv;
	int val = 0, r;

	if (to_memory)
		r = dump_inject_out(inj, SYS_prctl, args, 1, &val, sizeof(val), &rv);
	else
		r = dump_inject_call(inj, SYS_prctl, args, &rv);
	if (r < 0)
		return err_wrap(r, "prctl(%d)", option);
	if (rv < 0)
		return err_sys((int)-rv, "prctl(%d) in %d", option, inj->tid);
	*ret = to_memory ? (uint32_t)val : (uint32_t)rv;
	return 0;
}

static int dump_prctls(struct dump_inject *inj, TaskCoreEntry *core)
{
	int r;
	if ((r = prctl_get(inj, PR_GET_PDEATHSIG, true, &core->pdeath_sig)) < 0)
		return r;
	core->has_pdeath_sig = true;
	if ((r = prctl_get(inj, PR_GET_DUMPABLE, false, &core->dumpable)) < 0)
		return r;
	core->has_dumpable = true;
	if ((r = prctl_get(inj, PR_GET_CHILD_SUBREAPER, true, &core->child_subreaper)) < 0)
		return r;
	core->has_child_subreaper = true;
	return 0;
}

static int dump_threads(struct dump_ctx *ctx, const struct dtask *t, TaskCoreEntry *core)
{
	core->threads = calloc(t->n_threads, sizeof(*core->threads));
	if (!core->threads)
		return err_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n_threads; i++) {
		int r = thread_dump(ctx, t, &t->threads[i], &core->threads[i]);
		if (r < 0)
			return r;
		core->n_threads++;
	}
	return 0;
}

/* What the main thread is asked, in one injection session. */
static int dump_injected(const struct dtask *t, TaskCoreEntry *core)
{
	struct dump_inject inj;
	int r = dump_inject_begin(t->threads[0].tid, &inj);

	if (r >= 0 && (r = creds_dump(t, &inj, &core->creds)) < 0)
		r = err_wrap(r, "credentials");
	if (r >= 0)
		r = dump_prctls(&inj, core);
	if (r >= 0 && (r = sigstate_dump(t, &inj, core)) < 0)
		r = err_wrap(r, "signals and timers");
	int r2 = dump_inject_end(&inj);
	return r < 0 ? r : r2;
}

static int build_core(struct dump_ctx *ctx, const struct dtask *t, TaskCoreEntry *core)
{
	int r;

	core->pid = t->ns_pid;
	if ((r = dump_proc_files(t->pid, core)) < 0)
		return r;
	if ((r = dump_status(t->pid, t->threads[0].tid, core)) < 0)
		return r;
	if ((r = dump_rlimits(t->pid, core)) < 0)
		return r;
	if ((r = dump_injected(t, core)) < 0)
		return r;
	return dump_threads(ctx, t, core);
}

int task_dump_core(struct dump_ctx *ctx, struct dtask *t)
{
	TaskCoreEntry *core = calloc(1, sizeof(*core));
	if (!core)
		return err_set(ENOMEM, "out of memory");
	task_core_entry__init(core);
	int r = build_core(ctx, t, core);
	if (r >= 0)
		r = img_write_one(ctx->img_dirfd, CR_IMG_CORE, t->ns_pid, &core->base);
	if (r >= 0)
		log_info("pid %d: core (%zu threads, %zu signal handlers, restart %s)", t->ns_pid,
			 core->n_threads, core->n_sigactions,
			 core->threads[0]->has_restart_kind && core->threads[0]->restart_kind ? "yes" : "no");
	protobuf_c_message_free_unpacked(&core->base, NULL);
	return r < 0 ? err_wrap(r, "pid %d", t->ns_pid) : 0;
}
