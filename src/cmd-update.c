// SPDX-License-Identifier: GPL-2.0-or-later
/* update: new cgroup limits from a resources JSON (-r FILE, "-" for stdin)
 * and/or runc's individual flags, which win over the file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/config.h"
#include "runtime/container.h"
#include "src/commands.h"

struct update_args {
	const char *resources, *blkio_weight, *cpu_period, *cpu_quota, *cpu_shares,
		*rt_period, *rt_runtime, *cpus, *mems, *memory, *mem_res, *mem_swap, *pids_limit;
};

/* "512", "512k", "64m", "1g" (binary units, as go-units RAMInBytes); "-1" = unlimited. */
static int parse_size(const char *s, const char *flag, int64_t *ret)
{
	char *end;
	double v;
	int64_t mul = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		goto bad;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'k': mul = 1LL << 10; end++; break;
	case 'm': mul = 1LL << 20; end++; break;
	case 'g': mul = 1LL << 30; end++; break;
	case 't': mul = 1LL << 40; end++; break;
	default: goto bad;
	}
	if (tolower((unsigned char)*end) == 'b' || tolower((unsigned char)*end) == 'i')
		end++;
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end)
		goto bad;
	*ret = (int64_t)(v * mul);
	return 0;
bad:
	return err_set(EINVAL, "invalid value for --%s: %s", flag, s);
}

static int parse_i64(const char *s, const char *flag, int64_t *ret)
{
	char *end;

	errno = 0;
	*ret = strtoll(s, &end, 10);
	if (errno || !*s || *end)
		return err_set(EINVAL, "invalid value for --%s: %s", flag, s);
	return 0;
}

#define SET_I64(field, str, flag, parser)                                      \
	do {                                                                   \
		if (str) {                                                     \
			int64_t _v;                                            \
			if ((r = parser(str, flag, &_v)) < 0)                  \
				return r;                                      \
			field.v = _v;                                          \
			field.set = true;                                      \
		}                                                              \
	} while (0)

/* The resources object is parsed by the config parser, wrapped in a config. */
static int update_load_file(const char *path, struct oci_config **ret)
{
	_cleanup_free_ char *text = NULL, *wrapped = NULL;
	int r;

	r = path && streq(path, "-") ? read_file("/dev/stdin", &text, NULL, 0)
				     : read_file(path, &text, NULL, 0);
	if (r < 0)
		return err_sys(-r, "reading resources from %s", path);
	if (asprintf(&wrapped, "{\"ociVersion\":\"1.0.2\",\"linux\":{\"resources\":%s}}", text) < 0)
		return -ENOMEM;
	r = oci_config_parse(wrapped, NULL, ret);
	return r < 0 ? err_wrap(r, "--resources %s", path) : 0;
}

static int update_apply_flags(struct oci_resources *res, const struct update_args *a)
{
	int r;

	SET_I64(res->memory.limit, a->memory, "memory", parse_size);
	SET_I64(res->memory.reservation, a->mem_res, "memory-reservation", parse_size);
	SET_I64(res->memory.swap, a->mem_swap, "memory-swap", parse_size);
	SET_I64(res->pids.limit, a->pids_limit, "pids-limit", parse_i64);
	SET_I64(res->cpu.quota, a->cpu_quota, "cpu-quota", parse_i64);
	SET_I64(res->cpu.realtime_runtime, a->rt_runtime, "cpu-rt-runtime", parse_i64);
	SET_I64(res->cpu.shares, a->cpu_shares, "cpu-share", parse_i64);
	SET_I64(res->cpu.period, a->cpu_period, "cpu-period", parse_i64);
	SET_I64(res->cpu.realtime_period, a->rt_period, "cpu-rt-period", parse_i64);
	SET_I64(res->blkio.weight, a->blkio_weight, "blkio-weight", parse_i64);
	if (a->cpus) {
		free(res->cpu.cpus);
		if (!(res->cpu.cpus = strdup(a->cpus)))
			return -ENOMEM;
	}
	if (a->mems) {
		free(res->cpu.mems);
		if (!(res->cpu.mems = strdup(a->mems)))
			return -ENOMEM;
	}
	return 0;
}

static void config_freep(struct oci_config **c)
{
	if (*c)
		oci_config_free(*c);
}

int cmd_update(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"update", "[command options] <container-id>",
		"Update the resource limits of a container.",
	};
	struct update_args a = { 0 };
	const struct opt opts[] = {
		{ "resources", "r", OPT_STR, &a.resources, "path to a resources JSON file, or '-' for stdin" },
		{ "blkio-weight", NULL, OPT_STR, &a.blkio_weight, "block IO weight (10-1000)" },
		{ "cpu-period", NULL, OPT_STR, &a.cpu_period, "CPU CFS period in microseconds" },
		{ "cpu-quota", NULL, OPT_STR, &a.cpu_quota, "CPU CFS quota in microseconds" },
		{ "cpu-share", NULL, OPT_STR, &a.cpu_shares, "CPU shares (relative weight)" },
		{ "cpu-rt-period", NULL, OPT_STR, &a.rt_period, "CPU realtime period in microseconds" },
		{ "cpu-rt-runtime", NULL, OPT_STR, &a.rt_runtime, "CPU realtime runtime in microseconds" },
		{ "cpuset-cpus", NULL, OPT_STR, &a.cpus, "CPUs to use" },
		{ "cpuset-mems", NULL, OPT_STR, &a.mems, "memory nodes to use" },
		{ "memory", NULL, OPT_STR, &a.memory, "memory limit (in bytes, or with k/m/g)" },
		{ "memory-reservation", NULL, OPT_STR, &a.mem_res, "memory soft limit" },
		{ "memory-swap", NULL, OPT_STR, &a.mem_swap, "memory plus swap limit; -1 for unlimited" },
		{ "pids-limit", NULL, OPT_STR, &a.pids_limit, "maximum number of pids; -1 for unlimited" },
		{ NULL },
	};
	_cleanup_container_ struct container *c = NULL;
	_cleanup_(config_freep) struct oci_config *cfg = NULL;
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 1, 1)) >= 0)
		return r;
	if (a.resources)
		r = update_load_file(a.resources, &cfg);
	else
		r = oci_config_parse("{\"ociVersion\":\"1.0.2\",\"linux\":{\"resources\":{}}}",
				     NULL, &cfg);
	if (r < 0)
		return cli_error(r);
	r = update_apply_flags(&cfg->linux_.resources, &a);
	if (r >= 0)
		r = container_load(g->root, argv[ind], &c);
	if (r >= 0)
		r = container_update(c, &cfg->linux_.resources);
	return r < 0 ? cli_error(r) : 0;
}
