// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/json.h"
#include "runtime/container.h"
#include "src/commands.h"

static void list_json_one(yajl_gen gen, struct container *c)
{
	enum container_status s = container_status(c);

	yajl_gen_map_open(gen);
	json_gen_kv_str(gen, "ociVersion", "1.0.2-dev");
	json_gen_kv_str(gen, "id", c->id);
	json_gen_kv_int(gen, "pid", s == CONTAINER_STOPPED ? 0 : c->pid);
	json_gen_kv_str(gen, "status", container_status_name(s));
	json_gen_kv_str(gen, "bundle", c->bundle ? c->bundle : "");
	json_gen_kv_str(gen, "rootfs", c->rootfs ? c->rootfs : "");
	json_gen_kv_str(gen, "created", c->created ? c->created : "");
	json_gen_str(gen, "annotations");
	yajl_gen_map_open(gen);
	for (size_t i = 0; i < c->n_annotations; i++)
		json_gen_kv_str(gen, c->annotation_keys[i], c->annotation_values[i]);
	yajl_gen_map_close(gen);
	json_gen_kv_str(gen, "owner", c->owner && *c->owner ? c->owner : "root");
	yajl_gen_map_close(gen);
}

static void list_table_one(struct container *c)
{
	enum container_status s = container_status(c);

	printf("%-12s %-10d %-10s %-40s %-31s %s\n", c->id, s == CONTAINER_STOPPED ? 0 : (int)c->pid,
	       container_status_name(s), c->bundle ? c->bundle : "", c->created ? c->created : "",
	       c->owner && *c->owner ? c->owner : "root");
}

int cmd_list(int argc, char **argv, struct global_opts *g)
{
	static const struct cmd_help h = {
		"list", "[command options]", "List the containers under --root.",
	};
	const char *format = "table";
	bool quiet = false;
	const struct opt opts[] = {
		{ "format", "f", OPT_STR, &format, "select one of: table or json (default: \"table\")" },
		{ "quiet", "q", OPT_BOOL, &quiet, "display only container IDs" },
		{ NULL },
	};
	_cleanup_strv_ char **ids = NULL;
	_cleanup_free_ char *out = NULL;
	yajl_gen gen = NULL;
	int ind, r;

	if ((r = cli_parse(&h, opts, argc, argv, &ind)) >= 0 ||
	    (r = cli_want_args(&h, argc, ind, 0, 0)) >= 0)
		return r;
	if (!streq(format, "table") && !streq(format, "json")) {
		err_set(EINVAL, "invalid format option");
		return cli_error(-EINVAL);
	}
	r = container_list(g->root, &ids);
	if (r < 0)
		return cli_error(r);
	if (quiet) {
		for (char **id = ids; *id; id++)
			printf("%s\n", *id);
		return 0;
	}
	if (streq(format, "json")) {
		gen = json_gen_new(false);
		if (!gen)
			return cli_error(-ENOMEM);
		yajl_gen_array_open(gen);
	} else {
		printf("%-12s %-10s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	}
	for (char **id = ids; *id; id++) {
		_cleanup_container_ struct container *c = NULL;
		/* a container being deleted or created meanwhile is skipped */
		if (container_load(g->root, *id, &c) < 0)
			continue;
		if (gen)
			list_json_one(gen, c);
		else
			list_table_one(c);
	}
	err_clear();
	if (gen) {
		yajl_gen_array_close(gen);
		r = json_gen_finish(gen, &out, NULL);
		if (r < 0)
			return cli_error(r);
		printf("%s\n", out);
	}
	return 0;
}
