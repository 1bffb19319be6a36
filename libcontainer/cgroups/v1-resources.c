// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * linux.resources onto cgroup v1 files. A resource that was not requested
 * is never touched; one that was requested but whose file is missing on
 * this kernel fails with an error naming the resource and the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cgroups/cgroup-internal.h"

/* The hierarchy for a controller, or a clear error naming what was requested. */
static int need(struct cgroup *cg, const char *controller, const char *what, const char **ret_dir)
{
	struct cgroup_hier *h = cgroup_v1_find(cg, controller);

	if (!h)
		return err_set(ENOTSUP, "%s requested but the %s controller is not mounted", what,
			       controller);
	*ret_dir = h->dir;
	return 0;
}

static int need_file(const char *dir, const char *file, const char *what)
{
	if (!cgroup_has_file(dir, file))
		return err_set(ENOTSUP, "%s requested but %s/%s does not exist on this kernel", what,
			       dir, file);
	return 0;
}

/* memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every instant:
 * growing both needs memsw first, shrinking needs the limit first. */
static int set_limit_and_swap(const char *dir, const struct oci_resources *res)
{
	const struct oci_opt_i64 *limit = &res->memory.limit, *swap = &res->memory.swap;
	int r;

	if (swap->set && swap->v != -1 && !cgroup_has_file(dir, "memory.memsw.limit_in_bytes"))
		return err_set(ENOTSUP, "memory.swap requested but swap accounting is off "
					"(no %s/memory.memsw.limit_in_bytes)", dir);
	if (!swap->set || !cgroup_has_file(dir, "memory.memsw.limit_in_bytes")) {
		if (!limit->set)
			return 0;
		return cgroup_writef(dir, "memory.limit_in_bytes", "%" PRId64, limit->v);
	}
	if (!limit->set)
		return cgroup_writef(dir, "memory.memsw.limit_in_bytes", "%" PRId64, swap->v);
	r = cgroup_writef(dir, "memory.memsw.limit_in_bytes", "%" PRId64, swap->v);
	if (r == -EINVAL) {
		r = cgroup_writef(dir, "memory.limit_in_bytes", "%" PRId64, limit->v);
		if (r < 0)
			return r;
		return cgroup_writef(dir, "memory.memsw.limit_in_bytes", "%" PRId64, swap->v);
	}
	if (r < 0)
		return r;
	return cgroup_writef(dir, "memory.limit_in_bytes", "%" PRId64, limit->v);
}

static int set_memory(struct cgroup *cg, const struct oci_resources *res)
{
	const char *dir = NULL;
	int r;

	if (!res->memory.limit.set && !res->memory.swap.set && !res->memory.reservation.set &&
	    !res->memory.swappiness.set && !res->memory.disable_oom_killer)
		return 0;
	r = need(cg, "memory", "memory limits", &dir);
	if (r < 0)
		return r;
	r = set_limit_and_swap(dir, res);
	if (r < 0)
		return r;
	if (res->memory.reservation.set) {
		r = cgroup_writef(dir, "memory.soft_limit_in_bytes", "%" PRId64,
				  res->memory.reservation.v);
		if (r < 0)
			return r;
	}
	if (res->memory.swappiness.set) {
		if (res->memory.swappiness.v > 100)
			return err_set(EINVAL, "memory.swappiness %" PRIu64 " is out of range 0-100",
				       res->memory.swappiness.v);
		r = cgroup_writef(dir, "memory.swappiness", "%" PRIu64, res->memory.swappiness.v);
		if (r < 0)
			return r;
	}
	/* kernel and kernelTCP are deprecated by the runtime spec and ignored, as runc does. */
	if (res->memory.disable_oom_killer)
		return cgroup_write(dir, "memory.oom_control", "1");
	return 0;
}

static int set_cpu(struct cgroup *cg, const struct oci_resources *res)
{
	const char *dir = NULL;
	int r;

	if (res->cpu.shares.set || res->cpu.period.set || res->cpu.quota.set ||
	    res->cpu.realtime_period.set || res->cpu.realtime_runtime.set || res->cpu.idle.set) {
		r = need(cg, "cpu", "cpu limits", &dir);
		if (r < 0)
			return r;
		if (res->cpu.shares.set &&
		    (r = cgroup_writef(dir, "cpu.shares", "%" PRIu64, res->cpu.shares.v)) < 0)
			return r;
		/* The period may be refused while the old quota does not fit it: quota first then. */
		if (res->cpu.period.set) {
			r = cgroup_writef(dir, "cpu.cfs_period_us", "%" PRIu64, res->cpu.period.v);
			if (r == -EINVAL && res->cpu.quota.set) {
				r = cgroup_writef(dir, "cpu.cfs_quota_us", "%" PRId64, res->cpu.quota.v);
				if (r == 0)
					r = cgroup_writef(dir, "cpu.cfs_period_us", "%" PRIu64,
							  res->cpu.period.v);
			}
			if (r < 0)
				return r;
		}
		if (res->cpu.quota.set &&
		    (r = cgroup_writef(dir, "cpu.cfs_quota_us", "%" PRId64, res->cpu.quota.v)) < 0)
			return r;
		if (res->cpu.realtime_period.set &&
		    (r = cgroup_writef(dir, "cpu.rt_period_us", "%" PRIu64,
				       res->cpu.realtime_period.v)) < 0)
			return r;
		if (res->cpu.realtime_runtime.set &&
		    (r = cgroup_writef(dir, "cpu.rt_runtime_us", "%" PRId64,
				       res->cpu.realtime_runtime.v)) < 0)
			return r;
		if (res->cpu.idle.set) {
			if ((r = need_file(dir, "cpu.idle", "cpu.idle")) < 0)
				return r;
			if ((r = cgroup_writef(dir, "cpu.idle", "%" PRId64, res->cpu.idle.v)) < 0)
				return r;
		}
	}
	if (res->cpu.cpus || res->cpu.mems) {
		r = need(cg, "cpuset", "cpu.cpus/cpu.mems", &dir);
		if (r < 0)
			return r;
		if (res->cpu.cpus && (r = cgroup_write(dir, "cpuset.cpus", res->cpu.cpus)) < 0)
			return r;
		if (res->cpu.mems && (r = cgroup_write(dir, "cpuset.mems", res->cpu.mems)) < 0)
			return r;
	}
	return 0;
}

static int set_pids(struct cgroup *cg, const struct oci_resources *res)
{
	const char *dir = NULL;
	int r;

	/* runtime-spec: 0 or negative means no limit; runc treats 0 as "not set". */
	if (!res->pids.limit.set || res->pids.limit.v == 0)
		return 0;
	r = need(cg, "pids", "pids.limit", &dir);
	if (r < 0)
		return r;
	if (res->pids.limit.v < 0)
		return cgroup_write(dir, "pids.max", "max");
	return cgroup_writef(dir, "pids.max", "%" PRId64, res->pids.limit.v);
}

/* Older kernels have blkio.weight (CFQ); current ones only the BFQ files. */
static const char *blkio_file(const char *dir, const char *plain, const char *bfq)
{
	return cgroup_has_file(dir, plain) ? plain : bfq;
}

static int write_throttle(const char *dir, const char *file, const struct oci_throttle_device *d,
			  size_t n)
{
	int r;

	if (n && (r = need_file(dir, file, file)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = cgroup_writef(dir, file, "%" PRId64 ":%" PRId64 " %" PRIu64, d[i].major,
				  d[i].minor, d[i].rate);
		if (r < 0)
			return r;
	}
	return 0;
}

static int set_blkio(struct cgroup *cg, const struct oci_resources *res)
{
	const char *dir = NULL, *f;
	int r;

	if (!res->blkio.weight.set && !res->blkio.leaf_weight.set && !res->blkio.n_weight_devices &&
	    !res->blkio.n_read_bps && !res->blkio.n_write_bps && !res->blkio.n_read_iops &&
	    !res->blkio.n_write_iops)
		return 0;
	r = need(cg, "blkio", "blkio limits", &dir);
	if (r < 0)
		return r;
	if (res->blkio.weight.set) {
		f = blkio_file(dir, "blkio.weight", "blkio.bfq.weight");
		if ((r = need_file(dir, f, "blkio.weight")) < 0 ||
		    (r = cgroup_writef(dir, f, "%" PRIu64, res->blkio.weight.v)) < 0)
			return r;
	}
	if (res->blkio.leaf_weight.set) {
		if ((r = need_file(dir, "blkio.leaf_weight", "blkio.leafWeight")) < 0 ||
		    (r = cgroup_writef(dir, "blkio.leaf_weight", "%" PRIu64,
				       res->blkio.leaf_weight.v)) < 0)
			return r;
	}
	f = blkio_file(dir, "blkio.weight_device", "blkio.bfq.weight_device");
	for (size_t i = 0; i < res->blkio.n_weight_devices; i++) {
		const struct oci_weight_device *w = &res->blkio.weight_devices[i];
		if (!w->has_weight)
			continue;
		if ((r = need_file(dir, f, "blkio.weightDevice")) < 0 ||
		    (r = cgroup_writef(dir, f, "%" PRId64 ":%" PRId64 " %u", w->major, w->minor,
				       (unsigned)w->weight)) < 0)
			return r;
	}
	if ((r = write_throttle(dir, "blkio.throttle.read_bps_device", res->blkio.read_bps,
				res->blkio.n_read_bps)) < 0 ||
	    (r = write_throttle(dir, "blkio.throttle.write_bps_device", res->blkio.write_bps,
				res->blkio.n_write_bps)) < 0 ||
	    (r = write_throttle(dir, "blkio.throttle.read_iops_device", res->blkio.read_iops,
				res->blkio.n_read_iops)) < 0 ||
	    (r = write_throttle(dir, "blkio.throttle.write_iops_device", res->blkio.write_iops,
				res->blkio.n_write_iops)) < 0)
		return r;
	return 0;
}

static int set_hugetlb(struct cgroup *cg, const struct oci_resources *res)
{
	struct cgroup_hier *h;
	int r;

	if (!res->n_hugepages)
		return 0;
	h = cgroup_v1_find(cg, "hugetlb");
	if (!h) {
		if (!cg->unified_dir)
			return err_set(ENOTSUP, "hugepageLimits requested but no hugetlb controller is "
						"mounted (v1) and there is no unified hierarchy");
		r = cgroup_v2_enable(CGROUP_UNIFIED_HYBRID, cg->path, "hugetlb");
		if (r < 0)
			return err_wrap(r, "hugepageLimits: enabling hugetlb in the unified tree");
		return cgroup_v2_set_hugetlb(cg->unified_dir, res);
	}
	for (size_t i = 0; i < res->n_hugepages; i++) {
		char file[128];

		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", res->hugepages[i].page_size);
		if ((r = need_file(h->dir, file, "hugepageLimits")) < 0 ||
		    (r = cgroup_writef(h->dir, file, "%" PRIu64, res->hugepages[i].limit)) < 0)
			return r;
	}
	return 0;
}

/* What every runc container may use whatever its config says (runc's AllowedDevices). */
static const char *const default_allowed[] = {
	"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm",
	"c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
};

static void device_rule(const struct oci_device_rule *d, char *buf, size_t len)
{
	char maj[24], min[24];
	char type = d->type ? d->type : 'a';

	if (type == 'a') {
		snprintf(buf, len, "a");
		return;
	}
	if (d->major < 0)
		snprintf(maj, sizeof(maj), "*");
	else
		snprintf(maj, sizeof(maj), "%" PRId64, d->major);
	if (d->minor < 0)
		snprintf(min, sizeof(min), "*");
	else
		snprintf(min, sizeof(min), "%" PRId64, d->minor);
	snprintf(buf, len, "%c %s:%s %s", type, maj, min, d->access && *d->access ? d->access : "rwm");
}

static int set_devices(struct cgroup *cg, const struct oci_resources *res)
{
	const char *dir = NULL;
	char rule[96];
	int r;

	if (!res->n_devices)
		return 0;
	r = need(cg, "devices", "linux.resources.devices", &dir);
	if (r < 0)
		return r;
	/* Start from nothing, then the config's rules in order, then runc's defaults. */
	if ((r = cgroup_write(dir, "devices.deny", "a")) < 0)
		return r;
	for (size_t i = 0; i < res->n_devices; i++) {
		const struct oci_device_rule *d = &res->devices[i];

		device_rule(d, rule, sizeof(rule));
		r = cgroup_write(dir, d->allow ? "devices.allow" : "devices.deny", rule);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_allowed); i++)
		if ((r = cgroup_write(dir, "devices.allow", default_allowed[i])) < 0)
			return r;
	return 0;
}

int cgroup_allow_devices(struct cgroup *cg, const struct oci_device *devs, size_t n)
{
	struct cgroup_hier *h = cgroup_v1_find(cg, "devices");
	int r;

	if (!h)
		return 0;
	for (size_t i = 0; i < n; i++) {
		/* 'u' is an unbuffered char device; fifos ('p') need no rule */
		char type = devs[i].type == 'u' ? 'c' : devs[i].type;

		if (type != 'c' && type != 'b')
			continue;
		r = cgroup_writef(h->dir, "devices.allow", "%c %" PRId64 ":%" PRId64 " rwm", type,
				  devs[i].major, devs[i].minor);
		if (r < 0)
			return err_wrap(r, "allowing device %s", devs[i].path);
	}
	return 0;
}

int cgroup_v1_set_resources(struct cgroup *cg, const struct oci_resources *res)
{
	int r;

	if ((r = set_devices(cg, res)) < 0 || (r = set_memory(cg, res)) < 0 ||
	    (r = set_cpu(cg, res)) < 0 || (r = set_pids(cg, res)) < 0 ||
	    (r = set_blkio(cg, res)) < 0 || (r = set_hugetlb(cg, res)) < 0)
		return r;
	return 0;
}
