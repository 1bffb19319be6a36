// SPDX-License-Identifier: GPL-2.0-or-later
/* hooks_run: state on stdin, args and env, order, failure, timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/config.h"
#include "runtime/hooks.h"
#include "tap.h"

static char dir[64];

static char *path_in(const char *name)
{
	static char buf[4][128];
	static int n;
	char *b = buf[n++ % 4];
	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

static char *slurp(const char *path)
{
	char *t = NULL;
	if (read_file(path, &t, NULL, 0) < 0)
		return NULL;
	return t;
}

/* A hook running "sh -c script" with optional env. */
static struct oci_hook sh_hook(char **argv, char **env, int timeout)
{
	return (struct oci_hook){ .path = "/bin/sh", .args = argv, .env = env,
				  .timeout = timeout, .has_timeout = timeout > 0 };
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_stdin(void)
{
	const char *state = "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"h1\",\"status\":\"created\",\"pid\":7,\"bundle\":\"/b\"}";
	char script[256];
	snprintf(script, sizeof(script), "cat > %s", path_in("stdin"));
	char *argv[] = { "sh", "-c", script, NULL };
	struct oci_hook h = sh_hook(argv, NULL, 10);

	is_int(hooks_run(&h, 1, state, "prestart"), 0, "stdin hook runs (%s)", err_msg());
	_cleanup_free_ char *got = slurp(path_in("stdin"));
	is_str(got, state, "the hook read the state on stdin");
}

static void test_args_env(void)
{
	char script[256];
	snprintf(script, sizeof(script), "echo \"$X:$0:$1:${HOME-unset}\" > %s", path_in("argenv"));
	char *argv[] = { "sh", "-c", script, "zero", "one", NULL };
	char *env[] = { "X=hello", NULL };
	struct oci_hook h = sh_hook(argv, env, 0);

	is_int(hooks_run(&h, 1, "{}", "poststart"), 0, "args/env hook runs (%s)", err_msg());
	_cleanup_free_ char *got = slurp(path_in("argenv"));
	is_str(got, "hello:zero:one:unset\n", "args passed, env replaced");

	setenv("SKUA_HOOK_TEST", "inherited", 1);
	snprintf(script, sizeof(script), "echo \"$SKUA_HOOK_TEST\" > %s", path_in("inherit"));
	char *argv2[] = { "sh", "-c", script, NULL };
	h = sh_hook(argv2, NULL, 0);
	is_int(hooks_run(&h, 1, "{}", "poststart"), 0, "no env: hook runs");
	_cleanup_free_ char *got2 = slurp(path_in("inherit"));
	is_str(got2, "inherited\n", "no env: the caller's environment is inherited");

	/* no args: argv is just the path */
	struct oci_hook t = { .path = "/bin/true" };
	is_int(hooks_run(&t, 1, "{}", "prestart"), 0, "hook without args");
}

static void test_order_and_failure(void)
{
	char s1[256], s2[256], s3[256];
	snprintf(s1, sizeof(s1), "echo 1 >> %s", path_in("order"));
	snprintf(s2, sizeof(s2), "echo 2 >> %s; echo some output; echo oops >&2; exit 3", path_in("order"));
	snprintf(s3, sizeof(s3), "echo 3 >> %s", path_in("order"));
	char *a1[] = { "sh", "-c", s1, NULL }, *a2[] = { "sh", "-c", s2, NULL }, *a3[] = { "sh", "-c", s3, NULL };
	struct oci_hook hooks[] = { sh_hook(a1, NULL, 0), sh_hook(a2, NULL, 5), sh_hook(a3, NULL, 0) };

	err_clear();
	int r = hooks_run(hooks, 3, "{}", "createRuntime");
	ok(r < 0, "a failing hook fails the run");
	ok(strstr(err_msg(), "createRuntime hook #1 (/bin/sh): exit status 3") != NULL,
	   "message names kind, index, path and status: %s", err_msg());
	ok(strstr(err_msg(), "stderr: oops") && strstr(err_msg(), "stdout: some output"),
	   "message carries the hook's output");
	_cleanup_free_ char *got = slurp(path_in("order"));
	is_str(got, "1\n2\n", "hooks ran in order and stopped at the failure");
}

static void test_timeout(void)
{
	char *argv[] = { "sh", "-c", "sleep 30", NULL };
	struct oci_hook h = sh_hook(argv, NULL, 1);
	double t0 = now();

	err_clear();
	int r = hooks_run(&h, 1, "{}", "poststop");
	double dt = now() - t0;
	ok(r < 0, "a hook past its timeout fails");
	ok(dt >= 0.9 && dt < 5, "killed at its timeout (%.2f s)", dt);
	ok(strstr(err_msg(), "poststop hook #0 (/bin/sh): timed out after 1 s") != NULL, "timeout message: %s",
	   err_msg());
}

static void test_odd_hooks(void)
{
	struct oci_hook missing = { .path = "/nonexistent/hook" };
	err_clear();
	ok(hooks_run(&missing, 1, "{}", "prestart") < 0, "missing hook binary fails");
	ok(strstr(err_msg(), "exit status 127") && strstr(err_msg(), "No such file"),
	   "missing binary: %s", err_msg());

	char *ak[] = { "sh", "-c", "kill -9 $$", NULL };
	struct oci_hook killed = sh_hook(ak, NULL, 0);
	err_clear();
	ok(hooks_run(&killed, 1, "{}", "startContainer") < 0, "hook killed by a signal fails");
	ok(strstr(err_msg(), "killed by signal 9") != NULL, "signal message: %s", err_msg());

	/* a big state the hook never reads must not block us */
	size_t n = 1 << 20;
	_cleanup_free_ char *big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	char *ae[] = { "sh", "-c", "exit 0", NULL };
	struct oci_hook noread = sh_hook(ae, NULL, 5);
	is_int(hooks_run(&noread, 1, big, "prestart"), 0, "hook ignoring 1 MiB of stdin (%s)", err_msg());

	/* a background grandchild holding stdout must not delay us */
	char *ab[] = { "sh", "-c", "sleep 5 & exit 0", NULL };
	struct oci_hook bg = sh_hook(ab, NULL, 10);
	double t0 = now();
	is_int(hooks_run(&bg, 1, "{}", "poststart"), 0, "hook leaving a background child");
	ok(now() - t0 < 2, "returns when the hook exits, not when its child does");

	is_int(hooks_run(NULL, 0, "{}", "prestart"), 0, "no hooks");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-oci-hooks.XXXXXX");
	if (!ok(mkdtemp(dir) != NULL, "mkdtemp"))
		return done_testing();
	test_stdin();
	test_args_env();
	test_order_and_failure();
	test_timeout();
	test_odd_hooks();
	unlink(path_in("stdin"));
	unlink(path_in("argenv"));
	unlink(path_in("inherit"));
	unlink(path_in("order"));
	rmdir(dir);
	return done_testing();
}
