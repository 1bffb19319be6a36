/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Buffers whose pages are in place before the first use. */
#ifndef SKUA_BASE_MEM_H
#define SKUA_BASE_MEM_H

#include <stddef.h>

/* Populates and writes once (zeros) the first len bytes at p. */
void mem_prefault(void *p, size_t len);
/* malloc(len) with its first `hot` bytes (all if hot >= len) populated and
 * written once, so that no page fault lands on the path that uses them.
 * Free with free(). NULL on ENOMEM. */
void *mem_alloc_hot(size_t len, size_t hot);

#endif
