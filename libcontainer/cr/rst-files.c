// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore: open files. Each object of files.img is made once and held by
 * the engine (rst_files_prepare): objects that depend on the task's view
 * of the world (paths in its root, sockets in its net namespace) are made
 * by injection in the first task that has them and taken out with
 * pidfd_getfd; pipes, eventfds, signalfds, timerfds and epoll instances
 * are made by the engine; externals come from the caller. Then every
 * task's fd table is filled through its fd transport, so fds that shared
 * one open file description at dump share one again. Epoll watch lists
 * name fd numbers in the owner, so they are filled by injection last.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/syscall.h"
#include "cr/restore-internal.h"
#include "cr/tcp-repair.h"

#define TCP_LISTEN_STATE 10
#define TCP_CLOSE_STATE 7
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static struct rst_task *first_owner(struct rst_ctx *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_tasks; i++)
		for (size_t k = 0; k < c->tasks[i].n_fds; k++)
			if (c->tasks[i].fds[k]->file_id == id)
				return &c->tasks[i];
	return NULL;
}

/* Take fd `pfd` of the puppet into the engine, closing the puppet's copy. */
int rst_files_take(struct rst_ctx *c, struct rst_task *t, long pfd)
{
	_cleanup_close_ int pidfd = sys_pidfd_open(t->host_pid, 0);
	if (pidfd < 0)
		return err_sys(errno, "pidfd_open(%d)", t->host_pid);
	int fd = sys_pidfd_getfd(pidfd, pfd, 0);
	int err = errno;
	PUPPET_CALL(c, t->host_pid, "close", SYS_close, pfd);
	if (fd < 0)
		return err_sys(err, "taking fd %ld of %d", pfd, t->pid);
	return fd;
}

static int open_path(struct rst_ctx *c, struct rst_task *t, FileEntry *f)
{
	RegFileEntry *reg = f->reg;
	unsigned long addr;
	int flags, r;
	long pfd;

	if (!reg || !reg->path)
		return err_set(EBADMSG, "file %u has no path", f->id);
	flags = reg->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
	r = puppet_scratch_put(c, t->host_pid, 0, reg->path, strlen(reg->path) + 1, &addr);
	if (r < 0)
		return r;
	pfd = PUPPET_CALL(c, t->host_pid, "openat", SYS_openat, AT_FDCWD, addr, flags | O_CLOEXEC, 0);
	if (pfd < 0)
		return err_wrap((int)pfd, "opening %s", reg->path);
	int fd = rst_files_take(c, t, pfd);
	if (fd < 0)
		return fd;
	if ((f->kind == FILE_KIND__FILE_REG || f->kind == FILE_KIND__FILE_DIR) && reg->pos &&
	    lseek(fd, reg->pos, SEEK_SET) < 0) {
		int err = errno;
		close(fd);
		return err_sys(err, "seeking %s to %llu", reg->path, (unsigned long long)reg->pos);
	}
	return fd;
}

/* Both ends of a pipe are made together; the second end's entry finds the
 * fd the first one left. */
static int make_pipe(struct rst_ctx *c, size_t idx)
{
	PipeEntry *p = c->files[idx]->pipe;
	int fds[2];

	if (!p)
		return err_set(EBADMSG, "pipe file %u without pipe data", c->files[idx]->id);
	/* a second description of an end already made: share that one */
	for (size_t i = 0; i < c->n_files; i++) {
		PipeEntry *q = c->files[i]->pipe;
		if (i != idx && c->file_fds[i] >= 0 && q && q->pipe_id == p->pipe_id &&
		    q->write_end == p->write_end) {
			int fd = fcntl(c->file_fds[i], F_DUPFD_CLOEXEC, 0);
			return fd < 0 ? err_sys(errno, "dup") : fd;
		}
	}
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_sys(errno, "pipe2");
	if (p->has_size && p->size)
		fcntl(fds[1], F_SETPIPE_SZ, p->size);
	/* data in flight, stored on one of the entries */
	for (size_t i = 0; i < c->n_files; i++) {
		PipeEntry *q = c->files[i]->pipe;
		if (!q || q->pipe_id != p->pipe_id || !q->has_data || !q->data.len)
			continue;
		if (write(fds[1], q->data.data, q->data.len) != (ssize_t)q->data.len) {
			int err = errno;
			close(fds[0]), close(fds[1]);
			return err_sys(err, "refilling pipe %u with %zu bytes", p->pipe_id, q->data.len);
		}
	}
	/* hand the other end to its entry now */
	int mine = p->write_end ? fds[1] : fds[0], other = p->write_end ? fds[0] : fds[1];
	bool other_used = false;
	for (size_t i = 0; i < c->n_files; i++) {
		PipeEntry *q = c->files[i]->pipe;
		if (i != idx && q && q->pipe_id == p->pipe_id && q->write_end != p->write_end &&
		    c->file_fds[i] < 0) {
			c->file_fds[i] = other_used ? fcntl(other, F_DUPFD_CLOEXEC, 0) : other;
			other_used = true;
			if (q->flags & O_NONBLOCK)
				fcntl(c->file_fds[i], F_SETFL, O_NONBLOCK);
		}
	}
	if (!other_used)
		close(other);
	if (p->flags & O_NONBLOCK)
		fcntl(mine, F_SETFL, O_NONBLOCK);
	return mine;
}

static int make_external(struct rst_ctx *c, FileEntry *f)
{
	const char *key = f->external ? f->external->key : NULL;

	for (size_t i = 0; key && i < c->o->n_externals; i++)
		if (streq(c->o->externals[i].key, key)) {
			int fd = fcntl(c->o->externals[i].fd, F_DUPFD_CLOEXEC, 0);
			return fd < 0 ? err_sys(errno, "duplicating the external fd for %s", key) : fd;
		}
	return err_set(ENOENT, "the external file %s was not given to restore", key ? key : "(none)");
}

static int make_timerfd(FileEntry *f)
{
	TimerfdEntry *e = f->timerfd;
	int fd = timerfd_create(e->clockid, (e->flags & (TFD_NONBLOCK)) | TFD_CLOEXEC);
	if (fd < 0)
		return err_sys(errno, "timerfd_create(%u)", e->clockid);
	struct itimerspec its = { .it_interval = { e->isec, e->insec }, .it_value = { e->vsec, e->vnsec } };
	/* the dumped value is what was left: relative. A periodic timer with
	 * value 0 had expired with its ticks unread (an image made from fdinfo
	 * alone): its next expiry is at most one interval away, and left
	 * disarmed it would never fire again. */
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value = its.it_interval;
	if ((its.it_value.tv_sec || its.it_value.tv_nsec) && timerfd_settime(fd, 0, &its, NULL) < 0) {
		int err = errno;
		close(fd);
		return err_sys(err, "arming a timerfd");
	}
	if (e->has_ticks && e->ticks) {
		uint64_t ticks = e->ticks;
		if (ioctl(fd, TFD_IOC_SET_TICKS, &ticks) < 0) {
			int err = errno;
			close(fd);
			return err_sys(err, "setting timerfd ticks");
		}
	}
	return fd;
}

static long inet_setup(struct rst_ctx *c, struct rst_task *t, FileEntry *f, long pfd)
{
	InetSkEntry *s = f->inet;
	pid_t pid = t->host_pid;
	unsigned long addr;
	long ret;
	int r;

	for (size_t i = 0; i < s->n_opts; i++) {
		SkOptEntry *o = s->opts[i];
		if ((r = puppet_scratch_put(c, pid, 0, o->value.data, o->value.len, &addr)) < 0)
			return r;
		ret = PUPPET_CALL(c, pid, "setsockopt", SYS_setsockopt, pfd, o->level, o->name, addr,
				  o->value.len);
		if (ret < 0)
			return err_wrap((int)ret, "option %u/%u", o->level, o->name);
	}
	if (s->family == AF_INET6 && s->has_v6only) {
		int on = s->v6only;
		if ((r = puppet_scratch_put(c, pid, 0, &on, sizeof(on), &addr)) < 0)
			return r;
		ret = PUPPET_CALL(c, pid, "setsockopt(IPV6_V6ONLY)", SYS_setsockopt, pfd, IPPROTO_IPV6,
				  IPV6_V6ONLY, addr, sizeof(on));
		if (ret < 0)
			return ret;
	}
	if (s->src_port) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len;
		if (s->family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			in->sin_family = AF_INET;
			in->sin_port = htons(s->src_port);
			if (s->src_addr.len == 4)
				memcpy(&in->sin_addr, s->src_addr.data, 4);
			len = sizeof(*in);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons(s->src_port);
			if (s->src_addr.len == 16)
				memcpy(&in6->sin6_addr, s->src_addr.data, 16);
			len = sizeof(*in6);
		}
		if ((r = puppet_scratch_put(c, pid, 0, &ss, len, &addr)) < 0)
			return r;
		ret = PUPPET_CALL(c, pid, "bind", SYS_bind, pfd, addr, len);
		if (ret < 0)
			return err_wrap((int)ret, "binding port %u", s->src_port);
	}
	if (s->state == TCP_LISTEN_STATE) {
		ret = PUPPET_CALL(c, pid, "listen", SYS_listen, pfd, s->has_backlog ? s->backlog : 128);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int make_inet(struct rst_ctx *c, struct rst_task *t, FileEntry *f)
{
	InetSkEntry *s = f->inet;
	long pfd, ret;

	if (!s)
		return err_set(EBADMSG, "socket file %u without socket data", f->id);
	bool connection = s->type == SOCK_STREAM && s->state == TCP_STATE_ESTABLISHED;
	if (connection && !c->o->tcp_established)
		return err_set(ENOTSUP, "an established TCP connection (file %u of pid %d); use "
					"--tcp-established", f->id, t->pid);
	if (s->type == SOCK_STREAM && s->state != TCP_LISTEN_STATE && s->state != TCP_CLOSE_STATE &&
	    !connection)
		return err_set(ENOTSUP, "a TCP connection in state %u (file %u of pid %d); not supported",
			       s->state, f->id, t->pid);
	pfd = PUPPET_CALL(c, t->host_pid, "socket", SYS_socket, s->family,
			  s->type | SOCK_CLOEXEC | ((s->flags & O_NONBLOCK) ? SOCK_NONBLOCK : 0), s->proto);
	if (pfd < 0)
		return (int)pfd;
	if (connection) {
		/* made in the task's netns; the rest acts on the socket from here */
		int sk = rst_files_take(c, t, pfd);
		return sk < 0 ? sk : tcp_repair_restore(sk, s);
	}
	ret = inet_setup(c, t, f, pfd);
	if (ret < 0) {
		PUPPET_CALL(c, t->host_pid, "close", SYS_close, pfd);
		return (int)ret;
	}
	return rst_files_take(c, t, pfd);
}

static int make_file(struct rst_ctx *c, size_t idx)
{
	FileEntry *f = c->files[idx];
	struct rst_task *t = first_owner(c, f->id);
	int fd;

	if (!t)
		return 0; /* nobody holds it */
	switch (f->kind) {
	case FILE_KIND__FILE_REG:
	case FILE_KIND__FILE_DIR:
	case FILE_KIND__FILE_CHR:
	case FILE_KIND__FILE_TTY:
		return open_path(c, t, f);
	case FILE_KIND__FILE_PIPE:
		return make_pipe(c, idx);
	case FILE_KIND__FILE_EXTERNAL:
		return make_external(c, f);
	case FILE_KIND__FILE_INET:
		return make_inet(c, t, f);
	case FILE_KIND__FILE_EVENTFD:
		if (!f->eventfd)
			break;
		fd = eventfd(f->eventfd->counter,
			     (f->eventfd->flags & (EFD_NONBLOCK | EFD_SEMAPHORE)) | EFD_CLOEXEC);
		return fd < 0 ? err_sys(errno, "eventfd") : fd;
	case FILE_KIND__FILE_SIGNALFD: {
		if (!f->signalfd)
			break;
		sigset_t set;
		sigemptyset(&set);
		memcpy(&set, &f->signalfd->sigmask, sizeof(f->signalfd->sigmask));
		fd = signalfd(-1, &set, (f->signalfd->flags & SFD_NONBLOCK) | SFD_CLOEXEC);
		return fd < 0 ? err_sys(errno, "signalfd") : fd;
	}
	case FILE_KIND__FILE_TIMERFD:
		if (!f->timerfd)
			break;
		return make_timerfd(f);
	case FILE_KIND__FILE_UNIX:
		if (!f->unix_sk)
			break;
		return rst_unix_make(c, t, idx);
	case FILE_KIND__FILE_EPOLL:
		fd = epoll_create1(EPOLL_CLOEXEC);
		return fd < 0 ? err_sys(errno, "epoll_create1") : fd;
	default:
		return err_set(ENOTSUP, "file %u of pid %d is of kind %d; not supported", f->id, t->pid,
			       f->kind);
	}
	return err_set(EBADMSG, "file %u of kind %d has no data", f->id, f->kind);
}

int rst_files_prepare(struct rst_ctx *c)
{
	for (size_t i = 0; i < c->n_files; i++) {
		if (c->file_fds[i] >= 0)
			continue; /* the second end of a pipe */
		int fd = make_file(c, i);
		if (fd < 0) {
			struct rst_task *t = first_owner(c, c->files[i]->id);
			return err_wrap(fd, "restoring pid %d: file %u", t ? t->pid : 0, c->files[i]->id);
		}
		c->file_fds[i] = fd ? fd : -1;
	}
	return 0;
}

int rst_files_restore(struct rst_ctx *c, struct rst_task *t)
{
	int high = 3;
	long ret;
	int r;

	for (size_t k = 0; k < t->n_fds; k++)
		if ((int)t->fds[k]->fd >= high)
			high = t->fds[k]->fd + 1;
	r = transport_open(c, t, high);
	if (r < 0)
		return r;
	/* nothing of the engine's may leak into the task */
	ret = PUPPET_CALL(c, t->host_pid, "close_range", SYS_close_range, 0, t->transport - 1, 0);
	if (ret >= 0)
		ret = PUPPET_CALL(c, t->host_pid, "close_range", SYS_close_range, t->transport + 1, ~0U, 0);
	if (ret < 0)
		return (int)ret;
	for (size_t k = 0; k < t->n_fds; k++) {
		FdEntry *fe = t->fds[k];
		int idx = rst_file_index(c, fe->file_id);
		if (idx < 0 || c->file_fds[idx] < 0)
			return err_set(EIO, "fd %u: file %u was not made", fe->fd, fe->file_id);
		r = transport_send(c, t, c->file_fds[idx], fe->fd, fe->cloexec);
		if (r < 0)
			return err_wrap(r, "fd %u", fe->fd);
	}
	transport_close(c, t);
	return 0;
}

/* Epoll watch lists, once every fd of the task is in place. */
int rst_files_finish(struct rst_ctx *c, struct rst_task *t)
{
	for (size_t k = 0; k < t->n_fds; k++) {
		FileEntry *f = c->files[rst_file_index(c, t->fds[k]->file_id)];
		if (f->kind != FILE_KIND__FILE_EPOLL || !f->epoll)
			continue;
		for (size_t i = 0; i < f->epoll->n_tfds; i++) {
			EpollTfdEntry *e = f->epoll->tfds[i];
			struct epoll_event ev = { .events = e->events, .data.u64 = e->data };
			unsigned long addr;
			int r = puppet_scratch_put(c, t->host_pid, 0, &ev, sizeof(ev), &addr);
			if (r < 0)
				return r;
			long ret = PUPPET_CALL(c, t->host_pid, "epoll_ctl", SYS_epoll_ctl, t->fds[k]->fd,
					       EPOLL_CTL_ADD, e->tfd, addr);
			/* the same instance in two tasks: the second sees its own adds */
			if (ret < 0 && ret != -EEXIST)
				return err_wrap((int)ret, "epoll fd %u watching fd %u", t->fds[k]->fd, e->tfd);
		}
	}
	return 0;
}

void rst_files_cleanup(struct rst_ctx *c)
{
	for (size_t i = 0; c->file_fds && i < c->n_files; i++)
		if (c->file_fds[i] >= 0) {
			close(c->file_fds[i]);
			c->file_fds[i] = -1;
		}
}
