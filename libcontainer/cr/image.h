/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image files. Each file is: u32 magic (per kind), u32 format version, then
 * messages, each a u32 little-endian length followed by that many bytes of
 * protobuf. Raw page data (pages-<id>.img) is a magic, a version, then pages.
 * Every reader checks magic, version, and that a length is within the file
 * and under the kind's limit: a corrupt or truncated image is an error with
 * the file's name and offset, never a crash.
 */
#ifndef SKUA_CR_IMAGE_H
#define SKUA_CR_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#define CR_IMAGE_VERSION 1

enum cr_img_kind {
	CR_IMG_INVENTORY, /* inventory.img        inventory_entry */
	CR_IMG_PSTREE,    /* pstree.img           pstree_entry* */
	CR_IMG_CORE,      /* core-<pid>.img       task_core_entry */
	CR_IMG_MM,        /* mm-<pid>.img         mm_entry */
	CR_IMG_PAGEMAP,   /* pagemap-<pid>.img    pagemap_head, pagemap_entry* */
	CR_IMG_PAGES,     /* pages-<id>.img       raw pages */
	CR_IMG_FILES,     /* files.img            file_entry* */
	CR_IMG_FDINFO,    /* fdinfo-<pid>.img     fd_entry* */
	CR_IMG_KIND_COUNT
};

struct cr_img;

/* The file name of a kind ("core-7.img"); id is ignored for unnumbered kinds. */
int img_name(enum cr_img_kind kind, unsigned id, char *buf, size_t len);
/* Open for reading (checks magic and version) or writing (O_WRONLY: creates,
 * truncates, writes magic and version). dirfd is the image directory. */
int img_open(int dirfd, enum cr_img_kind kind, unsigned id, int flags, struct cr_img **ret);
/* Does this image exist? */
bool img_exists(int dirfd, enum cr_img_kind kind, unsigned id);
int img_close(struct cr_img *img); /* flushes a written image; returns write errors */
int img_fd(const struct cr_img *img);

/* Write one message. */
int img_write_msg(struct cr_img *img, const ProtobufCMessage *msg);
/* Read the next message of type desc: 0 and *ret set, or 0 and *ret NULL at a
 * clean end of file, or -errno (EBADMSG for corruption, with err_set context).
 * Free with protobuf_c_message_free_unpacked(*ret, NULL). */
int img_read_msg(struct cr_img *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret);
/* Read exactly one message (error if absent). */
int img_read_one(int dirfd, enum cr_img_kind kind, unsigned id,
		 const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret);
/* Convenience: write a single-message image file. */
int img_write_one(int dirfd, enum cr_img_kind kind, unsigned id, const ProtobufCMessage *msg);

/* Raw data (pages): append / read at the current position. */
int img_write_raw(struct cr_img *img, const void *buf, size_t len);
int img_read_raw(struct cr_img *img, void *buf, size_t len); /* -EBADMSG if short */
/* Byte offset of the raw area's start (after the header), for pread-style access. */
uint64_t img_data_offset(const struct cr_img *img);

#endif
