// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destination handler's per-task work: taking a task from the restore
 * (its uffd, its runs), userfaultfd events, the stats
 * file, and the stand-alone daemon (`skua lazy-pages`) that waits for a
 * restore on a unix socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/json.h"
#include "base/log.h"
#include "cr/lazy-handler-internal.h"

#define PG 4096UL

static bool in_vmas(const struct lazy_ctl_vma *v, size_t n, uint64_t a, uint64_t *ret_end)
{
	for (size_t i = 0; i < n; i++)
		if (a >= v[i].start && a < v[i].end) {
			*ret_end = v[i].end;
			return true;
		}
	return false;
}

/* The part of [a, b) up to the next registered VMA boundary. */
static uint64_t next_edge(const struct lazy_ctl_vma *v, size_t n, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].start > a && v[i].start < b)
			b = v[i].start;
	return b;
}

int lazy_ctl_task(struct handler *h, const struct lazy_ctl_hdr *hd, const void *payload, int *fds)
{
	const struct lazy_ctl_vma *vmas = payload;
	const struct lazy_run *runs = (const void *)(vmas + hd->n_vmas);
	_cleanup_free_ uint64_t (*reg)[2] = NULL;
	_cleanup_close_ int mem = -1;
	size_t n_reg = 0, cap = 0;
	int pidfd = hd->n_fds >= 1 ? fds[0] : -1, uffd = hd->n_fds >= 2 ? fds[1] : -1;
	uint64_t n_unreg = 0;
	int r;

	/* runs inside registered VMAs are the handler's; the rest is fetched now */
	for (size_t i = 0; i < hd->n_runs; i++) {
		uint64_t a = runs[i].start, end = a + runs[i].nr_pages * PG;
		while (a < end) {
			uint64_t vend, b;
			if (in_vmas(vmas, hd->n_vmas, a, &vend) && uffd >= 0) {
				b = vend < end ? vend : end;
				if (n_reg == cap) {
					cap = cap ? cap * 2 : 64;
					void *nr = realloc(reg, cap * sizeof(*reg));
					if (!nr)
						return -ENOMEM;
					reg = nr;
				}
				reg[n_reg][0] = a;
				reg[n_reg++][1] = b;
			} else {
				b = next_edge(vmas, hd->n_vmas, a, end);
				if (mem < 0) {
					char path[64];
					snprintf(path, sizeof(path), "/proc/%d/mem", hd->host_pid);
					mem = open(path, O_RDWR | O_CLOEXEC);
					if (mem < 0)
						return err_sys(errno, "opening %s", path);
					lazy_fetch_begin(h, mem);
				}
				r = lazy_fetch_queue(h, hd->pid, a, (b - a) / PG);
				if (r < 0)
					return r;
				n_unreg += (b - a) / PG;
			}
			a = b;
		}
	}
	if (mem >= 0 && (r = lazy_fetch_end(h)) < 0)
		return r;
	r = hstate_add_task(&h->s, hd->pid, hd->host_pid, uffd, pidfd, (const uint64_t(*)[2])reg, n_reg);
	if (r < 0)
		return r;
	lazy_watchdog_add(h, pidfd);
	uint64_t n_lazy = 0;
	for (size_t i = 0; i < n_reg; i++)
		n_lazy += (reg[i][1] - reg[i][0]) / PG;
	log_info("pid %d: %llu lazy pages in %zu runs under userfaultfd, %llu fetched now "
		 "(memory userfaultfd cannot hold)", hd->pid, (unsigned long long)n_lazy, n_reg,
		 (unsigned long long)n_unreg);
	return 0;
}

int lazy_eager_write(struct handler *h, uint64_t addr, uint64_t nr, const uint8_t *data)
{
	static const uint8_t zero[PG];

	for (uint64_t i = 0; i < nr; i++) {
		const void *p = data ? data + i * PG : zero;
		if (pwrite(h->sync_mem, p, PG, addr + i * PG) != (ssize_t)PG)
			return err_sys(errno ? errno : EIO, "writing a page at 0x%llx",
				       (unsigned long long)(addr + i * PG));
	}
	return 0;
}

int lazy_handle_event(struct handler *h, size_t idx, const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		return lazy_fault(h, idx, m->arg.pagefault.address & ~(PG - 1), true);
	case UFFD_EVENT_FORK: {
		int fd = (int)m->arg.fork.ufd;
		h->ev_fork++;
		fd_set_nonblock(fd, 1);
		fd_set_cloexec(fd, 1);
		log_info("pid %d forked: a new userfaultfd %d", h->s.tasks[idx].src_pid, fd);
		return hstate_fork(&h->s, idx, fd);
	}
	case UFFD_EVENT_REMAP:
		h->ev_remap++;
		return hstate_remap(&h->s, idx, m->arg.remap.from, m->arg.remap.to, m->arg.remap.len);
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		*(m->event == UFFD_EVENT_REMOVE ? &h->ev_remove : &h->ev_unmap) += 1;
		hstate_remove(&h->s, idx, m->arg.remove.start, m->arg.remove.end);
		return 0;
	default:
		log_warn("unknown userfaultfd event %u", m->event);
		return 0;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts v and reads its median, 99th percentile and, if asked, maximum
 * (0 if empty). */
static void percentiles(uint32_t *v, size_t n, uint32_t *p50, uint32_t *p99, uint32_t *max)
{
	*p50 = *p99 = 0;
	if (max)
		*max = 0;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_u32);
	*p50 = v[n / 2];
	*p99 = v[(n * 99) / 100];
	if (max)
		*max = v[n - 1];
}

void lazy_write_stats(struct handler *h, int result)
{
	char path[4096], *text = NULL;
	size_t len;
	uint32_t p50, p99, pmax, w50, w99, a50, a99, c50, c99;

	percentiles(h->lat, h->n_lat, &p50, &p99, &pmax);
	percentiles(h->lat_wire, h->n_lat, &w50, &w99, NULL);
	percentiles(h->lat_ask, h->n_lat, &a50, &a99, NULL);
	percentiles(h->lat_place, h->n_lat, &c50, &c99, NULL);
	yajl_gen g = json_gen_new(true);
	if (!g)
		return;
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "complete", result >= 0);
	json_gen_kv_int(g, "pages_total", (long long)h->s.total);
	json_gen_kv_int(g, "pages_missing", (long long)h->s.missing);
	json_gen_kv_int(g, "faults", (long long)h->faults);
	json_gen_kv_int(g, "fault_requests", (long long)h->n_lat);
	json_gen_kv_int(g, "requests", (long long)h->reqs);
	json_gen_kv_int(g, "pages_eager", (long long)h->pages_eager);
	json_gen_kv_int(g, "bulk_pieces_deferred", (long long)h->bulk_deferred);
	json_gen_kv_bool(g, "handler_realtime", h->main_rt && h->stream_rt);
	json_gen_kv_int(g, "events_fork", (long long)h->ev_fork);
	json_gen_kv_int(g, "events_remap", (long long)h->ev_remap);
	json_gen_kv_int(g, "events_remove", (long long)h->ev_remove);
	json_gen_kv_int(g, "events_unmap", (long long)h->ev_unmap);
	json_gen_kv_int(g, "pages_urgent", (long long)h->pages_urgent);
	json_gen_kv_int(g, "pages_bulk", (long long)h->pages_bulk);
	json_gen_kv_int(g, "pages_bulk_after_running", (long long)h->pages_after_running);
	json_gen_kv_int(g, "pages_zero_not_sent", (long long)h->pages_zero_wire);
	json_gen_kv_int(g, "pages_copied", (long long)h->s.copied);
	json_gen_kv_int(g, "pages_zeroed", (long long)h->s.zeroed);
	json_gen_kv_int(g, "bytes_received", (long long)h->bytes);
	json_gen_kv_int(g, "fault_latency_p50_us", p50);
	json_gen_kv_int(g, "fault_latency_p99_us", p99);
	json_gen_kv_int(g, "fault_latency_max_us", pmax);
	/* the part of it between the request written and the answer read */
	json_gen_kv_int(g, "fault_wire_p50_us", w50);
	json_gen_kv_int(g, "fault_wire_p99_us", w99);
	/* before it: the fault read to the request written; after it: the
	 * answer read to the copy that woke the task */
	json_gen_kv_int(g, "fault_ask_p50_us", a50);
	json_gen_kv_int(g, "fault_ask_p99_us", a99);
	json_gen_kv_int(g, "fault_place_p50_us", c50);
	json_gen_kv_int(g, "fault_place_p99_us", c99);
	/* the stream thread's time: reading the bulk channel, placing pages
	 * (UFFDIO_COPY, and waiting for the lock while faults are served) */
	json_gen_kv_int(g, "bulk_recv_us", (long long)(h->bulk_recv_ns / 1000));
	json_gen_kv_int(g, "bulk_place_us", (long long)(h->bulk_place_ns / 1000));
	json_gen_kv_int(g, "tasks", (long long)h->s.n_tasks);
	json_gen_kv_int(g, "t_start_ns", (long long)h->t_start);
	json_gen_kv_int(g, "t_running_ns", (long long)h->t_running);
	json_gen_kv_int(g, "t_done_ns", (long long)h->t_done);
	json_gen_kv_int(g, "running_to_done_us",
			(long long)(h->t_running && h->t_done > h->t_running ? (h->t_done - h->t_running) / 1000 : 0));
	yajl_gen_map_close(g);
	if (json_gen_finish(g, &text, &len) < 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", h->o->work_dir, LAZY_STATS_NAME);
	if (write_file(path, text, len, 0644) < 0)
		log_warn("could not write %s", path);
	free(text);
}

int lazy_daemon_run(const struct lazy_daemon_opts *o)
{
	struct lazy_handler_opts ho = { .addr = o->addr, .port = o->port, .image_dir = o->image_dir,
					.work_dir = o->work_dir };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int lfd = -1;
	int r, c;

	if (o->ctl_fd >= 0) {
		/* spawned by restore (lazy-restore.c), which holds the other end */
		log_info("lazy-pages handler for %s, page server %s:%u", o->image_dir, o->addr, o->port);
		return lazy_handler_run(&ho, o->ctl_fd); /* it closes ctl_fd */
	}

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", o->work_dir, LAZY_SOCKET_NAME) >=
	    (int)sizeof(sa.sun_path))
		return err_set(ENAMETOOLONG, "socket path in %s is too long", o->work_dir);
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0)
		return err_sys(errno, "listening on %s", sa.sun_path);
	chmod(sa.sun_path, 0600);
	log_info("lazy-pages: waiting for a restore on %s", sa.sun_path);
	struct pollfd p = { lfd, POLLIN, 0 };
	do
		r = poll(&p, 1, lazy_timeout() * 1000);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		unlink(sa.sun_path);
		return err_set(ETIMEDOUT, "no restore came to %s within %d s", sa.sun_path, lazy_timeout());
	}
	do
		c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (c < 0 && errno == EINTR);
	unlink(sa.sun_path);
	if (c < 0)
		return err_sys(errno, "accepting on %s", sa.sun_path);
	log_info("lazy-pages: a restore connected");
	r = lazy_handler_run(&ho, c);
	close(c);
	return r;
}
