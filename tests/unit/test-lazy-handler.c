// SPDX-License-Identifier: GPL-2.0-or-later
/* The destination handler against a fake page server that holds the
 * secret: it says hello to the restore at once and dials meanwhile; READY
 * is answered once connected; a server that then talks garbage is
 * disconnected with the reason logged and an ERROR sent back; a restore
 * that goes away before the tree ran ends it too; a wrong secret is
 * reported to the restore when it asks for READY. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "cr/lazy-internal.h"
#include "cr/page-proto.h"
#include "tap.h"

static char dir[] = "/tmp/test-lazy-handler.XXXXXX";

static int listen_any(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The handler in a child, its log in dir; returns its pid, *ctl our end. */
static pid_t start_handler(uint16_t port, const char *image_dir, int *ctl)
{
	int sv[2];
	pid_t pid;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	pid = fork();
	if (pid == 0) {
		char path[256];
		struct lazy_handler_opts o = { .addr = "127.0.0.1", .port = port, .image_dir = image_dir,
					       .work_dir = dir };
		close(sv[0]);
		snprintf(path, sizeof(path), "%s/lazy-pages.log", dir);
		log_step_open(path);
		_exit(lazy_handler_run(&o, sv[1]) < 0 ? 1 : 0);
	}
	close(sv[1]);
	*ctl = sv[0];
	return pid;
}

static int ask_ready(int ctl)
{
	struct lazy_ctl_hdr h = { .magic = LAZY_CTL_MAGIC, .type = LAZY_CTL_READY };
	int r = lazy_ctl_send(ctl, &h, NULL, 0, NULL, 0);
	return r < 0 ? r : lazy_ctl_reply_recv(ctl, "ready");
}

static int exit_code(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool log_has(const char *what)
{
	char path[256], *text = NULL;
	snprintf(path, sizeof(path), "%s/lazy-pages.log", dir);
	bool yes = read_file(path, &text, NULL, 0) >= 0 && strstr(text, what);
	free(text);
	return yes;
}

static void test_garbage(const uint8_t *secret)
{
	uint16_t port;
	int lfd = listen_any(&port), ctl;
	pid_t pid = start_handler(port, dir, &ctl);
	struct pp_hello hello;
	struct pp_hdr h;
	uint8_t buf[2048];

	is_int(lazy_ctl_reply_recv(ctl, "hello"), 0, "the handler tells the restore it is up");
	int c = accept(lfd, NULL, NULL);
	is_int(pp_server_handshake(c, secret, &hello), 0, "the handler proves the secret");
	is_int((int)hello.channel, PP_CHAN_URGENT, "on the urgent channel");
	is_int(ask_ready(ctl), 0, "and answers READY once connected");
	if (write(c, "GET / HTTP/1.0\r\nHost: x\r\n\r\n", 27) != 27)
		return;
	is_int(pp_recv(c, &h, buf, sizeof(buf)), 0, "the handler answers the garbage");
	is_int(h.type, PP_ERROR, "with an ERROR");
	is_int(exit_code(pid), 1, "and exits 1");
	ok(log_has("page server sent garbage, disconnected"), "the log says why");
	ok(log_has("bad magic"), "naming the fault");
	char path[256], *stats = NULL;
	snprintf(path, sizeof(path), "%s/stats-lazy", dir);
	ok(read_file(path, &stats, NULL, 0) >= 0 && strstr(stats, "\"complete\": false"),
	   "stats-lazy says incomplete");
	free(stats);
	close(c);
	close(ctl);
	close(lfd);
}

static void test_restore_gone(const uint8_t *secret)
{
	uint16_t port;
	int lfd = listen_any(&port), ctl;
	pid_t pid = start_handler(port, dir, &ctl);
	struct pp_hello hello;
	struct pp_hdr h;
	uint8_t buf[2048];

	int c = accept(lfd, NULL, NULL);
	pp_server_handshake(c, secret, &hello);
	is_int(lazy_ctl_reply_recv(ctl, "hello"), 0, "connected");
	close(ctl); /* the restore died */
	is_int(pp_recv(c, &h, buf, sizeof(buf)), 0, "the source hears of it");
	is_int(h.type, PP_ERROR, "as an ERROR (it thaws its container on that)");
	is_int(exit_code(pid), 1, "the handler exits 1");
	ok(log_has("the restore went away before the tree ran"), "logged");
	close(c);
	close(lfd);
}

static void test_wrong_secret(const uint8_t *secret)
{
	char other[] = "/tmp/test-lazy-handler-other.XXXXXX";
	uint8_t s2[PP_SECRET_LEN];
	uint16_t port;
	int lfd = listen_any(&port), ctl;
	struct pp_hello hello;

	if (!mkdtemp(other) || pp_secret_create(other, s2) < 0)
		return;
	pid_t pid = start_handler(port, other, &ctl);
	is_int(lazy_ctl_reply_recv(ctl, "hello"), 0, "the handler is up");
	int c = accept(lfd, NULL, NULL);
	is_int(pp_server_handshake(c, secret, &hello), -EACCES, "a handler with another secret is refused");
	is_int(ask_ready(ctl), -EACCES, "the restore hears it at READY");
	ok(strstr(err_msg(), "wrong secret") != NULL, "as: %s", err_msg());
	is_int(exit_code(pid), 1, "the handler exits 1");
	close(c);
	close(ctl);
	close(lfd);
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", other, PP_SECRET_FILE);
	unlink(path);
	rmdir(other);
}

int main(void)
{
	uint8_t secret[PP_SECRET_LEN];

	setenv("SKUA_LAZY_TIMEOUT", "5", 1);
	if (!mkdtemp(dir) || pp_secret_create(dir, secret) < 0) {
		ok(0, "setup");
		return done_testing();
	}
	test_garbage(secret);
	test_restore_gone(secret);
	test_wrong_secret(secret);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return done_testing();
}
