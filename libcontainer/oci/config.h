/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.json (OCI runtime spec 1.x) converted once into skua's own structs.
 * Everything after parsing works on these, never on JSON.
 * All strings and arrays are owned by the struct; oci_config_free() frees all.
 */
#ifndef SKUA_OCI_CONFIG_H
#define SKUA_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum oci_ns_type {
	OCI_NS_PID,
	OCI_NS_NETWORK,
	OCI_NS_MOUNT,
	OCI_NS_IPC,
	OCI_NS_UTS,
	OCI_NS_USER,
	OCI_NS_CGROUP,
	OCI_NS_TIME,
	OCI_NS_COUNT
};

struct oci_namespace {
	enum oci_ns_type type;
	char *path; /* NULL: create a new one; else join this path */
};

struct oci_id_mapping {
	uint32_t container_id, host_id, size;
};

struct oci_mount {
	char *destination;
	char *type;   /* may be NULL (bind) */
	char *source; /* may be NULL */
	char **options; /* NULL-terminated, raw option strings as in config */
	/* derived by the parser from options: */
	unsigned long flags;     /* MS_* to set (MS_BIND, MS_RDONLY, MS_NOSUID ...) */
	unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid", ...) */
	unsigned long propagation; /* MS_PRIVATE|MS_SHARED|MS_SLAVE|MS_UNBINDABLE (|MS_REC), 0 if none */
	char *data;   /* remaining fs-specific options joined with ',' (may be NULL) */
	/* "rro", "rnosuid", "rnoexec" ...: MS_* to set / clear on the whole
	 * subtree (mount_setattr with AT_RECURSIVE), runc's recursive options */
	unsigned long rec_flags, rec_clear_flags;
	bool tmpcopyup; /* "tmpcopyup": copy the image's content into the new tmpfs */
};

struct oci_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

struct oci_user {
	uint32_t uid, gid;
	uint32_t umask; bool has_umask;
	uint32_t *additional_gids; size_t n_additional_gids;
	char *username; /* Windows only in spec; kept for exec --user NAME? */
};

/* Capability sets as cap_value_t numbers resolved with libcap's cap_from_name(). */
struct oci_caps {
	int *bounding; size_t n_bounding;
	int *effective; size_t n_effective;
	int *inheritable; size_t n_inheritable;
	int *permitted; size_t n_permitted;
	int *ambient; size_t n_ambient;
	bool present; /* "capabilities" key present */
};

struct oci_process {
	bool terminal;
	uint32_t console_height, console_width;
	struct oci_user user;
	char **args; /* NULL-terminated */
	char **env;  /* NULL-terminated */
	char *cwd;
	struct oci_caps caps;
	struct oci_rlimit *rlimits; size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	char *selinux_label;
	int oom_score_adj; bool has_oom_score_adj;
};

/* seccomp: names/values are resolved with libseccomp at setup time, the
 * parser keeps the strings and checks their shape. */
struct oci_seccomp_arg {
	unsigned int index;
	uint64_t value, value_two;
	char *op; /* SCMP_CMP_NE ... */
};
struct oci_seccomp_syscall {
	char **names; /* NULL-terminated */
	char *action; /* SCMP_ACT_... */
	uint32_t errno_ret; bool has_errno_ret;
	struct oci_seccomp_arg *args; size_t n_args;
};
struct oci_seccomp {
	char *default_action;
	uint32_t default_errno_ret; bool has_default_errno_ret;
	char **architectures; /* NULL-terminated, SCMP_ARCH_... */
	char **flags;         /* SECCOMP_FILTER_FLAG_... */
	char *listener_path;
	struct oci_seccomp_syscall *syscalls; size_t n_syscalls;
};

struct oci_hook {
	char *path;
	char **args; /* NULL-terminated, may be NULL */
	char **env;  /* may be NULL */
	int timeout; bool has_timeout; /* seconds */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_COUNT
};

struct oci_device {
	char type; /* 'c', 'b', 'u', 'p' */
	char *path;
	int64_t major, minor;
	uint32_t file_mode; bool has_file_mode;
	uint32_t uid, gid; bool has_uid, has_gid;
};

/* devices cgroup rule */
struct oci_device_rule {
	bool allow;
	char type; /* 'a', 'c', 'b' (0 = 'a') */
	int64_t major, minor; /* -1 = wildcard */
	char *access; /* "rwm" subset, NULL = all */
};

/* A resource value that may be absent. */
struct oci_opt_i64 { int64_t v; bool set; };
struct oci_opt_u64 { uint64_t v; bool set; };

struct oci_throttle_device { int64_t major, minor; uint64_t rate; };
struct oci_weight_device { int64_t major, minor; uint16_t weight, leaf_weight; bool has_weight, has_leaf_weight; };
struct oci_hugepage_limit { char *page_size; uint64_t limit; };

struct oci_resources {
	struct oci_device_rule *devices; size_t n_devices;
	struct {
		struct oci_opt_i64 limit, reservation, swap, kernel, kernel_tcp;
		struct oci_opt_u64 swappiness;
		bool disable_oom_killer, has_disable_oom_killer;
	} memory;
	struct {
		struct oci_opt_u64 shares, period, realtime_period;
		struct oci_opt_i64 quota, realtime_runtime, idle;
		char *cpus, *mems;
	} cpu;
	struct { struct oci_opt_i64 limit; } pids;
	struct {
		struct oci_opt_u64 weight, leaf_weight;
		struct oci_weight_device *weight_devices; size_t n_weight_devices;
		struct oci_throttle_device *read_bps, *write_bps, *read_iops, *write_iops;
		size_t n_read_bps, n_write_bps, n_read_iops, n_write_iops;
	} blkio;
	struct oci_hugepage_limit *hugepages; size_t n_hugepages;
	/* cgroup v2 raw "unified" key=value pairs */
	char **unified_keys, **unified_values; size_t n_unified;
};

struct oci_sysctl { char *key, *value; };

struct oci_linux {
	struct oci_namespace *namespaces; size_t n_namespaces;
	struct oci_id_mapping *uid_mappings; size_t n_uid_mappings;
	struct oci_id_mapping *gid_mappings; size_t n_gid_mappings;
	struct oci_device *devices; size_t n_devices;
	char *cgroups_path; /* NULL: default */
	struct oci_resources resources; bool has_resources;
	char *rootfs_propagation; /* "shared", "slave", "private", "unbindable", NULL */
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
	struct oci_sysctl *sysctl; size_t n_sysctl;
	struct oci_seccomp *seccomp; /* NULL if none */
	struct {
		int64_t boottime_secs, monotonic_secs; uint32_t boottime_nsecs, monotonic_nsecs;
		bool set;
	} time_offsets;
	char *personality_domain; /* "LINUX", "LINUX32" */
};

struct oci_config {
	char *oci_version;
	char *root_path; /* absolute after oci_config_load (resolved against bundle) */
	bool root_readonly;
	char *hostname;
	char *domainname;
	struct oci_mount *mounts; size_t n_mounts;
	struct oci_process *process; /* NULL only if absent (create requires it) */
	struct oci_hook *hooks[OCI_HOOK_COUNT]; size_t n_hooks[OCI_HOOK_COUNT];
	char **annotation_keys, **annotation_values; size_t n_annotations;
	struct oci_linux linux_;
	char *bundle; /* absolute bundle path */
};

/* Parse <bundle>/config.json. Errors name the field: "config.json: process.args: expected an array". */
int oci_config_load(const char *bundle, struct oci_config **ret);
/* Parse from text (unit tests, restore). bundle may be NULL. */
int oci_config_parse(const char *text, const char *bundle, struct oci_config **ret);
/* Semantic checks (paths absolute, namespaces unique, mappings with userns ...). */
int oci_config_validate(const struct oci_config *c);
void oci_config_free(struct oci_config *c);

/* exec --process JSON: the "process" object alone. */
int oci_process_parse(const char *text, struct oci_process **ret);
void oci_process_free(struct oci_process *p);
/* Checks on a process alone (exec): args non-empty, cwd absolute, env KEY=VALUE.
 * field prefixes the messages, e.g. "process.json: process". */
int oci_process_validate(const struct oci_process *p, const char *field);

/* Lookups. */
const struct oci_namespace *oci_config_namespace(const struct oci_config *c, enum oci_ns_type t);
const char *oci_ns_type_name(enum oci_ns_type t); /* "pid", "network", ... as in the spec */
/* CLONE_NEW* flag for a type. */
int oci_ns_clone_flag(enum oci_ns_type t);
const char *oci_hook_kind_name(enum oci_hook_kind k); /* "prestart", "createRuntime", ... */

#endif
