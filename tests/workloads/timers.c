// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * timers: an interval timer (ITIMER_REAL, every 30 ms, SIGALRM) and a POSIX
 * timer (CLOCK_MONOTONIC, every 20 ms, SIGRTMIN with a value) keep firing
 * while the workload waits. After SIGUSR1 both must still be armed with their
 * intervals, and each must fire at least 10 more times within 2 s.
 */
#include <sys/time.h>
#include "zdtm.h"

#define VALUE 777

static volatile int alrm, rt, rt_bad;

static void on_alrm(int sig) { (void)sig; alrm++; }

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (si->si_code != SI_TIMER || si->si_value.sival_int != VALUE)
		rt_bad++;
	rt++;
}

int main(void)
{
	struct itimerval itv = { { 0, 30000 }, { 0, 30000 } }, cur;
	struct itimerspec its = { { 0, 20000000 }, { 0, 20000000 } }, curs;
	struct sigevent sev;
	struct sigaction sa;
	timer_t tid;
	int a0, r0;
	int64_t t0;

	zdtm_init("timers");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alrm;
	sa.sa_flags = SA_RESTART;
	zdtm_check(sigaction(SIGALRM, &sa, NULL));
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	zdtm_check(sigaction(SIGRTMIN, &sa, NULL));
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN;
	sev.sigev_value.sival_int = VALUE;
	zdtm_check(timer_create(CLOCK_MONOTONIC, &sev, &tid));
	zdtm_check(timer_settime(tid, 0, &its, NULL));
	zdtm_check(setitimer(ITIMER_REAL, &itv, NULL));
	while (alrm < 3 || rt < 3)
		pause();
	zdtm_ready();
	zdtm_wait();

	zdtm_check(getitimer(ITIMER_REAL, &cur));
	if (cur.it_interval.tv_sec || cur.it_interval.tv_usec != 30000)
		zdtm_fail("itimer interval %ld.%06ld", (long)cur.it_interval.tv_sec,
			  (long)cur.it_interval.tv_usec);
	zdtm_check(timer_gettime(tid, &curs));
	if (curs.it_interval.tv_sec || curs.it_interval.tv_nsec != 20000000)
		zdtm_fail("posix timer interval %ld.%09ld", (long)curs.it_interval.tv_sec,
			  curs.it_interval.tv_nsec);
	a0 = alrm, r0 = rt;
	t0 = zdtm_now_ns(CLOCK_MONOTONIC);
	while ((alrm < a0 + 10 || rt < r0 + 10) && zdtm_now_ns(CLOCK_MONOTONIC) - t0 < 2000000000LL)
		usleep(1000);
	if (alrm < a0 + 10)
		zdtm_fail("SIGALRM fired %d times in 2 s after restore", alrm - a0);
	if (rt < r0 + 10)
		zdtm_fail("the POSIX timer fired %d times in 2 s after restore", rt - r0);
	if (rt_bad)
		zdtm_fail("%d timer signals had a wrong siginfo", rt_bad);
	zdtm_pass();
}
