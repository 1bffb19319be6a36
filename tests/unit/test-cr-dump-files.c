// SPDX-License-Identifier: GPL-2.0-or-later
/* cr_dump() of a child's files beyond pipes and regular files: eventfd,
 * epoll, signalfd, timerfd, inet sockets, /dev/null, a directory, an fd
 * shared by dup; and the refusals: an established TCP connection, a deleted
 * file, a unix socket. Each refusal names the fd and leaves the child
 * running. Needs root. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/cr.h"
#include "cr/image.h"
#include "child-sync.h"
#include "tap.h"

#include "files.pb-c.h"

struct shared {
	volatile unsigned long counter;
	volatile int ready;
	volatile int fds[16];
	volatile int port;
	volatile int go, checked;
	char got[3][16];
};

static struct shared *sh;
static char tmpdir[64];

static void spin(void)
{
	sh->ready = 1;
	for (;;)
		sh->counter++;
}

enum { F_EVENTFD, F_EPOLL, F_SIGNALFD, F_TIMERFD, F_TCP, F_UDP6, F_NULL, F_DIR, F_DUP, F_TIMERFD_OFF };

static void child_many(void)
{
	int efd = eventfd(5, EFD_NONBLOCK);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234 };
	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	int sfd = signalfd(-1, &set, SFD_NONBLOCK);
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its = { .it_value = { 100, 0 }, .it_interval = { 7, 0 } };
	timerfd_settime(tfd, 0, &its, NULL);
	int tcp = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(tcp, (struct sockaddr *)&sin, sizeof(sin));
	listen(tcp, 17);
	socklen_t len = sizeof(sin);
	getsockname(tcp, (struct sockaddr *)&sin, &len);
	sh->port = ntohs(sin.sin_port);
	int udp = socket(AF_INET6, SOCK_DGRAM, 0);
	setsockopt(udp, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bind(udp, (struct sockaddr *)&s6, sizeof(s6));
	int nul = open("/dev/null", O_WRONLY);
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	int dup = fcntl(efd, F_DUPFD_CLOEXEC, 100);
	/* disarmed, with an interval: it reads (0, 0) however long one waits */
	int toff = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec off = { .it_interval = { 3, 0 } };
	timerfd_settime(toff, 0, &off, NULL);
	int v[] = { efd, ep, sfd, tfd, tcp, udp, nul, dir, dup, toff };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		sh->fds[i] = v[i];
	spin();
}

static void child_established(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&sin, &len);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		_exit(2);
	sh->fds[0] = c;
	spin();
}

static void child_deleted(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/gone", tmpdir);
	sh->fds[0] = open(path, O_RDWR | O_CREAT, 0600);
	unlink(path);
	spin();
}

static void child_flock(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/locked", tmpdir);
	sh->fds[0] = open(path, O_RDWR | O_CREAT, 0600);
	flock(sh->fds[0], LOCK_EX);
	spin();
}

static void refused(void (*fn)(void), const char *name, const char *what);

enum { U_STREAM0, U_STREAM1, U_DGRAM0, U_DGRAM1, U_LISTEN, U_ABSTRACT };

/* A stream pair with "hello" queued, a datagram pair with two messages
 * queued, a listener on a path, an abstract datagram socket. After the dump
 * (sh->go) it reads the queues back for the test to check. */
static void child_unix(void)
{
	int sv[2], dv[2];
	char path[128];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, dv);
	if (send(sv[1], "hello", 5, 0) != 5 || send(dv[1], "m1", 2, 0) != 2 || send(dv[1], "m22", 3, 0) != 3)
		_exit(2);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(path, sizeof(path), "%s/l.sock", tmpdir);
	strcpy(sa.sun_path, path);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 5) < 0)
		_exit(2);
	int a = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un ab = { .sun_family = AF_UNIX };
	int n = snprintf(ab.sun_path + 1, sizeof(ab.sun_path) - 1, "skua-test-%d", getpid());
	if (bind(a, (struct sockaddr *)&ab, offsetof(struct sockaddr_un, sun_path) + 1 + n) < 0)
		_exit(2);
	int v[] = { sv[0], sv[1], dv[0], dv[1], l, a };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		sh->fds[i] = v[i];
	sh->ready = 1;
	while (!sh->go)
		sh->counter++;
	recv(sv[0], sh->got[0], 15, MSG_DONTWAIT);
	recv(dv[0], sh->got[1], 15, MSG_DONTWAIT);
	recv(dv[0], sh->got[2], 15, MSG_DONTWAIT);
	sh->checked = 1;
	spin();
}

static int outside_listener = -1;

static void child_unix_outside(void)
{
	char path[128];
	close(outside_listener); /* the test's, not ours */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(path, sizeof(path), "%s/out.sock", tmpdir);
	strcpy(sa.sun_path, path);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(2);
	sh->fds[0] = c;
	spin();
}

static pid_t start(void (*fn)(void))
{
	memset((void *)sh, 0, sizeof(*sh));
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		_exit(0);
	}
	child_wait_ready(&sh->ready);
	return pid;
}

static bool advancing(void)
{
	return child_advancing(&sh->counter);
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int dump_to(pid_t pid, const char *name)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	struct cr_dump_opts o = { .pid = pid, .image_dir = dir, .leave_running = true };
	err_clear();
	return cr_dump(&o);
}

/* fd number -> its files.img entry, through fdinfo-<pid>.img. */
struct dumped {
	FileEntry *files[64];
	size_t n_files;
	FdEntry *fds[64];
	size_t n_fds;
};

static void load(const char *name, pid_t pid, struct dumped *d)
{
	char dir[128];
	struct cr_img *img;
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	memset(d, 0, sizeof(*d));
	if (img_open(dfd, CR_IMG_FILES, 0, O_RDONLY, &img) == 0) {
		while (d->n_files < 64 && img_read_msg(img, &file_entry__descriptor,
						       (ProtobufCMessage **)&d->files[d->n_files]) == 0 &&
		       d->files[d->n_files])
			d->n_files++;
		img_close(img);
	}
	if (img_open(dfd, CR_IMG_FDINFO, pid, O_RDONLY, &img) == 0) {
		while (d->n_fds < 64 && img_read_msg(img, &fd_entry__descriptor,
						     (ProtobufCMessage **)&d->fds[d->n_fds]) == 0 &&
		       d->fds[d->n_fds])
			d->n_fds++;
		img_close(img);
	}
}

static const FdEntry *fd_of(struct dumped *d, int fd)
{
	for (size_t i = 0; i < d->n_fds; i++)
		if (d->fds[i]->fd == (uint32_t)fd)
			return d->fds[i];
	return NULL;
}

static const FileEntry *file_of(struct dumped *d, int fd)
{
	const FdEntry *e = fd_of(d, fd);
	for (size_t i = 0; e && i < d->n_files; i++)
		if (d->files[i]->id == e->file_id)
			return d->files[i];
	return NULL;
}

static void unload(struct dumped *d)
{
	for (size_t i = 0; i < d->n_files; i++)
		file_entry__free_unpacked(d->files[i], NULL);
	for (size_t i = 0; i < d->n_fds; i++)
		fd_entry__free_unpacked(d->fds[i], NULL);
}

static void test_many(void)
{
	struct dumped d;
	const FileEntry *f;
	pid_t pid = start(child_many);
	if (!is_int(dump_to(pid, "many"), 0, "dump a child with many kinds of files"))
		printf("#   %s\n", err_msg());
	ok(advancing(), "it runs on");
	load("many", pid, &d);

	f = file_of(&d, sh->fds[F_EVENTFD]);
	ok(f && f->kind == FILE_KIND__FILE_EVENTFD && f->eventfd->counter == 5 &&
	   (f->eventfd->flags & O_NONBLOCK), "eventfd: counter 5, non-blocking");
	f = file_of(&d, sh->fds[F_EPOLL]);
	ok(f && f->kind == FILE_KIND__FILE_EPOLL && f->epoll->n_tfds == 1 &&
	   f->epoll->tfds[0]->tfd == (uint32_t)sh->fds[F_EVENTFD] && f->epoll->tfds[0]->data == 0x1234 &&
	   (f->epoll->tfds[0]->events & EPOLLIN), "epoll: its target, events and data");
	f = file_of(&d, sh->fds[F_SIGNALFD]);
	ok(f && f->kind == FILE_KIND__FILE_SIGNALFD && f->signalfd->sigmask == 1ULL << (SIGUSR2 - 1),
	   "signalfd: its mask");
	f = file_of(&d, sh->fds[F_TIMERFD]);
	ok(f && f->kind == FILE_KIND__FILE_TIMERFD && f->timerfd->clockid == CLOCK_MONOTONIC &&
	   f->timerfd->isec == 7 && f->timerfd->vsec >= 98 && f->timerfd->vsec < 100,
	   "timerfd: clock, interval and remaining time");
	f = file_of(&d, sh->fds[F_TIMERFD_OFF]);
	ok(f && f->kind == FILE_KIND__FILE_TIMERFD && f->timerfd->vsec == 0 && f->timerfd->vnsec == 0 &&
	   f->timerfd->isec == 3, "timerfd disarmed with an interval: recorded disarmed, its interval kept");
	f = file_of(&d, sh->fds[F_TCP]);
	ok(f && f->kind == FILE_KIND__FILE_INET && f->inet->state == 10 /* TCP_LISTEN */ &&
	   f->inet->backlog == 17 && f->inet->src_port == (uint32_t)sh->port &&
	   f->inet->src_addr.len == 4 && f->inet->n_opts == 1, "TCP listener: port, backlog, SO_REUSEADDR");
	f = file_of(&d, sh->fds[F_UDP6]);
	ok(f && f->kind == FILE_KIND__FILE_INET && f->inet->family == AF_INET6 &&
	   f->inet->type == SOCK_DGRAM && f->inet->src_addr.len == 16 && f->inet->v6only,
	   "UDP6: bound, v6only");
	f = file_of(&d, sh->fds[F_NULL]);
	ok(f && f->kind == FILE_KIND__FILE_CHR && streq(f->reg->path, "/dev/null") &&
	   (f->reg->flags & O_ACCMODE) == O_WRONLY, "/dev/null, write-only");
	f = file_of(&d, sh->fds[F_DIR]);
	ok(f && f->kind == FILE_KIND__FILE_DIR && streq(f->reg->path, "/tmp"), "a directory");
	ok(fd_of(&d, sh->fds[F_DUP]) && fd_of(&d, sh->fds[F_EVENTFD]) &&
	   fd_of(&d, sh->fds[F_DUP])->file_id == fd_of(&d, sh->fds[F_EVENTFD])->file_id &&
	   fd_of(&d, sh->fds[F_DUP])->cloexec && !fd_of(&d, sh->fds[F_EVENTFD])->cloexec,
	   "a dup shares the file, with its own cloexec");
	unload(&d);
	stop_child(pid);
}

static void child_kmsg(void)
{
	sh->fds[0] = open("/dev/kmsg", O_RDONLY);
	spin();
}

static void child_deleted_cwd(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/gone-dir", tmpdir);
	if (mkdir(path, 0700) < 0 || chdir(path) < 0 || rmdir(path) < 0)
		_exit(2);
	spin();
}

static int outside_pipe[2];

/* Nothing but /dev/null and the pipe: the test's own stdio may be pipes. */
static void child_outside_pipe(void)
{
	int nul = open("/dev/null", O_RDWR);
	for (int fd = 0; fd < 3; fd++)
		dup2(nul, fd);
	int w = dup2(outside_pipe[1], 10);
	syscall(SYS_close_range, 11, ~0U, 0);
	for (int fd = 3; fd < 10; fd++)
		close(fd);
	sh->fds[0] = w;
	spin();
}

/* A pipe to the outside is external; once the caller names its externals,
 * only those are. */
static void test_externals(void)
{
	char link[64], path[64], dir[128];
	struct dumped d;
	if (pipe(outside_pipe) < 0)
		return;
	pid_t pid = start(child_outside_pipe);
	close(outside_pipe[1]);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, sh->fds[0]);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';

	is_int(dump_to(pid, "ext-any"), 0, "no externals named: a pipe to the outside is dumped");
	load("ext-any", pid, &d);
	const FileEntry *f = file_of(&d, sh->fds[0]);
	ok(f && f->kind == FILE_KIND__FILE_EXTERNAL && streq(f->external->key, link),
	   "as an external keyed %s", link);
	unload(&d);

	const char *other[] = { "pipe:[1]" };
	struct cr_dump_opts o = { .pid = pid, .leave_running = true, .image_dir = dir,
				  .external_keys = other, .n_external_keys = 1 };
	snprintf(dir, sizeof(dir), "%s/ext-other", tmpdir);
	err_clear();
	ok(cr_dump(&o) < 0 && strstr(err_msg(), "shared with a process outside the tree"),
	   "externals named, not this one: refused");
	const char *mine[] = { link };
	o.external_keys = mine;
	snprintf(dir, sizeof(dir), "%s/ext-mine", tmpdir);
	if (!is_int(cr_dump(&o), 0, "externals named, this one among them: dumped"))
		printf("#   %s\n", err_msg());
	load("ext-mine", pid, &d);
	f = file_of(&d, sh->fds[0]);
	ok(f && f->kind == FILE_KIND__FILE_EXTERNAL, "as an external");
	unload(&d);
	ok(advancing(), "the child runs on");
	stop_child(pid);
	close(outside_pipe[0]);
}

static bool bytes_are(const ProtobufCBinaryData *b, const char *s)
{
	return b->len == strlen(s) && !memcmp(b->data, s, b->len);
}

static void test_unix(void)
{
	struct dumped d;
	char path[128];
	pid_t pid = start(child_unix);
	if (!is_int(dump_to(pid, "unix"), 0, "dump a child with unix sockets"))
		printf("#   %s\n", err_msg());
	load("unix", pid, &d);
	const FileEntry *s0 = file_of(&d, sh->fds[U_STREAM0]), *s1 = file_of(&d, sh->fds[U_STREAM1]);
	ok(s0 && s1 && s0->kind == FILE_KIND__FILE_UNIX && s1->kind == FILE_KIND__FILE_UNIX &&
	   s0->unix_sk->has_peer_id && s0->unix_sk->peer_id == s1->id && s1->unix_sk->peer_id == s0->id &&
	   s0->unix_sk->state == 3 && s0->unix_sk->type == SOCK_STREAM, "stream pair: peers of each other");
	ok(s0 && s0->unix_sk && s0->unix_sk->n_queue == 1 && bytes_are(&s0->unix_sk->queue[0], "hello"),
	   "stream pair: the queued bytes");
	const FileEntry *d0 = file_of(&d, sh->fds[U_DGRAM0]);
	ok(d0 && d0->unix_sk && d0->unix_sk->type == SOCK_DGRAM && d0->unix_sk->n_queue == 2 &&
	   bytes_are(&d0->unix_sk->queue[0], "m1") && bytes_are(&d0->unix_sk->queue[1], "m22"),
	   "datagram pair: both messages, in order");
	const FileEntry *l = file_of(&d, sh->fds[U_LISTEN]);
	snprintf(path, sizeof(path), "%s/l.sock", tmpdir);
	ok(l && l->unix_sk && l->unix_sk->state == 10 && l->unix_sk->backlog == 5 &&
	   bytes_are(&l->unix_sk->name, path), "listener: path and backlog");
	const FileEntry *a = file_of(&d, sh->fds[U_ABSTRACT]);
	ok(a && a->unix_sk && a->unix_sk->has_name && a->unix_sk->name.len > 1 &&
	   a->unix_sk->name.data[0] == 0, "abstract name kept with its leading NUL");
	unload(&d);
	sh->go = 1;
	for (int i = 0; i < 1000 && !sh->checked; i++)
		usleep(1000);
	ok(streq(sh->got[0], "hello") && streq(sh->got[1], "m1") && streq(sh->got[2], "m22"),
	   "the child still reads its queues, in order, after the dump");
	stop_child(pid);
}

static void test_unix_outside(void)
{
	char path[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(path, sizeof(path), "%s/out.sock", tmpdir);
	strcpy(sa.sun_path, path);
	_cleanup_close_ int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
		return;
	outside_listener = l;
	char want[200];
	snprintf(want, sizeof(want), "is a unix socket connected to %s outside the tree; use --ext-unix-sk", path);
	refused(child_unix_outside, "unix-outside", want);
}

static void refused(void (*fn)(void), const char *name, const char *what)
{
	char want[160];
	pid_t pid = start(fn);
	int r = dump_to(pid, name);
	ok(r < 0, "%s: refused", name);
	snprintf(want, sizeof(want), "fd %d of pid %d %s", sh->fds[0], pid, what);
	if (!ok(strstr(err_msg(), want) != NULL, "%s: the message names fd and kind", name))
		printf("#   got: %s\n#   want: %s\n", err_msg(), want);
	ok(advancing(), "%s: the child runs on", name);
	stop_child(pid);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/skua-test-cr-dump-files-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	test_many();
	test_externals();
	refused(child_established, "established", "is an established TCP connection; use --tcp-established");
	refused(child_deleted, "deleted", "is a deleted file");
	test_unix();
	test_unix_outside();
	refused(child_kmsg, "kmsg", "is the character device /dev/kmsg (1:11); not supported");
	{
		pid_t pid = start(child_deleted_cwd);
		ok(dump_to(pid, "cwd") < 0 && strstr(err_msg(), "works in a deleted directory"),
		   "a deleted working directory is refused");
		ok(advancing(), "and the child runs on");
		stop_child(pid);
	}
	refused(child_flock, "flock", "");
	/* the file's path comes between fd and reason */
	ok(strstr(err_msg(), "holds a file lock (FLOCK  ADVISORY  WRITE") ||
	   strstr(err_msg(), "holds a file lock (FLOCK"), "flock: the lock is named");
	ok(strstr(err_msg(), "use --file-locks") != NULL, "flock: the option is named");
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
