/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKUA_CR_THREAD_H
#define SKUA_CR_THREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core.pb-c.h"
#include "cr/dump-internal.h"

/* One thread's entry for core-<pid>.img; the thread is ptrace-stopped.
 * Notes its stack pointer and rseq area in th. */
int thread_dump(struct dump_ctx *ctx, const struct dtask *t, struct dthread *th,
		ThreadCoreEntry **ret);
/* Pending signals: the thread's own queue, or (shared) its process's. */
int thread_peek_siginfo(pid_t tid, bool shared, SiginfoEntry ***ret, size_t *ret_n);

#endif
