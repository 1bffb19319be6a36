/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stats-dump and stats-restore in the work directory: timings and counts of
 * the last dump/restore, in CRIU's service-image framing so that tools
 * reading CRIU's stats (Podman through go-criu) read ours unchanged.
 */
#ifndef SKUA_CR_STATS_H
#define SKUA_CR_STATS_H

#include "stats.pb-c.h"

#define STATS_DUMP_FILE "stats-dump"
#define STATS_RESTORE_FILE "stats-restore"

/* Replace work_dir/stats-dump (or stats-restore) atomically. */
int stats_write_dump(const char *work_dir, const DumpStatsEntry *s);
int stats_write_restore(const char *work_dir, const RestoreStatsEntry *s);

/* Read a stats file (name: STATS_DUMP_FILE or STATS_RESTORE_FILE) from dirfd.
 * -EBADMSG on a bad magic, length or payload. Free with
 * stats_entry__free_unpacked(*ret, NULL). */
int stats_read_at(int dirfd, const char *name, StatsEntry **ret);
int stats_read_dump(const char *work_dir, StatsEntry **ret);
int stats_read_restore(const char *work_dir, StatsEntry **ret);

#endif
