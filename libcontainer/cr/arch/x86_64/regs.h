/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKUA_CR_ARCH_REGS_H
#define SKUA_CR_ARCH_REGS_H

#include <sys/user.h>

#include "core.pb-c.h"

/* Copy every general register between the kernel's layout and the image's. */
void regs_to_entry(const struct user_regs_struct *r, X86RegsEntry *e);
void regs_from_entry(const X86RegsEntry *e, struct user_regs_struct *r);

#endif
