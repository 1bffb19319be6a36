// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <sys/prctl.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/lazy.h"
#include "runtime/checkpoint.h"
#include "src/ckpt-cli.h"
#include "src/commands.h"

struct restore_args {
	struct container_restore_opts o;
	struct ckpt_cli_common common;
	bool detach, no_subreaper, lazy_pages;
	const char *lsm_profile, *lsm_mount_context, *parent_path, *page_server;
};

/* After the restored init exits the container goes, as after `run`. */
static void restore_cleanup(const char *root, const char *id)
{
	_cleanup_container_ struct container *c = NULL;

	if (container_load(root, id, &c) == 0)
		container_delete(c, true);
}

static int check_args(struct restore_args *a)
{
	int r = ckpt_cli_check_common(&a->common, &a->o.empty_netns);

	if (r < 0)
		return r;
	if (a->page_server && !a->lazy_pages)
		return err_set(EINVAL, "--page-server needs --lazy-pages");
	if (a->lazy_pages)
		lazy_set_handler_exe("/proc/self/exe");
	return a->lazy_pages ? lazy_dst_configure(a->page_server) : 0;
}

static int restore_and_wait(struct restore_args *a, struct global_opts *g, int *ret_code)
{
	struct container *c = NULL;
	pid_t pid;
	int r;

	/* orphans of the restored tree are reparented to us, and reaped */
	if (!a->detach && !a->no_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	r = container_restore(g->root, &a->o, &c);
	if (r < 0)
		return r;
	pid = c->pid;
	/* drop the lock: state, kill, exec must work while we wait */
	container_free(c);
	*ret_code = 0;
	if (a->detach)
		return 0;
	r = container_wait_forward(pid, ret_code);
	restore_cleanup(g->root, a->o.id);
	return r;
}

int cmd_restore(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"restore", "[command options] <container-id>",
		"Restore a container from a checkpoint, creating it from the bundle as create "
		"does; without --detach, wait for it and exit with its status.",
	};
	struct restore_args a = { .o.image_dir = "checkpoint" };
	const struct opt opts[] = {
		{ "console-socket", NULL, OPT_STR, &a.o.console_socket, "path to an AF_UNIX socket which will receive the pty master" },
		{ "image-path", NULL, OPT_STR, &a.o.image_dir, "path to criu image files for restoring" },
		{ "work-path", NULL, OPT_STR, &a.o.work_dir, "path for saving work files and logs" },
		{ "tcp-established", NULL, OPT_BOOL, &a.o.tcp_established, "allow open tcp connections" },
		{ "ext-unix-sk", NULL, OPT_BOOL, &a.o.ext_unix_sk, "allow external unix sockets" },
		{ "shell-job", NULL, OPT_BOOL, &a.o.shell_job, "allow shell jobs" },
		{ "file-locks", NULL, OPT_BOOL, &a.o.file_locks, "handle file locks, for safety" },
		{ "bundle", "b", OPT_STR, &a.o.bundle, "path to the root of the bundle directory" },
		{ "detach", "d", OPT_BOOL, &a.detach, "detach from the container's process" },
		{ "pid-file", NULL, OPT_STR, &a.o.pid_file, "specify the file to write the process id to" },
		{ "no-subreaper", NULL, OPT_BOOL, &a.no_subreaper, "disable the use of the subreaper used to reap reparented processes" },
		{ "no-pivot", NULL, OPT_BOOL, &a.o.no_pivot, "do not use pivot root to jail process inside rootfs" },
		{ "lazy-pages", NULL, OPT_BOOL, &a.lazy_pages, "use userfaultfd to lazily restore memory pages" },
		{ "page-server", NULL, OPT_STR, &a.page_server, "ADDRESS:PORT of the source's page server (lazy; default: from the images)" },
		{ "lsm-profile", NULL, OPT_STR, &a.lsm_profile, "Specify an LSM profile to be used during restore" },
		{ "lsm-mount-context", NULL, OPT_STR, &a.lsm_mount_context, "Specify an LSM mount context to be used during restore" },
		{ "parent-path", NULL, OPT_STR, &a.parent_path, "accepted (containerd sends it), ignored" },
		CKPT_CLI_COMMON_OPTS(a.common),
		{ NULL },
	};
	int ind, r, code = 0;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 1, 1)) >= 0)
		goto out;
	a.o.id = argv[ind];
	a.o.systemd_cgroup = g->systemd_cgroup;
	a.o.lazy_pages = a.lazy_pages;
	if ((r = check_args(&a)) < 0 || (r = restore_and_wait(&a, g, &code)) < 0)
		r = cli_error(r);
	else
		r = code;
out:
	opts_strv_free(&a.common.empty_ns);
	return r;
}
