// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/spec.h"
#include "src/commands.h"

int cmd_spec(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"spec", "[command options]",
		"Write a default config.json into the bundle directory (default: the current one).",
	};
	const char *bundle = NULL;
	bool rootless = false;
	const struct opt opts[] = {
		{ "bundle", "b", OPT_STR, &bundle, "path to the root of the bundle directory" },
		{ "rootless", NULL, OPT_BOOL, &rootless, "accepted; a rootless template is not generated" },
		{ NULL },
	};
	_cleanup_free_ char *text = NULL, *path = NULL;
	_cleanup_close_ int fd = -1;
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 0, 0)) >= 0)
		return r;
	if (asprintf(&path, "%s/config.json", bundle ? bundle : ".") < 0)
		return cli_error(-ENOMEM);
	r = oci_spec_default(&text);
	if (r < 0)
		return cli_error(r);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST) {
		err_set(EEXIST, "File %s exists. Remove it first", path);
		return cli_error(-EEXIST);
	}
	if (fd < 0) {
		err_sys(errno, "creating %s", path);
		return cli_error(-errno);
	}
	r = write_full(fd, text, strlen(text));
	if (r == 0)
		r = write_full(fd, "\n", 1);
	if (r < 0) {
		err_sys(-r, "writing %s", path);
		return cli_error(r);
	}
	return 0;
}
