// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cr/proc-parse.h"

/* The last number of a tab-separated list ("NSpid:\t7\t1"): the innermost
 * namespace's view. */
static pid_t last_number(const char *s, int *count)
{
	pid_t v = 0;
	int n = 0;
	char *end;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!isdigit((unsigned char)*s))
			break;
		v = strtol(s, &end, 10);
		s = end;
		n++;
	}
	if (count)
		*count = n;
	return v;
}

static int parse_ids(const char *s, uint32_t out[4])
{
	return sscanf(s, "%" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &out[0], &out[1], &out[2],
		      &out[3]) == 4 ? 0 : -EBADMSG;
}

static int parse_groups(const char *s, struct proc_status *st)
{
	char *end;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		unsigned long g = strtoul(s, &end, 10);
		s = end;
		uint32_t *n = realloc(st->groups, (st->n_groups + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		n[st->n_groups++] = g;
		st->groups = n;
	}
}

static int status_line(struct proc_status *st, const char *key, const char *v)
{
	if (streq(key, "State"))
		st->state = v[0];
	else if (streq(key, "PPid"))
		st->ppid = strtol(v, NULL, 10);
	else if (streq(key, "NSpid"))
		st->ns_pid = last_number(v, &st->ns_levels);
	else if (streq(key, "NSpgid"))
		st->ns_pgid = last_number(v, NULL);
	else if (streq(key, "NSsid"))
		st->ns_sid = last_number(v, NULL);
	else if (streq(key, "Umask")) {
		st->umask = strtoul(v, NULL, 8);
		st->has_umask = true;
	} else if (streq(key, "Uid"))
		return parse_ids(v, st->uid);
	else if (streq(key, "Gid"))
		return parse_ids(v, st->gid);
	else if (streq(key, "Groups"))
		return parse_groups(v, st);
	else if (streq(key, "CapInh"))
		st->cap_inh = strtoull(v, NULL, 16);
	else if (streq(key, "CapPrm"))
		st->cap_prm = strtoull(v, NULL, 16);
	else if (streq(key, "CapEff"))
		st->cap_eff = strtoull(v, NULL, 16);
	else if (streq(key, "CapBnd"))
		st->cap_bnd = strtoull(v, NULL, 16);
	else if (streq(key, "CapAmb"))
		st->cap_amb = strtoull(v, NULL, 16);
	else if (streq(key, "SigCgt"))
		st->sig_cgt = strtoull(v, NULL, 16);
	else if (streq(key, "SigIgn"))
		st->sig_ign = strtoull(v, NULL, 16);
	else if (streq(key, "Seccomp"))
		st->seccomp = strtol(v, NULL, 10);
	else if (streq(key, "NoNewPrivs"))
		st->no_new_privs = strtol(v, NULL, 10) != 0;
	return 0;
}

int proc_parse_status_path(const char *path, struct proc_status *ret)
{
	_cleanup_free_ char *text = NULL;
	struct proc_status st = { 0 };
	int r;

	r = read_file(path, &text, NULL, 0);
	if (r < 0)
		return err_sys(-r, "reading %s", path);
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		r = status_line(&st, line, v);
		if (r < 0) {
			proc_status_free(&st);
			return err_set(-r, "parsing %s: field %s", path, line);
		}
	}
	if (!st.ns_levels) {
		proc_status_free(&st);
		return err_set(EBADMSG, "%s has no NSpid line", path);
	}
	*ret = st;
	return 0;
}

int proc_parse_status(pid_t pid, struct proc_status *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return proc_parse_status_path(path, ret);
}

void proc_status_free(struct proc_status *st)
{
	free(st->groups);
	st->groups = NULL;
	st->n_groups = 0;
}

int proc_parse_stat(pid_t pid, unsigned long long ret[PROC_STAT_FIELDS])
{
	char path[64], buf[2048];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	r = proc_read_line(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	/* comm may hold spaces and parentheses: fields resume after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return err_set(EBADMSG, "parsing %s", path);
	memset(ret, 0, PROC_STAT_FIELDS * sizeof(ret[0]));
	ret[1] = strtoull(buf, NULL, 10);
	p += 2;
	ret[3] = (unsigned char)*p;
	p++;
	for (int i = 4; i < PROC_STAT_FIELDS && *p; i++) {
		char *end;
		while (*p == ' ')
			p++;
		/* signed fields (nice, priority) are never needed as such */
		ret[i] = strtoull(p, &end, 10);
		if (end == p)
			break;
		p = end;
	}
	return 0;
}

int proc_read_line(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(errno, "opening %s", path);
	ssize_t n = read_full(fd, buf, len - 1);
	if (n < 0)
		return err_sys(errno, "reading %s", path);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

int proc_readlink(const char *path, char *buf, size_t len)
{
	ssize_t n = readlink(path, buf, len - 1);
	if (n < 0)
		return err_sys(errno, "reading link %s", path);
	buf[n] = '\0';
	return 0;
}

const char *proc_field(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line;) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *v = line + klen + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			const char *end = strchrnul(v, '\n');
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			size_t n = (size_t)(end - v) < len - 1 ? (size_t)(end - v) : len - 1;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return buf;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}
