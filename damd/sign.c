/* HMAC-SHA256 signatures of ad-hoc rendition URLs, see sign.h. */
#include "fmacros.h"
#include "sign.h"
#include "err.h"
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_KEYS 8
#define MIN_SECRET 16
#define MAX_SECRET 256

struct sign_key {
	char kid[32];
	unsigned char secret[MAX_SECRET];
	size_t len;
};

struct sign_keys {
	size_t n;
	struct sign_key k[MAX_KEYS];
};

int sign_keys_parse(struct sign_keys **out, const char *spec, struct hub_err *err)
{
	struct sign_keys *ks = calloc(1, sizeof(*ks));
	const char *p = spec;

	*out = NULL;
	if (!ks)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	while (*p) {
		const char *end = strchr(p, ','), *colon;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct sign_key *k;

		colon = memchr(p, ':', len);
		if (!colon || colon == p || (size_t)(colon - p) >= sizeof(ks->k[0].kid)) {
			size_t which = ks->n + 1;

			free(ks);
			return hub_err_set(err, HUB_EINVAL, "signing key %zu is not 'kid:secret'",
					   which);
		}
		if (ks->n == MAX_KEYS) {
			free(ks);
			return hub_err_set(err, HUB_EINVAL, "more than %d signing keys", MAX_KEYS);
		}
		k = &ks->k[ks->n];
		memcpy(k->kid, p, colon - p);
		k->len = len - (size_t)(colon - p) - 1;
		if (k->len < MIN_SECRET || k->len > MAX_SECRET) {
			hub_err_set(err, HUB_EINVAL,
				    "signing key '%s' must have a secret of %d to %d bytes", k->kid,
				    MIN_SECRET, MAX_SECRET);
			free(ks);
			return HUB_EINVAL;
		}
		memcpy(k->secret, colon + 1, k->len);
		ks->n++;
		p = end ? end + 1 : p + len;
	}
	if (!ks->n) {
		free(ks);
		return hub_err_set(err, HUB_EINVAL, "no signing key");
	}
	*out = ks;
	return 0;
}

int sign_keys_load(struct sign_keys **out, const char *spec, const char *data_dir,
		   struct hub_err *err)
{
	char path[4096], line[512];
	unsigned char rnd[32];
	ssize_t n;
	int fd;

	if (spec && *spec)
		return sign_keys_parse(out, spec, err);
	snprintf(path, sizeof(path), "%s/sign.key", data_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		char hex[65];
		int len;

		if (hash_random(rnd, sizeof(rnd)) < 0)
			return hub_err_set(err, HUB_EIO, "no random bytes for a signing key");
		hash_hex(rnd, sizeof(rnd), hex);
		len = snprintf(line, sizeof(line), "k1:%s\n", hex);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (write(fd, line, len) != len || fsync(fd) < 0) {
				close(fd);
				unlink(path);
				return hub_err_set(err, HUB_EIO, "cannot write '%s'", path);
			}
			close(fd);
		} else if (errno != EEXIST) {
			return hub_err_set(err, HUB_EIO, "cannot create '%s': %s", path,
					   strerror(errno));
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return hub_err_set(err, HUB_EIO, "cannot open '%s': %s", path, strerror(errno));
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return hub_err_set(err, HUB_EIO, "cannot read '%s'", path);
	line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	return sign_keys_parse(out, line, err);
}

void sign_keys_free(struct sign_keys *k)
{
	if (k)
		explicit_bzero(k, sizeof(*k));
	free(k);
}

size_t sign_keys_count(const struct sign_keys *k) { return k ? k->n : 0; }

static void mac(const struct sign_key *k, const char *id, const char *canonical,
		uint8_t out[HASH_SHA256_LEN])
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "%s?%s", id, canonical);

	if (n < 0 || (size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1; /* ids and parameters are far shorter */
	hash_hmac_sha256(k->secret, k->len, msg, (size_t)n, out);
}

void sign_make(const struct sign_keys *k, const char *id, const char *canonical, char hex[65])
{
	uint8_t d[HASH_SHA256_LEN];

	mac(&k->k[0], id, canonical, d);
	hash_hex(d, sizeof(d), hex);
}

bool sign_check(const struct sign_keys *k, const char *id, const char *canonical,
		const char *sig)
{
	uint8_t d[HASH_SHA256_LEN];
	char hex[65];
	bool good = false;

	if (!sig || strlen(sig) != 64)
		return false;
	for (size_t i = 0; i < k->n; i++) {
		mac(&k->k[i], id, canonical, d);
		hash_hex(d, sizeof(d), hex);
		good |= hash_equal(hex, sig, 64) != 0;
	}
	return good;
}
