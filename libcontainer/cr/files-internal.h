/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fd table of the tree while it is being dumped (files*.c, sockets.c). */
#ifndef SKUA_CR_FILES_INTERNAL_H
#define SKUA_CR_FILES_INTERNAL_H

#include <stdbool.h>
#include <sys/stat.h>

#include "cr/dump-internal.h"
#include "files.pb-c.h"

/* One fd of one task, as /proc shows it. */
struct fd_obj {
	struct dtask *task;
	int fd;
	char link[4096];   /* /proc/PID/fd/N */
	struct stat st;    /* of the object (stat follows the link) */
	unsigned int flags; /* fdinfo flags, O_CLOEXEC included */
	unsigned long long pos;
	char *fdinfo;      /* the whole fdinfo text */
	uint32_t file_id;  /* files.img id, once known */
};

struct file_table {
	struct fd_obj *fds;
	size_t n_fds;
	FileEntry **files;
	size_t n_files;
};

/* A copy of the task's fd, taken with pidfd_getfd (the same open file). */
int files_take_fd(const struct fd_obj *f);
/* "fd N of pid P" for messages. */
#define FD_FMT "fd %d of pid %d"
#define FD_ARGS(f) (f)->fd, (f)->task->ns_pid

/* files-pipe.c: a pipe whose both ends are in the tree; its data is read
 * without consuming it. */
int files_pipe_fill(struct file_table *ft, const struct fd_obj *f, FileEntry *e);
/* files-anon.c: eventfd, epoll, signalfd, timerfd from fdinfo; anything else
 * anon_inode is refused by name. */
int files_anon_fill(const struct fd_obj *f, FileEntry *e);
/* sockets.c: inet sockets from the object itself; others refused. */
int sockets_fill(struct dump_ctx *ctx, const struct fd_obj *f, FileEntry *e);
/* files-unix.c: a unix socket (sk: our copy of it). A peer in the tree is
 * recorded by its inode, made a file id by files_unix_link() once every
 * file has its id. */
int files_unix_fill(struct dump_ctx *ctx, struct file_table *ft, const struct fd_obj *f, int sk,
		    int type, FileEntry *e);
int files_unix_link(struct file_table *ft);

#endif
