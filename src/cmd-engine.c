// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `skua engine dump|restore|show`: the checkpoint/restore engine on a plain
 * process tree, without containers. The engine's own tests use it; it is
 * also a handy tool (`show` is our crit).
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cr/cr.h"
#include "cr/show.h"
#include "src/commands.h"

#define ENGINE_DEFAULT_IMAGE_DIR "./checkpoint"

static int engine_dump(int argc, char **argv)
{
	static const struct cmd_help h = {
		"engine dump", "--pid PID [--image-path DIR] [--work-path DIR] [--leave-running]",
		"Checkpoint the process tree rooted at PID into DIR (default ./checkpoint).",
	};
	struct cr_dump_opts o = { .image_dir = ENGINE_DEFAULT_IMAGE_DIR };
	int pid = 0;
	const struct opt opts[] = {
		{ "pid", NULL, OPT_INT, &pid, "root of the tree to dump (required)" },
		{ "image-path", NULL, OPT_STR, &o.image_dir, "directory for the images (created if absent)" },
		{ "work-path", NULL, OPT_STR, &o.work_dir, "directory for dump.log and stats-dump" },
		{ "leave-running", NULL, OPT_BOOL, &o.leave_running, "leave the tree running after the dump" },
		{ "tcp-established", NULL, OPT_BOOL, &o.tcp_established, "allow established TCP connections" },
		{ "ext-unix-sk", NULL, OPT_BOOL, &o.ext_unix_sk, "allow external unix sockets" },
		{ "shell-job", NULL, OPT_BOOL, &o.shell_job, "allow a shell job (controlling tty)" },
		{ "file-locks", NULL, OPT_BOOL, &o.file_locks, "allow file locks" },
		{ NULL },
	};
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 0, 0)) >= 0)
		return r;
	if (pid <= 0)
		return cli_error(err_set(EINVAL, "engine dump: --pid PID is required"));
	o.pid = pid;
	r = cr_dump(&o);
	return r < 0 ? cli_error(r) : 0;
}

/* Our stdin/stdout/stderr stand in for the objects the root's fds 0-2 were
 * when they came from outside the tree, as runc hands its own stdio on. */
static int engine_stdio_externals(const char *image_dir, char *keys[3], struct cr_external ext[3],
				  size_t *ret_n)
{
	size_t n = 0;
	int r = show_root_stdio_keys(image_dir, keys);
	if (r < 0)
		return r;
	for (int i = 0; i < 3; i++)
		if (keys[i])
			ext[n++] = (struct cr_external){ .key = keys[i], .fd = i };
	*ret_n = n;
	return 0;
}

static int engine_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static int engine_restore(int argc, char **argv)
{
	static const struct cmd_help h = {
		"engine restore", "[--image-path DIR] [--work-path DIR] [-d] [--pid-file F]",
		"Restore the process tree checkpointed in DIR (default ./checkpoint). Without -d, "
		"wait for its root and exit with its exit code.",
	};
	struct cr_restore_opts o = { .image_dir = ENGINE_DEFAULT_IMAGE_DIR };
	const char *pid_file = NULL;
	const struct opt opts[] = {
		{ "image-path", NULL, OPT_STR, &o.image_dir, "directory holding the images" },
		{ "work-path", NULL, OPT_STR, &o.work_dir, "directory for restore.log and stats-restore" },
		{ "detach", "d", OPT_BOOL, &o.detach, "return once the tree runs" },
		{ "pid-file", NULL, OPT_STR, &pid_file, "write the root's pid here (with -d)" },
		{ "tcp-established", NULL, OPT_BOOL, &o.tcp_established, "restore established TCP connections" },
		{ "ext-unix-sk", NULL, OPT_BOOL, &o.ext_unix_sk, "allow external unix sockets" },
		{ "shell-job", NULL, OPT_BOOL, &o.shell_job, "allow a shell job (controlling tty)" },
		{ "file-locks", NULL, OPT_BOOL, &o.file_locks, "restore file locks" },
		{ NULL },
	};
	char *keys[3] = { NULL, NULL, NULL };
	struct cr_external ext[3];
	pid_t root = 0;
	int ind, r, status = 0;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 0, 0)) >= 0)
		return r;
	/* without -d the call returns only when the root has exited: too late
	 * for a pid file anyone could use */
	if (pid_file && !o.detach)
		return cli_error(err_set(EINVAL, "engine restore: --pid-file needs -d"));

	r = engine_stdio_externals(o.image_dir, keys, ext, &o.n_externals);
	if (r >= 0) {
		o.externals = ext;
		r = cr_restore(&o, &root, &status);
	}
	for (int i = 0; i < 3; i++)
		free(keys[i]);
	if (r >= 0 && pid_file)
		r = write_pid_file(pid_file, root);
	if (r < 0)
		return cli_error(r);
	return o.detach ? 0 : engine_exit_code(status);
}

static int engine_show(int argc, char **argv)
{
	static const struct cmd_help h = {
		"engine show", "[--image-path DIR]",
		"Print every image in DIR (default ./checkpoint) as one JSON object.",
	};
	const char *image_dir = ENGINE_DEFAULT_IMAGE_DIR;
	const struct opt opts[] = {
		{ "image-path", NULL, OPT_STR, &image_dir, "directory holding the images" },
		{ NULL },
	};
	_cleanup_free_ char *json = NULL;
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 0, 0)) >= 0)
		return r;
	r = show_images_json(image_dir, &json);
	if (r < 0)
		return cli_error(r);
	fputs(json, stdout);
	if (!*json || json[strlen(json) - 1] != '\n')
		putchar('\n');
	return fflush(stdout) == 0 ? 0 : cli_error(err_sys(errno, "writing the JSON"));
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *desc;
} engine_cmds[] = {
	{ "dump", engine_dump, "checkpoint a process tree" },
	{ "restore", engine_restore, "restore a process tree" },
	{ "show", engine_show, "print images as JSON" },
};

static void engine_usage(FILE *f)
{
	fprintf(f, "usage: skua engine <command> [options]\n\n"
		   "The checkpoint/restore engine on a plain process tree.\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(engine_cmds); i++)
		fprintf(f, "   %-10s %s\n", engine_cmds[i].name, engine_cmds[i].desc);
}

int cmd_engine(int argc, char **argv, struct global_opts *g)
{
	if (argc < 2) {
		engine_usage(stderr);
		return cli_error(err_set(EINVAL, "engine: a command is required (dump, restore, show)"));
	}
	const char *sub = argv[1];
	if (streq(sub, "-h") || streq(sub, "--help") || streq(sub, "-help") || streq(sub, "help")) {
		engine_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(engine_cmds); i++)
		if (streq(engine_cmds[i].name, sub))
			return engine_cmds[i].fn(argc - 1, argv + 1);
	engine_usage(stderr);
	return cli_error(err_set(EINVAL, "engine: unknown command '%s'", sub));
}
