// SPDX-License-Identifier: GPL-2.0-or-later
/* The lazy-pages wire protocol: coding, checked decoding, handshake. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/sha256.h"
#include "cr/page-proto.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

void pp_hdr_encode(const struct pp_hdr *h, uint8_t out[PP_HDR_SIZE])
{
	put32(out, PP_MAGIC);
	put16(out + 4, h->type);
	put16(out + 6, h->flags);
	put32(out + 8, h->len);
	put32(out + 12, h->pid);
	put64(out + 16, h->id);
}

/* The largest payload each type may carry: a bound checked before any read. */
static size_t max_len(uint16_t type)
{
	switch (type) {
	case PP_CHALLENGE: return PP_CHALLENGE_SIZE;
	case PP_HELLO: return PP_HELLO_SIZE;
	case PP_WELCOME: return PP_WELCOME_SIZE;
	case PP_REQ: return PP_REQ_SIZE;
	case PP_PAGES: return PP_PAGES_SIZE + (size_t)PP_MAX_PAGES * PP_PAGE_SIZE;
	case PP_DONE: return 0;
	case PP_ACK_ALL: return 0;
	case PP_ERROR: return 4 + PP_MAX_ERROR_TEXT;
	}
	return SIZE_MAX;
}

int pp_hdr_decode(const uint8_t in[PP_HDR_SIZE], struct pp_hdr *ret)
{
	struct pp_hdr h;

	if (get32(in) != PP_MAGIC)
		return err_set(EBADMSG, "page protocol: bad magic 0x%08x", get32(in));
	h.type = get16(in + 4);
	h.flags = get16(in + 6);
	h.len = get32(in + 8);
	h.pid = get32(in + 12);
	h.id = get64(in + 16);
	size_t max = max_len(h.type);
	if (max == SIZE_MAX)
		return err_set(EBADMSG, "page protocol: unknown message type %u", h.type);
	if (h.len > max)
		return err_set(EBADMSG, "page protocol: message type %u of %u bytes (at most %zu)", h.type, h.len,
			       max);
	if (h.flags & ~PP_F_ZERO)
		return err_set(EBADMSG, "page protocol: unknown flags 0x%x", h.flags);
	*ret = h;
	return 0;
}

void pp_challenge_encode(const struct pp_challenge *c, uint8_t out[PP_CHALLENGE_SIZE])
{
	put32(out, c->vmin);
	put32(out + 4, c->vmax);
	memcpy(out + 8, c->nonce, PP_NONCE_LEN);
}

int pp_challenge_decode(const uint8_t *in, size_t len, struct pp_challenge *ret)
{
	if (len != PP_CHALLENGE_SIZE)
		return err_set(EBADMSG, "page protocol: challenge of %zu bytes", len);
	ret->vmin = get32(in);
	ret->vmax = get32(in + 4);
	if (ret->vmin > ret->vmax)
		return err_set(EBADMSG, "page protocol: challenge versions %u..%u", ret->vmin, ret->vmax);
	memcpy(ret->nonce, in + 8, PP_NONCE_LEN);
	return 0;
}

void pp_hello_encode(const struct pp_hello *h, uint8_t out[PP_HELLO_SIZE])
{
	put32(out, h->version);
	put32(out + 4, h->channel);
	memcpy(out + 8, h->session, PP_SESSION_LEN);
	memcpy(out + 8 + PP_SESSION_LEN, h->mac, PP_MAC_LEN);
}

int pp_hello_decode(const uint8_t *in, size_t len, struct pp_hello *ret)
{
	if (len != PP_HELLO_SIZE)
		return err_set(EBADMSG, "page protocol: hello of %zu bytes", len);
	ret->version = get32(in);
	ret->channel = get32(in + 4);
	if (ret->channel != PP_CHAN_URGENT && ret->channel != PP_CHAN_BULK)
		return err_set(EBADMSG, "page protocol: unknown channel %u", ret->channel);
	memcpy(ret->session, in + 8, PP_SESSION_LEN);
	memcpy(ret->mac, in + 8 + PP_SESSION_LEN, PP_MAC_LEN);
	return 0;
}

void pp_req_encode(const struct pp_req *r, uint8_t out[PP_REQ_SIZE])
{
	put64(out, r->addr);
	put32(out + 8, r->nr_pages);
	put32(out + 12, r->prefetch);
}

static int check_range(uint64_t addr, uint32_t nr, const char *what)
{
	if (addr % PP_PAGE_SIZE)
		return err_set(EBADMSG, "page protocol: %s address 0x%llx not page aligned", what,
			       (unsigned long long)addr);
	if (nr == 0 || nr > PP_MAX_PAGES)
		return err_set(EBADMSG, "page protocol: %s of %u pages", what, nr);
	if (addr + (uint64_t)nr * PP_PAGE_SIZE < addr)
		return err_set(EBADMSG, "page protocol: %s range wraps", what);
	return 0;
}

int pp_req_decode(const uint8_t *in, size_t len, struct pp_req *ret)
{
	if (len != PP_REQ_SIZE)
		return err_set(EBADMSG, "page protocol: request of %zu bytes", len);
	ret->addr = get64(in);
	ret->nr_pages = get32(in + 8);
	ret->prefetch = get32(in + 12);
	if (ret->prefetch > PP_MAX_PAGES)
		return err_set(EBADMSG, "page protocol: prefetch of %u pages", ret->prefetch);
	return check_range(ret->addr, ret->nr_pages, "request");
}

void pp_pages_encode(const struct pp_pages *p, uint8_t out[PP_PAGES_SIZE])
{
	put64(out, p->addr);
	put32(out + 8, p->nr_pages);
}

int pp_pages_decode(const uint8_t *in, size_t len, uint16_t flags, struct pp_pages *ret)
{
	if (len < PP_PAGES_SIZE)
		return err_set(EBADMSG, "page protocol: pages message of %zu bytes", len);
	ret->addr = get64(in);
	ret->nr_pages = get32(in + 8);
	int r = check_range(ret->addr, ret->nr_pages, "pages");
	if (r < 0)
		return r;
	size_t want = PP_PAGES_SIZE + ((flags & PP_F_ZERO) ? 0 : (size_t)ret->nr_pages * PP_PAGE_SIZE);
	if (len != want)
		return err_set(EBADMSG, "page protocol: %u pages in %zu bytes (want %zu)", ret->nr_pages, len,
			       want);
	return 0;
}

int pp_send(int fd, const struct pp_hdr *h, const void *payload, size_t plen, const void *data, size_t dlen)
{
	uint8_t hdr[PP_HDR_SIZE];
	struct pp_hdr hh = *h;
	struct iovec iov[3] = {
		{ hdr, PP_HDR_SIZE },
		{ (void *)payload, plen },
		{ (void *)data, dlen },
	};
	struct iovec *v = iov;
	int cnt = 3;

	hh.len = plen + dlen;
	pp_hdr_encode(&hh, hdr);
	while (cnt) {
		ssize_t n = writev(fd, v, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(errno, "page protocol: sending message type %u", h->type);
		}
		while (cnt && (size_t)n >= v->iov_len) {
			n -= v->iov_len;
			v++;
			cnt--;
		}
		if (cnt) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= n;
		}
	}
	return 0;
}

int pp_recv(int fd, struct pp_hdr *ret_hdr, void *buf, size_t cap)
{
	uint8_t hdr[PP_HDR_SIZE];
	ssize_t n = read_full(fd, hdr, sizeof(hdr));
	if (n < 0)
		return err_sys(-n, "page protocol: receiving");
	if (n == 0)
		return err_set(ECONNRESET, "page protocol: connection closed by peer");
	if (n != PP_HDR_SIZE)
		return err_set(ECONNRESET, "page protocol: connection closed inside a message header");
	int r = pp_hdr_decode(hdr, ret_hdr);
	if (r < 0)
		return r;
	if (ret_hdr->len > cap)
		return err_set(EMSGSIZE, "page protocol: message of %u bytes, buffer %zu", ret_hdr->len, cap);
	n = read_full(fd, buf, ret_hdr->len);
	if (n < 0)
		return err_sys(-n, "page protocol: receiving");
	if ((size_t)n != ret_hdr->len)
		return err_set(ECONNRESET, "page protocol: connection closed inside a message (%zd of %u bytes)",
			       n, ret_hdr->len);
	return 0;
}

/* Until rx holds want bytes from off: 0, -ECONNRESET at EOF (errno-style
 * codes, the caller words them), or -errno. */
static int rx_fill(struct pp_rx *rx, size_t want)
{
	if (rx->off + want > rx->cap) {
		memmove(rx->buf, rx->buf + rx->off, rx->have);
		rx->off = 0;
	}
	while (rx->have < want) {
		ssize_t n = read(rx->fd, rx->buf + rx->off + rx->have, rx->cap - rx->off - rx->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		rx->have += (size_t)n;
	}
	return 0;
}

int pp_rx_recv(struct pp_rx *rx, struct pp_hdr *ret_hdr, const uint8_t **ret_payload)
{
	bool fresh = rx->have == 0;
	int r = rx_fill(rx, PP_HDR_SIZE);

	if (r == -ECONNRESET && fresh)
		return err_set(ECONNRESET, "page protocol: connection closed by peer");
	if (r == -ECONNRESET)
		return err_set(ECONNRESET, "page protocol: connection closed inside a message header");
	if (r < 0)
		return err_sys(-r, "page protocol: receiving");
	if ((r = pp_hdr_decode(rx->buf + rx->off, ret_hdr)) < 0)
		return r;
	if (ret_hdr->len > rx->cap - PP_HDR_SIZE)
		return err_set(EMSGSIZE, "page protocol: message of %u bytes, buffer %zu", ret_hdr->len,
			       rx->cap - PP_HDR_SIZE);
	size_t total = PP_HDR_SIZE + (size_t)ret_hdr->len;
	r = rx_fill(rx, total);
	if (r == -ECONNRESET)
		return err_set(ECONNRESET, "page protocol: connection closed inside a message (%zu of %u bytes)",
			       rx->have - PP_HDR_SIZE, ret_hdr->len);
	if (r < 0)
		return err_sys(-r, "page protocol: receiving");
	*ret_payload = rx->buf + rx->off + PP_HDR_SIZE;
	rx->off += total;
	rx->have -= total;
	if (!rx->have)
		rx->off = 0;
	return 0;
}

int pp_send_error(int fd, uint64_t id, int err, const char *text)
{
	uint8_t buf[4 + PP_MAX_ERROR_TEXT];
	size_t tl = strnlen(text, PP_MAX_ERROR_TEXT);
	struct pp_hdr h = { .type = PP_ERROR, .id = id };

	put32(buf, (uint32_t)err);
	memcpy(buf + 4, text, tl);
	return pp_send(fd, &h, buf, 4 + tl, NULL, 0);
}

int pp_error_decode(const uint8_t *in, size_t len, int *ret_err, char *text, size_t cap)
{
	if (len < 4 || len > 4 + PP_MAX_ERROR_TEXT || cap == 0)
		return err_set(EBADMSG, "page protocol: error message of %zu bytes", len);
	*ret_err = (int)get32(in);
	size_t tl = len - 4 < cap - 1 ? len - 4 : cap - 1;
	memcpy(text, in + 4, tl);
	text[tl] = '\0';
	return 0;
}

int pp_secret_create(const char *image_dir, uint8_t ret[PP_SECRET_LEN])
{
	char path[PATH_MAX];
	uint8_t s[PP_SECRET_LEN];

	if (getrandom(s, sizeof(s), 0) != sizeof(s))
		return err_sys(errno, "page server: making a secret");
	snprintf(path, sizeof(path), "%s/%s", image_dir, PP_SECRET_FILE);
	unlink(path);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_sys(errno, "creating %s", path);
	int r = write_full(fd, s, sizeof(s));
	if (r < 0)
		return err_sys(-r, "writing %s", path);
	memcpy(ret, s, sizeof(s));
	return 0;
}

int pp_secret_load(const char *image_dir, uint8_t ret[PP_SECRET_LEN])
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", image_dir, PP_SECRET_FILE);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_sys(errno, "opening %s", path);
	if (fstat(fd, &st) < 0)
		return err_sys(errno, "%s", path);
	if (st.st_size != PP_SECRET_LEN)
		return err_set(EBADMSG, "%s: %lld bytes, want %d", path, (long long)st.st_size, PP_SECRET_LEN);
	ssize_t n = read_full(fd, ret, PP_SECRET_LEN);
	if (n != PP_SECRET_LEN)
		return err_set(EBADMSG, "%s: short read", path);
	return 0;
}

void pp_mac(const uint8_t secret[PP_SECRET_LEN], const uint8_t nonce[PP_NONCE_LEN], uint32_t channel,
	    const uint8_t session[PP_SESSION_LEN], uint8_t out[PP_MAC_LEN])
{
	static const char label[] = "skua-pages";
	uint8_t msg[sizeof(label) - 1 + PP_NONCE_LEN + 4 + PP_SESSION_LEN];
	size_t o = 0;

	memcpy(msg, label, sizeof(label) - 1);
	o += sizeof(label) - 1;
	memcpy(msg + o, nonce, PP_NONCE_LEN);
	o += PP_NONCE_LEN;
	put32(msg + o, channel);
	o += 4;
	memcpy(msg + o, session, PP_SESSION_LEN);
	hmac_sha256(secret, PP_SECRET_LEN, msg, sizeof(msg), out);
}

int pp_server_handshake(int fd, const uint8_t secret[PP_SECRET_LEN], struct pp_hello *ret_hello)
{
	struct pp_challenge c = { .vmin = PP_VERSION, .vmax = PP_VERSION };
	uint8_t buf[PP_HELLO_SIZE + 64], mac[PP_MAC_LEN];
	struct pp_hdr h = { .type = PP_CHALLENGE };
	struct pp_hello hello;
	int r;

	if (getrandom(c.nonce, sizeof(c.nonce), 0) != sizeof(c.nonce))
		return err_sys(errno, "page server: making a nonce");
	pp_challenge_encode(&c, buf);
	r = pp_send(fd, &h, buf, PP_CHALLENGE_SIZE, NULL, 0);
	if (r < 0)
		return r;
	r = pp_recv(fd, &h, buf, sizeof(buf));
	if (r < 0)
		return err_wrap(r, "page server handshake");
	if (h.type != PP_HELLO) {
		pp_send_error(fd, 0, EPROTO, "expected hello");
		return err_set(EPROTO, "page server handshake: message type %u instead of hello", h.type);
	}
	r = pp_hello_decode(buf, h.len, &hello);
	if (r < 0) {
		pp_send_error(fd, 0, EPROTO, err_msg());
		return r;
	}
	if (hello.version != PP_VERSION) {
		pp_send_error(fd, 0, EPROTO, "unsupported protocol version");
		return err_set(EPROTO, "page server handshake: peer speaks version %u, we speak %u",
			       hello.version, PP_VERSION);
	}
	pp_mac(secret, c.nonce, hello.channel, hello.session, mac);
	if (!sha256_equal(mac, hello.mac)) {
		pp_send_error(fd, 0, EACCES, "wrong secret");
		return err_set(EACCES, "page server handshake: the peer does not hold the image's secret");
	}
	struct pp_hdr w = { .type = PP_WELCOME };
	uint8_t v[PP_WELCOME_SIZE];
	put32(v, PP_VERSION);
	r = pp_send(fd, &w, v, sizeof(v), NULL, 0);
	if (r < 0)
		return r;
	*ret_hello = hello;
	return 0;
}

int pp_client_handshake(int fd, const uint8_t secret[PP_SECRET_LEN], uint32_t channel,
			const uint8_t session[PP_SESSION_LEN])
{
	uint8_t buf[4 + PP_MAX_ERROR_TEXT];
	struct pp_challenge c;
	struct pp_hello hello = { .version = PP_VERSION, .channel = channel };
	struct pp_hdr h;
	int r;

	r = pp_recv(fd, &h, buf, sizeof(buf));
	if (r < 0)
		return err_wrap(r, "page client handshake");
	if (h.type != PP_CHALLENGE)
		return err_set(EPROTO, "page client handshake: message type %u instead of a challenge", h.type);
	r = pp_challenge_decode(buf, h.len, &c);
	if (r < 0)
		return r;
	if (c.vmin > PP_VERSION || c.vmax < PP_VERSION)
		return err_set(EPROTO, "page client handshake: server speaks versions %u..%u, we speak %u",
			       c.vmin, c.vmax, PP_VERSION);
	memcpy(hello.session, session, PP_SESSION_LEN);
	pp_mac(secret, c.nonce, channel, session, hello.mac);
	pp_hello_encode(&hello, buf);
	h = (struct pp_hdr){ .type = PP_HELLO };
	r = pp_send(fd, &h, buf, PP_HELLO_SIZE, NULL, 0);
	if (r < 0)
		return r;
	r = pp_recv(fd, &h, buf, sizeof(buf));
	if (r < 0)
		return err_wrap(r, "page client handshake");
	if (h.type == PP_ERROR) {
		int e;
		char text[PP_MAX_ERROR_TEXT + 1];
		if (pp_error_decode(buf, h.len, &e, text, sizeof(text)) < 0)
			return -EBADMSG;
		return err_set(e > 0 ? e : EPROTO, "page server refused us: %s", text);
	}
	if (h.type != PP_WELCOME || h.len != PP_WELCOME_SIZE || get32(buf) != PP_VERSION)
		return err_set(EPROTO, "page client handshake: no welcome (message type %u)", h.type);
	return 0;
}
