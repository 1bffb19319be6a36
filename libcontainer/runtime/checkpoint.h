/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container checkpoint and restore: the one place that joins containers and
 * the engine (cr/cr.h). The engine dumps and rebuilds the process tree; this
 * layer freezes through the container's cgroup, records the init's stdio
 * (descriptors.json) and what the engine does not hold (container.json:
 * tmpfs contents, hostname, loopback), and on restore builds the container
 * from its bundle exactly as create does, handing its init to the engine as
 * the puppet that becomes pid 1 again.
 */
#ifndef SKUA_RUNTIME_CHECKPOINT_H
#define SKUA_RUNTIME_CHECKPOINT_H

#include <stdbool.h>

#include "runtime/container.h"

struct container_checkpoint_opts {
	const char *image_dir;   /* created if absent */
	const char *work_dir;    /* NULL: image_dir */
	bool leave_running;
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
	bool empty_netns;        /* --empty-ns network: the net ns is not saved */
	bool lazy_pages; /* serve memory from the frozen container (cr/lazy.h) */
};

/* Dump a running (or paused) container. Without leave_running the container
 * is destroyed afterwards (delete -f). On failure it keeps running, as it
 * was. */
int container_checkpoint(struct container *c, const struct container_checkpoint_opts *o);

struct container_restore_opts {
	const char *id;
	const char *bundle;         /* NULL: cwd */
	const char *image_dir;
	const char *work_dir;       /* NULL: image_dir */
	const char *pid_file;
	const char *console_socket;
	bool no_pivot;
	bool systemd_cgroup;
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
	bool empty_netns;           /* --empty-ns network: leave the new net ns as created */
	bool lazy_pages; /* memory from the page server (cr/lazy.h) */
};

/* Create the container from the bundle and rebuild the checkpointed tree in
 * it; returns the locked, running container (the caller waits for c->pid,
 * a child of this process, or detaches). On failure nothing is left. */
int container_restore(const char *root, const struct container_restore_opts *o,
		      struct container **ret);

#endif
