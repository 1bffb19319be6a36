// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destination handler's background stream: a thread reads the bulk
 * channel (messages up to 4 MiB) without holding anything, then copies each
 * message in pieces under the handler's lock. The main thread (faults,
 * urgent answers) takes the lock for its bookkeeping, but reads the tasks'
 * events, sends a fault's request, and reads and copies an answer without
 * it: it alone reads the events, so the tasks and runs cannot change under
 * its copy, and a fault claims its pages atomically (hstate_claim). The stream steps aside between pieces when it sees
 * the main thread waiting, so the main thread waits for at most one piece
 * of copying instead of a whole message.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "cr/lazy-handler-internal.h"

void lazy_lock(struct handler *h)
{
	atomic_store(&h->main_wants, true);
	pthread_mutex_lock(&h->mu);
	atomic_store(&h->main_wants, false);
}

void lazy_unlock(struct handler *h)
{
	pthread_mutex_unlock(&h->mu);
}

void lazy_yield(struct handler *h)
{
	if (!atomic_load(&h->main_wants))
		return;
	pthread_mutex_unlock(&h->mu);
	while (atomic_load(&h->main_wants))
		sched_yield();
	pthread_mutex_lock(&h->mu);
}

void lazy_stream_pause(struct handler *h)
{
	pthread_mutex_unlock(&h->mu);
	nanosleep(&(struct timespec){ 0, 50000 }, NULL);
	pthread_mutex_lock(&h->mu);
}

static void notify(struct handler *h)
{
	uint64_t one = 1;
	if (write(h->news_efd, &one, sizeof(one)) < 0)
		log_warn("bulk stream: waking the handler: %m");
}

static void *bulk_main(void *arg)
{
	struct handler *h = arg;
	struct pp_hdr hd;

	/* at the main thread's priority, so that it never stops the stream
	 * with the lock held (lazy.h) */
	h->stream_rt = lazy_thread_role("lazy-stream", LAZY_STREAM);
	/* the buffer's pages in place before the first message, not faulted
	 * in by its copy (base/mem.c) */
	mem_prefault(h->bbuf, h->buf_cap < PP_PAGES_SIZE + PP_BULK_CHUNK_MAX ? h->buf_cap
								       : PP_PAGES_SIZE + PP_BULK_CHUNK_MAX);
	if (lazy_open_bulk(h) < 0) {
		notify(h);
		return NULL;
	}
	for (;;) {
		unsigned long long t0 = now_ns();
		int r = pp_recv(h->bulk, &hd, h->bbuf, h->buf_cap);
		unsigned long long t1 = now_ns();
		pthread_mutex_lock(&h->mu);
		if (h->stopping || h->failed) {
			pthread_mutex_unlock(&h->mu);
			break;
		}
		r = lazy_channel_dispatch(h, r, &hd, h->bbuf, true);
		/* where the stream's time goes: waiting for the wire, or placing */
		h->bulk_recv_ns += t1 - t0;
		h->bulk_place_ns += now_ns() - t1;
		bool done = r < 0 || h->failed || h->bulk_done;
		bool news = done || h->s.missing == 0;
		pthread_mutex_unlock(&h->mu);
		if (news)
			notify(h);
		if (done)
			break;
	}
	notify(h);
	return NULL;
}

int lazy_bulk_start(struct handler *h)
{
	int r = pthread_create(&h->bulk_thr, NULL, bulk_main, h);

	if (r)
		return err_sys(r, "starting the bulk stream thread");
	h->bulk_started = true;
	return 0;
}

/* Called without the lock. */
void lazy_bulk_stop(struct handler *h)
{
	if (!h->bulk_started)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = true;
	pthread_mutex_unlock(&h->mu);
	if (h->bulk >= 0)
		shutdown(h->bulk, SHUT_RDWR);
	pthread_join(h->bulk_thr, NULL);
	h->bulk_started = false;
}
