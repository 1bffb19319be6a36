// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * threads: four threads, each with a TLS value and a private count, all adding
 * to one mutex-protected shared counter and napping in between (so the dump
 * catches some of them inside nanosleep). After SIGUSR1 each thread checks its
 * TLS value and its tid and that the counters still advance; main checks that
 * the shared counter equals the sum of the private ones.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include "zdtm.h"

#define NTHREADS 4
#define AFTER 50	/* turns each thread must make after SIGUSR1 */

static __thread uint64_t tls_magic;
static __thread int tls_index = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t shared;
static uint64_t own[NTHREADS];
static pid_t tids[NTHREADS];
static volatile int started;
static char why[NTHREADS][200];

static uint64_t magic(int i) { return 0xabcdef0000000000ULL + 0x1111ULL * (i + 1); }

static void *run(void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t shared_seen = 0, mine_seen = 0;
	int after = -1;
	struct timespec nap = { 0, 200000 };

	tls_index = i;
	tls_magic = magic(i);
	tids[i] = syscall(SYS_gettid);
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		pthread_mutex_lock(&lock);
		shared++;
		own[i]++;
		if (after >= 0 && after++ == 0) {
			shared_seen = shared;
			mine_seen = own[i];
		}
		pthread_mutex_unlock(&lock);
		if (tls_index != i || tls_magic != magic(i)) {
			snprintf(why[i], sizeof(why[i]), "thread %d: TLS is %d/%llx", i, tls_index,
				 (unsigned long long)tls_magic);
			return NULL;
		}
		if (after < 0 && zdtm_usr1)
			after = 0;
		if (after > AFTER)
			break;
		nanosleep(&nap, NULL);
	}
	if (syscall(SYS_gettid) != tids[i])
		snprintf(why[i], sizeof(why[i]), "thread %d: tid %ld, was %d", i,
			 (long)syscall(SYS_gettid), tids[i]);
	else if (own[i] <= mine_seen || shared <= shared_seen)
		snprintf(why[i], sizeof(why[i]), "thread %d: counters stopped", i);
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];
	sigset_t usr1;

	zdtm_init("threads");
	/* SIGUSR1 must wake main's sigsuspend, so no other thread may take it */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, run, (void *)(intptr_t)i))
			zdtm_fail("pthread_create");
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NTHREADS)
		usleep(1000);
	usleep(10000);
	zdtm_ready();
	zdtm_wait();
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NTHREADS; i++)
		if (why[i][0])
			zdtm_fail("%s", why[i]);
	uint64_t sum = 0;
	for (int i = 0; i < NTHREADS; i++)
		sum += own[i];
	if (sum != shared)
		zdtm_fail("shared counter %llu, sum of threads %llu", (unsigned long long)shared,
			  (unsigned long long)sum);
	zdtm_pass();
}
