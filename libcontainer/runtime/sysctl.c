// SPDX-License-Identifier: GPL-2.0-or-later
/* linux.sysctl: written through the container's own /proc/sys. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "runtime/setup.h"
#include "runtime/sysctl.h"

/* The one piece of state between two setup steps; O_CLOEXEC, closed by setup_sysctl(). */
static int kept_procsys = -1;

int sysctl_keep_procsys(void)
{
	if (kept_procsys >= 0)
		close(kept_procsys);
	kept_procsys = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

/* "net.ipv4.ip_forward" -> "net/ipv4/ip_forward" (relative to /proc/sys). */
static int sysctl_path(const char *key, char *buf, size_t len)
{
	if (!*key || snprintf(buf, len, "/%s/", key) >= (int)len)
		return -EINVAL;
	for (char *p = buf; *p; p++)
		if (*p == '.')
			*p = '/';
	/* nothing may climb out of /proc/sys */
	if (strstr(buf, "//") || strstr(buf, "/../"))
		return -EINVAL;
	buf[strlen(buf) - 1] = '\0';
	memmove(buf, buf + 1, strlen(buf));
	return 0;
}

static void close_kept(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	kept_procsys = -1;
}

int setup_sysctl(const struct oci_config *c)
{
	__attribute__((cleanup(close_kept))) int dirfd = kept_procsys;

	for (size_t i = 0; i < c->linux_.n_sysctl; i++) {
		const struct oci_sysctl *s = &c->linux_.sysctl[i];
		char path[PATH_MAX];
		_cleanup_close_ int fd = -1;
		int r;

		if (!s->key || !s->value || sysctl_path(s->key, path, sizeof(path)) < 0)
			return err_set(EINVAL, "sysctl \"%s\": invalid key", s->key ? s->key : "");
		if (dirfd >= 0) {
			fd = openat(dirfd, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		} else {
			char abs[PATH_MAX + 16];
			snprintf(abs, sizeof(abs), "/proc/sys/%s", path);
			fd = open(abs, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			return err_sys(errno, "sysctl \"%s\": opening /proc/sys/%s", s->key, path);
		r = write_full(fd, s->value, strlen(s->value));
		if (r < 0)
			return err_sys(-r, "sysctl \"%s\" = \"%s\"", s->key, s->value);
	}
	return 0;
}
