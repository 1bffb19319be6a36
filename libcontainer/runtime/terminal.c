// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "runtime/terminal.h"

int terminal_connect(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(ENAMETOOLONG, "console socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(errno, "console socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_sys(errno, "connecting to console socket %s", path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int terminal_open_pty(int *ret_master, int *ret_slave, char **ret_slave_path)
{
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	_cleanup_close_ int slave = -1;
	char name[128];
	int unlock = 0;

	if (master < 0)
		return err_sys(errno, "opening /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return err_sys(errno, "unlocking pty");
	if (ptsname_r(master, name, sizeof(name)) != 0)
		return err_sys(errno, "ptsname");
	/* TIOCGPTPEER opens the slave of this very master, whatever is mounted at /dev/pts. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return err_sys(errno, "opening pty slave");
	if (ret_slave_path) {
		*ret_slave_path = strdup(name);
		if (!*ret_slave_path)
			return -ENOMEM;
	}
	*ret_master = TAKE_FD(master);
	*ret_slave = TAKE_FD(slave);
	return 0;
}

int terminal_set_size(int fd, uint32_t width, uint32_t height)
{
	struct winsize ws = { .ws_row = height, .ws_col = width };

	if (!width && !height)
		return 0;
	if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
		return err_sys(errno, "setting terminal size");
	return 0;
}

int terminal_send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		return err_sys(errno, "sending the pty master over the console socket");
	return 0;
}

int terminal_become_stdio(int slave)
{
	if (setsid() < 0 && errno != EPERM)
		return err_sys(errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return err_sys(errno, "setting the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return err_sys(errno, "dup2 pty slave to %d", i);
	return 0;
}
