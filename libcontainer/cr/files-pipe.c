// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pipes with both ends in the tree. The bytes in flight are read without
 * consuming them: tee(2) duplicates the pipe's content into a pipe of ours,
 * which we then drain; the task's pipe is left exactly as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cr/files-internal.h"

/* Only the first read end of a pipe carries the data. */
static bool first_reader(const struct file_table *ft, const struct fd_obj *f)
{
	for (size_t i = 0; i < ft->n_files; i++) {
		const FileEntry *e = ft->files[i];
		if (e->pipe && e->pipe->pipe_id == (uint32_t)f->st.st_ino && e->pipe->has_data)
			return false;
	}
	return true;
}

static int peek_pipe(int rfd, int avail, int pipe_size, ProtobufCBinaryData *ret)
{
	_cleanup_close_ int p0 = -1, p1 = -1;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_sys(errno, "pipe2");
	p0 = p[0];
	p1 = p[1];
	int want = avail > pipe_size ? avail : pipe_size;
	if (fcntl(p1, F_SETPIPE_SZ, want) < 0)
		return err_sys(errno, "sizing a pipe to %d bytes", want);
	uint8_t *buf = malloc(avail);
	if (!buf)
		return err_set(ENOMEM, "out of memory");
	ssize_t n = tee(rfd, p1, avail, SPLICE_F_NONBLOCK);
	if (n < 0) {
		free(buf);
		return err_sys(errno, "tee");
	}
	ssize_t got = read_full(p0, buf, n);
	if (got != n) {
		free(buf);
		return err_sys(got < 0 ? errno : EIO, "reading the pipe's copy");
	}
	ret->data = buf;
	ret->len = n;
	return 0;
}

int files_pipe_fill(struct file_table *ft, const struct fd_obj *f, FileEntry *e)
{
	bool wr = (f->flags & O_ACCMODE) == O_WRONLY;

	e->kind = FILE_KIND__FILE_PIPE;
	e->pipe = malloc(sizeof(*e->pipe));
	if (!e->pipe)
		return err_set(ENOMEM, "out of memory");
	pipe_entry__init(e->pipe);
	e->pipe->pipe_id = f->st.st_ino;
	e->pipe->flags = f->flags & ~O_CLOEXEC;
	e->pipe->write_end = wr;

	_cleanup_close_ int fd = files_take_fd(f);
	if (fd < 0)
		return fd;
	int size = fcntl(fd, F_GETPIPE_SZ);
	if (size < 0)
		return err_sys(errno, "F_GETPIPE_SZ of " FD_FMT, FD_ARGS(f));
	e->pipe->has_size = true;
	e->pipe->size = size;
	if (wr || !first_reader(ft, f))
		return 0;
	int avail = 0;
	if (ioctl(fd, FIONREAD, &avail) < 0)
		return err_sys(errno, "FIONREAD of " FD_FMT, FD_ARGS(f));
	e->pipe->has_data = true;
	if (!avail)
		return 0;
	int r = peek_pipe(fd, avail, size, &e->pipe->data);
	return r < 0 ? err_wrap(r, "reading the data in " FD_FMT, FD_ARGS(f)) : 0;
}
