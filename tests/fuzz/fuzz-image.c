// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the image readers. The first input byte picks what
 * the rest is: one of the image kinds, or a stats file. The bytes are written
 * to that file in a scratch directory and read the way restore and `engine
 * show` read it: messages until EOF or error, each also turned into JSON.
 * Any crash, leak or sanitizer report is a bug; clean errors are expected.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/json.h"
#include "cr/image.h"
#include "cr/show.h"
#include "cr/stats.h"

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

static const ProtobufCMessageDescriptor *const descs[CR_IMG_KIND_COUNT] = {
	[CR_IMG_INVENTORY] = &inventory_entry__descriptor,
	[CR_IMG_PSTREE] = &pstree_entry__descriptor,
	[CR_IMG_CORE] = &task_core_entry__descriptor,
	[CR_IMG_MM] = &mm_entry__descriptor,
	[CR_IMG_PAGEMAP] = &pagemap_entry__descriptor,
	[CR_IMG_PAGES] = NULL,
	[CR_IMG_FILES] = &file_entry__descriptor,
	[CR_IMG_FDINFO] = &fd_entry__descriptor,
};

static int dirfd_ = -1;
static char dir[64];

static void scratch_remove(void)
{
	char name[64];
	for (int k = 0; k < CR_IMG_KIND_COUNT; k++)
		if (img_name(k, 1, name, sizeof(name)) == 0)
			unlinkat(dirfd_, name, 0);
	unlinkat(dirfd_, STATS_DUMP_FILE, 0);
	rmdir(dir);
}

static int scratch_dir(void)
{
	if (dirfd_ >= 0)
		return dirfd_;
	snprintf(dir, sizeof(dir), "%s/skua-fuzz-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		abort();
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0)
		abort();
	atexit(scratch_remove);
	return dirfd_;
}

static void put(const char *name, const uint8_t *data, size_t len)
{
	int fd = openat(scratch_dir(), name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
		abort();
	close(fd);
}

static void to_json(const ProtobufCMessage *m)
{
	yajl_gen g = json_gen_new(false);
	char *text = NULL;
	show_message_json(g, m);
	if (json_gen_finish(g, &text, NULL) == 0)
		free(text);
}

static void read_messages(struct cr_img *img, enum cr_img_kind kind)
{
	const ProtobufCMessageDescriptor *desc = descs[kind];
	bool first = kind == CR_IMG_PAGEMAP;

	for (;;) {
		ProtobufCMessage *m = NULL;
		int r = img_read_msg(img, first ? &pagemap_head__descriptor : desc, &m);
		first = false;
		if (r < 0 || !m)
			return;
		to_json(m);
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

static void read_pages(struct cr_img *img)
{
	static uint8_t page[4096];
	while (img_read_raw(img, page, sizeof(page)) == 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned pick = data[0] % (CR_IMG_KIND_COUNT + 1);
	data++, size--;

	if (pick == CR_IMG_KIND_COUNT) {
		StatsEntry *e;
		put(STATS_DUMP_FILE, data, size);
		if (stats_read_at(scratch_dir(), STATS_DUMP_FILE, &e) == 0) {
			to_json(&e->base);
			stats_entry__free_unpacked(e, NULL);
		}
		return 0;
	}

	enum cr_img_kind kind = pick;
	char name[64];
	struct cr_img *img;
	img_name(kind, 1, name, sizeof(name));
	put(name, data, size);
	if (img_open(scratch_dir(), kind, 1, O_RDONLY, &img) < 0)
		return 0;
	if (kind == CR_IMG_PAGES)
		read_pages(img);
	else
		read_messages(img, kind);
	img_close(img);
	err_clear();
	return 0;
}
