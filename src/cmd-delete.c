// SPDX-License-Identifier: GPL-2.0-or-later
#include "base/cleanup.h"
#include "runtime/container.h"
#include "src/commands.h"

int cmd_delete(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"delete", "[command options] <container-id>",
		"Delete a stopped container (with --force, any): its processes, cgroup and state.",
	};
	_cleanup_container_ struct container *c = NULL;
	bool force = false;
	const struct opt opts[] = {
		{ "force", "f", OPT_BOOL, &force, "forcibly delete the container if it is still running (uses SIGKILL)" },
		{ NULL },
	};
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 1, 1)) >= 0)
		return r;
	r = container_load(g->root, argv[ind], &c);
	/* runc: deleting a missing container with --force is not an error */
	if (r == -ENOENT && force)
		return 0;
	if (r == -ENOMSG && force)
		r = container_remove_stale(g->root, argv[ind]);
	else if (r >= 0)
		r = container_delete(c, force);
	return r < 0 ? cli_error(r) : 0;
}
