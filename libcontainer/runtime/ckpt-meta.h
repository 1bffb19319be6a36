/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The runtime's own files in a container checkpoint, beside the engine's
 * images: descriptors.json (runc's format: the init's fds 0-2 as link text)
 * and container.json (what the engine does not hold: the original id,
 * hostname, tmpfs archives, loopback state).
 */
#ifndef SKUA_RUNTIME_CKPT_META_H
#define SKUA_RUNTIME_CKPT_META_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CKPT_DESCRIPTORS "descriptors.json"
#define CKPT_META "container.json"
#define CKPT_NET_FILE "netns-addr.json"

struct ckpt_tmpfs {
	char *dest;    /* mount point inside the container */
	char *archive; /* file name in the image dir; NULL: it was empty */
	/* an empty one: its root's mode and owner (host ids), no archive */
	unsigned int mode, uid, gid;
};

struct ckpt_meta {
	char *id;
	char *hostname;    /* NULL: the container shares the host's UTS ns */
	char *net_file;    /* NULL: the container shares the host's net ns */
	bool paused;       /* frozen by `pause` when dumped */
	bool stdio_tty[3]; /* fd 0-2 of the init were a terminal (process.terminal) */
	struct ckpt_tmpfs *tmpfs; size_t n_tmpfs;
};

/* Is this fd of pid a terminal (pts, tty or console char device)? */
bool ckpt_fd_is_tty(pid_t pid, int fd);

/* The link text of /proc/PID/fd/{0,1,2} ("" for a closed fd); malloc'd. */
int ckpt_descriptors_collect(pid_t pid, char *ret[3]);
int ckpt_descriptors_write(const char *dir, char *const d[3]);
/* Missing file: -ENOENT with a message. */
int ckpt_descriptors_read(const char *dir, char *ret[3]);
void ckpt_descriptors_free(char *d[3]);

int ckpt_meta_add_tmpfs(struct ckpt_meta *m, const char *dest, const char *archive);
/* A tmpfs that held nothing: its root's mode and owner stand for the archive. */
int ckpt_meta_add_empty_tmpfs(struct ckpt_meta *m, const char *dest, unsigned int mode, unsigned int uid,
			      unsigned int gid);
int ckpt_meta_write(const char *dir, const struct ckpt_meta *m);
int ckpt_meta_read(const char *dir, struct ckpt_meta *ret);
void ckpt_meta_free(struct ckpt_meta *m);

#endif
