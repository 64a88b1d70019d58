/* What pimd knows about damd's assets: a background thread follows damd's
 * change feed, keeps one record per asset in the `assets` database (size,
 * alt text, filenames, SKUs, rights expiry, deleted) and links assets to
 * products by filename convention and by the SKUs in their metadata.
 * Projections read the records to describe and filter their images.
 */
#ifndef PIM_ASSETS_H
#define PIM_ASSETS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct hub_err;
struct pim_app;
struct pim_txn;

/* Starts following app->damd_url (with app->damd_token for its reads)
 * from the position saved in the store. A damd that is down or refuses
 * the token is retried with backoff; pimd serves regardless. */
int pim_assets_start(struct pim_app *app, struct hub_err *err);
/* Stops the follower (an HTTP request in flight is abandoned) and waits
 * for its thread. Accepts an app whose follower never started. */
void pim_assets_stop(struct pim_app *app);

/* Appends the follower's gauges to a /metrics answer: the damd feed
 * position applied and whether damd answered the last request. */
struct buf;
void pim_assets_metrics(struct buf *out, struct pim_app *app);

/* Fills "width", "height" and "alt" of a projection's image object from
 * the asset's record as t sees it: alt in locale, else in fallback (the
 * channel's first locale), else null. An asset pimd has no record of is
 * left with nulls. crop gets a tag of the asset's focal point ("" when it
 * has none) for its rendition URLs. Returns false when the asset must not
 * be offered (not pim_asset_usable today). */
#define PIM_CROP_TAG 9 /* 8 hex digits and a NUL */
bool pim_asset_describe(struct pim_txn *t, const char *id, const char *locale,
			const char *fallback, json_t *image, char crop[PIM_CROP_TAG]);

/* Today's date in UTC (YYYY-MM-DD), the day rights expiry is judged by. */
void pim_asset_today(char out[16]);

/* Whether the asset id, as t sees its record, may be shown on channels
 * and fill a required attribute on day today (pim_asset_usable). */
bool pim_asset_usable_id(struct pim_txn *t, const char *id, const char *today);

/* ---- pure helpers, exposed for the unit tests ---- */

/* A product a filename may name: sku points into the filename. pos is the
 * image's place (N of a "_N" or "-N" suffix, 1 or more), or 0 when the
 * name gives none. */
struct pim_name_cand {
	const char *sku;
	size_t len;
	long pos;
};

/* The SKUs filename names, most specific first: the stem (the base name
 * without its extension), then the stem cut at its last '_' or '-', again
 * and again. Writes at most max and returns how many were written. */
size_t pim_asset_name_candidates(const char *filename, struct pim_name_cand *out, size_t max);

/* True when expires (YYYY-MM-DD, or NULL: never) is before today
 * (YYYY-MM-DD): rights end after their last day. */
bool pim_asset_expired(const char *expires, const char *today);

/* Whether an asset may be shown on channels and fill a required attribute
 * on day today: rec is pimd's record of it. Not once deleted in damd or
 * its rights expired; an asset pimd has no record of (rec NULL: no damd,
 * or its event not seen yet) is usable, so that pimd without damd counts
 * every image. */
bool pim_asset_usable(json_t *rec, const char *today);

/* pimd's record of an asset (a new reference) from damd's metadata
 * document: width and height upright (EXIF orientations 5 to 8 turn the
 * image on its side), alt, filenames, skus, rights expiry, not deleted.
 * The "linked" member is the caller's. */
json_t *pim_asset_record_of(json_t *meta);

#endif
