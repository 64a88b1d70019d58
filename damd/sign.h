/* Signatures of ad-hoc rendition URLs: hex HMAC-SHA256 over
 * "<asset id>?<canonical parameters>". Keys are "kid:secret" pairs; the
 * first signs and every one verifies, so a key is rotated by putting the new
 * one first and dropping the old one once its URLs are gone. */
#ifndef DAM_SIGN_H
#define DAM_SIGN_H

#include <stdbool.h>
#include <stddef.h>

struct hub_err;
struct sign_keys;

/* Parses "kid:secret[,kid:secret…]" (secrets of at least 16 bytes). */
int sign_keys_parse(struct sign_keys **out, const char *spec, struct hub_err *err);
/* spec when set, else the key in <data_dir>/sign.key, generated (32 random
 * bytes, mode 0600) on first use. */
int sign_keys_load(struct sign_keys **out, const char *spec, const char *data_dir,
		   struct hub_err *err);
void sign_keys_free(struct sign_keys *k);
size_t sign_keys_count(const struct sign_keys *k);

/* hex (64 digits and a NUL) of the first key's HMAC over id?canonical. */
void sign_make(const struct sign_keys *k, const char *id, const char *canonical, char hex[65]);
/* True when sig is the signature under any key (compared in constant time). */
bool sign_check(const struct sign_keys *k, const char *id, const char *canonical,
		const char *sig);

#endif
