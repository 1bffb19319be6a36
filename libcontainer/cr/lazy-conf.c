// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-process lazy-migration settings the CLI gives before checkpoint or
 * restore runs (cr.h's options carry only the lazy_pages switch), and the
 * address and thread-priority helpers both sides share.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "cr/lazy-conf.h"

struct lazy_conf lazy_conf = { .status_fd = -1 };

int lazy_parse_addr(const char *s, char **ret_addr, uint16_t *ret_port)
{
	const char *colon, *host = s;
	size_t hlen;
	char *end;
	long port;

	if (!s || !*s)
		return err_set(EINVAL, "empty page server address");
	colon = strrchr(s, ':');
	if (!colon)
		return err_set(EINVAL, "page server address %s: want ADDRESS:PORT", s);
	hlen = colon - s;
	if (s[0] == '[') {
		if (hlen < 2 || s[hlen - 1] != ']')
			return err_set(EINVAL, "page server address %s: want [ADDRESS]:PORT", s);
		host = s + 1;
		hlen -= 2;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || !colon[1] || *end || port <= 0 || port > 65535)
		return err_set(EINVAL, "page server address %s: bad port", s);
	if (hlen == 0)
		host = "0.0.0.0", hlen = 7;
	char *a = strndup(host, hlen);
	if (!a)
		return -ENOMEM;
	struct sockaddr_storage ss;
	socklen_t sl;
	int r = lazy_sockaddr(a, (uint16_t)port, &ss, &sl);
	if (r < 0) {
		free(a);
		return r;
	}
	*ret_addr = a;
	*ret_port = (uint16_t)port;
	return 0;
}

/* Numbers only, as CRIU's page server takes them: no name service, which a
 * static skua could reach only through glibc's modules loaded at run time. */
int lazy_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (addr && inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		*len = sizeof(*v4);
		return 0;
	}
	if (addr && inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		*len = sizeof(*v6);
		return 0;
	}
	return err_set(EINVAL, "page server address %s: want a numeric IPv4 or IPv6 address",
		       addr ? addr : "(none)");
}

const char *lazy_dial_addr(const char *addr)
{
	if (!addr || !*addr || !strcmp(addr, "0.0.0.0"))
		return "127.0.0.1";
	if (!strcmp(addr, "::") || !strcmp(addr, "[::]"))
		return "::1";
	return addr;
}

void lazy_set_handler_exe(const char *path)
{
	lazy_conf.handler_exe = path;
}

int lazy_timeout(void)
{
	const char *s = getenv("SKUA_LAZY_TIMEOUT");
	char *end;
	long v;

	if (!s || !*s)
		return LAZY_DEFAULT_TIMEOUT;
	v = strtol(s, &end, 10);
	return *end || v <= 0 || v > 86400 ? LAZY_DEFAULT_TIMEOUT : (int)v;
}

/* What each role runs at (lazy.h): real-time or not, whether only with a
 * CPU to spare (a real-time handler stream would otherwise keep the
 * restored tasks off the only one), and the nice value when not. */
static const struct {
	bool rt, spare_cpu;
	int nice;
} roles[] = {
	[LAZY_URGENT] = { true, false, LAZY_NICE_URGENT },
	[LAZY_HANDLER] = { true, true, LAZY_NICE_URGENT },
	[LAZY_STREAM] = { true, true, LAZY_NICE_BULK },
	[LAZY_BULK] = { false, false, LAZY_NICE_BULK },
};

/* SKUA_LAZY_RT=0: every role at its nice value. */
static bool rt_wanted(enum lazy_role role)
{
	const char *s = getenv("SKUA_LAZY_RT");
	cpu_set_t set;

	if (!roles[role].rt || (s && !strcmp(s, "0")))
		return false;
	return !roles[role].spare_cpu ||
	       (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 2);
}

bool lazy_thread_role(const char *name, enum lazy_role role)
{
	/* reset on fork: what this thread starts (threads, the watchdog) is not
	 * real-time by inheritance */
	struct sched_param rt = { .sched_priority = LAZY_RT_PRIO }, other = { 0 };
	bool fifo = false;

	/* for ps -L, top -H and perf: which thread of skua is which */
	if (name && prctl(PR_SET_NAME, name, 0, 0, 0) < 0)
		log_info("thread name %s not set: %m", name);
	if (rt_wanted(role)) {
		fifo = sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &rt) == 0;
		if (!fifo)
			log_info("%s thread not real-time: %m", name ? name : "main");
	} else if (sched_getscheduler(0) != SCHED_OTHER) {
		/* started by a real-time caller of the library */
		sched_setscheduler(0, SCHED_OTHER, &other);
	}
	if (!fifo && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), roles[role].nice) < 0)
		log_info("thread priority %d not set: %m", roles[role].nice);
	return fifo;
}

int lazy_src_configure(const char *addr_port, int status_fd)
{
	int r;

	free(lazy_conf.src_addr);
	lazy_conf.src_addr = NULL;
	if (!addr_port)
		return err_set(EINVAL, "--lazy-pages needs --page-server ADDRESS:PORT to listen on");
	if ((r = lazy_parse_addr(addr_port, &lazy_conf.src_addr, &lazy_conf.src_port)) < 0)
		return r;
	lazy_conf.status_fd = status_fd;
	return 0;
}

bool lazy_src_configured(void)
{
	return lazy_conf.src_addr != NULL;
}

int lazy_dst_configure(const char *addr_port)
{
	free(lazy_conf.dst_addr);
	lazy_conf.dst_addr = NULL;
	lazy_conf.dst_port = 0;
	if (!addr_port)
		return 0;
	return lazy_parse_addr(addr_port, &lazy_conf.dst_addr, &lazy_conf.dst_port);
}
