/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dump side of the engine, private to libcontainer/cr/: the tree being
 * dumped (host pids and the tree's own pids), the state shared by the steps
 * of cr_dump(), and the step functions. Every step returns 0 or -errno with
 * err_set() context.
 */
#ifndef SKUA_CR_DUMP_INTERNAL_H
#define SKUA_CR_DUMP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "cr/cr.h"

struct file_table;

struct dthread {
	pid_t tid;    /* host view */
	pid_t ns_tid; /* the tree's pid namespace */
	bool seized;  /* ours: detach it at the end */
	bool stopped; /* its interrupt stop was collected */
	/* what the core step saw (thread.c), for the pages a lazy dump keeps
	 * in the images (pages.c): the stack pointer, the rseq area or 0 */
	uint64_t sp, rseq, rseq_size;
};

struct dtask {
	pid_t pid;          /* host view */
	pid_t ns_pid, ns_ppid, ns_pgid, ns_sid;
	pid_t host_ppid;
	bool zombie;        /* exited, waiting for its parent: pstree only */
	int exit_status;    /* a zombie's wait status */
	int parent;         /* index in ctx->tasks, -1 for the root */
	struct dthread *threads; /* main thread first */
	size_t n_threads;
};

struct dump_stats {
	unsigned long long freeze_start_ns, frozen_ns, memdump_ns, memwrite_ns;
	uint64_t pages_scanned, pages_written, pages_lazy;
};

struct dump_ctx {
	const struct cr_dump_opts *o;
	int img_dirfd;
	struct dtask *tasks; /* parents before children */
	size_t n_tasks;
	bool own_pid_ns;
	pid_t root_ns_ppid; /* the root's parent as the tree's namespace sees it, or 0 */
	bool frozen_cgroup; /* the cgroup freezer holds the tree (thaw at the end) */
	bool vfork_pending; /* a vfork child was left to run: walk again */
	uint64_t xcr0;
	uint32_t xstate_size;
	uint8_t vdso_digest[32]; /* VDSO_DIGEST_LEN */
	uint64_t vdso_size;
	bool have_vdso;
	struct file_table *files;
	struct dump_stats stats;
	int *tcp_fds; /* established sockets held in repair mode (tcp-repair.c) */
	size_t n_tcp_fds;
};

/* seize.c: ptrace every thread of the tree under root (rescanning until the
 * set is stable); put every thread back as it was; or kill the tree. */
int seize_tree(struct dump_ctx *ctx);
/* With the tasks already stopped by the cgroup freezer: seize and interrupt
 * every thread (no wait), so that the ptrace stop outlives the thaw. */
int seize_tree_frozen(struct dump_ctx *ctx);
/* With the cgroup frozen: take pid (and what runs below it) into the tree as
 * a child of the root. For processes of the container whose parent is
 * outside it, e.g. started by `exec -d`: restore makes them init's children. */
int seize_adopt(struct dump_ctx *ctx, pid_t pid);
/* Wait for the interrupt stop of every seized thread (after a thaw). */
int seize_wait_all(struct dump_ctx *ctx);
void seize_release(struct dump_ctx *ctx);
void seize_kill(struct dump_ctx *ctx);
void dump_ctx_free_tasks(struct dump_ctx *ctx);

/* freeze.c: stop the tree: the cgroup freezer then ptrace, or ptrace alone. */
int freeze_tree(struct dump_ctx *ctx);
void freeze_thaw(struct dump_ctx *ctx);

/* pstree.c */
int pstree_collect(struct dump_ctx *ctx);
int pstree_write(struct dump_ctx *ctx);
struct dtask *pstree_find_ns(struct dump_ctx *ctx, pid_t ns_pid);

/* task.c: core-<pid>.img (threads, signals, creds, limits ...). */
int task_dump_core(struct dump_ctx *ctx, struct dtask *t);

/* vma.c + pages.c: mm-<pid>.img, pagemap-<pid>.img, pages-<pid>.img. */
int vma_dump_mm(struct dump_ctx *ctx, struct dtask *t);

/* files.c: fdinfo-<pid>.img for each task, files.img once. */
int files_collect(struct dump_ctx *ctx, struct dtask *t);
int files_dump(struct dump_ctx *ctx);
void files_free(struct dump_ctx *ctx);

/* thread.c: syscalls run inside a stopped thread for what only it can tell.
 * A session pokes the `syscall; int3` gadget at the thread's ip and saves a
 * scratch area below its stack pointer once; calls run there; the end puts
 * both back byte for byte. Results that land in memory go to the scratch
 * area and are copied out. */
#define DUMP_SCRATCH_LEN 512
struct dump_inject {
	pid_t tid;
	int mem_fd;
	unsigned long ip, scratch;
	unsigned char orig[3];
	unsigned char saved[DUMP_SCRATCH_LEN];
	bool gadget, scratch_saved;
};
int dump_inject_begin(pid_t tid, struct dump_inject *s);
/* The syscall's raw return value in *ret (-errno on its failure). */
int dump_inject_call(struct dump_inject *s, long nr, const unsigned long args[6], long *ret);
/* args[scratch_arg] points at the scratch area; len bytes of it go to out
 * when the call succeeds. */
int dump_inject_out(struct dump_inject *s, long nr, unsigned long args[6], int scratch_arg,
		    void *out, size_t len, long *ret);
/* Put the thread's bytes back; safe after a failed begin. */
int dump_inject_end(struct dump_inject *s);

#endif
