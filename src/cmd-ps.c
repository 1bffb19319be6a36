// SPDX-License-Identifier: GPL-2.0-or-later
#include "src/commands.h"
#include <stdio.h>

int cmd_ps(int argc, char **argv, struct global_opts *g)
{
	fprintf(stderr, "ps: not implemented yet\n");
	return 1;
}
