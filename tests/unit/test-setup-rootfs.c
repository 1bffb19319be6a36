// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * setup_rootfs() for real: a child in new mount/pid/uts/net namespaces
 * (needs root) builds a container root from a config.json, then checks from
 * inside what a container would see: /dev nodes and links, proc, a sized
 * tmpfs, masked and read-only paths, a read-only root, a bind whose
 * destination is a symlink planted to escape, the cgroup tree, sysctls and
 * the hostname. The checks run in the container and report one TAP line
 * each through a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/config.h"
#include "runtime/setup.h"
#include "tap.h"

static char base[64], root[128], src[128];
static FILE *report;

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;
	fprintf(report, "%d ", cond ? 1 : 0);
	va_start(ap, fmt);
	vfprintf(report, fmt, ap);
	va_end(ap);
	fprintf(report, "\n");
	fflush(report);
}

static bool is_chr(const char *p, unsigned ma, unsigned mi, mode_t mode)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == ma &&
	       minor(st.st_rdev) == mi && (st.st_mode & 07777) == mode;
}

static bool link_is(const char *p, const char *want)
{
	char buf[256];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return !strcmp(buf, want);
}

static int errno_of(int r)
{
	return r < 0 ? errno : 0;
}

static void inside_checks(void)
{
	char p[PATH_MAX], host[256];
	struct statfs sfs;
	struct stat st;
	_cleanup_free_ char *s = NULL;

	check(is_chr("/dev/null", 1, 3, 0666), "/dev/null is the null device, mode 0666");
	check(is_chr("/dev/urandom", 1, 9, 0666) && is_chr("/dev/tty", 5, 0, 0666), "/dev/urandom and /dev/tty exist");
	check(is_chr("/dev/iso-null2", 1, 3, 0640), "linux.devices entry created with its fileMode");
	check(link_is("/dev/fd", "/proc/self/fd") && link_is("/dev/stderr", "/proc/self/fd/2"), "/dev/fd and /dev/stderr links");
	check(link_is("/dev/ptmx", "pts/ptmx") && stat("/dev/ptmx", &st) == 0, "/dev/ptmx -> pts/ptmx of a devpts instance");
	check(statfs("/dev/shm", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC, "/dev/shm is a tmpfs");
	check(getpid() == 1 && access("/proc/1/status", R_OK) == 0, "proc of the container's pid namespace is mounted");
	int r = statfs("/tmp", &sfs);
	check(r == 0 && sfs.f_type == TMPFS_MAGIC && sfs.f_blocks * sfs.f_bsize == 1 << 20,
	      "/tmp is a tmpfs of size=1m (%llu bytes)", (unsigned long long)sfs.f_blocks * sfs.f_bsize);
	/* this kernel has no /proc/kcore: /proc/keys stands in for a masked proc file */
	check(is_chr("/proc/keys", 1, 3, 0666), "masked file /proc/keys is /dev/null");
	check(read_file("/proc/keys", &s, NULL, 0) == 0 && s[0] == '\0', "masked /proc/keys reads empty");
	free(s);
	s = NULL;
	check(read_file("/masked-dir/secret", &s, NULL, 0) == -ENOENT, "masked dir hides its content");
	check(errno_of(mkdir("/masked-dir/x", 0755)) == EROFS, "masked dir is read-only");
	check(errno_of(open("/proc/sys/kernel/hostname", O_WRONLY)) == EROFS, "readonly path /proc/sys refuses writes");
	check(errno_of(open("/newfile", O_CREAT | O_WRONLY, 0644)) == EROFS, "read-only root refuses writes");
	check(open("/tmp/ok", O_CREAT | O_WRONLY, 0644) >= 0, "a tmpfs under the read-only root stays writable");
	snprintf(p, sizeof(p), "%s/escaped/marker", base);
	check(access(p, F_OK) == 0, "bind through a symlink landed inside the rootfs (%s)", p);
	check(access("/mnt/link/marker", F_OK) == 0, "the bind is reachable through the symlink");
	check(errno_of(mkdir("/mnt/link/x", 0755)) == EROFS, "ro bind refuses writes");
	check(access(root, F_OK) < 0, "the host root is gone after pivot_root");
	check(statfs("/sys", &sfs) == 0 && sfs.f_type == SYSFS_MAGIC, "sysfs mounted");
	check(stat("/sys/fs/cgroup/memory", &st) == 0 && S_ISDIR(st.st_mode) &&
		      access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0,
	      "cgroup memory hierarchy visible");
	check(errno_of(mkdir("/sys/fs/cgroup/memory/iso-x", 0755)) == EROFS, "cgroup mount is read-only");
	check(gethostname(host, sizeof(host)) == 0 && !strcmp(host, "iso-unit"), "hostname set (%s)", host);
	check(getdomainname(host, sizeof(host)) == 0 && !strcmp(host, "iso.example"), "sysctl kernel.domainname written (%s)", host);
	free(s);
	s = NULL;
	check(read_file("/proc/sys/net/ipv4/ip_forward", &s, NULL, 0) == 0 && s[0] == '1', "sysctl net.ipv4.ip_forward = 1");
}

static const char *config_fmt =
	"{\"ociVersion\":\"1.0.2\","
	"\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
	"\"root\":{\"path\":\"%s\",\"readonly\":true},"
	"\"hostname\":\"iso-unit\","
	"\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=1m\",\"mode=1777\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]},"
	"{\"destination\":\"/mnt/link\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"ro\"]}"
	"],"
	"\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"},{\"type\":\"uts\"},{\"type\":\"network\"}],"
	"\"maskedPaths\":[\"/proc/kcore\",\"/proc/keys\",\"/masked-dir\",\"/nonexistent\"],"
	"\"readonlyPaths\":[\"/proc/sys\"],"
	"\"sysctl\":{\"kernel.domainname\":\"iso.example\",\"net.ipv4.ip_forward\":\"1\"},"
	"\"devices\":[{\"path\":\"/dev/iso-null2\",\"type\":\"c\",\"major\":1,\"minor\":3,\"fileMode\":416}]"
	"}}";

/* pid 1 of the new pid namespace: set up, then check. */
static int container(struct oci_config *c)
{
	int r;

	if ((r = setup_rootfs(c, false, NULL)) < 0 || (r = setup_hostname(c)) < 0 ||
	    (r = setup_sysctl(c)) < 0) {
		check(false, "setup: %s", err_msg());
		return 1;
	}
	check(true, "setup_rootfs, setup_hostname and setup_sysctl succeed");
	inside_checks();
	return 0;
}

static void make_tree(void)
{
	char p[PATH_MAX];

	snprintf(root, sizeof(root), "%s/rootfs", base);
	snprintf(src, sizeof(src), "%s/src", base);
	mkdir(root, 0755);
	mkdir(src, 0755);
	snprintf(p, sizeof(p), "%s/marker", src);
	write_file(p, "x", 1, 0644);
	/* the escape target exists on the host: a naive mount would go there */
	snprintf(p, sizeof(p), "%s/escaped", base);
	mkdir(p, 0755);
	for (const char *d = "proc\0dev\0sys\0tmp\0mnt\0masked-dir\0"; *d; d += strlen(d) + 1) {
		snprintf(p, sizeof(p), "%s/%s", root, d);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof(p), "%s/masked-dir/secret", root);
	write_file(p, "s", 1, 0644);
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s/escaped", base);
	snprintf(p, sizeof(p), "%s/mnt/link", root);
	symlink(target, p);
}

int main(void)
{
	_cleanup_free_ char *json = NULL;
	struct oci_config *c = NULL;
	int fds[2], st = 0;
	char line[512];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	snprintf(base, sizeof(base), "/tmp/test-setup-rootfs.XXXXXX");
	if (!mkdtemp(base))
		return 1;
	make_tree();
	if (asprintf(&json, config_fmt, root, src) < 0)
		return 1;
	ok(oci_config_parse(json, base, &c) == 0, "config parses (%s)", err_msg());
	if (!c)
		return done_testing();

	if (pipe(fds) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		report = fdopen(fds[1], "w");
		if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNET) < 0) {
			check(false, "unshare: %s", strerror(errno));
			_exit(1);
		}
		pid_t inner = fork();
		if (inner == 0)
			_exit(container(c));
		waitpid(inner, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 2);
	}
	close(fds[1]);
	FILE *in = fdopen(fds[0], "r");
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		ok(line[0] == '1', "%s", line + 2);
	}
	fclose(in);
	waitpid(pid, &st, 0);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, "the container child exited 0");

	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/escaped/marker", base);
	ok(access(p, F_OK) < 0, "nothing was mounted or created at the host path the symlink names");
	oci_config_free(c);
	snprintf(p, sizeof(p), "rm -rf '%s'", base);
	if (system(p) != 0)
		printf("# cleanup of %s failed\n", base);
	return done_testing();
}
