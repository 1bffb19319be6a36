// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

#include "base/cleanup.h"
#include "oci/spec.h"
#include "src/commands.h"

int cmd_features(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"features", "", "Print the features this runtime supports, as runtime-spec JSON.",
	};
	static const struct opt opts[] = { { NULL } };
	_cleanup_free_ char *json = NULL;
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 0, 0)) >= 0)
		return r;
	r = oci_features_json(&json);
	if (r < 0)
		return cli_error(r);
	printf("%s\n", json);
	return 0;
}
