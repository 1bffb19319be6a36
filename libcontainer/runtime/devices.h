/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the rootfs setup: the container's /dev. */
#ifndef SKUA_RUNTIME_DEVICES_H
#define SKUA_RUNTIME_DEVICES_H

#include <stdbool.h>

#include "oci/config.h"

/*
 * Populate /dev inside the root open as rootfd: the default devices (null,
 * zero, full, random, urandom, tty), linux.devices, and the fd/stdin/
 * stdout/stderr/ptmx symlinks. In a user namespace device nodes cannot be
 * created, so the host's nodes are bind-mounted instead.
 */
int devices_populate(int rootfd, const struct oci_config *c, bool in_userns);
/* Bind-mount the pty slave console_path onto /dev/console. */
int devices_console(int rootfd, const char *console_path);

#endif
