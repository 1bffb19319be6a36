// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * recvtty: the receiving end of --console-socket, for tests.
 *   recvtty SOCKET [INPUT]
 * Listens on SOCKET, accepts one connection, receives the pty master
 * (SCM_RIGHTS), writes INPUT to it if given, then copies everything the
 * container prints to stdout until the terminal closes. Exits 0 on a clean
 * hang-up, 1 on any error. Not a zdtm workload: it runs on the host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>


static int recv_fd(int conn)
{
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(conn, &mh, 0) < 0) {
		perror("recvtty: recvmsg");
		return -1;
	}
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "recvtty: no fd received\n");
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	int lfd, conn, master;
	ssize_t n;

	if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: recvtty SOCKET [INPUT]\n");
		return 1;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		perror("recvtty: listen");
		return 1;
	}
	conn = accept(lfd, NULL, NULL);
	if (conn < 0) {
		perror("recvtty: accept");
		return 1;
	}
	master = recv_fd(conn);
	if (master < 0)
		return 1;
	close(conn);
	close(lfd);
	unlink(argv[1]);
	if (argc > 2 && write(master, argv[2], strlen(argv[2])) < 0) {
		perror("recvtty: write");
		return 1;
	}
	/* EIO: every slave fd is closed, the container side is gone */
	while ((n = read(master, buf, sizeof(buf))) > 0)
		if (write(STDOUT_FILENO, buf, n) < 0)
			return 1;
	return n < 0 && errno != EIO ? 1 : 0;
}
