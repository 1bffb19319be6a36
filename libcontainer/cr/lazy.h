/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lazy (post-copy) migration: what the CLI and the runtime see of it
 * (docs/lazy-migration.md). The engine options in cr.h carry only the
 * lazy_pages switch; the page server address and the status fd are set here
 * once per process by the CLI before checkpoint/restore runs.
 */
#ifndef SKUA_CR_LAZY_H
#define SKUA_CR_LAZY_H

#include <stdbool.h>
#include <stdint.h>

#define LAZY_SOCKET_NAME "lazy-pages.socket"
#define LAZY_LOG_NAME "lazy-pages.log"
#define LAZY_STATS_NAME "stats-lazy"
#define LAZY_DEFAULT_TIMEOUT 60 /* seconds; env SKUA_LAZY_TIMEOUT */

/* "ADDR:PORT", "[V6ADDR]:PORT"; *ret_addr is malloc'ed. */
int lazy_parse_addr(const char *s, char **ret_addr, uint16_t *ret_port);
/* A wildcard listen address as a destination should dial it: loopback. */
const char *lazy_dial_addr(const char *addr);
/* Seconds to wait for a peer (SKUA_LAZY_TIMEOUT, else the default). */
int lazy_timeout(void);

/* Thread roles. A fault blocks a task until its answer is placed, so the
 * threads that answer faults run real-time, SCHED_FIFO at LAZY_RT_PRIO,
 * ahead of the restored tasks and of everything else:
 *   LAZY_URGENT   the page server's urgent thread;
 *   LAZY_HANDLER  the destination handler's main thread, and
 *   LAZY_STREAM   its stream thread, at the same priority: the two share a
 *                 lock, and a main thread that could preempt the stream
 *                 would stop it in the middle of a piece, lock held, at
 *                 every answer (measured: fault p50 3-6x worse). They take
 *                 turns where the stream steps aside (lazy_yield). Only with
 *                 at least two CPUs, so that the tasks keep one;
 *   LAZY_BULK     the page server's stream: what CPU is left.
 * Best effort: without the right, or with SKUA_LAZY_RT=0, the fault threads
 * run at nice LAZY_NICE_URGENT and the streams at LAZY_NICE_BULK. */
enum lazy_role { LAZY_URGENT, LAZY_HANDLER, LAZY_STREAM, LAZY_BULK };
#define LAZY_RT_PRIO 10
#define LAZY_NICE_URGENT (-10)
#define LAZY_NICE_BULK 10
/* Names the calling thread (15 characters at most; NULL: a process's main
 * thread keeps its name) and gives it its role's priority. True when the
 * thread runs SCHED_FIFO. */
bool lazy_thread_role(const char *name, enum lazy_role role);

/* Source (checkpoint --lazy-pages --page-server A:P [--status-fd N]). */
int lazy_src_configure(const char *addr_port, int status_fd);
bool lazy_src_configured(void);

/* Destination (restore --lazy-pages [--page-server A:P]). */
int lazy_dst_configure(const char *addr_port);

/* The destination handler (`skua lazy-pages`): connect to the page server
 * at addr:port, listen on sock_path for one restore, serve its faults and
 * pull the rest; returns when every page is in (0) or on failure. */
struct lazy_daemon_opts {
	const char *addr;
	uint16_t port;
	const char *image_dir; /* the secret */
	const char *work_dir;  /* log, stats, socket */
	int ctl_fd;            /* >= 0: a restore's end of its control socket, no listening */
};
/* The program restore --lazy-pages runs as its handler, `PROG lazy-pages
 * ... --ctl-fd 3` with the control socket as fd 3 (the CLI sets
 * /proc/self/exe): spawned, the handler starts as a fresh process, where a
 * fork would copy the restore's address space and leave both sides to pay
 * copy-on-write faults while the tree is restored. NULL: forked. */
void lazy_set_handler_exe(const char *path);
int lazy_daemon_run(const struct lazy_daemon_opts *o);

#endif
