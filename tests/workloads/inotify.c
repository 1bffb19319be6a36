// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inotify: holds an inotify instance watching ZDTM_DIR, something the engine
 * does not checkpoint. A dump must fail naming it, and this process must keep
 * running unharmed: after SIGUSR1 the watch still reports a file created in
 * ZDTM_DIR.
 */
#include <poll.h>
#include <sys/inotify.h>
#include "zdtm.h"

int main(void)
{
	char path[4096], buf[4096] __attribute__((aligned(8)));
	struct pollfd pfd;
	int in, fd;

	zdtm_init("inotify");
	in = inotify_init1(IN_NONBLOCK);
	zdtm_check(in);
	zdtm_check(inotify_add_watch(in, zdtm_dir(), IN_CREATE));
	zdtm_ready();
	zdtm_wait();

	/* drain events from before (the status file) */
	while (read(in, buf, sizeof(buf)) > 0)
		;
	zdtm_path(path, sizeof(path), "inotify.probe");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	zdtm_check(fd);
	close(fd);
	unlink(path);
	pfd.fd = in;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 2000) != 1)
		zdtm_fail("inotify saw no event");
	zdtm_pass();
}
