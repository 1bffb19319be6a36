/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to libcontainer/cgroups: the ops table each backend fills, the
 * struct behind the opaque handle, and helpers the backends share.
 */
#ifndef SKUA_CGROUPS_INTERNAL_H
#define SKUA_CGROUPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroups/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_UNIFIED_HYBRID CGROUP_ROOT "/unified"

/* One mounted v1 hierarchy: where it is and what it carries ("cpu,cpuacct"). */
struct cgroup_hier {
	char *mnt;         /* /sys/fs/cgroup/memory */
	char *controllers; /* comma list from the mount options; "name=systemd" for named ones */
	char *dir;         /* mnt + cgroup path */
};

struct cgroup_ops {
	int (*create)(struct cgroup *cg);
	int (*enter)(struct cgroup *cg, pid_t pid);
	int (*set)(struct cgroup *cg, const struct oci_resources *res);
	int (*freeze)(struct cgroup *cg);
	int (*freeze_brief)(struct cgroup *cg);
	int (*thaw)(struct cgroup *cg);
	int (*is_frozen)(struct cgroup *cg, bool *ret);
	/* The directory whose cgroup.procs lists the container's processes. */
	const char *(*procs_dir)(const struct cgroup *cg);
};

struct cgroup {
	enum cgroup_mode mode;
	const struct cgroup_ops *ops;
	char *path;        /* "/skua/ID", relative to every hierarchy root */
	/* v1 and hybrid */
	struct cgroup_hier *hiers;
	size_t n_hiers;
	/* v2 dir, or the unified dir of a hybrid host (NULL when absent) */
	char *unified_dir;
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;

/* v1.c */
int cgroup_v1_scan(struct cgroup *cg);
struct cgroup_hier *cgroup_v1_find(const struct cgroup *cg, const char *controller);
int cgroup_v1_set_resources(struct cgroup *cg, const struct oci_resources *res);

/* v2.c */
int cgroup_v2_create_dir(const char *root, const char *path, bool enable_all);
int cgroup_v2_enable(const char *root, const char *path, const char *ctrls);
int cgroup_v2_freeze_dir(const char *dir, bool freeze);
int cgroup_v2_is_frozen_dir(const char *dir, bool *ret);
int cgroup_v2_set_resources(const char *dir, const struct oci_resources *res);
int cgroup_v2_set_unified(const char *dir, const struct oci_resources *res);
int cgroup_v2_set_hugetlb(const char *dir, const struct oci_resources *res);

/* cgroup.c: small file helpers that name the file in errors. */
int cgroup_write(const char *dir, const char *file, const char *val);
int cgroup_writef(const char *dir, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cgroup_read(const char *dir, const char *file, char **ret);
bool cgroup_has_file(const char *dir, const char *file);
/* pids listed in dir/cgroup.procs */
int cgroup_read_procs(const char *dir, pid_t **ret, size_t *ret_n);
/* rmdir dir and any child cgroups, depth first, retrying EBUSY for a while. */
int cgroup_rmdir_tree(const char *dir);
/* Sleep for ms milliseconds (EINTR-safe enough for polling). */
void cgroup_sleep_ms(unsigned ms);
/* Wait for a freezer's state to change: 20 us first, doubling up to 1 ms.
 * A container's tasks stop in microseconds, and the freeze of a container
 * being migrated counts in its downtime; *us starts at 0. */
void cgroup_backoff(unsigned *us);

#endif
