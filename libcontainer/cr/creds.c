// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cr/creds.h"
#include "cr/proc-parse.h"
#include "cr/ptrace.h"

/*
 * /proc/PID/status shows ids as our (the host's) user namespace sees them;
 * restore sets them from inside the tree's own user namespace, so the image
 * holds them as the task's namespace sees them. The map read from the host
 * has "inside outside count" lines with outside in our namespace.
 */
struct id_map {
	uint32_t inside[340], outside[340], count[340]; /* the kernel's limit */
	size_t n;
};

static int id_map_read(pid_t pid, const char *file, struct id_map *m)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	int r = read_file(path, &buf, NULL, 64 << 10);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	m->n = 0;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		unsigned long in, out, cnt;
		if (sscanf(line, "%lu %lu %lu", &in, &out, &cnt) != 3 || m->n >= 340)
			return err_set(EINVAL, "%s: unexpected line \"%s\"", path, line);
		m->inside[m->n] = in;
		m->outside[m->n] = out;
		m->count[m->n++] = cnt;
	}
	return 0;
}

static int id_map_in(const struct id_map *m, uint32_t host, const char *what, pid_t pid,
		     uint32_t *ret)
{
	for (size_t i = 0; i < m->n; i++)
		if (host >= m->outside[i] && host - m->outside[i] < m->count[i]) {
			*ret = host - m->outside[i] + m->inside[i];
			return 0;
		}
	return err_set(EOVERFLOW, "%s %u of pid %d is not mapped in its user namespace (it could "
				  "not be set back there)", what, host, pid);
}

static int fill(CredsEntry *c, struct proc_status *st, pid_t pid)
{
	struct id_map um, gm;
	int r;

	if ((r = id_map_read(pid, "uid_map", &um)) < 0 || (r = id_map_read(pid, "gid_map", &gm)) < 0)
		return r;
	if ((r = id_map_in(&um, st->uid[0], "uid", pid, &c->uid)) < 0 ||
	    (r = id_map_in(&um, st->uid[1], "euid", pid, &c->euid)) < 0 ||
	    (r = id_map_in(&um, st->uid[2], "suid", pid, &c->suid)) < 0 ||
	    (r = id_map_in(&um, st->uid[3], "fsuid", pid, &c->fsuid)) < 0 ||
	    (r = id_map_in(&gm, st->gid[0], "gid", pid, &c->gid)) < 0 ||
	    (r = id_map_in(&gm, st->gid[1], "egid", pid, &c->egid)) < 0 ||
	    (r = id_map_in(&gm, st->gid[2], "sgid", pid, &c->sgid)) < 0 ||
	    (r = id_map_in(&gm, st->gid[3], "fsgid", pid, &c->fsgid)) < 0)
		return r;
	for (size_t i = 0; i < st->n_groups; i++)
		if ((r = id_map_in(&gm, st->groups[i], "supplementary group", pid, &st->groups[i])) < 0)
			return r;
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
	return 0;
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
	r = fill(c, &st, t->pid);
	proc_status_free(&st);
	if (r < 0) {
		protobuf_c_message_free_unpacked(&c->base, NULL);
		return r;
	}

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
