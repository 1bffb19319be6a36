/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CLI's commands: each parses its argv into options and calls the library. */
#ifndef SKUA_SRC_COMMANDS_H
#define SKUA_SRC_COMMANDS_H

#include <stdbool.h>

#include "src/opts.h"

struct global_opts {
	const char *root;        /* --root, default /run/skua */
	const char *log;         /* --log FILE */
	const char *log_format;  /* text|json */
	const char *criu;        /* accepted, ignored */
	const char *rootless;    /* accepted (runc: true|false|auto), ignored */
	bool debug;
	bool systemd_cgroup;
};

/* Each returns the process exit code; argv[0] is the command name. */
typedef int (*cmd_fn)(int argc, char **argv, struct global_opts *g);

int cmd_create(int argc, char **argv, struct global_opts *g);
int cmd_start(int argc, char **argv, struct global_opts *g);
int cmd_run(int argc, char **argv, struct global_opts *g);
int cmd_state(int argc, char **argv, struct global_opts *g);
int cmd_kill(int argc, char **argv, struct global_opts *g);
int cmd_delete(int argc, char **argv, struct global_opts *g);
int cmd_list(int argc, char **argv, struct global_opts *g);
int cmd_ps(int argc, char **argv, struct global_opts *g);
int cmd_pause(int argc, char **argv, struct global_opts *g);
int cmd_resume(int argc, char **argv, struct global_opts *g);
int cmd_update(int argc, char **argv, struct global_opts *g);
int cmd_spec(int argc, char **argv, struct global_opts *g);
int cmd_features(int argc, char **argv, struct global_opts *g);
int cmd_exec(int argc, char **argv, struct global_opts *g);
/* Written by the checkpoint/restore engineers (weak defaults in commands-weak.c). */
int cmd_checkpoint(int argc, char **argv, struct global_opts *g);
int cmd_restore(int argc, char **argv, struct global_opts *g);
int cmd_lazy_pages(int argc, char **argv, struct global_opts *g);
int cmd_engine(int argc, char **argv, struct global_opts *g);

/* Print the error (err_msg(), or strerror(-r)) to stderr, log it, return 1. */
int cli_error(int r);
/* Parse options; returns -1 to go on, else the exit code (0 after --help, 1 on error). */
int cli_parse(const struct cmd_help *h, const struct opt *opts, int argc, char **argv,
	      int *ret_ind);
/* Exactly `n` positional args remain, else an error naming the usage; returns -1 if ok. */
int cli_want_args(const struct cmd_help *h, int argc, int ind, int min, int max);
/* Signal by name ("KILL", "SIGKILL") or number. */
int cli_parse_signal(const char *s, int *ret);

#endif
