// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * process.user and noNewPrivileges. setup_user() switches ids with
 * PR_SET_KEEPCAPS so that the permitted set survives a switch away from
 * uid 0; setup_caps(), called next, then shapes the capability sets.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "runtime/setup.h"

/* A user namespace whose gid_map was written after setgroups "deny". */
static bool setgroups_denied(void)
{
	_cleanup_free_ char *s = NULL;

	if (read_file("/proc/self/setgroups", &s, NULL, 64) < 0)
		return false;
	return !strncmp(s, "deny", 4);
}

static int set_groups(const struct oci_user *u)
{
	gid_t *gids = NULL;
	_cleanup_free_ gid_t *buf = NULL;

	if (u->n_additional_gids) {
		buf = calloc(u->n_additional_gids, sizeof(gid_t));
		if (!buf)
			return -ENOMEM;
		for (size_t i = 0; i < u->n_additional_gids; i++)
			buf[i] = u->additional_gids[i];
		gids = buf;
	}
	if (setgroups(u->n_additional_gids, gids) == 0)
		return 0;
	/* no supplementary groups wanted and none allowed: nothing to drop */
	if (errno == EPERM && !u->n_additional_gids && setgroups_denied())
		return 0;
	return err_sys(errno, "setgroups (%zu additional gids)", u->n_additional_gids);
}

int setup_user(const struct oci_process *p)
{
	const struct oci_user *u = &p->user;
	int r;

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return err_sys(errno, "prctl(PR_SET_KEEPCAPS)");
	r = set_groups(u);
	if (r < 0)
		return r;
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return err_sys(errno, "setgid %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return err_sys(errno, "setuid %u", u->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return err_sys(errno, "prctl(PR_SET_KEEPCAPS, 0)");
	umask(u->has_umask ? u->umask & 0777 : 0022);
	return 0;
}

int setup_no_new_privs(const struct oci_process *p)
{
	if (!p->no_new_privileges)
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_sys(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	return 0;
}
