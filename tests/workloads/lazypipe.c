// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lazypipe: the copies and hops of a lazy migration without skua
 * (bench-lazy.sh). lazyraw measures the network and the copy apart; this
 * chains them as the page server and the handler must, so the bench can say
 * how close the migration comes to what this machine allows for that work.
 *   lazypipe source PORT MiB       a stopped child holds MiB of written
 *                                  memory. Per connection, "S": every page,
 *                                  read with process_vm_readv in 4 MiB
 *                                  pieces and written to the socket, then
 *                                  close; "F": each 8-byte offset read gets
 *                                  its 4 KiB page, read the same way.
 *   lazypipe stream HOST PORT MiB  a child registers MiB with userfaultfd and
 *                                  passes the fd here; the stream is read in
 *                                  4 MiB pieces, each placed into the child
 *                                  with UFFDIO_COPY; prints pipe_gbps
 *   lazypipe fault HOST PORT N GAP a child reads N pages of its registered
 *                                  memory in random order, GAP us apart; each
 *                                  fault is read here, its page asked for on
 *                                  an "F" connection and copied into the
 *                                  child, which wakes it. The time from the
 *                                  fault read to the copy's return, as
 *                                  stats-lazy times a fault; prints
 *                                  fault_p50_us fault_p99_us
 * Not a zdtm workload: it includes zdtm.h only for its helpers.
 */
#include <arpa/inet.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include "zdtm.h"
#include "rawio.h"

#define CHUNK (4UL << 20)
#define PG 4096UL

/* A child that maps len bytes without huge pages, dies with us, and hands
 * back what prepare() made of the mapping (its address, a userfaultfd)
 * over a socket pair; then it runs then(). */
struct kid {
	pid_t pid;
	char *addr;
	int uffd;
	int ctl; /* our end of the pair */
};

static void send_fd(int sock, char *addr, int fd)
{
	char cb[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec v = { &addr, sizeof(addr) };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };

	if (fd >= 0) {
		m.msg_control = cb;
		m.msg_controllen = sizeof(cb);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &m, 0) != sizeof(addr))
		zdtm_fail("sendmsg: %s", strerror(errno));
}

static void recv_fd(int sock, struct kid *k)
{
	char cb[CMSG_SPACE(sizeof(int))];
	struct iovec v = { &k->addr, sizeof(k->addr) };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof(cb) };

	k->uffd = -1;
	if (recvmsg(sock, &m, 0) != sizeof(k->addr))
		zdtm_fail("the child did not say where its memory is");
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&k->uffd, CMSG_DATA(c), sizeof(int));
}

static char *map_plain(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		zdtm_fail("mmap: %s", strerror(errno));
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static int register_uffd(char *p, size_t len)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .range = { (unsigned long)p, len }, .mode = UFFDIO_REGISTER_MODE_MISSING };

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) < 0 || ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
		zdtm_fail("userfaultfd: %s", strerror(errno));
	return fd;
}

/* then(): the child's work once it said where its memory is; reads the
 * go byte from ctl first if it needs one. */
static struct kid spawn(size_t len, int with_uffd, void (*then)(char *, size_t, int))
{
	struct kid k = { 0 };
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		zdtm_fail("socketpair: %s", strerror(errno));
	k.pid = fork();
	if (k.pid < 0)
		zdtm_fail("fork: %s", strerror(errno));
	if (k.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sp[0]);
		char *p = map_plain(len);
		int fd = with_uffd ? register_uffd(p, len) : -1;
		if (!with_uffd)
			for (size_t i = 0; i < len; i += 8)
				*(uint64_t *)(p + i) = i * 0x9e3779b97f4a7c15ULL + 1;
		send_fd(sp[1], p, fd);
		if (fd >= 0)
			close(fd);
		then(p, len, sp[1]);
		_exit(0);
	}
	close(sp[1]);
	k.ctl = sp[0];
	recv_fd(k.ctl, &k);
	return k;
}

static void sit(char *p, size_t len, int ctl)
{
	(void)p, (void)len, (void)ctl;
	for (;;)
		pause();
}

static void pvr(pid_t pid, char *remote, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { remote, len };
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)len)
		zdtm_fail("process_vm_readv: %s", strerror(errno));
}

static void source(int port, size_t mib)
{
	size_t len = mib << 20;
	struct kid k = spawn(len, 0, sit);
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int one = 1, lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char *buf = malloc(CHUNK);

	kill(k.pid, SIGSTOP); /* frozen, as a dumped tree is */
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!buf || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0)
		zdtm_fail("listen: %s", strerror(errno));
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		char mode = 0;
		uint64_t off;
		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (full_io(c, &mode, 1, 0) == 0 && mode == 'S') {
			for (size_t at = 0; at < len; at += CHUNK) {
				pvr(k.pid, k.addr + at, buf, CHUNK);
				if (full_io(c, buf, CHUNK, 1) < 0)
					break;
			}
		} else if (mode == 'F') {
			while (full_io(c, &off, sizeof(off), 0) == 0 && off <= len - PG) {
				pvr(k.pid, k.addr + (off & ~(PG - 1)), buf, PG);
				if (full_io(c, buf, PG, 1) < 0)
					break;
			}
		}
		close(c);
	}
}

static void stream(const char *host, const char *port, size_t mib)
{
	size_t len = mib << 20, at = 0;
	struct kid k = spawn(len, 1, sit);
	char *buf = malloc(CHUNK);
	int fd = dial(host, port);

	if (!buf || k.uffd < 0)
		zdtm_fail("no buffer or no userfaultfd");
	double t0 = now_s();
	if (full_io(fd, "S", 1, 1) < 0)
		zdtm_fail("send: %s", strerror(errno));
	while (at < len) {
		if (full_io(fd, buf, CHUNK, 0) < 0)
			zdtm_fail("the stream ended at %zu of %zu bytes", at, len);
		struct uffdio_copy c = { .dst = (unsigned long)k.addr + at, .src = (unsigned long)buf, .len = CHUNK };
		if (ioctl(k.uffd, UFFDIO_COPY, &c) < 0)
			zdtm_fail("UFFDIO_COPY: %s", strerror(errno));
		at += CHUNK;
	}
	printf("pipe_gbps %.2f\n", len / (now_s() - t0) / 1e9);
	kill(k.pid, SIGKILL);
	waitpid(k.pid, NULL, 0);
}

static int fault_gap_us;

/* the faulting child: waits for the go byte, then reads every page once */
static void reader(char *p, size_t len, int ctl)
{
	size_t n = len / PG;
	volatile char sink = 0;
	char go;

	if (full_io(ctl, &go, 1, 0) < 0)
		_exit(1);
	for (size_t i = 0; i < n; i++) {
		/* 7919 is prime: i * 7919 mod n visits every page once */
		sink += p[(i * 7919 % n) * PG];
		if (fault_gap_us > 0)
			usleep(fault_gap_us);
	}
	(void)sink;
}

static void fault(const char *host, const char *port, int n, int gap_us)
{
	size_t len = (size_t)n * PG;
	double *t = calloc(n, sizeof(double));
	char page[PG];
	int fd = dial(host, port);
	struct kid k;

	if (n <= 0 || n % 7919 == 0 || !t)
		zdtm_fail("N must be positive and not a multiple of 7919");
	fault_gap_us = gap_us;
	k = spawn(len, 1, reader);
	if (k.uffd < 0 || full_io(fd, "F", 1, 1) < 0 || full_io(k.ctl, "g", 1, 1) < 0)
		zdtm_fail("setting up: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		struct uffd_msg m;
		if (read(k.uffd, &m, sizeof(m)) != sizeof(m) || m.event != UFFD_EVENT_PAGEFAULT)
			zdtm_fail("reading the fault: %s", strerror(errno));
		double t0 = now_s();
		uint64_t dst = m.arg.pagefault.address & ~(PG - 1), off = dst - (uint64_t)(uintptr_t)k.addr;
		if (full_io(fd, &off, sizeof(off), 1) < 0 || full_io(fd, page, PG, 0) < 0)
			zdtm_fail("asking for the page: %s", strerror(errno));
		struct uffdio_copy c = { .dst = dst, .src = (unsigned long)page, .len = PG };
		if (ioctl(k.uffd, UFFDIO_COPY, &c) < 0)
			zdtm_fail("UFFDIO_COPY: %s", strerror(errno));
		t[i] = (now_s() - t0) * 1e6;
	}
	zdtm_reap(k.pid, "reader");
	qsort(t, n, sizeof(double), cmp_d);
	printf("fault_p50_us %.1f fault_p99_us %.1f\n", t[n / 2], t[(n * 99) / 100]);
}

int main(int argc, char **argv)
{
	zdtm_init("lazypipe");
	if (argc == 4 && !strcmp(argv[1], "source"))
		source(atoi(argv[2]), strtoul(argv[3], NULL, 0));
	else if (argc == 5 && !strcmp(argv[1], "stream"))
		stream(argv[2], argv[3], strtoul(argv[4], NULL, 0));
	else if (argc == 6 && !strcmp(argv[1], "fault"))
		fault(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
	else
		zdtm_fail("usage: lazypipe source PORT MiB | stream HOST PORT MiB | fault HOST PORT N GAP");
	return 0;
}
