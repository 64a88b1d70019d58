/* Bearer tokens and roles. Tokens are kept only as SHA-256 hashes, in
 * tokens.json in the daemon's data directory. */
#ifndef HUB_AUTH_H
#define HUB_AUTH_H

#include <stddef.h>

struct hub_err;
struct auth;

enum auth_role {
	ROLE_NONE = 0,
	ROLE_READER = 1 << 0,
	ROLE_DESIGNER = 1 << 1,
	ROLE_MERCHANDISER = 1 << 2,
	ROLE_ADMIN = 1 << 3,
};

/* Loads dir/tokens.json. The bootstrap admin token is admin_token if given;
 * otherwise, when no admin token exists yet, one is generated and written to
 * dir/admin.token with mode 0600. */
int auth_open(struct auth **out, const char *dir, const char *admin_token,
	      struct hub_err *err);
void auth_close(struct auth *a);

/* Looks a presented token up. Returns its role (ROLE_NONE if unknown) and
 * copies its name into name (namelen bytes). Safe from any thread. */
int auth_check(struct auth *a, const char *token, char *name, size_t namelen);

/* Creates the token called name (letters, digits, '.', '_', '-'; not in
 * use: HUB_ECONFLICT) with role; the new secret is written to token_out
 * (at least 65 bytes). */
int auth_create(struct auth *a, const char *name, int role, char *token_out,
		struct hub_err *err);
int auth_revoke(struct auth *a, const char *name, struct hub_err *err);

/* Role from/to its name ("admin", "merchandiser", "designer", "reader"). */
int auth_role_parse(const char *name);
const char *auth_role_name(int role);

/* Appends [{"name":…,"role":…}] of every token to a caller-owned json_t
 * array (declared void to keep jansson out of this header). */
void auth_list(struct auth *a, void *json_array);

#endif
