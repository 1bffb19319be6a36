// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json to struct oci_config: the top level; sections live in parse-*.c. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/parse.h"

#define WHAT "config.json: "

void oci_config_free(struct oci_config *c)
{
	if (!c)
		return;
	free(c->oci_version);
	free(c->root_path);
	free(c->hostname);
	free(c->domainname);
	oci_mounts_free(c->mounts, c->n_mounts);
	oci_process_free(c->process);
	for (int k = 0; k < OCI_HOOK_COUNT; k++)
		oci_hooks_free(c->hooks[k], c->n_hooks[k]);
	oci_string_map_free(c->annotation_keys, c->annotation_values, c->n_annotations);
	oci_linux_free(&c->linux_);
	free(c->bundle);
	free(c);
}

static void config_freep(struct oci_config **c)
{
	oci_config_free(*c);
}

static int absolute_bundle(const char *bundle, char **ret)
{
	char cwd[PATH_MAX];

	if (bundle[0] == '/')
		return oci_path_join_clean(NULL, bundle, ret);
	if (!getcwd(cwd, sizeof(cwd)))
		return err_sys(errno, "getcwd");
	return oci_path_join_clean(cwd, bundle, ret);
}

static int parse_root(yajl_val top, struct oci_config *c)
{
	yajl_val root;
	int r;

	if ((r = oci_get_obj(top, "root", WHAT, &root)) < 0 || !root)
		return r;
	if ((r = oci_get_str_dup(root, "path", WHAT "root", &c->root_path)) < 0 ||
	    (r = oci_get_bool(root, "readonly", WHAT "root", &c->root_readonly)) < 0)
		return r;
	if (!c->root_path)
		return err_set(EINVAL, WHAT "root.path: missing");
	if (!c->root_path[0])
		return err_set(EINVAL, WHAT "root.path: must not be empty");
	if (c->bundle) {
		char *abs;
		if ((r = oci_path_join_clean(c->bundle, c->root_path, &abs)) < 0)
			return r;
		free(c->root_path);
		c->root_path = abs;
	}
	return 0;
}

int oci_config_parse(const char *text, const char *bundle, struct oci_config **ret)
{
	_cleanup_(config_freep) struct oci_config *c = NULL;
	_cleanup_json_ yajl_val top = NULL;
	yajl_val proc, lx;
	int r;

	if ((r = json_parse(text, "config.json", &top)) < 0)
		return r;
	if (!YAJL_IS_OBJECT(top))
		return err_set(EINVAL, "config.json: expected an object at the top level");
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (bundle && (r = absolute_bundle(bundle, &c->bundle)) < 0)
		return r;
	if ((r = oci_get_str_dup(top, "ociVersion", WHAT, &c->oci_version)) < 0 ||
	    (r = parse_root(top, c)) < 0 ||
	    (r = oci_get_str_dup(top, "hostname", WHAT, &c->hostname)) < 0 ||
	    (r = oci_get_str_dup(top, "domainname", WHAT, &c->domainname)) < 0 ||
	    (r = oci_parse_mounts(top, WHAT, c)) < 0 ||
	    (r = oci_parse_hooks(top, WHAT, c)) < 0 ||
	    (r = oci_get_string_map(top, "annotations", WHAT, &c->annotation_keys,
				    &c->annotation_values, &c->n_annotations)) < 0 ||
	    (r = oci_get_obj(top, "process", WHAT, &proc)) < 0 ||
	    (proc && (r = oci_parse_process(proc, WHAT "process", &c->process)) < 0) ||
	    (r = oci_get_obj(top, "linux", WHAT, &lx)) < 0 ||
	    (lx && (r = oci_parse_linux(lx, WHAT "linux", &c->linux_)) < 0))
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

int oci_config_load(const char *bundle, struct oci_config **ret)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	int r;

	if (asprintf(&path, "%s/config.json", bundle) < 0)
		return -ENOMEM;
	r = read_file(path, &text, NULL, 0);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	return oci_config_parse(text, bundle, ret);
}
