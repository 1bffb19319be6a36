// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * process.capabilities, applied after setup_user() in this order:
 *
 *   1. effective := permitted: after a switch to a non-zero uid the kernel
 *      clears the effective set (PR_SET_KEEPCAPS keeps only permitted), and
 *      the next steps need CAP_SETPCAP in effective;
 *   2. drop from the bounding set every capability not listed in bounding;
 *   3. effective, permitted and inheritable set in one capset();
 *   4. ambient: cleared, then raised, which the kernel only allows for
 *      capabilities already in permitted and inheritable (hence after 3).
 *
 * Without a "capabilities" key nothing is changed, as with runc.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "runtime/setup.h"

static void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}
#define _cleanup_cap_ _cleanup_(cap_freep)

static bool in_list(const int *list, size_t n, int cap)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == cap)
			return true;
	return false;
}

static const char *cap_label(int cap, char *buf, size_t len)
{
	char *name = cap_to_name(cap);
	snprintf(buf, len, "%s", name ? name : "?");
	cap_free(name);
	return buf;
}

static int raise_effective(void)
{
	_cleanup_cap_ cap_t cur = cap_get_proc();
	cap_value_t max = cap_max_bits();

	if (!cur)
		return err_sys(errno, "reading capabilities");
	for (cap_value_t c = 0; c < max; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(cur, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			cap_set_flag(cur, CAP_EFFECTIVE, 1, &c, CAP_SET);
	}
	if (cap_set_proc(cur) < 0)
		return err_sys(errno, "raising the effective capabilities");
	return 0;
}

static int drop_bounding(const struct oci_caps *caps)
{
	cap_value_t max = cap_max_bits();
	char name[64];

	for (cap_value_t c = 0; c < max; c++) {
		if (in_list(caps->bounding, caps->n_bounding, c))
			continue;
		/* dropping one that is gone already succeeds: no read first
		 * (one prctl per capability instead of two), except where the
		 * drop is refused and the capability may not be there at all */
		if (cap_drop_bound(c) < 0) {
			int e = errno;
			if (cap_get_bound(c) > 0)
				return err_sys(e, "dropping %s from the bounding set",
					       cap_label(c, name, sizeof(name)));
		}
	}
	return 0;
}

static int add_flag(cap_t set, cap_flag_t flag, const int *list, size_t n)
{
	cap_value_t max = cap_max_bits();

	for (size_t i = 0; i < n; i++) {
		cap_value_t c = list[i];
		/* a capability this kernel does not know is ignored, as runc does */
		if (c < 0 || c >= max)
			continue;
		if (cap_set_flag(set, flag, 1, &c, CAP_SET) < 0)
			return -errno;
	}
	return 0;
}

static int set_sets(const struct oci_caps *caps)
{
	_cleanup_cap_ cap_t set = cap_init();

	if (!set)
		return -ENOMEM;
	if (add_flag(set, CAP_EFFECTIVE, caps->effective, caps->n_effective) < 0 ||
	    add_flag(set, CAP_PERMITTED, caps->permitted, caps->n_permitted) < 0 ||
	    add_flag(set, CAP_INHERITABLE, caps->inheritable, caps->n_inheritable) < 0)
		return err_sys(errno, "building the capability sets");
	if (cap_set_proc(set) < 0)
		return err_sys(errno, "setting effective/permitted/inheritable capabilities");
	return 0;
}

static int set_ambient(const struct oci_caps *caps)
{
	cap_value_t max = cap_max_bits();
	char name[64];

	/* one prctl; cap_reset_ambient() asks about every capability first */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_sys(errno, "clearing the ambient capabilities");
	for (size_t i = 0; i < caps->n_ambient; i++) {
		cap_value_t c = caps->ambient[i];
		if (c < 0 || c >= max)
			continue;
		/* runc ignores an ambient capability the kernel refuses (not in
		 * permitted+inheritable) rather than failing the container */
		if (cap_set_ambient(c, CAP_SET) < 0 && errno != EPERM)
			return err_sys(errno, "raising ambient %s", cap_label(c, name, sizeof(name)));
	}
	return 0;
}

int setup_caps(const struct oci_process *p)
{
	const struct oci_caps *caps = &p->caps;
	int r;

	if (!caps->present)
		return 0;
	if ((r = raise_effective()) < 0 || (r = drop_bounding(caps)) < 0 ||
	    (r = set_sets(caps)) < 0 || (r = set_ambient(caps)) < 0)
		return r;
	return 0;
}
