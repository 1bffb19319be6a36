/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For the dump tests' forked children: each test file's shared page has a
 * counter the child bumps in its loop and a ready flag it sets once set up.
 */
#ifndef SKUA_TEST_CHILD_SYNC_H
#define SKUA_TEST_CHILD_SYNC_H

#include <stdbool.h>
#include <unistd.h>

/* Up to 5 s for the child to say it is ready. */
static inline void child_wait_ready(volatile int *ready)
{
	for (int i = 0; i < 5000 && !*ready; i++)
		usleep(1000);
}

/* The counter moves within a second (a loaded host may not run it at once). */
static inline bool child_advancing(volatile unsigned long *counter)
{
	unsigned long a = *counter;
	for (int i = 0; i < 100; i++) {
		usleep(10000);
		if (*counter != a)
			return true;
	}
	return false;
}

#endif
