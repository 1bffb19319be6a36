/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options checkpoint and restore share (runc's spellings and checks). */
#ifndef SKUA_SRC_CKPT_CLI_H
#define SKUA_SRC_CKPT_CLI_H

#include <stdbool.h>

#include "src/opts.h"

struct ckpt_cli_common {
	const char *manage_cgroups_mode; /* soft|full|strict|ignore */
	struct opt_strv empty_ns;        /* only "network" */
	bool auto_dedup;
};

#define CKPT_CLI_COMMON_OPTS(c)                                                                  \
	{ "manage-cgroups-mode", NULL, OPT_STR, &(c).manage_cgroups_mode,                        \
	  "cgroups mode: soft|full|strict|ignore (default: soft)" },                               \
	{ "empty-ns", NULL, OPT_STRV, &(c).empty_ns,                                             \
	  "create a namespace, but don't restore its properties" },                                \
	{ "auto-dedup", NULL, OPT_BOOL, &(c).auto_dedup, "enable auto deduplication of memory images" }

/* 0, or -EINVAL with runc's message; *ret_empty_netns for --empty-ns network. */
int ckpt_cli_check_common(const struct ckpt_cli_common *c, bool *ret_empty_netns);

#endif
