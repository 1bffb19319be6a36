// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "base/error.h"
#include "runtime/sync.h"

int sync_pair(int ret[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ret) < 0)
		return err_sys(errno, "creating sync socket");
	return 0;
}

static int sync_write(int fd, const struct sync_msg *m)
{
	ssize_t n;

	do
		n = send(fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return 0;
}

int sync_send(int fd, enum sync_type type, int32_t value)
{
	struct sync_msg m = { .type = type, .value = value };

	return sync_write(fd, &m);
}

int sync_send_error(int fd, int r)
{
	struct sync_msg m = { .type = SYNC_ERROR, .value = r };
	const char *msg = err_msg();

	if (!msg[0])
		msg = strerror(r < 0 ? -r : EINVAL);
	strncpy(m.text, msg, sizeof(m.text) - 1);
	return sync_write(fd, &m);
}

int sync_recv(int fd, struct sync_msg *ret)
{
	ssize_t n;

	do
		n = recv(fd, ret, sizeof(*ret), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	ret->text[sizeof(ret->text) - 1] = '\0';
	return 0;
}

int sync_expect(int fd, enum sync_type want, const char *what, int32_t *ret_value)
{
	struct sync_msg m;
	int r = sync_recv(fd, &m);

	if (r == -EPIPE)
		return err_set(EPIPE, "%s: the child exited unexpectedly", what);
	if (r < 0)
		return err_sys(-r, "%s: reading sync socket", what);
	if (m.type == SYNC_ERROR)
		return err_set(m.value < 0 ? -m.value : EIO, "%s", m.text);
	if (m.type != want)
		return err_set(EPROTO, "%s: unexpected sync message %u (want %u)", what, m.type, want);
	if (ret_value)
		*ret_value = m.value;
	return 0;
}
