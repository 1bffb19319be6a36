// SPDX-License-Identifier: GPL-2.0-or-later
#include <signal.h>

#include "base/cleanup.h"
#include "runtime/container.h"
#include "src/commands.h"

int cmd_kill(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"kill", "[command options] <container-id> [signal]",
		"Send a signal (default SIGTERM) to the container's init, or with --all to every process.",
	};
	_cleanup_container_ struct container *c = NULL;
	bool all = false;
	const struct opt opts[] = {
		{ "all", "a", OPT_BOOL, &all, "send the signal to all processes in the container" },
		{ NULL },
	};
	int ind, r, sig = SIGTERM;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 1, 2)) >= 0)
		return r;
	if (argc - ind == 2 && (r = cli_parse_signal(argv[ind + 1], &sig)) < 0)
		return cli_error(r);
	r = container_load(g->root, argv[ind], &c);
	if (r >= 0)
		r = container_kill(c, sig, all);
	return r < 0 ? cli_error(r) : 0;
}
