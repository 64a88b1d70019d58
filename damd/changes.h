/* The asset change feed: every upload, metadata change, rights expiry and
 * delete gets the next global sequence number in the "changes" database,
 * written in the same transaction as the change itself. */
#ifndef DAM_CHANGES_H
#define DAM_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct dam_app;
struct dam_txn;
struct hub_err;

/* Loads app->feed_id, made once when the store is: random hex that
 * /v1/changes answers with, so that a follower notices a store that was
 * replaced (restored, recreated) and whose sequence started over. */
int dam_changes_init(struct dam_app *app, struct hub_err *err);

/* Appends {"seq","type","id","at"} inside t. type is "asset.uploaded",
 * "asset.meta_changed", "asset.rights_expired" or "asset.deleted". Waiters
 * are not woken until dam_changes_notify() after the commit. */
int dam_changes_append(struct dam_txn *t, const char *type, const char *id,
		       struct hub_err *err);
/* Wakes long-polls on /v1/changes; call after committing appends. */
void dam_changes_notify(struct dam_app *app);

/* The current time as "2026-11-23T10:00:00Z" into out (at least 21 bytes). */
void dam_now_iso(char *out, size_t len);

extern const struct http_route dam_changes_routes[];
extern const size_t dam_changes_nroutes;

#endif
