/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI hooks: run each in order, the container state on its stdin. */
#ifndef SKUA_RUNTIME_HOOKS_H
#define SKUA_RUNTIME_HOOKS_H

#include <stddef.h>

#include "oci/config.h"

/*
 * Run hooks[0..n) one after the other: path executed with args (argv[0] from
 * args[0]; just the path when args is absent) and env (the caller's
 * environment when absent), state_json on stdin, stdout and stderr captured.
 * A hook still running at its timeout is killed. Stops at the first failure
 * and returns -errno with a message naming kind_name, the hook's index and
 * path, and its exit status and output.
 */
int hooks_run(const struct oci_hook *hooks, size_t n, const char *state_json, const char *kind_name);

#endif
