// SPDX-License-Identifier: GPL-2.0-or-later
#include "base/cleanup.h"
#include "runtime/container.h"
#include "src/commands.h"

int cmd_pause(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"pause", "<container-id>", "Freeze every process of the container (cgroup freezer).",
	};
	static const struct opt opts[] = { { NULL } };
	_cleanup_container_ struct container *c = NULL;
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 1, 1)) >= 0)
		return r;
	r = container_load(g->root, argv[ind], &c);
	if (r >= 0)
		r = container_pause(c);
	return r < 0 ? cli_error(r) : 0;
}
