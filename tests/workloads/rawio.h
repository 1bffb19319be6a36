/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the bench's raw-rate programs (lazyraw, lazypipe): a clock,
 * whole reads and writes, a TCP dial, a sort order for latencies. */
#ifndef RAWIO_H
#define RAWIO_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include "zdtm.h"

static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int full_io(int fd, void *buf, size_t len, int wr)
{
	char *p = buf;
	while (len) {
		ssize_t n = wr ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static inline int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* numeric addresses only: a static binary has no resolver to speak of */
static inline int dial(const char *host, const char *port)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(atoi(port)) };
	struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	struct sockaddr *sa = (struct sockaddr *)&sa4;
	socklen_t len = sizeof(sa4);
	int one = 1, fd;

	if (inet_pton(AF_INET, host, &sa4.sin_addr) != 1) {
		if (inet_pton(AF_INET6, host, &sa6.sin6_addr) != 1)
			zdtm_fail("not a numeric address: %s", host);
		sa = (struct sockaddr *)&sa6;
		len = sizeof(sa6);
	}
	fd = socket(sa->sa_family, SOCK_STREAM, 0);
	for (int i = 0; i < 100 && connect(fd, sa, len) < 0; i++)
		usleep(20000);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

#endif
