/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The restore engine's private state, shared by restore*.c, puppet*.c and
 * rst-*.c. A "puppet" is a process (or thread) the engine holds in a ptrace
 * stop and drives by injecting single syscalls at a gadget page that no
 * dumped VMA uses; every task of the tree is built that way and gets its
 * dumped registers only at the very end.
 */
#ifndef SKUA_CR_RESTORE_INTERNAL_H
#define SKUA_CR_RESTORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cr/cr.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

#define RST_PAGE 4096UL
/* The gadget block: page 0 r-x holds INJECT_GADGET_BYTES, page 1 rw- is a
 * scratch page for syscall arguments. The hole we pick also leaves room
 * after it to park the vDSO block while it moves. */
#define RST_GADGET_PAGES 2
#define RST_HOLE_PAGES (RST_GADGET_PAGES + 32)
#define RST_SCRATCH_OFF RST_PAGE
/* the batch loop in page 0, and its table in the scratch page (48 entries) */
#define RST_BATCH_CODE_OFF 64
#define RST_BATCH_TABLE_OFF 1024
#define PUPPET_BATCH_MAX ((RST_PAGE - RST_BATCH_TABLE_OFF) / 64)

struct rst_thread {
	pid_t tid;      /* in the tree's pid namespace */
	pid_t host_tid; /* as the engine sees it; 0 until created */
	ThreadCoreEntry *core;
};

struct rst_task {
	PstreeEntry *pst;
	TaskCoreEntry *core;
	MmEntry *mm;
	FdEntry **fds;
	size_t n_fds;
	pid_t pid;            /* in the tree's pid namespace */
	pid_t host_pid;       /* 0 until created */
	bool zombie;          /* exited, unreaped: made, then made to exit again */
	struct rst_task *parent;
	struct rst_thread *threads; /* [0] is the main thread */
	size_t n_threads;
	int transport;        /* the puppet's end of its fd transport (fd number in it), -1 */
	int transport_engine; /* the engine's end, -1 */
};

/* A shared anonymous mapping made once, mapped again in later tasks. */
struct rst_shm {
	uint32_t shmid;
	pid_t owner;            /* in the tree's pid namespace */
	uint64_t start, end, pgoff;
};

struct rst_ctx {
	const struct cr_restore_opts *o;
	const char *work_dir;
	int dirfd;
	InventoryEntry *inv;
	struct rst_task *tasks; /* pstree order: parents first */
	size_t n_tasks;
	FileEntry **files;
	size_t n_files;
	int *file_fds;          /* engine-side fd per files[] index, -1 */
	unsigned long gadget;   /* start of the gadget block in every puppet */

	pid_t anchor;           /* host pid of the root anchor */
	bool anchor_is_root;    /* the anchor is the root's puppet (own pid ns) */
	bool anchor_ours;       /* we forked it (reaper or root) */
	bool anchor_is_reaper;
	int anchor_go_fd;       /* write end: releases the reaper's wait loop */
	int anchor_status_fd;   /* read end: the reaper reports the root's wait status */
	uint64_t anchor_sigmask; /* the anchor's own mask, back when it is let go */
	/* The root's dumped parent, outside the tree: a stand-in with its pid
	 * sits between the reaper and the root so getppid() stays right. */
	pid_t parent_ns, parent_host;

	struct rst_shm *shm;
	size_t n_shm;

	uint64_t pages_restored;
	unsigned long long t_start, t_fork_done;
};

/* restore-images.c */
int rst_images_load(struct rst_ctx *c);
void rst_images_free(struct rst_ctx *c);
struct rst_task *rst_task_by_pid(struct rst_ctx *c, pid_t pid);
int rst_file_index(struct rst_ctx *c, uint32_t id);

/* puppet.c: the anchor, the gadget and syscall injection */
int puppet_pick_gadget(struct rst_ctx *c);
int puppet_make_anchor(struct rst_ctx *c);
int puppet_attach_anchor(struct rst_ctx *c);
/* Run one syscall in a puppet thread; >= 0 result or -errno with the
 * message naming what and the pid. */
#define PUPPET_CALL(c, tid, what, nr, ...) puppet_call_n(c, tid, what, nr, (unsigned long[6]){ __VA_ARGS__ })
long puppet_call_n(struct rst_ctx *c, pid_t host_tid, const char *what, long nr, const unsigned long a[6]);
/* Run n syscalls in a puppet thread, in order, stopping it once per
 * PUPPET_BATCH_MAX of them (an injection costs 25-75 us on our test VM, most
 * of it the two context switches). Stops at the first that fails: -errno,
 * with the message naming what and which call. rets, if given, gets the
 * result of each call that ran; ret_failed, if given, the index of the call
 * that failed (n if none did: success, or a ptrace failure). Arguments that point into the scratch page
 * must stay below RST_BATCH_TABLE_OFF. */
struct puppet_sc {
	long nr;
	unsigned long a[6];
};
int puppet_call_batch(struct rst_ctx *c, pid_t host_tid, const char *what, const struct puppet_sc *sc,
		      size_t n, long *rets, size_t *ret_failed);
/* Copy into the puppet's scratch page at off; returns its address there. */
int puppet_scratch_put(struct rst_ctx *c, pid_t host_pid, size_t off, const void *buf, size_t len,
		       unsigned long *ret_addr);
int puppet_scratch_get(struct rst_ctx *c, pid_t host_pid, size_t off, void *buf, size_t len);
/* clone3 injected into parent_tid; set_tid is the new pid/tid in the
 * namespace; the child is auto-attached and returned stopped. */
int puppet_clone(struct rst_ctx *c, pid_t parent_tid, uint64_t flags, pid_t set_tid, int exit_signal,
		 pid_t *ret_host);
/* The reaper and the stand-in parent read this from the go pipe. */
struct puppet_go {
	int32_t root_pid, parent_pid; /* in the new namespace; parent 0: none */
};
/* Kill every puppet made so far (on failure). */
void puppet_kill_all(struct rst_ctx *c);

/* puppet-transport.c: handing engine-side fds into a puppet */
int transport_open(struct rst_ctx *c, struct rst_task *t, int high_fd);
int transport_send(struct rst_ctx *c, struct rst_task *t, int engine_fd, int want_fd, bool cloexec);
void transport_close(struct rst_ctx *c, struct rst_task *t);

/* rst-pstree.c */
int rst_pstree_create(struct rst_ctx *c);
int rst_pstree_groups(struct rst_ctx *c);
int rst_threads_create(struct rst_ctx *c, struct rst_task *t);

/* rst-mem.c */
int rst_mem_restore(struct rst_ctx *c, struct rst_task *t);
/* restore-pages.c: page data, from this image or pre-dump parents */
int rst_pages_restore(struct rst_ctx *c, struct rst_task *t);

/* rst-files.c */
int rst_files_prepare(struct rst_ctx *c);
int rst_files_restore(struct rst_ctx *c, struct rst_task *t);
int rst_files_finish(struct rst_ctx *c, struct rst_task *t);
void rst_files_cleanup(struct rst_ctx *c);
/* Take a puppet's fd into the engine (the puppet's copy is closed). */
int rst_files_take(struct rst_ctx *c, struct rst_task *t, long pfd);
/* rst-files-unix.c: a unix socket (a pair: both ends at once) */
int rst_unix_make(struct rst_ctx *c, struct rst_task *t, size_t idx);

/* rst-creds.c: per task attributes and, last, credentials */
int rst_task_attrs(struct rst_ctx *c, struct rst_task *t);
int rst_creds(struct rst_ctx *c, struct rst_task *t);

/* restore-seccomp.c: filters go in before or after the credentials */
int rst_seccomp_before_creds(struct rst_ctx *c, struct rst_task *t);
int rst_seccomp_after_creds(struct rst_ctx *c, struct rst_task *t);

/* rst-signals.c */
int rst_sigactions(struct rst_ctx *c, struct rst_task *t);
int rst_timers(struct rst_ctx *c, struct rst_task *t);
int rst_pending(struct rst_ctx *c, struct rst_task *t);

/* restore-final.c */
int rst_thread_state(struct rst_ctx *c, struct rst_task *t);
int rst_final_task(struct rst_ctx *c, struct rst_task *t);
int rst_detach_all(struct rst_ctx *c);

#endif
