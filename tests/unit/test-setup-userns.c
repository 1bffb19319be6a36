// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * setup_rootfs() inside a new user namespace (root needed to set it up):
 * the parent writes the id maps with setup_write_id_maps(), the child
 * becomes the namespace's root, unshares the rest and builds the container
 * root. Device nodes cannot be created there: they must come as binds of
 * the host's. The checks run in the container and report through a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/config.h"
#include "runtime/setup.h"
#include "tap.h"

static char base[64], root[128];
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

static const char *config_fmt =
	"{\"ociVersion\":\"1.0.2\","
	"\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
	"\"root\":{\"path\":\"%s\",\"readonly\":true},"
	"\"hostname\":\"iso-userns\","
	"\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=1m\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}"
	"],"
	"\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"},{\"type\":\"pid\"},{\"type\":\"uts\"},{\"type\":\"network\"}],"
	"\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
	"\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
	"\"maskedPaths\":[\"/proc/keys\"],"
	"\"readonlyPaths\":[\"/proc/sys\"],"
	"\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}"
	"}}";

static void inside_checks(void)
{
	_cleanup_free_ char *map = NULL, *fwd = NULL;
	struct statfs sfs;
	struct stat st;
	char host[64] = "";
	int fd;

	check(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
	      "/dev/null is the host's null device, bound in");
	fd = open("/dev/null", O_WRONLY);
	check(fd >= 0 && write(fd, "x", 1) == 1, "/dev/null is writable");
	if (fd >= 0)
		close(fd);
	check(stat("/dev/tty", &st) == 0 && S_ISCHR(st.st_mode), "/dev/tty bound in");
	check(stat("/dev/pts/ptmx", &st) == 0, "devpts mounted (gid=5 mapped or dropped)");
	check(read_file("/proc/self/uid_map", &map, NULL, 0) == 0 && strstr(map, "100000"),
	      "uid_map seen inside");
	check(getpid() == 1 && getuid() == 0, "pid 1, uid 0 inside");
	check(statfs("/sys", &sfs) == 0 && sfs.f_type == SYSFS_MAGIC, "sysfs mounted");
	check(access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0, "cgroup hierarchy visible");
	check(stat("/proc/keys", &st) == 0 && S_ISCHR(st.st_mode), "masked /proc/keys");
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY);
	check(fd < 0 && errno == EROFS, "readonly /proc/sys (%s)", fd < 0 ? strerror(errno) : "opened");
	check(open("/iso-new", O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS, "read-only root");
	check(gethostname(host, sizeof(host)) == 0 && !strcmp(host, "iso-userns"), "hostname");
	check(read_file("/proc/sys/net/ipv4/ip_forward", &fwd, NULL, 0) == 0 && fwd[0] == '1',
	      "sysctl written in the namespace's netns");
}

static int container(struct oci_config *c)
{
	int r;

	if ((r = setup_rootfs(c, false, NULL)) < 0 || (r = setup_hostname(c)) < 0 ||
	    (r = setup_sysctl(c)) < 0) {
		check(false, "setup: %s", err_msg());
		return 1;
	}
	check(true, "setup_rootfs, setup_hostname, setup_sysctl in a user namespace");
	inside_checks();
	return 0;
}

/* In the new user namespace, once the maps are written. */
static int child(struct oci_config *c, int go_fd)
{
	char b;
	int st;

	if (read(go_fd, &b, 1) != 1)
		return 1;
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		check(false, "becoming root in the user namespace: %s", strerror(errno));
		return 1;
	}
	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNET) < 0) {
		check(false, "unshare: %s", strerror(errno));
		return 1;
	}
	pid_t inner = fork();
	if (inner == 0)
		_exit(container(c));
	waitpid(inner, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

int main(void)
{
	_cleanup_free_ char *json = NULL;
	struct oci_config *c = NULL;
	int rep[2], go[2], st = 0;
	char line[512], p[PATH_MAX];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	snprintf(base, sizeof(base), "/tmp/test-setup-userns.XXXXXX");
	if (!mkdtemp(base) || chmod(base, 0755) < 0)
		return 1;
	snprintf(root, sizeof(root), "%s/rootfs", base);
	mkdir(root, 0755);
	for (const char *d = "proc\0dev\0sys\0tmp\0"; *d; d += strlen(d) + 1) {
		snprintf(p, sizeof(p), "%s/%s", root, d);
		mkdir(p, 0755);
	}
	if (asprintf(&json, config_fmt, root) < 0)
		return 1;
	ok(oci_config_parse(json, base, &c) == 0, "config parses (%s)", err_msg());
	if (!c || pipe(rep) < 0 || pipe(go) < 0)
		return done_testing();

	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]);
		close(go[1]);
		report = fdopen(rep[1], "w");
		if (unshare(CLONE_NEWUSER) < 0) {
			check(false, "unshare(CLONE_NEWUSER): %s", strerror(errno));
			_exit(1);
		}
		_exit(child(c, go[0]));
	}
	close(rep[1]);
	close(go[0]);
	/* the child must be in its user namespace before its maps can be written */
	for (int i = 0; i < 200; i++) {
		char self[64] = "", other[64] = "";
		snprintf(p, sizeof(p), "/proc/%d/ns/user", pid);
		if (readlink("/proc/self/ns/user", self, sizeof(self) - 1) > 0 &&
		    readlink(p, other, sizeof(other) - 1) > 0 && strcmp(self, other))
			break;
		usleep(5000);
	}
	is_int(setup_write_id_maps(pid, c), 0, "id maps written (%s)", err_msg());
	if (write(go[1], "g", 1) != 1)
		return 1;
	close(go[1]);
	FILE *in = fdopen(rep[0], "r");
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		ok(line[0] == '1', "%s", line + 2);
	}
	fclose(in);
	waitpid(pid, &st, 0);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, "the container child exited 0");
	oci_config_free(c);
	snprintf(p, sizeof(p), "rm -rf '%s'", base);
	if (system(p) != 0)
		printf("# cleanup of %s failed\n", base);
	return done_testing();
}
