// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * exec: the process comes from --process JSON, or from the container's
 * config.json process with args, env, cwd, user, tty and caps overridden by
 * the flags, as runc builds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/config.h"
#include "runtime/container.h"
#include "src/commands.h"

struct exec_args {
	struct container_exec_opts o;
	const char *cwd, *user, *process_json, *ignored;
	struct opt_strv env, caps, gids, ignored_v;
	bool tty, no_new_privs, ignored_b;
};

static char **strv_dup(const char *const *v, size_t n)
{
	char **r = calloc(n + 1, sizeof(char *));

	for (size_t i = 0; r && i < n; i++)
		if (!(r[i] = strdup(v[i])))
			return NULL;
	return r;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* Set KEY=V in env, replacing an existing KEY. */
static int env_set(char ***env, const char *kv)
{
	size_t klen = strcspn(kv, "="), n = 0;
	char **e = *env;

	for (; e && e[n]; n++)
		if (strncmp(e[n], kv, klen) == 0 && e[n][klen] == '=') {
			free(e[n]);
			return (e[n] = strdup(kv)) ? 0 : -ENOMEM;
		}
	e = realloc(e, (n + 2) * sizeof(char *));
	if (!e)
		return -ENOMEM;
	*env = e;
	e[n] = strdup(kv);
	e[n + 1] = NULL;
	return e[n] ? 0 : -ENOMEM;
}

static int parse_u32(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v > UINT32_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int add_cap(int **set, size_t *n, int cap)
{
	int *nv = realloc(*set, (*n + 1) * sizeof(int));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = cap;
	*set = nv;
	return 0;
}

static int apply_flags(struct oci_process *p, struct exec_args *a, char **args, size_t nargs)
{
	int r;

	strv_free(p->args);
	p->args = strv_dup((const char *const *)args, nargs);
	if (!p->args)
		return -ENOMEM;
	for (size_t i = 0; i < a->env.n; i++)
		if ((r = env_set(&p->env, a->env.v[i])) < 0)
			return r;
	if (a->cwd) {
		free(p->cwd);
		if (!(p->cwd = strdup(a->cwd)))
			return -ENOMEM;
	}
	if (a->user) {
		_cleanup_free_ char *u = strdup(a->user);
		char *colon = u ? strchr(u, ':') : NULL;
		if (!u)
			return -ENOMEM;
		if (colon)
			*colon = '\0';
		if (parse_u32(u, &p->user.uid) < 0 || (colon && parse_u32(colon + 1, &p->user.gid) < 0))
			return err_set(EINVAL, "--user: expected uid[:gid], got \"%s\"", a->user);
		if (!colon)
			p->user.gid = 0;
	}
	if (a->gids.n) {
		free(p->user.additional_gids);
		p->user.additional_gids = calloc(a->gids.n, sizeof(uint32_t));
		if (!p->user.additional_gids)
			return -ENOMEM;
		p->user.n_additional_gids = a->gids.n;
		for (size_t i = 0; i < a->gids.n; i++)
			if (parse_u32(a->gids.v[i], &p->user.additional_gids[i]) < 0)
				return err_set(EINVAL, "--additional-gids: invalid gid \"%s\"", a->gids.v[i]);
	}
	for (size_t i = 0; i < a->caps.n; i++) {
		cap_value_t cap;
		if (cap_from_name(a->caps.v[i], &cap) < 0)
			return err_set(EINVAL, "unknown capability \"%s\"", a->caps.v[i]);
		p->caps.present = true;
		if ((r = add_cap(&p->caps.bounding, &p->caps.n_bounding, cap)) < 0 ||
		    (r = add_cap(&p->caps.effective, &p->caps.n_effective, cap)) < 0 ||
		    (r = add_cap(&p->caps.permitted, &p->caps.n_permitted, cap)) < 0)
			return r;
	}
	p->terminal = a->tty;
	if (a->no_new_privs)
		p->no_new_privileges = true;
	return 0;
}

static int exec_build_process(struct container *c, struct exec_args *a, char **args, size_t nargs,
			      struct oci_process **ret)
{
	struct oci_config *cfg = NULL;
	struct oci_process *p;
	int r;

	if (a->process_json) {
		_cleanup_free_ char *text = NULL;
		r = read_file(a->process_json, &text, NULL, 0);
		if (r < 0)
			return err_sys(-r, "reading --process %s", a->process_json);
		r = oci_process_parse(text, ret);
		return r < 0 ? err_wrap(r, "--process %s", a->process_json) : 0;
	}
	if (!nargs)
		return err_set(EINVAL, "exec: no command given (\"exec\" requires a minimum of 2 arguments)");
	r = oci_config_load(c->bundle, &cfg);
	if (r < 0)
		return err_wrap(r, "container %s: loading its config", c->id);
	p = cfg->process;
	cfg->process = NULL;
	oci_config_free(cfg);
	if (!p)
		return err_set(EINVAL, "container %s: config.json has no process", c->id);
	r = apply_flags(p, a, args, nargs);
	if (r < 0) {
		oci_process_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int cmd_exec(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"exec", "[command options] <container-id> <command> [command options]",
		"Run a new process inside a running container.",
	};
	struct exec_args a = { 0 };
	const struct opt opts[] = {
		{ "console-socket", NULL, OPT_STR, &a.o.console_socket, "path to an AF_UNIX socket which will receive the pty master" },
		{ "cwd", NULL, OPT_STR, &a.cwd, "current working directory in the container" },
		{ "env", "e", OPT_STRV, &a.env, "set environment variables" },
		{ "tty", "t", OPT_BOOL, &a.tty, "allocate a pseudo-TTY" },
		{ "user", "u", OPT_STR, &a.user, "UID (format: <uid>[:<gid>])" },
		{ "additional-gids", "g", OPT_STRV, &a.gids, "additional gids" },
		{ "process", "p", OPT_STR, &a.process_json, "path to the process.json" },
		{ "detach", "d", OPT_BOOL, &a.o.detach, "detach from the container's process" },
		{ "pid-file", NULL, OPT_STR, &a.o.pid_file, "specify the file to write the process id to" },
		{ "no-new-privs", NULL, OPT_BOOL, &a.no_new_privs, "set the no new privileges value for the process" },
		{ "cap", "c", OPT_STRV, &a.caps, "add a capability to the bounding set for the process" },
		{ "preserve-fds", NULL, OPT_INT, &a.o.preserve_fds, "pass N additional file descriptors to the container" },
		{ "process-label", NULL, OPT_STR, &a.ignored, "accepted, ignored (no SELinux)" },
		{ "apparmor", NULL, OPT_STR, &a.ignored, "accepted, ignored (no AppArmor)" },
		{ "cgroup", NULL, OPT_STRV, &a.ignored_v, "accepted, ignored" },
		{ "ignore-paused", NULL, OPT_BOOL, &a.ignored_b, "accepted, ignored" },
		{ NULL },
	};
	_cleanup_container_ struct container *c = NULL;
	struct oci_process *p = NULL;
	int ind, r, code = 0;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 1, -1)) >= 0)
		goto out;
	r = container_load(g->root, argv[ind], &c);
	if (r >= 0)
		r = exec_build_process(c, &a, argv + ind + 1, argc - ind - 1, &p);
	/* a tty with nobody to hand it to: we hold the master and proxy */
	if (r >= 0 && p->terminal && !a.o.console_socket && !a.o.detach)
		r = container_tty_listen(&a.o.tty, &a.o.console_socket);
	if (r >= 0) {
		a.o.process = p;
		r = container_exec(c, &a.o, &code);
	}
	container_tty_free(a.o.tty);
	r = r < 0 ? cli_error(r) : code;
out:
	if (p)
		oci_process_free(p);
	opts_strv_free(&a.env);
	opts_strv_free(&a.caps);
	opts_strv_free(&a.gids);
	opts_strv_free(&a.ignored_v);
	return r;
}
