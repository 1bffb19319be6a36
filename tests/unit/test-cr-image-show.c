// SPDX-License-Identifier: GPL-2.0-or-later
/* cr/stats.c and cr/show.c: CRIU-compatible stats files, images as JSON, and
 * the root's stdio keys, over a small hand-made image directory. */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/json.h"
#include "cr/image.h"
#include "cr/show.h"
#include "cr/stats.h"
#include "tap.h"

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

static char dir[64];
static int dfd = -1;

static void test_stats(void)
{
	DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;
	RestoreStatsEntry rs = RESTORE_STATS_ENTRY__INIT;
	StatsEntry *e = NULL;
	uint32_t hdr[3] = { 0 };

	d.freezing_time = 1234;
	d.frozen_time = 5678;
	d.memdump_time = 90;
	d.memwrite_time = 12;
	d.pages_scanned = 1000;
	d.pages_written = 800;
	d.pages_skipped_parent = 200;
	is_int(stats_write_dump(dir, &d), 0, "stats-dump written");
	is_int(stats_read_dump(dir, &e), 0, "stats-dump read");
	ok(e && e->dump && !e->restore, "stats-dump holds a dump entry only");
	if (e && e->dump) {
		is_int(e->dump->freezing_time, 1234, "freezing_time");
		is_int(e->dump->frozen_time, 5678, "frozen_time");
		is_int(e->dump->pages_written, 800, "pages_written");
		ok(e->dump->has_pages_lazy, "pages_lazy always present (CRIU's proto requires it)");
	}
	if (e)
		stats_entry__free_unpacked(e, NULL);

	/* the framing go-criu checks: two magics and a length, little-endian */
	int fd = openat(dfd, "stats-dump", O_RDONLY);
	ok(fd >= 0 && read(fd, hdr, sizeof(hdr)) == sizeof(hdr), "stats-dump header read");
	off_t size = lseek(fd, 0, SEEK_END);
	close(fd);
	is_int(le32toh(hdr[0]), 0x55105940, "IMG_SERVICE_MAGIC first");
	is_int(le32toh(hdr[1]), 0x57093306, "STATS_MAGIC second");
	is_int(le32toh(hdr[2]) + 12, size, "then the payload length, to the end of the file");

	rs.forking_time = 42;
	rs.restore_time = 4242;
	rs.has_pages_restored = 1;
	rs.pages_restored = 77;
	e = NULL;
	is_int(stats_write_restore(dir, &rs), 0, "stats-restore written");
	is_int(stats_read_restore(dir, &e), 0, "stats-restore read");
	ok(e && e->restore && e->restore->restore_time == 4242 && e->restore->pages_restored == 77,
	   "stats-restore fields read back");
	if (e)
		stats_entry__free_unpacked(e, NULL);

	fd = openat(dfd, "stats-restore", O_WRONLY);
	uint32_t bad = 0x54564319;
	ok(pwrite(fd, &bad, 4, 0) == 4, "stats-restore magic overwritten");
	close(fd);
	is_int(stats_read_restore(dir, &e), -EBADMSG, "a bad stats magic: -EBADMSG");
	ok(strstr(err_msg(), "stats-restore: bad magic"), "the error names the file");
	unlinkat(dfd, "stats-restore", 0);
}

/* A little image set: pid 1 with one thread, its stdin a file, its stdout
 * and stderr an external pipe. */
static int make_images(void)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	inv.format_version = CR_IMAGE_VERSION;
	inv.root_pid = 1;
	inv.own_pid_ns = 1;
	inv.container_id = "show-test";
	int r = img_write_one(dfd, CR_IMG_INVENTORY, 0, &inv.base);

	PstreeEntry p1 = PSTREE_ENTRY__INIT, p2 = PSTREE_ENTRY__INIT;
	uint32_t tids[] = { 1 };
	p1.pid = 1;
	p1.threads = tids;
	p1.n_threads = 1;
	p2.pid = 2;
	p2.ppid = 1;
	struct cr_img *img;
	if (r == 0)
		r = img_open(dfd, CR_IMG_PSTREE, 0, O_WRONLY, &img);
	if (r == 0) {
		img_write_msg(img, &p1.base);
		img_write_msg(img, &p2.base);
		r = img_close(img);
	}

	X86RegsEntry regs = X86_REGS_ENTRY__INIT;
	regs.ip = 0xffffffffffff1234ULL; /* above INT64_MAX: must stay exact */
	regs.sp = 0x7ffc1000;
	uint8_t xs[4] = { 0xde, 0xad, 0xbe, 0xef };
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
	ThreadCoreEntry *ths[] = { &th };
	th.tid = 1;
	th.regs = &regs;
	th.xstate.data = xs;
	th.xstate.len = 4;
	CredsEntry creds = CREDS_ENTRY__INIT;
	TaskCoreEntry core = TASK_CORE_ENTRY__INIT;
	core.pid = 1;
	core.comm = "sh";
	core.creds = &creds;
	core.threads = ths;
	core.n_threads = 1;
	if (r == 0)
		r = img_write_one(dfd, CR_IMG_CORE, 1, &core.base);

	VmaEntry v = VMA_ENTRY__INIT;
	VmaEntry *vs[] = { &v };
	v.start = 0x1000;
	v.end = 0x2000;
	v.kind = VMA_KIND__VMA_ANON_PRIVATE;
	MmEntry mm = MM_ENTRY__INIT;
	mm.exe_file = "/bin/sh";
	mm.vmas = vs;
	mm.n_vmas = 1;
	if (r == 0)
		r = img_write_one(dfd, CR_IMG_MM, 1, &mm.base);

	PagemapHead ph = PAGEMAP_HEAD__INIT;
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	ph.pages_id = 1;
	pe.vaddr = 0x1000;
	pe.nr_pages = 1;
	if (r == 0)
		r = img_open(dfd, CR_IMG_PAGEMAP, 1, O_WRONLY, &img);
	if (r == 0) {
		img_write_msg(img, &ph.base);
		img_write_msg(img, &pe.base);
		r = img_close(img);
	}
	static uint8_t page[4096];
	if (r == 0)
		r = img_open(dfd, CR_IMG_PAGES, 1, O_WRONLY, &img);
	if (r == 0) {
		img_write_raw(img, page, sizeof(page));
		r = img_close(img);
	}

	FileEntry f1 = FILE_ENTRY__INIT, f2 = FILE_ENTRY__INIT;
	RegFileEntry reg = REG_FILE_ENTRY__INIT;
	ExternalEntry ext = EXTERNAL_ENTRY__INIT;
	f1.id = 10;
	f1.kind = FILE_KIND__FILE_REG;
	reg.path = "/etc/hostname";
	f1.reg = &reg;
	f2.id = 11;
	f2.kind = FILE_KIND__FILE_EXTERNAL;
	ext.key = "pipe:[4242]";
	f2.external = &ext;
	if (r == 0)
		r = img_open(dfd, CR_IMG_FILES, 0, O_WRONLY, &img);
	if (r == 0) {
		img_write_msg(img, &f1.base);
		img_write_msg(img, &f2.base);
		r = img_close(img);
	}

	FdEntry fds[4];
	uint32_t map[4][2] = { { 0, 10 }, { 1, 11 }, { 2, 11 }, { 5, 10 } };
	if (r == 0)
		r = img_open(dfd, CR_IMG_FDINFO, 1, O_WRONLY, &img);
	if (r == 0) {
		for (int i = 0; i < 4; i++) {
			fd_entry__init(&fds[i]);
			fds[i].fd = map[i][0];
			fds[i].file_id = map[i][1];
			img_write_msg(img, &fds[i].base);
		}
		r = img_close(img);
	}
	return r;
}

static void test_show(void)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ yajl_val v = NULL;

	is_int(make_images(), 0, "a small image set written");
	/* files that are not images are left out */
	int fd = openat(dfd, "dump.log", O_WRONLY | O_CREAT, 0600);
	close(fd);

	int r = show_images_json(dir, &text);
	is_int(r, 0, "show_images_json");
	if (r < 0) {
		printf("# %s\n", err_msg());
		return;
	}
	is_int(json_parse(text, "show", &v), 0, "the output parses as JSON");
	const char *pi[] = { "inventory", "container_id", NULL };
	yajl_val x = yajl_tree_get(v, pi, yajl_t_string);
	is_str(x ? YAJL_GET_STRING(x) : NULL, "show-test", "inventory.container_id");
	const char *pt[] = { "pstree", NULL };
	x = yajl_tree_get(v, pt, yajl_t_array);
	ok(x && x->u.array.len == 2, "pstree: an array of 2");
	const char *pip[] = { "core-1", "threads", NULL };
	x = yajl_tree_get(v, pip, yajl_t_array);
	yajl_val t0 = x && x->u.array.len == 1 ? x->u.array.values[0] : NULL;
	const char *pregs[] = { "regs", "ip", NULL };
	yajl_val ip = t0 ? yajl_tree_get(t0, pregs, yajl_t_number) : NULL;
	is_str(ip ? YAJL_GET_NUMBER(ip) : NULL, "18446744073709490740", "core-1 threads[0].regs.ip exact");
	const char *pxs[] = { "xstate", NULL };
	yajl_val xsv = t0 ? yajl_tree_get(t0, pxs, yajl_t_string) : NULL;
	is_str(xsv ? YAJL_GET_STRING(xsv) : NULL, "deadbeef", "bytes as hex");
	const char *prest[] = { "restart_kind", NULL };
	ok(t0 && !yajl_tree_get(t0, prest, yajl_t_any), "absent optional fields are left out");
	const char *pk[] = { "mm-1", "vmas", NULL };
	x = yajl_tree_get(v, pk, yajl_t_array);
	const char *pkind[] = { "kind", NULL };
	yajl_val kind = x && x->u.array.len ? yajl_tree_get(x->u.array.values[0], pkind, yajl_t_string) : NULL;
	is_str(kind ? YAJL_GET_STRING(kind) : NULL, "VMA_ANON_PRIVATE", "enums by name");
	const char *ppm[] = { "pagemap-1", "entries", NULL };
	x = yajl_tree_get(v, ppm, yajl_t_array);
	ok(x && x->u.array.len == 1, "pagemap-1.entries: 1");
	const char *pph[] = { "pagemap-1", "head", "pages_id", NULL };
	ok(yajl_tree_get(v, pph, yajl_t_number) != NULL, "pagemap-1.head.pages_id");
	const char *pps[] = { "pages-1", "size", NULL };
	x = yajl_tree_get(v, pps, yajl_t_number);
	is_int(x ? YAJL_GET_INTEGER(x) : -1, 4096, "pages-1.size");
	const char *pf[] = { "fdinfo-1", NULL };
	x = yajl_tree_get(v, pf, yajl_t_array);
	ok(x && x->u.array.len == 4, "fdinfo-1: 4 fds");
	const char *psd[] = { "stats-dump", "dump", "frozen_time", NULL };
	x = yajl_tree_get(v, psd, yajl_t_number);
	is_int(x ? YAJL_GET_INTEGER(x) : -1, 5678, "stats-dump shown too");
	const char *plog[] = { "dump.log", NULL };
	ok(!yajl_tree_get(v, plog, yajl_t_any), "dump.log is not an image");

	char *keys[3] = { (char *)1, (char *)1, (char *)1 };
	is_int(show_root_stdio_keys(dir, keys), 0, "show_root_stdio_keys");
	ok(keys[0] == NULL, "fd 0 is restored from the image: no key");
	is_str(keys[1], "pipe:[4242]", "fd 1: its external key");
	is_str(keys[2], "pipe:[4242]", "fd 2: its external key");
	for (int i = 0; i < 3; i++)
		free(keys[i]);

	/* a tree without open files has no fdinfo image: no keys, no error */
	char fdinfo[96], moved[128];
	snprintf(fdinfo, sizeof(fdinfo), "%s/fdinfo-1.img", dir);
	snprintf(moved, sizeof(moved), "%s.moved", fdinfo);
	ok(rename(fdinfo, moved) == 0, "fdinfo-1.img moved away");
	char *none[3] = { (char *)1, (char *)1, (char *)1 };
	is_int(show_root_stdio_keys(dir, none), 0, "show_root_stdio_keys without fdinfo");
	ok(!none[0] && !none[1] && !none[2], "without fdinfo: no keys");

	/* a corrupt image fails the whole show, naming the file */
	uint32_t junk = 0xffffffff;
	fd = openat(dfd, "mm-1.img", O_WRONLY);
	ok(fd >= 0 && pwrite(fd, &junk, 4, 8) == 4, "mm-1.img length corrupted");
	close(fd);
	char *t2 = NULL;
	is_int(show_images_json(dir, &t2), -EBADMSG, "show of a corrupt image: -EBADMSG");
	ok(strstr(err_msg(), "mm-1.img") != NULL, "the error names mm-1.img");
	free(t2);
	is_int(show_images_json("/nonexistent-skua-dir", &t2), -ENOENT, "show of a missing dir: -ENOENT");
}

int main(void)
{
	strcpy(dir, "/tmp/skua-test-cr-show-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);

	test_stats();
	test_show();

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
	return done_testing();
}
