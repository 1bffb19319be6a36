/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The destination handler's view of lazy memory: per task (and per task
 * forked after restore, which shares its parent's source pages) the runs of
 * pages still to come, each page missing, requested or done. Filling goes
 * through the task's userfaultfd (UFFDIO_COPY / UFFDIO_ZEROPAGE), never by
 * touching the memory from here.
 */
#ifndef SKUA_CR_LAZY_STATE_H
#define SKUA_CR_LAZY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* missing is 0: a new run's states come from calloc, whose large blocks are
 * fresh mappings nobody touches (4 ms for 4 GiB of memset on this VM) */
enum { PG_MISSING = 0, PG_DONE = 1, PG_REQUESTED = 2 };

struct hrun {
	uint64_t start, end; /* where the pages go in the task now */
	uint64_t src;        /* where they were in the source task */
	uint8_t *st;         /* PG_* per page */
};

struct htask {
	pid_t src_pid;       /* whose pages: the dumped task (forks inherit it) */
	pid_t host_pid;      /* 0 for tasks forked after restore */
	int uffd, pidfd;     /* -1: none */
	bool gone;           /* set under the handler's lock; read with htask_gone() */
	struct hrun *runs;
	size_t n_runs;
	uint64_t last_fault;  /* the page of its last fault that needed a request */
};

struct hstate {
	struct htask *tasks;
	size_t n_tasks;
	uint64_t total, missing;  /* pages registered / not yet done */
	uint64_t copied, zeroed;  /* pages placed by UFFDIO_COPY / ZEROPAGE (atomic) */
};

/* A task with its runs (st all PG_MISSING); takes ownership of the fds. */
int hstate_add_task(struct hstate *s, pid_t src_pid, pid_t host_pid, int uffd, int pidfd,
		    const uint64_t (*runs)[2], size_t n_runs);
/* A child forked by task idx, with its own uffd: a copy of the parent's runs. */
int hstate_fork(struct hstate *s, size_t idx, int uffd);
/* Events: the range moved / went away. */
int hstate_remap(struct hstate *s, size_t idx, uint64_t from, uint64_t to, uint64_t len);
void hstate_remove(struct hstate *s, size_t idx, uint64_t start, uint64_t end);
void hstate_task_gone(struct hstate *s, size_t idx);
/* Pages of src_pid at src (data NULL: zeros) into every task holding them
 * that still misses them, which are then done. Returns 0 or <0; -EAGAIN
 * when the caller must read the tasks' events first and call again. */
int hstate_apply(struct hstate *s, pid_t src_pid, uint64_t src, uint64_t nr, const uint8_t *data);
/* hstate_apply in two steps: the copy, which changes no state (so it may run
 * beside another thread's hstate_apply, as long as nothing else changes the
 * tasks and runs meanwhile), then the marking of those pages done. */
int hstate_copy(struct hstate *s, pid_t src_pid, uint64_t src, uint64_t nr, const uint8_t *data);
void hstate_done(struct hstate *s, pid_t src_pid, uint64_t src, uint64_t nr);
/* Which run of task idx holds addr; NULL if none. */
struct hrun *hstate_find(struct hstate *s, size_t idx, uint64_t addr);
void hstate_mark(struct hstate *s, struct hrun *run, uint64_t first, uint64_t n, uint8_t st);
/* Page k of run, missing, becomes requested; returns the state it found
 * (PG_MISSING when this call claimed it). Atomic: the caller need not hold
 * the lock under which the other thread marks pages done. */
uint8_t hstate_claim(struct hrun *run, uint64_t k);
static inline bool htask_gone(const struct htask *t)
{
	return __atomic_load_n(&t->gone, __ATOMIC_RELAXED);
}
/* A fault of task t at addr (one that needs a request): does it lie after
 * its last such fault, within reach bytes (the task reads forward)? */
bool hstate_forward(struct htask *t, uint64_t addr, uint64_t reach);
void hstate_free(struct hstate *s);

#endif
