// SPDX-License-Identifier: GPL-2.0-or-later
/* `skua spec`: the default config.json template, in runc's shape (runc's test
 * suite builds every bundle from it), with our hostname. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/spec.h"

static const char *const default_caps[] = {
	"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL,
};

static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
	"/proc/scsi", NULL,
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const char *const namespaces[] = {
	"pid", "network", "ipc", "uts", "mount", "cgroup", NULL,
};

static const struct {
	const char *destination, *type, *source;
	const char *const options[8];
} mounts[] = {
	{ "/proc", "proc", "proc", { NULL } },
	{ "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
	{ "/dev/pts", "devpts", "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
	{ "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
	{ "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
	{ "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

static void gen_strv(yajl_gen g, const char *key, const char *const *v)
{
	json_gen_str(g, key);
	yajl_gen_array_open(g);
	for (; *v; v++)
		json_gen_str(g, *v);
	yajl_gen_array_close(g);
}

static void gen_process(yajl_gen g)
{
	static const char *const args[] = { "sh", NULL };
	static const char *const env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL,
	};

	json_gen_str(g, "process");
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "terminal", true);
	json_gen_str(g, "user");
	yajl_gen_map_open(g);
	json_gen_kv_int(g, "uid", 0);
	json_gen_kv_int(g, "gid", 0);
	yajl_gen_map_close(g);
	gen_strv(g, "args", args);
	gen_strv(g, "env", env);
	json_gen_kv_str(g, "cwd", "/");
	json_gen_str(g, "capabilities");
	yajl_gen_map_open(g);
	gen_strv(g, "bounding", default_caps);
	gen_strv(g, "effective", default_caps);
	gen_strv(g, "permitted", default_caps);
	gen_strv(g, "ambient", default_caps);
	yajl_gen_map_close(g);
	json_gen_str(g, "rlimits");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "type", "RLIMIT_NOFILE");
	json_gen_kv_int(g, "hard", 1024);
	json_gen_kv_int(g, "soft", 1024);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	json_gen_kv_bool(g, "noNewPrivileges", true);
	yajl_gen_map_close(g);
}

static void gen_mounts(yajl_gen g)
{
	json_gen_str(g, "mounts");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
		yajl_gen_map_open(g);
		json_gen_kv_str(g, "destination", mounts[i].destination);
		json_gen_kv_str(g, "type", mounts[i].type);
		json_gen_kv_str(g, "source", mounts[i].source);
		if (mounts[i].options[0])
			gen_strv(g, "options", mounts[i].options);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void gen_linux(yajl_gen g)
{
	json_gen_str(g, "linux");
	yajl_gen_map_open(g);
	/* deny every device; the runtime adds the default ones back */
	json_gen_str(g, "resources");
	yajl_gen_map_open(g);
	json_gen_str(g, "devices");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "allow", false);
	json_gen_kv_str(g, "access", "rwm");
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	json_gen_str(g, "namespaces");
	yajl_gen_array_open(g);
	for (const char *const *ns = namespaces; *ns; ns++) {
		yajl_gen_map_open(g);
		json_gen_kv_str(g, "type", *ns);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	gen_strv(g, "maskedPaths", masked_paths);
	gen_strv(g, "readonlyPaths", readonly_paths);
	yajl_gen_map_close(g);
}

int oci_spec_default(char **ret)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (!g)
		return -ENOMEM;
	/* tab-indented like `runc spec` */
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "\t");
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersion", OCI_SPEC_DEFAULT_VERSION);
	gen_process(g);
	json_gen_str(g, "root");
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "path", "rootfs");
	json_gen_kv_bool(g, "readonly", true);
	yajl_gen_map_close(g);
	json_gen_kv_str(g, "hostname", "skua");
	gen_mounts(g);
	gen_linux(g);
	yajl_gen_map_close(g);
	return json_gen_finish(g, ret, NULL);
}
