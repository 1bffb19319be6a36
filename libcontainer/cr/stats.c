// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CRIU's stats files: u32 service-image magic, u32 stats magic, u32 length,
 * then one stats_entry protobuf, all little-endian. The numbers are CRIU's
 * (images/magic.h), which go-criu's stats reader checks.
 */
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cr/stats.h"

#define STATS_SERVICE_MAGIC 0x55105940u /* CRIU's IMG_SERVICE_MAGIC */
#define STATS_MAGIC 0x57093306u         /* CRIU's STATS_MAGIC */
#define STATS_HDR_SIZE 12u
#define STATS_MAX_SIZE (64u * 1024)

static int stats_write(const char *work_dir, const char *name, const StatsEntry *e)
{
	char path[PATH_MAX];
	size_t len = stats_entry__get_packed_size(e);
	_cleanup_free_ uint8_t *buf = malloc(STATS_HDR_SIZE + len);

	if (!buf)
		return err_set(ENOMEM, "%s: allocating", name);
	uint32_t hdr[3] = { htole32(STATS_SERVICE_MAGIC), htole32(STATS_MAGIC), htole32((uint32_t)len) };
	memcpy(buf, hdr, sizeof(hdr));
	stats_entry__pack(e, buf + STATS_HDR_SIZE);

	if (snprintf(path, sizeof(path), "%s/%s", work_dir ? work_dir : ".", name) >= (int)sizeof(path))
		return err_set(ENAMETOOLONG, "%s/%s: path too long", work_dir, name);
	int r = write_file_atomic(path, buf, STATS_HDR_SIZE + len, 0644);
	if (r < 0)
		return err_sys(-r, "writing %s", path);
	return 0;
}

int stats_write_dump(const char *work_dir, const DumpStatsEntry *s)
{
	StatsEntry e = STATS_ENTRY__INIT;
	DumpStatsEntry d = *s;

	/* CRIU's own proto has pages_lazy required: a reader built from it
	 * refuses an entry without it */
	d.has_pages_lazy = 1;
	e.dump = &d;
	return stats_write(work_dir, STATS_DUMP_FILE, &e);
}

int stats_write_restore(const char *work_dir, const RestoreStatsEntry *s)
{
	StatsEntry e = STATS_ENTRY__INIT;
	RestoreStatsEntry r = *s;

	e.restore = &r;
	return stats_write(work_dir, STATS_RESTORE_FILE, &e);
}

int stats_read_at(int dirfd, const char *name, StatsEntry **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	uint32_t hdr[3];

	int r = read_file_at(dirfd, name, &buf, &len, STATS_MAX_SIZE);
	if (r < 0)
		return err_sys(-r, "reading %s", name);
	if (len < STATS_HDR_SIZE)
		return err_set(EBADMSG, "%s: truncated header (%zu of %u bytes)", name, len, STATS_HDR_SIZE);
	memcpy(hdr, buf, sizeof(hdr));
	if (le32toh(hdr[0]) != STATS_SERVICE_MAGIC || le32toh(hdr[1]) != STATS_MAGIC)
		return err_set(EBADMSG, "%s: bad magic 0x%08x 0x%08x (expected 0x%08x 0x%08x)", name,
			       le32toh(hdr[0]), le32toh(hdr[1]), STATS_SERVICE_MAGIC, STATS_MAGIC);
	uint32_t plen = le32toh(hdr[2]);
	if (plen > len - STATS_HDR_SIZE)
		return err_set(EBADMSG, "%s: length %u beyond end of file", name, plen);
	StatsEntry *e = stats_entry__unpack(NULL, plen, (uint8_t *)buf + STATS_HDR_SIZE);
	if (!e)
		return err_set(EBADMSG, "%s: cannot decode %u bytes as stats_entry", name, plen);
	*ret = e;
	return 0;
}

static int stats_read_path(const char *work_dir, const char *name, StatsEntry **ret)
{
	_cleanup_close_ int dfd = open(work_dir ? work_dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_sys(errno, "opening %s", work_dir);
	return stats_read_at(dfd, name, ret);
}

int stats_read_dump(const char *work_dir, StatsEntry **ret)
{
	return stats_read_path(work_dir, STATS_DUMP_FILE, ret);
}

int stats_read_restore(const char *work_dir, StatsEntry **ret)
{
	return stats_read_path(work_dir, STATS_RESTORE_FILE, ret);
}
