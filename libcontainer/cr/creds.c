// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "base/error.h"
#include "cr/creds.h"
#include "cr/proc-parse.h"
#include "cr/ptrace.h"

static void fill(CredsEntry *c, struct proc_status *st)
{
	c->uid = st->uid[0];
	c->euid = st->uid[1];
	c->suid = st->uid[2];
	c->fsuid = st->uid[3];
	c->gid = st->gid[0];
	c->egid = st->gid[1];
	c->sgid = st->gid[2];
	c->fsgid = st->gid[3];
	c->groups = st->groups; /* ownership moves to the entry */
	c->n_groups = st->n_groups;
	st->groups = NULL;
	st->n_groups = 0;
	c->cap_inh = st->cap_inh;
	c->cap_prm = st->cap_prm;
	c->cap_eff = st->cap_eff;
	c->cap_bnd = st->cap_bnd;
	c->has_cap_amb = true;
	c->cap_amb = st->cap_amb;
	c->has_no_new_privs = true;
	c->no_new_privs = st->no_new_privs;
}

int creds_dump(const struct dtask *t, struct dump_inject *inj, CredsEntry **ret)
{
	struct proc_status st;
	unsigned long args[6] = { PR_GET_SECUREBITS };
	long bits;

	int r = proc_parse_status(t->pid, &st);
	if (r < 0)
		return r;
	CredsEntry *c = malloc(sizeof(*c));
	if (!c) {
		proc_status_free(&st);
		return err_set(ENOMEM, "out of memory");
	}
	creds_entry__init(c);
	fill(c, &st);
	proc_status_free(&st);

	r = dump_inject_call(inj, SYS_prctl, args, &bits);
	if (r < 0 || bits < 0) {
		protobuf_c_message_free_unpacked(&c->base, NULL);
		return r < 0 ? err_wrap(r, "PR_GET_SECUREBITS")
			     : err_sys((int)-bits, "PR_GET_SECUREBITS in %d", t->pid);
	}
	c->has_securebits = true;
	c->securebits = bits;
	*ret = c;
	return 0;
}
