/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/{status,stat,fdinfo/N} parsing for the dumper. */
#ifndef SKUA_CR_PROC_PARSE_H
#define SKUA_CR_PROC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_status {
	char state;                     /* R, S, D, T, t, Z, X ... */
	pid_t ppid;
	pid_t ns_pid, ns_pgid, ns_sid;  /* innermost pid namespace */
	int ns_levels;                  /* how many entries NSpid had */
	unsigned int umask;
	bool has_umask;
	uint32_t uid[4], gid[4];        /* real, effective, saved, fs */
	uint32_t *groups;
	size_t n_groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool no_new_privs;
	uint64_t sig_cgt, sig_ign;      /* process-wide: caught, ignored */
	int seccomp;                    /* 0 off, 1 strict, 2 filter */
};

/* Parse /proc/<pid>/status (pid may be "pid/task/tid" via the path form). */
int proc_parse_status(pid_t pid, struct proc_status *ret);
int proc_parse_status_path(const char *path, struct proc_status *ret);
void proc_status_free(struct proc_status *st);

/* Fields of /proc/<pid>/stat by their proc(5) number (1-based); field 3
 * (state) is the character's code, field 2 (comm) is 0. */
#define PROC_STAT_FIELDS 53
int proc_parse_stat(pid_t pid, unsigned long long ret[PROC_STAT_FIELDS]);

/* Read a small /proc file into buf (NUL-terminated, trailing newline cut). */
int proc_read_line(const char *path, char *buf, size_t len);
/* readlink into buf (NUL-terminated). */
int proc_readlink(const char *path, char *buf, size_t len);

/* Value of "key:" in fdinfo-style text (the rest of that line, trimmed), or NULL. */
const char *proc_field(const char *text, const char *key, char *buf, size_t len);

#endif
