/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checkpoint/restore engine's public interface. The engine knows
 * processes and images, not OCI: the runtime (runtime/checkpoint.c) joins the
 * two, and the CLI's `skua engine` commands call it directly.
 */
#ifndef SKUA_CR_CR_H
#define SKUA_CR_CR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cgroup;

/* An fd the tree shares with the outside world (the container's stdio). At
 * dump, fds whose object is outside the tree are recorded by key (the
 * /proc/PID/fd link text, e.g. "pipe:[1234]", "/dev/pts/3"); at restore the
 * caller hands an fd for each key. */
struct cr_external {
	const char *key;
	int fd;
};

struct cr_dump_opts {
	pid_t pid;                 /* root of the tree, as the caller sees it */
	const char *image_dir;     /* created if absent */
	const char *work_dir;      /* dump.log, stats-dump; NULL: image_dir */
	bool leave_running;        /* else the tree is killed after a successful dump */
	struct cgroup *cgroup;     /* freeze through this cgroup's freezer; NULL: ptrace only */
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
	bool lazy_pages;           /* memory stays behind for the page server */
	bool pre_dump;             /* memory only, the tree keeps running */
	const char *parent_path;   /* pre-dump parent images, relative to image_dir */
	const char *container_id;  /* recorded in the inventory */
	/* The tree's mappings read before the freeze (lazy pages: the frozen
	 * dump then reads only /proc/PID/maps; mm-cache.c). NULL: none. */
	struct cr_mm_cache *mm_cache;
	/* Fds that are external by definition (the caller's view of the root's
	 * stdio): any fd of the tree whose link text matches is recorded as
	 * external rather than refused. NULL/0: pipes and ttys not shared within
	 * the tree are external. */
	const char *const *external_keys; size_t n_external_keys;
};

/* Reads the mappings of pids (a running container's processes) before the
 * freeze, for cr_dump_opts.mm_cache. */
struct cr_mm_cache;
int cr_mm_cache_fill(const pid_t *pids, size_t n, struct cr_mm_cache **ret);
void cr_mm_cache_free(struct cr_mm_cache *c);

/* Dump. On failure the tree keeps running (thawed, detached). */
int cr_dump(const struct cr_dump_opts *o);

/* How restore gets the process that becomes the root's parent-side anchor:
 * the engine calls make_root() once; it must return a host pid of a process
 * that is stopped in a state the engine can PTRACE_SEIZE (e.g. blocked in
 * read() on a pipe, or SIGSTOPped) and that lives in the pid namespace the
 * tree is restored into, with pid 1 there when the dumped root was pid 1 of
 * its own namespace. NULL: the engine makes a fresh pid (and mount) namespace
 * itself. */
struct cr_restore_opts {
	const char *image_dir;
	const char *work_dir;      /* restore.log, stats-restore; NULL: image_dir */
	bool detach;               /* return once the tree runs, else wait for the root */
	const struct cr_external *externals; size_t n_externals;
	int (*make_root)(void *arg, pid_t *ret_host_pid);
	void *make_root_arg;
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
	bool lazy_pages;           /* register lazy memory with userfaultfd */
};

/* Restore; *ret_root_pid is the root's pid as the caller sees it. Without
 * detach, returns after the root exits with its wait status in *ret_status. */
int cr_restore(const struct cr_restore_opts *o, pid_t *ret_root_pid, int *ret_status);

#endif
