// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/lazy.h"
#include "runtime/checkpoint.h"
#include "src/commands.h"
#include "src/ckpt-cli.h"

struct ckpt_args {
	struct container_checkpoint_opts o;
	struct ckpt_cli_common common;
	bool pre_dump, lazy_pages;
	const char *parent_path, *page_server, *status_fd;
};

/* An inherited fd, open for writing, as runc insists. */
static int check_status_fd(const char *s)
{
	char *end;
	long fd;
	int fl;

	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno || !*s || *end || fd < 0 || fd > 1 << 20 ||
	    (fl = fcntl((int)fd, F_GETFL)) < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return err_set(EINVAL, "invalid --status-fd argument %s", s);
	return 0;
}

static int check_parent_path(const struct ckpt_args *a)
{
	_cleanup_free_ char *p = NULL;
	struct stat st;

	if (a->parent_path[0] == '/')
		p = strdup(a->parent_path);
	else if (asprintf(&p, "%s/%s", a->o.image_dir, a->parent_path) < 0)
		p = NULL;
	if (!p)
		return -ENOMEM;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(ENOENT, "--parent-path %s: no such directory (%s)", a->parent_path, p);
	return err_set(ENOTSUP, "--parent-path: pre-dump is not supported yet");
}

static int check_args(struct ckpt_args *a)
{
	int r;

	if (a->status_fd && (r = check_status_fd(a->status_fd)) < 0)
		return r;
	if ((r = ckpt_cli_check_common(&a->common, &a->o.empty_netns)) < 0)
		return r;
	if (a->pre_dump)
		return err_set(ENOTSUP, "pre-dump is not supported yet");
	if (a->parent_path)
		return check_parent_path(a);
	if (a->lazy_pages) {
		if (a->o.leave_running)
			return err_set(EINVAL, "--lazy-pages and --leave-running exclude each other");
		a->o.lazy_pages = true;
		return lazy_src_configure(a->page_server, a->status_fd ? atoi(a->status_fd) : -1);
	}
	if (a->page_server)
		return err_set(ENOTSUP, "--page-server without --lazy-pages (pushing pages to a remote "
					"page server) is not supported");
	return 0;
}

int cmd_checkpoint(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"checkpoint", "[command options] <container-id>",
		"Checkpoint a running container into an image directory; without "
		"--leave-running the container is destroyed afterwards.",
	};
	_cleanup_container_ struct container *c = NULL;
	struct ckpt_args a = { .o.image_dir = "checkpoint" };
	const struct opt opts[] = {
		{ "image-path", NULL, OPT_STR, &a.o.image_dir, "path for saving criu image files" },
		{ "work-path", NULL, OPT_STR, &a.o.work_dir, "path for saving work files and logs" },
		{ "parent-path", NULL, OPT_STR, &a.parent_path, "path for previous criu image files in pre-dump" },
		{ "leave-running", NULL, OPT_BOOL, &a.o.leave_running, "leave the process running after checkpointing" },
		{ "tcp-established", NULL, OPT_BOOL, &a.o.tcp_established, "allow open tcp connections" },
		{ "ext-unix-sk", NULL, OPT_BOOL, &a.o.ext_unix_sk, "allow external unix sockets" },
		{ "shell-job", NULL, OPT_BOOL, &a.o.shell_job, "allow shell jobs" },
		{ "lazy-pages", NULL, OPT_BOOL, &a.lazy_pages, "use userfaultfd to lazily restore memory pages" },
		{ "status-fd", NULL, OPT_STR, &a.status_fd, "criu writes \\0 to this FD once lazy-pages is ready" },
		{ "page-server", NULL, OPT_STR, &a.page_server, "ADDRESS:PORT of the page server" },
		{ "file-locks", NULL, OPT_BOOL, &a.o.file_locks, "handle file locks, for safety" },
		{ "pre-dump", NULL, OPT_BOOL, &a.pre_dump, "dump container's memory information only, leave the container running after this" },
		CKPT_CLI_COMMON_OPTS(a.common),
		{ NULL },
	};
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 1, 1)) >= 0)
		goto out;
	if ((r = check_args(&a)) < 0 || (r = container_load(g->root, argv[ind], &c)) < 0 ||
	    (r = container_checkpoint(c, &a.o)) < 0)
		r = cli_error(r);
	else
		r = 0;
out:
	opts_strv_free(&a.common.empty_ns);
	return r;
}
