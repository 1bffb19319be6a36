/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKUA_CR_CREDS_H
#define SKUA_CR_CREDS_H

#include "core.pb-c.h"
#include "cr/dump-internal.h"

/* Ids, groups, capabilities, no_new_privs (from /proc/PID/status) and
 * securebits (a prctl injected through inj, a session on the main thread). */
int creds_dump(const struct dtask *t, struct dump_inject *inj, CredsEntry **ret);

#endif
