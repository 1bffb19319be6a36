/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKUA_RUNTIME_CKPT_WAKE_H
#define SKUA_RUNTIME_CKPT_WAKE_H

#include <stddef.h>

#include "cgroups/cgroup.h"

struct ckpt_wake {
	size_t threads;  /* threads that were asleep and were woken */
	size_t running;  /* of them, still running at the deadline */
	double ms;       /* from the freeze until all were asleep again */
};

/* Let every sleeping task of the container return to user mode once, just
 * before the freeze of a lazy checkpoint (ckpt-wake.c says why), and wait
 * until they sleep again. Off with SKUA_LAZY_PREWAKE=0 (returns 0, nothing
 * done, *ret zeroed). */
int ckpt_wake_before_freeze(struct cgroup *cg, struct ckpt_wake *ret);

#endif
