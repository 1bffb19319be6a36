// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json "mounts": options are split into mount(2) flags, the flags a
 * remount must clear, the propagation change, and fs-specific data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "oci/parse.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

enum opt_kind { SET, CLEAR, PROPAGATION, REC_SET, REC_CLEAR };

static const struct {
	const char *name;
	enum opt_kind kind;
	unsigned long flag;
} mount_opts[] = {
	{ "defaults", SET, 0 },
	{ "ro", SET, MS_RDONLY },
	{ "rw", CLEAR, MS_RDONLY },
	{ "nosuid", SET, MS_NOSUID },
	{ "suid", CLEAR, MS_NOSUID },
	{ "nodev", SET, MS_NODEV },
	{ "dev", CLEAR, MS_NODEV },
	{ "noexec", SET, MS_NOEXEC },
	{ "exec", CLEAR, MS_NOEXEC },
	{ "sync", SET, MS_SYNCHRONOUS },
	{ "async", CLEAR, MS_SYNCHRONOUS },
	{ "dirsync", SET, MS_DIRSYNC },
	{ "remount", SET, MS_REMOUNT },
	{ "mand", SET, MS_MANDLOCK },
	{ "nomand", CLEAR, MS_MANDLOCK },
	{ "noatime", SET, MS_NOATIME },
	{ "atime", CLEAR, MS_NOATIME },
	{ "nodiratime", SET, MS_NODIRATIME },
	{ "diratime", CLEAR, MS_NODIRATIME },
	{ "relatime", SET, MS_RELATIME },
	{ "norelatime", CLEAR, MS_RELATIME },
	{ "strictatime", SET, MS_STRICTATIME },
	{ "nostrictatime", CLEAR, MS_STRICTATIME },
	{ "lazytime", SET, MS_LAZYTIME },
	{ "nolazytime", CLEAR, MS_LAZYTIME },
	{ "nosymfollow", SET, MS_NOSYMFOLLOW },
	{ "symfollow", CLEAR, MS_NOSYMFOLLOW },
	{ "silent", SET, MS_SILENT },
	{ "loud", CLEAR, MS_SILENT },
	{ "iversion", SET, MS_I_VERSION },
	{ "noiversion", CLEAR, MS_I_VERSION },
	{ "bind", SET, MS_BIND },
	{ "rbind", SET, MS_BIND | MS_REC },
	{ "private", PROPAGATION, MS_PRIVATE },
	{ "rprivate", PROPAGATION, MS_PRIVATE | MS_REC },
	{ "shared", PROPAGATION, MS_SHARED },
	{ "rshared", PROPAGATION, MS_SHARED | MS_REC },
	{ "slave", PROPAGATION, MS_SLAVE },
	{ "rslave", PROPAGATION, MS_SLAVE | MS_REC },
	{ "unbindable", PROPAGATION, MS_UNBINDABLE },
	{ "runbindable", PROPAGATION, MS_UNBINDABLE | MS_REC },
	{ "rro", REC_SET, MS_RDONLY },
	{ "rrw", REC_CLEAR, MS_RDONLY },
	{ "rnosuid", REC_SET, MS_NOSUID },
	{ "rsuid", REC_CLEAR, MS_NOSUID },
	{ "rnodev", REC_SET, MS_NODEV },
	{ "rdev", REC_CLEAR, MS_NODEV },
	{ "rnoexec", REC_SET, MS_NOEXEC },
	{ "rexec", REC_CLEAR, MS_NOEXEC },
	{ "rnoatime", REC_SET, MS_NOATIME },
	{ "ratime", REC_CLEAR, MS_NOATIME },
	{ "rnodiratime", REC_SET, MS_NODIRATIME },
	{ "rdiratime", REC_CLEAR, MS_NODIRATIME },
	{ "rrelatime", REC_SET, MS_RELATIME },
	{ "rnorelatime", REC_CLEAR, MS_RELATIME },
	{ "rstrictatime", REC_SET, MS_STRICTATIME },
	{ "rnostrictatime", REC_CLEAR, MS_STRICTATIME },
	{ "rnosymfollow", REC_SET, MS_NOSYMFOLLOW },
	{ "rsymfollow", REC_CLEAR, MS_NOSYMFOLLOW },
};

static void set_clear(unsigned long *set, unsigned long *clear, unsigned long f, bool on)
{
	if (on) {
		*set |= f;
		*clear &= ~f;
	} else {
		*set &= ~f;
		*clear |= f;
	}
}

bool oci_mount_option(const char *opt, struct oci_mount *m)
{
	if (streq(opt, "tmpcopyup")) {
		m->tmpcopyup = true;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++) {
		if (!streq(mount_opts[i].name, opt))
			continue;
		unsigned long f = mount_opts[i].flag;
		switch (mount_opts[i].kind) {
		case SET:
		case CLEAR:
			set_clear(&m->flags, &m->clear_flags, f, mount_opts[i].kind == SET);
			break;
		case REC_SET:
		case REC_CLEAR:
			set_clear(&m->rec_flags, &m->rec_clear_flags, f, mount_opts[i].kind == REC_SET);
			break;
		case PROPAGATION:
			/* the last propagation option wins, as with mount(8) */
			m->propagation = f;
			break;
		}
		return true;
	}
	return false;
}

const char *oci_mount_option_name(size_t i)
{
	return i < ARRAY_SIZE(mount_opts) ? mount_opts[i].name : NULL;
}

void oci_mounts_free(struct oci_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].destination);
		free(m[i].type);
		free(m[i].source);
		strvfreep(&m[i].options);
		free(m[i].data);
	}
	free(m);
}

static int append_data(char **data, const char *opt)
{
	char *s;
	size_t old = *data ? strlen(*data) : 0, add = strlen(opt);

	s = realloc(*data, old + add + 2);
	if (!s)
		return -ENOMEM;
	if (old)
		s[old++] = ',';
	memcpy(s + old, opt, add + 1);
	*data = s;
	return 0;
}

static int parse_mount(yajl_val v, const char *field, struct oci_mount *m)
{
	char f[OCI_FIELD_MAX];
	int r;

	if ((r = oci_expect_obj(v, field)) < 0 ||
	    (r = oci_get_str_dup(v, "destination", field, &m->destination)) < 0 ||
	    (r = oci_get_str_dup(v, "type", field, &m->type)) < 0 ||
	    (r = oci_get_str_dup(v, "source", field, &m->source)) < 0 ||
	    (r = oci_get_strv(v, "options", field, &m->options)) < 0)
		return r;
	if (!m->destination)
		return err_set(EINVAL, "%s: missing", oci_field(f, field, "destination"));
	for (char **o = m->options; o && *o; o++) {
		if (oci_mount_option(*o, m))
			continue;
		if ((r = append_data(&m->data, *o)) < 0)
			return r;
	}
	/* "bind" mounts given as a type, like runc accepts */
	if (m->type && streq(m->type, "bind"))
		m->flags |= MS_BIND;
	return 0;
}

int oci_parse_mounts(yajl_val root, const char *base, struct oci_config *c)
{
	char f[OCI_FIELD_MAX], fi[OCI_FIELD_MAX];
	yajl_val arr;
	int r;

	if ((r = oci_get_arr(root, "mounts", base, &arr)) < 0 || !arr)
		return r;
	oci_field(f, base, "mounts");
	size_t n = arr->u.array.len;
	c->mounts = calloc(n ? n : 1, sizeof(*c->mounts));
	if (!c->mounts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		/* counted first so the free sees a half-filled entry */
		c->n_mounts++;
		r = parse_mount(arr->u.array.values[i], oci_field_idx(fi, f, i), &c->mounts[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
