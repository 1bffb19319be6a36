// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/prctl.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "src/create-opts.h"

/* After the process exits: the container goes, unless --keep. */
static void run_cleanup(const char *root, const char *id, bool keep)
{
	_cleanup_container_ struct container *c = NULL;

	if (keep || container_load(root, id, &c) < 0)
		return;
	container_delete(c, true);
}

int cmd_run(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"run", "[command options] <container-id>",
		"Create and start a container; without --detach, wait for it and exit with its status.",
	};
	struct container *c = NULL;
	struct container_tty *tty = NULL;
	struct create_args a = { 0 };
	int r, code = 0;
	pid_t pid;

	r = create_args_parse(&h, true, argc, argv, g, &a);
	if (r >= 0)
		return r;
	/* orphans of the container are reparented to us, and reaped */
	if (!a.detach && !a.no_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* a terminal with nobody to hand it to: we hold the master and proxy
	 * (create makes the listener if process.terminal asks for one) */
	if (!a.detach && !a.o.console_socket)
		a.o.auto_tty = &tty;
	r = container_create(g->root, &a.o, &c);
	if (r < 0) {
		container_tty_free(tty);
		return cli_error(r);
	}
	r = container_start(c);
	if (r < 0) {
		char saved[4096];
		snprintf(saved, sizeof(saved), "%s", err_msg());
		container_delete(c, true);
		container_free(c);
		container_tty_free(tty);
		err_set(-r, "%s", saved);
		return cli_error(r);
	}
	pid = c->pid;
	/* drop the lock: state, kill, exec must work while we wait */
	container_free(c);
	if (a.detach)
		return 0;
	r = tty ? container_tty_wait(tty, pid, &code) : container_wait_forward(pid, &code);
	container_tty_free(tty);
	run_cleanup(g->root, a.o.id, a.keep);
	if (r < 0)
		return cli_error(r);
	return code;
}
