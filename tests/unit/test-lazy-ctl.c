// SPDX-License-Identifier: GPL-2.0-or-later
/* The restore -> lazy-pages handler control protocol: a task message with
 * its arrays and two fds survives the trip; bad headers, counts that do not
 * match the fds, and short payloads are refused; replies carry errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/lazy-conf.h"
#include "cr/lazy-internal.h"
#include "tap.h"

static void test_round_trip(void)
{
	int sv[2], p[2], fds[4];
	struct lazy_ctl_vma vmas[2] = { { 0x1000, 0x9000 }, { 0x20000, 0x40000 } };
	struct lazy_run runs[3] = { { 0x1000, 2 }, { 0x5000, 4 }, { 0x20000, 32 } };
	uint8_t pl[sizeof(vmas) + sizeof(runs)];
	struct lazy_ctl_hdr h = { .magic = LAZY_CTL_MAGIC, .type = LAZY_CTL_TASK, .pid = 7, .host_pid = 4242,
				  .n_vmas = 2, .n_runs = 3, .n_fds = 2 }, g;
	void *got = NULL;
	bool eof;
	struct stat a, b;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	if (pipe(p) < 0)
		return;
	memcpy(pl, vmas, sizeof(vmas));
	memcpy(pl + sizeof(vmas), runs, sizeof(runs));
	is_int(lazy_ctl_send(sv[0], &h, pl, sizeof(pl), p, 2), 0, "a task message goes out with two fds");
	is_int(lazy_ctl_recv(sv[1], &g, &got, fds, 4, &eof), 0, "and comes in");
	ok(!eof && g.pid == 7 && g.host_pid == 4242 && g.n_runs == 3 && g.n_fds == 2, "header fields kept");
	ok(got && !memcmp(got, pl, sizeof(pl)), "vmas and runs kept");
	fstat(p[0], &a);
	ok(fds[0] >= 0 && fds[1] >= 0 && fstat(fds[0], &b) == 0 && a.st_ino == b.st_ino,
	   "the fds are the same objects");
	ok(fds[2] == -1, "unused fd slots stay -1");
	ok(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, "received fds are close-on-exec");
	free(got);
	close(fds[0]);
	close(fds[1]);

	/* replies */
	is_int(lazy_ctl_reply_send(sv[1], 0, ""), 0, "ok reply sent");
	is_int(lazy_ctl_reply_recv(sv[0], "x"), 0, "ok reply read");
	lazy_ctl_reply_send(sv[1], EACCES, "page server refused us");
	is_int(lazy_ctl_reply_recv(sv[0], "x"), -EACCES, "error reply gives its errno");
	ok(strstr(err_msg(), "page server refused us") != NULL, "and its text: %s", err_msg());

	/* EOF */
	close(sv[1]);
	is_int(lazy_ctl_recv(sv[0], &g, &got, fds, 4, &eof), 0, "EOF is not an error");
	ok(eof, "but says EOF");
	is_int(lazy_ctl_reply_recv(sv[0], "x"), -EPIPE, "a reply that never comes: EPIPE");
	close(sv[0]);
	close(p[0]);
	close(p[1]);
}

static void test_refusals(void)
{
	struct lazy_ctl_hdr h = { .magic = LAZY_CTL_MAGIC, .type = LAZY_CTL_TASK, .n_runs = 1 };
	size_t len;
	int sv[2], fds[4];
	void *got;
	bool eof;

	is_int(lazy_ctl_payload_size(&h, &len), 0, "a valid header");
	is_int((int)len, (int)sizeof(struct lazy_run), "its payload size");
	h.magic ^= 1;
	is_int(lazy_ctl_payload_size(&h, &len), -EBADMSG, "bad magic refused");
	h.magic = LAZY_CTL_MAGIC;
	h.type = 99;
	is_int(lazy_ctl_payload_size(&h, &len), -EBADMSG, "unknown type refused");
	h.type = LAZY_CTL_TASK;
	h.n_runs = LAZY_CTL_MAX_ITEMS + 1;
	is_int(lazy_ctl_payload_size(&h, &len), -EBADMSG, "absurd counts refused before allocating");
	h.n_runs = 1;
	h.type = LAZY_CTL_END;
	is_int(lazy_ctl_payload_size(&h, &len), -EBADMSG, "END carries no arrays");
	h.type = LAZY_CTL_READY;
	is_int(lazy_ctl_payload_size(&h, &len), -EBADMSG, "nor does READY");
	h.n_runs = 0;
	is_int(lazy_ctl_payload_size(&h, &len), 0, "READY alone is valid");
	is_int((int)len, 0, "with no payload");
	h.type = LAZY_CTL_READY + 1;
	is_int(lazy_ctl_payload_size(&h, &len), -EBADMSG, "the type after READY is unknown");

	/* the header promises an fd that does not come */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	struct lazy_ctl_hdr e = { .magic = LAZY_CTL_MAGIC, .type = LAZY_CTL_END, .n_fds = 1 };
	if (write(sv[0], &e, sizeof(e)) != sizeof(e))
		return;
	is_int(lazy_ctl_recv(sv[1], &e, &got, fds, 4, &eof), -EBADMSG, "fd count mismatch refused");

	/* a payload cut short by the peer going away */
	struct lazy_ctl_hdr t = { .magic = LAZY_CTL_MAGIC, .type = LAZY_CTL_TASK, .n_runs = 4 };
	if (write(sv[0], &t, sizeof(t)) != sizeof(t) || write(sv[0], "abc", 3) != 3)
		return;
	close(sv[0]);
	is_int(lazy_ctl_recv(sv[1], &t, &got, fds, 4, &eof), -EBADMSG, "short payload refused");
	close(sv[1]);
}

static void test_addr(void)
{
	char *a = NULL;
	uint16_t port = 0;

	is_int(lazy_parse_addr("0.0.0.0:27277", &a, &port), 0, "ADDR:PORT parses");
	ok(a && !strcmp(a, "0.0.0.0") && port == 27277, "address and port");
	is_str(lazy_dial_addr(a), "127.0.0.1", "a wildcard is dialled as loopback");
	free(a);
	is_int(lazy_parse_addr("[::1]:80", &a, &port), 0, "[V6]:PORT parses");
	ok(a && !strcmp(a, "::1") && port == 80, "v6 address without brackets");
	free(a);
	is_int(lazy_parse_addr("10.0.0.1", &a, &port), -EINVAL, "no port refused");
	is_int(lazy_parse_addr("10.0.0.1:0", &a, &port), -EINVAL, "port 0 refused");
	is_int(lazy_parse_addr("10.0.0.1:99999", &a, &port), -EINVAL, "port out of range refused");
	is_int(lazy_parse_addr("10.0.0.1:12x", &a, &port), -EINVAL, "trailing junk refused");
	is_str(lazy_dial_addr("10.1.2.3"), "10.1.2.3", "a real address is dialled as is");
	/* numbers only: a static skua has no name service */
	is_int(lazy_parse_addr("example.org:27", &a, &port), -EINVAL, "a host name is refused");
	is_int(lazy_parse_addr("10.0.0.256:27", &a, &port), -EINVAL, "a bad IPv4 address is refused");
	is_int(lazy_parse_addr("[::g]:27", &a, &port), -EINVAL, "a bad IPv6 address is refused");

	struct sockaddr_storage ss;
	socklen_t sl = 0;
	is_int(lazy_sockaddr("10.1.2.3", 27277, &ss, &sl), 0, "IPv4 socket address");
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	ok(ss.ss_family == AF_INET && sl == sizeof(*v4) && ntohs(v4->sin_port) == 27277 &&
		   ntohl(v4->sin_addr.s_addr) == 0x0a010203, "IPv4 family, length, port and address");
	is_int(lazy_sockaddr("::1", 80, &ss, &sl), 0, "IPv6 socket address");
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	ok(ss.ss_family == AF_INET6 && sl == sizeof(*v6) && ntohs(v6->sin6_port) == 80 &&
		   IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr), "IPv6 family, length, port and address");
	is_int(lazy_sockaddr("localhost", 80, &ss, &sl), -EINVAL, "a name gives no socket address");
}

/* What a thread of a role ends up with, and what a thread it starts gets. */
struct role_probe {
	enum lazy_role role;
	bool fifo;
	int policy, nice, child_policy;
};

static void *child_policy(void *arg)
{
	*(int *)arg = sched_getscheduler(0);
	return NULL;
}

static void *role_thread(void *arg)
{
	struct role_probe *p = arg;
	pthread_t t;

	p->fifo = lazy_thread_role(NULL, p->role);
	p->policy = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
	errno = 0;
	p->nice = getpriority(PRIO_PROCESS, 0); /* Linux: the calling thread */
	p->child_policy = -1;
	if (pthread_create(&t, NULL, child_policy, &p->child_policy) == 0)
		pthread_join(t, NULL);
	return NULL;
}

static struct role_probe probe(enum lazy_role role)
{
	struct role_probe p = { .role = role };
	pthread_t t;

	if (pthread_create(&t, NULL, role_thread, &p) == 0)
		pthread_join(t, NULL);
	return p;
}

static void test_roles(void)
{
	cpu_set_t set;
	bool two = sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 2;
	struct role_probe p;

	unsetenv("SKUA_LAZY_RT");
	p = probe(LAZY_URGENT);
	ok(p.fifo && p.policy == SCHED_FIFO, "the page server's urgent thread runs SCHED_FIFO");
	is_int(p.child_policy, SCHED_OTHER, "a thread it starts does not inherit it");
	p = probe(LAZY_HANDLER);
	ok(p.fifo == two && p.policy == (two ? SCHED_FIFO : SCHED_OTHER),
	   "the handler's main thread runs SCHED_FIFO with two CPUs or more");
	p = probe(LAZY_STREAM);
	ok(p.fifo == two && p.policy == (two ? SCHED_FIFO : SCHED_OTHER),
	   "the handler's stream runs SCHED_FIFO beside it");
	p = probe(LAZY_BULK);
	ok(!p.fifo && p.policy == SCHED_OTHER && p.nice == LAZY_NICE_BULK,
	   "the page server's stream runs at nice %d", LAZY_NICE_BULK);
	setenv("SKUA_LAZY_RT", "0", 1);
	p = probe(LAZY_URGENT);
	ok(!p.fifo && p.policy == SCHED_OTHER && p.nice == LAZY_NICE_URGENT,
	   "SKUA_LAZY_RT=0: the urgent thread at nice %d instead", LAZY_NICE_URGENT);
	p = probe(LAZY_STREAM);
	ok(!p.fifo && p.policy == SCHED_OTHER && p.nice == LAZY_NICE_BULK, "SKUA_LAZY_RT=0: the stream at nice %d",
	   LAZY_NICE_BULK);
	unsetenv("SKUA_LAZY_RT");
}

int main(void)
{
	test_round_trip();
	test_refusals();
	test_addr();
	test_roles();
	return done_testing();
}
