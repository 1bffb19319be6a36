// SPDX-License-Identifier: GPL-2.0-or-later
/* The state store: create/lock/save/load round trip, duplicates, listing,
 * stale and foreign state dirs. Runs unprivileged in a temp dir. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

#include "base/cleanup.h"
#include "base/error.h"
#include "runtime/container-internal.h"
#include "runtime/store.h"

int main(void)
{
	char root[] = "/tmp/skua-test-store.XXXXXX";
	char path[512];
	struct container *c = container_alloc(), *l = NULL;
	char **ids = NULL;
	struct stat st;
	int r;

	if (!mkdtemp(root))
		return 1;
	ok(c != NULL, "alloc");
	is_int(store_create(c, root, "lc-one"), 0, "create a state dir");
	snprintf(path, sizeof(path), "%s/lc-one", root);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700, "state dir is 0700");

	c->pid = getpid();
	proc_start_time(c->pid, &c->start_time, NULL);
	c->bundle = strdup("/b");
	c->rootfs = strdup("/b/rootfs");
	c->created = strdup("2024-01-01T00:00:00.5Z");
	c->owner = strdup("");
	c->cgroup_path = strdup("/skua/lc-one");
	c->annotation_keys = calloc(2, sizeof(char *));
	c->annotation_values = calloc(2, sizeof(char *));
	c->annotation_keys[0] = strdup("k");
	c->annotation_values[0] = strdup("v \"quoted\"");
	c->n_annotations = 1;
	is_int(store_save(c), 0, "save state.json");

	/* the lock is held: another open of the same id must block */
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	is_int(flock(fd, LOCK_EX | LOCK_NB), -1, "state dir is locked while loaded");
	close(fd);

	struct container *dup = container_alloc();
	r = store_create(dup, root, "lc-one");
	is_int(r, -EEXIST, "duplicate id refused");
	is_str(err_msg(), "container with id exists: lc-one", "runc's message");
	container_free(dup);
	container_free(c);

	is_int(container_load(root, "lc-one", &l), 0, "load");
	if (l) {
		is_int(l->pid, getpid(), "pid round trip");
		ok(l->start_time > 0, "start time round trip");
		is_str(l->bundle, "/b", "bundle");
		is_str(l->created, "2024-01-01T00:00:00.5Z", "created");
		ok(l->n_annotations == 1 && streq(l->annotation_values[0], "v \"quoted\""),
		   "annotations round trip");
		ok(container_init_alive(l), "our own pid with its start time is alive");
		l->start_time++;
		ok(!container_init_alive(l), "a different start time means pid reuse");
		container_free(l);
	}

	is_int(container_load(root, "lc-none", &l), -ENOENT, "missing id");
	ok(strstr(err_msg(), "does not exist") != NULL, "says does not exist");
	is_int(container_load(root, "../x", &l), -EINVAL, "bad id refused on load");

	snprintf(path, sizeof(path), "%s/lc-stale", root);
	mkdir(path, 0700);
	is_int(container_load(root, "lc-stale", &l), -ENOMSG, "dir without state.json");
	is_int(container_remove_stale(root, "lc-stale"), 0, "stale dir removed");
	ok(access(path, F_OK) < 0, "gone");
	snprintf(path, sizeof(path), "%s/lc-foreign", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/lc-foreign/data", root);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	ok(container_remove_stale(root, "lc-foreign") < 0, "foreign dir kept");
	ok(access(path, F_OK) == 0, "its file is still there");

	is_int(container_list(root, &ids), 0, "list");
	ok(ids && ids[0] && streq(ids[0], "lc-foreign") && ids[1] && streq(ids[1], "lc-one") && !ids[2],
	   "sorted ids");
	for (char **p = ids; p && *p; p++)
		free(*p);
	free(ids);

	c = container_alloc();
	c->dir = strdup(root);
	store_remove(c);
	container_free(c);
	ok(access(root, F_OK) < 0, "cleanup");
	return done_testing();
}
