/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container lifecycle, as the CLI sees it. A container lives in a
 * state directory <root>/<id> (mode 0700) holding state.json and, between
 * create and start, the exec fifo. Every command that acts on a container
 * loads it with container_load(), which takes an exclusive lock on the
 * directory so that two commands never act on one id at once; the lock is
 * dropped by container_free().
 *
 * The state machine (status is computed live, never trusted from disk):
 *
 *   create ----> created --start--> running --exit/kill--> stopped --delete--> (gone)
 *                                    |   ^
 *                                  pause resume
 *                                    v   |
 *                                    paused
 */
#ifndef SKUA_RUNTIME_CONTAINER_H
#define SKUA_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "oci/config.h"

enum container_status {
	CONTAINER_CREATING,
	CONTAINER_CREATED,
	CONTAINER_RUNNING,
	CONTAINER_PAUSED,
	CONTAINER_STOPPED,
};

struct cgroup;

struct container {
	char *root;      /* the state root (--root) */
	char *id;
	char *dir;       /* <root>/<id> */
	int lock_fd;     /* the state dir, flock()ed */
	pid_t pid;       /* host pid of the init; 0 once it is known gone */
	unsigned long long start_time; /* /proc/PID/stat starttime, detects pid reuse */
	char *bundle;
	char *rootfs;
	char *created;   /* RFC 3339 with nanoseconds, UTC */
	char *owner;     /* "" as runc for root */
	char *cgroups_path_cfg; /* linux.cgroupsPath as in config (NULL: default) */
	char *cgroup_path;      /* the resolved relative path, for display */
	bool systemd_cgroup;
	char **annotation_keys, **annotation_values; size_t n_annotations;
	struct cgroup *cgroup;  /* opened lazily by container_cgroup() */
};

struct container_tty;

struct container_create_opts {
	const char *id;
	const char *bundle;         /* NULL: cwd */
	const char *pid_file;       /* written with the init's host pid */
	const char *console_socket; /* needed when process.terminal */
	int preserve_fds;           /* fds 3 .. 3+N-1 are passed on */
	bool no_pivot;
	bool systemd_cgroup;
	/* For restore: instead of waiting on the exec fifo and exec'ing
	 * process.args, the init calls init_fn(init_arg) once the container is
	 * set up (cgroup, namespaces, rootfs, hostname ...) and _exit()s with
	 * its return value. NULL: a normal create. */
	int (*init_fn)(void *arg);
	void *init_arg;
	/* run: when process.terminal is true and there is no console_socket,
	 * create makes a listener (container_tty_listen) and hands it back
	 * here; the caller owns it, also when create fails. NULL: no such. */
	struct container_tty **auto_tty;
};

/* Ids as runc accepts them: ^[\w+-\.]+$, and never "." or "..". */
int container_validate_id(const char *id);

/* create: set up everything and leave the init blocked on the exec fifo. */
int container_create(const char *root, const struct container_create_opts *o,
		     struct container **ret);
/* Load and lock an existing container ("container does not exist"). */
int container_load(const char *root, const char *id, struct container **ret);
void container_free(struct container *c);
/* A state dir left by a create that was killed midway (no state.json, only
 * create's own files): remove it. container_load() fails on one with -ENOMSG. */
int container_remove_stale(const char *root, const char *id);
static inline void container_freep(struct container **c) { if (*c) container_free(*c); }
#define _cleanup_container_ __attribute__((cleanup(container_freep)))

enum container_status container_status(struct container *c);
const char *container_status_name(enum container_status s);
/* Is the init process (pid + start time) still there? */
bool container_init_alive(const struct container *c);
/* The cgroup, named from the state (no filesystem change). */
int container_cgroup(struct container *c, struct cgroup **ret);

/* The state JSON as `state` prints it (pretty printed). */
int container_state_json(struct container *c, char **ret);

/* Release the init from the exec fifo; runs poststart hooks. */
int container_start(struct container *c);
/* Signal the init, or with all every process of the cgroup. */
int container_kill(struct container *c, int sig, bool all);
/* Remove a stopped (or, with force, any) container: kill, cgroup, state dir,
 * poststop hooks. Frees nothing: the caller still container_free()s. */
int container_delete(struct container *c, bool force);
int container_pause(struct container *c);
int container_resume(struct container *c);
int container_update(struct container *c, const struct oci_resources *res);
/* Host pids of the container's processes. */
int container_pids(struct container *c, pid_t **ret, size_t *ret_n);

/* Ids under root, sorted; NULL-terminated. */
int container_list(const char *root, char ***ret);

/* Wait for the init (a child of this process) to exit: returns the exit code
 * the way a shell reports it (128+signal), forwarding the signals this
 * process receives meanwhile. */
int container_wait_forward(pid_t pid, int *ret_code);

/* `run` in the foreground without --console-socket: the runtime listens on a
 * socket of its own (pass *ret_path as console_socket); if the container
 * sent a pty master there, container_tty_wait() proxies our stdio to it
 * while waiting, else it waits like container_wait_forward(). */
struct container_tty;
int container_tty_listen(struct container_tty **ret, const char **ret_path);
int container_tty_wait(struct container_tty *t, pid_t pid, int *ret_code);
void container_tty_free(struct container_tty *t);

struct container_exec_opts {
	const struct oci_process *process; /* args, env, cwd, user, caps, terminal ... */
	const char *console_socket;
	const char *pid_file;
	int preserve_fds;
	bool detach;
	/* set with console_socket from container_tty_listen(): proxy while waiting */
	struct container_tty *tty;
};

/* Run a process inside a running container. Without detach, waits for it
 * and stores its exit code in *ret_code. */
int container_exec(struct container *c, const struct container_exec_opts *o, int *ret_code);

#endif
