// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * anon_inode files whose whole state fdinfo shows: eventfd (counter),
 * epoll (its targets), signalfd (mask), timerfd (clock, flags; its times
 * and ticks from the timer itself).
 * Anything else (inotify, fanotify, pidfd, userfaultfd, io_uring, perf ...)
 * is refused by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cr/files-internal.h"
#include "cr/proc-parse.h"

#define EFD_SEMAPHORE_FLAG 1

static int need(const struct fd_obj *f, const char *key, char *buf, size_t len)
{
	if (!proc_field(f->fdinfo, key, buf, len))
		return err_set(EBADMSG, "fdinfo of " FD_FMT " has no %s", FD_ARGS(f), key);
	return 0;
}

static int fill_eventfd(const struct fd_obj *f, FileEntry *e)
{
	char buf[64];
	int r = need(f, "eventfd-count", buf, sizeof(buf));
	if (r < 0)
		return r;
	e->kind = FILE_KIND__FILE_EVENTFD;
	e->eventfd = malloc(sizeof(*e->eventfd));
	if (!e->eventfd)
		return err_set(ENOMEM, "out of memory");
	eventfd_entry__init(e->eventfd);
	e->eventfd->counter = strtoull(buf, NULL, 16);
	e->eventfd->flags = f->flags & ~O_CLOEXEC;
	if (proc_field(f->fdinfo, "eventfd-semaphore", buf, sizeof(buf)) && atoi(buf))
		e->eventfd->flags |= EFD_SEMAPHORE_FLAG;
	return 0;
}

static int fill_epoll(const struct fd_obj *f, FileEntry *e)
{
	size_t n = 0;
	for (const char *p = f->fdinfo; (p = strstr(p, "tfd:")); p++)
		n++;
	e->kind = FILE_KIND__FILE_EPOLL;
	e->epoll = malloc(sizeof(*e->epoll));
	if (!e->epoll)
		return err_set(ENOMEM, "out of memory");
	epoll_entry__init(e->epoll);
	e->epoll->flags = f->flags & ~O_CLOEXEC;
	e->epoll->tfds = calloc(n ? n : 1, sizeof(*e->epoll->tfds));
	if (!e->epoll->tfds)
		return err_set(ENOMEM, "out of memory");
	for (const char *p = f->fdinfo; (p = strstr(p, "tfd:")); p++) {
		int tfd;
		unsigned int events;
		unsigned long long data;
		if (sscanf(p, "tfd: %d events: %x data: %llx", &tfd, &events, &data) != 3)
			return err_set(EBADMSG, "parsing the epoll targets of " FD_FMT, FD_ARGS(f));
		EpollTfdEntry *t = malloc(sizeof(*t));
		if (!t)
			return err_set(ENOMEM, "out of memory");
		epoll_tfd_entry__init(t);
		t->tfd = tfd;
		t->events = events;
		t->data = data;
		e->epoll->tfds[e->epoll->n_tfds++] = t;
	}
	return 0;
}

static int fill_signalfd(const struct fd_obj *f, FileEntry *e)
{
	char buf[64];
	int r = need(f, "sigmask", buf, sizeof(buf));
	if (r < 0)
		return r;
	e->kind = FILE_KIND__FILE_SIGNALFD;
	e->signalfd = malloc(sizeof(*e->signalfd));
	if (!e->signalfd)
		return err_set(ENOMEM, "out of memory");
	signalfd_entry__init(e->signalfd);
	e->signalfd->sigmask = strtoull(buf, NULL, 16);
	e->signalfd->flags = f->flags & ~O_CLOEXEC;
	return 0;
}

static int parse_pair(const char *s, uint64_t *sec, uint64_t *nsec)
{
	unsigned long long a, b;
	if (sscanf(s, "(%llu, %llu)", &a, &b) != 2)
		return -EBADMSG;
	*sec = a;
	*nsec = b;
	return 0;
}

/*
 * A periodic timer that has expired with its ticks unread is only re-armed
 * by the next read or timerfd_gettime(): until then fdinfo shows it_value
 * (0, 0), as if it were disarmed. timerfd_gettime() on our copy (the same
 * timer; the tree is frozen) re-arms it and adds the missed periods to
 * the ticks, so the ticks are read again afterwards.
 */
static int timerfd_real_times(const struct fd_obj *f, TimerfdEntry *t)
{
	_cleanup_close_ int fd = files_take_fd(f);
	_cleanup_free_ char *info = NULL;
	struct itimerspec its;
	char path[64], ticks[32];
	int r;

	if (fd < 0)
		return fd;
	/* A periodic timer whose expiry is due but whose interrupt has not run
	 * yet also reads (0, 0) (its remaining time is below zero): give the
	 * interrupt a moment, up to 1 ms. One that stays (0, 0) is disarmed. */
	for (int i = 0;; i++) {
		if (timerfd_gettime(fd, &its) < 0)
			return err_sys(errno, "timerfd_gettime of " FD_FMT, FD_ARGS(f));
		bool zero = !its.it_value.tv_sec && !its.it_value.tv_nsec;
		bool periodic = its.it_interval.tv_sec || its.it_interval.tv_nsec;
		if (i == 10 || !zero || !periodic)
			break;
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	}
	t->vsec = its.it_value.tv_sec;
	t->vnsec = its.it_value.tv_nsec;
	t->isec = its.it_interval.tv_sec;
	t->insec = its.it_interval.tv_nsec;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if ((r = read_file(path, &info, NULL, 0)) < 0)
		return err_sys(-r, "reading %s", path);
	if (!proc_field(info, "ticks", ticks, sizeof(ticks)))
		return err_set(EBADMSG, "fdinfo of " FD_FMT " has no ticks", FD_ARGS(f));
	t->ticks = strtoull(ticks, NULL, 10);
	return 0;
}

static int fill_timerfd(const struct fd_obj *f, FileEntry *e)
{
	char clk[32], ticks[32], sflags[32], val[64], ival[64];
	int r;
	if ((r = need(f, "clockid", clk, sizeof(clk))) < 0 ||
	    (r = need(f, "ticks", ticks, sizeof(ticks))) < 0 ||
	    (r = need(f, "settime flags", sflags, sizeof(sflags))) < 0 ||
	    (r = need(f, "it_value", val, sizeof(val))) < 0 ||
	    (r = need(f, "it_interval", ival, sizeof(ival))) < 0)
		return r;
	e->kind = FILE_KIND__FILE_TIMERFD;
	TimerfdEntry *t = e->timerfd = malloc(sizeof(*e->timerfd));
	if (!t)
		return err_set(ENOMEM, "out of memory");
	timerfd_entry__init(t);
	t->clockid = atoi(clk);
	t->flags = f->flags & ~O_CLOEXEC;
	t->settime_flags = strtoul(sflags, NULL, 8);
	t->has_ticks = true;
	t->ticks = strtoull(ticks, NULL, 10);
	if (parse_pair(val, &t->vsec, &t->vnsec) < 0 || parse_pair(ival, &t->isec, &t->insec) < 0)
		return err_set(EBADMSG, "parsing the times of timerfd " FD_FMT, FD_ARGS(f));
	return timerfd_real_times(f, t);
}

int files_anon_fill(const struct fd_obj *f, FileEntry *e)
{
	const char *what = f->link + strlen("anon_inode:");
	char name[64];

	if (streq(what, "[eventfd]"))
		return fill_eventfd(f, e);
	if (streq(what, "[eventpoll]"))
		return fill_epoll(f, e);
	if (streq(what, "[signalfd]"))
		return fill_signalfd(f, e);
	if (streq(what, "[timerfd]"))
		return fill_timerfd(f, e);
	/* "inotify", "[pidfd]", "[userfaultfd]" ...: name it without brackets */
	snprintf(name, sizeof(name), "%s", what[0] == '[' ? what + 1 : what);
	char *end = strchr(name, ']');
	if (end)
		*end = '\0';
	return err_set(ENOTSUP, FD_FMT " is %s %s instance; not supported", FD_ARGS(f),
		       name[0] && strchr("aeiou", name[0]) ? "an" : "a", name);
}
