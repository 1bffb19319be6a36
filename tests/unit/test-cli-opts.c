// SPDX-License-Identifier: GPL-2.0-or-later
/* The CLI's option parser (Go flag spellings), signal names and id checks. */
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "tap.h"

#include "base/error.h"
#include "runtime/container.h"
/* the CLI is not in libskua.a: compile its two helpers in */
#include "src/cli.c"
#include "src/opts.c"

static const struct cmd_help h = { "test", "", "" };

struct parsed {
	bool d, leave;
	const char *pidfile;
	int n;
	struct opt_strv env;
};

static int parse(struct parsed *p, int *ind, int argc, char **argv)
{
	const struct opt opts[] = {
		{ "detach", "d", OPT_BOOL, &p->d, NULL },
		{ "leave-running", NULL, OPT_BOOL, &p->leave, NULL },
		{ "pid-file", NULL, OPT_STR, &p->pidfile, NULL },
		{ "preserve-fds", NULL, OPT_INT, &p->n, NULL },
		{ "env", "e", OPT_STRV, &p->env, NULL },
		{ NULL },
	};
	memset(p, 0, sizeof(*p));
	err_clear();
	return opts_parse(&h, opts, argc, argv, ind);
}

#define ARGV(...) (char *[]){ "test", __VA_ARGS__, NULL }
#define ARGC(...) ((int)(sizeof((char *[]){ "test", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(p, ind, ...) parse(p, ind, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

int main(void)
{
	struct parsed p;
	int ind, sig;

	is_int(PARSE(&p, &ind, "--pid-file", "/x", "id"), 0, "--opt value");
	is_str(p.pidfile, "/x", "value stored");
	is_int(ind, 3, "positional index after the value");
	is_int(PARSE(&p, &ind, "--pid-file=/y", "id"), 0, "--opt=value");
	is_str(p.pidfile, "/y", "value after =");
	is_int(PARSE(&p, &ind, "-pid-file", "/z", "-d", "id"), 0, "-opt value, short alias");
	ok(p.pidfile && streq(p.pidfile, "/z") && p.d, "single dash long name and -d");
	is_int(PARSE(&p, &ind, "--leave-running", "--leave-running", "id"), 0, "bool repeated");
	ok(p.leave, "repeated bool set");
	is_int(PARSE(&p, &ind, "--detach=false", "id"), 0, "bool =false");
	ok(!p.d, "bool cleared by =false");
	is_int(PARSE(&p, &ind, "--detach=maybe", "id"), -EINVAL, "bad bool value");
	is_int(PARSE(&p, &ind, "-x", "id"), -EINVAL, "unknown flag");
	is_str(err_msg(), "flag provided but not defined: -x", "Go's message for unknown flags");
	is_int(PARSE(&p, &ind, "--no-such", "id"), -EINVAL, "unknown long flag");
	is_str(err_msg(), "flag provided but not defined: -no-such", "named with one dash");
	is_int(PARSE(&p, &ind, "--pid-file"), -EINVAL, "missing value");
	is_str(err_msg(), "flag needs an argument: -pid-file", "Go's message for a missing value");
	is_int(PARSE(&p, &ind, "--preserve-fds", "2", "id"), 0, "int");
	is_int(p.n, 2, "int value");
	is_int(PARSE(&p, &ind, "--preserve-fds", "two", "id"), -EINVAL, "bad int");
	is_int(PARSE(&p, &ind, "-e", "A=1", "--env", "B=2", "--env=C=3", "id"), 0, "strv");
	ok(p.env.n == 3 && streq(p.env.v[2], "C=3") && !p.env.v[3], "strv values in order, NULL-terminated");
	opts_strv_free(&p.env);
	is_int(PARSE(&p, &ind, "id", "-d"), 0, "stops at the first positional");
	ok(!p.d && ind == 1, "flags after the id are arguments");
	is_int(PARSE(&p, &ind, "--", "-d"), 0, "-- ends the flags");
	ok(!p.d && ind == 2, "-d after -- is positional");

	is_int(cli_parse_signal("KILL", &sig), 0, "KILL");
	is_int(sig, SIGKILL, "KILL is 9");
	ok(cli_parse_signal("SIGTERM", &sig) == 0 && sig == SIGTERM, "SIGTERM");
	ok(cli_parse_signal("usr1", &sig) == 0 && sig == SIGUSR1, "lower case");
	ok(cli_parse_signal("10", &sig) == 0 && sig == 10, "number");
	ok(cli_parse_signal("SIGRTMIN+2", &sig) == 0 && sig == SIGRTMIN + 2, "RTMIN+2");
	ok(cli_parse_signal("NOPE", &sig) < 0, "unknown name");
	ok(cli_parse_signal("0", &sig) < 0 && cli_parse_signal("999", &sig) < 0, "out of range numbers");

	ok(container_validate_id("lc-abc_1.2+x") == 0, "valid id");
	ok(container_validate_id("a/b") < 0, "id with /");
	ok(container_validate_id("..") < 0 && container_validate_id(".") < 0, "dot ids");
	ok(container_validate_id("") < 0 && container_validate_id("a b") < 0, "empty and space");
	return done_testing();
}
