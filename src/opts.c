// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "src/opts.h"

static const struct opt *opts_find(const struct opt *opts, const char *name, size_t len)
{
	for (const struct opt *o = opts; o && o->name; o++) {
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
		if (o->alias && strlen(o->alias) == len && strncmp(o->alias, name, len) == 0)
			return o;
	}
	return NULL;
}

static int parse_bool(const char *v, bool *ret)
{
	if (streq(v, "true") || streq(v, "1") || streq(v, "t") || streq(v, "TRUE") || streq(v, "True"))
		*ret = true;
	else if (streq(v, "false") || streq(v, "0") || streq(v, "f") || streq(v, "FALSE") ||
		 streq(v, "False"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

static int strv_push(struct opt_strv *s, const char *v)
{
	const char **nv = realloc(s->v, (s->n + 2) * sizeof(char *));

	if (!nv)
		return -ENOMEM;
	s->v = nv;
	s->v[s->n++] = v;
	s->v[s->n] = NULL;
	return 0;
}

void opts_strv_free(struct opt_strv *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int opts_set(const struct opt *o, const char *flag, const char *val)
{
	char *end;
	long n;

	switch (o->kind) {
	case OPT_BOOL:
		if (!val) {
			*(bool *)o->dest = true;
			return 0;
		}
		if (parse_bool(val, o->dest) < 0)
			return err_set(EINVAL, "invalid boolean value \"%s\" for -%s", val, flag);
		return 0;
	case OPT_STR:
		*(const char **)o->dest = val;
		return 0;
	case OPT_INT:
		errno = 0;
		n = strtol(val, &end, 0);
		if (errno || !*val || *end || n < INT_MIN || n > INT_MAX)
			return err_set(EINVAL, "invalid value \"%s\" for flag -%s: parse error", val, flag);
		*(int *)o->dest = n;
		return 0;
	case OPT_STRV:
		return strv_push(o->dest, val);
	}
	return -EINVAL;
}

int opts_parse(const struct cmd_help *h, const struct opt *opts, int argc, char **argv,
	       int *ret_ind)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *val = NULL;
		const struct opt *o;
		size_t len;
		int r;

		if (a[0] != '-' || a[1] == '\0')
			break;
		if (streq(a, "--")) {
			i++;
			break;
		}
		name = a + 1 + (a[1] == '-');
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if (len == 0 || name[0] == '-' || name[0] == '=')
			return err_set(EINVAL, "bad flag syntax: %s", a);
		o = opts_find(opts, name, len);
		if (!o) {
			if ((len == 1 && name[0] == 'h') || (len == 4 && !strncmp(name, "help", 4))) {
				opts_usage(stdout, h, opts);
				return OPTS_HELP;
			}
			return err_set(EINVAL, "flag provided but not defined: -%.*s", (int)len, name);
		}
		if (eq) {
			val = eq + 1;
		} else if (o->kind != OPT_BOOL) {
			if (i + 1 >= argc)
				return err_set(EINVAL, "flag needs an argument: -%.*s", (int)len, name);
			val = argv[++i];
		}
		r = opts_set(o, o->name, val);
		if (r < 0)
			return r;
	}
	*ret_ind = i;
	return 0;
}

void opts_usage(FILE *f, const struct cmd_help *h, const struct opt *opts)
{
	const char *sep = h->name[0] ? " " : "";

	fprintf(f, "NAME:\n   skua%s%s\n\nUSAGE:\n   skua%s%s %s\n\n", sep, h->name, sep, h->name,
		h->args ? h->args : "");
	if (h->desc)
		fprintf(f, "DESCRIPTION:\n   %s\n\n", h->desc);
	if (!opts || !opts->name)
		return;
	fprintf(f, "OPTIONS:\n");
	for (const struct opt *o = opts; o->name; o++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "--%s%s%s%s", o->name, o->alias ? ", -" : "",
			 o->alias ? o->alias : "", o->kind == OPT_BOOL ? "" : " value");
		fprintf(f, "   %-28s %s\n", buf, o->help ? o->help : "");
	}
}
