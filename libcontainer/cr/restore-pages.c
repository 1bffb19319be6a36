// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore: page contents. pagemap-<pid>.img lists runs of pages in address
 * order; runs with data are stored back to back in pages-<id>.img. That
 * image is mapped, and the runs go from the mapping into the task in
 * batches, one process_vm_writev() for up to WRITE_BATCH runs: a run is
 * often a single page (the written pages of a private file mapping), and
 * on our test VM a pwrite() per page took 1.6-2.5x as long (512 pages). What process_vm_writev() may not write (a run in a read-only
 * mapping: it does not force, as ptrace access does) goes through
 * /proc/PID/mem, which does. A run marked
 * in_parent lives in a pre-dump's images (inventory.parent_path, relative
 * to the image directory, possibly a chain of them): its pages are looked
 * up there by address. Zero runs need nothing (fresh anonymous memory is
 * zero). Lazy runs belong to the page server: they go to the lazy hook.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/image.h"
#include "cr/ptrace.h"
#include "cr/restore-internal.h"

#define WRITE_BATCH 512 /* runs per process_vm_writev (IOV_MAX is 1024) */
#define MAX_PARENT_DEPTH 32

/* One image directory's pagemap for one pid, with the data offset of each run. */
struct pm_index {
	int dirfd;
	PagemapEntry **e;
	uint64_t *off;
	size_t n;
	struct cr_img *pages;
	unsigned pages_id;
	const uint8_t *map; /* pages-<id>.img mapped read-only, once needed */
	size_t map_len;
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
		if (x->map)
			munmap((void *)x->map, x->map_len);
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
	x->pages_id = head->pages_id;
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
	pid_t pid, host_pid;
	bool forced_only; /* process_vm_writev() refused (not a fault): forced writes */
	size_t n; /* queued runs */
	struct iovec local[WRITE_BATCH], remote[WRITE_BATCH];
};

/* The data of x's pages image. Populated: a restore reads all of it, and
 * the page cache usually holds it already (the dump just wrote it). */
static int map_pages(struct pm_index *x)
{
	struct stat st;

	if (x->map)
		return 0;
	if (fstat(img_fd(x->pages), &st) < 0)
		return err_sys(errno, "pages-%u.img", x->pages_id);
	if ((uint64_t)st.st_size <= img_data_offset(x->pages))
		return err_set(EBADMSG, "pages-%u.img: truncated: no page data", x->pages_id);
	void *m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, img_fd(x->pages), 0);
	if (m == MAP_FAILED)
		return err_sys(errno, "mapping pages-%u.img", x->pages_id);
	x->map = m;
	x->map_len = st.st_size;
	return 0;
}

static int flush(struct copy_ctx *cc)
{
	size_t i = 0;

	while (i < cc->n) {
		ssize_t w = -1;
		if (!cc->forced_only) {
			w = process_vm_writev(cc->host_pid, cc->local + i, cc->n - i, cc->remote + i, cc->n - i, 0);
			cc->forced_only = w < 0 && errno != EFAULT;
		}
		size_t done = w > 0 ? (size_t)w : 0;
		while (i < cc->n && done >= cc->remote[i].iov_len)
			done -= cc->remote[i++].iov_len;
		if (i == cc->n)
			break;
		/* run i stopped the call (at byte `done`): the rest of it through
		 * /proc/PID/mem, which writes read-only mappings too */
		const struct iovec *l = &cc->local[i], *r = &cc->remote[i];
		int ret = ptrace_poke(cc->host_pid, (unsigned long)r->iov_base + done,
				      (const uint8_t *)l->iov_base + done, r->iov_len - done);
		if (ret < 0)
			return ret;
		i++;
	}
	cc->n = 0;
	return 0;
}

static int copy_data(struct copy_ctx *cc, struct pm_index *x, uint64_t off, uint64_t vaddr, uint64_t len)
{
	int r = map_pages(x);
	if (r < 0)
		return r;
	uint64_t avail = x->map_len - img_data_offset(x->pages);
	if (off > avail || len > avail - off)
		return err_set(EBADMSG, "pages-%u.img: truncated: the run at 0x%llx needs %llu bytes at offset %llu, "
					"the file holds %llu", x->pages_id, (unsigned long long)vaddr,
			       (unsigned long long)len, (unsigned long long)off, (unsigned long long)avail);
	const uint8_t *src = x->map + img_data_offset(x->pages) + off;
	struct iovec *pl = cc->n ? &cc->local[cc->n - 1] : NULL, *pr = cc->n ? &cc->remote[cc->n - 1] : NULL;
	if (pl && (const uint8_t *)pl->iov_base + pl->iov_len == src &&
	    (uint64_t)pr->iov_base + pr->iov_len == vaddr) {
		pl->iov_len += len; /* continues the last run in both places */
		pr->iov_len += len;
	} else {
		if (cc->n == WRITE_BATCH && (r = flush(cc)) < 0)
			return r;
		cc->local[cc->n] = (struct iovec){ (void *)src, len };
		cc->remote[cc->n++] = (struct iovec){ (void *)vaddr, len };
	}
	cc->c->pages_restored += len / RST_PAGE;
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
			if ((r = copy_data(cc, x, x->off[i] + (a - s), a, b - a)) < 0)
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
	struct copy_ctx cc = { .c = c, .pid = t->pid, .host_pid = t->host_pid };
	int r;

	if (!img_exists(c->dirfd, CR_IMG_PAGEMAP, t->pid))
		return 0;
	int dfd = fcntl(c->dirfd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return err_sys(errno, "dup");
	r = index_load(dfd, t->pid, 0, &x);
	if (r < 0)
		return r;
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
			r = copy_data(&cc, x, x->off[i], e->vaddr, len);
	}
	if (r >= 0)
		r = flush(&cc); /* before index_free(): the runs point into its mappings */
	index_free(x);
	return r;
}
