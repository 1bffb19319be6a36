// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore's side of a lazy migration. Per task, once its VMAs are mapped:
 * make a userfaultfd inside the task (it is bound to the mm of whoever
 * creates it), take it out with pidfd_getfd, enable the events, register
 * every anonymous private VMA that holds lazy pages (whole VMAs: a partial
 * registration would split them), keep THP off those ranges (a collapse
 * would fill holes with zeros behind our back), and hand the fd and the
 * runs to the handler. The pages the restore and the tree touch first
 * (each thread's rseq area, the page under its stack pointer) are in the
 * images (pages.c), so nothing is needed from the page server until the
 * tree runs: the handler dials it while the tree is
 * built, and the restore waits for that only before it lets the tree go.
 * The handler is a process of its own: spawned here (`skua lazy-pages
 * --ctl-fd`, a fresh process, not a fork of this one), or the
 * `skua lazy-pages` daemon listening in the image/work directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/syscall.h"
#include "cr/lazy-conf.h"
#include "cr/lazy-internal.h"
#include "cr/restore-internal.h"

#define PG 4096UL
#define UFFD_EVENTS (UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | \
		     UFFD_FEATURE_EVENT_UNMAP)
/* where /dev/userfaultfd lands in a puppet that may not call userfaultfd() */
#define DEVFD_SLOT 1000

static int ctl_fd = -1;
/* The handler's answer to its connection (it is set up; it dials the page
 * server on its own): read at READY, with the TASK answers, so that its
 * start overlaps the tree's creation. */
static bool reply_pending;
/* TASK messages sent and not yet answered: the answers are read at READY,
 * so that the restore goes on while the handler starts and registers. */
static unsigned tasks_unanswered;

static int connect_daemon(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, LAZY_SOCKET_NAME) >=
	    (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (stat(sa.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -ENOENT;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = err_sys(errno, "connecting to the lazy-pages daemon at %s", sa.sun_path);
		close(fd);
		return r;
	}
	log_info("handing lazy memory to the lazy-pages daemon at %s", sa.sun_path);
	return fd;
}

/* `EXE lazy-pages ... --ctl-fd 3`: a new session, stdio on /dev/null, the
 * control socket as fd 3 and nothing else (the rest is close-on-exec, and
 * the handler closes what is not). posix_spawn()'s vfork-style clone holds
 * the thread that calls it until the handler has exec'd (1-7 ms on our test
 * VM), so a thread of its own calls it and the restore goes on; the thread
 * is joined before the handler's first answer is read, and at the latest in
 * lazy_rst_finish(), while the strings argv points to (the options, the
 * inventory) are still there. */
static struct spawner {
	pthread_t th;
	bool running;
	const char *argv[14];
	char port[8];
	int fd;  /* the handler's end of the socket, above 3 */
	int err; /* posix_spawn()'s */
} sp = { .fd = -1 };

static void *spawn_main(void *arg)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	pid_t pid;
	int r;

	sigemptyset(&none);
	sigfillset(&all);
	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		goto out;
	if ((r = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto out;
	}
	if (!(r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0)) &&
	    !(r = posix_spawn_file_actions_adddup2(&fa, 0, 1)) &&
	    !(r = posix_spawn_file_actions_adddup2(&fa, 0, 2)) &&
	    !(r = posix_spawn_file_actions_adddup2(&fa, sp.fd, 3)) &&
	    !(r = posix_spawnattr_setsigmask(&at, &none)) &&
	    !(r = posix_spawnattr_setsigdefault(&at, &all)) &&
	    !(r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
							POSIX_SPAWN_SETSIGDEF)))
		r = posix_spawn(&pid, sp.argv[0], &fa, &at, (char *const *)sp.argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
out:
	sp.err = r;
	return arg;
}

static int spawn_join(void)
{
	if (!sp.running)
		return 0;
	pthread_join(sp.th, NULL);
	sp.running = false;
	close(sp.fd);
	sp.fd = -1;
	return sp.err ? err_sys(sp.err, "starting the lazy-pages handler (%s)", sp.argv[0]) : 0;
}

static int spawn_handler(struct rst_ctx *c, int sock, const char *addr, uint16_t port)
{
	const char *argv[] = { lazy_conf.handler_exe, "lazy-pages", "--page-server", "--address", addr,
			       "--port", sp.port, "-D", c->o->image_dir, "-W", c->work_dir, "--ctl-fd", "3", NULL };
	sigset_t all, old;
	int r;

	_Static_assert(sizeof(argv) == sizeof(sp.argv), "the spawner's argv");
	snprintf(sp.port, sizeof(sp.port), "%u", port);
	memcpy(sp.argv, argv, sizeof(argv));
	/* dup2 onto itself would keep close-on-exec: come from above 3 */
	sp.fd = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	if (sp.fd < 0)
		return err_sys(errno, "dup");
	/* the thread takes no signal of the restore's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&sp.th, NULL, spawn_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		close(sp.fd);
		sp.fd = -1;
		return err_sys(r, "starting a thread to spawn the lazy-pages handler");
	}
	sp.running = true;
	return 0;
}

static int start_handler(struct rst_ctx *c)
{
	const char *addr = lazy_conf.dst_addr;
	uint16_t port = lazy_conf.dst_port;
	int sv[2], r;

	if (!lazy_conf.handler_exe)
		return err_set(ENOEXEC, "no program to run as the lazy-pages handler (lazy_set_handler_exe)");
	if (!addr) {
		if (!c->inv->page_server_addr || !c->inv->has_page_server_port)
			return err_set(EINVAL, "the images name no page server: give --page-server ADDRESS:PORT");
		addr = lazy_dial_addr(c->inv->page_server_addr);
		port = (uint16_t)c->inv->page_server_port;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_sys(errno, "socketpair");
	r = spawn_handler(c, sv[1], addr, port);
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return r;
	}
	log_info("lazy-pages handler starting for the page server %s:%u", addr, port);
	return sv[0];
}

static int start_session(struct rst_ctx *c)
{
	int fd = -ENOENT;

	if (!lazy_conf.dst_addr) {
		fd = connect_daemon(c->o->image_dir);
		if (fd == -ENOENT && strcmp(c->work_dir, c->o->image_dir))
			fd = connect_daemon(c->work_dir);
	}
	if (fd == -ENOENT)
		fd = start_handler(c);
	if (fd < 0)
		return fd;
	ctl_fd = fd;
	reply_pending = true;
	return 0;
}

static int session_ready(void)
{
	int r = spawn_join();

	if (r < 0 || !reply_pending)
		return r;
	reply_pending = false;
	return lazy_ctl_reply_recv(ctl_fd, "starting the lazy-pages handler");
}

static bool lazy_restore(struct rst_ctx *c)
{
	return c->o->lazy_pages && c->inv->has_lazy_pages && c->inv->lazy_pages;
}

int lazy_rst_begin(struct rst_ctx *c)
{
	if (!lazy_restore(c) || ctl_fd >= 0)
		return 0;
	return start_session(c);
}

static bool lazy_kind(VmaKind k)
{
	return k == VMA_KIND__VMA_ANON_PRIVATE || k == VMA_KIND__VMA_HEAP || k == VMA_KIND__VMA_STACK;
}

static bool has_run(const struct lazy_run *runs, size_t n, uint64_t s, uint64_t e)
{
	for (size_t i = 0; i < n; i++)
		if (runs[i].start < e && runs[i].start + runs[i].nr_pages * PG > s)
			return true;
	return false;
}

/* userfaultfd() needs CAP_SYS_PTRACE (vm.unprivileged_userfaultfd is 0);
 * a puppet that lacks it gets /dev/userfaultfd from us instead, whose
 * USERFAULTFD_IOC_NEW asks only for the open file. */
static long make_uffd_in(struct rst_ctx *c, struct rst_task *t)
{
	long fd = PUPPET_CALL(c, t->host_pid, "userfaultfd", SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int r;

	if (fd != -EPERM)
		return fd;
	_cleanup_close_ int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return err_sys(errno, "the restored task may not call userfaultfd() and "
				      "/dev/userfaultfd cannot be opened");
	if ((r = transport_open(c, t, 0)) < 0)
		return r;
	r = transport_send(c, t, dev, DEVFD_SLOT, true);
	transport_close(c, t);
	if (r < 0)
		return r;
	fd = PUPPET_CALL(c, t->host_pid, "ioctl(USERFAULTFD_IOC_NEW)", SYS_ioctl, DEVFD_SLOT,
			 USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	PUPPET_CALL(c, t->host_pid, "close", SYS_close, DEVFD_SLOT);
	return fd;
}

static int take_uffd(struct rst_ctx *c, struct rst_task *t, int pidfd, int *ret)
{
	long fd = make_uffd_in(c, t);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_EVENTS };

	if (fd < 0)
		return err_wrap((int)fd, "making a userfaultfd in pid %d", t->pid);
	int uffd = sys_pidfd_getfd(pidfd, (int)fd, 0);
	int e = errno;
	long cr = PUPPET_CALL(c, t->host_pid, "close", SYS_close, fd);
	if (uffd < 0)
		return err_sys(e, "taking the userfaultfd of pid %d", t->pid);
	if (cr < 0 || ioctl(uffd, UFFDIO_API, &api) < 0) {
		int r = cr < 0 ? (int)cr : err_sys(errno, "UFFDIO_API (events fork, remap, remove, unmap)");
		close(uffd);
		return r;
	}
	*ret = uffd;
	return 0;
}

static int send_task(struct rst_ctx *c, struct rst_task *t, const struct lazy_run *runs, size_t n_runs,
		     const struct lazy_ctl_vma *vmas, size_t n_vmas, int pidfd, int uffd)
{
	size_t len = n_vmas * sizeof(*vmas) + n_runs * sizeof(*runs);
	_cleanup_free_ uint8_t *pl = malloc(len ? len : 1);
	struct lazy_ctl_hdr h = { .magic = LAZY_CTL_MAGIC, .type = LAZY_CTL_TASK, .pid = t->pid,
				  .host_pid = t->host_pid, .n_vmas = n_vmas, .n_runs = n_runs };
	int fds[2] = { pidfd, uffd };
	int r;

	if (!pl)
		return -ENOMEM;
	memcpy(pl, vmas, n_vmas * sizeof(*vmas));
	memcpy(pl + n_vmas * sizeof(*vmas), runs, n_runs * sizeof(*runs));
	h.n_fds = uffd >= 0 ? 2 : 1;
	if ((r = lazy_ctl_send(ctl_fd, &h, pl, len, fds, h.n_fds)) < 0)
		return r;
	tasks_unanswered++;
	return 0;
}

int lazy_rst_task(struct rst_ctx *c, struct rst_task *t)
{
	_cleanup_free_ struct lazy_run *runs = NULL;
	_cleanup_free_ struct lazy_ctl_vma *vmas = NULL;
	_cleanup_close_ int pidfd = -1, uffd = -1;
	size_t n_runs = 0, n_vmas = 0;
	int r;

	if (!c->o->lazy_pages) {
		if (c->inv->has_lazy_pages && c->inv->lazy_pages)
			return err_set(EINVAL, "the images were dumped with --lazy-pages: their memory is on "
					       "the page server; restore with --lazy-pages");
		return 0;
	}
	/* --lazy-pages on images that hold their memory: nothing to fetch */
	if (!(c->inv->has_lazy_pages && c->inv->lazy_pages))
		return 0;
	if (ctl_fd < 0 && (r = start_session(c)) < 0)
		return r;
	if ((r = lazy_runs_load(c->dirfd, t->pid, &runs, &n_runs)) < 0)
		return r;
	vmas = calloc(t->mm->n_vmas + 1, sizeof(*vmas));
	if (!vmas)
		return -ENOMEM;
	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		VmaEntry *v = t->mm->vmas[i];
		if (lazy_kind(v->kind) && has_run(runs, n_runs, v->start, v->end))
			vmas[n_vmas++] = (struct lazy_ctl_vma){ v->start, v->end };
	}
	pidfd = sys_pidfd_open(t->host_pid, 0);
	if (pidfd < 0)
		return err_sys(errno, "pidfd_open(%d)", t->host_pid);
	if (n_vmas) {
		if ((r = take_uffd(c, t, pidfd, &uffd)) < 0)
			return r;
		_cleanup_free_ struct puppet_sc *sc = calloc(n_vmas, sizeof(*sc));
		if (!sc)
			return -ENOMEM;
		for (size_t i = 0; i < n_vmas; i++) {
			struct uffdio_register reg = {
				.range = { .start = vmas[i].start, .len = vmas[i].end - vmas[i].start },
				.mode = UFFDIO_REGISTER_MODE_MISSING,
			};
			if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
				return err_sys(errno, "UFFDIO_REGISTER 0x%llx-0x%llx of pid %d",
					       (unsigned long long)vmas[i].start,
					       (unsigned long long)vmas[i].end, t->pid);
			sc[i] = (struct puppet_sc){ SYS_madvise,
						    { vmas[i].start, vmas[i].end - vmas[i].start, MADV_NOHUGEPAGE } };
		}
		if ((r = puppet_call_batch(c, t->host_pid, "madvise(MADV_NOHUGEPAGE)", sc, n_vmas, NULL, NULL)) < 0)
			return r;
	}
	r = send_task(c, t, runs, n_runs, vmas, n_vmas, pidfd, uffd);
	if (r < 0) {
		/* a handler that never started is the cause to report */
		int j = spawn_join();
		return j < 0 ? j : r;
	}
	log_info("pid %d: lazy memory in %zu runs over %zu VMAs handed to the lazy-pages handler", t->pid,
		 n_runs, n_vmas);
	return 0;
}

int lazy_rst_connected(struct rst_ctx *c)
{
	struct lazy_ctl_hdr h = { .magic = LAZY_CTL_MAGIC, .type = LAZY_CTL_READY };
	int r;

	(void)c;
	if (ctl_fd < 0)
		return 0;
	log_info("waiting for the handler's connection to the page server");
	if ((r = session_ready()) < 0)
		return r;
	for (; tasks_unanswered; tasks_unanswered--)
		if ((r = lazy_ctl_reply_recv(ctl_fd, "registering lazy memory")) < 0)
			return r;
	if ((r = lazy_ctl_send(ctl_fd, &h, NULL, 0, NULL, 0)) < 0)
		return r;
	return lazy_ctl_reply_recv(ctl_fd, "connecting to the page server");
}

void lazy_rst_finish(struct rst_ctx *c, int r)
{
	struct lazy_ctl_hdr h = { .magic = LAZY_CTL_MAGIC, .type = r < 0 ? LAZY_CTL_ABORT : LAZY_CTL_END };
	_cleanup_close_ int init = -1;

	char saved[2048];

	if (ctl_fd < 0)
		return;
	/* the restore's own error is the one to report, not ours on the way out */
	snprintf(saved, sizeof(saved), "%s", err_msg());
	spawn_join();
	/* answers still unread are left in the socket */
	reply_pending = false;
	tasks_unanswered = 0;
	if (r >= 0) {
		pid_t p = c->anchor_is_reaper ? c->anchor : c->tasks[0].host_pid;
		init = sys_pidfd_open(p, 0);
		h.n_fds = init >= 0;
	}
	if (lazy_ctl_send(ctl_fd, &h, NULL, 0, &init, h.n_fds) >= 0 && r >= 0 &&
	    lazy_ctl_reply_recv(ctl_fd, "starting the background transfer") < 0)
		log_error("%s", err_msg());
	close(ctl_fd);
	ctl_fd = -1;
	if (r < 0)
		err_set(-r, "%s", saved);
}
