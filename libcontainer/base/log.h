/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging. Two sinks: the runtime log (--log FILE, text or runc-style JSON
 * lines) and, during checkpoint/restore, the work-dir log (dump.log,
 * restore.log) where every step is written with its time since the start.
 * Errors are not logged by library code: the CLI logs err_msg() once.
 */
#ifndef SKUA_BASE_LOG_H
#define SKUA_BASE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Runtime log: path NULL means stderr for errors only. json selects
 * {"level":..,"msg":..,"time":..} lines. */
int log_open(const char *path, int json, int debug);
/* The work-dir log for a checkpoint/restore ("dump.log"); opened O_APPEND
 * (never O_EXCL: Podman pre-creates it). Closing it with log_step_close(). */
int log_step_open(const char *path);
void log_step_close(void);
/* Step log times count from this call (else from the first open). */
void log_clock_start(void);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* "WHAT at SECONDS.MICROS (wall clock)": a moment another process's log
 * can be compared with (a migration's freeze and its restore's end). */
void log_wallclock(const char *what);

/* Monotonic time in nanoseconds, for step timings and stats. */
unsigned long long now_ns(void);

#endif
