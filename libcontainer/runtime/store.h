/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state directory of a container and its state.json (internal to runtime/). */
#ifndef SKUA_RUNTIME_STORE_H
#define SKUA_RUNTIME_STORE_H

#include "runtime/container.h"

#define STORE_STATE_FILE "state.json"
#define STORE_EXEC_FIFO "exec.fifo"

/* Make <root>/<id> (the root too if needed), lock it; fills c->root/id/dir/lock_fd.
 * An existing id: "container with id exists: ID". */
int store_create(struct container *c, const char *root, const char *id);
/* Open and lock <root>/<id> and read its state.json into c. */
int store_open(struct container *c, const char *root, const char *id);
/* Write state.json atomically. */
int store_save(const struct container *c);
/* Remove the state directory and everything in it. */
int store_remove(const struct container *c);
/* "<dir>/<name>" (malloc'd). */
char *store_path(const struct container *c, const char *name);

#endif
