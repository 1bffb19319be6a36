/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lazy migration inside the engine: the hooks dump and restore call, the
 * page source (where the source reads pages from), and the control protocol
 * between a restore and the destination's fault handler.
 */
#ifndef SKUA_CR_LAZY_INTERNAL_H
#define SKUA_CR_LAZY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cr/lazy.h"
#include "inventory.pb-c.h"

struct dump_ctx;
struct rst_ctx;
struct rst_task;

/* ---- hooks ---- */
/* dump: the page server's address into the inventory. */
void lazy_src_inventory(InventoryEntry *inv);
/* dump, after the metadata: listen, signal readiness, serve pages until the
 * destination holds them all (0: the caller destroys the tree) or fails
 * (<0: the caller thaws the tree and it runs on). */
int lazy_src_serve(struct dump_ctx *ctx);
/* restore, once the images are read: starts the lazy-pages session (the
 * handler's answer is awaited by the first lazy_rst_task) */
int lazy_rst_begin(struct rst_ctx *c);
/* restore, per task after its VMAs are mapped: lazy memory goes to
 * userfaultfd and the handler. */
int lazy_rst_task(struct rst_ctx *c, struct rst_task *t);
/* restore, before it lets the tree go: waits until the handler holds its
 * connection to the page server (dialled while the tree was built). */
int lazy_rst_connected(struct rst_ctx *c);
/* restore, at the end: r < 0 aborts the handler, else tells it the tree
 * runs (it starts the background stream). */
void lazy_rst_finish(struct rst_ctx *c, int r);

/* ---- lazy runs of a task, from pagemap-<pid>.img ---- */
struct lazy_run {
	uint64_t start, nr_pages;
};
/* The lazy entries of pagemap-<pid>.img (none: *ret_n = 0). */
int lazy_runs_load(int img_dirfd, pid_t pid, struct lazy_run **ret, size_t *ret_n);

/* ---- page source: where the page server reads pages ---- */
struct page_source;
struct page_source_ops {
	/* len bytes of pid's memory at addr (whole pages). */
	int (*read)(struct page_source *s, pid_t pid, uint64_t addr, void *buf, size_t len);
	void (*destroy)(struct page_source *s);
};
struct page_source {
	const struct page_source_ops *ops;
};
/* The frozen tree itself: process_vm_readv, /proc/<host pid>/mem where that
 * refuses; pages never touched read as zeros without being read (page-source.c). */
int page_source_frozen(const pid_t *pids, const pid_t *host_pids, size_t n, struct page_source **ret);
static inline void page_source_destroy(struct page_source *s)
{
	if (s)
		s->ops->destroy(s);
}

/* ---- control protocol: restore -> handler, on a unix stream socket ----
 * Every message is a lazy_ctl_hdr, then payload bytes; fds ride on the
 * header (SCM_RIGHTS). The handler answers on connect (HELLO: set up, still
 * dialling the page server) and each TASK / READY / END with a
 * lazy_ctl_reply. */
enum lazy_ctl_type {
	LAZY_CTL_TASK = 1,  /* payload: vmas, runs; fds: pidfd, uffd? */
	LAZY_CTL_END = 2,   /* the tree runs; fds: pidfd of the namespace's init? */
	LAZY_CTL_ABORT = 3, /* restore failed: kill what was registered, tell the source */
	LAZY_CTL_READY = 4, /* the tree is about to run: answered once connected */
};
#define LAZY_CTL_MAGIC 0x4c5a4354u /* "TCZL" */
#define LAZY_CTL_MAX_ITEMS (1u << 20)

struct lazy_ctl_hdr {
	uint32_t magic, type;
	int32_t pid, host_pid;   /* the task in the tree's / the host's pid namespace */
	uint32_t n_vmas, n_runs;
	uint32_t n_fds;          /* fds attached: TASK: pidfd [, uffd]; END: [init pidfd] */
};
struct lazy_ctl_vma {
	uint64_t start, end;   /* a VMA registered with the uffd */
};
struct lazy_ctl_reply {
	int32_t err;           /* 0 or an errno */
	char msg[252];
};

/* Payload size of a header (validated: bounded counts). */
int lazy_ctl_payload_size(const struct lazy_ctl_hdr *h, size_t *ret);
int lazy_ctl_send(int sock, const struct lazy_ctl_hdr *h, const void *payload, size_t len,
		  const int *fds, size_t nfds);
/* Reads one header and its payload (malloc'ed, *ret_payload) and up to
 * max_fds fds; 0 at EOF before a header (*ret_eof). */
int lazy_ctl_recv(int sock, struct lazy_ctl_hdr *h, void **ret_payload, int *fds, size_t max_fds,
		  bool *ret_eof);
int lazy_ctl_reply_send(int sock, int err, const char *msg);
int lazy_ctl_reply_recv(int sock, const char *what);

/* ---- the destination handler (lazy-handler.c) ---- */
struct lazy_handler_opts {
	const char *addr;        /* page server */
	uint16_t port;
	const char *image_dir;   /* secret */
	const char *work_dir;    /* log and stats */
};
/* Serve one restore that talks on ctl (already connected): says HELLO (or
 * the error connecting to the page server) and runs until done. */
int lazy_handler_run(const struct lazy_handler_opts *o, int ctl);

#endif
