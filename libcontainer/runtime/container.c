// SPDX-License-Identifier: GPL-2.0-or-later
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cgroups/cgroup.h"
#include "oci/state.h"
#include "runtime/container-internal.h"
#include "runtime/store.h"

struct container *container_alloc(void)
{
	struct container *c = calloc(1, sizeof(*c));

	if (c)
		c->lock_fd = -1;
	return c;
}

void container_free(struct container *c)
{
	if (!c)
		return;
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	if (c->cgroup)
		cgroup_free(c->cgroup);
	for (size_t i = 0; i < c->n_annotations; i++) {
		free(c->annotation_keys[i]);
		free(c->annotation_values[i]);
	}
	free(c->annotation_keys);
	free(c->annotation_values);
	free(c->root);
	free(c->id);
	free(c->dir);
	free(c->bundle);
	free(c->rootfs);
	free(c->created);
	free(c->owner);
	free(c->cgroups_path_cfg);
	free(c->cgroup_path);
	free(c);
}

int container_load(const char *root, const char *id, struct container **ret)
{
	struct container *c = container_alloc();
	int r;

	if (!c)
		return -ENOMEM;
	r = store_open(c, root, id);
	if (r < 0) {
		container_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int proc_start_time(pid_t pid, unsigned long long *ret, char *ret_state)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	char *p;
	unsigned long long v = 0;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = read_file(path, &text, NULL, 0);
	if (r < 0)
		return r;
	/* comm may contain spaces and parens: fields resume after the last ')'. */
	p = strrchr(text, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	if (ret_state)
		*ret_state = *p;
	/* p is at field 3 (state); starttime is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	if (sscanf(p, "%llu", &v) != 1)
		return -EINVAL;
	*ret = v;
	return 0;
}

bool container_init_alive(const struct container *c)
{
	unsigned long long st;
	char state = 0;

	if (c->pid <= 0)
		return false;
	if (proc_start_time(c->pid, &st, &state) < 0)
		return false;
	if (st != c->start_time)
		return false; /* the pid was reused */
	return state != 'Z' && state != 'X';
}

int container_cgroup(struct container *c, struct cgroup **ret)
{
	int r;

	if (!c->cgroup) {
		r = cgroup_new(c->cgroups_path_cfg, c->id, c->systemd_cgroup, &c->cgroup);
		if (r < 0)
			return err_wrap(r, "container %s: cgroup", c->id);
	}
	*ret = c->cgroup;
	return 0;
}

enum container_status container_status(struct container *c)
{
	_cleanup_free_ char *fifo = NULL;
	struct cgroup *cg;
	bool frozen = false;

	if (!container_init_alive(c))
		return CONTAINER_STOPPED;
	/* as runc: a frozen container is paused, even before start */
	if (container_cgroup(c, &cg) == 0 && cgroup_is_frozen(cg, &frozen) == 0 && frozen)
		return CONTAINER_PAUSED;
	err_clear();
	fifo = store_path(c, STORE_EXEC_FIFO);
	if (fifo && access(fifo, F_OK) == 0)
		return CONTAINER_CREATED;
	return CONTAINER_RUNNING;
}

const char *container_status_name(enum container_status s)
{
	switch (s) {
	case CONTAINER_CREATING: return "creating";
	case CONTAINER_CREATED: return "created";
	case CONTAINER_RUNNING: return "running";
	case CONTAINER_PAUSED: return "paused";
	case CONTAINER_STOPPED: return "stopped";
	}
	return "unknown";
}

static void container_oci_state(struct container *c, enum container_status s,
				struct oci_state *st)
{
	*st = (struct oci_state){
		.id = c->id,
		.pid = s == CONTAINER_STOPPED ? 0 : c->pid,
		.status = container_status_name(s),
		.bundle = c->bundle ? c->bundle : "",
		.rootfs = c->rootfs ? c->rootfs : "",
		.created = c->created ? c->created : "",
		.owner = c->owner ? c->owner : "",
		.annotation_keys = c->annotation_keys,
		.annotation_values = c->annotation_values,
		.n_annotations = c->n_annotations,
	};
}

int container_hook_state_json(struct container *c, enum container_status s, char **ret)
{
	struct oci_state st;

	container_oci_state(c, s, &st);
	return oci_state_hook_json(&st, ret);
}

int container_state_json(struct container *c, char **ret)
{
	struct oci_state st;

	container_oci_state(c, container_status(c), &st);
	return oci_state_json(&st, ret);
}
