// SPDX-License-Identifier: GPL-2.0-or-later
/* Syscall injection into a stopped child: one syscall at a gadget, and the
 * batch gadget (ptrace.h), which runs many with one stop, stores each
 * result, stops at the first failure and counts only what succeeded. The
 * child's registers come back untouched: it goes on with its own read().
 * Needs root (ptrace, /proc/PID/mem). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cr/ptrace.h"
#include "tap.h"

#define PG 4096UL

int main(void)
{
	int go[2], back[2];
	unsigned char *code = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct inject_entry *table = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (code == MAP_FAILED || table == MAP_FAILED || pipe(go) < 0 || pipe(back) < 0)
		return 1;
	memcpy(code, INJECT_GADGET_BYTES, INJECT_GADGET_LEN);
	memcpy(code + 64, INJECT_BATCH_BYTES, INJECT_BATCH_LEN);
	if (mprotect(code, PG, PROT_READ | PROT_EXEC) < 0)
		return 1;
	pid_t child = fork();
	if (child == 0) {
		char b;
		/* blocked here while injected into; the read goes on after */
		ssize_t n = read(go[0], &b, 1);
		_exit(n == 1 && b == 'x' && write(back[1], "y", 1) == 1 ? 0 : 3);
	}
	is_int(ptrace_seize_stop(child, PTRACE_O_EXITKILL), 0, "child seized and stopped");

	long ret = 0;
	is_int(inject_syscall(child, (unsigned long)code, SYS_getpid, (unsigned long[6]){ 0 }, &ret), 0,
	       "one injected syscall");
	is_int(ret, child, "getpid() in the child is its pid");

	/* getpid, getppid, close(-1) fails, getpid never runs */
	struct inject_entry e[4] = {
		{ .nr = SYS_getpid, .ret = 1 },
		{ .nr = SYS_getppid, .ret = 1 },
		{ .nr = SYS_close, .a = { -1UL }, .ret = 1 },
		{ .nr = SYS_getpid, .ret = 1 },
	};
	unsigned long done = 99;
	is_int(ptrace_poke(child, (unsigned long)table, e, sizeof(e)), 0, "table written");
	is_int(inject_batch(child, (unsigned long)code + 64, (unsigned long)table, 4, &done), 0, "a batch runs");
	is_int(done, 2, "it stops at the failing call, counting the two before");
	is_int(ptrace_peek(child, (unsigned long)table, e, sizeof(e)), 0, "table read back");
	is_int(e[0].ret, child, "first result: getpid");
	is_int(e[1].ret, getpid(), "second result: getppid");
	is_int(e[2].ret, -EBADF, "the failed call's result is there: -EBADF");
	is_int(e[3].ret, 1, "the call after the failure never ran");

	/* all succeed; an empty batch runs nothing */
	struct inject_entry f[3] = { { .nr = SYS_getpid }, { .nr = SYS_getpid }, { .nr = SYS_getppid } };
	is_int(ptrace_poke(child, (unsigned long)table, f, sizeof(f)), 0, "second table written");
	is_int(inject_batch(child, (unsigned long)code + 64, (unsigned long)table, 3, &done), 0, "a batch of three");
	is_int(done, 3, "all three counted");
	is_int(inject_batch(child, (unsigned long)code + 64, (unsigned long)table, 0, &done), 0, "an empty batch");
	is_int(done, 0, "nothing counted");

	/* its own read() goes on: registers and the interrupted call restored */
	is_int(ptrace_detach(child, 0), 0, "detached");
	ok(write(go[1], "x", 1) == 1, "the child is woken");
	char b = 0;
	ok(read(back[0], &b, 1) == 1 && b == 'y', "its read() returned what was written");
	int st = -1;
	waitpid(child, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "and it exits 0 (status 0x%x)", st);
	return done_testing();
}
