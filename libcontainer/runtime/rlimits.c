// SPDX-License-Identifier: GPL-2.0-or-later
/* process.rlimits and process.oomScoreAdj. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "runtime/setup.h"

static const char *rlimit_name(int resource)
{
	static const char *const names[] = {
		[RLIMIT_CPU] = "RLIMIT_CPU",	     [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
		[RLIMIT_DATA] = "RLIMIT_DATA",	     [RLIMIT_STACK] = "RLIMIT_STACK",
		[RLIMIT_CORE] = "RLIMIT_CORE",	     [RLIMIT_RSS] = "RLIMIT_RSS",
		[RLIMIT_NPROC] = "RLIMIT_NPROC",     [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
		[RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK", [RLIMIT_AS] = "RLIMIT_AS",
		[RLIMIT_LOCKS] = "RLIMIT_LOCKS",     [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
		[RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
		[RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
	};
	if (resource >= 0 && (size_t)resource < ARRAY_SIZE(names) && names[resource])
		return names[resource];
	return "RLIMIT_?";
}

static void fmt_limit(char *buf, size_t len, uint64_t v)
{
	if (v == (uint64_t)RLIM_INFINITY)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%" PRIu64, v);
}

int setup_rlimits(const struct oci_process *p)
{
	for (size_t i = 0; p && i < p->n_rlimits; i++) {
		const struct oci_rlimit *l = &p->rlimits[i];
		struct rlimit rl = { .rlim_cur = l->soft, .rlim_max = l->hard };
		char soft[24], hard[24], cur[24];
		struct rlimit old;

		if (setrlimit(l->resource, &rl) == 0)
			continue;
		fmt_limit(soft, sizeof(soft), l->soft);
		fmt_limit(hard, sizeof(hard), l->hard);
		if (errno == EPERM && getrlimit(l->resource, &old) == 0) {
			fmt_limit(cur, sizeof(cur), old.rlim_max);
			return err_set(EPERM,
				       "setting rlimit %s to soft %s, hard %s: the hard limit is %s and raising it needs CAP_SYS_RESOURCE",
				       rlimit_name(l->resource), soft, hard, cur);
		}
		return err_sys(errno, "setting rlimit %s to soft %s, hard %s", rlimit_name(l->resource),
			       soft, hard);
	}
	return 0;
}

int setup_oom_score_adj(const struct oci_process *p)
{
	char buf[16];
	int r;

	if (!p || !p->has_oom_score_adj)
		return 0;
	snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
	r = write_string_file("/proc/self/oom_score_adj", buf);
	if (r < 0)
		return err_sys(-r, "setting oom_score_adj to %d", p->oom_score_adj);
	return 0;
}
