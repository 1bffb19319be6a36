// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sleeper [SECONDS]: one nanosleep of 10 s (default) that the dump interrupts,
 * resumed with the remaining time whenever it returns EINTR, as a careful
 * program does. The sleep must end no sooner than SECONDS after it began
 * (CLOCK_REALTIME: the wall clock also counts the downtime) and must not
 * start over after restore. The test waits >= 2 s between "ready" and the
 * dump and sends SIGUSR1 soon after restore, so a sleep that started over
 * wakes about SECONDS after SIGUSR1 and a resumed one at least 1 s sooner.
 */
#include "zdtm.h"

int main(int argc, char **argv)
{
	long secs = argc > 1 ? atol(argv[1]) : 10;
	struct timespec req = { secs, 0 }, rem;
	int64_t start, usr1_at = 0, woke, slept;
	int r;

	zdtm_init("sleeper");
	start = zdtm_now_ns(CLOCK_REALTIME);
	zdtm_ready();
	while ((r = nanosleep(&req, &rem)) < 0 && errno == EINTR) {
		if (zdtm_usr1 && !usr1_at)
			usr1_at = zdtm_now_ns(CLOCK_REALTIME);
		req = rem;
	}
	if (r < 0)
		zdtm_fail("nanosleep: %s", strerror(errno));
	woke = zdtm_now_ns(CLOCK_REALTIME);
	if (!usr1_at) {
		zdtm_wait();
		usr1_at = zdtm_now_ns(CLOCK_REALTIME);
	}
	slept = woke - start;
	printf("sleeper: slept %.3f s, woke %.3f s after SIGUSR1\n", slept / 1e9,
	       (woke - usr1_at) / 1e9);
	if (slept < secs * 1000000000LL)
		zdtm_fail("woke after %.3f s of a %ld s sleep", slept / 1e9, secs);
	if (woke - usr1_at > (secs - 1) * 1000000000LL)
		zdtm_fail("sleep started over after restore: woke %.3f s after SIGUSR1",
			  (woke - usr1_at) / 1e9);
	zdtm_pass();
}
