// SPDX-License-Identifier: GPL-2.0-or-later
/* SHA-256 and HMAC-SHA-256 against the FIPS 180-4 and RFC 4231 vectors. */
#include <stdio.h>
#include <string.h>

#include "base/sha256.h"
#include "tap.h"

static const char *hex(const uint8_t *d)
{
	static char s[65];
	for (int i = 0; i < 32; i++)
		sprintf(s + 2 * i, "%02x", d[i]);
	return s;
}

int main(void)
{
	uint8_t out[32], key[131];
	char million[1000];

	sha256("", 0, out);
	is_str(hex(out), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty");
	sha256("abc", 3, out);
	is_str(hex(out), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256(two, strlen(two), out);
	is_str(hex(out), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "two blocks");
	struct sha256_ctx c;
	memset(million, 'a', sizeof(million));
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, million, sizeof(million));
	sha256_final(&c, out);
	is_str(hex(out), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "a million a's, in pieces");

	memset(key, 0x0b, 20);
	hmac_sha256(key, 20, "Hi There", 8, out);
	is_str(hex(out), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", "RFC 4231 case 1");
	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
	is_str(hex(out), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "RFC 4231 case 2");
	memset(key, 0xaa, 131);
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	hmac_sha256(key, 131, m6, strlen(m6), out);
	is_str(hex(out), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", "RFC 4231 case 6 (long key)");

	uint8_t a[32] = { 1 }, b[32] = { 1 };
	ok(sha256_equal(a, b), "equal digests compare equal");
	b[31] = 2;
	ok(!sha256_equal(a, b), "a difference in the last byte is seen");
	return done_testing();
}
