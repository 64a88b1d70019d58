/* Signed rendition URLs: canonical HMAC, key rotation, generated keys. */
#include "fmacros.h"
#include "../../damd/sign.h"
#include "err.h"
#include "hash.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

int main(void)
{
	struct sign_keys *a = NULL, *b = NULL, *c = NULL;
	struct hub_err err = {0};
	char sig[65], sig2[65], dir[] = "/tmp/test-sign.XXXXXX", path[256];
	uint8_t want[HASH_SHA256_LEN];
	char want_hex[65];
	struct stat st;
	const char *msg = ID "?fit=cover&h=200&w=300";

	ok(sign_keys_parse(&a, "k2:0123456789abcdef0123456789abcdef,k1:fedcba9876543210fedcba9876543210",
			   &err) == 0 && sign_keys_count(a) == 2, "two keys parsed");
	sign_make(a, ID, "fit=cover&h=200&w=300", sig);
	hash_hmac_sha256("0123456789abcdef0123456789abcdef", 32, msg, strlen(msg), want);
	hash_hex(want, sizeof(want), want_hex);
	ok(!strcmp(sig, want_hex), "sig is hex HMAC-SHA256 of '<id>?<canonical>' with the first key");
	ok(sign_check(a, ID, "fit=cover&h=200&w=300", sig), "the signature verifies");
	ok(!sign_check(a, ID, "fit=cover&h=200&w=301", sig), "other parameters do not");
	ok(!sign_check(a, ID "0", "fit=cover&h=200&w=300", sig), "another id does not");
	ok(!sign_check(a, ID, "fit=cover&h=200&w=300", "abc"), "a short signature does not");
	ok(!sign_check(a, ID, "fit=cover&h=200&w=300", NULL), "no signature does not");

	/* rotation: a URL signed by the old key verifies while it is listed */
	ok(sign_keys_parse(&b, "k1:fedcba9876543210fedcba9876543210", &err) == 0, "old key alone");
	sign_make(b, ID, "w=100", sig2);
	ok(sign_check(a, ID, "w=100", sig2), "the second key verifies too");
	ok(sign_keys_parse(&c, "k3:ffffffffffffffffffffffffffffffff", &err) == 0, "a new key alone");
	ok(!sign_check(c, ID, "w=100", sig2), "a dropped key no longer verifies");
	sign_keys_free(b);
	sign_keys_free(c);
	b = c = NULL;

	ok(sign_keys_parse(&b, "short:abc", &err) == HUB_EINVAL && strstr(err.msg, "short"),
	   "a short secret is refused: %s", err.msg);
	ok(sign_keys_parse(&b, "nocolon", &err) == HUB_EINVAL, "a key without kid is refused");
	ok(sign_keys_parse(&b, "", &err) == HUB_EINVAL, "no key is refused");

	/* generated on first use, private, stable */
	ok(mkdtemp(dir) != NULL, "temp dir");
	ok(sign_keys_load(&b, NULL, dir, &err) == 0, "a key is generated: %s", err.msg);
	snprintf(path, sizeof(path), "%s/sign.key", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "sign.key has mode 0600");
	ok(sign_keys_load(&c, NULL, dir, &err) == 0, "and read back");
	sign_make(b, ID, "w=1", sig);
	ok(sign_check(c, ID, "w=1", sig), "the same key after a restart");
	sign_keys_free(c);
	c = NULL;
	ok(sign_keys_load(&c, "x:0123456789abcdef0123456789abcdef", dir, &err) == 0 &&
		   !sign_check(c, ID, "w=1", sig),
	   "configured keys win over the file");
	unlink(path);
	rmdir(dir);
	sign_keys_free(a);
	sign_keys_free(b);
	sign_keys_free(c);
	return tap_done();
}
