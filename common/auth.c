#include "fmacros.h"
#include "auth.h"
#include "err.h"
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTH_MAX_TOKENS 256

struct auth_token {
	char name[64];
	int role;
	uint8_t hash[HASH_SHA256_LEN];
};

struct auth {
	pthread_rwlock_t lock;
	char *path;
	int n;
	struct auth_token tokens[AUTH_MAX_TOKENS];
};

static const char *const role_names[] = {"reader", "designer", "merchandiser", "admin"};

int auth_role_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (name && !strcmp(name, role_names[i]))
			return 1 << i;
	return ROLE_NONE;
}

const char *auth_role_name(int role)
{
	for (int i = 0; i < 4; i++)
		if (role == 1 << i)
			return role_names[i];
	return "none";
}

static int hex_decode(const char *hex, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = v;
	}
	return hex[2 * len] ? -1 : 0;
}

/* Writes tokens.json atomically (temp file, fsync, rename); caller holds the
 * write lock. */
static int auth_save(struct auth *a, struct hub_err *err)
{
	json_t *arr = json_array();
	char tmp[4096], hex[HASH_SHA256_HEX];
	int rc = 0, fd;
	char *s;

	for (int i = 0; i < a->n; i++) {
		hash_hex(a->tokens[i].hash, HASH_SHA256_LEN, hex);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", a->tokens[i].name,
						     "role", auth_role_name(a->tokens[i].role),
						     "sha256", hex));
	}
	s = json_dumps(arr, JSON_INDENT(1));
	json_decref(arr);
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s) || fsync(fd) < 0 ||
	    rename(tmp, a->path) < 0)
		rc = hub_err_set(err, HUB_EIO, "cannot write '%s': %s", a->path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(s);
	return rc;
}

static struct auth_token *auth_find(struct auth *a, const char *name)
{
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->tokens[i].name, name))
			return &a->tokens[i];
	return NULL;
}

static int auth_put(struct auth *a, const char *name, int role, const char *secret,
		    struct hub_err *err)
{
	struct auth_token *t = auth_find(a, name);

	if (strlen(name) == 0 || strlen(name) >= sizeof(t->name))
		return hub_err_set(err, HUB_EINVALID, "token name must be 1 to 63 bytes");
	if (!t) {
		if (a->n == AUTH_MAX_TOKENS)
			return hub_err_set(err, HUB_ECONFLICT, "at most %d tokens", AUTH_MAX_TOKENS);
		t = &a->tokens[a->n++];
		snprintf(t->name, sizeof(t->name), "%s", name);
	}
	t->role = role;
	hash_sha256(secret, strlen(secret), t->hash);
	return auth_save(a, err);
}

static int auth_load(struct auth *a, struct hub_err *err)
{
	json_error_t je;
	json_t *arr = json_load_file(a->path, 0, &je), *t;
	size_t i;

	if (!arr) {
		if (access(a->path, F_OK) < 0)
			return 0;
		return hub_err_set(err, HUB_EIO, "cannot read '%s': %s", a->path, je.text);
	}
	json_array_foreach(arr, i, t) {
		struct auth_token *tok;
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *hex = json_string_value(json_object_get(t, "sha256"));

		if (!name || !hex || a->n == AUTH_MAX_TOKENS)
			continue;
		tok = &a->tokens[a->n];
		snprintf(tok->name, sizeof(tok->name), "%s", name);
		tok->role = auth_role_parse(json_string_value(json_object_get(t, "role")));
		if (tok->role && hex_decode(hex, tok->hash, HASH_SHA256_LEN) == 0)
			a->n++;
	}
	json_decref(arr);
	return 0;
}

static int write_secret_file(const char *dir, const char *secret, struct hub_err *err)
{
	char path[4096];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/admin.token", dir);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, secret, strlen(secret)) < 0 || write(fd, "\n", 1) < 0)
		rc = hub_err_set(err, HUB_EIO, "cannot write '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static void new_secret(char out[HASH_SHA256_HEX])
{
	uint8_t raw[32];

	hash_random(raw, sizeof(raw));
	hash_hex(raw, sizeof(raw), out);
}

int auth_open(struct auth **out, const char *dir, const char *admin_token,
	      struct hub_err *err)
{
	struct auth *a = calloc(1, sizeof(*a));
	char secret[HASH_SHA256_HEX];
	int rc = 0;

	if (!a)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	pthread_rwlock_init(&a->lock, NULL);
	if (asprintf(&a->path, "%s/tokens.json", dir) < 0) {
		free(a);
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	}
	rc = auth_load(a, err);
	if (rc == 0 && admin_token && *admin_token) {
		rc = auth_put(a, "admin", ROLE_ADMIN, admin_token, err);
	} else if (rc == 0 && !auth_find(a, "admin")) {
		new_secret(secret);
		rc = write_secret_file(dir, secret, err);
		if (rc == 0)
			rc = auth_put(a, "admin", ROLE_ADMIN, secret, err);
	}
	if (rc < 0) {
		auth_close(a);
		return rc;
	}
	*out = a;
	return 0;
}

void auth_close(struct auth *a)
{
	if (!a)
		return;
	pthread_rwlock_destroy(&a->lock);
	free(a->path);
	free(a);
}

int auth_check(struct auth *a, const char *token, char *name, size_t namelen)
{
	uint8_t h[HASH_SHA256_LEN];
	int role = ROLE_NONE;

	if (!token || !*token)
		return ROLE_NONE;
	hash_sha256(token, strlen(token), h);
	pthread_rwlock_rdlock(&a->lock);
	for (int i = 0; i < a->n; i++) {
		if (hash_equal(h, a->tokens[i].hash, HASH_SHA256_LEN)) {
			role = a->tokens[i].role;
			snprintf(name, namelen, "%s", a->tokens[i].name);
			break;
		}
	}
	pthread_rwlock_unlock(&a->lock);
	return role;
}

int auth_create(struct auth *a, const char *name, int role, char *token_out,
		struct hub_err *err)
{
	int rc;

	if (!role)
		return hub_err_set(err, HUB_EINVALID, "unknown role");
	if (!*name || strlen(name) != strspn(name, "abcdefghijklmnopqrstuvwxyz"
						   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"))
		return hub_err_set(err, HUB_EINVALID,
				   "a token name is letters, digits, '.', '_' and '-'");
	new_secret(token_out);
	pthread_rwlock_wrlock(&a->lock);
	/* a second "admin" would lock its holder out: a name in use is
	 * revoked first, on purpose */
	rc = auth_find(a, name) ? hub_err_set(err, HUB_ECONFLICT,
					      "a token named '%.63s' exists; revoke it first", name)
				: auth_put(a, name, role, token_out, err);
	pthread_rwlock_unlock(&a->lock);
	return rc;
}

int auth_revoke(struct auth *a, const char *name, struct hub_err *err)
{
	struct auth_token *t;
	int rc;

	pthread_rwlock_wrlock(&a->lock);
	t = auth_find(a, name);
	if (!t) {
		pthread_rwlock_unlock(&a->lock);
		return hub_err_set(err, HUB_ENOTFOUND, "no token '%s'", name);
	}
	*t = a->tokens[--a->n];
	rc = auth_save(a, err);
	pthread_rwlock_unlock(&a->lock);
	return rc;
}

void auth_list(struct auth *a, void *json_array)
{
	pthread_rwlock_rdlock(&a->lock);
	for (int i = 0; i < a->n; i++)
		json_array_append_new(json_array,
				      json_pack("{s:s,s:s}", "name", a->tokens[i].name, "role",
						auth_role_name(a->tokens[i].role)));
	pthread_rwlock_unlock(&a->lock);
}
