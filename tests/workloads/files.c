// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * files: a regular file opened read-write and positioned at offset 1234, a
 * second one opened O_APPEND and written once, and a read-only fd on the
 * first file at offset 77. After SIGUSR1: offsets, flags and contents are as
 * they were, a read continues from the offset, and a write through the
 * O_APPEND fd lands at the end even after seeking to 0.
 */
#include "zdtm.h"

#define DATA_SIZE 8192
#define OFFSET 1234
#define RO_OFFSET 77

static unsigned char pattern(size_t i) { return (unsigned char)(i * 5 + 3); }

static void check_fd(int fd, const char *what, off_t off, int accmode, int append)
{
	int fl = fcntl(fd, F_GETFL);
	off_t now = lseek(fd, 0, SEEK_CUR);

	if (fl < 0)
		zdtm_fail("%s: fd %d is gone: %s", what, fd, strerror(errno));
	if (now != off)
		zdtm_fail("%s: offset %lld, want %lld", what, (long long)now, (long long)off);
	if ((fl & O_ACCMODE) != accmode)
		zdtm_fail("%s: access mode %o, want %o", what, fl & O_ACCMODE, accmode);
	if (!!(fl & O_APPEND) != append)
		zdtm_fail("%s: O_APPEND is %s", what, append ? "lost" : "set");
}

static void check_read(int fd, const char *what, size_t off)
{
	unsigned char buf[100];

	if (read(fd, buf, sizeof(buf)) != sizeof(buf))
		zdtm_fail("%s: short read", what);
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != pattern(off + i))
			zdtm_fail("%s: byte %zu is 0x%x, want 0x%x", what, off + i, buf[i],
				  pattern(off + i));
}

int main(void)
{
	unsigned char data[DATA_SIZE];
	char dpath[4096], lpath[4096], log[64] = { 0 };
	int fd, ro, app, chk;

	zdtm_init("files");
	zdtm_path(dpath, sizeof(dpath), "files.data");
	zdtm_path(lpath, sizeof(lpath), "files.log");
	for (size_t i = 0; i < DATA_SIZE; i++)
		data[i] = pattern(i);
	fd = open(dpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
	zdtm_check(fd);
	if (write(fd, data, DATA_SIZE) != DATA_SIZE)
		zdtm_fail("write data");
	zdtm_check(lseek(fd, OFFSET, SEEK_SET));
	ro = open(dpath, O_RDONLY);
	zdtm_check(ro);
	zdtm_check(lseek(ro, RO_OFFSET, SEEK_SET));
	app = open(lpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	zdtm_check(app);
	if (write(app, "before\n", 7) != 7)
		zdtm_fail("write log");
	zdtm_ready();
	zdtm_wait();

	check_fd(fd, "files.data rw", OFFSET, O_RDWR, 0);
	check_fd(ro, "files.data ro", RO_OFFSET, O_RDONLY, 0);
	check_fd(app, "files.log", 7, O_WRONLY, 1);
	check_read(fd, "files.data rw", OFFSET);
	check_read(ro, "files.data ro", RO_OFFSET);
	zdtm_check(lseek(app, 0, SEEK_SET));
	if (write(app, "after\n", 6) != 6)
		zdtm_fail("write log after restore: %s", strerror(errno));
	chk = open(lpath, O_RDONLY);
	zdtm_check(chk);
	if (read(chk, log, sizeof(log) - 1) < 0)
		zdtm_fail("read log: %s", strerror(errno));
	if (strcmp(log, "before\nafter\n"))
		zdtm_fail("files.log holds \"%s\"", log);
	unlink(dpath);
	unlink(lpath);
	zdtm_pass();
}
