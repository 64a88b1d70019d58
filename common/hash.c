#include "hash.h"
#include "err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>

struct hash_sha256 {
	EVP_MD_CTX *ctx;
};

struct hash_sha256 *hash_sha256_new(void)
{
	struct hash_sha256 *h = malloc(sizeof(*h));

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		hash_sha256_free(h);
		return NULL;
	}
	return h;
}

void hash_sha256_update(struct hash_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void hash_sha256_final(struct hash_sha256 *h, uint8_t out[HASH_SHA256_LEN])
{
	unsigned int n = HASH_SHA256_LEN;

	EVP_DigestFinal_ex(h->ctx, out, &n);
	hash_sha256_free(h);
}

void hash_sha256_free(struct hash_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void hash_sha256(const void *data, size_t len, uint8_t out[HASH_SHA256_LEN])
{
	unsigned int n = HASH_SHA256_LEN;

	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void hash_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		      uint8_t out[HASH_SHA256_LEN])
{
	unsigned int n = HASH_SHA256_LEN;

	HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n);
}

void hash_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = 0;
}

int hash_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int hash_random(void *out, size_t len)
{
	return RAND_bytes(out, (int)len) == 1 ? 0 : HUB_EIO;
}
