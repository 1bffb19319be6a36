/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The loopback state of a container's net namespace, read and set from
 * this process (a socket made inside the namespace, no iproute2): a fork and
 * exec of `ip` cost milliseconds while the container is frozen.
 */
#ifndef SKUA_RUNTIME_CKPT_NET_H
#define SKUA_RUNTIME_CKPT_NET_H

#include <sys/types.h>

/* lo of pid's net ns as `ip -j addr show dev lo` writes it (ifname, flags,
 * addr_info[] of family/local/prefixlen): what ckpt_net_restore reads. */
int ckpt_net_lo_save(pid_t pid, const char *path);
/* Set IFF_UP on lo in pid's net ns. */
int ckpt_net_lo_up(pid_t pid);

#endif
