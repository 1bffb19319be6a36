/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroups: one interface over v1, hybrid (v1 controllers + cgroup2 at
 * /sys/fs/cgroup/unified, as on this machine) and pure v2 hosts, chosen by
 * detection. A struct cgroup names one container's cgroup in every hierarchy.
 */
#ifndef SKUA_CGROUPS_CGROUP_H
#define SKUA_CGROUPS_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "oci/config.h"

enum cgroup_mode { CGROUP_MODE_V1, CGROUP_MODE_HYBRID, CGROUP_MODE_V2 };

struct cgroup;

enum cgroup_mode cgroup_detect_mode(void);

/* Name the cgroup; no filesystem change. cgroups_path is config's
 * linux.cgroupsPath (absolute or relative; NULL: "/skua/<id>"); with
 * systemd, "slice:prefix:name" is accepted and mapped to a path. */
int cgroup_new(const char *cgroups_path, const char *id, bool systemd, struct cgroup **ret);
/* The relative path inside each hierarchy, e.g. "/skua/ID" (for state.json). */
const char *cgroup_path(const struct cgroup *cg);
/* Directory of the freezer (v1 freezer dir or v2 dir), for the engine. */
const char *cgroup_freezer_dir(const struct cgroup *cg);
/* Directory whose cgroup.procs lists the container's processes. */
const char *cgroup_procs_dir(const struct cgroup *cg);
int cgroup_create(struct cgroup *cg);
int cgroup_enter(struct cgroup *cg, pid_t pid);
int cgroup_set(struct cgroup *cg, const struct oci_resources *res);
/* Allow rwm on the nodes of linux.devices, as runc does after the rules of
 * linux.resources.devices (call after cgroup_set). v1 devices controller
 * only; a no-op on v2 and when no devices controller is mounted. */
int cgroup_allow_devices(struct cgroup *cg, const struct oci_device *devs, size_t n);
/* Freeze and wait until FROZEN (polls from 20 us to 1 ms apart, deadline 10 s,
 * thaw on failure). */
int cgroup_freeze(struct cgroup *cg);
/* The same, for a freeze that lasts only while the runtime works on the
 * tree (checkpoint): where it can, the fastest freezer this host has
 * (v1.c); cgroup_thaw undoes it, cgroup_is_frozen sees it. */
int cgroup_freeze_brief(struct cgroup *cg);
int cgroup_thaw(struct cgroup *cg);
int cgroup_is_frozen(struct cgroup *cg, bool *ret);
/* Signal every process in the cgroup. */
int cgroup_kill(struct cgroup *cg, int sig);
/* The pids in the cgroup (host view), malloc'd array. */
int cgroup_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n);
/* Remove the directories (kills leftovers first if kill_first). */
int cgroup_destroy(struct cgroup *cg, bool kill_first);
void cgroup_free(struct cgroup *cg);

#endif
