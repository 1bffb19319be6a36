// SPDX-License-Identifier: GPL-2.0-or-later
/* The runtime's checkpoint files: descriptors.json as runc writes it,
 * container.json round trips, hostile archive names refused, and the
 * host-side helpers (tmpfs listing, ckpt_run's error text, net restore of a
 * recorded loopback) on this process. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "runtime/ckpt-meta.h"
#include "runtime/ckpt-ns.h"
#include "tap.h"

static char dir[] = "/tmp/test-ckpt-meta.XXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, text, strlen(text), 0600);
}

static void test_descriptors(void)
{
	char *d[3] = { NULL }, *back[3] = { NULL };
	int p[2], saved = dup(1);

	pipe(p);
	dup2(p[1], 1);
	is_int(ckpt_descriptors_collect(getpid(), d), 0, "collect our own fds 0-2");
	dup2(saved, 1);
	close(saved);
	ok(d[1] && !strncmp(d[1], "pipe:[", 6), "fd 1 is named as runc names it: %s", d[1]);
	is_int(ckpt_descriptors_write(dir, d), 0, "write descriptors.json");
	is_int(ckpt_descriptors_read(dir, back), 0, "read it back");
	for (int i = 0; i < 3; i++)
		is_str(back[i], d[i], "descriptor %d round trips", i);
	ckpt_descriptors_free(back);

	char path[256], *text = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, CKPT_DESCRIPTORS);
	read_file(path, &text, NULL, 0);
	ok(text && text[0] == '[' && strstr(text, d[1]), "a plain JSON array: %s", text);
	free(text);
	ckpt_descriptors_free(d);
	close(p[0]);
	close(p[1]);

	put(CKPT_DESCRIPTORS, "{\"a\":1}");
	ok(ckpt_descriptors_read(dir, back) == -EINVAL, "an object is refused: %s", err_msg());
}

static void test_meta(void)
{
	struct ckpt_meta m = { .id = "ck-a", .hostname = "box", .net_file = "netns-addr.json",
			       .paused = true, .stdio_tty = { true, false, true } }, back = { 0 };

	is_int(ckpt_meta_add_tmpfs(&m, "/tmp", "tmpfs-0.tar"), 0, "add a tmpfs");
	is_int(ckpt_meta_add_tmpfs(&m, "/dev/shm", "tmpfs-1.tar"), 0, "add another");
	is_int(ckpt_meta_add_empty_tmpfs(&m, "/run", 041777, 5, 6), 0, "add an empty one");
	is_int(ckpt_meta_write(dir, &m), 0, "write container.json");
	is_int(ckpt_meta_read(dir, &back), 0, "read it back");
	is_str(back.id, "ck-a", "id");
	is_str(back.hostname, "box", "hostname");
	is_str(back.net_file, "netns-addr.json", "net file");
	ok(back.paused, "paused");
	ok(back.stdio_tty[0] && !back.stdio_tty[1] && back.stdio_tty[2], "stdioTty round trips");
	is_int(back.n_tmpfs, 3, "three tmpfs");
	is_str(back.tmpfs[1].dest, "/dev/shm", "tmpfs dest");
	is_str(back.tmpfs[1].archive, "tmpfs-1.tar", "tmpfs archive");
	ok(back.n_tmpfs == 3 && !back.tmpfs[2].archive && back.tmpfs[2].mode == 01777 &&
		   back.tmpfs[2].uid == 5 && back.tmpfs[2].gid == 6,
	   "an empty tmpfs: no archive, its mode (permission bits only) and owner");
	ckpt_meta_free(&back);
	for (size_t i = 0; i < m.n_tmpfs; i++) {
		free(m.tmpfs[i].dest);
		free(m.tmpfs[i].archive);
	}
	free(m.tmpfs);

	put(CKPT_META, "{\"id\":\"x\",\"hostname\":null,\"netFile\":null,\"tmpfs\":[]}");
	is_int(ckpt_meta_read(dir, &back), 0, "nulls are fine");
	ok(!back.hostname && !back.net_file, "and read as absent");
	ok(!back.stdio_tty[0] && !back.stdio_tty[1] && !back.stdio_tty[2], "no stdioTty: no terminal");
	ckpt_meta_free(&back);

	put(CKPT_META, "{\"tmpfs\":[{\"destination\":\"/tmp\",\"archive\":\"../../etc/x\"}]}");
	ok(ckpt_meta_read(dir, &back) < 0, "an archive outside the image dir is refused: %s",
	   err_msg());
	put(CKPT_META, "{\"tmpfs\":[{\"destination\":\"/tmp\",\"empty\":true,\"mode\":70000,\"uid\":0,\"gid\":0}]}");
	ok(ckpt_meta_read(dir, &back) < 0, "an empty tmpfs with a mode beyond 07777 is refused: %s", err_msg());
	put(CKPT_META, "{\"tmpfs\":[{\"destination\":\"/tmp\",\"empty\":true,\"mode\":511}]}");
	ok(ckpt_meta_read(dir, &back) < 0, "an empty tmpfs without an owner is refused");
	put(CKPT_META, "{\"netFile\":\"/etc/passwd\"}");
	ok(ckpt_meta_read(dir, &back) < 0, "a net file outside the image dir is refused");
	put(CKPT_META, "{\"tmpfs\":[{\"destination\":\"tmp\",\"archive\":\"a.tar\"}]}");
	ok(ckpt_meta_read(dir, &back) < 0, "a relative destination is refused");

	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, CKPT_META);
	unlink(path);
	ok(ckpt_meta_read(dir, &back) < 0 && strstr(err_msg(), "not a container checkpoint"),
	   "a missing file says so: %s", err_msg());
}

static void test_host_helpers(void)
{
	_cleanup_strv_ char **mnts = NULL;
	bool own = true;

	is_int(ckpt_tmpfs_list(getpid(), &mnts), 0, "list our tmpfs mounts");
	for (size_t i = 0; mnts && mnts[i]; i++)
		ok(strncmp(mnts[i], "/proc", 5) && strncmp(mnts[i], "/sys", 4) &&
			   (strncmp(mnts[i], "/dev", 4) || !strcmp(mnts[i], "/dev/shm")),
		   "%s is worth saving", mnts[i]);
	is_int(ckpt_own_ns(getpid(), "uts", &own), 0, "compare our own uts ns");
	int p[2];
	ok(pipe(p) == 0 && !ckpt_fd_is_tty(getpid(), p[0]), "a pipe is no terminal");
	close(p[0]);
	close(p[1]);
	ok(!own, "ours is not a container's own");

	const char *fail[] = { "sh", "-c", "echo boom >&2; exit 3", NULL };
	ok(ckpt_run(fail, 0, NULL) == -EIO && strstr(err_msg(), "boom") &&
		   strstr(err_msg(), "exit status 3"),
	   "a failing command's stderr and status are in the error: %s", err_msg());
	char out[256];
	snprintf(out, sizeof(out), "%s/out", dir);
	const char *echo[] = { "echo", "hello", NULL };
	is_int(ckpt_run(echo, 0, out), 0, "stdout goes to a file");
	char *text = NULL;
	read_file(out, &text, NULL, 0);
	is_str(text, "hello\n", "with the output");
	free(text);

	/* tmpfs save/restore through /proc/self/root on a scratch dir */
	char src[256], arc[256], dst[256], f[300];
	snprintf(src, sizeof(src), "%s/src", dir);
	/* unpacking goes only into a tmpfs: /dev/shm is one */
	snprintf(dst, sizeof(dst), "/dev/shm/test-ckpt-meta.XXXXXX");
	ok(mkdtemp(dst) != NULL, "a scratch dir in /dev/shm");
	snprintf(arc, sizeof(arc), "%s/a.tar", dir);
	mkdir(src, 0755);
	snprintf(f, sizeof(f), "%s/file", src);
	write_file(f, "data", 4, 0640);
	is_int(ckpt_tmpfs_save(getpid(), src, arc), 0, "archive a directory");
	is_int(ckpt_tmpfs_restore(getpid(), dst, arc), 0, "unpack it elsewhere");
	snprintf(f, sizeof(f), "%s/file", dst);
	text = NULL;
	read_file(f, &text, NULL, 0);
	is_str(text, "data", "the file came back");
	free(text);
	struct stat st;
	ok(stat(f, &st) == 0 && (st.st_mode & 0777) == 0640, "with its mode");
	snprintf(f, sizeof(f), "%s/missing", dir);
	ok(ckpt_tmpfs_restore(getpid(), f, arc) == -ENOENT, "no destination: %s", err_msg());
	struct statfs sf;
	if (statfs(dir, &sf) == 0 && sf.f_type != TMPFS_MAGIC)
		ok(ckpt_tmpfs_restore(getpid(), src, arc) == -ENOTDIR,
		   "not into a directory that is no tmpfs: %s", err_msg());

	/* an empty tmpfs: noticed, and its mode put back without tar */
	char e[256];
	bool empty = true;
	snprintf(e, sizeof(e), "/dev/shm/test-ckpt-empty.XXXXXX");
	ok(mkdtemp(e) != NULL && chmod(e, 0750) == 0, "an empty dir in /dev/shm");
	is_int(ckpt_tmpfs_is_empty(getpid(), dst, &st, &empty), 0, "look at a full one");
	ok(!empty, "it is not empty");
	is_int(ckpt_tmpfs_is_empty(getpid(), e, &st, &empty), 0, "look at the empty one");
	ok(empty && (st.st_mode & 07777) == 0750, "empty, with its mode");
	is_int(ckpt_tmpfs_restore_empty(getpid(), e, 01733, getuid(), getgid()), 0, "give it another mode");
	ok(stat(e, &st) == 0 && (st.st_mode & 07777) == 01733, "the mode is set: %o", st.st_mode & 07777);
	if (statfs(dir, &sf) == 0 && sf.f_type != TMPFS_MAGIC)
		ok(ckpt_tmpfs_restore_empty(getpid(), src, 0700, 0, 0) == -ENOTDIR,
		   "never onto a directory that is no tmpfs: %s", err_msg());
	rmdir(e);
	const char *rm[] = { "rm", "-rf", dst, NULL };
	ckpt_run(rm, 0, NULL);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_descriptors();
	test_meta();
	test_host_helpers();
	const char *rm[] = { "rm", "-rf", dir, NULL };
	ckpt_run(rm, 0, NULL);
	return done_testing();
}
