// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Image files: a per-kind magic and the format version, then length-prefixed
 * protobuf messages (or raw page data). Images come from disk, from another
 * host, from a user: every length is checked against the file and the kind's
 * limit before anything is allocated, and every failure names the file and
 * the offset so that a corrupt image is diagnosable from the message alone.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "cr/image.h"

#define IMG_HDR_SIZE 8u
#define IMG_BUF_SIZE (64u * 1024)
#define KiB 1024u
#define MiB (1024u * 1024)

struct img_kind_info {
	const char *fmt;   /* file name; "%u" for numbered kinds */
	bool numbered;
	uint32_t magic;
	uint32_t max_msg;  /* longest message accepted, bytes */
};

/* One table for every kind: adding a kind is one line here and one enum entry. */
static const struct img_kind_info kinds[CR_IMG_KIND_COUNT] = {
	[CR_IMG_INVENTORY] = { "inventory.img", false, 0x534b0001, 1 * MiB },
	[CR_IMG_PSTREE]    = { "pstree.img", false, 0x534b0002, 16 * MiB },
	/* threads carry ~2.7 KiB of xstate each: room for a few thousand */
	[CR_IMG_CORE]      = { "core-%u.img", true, 0x534b0003, 16 * MiB },
	[CR_IMG_MM]        = { "mm-%u.img", true, 0x534b0004, 16 * MiB },
	[CR_IMG_PAGEMAP]   = { "pagemap-%u.img", true, 0x534b0005, 1 * MiB },
	[CR_IMG_PAGES]     = { "pages-%u.img", true, 0x534b0006, 0 },
	/* pipe buffers in flight travel inside file entries */
	[CR_IMG_FILES]     = { "files.img", false, 0x534b0007, 64 * MiB },
	[CR_IMG_FDINFO]    = { "fdinfo-%u.img", true, 0x534b0008, 1 * MiB },
};

struct cr_img {
	int fd;
	enum cr_img_kind kind;
	bool writing;
	int werr;          /* first write error, reported by img_close() */
	char name[64];
	uint64_t off;      /* logical position: bytes consumed or produced */
	uint64_t size;     /* reading: file size at open */
	unsigned msg_no;   /* reading: messages read so far */
	uint8_t *buf;
	size_t buf_pos, buf_len; /* reading: unread bytes are buf[pos..len) */
};

static bool kind_valid(enum cr_img_kind kind)
{
	return (unsigned)kind < CR_IMG_KIND_COUNT;
}

int img_name(enum cr_img_kind kind, unsigned id, char *buf, size_t len)
{
	if (!kind_valid(kind))
		return err_set(EINVAL, "unknown image kind %d", (int)kind);
	const struct img_kind_info *k = &kinds[kind];
	int n = k->numbered ? snprintf(buf, len, k->fmt, id) : snprintf(buf, len, "%s", k->fmt);
	if (n < 0 || (size_t)n >= len)
		return err_set(ENAMETOOLONG, "image name buffer too small");
	return 0;
}

bool img_exists(int dirfd, enum cr_img_kind kind, unsigned id)
{
	char name[64];
	if (img_name(kind, id, name, sizeof(name)) < 0)
		return false;
	return faccessat(dirfd, name, F_OK, 0) == 0;
}

int img_fd(const struct cr_img *img)
{
	return img->fd;
}

uint64_t img_data_offset(const struct cr_img *img)
{
	return IMG_HDR_SIZE;
}

static void img_free(struct cr_img *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		close(img->fd);
	free(img->buf);
	free(img);
}

/* ---- writing ---- */

static int img_flush(struct cr_img *img)
{
	if (img->werr)
		return img->werr;
	if (img->buf_len) {
		int r = write_full(img->fd, img->buf, img->buf_len);
		if (r < 0) {
			img->werr = err_sys(-r, "writing %s", img->name);
			return img->werr;
		}
		img->buf_len = 0;
	}
	return 0;
}

static int img_put(struct cr_img *img, const void *data, size_t len)
{
	if (img->werr)
		return img->werr;
	if (img->buf_len + len > IMG_BUF_SIZE) {
		int r = img_flush(img);
		if (r < 0)
			return r;
	}
	if (len >= IMG_BUF_SIZE) {
		/* large raw runs (pages) skip the copy */
		int r = write_full(img->fd, data, len);
		if (r < 0)
			return img->werr = err_sys(-r, "writing %s", img->name);
	} else {
		memcpy(img->buf + img->buf_len, data, len);
		img->buf_len += len;
	}
	img->off += len;
	return 0;
}

static int img_put_u32(struct cr_img *img, uint32_t v)
{
	uint32_t le = htole32(v);
	return img_put(img, &le, sizeof(le));
}

int img_write_msg(struct cr_img *img, const ProtobufCMessage *msg)
{
	if (!img->writing)
		return err_set(EBADF, "%s: not open for writing", img->name);
	if (kinds[img->kind].max_msg == 0)
		return err_set(EINVAL, "%s: raw image holds no messages", img->name);
	size_t len = protobuf_c_message_get_packed_size(msg);
	if (len > kinds[img->kind].max_msg)
		return err_set(EMSGSIZE, "%s: %s message of %zu bytes exceeds the limit of %u",
			       img->name, msg->descriptor->name, len, kinds[img->kind].max_msg);
	int r = img_put_u32(img, (uint32_t)len);
	if (r < 0)
		return r;
	if (img->buf_len + len <= IMG_BUF_SIZE) {
		protobuf_c_message_pack(msg, img->buf + img->buf_len);
		img->buf_len += len;
		img->off += len;
		return 0;
	}
	_cleanup_free_ uint8_t *tmp = malloc(len ? len : 1);
	if (!tmp)
		return err_set(ENOMEM, "%s: packing %zu bytes", img->name, len);
	protobuf_c_message_pack(msg, tmp);
	return img_put(img, tmp, len);
}

int img_write_raw(struct cr_img *img, const void *buf, size_t len)
{
	if (!img->writing)
		return err_set(EBADF, "%s: not open for writing", img->name);
	return img_put(img, buf, len);
}

/* ---- reading ---- */

/* Up to len bytes from the buffered stream; returns the count (< len at EOF). */
static ssize_t img_get(struct cr_img *img, void *data, size_t len)
{
	uint8_t *out = data;
	size_t got = 0;

	while (got < len) {
		if (img->buf_pos == img->buf_len) {
			if (len - got >= IMG_BUF_SIZE) {
				ssize_t n = read_full(img->fd, out + got, len - got);
				if (n < 0)
					return err_sys(-n, "reading %s", img->name);
				got += n;
				break;
			}
			ssize_t n = read_full(img->fd, img->buf, IMG_BUF_SIZE);
			if (n < 0)
				return err_sys(-n, "reading %s", img->name);
			if (n == 0)
				break;
			img->buf_pos = 0;
			img->buf_len = n;
		}
		size_t take = img->buf_len - img->buf_pos;
		if (take > len - got)
			take = len - got;
		memcpy(out + got, img->buf + img->buf_pos, take);
		img->buf_pos += take;
		got += take;
	}
	img->off += got;
	return got;
}

int img_read_msg(struct cr_img *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret)
{
	if (img->writing)
		return err_set(EBADF, "%s: not open for reading", img->name);
	if (kinds[img->kind].max_msg == 0)
		return err_set(EINVAL, "%s: raw image holds no messages", img->name);

	uint64_t at = img->off;
	unsigned no = img->msg_no + 1;
	uint32_t le;
	ssize_t n = img_get(img, &le, sizeof(le));
	if (n < 0)
		return (int)n;
	if (n == 0) {
		*ret = NULL;
		return 0;
	}
	if (n < (ssize_t)sizeof(le))
		return err_set(EBADMSG, "%s: message %u at offset %llu: truncated length (%zd of 4 bytes)",
			       img->name, no, (unsigned long long)at, n);
	uint32_t len = le32toh(le);
	/* off passes size only if the file grew after we opened it */
	if (img->off > img->size || (uint64_t)len > img->size - img->off)
		return err_set(EBADMSG, "%s: message %u at offset %llu: length %u beyond end of file",
			       img->name, no, (unsigned long long)at, len);
	if (len > kinds[img->kind].max_msg)
		return err_set(EBADMSG, "%s: message %u at offset %llu: length %u over the limit of %u",
			       img->name, no, (unsigned long long)at, len, kinds[img->kind].max_msg);

	_cleanup_free_ uint8_t *data = malloc(len ? len : 1);
	if (!data)
		return err_set(ENOMEM, "%s: message %u: allocating %u bytes", img->name, no, len);
	n = img_get(img, data, len);
	if (n < 0)
		return (int)n;
	if ((size_t)n < len)
		return err_set(EBADMSG, "%s: message %u at offset %llu: truncated (%zd of %u bytes)",
			       img->name, no, (unsigned long long)at, n, len);
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, data);
	if (!m)
		return err_set(EBADMSG, "%s: message %u at offset %llu: cannot decode %u bytes as %s",
			       img->name, no, (unsigned long long)at, len, desc->name);
	img->msg_no = no;
	*ret = m;
	return 0;
}

int img_read_raw(struct cr_img *img, void *buf, size_t len)
{
	if (img->writing)
		return err_set(EBADF, "%s: not open for reading", img->name);
	uint64_t at = img->off;
	ssize_t n = img_get(img, buf, len);
	if (n < 0)
		return (int)n;
	if ((size_t)n < len)
		return err_set(EBADMSG, "%s: short read at offset %llu: %zd of %zu bytes",
			       img->name, (unsigned long long)at, n, len);
	return 0;
}

static int img_check_header(struct cr_img *img)
{
	uint32_t hdr[2];
	ssize_t n = img_get(img, hdr, sizeof(hdr));
	if (n < 0)
		return (int)n;
	if (n < (ssize_t)sizeof(hdr))
		return err_set(EBADMSG, "%s: truncated header (%zd of %u bytes)", img->name, n, IMG_HDR_SIZE);
	uint32_t magic = le32toh(hdr[0]), version = le32toh(hdr[1]);
	if (magic != kinds[img->kind].magic)
		return err_set(EBADMSG, "%s: bad magic 0x%08x (expected 0x%08x)", img->name, magic,
			       kinds[img->kind].magic);
	if (version != CR_IMAGE_VERSION)
		return err_set(EBADMSG, "%s: unsupported format version %u (this skua reads %u)",
			       img->name, version, CR_IMAGE_VERSION);
	return 0;
}

/* ---- open / close ---- */

int img_open(int dirfd, enum cr_img_kind kind, unsigned id, int flags, struct cr_img **ret)
{
	struct cr_img *img = calloc(1, sizeof(*img));
	if (!img)
		return err_set(ENOMEM, "allocating an image");
	img->fd = -1;
	img->kind = kind;
	img->writing = (flags & O_ACCMODE) != O_RDONLY;
	int r = img_name(kind, id, img->name, sizeof(img->name));
	if (r < 0)
		goto fail;
	img->buf = malloc(IMG_BUF_SIZE);
	if (!img->buf) {
		r = err_set(ENOMEM, "%s: allocating a buffer", img->name);
		goto fail;
	}

	if (img->writing) {
		img->fd = openat(dirfd, img->name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (img->fd < 0) {
			r = err_sys(errno, "creating %s", img->name);
			goto fail;
		}
		r = img_put_u32(img, kinds[kind].magic);
		if (r >= 0)
			r = img_put_u32(img, CR_IMAGE_VERSION);
		if (r < 0)
			goto fail;
	} else {
		struct stat st;
		img->fd = openat(dirfd, img->name, O_RDONLY | O_CLOEXEC);
		if (img->fd < 0) {
			r = err_sys(errno, "opening %s", img->name);
			goto fail;
		}
		if (fstat(img->fd, &st) < 0) {
			r = err_sys(errno, "%s: fstat", img->name);
			goto fail;
		}
		img->size = st.st_size;
		r = img_check_header(img);
		if (r < 0)
			goto fail;
	}
	*ret = img;
	return 0;
fail:
	img_free(img);
	return r;
}

int img_close(struct cr_img *img)
{
	int r = 0;

	if (!img)
		return 0;
	if (img->writing) {
		r = img_flush(img);
		/* NFS and friends report ENOSPC/EIO only at close */
		if (close(img->fd) < 0 && r == 0)
			r = err_sys(errno, "closing %s", img->name);
		img->fd = -1;
	}
	img_free(img);
	return r;
}

/* ---- one-message convenience ---- */

int img_read_one(int dirfd, enum cr_img_kind kind, unsigned id,
		 const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret)
{
	struct cr_img *img;
	ProtobufCMessage *m = NULL, *extra = NULL;

	int r = img_open(dirfd, kind, id, O_RDONLY, &img);
	if (r < 0)
		return r;
	r = img_read_msg(img, desc, &m);
	if (r >= 0 && !m)
		r = err_set(EBADMSG, "%s: empty (no %s message)", img->name, desc->name);
	if (r >= 0) {
		r = img_read_msg(img, desc, &extra);
		if (r >= 0 && extra)
			r = err_set(EBADMSG, "%s: more than one %s message", img->name, desc->name);
	}
	if (extra)
		protobuf_c_message_free_unpacked(extra, NULL);
	img_close(img);
	if (r < 0) {
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
		return r;
	}
	*ret = m;
	return 0;
}

int img_write_one(int dirfd, enum cr_img_kind kind, unsigned id, const ProtobufCMessage *msg)
{
	struct cr_img *img;
	int r = img_open(dirfd, kind, id, O_WRONLY, &img);
	if (r < 0)
		return r;
	r = img_write_msg(img, msg);
	int rc = img_close(img);
	return r < 0 ? r : rc;
}
