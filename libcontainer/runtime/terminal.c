// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "runtime/container.h"
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

int terminal_listen(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_sys(errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
		return err_sys(errno, "listening on %s", path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int terminal_recv_fd(int listen_fd, int *ret_fd)
{
	_cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (conn < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : err_sys(errno, "accept");
	if (recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) < 0)
		return err_sys(errno, "receiving the pty master");
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return err_set(EPROTO, "no pty master received");
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	*ret_fd = fd;
	return 0;
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* Copy what is readable; false at EOF/EIO (the other side is gone). */
static bool pump(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	return write_full(to, buf, n) == 0;
}

static int wait_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
}

int terminal_proxy_wait(int master, pid_t pid, int *ret_code)
{
	struct termios orig, raw;
	bool is_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &orig) == 0;
	bool in_open = true, out_open = true, exited = false;
	sigset_t all, old;
	_cleanup_close_ int sfd = -1;
	int code = 0;

	if (is_tty) {
		raw = orig;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		copy_winsize(STDIN_FILENO, master);
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
	while (!exited || out_open) {
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = out_open ? master : -1, .events = POLLIN },
			{ .fd = in_open && !exited ? STDIN_FILENO : -1, .events = POLLIN },
		};
		struct signalfd_siginfo si;
		int status;
		pid_t w;

		/* once the process is gone, drain the master without blocking */
		if (poll(p, 3, exited ? 0 : -1) <= 0) {
			if (exited)
				break;
			continue;
		}
		if (p[1].revents)
			out_open = pump(master, STDOUT_FILENO);
		if (p[2].revents)
			in_open = pump(STDIN_FILENO, master);
		while (p[0].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGWINCH && is_tty)
				copy_winsize(STDIN_FILENO, master);
			else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH)
				kill(pid, si.ssi_signo);
		}
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == pid) {
				code = wait_code(status);
				exited = true;
			}
		if (w < 0 && errno == ECHILD && !exited) {
			code = 255;
			exited = true;
		}
	}
	if (is_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &orig);
	sigprocmask(SIG_SETMASK, &old, NULL);
	*ret_code = code;
	return 0;
}

struct container_tty {
	char *dir, *path;
	int listen_fd;
};

void container_tty_free(struct container_tty *t)
{
	if (!t)
		return;
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	if (t->path)
		unlink(t->path);
	if (t->dir)
		rmdir(t->dir);
	free(t->path);
	free(t->dir);
	free(t);
}

int container_tty_listen(struct container_tty **ret, const char **ret_path)
{
	struct container_tty *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->listen_fd = -1;
	t->dir = strdup("/tmp/skua-tty.XXXXXX");
	if (!t->dir || !mkdtemp(t->dir)) {
		r = t->dir ? err_sys(errno, "mkdtemp") : -ENOMEM;
		free(t->dir);
		t->dir = NULL;
		goto fail;
	}
	if (asprintf(&t->path, "%s/console.sock", t->dir) < 0) {
		t->path = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = terminal_listen(t->path, &t->listen_fd);
	if (r < 0)
		goto fail;
	*ret = t;
	*ret_path = t->path;
	return 0;
fail:
	container_tty_free(t);
	return r;
}

int container_tty_wait(struct container_tty *t, pid_t pid, int *ret_code)
{
	_cleanup_close_ int master = -1;
	int r = terminal_recv_fd(t->listen_fd, &master);

	if (r == -EAGAIN) {
		err_clear();
		return container_wait_forward(pid, ret_code);
	}
	if (r < 0)
		return r;
	return terminal_proxy_wait(master, pid, ret_code);
}
