/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104). The kernel here has no
 * AF_ALG and skua's dependencies carry no hash: the page server's
 * challenge-response and the vDSO build digest use this. */
#ifndef SKUA_BASE_SHA256_H
#define SKUA_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total;
	uint8_t buf[64];
	size_t used;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);
void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[SHA256_LEN]);
/* Constant-time comparison: 1 if equal. */
int sha256_equal(const uint8_t a[SHA256_LEN], const uint8_t b[SHA256_LEN]);

#endif
