// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * forker: a tree of five processes across two sessions and four process
 * groups. root R (a session leader when started with setsid) has children
 * A and C; A calls setsid() and forks B, which makes a group of its own;
 * C makes a group of its own and forks D, which moves back into R's group.
 * Each remembers its pid, ppid, pgid and sid and checks them after SIGUSR1,
 * which every process forwards to its children before checking. R's parent
 * is not part of the tree (after restore it is the new namespace's pid 1),
 * so R does not check its ppid.
 */
#include "zdtm.h"

struct ids { pid_t pid, ppid, pgid, sid; };

static struct ids ids_now(void)
{
	struct ids i = { getpid(), getppid(), getpgid(0), getsid(0) };
	return i;
}

static void check_ids(const char *role, struct ids was)
{
	struct ids now = ids_now();

	if (was.ppid == -1)
		now.ppid = -1;
	if (memcmp(&now, &was, sizeof(now)))
		zdtm_fail("%s: pid/ppid/pgid/sid %d/%d/%d/%d, were %d/%d/%d/%d", role,
			  now.pid, now.ppid, now.pgid, now.sid, was.pid, was.ppid, was.pgid, was.sid);
}

/* Fork a child that runs fn; return once it has set itself up (closed the pipe). */
static pid_t spawn(void (*fn)(pid_t), pid_t arg)
{
	int p[2];
	char c;
	pid_t pid;

	zdtm_check(pipe2(p, O_CLOEXEC));
	pid = fork();
	zdtm_check(pid);
	if (pid == 0) {
		close(p[0]);
		fn(arg);	/* closes p[1] by calling ready_child() */
		_exit(1);
	}
	close(p[1]);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	close(p[0]);
	return pid;
}

/* Every fd above stderr in a child is its half of a spawn() pipe. */
static void ready_child(void)
{
	for (int fd = 3; fd < 64; fd++)
		close(fd);
}

static void wait_and_check(const char *role, struct ids was, pid_t *kids, const char **names, int n)
{
	ready_child();
	zdtm_wait();
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGUSR1);
	check_ids(role, was);
	for (int i = 0; i < n; i++)
		zdtm_reap(kids[i], names[i]);
}

static void proc_b(pid_t unused)
{
	(void)unused;
	zdtm_check(setpgid(0, 0));
	wait_and_check("B", ids_now(), NULL, NULL, 0);
	_exit(0);
}

static void proc_a(pid_t unused)
{
	pid_t kid;
	const char *name = "B";

	(void)unused;
	zdtm_check(setsid());
	kid = spawn(proc_b, 0);
	wait_and_check("A", ids_now(), &kid, &name, 1);
	_exit(0);
}

static void proc_d(pid_t root_pgid)
{
	zdtm_check(setpgid(0, root_pgid));
	wait_and_check("D", ids_now(), NULL, NULL, 0);
	_exit(0);
}

static void proc_c(pid_t root_pgid)
{
	pid_t kid;
	const char *name = "D";

	zdtm_check(setpgid(0, 0));
	kid = spawn(proc_d, root_pgid);
	wait_and_check("C", ids_now(), &kid, &name, 1);
	_exit(0);
}

int main(void)
{
	pid_t kids[2];
	const char *names[2] = { "A", "C" };
	struct ids was;

	zdtm_init("forker");
	if (getsid(0) != getpid())
		setsid();	/* fails harmlessly when already a group leader */
	kids[0] = spawn(proc_a, 0);
	kids[1] = spawn(proc_c, getpgid(0));
	was = ids_now();
	was.ppid = -1;
	printf("forker: root %d A %d C %d\n", was.pid, kids[0], kids[1]);
	zdtm_ready();
	zdtm_wait();
	for (int i = 0; i < 2; i++)
		kill(kids[i], SIGUSR1);
	check_ids("R", was);
	for (int i = 0; i < 2; i++)
		zdtm_reap(kids[i], names[i]);
	zdtm_pass();
}
