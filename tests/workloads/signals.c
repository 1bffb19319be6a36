// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * signals: SA_SIGINFO handlers for SIGUSR2 and SIGHUP (SIGHUP's on an
 * alternate stack), SIGUSR2 and SIGWINCH blocked, and SIGUSR2 queued with a
 * value while blocked. After SIGUSR1: the handlers, flags, altstack and mask
 * are as they were; raising SIGHUP runs its handler on the altstack; SIGUSR2
 * is pending and unblocking delivers it exactly once, with its value.
 */
#include "zdtm.h"

#define ALTSTACK_SIZE (64 * 1024)
#define VALUE 4242

static char altstack[ALTSTACK_SIZE] __attribute__((aligned(16)));
static volatile int usr2_count, usr2_value, usr2_code, hup_count, hup_on_altstack;

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	usr2_count++;
	usr2_value = si->si_value.sival_int;
	usr2_code = si->si_code;
}

static void on_hup(int sig, siginfo_t *si, void *uc)
{
	char here;

	(void)sig, (void)si, (void)uc;
	hup_count++;
	hup_on_altstack = &here >= altstack && &here < altstack + ALTSTACK_SIZE;
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	zdtm_check(sigaction(sig, &sa, NULL));
}

static void check_action(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	zdtm_check(sigaction(sig, NULL, &sa));
	if (sa.sa_sigaction != fn)
		zdtm_fail("signal %d: handler %p, want %p", sig, (void *)sa.sa_sigaction, (void *)fn);
	if ((sa.sa_flags & (SA_SIGINFO | flags)) != (SA_SIGINFO | flags))
		zdtm_fail("signal %d: flags 0x%x lack 0x%x", sig, sa.sa_flags, SA_SIGINFO | flags);
	if (!sigismember(&sa.sa_mask, SIGTERM))
		zdtm_fail("signal %d: sa_mask lost SIGTERM", sig);
}

int main(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = ALTSTACK_SIZE }, now_ss;
	sigset_t block, cur, pend;
	union sigval v = { .sival_int = VALUE };

	zdtm_init("signals");
	zdtm_check(sigaltstack(&ss, NULL));
	install(SIGUSR2, on_usr2, SA_RESTART);
	install(SIGHUP, on_hup, SA_ONSTACK);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGWINCH);
	zdtm_check(sigprocmask(SIG_BLOCK, &block, NULL));
	zdtm_check(sigqueue(getpid(), SIGUSR2, v));
	zdtm_ready();
	zdtm_wait();

	check_action(SIGUSR2, on_usr2, SA_RESTART);
	check_action(SIGHUP, on_hup, SA_ONSTACK);
	zdtm_check(sigaltstack(NULL, &now_ss));
	if (now_ss.ss_sp != altstack || now_ss.ss_size != ALTSTACK_SIZE || now_ss.ss_flags)
		zdtm_fail("altstack %p+%zu flags %d, want %p+%d", now_ss.ss_sp, now_ss.ss_size,
			  now_ss.ss_flags, (void *)altstack, ALTSTACK_SIZE);
	zdtm_check(sigprocmask(SIG_BLOCK, NULL, &cur));
	if (!sigismember(&cur, SIGUSR2) || !sigismember(&cur, SIGWINCH) || sigismember(&cur, SIGHUP))
		zdtm_fail("signal mask changed");
	zdtm_check(sigpending(&pend));
	if (!sigismember(&pend, SIGUSR2))
		zdtm_fail("SIGUSR2 is no longer pending");
	if (usr2_count)
		zdtm_fail("SIGUSR2 was delivered while blocked");
	raise(SIGHUP);
	if (hup_count != 1 || !hup_on_altstack)
		zdtm_fail("SIGHUP handler ran %d times, on altstack: %d", hup_count, hup_on_altstack);
	zdtm_check(sigprocmask(SIG_UNBLOCK, &block, NULL));
	zdtm_check(sigprocmask(SIG_BLOCK, &block, NULL));
	zdtm_check(sigprocmask(SIG_UNBLOCK, &block, NULL));
	if (usr2_count != 1)
		zdtm_fail("pending SIGUSR2 delivered %d times", usr2_count);
	if (usr2_code != SI_QUEUE || usr2_value != VALUE)
		zdtm_fail("SIGUSR2 siginfo: code %d value %d, want %d %d", usr2_code, usr2_value,
			  SI_QUEUE, VALUE);
	zdtm_pass();
}
