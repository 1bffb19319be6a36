// SPDX-License-Identifier: GPL-2.0-or-later
/* A new network namespace starts with its loopback down; runc brings it up,
 * and containers expect 127.0.0.1 to work. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "runtime/setup.h"

int setup_loopback(const struct oci_config *c)
{
	const struct oci_namespace *ns = oci_config_namespace(c, OCI_NS_NETWORK);
	struct ifreq ifr = { 0 };

	if (!ns || ns->path)
		return 0; /* the host's or a joined namespace: not ours to change */
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(errno, "bringing up lo: socket");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return err_sys(errno, "bringing up lo: reading its flags");
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return err_sys(errno, "bringing up lo");
	return 0;
}
