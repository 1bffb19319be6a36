// SPDX-License-Identifier: GPL-2.0-or-later
/* runtime/ckpt-tar.c against archives GNU tar makes as checkpoint does
 * (--xattrs --numeric-owner): only an empty root with the same mode and
 * owner may skip tar at restore. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/ckpt-tar.h"
#include "tests/unit/tap.h"

static char dir[64];

static int make_tar(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "tar --one-file-system --numeric-owner --xattrs -C %s/root -cf %s/%s .",
		 dir, dir, name);
	return system(cmd);
}

static bool check(const char *name)
{
	char path[128], root[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(root, sizeof(root), "%s/fresh", dir);
	if (stat(root, &st) < 0)
		return false;
	return ckpt_tar_only_root(path, &st);
}

int main(void)
{
	char p[128];

	snprintf(dir, sizeof(dir), "/tmp/skua-test-tar.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(p, sizeof(p), "%s/root", dir);
	mkdir(p, 0755);
	chmod(p, 01777);
	snprintf(p, sizeof(p), "%s/fresh", dir);
	mkdir(p, 0755);
	chmod(p, 01777);

	is_int(make_tar("empty.tar"), 0, "tar of an empty root");
	ok(check("empty.tar"), "an empty root with the fresh root's mode and owner: no tar needed");
	snprintf(p, sizeof(p), "%s/fresh", dir);
	chmod(p, 0755);
	ok(!check("empty.tar"), "another mode on the fresh root: tar");
	chmod(p, 01777);
	if (chown(p, 1000, 1000) == 0)
		ok(!check("empty.tar"), "another owner: tar");
	else
		ok(1, "# skip: chown needs root");
	chown(p, getuid(), getgid());
	snprintf(p, sizeof(p), "%s/root/file", dir);
	FILE *f = fopen(p, "w");
	if (f)
		fclose(f);
	is_int(make_tar("file.tar"), 0, "tar of a root with a file");
	ok(!check("file.tar"), "a file in it: tar");
	ok(!check("missing.tar"), "no archive: tar reports it");

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
