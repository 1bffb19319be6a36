// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cr_restore() of per-task state, as root: a child sets its umask, cwd,
 * name, a resource limit, a POSIX timer and an interval timer, a signal
 * handler, a blocked and pending signal, and finally drops to another
 * uid/gid with supplementary groups. It checks all of that against what it
 * recorded before the dump (its memory comes back too) and reports a bitmask
 * of the checks that failed.
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/cr.h"
#include "tap.h"

enum {
	CK_UMASK = 1 << 0, CK_CWD = 1 << 1, CK_COMM = 1 << 2, CK_RLIMIT = 1 << 3,
	CK_PTIMER = 1 << 4, CK_ITIMER = 1 << 5, CK_HANDLER = 1 << 6, CK_BLOCKED = 1 << 7,
	CK_PENDING = 1 << 8, CK_UID = 1 << 9, CK_GID = 1 << 10, CK_GROUPS = 1 << 11,
	CK_CAPS = 1 << 12, CK_PID = 1 << 13,
};

static timer_t timer;
static pid_t mypid;
#define MODE_DROP 1   /* also change uid, gid and groups */
#define MODE_PTIMER 2 /* also arm a POSIX timer */
static int mode;
static struct __user_cap_data_struct caps_before[2];

static void handler(int sig)
{
	(void)sig;
}

static uint32_t checks(void)
{
	uint32_t bad = 0;
	char buf[64] = "";
	struct rlimit rl;
	struct itimerspec its;
	struct itimerval itv;
	struct sigaction sa;
	sigset_t set;
	gid_t groups[8];

	mode_t m = umask(0);
	umask(m);
	if (m != 0027)
		bad |= CK_UMASK;
	if (!getcwd(buf, sizeof(buf)) || strcmp(buf, "/tmp"))
		bad |= CK_CWD;
	prctl(PR_GET_NAME, buf);
	if (strcmp(buf, "skua-attrs"))
		bad |= CK_COMM;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 512)
		bad |= CK_RLIMIT;
	if ((mode & MODE_PTIMER) && (timer_gettime(timer, &its) < 0 || its.it_value.tv_sec < 100))
		bad |= CK_PTIMER;
	if (getitimer(ITIMER_REAL, &itv) < 0 || itv.it_value.tv_sec < 100)
		bad |= CK_ITIMER;
	if (sigaction(SIGUSR2, NULL, &sa) < 0 || sa.sa_handler != handler)
		bad |= CK_HANDLER;
	sigprocmask(SIG_BLOCK, NULL, &set);
	if (!sigismember(&set, SIGUSR1))
		bad |= CK_BLOCKED;
	sigpending(&set);
	if (!sigismember(&set, SIGUSR1))
		bad |= CK_PENDING;
	if (getuid() != ((mode & MODE_DROP) ? 1234u : 0u) || geteuid() != ((mode & MODE_DROP) ? 1234u : 0u))
		bad |= CK_UID;
	if (getgid() != ((mode & MODE_DROP) ? 2345u : 0u) || getegid() != ((mode & MODE_DROP) ? 2345u : 0u))
		bad |= CK_GID;
	int ng = getgroups(8, groups);
	if ((mode & MODE_DROP) ? (ng != 2 || groups[0] != 3456 || groups[1] != 4567) : ng < 0)
		bad |= CK_GROUPS;
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0 || memcmp(d, caps_before, sizeof(d)))
		bad |= CK_CAPS;
	if (getpid() != mypid)
		bad |= CK_PID;
	return bad;
}

static void child(int go, int wfd)
{
	struct sigevent se = { .sigev_notify = SIGEV_NONE };
	struct itimerspec its = { .it_value = { 1000, 0 } };
	struct itimerval itv = { .it_value = { 1000, 0 } };
	struct rlimit rl = { 512, 4096 };
	gid_t groups[2] = { 3456, 4567 };
	sigset_t set;
	char b;

	mypid = getpid();
	umask(0027);
	if (chdir("/tmp") < 0)
		_exit(2);
	prctl(PR_SET_NAME, "skua-attrs");
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((mode & MODE_PTIMER) &&
	    (timer_create(CLOCK_MONOTONIC, &se, &timer) < 0 || timer_settime(timer, 0, &its, NULL) < 0))
		_exit(2);
	setitimer(ITIMER_REAL, &itv, NULL);
	signal(SIGUSR2, handler);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	if ((mode & MODE_DROP) && (setgroups(2, groups) < 0 || setresgid(2345, 2345, 2345) < 0 ||
		     setresuid(1234, 1234, 1234) < 0))
		_exit(2);
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	syscall(SYS_capget, &h, caps_before);
	for (;;) {
		if (read(go, &b, 1) != 1)
			_exit(0);
		uint32_t bad = checks();
		if (write(wfd, &bad, sizeof(bad)) != sizeof(bad))
			_exit(3);
	}
}

static int ask(int go_w, int rfd, uint32_t *bad)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	if (write(go_w, "g", 1) != 1 || poll(&p, 1, 5000) != 1)
		return -1;
	return read(rfd, bad, sizeof(*bad)) == sizeof(*bad) ? 0 : -1;
}

static void pipe_key(int fd, char *buf, size_t len)
{
	struct stat st;
	fstat(fd, &st);
	snprintf(buf, len, "pipe:[%lu]", (unsigned long)st.st_ino);
}

static void run(int m)
{
	int rep[2], go[2];
	char krep[64], kgo[64], dir[] = "/tmp/skua-test-restore-attrs-XXXXXX", cmd[128];
	const char *mode_name = m == MODE_DROP ? "with new creds" : m == MODE_PTIMER ? "with a POSIX timer" : "as root";
	uint32_t bad = ~0u;

	if (!mkdtemp(dir) || pipe(rep) < 0 || pipe(go) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		for (int fd = 3; fd < 1024; fd++)
			if (fd != rep[1] && fd != go[0])
				close(fd);
		mode = m;
		child(go[0], rep[1]);
	}
	ok(ask(go[1], rep[0], &bad) == 0, "%s: the child reports", mode_name);
	is_int(bad, 0, "%s: its checks pass before the dump", mode_name);
	pipe_key(rep[1], krep, sizeof(krep));
	pipe_key(go[0], kgo, sizeof(kgo));
	struct cr_dump_opts d = { .pid = pid, .image_dir = dir };
	int r = cr_dump(&d);
	if (!is_int(r, 0, "%s: dump", mode_name))
		printf("# %s\n", err_msg()), kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (r < 0)
		goto out; /* nothing to restore: one failure, not one per check */
	struct cr_external ext[2] = { { krep, rep[1] }, { kgo, go[0] } };
	struct cr_restore_opts ro = { .image_dir = dir, .detach = true, .externals = ext, .n_externals = 2 };
	pid_t root = 0;
	r = cr_restore(&ro, &root, NULL);
	if (!is_int(r, 0, "%s: restore", mode_name))
		printf("# %s\n", err_msg());
	bad = ~0u;
	int got = r < 0 ? -1 : ask(go[1], rep[0], &bad);
	const char *names[] = { "umask", "cwd", "name", "RLIMIT_NOFILE", "POSIX timer", "interval timer",
				"signal handler", "blocked mask", "pending signal", "uid", "gid", "groups",
				"capabilities", "pid" };
	ok(got == 0, "%s: the restored child reports", mode_name);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ok(got == 0 && !(bad & (1u << i)), "%s: %s survives", mode_name, names[i]);
	if (root > 0)
		kill(root, SIGKILL);
out:
	while (waitpid(-1, NULL, __WALL) > 0)
		;
	close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd)) {
	}
}

int main(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	run(0);
	run(MODE_PTIMER);
	run(MODE_DROP);
	return done_testing();
}
