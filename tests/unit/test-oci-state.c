// SPDX-License-Identifier: GPL-2.0-or-later
/* State, spec and features documents: valid JSON with the expected keys and
 * values; the spec template parses and validates with our own parser. */
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/json.h"
#include "oci/config.h"
#include "oci/spec.h"
#include "oci/state.h"
#include "tap.h"

static const char *str_at(yajl_val v, const char *key)
{
	yajl_val s = json_get(v, key);
	return s && YAJL_IS_STRING(s) ? s->u.string : NULL;
}

static bool array_has(yajl_val arr, const char *want)
{
	for (size_t i = 0; arr && YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++) {
		yajl_val e = arr->u.array.values[i];
		if (YAJL_IS_STRING(e) && streq(e->u.string, want))
			return true;
	}
	return false;
}

static void test_state(void)
{
	char *keys[] = { "a.b", "c" }, *values[] = { "1", "x\"y" };
	struct oci_state s = {
		.id = "ctr1", .pid = 4242, .status = "running", .bundle = "/b/x",
		.rootfs = "/b/x/rootfs", .created = "2024-05-01T10:11:12.5Z", .owner = "",
		.annotation_keys = keys, .annotation_values = values, .n_annotations = 2,
	};
	_cleanup_free_ char *text = NULL, *hook = NULL;
	_cleanup_json_ yajl_val v = NULL, h = NULL;

	is_int(oci_state_json(&s, &text), 0, "state json");
	if (!ok(text && json_parse(text, "state", &v) == 0, "state parses"))
		return;
	ok(strstr(text, "\n  \"id\": \"ctr1\"") != NULL, "pretty printed with two spaces");
	ok(strstr(text, "\\/") == NULL, "slashes not escaped");
	static const char *const order[] = { "ociVersion", "id", "pid", "status", "bundle",
					     "rootfs", "created", "owner", "annotations" };
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		is_str(v->u.object.keys[i], order[i], "key %zu is %s (runc's order)", i, order[i]);
	is_str(str_at(v, "ociVersion"), OCI_SPEC_VERSION, "ociVersion");
	yajl_val pid = json_get(v, "pid");
	ok(pid && YAJL_IS_INTEGER(pid) && YAJL_GET_INTEGER(pid) == 4242, "pid is a number");
	is_str(str_at(v, "status"), "running", "status");
	is_str(str_at(v, "bundle"), "/b/x", "bundle");
	is_str(str_at(v, "rootfs"), "/b/x/rootfs", "rootfs");
	is_str(str_at(v, "created"), "2024-05-01T10:11:12.5Z", "created");
	is_str(str_at(v, "owner"), "", "owner");
	is_str(str_at(json_get(v, "annotations"), "c"), "x\"y", "annotation escaped and back");

	s.n_annotations = 0;
	free(text);
	text = NULL;
	oci_state_json(&s, &text);
	ok(text && !strstr(text, "annotations"), "no annotations key when there are none");

	s.n_annotations = 2;
	s.pid = 0;
	s.status = "stopped";
	is_int(oci_state_hook_json(&s, &hook), 0, "hook state json");
	if (!ok(hook && json_parse(hook, "hook state", &h) == 0, "hook state parses"))
		return;
	ok(!strchr(hook, '\n'), "hook state is one line");
	is_str(str_at(h, "id"), "ctr1", "hook state id");
	is_str(str_at(h, "status"), "stopped", "hook state status");
	ok(json_get(h, "pid") == NULL, "no pid when stopped");
	ok(json_get(h, "rootfs") == NULL && json_get(h, "created") == NULL, "only spec keys");
	is_str(str_at(json_get(h, "annotations"), "a.b"), "1", "hook state annotations");
}

static void test_time(void)
{
	char buf[64];
	struct timespec ts = { .tv_sec = 1714558272, .tv_nsec = 123456000 };

	is_str(oci_time_rfc3339(&ts, buf, sizeof(buf)), "2024-05-01T10:11:12.123456Z", "trailing zeros dropped");
	ts.tv_nsec = 0;
	is_str(oci_time_rfc3339(&ts, buf, sizeof(buf)), "2024-05-01T10:11:12Z", "no fraction at .0");
	ts.tv_nsec = 5;
	is_str(oci_time_rfc3339(&ts, buf, sizeof(buf)), "2024-05-01T10:11:12.000000005Z", "nanoseconds");
}

static void test_spec(void)
{
	_cleanup_free_ char *text = NULL, *rootfs = NULL;
	char tmpl[] = "/tmp/test-oci-state.XXXXXX";
	struct oci_config *c = NULL;
	char *dir;

	is_int(oci_spec_default(&text), 0, "spec default");
	if (!ok(text != NULL, "spec text"))
		return;
	ok(strstr(text, "\n\t\"ociVersion\"") != NULL, "tab-indented like runc spec");
	int r = oci_config_parse(text, "/nonexistent-bundle", &c);
	if (!is_int(r, 0, "spec default parses with our parser (%s)", err_msg()))
		return;
	ok(c->process && c->process->terminal, "terminal true");
	is_str(c->process->args[0], "sh", "args [sh]");
	ok(c->process->args[1] == NULL, "only sh");
	is_str(c->process->cwd, "/", "cwd /");
	ok(c->process->env && !strncmp(c->process->env[0], "PATH=", 5) &&
	   streq(c->process->env[1], "TERM=xterm"), "env PATH and TERM");
	is_int(c->process->caps.n_bounding, 3, "3 bounding caps");
	is_int(c->process->caps.bounding[0], CAP_AUDIT_WRITE, "CAP_AUDIT_WRITE");
	is_int(c->process->caps.n_ambient, 3, "ambient caps too");
	ok(c->process->n_rlimits == 1 && c->process->rlimits[0].soft == 1024, "NOFILE 1024");
	ok(c->process->no_new_privileges, "noNewPrivileges");
	is_str(c->root_path, "/nonexistent-bundle/rootfs", "root rootfs");
	ok(c->root_readonly, "root readonly");
	is_str(c->hostname, "skua", "hostname skua");
	is_int(c->n_mounts, 7, "7 mounts");
	is_str(c->mounts[6].destination, "/sys/fs/cgroup", "cgroup mount last");
	ok(c->mounts[5].flags & MS_RDONLY, "sysfs read-only");
	is_int(c->linux_.n_namespaces, 6, "6 namespaces");
	ok(oci_config_namespace(c, OCI_NS_CGROUP) && oci_config_namespace(c, OCI_NS_NETWORK) &&
	   !oci_config_namespace(c, OCI_NS_USER), "pid network ipc uts mount cgroup, no user");
	ok(c->linux_.masked_paths && c->linux_.readonly_paths, "masked and readonly paths");
	ok(c->linux_.resources.n_devices == 1 && !c->linux_.resources.devices[0].allow, "deny all devices");
	err_clear();
	ok(oci_config_validate(c) < 0 && strstr(err_msg(), "rootfs (/nonexistent-bundle/rootfs) does not exist"),
	   "validate without rootfs: %s", err_msg());
	oci_config_free(c);
	c = NULL;

	dir = mkdtemp(tmpl);
	if (!ok(dir != NULL, "mkdtemp"))
		return;
	asprintf(&rootfs, "%s/rootfs", dir);
	mkdir(rootfs, 0755);
	r = oci_config_parse(text, dir, &c);
	is_int(r, 0, "spec parses against a real bundle");
	if (c)
		is_int(oci_config_validate(c), 0, "spec default validates with a rootfs (%s)", err_msg());
	oci_config_free(c);
	rmdir(rootfs);
	rmdir(dir);
}

static void test_features(void)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ yajl_val v = NULL;

	is_int(oci_features_json(&text), 0, "features json");
	if (!ok(text && json_parse(text, "features", &v) == 0, "features parses"))
		return;
	is_str(str_at(v, "ociVersionMin"), "1.0.0", "ociVersionMin");
	is_str(str_at(v, "ociVersionMax"), OCI_SPEC_VERSION, "ociVersionMax");
	ok(array_has(json_get(v, "hooks"), "createRuntime") && array_has(json_get(v, "hooks"), "poststop"),
	   "hooks");
	yajl_val mo = json_get(v, "mountOptions");
	ok(array_has(mo, "rbind") && array_has(mo, "nosymfollow") && array_has(mo, "rslave") &&
	   !array_has(mo, "size=1k"), "mountOptions");
	yajl_val lx = json_get(v, "linux");
	ok(array_has(json_get(lx, "namespaces"), "user") && array_has(json_get(lx, "namespaces"), "cgroup"),
	   "linux.namespaces");
	yajl_val caps = json_get(lx, "capabilities");
	ok(array_has(caps, "CAP_CHOWN") && array_has(caps, "CAP_SYS_ADMIN") &&
	   array_has(caps, "CAP_CHECKPOINT_RESTORE"), "capabilities from libcap, upper case");
	ok(caps && caps->u.array.len >= 41, "all %zu capabilities", caps ? caps->u.array.len : 0);
	yajl_val cg = json_get(lx, "cgroup");
	ok(cg && YAJL_IS_TRUE(json_get(cg, "v1")) && YAJL_IS_TRUE(json_get(cg, "v2")), "cgroup v1 and v2");
	yajl_val sc = json_get(lx, "seccomp");
	ok(sc && YAJL_IS_TRUE(json_get(sc, "enabled")), "seccomp enabled");
	ok(array_has(json_get(sc, "actions"), "SCMP_ACT_ERRNO"), "seccomp actions");
	ok(array_has(json_get(sc, "operators"), "SCMP_CMP_MASKED_EQ"), "seccomp operators");
	ok(array_has(json_get(sc, "archs"), "SCMP_ARCH_X86_64"), "seccomp archs");
	ok(YAJL_IS_FALSE(json_get(json_get(lx, "apparmor"), "enabled")), "apparmor off");
	ok(YAJL_IS_FALSE(json_get(json_get(lx, "selinux"), "enabled")), "selinux off");
	yajl_val an = json_get(v, "annotations");
	is_str(str_at(an, "org.opencontainers.runc.checkpoint.enabled"), "true", "checkpoint annotation");
	is_str(str_at(an, "run.skua.lazy-pages"), "true", "lazy-pages annotation");
}

int main(void)
{
	test_state();
	test_time();
	test_spec();
	test_features();
	return done_testing();
}
