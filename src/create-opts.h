/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options create and run share. */
#ifndef SKUA_SRC_CREATE_OPTS_H
#define SKUA_SRC_CREATE_OPTS_H

#include "runtime/container.h"
#include "src/commands.h"

struct create_args {
	struct container_create_opts o;
	bool detach, no_subreaper, no_new_keyring, keep;
};

/* Parse create/run options and the id; returns -1 to go on, else an exit code. */
int create_args_parse(const struct cmd_help *h, bool run, int argc, char **argv,
		      struct global_opts *g, struct create_args *ret);

#endif
