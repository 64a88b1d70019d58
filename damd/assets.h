/* Asset metadata records and the asset HTTP routes. */
#ifndef DAM_ASSETS_H
#define DAM_ASSETS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct hub_err;
struct http_req;
struct dam_app;
struct cas_writer;

/* The metadata record of asset id ("sha256:<hex>") as a new reference:
 * {"id","size","mime","filenames":[…],"width","height","pages","orientation",
 *  "has_icc","title","alt":{locale:text},"tags":[…],"rights":{"holder",
 *  "licence","expires"},"focal_point":{"x":0..1,"y":0..1},"skus":[…],
 *  "created","updated","deleted":bool}
 * HUB_ENOTFOUND when unknown, HUB_EGONE when deleted. */
int dam_asset_get(struct dam_app *app, const char *id, json_t **meta, struct hub_err *err);

/* True when req may not have the asset's bytes: its rights have expired
 * (the expiry sweep marks the record) and req carries no token, so the
 * public read paths stop publishing it while the team still sees it.
 * The 451 is then queued. */
bool dam_asset_withheld(struct http_req *req, const json_t *meta);

/* Commits w into the store (taking it, also on error), probes the bytes
 * when they are new, and creates the record or adds filename (may be NULL)
 * to the existing one; emits asset.uploaded for a new asset. *answer (the
 * caller's) is the upload answer; *created is 1 for a new asset. */
int dam_asset_ingest(struct dam_app *app, struct cas_writer *w, const char *filename,
		     json_t **answer, int *created, struct hub_err *err);

/* Records many blobs already committed to the store in one transaction
 * (an archive's entries): each item's record is created, revived or gets
 * its filename (may be NULL); answer (the caller's, NULL on error) and
 * created are filled in. */
struct dam_ingest {
	char hex[65];
	uint64_t size;
	const char *filename;
	json_t *answer;
	int created;
};
int dam_asset_record_many(struct dam_app *app, struct dam_ingest *items, size_t n,
			  struct hub_err *err);

/* Applies an RFC 7396 merge patch of the editable fields (title, alt, tags,
 * rights, focal_point, skus) to asset id and emits asset.meta_changed.
 * HUB_EINVALID with *errors (the caller's; entries {"path","code",
 * "message"} with JSON pointers into the patch) when it does not validate;
 * *rec (the caller's, may be NULL) is the updated record. */
int dam_asset_patch(struct dam_app *app, const char *id, const json_t *patch, json_t **rec,
		    json_t **errors, struct hub_err *err);

/* Marks asset id deleted and "missing" (its bytes were lost): fsck's
 * repair. Emits asset.deleted. */
int dam_asset_mark_missing(struct dam_app *app, const char *id, struct hub_err *err);

/* Indexes the words (what GET /v1/assets?q= finds) of records stored by
 * a damd that had no word index; once per store, at start. */
int dam_asset_index_words(struct dam_app *app, struct hub_err *err);

/* The hex digest of an asset id: accepts "sha256:<hex>" or bare hex. */
int dam_asset_hex(const char *id, char hex[65], struct hub_err *err);

extern const struct http_route dam_asset_routes[];
extern const size_t dam_asset_nroutes;

#endif
