/* SHA-256 and HMAC-SHA256 through OpenSSL's libcrypto. */
#ifndef HUB_HASH_H
#define HUB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SHA256_LEN 32
#define HASH_SHA256_HEX 65 /* 64 hex digits and a NUL */

struct hash_sha256; /* incremental state; opaque */

struct hash_sha256 *hash_sha256_new(void);
void hash_sha256_update(struct hash_sha256 *h, const void *data, size_t len);
/* Writes the digest and frees h. */
void hash_sha256_final(struct hash_sha256 *h, uint8_t out[HASH_SHA256_LEN]);
void hash_sha256_free(struct hash_sha256 *h);

void hash_sha256(const void *data, size_t len, uint8_t out[HASH_SHA256_LEN]);
void hash_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		      uint8_t out[HASH_SHA256_LEN]);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hash_hex(const uint8_t *bytes, size_t len, char *out);

/* Compares in time independent of where the inputs differ. */
int hash_equal(const void *a, const void *b, size_t len);

/* Fills out with len cryptographically random bytes; 0 or HUB_EIO. */
int hash_random(void *out, size_t len);

#define HASH_FNV1A_BASIS 1469598103934665603ull
#define HASH_FNV1A_PRIME 1099511628211ull

/* FNV-1a of a NUL-terminated string: for in-memory tables of the schema's
 * codes, which only administrators name, or of small bounded tables, where
 * colliding inputs cost little. */
static inline uint64_t hash_fnv1a(const char *s)
{
	uint64_t h = HASH_FNV1A_BASIS;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * HASH_FNV1A_PRIME;
	return h;
}

/* The same of len bytes. */
static inline uint64_t hash_fnv1a_n(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = HASH_FNV1A_BASIS;

	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * HASH_FNV1A_PRIME;
	return h;
}

#endif
