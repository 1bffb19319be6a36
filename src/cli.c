// SPDX-License-Identifier: GPL-2.0-or-later
/* The one place that prints errors, and small helpers shared by commands. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "src/commands.h"

int cli_error(int r)
{
	const char *m = err_msg();

	if (!m[0])
		m = strerror(r < 0 ? -r : EINVAL);
	fprintf(stderr, "%s\n", m);
	log_error("%s", m);
	return 1;
}

int cli_parse(const struct cmd_help *h, const struct opt *opts, int argc, char **argv,
	      int *ret_ind)
{
	int r = opts_parse(h, opts, argc, argv, ret_ind);

	if (r == OPTS_HELP)
		return 0;
	if (r < 0) {
		cli_error(r);
		opts_usage(stderr, h, opts);
		return 1;
	}
	return -1;
}

int cli_want_args(const struct cmd_help *h, int argc, int ind, int min, int max)
{
	int n = argc - ind;

	if (n < min) {
		err_set(EINVAL, "\"%s\" requires a minimum of %d argument%s", h->name, min,
			min == 1 ? "" : "s");
		return cli_error(-EINVAL);
	}
	if (max >= 0 && n > max) {
		err_set(EINVAL, "\"%s\" requires a maximum of %d argument%s", h->name, max,
			max == 1 ? "" : "s");
		return cli_error(-EINVAL);
	}
	return -1;
}

static const struct { const char *name; int sig; } signals[] = {
	{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS }, { "CHLD", SIGCHLD },
	{ "CLD", SIGCHLD }, { "CONT", SIGCONT }, { "FPE", SIGFPE }, { "HUP", SIGHUP },
	{ "ILL", SIGILL }, { "INT", SIGINT }, { "IO", SIGIO }, { "IOT", SIGIOT },
	{ "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "POLL", SIGPOLL }, { "PROF", SIGPROF },
	{ "PWR", SIGPWR }, { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV }, { "STKFLT", SIGSTKFLT },
	{ "STOP", SIGSTOP }, { "SYS", SIGSYS }, { "TERM", SIGTERM }, { "TRAP", SIGTRAP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "VTALRM", SIGVTALRM },
	{ "WINCH", SIGWINCH }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
};

int cli_parse_signal(const char *s, int *ret)
{
	const char *name = s;
	char *end;
	long n;

	if (isdigit((unsigned char)s[0])) {
		n = strtol(s, &end, 10);
		if (*end || n <= 0 || n > SIGRTMAX)
			return err_set(EINVAL, "invalid signal: %s", s);
		*ret = n;
		return 0;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (strcasecmp(name, signals[i].name) == 0) {
			*ret = signals[i].sig;
			return 0;
		}
	if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
		bool min = strncasecmp(name, "RTMIN", 5) == 0;
		n = 0;
		if (name[5]) {
			n = strtol(name + 5, &end, 10);
			if (*end)
				return err_set(EINVAL, "unknown signal \"%s\"", s);
		}
		n += min ? SIGRTMIN : SIGRTMAX;
		if (n < SIGRTMIN || n > SIGRTMAX)
			return err_set(EINVAL, "unknown signal \"%s\"", s);
		*ret = n;
		return 0;
	}
	return err_set(EINVAL, "unknown signal \"%s\"", s);
}
