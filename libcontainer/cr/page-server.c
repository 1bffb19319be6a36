// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The source side of a lazy migration: after the metadata dump the tree
 * stays frozen and this serves its memory. Listen, say ready on the status
 * fd, accept the destination's two channels (urgent, bulk; each proves the
 * image's secret), then one thread answers fault requests on the urgent
 * channel while another streams every lazy page on the bulk channel in
 * chunks growing from 64 KiB to 4 MiB, zero pages as a flag only. ACK_ALL
 * from the destination ends it with success; anything else is a failure,
 * and the caller thaws the tree so the source runs on.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "cr/dump-internal.h"
#include "cr/lazy-conf.h"
#include "cr/lazy-internal.h"
#include "cr/mm-cache.h"
#include "cr/page-proto.h"

#define CHUNK_MIN (64UL << 10)
#define CHUNK_MAX PP_BULK_CHUNK_MAX
#define HANDSHAKE_TIMEOUT_MS 5000

struct src_task {
	pid_t pid;
	struct lazy_run *runs;
	size_t n_runs;
};

struct server {
	struct page_source *src;
	struct src_task *tasks;
	size_t n_tasks;
	uint64_t total_pages;
	int urgent, bulk, done_efd;
	uint8_t session[PP_SESSION_LEN];
	/* results, written by the threads before they signal done_efd */
	int urgent_r, bulk_r;
	bool acked, urgent_rt;
	uint64_t req_served, pages_urgent, pages_bulk, pages_zero;
	unsigned long long bulk_read_ns, bulk_send_ns; /* the stream's time */
	char urgent_err[512], bulk_err[512];
};

void lazy_src_inventory(InventoryEntry *inv)
{
	if (!lazy_conf.src_addr)
		return;
	inv->page_server_addr = lazy_conf.src_addr;
	inv->has_page_server_port = true;
	inv->page_server_port = lazy_conf.src_port;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	const uint64_t *q = (const uint64_t *)p;
	for (size_t i = 0; i < len / 8; i++)
		if (q[i])
			return false;
	return true;
}

static struct src_task *task_of(struct server *s, pid_t pid)
{
	for (size_t i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].pid == pid)
			return &s->tasks[i];
	return NULL;
}

/* Sends [addr, addr + nr pages) of pid: zero sub-runs as flags, the rest as data. */
static int send_range(struct server *s, int fd, uint64_t id, pid_t pid, uint64_t addr, uint64_t nr,
		      uint8_t *buf, uint64_t *ret_zero, unsigned long long *read_ns)
{
	unsigned long long t0 = read_ns ? now_ns() : 0;
	int r = s->src->ops->read(s->src, pid, addr, buf, nr * PP_PAGE_SIZE);
	uint64_t i = 0;

	if (r < 0)
		return r;
	if (read_ns)
		*read_ns += now_ns() - t0;
	while (i < nr) {
		bool z = all_zero(buf + i * PP_PAGE_SIZE, PP_PAGE_SIZE);
		uint64_t j = i + 1;
		while (j < nr && all_zero(buf + j * PP_PAGE_SIZE, PP_PAGE_SIZE) == z)
			j++;
		struct pp_pages p = { .addr = addr + i * PP_PAGE_SIZE, .nr_pages = (uint32_t)(j - i) };
		struct pp_hdr h = { .type = PP_PAGES, .flags = z ? PP_F_ZERO : 0, .pid = (uint32_t)pid, .id = id };
		uint8_t pl[PP_PAGES_SIZE];
		pp_pages_encode(&p, pl);
		r = pp_send(fd, &h, pl, sizeof(pl), z ? NULL : buf + i * PP_PAGE_SIZE, z ? 0 : (j - i) * PP_PAGE_SIZE);
		if (r < 0)
			return r;
		if (z && ret_zero)
			*ret_zero += j - i;
		i = j;
	}
	return 0;
}

static int serve_req(struct server *s, const struct pp_hdr *h, const uint8_t *pl, uint8_t *buf)
{
	struct pp_req q;
	int r = pp_req_decode(pl, h->len, &q);
	struct src_task *t;

	if (r < 0)
		return r;
	t = task_of(s, (pid_t)h->pid);
	if (!t)
		return err_set(ESRCH, "request for pid %u, which is not in the dumped tree", h->pid);
	if (q.addr % PP_PAGE_SIZE || !q.nr_pages || q.nr_pages > PP_MAX_PAGES)
		return err_set(EBADMSG, "bad request: 0x%llx, %u pages", (unsigned long long)q.addr, q.nr_pages);
	uint64_t want = (uint64_t)q.nr_pages + q.prefetch;
	if (want > PP_MAX_PAGES)
		want = PP_MAX_PAGES;
	/* the asked pages, plus prefetch within the same dumped run */
	for (size_t i = 0; i < t->n_runs; i++) {
		const struct lazy_run *run = &t->runs[i];
		uint64_t end = run->start + run->nr_pages * PP_PAGE_SIZE;
		if (q.addr < run->start || q.addr >= end)
			continue;
		uint64_t nr = (end - q.addr) / PP_PAGE_SIZE;
		if (nr > want)
			nr = want;
		s->req_served++;
		s->pages_urgent += nr;
		/* the asked pages alone first: the faulting task waits for them
		 * only, not for the prefetch behind them */
		uint64_t asked = q.nr_pages < nr ? q.nr_pages : nr;
		r = send_range(s, s->urgent, h->id, t->pid, q.addr, asked, buf, NULL, NULL);
		if (r < 0 || asked == nr)
			return r;
		/* The send woke the destination's handler, on this CPU when both
		 * ends share a host: at the same real-time priority it would wait
		 * for the prefetch to be read and sent too. Let it run first. */
		if (s->urgent_rt)
			sched_yield();
		return send_range(s, s->urgent, h->id, t->pid, q.addr + asked * PP_PAGE_SIZE, nr - asked,
				  buf, NULL, NULL);
	}
	/* not dumped: the destination maps zeros */
	struct pp_pages p = { .addr = q.addr, .nr_pages = q.nr_pages };
	struct pp_hdr o = { .type = PP_PAGES, .flags = PP_F_ZERO, .pid = h->pid, .id = h->id };
	uint8_t out[PP_PAGES_SIZE];
	pp_pages_encode(&p, out);
	return pp_send(s->urgent, &o, out, sizeof(out), NULL, 0);
}

static void signal_done(struct server *s)
{
	uint64_t one = 1;
	if (write(s->done_efd, &one, sizeof(one)) < 0)
		log_warn("page server: waking the main thread: %m");
}

static void *urgent_thread(void *arg)
{
	struct server *s = arg;
	size_t cap = PP_MAX_PAGES * PP_PAGE_SIZE;
	uint8_t *buf = malloc(cap), in[PP_HDR_SIZE + 4 + PP_MAX_ERROR_TEXT];
	const uint8_t *pl;
	/* requests are small: most come with one read, several may */
	struct pp_rx rx = { .fd = s->urgent, .buf = in, .cap = sizeof(in) };
	struct pp_hdr h;
	int r = buf ? 0 : -ENOMEM;

	s->urgent_rt = lazy_thread_role("pgsrv-urgent", LAZY_URGENT);
	while (r >= 0) {
		r = pp_rx_recv(&rx, &h, &pl);
		if (r < 0)
			break;
		if (h.type == PP_REQ) {
			r = serve_req(s, &h, pl, buf);
		} else if (h.type == PP_ACK_ALL) {
			s->acked = true;
			break;
		} else if (h.type == PP_ERROR) {
			int e;
			char text[PP_MAX_ERROR_TEXT + 1] = "";
			pp_error_decode(pl, h.len, &e, text, sizeof(text));
			r = err_set(e > 0 ? e : EIO, "the destination gave up: %s", text);
		} else {
			r = err_set(EPROTO, "unexpected message type %u on the urgent channel", h.type);
			pp_send_error(s->urgent, h.id, EPROTO, err_msg());
		}
	}
	if (r < 0)
		snprintf(s->urgent_err, sizeof(s->urgent_err), "%s", err_msg()[0] ? err_msg() : strerror(-r));
	s->urgent_r = r;
	free(buf);
	signal_done(s);
	return NULL;
}

/* SKUA_LAZY_BULK_MBPS caps the stream (MiB/s): a slow link, for tests and
 * benchmarks. */
static void pace(unsigned long long t0, uint64_t bytes)
{
	static long mbps = -1;

	if (mbps < 0) {
		const char *e = getenv("SKUA_LAZY_BULK_MBPS");
		mbps = e ? atol(e) : 0;
	}
	if (mbps <= 0)
		return;
	unsigned long long due = t0 + bytes * 1000000000ULL / ((unsigned long long)mbps << 20);
	unsigned long long now = now_ns();
	if (due > now)
		nanosleep(&(struct timespec){ (due - now) / 1000000000ULL, (due - now) % 1000000000ULL }, NULL);
}

static void *bulk_thread(void *arg)
{
	struct server *s = arg;
	uint8_t *buf = malloc(CHUNK_MAX);
	size_t chunk = CHUNK_MIN;
	unsigned long long t0 = now_ns();
	uint64_t sent = 0;
	int r = buf ? 0 : -ENOMEM;

	/* fault answers first: the stream takes what CPU is left */
	lazy_thread_role("pgsrv-bulk", LAZY_BULK);
	/* readied now, not by the first chunks: on the development VM those
	 * spent 30 ms of CPU in page faults (base/mem.c) */
	if (buf)
		mem_prefault(buf, CHUNK_MAX);

	for (size_t i = 0; i < s->n_tasks && r >= 0; i++) {
		struct src_task *t = &s->tasks[i];
		for (size_t k = 0; k < t->n_runs && r >= 0; k++) {
			uint64_t at = t->runs[k].start, end = at + t->runs[k].nr_pages * PP_PAGE_SIZE;
			while (at < end && r >= 0) {
				uint64_t nr = (end - at < chunk ? end - at : chunk) / PP_PAGE_SIZE;
				unsigned long long t1 = now_ns();
				r = send_range(s, s->bulk, 0, t->pid, at, nr, buf, &s->pages_zero, &s->bulk_read_ns);
				s->bulk_send_ns += now_ns() - t1;
				s->pages_bulk += nr;
				at += nr * PP_PAGE_SIZE;
				sent += nr * PP_PAGE_SIZE;
				pace(t0, sent);
				if (chunk < CHUNK_MAX)
					chunk *= 2;
			}
		}
	}
	s->bulk_send_ns -= s->bulk_read_ns; /* what is left is the sending */
	if (r >= 0) {
		struct pp_hdr h = { .type = PP_DONE };
		r = pp_send(s->bulk, &h, NULL, 0, NULL, 0);
	}
	if (r < 0)
		snprintf(s->bulk_err, sizeof(s->bulk_err), "%s", err_msg()[0] ? err_msg() : strerror(-r));
	s->bulk_r = r;
	free(buf);
	/* the destination closes the bulk channel when it has everything */
	signal_done(s);
	return NULL;
}

static int listen_on(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, r;

	if ((r = lazy_sockaddr(addr, port, &ss, &sl)) < 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 8) < 0) {
		r = err_sys(errno, "page server: listening on %s:%u", addr, port);
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

/* One peer: proves the secret and names its channel, or is refused. */
static int accept_peer(struct server *s, int lfd, const uint8_t *secret)
{
	struct timeval tv = { HANDSHAKE_TIMEOUT_MS / 1000, 0 };
	struct pp_hello hello;
	int one = 1, r;
	_cleanup_close_ int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : err_sys(errno, "page server: accept");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r = pp_server_handshake(fd, secret, &hello);
	if (r < 0) {
		log_warn("page server: refused a peer: %s", err_msg());
		return 0;
	}
	tv.tv_sec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (hello.channel == PP_CHAN_URGENT && s->urgent < 0) {
		memcpy(s->session, hello.session, PP_SESSION_LEN);
		s->urgent = TAKE_FD(fd);
		log_info("page server: destination connected (urgent channel)");
		return 1;
	}
	if (hello.channel == PP_CHAN_BULK && s->urgent >= 0 && s->bulk < 0 &&
	    !memcmp(s->session, hello.session, PP_SESSION_LEN)) {
		s->bulk = TAKE_FD(fd);
		log_info("page server: bulk channel connected, streaming");
		return 2;
	}
	pp_send_error(fd, 0, EBUSY, "no such session or channel already connected");
	log_warn("page server: refused a second or foreign connection (channel %u)", hello.channel);
	return 0;
}

static void signal_ready(void)
{
	int fd = lazy_conf.status_fd;

	if (fd < 0)
		return;
	if (write(fd, "", 1) != 1)
		log_warn("writing to the status fd %d: %m", fd);
	close(fd);
	lazy_conf.status_fd = -1;
}

static int load_tasks(struct server *s, struct dump_ctx *ctx)
{
	_cleanup_free_ pid_t *pids = calloc(ctx->n_tasks + 1, sizeof(pid_t));
	_cleanup_free_ pid_t *host = calloc(ctx->n_tasks + 1, sizeof(pid_t));
	int r;

	s->tasks = calloc(ctx->n_tasks + 1, sizeof(*s->tasks));
	if (!pids || !host || !s->tasks)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct src_task *t = &s->tasks[s->n_tasks++];
		t->pid = pids[i] = ctx->tasks[i].ns_pid;
		host[i] = ctx->tasks[i].pid;
		if ((r = lazy_runs_load(ctx->img_dirfd, t->pid, &t->runs, &t->n_runs)) < 0)
			return r;
		for (size_t k = 0; k < t->n_runs; k++)
			s->total_pages += t->runs[k].nr_pages;
	}
	return page_source_frozen(pids, host, ctx->n_tasks, &s->src);
}

static void server_free(struct server *s)
{
	for (size_t i = 0; i < s->n_tasks; i++)
		free(s->tasks[i].runs);
	free(s->tasks);
	page_source_destroy(s->src);
	if (s->urgent >= 0)
		close(s->urgent);
	if (s->bulk >= 0)
		close(s->bulk);
	if (s->done_efd >= 0)
		close(s->done_efd);
}

/* Until both channels are in (or the urgent one already ended), then until
 * the urgent thread reports the end. */
static int serve(struct server *s, int lfd, const uint8_t *secret)
{
	unsigned long long deadline = now_ns() + (unsigned long long)lazy_timeout() * 1000000000ULL;
	pthread_t ut, bt;
	bool u_started = false, b_started = false, u_done = false;
	int r = 0;

	while (!u_done) {
		struct pollfd p[2] = { { lfd, POLLIN, 0 }, { s->done_efd, POLLIN, 0 } };
		long long left = (long long)(deadline - now_ns()) / 1000000;
		int timeout = u_started ? -1 : (left > 0 ? (int)left : 0);
		int n = poll(p, 2, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return err_set(ETIMEDOUT, "no destination connected to the page server within %d s",
				       lazy_timeout());
		if (p[1].revents & POLLIN) {
			uint64_t v;
			if (read(s->done_efd, &v, sizeof(v)) < 0)
				v = 0;
			u_done = s->acked || s->urgent_r < 0 || (b_started && s->bulk_r < 0);
			continue;
		}
		if (!(p[0].revents & POLLIN))
			continue;
		int k = accept_peer(s, lfd, secret);
		if (k < 0)
			return k;
		if (k == 1 && (r = -pthread_create(&ut, NULL, urgent_thread, s)) == 0)
			u_started = true;
		else if (k == 2 && (r = -pthread_create(&bt, NULL, bulk_thread, s)) == 0)
			b_started = true;
		if (r < 0)
			return err_sys(-r, "page server: starting a thread");
	}
	pthread_join(ut, NULL);
	/* the bulk thread may sit in a write the destination no longer reads */
	if (s->bulk >= 0)
		shutdown(s->bulk, SHUT_RDWR);
	if (b_started)
		pthread_join(bt, NULL);
	if (s->acked)
		return 0;
	if (s->urgent_r < 0)
		return err_set(-s->urgent_r, "page server: %s", s->urgent_err);
	return err_set(-s->bulk_r, "page server: bulk stream: %s", s->bulk_err);
}

int lazy_src_serve(struct dump_ctx *ctx)
{
	struct server s = { .urgent = -1, .bulk = -1, .done_efd = -1 };
	uint8_t secret[PP_SECRET_LEN];
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	unsigned long long t0 = now_ns();
	int lfd = -1, r;

	if (!lazy_conf.src_addr)
		return err_set(EINVAL, "--lazy-pages needs --page-server ADDRESS:PORT");
	sigaction(SIGPIPE, &ign, &old);
	if ((r = load_tasks(&s, ctx)) < 0 || (r = pp_secret_create(ctx->o->image_dir, secret)) < 0)
		goto out;
	s.done_efd = eventfd(0, EFD_CLOEXEC);
	if (s.done_efd < 0) {
		r = err_sys(errno, "eventfd");
		goto out;
	}
	lfd = r = listen_on(lazy_conf.src_addr, lazy_conf.src_port);
	if (r < 0)
		goto out;
	log_info("page server listening on %s:%u for %llu lazy pages of %zu tasks", lazy_conf.src_addr,
		 lazy_conf.src_port, (unsigned long long)s.total_pages, s.n_tasks);
	signal_ready();
	/* the destination's connections wait in the backlog meanwhile */
	r = mm_cache_verify(ctx->o->mm_cache);
	if (r >= 0)
		r = serve(&s, lfd, secret);
	log_info("page server: %llu requests (%llu pages) served, %llu pages streamed (%llu zero) "
		 "in %.3f s", (unsigned long long)s.req_served, (unsigned long long)s.pages_urgent,
		 (unsigned long long)s.pages_bulk, (unsigned long long)s.pages_zero,
		 (now_ns() - t0) / 1e9);
	log_info("page server: the stream spent %.3f s reading memory, %.3f s sending",
		 s.bulk_read_ns / 1e9, s.bulk_send_ns / 1e9);
	if (s.req_served)
		log_info("page server: requests answered by a %s thread",
			 s.urgent_rt ? "real-time (SCHED_FIFO)" : "nice");
	if (r >= 0)
		log_info("page server: the destination holds every page");
out:
	/* a caller waiting for readiness must not wait forever on a failure */
	if (lazy_conf.status_fd >= 0) {
		close(lazy_conf.status_fd);
		lazy_conf.status_fd = -1;
	}
	if (lfd >= 0)
		close(lfd);
	server_free(&s);
	sigaction(SIGPIPE, &old, NULL);
	return r;
}
