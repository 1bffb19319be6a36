// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * skua lazy-pages: the destination's fault handler as a process of its own
 * (criu lazy-pages): it connects to the source's page server and waits on
 * DIR/lazy-pages.socket for `skua restore --lazy-pages` to hand it the
 * restored tasks' userfaultfds, then serves them until every page is in.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "cr/lazy.h"
#include "src/commands.h"

int cmd_lazy_pages(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"lazy-pages", "--page-server --address ADDR --port PORT -D DIR [-W DIR]",
		"Serve page faults of a lazy restore from a remote page server: waits for "
		"`restore --lazy-pages` on DIR/lazy-pages.socket, exits 0 once every page is in.",
	};
	bool page_server = false;
	const char *addr = NULL, *images = NULL, *work = NULL;
	int port = 0, ctl_fd = -1, ind, r;
	const struct opt opts[] = {
		{ "page-server", NULL, OPT_BOOL, &page_server, "fetch pages from a page server (required)" },
		{ "address", NULL, OPT_STR, &addr, "address of the page server" },
		{ "port", NULL, OPT_INT, &port, "port of the page server" },
		{ "images-dir", "D", OPT_STR, &images, "the checkpoint's image directory (its secret)" },
		{ "work-dir", "W", OPT_STR, &work, "socket, log and stats (default: the image directory)" },
		{ "ctl-fd", NULL, OPT_INT, &ctl_fd, "(restore's own use) serve the restore on this fd, no socket" },
		{ NULL },
	};
	char path[4096];

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 0, 0)) >= 0)
		return r;
	if (!page_server || !images || port <= 0 || port > 65535)
		return cli_error(err_set(EINVAL, "lazy-pages needs --page-server, --port and -D DIR"));
	struct lazy_daemon_opts o = {
		.addr = lazy_dial_addr(addr),
		.port = (uint16_t)port,
		.image_dir = images,
		.work_dir = work ? work : images,
		.ctl_fd = ctl_fd,
	};
	/* spawned by restore: hold nothing of its but the control socket */
	if (ctl_fd >= 0 && (ctl_fd < 3 || fcntl(ctl_fd, F_SETFD, FD_CLOEXEC) < 0 ||
			    close_fds_from(3, &ctl_fd, 1) < 0))
		return cli_error(err_set(EBADF, "--ctl-fd %d: not an open descriptor", ctl_fd));
	snprintf(path, sizeof(path), "%s/%s", o.work_dir, LAZY_LOG_NAME);
	if ((r = log_step_open(path)) < 0)
		return cli_error(err_sys(-r, "opening %s", path));
	r = lazy_daemon_run(&o);
	if (r < 0)
		log_error("%s", err_msg());
	log_step_close();
	return r < 0 ? cli_error(r) : 0;
}
