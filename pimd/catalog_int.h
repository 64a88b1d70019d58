/* What pimd's own modules share about the catalog beyond catalog.h: the
 * catalog state hung off struct pim_app, writes with If-Match, deletes,
 * reverts, schema writes with outcomes, completeness and value lookup. */
#ifndef PIM_CATALOG_INT_H
#define PIM_CATALOG_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"

struct http_waitq;
struct pim_attr;
struct pim_cache;
struct pim_schema;
struct pim_txn;

struct pim_catalog {
	pthread_mutex_t schema_lock; /* guards the schema pointer only */
	struct pim_schema *schema;
	/* one writer at a time: its transaction, the snapshot swap after a
	 * schema write and the change sequence stay in step */
	pthread_mutex_t write_lock;
	struct pim_cache *cache;
	struct http_waitq *changes_q;
	uint64_t last_seq; /* atomic: the newest committed change */
	/* atomic: moves after each commit that changed an asset's usability,
	 * before the writer's lock is released (see pim_prepare) */
	uint64_t assets_gen;
};

/* Opens the catalog over app->store: loads the schema, seeds the starter
 * catalog from app->schemas_dir/starter on first start. */
int pim_catalog_open(struct pim_app *app, struct hub_err *err);
void pim_catalog_close(struct pim_app *app);

/* The current schema snapshot (a reference: pim_schema_unref it). */
struct pim_schema *pim_catalog_schema(struct pim_app *app);
uint64_t pim_catalog_last_seq(struct pim_app *app);

/* Writes with If-Match (the quoted version, "*" or NULL). *stored gets
 * the canonical document after the write (a new reference, may be NULL).
 * HUB_EPRECOND when If-Match does not hold. */
int pim_batch_write(struct pim_batch *b, const char *sku, json_t *doc, enum pim_mode mode,
		    const char *if_match, int *outcome, json_t **stored, json_t **problems,
		    struct hub_err *err);
int pim_batch_merge(struct pim_batch *b, const char *sku, json_t *patch, enum pim_mode mode,
		    const char *if_match, int *outcome, json_t **stored, json_t **problems,
		    struct hub_err *err);
/* Writes the document of an earlier version again, as a new version. */
int pim_batch_revert(struct pim_batch *b, const char *sku, long version, const char *if_match,
		     int *outcome, json_t **stored, json_t **problems, struct hub_err *err);
/* A product's first version (of a new sku, or after a deletion) is stored
 * in history without its changes. Fills them in on the entries of page (as
 * stored, in version order) that lack them: [{"path","old":null,"new"}],
 * rebuilt from the product and the entries after them. */
void pim_history_fill(struct pim_txn *t, const char *sku, json_t *page);
/* The product a path's sku names when that is not the sku as stored: a
 * sku sent with decomposed accents (Unicode NFD, as macOS and some
 * keyboards write it) names the product stored under its NFC form, which
 * looks the same, unless a product was ever stored under the sku as sent
 * (see write_checked). A new string (free it), or NULL: the sku as sent. */
char *pim_sku_resolve(struct pim_txn *t, const char *sku);
/* HUB_ENOTFOUND, HUB_EPRECOND, or HUB_ECONFLICT while it has variants. */
int pim_batch_delete(struct pim_batch *b, const char *sku, const char *if_match,
		     struct hub_err *err);
/* Commit without syncing to disk: for all but the last transaction of a
 * streamed request, which then syncs them all (pim_catalog_sync). */
void pim_batch_lazy(struct pim_batch *b);
int pim_catalog_sync(struct pim_app *app, struct hub_err *err);
/* The batch's transaction and schema, for reads inside it. */
struct pim_txn *pim_batch_txn(struct pim_batch *b);

/* Schema writes: *outcome is PIM_CREATED, PIM_UPDATED or PIM_UNCHANGED. */
int pim_schema_write(struct pim_app *app, int kind, const char *code, json_t *doc,
		     const char *by, int *outcome, json_t **stored, json_t **problems,
		     struct hub_err *err);
int pim_schema_delete(struct pim_app *app, int kind, const char *code, const char *by,
		      struct hub_err *err);

/* One chunk of the queued schema refresh work (see schema_refresh in
 * catalog.c) in its own write transaction, with a schema.refreshed change
 * when a queued scope is done. *worked is false when nothing was queued. */
int pim_catalog_refresh_step(struct pim_app *app, bool *worked, struct hub_err *err);
/* The queued scopes, in the order they are worked off (a new array):
 * [{"scope":"all"|"family"|"category", "code" (not for all), "after": the
 * last sku recomputed; the products after it are still to do}]. */
json_t *pim_catalog_refresh_list(struct pim_app *app);

/* Completeness of resolved values per channel/locale:
 * {"web/en_US":{"ratio":75,"missing":["description"]}, …} (a new ref;
 * NULL when out of memory), as a write stores it. The write path works it
 * out in C and writes those bytes itself (comp_of, comp_write); this tree
 * is what the tests hold the stored bytes against.
 * An asset value fills a required attribute when one of its ids is
 * pim_asset_usable by its record as t sees it; with t NULL every id
 * counts. */
json_t *pim_completeness(const struct pim_schema *s, const char *family, json_t *resolved,
			 struct pim_txn *t);

/* Inside b, after asset id's record changed whether it is usable (deleted,
 * uploaded again, rights expired or extended): recomputes the completeness
 * and indexes of the products that show it (ix_asset), with a
 * product.updated change ("via":"asset", no new version) for each whose
 * completeness changed. */
int pim_batch_asset_changed(struct pim_batch *b, const char *id, struct hub_err *err);

/* The value entry of an attribute for a channel and locale: exact channel
 * before a null one; localizable values need locale. NULL if none. */
json_t *pim_value_pick(const struct pim_attr *a, json_t *entries, const char *channel,
		       const char *locale);

#endif
