// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore, step 1: read every image of the tree into memory and check it
 * against itself (pids unique, parents present, file ids known) and against
 * this machine (format version, xstate features), before anything is made.
 */
#include <cpuid.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/image.h"
#include "cr/restore-internal.h"
#include "cr/vma.h"

static int load_inventory(struct rst_ctx *c)
{
	int r = img_read_one(c->dirfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor,
			     (ProtobufCMessage **)&c->inv);
	if (r < 0)
		return err_wrap(r, "reading inventory");
	if (c->inv->format_version != CR_IMAGE_VERSION)
		return err_set(EINVAL, "image format version %u; this skua reads version %u",
			       c->inv->format_version, CR_IMAGE_VERSION);
	return 0;
}

static uint64_t machine_xcr0(void)
{
	unsigned a, b, cx, d;

	if (!__get_cpuid(1, &a, &b, &cx, &d) || !(cx & bit_OSXSAVE))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	return ((uint64_t)d << 32) | a;
}

/* The digest of this kernel's vDSO, computed over our own [vdso] the way
 * the dumper does it. */
static int machine_vdso(uint8_t digest[VDSO_DIGEST_LEN], uint64_t *ret_size)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	if (!f)
		return err_sys(errno, "reading /proc/self/maps");
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && strstr(line, "[vdso]")) {
			vma_vdso_digest((const void *)s, e - s, digest);
			*ret_size = e - s;
			return 0;
		}
	}
	return err_set(ENOENT, "this process has no vDSO");
}

static int check_vdso(struct rst_ctx *c)
{
	uint8_t digest[VDSO_DIGEST_LEN];
	uint64_t size;

	if (!c->inv->has_vdso_hash)
		return 0;
	int r = machine_vdso(digest, &size);
	if (r < 0)
		return r;
	if (c->inv->vdso_hash.len != VDSO_DIGEST_LEN || memcmp(c->inv->vdso_hash.data, digest, VDSO_DIGEST_LEN) ||
	    (c->inv->has_vdso_size && c->inv->vdso_size != size))
		return err_set(EINVAL, "the images come from another kernel build (vDSO differs%s%s): "
				       "restore needs the same kernel",
			       c->inv->kernel_release ? ", dumped on " : "",
			       c->inv->kernel_release ? c->inv->kernel_release : "");
	return 0;
}

static int check_machine(struct rst_ctx *c)
{
	uint64_t xcr0 = machine_xcr0();
	int r = check_vdso(c);

	if (r < 0)
		return r;

	if (c->inv->has_xcr0 && c->inv->xcr0 != xcr0)
		return err_set(EINVAL,
			       "images were dumped on a CPU with XCR0 0x%llx, this one has 0x%llx: "
			       "the FPU state cannot be restored here",
			       (unsigned long long)c->inv->xcr0, (unsigned long long)xcr0);
	return 0;
}

static int load_task(struct rst_ctx *c, struct rst_task *t)
{
	int r;

	if (t->pst->has_zombie && t->pst->zombie) {
		t->zombie = true;
		return 0; /* a zombie has no other images */
	}

	r = img_read_one(c->dirfd, CR_IMG_CORE, t->pid, &task_core_entry__descriptor,
			 (ProtobufCMessage **)&t->core);
	if (r < 0)
		return r;
	r = img_read_one(c->dirfd, CR_IMG_MM, t->pid, &mm_entry__descriptor, (ProtobufCMessage **)&t->mm);
	if (r < 0)
		return r;
	if (img_exists(c->dirfd, CR_IMG_FDINFO, t->pid)) {
		struct cr_img *img;
		r = img_open(c->dirfd, CR_IMG_FDINFO, t->pid, O_RDONLY, &img);
		if (r < 0)
			return r;
		for (;;) {
			FdEntry *fe;
			r = img_read_msg(img, &fd_entry__descriptor, (ProtobufCMessage **)&fe);
			if (r < 0 || !fe)
				break;
			FdEntry **n = realloc(t->fds, (t->n_fds + 1) * sizeof(*n));
			if (!n) {
				fd_entry__free_unpacked(fe, NULL);
				r = -ENOMEM;
				break;
			}
			t->fds = n;
			t->fds[t->n_fds++] = fe;
		}
		img_close(img);
		if (r < 0)
			return r;
	}
	if (t->core->pid != (uint32_t)t->pid)
		return err_set(EBADMSG, "core-%d.img describes pid %u", t->pid, t->core->pid);
	if (t->core->n_threads != t->pst->n_threads || t->core->n_threads == 0)
		return err_set(EBADMSG, "core-%d.img has %zu threads, pstree.img %zu", t->pid,
			       t->core->n_threads, t->pst->n_threads);
	t->n_threads = t->core->n_threads;
	t->threads = calloc(t->n_threads, sizeof(*t->threads));
	if (!t->threads)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_threads; i++) {
		t->threads[i].tid = t->core->threads[i]->tid;
		t->threads[i].core = t->core->threads[i];
		if (t->threads[i].tid != (pid_t)t->pst->threads[i])
			return err_set(EBADMSG, "thread %zu of pid %d: core says %d, pstree %u", i,
				       t->pid, t->threads[i].tid, t->pst->threads[i]);
		if (c->inv->has_xstate_size && t->threads[i].core->xstate.len != c->inv->xstate_size)
			return err_set(EBADMSG, "thread %d: xstate of %zu bytes, inventory says %u",
				       t->threads[i].tid, t->threads[i].core->xstate.len,
				       c->inv->xstate_size);
	}
	if (t->threads[0].tid != t->pid)
		return err_set(EBADMSG, "pid %d: the first thread is %d", t->pid, t->threads[0].tid);
	return 0;
}

static int load_pstree(struct rst_ctx *c)
{
	struct cr_img *img;
	int r = img_open(c->dirfd, CR_IMG_PSTREE, 0, O_RDONLY, &img);
	if (r < 0)
		return err_wrap(r, "reading pstree");
	for (;;) {
		PstreeEntry *pe;
		r = img_read_msg(img, &pstree_entry__descriptor, (ProtobufCMessage **)&pe);
		if (r < 0 || !pe)
			break;
		struct rst_task *n = realloc(c->tasks, (c->n_tasks + 1) * sizeof(*n));
		if (!n) {
			pstree_entry__free_unpacked(pe, NULL);
			r = -ENOMEM;
			break;
		}
		c->tasks = n;
		memset(&c->tasks[c->n_tasks], 0, sizeof(*n));
		c->tasks[c->n_tasks].pst = pe;
		c->tasks[c->n_tasks].pid = pe->pid;
		c->tasks[c->n_tasks].transport = -1;
		c->tasks[c->n_tasks].transport_engine = -1;
		c->n_tasks++;
	}
	img_close(img);
	if (r < 0)
		return err_wrap(r, "reading pstree");
	if (c->n_tasks == 0)
		return err_set(EBADMSG, "pstree.img is empty");
	return 0;
}

static int load_files(struct rst_ctx *c)
{
	struct cr_img *img;
	int r;

	if (!img_exists(c->dirfd, CR_IMG_FILES, 0))
		return 0;
	r = img_open(c->dirfd, CR_IMG_FILES, 0, O_RDONLY, &img);
	if (r < 0)
		return r;
	for (;;) {
		FileEntry *fe;
		r = img_read_msg(img, &file_entry__descriptor, (ProtobufCMessage **)&fe);
		if (r < 0 || !fe)
			break;
		FileEntry **n = realloc(c->files, (c->n_files + 1) * sizeof(*n));
		if (!n) {
			file_entry__free_unpacked(fe, NULL);
			r = -ENOMEM;
			break;
		}
		c->files = n;
		c->files[c->n_files++] = fe;
	}
	img_close(img);
	if (r < 0)
		return err_wrap(r, "reading files");
	c->file_fds = malloc((c->n_files + 1) * sizeof(int));
	if (!c->file_fds)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_files; i++)
		c->file_fds[i] = -1;
	return 0;
}

/* Cross-references: a damaged or hand-edited image set fails here, not
 * half way through building the tree. */
static int validate(struct rst_ctx *c)
{
	struct rst_task *root = &c->tasks[0];

	if (root->pst->ppid != 0 && rst_task_by_pid(c, root->pst->ppid))
		return err_set(EBADMSG, "pstree: the root %d has a parent in the tree", root->pid);
	if (root->pid != (pid_t)c->inv->root_pid)
		return err_set(EBADMSG, "pstree starts with %d, inventory names root %u", root->pid,
			       c->inv->root_pid);
	if (root->zombie)
		return err_set(EBADMSG, "the root %d is a zombie", root->pid);
	if (c->inv->own_pid_ns && root->pid != 1)
		return err_set(EBADMSG, "the tree had its own pid namespace but its root is %d, not 1",
			       root->pid);
	for (size_t i = 0; i < c->n_tasks; i++) {
		struct rst_task *t = &c->tasks[i];
		if (t->pid <= 0)
			return err_set(EBADMSG, "pstree: invalid pid %d", t->pid);
		for (size_t j = 0; j < i; j++)
			if (c->tasks[j].pid == t->pid)
				return err_set(EBADMSG, "pstree: pid %d appears twice", t->pid);
		if (i > 0) {
			t->parent = rst_task_by_pid(c, t->pst->ppid);
			if (!t->parent || t->parent >= t)
				return err_set(EBADMSG, "pstree: parent %u of pid %d is not before it",
					       t->pst->ppid, t->pid);
		}
		for (size_t k = 0; k < t->n_fds; k++)
			if (rst_file_index(c, t->fds[k]->file_id) < 0)
				return err_set(EBADMSG, "fd %u of pid %d names file %u, absent from files.img",
					       t->fds[k]->fd, t->pid, t->fds[k]->file_id);
	}
	return 0;
}

int rst_images_load(struct rst_ctx *c)
{
	int r;

	r = load_inventory(c);
	if (r < 0)
		return r;
	r = check_machine(c);
	if (r < 0)
		return r;
	r = load_pstree(c);
	if (r < 0)
		return r;
	r = load_files(c);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_tasks; i++) {
		r = load_task(c, &c->tasks[i]);
		if (r < 0)
			return err_wrap(r, "reading images of pid %d", c->tasks[i].pid);
	}
	return validate(c);
}

struct rst_task *rst_task_by_pid(struct rst_ctx *c, pid_t pid)
{
	for (size_t i = 0; i < c->n_tasks; i++)
		if (c->tasks[i].pid == pid)
			return &c->tasks[i];
	return NULL;
}

int rst_file_index(struct rst_ctx *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_files; i++)
		if (c->files[i]->id == id)
			return i;
	return -ENOENT;
}

void rst_images_free(struct rst_ctx *c)
{
	for (size_t i = 0; i < c->n_tasks; i++) {
		struct rst_task *t = &c->tasks[i];
		for (size_t k = 0; k < t->n_fds; k++)
			fd_entry__free_unpacked(t->fds[k], NULL);
		free(t->fds);
		free(t->threads);
		if (t->core)
			task_core_entry__free_unpacked(t->core, NULL);
		if (t->mm)
			mm_entry__free_unpacked(t->mm, NULL);
		pstree_entry__free_unpacked(t->pst, NULL);
	}
	free(c->tasks);
	for (size_t i = 0; i < c->n_files; i++)
		file_entry__free_unpacked(c->files[i], NULL);
	free(c->files);
	free(c->file_fds);
	if (c->inv)
		inventory_entry__free_unpacked(c->inv, NULL);
	c->tasks = NULL;
	c->files = NULL;
	c->file_fds = NULL;
	c->inv = NULL;
}
