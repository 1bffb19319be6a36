/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container init: the child side of create (runtime/spawn.c draws the protocol). */
#ifndef SKUA_RUNTIME_INIT_H
#define SKUA_RUNTIME_INIT_H

#include <stdbool.h>

#include "oci/config.h"
#include "runtime/container.h"

struct init_ctx {
	struct container *c;            /* the parent's view (for hook state) */
	const struct oci_config *cfg;
	const struct container_create_opts *o;
	int sync_fd;    /* child end of the sync socket */
	int fifo_fd;    /* O_PATH fd of <statedir>/exec.fifo; -1 with o->init_fn */
	int console_fd; /* connected console socket, -1 without a terminal */
	bool new_userns;
};

/* Whether create pauses the init for prestart/createRuntime hooks (the
 * HOOKS/HOOKS_DONE exchange); both sides decide from the config alone. */
bool init_wants_hooks_pause(const struct oci_config *cfg);

/* Never returns. */
_Noreturn void init_main(struct init_ctx *ctx);

/* Find `file` in the PATH of env (NULL-terminated "K=V" list) the way
 * execvp would, in the current root; a name containing '/' is checked as is. */
int init_lookup_path(const char *file, char *const *env, char **ret);

/* user, capabilities, no_new_privs and the seccomp filter (NULL: none),
 * in the order runc uses; for the init and for exec'd processes. */
int init_drop_privileges(const struct oci_process *p, const struct oci_seccomp *seccomp);

#endif
