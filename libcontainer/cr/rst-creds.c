// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore: per task attributes (limits, umask, personality, root and cwd,
 * oom score, prctl flags) and, as the very last injected state before the
 * registers, credentials: once a puppet is no longer root with every
 * capability it could not do the rest. Credentials are per thread in the
 * kernel, so every thread makes the same calls.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cr/restore-internal.h"

static const char *rlimit_name(unsigned res)
{
	static const char *const names[] = {
		"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
		"RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
		"RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
		"RLIMIT_RTPRIO", "RLIMIT_RTTIME",
	};
	return res < ARRAY_SIZE(names) ? names[res] : "an unknown rlimit";
}

static int set_rlimits(struct rst_task *t)
{
	for (size_t i = 0; i < t->core->n_rlimits; i++) {
		RlimitEntry *e = t->core->rlimits[i];
		struct rlimit rl = { .rlim_cur = e->cur, .rlim_max = e->max }, old;
		if (prlimit(t->host_pid, e->resource, &rl, &old) == 0)
			continue;
		int err = errno;
		if (err == EPERM && prlimit(t->host_pid, e->resource, NULL, &old) == 0)
			return err_sys(err, "%s: the hard limit %llu is above this host's %llu and "
					    "raising it needs CAP_SYS_RESOURCE",
				       rlimit_name(e->resource), (unsigned long long)e->max,
				       (unsigned long long)old.rlim_max);
		return err_sys(err, "setting %s", rlimit_name(e->resource));
	}
	return 0;
}

static long call_path(struct rst_ctx *c, pid_t pid, const char *what, long nr, const char *path)
{
	unsigned long addr;
	int r = puppet_scratch_put(c, pid, 0, path, strlen(path) + 1, &addr);
	if (r < 0)
		return r;
	long ret = PUPPET_CALL(c, pid, what, nr, addr);
	return ret < 0 ? err_wrap((int)ret, "%s", path) : ret;
}

static long prctl_in(struct rst_ctx *c, pid_t pid, const char *what, int opt, unsigned long arg)
{
	return PUPPET_CALL(c, pid, what, SYS_prctl, opt, arg, 0, 0, 0);
}

int rst_task_attrs(struct rst_ctx *c, struct rst_task *t)
{
	TaskCoreEntry *core = t->core;
	pid_t pid = t->host_pid;
	long ret;
	int r;

	if ((r = set_rlimits(t)) < 0)
		return r;
	if ((ret = PUPPET_CALL(c, pid, "umask", SYS_umask, core->umask)) < 0)
		return (int)ret;
	if ((ret = PUPPET_CALL(c, pid, "personality", SYS_personality, core->personality)) < 0)
		return (int)ret;
	if (core->root && strcmp(core->root, "/") &&
	    (ret = call_path(c, pid, "chroot", SYS_chroot, core->root)) < 0)
		return (int)ret;
	if (core->cwd && (ret = call_path(c, pid, "chdir", SYS_chdir, core->cwd)) < 0)
		return (int)ret;
	if (core->has_oom_score_adj) {
		char path[64], val[16];
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
		snprintf(val, sizeof(val), "%d", core->oom_score_adj);
		if ((r = write_string_file(path, val)) < 0)
			return err_sys(-r, "setting oom_score_adj %d", core->oom_score_adj);
	}
	if (core->has_child_subreaper && core->child_subreaper &&
	    (ret = prctl_in(c, pid, "prctl(PR_SET_CHILD_SUBREAPER)", PR_SET_CHILD_SUBREAPER, 1)) < 0)
		return (int)ret;
	return 0;
}

static int cap_last(void)
{
	char buf[16];
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return CAP_LAST_CAP;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return CAP_LAST_CAP;
	buf[n] = 0;
	return atoi(buf);
}

/* keepcaps through the uid change, then the dumped sets, then the bits. */
static int thread_creds(struct rst_ctx *c, pid_t tid, CredsEntry *cr)
{
	unsigned long addr;
	long ret;
	int r, last = cap_last();
	unsigned secbits = cr->has_securebits ? cr->securebits : 0;

	/* the bits, then the bounding set: one stop for up to 64 calls */
	struct puppet_sc sc[65];
	size_t n = 0;
	sc[n++] = (struct puppet_sc){ SYS_prctl, { PR_SET_SECUREBITS, secbits | SECBIT_KEEP_CAPS } };
	for (int cap = 0; cap <= last && cap < 64; cap++)
		if (!(cr->cap_bnd & (1ULL << cap)))
			sc[n++] = (struct puppet_sc){ SYS_prctl, { PR_CAPBSET_DROP, cap } };
	if ((r = puppet_call_batch(c, tid, "prctl(PR_SET_SECUREBITS, PR_CAPBSET_DROP)", sc, n, NULL, NULL)) < 0)
		return r;
	if (cr->n_groups > 1024)
		return err_set(E2BIG, "%zu supplementary groups", cr->n_groups);
	gid_t groups[1024];
	for (size_t i = 0; i < cr->n_groups; i++)
		groups[i] = cr->groups[i];
	if ((r = puppet_scratch_put(c, tid, 0, groups, cr->n_groups * sizeof(gid_t), &addr)) < 0)
		return r;
	if ((ret = PUPPET_CALL(c, tid, "setgroups", SYS_setgroups, cr->n_groups, addr)) < 0 ||
	    (ret = PUPPET_CALL(c, tid, "setresgid", SYS_setresgid, cr->gid, cr->egid, cr->sgid)) < 0 ||
	    (ret = PUPPET_CALL(c, tid, "setfsgid", SYS_setfsgid, cr->fsgid)) < 0 ||
	    (ret = PUPPET_CALL(c, tid, "setresuid", SYS_setresuid, cr->uid, cr->euid, cr->suid)) < 0 ||
	    (ret = PUPPET_CALL(c, tid, "setfsuid", SYS_setfsuid, cr->fsuid)) < 0)
		/* the image holds the ids of the tree's user namespace */
		return ret == -EINVAL ? err_wrap((int)ret, "uid %u gid %u: not mapped in the restored "
						     "user namespace?", cr->uid, cr->gid)
				      : (int)ret;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = cr->cap_eff, .permitted = cr->cap_prm, .inheritable = cr->cap_inh },
		{ .effective = cr->cap_eff >> 32, .permitted = cr->cap_prm >> 32,
		  .inheritable = cr->cap_inh >> 32 },
	};
	unsigned long data_addr;
	if ((r = puppet_scratch_put(c, tid, 0, &hdr, sizeof(hdr), &addr)) < 0 ||
	    (r = puppet_scratch_put(c, tid, 64, data, sizeof(data), &data_addr)) < 0)
		return r;
	ret = PUPPET_CALL(c, tid, "capset", SYS_capset, addr, data_addr);
	if (ret < 0)
		return err_wrap((int)ret, "capabilities eff 0x%llx prm 0x%llx (more than this engine holds?)",
				(unsigned long long)cr->cap_eff, (unsigned long long)cr->cap_prm);
	for (int cap = 0; cr->has_cap_amb && cap <= last; cap++)
		if ((cr->cap_amb & (1ULL << cap)) &&
		    (ret = PUPPET_CALL(c, tid, "prctl(PR_CAP_AMBIENT_RAISE)", SYS_prctl, PR_CAP_AMBIENT,
				       PR_CAP_AMBIENT_RAISE, cap, 0, 0)) < 0)
			return (int)ret;
	if (!(secbits & SECBIT_KEEP_CAPS) &&
	    (ret = prctl_in(c, tid, "prctl(PR_SET_KEEPCAPS)", PR_SET_KEEPCAPS, 0)) < 0)
		return (int)ret;
	if (((cr->has_no_new_privs && cr->no_new_privs)) &&
	    (ret = PUPPET_CALL(c, tid, "prctl(PR_SET_NO_NEW_PRIVS)", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1,
			       0, 0, 0)) < 0)
		return (int)ret;
	return 0;
}

int rst_creds(struct rst_ctx *c, struct rst_task *t)
{
	CredsEntry *cr = t->core->creds;
	long ret;

	for (size_t i = 0; cr && i < t->n_threads; i++) {
		int r = thread_creds(c, t->threads[i].host_tid, cr);
		if (r < 0)
			return err_wrap(r, "credentials of thread %d", t->threads[i].tid);
	}
	if ((t->core->has_no_new_privs && t->core->no_new_privs) &&
	    (ret = PUPPET_CALL(c, t->host_pid, "prctl(PR_SET_NO_NEW_PRIVS)", SYS_prctl,
			       PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0)
		return (int)ret;
	/* a credential change resets these two */
	if (t->core->has_pdeath_sig && t->core->pdeath_sig &&
	    (ret = prctl_in(c, t->host_pid, "prctl(PR_SET_PDEATHSIG)", PR_SET_PDEATHSIG, t->core->pdeath_sig)) < 0)
		return (int)ret;
	if (t->core->has_dumpable && t->core->dumpable <= 1 &&
	    (ret = prctl_in(c, t->host_pid, "prctl(PR_SET_DUMPABLE)", PR_SET_DUMPABLE, t->core->dumpable)) < 0)
		return (int)ret;
	return 0;
}
