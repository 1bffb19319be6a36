// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * counter: a busy loop that keeps one count in six general registers, one SSE
 * register and memory, checks every turn that they agree, and prints the count
 * now and then. A restore that loses a register, the xstate or a page breaks
 * the agreement; one that restarts the process resets the printed count.
 */
#include "zdtm.h"

static volatile uint64_t mem_count;

int main(void)
{
	uint64_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, printed = 0, at_ready = 0;
	double x = 0;

	zdtm_init("counter");
	for (;;) {
		a += 1, b += 2, c += 3, d += 5, e += 7, f += 11, x += 1.0;
		/* keep every value live in a register of its own */
		asm volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f), "+x"(x));
		mem_count++;
		if (b != 2 * a || c != 3 * a || d != 5 * a || e != 7 * a || f != 11 * a)
			zdtm_fail("registers disagree at %llu: %llu %llu %llu %llu %llu",
				  (unsigned long long)a, (unsigned long long)b,
				  (unsigned long long)c, (unsigned long long)d,
				  (unsigned long long)e, (unsigned long long)f);
		if (x != (double)a)
			zdtm_fail("xmm register %.0f disagrees with %llu", x, (unsigned long long)a);
		if (mem_count != a)
			zdtm_fail("memory count %llu disagrees with register count %llu",
				  (unsigned long long)mem_count, (unsigned long long)a);
		if ((a & ((1u << 25) - 1)) == 0) {
			printf("count %llu\n", (unsigned long long)a);
			printed = a;
			if (!at_ready) {
				at_ready = a;
				zdtm_ready();
			}
		}
		if (zdtm_usr1)
			break;
	}
	if (!at_ready || a < printed || printed < at_ready)
		zdtm_fail("count went backwards: now %llu, printed %llu, at ready %llu",
			  (unsigned long long)a, (unsigned long long)printed,
			  (unsigned long long)at_ready);
	printf("count %llu final\n", (unsigned long long)a);
	zdtm_pass();
}
