// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * epoll: an event loop over a periodic timerfd (every 20 ms) and an eventfd.
 * The SIGUSR1 handler writes 5 to the eventfd. After SIGUSR1 the loop must see
 * the eventfd hold exactly 5, the timer keep its 20 ms interval, and at least
 * 5 more ticks arrive within 2 s.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include "zdtm.h"

#define PERIOD_NS 20000000L

static int efd = -1;

static void kick(void)
{
	uint64_t v = 5;

	if (write(efd, &v, sizeof(v)) != sizeof(v))
		_exit(2);
}

int main(void)
{
	struct itimerspec its = { { 0, PERIOD_NS }, { 0, PERIOD_NS } }, cur;
	struct epoll_event ev, evs[4];
	uint64_t ticks = 0, ticks_at_kick = 0, empty = 0, v;
	int64_t kicked_at = 0;
	int ep, tfd, n, ready = 0;

	zdtm_init("epoll");
	ep = epoll_create1(0);
	/* non-blocking: a restored timerfd that epoll calls ready but that has
	 * no tick must show up as a failure with details, not as a hang */
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	efd = eventfd(0, EFD_NONBLOCK);
	if (ep < 0 || tfd < 0 || efd < 0)
		zdtm_fail("setup: %s", strerror(errno));
	zdtm_check(timerfd_settime(tfd, 0, &its, NULL));
	ev.events = EPOLLIN;
	ev.data.fd = tfd;
	zdtm_check(epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev));
	ev.data.fd = efd;
	zdtm_check(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	zdtm_usr1_hook = kick;

	for (;;) {
		n = epoll_wait(ep, evs, 4, 1000);
		if (n < 0 && errno != EINTR)
			zdtm_fail("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == tfd) {
				if (read(tfd, &v, sizeof(v)) == sizeof(v))
					ticks += v;
				else if (errno == EAGAIN)
					empty++;
				else
					zdtm_fail("read timerfd: %s", strerror(errno));
			} else if (evs[i].data.fd == efd) {
				if (read(efd, &v, sizeof(v)) != sizeof(v))
					zdtm_fail("read eventfd: %s", strerror(errno));
				if (kicked_at)
					zdtm_fail("eventfd fired twice");
				if (v != 5)
					zdtm_fail("eventfd held %llu, want 5", (unsigned long long)v);
				kicked_at = zdtm_now_ns(CLOCK_MONOTONIC);
				ticks_at_kick = ticks;
			} else {
				zdtm_fail("epoll returned unknown data %llx",
					  (unsigned long long)evs[i].data.u64);
			}
		}
		if (!ready && ticks >= 3) {
			ready = 1;
			zdtm_ready();
		}
		if (zdtm_usr1 && !kicked_at && n == 0)
			zdtm_fail("SIGUSR1 came but the eventfd never woke epoll");
		if (kicked_at && ticks >= ticks_at_kick + 5)
			break;
		if (kicked_at && zdtm_now_ns(CLOCK_MONOTONIC) - kicked_at > 2000000000LL) {
			timerfd_gettime(tfd, &cur);
			v = 0;
			n = read(tfd, &v, sizeof(v));
			zdtm_fail("only %llu ticks in 2 s after restore; timer next in %lld.%09ld s, "
				  "interval %lld.%09ld s, a read gives %d/%llu, %llu empty wakeups",
				  (unsigned long long)(ticks - ticks_at_kick),
				  (long long)cur.it_value.tv_sec, cur.it_value.tv_nsec,
				  (long long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec, n,
				  (unsigned long long)v, (unsigned long long)empty);
		}
	}
	zdtm_check(timerfd_gettime(tfd, &cur));
	if (cur.it_interval.tv_sec || cur.it_interval.tv_nsec != PERIOD_NS)
		zdtm_fail("timer interval is %lld.%09ld s", (long long)cur.it_interval.tv_sec,
			  cur.it_interval.tv_nsec);
	zdtm_pass();
}
