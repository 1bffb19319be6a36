// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lazyraw: the raw rates a lazy migration is measured against (bench-lazy.sh).
 *   lazyraw serve PORT             accept connections, each in a child: "B"
 *                                  streams what it is sent into the void, "R"
 *                                  answers each 32-byte request with 4 KiB
 *   lazyraw bulk HOST PORT MiB     send MiB in 4 MiB writes; prints tcp_gbps
 *   lazyraw rtt HOST PORT N [GAP]  N request/reply round trips, GAP us
 *                                  apart (default 0); prints rtt_p50_us
 *                                  rtt_p99_us
 *   lazyraw uffd MiB               UFFDIO_COPY of MiB into fresh registered
 *                                  memory in 4 MiB calls, and 4096 single-page
 *                                  copies; prints copy_gbps page_copy_us
 *   lazyraw ufault N GAP           N reads of missing pages (in random order,
 *                                  GAP us apart) of memory registered with
 *                                  userfaultfd, each served at once by a
 *                                  thread with a one-page UFFDIO_COPY: a
 *                                  fault without the network, timed as the
 *                                  reading task sees it; prints
 *                                  ufault_p50_us ufault_p99_us
 *   lazyraw warm MiB               populate MiB of fresh memory for writing
 *                                  and give it back; prints touch_gbps.
 *                                  The VM's host takes back guest memory left
 *                                  free for a while (free page reporting), and
 *                                  the first write to such a page waits for
 *                                  the host: warming first lets the raw rates
 *                                  and the migration meet the same memory.
 * Not a zdtm workload: it includes zdtm.h only for its helpers.
 */
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "zdtm.h"
#include "rawio.h"

#define CHUNK (4UL << 20)
#define PG 4096UL

static void serve(int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int one = 1, lfd = socket(AF_INET6, SOCK_STREAM, 0);
	char *buf = malloc(CHUNK);

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0)
		zdtm_fail("listen: %s", strerror(errno));
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(lfd, NULL, NULL);
		char mode;
		if (c < 0)
			continue;
		/* each connection in a child: a round trip can run beside a stream */
		pid_t pid = fork();
		if (pid != 0) {
			close(c);
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			continue;
		}
		close(lfd);
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (full_io(c, &mode, 1, 0) == 0 && mode == 'B') {
			while (read(c, buf, CHUNK) > 0)
				;
		} else if (mode == 'R') {
			char req[32];
			while (full_io(c, req, sizeof(req), 0) == 0 && full_io(c, buf, PG, 1) == 0)
				;
		}
		_exit(0);
	}
}

static void bulk(const char *host, const char *port, size_t mib)
{
	int fd = dial(host, port);
	char *buf = malloc(CHUNK);
	size_t total = mib << 20;

	memset(buf, 0x5a, CHUNK);
	if (full_io(fd, "B", 1, 1) < 0)
		zdtm_fail("send");
	double t0 = now_s();
	for (size_t done = 0; done < total; done += CHUNK)
		if (full_io(fd, buf, CHUNK, 1) < 0)
			zdtm_fail("send: %s", strerror(errno));
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, 1) > 0)
		;
	printf("tcp_gbps %.2f\n", total / (now_s() - t0) / 1e9);
}

static void rtt(const char *host, const char *port, int n, int gap_us)
{
	int fd = dial(host, port);
	char req[32] = { 0 }, rep[PG];
	double *t = calloc(n, sizeof(double));

	if (full_io(fd, "R", 1, 1) < 0)
		zdtm_fail("send");
	for (int i = 0; i < n; i++) {
		double t0 = now_s();
		if (full_io(fd, req, sizeof(req), 1) < 0 || full_io(fd, rep, sizeof(rep), 0) < 0)
			zdtm_fail("rtt");
		t[i] = (now_s() - t0) * 1e6;
		if (gap_us > 0)
			usleep(gap_us);
	}
	qsort(t, n, sizeof(double), cmp_d);
	printf("rtt_p50_us %.1f rtt_p99_us %.1f\n", t[n / 2], t[(n * 99) / 100]);
}

static void uffd_rate(size_t mib)
{
	size_t len = mib << 20;
	char *src = malloc(CHUNK);
	char *dst = mmap(NULL, len + PG * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .range = { (unsigned long)dst, len + PG * 4096 },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };

	if (fd < 0 || dst == MAP_FAILED || ioctl(fd, UFFDIO_API, &api) < 0 || ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
		zdtm_fail("userfaultfd: %s", strerror(errno));
	madvise(dst, len + PG * 4096, MADV_NOHUGEPAGE);
	memset(src, 0xa5, CHUNK);
	double t0 = now_s();
	for (size_t at = 0; at < len; at += CHUNK) {
		struct uffdio_copy c = { .dst = (unsigned long)dst + at, .src = (unsigned long)src, .len = CHUNK };
		if (ioctl(fd, UFFDIO_COPY, &c) < 0)
			zdtm_fail("UFFDIO_COPY: %s", strerror(errno));
	}
	double gbps = len / (now_s() - t0) / 1e9;
	t0 = now_s();
	for (size_t i = 0; i < 4096; i++) {
		struct uffdio_copy c = { .dst = (unsigned long)dst + len + i * PG, .src = (unsigned long)src, .len = PG };
		if (ioctl(fd, UFFDIO_COPY, &c) < 0)
			zdtm_fail("UFFDIO_COPY: %s", strerror(errno));
	}
	printf("copy_gbps %.2f page_copy_us %.2f\n", gbps, (now_s() - t0) * 1e6 / 4096);
}

struct ufault_srv {
	int fd;
	volatile int stop;
	char *src;
};

static void *ufault_serve(void *arg)
{
	struct ufault_srv *u = arg;
	struct pollfd p = { u->fd, POLLIN, 0 };

	while (!u->stop) {
		struct uffd_msg m;
		if (poll(&p, 1, 100) <= 0 || read(u->fd, &m, sizeof(m)) != sizeof(m) ||
		    m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		struct uffdio_copy c = { .dst = m.arg.pagefault.address & ~(PG - 1), .src = (unsigned long)u->src,
					 .len = PG };
		if (ioctl(u->fd, UFFDIO_COPY, &c) < 0 && errno != EEXIST)
			zdtm_fail("UFFDIO_COPY: %s", strerror(errno));
	}
	return NULL;
}

static void ufault(int n, int gap_us)
{
	size_t len = (size_t)n * PG;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ufault_srv u = { .fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK) };
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .range = { (unsigned long)mem, len }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	double *t = calloc(n, sizeof(double));
	volatile char sink = 0;
	pthread_t thr;

	u.src = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u.fd < 0 || mem == MAP_FAILED || u.src == MAP_FAILED || !t || ioctl(u.fd, UFFDIO_API, &api) < 0 ||
	    ioctl(u.fd, UFFDIO_REGISTER, &reg) < 0)
		zdtm_fail("userfaultfd: %s", strerror(errno));
	madvise(mem, len, MADV_NOHUGEPAGE);
	memset(u.src, 0x5a, PG);
	if (pthread_create(&thr, NULL, ufault_serve, &u))
		zdtm_fail("pthread_create");
	for (int i = 0; i < n; i++) {
		/* 7919 is prime: i * 7919 mod n visits every page once */
		size_t pg = (size_t)i * 7919 % (size_t)n;
		double t0 = now_s();
		sink += mem[pg * PG];
		t[i] = (now_s() - t0) * 1e6;
		if (gap_us > 0)
			usleep(gap_us);
	}
	u.stop = 1;
	pthread_join(thr, NULL);
	(void)sink;
	qsort(t, n, sizeof(double), cmp_d);
	printf("ufault_p50_us %.1f ufault_p99_us %.1f\n", t[n / 2], t[(n * 99) / 100]);
}

static void warm(size_t mib)
{
	size_t len = mib << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		zdtm_fail("mmap %zu MiB: %s", mib, strerror(errno));
	madvise(p, len, MADV_NOHUGEPAGE);
	double t0 = now_s();
	if (madvise(p, len, MADV_POPULATE_WRITE) < 0)
		zdtm_fail("MADV_POPULATE_WRITE: %s", strerror(errno));
	printf("touch_gbps %.2f\n", len / (now_s() - t0) / 1e9);
	munmap(p, len);
}

int main(int argc, char **argv)
{
	zdtm_init("lazyraw");
	if (argc == 3 && !strcmp(argv[1], "serve"))
		serve(atoi(argv[2]));
	else if (argc == 5 && !strcmp(argv[1], "bulk"))
		bulk(argv[2], argv[3], strtoul(argv[4], NULL, 0));
	else if ((argc == 5 || argc == 6) && !strcmp(argv[1], "rtt"))
		rtt(argv[2], argv[3], atoi(argv[4]), argc == 6 ? atoi(argv[5]) : 0);
	else if (argc == 3 && !strcmp(argv[1], "uffd"))
		uffd_rate(strtoul(argv[2], NULL, 0));
	else if (argc == 4 && !strcmp(argv[1], "ufault"))
		ufault(atoi(argv[2]), atoi(argv[3]));
	else if (argc == 3 && !strcmp(argv[1], "warm"))
		warm(strtoul(argv[2], NULL, 0));
	else
		zdtm_fail("usage: lazyraw serve PORT | bulk HOST PORT MiB | rtt HOST PORT N [GAP] | uffd MiB | ufault N GAP | warm MiB");
	return 0;
}
