// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cr_restore() of richer trees, as root: a process tree with sessions and
 * process groups, a multi-threaded process, and a process holding a pipe
 * with data in flight and a file at an offset while it sleeps in read().
 * Each child reports through a pipe whose read end the test keeps; at
 * restore the test hands the child's ends back as externals.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/image.h"
#include "files.pb-c.h"
#include "base/syscall.h"
#include "cr/cr.h"
#include "tap.h"

struct ids {
	int32_t tag, pid, ppid, pgid, sid;
	int64_t value;
};

static char *make_dir(void)
{
	char *d = strdup("/tmp/skua-test-restore-tree-XXXXXX");
	return mkdtemp(d);
}

static void rm_rf(const char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd)) {
	}
}

static void pipe_key(int fd, char *buf, size_t len)
{
	struct stat st;
	fstat(fd, &st);
	snprintf(buf, len, "pipe:[%lu]", (unsigned long)st.st_ino);
}

static void quiet_fds(int keep1, int keep2)
{
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0), dup2(null, 1), dup2(null, 2);
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep1 && fd != keep2)
			close(fd);
}

static int read_ids(int fd, struct ids *r, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return read(fd, r, sizeof(*r)) == sizeof(*r) ? 0 : -1;
}

static void report(int wfd, int tag, int64_t value)
{
	struct ids r = { tag, getpid(), getppid(), getpgid(0), getsid(0), value };
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(3);
}

static int dump(pid_t pid, const char *dir)
{
	struct cr_dump_opts o = { .pid = pid, .image_dir = dir };
	int r = cr_dump(&o);
	if (r < 0) {
		printf("# dump: %s\n", err_msg());
		kill(pid, SIGKILL);
	}
	waitpid(pid, NULL, 0);
	return r;
}

static pid_t restore(const char *dir, struct cr_external *ext, size_t n)
{
	struct cr_restore_opts ro = { .image_dir = dir, .detach = true, .externals = ext, .n_externals = n };
	pid_t root = 0;
	if (cr_restore(&ro, &root, NULL) < 0) {
		printf("# restore: %s\n", err_msg());
		return -1;
	}
	return root;
}

static void reap_all(void)
{
	while (waitpid(-1, NULL, __WALL) > 0)
		;
}

/* Each member reports its ids every 20 ms. */
static void member(int go, int wfd, int tag)
{
	for (;;) {
		report(wfd, tag, 0);
		usleep(20000);
	}
}

/*
 * root (setsid) -+- A (setsid) --- A1 (same group as A)
 *                +- B (own group, root's session)
 */
static void tree_root(int go, int wfd)
{
	setsid();
	if (fork() == 0) {
		setsid();
		if (fork() == 0)
			member(go, wfd, 3);
		member(go, wfd, 1);
	}
	if (fork() == 0) {
		setpgid(0, 0);
		member(go, wfd, 2);
	}
	member(go, wfd, 0);
}

/* Fresh reports only: what was queued before is dropped first. */
static int collect_n(int rfd, struct ids *out, int n)
{
	struct ids r;
	int seen = 0;

	while (read_ids(rfd, &r, 0) == 0)
		;
	memset(out, 0, n * sizeof(*out));
	while (seen != (1 << n) - 1) {
		if (read_ids(rfd, &r, 5000) < 0 || r.tag < 0 || r.tag >= n)
			return -1;
		out[r.tag] = r;
		seen |= 1 << r.tag;
	}
	return 0;
}

static int collect(int rfd, int go_w, struct ids out[4])
{
	struct ids r;
	int seen = 0;

	while (read_ids(rfd, &r, 0) == 0)
		;
	memset(out, 0, 4 * sizeof(*out));
	while (seen != 0xf) {
		if (read_ids(rfd, &r, 5000) < 0 || r.tag < 0 || r.tag > 3)
			return -1;
		out[r.tag] = r;
		seen |= 1 << r.tag;
	}
	return 0;
}

static void test_tree(void)
{
	int rep[2], go[2];
	struct ids before[4], after[4];
	char krep[64], kgo[64];
	char *dir = make_dir();

	if (pipe(rep) < 0 || pipe(go) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]), close(go[1]);
		quiet_fds(rep[1], go[0]);
		tree_root(go[0], rep[1]);
	}
	usleep(100000);
	ok(collect(rep[0], go[1], before) == 0, "the tree of 4 reports");
	pipe_key(rep[1], krep, sizeof(krep));
	pipe_key(go[0], kgo, sizeof(kgo));
	is_int(dump(pid, dir), 0, "dump of the tree");
	struct cr_external ext[2] = { { krep, rep[1] }, { kgo, go[0] } };
	pid_t root = restore(dir, ext, 2);
	ok(root > 0, "restore of the tree");
	int got = collect(rep[0], go[1], after);
	ok(got == 0, "all 4 report after restore");
	for (int i = 0; i < 4 && got == 0; i++) {
		is_int(after[i].pid, before[i].pid, "member %d: pid", i);
		if (i > 0)
			is_int(after[i].ppid, before[i].ppid, "member %d: ppid", i);
		is_int(after[i].pgid, before[i].pgid, "member %d: process group", i);
		is_int(after[i].sid, before[i].sid, "member %d: session", i);
	}
	/* the root's parent was the test, outside the tree: a stand-in has its pid */
	is_int(got == 0 ? after[0].ppid : -1, before[0].ppid, "the root's ppid");
	if (root > 0)
		kill(root, SIGKILL);
	reap_all();
	close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
	rm_rf(dir);
	free(dir);
}

static volatile uint64_t tcount[3];
static volatile int32_t ttid[3];

static void *spin(void *arg)
{
	int i = (int)(intptr_t)arg;
	ttid[i] = syscall(SYS_gettid);
	for (;;)
		tcount[i]++;
	return NULL;
}

static void threads_child(int go, int wfd)
{
	pthread_t t;
	char b;
	for (intptr_t i = 1; i < 3; i++)
		pthread_create(&t, NULL, spin, (void *)i);
	ttid[0] = syscall(SYS_gettid);
	for (;;) {
		if (read(go, &b, 1) != 1)
			_exit(0);
		for (int i = 0; i < 3; i++)
			report(wfd, ttid[i], i == 0 ? 0 : (int64_t)tcount[i]);
	}
}

static int thread_reports(int rfd, int go_w, struct ids out[3])
{
	if (write(go_w, "g", 1) != 1)
		return -1;
	for (int i = 0; i < 3; i++)
		if (read_ids(rfd, &out[i], 5000) < 0)
			return -1;
	return 0;
}

static void test_threads(void)
{
	int rep[2], go[2];
	struct ids before[3], after[3];
	char krep[64], kgo[64];
	char *dir = make_dir();

	if (pipe(rep) < 0 || pipe(go) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]), close(go[1]);
		quiet_fds(rep[1], go[0]);
		threads_child(go[0], rep[1]);
	}
	usleep(200000);
	ok(thread_reports(rep[0], go[1], before) == 0, "3 threads report");
	pipe_key(rep[1], krep, sizeof(krep));
	pipe_key(go[0], kgo, sizeof(kgo));
	is_int(dump(pid, dir), 0, "dump of the threaded child");
	struct cr_external ext[2] = { { krep, rep[1] }, { kgo, go[0] } };
	pid_t root = restore(dir, ext, 2);
	ok(root > 0, "restore of the threaded child");
	usleep(100000);
	int got = thread_reports(rep[0], go[1], after);
	ok(got == 0, "it reports after restore");
	for (int i = 0; i < 3 && got == 0; i++) {
		is_int(after[i].tag, before[i].tag, "thread %d keeps its tid", i);
		if (i > 0)
			ok(after[i].value > before[i].value, "thread %d runs on (%lld -> %lld)", i,
			   (long long)before[i].value, (long long)after[i].value);
	}
	if (root > 0)
		kill(root, SIGKILL);
	reap_all();
	close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
	rm_rf(dir);
	free(dir);
}

/* Blocked in read() of the go pipe at dump; then reads its own pipe and
 * reports what it found and where its file offset is. */
static void files_child(int go, int wfd, const char *path)
{
	int inner[2];
	char b, buf[16] = "";
	if (pipe(inner) < 0)
		_exit(2);
	if (write(inner[1], "in-flight", 9) != 9)
		_exit(2);
	int f = open(path, O_RDWR);
	if (f < 0 || lseek(f, 5, SEEK_SET) != 5)
		_exit(2);
	if (read(go, &b, 1) != 1)
		_exit(0);
	ssize_t n = read(inner[0], buf, sizeof(buf) - 1);
	int64_t v = (n == 9 && !memcmp(buf, "in-flight", 9)) ? 1 : 0;
	if (read(f, buf, 3) != 3 || memcmp(buf, "567", 3))
		v |= 2;
	report(wfd, 7, v | (lseek(f, 0, SEEK_CUR) << 8));
	_exit(0);
}

static void test_files(void)
{
	int rep[2], go[2];
	struct ids after;
	char krep[64], kgo[64], path[512];
	char *dir = make_dir();

	snprintf(path, sizeof(path), "%s/data", dir);
	FILE *f = fopen(path, "w");
	if (!f || pipe(rep) < 0 || pipe(go) < 0)
		return;
	fputs("0123456789", f);
	fclose(f);
	char img[512];
	snprintf(img, sizeof(img), "%s/img", dir);
	mkdir(img, 0700);
	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]), close(go[1]);
		quiet_fds(rep[1], go[0]);
		files_child(go[0], rep[1], path);
	}
	usleep(200000);
	pipe_key(rep[1], krep, sizeof(krep));
	pipe_key(go[0], kgo, sizeof(kgo));
	is_int(dump(pid, img), 0, "dump of the child with a pipe and a file");
	struct cr_external ext[2] = { { krep, rep[1] }, { kgo, go[0] } };
	pid_t root = restore(img, ext, 2);
	ok(root > 0, "restore of the child with a pipe and a file");
	int got = write(go[1], "g", 1) == 1 ? read_ids(rep[0], &after, 5000) : -1;
	ok(got == 0, "it wakes from its read() and reports");
	ok(got == 0 && (after.value & 1), "the pipe's data in flight is there");
	ok(got == 0 && !(after.value & 2), "the file reads on from its dumped offset");
	is_int(got == 0 ? after.value >> 8 : -1, 8, "the file offset moved on from 5 to 8");
	if (root > 0)
		kill(root, SIGKILL);
	reap_all();
	close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
	rm_rf(dir);
	free(dir);
}

/* A parent and its child share anonymous memory: the child counts in it,
 * the parent reports what it sees there. */
static void shared_child(int go, int wfd)
{
	volatile uint64_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char b;
	if (shared == MAP_FAILED)
		_exit(2);
	if (fork() == 0)
		for (;;)
			(*shared)++;
	for (;;) {
		if (read(go, &b, 1) != 1)
			_exit(0);
		uint64_t a = *shared;
		usleep(20000);
		report(wfd, 9, *shared > a ? (int64_t)*shared : -1);
	}
}

static void test_shared_anon(void)
{
	int rep[2], go[2];
	struct ids before, after;
	char krep[64], kgo[64];
	char *dir = make_dir();

	if (pipe(rep) < 0 || pipe(go) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]), close(go[1]);
		quiet_fds(rep[1], go[0]);
		shared_child(go[0], rep[1]);
	}
	usleep(100000);
	int got = write(go[1], "g", 1) == 1 ? read_ids(rep[0], &before, 5000) : -1;
	ok(got == 0 && before.value > 0, "the parent sees its child count in shared memory");
	pipe_key(rep[1], krep, sizeof(krep));
	pipe_key(go[0], kgo, sizeof(kgo));
	is_int(dump(pid, dir), 0, "dump of the pair sharing memory");
	struct cr_external ext[2] = { { krep, rep[1] }, { kgo, go[0] } };
	pid_t root = restore(dir, ext, 2);
	ok(root > 0, "restore of the pair sharing memory");
	got = write(go[1], "g", 1) == 1 ? read_ids(rep[0], &after, 5000) : -1;
	ok(got == 0 && after.value > before.value,
	   "after restore the parent still sees the child's count rise (%lld -> %lld)",
	   (long long)before.value, (long long)after.value);
	if (root > 0)
		kill(root, SIGKILL);
	reap_all();
	close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
	rm_rf(dir);
	free(dir);
}

/* A tree that is its own pid namespace (as a container is): its init is
 * pid 1 and must be pid 1 again, with its child at the same pid. */
static void test_own_pid_ns(void)
{
	int rep[2];
	struct ids before[2], after[2];
	char krep[64];
	char *dir = make_dir();

	if (pipe(rep) < 0)
		return;
	struct clone_args ca = { .flags = CLONE_NEWPID, .exit_signal = SIGCHLD };
	pid_t pid = sys_clone3(&ca, sizeof(ca));
	if (pid == 0) {
		close(rep[0]);
		quiet_fds(rep[1], -1);
		for (int i = 0; i < 3; i++) /* pids 2 and 3 come and go: the member gets 4 */
			if (fork() == 0)
				_exit(0);
		while (waitpid(-1, NULL, 0) > 0)
			;
		if (fork() == 0)
			member(-1, rep[1], 1);
		member(-1, rep[1], 0);
	}
	ok(pid > 0 && collect_n(rep[0], before, 2) == 0, "the namespace's init and child report");
	is_int(before[0].pid, 1, "the init is pid 1 in its namespace");
	is_int(before[1].pid, 5, "its child is pid 5");
	pipe_key(rep[1], krep, sizeof(krep));
	is_int(dump(pid, dir), 0, "dump of a pid namespace");
	struct cr_external ext[1] = { { krep, rep[1] } };
	struct cr_restore_opts ro = { .image_dir = dir, .detach = true, .externals = ext, .n_externals = 1 };
	pid_t root = 0;
	int r = cr_restore(&ro, &root, NULL);
	if (!is_int(r, 0, "restore of a pid namespace"))
		printf("# %s\n", err_msg());
	ok(r == 0 && root > 0 && root != 1, "the engine returns the init's host pid (%d)", root);
	int got = r == 0 ? collect_n(rep[0], after, 2) : -1;
	ok(got == 0, "both report after restore");
	is_int(got == 0 ? after[0].pid : -1, 1, "the init is pid 1 again");
	is_int(got == 0 ? after[1].pid : -1, 5, "its child is pid 5 again");
	is_int(got == 0 ? after[1].ppid : -1, 1, "the child's parent is the init");
	if (root > 0)
		kill(root, SIGKILL);
	reap_all();
	close(rep[0]), close(rep[1]);
	rm_rf(dir);
	free(dir);
}

/* Two children exited before the dump (one with 7, one killed by SIGUSR2)
 * and wait for their parent, which reaps them only after restore. */
static void zombie_parent(int go, int wfd)
{
	pid_t a = fork();
	if (a == 0)
		_exit(7);
	pid_t b = fork();
	if (b == 0) {
		signal(SIGUSR2, SIG_DFL);
		kill(getpid(), SIGUSR2);
		pause();
	}
	char c;
	if (read(go, &c, 1) != 1)
		_exit(0);
	int sa = -1, sb = -1;
	pid_t ra = waitpid(a, &sa, WNOHANG), rb = waitpid(b, &sb, WNOHANG);
	int64_t v = (ra == a && WIFEXITED(sa) && WEXITSTATUS(sa) == 7 ? 1 : 0) |
		    (rb == b && WIFSIGNALED(sb) && WTERMSIG(sb) == SIGUSR2 ? 2 : 0);
	report(wfd, 11, v);
	_exit(0);
}

static void test_zombies(void)
{
	int rep[2], go[2];
	struct ids after;
	char krep[64], kgo[64];
	char *dir = make_dir();

	if (pipe(rep) < 0 || pipe(go) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]), close(go[1]);
		quiet_fds(rep[1], go[0]);
		zombie_parent(go[0], rep[1]);
	}
	usleep(200000);
	pipe_key(rep[1], krep, sizeof(krep));
	pipe_key(go[0], kgo, sizeof(kgo));
	is_int(dump(pid, dir), 0, "dump of a parent with two zombie children");
	struct cr_external ext[2] = { { krep, rep[1] }, { kgo, go[0] } };
	pid_t root = restore(dir, ext, 2);
	ok(root > 0, "restore of the parent and its zombies");
	int got = write(go[1], "g", 1) == 1 ? read_ids(rep[0], &after, 5000) : -1;
	ok(got == 0 && (after.value & 1), "the parent reaps the child that exited with 7");
	ok(got == 0 && (after.value & 2), "the parent reaps the child killed by SIGUSR2");
	reap_all();
	close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
	rm_rf(dir);
	free(dir);
}

/*
 * In its own pid namespace: init (1, setsid) adopts two orphans from other
 * sessions: B, whose session leader A has exited, and F, whose parent E
 * exited while its session leader D runs on.
 */
static void orphans_init(int wfd)
{
	setsid();
	pid_t a = fork();
	if (a == 0) {
		setsid();
		if (fork() == 0) {
			usleep(100000); /* until A is gone */
			member(-1, wfd, 1);
		}
		_exit(0);
	}
	waitpid(a, NULL, 0);
	if (fork() == 0) {
		setsid();
		pid_t e = fork();
		if (e == 0) {
			if (fork() == 0) {
				usleep(100000);
				member(-1, wfd, 3);
			}
			_exit(0);
		}
		waitpid(e, NULL, 0);
		member(-1, wfd, 2);
	}
	for (;;) {
		report(wfd, 0, 0);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(20000);
	}
}

static void test_orphans(void)
{
	int rep[2];
	struct ids before[4], after[4];
	char krep[64];
	char *dir = make_dir();

	if (pipe(rep) < 0)
		return;
	struct clone_args ca = { .flags = CLONE_NEWPID, .exit_signal = SIGCHLD };
	pid_t pid = sys_clone3(&ca, sizeof(ca));
	if (pid == 0) {
		close(rep[0]);
		quiet_fds(rep[1], -1);
		orphans_init(rep[1]);
	}
	usleep(300000);
	int got = collect(rep[0], -1, before);
	ok(got == 0 && before[1].ppid == 1 && before[3].ppid == 1 && before[1].sid != 1 &&
		   before[3].sid == before[2].pid,
	   "two orphans adopted by init, in other sessions");
	pipe_key(rep[1], krep, sizeof(krep));
	is_int(dump(pid, dir), 0, "dump of the namespace with orphans");
	struct cr_external ext[1] = { { krep, rep[1] } };
	struct cr_restore_opts ro = { .image_dir = dir, .detach = true, .externals = ext, .n_externals = 1 };
	pid_t root = 0;
	int r = cr_restore(&ro, &root, NULL);
	if (!is_int(r, 0, "restore of the namespace with orphans"))
		printf("# %s\n", err_msg());
	got = r == 0 ? collect(rep[0], -1, after) : -1;
	ok(got == 0, "all report after restore");
	for (int i = 0; i < 4 && got == 0; i++) {
		is_int(after[i].pid, before[i].pid, "member %d: pid", i);
		is_int(after[i].ppid, before[i].ppid, "member %d: ppid", i);
		is_int(after[i].pgid, before[i].pgid, "member %d: process group", i);
		is_int(after[i].sid, before[i].sid, "member %d: session", i);
	}
	if (root > 0)
		kill(root, SIGKILL);
	reap_all();
	close(rep[0]), close(rep[1]);
	rm_rf(dir);
	free(dir);
}

/* Unix sockets the images give the child at fds 20-22 (a connected pair
 * with "hello" waiting on 20, a listening abstract socket): it checks them
 * only after restore. The dump does not take unix sockets yet, so the test
 * writes them into the images itself. */
static char unix_name[64];

static void unix_child(int go, int wfd)
{
	char b, buf[16] = "";
	int64_t v = 0;
	int acc = 0;
	socklen_t l = sizeof(acc);
	struct sockaddr_un sa;

	if (read(go, &b, 1) != 1)
		_exit(0);
	if (recv(20, buf, sizeof(buf), MSG_DONTWAIT) == 5 && !memcmp(buf, "hello", 5))
		v |= 1;
	if (send(21, "ping", 4, 0) == 4 && recv(20, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "ping", 4))
		v |= 2;
	if (getsockopt(22, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) == 0 && acc)
		v |= 4;
	l = sizeof(sa);
	if (getsockname(22, (struct sockaddr *)&sa, &l) == 0 && sa.sun_path[0] == 0 &&
	    l == offsetof(struct sockaddr_un, sun_path) + 1 + strlen(unix_name) &&
	    !memcmp(sa.sun_path + 1, unix_name, strlen(unix_name)))
		v |= 8;
	report(wfd, 12, v);
	_exit(0);
}

static int add_unix_images(const char *dir, pid_t pid)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), r;
	FileEntry *files[256];
	FdEntry *fds[256];
	size_t nf = 0, nd = 0;
	uint32_t max_id = 0;
	struct cr_img *img;

	if (dfd < 0 || img_open(dfd, CR_IMG_FILES, 0, O_RDONLY, &img) < 0)
		return -1;
	while (nf < 250 && img_read_msg(img, &file_entry__descriptor, (ProtobufCMessage **)&files[nf]) == 0 &&
	       files[nf])
		max_id = files[nf]->id > max_id ? files[nf]->id : max_id, nf++;
	img_close(img);
	if (img_open(dfd, CR_IMG_FDINFO, pid, O_RDONLY, &img) < 0)
		return -1;
	while (nd < 250 && img_read_msg(img, &fd_entry__descriptor, (ProtobufCMessage **)&fds[nd]) == 0 && fds[nd])
		nd++;
	img_close(img);

	ProtobufCBinaryData hello = { 5, (uint8_t *)"hello" }, name;
	static char abstract[64];
	abstract[0] = 0;
	memcpy(abstract + 1, unix_name, strlen(unix_name));
	name.len = 1 + strlen(unix_name);
	name.data = (uint8_t *)abstract;
	UnixSkEntry u[3];
	FileEntry fe[3];
	FdEntry de[3];
	for (int i = 0; i < 3; i++) {
		unix_sk_entry__init(&u[i]);
		file_entry__init(&fe[i]);
		fd_entry__init(&de[i]);
		u[i].type = SOCK_STREAM;
		fe[i].id = max_id + 1 + i;
		fe[i].kind = FILE_KIND__FILE_UNIX;
		fe[i].unix_sk = &u[i];
		de[i].fd = 20 + i;
		de[i].file_id = fe[i].id;
		files[nf++] = &fe[i];
		fds[nd++] = &de[i];
	}
	u[0].state = u[1].state = 3;
	u[0].has_peer_id = u[1].has_peer_id = true;
	u[0].peer_id = fe[1].id;
	u[1].peer_id = fe[0].id;
	u[0].n_queue = 1;
	u[0].queue = &hello;
	u[2].state = 10;
	u[2].has_name = u[2].has_backlog = true;
	u[2].name = name;
	u[2].backlog = 5;
	r = img_open(dfd, CR_IMG_FILES, 0, O_WRONLY, &img);
	for (size_t i = 0; r >= 0 && i < nf; i++)
		r = img_write_msg(img, &files[i]->base);
	if (r >= 0)
		r = img_close(img);
	if (r >= 0 && (r = img_open(dfd, CR_IMG_FDINFO, pid, O_WRONLY, &img)) >= 0) {
		for (size_t i = 0; r >= 0 && i < nd; i++)
			r = img_write_msg(img, &fds[i]->base);
		r = r < 0 ? r : img_close(img);
	}
	for (size_t i = 0; i < nf - 3; i++)
		file_entry__free_unpacked(files[i], NULL);
	for (size_t i = 0; i < nd - 3; i++)
		fd_entry__free_unpacked(fds[i], NULL);
	close(dfd);
	return r;
}

static void test_unix_sockets(void)
{
	int rep[2], go[2];
	struct ids after;
	char krep[64], kgo[64];
	char *dir = make_dir();

	if (pipe(rep) < 0 || pipe(go) < 0)
		return;
	snprintf(unix_name, sizeof(unix_name), "skua-test-unix-%d", getpid());
	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]), close(go[1]);
		quiet_fds(rep[1], go[0]);
		unix_child(go[0], rep[1]);
	}
	usleep(100000);
	pipe_key(rep[1], krep, sizeof(krep));
	pipe_key(go[0], kgo, sizeof(kgo));
	is_int(dump(pid, dir), 0, "dump for the unix socket test");
	ok(add_unix_images(dir, pid) == 0, "images get a socket pair with queued data and a listener");
	struct cr_external ext[2] = { { krep, rep[1] }, { kgo, go[0] } };
	pid_t root = restore(dir, ext, 2);
	ok(root > 0, "restore with unix sockets");
	int got = root > 0 && write(go[1], "g", 1) == 1 ? read_ids(rep[0], &after, 5000) : -1;
	ok(got == 0 && (after.value & 1), "the queued data waits on its end of the pair");
	ok(got == 0 && (after.value & 2), "the pair is connected");
	ok(got == 0 && (after.value & 4), "the listener listens");
	ok(got == 0 && (after.value & 8), "under its abstract name");
	reap_all();
	close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	test_tree();
	test_threads();
	test_files();
	test_shared_anon();
	test_own_pid_ns();
	test_zombies();
	test_orphans();
	test_unix_sockets();
	return done_testing();
}
