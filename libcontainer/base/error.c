// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

static __thread char errbuf[4096];

static int err_vset(int err, int with_errno, const char *fmt, va_list ap)
{
	if (err <= 0)
		err = err < 0 ? -err : EINVAL;
	int n = vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(errbuf))
		snprintf(errbuf + n, sizeof(errbuf) - n, ": %s", strerror(err));
	return -err;
}

int err_set(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(err, 0, fmt, ap);
	va_end(ap);
	return r;
}

int err_sys(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(err, 1, fmt, ap);
	va_end(ap);
	return r;
}

int err_wrap(int r, const char *fmt, ...)
{
	char prefix[1024];
	va_list ap;

	if (!errbuf[0])
		snprintf(errbuf, sizeof(errbuf), "%s", strerror(r < 0 ? -r : EINVAL));
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return r;
	size_t plen = strlen(prefix);
	memcpy(prefix + plen, ": ", 3);
	plen += 2;
	size_t olen = strlen(errbuf);
	if (plen + olen >= sizeof(errbuf))
		olen = sizeof(errbuf) - plen - 1;
	memmove(errbuf + plen, errbuf, olen);
	memcpy(errbuf, prefix, plen);
	errbuf[plen + olen] = '\0';
	return r;
}

const char *err_msg(void)
{
	return errbuf;
}

void err_clear(void)
{
	errbuf[0] = '\0';
}
