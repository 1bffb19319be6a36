// SPDX-License-Identifier: GPL-2.0-or-later
/* `skua features`: what this runtime supports, in the runtime-spec
 * features.md shape. Names come from the libraries that resolve them. */
#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/config.h"
#include "oci/parse.h"
#include "oci/spec.h"
#include "oci/state.h"

static const char *const seccomp_actions[] = {
	"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
	"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
	"SCMP_ACT_TRAP", NULL,
};

static const char *const seccomp_operators[] = {
	"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
	"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL,
};

/* Candidates; only those this libseccomp resolves are listed. */
static const char *const seccomp_archs[] = {
	"x86", "x86_64", "x32", "arm", "aarch64", "mips", "mips64", "mips64n32", "mipsel",
	"mipsel64", "mipsel64n32", "ppc", "ppc64", "ppc64le", "riscv64", "s390", "s390x", NULL,
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void gen_strv(yajl_gen g, const char *key, const char *const *v)
{
	json_gen_str(g, key);
	yajl_gen_array_open(g);
	for (; *v; v++)
		json_gen_str(g, *v);
	yajl_gen_array_close(g);
}

static void gen_mount_options(yajl_gen g)
{
	const char *names[64];
	size_t n = 0;

	for (const char *s; n < ARRAY_SIZE(names) - 1 && (s = oci_mount_option_name(n)); n++)
		names[n] = s;
	names[n] = NULL;
	qsort(names, n, sizeof(names[0]), cmp_str);
	gen_strv(g, "mountOptions", names);
}

static int gen_capabilities(yajl_gen g)
{
	json_gen_str(g, "capabilities");
	yajl_gen_array_open(g);
	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
		char *name = cap_to_name(v);
		if (!name)
			return -ENOMEM;
		/* libcap spells unknown capabilities as numbers: leave those out */
		if (!strncmp(name, "cap_", 4)) {
			for (char *p = name; *p; p++)
				*p = toupper((unsigned char)*p);
			json_gen_str(g, name);
		}
		cap_free(name);
	}
	yajl_gen_array_close(g);
	return 0;
}

static void gen_seccomp(yajl_gen g)
{
	char name[32];

	json_gen_str(g, "seccomp");
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "enabled", true);
	gen_strv(g, "actions", seccomp_actions);
	gen_strv(g, "operators", seccomp_operators);
	json_gen_str(g, "archs");
	yajl_gen_array_open(g);
	for (const char *const *a = seccomp_archs; *a; a++) {
		if (seccomp_arch_resolve_name(*a) == 0)
			continue;
		snprintf(name, sizeof(name), "SCMP_ARCH_%s", *a);
		for (char *p = name; *p; p++)
			*p = toupper((unsigned char)*p);
		json_gen_str(g, name);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

static void gen_enabled(yajl_gen g, const char *key, bool on)
{
	json_gen_str(g, key);
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "enabled", on);
	yajl_gen_map_close(g);
}

static int gen_linux(yajl_gen g)
{
	int r;

	json_gen_str(g, "linux");
	yajl_gen_map_open(g);
	json_gen_str(g, "namespaces");
	yajl_gen_array_open(g);
	for (int t = 0; t < OCI_NS_COUNT; t++)
		json_gen_str(g, oci_ns_type_name(t));
	yajl_gen_array_close(g);
	if ((r = gen_capabilities(g)) < 0)
		return r;
	json_gen_str(g, "cgroup");
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "v1", true);
	json_gen_kv_bool(g, "v2", true);
	json_gen_kv_bool(g, "systemd", false);
	json_gen_kv_bool(g, "systemdUser", false);
	yajl_gen_map_close(g);
	gen_seccomp(g);
	gen_enabled(g, "apparmor", false);
	gen_enabled(g, "selinux", false);
	yajl_gen_map_close(g);
	return 0;
}

static void gen_annotations(yajl_gen g)
{
	const struct scmp_version *v = seccomp_version();
	char ver[48];

	json_gen_str(g, "annotations");
	yajl_gen_map_open(g);
	if (v) {
		snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
		json_gen_kv_str(g, "io.github.seccomp.libseccomp.version", ver);
	}
	json_gen_kv_str(g, "org.opencontainers.runc.checkpoint.enabled", "true");
	json_gen_kv_str(g, "run.skua.lazy-pages", "true");
	yajl_gen_map_close(g);
}

int oci_features_json(char **ret)
{
	yajl_gen g = json_gen_new(true);
	int r;

	if (!g)
		return -ENOMEM;
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersionMin", OCI_SPEC_VERSION_MIN);
	json_gen_kv_str(g, "ociVersionMax", OCI_SPEC_VERSION);
	json_gen_str(g, "hooks");
	yajl_gen_array_open(g);
	for (int k = 0; k < OCI_HOOK_COUNT; k++)
		json_gen_str(g, oci_hook_kind_name(k));
	yajl_gen_array_close(g);
	gen_mount_options(g);
	if ((r = gen_linux(g)) < 0) {
		yajl_gen_free(g);
		return r;
	}
	gen_annotations(g);
	yajl_gen_map_close(g);
	return json_gen_finish(g, ret, NULL);
}
