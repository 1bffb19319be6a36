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

/* "net.ipv4.ip_forward" -> "net/ipv4/ip_forward"; a key may also use slashes. */
static int sysctl_path(const char *key, char *buf, size_t len)
{
	if (!*key || snprintf(buf, len, "/proc/sys/%s", key) >= (int)len)
		return -EINVAL;
	for (char *p = buf + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	/* nothing may climb out of /proc/sys */
	if (strstr(buf, "//") || strstr(buf, "/../") || !strcmp(buf + strlen(buf) - 3, "/..") ||
	    buf[strlen(buf) - 1] == '/')
		return -EINVAL;
	return 0;
}

int setup_sysctl(const struct oci_config *c)
{
	for (size_t i = 0; i < c->linux_.n_sysctl; i++) {
		const struct oci_sysctl *s = &c->linux_.sysctl[i];
		char path[PATH_MAX];
		_cleanup_close_ int fd = -1;
		int r;

		if (!s->key || !s->value || sysctl_path(s->key, path, sizeof(path)) < 0)
			return err_set(EINVAL, "sysctl \"%s\": invalid key", s->key ? s->key : "");
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_sys(errno, "sysctl \"%s\": opening %s", s->key, path);
		r = write_full(fd, s->value, strlen(s->value));
		if (r < 0)
			return err_sys(-r, "sysctl \"%s\" = \"%s\"", s->key, s->value);
	}
	return 0;
}
