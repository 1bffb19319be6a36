/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Buffers whose pages are in place before the first use. */
#ifndef SKUA_BASE_MEM_H
#define SKUA_BASE_MEM_H

#include <stddef.h>

/* Populates and writes once (zeros) the len bytes at p, so that no page
 * fault lands on the path that uses them later. */
void mem_prefault(void *p, size_t len);

#endif
