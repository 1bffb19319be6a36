// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control protocol between a restore and the destination's fault
 * handler: a fixed header with counts, the arrays behind it, and the uffd
 * and pidfds as SCM_RIGHTS on the header. Both ends are on one host and
 * built from one tree, so the structs travel in host byte order; the counts
 * are still bounded before anything is allocated from them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fd.h"
#include "cr/lazy-internal.h"

#define MAX_FDS 4

/* The peer may be gone: an error, not SIGPIPE. */
static int send_all(int sock, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -(n < 0 ? errno : EIO);
		p += n;
		len -= n;
	}
	return 0;
}

int lazy_ctl_payload_size(const struct lazy_ctl_hdr *h, size_t *ret)
{
	if (h->magic != LAZY_CTL_MAGIC)
		return err_set(EBADMSG, "lazy-pages control: bad magic 0x%x", h->magic);
	if (h->type < LAZY_CTL_TASK || h->type > LAZY_CTL_READY)
		return err_set(EBADMSG, "lazy-pages control: unknown message type %u", h->type);
	if (h->n_vmas > LAZY_CTL_MAX_ITEMS || h->n_runs > LAZY_CTL_MAX_ITEMS || h->n_fds > MAX_FDS)
		return err_set(EBADMSG, "lazy-pages control: counts out of range");
	if (h->type != LAZY_CTL_TASK && (h->n_vmas || h->n_runs))
		return err_set(EBADMSG, "lazy-pages control: payload on a message that has none");
	*ret = (size_t)h->n_vmas * sizeof(struct lazy_ctl_vma) + (size_t)h->n_runs * sizeof(struct lazy_run);
	return 0;
}

int lazy_ctl_send(int sock, const struct lazy_ctl_hdr *h, const void *payload, size_t len,
		  const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)h, .iov_len = sizeof(*h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int r;

	if (nfds > MAX_FDS)
		return err_set(EINVAL, "too many fds");
	if (nfds) {
		memset(u.buf, 0, sizeof(u.buf));
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*h))
		return err_sys(n < 0 ? errno : EIO, "lazy-pages control: sending");
	if (len && (r = send_all(sock, payload, len)) < 0)
		return err_sys(-r, "lazy-pages control: sending");
	return 0;
}

int lazy_ctl_recv(int sock, struct lazy_ctl_hdr *h, void **ret_payload, int *fds, size_t max_fds,
		  bool *ret_eof)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = h, .iov_len = sizeof(*h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	size_t nfds = 0, len;
	ssize_t n;
	int r;

	*ret_eof = false;
	*ret_payload = NULL;
	for (size_t i = 0; i < max_fds; i++)
		fds[i] = -1;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		*ret_eof = true;
		return 0;
	}
	if (n < 0)
		return err_sys(errno, "lazy-pages control: receiving");
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (nfds < max_fds)
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	if (n != (ssize_t)sizeof(*h))
		return err_set(EBADMSG, "lazy-pages control: short header");
	if ((r = lazy_ctl_payload_size(h, &len)) < 0)
		return r;
	if (nfds != h->n_fds)
		return err_set(EBADMSG, "lazy-pages control: %zu fds, the header says %u", nfds, h->n_fds);
	if (!len)
		return 0;
	void *p = malloc(len);
	if (!p)
		return -ENOMEM;
	if (read_full(sock, p, len) != (ssize_t)len) {
		free(p);
		return err_set(EBADMSG, "lazy-pages control: short payload");
	}
	*ret_payload = p;
	return 0;
}

int lazy_ctl_reply_send(int sock, int err, const char *msg)
{
	struct lazy_ctl_reply r = { .err = err };

	snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	int e = send_all(sock, &r, sizeof(r));
	if (e < 0)
		return err_sys(-e, "lazy-pages control: replying");
	return 0;
}

int lazy_ctl_reply_recv(int sock, const char *what)
{
	struct lazy_ctl_reply r;
	ssize_t n = read_full(sock, &r, sizeof(r));

	if (n != (ssize_t)sizeof(r))
		return err_set(EPIPE, "the lazy-pages handler went away (%s)", what);
	r.msg[sizeof(r.msg) - 1] = 0;
	if (r.err)
		return err_set(r.err > 0 ? r.err : EIO, "lazy-pages handler: %s", r.msg);
	return 0;
}
