// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * linux.seccomp through libseccomp. Names are resolved here: an unknown
 * syscall is skipped (a profile lists syscalls of newer kernels), an unknown
 * action, operator, architecture or flag is an error naming it.
 * The filter is loaded without libseccomp setting no_new_privs itself:
 * setup_no_new_privs() does that when the config asks for it.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/json.h"
#include "runtime/seccomp.h"
#include "runtime/setup.h"

static void seccomp_ctx_freep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}
#define _cleanup_seccomp_ _cleanup_(seccomp_ctx_freep)

static int parse_action(const char *name, bool has_errno, uint32_t errno_ret, uint32_t *ret)
{
	uint32_t e = has_errno ? errno_ret : EPERM;

	if (!name)
		return err_set(EINVAL, "seccomp: missing action");
	if (streq(name, "SCMP_ACT_KILL") || streq(name, "SCMP_ACT_KILL_THREAD"))
		*ret = SCMP_ACT_KILL_THREAD;
	else if (streq(name, "SCMP_ACT_KILL_PROCESS"))
		*ret = SCMP_ACT_KILL_PROCESS;
	else if (streq(name, "SCMP_ACT_TRAP"))
		*ret = SCMP_ACT_TRAP;
	else if (streq(name, "SCMP_ACT_ERRNO"))
		*ret = SCMP_ACT_ERRNO(e);
	else if (streq(name, "SCMP_ACT_TRACE"))
		*ret = SCMP_ACT_TRACE(e);
	else if (streq(name, "SCMP_ACT_ALLOW"))
		*ret = SCMP_ACT_ALLOW;
	else if (streq(name, "SCMP_ACT_LOG"))
		*ret = SCMP_ACT_LOG;
	else if (streq(name, "SCMP_ACT_NOTIFY"))
		*ret = SCMP_ACT_NOTIFY;
	else
		return err_set(EINVAL, "seccomp: unknown action \"%s\"", name);
	return 0;
}

static int parse_op(const char *name, enum scmp_compare *ret)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};
	for (size_t i = 0; name && i < ARRAY_SIZE(ops); i++) {
		if (streq(ops[i].name, name)) {
			*ret = ops[i].op;
			return 0;
		}
	}
	return err_set(EINVAL, "seccomp: unknown operator \"%s\"", name ? name : "");
}

static int add_arches(scmp_filter_ctx ctx, char **arches)
{
	for (char **a = arches; a && *a; a++) {
		char lower[64];
		size_t i;
		const char *n = !strncmp(*a, "SCMP_ARCH_", 10) ? *a + 10 : *a;

		for (i = 0; n[i] && i < sizeof(lower) - 1; i++)
			lower[i] = (n[i] >= 'A' && n[i] <= 'Z') ? n[i] - 'A' + 'a' : n[i];
		lower[i] = '\0';
		uint32_t arch = seccomp_arch_resolve_name(lower);
		if (!arch)
			return err_set(EINVAL, "seccomp: unknown architecture \"%s\"", *a);
		int r = seccomp_arch_add(ctx, arch);
		if (r < 0 && r != -EEXIST)
			return err_sys(-r, "seccomp: adding architecture %s", *a);
	}
	return 0;
}

static int set_flags(scmp_filter_ctx ctx, char **flags)
{
	for (char **f = flags; f && *f; f++) {
		enum scmp_filter_attr attr;
		if (streq(*f, "SECCOMP_FILTER_FLAG_TSYNC"))
			attr = SCMP_FLTATR_CTL_TSYNC;
		else if (streq(*f, "SECCOMP_FILTER_FLAG_LOG"))
			attr = SCMP_FLTATR_CTL_LOG;
		else if (streq(*f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			attr = SCMP_FLTATR_CTL_SSB;
		else
			return err_set(EINVAL, "seccomp: unsupported flag \"%s\"", *f);
		int r = seccomp_attr_set(ctx, attr, 1);
		if (r < 0)
			return err_sys(-r, "seccomp: setting flag %s", *f);
	}
	return 0;
}

/* Several conditions on the same argument cannot be ANDed: runc adds one rule per condition. */
static bool args_repeat_index(const struct oci_seccomp_syscall *sc)
{
	for (size_t i = 0; i < sc->n_args; i++)
		for (size_t j = i + 1; j < sc->n_args; j++)
			if (sc->args[i].index == sc->args[j].index)
				return true;
	return false;
}

static int add_rule(scmp_filter_ctx ctx, const char *name, int nr, uint32_t action,
		    const struct oci_seccomp_syscall *sc)
{
	struct scmp_arg_cmp cmp[6];
	int r;

	if (sc->n_args > ARRAY_SIZE(cmp))
		return err_set(EINVAL, "seccomp: %s: more than 6 argument conditions", name);
	for (size_t i = 0; i < sc->n_args; i++) {
		enum scmp_compare op = SCMP_CMP_EQ;
		if ((r = parse_op(sc->args[i].op, &op)) < 0)
			return err_wrap(r, "seccomp rule for %s", name);
		cmp[i] = (struct scmp_arg_cmp){ .arg = sc->args[i].index, .op = op,
						.datum_a = sc->args[i].value,
						.datum_b = sc->args[i].value_two };
	}
	if (args_repeat_index(sc)) {
		for (size_t i = 0; i < sc->n_args; i++)
			if ((r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i])) < 0)
				return err_sys(-r, "seccomp: adding rule for %s", name);
		return 0;
	}
	r = seccomp_rule_add_array(ctx, action, nr, sc->n_args, cmp);
	if (r < 0)
		return err_sys(-r, "seccomp: adding rule for %s", name);
	return 0;
}

static int add_syscalls(scmp_filter_ctx ctx, const struct oci_seccomp *s, uint32_t def,
			bool *ret_notify)
{
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct oci_seccomp_syscall *sc = &s->syscalls[i];
		uint32_t action;
		int r;

		r = parse_action(sc->action, sc->has_errno_ret, sc->errno_ret, &action);
		if (r < 0)
			return r;
		/* libseccomp refuses a rule that repeats the default action */
		if (action == def)
			continue;
		if (action == SCMP_ACT_NOTIFY)
			*ret_notify = true;
		for (char **n = sc->names; n && *n; n++) {
			int nr = seccomp_syscall_resolve_name(*n);
			if (nr == __NR_SCMP_ERROR)
				continue;
			r = add_rule(ctx, *n, nr, action, sc);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Build the filter; setup_seccomp() loads it. */
static int build(const struct oci_seccomp *s, scmp_filter_ctx *ret, bool *ret_notify)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	uint32_t def;
	int r;

	r = parse_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret, &def);
	if (r < 0)
		return r;
	ctx = seccomp_init(def);
	if (!ctx)
		return err_set(EINVAL, "seccomp: cannot create a filter with default action %s",
			       s->default_action);
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if ((r = add_arches(ctx, s->architectures)) < 0 || (r = set_flags(ctx, s->flags)) < 0 ||
	    (r = add_syscalls(ctx, s, def, ret_notify)) < 0)
		return r;
	*ret = TAKE_PTR(ctx);
	return 0;
}

static int listener_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(ENAMETOOLONG, "seccomp listenerPath %s: too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(errno, "seccomp listener socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return err_sys(e, "connecting to seccomp listenerPath %s", path);
	}
	return fd;
}

/* Kept between setup_rootfs() and setup_seccomp(); O_CLOEXEC. */
static int kept_listener = -1;
static char kept_bundle[512];

int seccomp_listener_preconnect(const struct oci_config *c)
{
	const struct oci_seccomp *s = c->linux_.seccomp;
	int fd;

	if (!s || !s->listener_path || !*s->listener_path)
		return 0;
	fd = listener_connect(s->listener_path);
	if (fd < 0)
		return fd;
	if (kept_listener >= 0)
		close(kept_listener);
	kept_listener = fd;
	snprintf(kept_bundle, sizeof(kept_bundle), "%s", c->bundle ? c->bundle : "");
	return 0;
}

/* The agent gets the notify fd and a container-state JSON naming it (runtime-spec "seccompFd"). */
static int listener_send(int sock, int notify_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	yajl_gen g = json_gen_new(false);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	if (!g)
		return -ENOMEM;
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersion", "1.0.2");
	json_gen_str(g, "fds");
	yajl_gen_array_open(g);
	json_gen_str(g, "seccompFd");
	yajl_gen_array_close(g);
	json_gen_kv_int(g, "pid", getpid());
	json_gen_kv_str(g, "metadata", "");
	json_gen_str(g, "state");
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersion", "1.0.2");
	json_gen_kv_str(g, "status", "creating");
	json_gen_kv_int(g, "pid", getpid());
	json_gen_kv_str(g, "bundle", kept_bundle);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	r = json_gen_finish(g, &text, &len);
	if (r < 0)
		return r;

	struct iovec iov = { .iov_base = text, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &notify_fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return err_sys(errno, "sending the seccomp notify fd to the listener");
	return 0;
}

int setup_seccomp(const struct oci_seccomp *s)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	_cleanup_close_ int sock = -1, notify_fd = -1;
	bool notify = false;
	int r;

	if (!s)
		return 0;
	r = build(s, &ctx, &notify);
	if (r < 0)
		return r;
	if (notify) {
		if (!s->listener_path || !*s->listener_path)
			return err_set(EINVAL, "seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
		/* connected before pivot_root when possible, and in any case
		 * before loading: the filter may forbid socket calls */
		sock = kept_listener >= 0 ? TAKE_FD(kept_listener) : listener_connect(s->listener_path);
		if (sock < 0)
			return sock;
	}
	r = seccomp_load(ctx);
	if (r == -EACCES)
		return err_sys(-r, "loading the seccomp filter (without noNewPrivileges it needs CAP_SYS_ADMIN)");
	if (r < 0)
		return err_sys(-r, "loading the seccomp filter");
	if (!notify)
		return 0;
	notify_fd = seccomp_notify_fd(ctx);
	if (notify_fd < 0)
		return err_sys(-notify_fd, "getting the seccomp notify fd");
	return listener_send(sock, notify_fd);
}
