/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The steps that turn a config into an isolated process, called by the
 * container init (runtime/init.c) in this order:
 *
 *   setup_namespaces_join()       join namespaces given by path (before clone of the rest)
 *   [user ns: parent writes uid/gid maps: setup_write_id_maps()]
 *   setup_rootfs()                mount propagation, rootfs bind, spec mounts, /dev,
 *                                 devices, pivot_root (or chroot for --no-pivot),
 *                                 masked and readonly paths, readonly root
 *   setup_hostname(), setup_sysctl()
 *   setup_rlimits(), setup_oom_score_adj()
 *   setup_user()                  setgroups/setgid/setuid keeping caps as needed
 *   setup_caps()                  bounding, ambient, then effective/permitted/inheritable
 *   setup_no_new_privs(), setup_seccomp()   seccomp last, right before exec
 *
 * Each returns 0 or -errno with err_set() context naming the path or field.
 */
#ifndef SKUA_RUNTIME_SETUP_H
#define SKUA_RUNTIME_SETUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "oci/config.h"

int setup_namespaces_join(const struct oci_config *c);
int setup_write_id_maps(pid_t pid, const struct oci_config *c);
/* console_path: if not NULL, bind-mount this pty slave onto /dev/console. */
int setup_rootfs(const struct oci_config *c, bool no_pivot, const char *console_path);
int setup_hostname(const struct oci_config *c);
/* In a new network namespace, bring lo up (as runc does). */
int setup_loopback(const struct oci_config *c);
int setup_sysctl(const struct oci_config *c);
int setup_rlimits(const struct oci_process *p);
int setup_oom_score_adj(const struct oci_process *p);
int setup_user(const struct oci_process *p);
int setup_caps(const struct oci_process *p);
int setup_no_new_privs(const struct oci_process *p);
int setup_seccomp(const struct oci_seccomp *s);

#endif
