// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tcpconn PORT [6] [backlog]: an established TCP connection inside the tree. The root
 * listens on 127.0.0.1:PORT (::1 with "6"), forks a client that connects,
 * accepts it and keeps listening. Both ends then stream numbered
 * 64-byte records to each other (one per millisecond, and a 32 KiB burst
 * now and then so that the queues hold data when the dump comes) and check
 * every record they read: its number must be the next one and its body
 * must match the number, so a lost, repeated or damaged byte fails.
 * After SIGUSR1 the root streams on for 400 ms, then sends an end record; the
 * client answers with its own end record; the root passes if the client
 * passed and it got at least 100 records from the client after SIGUSR1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include "zdtm.h"

#define REC 64
#define END_SEQ UINT64_MAX
#define BURST 512
#define AFTER_USR1_MS 400

struct side {
	int fd;
	const char *who;
	uint64_t next_out, next_in;
	unsigned char out[8 << 20];
	size_t out_len;
	unsigned char in[REC];
	size_t in_len;
	bool peer_ended, ended;
	uint64_t got_after_usr1;
};

static struct side sides[2]; /* [0] the server (the root), [1] the client */

/* "backlog": the server reads nothing until SIGUSR1 while the client
 * pushes 4 MiB at once, so the dump finds megabytes in both queues. */
static bool backlog;

static void make_rec(unsigned char *r, uint64_t seq)
{
	uint64_t s = seq * 0x9e3779b97f4a7c15ULL + 1;

	memcpy(r, &seq, 8);
	for (int i = 8; i < REC; i += 8) {
		uint64_t v = zdtm_rand(&s);
		memcpy(r + i, &v, 8);
	}
}

static void queue_rec(struct side *s, uint64_t seq)
{
	/* the peer is slow: send it later; the end record always has room */
	if (s->out_len + REC * (seq == END_SEQ ? 1 : 2) > sizeof(s->out))
		return;
	make_rec(s->out + s->out_len, seq);
	s->out_len += REC;
	if (seq != END_SEQ)
		s->next_out++;
}

static void check_rec(struct side *s)
{
	unsigned char want[REC];
	uint64_t seq;

	memcpy(&seq, s->in, 8);
	if (seq == END_SEQ) {
		s->peer_ended = true;
		return;
	}
	if (s->peer_ended)
		zdtm_fail("%s: record %llu after the end record", s->who, (unsigned long long)seq);
	if (seq != s->next_in)
		zdtm_fail("%s: got record %llu, expected %llu (%s)", s->who, (unsigned long long)seq,
			  (unsigned long long)s->next_in, seq < s->next_in ? "repeated" : "lost");
	make_rec(want, seq);
	if (memcmp(want, s->in, REC))
		zdtm_fail("%s: record %llu is damaged", s->who, (unsigned long long)seq);
	s->next_in++;
	if (zdtm_usr1)
		s->got_after_usr1++;
}

static void do_read(struct side *s)
{
	unsigned char buf[16384];
	ssize_t n = read(s->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		zdtm_fail("%s: read: %s", s->who, strerror(errno));
	if (n == 0) {
		if (!s->peer_ended)
			zdtm_fail("%s: EOF before the end record (after %llu records)", s->who,
				  (unsigned long long)s->next_in);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		s->in[s->in_len++] = buf[i];
		if (s->in_len == REC) {
			check_rec(s);
			s->in_len = 0;
		}
	}
}

static void do_write(struct side *s)
{
	ssize_t n = write(s->fd, s->out, s->out_len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		zdtm_fail("%s: write: %s", s->who, strerror(errno));
	memmove(s->out, s->out + n, s->out_len - n);
	s->out_len -= n;
}

/* One end's loop; stop says when to send the end record. */
static void run(struct side *s, bool (*stop)(struct side *))
{
	int64_t last = 0;

	while (!(s->ended && s->peer_ended && !s->out_len)) {
		bool hold = backlog && !zdtm_usr1 && s == &sides[0];
		struct pollfd p = { .fd = s->fd, .events = (hold ? 0 : POLLIN) | (s->out_len ? POLLOUT : 0) };
		int64_t now = zdtm_now_ns(CLOCK_MONOTONIC);

		if (!s->ended && now - last >= 1000000) {
			last = now;
			queue_rec(s, s->next_out);
			if (s->next_out % 300 == 0)
				for (int i = 0; i < BURST; i++)
					queue_rec(s, s->next_out);
		}
		if (!s->ended && stop(s)) {
			queue_rec(s, END_SEQ);
			s->ended = true;
		}
		if (poll(&p, 1, 1) < 0 && errno != EINTR)
			zdtm_fail("%s: poll: %s", s->who, strerror(errno));
		if (!hold && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			do_read(s);
		if (s->out_len)
			do_write(s);
	}
}

static int64_t root_stop_at;

/* by time, not by count: a burst would use up a count at once */
static bool root_stop(struct side *s)
{
	int64_t now = zdtm_now_ns(CLOCK_MONOTONIC);

	(void)s;
	if (!zdtm_usr1)
		return false;
	if (!root_stop_at)
		root_stop_at = now + AFTER_USR1_MS * 1000000LL;
	return now >= root_stop_at;
}

static bool client_stop(struct side *s)
{
	return s->peer_ended;
}

static socklen_t addr_of(bool v6, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		return sizeof(*in6);
	}
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*in);
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 0, one = 1, ls;
	bool v6 = argc > 2 && !strcmp(argv[2], "6");

	for (int i = 2; i < argc; i++)
		backlog |= !strcmp(argv[i], "backlog");
	struct sockaddr_storage ss;
	socklen_t len;
	pid_t child;

	zdtm_init("tcpconn");
	if (port <= 0)
		zdtm_fail("usage: tcpconn PORT [6]");
	len = addr_of(v6, port, &ss);
	ls = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	zdtm_check(ls);
	zdtm_check(setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	zdtm_check(bind(ls, (struct sockaddr *)&ss, len));
	zdtm_check(listen(ls, 4));
	child = fork();
	zdtm_check(child);
	if (child == 0) {
		struct side *c = &sides[1];
		close(ls);
		c->who = "client";
		c->fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		zdtm_check(c->fd);
		zdtm_check(connect(c->fd, (struct sockaddr *)&ss, len));
		zdtm_check(setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
		zdtm_check(fcntl(c->fd, F_SETFL, O_NONBLOCK));
		for (int i = 0; backlog && i < (4 << 20) / REC; i++)
			queue_rec(c, c->next_out);
		run(c, client_stop);
		close(c->fd);
		_exit(0);
	}
	struct side *s = &sides[0];
	s->who = "server";
	s->fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	zdtm_check(s->fd);
	/* the listener stays: restore binds it and the connection to one port */
	/* some traffic before we say ready: both directions carry data */
	if (backlog)
		usleep(500000); /* the client's 4 MiB fill the queues meanwhile */
	while (s->next_in < 20 && !backlog) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		queue_rec(s, s->next_out);
		do_write(s);
		poll(&p, 1, 5);
		do_read(s);
	}
	zdtm_ready();
	run(s, root_stop);
	zdtm_reap(child, "client");
	if (s->got_after_usr1 < 100)
		zdtm_fail("only %llu records from the client after SIGUSR1",
			  (unsigned long long)s->got_after_usr1);
	printf("tcpconn: %llu records sent, %llu received\n", (unsigned long long)s->next_out,
	       (unsigned long long)s->next_in);
	zdtm_pass();
}
