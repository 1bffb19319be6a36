/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private: the seccomp agent's socket, reached before pivot_root hides it. */
#ifndef SKUA_RUNTIME_SECCOMP_H
#define SKUA_RUNTIME_SECCOMP_H

#include "oci/config.h"

/*
 * If the config has a linux.seccomp.listenerPath, connect to it now (a host
 * path, out of reach after pivot_root) and keep the socket for
 * setup_seccomp(), which sends the notify fd through it.
 */
int seccomp_listener_preconnect(const struct oci_config *c);

#endif
