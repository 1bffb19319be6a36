/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKUA_CR_SIGSTATE_H
#define SKUA_CR_SIGSTATE_H

#include "core.pb-c.h"
#include "cr/dump-internal.h"

/* Process-wide signal and timer state into core: sigactions (1..64 but
 * SIGKILL/SIGSTOP), shared pending signals, itimers, POSIX timers. inj is a
 * session on the stopped main thread. */
int sigstate_dump(const struct dtask *t, struct dump_inject *inj, TaskCoreEntry *core);

#endif
