// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unix sockets. The task's socket itself (pidfd_getfd) tells its type, name,
 * peer name and whether it listens; sock_diag, asked in the task's network
 * namespace, tells what only the kernel knows: the peer's inode (which
 * makes a pair of two fds of the tree) and a listener's backlog and
 * waiting connections. Data in flight is read without losing it: a stream
 * is peeked; datagrams can only be peeked one at a time, so the messages
 * are taken out and sent straight back from the peer's end, in order (the
 * tree is stopped: nobody else writes to it meanwhile).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/files-internal.h"

#define UNIX_STATE_UNCONNECTED 1
#define UNIX_STATE_CONNECTED 3
#define UNIX_STATE_LISTEN 10
#define DGRAM_MAX (256 * 1024)

struct unix_diag_info {
	uint32_t peer_ino;
	uint32_t rqueue, wqueue; /* listener: waiting connections, backlog */
};

/* A netlink socket in the network namespace of pid: sock_diag only sees
 * the sockets of its own namespace. setns() changes this thread only. */
static int diag_socket(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	_cleanup_close_ int target = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (target < 0 || self < 0 || fstat(target, &a) < 0 || fstat(self, &b) < 0)
		return err_sys(errno, "opening the network namespace of %d", pid);
	bool other = a.st_ino != b.st_ino || a.st_dev != b.st_dev;
	if (other && setns(target, CLONE_NEWNET) < 0)
		return err_sys(errno, "entering the network namespace of %d", pid);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int e = errno;
	if (other && setns(self, CLONE_NEWNET) < 0)
		abort(); /* we would go on in the wrong namespace */
	if (fd < 0)
		return err_sys(e, "opening sock_diag");
	return fd;
}

static int parse_reply(const uint8_t *buf, ssize_t n, struct unix_diag_info *ret)
{
	const struct nlmsghdr *h = (const void *)buf;
	if (!NLMSG_OK(h, (size_t)n))
		return err_set(EBADMSG, "short sock_diag reply");
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);
		return err_sys(e->error ? -e->error : EIO, "sock_diag");
	}
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= (int)sizeof(uint32_t))
			memcpy(&ret->peer_ino, RTA_DATA(a), sizeof(uint32_t));
		if (a->rta_type == UNIX_DIAG_RQLEN && RTA_PAYLOAD(a) >= (int)sizeof(struct unix_diag_rqlen)) {
			struct unix_diag_rqlen q;
			memcpy(&q, RTA_DATA(a), sizeof(q));
			ret->rqueue = q.udiag_rqueue;
			ret->wqueue = q.udiag_wqueue;
		}
	}
	return 0;
}

static int unix_diag(pid_t pid, uint32_t ino, struct unix_diag_info *ret)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_family = AF_UNIX, .udiag_ino = ino,
			 .udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN,
			 .udiag_cookie = { ~0U, ~0U } },
	};
	uint8_t buf[4096] __attribute__((aligned(8)));

	memset(ret, 0, sizeof(*ret));
	_cleanup_close_ int fd = diag_socket(pid);
	if (fd < 0)
		return fd;
	if (send(fd, &msg, sizeof(msg), 0) != sizeof(msg))
		return err_sys(errno, "sock_diag request");
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return err_sys(errno, "sock_diag reply");
	return parse_reply(buf, n, ret);
}

static const struct fd_obj *fd_by_ino(const struct file_table *ft, uint32_t ino)
{
	for (size_t i = 0; i < ft->n_fds; i++)
		if ((ft->fds[i].st.st_mode & S_IFMT) == S_IFSOCK && ft->fds[i].st.st_ino == ino)
			return &ft->fds[i];
	return NULL;
}

static int set_bytes(ProtobufCBinaryData *b, const void *data, size_t len)
{
	b->data = malloc(len ? len : 1);
	if (!b->data)
		return err_set(ENOMEM, "out of memory");
	memcpy(b->data, data, len);
	b->len = len;
	return 0;
}

/* sun_path bytes of a name (abstract: the leading NUL kept), none if unnamed. */
static int name_of(int sk, bool peer, ProtobufCBinaryData *ret, bool *has)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int r = peer ? getpeername(sk, (struct sockaddr *)&sa, &len) : getsockname(sk, (struct sockaddr *)&sa, &len);
	*has = false;
	if (r < 0)
		return peer && errno == ENOTCONN ? 0 : err_sys(errno, "reading a unix socket's name");
	if (len <= offsetof(struct sockaddr_un, sun_path))
		return 0;
	size_t n = len - offsetof(struct sockaddr_un, sun_path);
	if (sa.sun_path[0])
		n = strnlen(sa.sun_path, n);
	*has = true;
	return set_bytes(ret, sa.sun_path, n);
}

static int add_queue(UnixSkEntry *u, const void *data, size_t len)
{
	ProtobufCBinaryData *q = realloc(u->queue, (u->n_queue + 1) * sizeof(*q));
	if (!q)
		return err_set(ENOMEM, "out of memory");
	u->queue = q;
	int r = set_bytes(&q[u->n_queue], data, len);
	if (r >= 0)
		u->n_queue++;
	return r;
}

/* Peek, with room for fds: a message carrying fds cannot be saved (peeking
 * even installs copies of them here, which we close). */
static ssize_t peek(const struct fd_obj *f, int sk, void *buf, size_t len, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 64)];
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(sk, &mh, flags | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return err_sys(errno, "reading the queue of " FD_FMT, FD_ARGS(f));
	bool fds = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int *p = (int *)CMSG_DATA(c);
			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(p[i]);
			fds = true;
		}
	if (fds || (mh.msg_flags & MSG_CTRUNC))
		return err_set(ENOTSUP, FD_FMT " is a unix socket with file descriptors in flight; "
					"not supported", FD_ARGS(f));
	return n;
}

static int stream_queue(const struct fd_obj *f, int sk, UnixSkEntry *u)
{
	int avail = 0;
	if (ioctl(sk, FIONREAD, &avail) < 0)
		return err_sys(errno, "FIONREAD of " FD_FMT, FD_ARGS(f));
	if (!avail)
		return 0;
	_cleanup_free_ uint8_t *buf = malloc(avail);
	if (!buf)
		return err_set(ENOMEM, "out of memory");
	ssize_t n = peek(f, sk, buf, avail, MSG_PEEK);
	if (n < 0)
		return (int)n;
	return add_queue(u, buf, n);
}

/* Datagrams: out one by one, then back in from the peer, in order. */
static int dgram_queue(const struct fd_obj *f, int sk, const struct fd_obj *peer, UnixSkEntry *u)
{
	_cleanup_free_ uint8_t *buf = malloc(DGRAM_MAX);
	if (!buf)
		return err_set(ENOMEM, "out of memory");
	for (;;) {
		ssize_t n = peek(f, sk, buf, DGRAM_MAX, MSG_PEEK);
		if (n == -EAGAIN) {
			err_clear();
			break;
		}
		if (n < 0)
			return (int)n;
		int r = add_queue(u, buf, n);
		if (r < 0)
			return r;
		if (recv(sk, buf, DGRAM_MAX, MSG_DONTWAIT) != n)
			return err_sys(errno, "taking a datagram of " FD_FMT, FD_ARGS(f));
	}
	if (!u->n_queue)
		return 0;
	_cleanup_close_ int back = files_take_fd(peer);
	if (back < 0)
		return back;
	for (size_t i = 0; i < u->n_queue; i++)
		if (send(back, u->queue[i].data, u->queue[i].len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
		    (ssize_t)u->queue[i].len)
			return err_sys(errno, "putting datagram %zu back into " FD_FMT, i, FD_ARGS(f));
	return 0;
}

static int fill_connected(struct dump_ctx *ctx, struct file_table *ft, const struct fd_obj *f,
			  int sk, const struct unix_diag_info *d, UnixSkEntry *u)
{
	const struct fd_obj *peer = d->peer_ino ? fd_by_ino(ft, d->peer_ino) : NULL;
	bool has;
	int r;

	u->state = UNIX_STATE_CONNECTED;
	if (peer) {
		u->has_peer_id = true;
		u->peer_id = d->peer_ino; /* an inode until files_unix_link() */
		return u->type == SOCK_STREAM ? stream_queue(f, sk, u) : dgram_queue(f, sk, peer, u);
	}
	if ((r = name_of(sk, true, &u->peer_name, &has)) < 0)
		return r;
	u->has_peer_name = has;
	if (!has)
		return err_set(ENOTSUP, FD_FMT " is a unix socket connected to an unnamed socket "
					"outside the tree; not supported", FD_ARGS(f));
	if (u->type != SOCK_DGRAM && !ctx->o->ext_unix_sk)
		return err_set(ENOTSUP, FD_FMT " is a unix socket connected to %.*s outside the tree; "
					"use --ext-unix-sk", FD_ARGS(f), (int)u->peer_name.len,
			       (const char *)u->peer_name.data);
	int avail = 0;
	if (ioctl(sk, FIONREAD, &avail) == 0 && avail)
		return err_set(ENOTSUP, FD_FMT " is a unix socket connected outside the tree with "
					"data waiting to be read; not supported", FD_ARGS(f));
	return 0;
}

int files_unix_fill(struct dump_ctx *ctx, struct file_table *ft, const struct fd_obj *f, int sk,
		    int type, FileEntry *e)
{
	struct unix_diag_info d;
	int listening = 0, r;
	bool has;
	socklen_t len = sizeof(listening);

	e->kind = FILE_KIND__FILE_UNIX;
	UnixSkEntry *u = e->unix_sk = malloc(sizeof(*e->unix_sk));
	if (!u)
		return err_set(ENOMEM, "out of memory");
	unix_sk_entry__init(u);
	u->type = type;
	u->flags = f->flags & ~O_CLOEXEC;
	u->state = UNIX_STATE_UNCONNECTED;
	if ((r = name_of(sk, false, &u->name, &has)) < 0)
		return r;
	u->has_name = has;
	if ((r = unix_diag(f->task->pid, f->st.st_ino, &d)) < 0)
		return err_wrap(r, FD_FMT, FD_ARGS(f));
	getsockopt(sk, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
	if (listening) {
		if (d.rqueue)
			return err_set(ENOTSUP, FD_FMT " is a listening unix socket with %u connections "
						"not yet accepted; not supported", FD_ARGS(f), d.rqueue);
		u->state = UNIX_STATE_LISTEN;
		u->has_backlog = true;
		u->backlog = d.wqueue;
		return 0;
	}
	/* a peer not yet accepted has no inode: getpeername() still knows */
	struct sockaddr_un pa;
	socklen_t plen = sizeof(pa);
	if (d.peer_ino || getpeername(sk, (struct sockaddr *)&pa, &plen) == 0)
		return fill_connected(ctx, ft, f, sk, &d, u);
	int avail = 0;
	if (ioctl(sk, FIONREAD, &avail) == 0 && avail)
		return err_set(ENOTSUP, FD_FMT " is an unconnected unix socket with data waiting to "
					"be read; not supported", FD_ARGS(f));
	return 0;
}

int files_unix_link(struct file_table *ft)
{
	for (size_t i = 0; i < ft->n_files; i++) {
		UnixSkEntry *u = ft->files[i]->unix_sk;
		if (!u || !u->has_peer_id)
			continue;
		const struct fd_obj *peer = fd_by_ino(ft, u->peer_id);
		if (!peer || !peer->file_id)
			return err_set(EBADMSG, "unix socket %u: its peer (inode %u) has no file",
				       ft->files[i]->id, u->peer_id);
		u->peer_id = peer->file_id;
	}
	return 0;
}
