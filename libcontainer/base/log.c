// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "base/log.h"

static int log_fd = -1;
static int log_json;
static int log_debug_on;
static int step_fd = -1;
static unsigned long long step_t0;

static const char *level_names[] = { "error", "warning", "info", "debug" };

unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int log_open(const char *path, int json, int debug)
{
	log_json = json;
	log_debug_on = debug;
	if (!path)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	log_fd = fd;
	return 0;
}

void log_clock_start(void)
{
	step_t0 = now_ns();
}

int log_step_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (step_fd >= 0)
		close(step_fd);
	step_fd = fd;
	/* one clock per process: a log reopened (the engine's steps between
	 * the runtime's) goes on counting from the first open */
	if (!step_t0)
		step_t0 = now_ns();
	return 0;
}

void log_step_close(void)
{
	if (step_fd >= 0)
		close(step_fd);
	step_fd = -1;
}

static void write_json_line(int fd, enum log_level lvl, const char *msg)
{
	char tbuf[64];
	struct timespec ts;
	struct tm tm;
	const unsigned char *buf;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);

	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		return;
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"level", 5);
	yajl_gen_string(g, (const unsigned char *)level_names[lvl], strlen(level_names[lvl]));
	yajl_gen_string(g, (const unsigned char *)"msg", 3);
	yajl_gen_string(g, (const unsigned char *)msg, strlen(msg));
	yajl_gen_string(g, (const unsigned char *)"time", 4);
	yajl_gen_string(g, (const unsigned char *)tbuf, strlen(tbuf));
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		char line[8192];
		size_t n = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
		memcpy(line, buf, n);
		line[n++] = '\n';
		(void)!write(fd, line, n);
	}
	yajl_gen_free(g);
}

void log_wallclock(const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	log_info("%s at %lld.%06ld (wall clock)", what, (long long)ts.tv_sec, ts.tv_nsec / 1000);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (step_fd >= 0) {
		unsigned long long us = (now_ns() - step_t0) / 1000;
		dprintf(step_fd, "(%llu.%06llu) %s%s\n", us / 1000000, us % 1000000,
			lvl == LOG_ERROR ? "Error: " : lvl == LOG_WARN ? "Warn: " : "", msg);
	}
	if (lvl == LOG_DEBUG && !log_debug_on)
		return;
	if (log_fd >= 0) {
		if (log_json)
			write_json_line(log_fd, lvl, msg);
		else
			dprintf(log_fd, "%s: %s\n", level_names[lvl], msg);
	} else if (lvl <= LOG_WARN || log_debug_on) {
		/* no --log: errors go to stderr, debug too with --debug */
		if (lvl != LOG_ERROR)
			dprintf(STDERR_FILENO, "%s: %s\n", level_names[lvl], msg);
	}
}
