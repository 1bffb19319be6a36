// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Files: every fd of every task is collected first (/proc/PID/fd links,
 * stat, fdinfo); then each open file object gets one files.img entry, shared
 * by every fd that refers to it (kcmp(KCMP_FILE) says whether two fds are the
 * same open file), and each task an fdinfo-<pid>.img. A pipe is only "ours"
 * if both its ends are in the tree; pipes and terminals with an end outside
 * are external, recorded by key for the caller to hand back on restore.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/syscall.h"
#include "cr/files-internal.h"
#include "cr/image.h"
#include "cr/proc-parse.h"

static struct file_table *table(struct dump_ctx *ctx)
{
	if (!ctx->files)
		ctx->files = calloc(1, sizeof(*ctx->files));
	return ctx->files;
}

int files_take_fd(const struct fd_obj *f)
{
	_cleanup_close_ int pidfd = sys_pidfd_open(f->task->pid, 0);
	if (pidfd < 0)
		return err_sys(errno, "pidfd_open(%d)", f->task->pid);
	int fd = sys_pidfd_getfd(pidfd, f->fd, 0);
	if (fd < 0)
		return err_sys(errno, "taking " FD_FMT, FD_ARGS(f));
	return fd;
}

static int read_fd(struct dtask *t, int fd, struct fd_obj *o)
{
	char path[96], buf[64];
	int r;

	o->task = t;
	o->fd = fd;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", t->pid, fd);
	if ((r = proc_readlink(path, o->link, sizeof(o->link))) < 0)
		return r;
	if (stat(path, &o->st) < 0)
		return err_sys(errno, "stat %s (%s)", path, o->link);
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", t->pid, fd);
	if ((r = read_file(path, &o->fdinfo, NULL, 0)) < 0)
		return err_sys(-r, "reading %s", path);
	if (proc_field(o->fdinfo, "flags", buf, sizeof(buf)))
		o->flags = strtoul(buf, NULL, 8);
	if (proc_field(o->fdinfo, "pos", buf, sizeof(buf)))
		o->pos = strtoull(buf, NULL, 10);
	return 0;
}

int files_collect(struct dump_ctx *ctx, struct dtask *t)
{
	struct file_table *ft = table(ctx);
	char path[64];

	if (!ft)
		return err_set(ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "/proc/%d/fd", t->pid);
	_cleanup_closedir_ DIR *d = opendir(path);
	if (!d)
		return err_sys(errno, "opening %s", path);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct fd_obj *n = realloc(ft->fds, (ft->n_fds + 1) * sizeof(*n));
		if (!n)
			return err_set(ENOMEM, "out of memory");
		ft->fds = n;
		memset(&n[ft->n_fds], 0, sizeof(n[0]));
		int r = read_fd(t, atoi(de->d_name), &n[ft->n_fds]);
		ft->n_fds++;
		if (r < 0)
			return err_wrap(r, "pid %d", t->ns_pid);
	}
	return 0;
}

static bool same_file(const struct fd_obj *a, const struct fd_obj *b)
{
	if (a->st.st_dev != b->st.st_dev || a->st.st_ino != b->st.st_ino)
		return false;
	return syscall(SYS_kcmp, a->task->pid, b->task->pid, KCMP_FILE, a->fd, b->fd) == 0;
}

static bool is_external_key(struct dump_ctx *ctx, const char *link)
{
	for (size_t i = 0; i < ctx->o->n_external_keys; i++)
		if (streq(ctx->o->external_keys[i], link))
			return true;
	return false;
}

/* Terminals by device number: pts slaves (136-143), tty/console (4, 5). */
static bool is_tty(const struct stat *st)
{
	unsigned int ma = major(st->st_rdev);
	return (ma >= 136 && ma <= 143) || ma == 4 || (ma == 5 && minor(st->st_rdev) != 2);
}

/* Devices whose open file has no state worth keeping, so that opening the
 * path again restores them: null, zero, full, random, urandom. A tun, fuse
 * or kvm fd would come back as a fresh, unconfigured one: refused. */
static bool stateless_chr(const struct stat *st)
{
	unsigned int mi = minor(st->st_rdev);
	return major(st->st_rdev) == 1 && (mi == 3 || mi == 5 || mi == 7 || mi == 8 || mi == 9);
}

static int fill_external(const struct fd_obj *f, FileEntry *e)
{
	e->kind = FILE_KIND__FILE_EXTERNAL;
	e->external = malloc(sizeof(*e->external));
	if (!e->external)
		return err_set(ENOMEM, "out of memory");
	external_entry__init(e->external);
	e->external->key = strdup(f->link);
	return e->external->key ? 0 : err_set(ENOMEM, "out of memory");
}

/* An object shared with the world outside the tree. When the caller named
 * the externals it will hand back, anything else cannot be reconnected. */
static int fill_outside(struct dump_ctx *ctx, const struct fd_obj *f, FileEntry *e, const char *what)
{
	if (ctx->o->n_external_keys)
		return err_set(ENOTSUP, FD_FMT " is %s (%s) shared with a process outside the tree; "
					"not supported", FD_ARGS(f), what, f->link);
	return fill_external(f, e);
}

static int fill_path(const struct fd_obj *f, FileEntry *e, FileKind kind)
{
	size_t len = strlen(f->link);
	static const char deleted[] = " (deleted)";

	if (len > sizeof(deleted) - 1 && streq(f->link + len - (sizeof(deleted) - 1), deleted))
		return err_set(ENOTSUP, FD_FMT " is a deleted file %s; not supported", FD_ARGS(f),
			       f->link);
	e->kind = kind;
	e->reg = malloc(sizeof(*e->reg));
	if (!e->reg)
		return err_set(ENOMEM, "out of memory");
	reg_file_entry__init(e->reg);
	e->reg->path = strdup(f->link);
	if (!e->reg->path)
		return err_set(ENOMEM, "out of memory");
	e->reg->flags = f->flags & ~O_CLOEXEC;
	e->reg->pos = f->pos;
	e->reg->has_mode = true;
	e->reg->mode = f->st.st_mode;
	if (kind == FILE_KIND__FILE_REG) {
		e->reg->has_size = true;
		e->reg->size = f->st.st_size;
	}
	return 0;
}

/* Has the tree an fd on the other end of this pipe? */
static bool pipe_has_peer(const struct file_table *ft, const struct fd_obj *f)
{
	bool wr = (f->flags & O_ACCMODE) == O_WRONLY;
	for (size_t i = 0; i < ft->n_fds; i++) {
		const struct fd_obj *o = &ft->fds[i];
		if (o->st.st_ino == f->st.st_ino && o->st.st_dev == f->st.st_dev &&
		    ((o->flags & O_ACCMODE) == O_WRONLY) != wr)
			return true;
	}
	return false;
}

/* fdinfo lists the locks held through this open file ("lock:\t1: FLOCK
 * ADVISORY WRITE ..."). Restoring them is not done yet, so a lock fails the
 * dump by name either way; the flag only changes the advice. */
static int check_locks(struct dump_ctx *ctx, const struct fd_obj *f)
{
	char buf[256];
	if (!proc_field(f->fdinfo, "lock", buf, sizeof(buf)))
		return 0;
	const char *what = strchr(buf, ' ');
	what = what ? what + 1 : buf;
	if (!ctx->o->file_locks)
		return err_set(ENOTSUP, FD_FMT " (%s) holds a file lock (%s); use --file-locks",
			       FD_ARGS(f), f->link, what);
	return err_set(ENOTSUP, FD_FMT " (%s) holds a file lock (%s); restoring file locks is "
				"not supported yet", FD_ARGS(f), f->link, what);
}

static int classify(struct dump_ctx *ctx, const struct fd_obj *f, FileEntry *e)
{
	struct file_table *ft = ctx->files;
	mode_t m = f->st.st_mode & S_IFMT;
	int r = check_locks(ctx, f);

	if (r < 0)
		return r;
	if (is_external_key(ctx, f->link))
		return fill_external(f, e);
	if (!strncmp(f->link, "pipe:", 5)) {
		if (!pipe_has_peer(ft, f))
			return fill_outside(ctx, f, e, "a pipe");
		return files_pipe_fill(ft, f, e);
	}
	if (!strncmp(f->link, "socket:", 7))
		return sockets_fill(ctx, f, e);
	if (!strncmp(f->link, "anon_inode:", 11))
		return files_anon_fill(f, e);
	if (f->link[0] != '/')
		return err_set(ENOTSUP, FD_FMT " is %s; not supported", FD_ARGS(f), f->link);
	switch (m) {
	case S_IFREG:
		return fill_path(f, e, FILE_KIND__FILE_REG);
	case S_IFDIR:
		return fill_path(f, e, FILE_KIND__FILE_DIR);
	case S_IFCHR:
		if (major(f->st.st_rdev) == 5 && minor(f->st.st_rdev) == 2)
			return err_set(ENOTSUP, FD_FMT " is a pty master (%s); not supported",
				       FD_ARGS(f), f->link);
		if (is_tty(&f->st))
			return fill_outside(ctx, f, e, "a terminal");
		if (!stateless_chr(&f->st))
			return err_set(ENOTSUP, FD_FMT " is the character device %s (%u:%u); not supported",
				       FD_ARGS(f), f->link, major(f->st.st_rdev), minor(f->st.st_rdev));
		return fill_path(f, e, FILE_KIND__FILE_CHR);
	case S_IFIFO:
		return err_set(ENOTSUP, FD_FMT " is a named pipe %s; not supported", FD_ARGS(f), f->link);
	default:
		return err_set(ENOTSUP, FD_FMT " is %s (mode 0%o); not supported", FD_ARGS(f), f->link,
			       m);
	}
}

static int add_file(struct dump_ctx *ctx, struct fd_obj *f)
{
	struct file_table *ft = ctx->files;
	FileEntry *e = malloc(sizeof(*e));
	if (!e)
		return err_set(ENOMEM, "out of memory");
	file_entry__init(e);
	e->id = ft->n_files + 1;
	int r = classify(ctx, f, e);
	if (r < 0) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return r;
	}
	FileEntry **n = realloc(ft->files, (ft->n_files + 1) * sizeof(*n));
	if (!n) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return err_set(ENOMEM, "out of memory");
	}
	ft->files = n;
	ft->files[ft->n_files++] = e;
	f->file_id = e->id;
	return 0;
}

static int assign_ids(struct dump_ctx *ctx)
{
	struct file_table *ft = ctx->files;
	for (size_t i = 0; i < ft->n_fds; i++) {
		struct fd_obj *f = &ft->fds[i];
		for (size_t j = 0; j < i && !f->file_id; j++)
			if (same_file(&ft->fds[j], f))
				f->file_id = ft->fds[j].file_id;
		if (f->file_id)
			continue;
		int r = add_file(ctx, f);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_files_img(struct dump_ctx *ctx)
{
	struct file_table *ft = ctx->files;
	struct cr_img *img;
	int r = img_open(ctx->img_dirfd, CR_IMG_FILES, 0, O_WRONLY, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ft->n_files && r >= 0; i++)
		r = img_write_msg(img, &ft->files[i]->base);
	int r2 = img_close(img);
	return r < 0 ? r : r2;
}

static int write_fdinfo(struct dump_ctx *ctx, const struct dtask *t)
{
	struct file_table *ft = ctx->files;
	struct cr_img *img;
	int r = img_open(ctx->img_dirfd, CR_IMG_FDINFO, t->ns_pid, O_WRONLY, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ft->n_fds && r >= 0; i++) {
		const struct fd_obj *f = &ft->fds[i];
		if (f->task != t)
			continue;
		FdEntry e = FD_ENTRY__INIT;
		e.fd = f->fd;
		e.file_id = f->file_id;
		e.cloexec = (f->flags & O_CLOEXEC) != 0;
		r = img_write_msg(img, &e.base);
	}
	int r2 = img_close(img);
	return r < 0 ? r : r2;
}

int files_dump(struct dump_ctx *ctx)
{
	if (!table(ctx))
		return err_set(ENOMEM, "out of memory");
	int r = assign_ids(ctx);
	if (r < 0)
		return r;
	if ((r = files_unix_link(ctx->files)) < 0)
		return r;
	if ((r = write_files_img(ctx)) < 0)
		return r;
	for (size_t i = 0; i < ctx->n_tasks; i++)
		if (!ctx->tasks[i].zombie && (r = write_fdinfo(ctx, &ctx->tasks[i])) < 0)
			return r;
	log_info("files: %zu fds, %zu open files", ctx->files->n_fds, ctx->files->n_files);
	return 0;
}

void files_free(struct dump_ctx *ctx)
{
	struct file_table *ft = ctx->files;
	if (!ft)
		return;
	for (size_t i = 0; i < ft->n_fds; i++)
		free(ft->fds[i].fdinfo);
	for (size_t i = 0; i < ft->n_files; i++)
		protobuf_c_message_free_unpacked(&ft->files[i]->base, NULL);
	free(ft->fds);
	free(ft->files);
	free(ft);
	ctx->files = NULL;
}
