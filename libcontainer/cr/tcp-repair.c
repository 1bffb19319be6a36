// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dumping an established TCP connection from outside its task: see
 * tcp-repair.h. Everything is read from the socket itself in repair mode,
 * where MSG_PEEK on a chosen queue returns its bytes without consuming them
 * and TCP_MAXSEG reports the clamp the peer announced.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "cr/files-internal.h"
#include "cr/tcp-repair.h"

static int setint(int sk, int level, int name, int v)
{
	return setsockopt(sk, level, name, &v, sizeof(v)) < 0 ? -errno : 0;
}

static int getu32(int sk, int level, int name, uint32_t *ret)
{
	int v;
	socklen_t len = sizeof(v);

	if (getsockopt(sk, level, name, &v, &len) < 0)
		return -errno;
	*ret = v;
	return 0;
}

static int set_peer(int sk, InetSkEntry *ie)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const void *src;
	size_t alen;

	if (getpeername(sk, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&ss;
		src = &in->sin_addr;
		alen = 4;
		ie->dst_port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)&ss;
		src = &in6->sin6_addr;
		alen = 16;
		ie->dst_port = ntohs(in6->sin6_port);
	}
	ie->has_dst_port = true;
	ie->dst_addr.data = malloc(alen);
	if (!ie->dst_addr.data)
		return -ENOMEM;
	memcpy(ie->dst_addr.data, src, alen);
	ie->dst_addr.len = alen;
	return 0;
}

/* One queue: its sequence number (the next byte to write for the send
 * queue, the next byte expected for the receive queue) and its bytes. */
static int read_queue(int sk, int queue, int size_ioctl, uint32_t *ret_seq, ProtobufCBinaryData *ret)
{
	int size = 0, r;
	ssize_t n;

	if ((r = setint(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, queue)) < 0 ||
	    (r = getu32(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, ret_seq)) < 0)
		return r;
	if (ioctl(sk, size_ioctl, &size) < 0)
		return -errno;
	if (size <= 0)
		return 0;
	ret->data = malloc(size);
	if (!ret->data)
		return -ENOMEM;
	n = recv(sk, ret->data, size, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	/* a short peek would lose bytes for good after the tree dies */
	if (n != size)
		return -EIO;
	ret->len = size;
	return 0;
}

static int read_window(int sk, TcpRepairEntry *te)
{
	struct tcp_repair_window w;
	socklen_t len = sizeof(w);

	if (getsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &len) < 0)
		return -errno;
	te->has_snd_wl1 = te->has_snd_wnd = te->has_max_window = true;
	te->has_rcv_wnd = te->has_rcv_wup = true;
	te->snd_wl1 = w.snd_wl1;
	te->snd_wnd = w.snd_wnd;
	te->max_window = w.max_window;
	te->rcv_wnd = w.rcv_wnd;
	te->rcv_wup = w.rcv_wup;
	return 0;
}

static int read_options(int sk, TcpRepairEntry *te)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int r;

	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	/* in repair mode this is the peer's mss clamp, not our current mss */
	if ((r = getu32(sk, IPPROTO_TCP, TCP_MAXSEG, &te->mss)) < 0)
		return r;
	te->has_mss = true;
	te->has_timestamps = te->has_sack = true;
	te->timestamps = ti.tcpi_options & TCPI_OPT_TIMESTAMPS;
	te->sack = ti.tcpi_options & TCPI_OPT_SACK;
	if (ti.tcpi_options & TCPI_OPT_WSCALE) {
		te->has_snd_wscale = te->has_rcv_wscale = true;
		te->snd_wscale = ti.tcpi_snd_wscale;
		te->rcv_wscale = ti.tcpi_rcv_wscale;
	}
	if (te->timestamps) {
		if ((r = getu32(sk, IPPROTO_TCP, TCP_TIMESTAMP, &te->timestamp)) < 0)
			return r;
		te->has_timestamp = true;
	}
	uint32_t v = 0;
	if (getu32(sk, IPPROTO_TCP, TCP_NODELAY, &v) == 0 && v)
		te->has_nodelay = te->nodelay = true;
	if (getu32(sk, IPPROTO_TCP, TCP_CORK, &v) == 0 && v)
		te->has_cork = te->cork = true;
	return 0;
}

static int read_connection(int sk, InetSkEntry *ie)
{
	TcpRepairEntry *te;
	int unsent = 0, r;

	te = ie->tcp = malloc(sizeof(*te));
	if (!te)
		return -ENOMEM;
	tcp_repair_entry__init(te);
	if ((r = set_peer(sk, ie)) < 0)
		return r;
	if ((r = read_queue(sk, TCP_SEND_QUEUE, SIOCOUTQ, &te->snd_seq, &te->snd_queue)) < 0)
		return r;
	te->has_snd_queue = te->snd_queue.len > 0;
	if (ioctl(sk, SIOCOUTQNSD, &unsent) < 0)
		return -errno;
	te->has_unsent_len = true;
	te->unsent_len = unsent;
	/* The receive side must be one snapshot: the kernel refuses, at
	 * restore, a window whose rcv_wup lies after the receive queue's end.
	 * The peer's kernel may still deliver (its unsent bytes, once our ack
	 * opens its window, even in repair mode): read again while more came
	 * in between the queue and the window. What came after the snapshot
	 * stays in the peer's send queue, which resends it. */
	for (int tries = 0;; tries++) {
		uint32_t again = 0;
		if ((r = read_queue(sk, TCP_RECV_QUEUE, SIOCINQ, &te->rcv_seq, &te->rcv_queue)) < 0)
			return r;
		if ((r = setint(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE)) < 0)
			return r;
		/* A delayed ack still pending would never leave once the tree
		 * is killed: the peer would resend what we hold and meet a RST.
		 * Send it now; it acks exactly what the image holds. */
		setint(sk, IPPROTO_TCP, TCP_QUICKACK, 1);
		if ((r = read_window(sk, te)) < 0)
			return r;
		if ((r = setint(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE)) < 0 ||
		    (r = getu32(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, &again)) < 0 ||
		    (r = setint(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE)) < 0)
			return r;
		if (again == te->rcv_seq)
			break;
		if (tries == 16)
			return -EAGAIN; /* the peer keeps sending */
		free(te->rcv_queue.data);
		te->rcv_queue.data = NULL;
		te->rcv_queue.len = 0;
	}
	te->has_rcv_queue = te->rcv_queue.len > 0;
	return read_options(sk, te);
}

static int remember(struct dump_ctx *ctx, int sk)
{
	int *n = realloc(ctx->tcp_fds, (ctx->n_tcp_fds + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ctx->tcp_fds = n;
	n[ctx->n_tcp_fds] = dup(sk);
	if (n[ctx->n_tcp_fds] < 0)
		return -errno;
	ctx->n_tcp_fds++;
	return 0;
}

int tcp_repair_dump(struct dump_ctx *ctx, const struct fd_obj *f, int sk, InetSkEntry *ie)
{
	int r;

	if (setint(sk, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON) < 0)
		return err_sys(errno, "TCP_REPAIR on " FD_FMT, FD_ARGS(f));
	/* remembered first: whatever fails below, dump_end takes it out again */
	if ((r = remember(ctx, sk)) < 0) {
		setint(sk, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP);
		return err_sys(-r, "keeping " FD_FMT, FD_ARGS(f));
	}
	if ((r = read_connection(sk, ie)) < 0)
		return err_sys(-r, "reading the TCP connection of " FD_FMT, FD_ARGS(f));
	log_info("tcp: " FD_FMT ": port %u -> %u, snd_seq %u (%zu queued, %u unsent), rcv_seq %u "
		 "(%zu queued)", FD_ARGS(f), ie->src_port, ie->dst_port, ie->tcp->snd_seq,
		 ie->tcp->snd_queue.len, ie->tcp->unsent_len, ie->tcp->rcv_seq, ie->tcp->rcv_queue.len);
	return 0;
}

void tcp_repair_dump_end(struct dump_ctx *ctx, bool killed)
{
	for (size_t i = 0; i < ctx->n_tcp_fds; i++) {
		/* a window probe makes the peer re-announce its window at once */
		if (!killed && setint(ctx->tcp_fds[i], IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF) < 0)
			log_warn("tcp: leaving repair mode: %s", strerror(errno));
		close(ctx->tcp_fds[i]);
	}
	free(ctx->tcp_fds);
	ctx->tcp_fds = NULL;
	ctx->n_tcp_fds = 0;
}
