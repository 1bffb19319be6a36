/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Errors: functions return -errno; the message with its context lives in a
 * thread-local buffer. err_set() starts a message, err_wrap() prefixes the
 * caller's context on the way up ("restoring pid 7: mapping 0x7f..: EINVAL").
 * Only the CLI prints it, once.
 */
#ifndef SKUA_BASE_ERROR_H
#define SKUA_BASE_ERROR_H

#include <errno.h>

/* Set the message (printf-style) and return -err (err > 0 is an errno). If
 * err is 0, EINVAL is used. The errno text is appended when err came from a
 * failing syscall: use err_sys(). */
int err_set(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like err_set, appending ": strerror(err)". */
int err_sys(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix "context: " to the current message; returns r unchanged (r < 0). */
int err_wrap(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The current message ("" if none; strerror(-r) is a good fallback). */
const char *err_msg(void);
/* Forget the current message. */
void err_clear(void);

#endif
