// SPDX-License-Identifier: GPL-2.0-or-later
/* user_regs_struct <-> x86_regs_entry, field by field. */
#include "cr/arch/x86_64/regs.h"

#define REGS_FIELDS(X)                                                             \
	X(r15, r15) X(r14, r14) X(r13, r13) X(r12, r12) X(bp, rbp) X(bx, rbx)      \
	X(r11, r11) X(r10, r10) X(r9, r9) X(r8, r8) X(ax, rax) X(cx, rcx)          \
	X(dx, rdx) X(si, rsi) X(di, rdi) X(orig_ax, orig_rax) X(ip, rip) X(cs, cs) \
	X(flags, eflags) X(sp, rsp) X(ss, ss) X(fs_base, fs_base)                  \
	X(gs_base, gs_base) X(ds, ds) X(es, es) X(fs, fs) X(gs, gs)

void regs_to_entry(const struct user_regs_struct *r, X86RegsEntry *e)
{
#define TO(pb, u) e->pb = r->u;
	REGS_FIELDS(TO)
#undef TO
}

void regs_from_entry(const X86RegsEntry *e, struct user_regs_struct *r)
{
#define FROM(pb, u) r->u = e->pb;
	REGS_FIELDS(FROM)
#undef FROM
}
