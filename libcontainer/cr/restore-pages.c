// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore: page contents. pagemap-<pid>.img lists runs of pages in address
 * order; runs with data are stored back to back in pages-<id>.img and are
 * written into the task through /proc/PID/mem in large chunks. A run marked
 * in_parent lives in a pre-dump's images (inventory.parent_path, relative
 * to the image directory, possibly a chain of them): its pages are looked
 * up there by address. Zero runs need nothing (fresh anonymous memory is
 * zero). Lazy runs belong to the page server: they go to the lazy hook.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/image.h"
#include "cr/restore-internal.h"

#define PAGE_CHUNK (4UL << 20)
#define MAX_PARENT_DEPTH 32

/* One image directory's pagemap for one pid, with the data offset of each run. */
struct pm_index {
	int dirfd;
	PagemapEntry **e;
	uint64_t *off;
	size_t n;
	struct cr_img *pages;
	struct pm_index *parent; /* loaded on first need */
	int depth;
};

static void index_free(struct pm_index *x)
{
	while (x) {
		struct pm_index *p = x->parent;
		for (size_t i = 0; i < x->n; i++)
			pagemap_entry__free_unpacked(x->e[i], NULL);
		free(x->e);
		free(x->off);
		if (x->pages)
			img_close(x->pages);
		if (x->dirfd >= 0)
			close(x->dirfd);
		free(x);
		x = p;
	}
}

static bool has_data(const PagemapEntry *e)
{
	return !(e->has_zero && e->zero) && !(e->has_lazy && e->lazy) && !(e->has_in_parent && e->in_parent);
}

/* Takes ownership of dirfd. */
static int index_load(int dirfd, pid_t pid, int depth, struct pm_index **ret)
{
	struct pm_index *x = calloc(1, sizeof(*x));
	struct cr_img *pm = NULL;
	PagemapHead *head = NULL;
	uint64_t off = 0;
	int r;

	if (!x) {
		close(dirfd);
		return -ENOMEM;
	}
	x->dirfd = dirfd;
	x->depth = depth;
	r = img_open(dirfd, CR_IMG_PAGEMAP, pid, O_RDONLY, &pm);
	if (r < 0)
		goto fail;
	r = img_read_msg(pm, &pagemap_head__descriptor, (ProtobufCMessage **)&head);
	if (r < 0 || !head) {
		r = r < 0 ? r : err_set(EBADMSG, "pagemap-%d.img has no head", pid);
		goto fail;
	}
	r = img_open(dirfd, CR_IMG_PAGES, head->pages_id, O_RDONLY, &x->pages);
	if (r < 0)
		goto fail;
	for (;;) {
		PagemapEntry *e;
		r = img_read_msg(pm, &pagemap_entry__descriptor, (ProtobufCMessage **)&e);
		if (r < 0 || !e)
			break;
		PagemapEntry **ne = realloc(x->e, (x->n + 1) * sizeof(*ne));
		uint64_t *no = realloc(x->off, (x->n + 1) * sizeof(*no));
		if (ne)
			x->e = ne;
		if (no)
			x->off = no;
		if (!ne || !no) {
			pagemap_entry__free_unpacked(e, NULL);
			r = -ENOMEM;
			break;
		}
		x->e[x->n] = e;
		x->off[x->n++] = off;
		if (has_data(e))
			off += (uint64_t)e->nr_pages * RST_PAGE;
	}
fail:
	if (head)
		pagemap_head__free_unpacked(head, NULL);
	if (pm)
		img_close(pm);
	if (r < 0) {
		index_free(x);
		return r;
	}
	*ret = x;
	return 0;
}

static int parent_of(struct pm_index *x, pid_t pid, struct pm_index **ret)
{
	InventoryEntry *inv = NULL;
	int r;

	if (x->parent) {
		*ret = x->parent;
		return 0;
	}
	if (x->depth >= MAX_PARENT_DEPTH)
		return err_set(ELOOP, "more than %d pre-dump parents", MAX_PARENT_DEPTH);
	r = img_read_one(x->dirfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor, (ProtobufCMessage **)&inv);
	if (r < 0)
		return r;
	if (!inv->parent_path || !*inv->parent_path) {
		inventory_entry__free_unpacked(inv, NULL);
		return err_set(ENOENT, "pages are in a parent image, but no parent_path is recorded");
	}
	int fd = openat(x->dirfd, inv->parent_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = err_sys(errno, "opening the parent images %s", inv->parent_path);
		inventory_entry__free_unpacked(inv, NULL);
		return r;
	}
	inventory_entry__free_unpacked(inv, NULL);
	r = index_load(fd, pid, x->depth + 1, &x->parent);
	if (r < 0)
		return err_wrap(r, "parent images");
	*ret = x->parent;
	return 0;
}

struct copy_ctx {
	struct rst_ctx *c;
	pid_t pid;
	int mem;
	char *buf;
};

static int copy_data(struct copy_ctx *cc, struct cr_img *pages, uint64_t off, uint64_t vaddr, uint64_t len)
{
	while (len > 0) {
		size_t n = len < PAGE_CHUNK ? len : PAGE_CHUNK;
		if (pread(img_fd(pages), cc->buf, n, img_data_offset(pages) + off) != (ssize_t)n)
			return err_set(EBADMSG, "pages image: short read at offset %llu", (unsigned long long)off);
		if (pwrite(cc->mem, cc->buf, n, vaddr) != (ssize_t)n)
			return err_sys(errno ? errno : EIO, "writing %zu bytes at 0x%llx", n,
				       (unsigned long long)vaddr);
		cc->c->pages_restored += n / RST_PAGE;
		off += n;
		vaddr += n;
		len -= n;
	}
	return 0;
}

/* [vaddr, vaddr+len) from index x: what x has data for is copied, what x
 * has in its parent is looked up there, the rest was never present. */
static int copy_from(struct copy_ctx *cc, struct pm_index *x, uint64_t vaddr, uint64_t len)
{
	uint64_t end = vaddr + len;
	int r;

	for (size_t i = 0; i < x->n; i++) {
		PagemapEntry *e = x->e[i];
		uint64_t s = e->vaddr, t = e->vaddr + (uint64_t)e->nr_pages * RST_PAGE;
		if (t <= vaddr || s >= end)
			continue;
		uint64_t a = s > vaddr ? s : vaddr, b = t < end ? t : end;
		if (e->has_in_parent && e->in_parent) {
			struct pm_index *p = NULL;
			if ((r = parent_of(x, cc->pid, &p)) < 0 || (r = copy_from(cc, p, a, b - a)) < 0)
				return r;
		} else if (has_data(e)) {
			if ((r = copy_data(cc, x->pages, x->off[i] + (a - s), a, b - a)) < 0)
				return r;
		}
	}
	return 0;
}

/* Lazy runs stay empty here: lazy_rst_task() (lazy-restore.c) registers
 * them with userfaultfd once the whole address space is mapped. */
static int lazy_run(struct copy_ctx *cc, const PagemapEntry *e)
{
	if (!cc->c->o->lazy_pages)
		return err_set(EINVAL, "pages at 0x%llx are lazy (served by a page server) but this "
				       "restore is not lazy", (unsigned long long)e->vaddr);
	return 0;
}

int rst_pages_restore(struct rst_ctx *c, struct rst_task *t)
{
	struct pm_index *x = NULL;
	struct copy_ctx cc = { .c = c, .pid = t->pid, .mem = -1 };
	char path[64];
	int r;

	if (!img_exists(c->dirfd, CR_IMG_PAGEMAP, t->pid))
		return 0;
	int dfd = fcntl(c->dirfd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return err_sys(errno, "dup");
	r = index_load(dfd, t->pid, 0, &x);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/mem", t->host_pid);
	cc.mem = open(path, O_RDWR | O_CLOEXEC);
	cc.buf = malloc(PAGE_CHUNK);
	if (cc.mem < 0 || !cc.buf) {
		r = cc.mem < 0 ? err_sys(errno, "opening %s", path) : -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n && r >= 0; i++) {
		PagemapEntry *e = x->e[i];
		uint64_t len = (uint64_t)e->nr_pages * RST_PAGE;
		if (e->has_zero && e->zero)
			continue;
		if (e->has_lazy && e->lazy)
			r = lazy_run(&cc, e);
		else if (e->has_in_parent && e->in_parent)
			r = copy_from(&cc, x, e->vaddr, len);
		else
			r = copy_data(&cc, x->pages, x->off[i], e->vaddr, len);
	}
out:
	if (cc.mem >= 0)
		close(cc.mem);
	free(cc.buf);
	index_free(x);
	return r;
}
