/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKUA_CR_PAGES_H
#define SKUA_CR_PAGES_H

#include "cr/dump-internal.h"
#include "mm.pb-c.h"

/* pagemap-<pid>.img and pages-<pid>.img for the VMAs of mm. */
int pages_dump(struct dump_ctx *ctx, const struct dtask *t, const MmEntry *mm);

#endif
