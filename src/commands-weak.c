// SPDX-License-Identifier: GPL-2.0-or-later
/* Defaults for commands whose files other engineers write; their strong
 * definitions replace these at link time. */
#include <stdio.h>

#include "src/commands.h"

#define WEAK_CMD(fn, name)                                                     \
	__attribute__((weak)) int fn(int argc, char **argv, struct global_opts *g) \
	{                                                                      \
		fprintf(stderr, "%s: not implemented yet\n", name);            \
		return 1;                                                      \
	}

WEAK_CMD(cmd_checkpoint, "checkpoint")
WEAK_CMD(cmd_restore, "restore")
WEAK_CMD(cmd_lazy_pages, "lazy-pages")
WEAK_CMD(cmd_engine, "engine")
