// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Page bookkeeping of the destination handler (lazy-state.h). A copy that
 * meets EEXIST (the task faulted the page in some other way, or a racing
 * copy won) or ENOENT (the range was unmapped) is normal: the page counts as
 * done. EAGAIN means the address space changed under us (mremap, munmap,
 * MADV_DONTNEED in flight): the events must be read before copying again,
 * or we would write old data into a range the task just dropped (a copy
 * that stopped part way also says EAGAIN, with the bytes it did). ESRCH: the
 * task is gone.
 */
#include <errno.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "cr/lazy-state.h"

#define PG 4096UL

static uint64_t run_pages(const struct hrun *r)
{
	return (r->end - r->start) / PG;
}

/* A page's state may be read by a copy running without the handler's lock
 * (hstate_copy) while the other thread marks pages done under it. */
static uint8_t pg_state(const struct hrun *r, uint64_t k)
{
	return __atomic_load_n(&r->st[k], __ATOMIC_RELAXED);
}

int hstate_add_task(struct hstate *s, pid_t src_pid, pid_t host_pid, int uffd, int pidfd,
		    const uint64_t (*runs)[2], size_t n_runs)
{
	struct htask *nt = realloc(s->tasks, (s->n_tasks + 1) * sizeof(*nt));
	struct htask *t;

	if (!nt)
		return -ENOMEM;
	s->tasks = nt;
	t = &s->tasks[s->n_tasks];
	*t = (struct htask){ .src_pid = src_pid, .host_pid = host_pid, .uffd = uffd, .pidfd = pidfd };
	t->runs = calloc(n_runs ? n_runs : 1, sizeof(*t->runs));
	if (!t->runs)
		return -ENOMEM;
	s->n_tasks++;
	for (size_t i = 0; i < n_runs; i++) {
		struct hrun *r = &t->runs[t->n_runs];
		uint64_t n = (runs[i][1] - runs[i][0]) / PG;
		if (!n)
			continue;
		r->start = r->src = runs[i][0];
		r->end = runs[i][1];
		r->st = calloc(n, 1); /* PG_MISSING */
		if (!r->st)
			return -ENOMEM;
		t->n_runs++;
		s->total += n;
		s->missing += n;
	}
	return 0;
}

int hstate_fork(struct hstate *s, size_t idx, int uffd)
{
	struct htask *nt = realloc(s->tasks, (s->n_tasks + 1) * sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	s->tasks = nt;
	struct htask *p = &s->tasks[idx], *c = &s->tasks[s->n_tasks];
	*c = (struct htask){ .src_pid = p->src_pid, .uffd = uffd, .pidfd = -1 };
	c->runs = calloc(p->n_runs ? p->n_runs : 1, sizeof(*c->runs));
	if (!c->runs)
		return -ENOMEM;
	s->n_tasks++;
	for (size_t i = 0; i < p->n_runs; i++) {
		struct hrun *pr = &p->runs[i], *cr = &c->runs[c->n_runs];
		uint64_t n = run_pages(pr);
		*cr = *pr;
		cr->st = malloc(n);
		if (!cr->st)
			return -ENOMEM;
		/* the parent's in-flight requests are not the child's */
		for (uint64_t k = 0; k < n; k++) {
			cr->st[k] = pr->st[k] == PG_DONE ? PG_DONE : PG_MISSING;
			s->missing += cr->st[k] != PG_DONE;
			s->total += cr->st[k] != PG_DONE;
		}
		c->n_runs++;
	}
	return 0;
}

struct hrun *hstate_find(struct hstate *s, size_t idx, uint64_t addr)
{
	struct htask *t = &s->tasks[idx];

	for (size_t i = 0; i < t->n_runs; i++)
		if (addr >= t->runs[i].start && addr < t->runs[i].end)
			return &t->runs[i];
	return NULL;
}

void hstate_mark(struct hstate *s, struct hrun *run, uint64_t first, uint64_t n, uint8_t st)
{
	for (uint64_t k = first; k < first + n; k++) {
		if (pg_state(run, k) == PG_DONE)
			continue;
		if (st == PG_DONE)
			s->missing--;
		__atomic_store_n(&run->st[k], st, __ATOMIC_RELAXED);
	}
}

uint8_t hstate_claim(struct hrun *run, uint64_t k)
{
	uint8_t found = PG_MISSING;

	__atomic_compare_exchange_n(&run->st[k], &found, PG_REQUESTED, false, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
	return found;
}

bool hstate_forward(struct htask *t, uint64_t addr, uint64_t reach)
{
	bool fwd = t->last_fault && addr > t->last_fault && addr - t->last_fault <= reach;

	t->last_fault = addr;
	return fwd;
}

/* Split run i of t at addr (inside it): [start, addr) stays at i, the rest
 * goes to i + 1. */
static int split_run(struct htask *t, size_t i, uint64_t addr)
{
	struct hrun *nr = realloc(t->runs, (t->n_runs + 1) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	t->runs = nr;
	struct hrun *a = &t->runs[i];
	uint64_t left = (addr - a->start) / PG, right = (a->end - addr) / PG;
	uint8_t *st2 = malloc(right);
	if (!st2)
		return -ENOMEM;
	memcpy(st2, a->st + left, right);
	memmove(&t->runs[i + 2], &t->runs[i + 1], (t->n_runs - i - 1) * sizeof(*nr));
	t->runs[i + 1] = (struct hrun){ .start = addr, .end = a->end, .src = a->src + left * PG, .st = st2 };
	a->end = addr;
	t->n_runs++;
	return 0;
}

int hstate_remap(struct hstate *s, size_t idx, uint64_t from, uint64_t to, uint64_t len)
{
	struct htask *t = &s->tasks[idx];
	uint64_t end = from + len;
	int r;

	for (size_t i = 0; i < t->n_runs; i++) {
		struct hrun *run = &t->runs[i];
		if (run->end <= from || run->start >= end)
			continue;
		if (run->start < from) {
			if ((r = split_run(t, i, from)) < 0)
				return r;
			continue; /* the part inside comes next */
		}
		if (run->end > end && (r = split_run(t, i, end)) < 0)
			return r;
		run = &t->runs[i];
		if (run->start >= from && run->end <= end && run->start < end) {
			run->start = run->start - from + to;
			run->end = run->end - from + to;
		}
	}
	/* moved runs land after runs we have not looked at: no run is moved twice
	 * because a moved run's new range [to, to+len) no longer overlaps the
	 * source range once the kernel accepted the move */
	return 0;
}

void hstate_remove(struct hstate *s, size_t idx, uint64_t start, uint64_t end)
{
	struct htask *t = &s->tasks[idx];

	for (size_t i = 0; i < t->n_runs; i++) {
		struct hrun *run = &t->runs[i];
		uint64_t a = run->start > start ? run->start : start;
		uint64_t b = run->end < end ? run->end : end;
		if (a < b)
			hstate_mark(s, run, (a - run->start) / PG, (b - a) / PG, PG_DONE);
	}
}

void hstate_task_gone(struct hstate *s, size_t idx)
{
	struct htask *t = &s->tasks[idx];

	if (t->gone)
		return;
	__atomic_store_n(&t->gone, true, __ATOMIC_RELAXED);
	for (size_t i = 0; i < t->n_runs; i++)
		hstate_mark(s, &t->runs[i], 0, run_pages(&t->runs[i]), PG_DONE);
}

/* One contiguous range into one task: 0, 1 if the task is gone, or <0. */
static int place(struct hstate *s, size_t idx, uint64_t dst, const uint8_t *data, uint64_t len)
{
	struct htask *t = &s->tasks[idx];

	while (len) {
		long done;
		int rc;
		if (data) {
			struct uffdio_copy c = { .dst = dst, .src = (uintptr_t)data, .len = len };
			rc = ioctl(t->uffd, UFFDIO_COPY, &c);
			done = c.copy;
		} else {
			struct uffdio_zeropage z = { .range = { .start = dst, .len = len } };
			rc = ioctl(t->uffd, UFFDIO_ZEROPAGE, &z);
			done = z.zeropage;
		}
		if (rc == 0) {
			__atomic_fetch_add(data ? &s->copied : &s->zeroed, len / PG, __ATOMIC_RELAXED);
			return 0;
		}
		int e = errno;
		if (done > 0) {
			__atomic_fetch_add(data ? &s->copied : &s->zeroed, (uint64_t)done / PG, __ATOMIC_RELAXED);
			/* a partial copy says EAGAIN: go on after what was done,
			 * the next try names the page that stopped it */
			if (e == EAGAIN) {
				dst += done;
				len -= done;
				if (data)
					data += done;
				continue;
			}
		} else {
			done = 0;
		}
		if (e == EAGAIN)
			return -EAGAIN;
		if (e == ESRCH)
			return 1; /* the task is gone */
		if (e == ENOENT)
			return 0; /* unmapped under us */
		if (e != EEXIST)
			return err_sys(e, "%s into task %d at 0x%llx", data ? "UFFDIO_COPY" : "UFFDIO_ZEROPAGE",
				       t->src_pid, (unsigned long long)dst);
		/* that page exists: skip it */
		done += PG;
		if ((uint64_t)done >= len)
			return 0;
		dst += done;
		len -= done;
		if (data)
			data += done;
	}
	return 0;
}

/* Walks the pages of src_pid in [src, src + nr pages) that some task still
 * misses, copying (data, or zeros when NULL) and/or marking them done, one
 * contiguous sub-range at a time. */
static int walk(struct hstate *s, pid_t src_pid, uint64_t src, uint64_t nr, const uint8_t *data,
		bool copy, bool mark)
{
	uint64_t send = src + nr * PG;
	int r;

	for (size_t ti = 0; ti < s->n_tasks; ti++) {
		if (s->tasks[ti].src_pid != src_pid || htask_gone(&s->tasks[ti]) || s->tasks[ti].uffd < 0)
			continue;
		bool gone = false;
		for (size_t ri = 0; ri < s->tasks[ti].n_runs && !gone; ri++) {
			struct hrun *run = &s->tasks[ti].runs[ri];
			uint64_t rsend = run->src + (run->end - run->start);
			uint64_t a = run->src > src ? run->src : src, b = rsend < send ? rsend : send;
			if (a >= b)
				continue;
			uint64_t k = (a - run->src) / PG, kend = (b - run->src) / PG;
			while (k < kend) {
				if (pg_state(run, k) == PG_DONE) {
					k++;
					continue;
				}
				uint64_t j = k + 1;
				while (j < kend && pg_state(run, j) != PG_DONE)
					j++;
				if (copy) {
					const uint8_t *d = data ? data + (run->src + k * PG - src) : NULL;
					r = place(s, ti, run->start + k * PG, d, (j - k) * PG);
					if (r < 0)
						return r;
					if (r > 0) {
						/* a copy beside the other thread leaves
						 * the bookkeeping to whoever holds the lock */
						if (mark)
							hstate_task_gone(s, ti);
						gone = true;
						break;
					}
				}
				if (mark)
					hstate_mark(s, run, k, j - k, PG_DONE);
				k = j;
			}
		}
	}
	return 0;
}

int hstate_apply(struct hstate *s, pid_t src_pid, uint64_t src, uint64_t nr, const uint8_t *data)
{
	return walk(s, src_pid, src, nr, data, true, true);
}

int hstate_copy(struct hstate *s, pid_t src_pid, uint64_t src, uint64_t nr, const uint8_t *data)
{
	return walk(s, src_pid, src, nr, data, true, false);
}

void hstate_done(struct hstate *s, pid_t src_pid, uint64_t src, uint64_t nr)
{
	walk(s, src_pid, src, nr, NULL, false, true);
}

void hstate_free(struct hstate *s)
{
	for (size_t i = 0; i < s->n_tasks; i++) {
		struct htask *t = &s->tasks[i];
		for (size_t k = 0; k < t->n_runs; k++)
			free(t->runs[k].st);
		free(t->runs);
		if (t->uffd >= 0)
			close(t->uffd);
		if (t->pidfd >= 0)
			close(t->pidfd);
	}
	free(s->tasks);
	s->tasks = NULL;
	s->n_tasks = 0;
}
