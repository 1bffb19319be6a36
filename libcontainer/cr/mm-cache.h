/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKUA_CR_MM_CACHE_H
#define SKUA_CR_MM_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mm.pb-c.h"

struct cr_mm_cache;

/* pid's VMAs from the early read if its maps lines are unchanged: 1; 0: no
 * usable early read (the caller reads smaps now); <0: error. */
int mm_cache_vmas(struct cr_mm_cache *c, pid_t pid, VmaEntry ***ret, size_t *ret_n);
/* Every early read the dump used, read again and compared, VmFlags
 * included: 0 if all are the same, else an error naming the task. */
int mm_cache_verify(struct cr_mm_cache *c);
/* Whether the VMA [start, end) of pid, taken from the early read, was at
 * least half resident then (and is large enough to matter). */
bool mm_cache_dense(struct cr_mm_cache *c, pid_t pid, uint64_t start, uint64_t end);

#endif
