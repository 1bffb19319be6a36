// SPDX-License-Identifier: GPL-2.0-or-later
/* ps: the container's processes, as the host's ps(1) shows them (runc's way),
 * or as a JSON array of pids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "runtime/container.h"
#include "src/commands.h"

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Which whitespace-separated column of the header is "PID". */
static int pid_column(const char *header)
{
	_cleanup_free_ char *h = strdup(header);
	char *save = NULL, *tok;
	int col = 0;

	for (tok = h ? strtok_r(h, " \t\n", &save) : NULL; tok; tok = strtok_r(NULL, " \t\n", &save), col++)
		if (streq(tok, "PID"))
			return col;
	return -1;
}

static long column_value(const char *line, int col)
{
	_cleanup_free_ char *l = strdup(line);
	char *save = NULL, *tok = l ? strtok_r(l, " \t\n", &save) : NULL;

	for (int i = 0; tok && i < col; i++)
		tok = strtok_r(NULL, " \t\n", &save);
	return tok ? strtol(tok, NULL, 10) : -1;
}

static int ps_table(const pid_t *pids, size_t n, char **ps_args, int nargs)
{
	_cleanup_free_ char *cmd = strdup("ps");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int col = -1;

	/* the user's ps options are passed as separate words, shell-quoted */
	if (!cmd)
		return -ENOMEM;
	for (int i = 0; i < (nargs ? nargs : 1); i++) {
		const char *a = nargs ? ps_args[i] : "-ef";
		char *nc;
		if (strchr(a, '\''))
			return err_set(EINVAL, "ps: option with a quote: %s", a);
		if (asprintf(&nc, "%s '%s'", cmd, a) < 0)
			return -ENOMEM;
		free(cmd);
		cmd = nc;
	}
	f = popen(cmd, "re");
	if (!f)
		return err_sys(errno, "running %s", cmd);
	while (getline(&line, &cap, f) > 0) {
		if (col < 0) {
			col = pid_column(line);
			fputs(line, stdout);
			if (col < 0) {
				pclose(f);
				return err_set(EINVAL, "couldn't find PID field in ps output");
			}
			continue;
		}
		if (has_pid(pids, n, column_value(line, col)))
			fputs(line, stdout);
	}
	if (pclose(f) != 0)
		return err_set(EIO, "%s failed", cmd);
	return 0;
}

int cmd_ps(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"ps", "[command options] <container-id> [ps options]",
		"Display the processes running inside a container.",
	};
	const char *format = "table";
	const struct opt opts[] = {
		{ "format", "f", OPT_STR, &format, "select one of: table or json (default: \"table\")" },
		{ NULL },
	};
	_cleanup_container_ struct container *c = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 1, -1)) >= 0)
		return r;
	if (!streq(format, "table") && !streq(format, "json")) {
		err_set(EINVAL, "invalid format option");
		return cli_error(-EINVAL);
	}
	r = container_load(g->root, argv[ind], &c);
	if (r >= 0)
		r = container_pids(c, &pids, &n);
	if (r < 0)
		return cli_error(r);
	if (streq(format, "json")) {
		putchar('[');
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		return 0;
	}
	r = ps_table(pids, n, argv + ind + 1, argc - ind - 1);
	return r < 0 ? cli_error(r) : 0;
}
