/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One table-driven option parser for every command, accepting what Go's
 * flag package accepts (runc's CLI): --opt value, --opt=value, -opt value,
 * -opt=value; booleans take no value (or =true/=false) and may repeat;
 * parsing stops at the first argument that is not an option, or after "--".
 */
#ifndef SKUA_SRC_OPTS_H
#define SKUA_SRC_OPTS_H

#include <stdbool.h>
#include <stdio.h>

enum opt_kind {
	OPT_BOOL,  /* bool * */
	OPT_STR,   /* const char ** (points into argv) */
	OPT_INT,   /* int * */
	OPT_STRV,  /* struct opt_strv *: repeatable, values appended */
};

struct opt_strv {
	const char **v; /* NULL-terminated once non-empty */
	size_t n;
};

struct opt {
	const char *name;  /* long name, no dashes */
	const char *alias; /* short alias ("d") or NULL */
	enum opt_kind kind;
	void *dest;
	const char *help;
};

struct cmd_help {
	const char *name;  /* "create" */
	const char *args;  /* "[command options] <container-id>" */
	const char *desc;  /* one paragraph */
};

enum { OPTS_HELP = 1 };

/* Parse argv[1..]; on success *ret_ind is the index of the first positional
 * argument. Returns OPTS_HELP after printing usage for -h/--help, or -EINVAL
 * with err_set() for an unknown flag ("flag provided but not defined: -x"),
 * a missing value ("flag needs an argument: -x") or a bad value. */
int opts_parse(const struct cmd_help *h, const struct opt *opts, int argc, char **argv,
	       int *ret_ind);
void opts_usage(FILE *f, const struct cmd_help *h, const struct opt *opts);
void opts_strv_free(struct opt_strv *s);

#endif
