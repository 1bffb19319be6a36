// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zombie: at dump time the root has one child that exited with code 42 and
 * was not waited for (a zombie) and one that is alive. After SIGUSR1 waiting
 * for the zombie gives exit code 42 at once, and the live child, told to go
 * on, exits 0.
 */
#include "zdtm.h"

int main(void)
{
	siginfo_t si;
	pid_t dead, live;
	int st;

	zdtm_init("zombie");
	dead = fork();
	zdtm_check(dead);
	if (dead == 0)
		_exit(42);
	live = fork();
	zdtm_check(live);
	if (live == 0) {
		zdtm_wait();
		_exit(0);
	}
	/* wait until it is a zombie, without reaping it */
	memset(&si, 0, sizeof(si));
	zdtm_check(waitid(P_PID, dead, &si, WEXITED | WNOWAIT));
	zdtm_ready();
	zdtm_wait();

	if (waitpid(dead, &st, WNOHANG) != dead)
		zdtm_fail("the zombie %d is not there to be reaped: %s", dead, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 42)
		zdtm_fail("the zombie's status is 0x%x, want exit 42", st);
	kill(live, SIGUSR1);
	zdtm_reap(live, "live child");
	zdtm_pass();
}
