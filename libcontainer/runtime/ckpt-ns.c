// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/json.h"
#include "base/log.h"
#include "runtime/ckpt-net.h"
#include "runtime/ckpt-ns.h"
#include "runtime/ckpt-tar.h"

static char *const run_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL,
};

static int open_ns(pid_t pid, const char *ns)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? err_sys(errno, "opening %s", path) : fd;
}

/* As root of the user namespace userns_fd: files in a tmpfs mounted there
 * can only be made, and chowned to its ids, by someone it maps. */
static int become_ns_root(int userns_fd)
{
	if (setns(userns_fd, CLONE_NEWUSER) < 0)
		return -errno;
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return -errno;
	return 0;
}

static _Noreturn void run_child(const char *const argv[], int nsfd, int userns_fd, int in_fd,
				int out_fd, int err_fd)
{
	int null = open("/dev/null", O_RDWR), r;

	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) {
		dprintf(err_fd, "setns: %s", strerror(errno));
		_exit(126);
	}
	if (userns_fd >= 0 && (r = become_ns_root(userns_fd)) < 0) {
		dprintf(err_fd, "becoming root of the container's user namespace: %s", strerror(-r));
		_exit(126);
	}
	dup2(in_fd >= 0 ? in_fd : null, 0);
	dup2(out_fd >= 0 ? out_fd : null, 1);
	dup2(err_fd, 2);
	execvpe(argv[0], (char *const *)argv, run_env);
	dprintf(2, "exec %s: %s", argv[0], strerror(errno));
	_exit(127);
}

static int wait_child(pid_t pid, int *ret_status)
{
	while (waitpid(pid, ret_status, 0) < 0)
		if (errno != EINTR)
			return err_sys(errno, "waitpid");
	return 0;
}

static int run_fds(const char *const argv[], int nsfd, int userns_fd, int in_fd, int out_fd)
{
	_cleanup_close_ int err_r = -1;
	char msg[1024];
	int errp[2], st, r;
	ssize_t n;
	pid_t pid;

	if (pipe2(errp, O_CLOEXEC) < 0)
		return err_sys(errno, "pipe");
	err_r = errp[0];
	pid = fork();
	if (pid < 0) {
		close(errp[1]);
		return err_sys(errno, "fork");
	}
	if (pid == 0)
		run_child(argv, nsfd, userns_fd, in_fd, out_fd, errp[1]);
	close(errp[1]);
	n = read_full(err_r, msg, sizeof(msg) - 1);
	msg[n < 0 ? 0 : n] = '\0';
	/* drain the rest so the child never blocks on a full pipe */
	while (n > 0) {
		char junk[4096];
		n = read(err_r, junk, sizeof(junk));
	}
	if ((r = wait_child(pid, &st)) < 0)
		return r;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	msg[strcspn(msg, "\n")] = '\0';
	return err_set(EIO, "%s failed (%s %d): %s", argv[0],
		       WIFEXITED(st) ? "exit status" : "signal",
		       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), msg);
}

int ckpt_run(const char *const argv[], pid_t netns_pid, const char *out_path)
{
	_cleanup_close_ int nsfd = -1, out_fd = -1;

	if (netns_pid > 0 && (nsfd = open_ns(netns_pid, "net")) < 0)
		return nsfd;
	if (out_path) {
		out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out_fd < 0)
			return err_sys(errno, "creating %s", out_path);
	}
	return run_fds(argv, nsfd, -1, -1, out_fd);
}

int ckpt_own_ns(pid_t pid, const char *ns, bool *ret)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	if (stat(path, &a) < 0)
		return err_sys(errno, "stat %s", path);
	snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	if (stat(path, &b) < 0)
		return err_sys(errno, "stat %s", path);
	*ret = a.st_ino != b.st_ino || a.st_dev != b.st_dev;
	return 0;
}

/* Read (set == NULL) or set the hostname of pid's UTS namespace from this
 * thread, joining it for the call: a fork cost milliseconds here, inside
 * the checkpoint's frozen window. */
static int in_uts(pid_t pid, const char *set, char *ret, size_t len)
{
	_cleanup_close_ int self = open("/proc/thread-self/ns/uts", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int nsfd = open_ns(pid, "uts");
	int e = 0;

	if (self < 0)
		return err_sys(errno, "opening our own UTS namespace");
	if (nsfd < 0)
		return nsfd;
	if (setns(nsfd, CLONE_NEWUTS) < 0)
		return err_sys(errno, "joining the UTS namespace of pid %d", pid);
	if (set ? sethostname(set, strlen(set)) : gethostname(ret, len))
		e = errno;
	/* our own hostname must not stay the container's */
	if (setns(self, CLONE_NEWUTS) < 0)
		abort();
	if (e)
		return err_sys(e, "%s the hostname of pid %d", set ? "setting" : "reading", pid);
	if (!set)
		ret[len - 1] = '\0';
	return 0;
}

int ckpt_hostname_get(pid_t pid, char **ret)
{
	char buf[HOST_NAME_MAX + 1];
	int r = in_uts(pid, NULL, buf, sizeof(buf));

	if (r < 0)
		return r;
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

int ckpt_hostname_set(pid_t pid, const char *name)
{
	char buf[8];
	return in_uts(pid, name, buf, sizeof(buf));
}

static bool below(const char *path, const char *top)
{
	size_t n = strlen(top);
	return !strncmp(path, top, n) && (path[n] == '\0' || path[n] == '/');
}

static bool tmpfs_wanted(const char *mnt)
{
	if (below(mnt, "/dev/shm"))
		return streq(mnt, "/dev/shm");
	/* /dev is the runtime's; /proc and /sys hold nothing of the container's */
	return !below(mnt, "/dev") && !below(mnt, "/proc") && !below(mnt, "/sys") &&
	       !strchr(mnt, '\\');
}

int ckpt_tmpfs_list(pid_t pid, char ***ret)
{
	char path[64], *line = NULL;
	_cleanup_strv_ char **v = NULL;
	size_t n = 0, cap = 0;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	f = fopen(path, "re");
	if (!f)
		return err_sys(errno, "opening %s", path);
	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (!streq(fstype, "tmpfs") || !tmpfs_wanted(mnt))
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(char *));
		if (!nv) {
			free(line);
			return -ENOMEM;
		}
		v = nv;
		v[n + 1] = NULL;
		if (!(v[n++] = strdup(mnt))) {
			free(line);
			return -ENOMEM;
		}
	}
	free(line);
	*ret = TAKE_PTR(v);
	return 0;
}

static int root_path(pid_t pid, const char *dest, char **ret)
{
	return asprintf(ret, "/proc/%d/root%s", pid, dest) < 0 ? -ENOMEM : 0;
}

/*
 * tar runs as root of the container's user namespace when it has one: the
 * archive then holds the ids the container sees (as the engine's images do),
 * and only someone that namespace maps may make files in its tmpfs. The
 * archive itself is opened here, where the image directory is reachable.
 */
static int run_tar(pid_t pid, const char *const argv[], const char *archive, bool write)
{
	_cleanup_close_ int userns_fd = -1, fd = -1;
	bool own;
	int r = ckpt_own_ns(pid, "user", &own);

	if (r < 0)
		return r;
	if (own && (userns_fd = open_ns(pid, "user")) < 0)
		return userns_fd;
	fd = write ? open(archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
		   : open(archive, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(errno, "opening %s", archive);
	return run_fds(argv, -1, userns_fd, write ? -1 : fd, write ? fd : -1);
}

int ckpt_tmpfs_save(pid_t pid, const char *dest, const char *archive)
{
	_cleanup_free_ char *dir = NULL;
	int r = root_path(pid, dest, &dir);

	if (r < 0)
		return r;
	const char *argv[] = { "tar", "--one-file-system", "--numeric-owner", "--xattrs",
			       "-C", dir, "-cf", "-", ".", NULL };
	r = run_tar(pid, argv, archive, true);
	return r < 0 ? err_wrap(r, "archiving the tmpfs at %s", dest) : 0;
}

int ckpt_tmpfs_is_empty(pid_t pid, const char *dest, struct stat *ret, bool *empty)
{
	_cleanup_free_ char *dir = NULL;
	bool own;
	int r;

	*empty = false;
	if ((r = ckpt_own_ns(pid, "user", &own)) < 0 || own)
		return r;
	if ((r = root_path(pid, dest, &dir)) < 0)
		return r;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(errno, "opening the tmpfs at %s", dest);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_sys(errno, "reading the tmpfs at %s", dest);
	}
	struct dirent *e;
	bool any = false;
	errno = 0;
	while (!any && (e = readdir(d)))
		any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	r = errno && !any ? err_sys(errno, "reading the tmpfs at %s", dest) : 0;
	if (r >= 0 && fstat(dirfd(d), ret) < 0)
		r = err_sys(errno, "stat of the tmpfs at %s", dest);
	closedir(d);
	*empty = r >= 0 && !any;
	return r;
}

/* The new container's tmpfs at dest, opened only if it is one. */
static int open_new_tmpfs(pid_t pid, const char *dest)
{
	_cleanup_free_ char *dir = NULL;
	struct statfs sf;
	int r = root_path(pid, dest, &dir);

	if (r < 0)
		return r;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(ENOENT, "the tmpfs %s of the checkpoint has no directory in the "
				       "restored container", dest);
	/* only into a fresh tmpfs of the new container: never through a
	 * symlink onto some other filesystem */
	if (fstatfs(fd, &sf) < 0 || sf.f_type != TMPFS_MAGIC) {
		close(fd);
		return err_set(ENOTDIR, "%s in the restored container is not a tmpfs: its checkpointed "
				       "contents are not unpacked there", dest);
	}
	return fd;
}

int ckpt_tmpfs_restore_empty(pid_t pid, const char *dest, unsigned int mode, unsigned int uid, unsigned int gid)
{
	_cleanup_close_ int fd = open_new_tmpfs(pid, dest);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return err_sys(errno, "stat of the tmpfs at %s", dest);
	if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
		return err_sys(errno, "giving the tmpfs at %s its owner %u:%u", dest, uid, gid);
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
		return err_sys(errno, "giving the tmpfs at %s its mode %o", dest, mode);
	return 0;
}

int ckpt_tmpfs_restore(pid_t pid, const char *dest, const char *archive)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = open_new_tmpfs(pid, dest);
	struct stat st;
	int r;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return err_sys(errno, "stat of the tmpfs at %s", dest);
	if ((r = root_path(pid, dest, &dir)) < 0)
		return r;
	/* an empty tmpfs whose root the new one already matches */
	if (ckpt_tar_only_root(archive, &st))
		return 0;
	const char *argv[] = { "tar", "--numeric-owner", "--xattrs", "-p", "-C", dir,
			       "-xf", "-", NULL };
	r = run_tar(pid, argv, archive, false);
	return r < 0 ? err_wrap(r, "restoring the tmpfs at %s", dest) : 0;
}

int ckpt_net_save(pid_t pid, const char *path)
{
	return ckpt_net_lo_save(pid, path);
}

static bool has_flag(yajl_val flags, const char *name)
{
	if (!flags || !YAJL_IS_ARRAY(flags))
		return false;
	for (size_t i = 0; i < flags->u.array.len; i++) {
		yajl_val f = flags->u.array.values[i];
		const char *s = YAJL_IS_STRING(f) ? f->u.string : NULL;
		if (s && streq(s, name))
			return true;
	}
	return false;
}

/* The kernel gives lo these two by itself once it is up. */
static bool default_addr(const char *local, int64_t plen)
{
	return (streq(local, "127.0.0.1") && plen == 8) || (streq(local, "::1") && plen == 128);
}

static int add_addr(pid_t pid, yajl_val a)
{
	const char *local = NULL;
	int64_t plen = 0;
	char cidr[128];

	if (json_get_str(a, "local", "local", &local) < 0 ||
	    json_get_int(a, "prefixlen", "prefixlen", &plen) < 0)
		return err_set(EINVAL, "%s: an address without local/prefixlen", "netns-addr.json");
	if (default_addr(local, plen))
		return 0;
	snprintf(cidr, sizeof(cidr), "%s/%lld", local, (long long)plen);
	const char *argv[] = { "ip", "addr", "add", cidr, "dev", "lo", NULL };
	log_info("loopback: adding %s", cidr);
	return ckpt_run(argv, pid, NULL);
}

int ckpt_net_restore(pid_t pid, const char *path)
{
	_cleanup_json_ yajl_val v = NULL;
	int r = json_parse_file(path, &v);

	if (r < 0)
		return r;
	if (!YAJL_IS_ARRAY(v) || v->u.array.len != 1)
		return 0; /* nothing recorded */
	yajl_val lo = v->u.array.values[0];
	if (has_flag(json_get(lo, "flags"), "UP")) {
		log_info("loopback: up");
		if ((r = ckpt_net_lo_up(pid)) < 0)
			return err_wrap(r, "bringing the loopback up");
	}
	yajl_val addrs = json_get(lo, "addr_info");
	for (size_t i = 0; addrs && YAJL_IS_ARRAY(addrs) && i < addrs->u.array.len; i++)
		if ((r = add_addr(pid, addrs->u.array.values[i])) < 0)
			return err_wrap(r, "restoring the loopback addresses");
	return 0;
}
