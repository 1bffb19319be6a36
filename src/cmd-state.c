// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "runtime/container.h"
#include "src/commands.h"

int cmd_state(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"state", "<container-id>", "Output the state of a container as JSON.",
	};
	static const struct opt opts[] = { { NULL } };
	_cleanup_container_ struct container *c = NULL;
	_cleanup_free_ char *json = NULL;
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 1, 1)) >= 0)
		return r;
	r = container_load(g->root, argv[ind], &c);
	if (r >= 0)
		r = container_state_json(c, &json);
	if (r < 0)
		return cli_error(r);
	fputs(json, stdout);
	if (!*json || json[strlen(json) - 1] != '\n')
		putchar('\n');
	return 0;
}
