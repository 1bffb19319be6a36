// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore: unix sockets. Every socket is made by injection in the first
 * task that holds it (its mount namespace resolves bound paths, its net
 * namespace holds abstract names, and the peer credentials name it, not
 * the engine) and taken out with pidfd_getfd. A pair whose two ends are in
 * the tree is one injected socketpair(); the data waiting to be read on an
 * end is sent into it from its peer, message by message. A listening or
 * bound socket binds its name again (a stale socket file left by the dumped
 * process is replaced) and listens.
 */
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/restore-internal.h"

#define UNIX_STATE_CONNECTED 3
#define UNIX_STATE_LISTEN 10

static int refill(int to, const UnixSkEntry *u)
{
	for (size_t i = 0; i < u->n_queue; i++)
		if (send(to, u->queue[i].data, u->queue[i].len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
		    (ssize_t)u->queue[i].len)
			return err_sys(errno ? errno : EIO, "putting back %zu queued bytes", u->queue[i].len);
	return 0;
}

static int set_flags(int fd, const UnixSkEntry *u)
{
	if ((u->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return err_sys(errno, "O_NONBLOCK");
	return 0;
}

static int make_pair(struct rst_ctx *c, struct rst_task *t, size_t idx)
{
	UnixSkEntry *u = c->files[idx]->unix_sk;
	int pi = rst_file_index(c, u->peer_id);
	unsigned long addr;
	int sv[2] = { -1, -1 }, r;

	if (pi < 0 || !c->files[pi]->unix_sk)
		return err_set(EBADMSG, "unix socket %u: peer %u is not a unix socket of the image",
			       c->files[idx]->id, u->peer_id);
	UnixSkEntry *pu = c->files[pi]->unix_sk;
	if ((r = puppet_scratch_put(c, t->host_pid, 0, sv, sizeof(sv), &addr)) < 0)
		return r;
	long ret = PUPPET_CALL(c, t->host_pid, "socketpair(AF_UNIX)", SYS_socketpair, AF_UNIX,
			       u->type | SOCK_CLOEXEC, 0, addr);
	if (ret < 0)
		return (int)ret;
	if ((r = puppet_scratch_get(c, t->host_pid, 0, sv, sizeof(sv))) < 0)
		return r;
	int mine = rst_files_take(c, t, sv[0]);
	int peer = rst_files_take(c, t, sv[1]);
	if (mine < 0 || peer < 0) {
		r = mine < 0 ? mine : peer;
		goto fail;
	}
	/* what waits to be read on one end was sent from the other */
	if ((r = refill(peer, u)) < 0 || (r = refill(mine, pu)) < 0 || (r = set_flags(mine, u)) < 0 ||
	    (r = set_flags(peer, pu)) < 0)
		goto fail;
	c->file_fds[pi] = peer;
	return mine;
fail:
	if (mine >= 0)
		close(mine);
	if (peer >= 0)
		close(peer);
	return r;
}

static socklen_t sockaddr_of(const ProtobufCBinaryData *name, struct sockaddr_un *sa)
{
	size_t n = name->len < sizeof(sa->sun_path) - 1 ? name->len : sizeof(sa->sun_path) - 1;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name->data, n);
	/* a path ends with its NUL, an abstract name is exactly its bytes */
	return offsetof(struct sockaddr_un, sun_path) + n + (n && name->data[0] ? 1 : 0);
}

static long bind_name(struct rst_ctx *c, struct rst_task *t, long pfd, const ProtobufCBinaryData *name)
{
	struct sockaddr_un sa;
	socklen_t len = sockaddr_of(name, &sa);
	unsigned long addr;
	int r = puppet_scratch_put(c, t->host_pid, 0, &sa, sizeof(sa), &addr);
	if (r < 0)
		return r;
	long ret = PUPPET_CALL(c, t->host_pid, "bind(AF_UNIX)", SYS_bind, pfd, addr, len);
	if (ret == -EADDRINUSE && sa.sun_path[0]) {
		/* the dumped socket's file: its owner is gone */
		unsigned long path = addr + offsetof(struct sockaddr_un, sun_path);
		ret = PUPPET_CALL(c, t->host_pid, "unlink (stale socket)", SYS_unlink, path);
		if (ret >= 0)
			ret = PUPPET_CALL(c, t->host_pid, "bind(AF_UNIX)", SYS_bind, pfd, addr, len);
	}
	return ret < 0 ? err_wrap((int)ret, "unix socket name %s%s", sa.sun_path[0] ? "" : "@",
				  sa.sun_path[0] ? sa.sun_path : sa.sun_path + 1)
		       : 0;
}

static int make_single(struct rst_ctx *c, struct rst_task *t, UnixSkEntry *u)
{
	long pfd, ret = 0;

	bool named_peer = u->has_peer_name && u->peer_name.len;

	if (u->n_queue)
		return err_set(ENOTSUP, "a unix socket with queued data and no peer in the tree");
	if (u->state == UNIX_STATE_CONNECTED && !named_peer)
		return err_set(ENOTSUP, "a unix socket connected to an unnamed peer outside the tree");
	/* a stream reconnects as a new connection: only when asked to */
	if (u->state == UNIX_STATE_CONNECTED && u->type != SOCK_DGRAM && !c->o->ext_unix_sk)
		return err_set(ENOTSUP, "a unix stream connected outside the tree; use --ext-unix-sk");
	pfd = PUPPET_CALL(c, t->host_pid, "socket(AF_UNIX)", SYS_socket, AF_UNIX,
			  u->type | SOCK_CLOEXEC | ((u->flags & O_NONBLOCK) ? SOCK_NONBLOCK : 0), 0);
	if (pfd < 0)
		return (int)pfd;
	if (u->has_name && u->name.len)
		ret = bind_name(c, t, pfd, &u->name);
	if (ret >= 0 && u->state == UNIX_STATE_LISTEN)
		ret = PUPPET_CALL(c, t->host_pid, "listen", SYS_listen, pfd, u->has_backlog ? u->backlog : 128);
	if (ret >= 0 && named_peer) {
		struct sockaddr_un sa;
		socklen_t len = sockaddr_of(&u->peer_name, &sa);
		unsigned long addr;
		ret = puppet_scratch_put(c, t->host_pid, 0, &sa, sizeof(sa), &addr);
		if (ret >= 0)
			ret = PUPPET_CALL(c, t->host_pid, "connect(AF_UNIX)", SYS_connect, pfd, addr, len);
	}
	if (ret < 0) {
		PUPPET_CALL(c, t->host_pid, "close", SYS_close, pfd);
		return (int)ret;
	}
	return rst_files_take(c, t, pfd);
}

int rst_unix_make(struct rst_ctx *c, struct rst_task *t, size_t idx)
{
	UnixSkEntry *u = c->files[idx]->unix_sk;

	if (u->type != SOCK_STREAM && u->type != SOCK_DGRAM && u->type != SOCK_SEQPACKET)
		return err_set(EBADMSG, "unix socket of type %u", u->type);
	if (u->has_peer_id)
		return make_pair(c, t, idx);
	return make_single(c, t, u);
}
