/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lazy-pages wire protocol (docs/lazy-migration.md), version 1.
 *
 * Two TCP connections per migration, both opened by the destination:
 * an urgent channel that carries page faults and their answers only, and a
 * bulk channel on which the source streams every remaining page. Each
 * message is a fixed 24-byte little-endian header and a payload:
 *
 *   u32 magic "SKPG"  u16 type  u16 flags  u32 len  u32 pid  u64 id
 *
 * Handshake, per connection:
 *   source -> CHALLENGE {u32 vmin, u32 vmax, u8 nonce[32]}
 *   dest   -> HELLO {u32 version, u32 channel, u8 session[16], u8 mac[32]}
 *             mac = HMAC-SHA256(secret, "skua-pages" | nonce | channel | session)
 *   source -> WELCOME {u32 version}   or ERROR and close
 * The secret is written by checkpoint into the image directory (mode 0600):
 * a listener on a wildcard address hands memory only to who holds it.
 *
 * After it: dest -> REQ (urgent; id = request id, pid = task) {u64 addr,
 * u32 nr_pages, u32 prefetch}; source -> PAGES {u64 addr, u32 nr_pages} +
 * data (flag ZERO: no data, the range is zeros), with the request's id on the
 * urgent channel or id 0 on the bulk stream; DONE (bulk) when every page was
 * sent; dest -> ACK_ALL when it holds every page; ERROR {i32 errno, text}.
 */
#ifndef SKUA_CR_PAGE_PROTO_H
#define SKUA_CR_PAGE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PP_MAGIC 0x47504b53u /* "SKPG" little-endian */
#define PP_VERSION 1
#define PP_HDR_SIZE 24
#define PP_PAGE_SIZE 4096
#define PP_MAX_PAGES 2048 /* 8 MiB in one message */
/* What skua's page server puts in one stream message at most (its chunks
 * grow to it), and what a receiver readies its buffer for; a peer may send
 * up to PP_MAX_PAGES. */
#define PP_BULK_CHUNK_MAX (4UL << 20)
#define PP_SECRET_LEN 32
#define PP_NONCE_LEN 32
#define PP_SESSION_LEN 16
#define PP_MAC_LEN 32
#define PP_SECRET_FILE "page-server.secret"
#define PP_MAX_ERROR_TEXT 1024

enum pp_type {
	PP_CHALLENGE = 1,
	PP_HELLO = 2,
	PP_WELCOME = 3,
	PP_REQ = 4,
	PP_PAGES = 5,
	PP_DONE = 6,
	PP_ACK_ALL = 7,
	PP_ERROR = 8,
};

enum pp_channel { PP_CHAN_URGENT = 0, PP_CHAN_BULK = 1 };

#define PP_F_ZERO 0x1

struct pp_hdr {
	uint16_t type;
	uint16_t flags;
	uint32_t len; /* payload bytes after the header, page data included */
	uint32_t pid;
	uint64_t id;
};

struct pp_challenge {
	uint32_t vmin, vmax;
	uint8_t nonce[PP_NONCE_LEN];
};

struct pp_hello {
	uint32_t version, channel;
	uint8_t session[PP_SESSION_LEN];
	uint8_t mac[PP_MAC_LEN];
};

struct pp_req {
	uint64_t addr;
	uint32_t nr_pages, prefetch;
};

struct pp_pages {
	uint64_t addr;
	uint32_t nr_pages;
};

/* Fixed payload sizes (PAGES: the part before the data). */
#define PP_CHALLENGE_SIZE (8 + PP_NONCE_LEN)
#define PP_HELLO_SIZE (8 + PP_SESSION_LEN + PP_MAC_LEN)
#define PP_WELCOME_SIZE 4
#define PP_REQ_SIZE 16
#define PP_PAGES_SIZE 12

/* Header coding. decode checks the magic, the type and that len fits the
 * type (-EBADMSG with err_set naming what is wrong). */
void pp_hdr_encode(const struct pp_hdr *h, uint8_t out[PP_HDR_SIZE]);
int pp_hdr_decode(const uint8_t in[PP_HDR_SIZE], struct pp_hdr *ret);

/* Payload coding; decoders check the length they are given exactly. */
void pp_challenge_encode(const struct pp_challenge *c, uint8_t out[PP_CHALLENGE_SIZE]);
int pp_challenge_decode(const uint8_t *in, size_t len, struct pp_challenge *ret);
void pp_hello_encode(const struct pp_hello *h, uint8_t out[PP_HELLO_SIZE]);
int pp_hello_decode(const uint8_t *in, size_t len, struct pp_hello *ret);
void pp_req_encode(const struct pp_req *r, uint8_t out[PP_REQ_SIZE]);
int pp_req_decode(const uint8_t *in, size_t len, struct pp_req *ret);
void pp_pages_encode(const struct pp_pages *p, uint8_t out[PP_PAGES_SIZE]);
/* flags from the header: with PP_F_ZERO no data follows, else nr_pages pages. */
int pp_pages_decode(const uint8_t *in, size_t len, uint16_t flags, struct pp_pages *ret);

/* I/O: whole messages on a blocking socket. pp_send writes header, payload
 * and optional data with one writev loop. pp_recv reads a header and its
 * payload into buf (cap bytes; larger -> -EMSGSIZE). */
int pp_send(int fd, const struct pp_hdr *h, const void *payload, size_t plen, const void *data, size_t dlen);
int pp_recv(int fd, struct pp_hdr *ret_hdr, void *buf, size_t cap);
int pp_send_error(int fd, uint64_t id, int err, const char *text);

/* A receiver that reads ahead: one read() takes whatever the socket holds
 * (up to cap), so a message that arrived whole costs one system call
 * instead of two, and the next ones may already be in. A message's payload
 * stays in buf, valid until the next pp_rx_recv. cap must hold a header and
 * the largest payload expected (larger -> -EMSGSIZE). */
struct pp_rx {
	int fd;
	uint8_t *buf;
	size_t cap;
	size_t off, have; /* bytes read and not yet returned: buf[off, off + have) */
};
int pp_rx_recv(struct pp_rx *rx, struct pp_hdr *ret_hdr, const uint8_t **ret_payload);
/* From an ERROR payload: errno and text (NUL-terminated into text[cap]). */
int pp_error_decode(const uint8_t *in, size_t len, int *ret_err, char *text, size_t cap);

/* Secret and MAC. */
int pp_secret_create(const char *image_dir, uint8_t ret[PP_SECRET_LEN]);
int pp_secret_load(const char *image_dir, uint8_t ret[PP_SECRET_LEN]);
void pp_mac(const uint8_t secret[PP_SECRET_LEN], const uint8_t nonce[PP_NONCE_LEN], uint32_t channel,
	    const uint8_t session[PP_SESSION_LEN], uint8_t out[PP_MAC_LEN]);

/* Handshakes. The server side sends a fresh challenge and checks the HELLO;
 * a wrong MAC or version gets an ERROR and -EACCES/-EPROTO. */
int pp_server_handshake(int fd, const uint8_t secret[PP_SECRET_LEN], struct pp_hello *ret_hello);
int pp_client_handshake(int fd, const uint8_t secret[PP_SECRET_LEN], uint32_t channel,
			const uint8_t session[PP_SESSION_LEN]);

#endif
