/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Images as JSON (like CRIU's `crit show`), generated from the protobuf-c
 * descriptors so that a new field shows up without code here; and the one
 * image question the CLI asks before a restore: which external objects the
 * root's stdio was.
 */
#ifndef SKUA_CR_SHOW_H
#define SKUA_CR_SHOW_H

#include <protobuf-c/protobuf-c.h>
#include <yajl/yajl_gen.h>

/* Every image in image_dir as one JSON object keyed by file name without
 * ".img": {"inventory": {...}, "pstree": [...], "core-7": {...},
 * "pagemap-7": {"head": {...}, "entries": [...]}, "pages-7": {"size": N},
 * "stats-dump": {...}}. A corrupt image is an error naming it. */
int show_images_json(const char *image_dir, char **ret);

/* One message as a JSON object: bytes as hex strings, enums by name. */
void show_message_json(yajl_gen g, const ProtobufCMessage *msg);

/* The keys (external_entry.key, e.g. "pipe:[1234]") of the root's fds 0, 1
 * and 2 where they are FILE_EXTERNAL; NULL where the fd is absent or is
 * restored from the image. Free each with free(). */
int show_root_stdio_keys(const char *image_dir, char *ret_keys[3]);

#endif
