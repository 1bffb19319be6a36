/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The settings lazy_src_configure()/lazy_dst_configure() recorded. */
#ifndef SKUA_CR_LAZY_CONF_H
#define SKUA_CR_LAZY_CONF_H

#include <stdint.h>
#include <sys/socket.h>

#include "cr/lazy.h"

struct lazy_conf {
	char *src_addr;    /* checkpoint: listen here */
	uint16_t src_port;
	int status_fd;     /* -1: none */
	char *dst_addr;    /* restore: dial here (NULL: the inventory's) */
	uint16_t dst_port;
	const char *handler_exe; /* lazy_set_handler_exe() */
};
extern struct lazy_conf lazy_conf;

/* addr (a numeric IPv4 or IPv6 address) and port as a socket address. */
int lazy_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

#endif
