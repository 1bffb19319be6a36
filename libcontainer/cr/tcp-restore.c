// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Rebuilding an established TCP connection in repair mode: see
 * tcp-repair.h. The socket was made in the task's network namespace; every
 * call here acts on the socket object itself, so the engine can make them
 * from its own namespace.
 *
 * The image holds the next sequence number of each queue and the queues'
 * bytes; the queues are set to start that many bytes earlier and refilled,
 * which brings the numbers back to the dumped ones. Bytes of the send
 * queue that had been sent (and wait for their ack) go back in repair mode,
 * where the kernel counts them as sent; the unsent tail is sent normally
 * once repair mode is off.
 */
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "cr/restore-internal.h"
#include "cr/tcp-repair.h"

/* TCP option kinds, as TCP_REPAIR_OPTIONS names them */
#define OPT_MSS 2
#define OPT_WINDOW 3
#define OPT_SACK_PERM 4
#define OPT_TIMESTAMP 8

static int setint(int sk, int level, int name, int v, const char *what)
{
	if (setsockopt(sk, level, name, &v, sizeof(v)) < 0)
		return err_sys(errno, "%s", what);
	return 0;
}

static socklen_t make_addr(const InetSkEntry *ie, bool peer, struct sockaddr_storage *ss)
{
	const ProtobufCBinaryData *a = peer ? &ie->dst_addr : &ie->src_addr;
	uint16_t port = htons(peer ? ie->dst_port : ie->src_port);

	memset(ss, 0, sizeof(*ss));
	if (ie->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = port;
		if (a->len == 4)
			memcpy(&in->sin_addr, a->data, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = port;
	if (a->len == 16)
		memcpy(&in6->sin6_addr, a->data, 16);
	return sizeof(*in6);
}

static int set_seqs(int sk, const TcpRepairEntry *te)
{
	int r;

	if ((r = setint(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, "TCP_REPAIR_QUEUE")) < 0 ||
	    (r = setint(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, te->rcv_seq - (uint32_t)te->rcv_queue.len,
			"receive TCP_QUEUE_SEQ")) < 0)
		return r;
	if ((r = setint(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE")) < 0 ||
	    (r = setint(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, te->snd_seq - (uint32_t)te->snd_queue.len,
			"send TCP_QUEUE_SEQ")) < 0)
		return r;
	return 0;
}

static int set_options(int sk, const TcpRepairEntry *te)
{
	struct tcp_repair_opt opts[4];
	int n = 0;

	if (te->has_mss)
		opts[n++] = (struct tcp_repair_opt){ OPT_MSS, te->mss };
	if (te->has_snd_wscale && te->has_rcv_wscale)
		opts[n++] = (struct tcp_repair_opt){ OPT_WINDOW, te->snd_wscale | (te->rcv_wscale << 16) };
	if (te->sack)
		opts[n++] = (struct tcp_repair_opt){ OPT_SACK_PERM, 0 };
	if (te->timestamps)
		opts[n++] = (struct tcp_repair_opt){ OPT_TIMESTAMP, 0 };
	if (n && setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opts, n * sizeof(opts[0])) < 0)
		return err_sys(errno, "TCP_REPAIR_OPTIONS");
	if (te->timestamps && te->has_timestamp &&
	    setsockopt(sk, IPPROTO_TCP, TCP_TIMESTAMP, &te->timestamp, sizeof(te->timestamp)) < 0)
		return err_sys(errno, "TCP_TIMESTAMP");
	return 0;
}

static int fill_queue(int sk, int queue, const uint8_t *data, size_t len, const char *what)
{
	int r = setint(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, queue, "TCP_REPAIR_QUEUE");

	while (r == 0 && len) {
		ssize_t n = send(sk, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return err_sys(errno, "refilling the %s queue (%zu bytes left)", what, len);
		data += n;
		len -= n;
	}
	return r;
}

/* A queue larger than the fresh socket's buffer (an autotuned buffer held
 * megabytes at dump) would not go back: the kernel counts refilled bytes
 * against the same limit. Grow the buffer to hold it; that fixes its size,
 * as an application setting SO_SNDBUF/SO_RCVBUF would. */
static int fit_buffer(int sk, int name, int force, size_t queued)
{
	int cur = 0;
	socklen_t len = sizeof(cur);

	if (!queued || getsockopt(sk, SOL_SOCKET, name, &cur, &len) < 0)
		return 0;
	/* the kernel accounts skb overhead too: leave room for it */
	if ((size_t)cur >= queued * 2 + 65536)
		return 0;
	if (queued > INT32_MAX / 4)
		return err_set(E2BIG, "a TCP queue of %zu bytes", queued);
	return setint(sk, SOL_SOCKET, force, (int)(queued * 2 + 65536),
		      force == SO_SNDBUFFORCE ? "SO_SNDBUFFORCE" : "SO_RCVBUFFORCE");
}

static int set_window(int sk, const TcpRepairEntry *te)
{
	struct tcp_repair_window w = {
		.snd_wl1 = te->snd_wl1, .snd_wnd = te->snd_wnd, .max_window = te->max_window,
		.rcv_wnd = te->rcv_wnd, .rcv_wup = te->rcv_wup,
	};

	if (!te->has_snd_wl1 || !te->has_rcv_wup)
		return 0; /* an image without it: the kernel's defaults */
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)) < 0)
		return err_sys(errno, "TCP_REPAIR_WINDOW");
	return 0;
}

static int set_opt_list(int sk, const InetSkEntry *ie)
{
	for (size_t i = 0; i < ie->n_opts; i++) {
		const SkOptEntry *o = ie->opts[i];
		if (setsockopt(sk, o->level, o->name, o->value.data, o->value.len) < 0)
			return err_sys(errno, "socket option %u/%u", o->level, o->name);
	}
	return 0;
}

static int set_sockopts(int sk, const InetSkEntry *ie)
{
	int r = set_opt_list(sk, ie);

	if (r < 0)
		return r;
	if (ie->family == AF_INET6 && ie->has_v6only &&
	    (r = setint(sk, IPPROTO_IPV6, IPV6_V6ONLY, ie->v6only, "IPV6_V6ONLY")) < 0)
		return r;
	return 0;
}

static int rebuild(int sk, const InetSkEntry *ie)
{
	const TcpRepairEntry *te = ie->tcp;
	struct sockaddr_storage ss;
	socklen_t len;
	size_t sent;
	int r;

	if (!te || !ie->has_dst_port)
		return err_set(EBADMSG, "an established connection without its TCP state");
	if (te->unsent_len > te->snd_queue.len)
		return err_set(EBADMSG, "%u unsent bytes in a send queue of %zu", te->unsent_len,
			       te->snd_queue.len);
	/* Repair mode lets the bind share a port in use (the listener that
	 * accepted us): it forces sk_reuse, which SO_REUSEADDR would undo, so
	 * the options come first (and again once repair mode is off, which
	 * clears sk_reuse). */
	if ((r = set_sockopts(sk, ie)) < 0 ||
	    (r = setint(sk, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON, "TCP_REPAIR")) < 0 ||
	    (r = set_seqs(sk, te)) < 0)
		return r;
	len = make_addr(ie, false, &ss);
	if (bind(sk, (struct sockaddr *)&ss, len) < 0)
		return err_sys(errno, "binding port %u", ie->src_port);
	len = make_addr(ie, true, &ss);
	if (connect(sk, (struct sockaddr *)&ss, len) < 0)
		return err_sys(errno, "connecting (in repair mode) to port %u", ie->dst_port);
	if ((r = set_options(sk, te)) < 0)
		return r;
	sent = te->snd_queue.len - te->unsent_len;
	if ((r = fit_buffer(sk, SO_SNDBUF, SO_SNDBUFFORCE, te->snd_queue.len)) < 0 ||
	    (r = fit_buffer(sk, SO_RCVBUF, SO_RCVBUFFORCE, te->rcv_queue.len)) < 0)
		return r;
	if ((r = fill_queue(sk, TCP_RECV_QUEUE, te->rcv_queue.data, te->rcv_queue.len, "receive")) < 0 ||
	    (r = fill_queue(sk, TCP_SEND_QUEUE, te->snd_queue.data, sent, "send")) < 0)
		return r;
	if ((r = set_window(sk, te)) < 0)
		return r;
	if (te->nodelay && (r = setint(sk, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY")) < 0)
		return r;
	if (te->cork && (r = setint(sk, IPPROTO_TCP, TCP_CORK, 1, "TCP_CORK")) < 0)
		return r;
	return setint(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE, "TCP_REPAIR_QUEUE");
}

int tcp_repair_restore(int sk, const InetSkEntry *ie)
{
	int r = rebuild(sk, ie);

	if (r < 0) {
		/* still in repair mode: the close sends nothing to the peer */
		close(sk);
		return err_wrap(r, "TCP connection from port %u to port %u", ie->src_port, ie->dst_port);
	}
	return sk;
}

static bool is_connection(const FileEntry *f)
{
	return f->kind == FILE_KIND__FILE_INET && f->inet && f->inet->type == SOCK_STREAM &&
	       f->inet->state == TCP_STATE_ESTABLISHED;
}

int tcp_repair_finish(struct rst_ctx *c)
{
	for (size_t i = 0; i < c->n_files; i++) {
		const FileEntry *f = c->files[i];
		int sk = c->file_fds[i];
		if (sk < 0 || !is_connection(f))
			continue;
		const TcpRepairEntry *te = f->inet->tcp;
		if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR, &(int){ TCP_REPAIR_OFF }, sizeof(int)) < 0)
			return err_sys(errno, "file %u: leaving TCP repair mode", f->id);
		int r = set_opt_list(sk, f->inet);
		if (r < 0)
			return err_wrap(r, "file %u", f->id);
		const uint8_t *tail = te->snd_queue.data + te->snd_queue.len - te->unsent_len;
		for (size_t left = te->unsent_len; left;) {
			ssize_t n = send(sk, tail, left, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0)
				return err_sys(errno, "file %u: sending %zu of %u unsent bytes", f->id,
					       left, te->unsent_len);
			tail += n;
			left -= n;
		}
		log_info("tcp: file %u: port %u -> %u restored", f->id, f->inet->src_port,
			 f->inet->dst_port);
	}
	return 0;
}
