/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The destination handler's state, shared by lazy-handler*.c. */
#ifndef SKUA_CR_LAZY_HANDLER_INTERNAL_H
#define SKUA_CR_LAZY_HANDLER_INTERNAL_H

#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cr/lazy-internal.h"
#include "cr/lazy-state.h"
#include "cr/page-proto.h"

#define PENDING_MAX 1024
#define LAT_MAX (1u << 20)

struct pending {
	uint64_t id;
	unsigned long long t, t_sent; /* fault read; request written */
};

struct handler {
	const struct lazy_handler_opts *o;
	int ctl, urgent, bulk, init_pidfd;
	/* The urgent channel is dialled by a thread of its own while the
	 * restore builds the tree; the first thing that needs the page server
	 * joins it (lazy_connected). */
	pthread_t conn_thr;
	bool conn_started;
	atomic_bool conn_done;
	int conn_fd;
	char conn_err[512];
	uint8_t secret[PP_SECRET_LEN], session[PP_SESSION_LEN];
	struct hstate s;
	uint8_t *buf, *bbuf; /* urgent (main thread), bulk (stream thread) */
	size_t buf_cap;      /* the largest payload; buf holds a header more */
	struct pp_rx urx;    /* the urgent channel's reader, on buf */
	/* The bulk stream is read by a thread of its own so that faults never
	 * wait for a large message to arrive; it copies in pieces under mu.
	 * The main thread takes mu for its bookkeeping; not to read the tasks'
	 * events, nor for a fault's request (hstate_claim), nor to read and
	 * copy an answer. */
	pthread_mutex_t mu;
	atomic_bool main_wants;
	pthread_t bulk_thr;
	bool bulk_started, stopping;
	int news_efd; /* the threads' news: stream done, all in, failed; dialled */
	int wd;       /* the watchdog's socket (lazy-watchdog.c), -1 */
	pid_t wd_pid;
	uint64_t next_id;
	bool ended, bulk_done, swept, failed;
	/* a synchronous fetch in progress (lazy memory userfaultfd cannot
	 * hold): its id, pages still to come, and where to pwrite them */
	uint64_t sync_id, sync_left;
	uint64_t sync_lo; /* a batch: ids sync_lo..sync_id are in flight */
	int sync_mem;
	bool sync_dst;
	struct pending pending[PENDING_MAX];
	size_t n_pending;
	/* the urgent answer being handled: read at t_in, copied before the
	 * lock was taken (done at t_placed, r: the copy's result), its pages
	 * still to be marked done */
	struct {
		unsigned long long t_in, t_placed;
		int r;
	} ans;
	/* LAT_MAX fault latencies (us) in one block with, for each, its parts:
	 * fault read -> request written (ask) -> answer read (wire) -> the copy
	 * that woke the task (place) */
	uint32_t *lat, *lat_ask, *lat_wire, *lat_place;
	size_t n_lat;
	/* stats */
	uint64_t faults, reqs, pages_urgent, pages_bulk, pages_after_running, pages_zero_wire, bytes;
	uint64_t pages_eager;
	uint64_t ev_fork, ev_remap, ev_remove, ev_unmap; /* the tasks' events read */
	uint64_t bulk_deferred; /* stream pieces left to the sweep: the address space kept changing */
	bool main_rt, stream_rt; /* the threads run SCHED_FIFO (lazy_thread_role) */
	unsigned long long bulk_recv_ns, bulk_place_ns; /* the stream thread's */
	unsigned long long t_start, t_running, t_done;
};

/* lazy-handler.c */
/* locked: the caller holds the lock; without it, only the main thread once
 * connected (drain_uffd) */
int lazy_fault(struct handler *h, size_t idx, uint64_t addr, bool locked);
int lazy_drain_all(struct handler *h);
/* The urgent channel, waiting for its thread if need be; a failure fails
 * the handler. */
int lazy_connected(struct handler *h);
/* One message of the urgent channel, read and dispatched; called with the
 * lock held, it lets the lock go while it reads and copies an answer (as
 * sending a request does): the stream may place pages meanwhile. */
int lazy_urgent_msg(struct handler *h);
int lazy_channel_dispatch(struct handler *h, int r, const struct pp_hdr *hd, const uint8_t *buf, bool bulk);
/* Fetch ranges of pid now (mem >= 0: pwrite them there, else through the
 * uffds), their requests in flight together: begin, queue each range, end
 * reads the urgent channel until the last page is in. */
void lazy_fetch_begin(struct handler *h, int mem);
int lazy_fetch_queue(struct handler *h, pid_t pid, uint64_t addr, uint64_t nr);
int lazy_fetch_end(struct handler *h);

/* lazy-handler-bulk.c */
int lazy_bulk_start(struct handler *h);
/* From the stream's thread, without the lock: dials and proves the bulk
 * channel (h->bulk), or fails the handler. */
int lazy_open_bulk(struct handler *h);
void lazy_bulk_stop(struct handler *h);
void lazy_lock(struct handler *h);   /* the main thread's: first in line */
void lazy_unlock(struct handler *h);
void lazy_yield(struct handler *h);  /* the stream's: let a waiting main thread in */
void lazy_stream_pause(struct handler *h); /* the stream's: let go a while (events to read) */

/* lazy-watchdog.c */
int lazy_watchdog_start(struct handler *h);
void lazy_watchdog_add(struct handler *h, int pidfd);
void lazy_watchdog_done(struct handler *h, bool ok);

/* lazy-handler-task.c */
int lazy_ctl_task(struct handler *h, const struct lazy_ctl_hdr *hd, const void *payload, int *fds);
int lazy_handle_event(struct handler *h, size_t idx, const struct uffd_msg *m);
int lazy_eager_write(struct handler *h, uint64_t addr, uint64_t nr, const uint8_t *data);
void lazy_write_stats(struct handler *h, int result);

#endif
