// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * listener PORT [NCLIENTS]: a TCP socket listening on 127.0.0.1:PORT with
 * SO_REUSEADDR. After SIGUSR1 it must still be bound to the port with its
 * option, answer NCLIENTS (default 1) connections that the test made after
 * restore ("echo: " + the line they sent), then answer a connection of its
 * own.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include "zdtm.h"

static int serve_one(int ls)
{
	struct pollfd pfd = { .fd = ls, .events = POLLIN };
	char line[256], reply[300];
	ssize_t n;
	int c, r;

	while ((r = poll(&pfd, 1, 10000)) < 0 && errno == EINTR)
		;
	if (r == 0)
		zdtm_fail("no connection came in 10 s");
	c = accept(ls, NULL, NULL);
	zdtm_check(c);
	n = read(c, line, sizeof(line) - 1);
	if (n <= 0)
		zdtm_fail("read from client: %s", n ? strerror(errno) : "EOF");
	line[n] = 0;
	snprintf(reply, sizeof(reply), "echo: %s", line);
	if (write(c, reply, strlen(reply)) != (ssize_t)strlen(reply))
		zdtm_fail("reply: %s", strerror(errno));
	close(c);
	return 0;
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 0, nclients = argc > 2 ? atoi(argv[2]) : 1;
	struct sockaddr_in sa = { .sin_family = AF_INET }, got;
	socklen_t len = sizeof(got);
	int ls, one = 1, opt = 0, c;
	char buf[64] = { 0 };

	zdtm_init("listener");
	if (port <= 0)
		zdtm_fail("usage: listener PORT [NCLIENTS]");
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	zdtm_check(ls);
	zdtm_check(setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	zdtm_check(bind(ls, (struct sockaddr *)&sa, sizeof(sa)));
	zdtm_check(listen(ls, 16));
	zdtm_ready();
	zdtm_wait();

	zdtm_check(getsockname(ls, (struct sockaddr *)&got, &len));
	if (got.sin_port != sa.sin_port || got.sin_addr.s_addr != sa.sin_addr.s_addr)
		zdtm_fail("bound to %s:%d, want 127.0.0.1:%d", inet_ntoa(got.sin_addr),
			  ntohs(got.sin_port), port);
	len = sizeof(opt);
	zdtm_check(getsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &opt, &len));
	if (!opt)
		zdtm_fail("SO_REUSEADDR lost");
	len = sizeof(opt);
	zdtm_check(getsockopt(ls, SOL_SOCKET, SO_ACCEPTCONN, &opt, &len));
	if (!opt)
		zdtm_fail("socket is not listening");
	for (int i = 0; i < nclients; i++)
		serve_one(ls);

	/* a client of our own: the connect completes from the backlog */
	c = socket(AF_INET, SOCK_STREAM, 0);
	zdtm_check(c);
	zdtm_check(connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	if (write(c, "self\n", 5) != 5)
		zdtm_fail("write self: %s", strerror(errno));
	serve_one(ls);
	if (read(c, buf, sizeof(buf) - 1) <= 0 || strcmp(buf, "echo: self\n"))
		zdtm_fail("self connection got \"%s\"", buf);
	close(c);
	zdtm_pass();
}
