// SPDX-License-Identifier: GPL-2.0-or-later
/* start, kill, delete, pause, resume, update: the transitions after create. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cgroups/cgroup.h"
#include "runtime/container-internal.h"
#include "runtime/hooks.h"
#include "runtime/store.h"

int container_run_hooks(struct container *c, const struct oci_config *cfg,
			enum oci_hook_kind kind, enum container_status s)
{
	_cleanup_free_ char *state = NULL;
	int r;

	if (!cfg || !cfg->n_hooks[kind])
		return 0;
	r = container_hook_state_json(c, s, &state);
	if (r < 0)
		return err_sys(-r, "state for %s hooks", oci_hook_kind_name(kind));
	return hooks_run(cfg->hooks[kind], cfg->n_hooks[kind], state, oci_hook_kind_name(kind));
}

/* Wait for the fifo's byte while checking that the init is still there:
 * opening a fifo with no writer would otherwise block forever. */
static int start_read_fifo(struct container *c, const char *fifo)
{
	_cleanup_close_ int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char b;

	if (fd < 0)
		return err_sys(errno, "opening %s", fifo);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, 100);
		if (n < 0 && errno != EINTR)
			return err_sys(errno, "poll on the exec fifo");
		if (n > 0 && (p.revents & POLLIN)) {
			ssize_t k = read(fd, &b, 1);
			if (k == 1)
				return 0;
			if (k < 0 && errno != EAGAIN && errno != EINTR)
				return err_sys(errno, "reading the exec fifo");
		}
		if (!container_init_alive(c))
			return err_set(ESRCH, "container %s: the init exited before start", c->id);
		if (n > 0 && (p.revents & POLLHUP))
			usleep(10000); /* writer came and went without writing: init failing */
	}
}

static int load_bundle_config(struct container *c, struct oci_config **ret)
{
	if (!c->bundle)
		return -ENOENT;
	return oci_config_load(c->bundle, ret);
}

int container_start(struct container *c)
{
	enum container_status s = container_status(c);
	_cleanup_free_ char *fifo = NULL;
	struct oci_config *cfg = NULL;
	int r;

	if (s == CONTAINER_STOPPED)
		return err_set(EINVAL, "cannot start a container that has stopped");
	if (s == CONTAINER_PAUSED)
		return err_set(EINVAL, "cannot start a paused container");
	if (s != CONTAINER_CREATED)
		return err_set(EINVAL, "cannot start an already running container");
	fifo = store_path(c, STORE_EXEC_FIFO);
	if (!fifo)
		return -ENOMEM;
	r = start_read_fifo(c, fifo);
	if (r < 0)
		return r;
	unlink(fifo);
	if (load_bundle_config(c, &cfg) == 0) {
		r = container_run_hooks(c, cfg, OCI_HOOK_POSTSTART, CONTAINER_RUNNING);
		oci_config_free(cfg);
		/* as runc: a container whose poststart failed does not run on */
		if (r < 0) {
			kill(c->pid, SIGKILL);
			return r;
		}
	}
	err_clear();
	return 0;
}

int container_kill(struct container *c, int sig, bool all)
{
	enum container_status s = container_status(c);
	struct cgroup *cg;
	int r;

	if (all) {
		r = container_cgroup(c, &cg);
		if (r < 0)
			return r;
		r = cgroup_kill(cg, sig);
		if (r < 0)
			return err_wrap(r, "container %s: signalling all processes", c->id);
		/* a frozen task only dies once thawed */
		if (s == CONTAINER_PAUSED && sig == SIGKILL)
			cgroup_thaw(cg);
		return 0;
	}
	if (s == CONTAINER_STOPPED)
		return err_set(ESRCH, "container not running");
	if (kill(c->pid, sig) < 0)
		return err_sys(errno, "container %s: kill %d", c->id, (int)c->pid);
	if (s == CONTAINER_PAUSED && sig == SIGKILL && container_cgroup(c, &cg) == 0)
		cgroup_thaw(cg);
	return 0;
}

static void wait_gone(struct container *c, int ms)
{
	for (int i = 0; i < ms / 10 && container_init_alive(c); i++) {
		/* reap it if it happens to be our child (run, or create in-process) */
		waitpid(c->pid, NULL, WNOHANG);
		usleep(10000);
	}
}

int container_delete(struct container *c, bool force)
{
	enum container_status s = container_status(c);
	struct oci_config *cfg = NULL;
	struct cgroup *cg = NULL;
	int r;

	if ((s == CONTAINER_RUNNING || s == CONTAINER_PAUSED) && !force)
		return err_set(EBUSY, "cannot delete container %s that is not stopped: %s",
			       c->id, container_status_name(s));
	r = container_cgroup(c, &cg);
	if (s != CONTAINER_STOPPED) {
		if (cg) {
			cgroup_kill(cg, SIGKILL);
			if (s == CONTAINER_PAUSED)
				cgroup_thaw(cg);
		}
		kill(c->pid, SIGKILL);
		wait_gone(c, 5000);
	}
	if (cg && (r = cgroup_destroy(cg, true)) < 0)
		return err_wrap(r, "container %s: removing the cgroup", c->id);
	if (load_bundle_config(c, &cfg) == 0) {
		/* poststop failures are reported but do not keep the container */
		r = container_run_hooks(c, cfg, OCI_HOOK_POSTSTOP, CONTAINER_STOPPED);
		oci_config_free(cfg);
	} else {
		r = 0;
	}
	int r2 = store_remove(c);
	if (r2 < 0)
		return r2;
	if (r == 0)
		err_clear();
	return r;
}

int container_pause(struct container *c)
{
	enum container_status s = container_status(c);
	struct cgroup *cg;
	int r;

	if (s != CONTAINER_RUNNING && s != CONTAINER_CREATED)
		return err_set(EINVAL, "container not running");
	r = container_cgroup(c, &cg);
	if (r < 0)
		return r;
	r = cgroup_freeze(cg);
	return r < 0 ? err_wrap(r, "container %s: pause", c->id) : 0;
}

int container_resume(struct container *c)
{
	struct cgroup *cg;
	int r;

	if (container_status(c) != CONTAINER_PAUSED)
		return err_set(EINVAL, "container not paused");
	r = container_cgroup(c, &cg);
	if (r < 0)
		return r;
	r = cgroup_thaw(cg);
	return r < 0 ? err_wrap(r, "container %s: resume", c->id) : 0;
}

int container_update(struct container *c, const struct oci_resources *res)
{
	struct cgroup *cg;
	int r;

	if (container_status(c) == CONTAINER_STOPPED)
		return err_set(EINVAL, "container %s is stopped", c->id);
	r = container_cgroup(c, &cg);
	if (r < 0)
		return r;
	r = cgroup_set(cg, res);
	return r < 0 ? err_wrap(r, "container %s: update", c->id) : 0;
}

int container_pids(struct container *c, pid_t **ret, size_t *ret_n)
{
	struct cgroup *cg;
	int r = container_cgroup(c, &cg);

	if (r < 0)
		return r;
	r = cgroup_pids(cg, ret, ret_n);
	return r < 0 ? err_wrap(r, "container %s: listing processes", c->id) : 0;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int container_wait_forward(pid_t pid, int *ret_code)
{
	sigset_t all, old;
	int r = 0;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	for (;;) {
		siginfo_t si;
		int status;
		pid_t w;

		/* reap everything that exited (we may be a subreaper) */
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == pid) {
				*ret_code = exit_code(status);
				goto out;
			}
		if (w < 0 && errno == ECHILD) {
			r = err_set(ECHILD, "process %d is not our child", (int)pid);
			goto out;
		}
		if (sigwaitinfo(&all, &si) < 0)
			continue;
		if (si.si_signo == SIGCHLD)
			continue;
		/* a terminal's window change belongs to the terminal, not the process */
		if (si.si_signo != SIGWINCH)
			kill(pid, si.si_signo);
	}
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
