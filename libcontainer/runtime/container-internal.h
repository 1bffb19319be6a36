/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the runtime's lifecycle files; not for the CLI. */
#ifndef SKUA_RUNTIME_CONTAINER_INTERNAL_H
#define SKUA_RUNTIME_CONTAINER_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "oci/config.h"
#include "runtime/container.h"

struct container *container_alloc(void);
/* Field 22 of /proc/PID/stat and the state letter (may be NULL). */
int proc_start_time(pid_t pid, unsigned long long *ret, char *ret_state);
/* The runtime-spec state hooks read on stdin, with the status of the moment. */
int container_hook_state_json(struct container *c, enum container_status s, char **ret);
/* Run the hooks of one kind with the state JSON on stdin; no hooks: 0. */
int container_run_hooks(struct container *c, const struct oci_config *cfg,
			enum oci_hook_kind kind, enum container_status s);
/* Write a pid file atomically, as runc does. */

#endif
