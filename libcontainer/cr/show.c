// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Images as JSON. The JSON is produced by walking protobuf-c's descriptors,
 * so the output follows the .proto files by construction: field names as
 * written there, enums by name, bytes as hex (as crit prints them), uint64
 * as plain numbers so that jq can compute with addresses.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
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

enum show_layout {
	SHOW_ONE,     /* exactly one message: an object */
	SHOW_MANY,    /* a list of messages: an array */
	SHOW_PAGEMAP, /* a head then entries */
	SHOW_RAW,     /* raw data: its size */
};

static const struct {
	const ProtobufCMessageDescriptor *desc;
	enum show_layout layout;
} show_kinds[CR_IMG_KIND_COUNT] = {
	[CR_IMG_INVENTORY] = { &inventory_entry__descriptor, SHOW_ONE },
	[CR_IMG_PSTREE]    = { &pstree_entry__descriptor, SHOW_MANY },
	[CR_IMG_CORE]      = { &task_core_entry__descriptor, SHOW_ONE },
	[CR_IMG_MM]        = { &mm_entry__descriptor, SHOW_ONE },
	[CR_IMG_PAGEMAP]   = { &pagemap_entry__descriptor, SHOW_PAGEMAP },
	[CR_IMG_PAGES]     = { NULL, SHOW_RAW },
	[CR_IMG_FILES]     = { &file_entry__descriptor, SHOW_MANY },
	[CR_IMG_FDINFO]    = { &fd_entry__descriptor, SHOW_MANY },
};

/* ---- one message ---- */

static void gen_u64(yajl_gen g, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	yajl_gen_number(g, num, n);
}

static void gen_hex(yajl_gen g, const ProtobufCBinaryData *b)
{
	static const char digits[] = "0123456789abcdef";
	_cleanup_free_ char *s = malloc(b->len * 2 + 1);

	if (!s) {
		yajl_gen_null(g);
		return;
	}
	for (size_t i = 0; i < b->len; i++) {
		s[2 * i] = digits[b->data[i] >> 4];
		s[2 * i + 1] = digits[b->data[i] & 15];
	}
	yajl_gen_string(g, (const unsigned char *)s, b->len * 2);
}

static void gen_value(yajl_gen g, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		yajl_gen_integer(g, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		yajl_gen_integer(g, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		yajl_gen_integer(g, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		gen_u64(g, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		yajl_gen_double(g, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		yajl_gen_double(g, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		yajl_gen_bool(g, *(const protobuf_c_boolean *)p);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		if (ev)
			json_gen_str(g, ev->name);
		else
			yajl_gen_integer(g, v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		if (s)
			json_gen_str(g, s);
		else
			yajl_gen_null(g);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES:
		gen_hex(g, p);
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		if (m)
			show_message_json(g, m);
		else
			yajl_gen_null(g);
		break;
	}
	}
}

static size_t field_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static bool field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)msg;

	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	/* optional strings and messages say "absent" with NULL, the rest with has_* */
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + f->offset) != NULL;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

void show_message_json(yajl_gen g, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;

	yajl_gen_map_open(g);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(char *const *)(base + f->offset);
			json_gen_str(g, f->name);
			yajl_gen_array_open(g);
			for (size_t j = 0; j < n; j++)
				gen_value(g, f, arr + j * field_size(f));
			yajl_gen_array_close(g);
			continue;
		}
		if (!field_present(msg, f))
			continue;
		json_gen_str(g, f->name);
		gen_value(g, f, base + f->offset);
	}
	yajl_gen_map_close(g);
}

/* ---- whole images ---- */

static int show_messages(yajl_gen g, struct cr_img *img, const ProtobufCMessageDescriptor *desc)
{
	yajl_gen_array_open(g);
	for (;;) {
		ProtobufCMessage *m;
		int r = img_read_msg(img, desc, &m);
		if (r < 0)
			return r;
		if (!m)
			break;
		show_message_json(g, m);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	yajl_gen_array_close(g);
	return 0;
}

static int show_one_image(yajl_gen g, int dirfd, enum cr_img_kind kind, unsigned id)
{
	const ProtobufCMessageDescriptor *desc = show_kinds[kind].desc;
	struct cr_img *img;
	ProtobufCMessage *m;
	int r;

	if (show_kinds[kind].layout == SHOW_ONE) {
		r = img_read_one(dirfd, kind, id, desc, &m);
		if (r < 0)
			return r;
		show_message_json(g, m);
		protobuf_c_message_free_unpacked(m, NULL);
		return 0;
	}

	r = img_open(dirfd, kind, id, O_RDONLY, &img);
	if (r < 0)
		return r;
	switch (show_kinds[kind].layout) {
	case SHOW_MANY:
		r = show_messages(g, img, desc);
		break;
	case SHOW_PAGEMAP:
		r = img_read_msg(img, &pagemap_head__descriptor, &m);
		if (r >= 0 && !m)
			r = err_set(EBADMSG, "pagemap-%u.img: no pagemap_head", id);
		if (r < 0)
			break;
		yajl_gen_map_open(g);
		json_gen_str(g, "head");
		show_message_json(g, m);
		protobuf_c_message_free_unpacked(m, NULL);
		json_gen_str(g, "entries");
		r = show_messages(g, img, desc);
		yajl_gen_map_close(g);
		break;
	case SHOW_RAW: {
		struct stat st;
		if (fstat(img_fd(img), &st) < 0) {
			r = err_sys(errno, "pages-%u.img: fstat", id);
			break;
		}
		yajl_gen_map_open(g);
		json_gen_kv_int(g, "size", (long long)(st.st_size - img_data_offset(img)));
		yajl_gen_map_close(g);
		break;
	}
	case SHOW_ONE:
		break;
	}
	img_close(img);
	return r;
}

/* Which kind (and id) a directory entry is; false for other files. */
static bool show_match_name(const char *name, enum cr_img_kind *ret_kind, unsigned *ret_id)
{
	for (int k = 0; k < CR_IMG_KIND_COUNT; k++) {
		char want[64];
		unsigned id = 0;
		const char *dash = strrchr(name, '-');

		if (dash && dash[1] >= '0' && dash[1] <= '9') {
			char *end;
			unsigned long v = strtoul(dash + 1, &end, 10);
			if (v <= UINT32_MAX)
				id = v;
		}
		if (img_name(k, id, want, sizeof(want)) == 0 && streq(want, name)) {
			*ret_kind = k;
			*ret_id = id;
			return true;
		}
	}
	return false;
}

static int show_stats(yajl_gen g, int dirfd, const char *name)
{
	StatsEntry *e;
	int r = stats_read_at(dirfd, name, &e);
	if (r < 0)
		return r;
	show_message_json(g, &e->base);
	stats_entry__free_unpacked(e, NULL);
	return 0;
}

static int show_dir(yajl_gen g, int dirfd, struct dirent **names, int n)
{
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		enum cr_img_kind kind;
		unsigned id;
		int r;

		if (streq(name, STATS_DUMP_FILE) || streq(name, STATS_RESTORE_FILE)) {
			json_gen_str(g, name);
			r = show_stats(g, dirfd, name);
		} else if (show_match_name(name, &kind, &id)) {
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)(strlen(name) - 4), name);
			json_gen_str(g, key);
			r = show_one_image(g, dirfd, kind, id);
		} else {
			continue;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int show_images_json(const char *image_dir, char **ret)
{
	struct dirent **names = NULL;
	_cleanup_close_ int dirfd = open(image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0)
		return err_sys(errno, "opening %s", image_dir);
	int n = scandirat(dirfd, ".", &names, NULL, versionsort);
	if (n < 0)
		return err_sys(errno, "listing %s", image_dir);

	yajl_gen g = json_gen_new(true);
	if (!g) {
		while (n--)
			free(names[n]);
		free(names);
		return err_set(ENOMEM, "allocating a JSON generator");
	}
	yajl_gen_map_open(g);
	int r = show_dir(g, dirfd, names, n);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r < 0) {
		yajl_gen_free(g);
		return r;
	}
	yajl_gen_map_close(g);
	return json_gen_finish(g, ret, NULL);
}

/* ---- the root's stdio ---- */

static int root_stdio_file_ids(int dirfd, unsigned root, uint32_t ids[3], bool have[3])
{
	struct cr_img *img;
	int r = img_open(dirfd, CR_IMG_FDINFO, root, O_RDONLY, &img);
	if (r < 0)
		return r;
	for (;;) {
		FdEntry *fe;
		r = img_read_msg(img, &fd_entry__descriptor, (ProtobufCMessage **)&fe);
		if (r < 0 || !fe)
			break;
		if (fe->fd < 3) {
			ids[fe->fd] = fe->file_id;
			have[fe->fd] = true;
		}
		fd_entry__free_unpacked(fe, NULL);
	}
	img_close(img);
	return r;
}

static int root_stdio_match_files(int dirfd, const uint32_t ids[3], const bool have[3], char *keys[3])
{
	struct cr_img *img;
	int r = img_open(dirfd, CR_IMG_FILES, 0, O_RDONLY, &img);
	if (r < 0)
		return r;
	for (;;) {
		FileEntry *fe;
		r = img_read_msg(img, &file_entry__descriptor, (ProtobufCMessage **)&fe);
		if (r < 0 || !fe)
			break;
		for (int i = 0; i < 3 && r >= 0; i++) {
			if (!have[i] || ids[i] != fe->id || fe->kind != FILE_KIND__FILE_EXTERNAL ||
			    !fe->external || keys[i])
				continue;
			keys[i] = strdup(fe->external->key);
			if (!keys[i])
				r = err_set(ENOMEM, "copying a key");
		}
		file_entry__free_unpacked(fe, NULL);
		if (r < 0)
			break;
	}
	img_close(img);
	return r;
}

int show_root_stdio_keys(const char *image_dir, char *ret_keys[3])
{
	_cleanup_close_ int dirfd = open(image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	InventoryEntry *inv;
	uint32_t ids[3] = { 0 };
	bool have[3] = { false };
	char *keys[3] = { NULL };

	if (dirfd < 0)
		return err_sys(errno, "opening %s", image_dir);
	int r = img_read_one(dirfd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor,
			     (ProtobufCMessage **)&inv);
	if (r < 0)
		return r;
	unsigned root = inv->root_pid;
	inventory_entry__free_unpacked(inv, NULL);

	/* a tree without open files has neither image */
	if (img_exists(dirfd, CR_IMG_FDINFO, root))
		r = root_stdio_file_ids(dirfd, root, ids, have);
	if (r >= 0 && (have[0] || have[1] || have[2]))
		r = root_stdio_match_files(dirfd, ids, have, keys);
	if (r < 0) {
		for (int i = 0; i < 3; i++)
			free(keys[i]);
		return r;
	}
	memcpy(ret_keys, keys, sizeof(keys));
	return 0;
}
