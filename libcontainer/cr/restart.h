/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How a thread caught inside a syscall resumes after restore. The dumper
 * rewrites the registers it stores so that restore only has to set them:
 * thread_core_entry.regs are FINAL (orig_ax is -1, no kernel restart logic
 * applies any more) and restart_kind tells what was done, for the log and
 * for tools. Restore must not rewind again.
 */
#ifndef SKUA_CR_RESTART_H
#define SKUA_CR_RESTART_H

#include <sys/user.h>

enum cr_restart_kind {
	CR_RESTART_NONE = 0,  /* not in a syscall, or it had finished */
	CR_RESTART_REDO = 1,  /* ip rewound to the syscall, ax = its number: it runs again */
	CR_RESTART_EINTR = 2, /* the syscall returns -EINTR (was -ERESTART_RESTARTBLOCK) */
};

/* Classify the registers of a thread at its interrupt stop and rewrite them
 * (a copy meant for the image) as the thread must resume. */
enum cr_restart_kind restart_fixup(struct user_regs_struct *regs);
const char *restart_kind_name(enum cr_restart_kind k);

#endif
