// SPDX-License-Identifier: GPL-2.0-or-later
/* mem_prefault: the prefaulted part of a buffer is resident and zero before
 * its first use, the rest is left to the allocator. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/mem.h"
#include "tap.h"

#define PG 4096UL

static size_t resident(void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(PG - 1);
	size_t n = ((uintptr_t)p + len - a + PG - 1) / PG, r = 0;
	unsigned char *v = malloc(n);

	if (!v || mincore((void *)a, n * PG, v) < 0) {
		free(v);
		return (size_t)-1;
	}
	for (size_t i = 0; i < n; i++)
		r += v[i] & 1;
	free(v);
	return r;
}

int main(void)
{
	/* large enough that malloc maps it apart: untouched pages stay out */
	size_t len = 8UL << 20, hot = 1UL << 20;
	uint8_t *p = malloc(len);

	ok(p != NULL, "8 MiB");
	mem_prefault(p, hot);
	size_t in_hot = resident(p, hot), in_cold = resident(p + hot + PG, len - hot - PG);
	ok(in_hot >= hot / PG, "the hot MiB is resident (%zu pages)", in_hot);
	ok(in_cold < 16, "the cold 7 MiB is not (%zu pages)", in_cold);
	size_t nz = 0;
	for (size_t i = 0; i < hot; i++)
		nz += p[i] != 0;
	is_int(nz, 0, "the hot part reads zeros");
	free(p);

	return done_testing();
}
