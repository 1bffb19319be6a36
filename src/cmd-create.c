// SPDX-License-Identifier: GPL-2.0-or-later
#include "base/cleanup.h"
#include "base/error.h"
#include "src/create-opts.h"

int create_args_parse(const struct cmd_help *h, bool run, int argc, char **argv,
		      struct global_opts *g, struct create_args *a)
{
	const char *ignored = NULL;
	struct opt opts[] = {
		{ "bundle", "b", OPT_STR, &a->o.bundle, "path to the root of the bundle directory" },
		{ "console-socket", NULL, OPT_STR, &a->o.console_socket,
		  "path to an AF_UNIX socket which will receive the pty master" },
		{ "pid-file", NULL, OPT_STR, &a->o.pid_file, "file to write the process id to" },
		{ "no-pivot", NULL, OPT_BOOL, &a->o.no_pivot, "do not use pivot root to jail process inside rootfs" },
		{ "no-new-keyring", NULL, OPT_BOOL, &a->no_new_keyring, "do not create a new session keyring" },
		{ "preserve-fds", NULL, OPT_INT, &a->o.preserve_fds, "pass N additional file descriptors to the container" },
		{ "notify-socket", NULL, OPT_STR, &ignored, "accepted, ignored" },
		/* run only, from here */
		{ "detach", "d", OPT_BOOL, &a->detach, "detach from the container's process" },
		{ "keep", NULL, OPT_BOOL, &a->keep, "do not delete the container after it exits" },
		{ "no-subreaper", NULL, OPT_BOOL, &a->no_subreaper, "disable the use of the subreaper" },
		{ NULL },
	};
	int ind, r;

	if (!run)
		opts[ARRAY_SIZE(opts) - 4] = (struct opt){ NULL };
	r = cli_parse(h, opts, argc, argv, &ind);
	if (r >= 0)
		return r;
	r = cli_want_args(h, argc, ind, 1, 1);
	if (r >= 0)
		return r;
	if (a->o.preserve_fds < 0) {
		err_set(EINVAL, "--preserve-fds: must not be negative");
		return cli_error(-EINVAL);
	}
	a->o.id = argv[ind];
	a->o.systemd_cgroup = g->systemd_cgroup;
	return -1;
}

int cmd_create(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"create", "[command options] <container-id>",
		"Create a container from the bundle's config.json; `start` runs its process.",
	};
	_cleanup_container_ struct container *c = NULL;
	struct create_args a = { 0 };
	int r;

	r = create_args_parse(&h, false, argc, argv, g, &a);
	if (r >= 0)
		return r;
	r = container_create(g->root, &a.o, &c);
	if (r < 0)
		return cli_error(r);
	return 0;
}
