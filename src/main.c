// SPDX-License-Identifier: GPL-2.0-or-later
/* skua: global options, then one command. */
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "src/commands.h"

static const struct {
	const char *name;
	cmd_fn fn;
	const char *summary;
} commands[] = {
	{ "checkpoint", cmd_checkpoint, "checkpoint a running container" },
	{ "create", cmd_create, "create a container" },
	{ "delete", cmd_delete, "delete any resources held by the container" },
	{ "engine", cmd_engine, "run the checkpoint/restore engine directly" },
	{ "exec", cmd_exec, "execute new process inside the container" },
	{ "features", cmd_features, "show the enabled features" },
	{ "kill", cmd_kill, "kill sends the specified signal to the container's init process" },
	{ "lazy-pages", cmd_lazy_pages, "serve or fetch memory pages of a lazy restore" },
	{ "list", cmd_list, "lists containers started by skua with the given root" },
	{ "pause", cmd_pause, "pause suspends all processes inside the container" },
	{ "ps", cmd_ps, "ps displays the processes running inside a container" },
	{ "restore", cmd_restore, "restore a container from a previous checkpoint" },
	{ "resume", cmd_resume, "resumes all processes that have been previously paused" },
	{ "run", cmd_run, "create and run a container" },
	{ "spec", cmd_spec, "create a new specification file" },
	{ "start", cmd_start, "executes the user defined process in a created container" },
	{ "state", cmd_state, "output the state of a container" },
	{ "update", cmd_update, "update container resource constraints" },
};

static const struct cmd_help help = {
	"", "[global options] command [command options] [arguments...]",
	"skua is an OCI container runtime with its own checkpoint/restore engine.",
};

static void usage(FILE *f, const struct opt *opts)
{
	opts_usage(f, &help, opts);
	fprintf(f, "\nCOMMANDS:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "   %-12s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
	/* the work-dir logs count from here: what comes before a log opens */
	log_clock_start();
	struct global_opts g = { .root = "/run/skua", .log_format = "text" };
	bool version = false;
	const struct opt opts[] = {
		{ "root", NULL, OPT_STR, &g.root, "root directory for storage of container state" },
		{ "log", NULL, OPT_STR, &g.log, "set the log file to write skua logs to" },
		{ "log-format", NULL, OPT_STR, &g.log_format, "set the log format ('text' (default), or 'json')" },
		{ "debug", NULL, OPT_BOOL, &g.debug, "enable debug logging" },
		{ "systemd-cgroup", NULL, OPT_BOOL, &g.systemd_cgroup, "treat cgroupsPath as slice:prefix:name" },
		{ "criu", NULL, OPT_STR, &g.criu, "accepted for runc compatibility, ignored" },
		{ "rootless", NULL, OPT_STR, &g.rootless, "accepted for runc compatibility, ignored" },
		{ "version", "v", OPT_BOOL, &version, "print the version" },
		{ NULL },
	};
	int ind, r;

	r = opts_parse(&help, opts, argc, argv, &ind);
	if (r == OPTS_HELP)
		return 0;
	if (r < 0) {
		fprintf(stderr, "%s\n", err_msg());
		return 1;
	}
	if (version) {
		printf("skua version 0.1.0\nspec: 1.0.2-dev\n");
		return 0;
	}
	if (!streq(g.log_format, "text") && !streq(g.log_format, "json")) {
		fprintf(stderr, "invalid log-format: %s\n", g.log_format);
		return 1;
	}
	r = log_open(g.log, streq(g.log_format, "json"), g.debug);
	if (r < 0) {
		fprintf(stderr, "opening log file %s: %s\n", g.log, strerror(-r));
		return 1;
	}
	if (ind >= argc) {
		usage(stdout, opts);
		return 0;
	}
	if (streq(argv[ind], "help")) {
		/* "skua help CMD" is "skua CMD --help" */
		for (size_t i = 0; ind + 1 < argc && i < ARRAY_SIZE(commands); i++)
			if (streq(commands[i].name, argv[ind + 1]))
				return commands[i].fn(2, (char *[]){ argv[ind + 1], "--help", NULL }, &g);
		usage(stdout, opts);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(commands[i].name, argv[ind]))
			return commands[i].fn(argc - ind, argv + ind, &g);
	err_set(EINVAL, "No help topic for '%s'", argv[ind]);
	return cli_error(-EINVAL);
}
