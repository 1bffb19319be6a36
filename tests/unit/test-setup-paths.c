// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Safe path resolution inside a rootfs (symlinks that try to escape must
 * land inside), mountpoint creation through dangling symlinks, and the
 * mount option helpers. Unprivileged.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/mounts.h"
#include "tap.h"

static char base[256], root[512], outside[256];

static void mk(const char *fmt, const char *a)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), fmt, a);
	mkdir(p, 0755);
}

/* Where does an fd point? (readlink of /proc/self/fd/N) */
static const char *fd_target(int fd)
{
	static char buf[PATH_MAX];
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static bool under_root(const char *p)
{
	return !strncmp(p, root, strlen(root)) && (p[strlen(root)] == '/' || !p[strlen(root)]);
}

static void test_resolve(int rootfd)
{
	char want[PATH_MAX];
	int fd = -1, r;

	r = mounts_open_in_root(rootfd, "/etc/real", &fd);
	snprintf(want, sizeof(want), "%s/etc/real", root);
	ok(r == 0 && streq(fd_target(fd), want), "plain path resolves inside the root (%s)", fd_target(fd));
	closep(&fd);

	/* abs -> /etc: absolute symlink is taken relative to the root */
	r = mounts_open_in_root(rootfd, "/abs/real", &fd);
	ok(r == 0 && streq(fd_target(fd), want), "absolute symlink resolves relative to the root");
	closep(&fd);

	/* up -> ../../../../..: ".." clamps at the root */
	fd = -1;
	r = mounts_open_in_root(rootfd, "/up", &fd);
	ok(r == 0 && streq(fd_target(fd), root), "a symlink climbing with .. stops at the root (%s)",
	   fd_target(fd));
	closep(&fd);

	/* a path to something that exists only outside the root */
	fd = -1;
	r = mounts_open_in_root(rootfd, "/up/outside-only", &fd);
	is_int(r, -ENOENT, "a host-only path is not reachable through a symlink");
	closep(&fd);
}

static void test_mkpath(int rootfd)
{
	char p[PATH_MAX];
	struct stat st;
	int fd = -1, r;

	/* dangling: /dangling -> /../../outside-only/sub : must be created inside */
	r = mounts_mkpath_in_root(rootfd, "/dangling/x", false, &fd);
	ok(r == 0 && under_root(fd_target(fd)), "mkpath through a dangling escaping symlink stays inside (%s)",
	   fd_target(fd));
	snprintf(p, sizeof(p), "%s/outside-only/sub/x", root);
	ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "the symlink's target was created inside the root");
	snprintf(p, sizeof(p), "%s/outside-only/sub", outside);
	ok(stat(p, &st) < 0, "nothing was created outside the root");
	closep(&fd);

	fd = -1;
	r = mounts_mkpath_in_root(rootfd, "/a/b/../c/file", true, &fd);
	snprintf(p, sizeof(p), "%s/a/c/file", root);
	ok(r == 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode), "mkpath creates a file mountpoint with parents");
	closep(&fd);

	fd = -1;
	r = mounts_mkpath_in_root(rootfd, "/etc/real", false, &fd);
	snprintf(p, sizeof(p), "%s/etc/real", root);
	ok(r == 0 && streq(fd_target(fd), p), "mkpath of an existing path just opens it");
	closep(&fd);

	/* a relative dangling symlink: /etc/rel -> ../var/new */
	fd = -1;
	r = mounts_mkpath_in_root(rootfd, "/etc/rel", false, &fd);
	snprintf(p, sizeof(p), "%s/var/new", root);
	ok(r == 0 && streq(fd_target(fd), p), "relative dangling symlink created relative to its dir (%s)",
	   fd_target(fd));
	closep(&fd);

	/* a loop */
	fd = -1;
	r = mounts_mkpath_in_root(rootfd, "/loop/x", false, &fd);
	ok(r < 0, "a symlink loop is an error (%d)", r);
}

static void test_attrs(void)
{
	struct mount_attr a;

	ok(!mounts_attr_from_flags(MS_BIND | MS_REC, 0, &a), "bind alone changes no attributes");
	ok(mounts_attr_from_flags(MS_BIND | MS_RDONLY | MS_NOSUID, 0, &a) &&
		   a.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID) && a.attr_clr == 0,
	   "ro,nosuid -> attr_set RDONLY|NOSUID");
	ok(mounts_attr_from_flags(0, MS_RDONLY | MS_NOEXEC, &a) && a.attr_set == 0 &&
		   a.attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC),
	   "rw,exec -> attr_clr RDONLY|NOEXEC");
	ok(mounts_attr_from_flags(MS_NOATIME, 0, &a) && a.attr_set == MOUNT_ATTR_NOATIME &&
		   (a.attr_clr & MOUNT_ATTR__ATIME) == MOUNT_ATTR__ATIME,
	   "noatime replaces the atime mode");
	ok(mounts_attr_from_flags(MS_NODEV, MS_NODEV, &a) && a.attr_set == MOUNT_ATTR_NODEV &&
		   !a.attr_clr, "set wins over clear");
}

static void test_data(void)
{
	char d1[] = "newinstance,ptmxmode=0666,mode=0620,gid=5";
	char d2[] = "gid=5";
	char d3[] = "gid=5,mode=1";
	char d4[] = "gidx=1,gid";

	mounts_data_drop_option(d1, "gid");
	is_str(d1, "newinstance,ptmxmode=0666,mode=0620", "drop the last option");
	mounts_data_drop_option(d2, "gid");
	is_str(d2, "", "drop the only option");
	mounts_data_drop_option(d3, "gid");
	is_str(d3, "mode=1", "drop the first option");
	mounts_data_drop_option(d4, "gid");
	is_str(d4, "gidx=1", "a longer key sharing the prefix is kept");
}

int main(void)
{
	char p[PATH_MAX];
	_cleanup_close_ int rootfd = -1;

	snprintf(base, sizeof(base), "/tmp/test-setup-paths.XXXXXX");
	if (!mkdtemp(base))
		return 1;
	snprintf(root, sizeof(root), "%s/rootfs", base);
	snprintf(outside, sizeof(outside), "%s", base);
	mk("%s", root);
	mk("%s/etc", root);
	mk("%s/etc/real", root);
	mk("%s/outside-only", base);
	snprintf(p, sizeof(p), "%s/abs", root);
	symlink("/etc", p);
	snprintf(p, sizeof(p), "%s/up", root);
	symlink("../../../../../../..", p);
	snprintf(p, sizeof(p), "%s/dangling", root);
	symlink("/../../outside-only/sub", p);
	snprintf(p, sizeof(p), "%s/etc/rel", root);
	symlink("../var/new", p);
	snprintf(p, sizeof(p), "%s/loop", root);
	symlink("/loop", p);

	rootfd = open(root, O_PATH | O_DIRECTORY);
	ok(rootfd >= 0, "open the test rootfs");
	test_resolve(rootfd);
	test_mkpath(rootfd);
	test_attrs();
	test_data();

	snprintf(p, sizeof(p), "rm -rf '%s'", base);
	if (system(p) != 0)
		printf("# cleanup of %s failed\n", base);
	return done_testing();
}
