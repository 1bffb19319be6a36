// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * exec: a new process inside a running container.
 *
 *   skua (parent)              helper (fork)                 process (clone3)
 *   cgroup_enter(helper)
 *   ---------- GO ---------->  setns(): user first, mnt last
 *                              clone3(CLONE_PARENT) ------>  cwd, rlimits, tty, user,
 *        <--- EXEC_PID(pid) -  _exit(0)                     caps, no_new_privs, seccomp,
 *                                                            execve
 *        <------------------------ SYNC_ERROR on failure, EOF (CLOEXEC) on success
 *   --pid-file; wait unless detached
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/syscall.h"
#include "cgroups/cgroup.h"
#include "runtime/container-internal.h"
#include "runtime/init.h"
#include "runtime/setup.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

extern char **environ;

/* The order matters: the user ns gives the rights to join the others, and
 * joining the mount ns last keeps /proc/PID/ns reachable until then. */
static const struct { const char *name; int flag; } exec_ns[] = {
	{ "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
	{ "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID }, { "cgroup", CLONE_NEWCGROUP },
	{ "time", CLONE_NEWTIME }, { "mnt", CLONE_NEWNS },
};

struct exec_ctx {
	const struct container_exec_opts *o;
	const struct oci_config *cfg; /* may be NULL: no seccomp then */
	pid_t init_pid;
	int sync_fd, console_fd;
};

static bool same_ns(pid_t pid, const char *name)
{
	char a[64], b[64];
	struct stat sa, sb;

	snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)pid, name);
	snprintf(b, sizeof(b), "/proc/self/ns/%s", name);
	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return true; /* not supported by the kernel: nothing to join */
	return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static int exec_join(pid_t pid)
{
	int fds[ARRAY_SIZE(exec_ns)];
	int r = 0;

	/* open all first: after joining the user ns we might lose access */
	for (size_t i = 0; i < ARRAY_SIZE(exec_ns); i++) {
		char p[64];
		fds[i] = -1;
		if (same_ns(pid, exec_ns[i].name))
			continue;
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, exec_ns[i].name);
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			r = err_sys(errno, "opening %s", p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(exec_ns) && r == 0; i++)
		if (fds[i] >= 0 && setns(fds[i], exec_ns[i].flag) < 0)
			r = err_sys(errno, "joining the %s namespace of pid %d", exec_ns[i].name, (int)pid);
	for (size_t i = 0; i < ARRAY_SIZE(exec_ns); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int exec_terminal(struct exec_ctx *x)
{
	_cleanup_close_ int master = -1, slave = -1;
	int r;

	r = terminal_open_pty(&master, &slave, NULL);
	if (r < 0)
		return r;
	r = terminal_set_size(master, x->o->process->console_width, x->o->process->console_height);
	if (r < 0)
		return r;
	r = terminal_send_fd(x->console_fd, master, "/dev/ptmx");
	if (r < 0)
		return r;
	close(x->console_fd);
	x->console_fd = -1;
	return terminal_become_stdio(slave);
}

/* The process itself, inside every namespace: returns only on failure. */
static int exec_process(struct exec_ctx *x)
{
	const struct oci_process *p = x->o->process;
	_cleanup_free_ char *exe = NULL;
	int keep[2] = { x->sync_fd, x->console_fd };
	int n = x->o->preserve_fds > 0 ? x->o->preserve_fds : 0;
	int r;

	r = close_fds_from(3 + n, keep, 2);
	if (r < 0)
		return err_sys(-r, "closing inherited fds");
	if (chdir(p->cwd ? p->cwd : "/") < 0)
		return err_sys(errno, "chdir to cwd (\"%s\")", p->cwd ? p->cwd : "/");
	r = init_lookup_path(p->args[0], p->env, &exe);
	if (r < 0)
		return r;
	if ((r = setup_rlimits(p)) < 0 || (r = setup_oom_score_adj(p)) < 0)
		return r;
	if (p->terminal && (r = exec_terminal(x)) < 0)
		return r;
	r = init_drop_privileges(p, x->cfg ? x->cfg->linux_.seccomp : NULL);
	if (r < 0)
		return r;
	for (int fd = 3; fd < 3 + n; fd++)
		fd_set_cloexec(fd, 0);
	environ = p->env ? p->env : (char *[]){ NULL };
	execv(exe, p->args);
	return err_sys(errno, "exec %s", exe);
}

static _Noreturn void exec_helper(struct exec_ctx *x)
{
	struct clone_args ca = { .flags = CLONE_PARENT };
	pid_t pid;
	int r;

	r = sync_expect(x->sync_fd, SYNC_GO, "waiting for the runtime", NULL);
	if (r < 0)
		_exit(1);
	r = exec_join(x->init_pid);
	if (r < 0)
		goto fail;
	pid = sys_clone3(&ca, sizeof(ca));
	if (pid < 0) {
		r = err_sys(errno, "clone3");
		goto fail;
	}
	if (pid == 0) {
		r = exec_process(x);
		sync_send_error(x->sync_fd, r);
		_exit(127);
	}
	sync_send(x->sync_fd, SYNC_EXEC_PID, pid);
	_exit(0);
fail:
	sync_send_error(x->sync_fd, r);
	_exit(1);
}

/* EOF means the process exec'd (its copy of the socket was CLOEXEC). */
static int exec_wait_exec(int fd)
{
	struct sync_msg m;
	int r = sync_recv(fd, &m);

	if (r == -EPIPE)
		return 0;
	if (r < 0)
		return err_sys(-r, "reading sync socket");
	if (m.type == SYNC_ERROR)
		return err_set(m.value < 0 ? -m.value : EIO, "%s", m.text);
	return err_set(EPROTO, "exec: unexpected sync message %u", m.type);
}

static int exec_spawn(struct container *c, struct exec_ctx *x, pid_t *ret_pid)
{
	struct cgroup *cg;
	int sv[2], r, status;
	int32_t v = 0;
	pid_t helper;

	r = container_cgroup(c, &cg);
	if (r < 0)
		return r;
	r = sync_pair(sv);
	if (r < 0)
		return r;
	x->sync_fd = sv[1];
	helper = fork();
	if (helper < 0) {
		close(sv[0]);
		close(sv[1]);
		return err_sys(errno, "fork");
	}
	if (helper == 0) {
		close(sv[0]);
		exec_helper(x);
	}
	close(sv[1]);
	_cleanup_close_ int fd = sv[0];
	r = cgroup_enter(cg, helper);
	if (r < 0) {
		r = err_wrap(r, "exec: entering the cgroup");
		kill(helper, SIGKILL);
	} else if ((r = sync_send(fd, SYNC_GO, 0)) < 0) {
		r = err_sys(-r, "sync");
	} else {
		r = sync_expect(fd, SYNC_EXEC_PID, "exec", &v);
	}
	while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	r = exec_wait_exec(fd);
	if (r < 0) {
		while (waitpid(v, &status, 0) < 0 && errno == EINTR)
			;
		return r;
	}
	*ret_pid = v;
	return 0;
}

int container_exec(struct container *c, const struct container_exec_opts *o, int *ret_code)
{
	enum container_status s = container_status(c);
	struct oci_config *cfg = NULL;
	struct exec_ctx x = { .o = o, .init_pid = c->pid, .console_fd = -1 };
	pid_t pid = 0;
	int r;

	if (s == CONTAINER_STOPPED)
		return err_set(EINVAL, "cannot exec in a stopped container");
	if (s == CONTAINER_PAUSED)
		return err_set(EINVAL, "cannot exec in a paused container");
	if (!o->process->args || !o->process->args[0])
		return err_set(EINVAL, "exec: no command given");
	if (o->process->terminal) {
		if (!o->console_socket)
			return err_set(EINVAL, "cannot allocate a tty without --console-socket");
		r = terminal_connect(o->console_socket, &x.console_fd);
		if (r < 0)
			return r;
	}
	/* the container's seccomp profile applies to every process in it */
	if (c->bundle && oci_config_load(c->bundle, &cfg) < 0)
		cfg = NULL;
	err_clear();
	x.cfg = cfg;
	r = exec_spawn(c, &x, &pid);
	if (cfg)
		oci_config_free(cfg);
	if (x.console_fd >= 0)
		close(x.console_fd);
	if (r < 0)
		return r;
	if (o->pid_file && (r = write_pid_file(o->pid_file, pid)) < 0)
		return r;
	if (o->detach)
		return 0;
	/* the state lock must not be held while the process runs */
	if (c->lock_fd >= 0) {
		close(c->lock_fd);
		c->lock_fd = -1;
	}
	if (o->tty)
		return container_tty_wait(o->tty, pid, ret_code);
	return container_wait_forward(pid, ret_code);
}
