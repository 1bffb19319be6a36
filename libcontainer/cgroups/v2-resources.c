// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * linux.resources onto cgroup v2 files, with runc's conversions of the
 * v1-shaped spec values (shares -> cpu.weight, blkio weight -> io.weight,
 * memory+swap -> memory.swap.max).
 *
 * Devices: v2 has no devices files; the kernel wants an eBPF program
 * attached to the cgroup. skua does not build one yet, so device rules
 * are skipped on v2 (the container still only sees the nodes created in
 * its /dev). Requested v1-only knobs (swappiness, disableOOMKiller,
 * realtime, leafWeight) fail by name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cgroups/cgroup-internal.h"

static int need_file(const char *dir, const char *file, const char *what)
{
	if (!cgroup_has_file(dir, file))
		return err_set(ENOTSUP, "%s requested but %s/%s does not exist "
					"(controller not enabled or not available)", what, dir, file);
	return 0;
}

static int unsupported(const char *what)
{
	return err_set(ENOTSUP, "%s is not supported on cgroup v2", what);
}

static int write_limit(const char *dir, const char *file, int64_t v)
{
	if (v < 0)
		return cgroup_write(dir, file, "max");
	return cgroup_writef(dir, file, "%" PRId64, v);
}

static int set_memory(const char *dir, const struct oci_resources *res)
{
	int64_t limit = res->memory.limit.set ? res->memory.limit.v : 0;
	int r;

	if (res->memory.swappiness.set)
		return unsupported("memory.swappiness");
	if (res->memory.disable_oom_killer)
		return unsupported("memory.disableOOMKiller");
	if (res->memory.swap.set && res->memory.swap.v != 0) {
		int64_t swap = res->memory.swap.v;
		if (swap != -1) {
			if (limit <= 0)
				return err_set(EINVAL, "memory.swap needs a memory.limit on cgroup v2");
			if (swap < limit)
				return err_set(EINVAL, "memory.swap (%" PRId64 ") is below memory.limit "
						       "(%" PRId64 ")", swap, limit);
			swap -= limit;
		}
		if ((r = need_file(dir, "memory.swap.max", "memory.swap")) < 0 ||
		    (r = write_limit(dir, "memory.swap.max", swap)) < 0)
			return r;
	}
	if (res->memory.limit.set && res->memory.limit.v != 0) {
		if ((r = need_file(dir, "memory.max", "memory.limit")) < 0 ||
		    (r = write_limit(dir, "memory.max", res->memory.limit.v)) < 0)
			return r;
	}
	if (res->memory.reservation.set && res->memory.reservation.v != 0) {
		if ((r = need_file(dir, "memory.low", "memory.reservation")) < 0 ||
		    (r = write_limit(dir, "memory.low", res->memory.reservation.v)) < 0)
			return r;
	}
	return 0;
}

static int set_cpu(const char *dir, const struct oci_resources *res)
{
	int r;

	if (res->cpu.realtime_period.set || res->cpu.realtime_runtime.set)
		return unsupported("cpu.realtimePeriod/realtimeRuntime");
	if (res->cpu.shares.set && res->cpu.shares.v) {
		uint64_t s = res->cpu.shares.v < 2 ? 2 : res->cpu.shares.v > 262144 ? 262144 : res->cpu.shares.v;
		if ((r = need_file(dir, "cpu.weight", "cpu.shares")) < 0 ||
		    (r = cgroup_writef(dir, "cpu.weight", "%" PRIu64, 1 + ((s - 2) * 9999) / 262142)) < 0)
			return r;
	}
	if (res->cpu.quota.set || res->cpu.period.set) {
		_cleanup_free_ char *cur = NULL;
		char quota[32] = "max";
		uint64_t period = 100000;

		if ((r = need_file(dir, "cpu.max", "cpu.quota/period")) < 0)
			return r;
		/* Keep the half that was not given. */
		if (cgroup_read(dir, "cpu.max", &cur) == 0)
			sscanf(cur, "%31s %" SCNu64, quota, &period);
		if (res->cpu.quota.set) {
			if (res->cpu.quota.v > 0)
				snprintf(quota, sizeof(quota), "%" PRId64, res->cpu.quota.v);
			else
				snprintf(quota, sizeof(quota), "max");
		}
		if (res->cpu.period.set && res->cpu.period.v)
			period = res->cpu.period.v;
		if ((r = cgroup_writef(dir, "cpu.max", "%s %" PRIu64, quota, period)) < 0)
			return r;
	}
	if (res->cpu.idle.set) {
		if ((r = need_file(dir, "cpu.idle", "cpu.idle")) < 0 ||
		    (r = cgroup_writef(dir, "cpu.idle", "%" PRId64, res->cpu.idle.v)) < 0)
			return r;
	}
	if (res->cpu.cpus && ((r = need_file(dir, "cpuset.cpus", "cpu.cpus")) < 0 ||
			      (r = cgroup_write(dir, "cpuset.cpus", res->cpu.cpus)) < 0))
		return r;
	if (res->cpu.mems && ((r = need_file(dir, "cpuset.mems", "cpu.mems")) < 0 ||
			      (r = cgroup_write(dir, "cpuset.mems", res->cpu.mems)) < 0))
		return r;
	return 0;
}

static int set_pids(const char *dir, const struct oci_resources *res)
{
	int r;

	if (!res->pids.limit.set || res->pids.limit.v == 0)
		return 0;
	if ((r = need_file(dir, "pids.max", "pids.limit")) < 0)
		return r;
	return write_limit(dir, "pids.max", res->pids.limit.v);
}

static uint64_t blkio_to_io_weight(uint64_t w)
{
	if (w < 10)
		w = 10;
	if (w > 1000)
		w = 1000;
	return 1 + (w - 10) * 9999 / 990;
}

static int write_io_max(const char *dir, const char *key, const struct oci_throttle_device *d,
			size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		if ((r = need_file(dir, "io.max", "blkio throttling")) < 0 ||
		    (r = cgroup_writef(dir, "io.max", "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
				       d[i].major, d[i].minor, key, d[i].rate)) < 0)
			return r;
	}
	return 0;
}

static int set_io(const char *dir, const struct oci_resources *res)
{
	const char *wf = cgroup_has_file(dir, "io.bfq.weight") ? "io.bfq.weight" : "io.weight";
	int r;

	if (res->blkio.leaf_weight.set)
		return unsupported("blkio.leafWeight");
	if (res->blkio.weight.set) {
		uint64_t w = blkio_to_io_weight(res->blkio.weight.v);
		if ((r = need_file(dir, wf, "blkio.weight")) < 0 ||
		    (r = cgroup_writef(dir, wf, "%" PRIu64, w)) < 0)
			return r;
	}
	for (size_t i = 0; i < res->blkio.n_weight_devices; i++) {
		const struct oci_weight_device *d = &res->blkio.weight_devices[i];
		if (!d->has_weight)
			continue;
		if ((r = need_file(dir, wf, "blkio.weightDevice")) < 0 ||
		    (r = cgroup_writef(dir, wf, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
				       d->minor, blkio_to_io_weight(d->weight))) < 0)
			return r;
	}
	if ((r = write_io_max(dir, "rbps", res->blkio.read_bps, res->blkio.n_read_bps)) < 0 ||
	    (r = write_io_max(dir, "wbps", res->blkio.write_bps, res->blkio.n_write_bps)) < 0 ||
	    (r = write_io_max(dir, "riops", res->blkio.read_iops, res->blkio.n_read_iops)) < 0 ||
	    (r = write_io_max(dir, "wiops", res->blkio.write_iops, res->blkio.n_write_iops)) < 0)
		return r;
	return 0;
}

int cgroup_v2_set_hugetlb(const char *dir, const struct oci_resources *res)
{
	int r;

	for (size_t i = 0; i < res->n_hugepages; i++) {
		char file[128];

		snprintf(file, sizeof(file), "hugetlb.%s.max", res->hugepages[i].page_size);
		if ((r = need_file(dir, file, "hugepageLimits")) < 0 ||
		    (r = cgroup_writef(dir, file, "%" PRIu64, res->hugepages[i].limit)) < 0)
			return r;
	}
	return 0;
}

int cgroup_v2_set_unified(const char *dir, const struct oci_resources *res)
{
	int r;

	for (size_t i = 0; i < res->n_unified; i++) {
		const char *k = res->unified_keys[i];

		if (!*k || strchr(k, '/') || streq(k, ".") || streq(k, ".."))
			return err_set(EINVAL, "linux.resources.unified: invalid key '%s'", k);
		if ((r = need_file(dir, k, "linux.resources.unified")) < 0 ||
		    (r = cgroup_write(dir, k, res->unified_values[i])) < 0)
			return r;
	}
	return 0;
}

int cgroup_v2_set_resources(const char *dir, const struct oci_resources *res)
{
	int r;

	if ((r = set_memory(dir, res)) < 0 || (r = set_cpu(dir, res)) < 0 ||
	    (r = set_pids(dir, res)) < 0 || (r = set_io(dir, res)) < 0)
		return r;
	return 0;
}
