// SPDX-License-Identifier: GPL-2.0-or-later
/* cr/image.c: round trips of every kind, and every corruption a reader must
 * turn into a clean -EBADMSG naming the file. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "cr/image.h"
#include "tap.h"

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

static char dir[64];
static int dfd = -1;

/* Messages are equal iff their packings are (protobuf-c packs deterministically). */
static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la = protobuf_c_message_get_packed_size(a), lb = protobuf_c_message_get_packed_size(b);
	if (la != lb)
		return false;
	_cleanup_free_ uint8_t *pa = malloc(la + 1), *pb = malloc(lb + 1);
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	return memcmp(pa, pb, la) == 0;
}

static bool has(const char *needle)
{
	bool found = strstr(err_msg(), needle) != NULL;
	if (!found)
		printf("#   message was: %s\n", err_msg());
	return found;
}

/* ---- sample messages ---- */

static X86RegsEntry regs = X86_REGS_ENTRY__INIT;
static ThreadCoreEntry thread = THREAD_CORE_ENTRY__INIT;
static ThreadCoreEntry *threads[] = { &thread };
static CredsEntry creds = CREDS_ENTRY__INIT;
static uint32_t groups[] = { 1, 2, 3 };
static uint8_t xstate[2432];
static TaskCoreEntry core = TASK_CORE_ENTRY__INIT;

static void make_core(void)
{
	regs.ip = 0x7f00deadbeefULL;
	regs.sp = 0x7ffc00001000ULL;
	regs.ax = (uint64_t)-4;
	for (size_t i = 0; i < sizeof(xstate); i++)
		xstate[i] = i * 7;
	thread.tid = 7;
	thread.regs = &regs;
	thread.xstate.data = xstate;
	thread.xstate.len = sizeof(xstate);
	thread.blocked = 1 << 9;
	thread.comm = "worker";
	creds.groups = groups;
	creds.n_groups = 3;
	creds.cap_eff = ~0ULL;
	core.pid = 7;
	core.comm = "counter";
	core.exit_signal = 17;
	core.umask = 022;
	core.creds = &creds;
	core.threads = threads;
	core.n_threads = 1;
	core.cwd = "/";
	core.has_oom_score_adj = 1;
	core.oom_score_adj = -500;
}

/* Write msgs[0..n) to a fresh image, read them back and compare. */
static void round_trip(enum cr_img_kind kind, unsigned id, const ProtobufCMessage *const *msgs, size_t n,
		       const char *what)
{
	struct cr_img *img;
	const ProtobufCMessageDescriptor *desc = msgs[0]->descriptor;
	int r = img_open(dfd, kind, id, O_WRONLY, &img);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = img_write_msg(img, msgs[i]);
	int rc = img_close(img);
	is_int(r == 0 ? rc : r, 0, "%s: written", what);

	r = img_open(dfd, kind, id, O_RDONLY, &img);
	is_int(r, 0, "%s: opened for reading", what);
	if (r < 0)
		return;
	bool same = true;
	for (size_t i = 0; i < n; i++) {
		ProtobufCMessage *m = NULL;
		r = img_read_msg(img, desc, &m);
		if (r < 0 || !m || !msg_equal(m, msgs[i]))
			same = false;
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
	}
	ok(same, "%s: %zu message(s) read back equal", what, n);
	ProtobufCMessage *m = (void *)1;
	r = img_read_msg(img, desc, &m);
	ok(r == 0 && m == NULL, "%s: clean end of file", what);
	m = (void *)1;
	r = img_read_msg(img, desc, &m);
	ok(r == 0 && m == NULL, "%s: end of file again", what);
	img_close(img);
}

static void test_round_trips(void)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	inv.format_version = CR_IMAGE_VERSION;
	inv.root_pid = 1;
	inv.own_pid_ns = 1;
	inv.kernel_release = "6.18.0";
	inv.has_xcr0 = 1;
	inv.xcr0 = 0xe7;
	round_trip(CR_IMG_INVENTORY, 0, (const ProtobufCMessage *[]){ &inv.base }, 1, "inventory");

	PstreeEntry p[3];
	uint32_t tids[] = { 1, 5, 6 };
	for (int i = 0; i < 3; i++) {
		pstree_entry__init(&p[i]);
		p[i].pid = i + 1;
		p[i].ppid = i;
		p[i].pgid = p[i].sid = 1;
	}
	p[0].threads = tids;
	p[0].n_threads = 3;
	round_trip(CR_IMG_PSTREE, 0, (const ProtobufCMessage *[]){ &p[0].base, &p[1].base, &p[2].base }, 3,
		   "pstree");

	make_core();
	round_trip(CR_IMG_CORE, 7, (const ProtobufCMessage *[]){ &core.base }, 1, "core");

	VmaEntry v1 = VMA_ENTRY__INIT, v2 = VMA_ENTRY__INIT;
	VmaEntry *vmas[] = { &v1, &v2 };
	v1.start = 0x400000;
	v1.end = 0x401000;
	v1.kind = VMA_KIND__VMA_FILE_PRIVATE;
	v1.path = "/bin/counter";
	v2.start = 0x7ffc0000000ULL;
	v2.end = 0x7ffc0021000ULL;
	v2.prot = 3;
	v2.kind = VMA_KIND__VMA_STACK;
	v2.name = "[stack]";
	MmEntry mm = MM_ENTRY__INIT;
	mm.exe_file = "/bin/counter";
	mm.vmas = vmas;
	mm.n_vmas = 2;
	round_trip(CR_IMG_MM, 7, (const ProtobufCMessage *[]){ &mm.base }, 1, "mm");

	PagemapHead ph = PAGEMAP_HEAD__INIT;
	ph.pages_id = 7;
	PagemapEntry pe1 = PAGEMAP_ENTRY__INIT, pe2 = PAGEMAP_ENTRY__INIT;
	pe1.vaddr = 0x400000;
	pe1.nr_pages = 1;
	pe2.vaddr = 0x7ffc0020000ULL;
	pe2.nr_pages = 1;
	pe2.has_zero = pe2.zero = 1;
	/* the head and the entries are different types in one file */
	struct cr_img *img;
	int r = img_open(dfd, CR_IMG_PAGEMAP, 7, O_WRONLY, &img);
	if (r == 0) {
		r = img_write_msg(img, &ph.base);
		if (r == 0)
			r = img_write_msg(img, &pe1.base);
		if (r == 0)
			r = img_write_msg(img, &pe2.base);
		int rc = img_close(img);
		r = r ? r : rc;
	}
	is_int(r, 0, "pagemap: head and entries written");
	ProtobufCMessage *m1 = NULL, *m2 = NULL, *m3 = NULL;
	r = img_open(dfd, CR_IMG_PAGEMAP, 7, O_RDONLY, &img);
	if (r == 0) {
		r = img_read_msg(img, &pagemap_head__descriptor, &m1);
		if (r == 0)
			r = img_read_msg(img, &pagemap_entry__descriptor, &m2);
		if (r == 0)
			r = img_read_msg(img, &pagemap_entry__descriptor, &m3);
		img_close(img);
	}
	ok(r == 0 && m1 && m2 && m3 && msg_equal(m1, &ph.base) && msg_equal(m2, &pe1.base) &&
		   msg_equal(m3, &pe2.base),
	   "pagemap: head and entries read back equal");
	for (ProtobufCMessage **m = (ProtobufCMessage *[]){ m1, m2, m3, NULL }; *m; m++)
		protobuf_c_message_free_unpacked(*m, NULL);

	FileEntry f1 = FILE_ENTRY__INIT, f2 = FILE_ENTRY__INIT;
	PipeEntry pipe = PIPE_ENTRY__INIT;
	ExternalEntry ext = EXTERNAL_ENTRY__INIT;
	_cleanup_free_ uint8_t *pipedata = malloc(200000);
	memset(pipedata, 'p', 200000);
	f1.id = 1;
	f1.kind = FILE_KIND__FILE_PIPE;
	pipe.pipe_id = 1;
	pipe.has_data = 1;
	pipe.data.data = pipedata;
	pipe.data.len = 200000; /* larger than the write buffer */
	f1.pipe = &pipe;
	f2.id = 2;
	f2.kind = FILE_KIND__FILE_EXTERNAL;
	ext.key = "pipe:[4242]";
	f2.external = &ext;
	round_trip(CR_IMG_FILES, 0, (const ProtobufCMessage *[]){ &f1.base, &f2.base }, 2, "files");

	FdEntry fd0 = FD_ENTRY__INIT, fd1 = FD_ENTRY__INIT;
	fd0.fd = 0;
	fd0.file_id = 2;
	fd1.fd = 1;
	fd1.file_id = 1;
	fd1.cloexec = 1;
	round_trip(CR_IMG_FDINFO, 7, (const ProtobufCMessage *[]){ &fd0.base, &fd1.base }, 2, "fdinfo");
}

static void test_names(void)
{
	char name[32];
	is_int(img_name(CR_IMG_CORE, 7, name, sizeof(name)), 0, "img_name core");
	is_str(name, "core-7.img", "core name");
	img_name(CR_IMG_INVENTORY, 7, name, sizeof(name));
	is_str(name, "inventory.img", "inventory name ignores the id");
	img_name(CR_IMG_PAGES, 12, name, sizeof(name));
	is_str(name, "pages-12.img", "pages name");
	ok(img_name(CR_IMG_FDINFO, 1, name, 4) < 0, "a short buffer is an error");
	ok(img_name(CR_IMG_KIND_COUNT, 1, name, sizeof(name)) < 0, "an unknown kind is an error");
	ok(img_exists(dfd, CR_IMG_CORE, 7), "core-7.img exists");
	ok(!img_exists(dfd, CR_IMG_CORE, 8), "core-8.img does not");
	struct cr_img *img;
	is_int(img_open(dfd, CR_IMG_CORE, 8, O_RDONLY, &img), -ENOENT, "opening a missing image: -ENOENT");
	ok(has("core-8.img"), "the error names the file");
}

/* ---- corruption ---- */

static void put_file(const char *name, const void *data, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		printf("# cannot write %s\n", name);
	close(fd);
}

static size_t get_file(const char *name, uint8_t *buf, size_t max)
{
	int fd = openat(dfd, name, O_RDONLY);
	ssize_t n = read(fd, buf, max);
	close(fd);
	return n < 0 ? 0 : n;
}

static void patch_u32(const char *name, size_t off, uint32_t v)
{
	int fd = openat(dfd, name, O_WRONLY);
	if (pwrite(fd, &v, 4, off) != 4)
		printf("# cannot patch %s\n", name);
	close(fd);
}

/* Read core-7.img as task_core_entry messages until EOF or error. */
static int read_core_all(void)
{
	struct cr_img *img;
	int r = img_open(dfd, CR_IMG_CORE, 7, O_RDONLY, &img);
	if (r < 0)
		return r;
	for (;;) {
		ProtobufCMessage *m;
		r = img_read_msg(img, &task_core_entry__descriptor, &m);
		if (r < 0 || !m)
			break;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	img_close(img);
	return r;
}

static void write_core_twice(void)
{
	struct cr_img *img;
	img_open(dfd, CR_IMG_CORE, 7, O_WRONLY, &img);
	img_write_msg(img, &core.base);
	img_write_msg(img, &core.base);
	img_close(img);
}

static void test_corruption(void)
{
	static uint8_t good[64 * 1024];
	size_t len, msg_len = protobuf_c_message_get_packed_size(&core.base);
	size_t second = 8 + 4 + msg_len; /* offset of the second message */

	write_core_twice();
	len = get_file("core-7.img", good, sizeof(good));
	is_int(len, 8 + 2 * (4 + msg_len), "two core messages: header + 2 x (length + payload)");
	is_int(read_core_all(), 0, "the intact image reads to a clean EOF");

	patch_u32("core-7.img", 0, 0x12345678);
	err_clear();
	is_int(read_core_all(), -EBADMSG, "wrong magic: -EBADMSG");
	ok(has("core-7.img") && has("bad magic 0x12345678"), "wrong magic: message names file and magic");

	put_file("core-7.img", good, len);
	patch_u32("core-7.img", 4, 99);
	is_int(read_core_all(), -EBADMSG, "wrong version: -EBADMSG");
	ok(has("core-7.img") && has("version 99"), "wrong version: message names file and version");

	put_file("core-7.img", good, 5);
	is_int(read_core_all(), -EBADMSG, "truncated header: -EBADMSG");
	ok(has("core-7.img: truncated header (5 of 8 bytes)"), "truncated header: message");

	put_file("core-7.img", good, 0);
	is_int(read_core_all(), -EBADMSG, "empty file: -EBADMSG");

	put_file("core-7.img", good, len - 10);
	is_int(read_core_all(), -EBADMSG, "truncated message: -EBADMSG");
	ok(has("core-7.img: message 2 at offset") && has("beyond end of file"),
	   "truncated message: message names file, message number and offset");

	put_file("core-7.img", good, second + 2);
	is_int(read_core_all(), -EBADMSG, "truncated length prefix: -EBADMSG");
	ok(has("truncated length"), "truncated length prefix: message");

	put_file("core-7.img", good, len);
	patch_u32("core-7.img", second, 0xffffffff);
	is_int(read_core_all(), -EBADMSG, "absurd length: -EBADMSG");
	char want[128];
	snprintf(want, sizeof(want), "core-7.img: message 2 at offset %zu: length 4294967295 beyond end of file",
		 second);
	ok(has(want), "absurd length: exact message");

	put_file("core-7.img", good, len);
	patch_u32("core-7.img", 8, (uint32_t)msg_len | 0x01000000);
	is_int(read_core_all(), -EBADMSG, "a high bit flipped in a length: -EBADMSG");
	ok(has("core-7.img: message 1 at offset 8: length") && has("beyond end of file"),
	   "flipped length: message");

	put_file("core-7.img", good, len);
	patch_u32("core-7.img", 8, 0);
	is_int(read_core_all(), -EBADMSG, "length flipped to 0 (required fields missing): -EBADMSG");
	ok(has("cannot decode 0 bytes as task_core_entry"), "undecodable: message names the type");

	/* a tag byte with wire type 7 does not exist */
	uint8_t bad[sizeof(good)];
	memcpy(bad, good, len);
	bad[12] = 0x07;
	put_file("core-7.img", bad, len);
	is_int(read_core_all(), -EBADMSG, "flipped payload byte: -EBADMSG");

	/* every single-byte corruption: an error or a message, never a crash */
	int errors = 0, reads = 0;
	for (size_t i = 0; i < len; i += 7) {
		memcpy(bad, good, len);
		bad[i] ^= 0xa5;
		put_file("core-7.img", bad, len);
		int r = read_core_all();
		if (r == -EBADMSG)
			errors++;
		else if (r == 0)
			reads++;
	}
	is_int(errors + reads, (len + 6) / 7, "byte flips everywhere: only clean errors or clean reads");
	put_file("core-7.img", good, len);
}

static void test_limits(void)
{
	/* a length within the file but over the kind's limit (inventory: 1 MiB) */
	size_t big = 2u << 20;
	_cleanup_free_ uint8_t *buf = calloc(1, big);
	uint32_t hdr[3] = { 0, CR_IMAGE_VERSION, (3u << 19) };
	struct cr_img *img;
	InventoryEntry inv = INVENTORY_ENTRY__INIT;

	img_write_one(dfd, CR_IMG_INVENTORY, 0, &inv.base);
	get_file("inventory.img", (uint8_t *)hdr, 4);
	memcpy(buf, hdr, sizeof(hdr));
	put_file("inventory.img", buf, big);
	ProtobufCMessage *m;
	is_int(img_read_one(dfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor, &m), -EBADMSG,
	       "length over the kind's limit: -EBADMSG");
	ok(has("over the limit"), "over the limit: message");

	/* writers refuse what readers would refuse */
	inv.kernel_release = (char *)buf;
	memset(buf, 'x', big - 1);
	buf[big - 1] = 0;
	img_open(dfd, CR_IMG_INVENTORY, 0, O_WRONLY, &img);
	is_int(img_write_msg(img, &inv.base), -EMSGSIZE, "writing a message over the limit: -EMSGSIZE");
	img_close(img);

	/* img_read_one wants exactly one */
	img_open(dfd, CR_IMG_INVENTORY, 0, O_WRONLY, &img);
	is_int(img_close(img), 0, "empty inventory written");
	is_int(img_read_one(dfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor, &m), -EBADMSG,
	       "img_read_one of an empty image: -EBADMSG");
	inv.kernel_release = "6.18";
	img_open(dfd, CR_IMG_INVENTORY, 0, O_WRONLY, &img);
	img_write_msg(img, &inv.base);
	img_write_msg(img, &inv.base);
	img_close(img);
	is_int(img_read_one(dfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor, &m), -EBADMSG,
	       "img_read_one of two messages: -EBADMSG");
	is_int(img_write_one(dfd, CR_IMG_INVENTORY, 0, &inv.base), 0, "img_write_one");
	m = NULL;
	is_int(img_read_one(dfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor, &m), 0, "img_read_one");
	ok(m && streq(((InventoryEntry *)m)->kernel_release, "6.18"), "img_read_one: field read back");
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

static void test_pages(void)
{
	size_t big = 3 * 65536 + 4096 * 3;
	_cleanup_free_ uint8_t *data = malloc(big), *back = malloc(big);
	struct cr_img *img;

	for (size_t i = 0; i < big; i++)
		data[i] = (i * 31) ^ (i >> 12);
	int r = img_open(dfd, CR_IMG_PAGES, 3, O_WRONLY, &img);
	/* small writes go through the buffer, big ones around it */
	if (r == 0)
		r = img_write_raw(img, data, 4096);
	if (r == 0)
		r = img_write_raw(img, data + 4096, 3 * 65536);
	if (r == 0)
		r = img_write_raw(img, data + 4096 + 3 * 65536, big - 4096 - 3 * 65536);
	int rc = img_close(img);
	is_int(r ? r : rc, 0, "pages written");

	r = img_open(dfd, CR_IMG_PAGES, 3, O_RDONLY, &img);
	is_int(r, 0, "pages opened");
	is_int(img_data_offset(img), 8, "data starts after magic and version");
	r = img_read_raw(img, back, 100);
	if (r == 0)
		r = img_read_raw(img, back + 100, big - 100);
	ok(r == 0 && memcmp(data, back, big) == 0, "pages read back equal");
	is_int(img_read_raw(img, back, 4096), -EBADMSG, "reading past the end: -EBADMSG");
	ok(has("pages-3.img") && has("short read"), "short read names the file");
	ProtobufCMessage *m;
	ok(img_read_msg(img, &pagemap_entry__descriptor, &m) < 0, "no messages in a raw image");
	img_close(img);

	struct stat st;
	fstatat(dfd, "pages-3.img", &st, 0);
	is_int(st.st_size, 8 + big, "pages file size");
	char path[96];
	snprintf(path, sizeof(path), "%s/pages-3.img", dir);
	ok(truncate(path, 8 + 4096 + 100) == 0, "pages image truncated");
	img_open(dfd, CR_IMG_PAGES, 3, O_RDONLY, &img);
	is_int(img_read_raw(img, back, 4096), 0, "first page of a truncated pages image");
	is_int(img_read_raw(img, back, 4096), -EBADMSG, "short read of a truncated pages image: -EBADMSG");
	ok(has("pages-3.img: short read at offset 4104: 100 of 4096 bytes"), "short read: exact message");
	img_close(img);
}

static void test_write_errors(void)
{
	struct cr_img *img;
	ok(symlinkat("/dev/full", dfd, "core-99.img") == 0, "core-99.img -> /dev/full");
	int r = img_open(dfd, CR_IMG_CORE, 99, O_WRONLY, &img);
	is_int(r, 0, "opening a core image on /dev/full (the header is buffered)");
	if (r < 0)
		return;
	r = img_write_msg(img, &core.base);
	is_int(r, 0, "a small write is buffered");
	is_int(img_close(img), -ENOSPC, "img_close reports ENOSPC");
	ok(has("core-99.img") && has("No space left"), "ENOSPC: message names the file");

	r = img_open(dfd, CR_IMG_CORE, 99, O_WRONLY, &img);
	_cleanup_free_ uint8_t *big = calloc(1, 1 << 20);
	ok(img_write_raw(img, big, 1 << 20) == -ENOSPC, "a large write fails at once with ENOSPC");
	ok(img_write_msg(img, &core.base) == -ENOSPC, "and the error sticks");
	is_int(img_close(img), -ENOSPC, "img_close still reports it");
	unlinkat(dfd, "core-99.img", 0);

	img_open(dfd, CR_IMG_CORE, 7, O_RDONLY, &img);
	ok(img_write_msg(img, &core.base) == -EBADF, "writing to an image open for reading: -EBADF");
	img_close(img);
}

int main(void)
{
	strcpy(dir, "/tmp/skua-test-cr-image-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);

	test_round_trips();
	test_names();
	test_corruption();
	test_limits();
	test_pages();
	test_write_errors();

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
	return done_testing();
}
