/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A look into a tmpfs archive before unpacking it: an empty tmpfs (the usual
 * /dev/shm) needs no fork and exec of tar at restore.
 */
#ifndef SKUA_RUNTIME_CKPT_TAR_H
#define SKUA_RUNTIME_CKPT_TAR_H

#include <stdbool.h>
#include <sys/stat.h>

/* Does the archive hold nothing but "./" with exactly this mode (07777
 * bits), owner and group, no extended headers? Anything else, or a read
 * error: false, and tar does the work. */
bool ckpt_tar_only_root(const char *archive, const struct stat *root);

#endif
