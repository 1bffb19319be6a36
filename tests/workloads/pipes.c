// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pipes: the parent writes 40000 bytes into a pipe that its child does not
 * read before the dump, so they are in flight in the pipe buffer. After
 * SIGUSR1 the parent writes a 6-byte trailer and closes its end; the child
 * must read exactly the 40000 bytes and the trailer, then EOF: the pipe is
 * one object shared by both again, with its contents.
 */
#include "zdtm.h"

#define INFLIGHT 40000
#define TRAILER "after\n"

static unsigned char pattern(size_t i) { return (unsigned char)(i * 13 + (i >> 8)); }

static void reader(int fd)
{
	static unsigned char buf[INFLIGHT + 64];
	size_t got = 0;
	ssize_t n;

	zdtm_wait();
	while ((n = read(fd, buf + got, sizeof(buf) - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			zdtm_fail("read: %s", strerror(errno));
		got += n;
		if (got == sizeof(buf))
			break;
	}
	if (got != INFLIGHT + strlen(TRAILER))
		zdtm_fail("read %zu bytes, want %zu", got, INFLIGHT + strlen(TRAILER));
	for (size_t i = 0; i < INFLIGHT; i++)
		if (buf[i] != pattern(i))
			zdtm_fail("byte %zu is 0x%x, want 0x%x", i, buf[i], pattern(i));
	if (memcmp(buf + INFLIGHT, TRAILER, strlen(TRAILER)))
		zdtm_fail("trailer is wrong");
	_exit(0);
}

int main(void)
{
	static unsigned char data[INFLIGHT];
	int p[2];
	pid_t kid;

	zdtm_init("pipes");
	zdtm_check(pipe(p));
	kid = fork();
	zdtm_check(kid);
	if (kid == 0) {
		close(p[1]);
		reader(p[0]);
	}
	close(p[0]);
	for (size_t i = 0; i < INFLIGHT; i++)
		data[i] = pattern(i);
	if (write(p[1], data, INFLIGHT) != INFLIGHT)
		zdtm_fail("write: %s", strerror(errno));
	zdtm_ready();
	zdtm_wait();
	kill(kid, SIGUSR1);
	if (write(p[1], TRAILER, strlen(TRAILER)) != (ssize_t)strlen(TRAILER))
		zdtm_fail("write trailer: %s", strerror(errno));
	close(p[1]);
	zdtm_reap(kid, "reader");
	zdtm_pass();
}
