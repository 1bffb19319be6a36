// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/json.h"
#include "runtime/ckpt-net.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

/* Runs fn in pid's net ns on this thread and comes back. Sockets fn makes
 * there stay bound to that namespace. */
static int in_netns(pid_t pid, int (*fn)(void *), void *arg)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	_cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return err_sys(errno, "opening our own net namespace");
	_cleanup_close_ int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return err_sys(errno, "opening %s", path);
	if (setns(ns, CLONE_NEWNET) < 0)
		return err_sys(errno, "entering the net namespace of pid %d", pid);
	r = fn(arg);
	/* staying in the container's namespace would send every later
	 * connection (the page server, the host's ip calls) there */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return r;
}

static int prefix_len(const struct sockaddr *mask)
{
	const unsigned char *b;
	size_t n;
	int bits = 0;

	if (!mask)
		return -1;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else if (mask->sa_family == AF_INET6) {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	} else {
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(b[i]);
	return bits;
}

static int get_ifaddrs(void *arg)
{
	return getifaddrs((struct ifaddrs **)arg) < 0 ? err_sys(errno, "getifaddrs") : 0;
}

static void gen_addr(yajl_gen g, const struct ifaddrs *a)
{
	char text[INET6_ADDRSTRLEN];
	int fam = a->ifa_addr->sa_family, plen = prefix_len(a->ifa_netmask);
	const void *raw = fam == AF_INET ? (const void *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr
					 : (const void *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;

	if (plen < 0 || !inet_ntop(fam, raw, text, sizeof(text)))
		return;
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "family", fam == AF_INET ? "inet" : "inet6");
	json_gen_kv_str(g, "local", text);
	json_gen_kv_int(g, "prefixlen", plen);
	yajl_gen_map_close(g);
}

int ckpt_net_lo_save(pid_t pid, const char *path)
{
	struct ifaddrs *all = NULL;
	_cleanup_free_ char *text = NULL;
	unsigned flags = 0;
	size_t len;
	int r = in_netns(pid, get_ifaddrs, &all);

	if (r < 0)
		return err_wrap(r, "saving the loopback state of the container");
	for (struct ifaddrs *a = all; a; a = a->ifa_next)
		if (!strcmp(a->ifa_name, "lo"))
			flags |= a->ifa_flags;
	yajl_gen g = json_gen_new(false);
	if (!g) {
		freeifaddrs(all);
		return -ENOMEM;
	}
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ifname", "lo");
	json_gen_str(g, "flags");
	yajl_gen_array_open(g);
	if (flags & IFF_LOOPBACK)
		json_gen_str(g, "LOOPBACK");
	if (flags & IFF_UP)
		json_gen_str(g, "UP");
	if (flags & IFF_LOWER_UP)
		json_gen_str(g, "LOWER_UP");
	yajl_gen_array_close(g);
	json_gen_str(g, "addr_info");
	yajl_gen_array_open(g);
	for (struct ifaddrs *a = all; a; a = a->ifa_next)
		if (!strcmp(a->ifa_name, "lo") && a->ifa_addr &&
		    (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6))
			gen_addr(g, a);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	freeifaddrs(all);
	if ((r = json_gen_finish(g, &text, &len)) < 0)
		return r;
	r = write_file(path, text, len, 0600);
	return r < 0 ? err_sys(-r, "writing %s", path) : 0;
}

static int make_inet_socket(void *arg)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return err_sys(errno, "socket");
	*(int *)arg = fd;
	return 0;
}

int ckpt_net_lo_up(pid_t pid)
{
	_cleanup_close_ int fd = -1;
	struct ifreq ifr = { 0 };
	int r = in_netns(pid, make_inet_socket, &fd);

	if (r < 0)
		return r;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return err_sys(errno, "reading the flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return err_sys(errno, "setting lo up");
	return 0;
}
