// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The v2 backend on a host that is hybrid: resource mapping is checked
 * against a directory of plain files standing in for a v2 cgroup; the v2
 * freezer and cgroup.kill are checked for real in the unified tree.
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
#include "cgroups/cgroup-internal.h"
#include "tap.h"

static char fake[64];

static void fake_files(const char *const *names)
{
	char p[PATH_MAX];

	for (; *names; names++) {
		snprintf(p, sizeof(p), "%s/%s", fake, *names);
		write_file(p, "", 0, 0644);
	}
}

static char *fake_read(const char *file)
{
	char p[PATH_MAX], *s = NULL;

	snprintf(p, sizeof(p), "%s/%s", fake, file);
	if (read_file(p, &s, NULL, 0) < 0)
		return strdup("(missing)");
	return s;
}

static void check(const char *file, const char *want)
{
	_cleanup_free_ char *s = fake_read(file);
	is_str(s, want, "%s = %s", file, want);
}

static void test_mapping(void)
{
	static const char *const files[] = { "memory.max", "memory.low", "memory.swap.max",
					     "cpu.weight", "cpu.max", "cpuset.cpus", "pids.max",
					     "io.weight", "io.max", "hugetlb.2MB.max", "memory.high",
					     NULL };
	struct oci_resources res = { 0 };
	int r;

	snprintf(fake, sizeof(fake), "/tmp/skua-test-cgroup-v2-%d", getpid());
	mkdir(fake, 0755);
	fake_files(files);

	res.memory.limit = (struct oci_opt_i64){ 100 << 20, true };
	res.memory.swap = (struct oci_opt_i64){ 150 << 20, true };
	res.memory.reservation = (struct oci_opt_i64){ 10 << 20, true };
	res.cpu.shares = (struct oci_opt_u64){ 1024, true };
	res.cpu.quota = (struct oci_opt_i64){ 50000, true };
	res.cpu.period = (struct oci_opt_u64){ 200000, true };
	res.cpu.cpus = "0";
	res.pids.limit = (struct oci_opt_i64){ -1, true };
	res.blkio.weight = (struct oci_opt_u64){ 500, true };
	struct oci_throttle_device rbps = { 8, 0, 1048576 };
	res.blkio.read_bps = &rbps;
	res.blkio.n_read_bps = 1;
	r = cgroup_v2_set_resources(fake, &res);
	ok(r == 0, "v2 resources on the fake dir: %s", r ? err_msg() : "ok");
	check("memory.max", "104857600");
	check("memory.swap.max", "52428800"); /* swap in v2 excludes memory */
	check("memory.low", "10485760");
	check("cpu.weight", "39");            /* runc: 1 + (1024-2)*9999/262142 */
	check("cpu.max", "50000 200000");
	check("cpuset.cpus", "0");
	check("pids.max", "max");
	check("io.weight", "4950");           /* runc: 1 + (500-10)*9999/990 */
	check("io.max", "8:0 rbps=1048576");

	/* only the period: the quota already there is kept */
	struct oci_resources per = { 0 };
	per.cpu.period = (struct oci_opt_u64){ 100000, true };
	ok(cgroup_v2_set_resources(fake, &per) == 0, "period only");
	check("cpu.max", "50000 100000");

	struct oci_hugepage_limit hp = { "2MB", 4194304 };
	struct oci_resources h = { 0 };
	h.hugepages = &hp;
	h.n_hugepages = 1;
	ok(cgroup_v2_set_hugetlb(fake, &h) == 0, "hugetlb");
	check("hugetlb.2MB.max", "4194304");

	char *keys[] = { "memory.high" }, *vals[] = { "1234" };
	struct oci_resources u = { 0 };
	u.unified_keys = keys;
	u.unified_values = vals;
	u.n_unified = 1;
	ok(cgroup_v2_set_unified(fake, &u) == 0, "unified key written");
	check("memory.high", "1234");
	char *bad[] = { "../escape" };
	u.unified_keys = bad;
	ok(cgroup_v2_set_unified(fake, &u) < 0, "unified key with '/' refused");
	char *absent[] = { "memory.nonexistent" };
	u.unified_keys = absent;
	ok(cgroup_v2_set_unified(fake, &u) < 0 && strstr(err_msg(), "memory.nonexistent"),
	   "absent unified key fails by name: %s", err_msg());

	struct oci_resources bad_swap = { 0 };
	bad_swap.memory.limit = (struct oci_opt_i64){ 100 << 20, true };
	bad_swap.memory.swap = (struct oci_opt_i64){ 50 << 20, true };
	ok(cgroup_v2_set_resources(fake, &bad_swap) < 0, "swap below limit refused");
	struct oci_resources sw = { 0 };
	sw.memory.swappiness = (struct oci_opt_u64){ 10, true };
	ok(cgroup_v2_set_resources(fake, &sw) < 0 && strstr(err_msg(), "swappiness"),
	   "swappiness is refused on v2 by name: %s", err_msg());
	struct oci_resources rt = { 0 };
	rt.cpu.realtime_runtime = (struct oci_opt_i64){ 1000, true };
	ok(cgroup_v2_set_resources(fake, &rt) < 0, "realtime refused on v2");

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fake);
	system(cmd);
}

static void test_unified_freezer(void)
{
	char path[64];
	_cleanup_free_ char *dir = NULL;
	volatile unsigned long *counter;
	bool frozen = true;
	int status;

	if (access(CGROUP_UNIFIED_HYBRID "/cgroup.procs", F_OK) < 0 &&
	    access(CGROUP_ROOT "/cgroup.procs", F_OK) < 0) {
		ok(1, "# SKIP no cgroup2");
		return;
	}
	const char *root = access(CGROUP_UNIFIED_HYBRID "/cgroup.procs", F_OK) == 0
				   ? CGROUP_UNIFIED_HYBRID : CGROUP_ROOT;
	snprintf(path, sizeof(path), "/skua-unit-v2-%d", getpid());
	ok(cgroup_v2_create_dir(root, path, false) == 0, "unified dir created");
	if (asprintf(&dir, "%s%s", root, path) < 0)
		return;

	counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t child = fork();
	if (child == 0) {
		for (;;)
			(*counter)++;
	}
	ok(cgroup_writef(dir, "cgroup.procs", "%d", child) == 0, "child entered");
	usleep(20000);
	ok(cgroup_v2_freeze_dir(dir, true) == 0, "v2 freeze");
	ok(cgroup_v2_is_frozen_dir(dir, &frozen) == 0 && frozen, "cgroup.events says frozen 1");
	unsigned long c1 = *counter;
	usleep(200000);
	is_int(*counter, c1, "counter stands still under cgroup.freeze");
	ok(cgroup_v2_freeze_dir(dir, false) == 0, "v2 thaw");
	usleep(50000);
	ok(*counter > c1, "counter moves after thaw");
	ok(cgroup_write(dir, "cgroup.kill", "1") == 0, "cgroup.kill");
	ok(waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "child killed by cgroup.kill");
	ok(cgroup_rmdir_tree(dir) == 0 && access(dir, F_OK) < 0, "unified dir removed");
	munmap((void *)counter, 4096);
}

int main(void)
{
	test_mapping();
	if (geteuid() == 0)
		test_unified_freezer();
	else
		ok(1, "# SKIP not root");
	return done_testing();
}
