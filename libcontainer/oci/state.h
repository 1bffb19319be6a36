/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two state documents: what `skua state` prints (runc's shape, pretty
 * printed) and the runtime-spec state object hooks read on stdin.
 * The struct borrows its strings; nothing here allocates except *ret.
 */
#ifndef SKUA_OCI_STATE_H
#define SKUA_OCI_STATE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* The runtime-spec version we implement, reported in state and features. */
#define OCI_SPEC_VERSION "1.0.2-dev"
#define OCI_SPEC_VERSION_MIN "1.0.0"

struct oci_state {
	const char *oci_version; /* NULL: OCI_SPEC_VERSION */
	const char *id;
	pid_t pid;               /* 0 when there is no process (stopped) */
	const char *status;      /* "creating", "created", "running", "paused", "stopped" */
	const char *bundle;
	const char *rootfs;
	const char *created;     /* RFC 3339 with nanoseconds, see oci_time_rfc3339() */
	const char *owner;       /* "" for root, as runc */
	char *const *annotation_keys;
	char *const *annotation_values;
	size_t n_annotations;
};

/* `skua state`: {ociVersion,id,pid,status,bundle,rootfs,created,owner[,annotations]},
 * two-space indented like runc; annotations only when there are some. */
int oci_state_json(const struct oci_state *s, char **ret);
/* The runtime-spec state for hooks: {ociVersion,id,status,pid,bundle,annotations},
 * compact; pid left out when 0. */
int oci_state_hook_json(const struct oci_state *s, char **ret);
/* Format a CLOCK_REALTIME time as Go's RFC3339Nano in UTC
 * ("2024-05-01T10:11:12.123456789Z", trailing zeros of the fraction dropped).
 * buf needs at least 40 bytes. Returns buf. */
char *oci_time_rfc3339(const struct timespec *ts, char *buf, size_t len);

#endif
