// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "runtime/container-internal.h"
#include "runtime/init.h"
#include "runtime/setup.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

extern char **environ;

int init_lookup_path(const char *file, char *const *env, char **ret)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	struct stat st;

	if (!file || !*file)
		return err_set(EINVAL, "exec: empty command");
	if (strchr(file, '/')) {
		if (stat(file, &st) < 0)
			return err_sys(errno, "exec: \"%s\"", file);
		if (!S_ISREG(st.st_mode) || access(file, X_OK) < 0)
			return err_set(EACCES, "exec: \"%s\": permission denied", file);
		*ret = strdup(file);
		return *ret ? 0 : -ENOMEM;
	}
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	for (const char *p = path; ; ) {
		const char *end = strchrnul(p, ':');
		_cleanup_free_ char *cand = NULL;
		int dlen = end - p;

		if (asprintf(&cand, "%.*s/%s", dlen ? dlen : 1, dlen ? p : ".", file) < 0)
			return -ENOMEM;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
			*ret = TAKE_PTR(cand);
			return 0;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return err_set(ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
}

static int init_close_fds(struct init_ctx *ctx)
{
	int n = ctx->o->preserve_fds > 0 ? ctx->o->preserve_fds : 0;
	_cleanup_free_ int *keep = calloc(n + 3, sizeof(int));
	size_t nk = 0;

	if (!keep)
		return -ENOMEM;
	keep[nk++] = ctx->sync_fd;
	keep[nk++] = ctx->fifo_fd;
	keep[nk++] = ctx->console_fd;
	/* preserved fds are 3..3+n-1: start closing after them */
	return close_fds_from(3 + n, keep, nk);
}

/* The terminal: a pty whose master goes to the console socket. */
static int init_terminal(struct init_ctx *ctx, int *ret_slave, char **ret_path)
{
	_cleanup_close_ int master = -1;
	int r;

	r = terminal_open_pty(&master, ret_slave, ret_path);
	if (r < 0)
		return r;
	r = terminal_set_size(master, ctx->cfg->process->console_width,
			      ctx->cfg->process->console_height);
	if (r < 0)
		return r;
	r = terminal_send_fd(ctx->console_fd, master, "/dev/ptmx");
	close(ctx->console_fd);
	ctx->console_fd = -1;
	return r;
}

static bool init_wants_cgroupns(const struct oci_config *cfg)
{
	const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_CGROUP);

	return ns && !ns->path;
}

static int init_become_root_in_userns(void)
{
	if (setresgid(0, 0, 0) < 0)
		return err_sys(errno, "setgid(0) in the user namespace");
	if (setresuid(0, 0, 0) < 0)
		return err_sys(errno, "setuid(0) in the user namespace");
	/* the uid change cleared "dumpable", which would make /proc/self/fd
	 * (the way to the exec fifo) unreachable; execve recomputes it */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return err_sys(errno, "prctl(PR_SET_DUMPABLE)");
	return 0;
}

bool init_wants_hooks_pause(const struct oci_config *cfg)
{
	return cfg->n_hooks[OCI_HOOK_PRESTART] || cfg->n_hooks[OCI_HOOK_CREATE_RUNTIME];
}

/* Everything up to the point where the container waits for `start`. */
static int init_setup(struct init_ctx *ctx, int *slave, char **exe)
{
	const struct oci_config *cfg = ctx->cfg;
	const struct oci_process *p = cfg->process;
	_cleanup_free_ char *console = NULL;
	int r;

	r = init_close_fds(ctx);
	if (r < 0)
		return err_sys(-r, "closing inherited fds");
	r = sync_expect(ctx->sync_fd, SYNC_GO, "waiting for the runtime", NULL);
	if (r < 0)
		return r;
	if (ctx->new_userns && (r = init_become_root_in_userns()) < 0)
		return r;
	if (init_wants_cgroupns(cfg) && unshare(CLONE_NEWCGROUP) < 0)
		return err_sys(errno, "unshare of the cgroup namespace");
	if (init_wants_hooks_pause(cfg)) {
		r = sync_send(ctx->sync_fd, SYNC_HOOKS, 0);
		if (r < 0)
			return err_sys(-r, "sync");
		r = sync_expect(ctx->sync_fd, SYNC_HOOKS_DONE, "waiting for prestart hooks", NULL);
		if (r < 0)
			return r;
	}
	r = container_run_hooks(ctx->c, cfg, OCI_HOOK_CREATE_CONTAINER, CONTAINER_CREATING);
	if (r < 0)
		return r;
	if (p->terminal && (r = init_terminal(ctx, slave, &console)) < 0)
		return r;
	if ((r = setup_rootfs(cfg, ctx->o->no_pivot, console)) < 0 ||
	    (r = setup_hostname(cfg)) < 0 ||
	    (r = setup_loopback(cfg)) < 0 ||
	    (r = setup_sysctl(cfg)) < 0 ||
	    (r = setup_rlimits(p)) < 0 ||
	    (r = setup_oom_score_adj(p)) < 0)
		return r;
	if (ctx->o->init_fn)
		return 0;
	if (chdir(p->cwd ? p->cwd : "/") < 0)
		return err_sys(errno, "chdir to cwd (\"%s\") set in config.json", p->cwd);
	/* Look the program up now, so that a typo fails create, not start. */
	r = init_lookup_path(p->args[0], p->env, exe);
	if (r < 0)
		return r;
	if (*slave >= 0 && (r = terminal_become_stdio(*slave)) < 0)
		return r;
	return 0;
}

/* After the fifo: a non-root user could not reopen it through procfs. */
static int init_finalize(struct init_ctx *ctx)
{
	const struct oci_process *p = ctx->cfg->process;
	int r;

	r = container_run_hooks(ctx->c, ctx->cfg, OCI_HOOK_START_CONTAINER, CONTAINER_CREATED);
	if (r < 0)
		return r;
	return init_drop_privileges(p, ctx->cfg->linux_.seccomp);
}

int init_drop_privileges(const struct oci_process *p, const struct oci_seccomp *seccomp)
{
	int r;

	/* runc's order: without no_new_privs, loading the filter needs
	 * CAP_SYS_ADMIN, so it goes in before the capabilities are dropped */
	if (!p->no_new_privileges && (r = setup_seccomp(seccomp)) < 0)
		return r;
	if ((r = setup_user(p)) < 0 ||
	    (r = setup_caps(p)) < 0 ||
	    (r = setup_no_new_privs(p)) < 0)
		return r;
	return p->no_new_privileges ? setup_seccomp(seccomp) : 0;
}

/* Block until `start` opens the fifo for reading. */
static int init_wait_start(struct init_ctx *ctx)
{
	char path[64];
	_cleanup_close_ int fd = -1;

	/* After pivot_root the state dir is out of reach: reopen the O_PATH fd
	 * through procfs, which blocks until a reader appears. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ctx->fifo_fd);
	do
		fd = open(path, O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return err_sys(errno, "opening the exec fifo");
	if (write_full(fd, "0", 1) < 0)
		return err_sys(errno, "writing the exec fifo");
	close(ctx->fifo_fd);
	ctx->fifo_fd = -1;
	return 0;
}

static _Noreturn void init_fail_late(int r)
{
	const char *m = err_msg();

	dprintf(STDERR_FILENO, "skua init: %s\n", m[0] ? m : strerror(-r));
	_exit(1);
}

static int init_preserved_fds(int n)
{
	for (int fd = 3; fd < 3 + n; fd++)
		fd_set_cloexec(fd, 0);
	return 0;
}

_Noreturn void init_main(struct init_ctx *ctx)
{
	_cleanup_free_ char *exe = NULL;
	const struct oci_process *p = ctx->cfg->process;
	int slave = -1, r;

	r = init_setup(ctx, &slave, &exe);
	if (r < 0) {
		sync_send_error(ctx->sync_fd, r);
		_exit(1);
	}
	if (ctx->o->init_fn) {
		sync_send(ctx->sync_fd, SYNC_READY, 0);
		close(ctx->sync_fd);
		_exit(ctx->o->init_fn(ctx->o->init_arg));
	}
	sync_send(ctx->sync_fd, SYNC_READY, 0);
	close(ctx->sync_fd);

	r = init_wait_start(ctx);
	if (r < 0)
		init_fail_late(r);
	r = init_finalize(ctx);
	if (r < 0)
		init_fail_late(r);
	if (slave > 2)
		close(slave);
	init_preserved_fds(ctx->o->preserve_fds);
	environ = p->env ? p->env : (char *[]){ NULL };
	execv(exe, p->args);
	err_sys(errno, "exec %s", exe);
	init_fail_late(-errno);
}
