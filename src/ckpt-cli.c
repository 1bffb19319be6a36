// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "src/ckpt-cli.h"

int ckpt_cli_check_common(const struct ckpt_cli_common *c, bool *ret_empty_netns)
{
	static const char *const modes[] = { "soft", "full", "strict", "ignore" };
	bool ok = !c->manage_cgroups_mode;

	for (size_t i = 0; !ok && i < ARRAY_SIZE(modes); i++)
		ok = streq(c->manage_cgroups_mode, modes[i]);
	if (!ok)
		return err_set(EINVAL, "invalid manage cgroups mode: %s", c->manage_cgroups_mode);
	for (size_t i = 0; i < c->empty_ns.n; i++)
		if (!streq(c->empty_ns.v[i], "network"))
			return err_set(EINVAL, "--empty-ns %s: only \"network\" is supported",
				       c->empty_ns.v[i]);
	*ret_empty_netns = c->empty_ns.n > 0;
	return 0;
}
