// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroups module, against the real cgroup filesystems of this host (root).
 * Every cgroup lives under /skua-unit-<pid>/ and is removed at the end.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cgroups/cgroup.h"
#include "tap.h"

static const char *v1_ctrls[] = { "memory", "pids", "freezer", "cpuset", "cpu", "devices", "blkio" };

static bool dir_exists(const char *root, const char *path)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", root, path);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *read_cg(const char *root, const char *path, const char *file)
{
	char p[PATH_MAX];
	char *s = NULL;

	snprintf(p, sizeof(p), "%s%s/%s", root, path, file);
	if (read_file(p, &s, NULL, 0) < 0)
		return strdup("(unreadable)");
	s[strcspn(s, "\n")] = '\0';
	return s;
}

/* A child that counts as fast as it can in shared memory until killed. */
static pid_t spawn_counter(volatile unsigned long *counter)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			(*counter)++;
	}
	return pid;
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void test_paths(void)
{
	struct cgroup *cg = NULL;

	ok(cgroup_new(NULL, "abc", false, &cg) == 0, "default path");
	is_str(cg ? cgroup_path(cg) : NULL, "/skua/abc", "NULL cgroupsPath is /skua/<id>");
	cgroup_free(TAKE_PTR(cg));
	ok(cgroup_new("foo/bar/", "x", false, &cg) == 0, "relative path");
	is_str(cg ? cgroup_path(cg) : NULL, "/foo/bar", "relative path goes under / without trailing slash");
	cgroup_free(TAKE_PTR(cg));
	ok(cgroup_new("/abs/p", "x", false, &cg) == 0, "absolute path");
	is_str(cg ? cgroup_path(cg) : NULL, "/abs/p", "absolute path kept");
	cgroup_free(TAKE_PTR(cg));
	ok(cgroup_new("system.slice:skua:abc", "abc", true, &cg) == 0, "systemd path");
	is_str(cg ? cgroup_path(cg) : NULL, "/system.slice/skua-abc.scope", "systemd slice:prefix:name");
	cgroup_free(TAKE_PTR(cg));
	ok(cgroup_new("a-b.slice:p:n", "n", true, &cg) == 0, "nested slice");
	is_str(cg ? cgroup_path(cg) : NULL, "/a.slice/a-b.slice/p-n.scope", "nested slice expands");
	cgroup_free(TAKE_PTR(cg));
	ok(cgroup_new(NULL, "id9", true, &cg) == 0, "systemd default");
	is_str(cg ? cgroup_path(cg) : NULL, "/system.slice/skua-id9.scope", "systemd default path");
	cgroup_free(TAKE_PTR(cg));
	ok(cgroup_new("/a/../../etc", "x", false, &cg) < 0, "'..' is refused");
	ok(cgroup_new("bad", "x", true, &cg) < 0 && strstr(err_msg(), "slice:prefix:name"),
	   "systemd path without colons is refused: %s", err_msg());
}

static void test_detect(void)
{
	struct stat st;
	bool hybrid = stat("/sys/fs/cgroup/unified/cgroup.procs", &st) == 0 &&
		      stat("/sys/fs/cgroup/memory/tasks", &st) == 0;

	if (hybrid)
		is_int(cgroup_detect_mode(), CGROUP_MODE_HYBRID, "hybrid host detected");
	else
		ok(1, "# SKIP host is not hybrid");
}

/* A checkpoint's freeze (cgroup_freeze_brief): on this hybrid host through
 * the unified tree's cgroup.freeze, the v1 freezer left alone; a container
 * paused through v1 stays with v1. cgroup_thaw undoes either. */
static void test_freeze_brief(struct cgroup *cg, const char *path, volatile unsigned long *counter)
{
	const char *uni = "/sys/fs/cgroup/unified", *v1 = "/sys/fs/cgroup/freezer";
	bool frozen = false;
	char *s;
	int r = cgroup_freeze_brief(cg);

	ok(r == 0, "cgroup_freeze_brief: %s", r ? err_msg() : "ok");
	ok(cgroup_is_frozen(cg, &frozen) == 0 && frozen, "is_frozen after a brief freeze");
	unsigned long c1 = *counter;
	usleep(100000);
	is_int(*counter, c1, "counter does not advance while briefly frozen");
	s = read_cg(uni, path, "cgroup.freeze");
	is_str(s, "1", "the brief freeze went through the unified tree");
	free(s);
	s = read_cg(v1, path, "freezer.state");
	is_str(s, "THAWED", "the v1 freezer was not touched");
	free(s);
	r = cgroup_thaw(cg);
	ok(r == 0 && cgroup_is_frozen(cg, &frozen) == 0 && !frozen, "thawed: %s", r ? err_msg() : "ok");
	c1 = *counter;
	usleep(50000);
	ok(*counter > c1, "counter advances after the brief freeze");

	ok(cgroup_freeze(cg) == 0, "paused through v1");
	r = cgroup_freeze_brief(cg);
	ok(r == 0 && cgroup_is_frozen(cg, &frozen) == 0 && frozen, "a brief freeze of a paused cgroup: %s",
	   r ? err_msg() : "ok");
	s = read_cg(uni, path, "cgroup.freeze");
	is_str(s, "0", "a paused cgroup stays with the v1 freezer");
	free(s);
	ok(cgroup_thaw(cg) == 0 && cgroup_is_frozen(cg, &frozen) == 0 && !frozen, "thawed again");
	s = read_cg(v1, path, "freezer.state");
	is_str(s, "THAWED", "v1 freezer thawed");
	free(s);
}

static void test_lifecycle(const char *path)
{
	struct cgroup *cg = NULL;
	volatile unsigned long *counter;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *s = NULL;
	size_t n = 0;
	int status, r;
	bool frozen = false;

	counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!ok(counter != MAP_FAILED, "shared counter"))
		return;
	if (!ok(cgroup_new(path, "unit", false, &cg) == 0, "cgroup_new %s", path))
		return;
	r = cgroup_create(cg);
	ok(r == 0, "cgroup_create: %s", r ? err_msg() : "ok");
	for (size_t i = 0; i < ARRAY_SIZE(v1_ctrls); i++) {
		char root[64];
		snprintf(root, sizeof(root), "/sys/fs/cgroup/%s", v1_ctrls[i]);
		ok(dir_exists(root, path), "dir exists in %s", v1_ctrls[i]);
	}
	ok(dir_exists("/sys/fs/cgroup/unified", path), "dir exists in the unified tree");
	s = read_cg("/sys/fs/cgroup/cpuset", path, "cpuset.cpus");
	ok(s[0] && s[0] != '(', "cpuset.cpus inherited from the parent: '%s'", s);
	free(TAKE_PTR(s));

	/* resources */
	struct oci_resources res = { 0 };
	res.memory.limit = (struct oci_opt_i64){ 64 << 20, true };
	res.memory.reservation = (struct oci_opt_i64){ 32 << 20, true };
	res.pids.limit = (struct oci_opt_i64){ 20, true };
	res.cpu.shares = (struct oci_opt_u64){ 512, true };
	struct oci_device_rule rules[] = { { .allow = false, .type = 'a', .major = -1, .minor = -1 },
					   { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rw" } };
	res.devices = rules;
	res.n_devices = 2;
	r = cgroup_set(cg, &res);
	ok(r == 0, "cgroup_set: %s", r ? err_msg() : "ok");
	s = read_cg("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes");
	is_str(s, "67108864", "memory.limit_in_bytes read back");
	free(TAKE_PTR(s));
	s = read_cg("/sys/fs/cgroup/memory", path, "memory.soft_limit_in_bytes");
	is_str(s, "33554432", "memory.soft_limit_in_bytes read back");
	free(TAKE_PTR(s));
	s = read_cg("/sys/fs/cgroup/pids", path, "pids.max");
	is_str(s, "20", "pids.max read back");
	free(TAKE_PTR(s));
	s = read_cg("/sys/fs/cgroup/cpu", path, "cpu.shares");
	is_str(s, "512", "cpu.shares read back");
	free(TAKE_PTR(s));
	{
		char p[PATH_MAX];
		_cleanup_free_ char *list = NULL;
		snprintf(p, sizeof(p), "/sys/fs/cgroup/devices%s/devices.list", path);
		read_file(p, &list, NULL, 0);
		ok(list && strstr(list, "c 1:3 rw") && !strstr(list, "a *:* rwm"),
		   "devices: deny all, then c 1:3 allowed");
	}

	{
		struct oci_device fuse = { .type = 'c', .path = "/dev/fuse", .major = 10, .minor = 229 };
		char p[PATH_MAX];
		_cleanup_free_ char *list = NULL;
		r = cgroup_allow_devices(cg, &fuse, 1);
		ok(r == 0, "cgroup_allow_devices: %s", r ? err_msg() : "ok");
		snprintf(p, sizeof(p), "/sys/fs/cgroup/devices%s/devices.list", path);
		read_file(p, &list, NULL, 0);
		ok(list && strstr(list, "c 10:229 rwm"), "linux.devices node allowed");
	}

	/* update: a lower limit replaces the old one */
	struct oci_resources upd = { 0 };
	upd.memory.limit = (struct oci_opt_i64){ 48 << 20, true };
	upd.memory.swap = (struct oci_opt_i64){ 48 << 20, true };
	r = cgroup_set(cg, &upd);
	ok(r == 0, "update memory+swap: %s", r ? err_msg() : "ok");
	s = read_cg("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes");
	is_str(s, "50331648", "memory limit lowered");
	free(TAKE_PTR(s));
	upd.memory.limit.v = upd.memory.swap.v = 96 << 20;
	r = cgroup_set(cg, &upd);
	ok(r == 0, "raise memory+swap above the old memsw: %s", r ? err_msg() : "ok");
	s = read_cg("/sys/fs/cgroup/memory", path, "memory.memsw.limit_in_bytes");
	is_str(s, "100663296", "memsw raised");
	free(TAKE_PTR(s));

	{
		struct oci_hugepage_limit hp2 = { .page_size = "2MB", .limit = 4 << 21 };
		struct oci_resources h = { 0 };
		h.hugepages = &hp2;
		h.n_hugepages = 1;
		if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) == 0) {
			r = cgroup_set(cg, &h);
			ok(r == 0, "hugetlb 2MB limit: %s", r ? err_msg() : "ok");
			s = read_cg("/sys/fs/cgroup/unified", path, "hugetlb.2MB.max");
			is_str(s, "8388608", "hugetlb.2MB.max read back from the unified tree");
			free(TAKE_PTR(s));
		} else {
			ok(1, "# SKIP no 2 MiB huge pages");
			ok(1, "# SKIP no 2 MiB huge pages");
		}
	}
	struct oci_hugepage_limit hp = { .page_size = "3KB", .limit = 1 };
	struct oci_resources bad = { 0 };
	bad.hugepages = &hp;
	bad.n_hugepages = 1;
	ok(cgroup_set(cg, &bad) < 0 && strstr(err_msg(), "hugepageLimits"),
	   "an unavailable hugepage size fails by name: %s", err_msg());

	/* enter, pids */
	pid_t child = spawn_counter(counter);
	r = cgroup_enter(cg, child);
	ok(r == 0, "cgroup_enter: %s", r ? err_msg() : "ok");
	{
		char p[64], want[PATH_MAX];
		_cleanup_free_ char *self = NULL;
		snprintf(p, sizeof(p), "/proc/%d/cgroup", child);
		read_file(p, &self, NULL, 0);
		snprintf(want, sizeof(want), "memory:%s\n", path);
		ok(self && strstr(self, want), "child is in the memory cgroup");
		snprintf(want, sizeof(want), "0::%s\n", path);
		ok(self && strstr(self, want), "child is in the unified cgroup");
	}
	r = cgroup_pids(cg, &pids, &n);
	ok(r == 0 && n == 1 && pids[0] == child, "cgroup_pids lists the child (n=%zu)", n);

	/* freeze: the counter must not move */
	usleep(20000);
	r = cgroup_freeze(cg);
	ok(r == 0, "cgroup_freeze: %s", r ? err_msg() : "ok");
	ok(cgroup_is_frozen(cg, &frozen) == 0 && frozen, "is_frozen after freeze");
	unsigned long c1 = *counter;
	usleep(200000);
	unsigned long c2 = *counter;
	is_int(c2, c1, "counter does not advance while frozen");
	r = cgroup_thaw(cg);
	ok(r == 0, "cgroup_thaw: %s", r ? err_msg() : "ok");
	ok(cgroup_is_frozen(cg, &frozen) == 0 && !frozen, "not frozen after thaw");
	usleep(50000);
	ok(*counter > c2, "counter advances after thaw");

	test_freeze_brief(cg, path, counter);

	/* kill while frozen still kills */
	ok(cgroup_freeze(cg) == 0, "frozen again");
	r = cgroup_kill(cg, SIGKILL);
	ok(r == 0, "cgroup_kill SIGKILL: %s", r ? err_msg() : "ok");
	ok(waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "child died of SIGKILL");
	free(TAKE_PTR(pids));
	ok(cgroup_pids(cg, &pids, &n) == 0 && n == 0, "no pids left");
	cgroup_thaw(cg);

	/* SIGTERM reaches every member */
	pid_t a = spawn_sleeper(), b = spawn_sleeper();
	ok(cgroup_enter(cg, a) == 0 && cgroup_enter(cg, b) == 0, "two sleepers entered");
	ok(cgroup_kill(cg, SIGTERM) == 0, "cgroup_kill SIGTERM");
	ok(waitpid(a, &status, 0) == a && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM &&
	   waitpid(b, &status, 0) == b && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	   "both got SIGTERM");

	/* pids limit is enforced */
	struct oci_resources pl = { 0 };
	pl.pids.limit = (struct oci_opt_i64){ 3, true };
	ok(cgroup_set(cg, &pl) == 0, "pids.max=3");
	int pfd[2];
	/* The forker enters before it forks. */
	if (pipe(pfd) == 0) {
		int go[2];
		pipe(go);
		pid_t forker = fork();
		if (forker == 0) {
			char c;
			int failed = 0;
			close(go[1]);
			read(go[0], &c, 1);
			for (int i = 0; i < 8; i++) {
				pid_t k = fork();
				if (k == 0) {
					close(pfd[1]);
					read(pfd[0], &c, 1);
					_exit(0);
				}
				if (k < 0 && errno == EAGAIN)
					failed++;
			}
			_exit(failed);
		}
		close(go[0]);
		ok(cgroup_enter(cg, forker) == 0, "forker entered before forking");
		close(go[1]);
		waitpid(forker, &status, 0);
		close(pfd[1]);
		close(pfd[0]);
		/* forker + 2 children fit in 3; 6 of 8 forks fail */
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 6, "pids.max=3: 6 of 8 forks fail with EAGAIN (got %d)",
		   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		for (int i = 0; i < 50; i++) {
			free(TAKE_PTR(pids));
			if (cgroup_pids(cg, &pids, &n) == 0 && n == 0)
				break;
			usleep(20000);
		}
	}

	/* destroy with a live member */
	pid_t last = spawn_sleeper();
	ok(cgroup_enter(cg, last) == 0, "one more member");
	r = cgroup_destroy(cg, true);
	ok(r == 0, "cgroup_destroy(kill_first): %s", r ? err_msg() : "ok");
	waitpid(last, &status, 0);
	ok(WIFSIGNALED(status), "member killed by destroy");
	bool any = dir_exists("/sys/fs/cgroup/unified", path);
	for (size_t i = 0; i < ARRAY_SIZE(v1_ctrls); i++) {
		char root[64];
		snprintf(root, sizeof(root), "/sys/fs/cgroup/%s", v1_ctrls[i]);
		any |= dir_exists(root, path);
	}
	ok(!any, "no dir left in any hierarchy");
	ok(cgroup_destroy(cg, false) == 0, "destroy twice is harmless");
	cgroup_free(cg);
	munmap((void *)counter, 4096);
}

static void remove_parent(const char *parent)
{
	const char *roots[] = { "memory", "pids", "freezer", "cpuset", "cpu", "cpuacct", "devices",
				"blkio", "systemd", "unified" };
	char p[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		snprintf(p, sizeof(p), "/sys/fs/cgroup/%s%s", roots[i], parent);
		rmdir(p);
	}
}

int main(void)
{
	char parent[64], path[128];

	test_paths();
	if (geteuid() != 0) {
		ok(1, "# SKIP not root");
		return done_testing();
	}
	test_detect();
	/* The hugetlb test enables hugetlb in the unified root: undo that after,
	 * so that it can still be mounted as v1 (the crun benchmark does). */
	_cleanup_free_ char *sc = NULL;
	read_file("/sys/fs/cgroup/unified/cgroup.subtree_control", &sc, NULL, 0);
	bool had_hugetlb = sc && strstr(sc, "hugetlb");
	snprintf(parent, sizeof(parent), "/skua-unit-%d", getpid());
	snprintf(path, sizeof(path), "%s/cg", parent);
	test_lifecycle(path);
	remove_parent(parent);
	if (!had_hugetlb)
		write_string_file("/sys/fs/cgroup/unified/cgroup.subtree_control", "-hugetlb");
	return done_testing();
}
