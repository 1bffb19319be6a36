// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * create: the parent side. The init is started in two stages, so that
 * namespaces given by path are joined before the new ones are made:
 *
 *   skua (parent)                stage1 (fork)               init (clone3)
 *   -------------                -------------               -------------
 *   config, state dir, cgroup,
 *   exec.fifo, console socket
 *   fork --------------------->  setns() to linux.namespaces
 *                                with a path
 *                                clone3(CLONE_NEW* | CLONE_PARENT) --> (waits for GO)
 *        <--- CHILD_PID(pid) --  _exit(0)
 *   reap stage1
 *   cgroup_enter(pid)
 *   uid/gid maps (new user ns)
 *   ------------------------------------ GO ------------------------>
 *                                                             setuid(0) in a new user ns,
 *                                                             unshare(CLONE_NEWCGROUP)
 *        <---------------------------- HOOKS -------------------------
 *   prestart, createRuntime hooks
 *   ------------------------------- HOOKS_DONE --------------------->
 *   state.json (under the lock)                               createContainer hooks,
 *                                                             pty -> console socket,
 *                                                             rootfs, pivot_root, hostname,
 *                                                             sysctl, rlimits, cwd, lookup
 *        <---------------------------- READY -------------------------
 *   --pid-file; exit                                          open(exec.fifo, O_WRONLY)
 *                                                             ... blocks until `start`
 *
 * Without namespace paths or a time namespace there is no stage1: we clone
 * the init ourselves. Without prestart/createRuntime hooks the HOOKS and
 * HOOKS_DONE exchange is left out (init_wants_hooks_pause()).
 *
 * Any child failure travels as SYNC_ERROR with its message; EOF on the
 * socket means the child died. CLONE_PARENT makes the init our child, so
 * `run` can wait for it.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/syscall.h"
#include "cgroups/cgroup.h"
#include "oci/state.h"
#include "runtime/container-internal.h"
#include "runtime/init.h"
#include "runtime/setup.h"
#include "runtime/store.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

static void config_freep(struct oci_config **c)
{
	if (*c)
		oci_config_free(*c);
}

static char *rfc3339_now(void)
{
	struct timespec ts;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	return strdup(oci_time_rfc3339(&ts, buf, sizeof(buf)));
}

static int copy_config_bits(struct container *c, const struct oci_config *cfg, bool systemd)
{
	size_t n = cfg->n_annotations;

	c->bundle = strdup(cfg->bundle);
	c->rootfs = strdup(cfg->root_path);
	c->created = rfc3339_now();
	c->owner = strdup("");
	if (!c->bundle || !c->rootfs || !c->created || !c->owner)
		return -ENOMEM;
	if (cfg->linux_.cgroups_path && !(c->cgroups_path_cfg = strdup(cfg->linux_.cgroups_path)))
		return -ENOMEM;
	c->systemd_cgroup = systemd;
	c->annotation_keys = calloc(n + 1, sizeof(char *));
	c->annotation_values = calloc(n + 1, sizeof(char *));
	if (!c->annotation_keys || !c->annotation_values)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c->annotation_keys[i] = strdup(cfg->annotation_keys[i]);
		c->annotation_values[i] = strdup(cfg->annotation_values[i]);
		c->n_annotations++;
		if (!c->annotation_keys[i] || !c->annotation_values[i])
			return -ENOMEM;
	}
	return 0;
}

static int load_config(const char *bundle, struct oci_config **ret)
{
	struct oci_config *cfg = NULL;
	_cleanup_free_ char *cwd = NULL;
	int r;

	if (!bundle) {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return err_sys(errno, "getcwd");
		bundle = cwd;
	}
	r = oci_config_load(bundle, &cfg);
	if (r < 0)
		return r;
	r = oci_config_validate(cfg);
	if (r < 0) {
		oci_config_free(cfg);
		return r;
	}
	if (!cfg->process || !cfg->process->args || !cfg->process->args[0]) {
		oci_config_free(cfg);
		return err_set(EINVAL, "config.json: process.args must not be empty");
	}
	*ret = cfg;
	return 0;
}

static unsigned long long clone_flags(const struct oci_config *cfg, bool *ret_userns)
{
	unsigned long long flags = 0;

	*ret_userns = false;
	for (size_t i = 0; i < cfg->linux_.n_namespaces; i++) {
		const struct oci_namespace *ns = &cfg->linux_.namespaces[i];
		if (ns->path)
			continue;
		if (ns->type == OCI_NS_USER)
			*ret_userns = true;
		/* unshared by the init once in its cgroup, so the cgroup
		 * namespace is rooted at the container's cgroup */
		if (ns->type == OCI_NS_CGROUP)
			continue;
		flags |= oci_ns_clone_flag(ns->type);
	}
	return flags;
}

/* stage1: join, clone the init, report its pid. Runs in a forked child. */
static _Noreturn void stage1(struct init_ctx *ctx)
{
	unsigned long long flags = clone_flags(ctx->cfg, &ctx->new_userns);
	/* with CLONE_PARENT the exit signal is inherited from stage1 (SIGCHLD) */
	struct clone_args ca = { .flags = flags | CLONE_PARENT };
	pid_t pid;
	int r;

	r = setup_namespaces_join(ctx->cfg);
	if (r < 0)
		goto fail;
	pid = sys_clone3(&ca, sizeof(ca));
	if (pid < 0) {
		r = err_sys(errno, "clone3 of the container init (flags 0x%llx)", flags);
		goto fail;
	}
	if (pid == 0)
		init_main(ctx);
	sync_send(ctx->sync_fd, SYNC_CHILD_PID, pid);
	_exit(0);
fail:
	sync_send_error(ctx->sync_fd, r);
	_exit(1);
}

/*
 * stage1 exists to setns() (and set time offsets) before the init is
 * cloned. Without any of that, the init is cloned straight from us: one
 * fork, one exit and one wake-up less on the way to the container.
 */
static bool needs_stage1(const struct oci_config *cfg)
{
	for (size_t i = 0; i < cfg->linux_.n_namespaces; i++) {
		const struct oci_namespace *ns = &cfg->linux_.namespaces[i];
		if (ns->path || ns->type == OCI_NS_TIME)
			return true;
	}
	return false;
}

/* The init as our own child, without stage1. */
static int clone_init_direct(struct init_ctx *ctx, pid_t *ret)
{
	unsigned long long flags = clone_flags(ctx->cfg, &ctx->new_userns);
	struct clone_args ca = { .flags = flags, .exit_signal = SIGCHLD };
	pid_t pid = sys_clone3(&ca, sizeof(ca));

	if (pid < 0)
		return err_sys(errno, "clone3 of the container init (flags 0x%llx)", flags);
	if (pid == 0)
		init_main(ctx);
	*ret = pid;
	return 0;
}

struct create_state {
	struct container *c;
	struct oci_config *cfg;
	struct cgroup *cg;       /* borrowed from c */
	bool cgroup_created;
	int sync_fd;             /* parent end */
	pid_t pid;
};

static int spawn_children(struct create_state *s, const struct container_create_opts *o)
{
	_cleanup_free_ char *fifo = store_path(s->c, STORE_EXEC_FIFO);
	_cleanup_close_ int fifo_fd = -1, console_fd = -1;
	int sv[2], status, r;
	int32_t v;
	pid_t st1;
	struct init_ctx ctx = { .c = s->c, .cfg = s->cfg, .o = o, .fifo_fd = -1, .console_fd = -1 };

	if (!fifo)
		return -ENOMEM;
	if (!o->init_fn) {
		/* 0622 despite the umask: an init in a user namespace is "other" */
		if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0)
			return err_sys(errno, "creating %s", fifo);
		fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
		if (fifo_fd < 0)
			return err_sys(errno, "opening %s", fifo);
	}
	if (s->cfg->process->terminal) {
		const char *sock = o->console_socket;

		/* made only now: most runs have no terminal, and the socket's
		 * directory costs a mkdir and an rmdir */
		if (!sock && o->auto_tty && (r = container_tty_listen(o->auto_tty, &sock)) < 0)
			return r;
		if (!sock)
			return err_set(EINVAL, "cannot allocate a tty without --console-socket "
				       "(process.terminal is true)");
		r = terminal_connect(sock, &console_fd);
		if (r < 0)
			return r;
	}
	r = sync_pair(sv);
	if (r < 0)
		return r;
	s->sync_fd = sv[0];
	ctx.sync_fd = sv[1];
	ctx.fifo_fd = fifo_fd;
	ctx.console_fd = console_fd;
	clone_flags(s->cfg, &ctx.new_userns);
	if (!needs_stage1(s->cfg)) {
		/* the child end is closed in the init by init_close_fds */
		r = clone_init_direct(&ctx, &s->pid);
		close(sv[1]);
		if (r < 0)
			return r;
		s->c->pid = s->pid;
		return proc_start_time(s->pid, &s->c->start_time, NULL) < 0
			       ? err_set(ESRCH, "the container init exited early") : 0;
	}
	st1 = fork();
	if (st1 < 0) {
		close(sv[1]);
		return err_sys(errno, "fork");
	}
	if (st1 == 0) {
		close(sv[0]);
		stage1(&ctx);
	}
	close(sv[1]);
	r = sync_expect(s->sync_fd, SYNC_CHILD_PID, "starting the container init", &v);
	while (waitpid(st1, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	s->pid = v;
	s->c->pid = v;
	return proc_start_time(s->pid, &s->c->start_time, NULL) < 0
		       ? err_set(ESRCH, "the container init exited early") : 0;
}

static int create_handshake(struct create_state *s)
{
	bool userns;
	int r;

	r = cgroup_enter(s->cg, s->pid);
	if (r < 0)
		return err_wrap(r, "entering the cgroup");
	clone_flags(s->cfg, &userns);
	if (userns && (r = setup_write_id_maps(s->pid, s->cfg)) < 0)
		return r;
	r = sync_send(s->sync_fd, SYNC_GO, 0);
	if (r < 0)
		return err_sys(-r, "sync");
	if (init_wants_hooks_pause(s->cfg)) {
		r = sync_expect(s->sync_fd, SYNC_HOOKS, "setting up the container", NULL);
		if (r < 0)
			return r;
		r = container_run_hooks(s->c, s->cfg, OCI_HOOK_PRESTART, CONTAINER_CREATING);
		if (r < 0)
			return r;
		r = container_run_hooks(s->c, s->cfg, OCI_HOOK_CREATE_RUNTIME, CONTAINER_CREATING);
		if (r < 0)
			return r;
		r = sync_send(s->sync_fd, SYNC_HOOKS_DONE, 0);
		if (r < 0)
			return err_sys(-r, "sync");
	}
	/* While the init builds its rootfs. Nobody sees it early: readers
	 * take the state dir's lock, which create holds until it returns,
	 * and a failure removes the whole dir. */
	r = store_save(s->c);
	if (r < 0)
		return r;
	return sync_expect(s->sync_fd, SYNC_READY, "setting up the container", NULL);
}

static int create_cgroup(struct create_state *s)
{
	int r = container_cgroup(s->c, &s->cg);

	if (r < 0)
		return r;
	r = cgroup_create(s->cg);
	if (r < 0)
		return err_wrap(r, "creating the cgroup");
	s->cgroup_created = true;
	s->c->cgroup_path = strdup(cgroup_path(s->cg));
	if (!s->c->cgroup_path)
		return -ENOMEM;
	if (s->cfg->linux_.has_resources && (r = cgroup_set(s->cg, &s->cfg->linux_.resources)) < 0)
		return err_wrap(r, "setting cgroup resources");
	/* the nodes of linux.devices are usable whatever the device rules say */
	r = cgroup_allow_devices(s->cg, s->cfg->linux_.devices, s->cfg->linux_.n_devices);
	if (r < 0)
		return err_wrap(r, "allowing linux.devices in the cgroup");
	return 0;
}

static void create_undo(struct create_state *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (s->cgroup_created)
		cgroup_destroy(s->cg, true);
	if (s->c->dir)
		store_remove(s->c);
}

int container_create(const char *root, const struct container_create_opts *o,
		     struct container **ret)
{
	struct create_state s = { .sync_fd = -1 };
	_cleanup_(config_freep) struct oci_config *cfg = NULL;
	char saved[4096];
	int r;

	r = container_validate_id(o->id);
	if (r < 0)
		return r;
	r = load_config(o->bundle, &cfg);
	if (r < 0)
		return r;
	s.cfg = cfg;
	s.c = container_alloc();
	if (!s.c)
		return -ENOMEM;
	r = store_create(s.c, root, o->id);
	if (r < 0) {
		/* the directory is someone else's: don't remove it */
		free(s.c->dir);
		s.c->dir = NULL;
		goto fail;
	}
	if ((r = copy_config_bits(s.c, cfg, o->systemd_cgroup)) < 0 ||
	    (r = create_cgroup(&s)) < 0 ||
	    (r = spawn_children(&s, o)) < 0 ||
	    (r = create_handshake(&s)) < 0)
		goto fail;
	if (o->pid_file && (r = write_pid_file(o->pid_file, s.pid)) < 0)
		goto fail;
	close(s.sync_fd);
	*ret = s.c;
	return 0;
fail:
	snprintf(saved, sizeof(saved), "%s", err_msg());
	create_undo(&s);
	if (s.sync_fd >= 0)
		close(s.sync_fd);
	container_free(s.c);
	err_set(-r, "%s", saved);
	return r;
}
