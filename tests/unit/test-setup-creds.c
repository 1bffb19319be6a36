// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Process credentials and limits, each in a forked child (root needed):
 * rlimits and their error text, oomScoreAdj, user + capabilities in the
 * order setup.h documents (checked again after an execve, which is where
 * the sets really matter), noNewPrivileges, hostname without a UTS
 * namespace, joining namespaces by path, and id maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/config.h"
#include "runtime/setup.h"
#include "tap.h"

static char tmpdir[64];

static struct oci_config *parse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct oci_config *parse(const char *fmt, ...)
{
	_cleanup_free_ char *json = NULL;
	struct oci_config *c = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&json, fmt, ap) < 0)
		json = NULL;
	va_end(ap);
	if (!json || oci_config_parse(json, NULL, &c) < 0) {
		printf("# parse failed: %s\n", err_msg());
		return NULL;
	}
	return c;
}

#define CONFIG(proc, linux)                                                                    \
	"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/\"},\"process\":{\"cwd\":\"/\","  \
	"\"args\":[\"sh\"]," proc "},\"linux\":{" linux "}}"

/* Run fn in a child; the child's first output line (via pipe) goes into out. Returns the exit code. */
static int in_child(int (*fn)(struct oci_config *, FILE *), struct oci_config *c, char *out, size_t len)
{
	int fds[2], st;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		FILE *f = fdopen(fds[1], "w");
		int r = fn(c, f);
		fclose(f);
		_exit(r);
	}
	close(fds[1]);
	ssize_t n = read_full(fds[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	close(fds[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int do_rlimits(struct oci_config *c, FILE *out)
{
	struct rlimit rl;

	if (setup_rlimits(c->process) < 0) {
		fprintf(out, "%s", err_msg());
		return 1;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	fprintf(out, "%lu %lu", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
	return 0;
}

/* Without CAP_SYS_RESOURCE a hard limit cannot be raised. */
static int do_rlimits_unprivileged(struct oci_config *c, FILE *out)
{
	struct rlimit rl = { 200, 200 };
	cap_t caps = cap_get_proc();
	cap_value_t v = CAP_SYS_RESOURCE;

	setrlimit(RLIMIT_NOFILE, &rl);
	cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
	cap_set_proc(caps);
	cap_free(caps);
	return do_rlimits(c, out);
}

static void test_rlimits(void)
{
	struct oci_config *c = parse(CONFIG("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":300}]", "\"namespaces\":[]"));
	char out[512];

	is_int(in_child(do_rlimits, c, out, sizeof(out)), 0, "rlimit set");
	is_str(out, "100 300", "RLIMIT_NOFILE soft/hard applied");
	oci_config_free(c);

	c = parse(CONFIG("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":100000}]", "\"namespaces\":[]"));
	is_int(in_child(do_rlimits_unprivileged, c, out, sizeof(out)), 1, "raising the hard limit without CAP_SYS_RESOURCE fails");
	ok(strstr(out, "RLIMIT_NOFILE") && strstr(out, "hard 100000") && strstr(out, "hard limit is 200") &&
		   strstr(out, "CAP_SYS_RESOURCE"),
	   "the error names the rlimit, the values and the missing capability (%s)", out);
	oci_config_free(c);
}

static int do_oom(struct oci_config *c, FILE *out)
{
	_cleanup_free_ char *s = NULL;

	if (setup_oom_score_adj(c->process) < 0 || read_file("/proc/self/oom_score_adj", &s, NULL, 0) < 0)
		return 1;
	fprintf(out, "%s", s);
	return 0;
}

static int do_user_caps(struct oci_config *c, FILE *out)
{
	char path[128];
	gid_t groups[8];
	int n;

	if (setup_user(c->process) < 0 || setup_caps(c->process) < 0 || setup_no_new_privs(c->process) < 0) {
		fprintf(out, "setup: %s", err_msg());
		return 1;
	}
	n = getgroups(8, groups);
	snprintf(path, sizeof(path), "%s/owned", tmpdir);
	int chown_ok = chown(path, 1234, 1234) == 0;
	mode_t old = umask(0);
	fprintf(out, "uid=%d gid=%d groups=%d:%d,%d chown=%d umask=%03o nnp=%d", getuid(), getgid(), n,
		n > 0 ? (int)groups[0] : -1, n > 1 ? (int)groups[1] : -1, chown_ok, old,
		prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	fflush(out);
	/* the sets after execve are what the container's process gets */
	dup2(fileno(out), 1);
	execl("/bin/sh", "sh", "-c", "grep -E '^Cap(Eff|Bnd|Amb)' /proc/self/status | tr -s '\\t\\n' '  '", NULL);
	return 2;
}

static void test_user_caps(void)
{
	char out[1024], path[128];
	struct oci_config *c;

	snprintf(path, sizeof(path), "%s/owned", tmpdir);
	write_file(path, "x", 1, 0644);
	c = parse(CONFIG("\"user\":{\"uid\":1000,\"gid\":1001,\"additionalGids\":[2000,3000],\"umask\":23},"
			 "\"noNewPrivileges\":true,"
			 "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"effective\":[\"CAP_CHOWN\"],"
			 "\"permitted\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"inheritable\":[\"CAP_CHOWN\"],\"ambient\":[\"CAP_CHOWN\"]}",
			 "\"namespaces\":[]"));
	is_int(in_child(do_user_caps, c, out, sizeof(out)), 0, "user + caps + exec as uid 1000");
	ok(strstr(out, "uid=1000 gid=1001 groups=2:2000,3000") != NULL, "uid, gid, additionalGids (%s)", out);
	ok(strstr(out, "chown=1") != NULL, "CAP_CHOWN kept across setuid: chown works");
	ok(strstr(out, "umask=027") != NULL, "umask applied");
	ok(strstr(out, "nnp=1") != NULL, "no_new_privs set");
	ok(strstr(out, "CapEff: 0000000000000001") != NULL, "after exec: effective = ambient CAP_CHOWN");
	ok(strstr(out, "CapBnd: 0000000000000021") != NULL, "bounding = CAP_CHOWN|CAP_KILL");
	ok(strstr(out, "CapAmb: 0000000000000001") != NULL, "ambient = CAP_CHOWN");
	oci_config_free(c);

	c = parse(CONFIG("\"user\":{\"uid\":0,\"gid\":0},"
			 "\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
			 "\"permitted\":[\"CAP_KILL\"]}",
			 "\"namespaces\":[]"));
	is_int(in_child(do_user_caps, c, out, sizeof(out)), 0, "root without CAP_CHOWN");
	ok(strstr(out, "chown=0") != NULL, "without CAP_CHOWN even root cannot chown (%s)", out);
	ok(strstr(out, "CapEff: 0000000000000020") != NULL, "root's effective set after exec is cut by the bounding set");
	ok(strstr(out, "umask=022") != NULL, "default umask 022");
	oci_config_free(c);
}

static int do_hostname(struct oci_config *c, FILE *out)
{
	int r = setup_hostname(c);
	fprintf(out, "%s", r < 0 ? err_msg() : "ok");
	return r < 0;
}

/* A process holding a UTS namespace with a known hostname. */
static pid_t uts_holder(void)
{
	int fds[2];
	char b;
	if (pipe(fds) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		unshare(CLONE_NEWUTS);
		sethostname("iso-joined", 10);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(fds[0], &b, 1) != 1)
		b = 0;
	close(fds[0]);
	close(fds[1]);
	return pid;
}

static int do_join(struct oci_config *c, FILE *out)
{
	char host[64] = "";
	if (setup_namespaces_join(c) < 0) {
		fprintf(out, "%s", err_msg());
		return 1;
	}
	gethostname(host, sizeof(host));
	fprintf(out, "%s", host);
	return 0;
}

static void test_namespaces(void)
{
	char out[512];
	struct oci_config *c;
	pid_t holder = uts_holder();

	c = parse(CONFIG("\"user\":{\"uid\":0,\"gid\":0}", "\"namespaces\":[]"));
	c->hostname = strdup("iso-nouts");
	is_int(in_child(do_hostname, c, out, sizeof(out)), 1, "hostname without a UTS namespace fails");
	ok(strstr(out, "UTS") != NULL, "the error says why (%s)", out);
	oci_config_free(c);

	c = parse(CONFIG("\"user\":{\"uid\":0,\"gid\":0}", "\"namespaces\":[{\"type\":\"uts\",\"path\":\"/proc/%d/ns/uts\"}]"), holder);
	is_int(in_child(do_join, c, out, sizeof(out)), 0, "joining a UTS namespace by path");
	is_str(out, "iso-joined", "the joined namespace's hostname is seen");
	oci_config_free(c);

	c = parse(CONFIG("\"user\":{\"uid\":0,\"gid\":0}", "\"namespaces\":[{\"type\":\"uts\",\"path\":\"/proc/%d/ns/net\"}]"), holder);
	is_int(in_child(do_join, c, out, sizeof(out)), 1, "a net namespace given as uts is refused");
	ok(strstr(out, "not a uts namespace") != NULL, "the error names the type (%s)", out);
	oci_config_free(c);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
}

static void test_id_maps(void)
{
	int fds[2];
	char b, path[64];
	_cleanup_free_ char *uid_map = NULL, *gid_map = NULL;
	struct oci_config *c = parse(CONFIG("\"user\":{\"uid\":0,\"gid\":0}",
		"\"namespaces\":[{\"type\":\"user\"}],"
		"\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":1000},{\"containerID\":1000,\"hostID\":200000,\"size\":10}],"
		"\"gidMappings\":[{\"containerID\":0,\"hostID\":300000,\"size\":65536}]"));

	if (pipe(fds) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[1]);
		unshare(CLONE_NEWUSER);
		if (read(fds[0], &b, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[0]);
	/* wait until the child is in its new user namespace */
	for (int i = 0; i < 100; i++) {
		char self[64], child[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
		ssize_t a = readlink("/proc/self/ns/user", self, sizeof(self) - 1);
		ssize_t n = readlink(path, child, sizeof(child) - 1);
		if (a > 0 && n > 0 && (a != n || memcmp(self, child, n)))
			break;
		usleep(10000);
	}
	is_int(setup_write_id_maps(pid, c), 0, "setup_write_id_maps (%s)", err_msg());
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	read_file(path, &uid_map, NULL, 0);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	read_file(path, &gid_map, NULL, 0);
	ok(uid_map && strstr(uid_map, "100000") && strstr(uid_map, "200000") && strstr(uid_map, "10\n"),
	   "uid_map has both ranges");
	ok(gid_map && strstr(gid_map, "300000") && strstr(gid_map, "65536"), "gid_map written");
	close(fds[1]);
	waitpid(pid, NULL, 0);
	oci_config_free(c);
}

int main(void)
{
	char out[64];
	struct oci_config *c;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-setup-creds.XXXXXX");
	if (!mkdtemp(tmpdir) || chmod(tmpdir, 0755) < 0)
		return 1;
	test_rlimits();
	c = parse(CONFIG("\"oomScoreAdj\":432", "\"namespaces\":[]"));
	is_int(in_child(do_oom, c, out, sizeof(out)), 0, "oomScoreAdj");
	is_str(out, "432", "oom_score_adj written");
	oci_config_free(c);
	test_user_caps();
	test_namespaces();
	test_id_maps();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return done_testing();
}
