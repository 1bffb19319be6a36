// SPDX-License-Identifier: GPL-2.0-or-later
/* The lazy-pages protocol: coding round trips, malformed input refused,
 * handshakes with the right and a wrong secret over a socketpair. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "cr/page-proto.h"
#include "tap.h"

static void test_header(void)
{
	uint8_t raw[PP_HDR_SIZE];
	struct pp_hdr h = { .type = PP_PAGES, .flags = PP_F_ZERO, .len = PP_PAGES_SIZE, .pid = 4242,
			    .id = 0x1122334455667788ULL }, g;

	pp_hdr_encode(&h, raw);
	is_int(raw[0], 'S', "magic comes first, little-endian 'SKPG'");
	is_int(pp_hdr_decode(raw, &g), 0, "header decodes");
	ok(g.type == h.type && g.flags == h.flags && g.len == h.len && g.pid == h.pid && g.id == h.id,
	   "header round trip keeps every field");

	raw[1] ^= 0xff;
	is_int(pp_hdr_decode(raw, &g), -EBADMSG, "a bad magic is refused");
	ok(strstr(err_msg(), "magic") != NULL, "and the error says so: %s", err_msg());

	h = (struct pp_hdr){ .type = 99 };
	pp_hdr_encode(&h, raw);
	is_int(pp_hdr_decode(raw, &g), -EBADMSG, "an unknown type is refused");

	h = (struct pp_hdr){ .type = PP_REQ, .len = 1 << 30 };
	pp_hdr_encode(&h, raw);
	is_int(pp_hdr_decode(raw, &g), -EBADMSG, "a length beyond the type's bound is refused before reading");

	h = (struct pp_hdr){ .type = PP_PAGES, .len = PP_PAGES_SIZE + (PP_MAX_PAGES + 1) * PP_PAGE_SIZE };
	pp_hdr_encode(&h, raw);
	is_int(pp_hdr_decode(raw, &g), -EBADMSG, "a pages message over 8 MiB is refused");

	h = (struct pp_hdr){ .type = PP_DONE, .flags = 0x80 };
	pp_hdr_encode(&h, raw);
	is_int(pp_hdr_decode(raw, &g), -EBADMSG, "unknown flags are refused");
}

static void test_payloads(void)
{
	uint8_t buf[64];
	struct pp_req r = { .addr = 0x7f0000001000ULL, .nr_pages = 1, .prefetch = 15 }, rg;
	struct pp_pages p = { .addr = 0x400000, .nr_pages = 3 }, pg;
	struct pp_hello he = { .version = 1, .channel = PP_CHAN_BULK }, hg;

	pp_req_encode(&r, buf);
	is_int(pp_req_decode(buf, PP_REQ_SIZE, &rg), 0, "request decodes");
	ok(rg.addr == r.addr && rg.nr_pages == 1 && rg.prefetch == 15, "request round trip");
	is_int(pp_req_decode(buf, PP_REQ_SIZE - 1, &rg), -EBADMSG, "a short request is refused");
	r.addr = 0x1001;
	pp_req_encode(&r, buf);
	is_int(pp_req_decode(buf, PP_REQ_SIZE, &rg), -EBADMSG, "an unaligned address is refused");
	r = (struct pp_req){ .addr = 0x1000, .nr_pages = 0 };
	pp_req_encode(&r, buf);
	is_int(pp_req_decode(buf, PP_REQ_SIZE, &rg), -EBADMSG, "a request of 0 pages is refused");
	r = (struct pp_req){ .addr = 0xfffffffffffff000ULL, .nr_pages = 2 };
	pp_req_encode(&r, buf);
	is_int(pp_req_decode(buf, PP_REQ_SIZE, &rg), -EBADMSG, "a range that wraps is refused");

	pp_pages_encode(&p, buf);
	is_int(pp_pages_decode(buf, PP_PAGES_SIZE + 3 * PP_PAGE_SIZE, 0, &pg), 0, "pages with data decode");
	ok(pg.addr == p.addr && pg.nr_pages == 3, "pages round trip");
	is_int(pp_pages_decode(buf, PP_PAGES_SIZE, PP_F_ZERO, &pg), 0, "zero pages carry no data");
	is_int(pp_pages_decode(buf, PP_PAGES_SIZE + 2 * PP_PAGE_SIZE, 0, &pg), -EBADMSG,
	       "pages whose data is short are refused");
	is_int(pp_pages_decode(buf, PP_PAGES_SIZE + PP_PAGE_SIZE, PP_F_ZERO, &pg), -EBADMSG,
	       "zero pages with data are refused");

	memset(he.session, 7, sizeof(he.session));
	memset(he.mac, 9, sizeof(he.mac));
	pp_hello_encode(&he, buf);
	is_int(pp_hello_decode(buf, PP_HELLO_SIZE, &hg), 0, "hello decodes");
	ok(hg.channel == PP_CHAN_BULK && hg.session[15] == 7 && hg.mac[31] == 9, "hello round trip");
	buf[4] = 5;
	is_int(pp_hello_decode(buf, PP_HELLO_SIZE, &hg), -EBADMSG, "an unknown channel is refused");

	int e;
	char text[16];
	uint8_t eb[4 + 5] = { 13, 0, 0, 0, 'd', 'e', 'n', 'i', 'd' };
	is_int(pp_error_decode(eb, sizeof(eb), &e, text, sizeof(text)), 0, "error decodes");
	ok(e == 13 && strcmp(text, "denid") == 0, "error keeps errno and text");
	is_int(pp_error_decode(eb, 3, &e, text, sizeof(text)), -EBADMSG, "a 3-byte error is refused");
}

/* Run the server side in a child over a socketpair; the parent is the client. */
static void test_handshake(int same_secret)
{
	uint8_t secret[PP_SECRET_LEN], other[PP_SECRET_LEN], session[PP_SESSION_LEN] = { 1, 2, 3 };
	int sv[2];

	memset(secret, 0x42, sizeof(secret));
	memcpy(other, secret, sizeof(other));
	if (!same_secret)
		other[0] ^= 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	pid_t c = fork();
	if (c == 0) {
		struct pp_hello h;
		close(sv[0]);
		int r = pp_server_handshake(sv[1], secret, &h);
		_exit(r == 0 ? (h.channel == PP_CHAN_URGENT && h.session[2] == 3 ? 0 : 2) : (r == -EACCES ? 3 : 4));
	}
	close(sv[1]);
	int r = pp_client_handshake(sv[0], other, PP_CHAN_URGENT, session);
	int st;
	waitpid(c, &st, 0);
	close(sv[0]);
	if (same_secret) {
		is_int(r, 0, "client handshake with the right secret succeeds");
		is_int(WEXITSTATUS(st), 0, "server accepts it and sees the channel and session");
	} else {
		is_int(r, -EACCES, "client handshake with a wrong secret is refused");
		ok(strstr(err_msg(), "wrong secret") != NULL, "the client is told why: %s", err_msg());
		is_int(WEXITSTATUS(st), 3, "server refuses with EACCES");
	}
}

static void test_garbage_peer(void)
{
	int sv[2];
	uint8_t secret[PP_SECRET_LEN] = { 0 };
	struct pp_hello h;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t c = fork();
	if (c == 0) {
		char junk[64];
		close(sv[1]);
		memset(junk, 'A', sizeof(junk));
		if (read(sv[0], junk, sizeof(junk)) < 0) /* the challenge */
			_exit(1);
		memset(junk, 'A', sizeof(junk));
		if (write(sv[0], junk, sizeof(junk)) < 0)
			_exit(1);
		_exit(0);
	}
	close(sv[0]);
	int r = pp_server_handshake(sv[1], secret, &h);
	is_int(r, -EBADMSG, "a peer that sends garbage is refused");
	ok(strstr(err_msg(), "magic") != NULL, "with a message about the garbage: %s", err_msg());
	close(sv[1]);
	waitpid(c, NULL, 0);
}

/* Writes message i of a small sequence: header, then payload byte = i. */
static size_t put_msg(uint8_t *out, uint32_t len, uint8_t fill, uint64_t id)
{
	struct pp_hdr h = { .type = PP_ERROR, .len = len, .id = id };

	pp_hdr_encode(&h, out);
	memset(out + PP_HDR_SIZE, fill, len);
	return PP_HDR_SIZE + len;
}

static void test_read_ahead(void)
{
	int sv[2];
	uint8_t wire[4096], buf[PP_HDR_SIZE + 200];
	struct pp_rx rx = { .buf = buf, .cap = sizeof(buf) };
	struct pp_hdr h;
	const uint8_t *pl;
	size_t n = 0;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	rx.fd = sv[0];
	/* three messages at once: one read, then two from what was read ahead */
	n += put_msg(wire + n, 10, 'a', 1);
	n += put_msg(wire + n, 0, 'b', 2);
	n += put_msg(wire + n, 120, 'c', 3);
	if (write(sv[1], wire, n) != (ssize_t)n)
		abort();
	is_int(pp_rx_recv(&rx, &h, &pl), 0, "the first of three messages sent together");
	ok(h.id == 1 && h.len == 10 && pl[0] == 'a' && pl[9] == 'a', "  comes whole");
	ok(rx.have == n - PP_HDR_SIZE - 10, "  and the other two were read with it (%zu bytes ahead)", rx.have);
	is_int(pp_rx_recv(&rx, &h, &pl), 0, "the second, without a payload");
	ok(h.id == 2 && h.len == 0, "  is the empty one");
	is_int(pp_rx_recv(&rx, &h, &pl), 0, "the third");
	ok(h.id == 3 && h.len == 120 && pl[0] == 'c' && pl[119] == 'c' && rx.have == 0,
	   "  comes whole, and nothing is left over");

	/* a message that does not fit after what is left is moved to the front */
	n = put_msg(wire, 150, 'd', 4);
	n += put_msg(wire + n, 150, 'e', 5);
	if (write(sv[1], wire, n) != (ssize_t)n)
		abort();
	is_int(pp_rx_recv(&rx, &h, &pl), 0, "a message of 150 bytes in a 200-byte buffer");
	ok(h.id == 4 && pl[149] == 'd', "  is whole");
	is_int(pp_rx_recv(&rx, &h, &pl), 0, "the next, begun behind it");
	ok(h.id == 5 && pl[0] == 'e' && pl[149] == 'e' && pl + 150 <= buf + sizeof(buf),
	   "  is whole, inside the buffer");

	/* split across writes: the header in two pieces, then the payload */
	n = put_msg(wire, 50, 'f', 6);
	pid_t c = fork();
	if (c == 0) {
		for (size_t at = 0, step[] = { 3, PP_HDR_SIZE - 3, 50 }, i = 0; i < 3; at += step[i++]) {
			usleep(20000);
			if (write(sv[1], wire + at, step[i]) < 0)
				_exit(1);
		}
		_exit(0);
	}
	is_int(pp_rx_recv(&rx, &h, &pl), 0, "a message written in three pieces");
	ok(h.id == 6 && pl[0] == 'f' && pl[49] == 'f', "  is put together");
	waitpid(c, NULL, 0);

	/* too large for the buffer: refused before its payload is read */
	n = put_msg(wire, 201, 'g', 7);
	if (write(sv[1], wire, PP_HDR_SIZE) != PP_HDR_SIZE)
		abort();
	is_int(pp_rx_recv(&rx, &h, &pl), -EMSGSIZE, "a message larger than the buffer is refused");

	/* the peer goes away inside a message, then between messages */
	rx.have = rx.off = 0;
	n = put_msg(wire, 80, 'h', 8);
	if (write(sv[1], wire, PP_HDR_SIZE + 30) < 0)
		abort();
	close(sv[1]);
	is_int(pp_rx_recv(&rx, &h, &pl), -ECONNRESET, "a connection closed inside a message");
	ok(strstr(err_msg(), "inside a message (30 of 80 bytes)") != NULL, "  says where: %s", err_msg());
	rx.have = rx.off = 0;
	is_int(pp_rx_recv(&rx, &h, &pl), -ECONNRESET, "a connection closed between messages");
	ok(strstr(err_msg(), "closed by peer") != NULL, "  says so: %s", err_msg());
	close(sv[0]);
}

static void test_secret_file(void)
{
	char dir[] = "/tmp/skua-pp-XXXXXX", path[64];
	uint8_t a[PP_SECRET_LEN], b[PP_SECRET_LEN];
	struct stat st;

	if (!mkdtemp(dir))
		abort();
	is_int(pp_secret_create(dir, a), 0, "secret created");
	snprintf(path, sizeof(path), "%s/%s", dir, PP_SECRET_FILE);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "secret file is mode 0600");
	is_int(pp_secret_load(dir, b), 0, "secret loads");
	ok(memcmp(a, b, sizeof(a)) == 0, "the same secret comes back");
	truncate(path, 5);
	is_int(pp_secret_load(dir, b), -EBADMSG, "a truncated secret file is refused");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_header();
	test_payloads();
	test_handshake(1);
	test_handshake(0);
	test_garbage_peer();
	test_read_ahead();
	test_secret_file();
	return done_testing();
}
