// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json parsing: a full config maps to the expected structs, and each
 * kind of bad input fails with a message that names the field. */
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/config.h"
#include "oci/parse.h"
#include "tap.h"

static char data_dir[PATH_MAX + 32];

/* tests/unit/data: next to this source when run from the repository root,
 * else found from the binary's place in build/tests/. */
static void find_data_dir(void)
{
	char src[] = __FILE__, exe[PATH_MAX];
	char *slash = strrchr(src, '/');
	if (slash)
		*slash = '\0';
	snprintf(data_dir, sizeof(data_dir), "%s/data", slash ? src : ".");
	if (access(data_dir, F_OK) == 0)
		return;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	for (int i = 0; i < 3 && (slash = strrchr(exe, '/')); i++)
		*slash = '\0';
	snprintf(data_dir, sizeof(data_dir), "%s/tests/unit/data", exe);
}

static bool has_cap(const int *v, size_t n, int cap)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == cap)
			return true;
	return false;
}

static void test_full(void)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	struct oci_config *c = NULL;

	asprintf(&path, "%s/config-full.json", data_dir);
	if (!ok(read_file(path, &text, NULL, 0) == 0, "read %s", path))
		return;
	int r = oci_config_parse(text, "/tmp/b/./x/..", &c);
	if (!is_int(r, 0, "full config parses (%s)", err_msg()))
		return;

	is_str(c->oci_version, "1.0.2", "ociVersion");
	is_str(c->bundle, "/tmp/b", "bundle cleaned");
	is_str(c->root_path, "/tmp/b/rootfs", "root.path resolved against the bundle");
	ok(c->root_readonly, "root.readonly");
	is_str(c->hostname, "box", "hostname");
	is_str(c->domainname, "example.org", "domainname");

	struct oci_process *p = c->process;
	ok(p && p->terminal, "process.terminal");
	is_int(p->console_height, 25, "consoleSize.height");
	is_int(p->console_width, 80, "consoleSize.width");
	is_int(p->user.uid, 1000, "user.uid");
	is_int(p->user.gid, 100, "user.gid");
	ok(p->user.has_umask && p->user.umask == 18, "user.umask");
	ok(p->user.n_additional_gids == 2 && p->user.additional_gids[1] == 6, "additionalGids");
	is_str(p->args[2], "echo hi", "args[2]");
	ok(p->args[3] == NULL, "args NULL-terminated");
	is_str(p->env[1], "TERM=xterm", "env[1]");
	is_str(p->cwd, "/home", "cwd");
	ok(p->caps.present, "capabilities present");
	is_int(p->caps.n_bounding, 3, "3 bounding caps");
	ok(has_cap(p->caps.bounding, p->caps.n_bounding, CAP_NET_BIND_SERVICE), "bounding has CAP_NET_BIND_SERVICE");
	ok(has_cap(p->caps.permitted, p->caps.n_permitted, CAP_SYS_ADMIN), "permitted has CAP_SYS_ADMIN");
	is_int(p->caps.n_effective, 1, "1 effective cap");
	is_int(p->caps.effective[0], CAP_KILL, "effective CAP_KILL");
	is_int(p->caps.n_ambient, 0, "empty ambient");
	is_int(p->caps.n_inheritable, 0, "no inheritable");
	is_int(p->n_rlimits, 2, "2 rlimits");
	is_int(p->rlimits[0].resource, RLIMIT_NOFILE, "rlimit 0 is NOFILE");
	ok(p->rlimits[0].soft == 512 && p->rlimits[0].hard == 1024, "NOFILE soft/hard");
	is_int(p->rlimits[1].resource, RLIMIT_CORE, "rlimit 1 is CORE");
	ok(p->rlimits[1].hard == UINT64_MAX, "CORE hard = 2^64-1 (unlimited)");
	ok(p->no_new_privileges, "noNewPrivileges");
	is_str(p->apparmor_profile, "acme", "apparmorProfile");
	ok(p->has_oom_score_adj && p->oom_score_adj == -17, "oomScoreAdj");

	is_int(c->n_mounts, 3, "3 mounts");
	struct oci_mount *m = &c->mounts[1];
	is_str(m->destination, "/data", "mount destination");
	is_str(m->source, "/srv/data", "mount source");
	is_int(m->flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | 256, "rbind,ro,nosuid,nosymfollow flags");
	is_int(m->propagation, MS_SLAVE | MS_REC, "rslave propagation");
	ok(m->data == NULL, "no data for bind mount");
	is_int(m->rec_flags, MS_NOEXEC, "rnoexec is a recursive flag");
	m = &c->mounts[2];
	is_int(m->flags, MS_NOSUID | MS_STRICTATIME | MS_RELATIME, "tmpfs flags");
	is_int(m->clear_flags, MS_RDONLY, "rw is a cleared flag");
	is_str(m->data, "mode=755,size=65536k", "unknown options go to data");
	ok(c->mounts[0].options == NULL && c->mounts[0].flags == 0, "proc: no options");

	is_int(c->n_hooks[OCI_HOOK_PRESTART], 1, "1 prestart hook");
	struct oci_hook *h = &c->hooks[OCI_HOOK_PRESTART][0];
	is_str(h->path, "/bin/true", "hook path");
	is_str(h->args[1], "a", "hook args");
	is_str(h->env[0], "X=1", "hook env");
	ok(h->has_timeout && h->timeout == 5, "hook timeout");
	is_int(c->n_hooks[OCI_HOOK_POSTSTOP], 1, "1 poststop hook");
	ok(!c->hooks[OCI_HOOK_POSTSTOP][0].has_timeout, "poststop: no timeout");
	is_int(c->n_hooks[OCI_HOOK_CREATE_RUNTIME], 0, "no createRuntime hooks");

	is_int(c->n_annotations, 2, "2 annotations");
	is_str(c->annotation_keys[1], "org.example.b", "annotation key");
	is_str(c->annotation_values[1], "two", "annotation value");

	struct oci_linux *l = &c->linux_;
	is_int(l->n_namespaces, 6, "6 namespaces");
	is_int(l->namespaces[1].type, OCI_NS_NETWORK, "namespace 1 is network");
	is_str(l->namespaces[1].path, "/var/run/netns/x", "namespace path");
	ok(l->namespaces[0].path == NULL, "pid ns: new");
	ok(oci_config_namespace(c, OCI_NS_USER) != NULL, "lookup user ns");
	ok(oci_config_namespace(c, OCI_NS_CGROUP) == NULL, "no cgroup ns");
	ok(l->n_uid_mappings == 1 && l->uid_mappings[0].host_id == 100000 &&
	   l->uid_mappings[0].size == 65536, "uidMappings");
	ok(l->n_gid_mappings == 1 && l->gid_mappings[0].host_id == 200000, "gidMappings");
	ok(l->n_devices == 1 && l->devices[0].type == 'c' && l->devices[0].major == 10 &&
	   l->devices[0].minor == 229 && l->devices[0].file_mode == 0666 && l->devices[0].has_uid &&
	   !l->devices[0].has_gid, "devices");
	is_str(l->cgroups_path, "/skua/test", "cgroupsPath");
	ok(l->has_resources, "resources present");
	struct oci_resources *rs = &l->resources;
	ok(rs->n_devices == 2 && !rs->devices[0].allow && rs->devices[0].type == 'a' &&
	   rs->devices[0].major == -1, "device rule 0: deny all");
	ok(rs->devices[1].allow && rs->devices[1].type == 'c' && rs->devices[1].major == 1 &&
	   rs->devices[1].minor == 3, "device rule 1: allow c 1:3");
	is_str(rs->devices[1].access, "rw", "device rule access");
	ok(rs->memory.limit.set && rs->memory.limit.v == 104857600, "memory.limit");
	ok(rs->memory.swap.set && rs->memory.swap.v == -1, "memory.swap -1");
	ok(!rs->memory.reservation.set, "memory.reservation unset");
	ok(rs->memory.swappiness.set && rs->memory.swappiness.v == 10, "memory.swappiness");
	ok(rs->memory.has_disable_oom_killer && !rs->memory.disable_oom_killer, "disableOOMKiller");
	ok(rs->cpu.shares.v == 512 && rs->cpu.quota.v == 50000 && rs->cpu.period.v == 100000, "cpu");
	is_str(rs->cpu.cpus, "0-1", "cpu.cpus");
	ok(rs->pids.limit.set && rs->pids.limit.v == 64, "pids.limit");
	ok(rs->blkio.weight.v == 300 && rs->blkio.n_weight_devices == 1 &&
	   rs->blkio.weight_devices[0].weight == 500, "blockIO weight");
	ok(rs->blkio.n_read_bps == 1 && rs->blkio.read_bps[0].rate == 1048576, "throttleReadBpsDevice");
	ok(rs->n_hugepages == 1 && rs->hugepages[0].limit == 209715200, "hugepageLimits");
	ok(rs->n_unified == 1 && streq(rs->unified_keys[0], "memory.high"), "unified");
	is_str(l->rootfs_propagation, "rslave", "rootfsPropagation");
	is_str(l->masked_paths[1], "/sys/firmware", "maskedPaths");
	is_str(l->readonly_paths[0], "/proc/sys", "readonlyPaths");
	ok(l->n_sysctl == 1 && streq(l->sysctl[0].value, "1"), "sysctl");
	ok(l->seccomp != NULL, "seccomp present");
	if (l->seccomp) {
		is_str(l->seccomp->default_action, "SCMP_ACT_ERRNO", "seccomp defaultAction");
		ok(l->seccomp->has_default_errno_ret && l->seccomp->default_errno_ret == 1, "defaultErrnoRet");
		is_str(l->seccomp->architectures[1], "SCMP_ARCH_X86", "seccomp arch");
		is_int(l->seccomp->n_syscalls, 2, "2 syscall rules");
		is_str(l->seccomp->syscalls[0].names[1], "write", "syscall name");
		ok(l->seccomp->syscalls[1].n_args == 1 && l->seccomp->syscalls[1].args[0].value == 8,
		   "syscall arg");
	}
	is_str(l->personality_domain, "LINUX", "personality");
	oci_config_free(c);
}

/* Each bad document and a piece of the message it must produce. */
static const struct {
	const char *json, *want;
} bad[] = {
	{ "{\"ociVersion\": \"1.0\",", "config.json: invalid JSON" },
	{ "[1]", "config.json: expected an object" },
	{ "{\"ociVersion\": 1}", "config.json: ociVersion: expected a string" },
	{ "{\"process\": {\"args\": [\"a\", \"b\", 3]}}", "config.json: process.args[2]: expected a string" },
	{ "{\"process\": {\"args\": \"sh\"}}", "config.json: process.args: expected an array" },
	{ "{\"process\": []}", "config.json: process: expected an object" },
	{ "{\"process\": {\"terminal\": 1}}", "config.json: process.terminal: expected true or false" },
	{ "{\"process\": {\"user\": {\"uid\": -1}}}", "config.json: process.user.uid: expected a non-negative integer" },
	{ "{\"process\": {\"user\": {\"uid\": 4294967296}}}", "config.json: process.user.uid: 4294967296 is out of range" },
	{ "{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_FLY\"]}}}",
	  "config.json: process.capabilities.bounding[1]: unknown capability \"CAP_FLY\"" },
	{ "{\"process\": {\"capabilities\": {\"effective\": [\"7\"]}}}",
	  "process.capabilities.effective[0]: unknown capability \"7\"" },
	{ "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_BOGUS\", \"soft\": 1, \"hard\": 1}]}}",
	  "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"" },
	{ "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]}}",
	  "config.json: process.rlimits[0]: both soft and hard are required" },
	{ "{\"process\": {\"oomScoreAdj\": 2000}}", "config.json: process.oomScoreAdj: 2000 is outside" },
	{ "{\"root\": {\"readonly\": true}}", "config.json: root.path: missing" },
	{ "{\"mounts\": {}}", "config.json: mounts: expected an array" },
	{ "{\"mounts\": [{\"type\": \"proc\"}]}", "config.json: mounts[0].destination: missing" },
	{ "{\"mounts\": [{\"destination\": \"/a\", \"options\": [\"ro\", 1]}]}",
	  "config.json: mounts[0].options[1]: expected a string" },
	{ "{\"hooks\": {\"prestart\": [{\"args\": []}]}}", "config.json: hooks.prestart[0].path: missing" },
	{ "{\"hooks\": {\"poststop\": [{\"path\": \"/x\", \"timeout\": 0}]}}",
	  "config.json: hooks.poststop[0].timeout: must be a positive number" },
	{ "{\"annotations\": {\"a\": 1}}", "config.json: annotations.a: expected a string" },
	{ "{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"bogus\"}]}}",
	  "config.json: linux.namespaces[1].type: unknown namespace type \"bogus\"" },
	{ "{\"linux\": {\"namespaces\": [{}]}}", "config.json: linux.namespaces[0].type: missing" },
	{ "{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1}]}}",
	  "config.json: linux.uidMappings[0].size: missing" },
	{ "{\"linux\": {\"devices\": [{\"type\": \"x\", \"path\": \"/dev/x\"}]}}",
	  "config.json: linux.devices[0].type: \"x\" is not one of c, b, u, p" },
	{ "{\"linux\": {\"resources\": {\"memory\": {\"limit\": \"1G\"}}}}",
	  "config.json: linux.resources.memory.limit: expected an integer" },
	{ "{\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]}}}",
	  "config.json: linux.resources.devices[0].access: \"rwx\" is not a subset" },
	{ "{\"linux\": {\"resources\": {\"pids\": {\"limit\": true}}}}",
	  "config.json: linux.resources.pids.limit: expected an integer" },
	{ "{\"linux\": {\"seccomp\": {\"defaultAction\": \"ALLOW\"}}}",
	  "config.json: linux.seccomp.defaultAction: \"ALLOW\" does not start with SCMP_ACT_" },
	{ "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}}}",
	  "config.json: linux.seccomp.syscalls[0].action: missing" },
	{ "{\"linux\": {\"sysctl\": {\"a\": 1}}}", "config.json: linux.sysctl.a: expected a string" },
};

static void test_bad(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct oci_config *c = NULL;
		err_clear();
		int r = oci_config_parse(bad[i].json, NULL, &c);
		ok(r < 0 && c == NULL, "bad config %zu is rejected", i);
		if (!ok(strstr(err_msg(), bad[i].want) != NULL, "message names the field: %s", bad[i].want))
			printf("#   got '%s'\n", err_msg());
		oci_config_free(c);
	}
}

static void test_mount_options(void)
{
	struct oci_mount m = { 0 };

	ok(oci_mount_option("ro", &m) && m.flags == MS_RDONLY, "ro sets MS_RDONLY");
	ok(oci_mount_option("rw", &m) && m.flags == 0 && m.clear_flags == MS_RDONLY, "rw clears it again");
	ok(oci_mount_option("noexec", &m) && m.flags == MS_NOEXEC, "noexec");
	ok(oci_mount_option("exec", &m) && m.flags == 0 && (m.clear_flags & MS_NOEXEC), "exec");
	ok(oci_mount_option("nodev", &m) && (m.flags & MS_NODEV), "nodev");
	ok(oci_mount_option("private", &m) && m.propagation == MS_PRIVATE, "private");
	ok(oci_mount_option("rshared", &m) && m.propagation == (MS_SHARED | MS_REC), "rshared wins");
	ok(oci_mount_option("unbindable", &m) && m.propagation == MS_UNBINDABLE, "unbindable");
	ok(oci_mount_option("rro", &m) && m.rec_flags == MS_RDONLY && !(m.flags & MS_RDONLY),
	   "rro is recursive, not a plain flag");
	ok(oci_mount_option("rnosuid", &m) && m.rec_flags == (MS_RDONLY | MS_NOSUID), "rnosuid");
	ok(oci_mount_option("rrw", &m) && m.rec_flags == MS_NOSUID && m.rec_clear_flags == MS_RDONLY, "rrw");
	ok(oci_mount_option("tmpcopyup", &m) && m.tmpcopyup, "tmpcopyup");
	ok(!oci_mount_option("size=1k", &m), "size=1k is data");
	ok(!oci_mount_option("mode=755", &m), "mode=755 is data");
}

static void test_paths(void)
{
	static const struct { const char *dir, *path, *want; } cases[] = {
		{ "/b", "rootfs", "/b/rootfs" },
		{ "/b/", "./rootfs/", "/b/rootfs" },
		{ "/b", "/abs/../x", "/x" },
		{ "/b/c", "../../../r", "/r" },
		{ NULL, "a/./b//c/..", "a/b" },
		{ NULL, "../a/..", ".." },
		{ "/", ".", "/" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *got = NULL;
		ok(oci_path_join_clean(cases[i].dir, cases[i].path, &got) == 0, "join %zu", i);
		is_str(got, cases[i].want, "clean(%s, %s)", cases[i].dir ? cases[i].dir : "-", cases[i].path);
	}
}

static void test_load(void)
{
	char tmpl[] = "/tmp/test-oci-config.XXXXXX";
	char *dir = mkdtemp(tmpl);
	_cleanup_free_ char *bundle = NULL, *cfg = NULL;
	struct oci_config *c = NULL;
	char cwd[PATH_MAX];
	const char *json = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
			   " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}}";

	if (!ok(dir != NULL, "mkdtemp"))
		return;
	asprintf(&bundle, "%s/bundle", dir);
	asprintf(&cfg, "%s/config.json", bundle);
	mkdir(bundle, 0755);
	write_file(cfg, json, strlen(json), 0644);

	ok(getcwd(cwd, sizeof(cwd)) != NULL && chdir(dir) == 0, "chdir to the temp dir");
	int r = oci_config_load("bundle", &c);
	is_int(r, 0, "load with a relative bundle (%s)", err_msg());
	if (c) {
		is_str(c->bundle, bundle, "bundle made absolute");
		_cleanup_free_ char *root = NULL;
		asprintf(&root, "%s/rootfs", bundle);
		is_str(c->root_path, root, "root.path absolute");
		oci_config_free(c);
		c = NULL;
	}
	err_clear();
	r = oci_config_load("nope", &c);
	ok(r == -ENOENT && strstr(err_msg(), "nope/config.json"), "missing config.json: %s", err_msg());
	ok(chdir(cwd) == 0, "chdir back");

	unlink(cfg);
	rmdir(bundle);
	rmdir(dir);
}

static void test_process(void)
{
	struct oci_process *p = NULL;

	int r = oci_process_parse("{\"args\": [\"ls\", \"-l\"], \"cwd\": \"/tmp\", \"env\": [\"A=b\"],"
				  " \"user\": {\"uid\": 5}, \"terminal\": false}", &p);
	is_int(r, 0, "exec process parses (%s)", err_msg());
	if (p) {
		is_str(p->args[1], "-l", "args");
		is_int(p->user.uid, 5, "uid");
		is_int(oci_process_validate(p, "process.json: process"), 0, "exec process validates");
		oci_process_free(p);
		p = NULL;
	}
	r = oci_process_parse("{\"args\": [1]}", &p);
	ok(r < 0 && strstr(err_msg(), "process.json: args[0]: expected a string"), "exec process error: %s", err_msg());
	r = oci_process_parse("[]", &p);
	ok(r < 0 && streq(err_msg(), "process.json: expected an object"), "exec process not an object: %s", err_msg());
	r = oci_process_parse("{\"args\": [\"ls\"], \"cwd\": \"tmp\"}", &p);
	is_int(r, 0, "relative cwd parses");
	if (p) {
		r = oci_process_validate(p, "process.json: process");
		ok(r < 0 && strstr(err_msg(), "cwd: \"tmp\" is not an absolute path"), "relative cwd: %s", err_msg());
		oci_process_free(p);
	}
}

static void test_lookups(void)
{
	is_str(oci_ns_type_name(OCI_NS_NETWORK), "network", "ns name network");
	is_str(oci_ns_type_name(OCI_NS_MOUNT), "mount", "ns name mount");
	is_int(oci_ns_clone_flag(OCI_NS_USER), CLONE_NEWUSER, "user clone flag");
	is_int(oci_ns_clone_flag(OCI_NS_MOUNT), CLONE_NEWNS, "mount clone flag");
	is_str(oci_hook_kind_name(OCI_HOOK_CREATE_CONTAINER), "createContainer", "hook kind name");
}

int main(void)
{
	find_data_dir();
	test_full();
	test_bad();
	test_mount_options();
	test_paths();
	test_load();
	test_process();
	test_lookups();
	return done_testing();
}
