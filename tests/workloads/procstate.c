// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * procstate: per-process state that lives in the kernel only. The root sets
 * its umask, cwd, name, oom_score_adj and two rlimits; its child further
 * takes supplementary groups, distinct real/effective/saved gids and uids
 * (dropping root and its capabilities) and a parent-death signal. After
 * SIGUSR1 each checks its own; the child reports through its exit code
 * (without privileges it could not write the result file).
 */
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "zdtm.h"

static void check_common(const char *who, mode_t mask, const char *cwd, const char *name)
{
	char buf[4096], comm[32] = { 0 };
	struct rlimit rl;
	mode_t m = umask(0);

	umask(m);
	if (m != mask)
		zdtm_fail("%s: umask %03o, want %03o", who, m, mask);
	if (!getcwd(buf, sizeof(buf)) || strcmp(buf, cwd))
		zdtm_fail("%s: cwd %s, want %s", who, buf, cwd);
	prctl(PR_GET_NAME, comm);
	if (strcmp(comm, name))
		zdtm_fail("%s: name \"%s\", want \"%s\"", who, comm, name);
	zdtm_check(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur != 200 || rl.rlim_max != 1000)
		zdtm_fail("%s: RLIMIT_NOFILE %llu/%llu, want 200/1000", who,
			  (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	zdtm_check(getrlimit(RLIMIT_STACK, &rl));
	if (rl.rlim_cur != 4 << 20)
		zdtm_fail("%s: RLIMIT_STACK soft %llu, want 4 MiB", who, (unsigned long long)rl.rlim_cur);
}

static void child(const char *cwd)
{
	gid_t groups[3] = { 0 }, want_groups[2] = { 1234, 2345 };
	uid_t r, e, s;
	gid_t rg, eg, sg;
	int sig = 0;

	zdtm_check(setgroups(2, want_groups));
	zdtm_check(setresgid(1000, 1001, 1002));
	zdtm_check(setresuid(1000, 1001, 1002));
	/* after the uid change: a change of credentials clears it */
	zdtm_check(prctl(PR_SET_PDEATHSIG, SIGTERM));
	prctl(PR_SET_NAME, "zdtm-child");
	zdtm_wait();

	check_common("child", 027, cwd, "zdtm-child");
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	if (r != 1000 || e != 1001 || s != 1002)
		zdtm_fail("child: uids %d/%d/%d, want 1000/1001/1002", r, e, s);
	if (rg != 1000 || eg != 1001 || sg != 1002)
		zdtm_fail("child: gids %d/%d/%d, want 1000/1001/1002", rg, eg, sg);
	if (getgroups(3, groups) != 2 || groups[0] != 1234 || groups[1] != 2345)
		zdtm_fail("child: supplementary groups changed");
	prctl(PR_GET_PDEATHSIG, &sig);
	if (sig != SIGTERM)
		zdtm_fail("child: parent-death signal %d, want SIGTERM", sig);
	_exit(0);
}

int main(void)
{
	struct rlimit nofile = { 200, 1000 }, stack = { 4 << 20, RLIM_INFINITY };
	char cwd[4096], buf[64] = { 0 };
	pid_t kid;
	int fd;

	zdtm_init("procstate");
	zdtm_path(cwd, sizeof(cwd), "procstate.d");
	mkdir(cwd, 0755);
	zdtm_check(chdir(cwd));
	if (!getcwd(cwd, sizeof(cwd)))
		zdtm_fail("getcwd");
	umask(027);
	prctl(PR_SET_NAME, "zdtm-state");
	zdtm_check(setrlimit(RLIMIT_NOFILE, &nofile));
	stack.rlim_max = RLIM_INFINITY;
	if (setrlimit(RLIMIT_STACK, &stack) < 0) {
		getrlimit(RLIMIT_STACK, &stack);
		stack.rlim_cur = 4 << 20;
		zdtm_check(setrlimit(RLIMIT_STACK, &stack));
	}
	fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0 || write(fd, "123", 3) != 3)
		zdtm_fail("oom_score_adj: %s", strerror(errno));
	close(fd);
	kid = fork();
	zdtm_check(kid);
	if (kid == 0)
		child(cwd);
	usleep(50000);
	zdtm_ready();
	zdtm_wait();

	check_common("root", 027, cwd, "zdtm-state");
	fd = open("/proc/self/oom_score_adj", O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0 || atoi(buf) != 123)
		zdtm_fail("oom_score_adj is %s, want 123", buf);
	close(fd);
	kill(kid, SIGUSR1);
	zdtm_reap(kid, "child");
	rmdir(cwd);
	zdtm_pass();
}
