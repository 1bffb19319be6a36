// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json "linux.resources": cgroup limits, kept as given (absent stays unset). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "oci/parse.h"

void oci_resources_free(struct oci_resources *r)
{
	for (size_t i = 0; i < r->n_devices; i++)
		free(r->devices[i].access);
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->blkio.weight_devices);
	free(r->blkio.read_bps);
	free(r->blkio.write_bps);
	free(r->blkio.read_iops);
	free(r->blkio.write_iops);
	for (size_t i = 0; i < r->n_hugepages; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
	oci_string_map_free(r->unified_keys, r->unified_values, r->n_unified);
	memset(r, 0, sizeof(*r));
}

static int i64(yajl_val o, const char *key, const char *base, struct oci_opt_i64 *v)
{
	return oci_get_i64(o, key, base, &v->v, &v->set);
}

static int u64(yajl_val o, const char *key, const char *base, struct oci_opt_u64 *v)
{
	return oci_get_u64(o, key, base, &v->v, &v->set);
}

/* A device number in a rule: absent or -1 both mean "any". */
static int dev_number(yajl_val o, const char *key, const char *base, int64_t *ret)
{
	*ret = -1;
	return oci_get_i64(o, key, base, ret, NULL);
}

static int parse_device_rules(yajl_val res, const char *base, struct oci_resources *rs)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX], ff[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(res, "devices", base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, "devices");
	size_t n = arr->u.array.len;
	rs->devices = calloc(n ? n : 1, sizeof(*rs->devices));
	if (!rs->devices)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = arr->u.array.values[i];
		struct oci_device_rule *d = &rs->devices[i];
		_cleanup_free_ char *type = NULL;

		oci_field_idx(fi, f, i);
		rs->n_devices++;
		if ((r = oci_expect_obj(e, fi)) < 0 ||
		    (r = oci_get_bool(e, "allow", fi, &d->allow)) < 0 ||
		    (r = oci_get_str_dup(e, "type", fi, &type)) < 0 ||
		    (r = dev_number(e, "major", fi, &d->major)) < 0 ||
		    (r = dev_number(e, "minor", fi, &d->minor)) < 0 ||
		    (r = oci_get_str_dup(e, "access", fi, &d->access)) < 0)
			return r;
		if (!json_get(e, "allow"))
			return err_set(EINVAL, "%s: missing", oci_field(ff, fi, "allow"));
		d->type = 'a';
		if (type) {
			if (strlen(type) != 1 || !strchr("abc", type[0]))
				return err_set(EINVAL, "%s: \"%s\" is not one of a, b, c",
					       oci_field(ff, fi, "type"), type);
			d->type = type[0];
		}
		if (d->access && strspn(d->access, "rwm") != strlen(d->access))
			return err_set(EINVAL, "%s: \"%s\" is not a subset of \"rwm\"",
				       oci_field(ff, fi, "access"), d->access);
	}
	return 0;
}

static int parse_memory(yajl_val res, const char *base, struct oci_resources *rs)
{
	char f[OCI_FIELD_MAX];
	yajl_val m, sw;
	int r;

	if ((r = oci_get_obj(res, "memory", base, &m)) < 0 || !m)
		return r;
	oci_field(f, base, "memory");
	if ((r = i64(m, "limit", f, &rs->memory.limit)) < 0 ||
	    (r = i64(m, "reservation", f, &rs->memory.reservation)) < 0 ||
	    (r = i64(m, "swap", f, &rs->memory.swap)) < 0 ||
	    (r = i64(m, "kernel", f, &rs->memory.kernel)) < 0 ||
	    (r = i64(m, "kernelTCP", f, &rs->memory.kernel_tcp)) < 0 ||
	    (r = oci_get_bool(m, "disableOOMKiller", f, &rs->memory.disable_oom_killer)) < 0)
		return r;
	rs->memory.has_disable_oom_killer = json_get(m, "disableOOMKiller") != NULL;
	/* some engines send -1 for "leave swappiness alone" */
	sw = json_get(m, "swappiness");
	if (sw && YAJL_IS_INTEGER(sw) && YAJL_GET_INTEGER(sw) < 0)
		return 0;
	return u64(m, "swappiness", f, &rs->memory.swappiness);
}

static int parse_cpu(yajl_val res, const char *base, struct oci_resources *rs)
{
	char f[OCI_FIELD_MAX];
	yajl_val c;
	int r;

	if ((r = oci_get_obj(res, "cpu", base, &c)) < 0 || !c)
		return r;
	oci_field(f, base, "cpu");
	if ((r = u64(c, "shares", f, &rs->cpu.shares)) < 0 ||
	    (r = i64(c, "quota", f, &rs->cpu.quota)) < 0 ||
	    (r = u64(c, "period", f, &rs->cpu.period)) < 0 ||
	    (r = i64(c, "realtimeRuntime", f, &rs->cpu.realtime_runtime)) < 0 ||
	    (r = u64(c, "realtimePeriod", f, &rs->cpu.realtime_period)) < 0 ||
	    (r = i64(c, "idle", f, &rs->cpu.idle)) < 0 ||
	    (r = oci_get_str_dup(c, "cpus", f, &rs->cpu.cpus)) < 0 ||
	    (r = oci_get_str_dup(c, "mems", f, &rs->cpu.mems)) < 0)
		return r;
	return 0;
}

static int parse_weight_devices(yajl_val bio, const char *base, struct oci_resources *rs)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(bio, "weightDevice", base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, "weightDevice");
	size_t n = arr->u.array.len;
	rs->blkio.weight_devices = calloc(n ? n : 1, sizeof(*rs->blkio.weight_devices));
	if (!rs->blkio.weight_devices)
		return -ENOMEM;
	rs->blkio.n_weight_devices = n;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = arr->u.array.values[i];
		struct oci_weight_device *w = &rs->blkio.weight_devices[i];
		uint32_t wt = 0, lwt = 0;

		oci_field_idx(fi, f, i);
		if ((r = oci_expect_obj(e, fi)) < 0 ||
		    (r = oci_get_i64(e, "major", fi, &w->major, NULL)) < 0 ||
		    (r = oci_get_i64(e, "minor", fi, &w->minor, NULL)) < 0 ||
		    (r = oci_get_u32(e, "weight", fi, &wt, &w->has_weight)) < 0 ||
		    (r = oci_get_u32(e, "leafWeight", fi, &lwt, &w->has_leaf_weight)) < 0)
			return r;
		if (wt > UINT16_MAX || lwt > UINT16_MAX)
			return err_set(ERANGE, "%s: weight out of range", fi);
		w->weight = wt;
		w->leaf_weight = lwt;
	}
	return 0;
}

static int parse_throttle(yajl_val bio, const char *key, const char *base,
			  struct oci_throttle_device **ret, size_t *ret_n)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(bio, key, base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, key);
	size_t n = arr->u.array.len;
	_cleanup_free_ struct oci_throttle_device *t = calloc(n ? n : 1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = arr->u.array.values[i];
		oci_field_idx(fi, f, i);
		if ((r = oci_expect_obj(e, fi)) < 0 ||
		    (r = oci_get_i64(e, "major", fi, &t[i].major, NULL)) < 0 ||
		    (r = oci_get_i64(e, "minor", fi, &t[i].minor, NULL)) < 0 ||
		    (r = oci_get_u64(e, "rate", fi, &t[i].rate, NULL)) < 0)
			return r;
	}
	*ret = TAKE_PTR(t);
	*ret_n = n;
	return 0;
}

static int parse_blkio(yajl_val res, const char *base, struct oci_resources *rs)
{
	char f[OCI_FIELD_MAX];
	yajl_val b;
	int r;

	if ((r = oci_get_obj(res, "blockIO", base, &b)) < 0 || !b)
		return r;
	oci_field(f, base, "blockIO");
	if ((r = u64(b, "weight", f, &rs->blkio.weight)) < 0 ||
	    (r = u64(b, "leafWeight", f, &rs->blkio.leaf_weight)) < 0 ||
	    (r = parse_weight_devices(b, f, rs)) < 0 ||
	    (r = parse_throttle(b, "throttleReadBpsDevice", f, &rs->blkio.read_bps,
				&rs->blkio.n_read_bps)) < 0 ||
	    (r = parse_throttle(b, "throttleWriteBpsDevice", f, &rs->blkio.write_bps,
				&rs->blkio.n_write_bps)) < 0 ||
	    (r = parse_throttle(b, "throttleReadIOPSDevice", f, &rs->blkio.read_iops,
				&rs->blkio.n_read_iops)) < 0 ||
	    (r = parse_throttle(b, "throttleWriteIOPSDevice", f, &rs->blkio.write_iops,
				&rs->blkio.n_write_iops)) < 0)
		return r;
	return 0;
}

static int parse_hugepages(yajl_val res, const char *base, struct oci_resources *rs)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX], ff[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(res, "hugepageLimits", base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, "hugepageLimits");
	size_t n = arr->u.array.len;
	rs->hugepages = calloc(n ? n : 1, sizeof(*rs->hugepages));
	if (!rs->hugepages)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = arr->u.array.values[i];
		struct oci_hugepage_limit *h = &rs->hugepages[i];

		oci_field_idx(fi, f, i);
		rs->n_hugepages++;
		if ((r = oci_expect_obj(e, fi)) < 0 ||
		    (r = oci_get_str_dup(e, "pageSize", fi, &h->page_size)) < 0 ||
		    (r = oci_get_u64(e, "limit", fi, &h->limit, NULL)) < 0)
			return r;
		if (!h->page_size)
			return err_set(EINVAL, "%s: missing", oci_field(ff, fi, "pageSize"));
	}
	return 0;
}

int oci_parse_resources(yajl_val v, const char *field, struct oci_resources *rs)
{
	char f[OCI_FIELD_MAX];
	yajl_val pids;
	int r;

	if ((r = oci_expect_obj(v, field)) < 0 ||
	    (r = parse_device_rules(v, field, rs)) < 0 ||
	    (r = parse_memory(v, field, rs)) < 0 ||
	    (r = parse_cpu(v, field, rs)) < 0 ||
	    (r = oci_get_obj(v, "pids", field, &pids)) < 0 ||
	    (pids && (r = i64(pids, "limit", oci_field(f, field, "pids"), &rs->pids.limit)) < 0) ||
	    (r = parse_blkio(v, field, rs)) < 0 ||
	    (r = parse_hugepages(v, field, rs)) < 0 ||
	    (r = oci_get_string_map(v, "unified", field, &rs->unified_keys,
				    &rs->unified_values, &rs->n_unified)) < 0)
		return r;
	return 0;
}
