// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fd.h"
#include "runtime/ckpt-tar.h"

#define BLOCK 512
/* GNU tar pads an archive to records of 20 blocks */
#define MAX_BARE (2 * 20 * BLOCK)

static bool octal(const char *f, size_t len, unsigned long long *ret)
{
	unsigned long long v = 0;
	size_t i = 0;
	bool any = false;

	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, any = true)
		v = v * 8 + (unsigned)(f[i] - '0');
	if (!any || (i < len && f[i] != '\0' && f[i] != ' '))
		return false;
	*ret = v;
	return true;
}

static bool header_ok(const char *h, unsigned long long *size)
{
	unsigned long long sum, calc = 0;

	if (memcmp(h + 257, "ustar", 5) || !octal(h + 124, 12, size) || !octal(h + 148, 8, &sum))
		return false;
	for (int i = 0; i < BLOCK; i++)
		calc += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
	return calc == sum;
}

/* tar --xattrs writes POSIX archives: an extended header first. Times are
 * all it may hold here; an xattr or anything else needs tar. */
static bool pax_times_only(const char *p, unsigned long long size)
{
	unsigned long long at = 0;

	while (at < size) {
		char *end;
		unsigned long len = strtoul(p + at, &end, 10);
		if (!len || at + len > size || p[at + len - 1] != '\n' || *end != ' ')
			return false;
		const char *key = end + 1;
		if (strncmp(key, "mtime=", 6) && strncmp(key, "atime=", 6) && strncmp(key, "ctime=", 6))
			return false;
		at += len;
	}
	return true;
}

bool ckpt_tar_only_root(const char *archive, const struct stat *root)
{
	_cleanup_close_ int fd = open(archive, O_RDONLY | O_CLOEXEC);
	char buf[MAX_BARE + 1];
	unsigned long long mode, uid, gid, size;
	ssize_t at = 0;

	if (fd < 0)
		return false;
	ssize_t n = read_full(fd, buf, sizeof(buf));
	if (n < 2 * BLOCK || n > MAX_BARE || n % BLOCK)
		return false;
	buf[n] = '\0';
	if (buf[156] == 'x') {
		if (!header_ok(buf, &size) || size >= BLOCK || n < 4 * BLOCK ||
		    !pax_times_only(buf + BLOCK, size))
			return false;
		at = 2 * BLOCK;
	}
	const char *h = buf + at;
	if (strncmp(h, "./", 100) || h[156] != '5' || !header_ok(h, &size) || size ||
	    !octal(h + 100, 8, &mode) || !octal(h + 108, 8, &uid) || !octal(h + 116, 8, &gid))
		return false;
	for (ssize_t i = at + BLOCK; i < n; i++)
		if (buf[i])
			return false;
	return (mode & 07777) == (root->st_mode & 07777) && uid == root->st_uid && gid == root->st_gid;
}
