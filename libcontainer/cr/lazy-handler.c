// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destination's fault handler: one poll loop over the restore's control
 * socket, every task's userfaultfd, and the two page server channels.
 *
 *   start            answer the restore at once; a thread dials the page
 *                    server meanwhile (the source may still be checking its
 *                    memory maps: the tree's creation overlaps that)
 *   TASK (control)   register the task's runs; fetch now the lazy pages
 *                    userfaultfd cannot hold (none, as dumps go), answer
 *   READY (control)  the tree is about to run: answer once connected
 *   fault (uffd)     REQ on the urgent channel, with prefetch of the next
 *                    pages when the task reads forward; the answer's
 *                    UFFDIO_COPY wakes the task
 *   END (control)    the tree runs: open the bulk channel, copy what it
 *                    streams into whatever is still missing
 *   all in           ACK_ALL, stats, exit
 *
 * If the page server goes away or talks nonsense before every page is in,
 * the restored tasks are killed: they must not run on with holes in their
 * memory. The loop runs on the main thread; the stream has a thread of
 * its own (lazy-handler-bulk.c), and an answer to a fault is copied as soon
 * as it is read, without waiting for the stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/syscall.h"
#include "cr/lazy-conf.h"
#include "cr/lazy-handler-internal.h"

#define PREFETCH 15 /* a fault of a task that reads forward asks for 64 KiB */
#define PREFETCH_REACH (2 * (PREFETCH + 1) * 4096UL) /* "forward": this far past the last fault */
#define SWEEP_PAGES 256
#define BULK_PIECE 64 /* pages copied per hold of the lock by the stream */
#define STREAM_EAGAIN_TRIES 200 /* 50 us apart */

static int dial(const char *addr, uint16_t port, int timeout_s)
{
	unsigned long long deadline = now_ns() + (unsigned long long)timeout_s * 1000000000ULL;
	struct sockaddr_storage ss;
	socklen_t sl;
	int r, last = ECONNREFUSED;

	if ((r = lazy_sockaddr(addr, port, &ss, &sl)) < 0)
		return r;
	for (;;) {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, sl) == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			return fd;
		}
		last = errno;
		if (fd >= 0)
			close(fd);
		if (now_ns() > deadline)
			return err_sys(last, "connecting to the page server %s:%u", addr, port);
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
}

static int open_channel(struct handler *h, uint32_t chan, int timeout_s)
{
	int fd = dial(h->o->addr, h->o->port, timeout_s);
	if (fd < 0)
		return fd;
	int r = pp_client_handshake(fd, h->secret, chan, h->session);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static void *conn_main(void *arg)
{
	struct handler *h = arg;
	uint64_t one = 1;

	h->conn_fd = open_channel(h, PP_CHAN_URGENT, lazy_timeout());
	if (h->conn_fd < 0)
		snprintf(h->conn_err, sizeof(h->conn_err), "%s", err_msg());
	atomic_store(&h->conn_done, true);
	/* the loop joins it: a server that talks at once, or a dial that
	 * failed, is heard before anything asks for a page */
	if (write(h->news_efd, &one, sizeof(one)) < 0) {
		/* then the first request, or READY, joins it */
	}
	return NULL;
}

static int conn_start(struct handler *h)
{
	int r = pthread_create(&h->conn_thr, NULL, conn_main, h);

	if (r)
		return err_sys(r, "starting the thread that dials the page server");
	h->conn_started = true;
	return 0;
}

/* Joins the dialling thread if it runs: its fd becomes the urgent channel.
 * A failure is kept for whoever asks next (the restore, at READY). */
static int conn_join(struct handler *h)
{
	if (h->conn_started) {
		pthread_join(h->conn_thr, NULL);
		h->conn_started = false;
		if (h->conn_fd >= 0) {
			h->urgent = h->conn_fd;
			h->urx = (struct pp_rx){ .fd = h->urgent, .buf = h->buf, .cap = h->buf_cap + PP_HDR_SIZE };
			log_info("connected to the page server %s:%u", h->o->addr, h->o->port);
		} else {
			log_error("%s", h->conn_err);
		}
	}
	if (h->urgent >= 0)
		return 0;
	return err_set(h->conn_fd < 0 ? -h->conn_fd : ENOTCONN, "%s", h->conn_err);
}

static void kill_tree(struct handler *h)
{
	for (size_t i = 0; i < h->s.n_tasks; i++)
		if (h->s.tasks[i].pidfd >= 0)
			sys_pidfd_send_signal(h->s.tasks[i].pidfd, SIGKILL, NULL, 0);
	if (h->init_pidfd >= 0)
		sys_pidfd_send_signal(h->init_pidfd, SIGKILL, NULL, 0);
}

/* Also into restore.log, where a user looks first. */
static void log_both(struct handler *h, const char *msg)
{
	char path[4096];

	log_error("%s", msg);
	snprintf(path, sizeof(path), "%s/restore.log", h->o->work_dir);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		dprintf(fd, "Error: lazy-pages: %s\n", msg);
		close(fd);
	}
}

static int fail(struct handler *h, int r, const char *why)
{
	char msg[2048];

	if (h->failed)
		return r;
	h->failed = true;
	/* the source is told, not left to time out: it runs on sooner (a dial
	 * still retrying is waited for, up to the timeout) */
	conn_join(h);
	snprintf(msg, sizeof(msg), "%s after %llu of %llu pages; killed the container", why,
		 (unsigned long long)(h->s.total - h->s.missing), (unsigned long long)h->s.total);
	kill_tree(h);
	log_both(h, msg);
	if (h->urgent >= 0)
		pp_send_error(h->urgent, 0, r < 0 ? -r : EIO, why);
	return err_set(r < 0 ? -r : EIO, "%s", msg);
}

int lazy_connected(struct handler *h)
{
	int r = conn_join(h);

	if (r < 0)
		return fail(h, r, err_msg());
	return 0;
}

/* locked: the caller holds the lock, which is let go for the send (a send
 * over TCP may run the network's receive work for both channels, and the
 * stream would wait for it). Only the main thread uses the urgent channel. */
static int send_req(struct handler *h, bool locked, pid_t pid, uint64_t addr, uint32_t nr,
		    uint32_t prefetch, uint64_t *ret_id, unsigned long long *t_sent)
{
	struct pp_req q = { .addr = addr, .nr_pages = nr, .prefetch = prefetch };
	struct pp_hdr hd = { .type = PP_REQ, .pid = (uint32_t)pid, .id = ++h->next_id };
	uint8_t pl[PP_REQ_SIZE];
	int r;

	if (h->urgent < 0 && (r = lazy_connected(h)) < 0)
		return r;
	pp_req_encode(&q, pl);
	if (ret_id)
		*ret_id = hd.id;
	h->reqs++;
	if (locked)
		lazy_unlock(h);
	r = pp_send(h->urgent, &hd, pl, sizeof(pl), NULL, 0);
	if (t_sent)
		*t_sent = now_ns();
	if (locked)
		lazy_lock(h);
	return r;
}

static uint32_t us_since(unsigned long long t, unsigned long long now)
{
	uint64_t us = (now - t) / 1000;
	return (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us);
}

/* t_in: when the answer's message was read; now: when its copy returned */
static void note_latency(struct handler *h, uint64_t id, unsigned long long t_in, unsigned long long now)
{
	for (size_t i = 0; i < h->n_pending; i++) {
		if (h->pending[i].id != id)
			continue;
		uint32_t us = us_since(h->pending[i].t, now);
		if (h->lat && h->n_lat < LAT_MAX) {
			h->lat_wire[h->n_lat] = us_since(h->pending[i].t_sent, t_in);
			h->lat_ask[h->n_lat] = us_since(h->pending[i].t, h->pending[i].t_sent);
			h->lat_place[h->n_lat] = us_since(t_in, now);
			h->lat[h->n_lat++] = us;
		}
		if (h->n_lat <= 8)
			log_info("fault %zu answered in %u us", h->n_lat, us);
		h->pending[i] = h->pending[--h->n_pending];
		return;
	}
}

/* Read every queued event of task idx. Without the lock (locked false), a
 * fault is asked for as it is (lazy_fault), and any other event is handled
 * under the lock, which sets *other; so does a task found gone. */
static int drain_uffd(struct handler *h, size_t idx, bool locked, bool *other)
{
	struct uffd_msg m[32];

	for (;;) {
		if (htask_gone(&h->s.tasks[idx]) || h->s.tasks[idx].uffd < 0) {
			*other = true;
			return 0;
		}
		ssize_t n = read(h->s.tasks[idx].uffd, m, sizeof(m));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			/* the mm went away */
			if (!locked)
				lazy_lock(h);
			hstate_task_gone(&h->s, idx);
			if (!locked)
				lazy_unlock(h);
			*other = true;
			return 0;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(m[0]); i++) {
			int r;
			/* the urgent channel is the main thread's, as is this
			 * loop: a fault goes out without the lock once connected */
			if (m[i].event == UFFD_EVENT_PAGEFAULT && (locked || h->urgent >= 0)) {
				r = lazy_fault(h, idx, m[i].arg.pagefault.address & ~4095ULL, locked);
			} else {
				if (!locked)
					lazy_lock(h);
				r = lazy_handle_event(h, idx, &m[i]);
				if (!locked)
					lazy_unlock(h);
				*other = true;
			}
			if (r < 0)
				return r;
		}
		/* a short read emptied the queue (userfaultfd reads until none is
		 * left): what comes later makes the fd readable, as after EAGAIN */
		if ((size_t)n < sizeof(m))
			return 0;
	}
}

int lazy_drain_all(struct handler *h)
{
	bool other;

	for (size_t i = 0; i < h->s.n_tasks; i++) {
		int r = drain_uffd(h, i, true, &other);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The main thread's copy of an answer, without the lock (hstate_copy: the
 * caller marks the pages done once it holds it), reading events under the
 * lock and retrying while the address space moves. Only this thread reads
 * the tasks' events, so nothing changes the tasks and runs while it copies. */
static int copy_answer(struct handler *h, pid_t pid, uint64_t addr, uint64_t nr, const uint8_t *data)
{
	for (int tries = 0; tries < 1000; tries++) {
		int r = hstate_copy(&h->s, pid, addr, nr, data);
		if (r != -EAGAIN)
			return r;
		lazy_lock(h);
		r = lazy_drain_all(h);
		lazy_unlock(h);
		if (r < 0)
			return r;
	}
	return err_set(EAGAIN, "the address space of pid %d keeps changing", pid);
}

/* An answer to the eager fetch in progress (lazy_fetch_begin) */
static bool in_fetch(const struct handler *h, const struct pp_hdr *hd)
{
	return hd->id && h->sync_id && hd->id >= h->sync_lo && hd->id <= h->sync_id;
}

static int zero_fill(struct handler *h, size_t idx, uint64_t addr)
{
	struct uffdio_zeropage z = { .range = { .start = addr, .len = 4096 } };

	if (ioctl(h->s.tasks[idx].uffd, UFFDIO_ZEROPAGE, &z) < 0) {
		struct uffdio_range w = { .start = addr, .len = 4096 };
		if (errno == EEXIST && ioctl(h->s.tasks[idx].uffd, UFFDIO_WAKE, &w) < 0 && errno != ESRCH)
			return err_sys(errno, "UFFDIO_WAKE at 0x%llx", (unsigned long long)addr);
		if (errno == ESRCH)
			hstate_task_gone(&h->s, idx);
	}
	return 0;
}

/* A fault of task idx at addr. Without the lock (locked false: the main
 * thread, connected) it reads only what the main thread alone changes (the
 * tasks and their runs, the urgent channel) and claims the pages with an
 * atomic state change, as the stream may mark them done meanwhile. */
int lazy_fault(struct handler *h, size_t idx, uint64_t addr, bool locked)
{
	struct htask *t = &h->s.tasks[idx];
	struct hrun *run = hstate_find(&h->s, idx, addr);
	unsigned long long t_fault = now_ns();
	uint64_t id;
	int r;

	h->faults++;
	if (!run)
		return zero_fill(h, idx, addr); /* never dumped: as the kernel would */
	if (h->urgent < 0 && conn_join(h) < 0 && !h->ended) {
		/* no page server (nothing was requested, then), and the restore
		 * still holds the tree: a call it made in a task touched lazy
		 * memory. Killing the task under its tracer could leave both
		 * waiting; zeros release the call, and the restore hears of the
		 * failure at READY and never lets it run. */
		log_info("pid %d: zeros at 0x%llx for the restore's own call: no page server",
			 t->src_pid, (unsigned long long)addr);
		return zero_fill(h, idx, addr);
	}
	uint64_t k = (addr - run->start) / 4096, n = (run->end - run->start) / 4096, j = k + 1;
	uint8_t st = hstate_claim(run, k);
	if (st == PG_REQUESTED)
		return 0; /* the answer on its way wakes it */
	if (st == PG_DONE)
		return zero_fill(h, idx, addr); /* placed, or dropped since: as the kernel would */
	/* Neighbours come along when the task reads forward: for a task that
	 * reads at random they would cost the source, the wire and the copy,
	 * and keep this thread from the next fault. */
	bool forward = hstate_forward(t, addr, PREFETCH_REACH);
	while (forward && j < n && j < k + 1 + PREFETCH && hstate_claim(run, j) == PG_MISSING)
		j++;
	unsigned long long t_sent;
	r = send_req(h, locked, t->src_pid, run->src + k * 4096, 1, (uint32_t)(j - k - 1), &id, &t_sent);
	if (r < 0)
		return r;
	if (h->n_pending < PENDING_MAX)
		h->pending[h->n_pending++] = (struct pending){ id, t_fault, t_sent };
	return 0;
}

/* Requests of a batch stay in flight together: one round trip per request
 * (tens of us on loopback, more over a link) was most of the downtime for a
 * task with hundreds of scattered pages outside userfaultfd. The window
 * bounds what the server may have to write before we read, so neither side
 * blocks on a full socket while the other waits. */
#define FETCH_WINDOW_PAGES 256

void lazy_fetch_begin(struct handler *h, int mem)
{
	h->sync_lo = h->next_id + 1;
	h->sync_id = 0;
	h->sync_left = 0;
	h->sync_mem = mem;
	h->sync_dst = mem >= 0;
}

static int fetch_wait(struct handler *h, uint64_t below)
{
	int r = 0;

	while (h->sync_left > below && r >= 0)
		r = lazy_urgent_msg(h);
	return r < 0 ? r : 0;
}

int lazy_fetch_queue(struct handler *h, pid_t pid, uint64_t addr, uint64_t nr)
{
	while (nr) {
		uint32_t n = nr > PP_MAX_PAGES ? PP_MAX_PAGES : (uint32_t)nr;
		int r;

		if (h->sync_left && h->sync_left + n > FETCH_WINDOW_PAGES &&
		    (r = fetch_wait(h, FETCH_WINDOW_PAGES > n ? FETCH_WINDOW_PAGES - n : 0)) < 0)
			return r;
		r = send_req(h, true, pid, addr, n, 0, &h->sync_id, NULL);
		if (r < 0)
			return fail(h, r, "page server connection lost");
		h->sync_left += n;
		h->pages_eager += n;
		addr += (uint64_t)n * 4096;
		nr -= n;
	}
	return 0;
}

int lazy_fetch_end(struct handler *h)
{
	int r = fetch_wait(h, 0);

	h->sync_lo = h->sync_id = 0;
	h->sync_left = 0;
	h->sync_dst = false;
	return r;
}

/* A PAGES message: header already read, payload in buf. */
static int on_pages(struct handler *h, const struct pp_hdr *hd, const uint8_t *buf, bool bulk)
{
	struct pp_pages p;
	int r = pp_pages_decode(buf, hd->len, hd->flags, &p);

	if (r < 0)
		return r;
	const uint8_t *data = hd->flags & PP_F_ZERO ? NULL : buf + PP_PAGES_SIZE;
	bool is_sync = !bulk && in_fetch(h, hd);
	if (bulk) {
		h->pages_bulk += p.nr_pages;
		if (h->t_running)
			h->pages_after_running += p.nr_pages;
	} else {
		h->pages_urgent += p.nr_pages;
		if (is_sync)
			h->sync_left -= p.nr_pages < h->sync_left ? p.nr_pages : h->sync_left;
	}
	if (!data)
		h->pages_zero_wire += p.nr_pages;
	else
		h->bytes += (uint64_t)p.nr_pages * 4096;
	if (is_sync && h->sync_dst) {
		/* an eager fetch into memory userfaultfd does not hold */
		return lazy_eager_write(h, p.addr, p.nr_pages, data);
	}
	if (!bulk) {
		/* copied before the lock was taken (urgent_precopy): the
		 * bookkeeping, or the copy's error */
		r = h->ans.r;
		if (r >= 0)
			hstate_done(&h->s, (pid_t)hd->pid, p.addr, p.nr_pages);
		note_latency(h, hd->id, h->ans.t_in, h->ans.t_placed); /* the copy woke the task */
		return r;
	}
	/* The stream goes in pieces, letting faults in between. It never reads
	 * the tasks' events (the main thread copies without the lock because
	 * only it does): a piece that meets a change of the address space under
	 * way waits for the main thread to read it, a while; then it stays
	 * missing, and the sweep after the stream asks for it. */
	for (uint32_t at = 0; at < p.nr_pages; at += BULK_PIECE) {
		uint32_t n = p.nr_pages - at < BULK_PIECE ? p.nr_pages - at : BULK_PIECE;
		const uint8_t *d = data ? data + (size_t)at * 4096 : NULL;
		uint64_t addr = p.addr + (uint64_t)at * 4096;
		r = hstate_apply(&h->s, (pid_t)hd->pid, addr, n, d);
		for (int tries = 0; r == -EAGAIN && tries < STREAM_EAGAIN_TRIES; tries++) {
			lazy_stream_pause(h); /* the main thread reads the events */
			r = hstate_apply(&h->s, (pid_t)hd->pid, addr, n, d);
		}
		if (r == -EAGAIN)
			h->bulk_deferred++;
		else if (r < 0)
			return r;
		lazy_yield(h);
	}
	return 0;
}

static int read_error(const uint8_t *buf, const struct pp_hdr *hd, char *out, size_t cap)
{
	int e;
	if (pp_error_decode(buf, hd->len, &e, out, cap) < 0)
		snprintf(out, cap, "garbled error");
	return e > 0 ? -e : -EIO;
}

/* Pages that answer a request (not an eager fetch's into memory, which go
 * there directly) are copied as soon as they are read, before the lock is
 * taken: the faulting task is woken without waiting for the stream's piece.
 * Every urgent PAGES message that on_pages places went through here. */
static void urgent_precopy(struct handler *h, const struct pp_hdr *hd, const uint8_t *pl)
{
	struct pp_pages p;

	h->ans.t_in = now_ns();
	if (hd->type != PP_PAGES || pp_pages_decode(pl, hd->len, hd->flags, &p) < 0)
		return; /* the dispatch says what is wrong */
	if (in_fetch(h, hd) && h->sync_dst)
		return;
	const uint8_t *data = hd->flags & PP_F_ZERO ? NULL : pl + PP_PAGES_SIZE;
	h->ans.r = copy_answer(h, (pid_t)hd->pid, p.addr, p.nr_pages, data);
	h->ans.t_placed = now_ns();
}

/* Called without the lock, returns with it held. */
static int urgent_msg_unlocked(struct handler *h)
{
	struct pp_hdr hd;
	const uint8_t *pl = NULL;
	int r = pp_rx_recv(&h->urx, &hd, &pl);

	if (r >= 0)
		urgent_precopy(h, &hd, pl);
	lazy_lock(h);
	return lazy_channel_dispatch(h, r, &hd, pl, false);
}

/* One message from the urgent channel; protocol errors are the peer's fault. */
int lazy_urgent_msg(struct handler *h)
{
	/* reading the answer (up to a fault's prefetch) and copying it need
	 * no lock: the stream places its pages meanwhile */
	lazy_unlock(h);
	return urgent_msg_unlocked(h);
}

/* What pp_recv (result r) brought; called with the lock held. */
int lazy_channel_dispatch(struct handler *h, int r, const struct pp_hdr *hdp, const uint8_t *buf, bool bulk)
{
	char why[PP_MAX_ERROR_TEXT + 128], text[PP_MAX_ERROR_TEXT + 1];
	struct pp_hdr hd = *hdp;

	if (r == -ECONNRESET || r == -EPIPE || r == -ETIMEDOUT) {
		snprintf(why, sizeof(why), "page server connection lost (%s channel: %s)",
			 bulk ? "bulk" : "urgent", err_msg());
		return fail(h, r, why);
	}
	if (r < 0) {
		snprintf(why, sizeof(why), "page server sent garbage, disconnected (%s)", err_msg());
		return fail(h, r, why);
	}
	switch (hd.type) {
	case PP_PAGES:
		r = on_pages(h, &hd, buf, bulk);
		break;
	case PP_DONE:
		if (!bulk)
			goto bad;
		h->bulk_done = true;
		log_info("bulk stream done: %llu pages streamed", (unsigned long long)h->pages_bulk);
		return 0;
	case PP_ERROR:
		r = read_error(buf, &hd, text, sizeof(text));
		snprintf(why, sizeof(why), "the page server gave up: %s", text);
		return fail(h, r, why);
	default:
	bad:
		snprintf(why, sizeof(why), "page server sent an unexpected message (type %u), disconnected",
			 hd.type);
		return fail(h, -EPROTO, why);
	}
	if (r < 0 && !h->failed) {
		snprintf(why, sizeof(why), "placing pages failed: %s", err_msg());
		return fail(h, r, why);
	}
	return r;
}

/* Ask for whatever is still missing (after the stream ended: pages of
 * children forked after restore that the stream delivered before the fork
 * reached us, or copies that met EAGAIN). */
static int sweep(struct handler *h)
{
	for (size_t ti = 0; ti < h->s.n_tasks; ti++) {
		struct htask *t = &h->s.tasks[ti];
		for (size_t ri = 0; ri < t->n_runs && !t->gone; ri++) {
			struct hrun *run = &t->runs[ri];
			uint64_t n = (run->end - run->start) / 4096;
			for (uint64_t k = 0; k < n;) {
				if (run->st[k] != PG_MISSING) {
					k++;
					continue;
				}
				uint64_t j = k + 1;
				while (j < n && j - k < SWEEP_PAGES && run->st[j] == PG_MISSING)
					j++;
				hstate_mark(&h->s, run, k, j - k, PG_REQUESTED);
				int r = send_req(h, true, t->src_pid, run->src + k * 4096, (uint32_t)(j - k), 0, NULL, NULL);
				if (r < 0)
					return r;
				k = j;
			}
		}
	}
	h->swept = true;
	return 0;
}

static int on_end(struct handler *h)
{
	h->t_running = now_ns();
	h->ended = true;
	log_info("restore done, the tree runs; %llu of %llu pages still to come",
		 (unsigned long long)h->s.missing, (unsigned long long)h->s.total);
	if (h->s.missing == 0)
		return 0;
	/* the stream's thread dials the bulk channel itself: the restore is not
	 * kept waiting for a handshake, nor are the first faults */
	return lazy_bulk_start(h);
}

int lazy_open_bulk(struct handler *h)
{
	int fd = open_channel(h, PP_CHAN_BULK, lazy_timeout());

	pthread_mutex_lock(&h->mu);
	if (fd >= 0 && h->stopping) {
		close(fd);
		fd = -ECANCELED;
	} else if (fd >= 0) {
		h->bulk = fd;
	} else if (!h->stopping) {
		fail(h, fd, "could not open the bulk channel");
	}
	pthread_mutex_unlock(&h->mu);
	return fd;
}

static int on_ctl(struct handler *h)
{
	struct lazy_ctl_hdr hd;
	_cleanup_free_ void *pl = NULL;
	int fds[4];
	bool eof;
	int r = lazy_ctl_recv(h->ctl, &hd, &pl, fds, 4, &eof);

	if (r >= 0 && eof)
		r = -EPIPE;
	if (r < 0) {
		for (int i = 0; i < 4; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		close(h->ctl);
		h->ctl = -1;
		if (h->ended)
			return 0; /* the restore returned */
		return fail(h, r, "the restore went away before the tree ran");
	}
	switch (hd.type) {
	case LAZY_CTL_TASK:
		r = lazy_ctl_task(h, &hd, pl, fds);
		lazy_ctl_reply_send(h->ctl, r < 0 ? -r : 0, r < 0 ? err_msg() : "");
		return h->failed ? r : 0;
	case LAZY_CTL_READY:
		r = lazy_connected(h);
		lazy_ctl_reply_send(h->ctl, r < 0 ? -r : 0, r < 0 ? err_msg() : "");
		return r;
	case LAZY_CTL_END:
		if (hd.n_fds) {
			h->init_pidfd = fds[0];
			lazy_watchdog_add(h, h->init_pidfd);
		}
		/* the tree runs already: the restore may return now. A stream
		 * that cannot start later fails the handler, which kills the tree */
		lazy_ctl_reply_send(h->ctl, 0, "");
		return on_end(h);
	default:
		return fail(h, -ECANCELED, "the restore failed");
	}
}

/* The loop's bookkeeping under the lock: 1 to stop, else builds the poll set
 * (ctl, urgent, news, then each task's uffd) in *p. */
static int loop_top(struct handler *h, bool quiet, struct pollfd **p, size_t *cap, size_t *n)
{
	if (h->failed)
		return -EIO;
	if (h->ended && h->s.missing == 0)
		return 1;
	if (h->conn_started && atomic_load(&h->conn_done))
		conn_join(h);
	/* after the stream: ask for what is missing; again after a quiet
	 * spell, for children forked since */
	int r;
	if (h->bulk_done && h->s.missing && (!h->swept || quiet) && (r = sweep(h)) < 0)
		return r;
	size_t need = 3 + h->s.n_tasks;
	if (need > *cap) {
		struct pollfd *np = realloc(*p, need * sizeof(**p));
		if (!np)
			return -ENOMEM;
		*p = np;
		*cap = need;
	}
	struct pollfd *q = *p;
	*n = 0;
	q[(*n)++] = (struct pollfd){ h->ctl, POLLIN, 0 };
	q[(*n)++] = (struct pollfd){ h->urgent, POLLIN, 0 };
	q[(*n)++] = (struct pollfd){ h->news_efd, POLLIN, 0 };
	for (size_t i = 0; i < h->s.n_tasks; i++)
		q[(*n)++] = (struct pollfd){ h->s.tasks[i].gone ? -1 : h->s.tasks[i].uffd, POLLIN, 0 };
	return 0;
}

/* The main thread. A round that only sent requests for faults polls the
 * same set again without taking the lock: the answer must not wait behind
 * the stream's piece (nor, on a kernel without preemption, behind whatever
 * runs on this CPU when the stream lets the lock go). Everything else (an
 * answer, another event, the control socket, the stream's news, a quiet
 * spell) goes through the bookkeeping under the lock. */
static int loop(struct handler *h)
{
	struct pollfd *p = NULL;
	size_t cap = 0, n = 0;
	bool quiet = false, again = false;
	int r = 0, timeout = -1;

	while (r >= 0) {
		if (!again) {
			lazy_lock(h);
			r = loop_top(h, quiet, &p, &cap, &n);
			timeout = h->bulk_done && h->s.missing ? 100 : -1;
			lazy_unlock(h);
			if (r != 0)
				break;
		}
		/* answers read ahead already (pp_rx) do not make the socket readable */
		bool buffered = h->urx.have > 0;
		int k = poll(p, n, buffered ? 0 : timeout);
		if (k < 0 && errno == EINTR) {
			again = false;
			continue;
		}
		if (k < 0) {
			r = err_sys(errno, "poll");
			break;
		}
		quiet = k == 0 && !buffered;
		bool other = quiet || p[0].revents || p[2].revents;
		/* an answer first, and before the lock: it wakes a task */
		if (buffered || (k > 0 && p[1].revents)) {
			do {
				r = urgent_msg_unlocked(h);
				lazy_unlock(h);
			} while (r >= 0 && h->urx.have);
			other = true;
		}
		/* faults first: they are what a task waits for */
		/* tasks forked meanwhile were not polled */
		for (size_t i = 0; i + 3 < n && r >= 0; i++)
			if (p[3 + i].revents)
				r = drain_uffd(h, i, false, &other);
		if (p[2].revents) {
			uint64_t v;
			if (read(h->news_efd, &v, sizeof(v)) < 0)
				v = 0; /* the loop's top looks at what changed */
		}
		if (r >= 0 && p[0].revents && h->ctl >= 0) {
			lazy_lock(h);
			r = on_ctl(h);
			lazy_unlock(h);
		}
		again = !other;
	}
	free(p);
	return r < 0 ? r : 0;
}

static void handler_free(struct handler *h)
{
	lazy_bulk_stop(h);
	conn_join(h); /* a dial still under way: its fd is closed below */
	hstate_free(&h->s);
	if (h->urgent >= 0)
		close(h->urgent);
	if (h->bulk >= 0)
		close(h->bulk);
	if (h->init_pidfd >= 0)
		close(h->init_pidfd);
	free(h->buf);
	free(h->bbuf);
	free(h->lat); /* and its three parts, in the same block */
	if (h->news_efd >= 0)
		close(h->news_efd);
}

int lazy_handler_run(const struct lazy_handler_opts *o, int ctl)
{
	struct handler h = { .o = o, .ctl = ctl, .urgent = -1, .bulk = -1, .init_pidfd = -1, .news_efd = -1, .wd = -1,
			     .conn_fd = -ENOTCONN, .conn_err = "not connected to the page server",
			     .mu = PTHREAD_MUTEX_INITIALIZER };
	int r;

	signal(SIGPIPE, SIG_IGN);
	log_info("handler pid %d", (int)getpid());
	/* if the OOM killer took the handler, the kernel would drop its
	 * registrations and the tasks would read zeros where pages are missing */
	if (write_string_file("/proc/self/oom_score_adj", "-1000") < 0)
		log_info("not shielded from the OOM killer (lowering oom_score_adj needs "
			 "CAP_SYS_RESOURCE); the watchdog stays");
	/* before the stream's thread exists: it sets its own */
	h.main_rt = lazy_thread_role(NULL, LAZY_HANDLER);
	h.t_start = now_ns();
	h.buf_cap = PP_PAGES_SIZE + (size_t)PP_MAX_PAGES * 4096 + PP_MAX_ERROR_TEXT;
	h.buf = malloc(h.buf_cap + PP_HDR_SIZE); /* the urgent channel's read-ahead (urx) */
	/* each fault's latency and its three parts, one block */
	h.lat = malloc(4 * LAT_MAX * sizeof(*h.lat));
	if (h.lat) {
		h.lat_wire = h.lat + LAT_MAX;
		h.lat_ask = h.lat + 2 * LAT_MAX;
		h.lat_place = h.lat + 3 * LAT_MAX;
	}
	h.bbuf = malloc(h.buf_cap);
	h.news_efd = eventfd(0, EFD_CLOEXEC);
	if (!h.buf || !h.lat || !h.bbuf || h.news_efd < 0)
		r = -ENOMEM;
	else if ((r = pp_secret_load(o->image_dir, h.secret)) >= 0 &&
		 getrandom(h.session, sizeof(h.session), 0) != sizeof(h.session))
		r = err_sys(errno, "making a session id");
	/* the watchdog is forked before there is a second thread */
	if (r >= 0 && lazy_watchdog_start(&h) < 0)
		log_warn("%s; going on without one", err_msg());
	if (r >= 0)
		r = conn_start(&h);
	lazy_ctl_reply_send(ctl, r < 0 ? -r : 0, r < 0 ? err_msg() : "");
	if (r >= 0)
		r = loop(&h);
	/* the stream's thread is done before anything below reads the counters */
	lazy_bulk_stop(&h);
	if (r >= 0)
		r = lazy_connected(&h);
	if (r >= 0) {
		struct pp_hdr a = { .type = PP_ACK_ALL };
		h.t_done = now_ns();
		r = pp_send(h.urgent, &a, NULL, 0, NULL, 0);
		log_info("every page is in: %llu faults, %llu pages by request, %llu streamed "
			 "(%llu after the tree ran), %llu zero pages never sent",
			 (unsigned long long)h.faults, (unsigned long long)h.pages_urgent,
			 (unsigned long long)h.pages_bulk, (unsigned long long)h.pages_after_running,
			 (unsigned long long)h.pages_zero_wire);
	} else if (!h.failed) {
		/* not a page server failure: still, nothing may run with holes */
		char why[1024];
		snprintf(why, sizeof(why), "lazy-pages handler failed (%s)", err_msg());
		fail(&h, r, why);
	}
	h.t_done = h.t_done ? h.t_done : now_ns();
	lazy_write_stats(&h, r);
	lazy_watchdog_done(&h, r >= 0);
	handler_free(&h);
	if (h.ctl >= 0)
		close(h.ctl);
	return r;
}
