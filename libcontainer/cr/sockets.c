// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sockets, asked directly: pidfd_getfd gives us the task's socket itself, so
 * getsockname/getsockopt/TCP_INFO tell its family, type, addresses, state,
 * options and (for a listener) its backlog. Supported: TCP listeners, TCP
 * sockets not yet connected, UDP sockets, IPv4 and IPv6. An established
 * TCP connection is refused by name unless tcp_established is set; then
 * tcp-repair.c reads it in repair mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/files-internal.h"
#include "cr/tcp-repair.h"

#define SK_STATE_CLOSED 7 /* TCP_CLOSE; also a bound/unbound UDP socket */

static int getint(int sk, int level, int name, int *ret)
{
	socklen_t len = sizeof(*ret);
	if (getsockopt(sk, level, name, ret, &len) < 0)
		return -errno;
	return 0;
}

static int set_addr(const struct sockaddr_storage *ss, ProtobufCBinaryData *addr, uint32_t *port)
{
	const void *src;
	size_t len;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		src = &in->sin_addr;
		len = 4;
		*port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		src = &in6->sin6_addr;
		len = 16;
		*port = ntohs(in6->sin6_port);
	}
	addr->data = malloc(len);
	if (!addr->data)
		return err_set(ENOMEM, "out of memory");
	memcpy(addr->data, src, len);
	addr->len = len;
	return 0;
}

static int add_opt(InetSkEntry *ie, int sk, int level, int name)
{
	int v;
	if (getint(sk, level, name, &v) < 0 || !v)
		return 0;
	SkOptEntry *o = malloc(sizeof(*o));
	void *data = malloc(sizeof(v));
	if (!o || !data) {
		free(o);
		free(data);
		return err_set(ENOMEM, "out of memory");
	}
	sk_opt_entry__init(o);
	o->level = level;
	o->name = name;
	memcpy(data, &v, sizeof(v));
	o->value.data = data;
	o->value.len = sizeof(v);
	SkOptEntry **n = realloc(ie->opts, (ie->n_opts + 1) * sizeof(*n));
	if (!n) {
		protobuf_c_message_free_unpacked(&o->base, NULL);
		return err_set(ENOMEM, "out of memory");
	}
	ie->opts = n;
	ie->opts[ie->n_opts++] = o;
	return 0;
}

static int tcp_state(const struct fd_obj *f, int sk, InetSkEntry *ie, bool established_ok)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return err_sys(errno, "TCP_INFO of " FD_FMT, FD_ARGS(f));
	ie->state = ti.tcpi_state;
	if (ti.tcpi_state == TCP_LISTEN) {
		/* for a listener the kernel reports its backlog in tcpi_sacked */
		ie->has_backlog = true;
		ie->backlog = ti.tcpi_sacked;
		return 0;
	}
	if (ti.tcpi_state == TCP_CLOSE || (ti.tcpi_state == TCP_ESTABLISHED && established_ok))
		return 0;
	if (ti.tcpi_state == TCP_ESTABLISHED)
		return err_set(ENOTSUP, FD_FMT " is an established TCP connection; use "
					       "--tcp-established", FD_ARGS(f));
	return err_set(ENOTSUP, FD_FMT " is a TCP connection in state %u; not supported",
		       FD_ARGS(f), ti.tcpi_state);
}

static int fill_inet(struct dump_ctx *ctx, const struct fd_obj *f, int sk, int family, int type,
		     int proto, FileEntry *e)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r;

	e->kind = FILE_KIND__FILE_INET;
	InetSkEntry *ie = e->inet = malloc(sizeof(*e->inet));
	if (!ie)
		return err_set(ENOMEM, "out of memory");
	inet_sk_entry__init(ie);
	ie->family = family;
	ie->type = type;
	ie->proto = proto;
	ie->flags = f->flags & ~O_CLOEXEC;
	ie->state = SK_STATE_CLOSED;
	if (type == SOCK_STREAM && (r = tcp_state(f, sk, ie, ctx->o->tcp_established)) < 0)
		return r;
	if (getsockname(sk, (struct sockaddr *)&ss, &len) < 0)
		return err_sys(errno, "getsockname of " FD_FMT, FD_ARGS(f));
	if ((r = set_addr(&ss, &ie->src_addr, &ie->src_port)) < 0)
		return r;
	len = sizeof(ss);
	if (type == SOCK_DGRAM && getpeername(sk, (struct sockaddr *)&ss, &len) == 0) {
		ie->has_dst_port = true;
		if ((r = set_addr(&ss, &ie->dst_addr, &ie->dst_port)) < 0)
			return r;
	}
	if ((r = add_opt(ie, sk, SOL_SOCKET, SO_REUSEADDR)) < 0 ||
	    (r = add_opt(ie, sk, SOL_SOCKET, SO_REUSEPORT)) < 0 ||
	    (r = add_opt(ie, sk, SOL_SOCKET, SO_KEEPALIVE)) < 0)
		return r;
	if (family == AF_INET6) {
		int v6only = 0;
		getint(sk, IPPROTO_IPV6, IPV6_V6ONLY, &v6only);
		ie->has_v6only = true;
		ie->v6only = v6only;
	}
	if (type == SOCK_STREAM && ie->state == TCP_ESTABLISHED)
		return tcp_repair_dump(ctx, f, sk, ie);
	return 0;
}

static const char *family_name(int family)
{
	switch (family) {
	case AF_UNIX:
		return "a unix socket";
	case AF_NETLINK:
		return "a netlink socket";
	case AF_PACKET:
		return "a packet socket";
	default:
		return "a socket";
	}
}

int sockets_fill(struct dump_ctx *ctx, const struct fd_obj *f, FileEntry *e)
{
	int family, type, proto, r;

	_cleanup_close_ int sk = files_take_fd(f);
	if (sk < 0)
		return sk;
	if ((r = getint(sk, SOL_SOCKET, SO_DOMAIN, &family)) < 0 ||
	    (r = getint(sk, SOL_SOCKET, SO_TYPE, &type)) < 0 ||
	    (r = getint(sk, SOL_SOCKET, SO_PROTOCOL, &proto)) < 0)
		return err_sys(-r, "reading the kind of socket " FD_FMT, FD_ARGS(f));
	if ((family == AF_INET || family == AF_INET6) && (type == SOCK_STREAM || type == SOCK_DGRAM) &&
	    (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
		return fill_inet(ctx, f, sk, family, type, proto, e);
	}
	if (family == AF_UNIX)
		return files_unix_fill(ctx, ctx->files, f, sk, type, e);
	return err_set(ENOTSUP, FD_FMT " is %s (family %d, type %d); not supported", FD_ARGS(f),
		       family_name(family), family, type);
}
