// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * restore: the steps, in order.
 *
 *   images     container.json and descriptors.json from the image dir
 *   create     the container from the bundle, as `create` does (cgroup,
 *              namespaces, rootfs, mounts, hooks), except that its init,
 *              once set up, blocks in read() instead of exec'ing: it is the
 *              anchor the engine seizes and turns back into pid 1
 *   extras     hostname, loopback, tmpfs contents, from the host side
 *   engine     cr_restore with make_root = that init, the caller's fds 0-2
 *              as the externals descriptors.json names
 *   finish     --pid-file; state.json already names the init
 *
 * Any failure removes the new container: nothing is left behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/syscall.h"
#include "cr/cr.h"
#include "runtime/checkpoint.h"
#include "runtime/ckpt-meta.h"
#include "runtime/ckpt-ns.h"
#include "runtime/container-internal.h"

struct rst {
	const struct container_restore_opts *o;
	const char *work_dir;
	struct ckpt_meta meta;
	char *desc[3];
	struct container *c;
	int tty_fd;         /* the new pty slave, for stdio that was a terminal */
	bool engine_logged; /* cr_restore wrote its error to restore.log */
};

/* Runs as the container's init after its setup: wait, forever, to be seized.
 * The pipe's write end stays open here, so read() never returns. */
static int init_wait_for_engine(void *arg)
{
	int p[2];
	char b;

	if (pipe(p) < 0)
		return 1;
	for (;;)
		if (read(p[0], &b, 1) < 0 && errno != EINTR)
			return 1;
}

/* The init must sit in read() before the engine seizes it: its return path
 * is replaced, so any other point would do too, but a blocked task is the
 * state cr.h promises the engine. */
static int wait_blocked_in_read(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	for (int i = 0; i < 5000; i++) {
		_cleanup_free_ char *s = NULL;
		if (read_file(path, &s, NULL, 0) < 0)
			return err_set(ESRCH, "the restored container's init %d exited early", pid);
		if (!strncmp(s, "0 ", 2))
			return 0;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return err_set(ETIMEDOUT, "the restored container's init %d never waited for the engine", pid);
}

static int make_root(void *arg, pid_t *ret_host_pid)
{
	struct rst *s = arg;
	int r = wait_blocked_in_read(s->c->pid);

	if (r < 0)
		return r;
	*ret_host_pid = s->c->pid;
	return 0;
}

static int step_log_open(struct rst *s)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "%s/restore.log", s->work_dir) < 0)
		return -ENOMEM;
	r = log_step_open(path);
	return r < 0 ? err_sys(-r, "opening %s", path) : 0;
}

static int read_images(struct rst *s)
{
	_cleanup_free_ char *inv = NULL;
	int r;

	if (asprintf(&inv, "%s/inventory.img", s->o->image_dir) < 0)
		return -ENOMEM;
	if (access(inv, F_OK) < 0)
		return err_sys(errno, "%s holds no checkpoint (%s)", s->o->image_dir, inv);
	if ((r = ckpt_meta_read(s->o->image_dir, &s->meta)) < 0 ||
	    (r = ckpt_descriptors_read(s->o->image_dir, s->desc)) < 0)
		return r;
	log_info("restoring container %s (checkpointed as %s) from %s", s->o->id,
		 s->meta.id ? s->meta.id : "?", s->o->image_dir);
	return 0;
}

static int create(struct rst *s, const char *root)
{
	struct container_create_opts co = {
		.id = s->o->id,
		.bundle = s->o->bundle,
		.console_socket = s->o->console_socket,
		.no_pivot = s->o->no_pivot,
		.systemd_cgroup = s->o->systemd_cgroup,
		.init_fn = init_wait_for_engine,
	};
	int r = container_create(root, &co, &s->c);

	if (r < 0)
		return r;
	log_info("container %s created, init pid %d", s->c->id, s->c->pid);
	return 0;
}

static int restore_extras(struct rst *s)
{
	pid_t pid = s->c->pid;
	bool own;
	int r;

	if (s->meta.hostname) {
		if ((r = ckpt_own_ns(pid, "uts", &own)) < 0)
			return r;
		if (own && (r = ckpt_hostname_set(pid, s->meta.hostname)) < 0)
			return r;
	}
	if (s->meta.net_file && !s->o->empty_netns) {
		_cleanup_free_ char *path = NULL;
		if ((r = ckpt_own_ns(pid, "net", &own)) < 0)
			return r;
		if (asprintf(&path, "%s/%s", s->o->image_dir, s->meta.net_file) < 0)
			return -ENOMEM;
		if (own && (r = ckpt_net_restore(pid, path)) < 0)
			return r;
	}
	for (size_t i = 0; i < s->meta.n_tmpfs; i++) {
		_cleanup_free_ char *path = NULL;
		const struct ckpt_tmpfs *t = &s->meta.tmpfs[i];
		if (!t->archive) {
			log_info("the tmpfs at %s was empty: mode %o, owner %u:%u", t->dest, t->mode, t->uid,
				 t->gid);
			if ((r = ckpt_tmpfs_restore_empty(pid, t->dest, t->mode, t->uid, t->gid)) < 0)
				return r;
			continue;
		}
		if (asprintf(&path, "%s/%s", s->o->image_dir, t->archive) < 0)
			return -ENOMEM;
		log_info("restoring the tmpfs at %s from %s", t->dest, t->archive);
		if ((r = ckpt_tmpfs_restore(pid, t->dest, path)) < 0)
			return r;
	}
	return 0;
}

/* A terminal container: create made a new pty, sent its master to
 * --console-socket and left the slave open in the init. Take the slave, so
 * the engine hands it to the tree where the dump had the old terminal. */
static int take_init_tty(struct rst *s)
{
	pid_t pid = s->c->pid;
	char path[64];
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int pidfd = -1;
	struct dirent *e;

	if (!s->meta.stdio_tty[0] && !s->meta.stdio_tty[1] && !s->meta.stdio_tty[2])
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return err_sys(errno, "listing %s", path);
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || !ckpt_fd_is_tty(pid, fd))
			continue;
		pidfd = sys_pidfd_open(pid, 0);
		if (pidfd < 0)
			return err_sys(errno, "pidfd_open(%d)", pid);
		s->tty_fd = sys_pidfd_getfd(pidfd, fd, 0);
		if (s->tty_fd < 0)
			return err_sys(errno, "taking the new terminal (fd %d) from the init", fd);
		log_info("stdio: the new terminal (fd %d of the init) replaces the dumped one", fd);
		return 0;
	}
	log_warn("the checkpointed init had a terminal, the new container has none "
		 "(process.terminal false): it gets restore's stdio");
	return 0;
}

static int engine(struct rst *s)
{
	struct cr_external ext[3];
	struct cr_restore_opts ro = {
		.image_dir = s->o->image_dir,
		.work_dir = s->work_dir,
		.detach = true, /* the caller waits, forwarding signals */
		.externals = ext,
		.make_root = make_root,
		.make_root_arg = s,
		.tcp_established = s->o->tcp_established,
		.ext_unix_sk = s->o->ext_unix_sk,
		.shell_job = s->o->shell_job,
		.file_locks = s->o->file_locks,
		.lazy_pages = s->o->lazy_pages,
	};
	pid_t root_pid = 0;
	int r;

	for (int i = 0; i < 3; i++) {
		int fd = s->meta.stdio_tty[i] && s->tty_fd >= 0 ? s->tty_fd : i;
		if (s->desc[i][0] && fcntl(fd, F_GETFD) >= 0)
			ext[ro.n_externals++] = (struct cr_external){ .key = s->desc[i], .fd = fd };
	}
	/* cr_restore writes its own steps to restore.log */
	log_step_close();
	r = cr_restore(&ro, &root_pid, NULL);
	step_log_open(s);
	if (r < 0) {
		s->engine_logged = true;
		return r;
	}
	if (root_pid != s->c->pid)
		return err_set(EIO, "the engine restored the root as pid %d, not the container's "
				    "init %d", root_pid, s->c->pid);
	return 0;
}

static int run(struct rst *s, const char *root)
{
	int r;

	if ((r = read_images(s)) < 0 || (r = create(s, root)) < 0)
		return r;
	if ((r = restore_extras(s)) < 0)
		return err_wrap(r, "restoring the container's state");
	if ((r = take_init_tty(s)) < 0)
		return r;
	if ((r = engine(s)) < 0)
		return r;
	if (s->o->pid_file && (r = write_pid_file(s->o->pid_file, s->c->pid)) < 0)
		return r;
	log_info("container %s restored, init pid %d", s->c->id, s->c->pid);
	log_wallclock("container running");
	return 0;
}

int container_restore(const char *root, const struct container_restore_opts *o,
		      struct container **ret)
{
	struct rst s = { .o = o, .tty_fd = -1 };
	int r;

	if (!o->image_dir)
		return err_set(EINVAL, "restore needs an image directory");
	r = container_validate_id(o->id);
	if (r < 0)
		return r;
	s.work_dir = o->work_dir ? o->work_dir : o->image_dir;
	if ((r = mkdir_p(s.work_dir, 0700)) < 0)
		return err_sys(-r, "creating the work directory %s", s.work_dir);
	if ((r = step_log_open(&s)) < 0)
		return r;
	r = run(&s, root);
	if (r < 0) {
		char saved[4096];
		snprintf(saved, sizeof(saved), "%s", err_msg()[0] ? err_msg() : strerror(-r));
		if (!s.engine_logged)
			log_error("%s", saved);
		if (s.c) {
			container_delete(s.c, true);
			container_free(s.c);
			s.c = NULL;
		}
		err_set(-r, "%s", saved);
	}
	log_step_close();
	if (s.tty_fd >= 0)
		close(s.tty_fd);
	ckpt_meta_free(&s.meta);
	ckpt_descriptors_free(s.desc);
	if (r >= 0)
		*ret = s.c;
	return r;
}
