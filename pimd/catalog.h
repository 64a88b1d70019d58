/* The product and schema operations that modules other than pimd's own
 * handlers use: import jobs, exports, channel feeds and pimctl --offline.
 * Every write goes through the same validation as the HTTP API.
 */
#ifndef PIM_CATALOG_H
#define PIM_CATALOG_H

#include <jansson.h>
#include <stdbool.h>

struct hub_err;
struct pim_app;
struct pim_batch;

enum pim_mode { PIM_MODE_UPSERT, PIM_MODE_CREATE, PIM_MODE_UPDATE };
enum pim_outcome { PIM_CREATED = 1, PIM_UPDATED, PIM_UNCHANGED };

/* Starts a batch of writes in one LMDB write transaction, recorded in
 * history as made by token name `by`. With dry_run every document is
 * validated and nothing is written. */
int pim_batch_begin(struct pim_app *app, const char *by, bool dry_run, struct pim_batch **out,
		    struct hub_err *err);

/* Validates and writes one canonical product document (as PUT takes it;
 * "sku" required; borrowed). Sets *outcome. A document that fails
 * validation returns HUB_EINVALID and sets *problems to a new array of
 * {"path","code","message"} (JSON pointers; the caller decrefs); create of
 * an existing sku is HUB_ECONFLICT, update of a missing one HUB_ENOTFOUND.
 * A failed document changes nothing and the batch stays usable. */
int pim_batch_put(struct pim_batch *b, json_t *doc, enum pim_mode mode, int *outcome,
		  json_t **problems, struct hub_err *err);

/* A product document checked, before pim_batch_begin, for everything
 * that needs only the schema. pim_prepare may run on any thread without the
 * writer's lock, so that documents are checked while another thread
 * writes; pim_batch_put_prepared then does the rest and behaves as
 * pim_batch_put on the same document (borrowed by the prep). */
struct pim_prep;
struct pim_prep *pim_prepare(struct pim_app *app, json_t *doc);
int pim_batch_put_prepared(struct pim_batch *b, struct pim_prep *p, enum pim_mode mode,
			   int *outcome, json_t **problems, struct hub_err *err);
void pim_prep_free(struct pim_prep *p);

/* The same with an RFC 7396 merge patch applied to the stored product (for
 * update feeds that carry only some fields, e.g. prices). */
int pim_batch_patch(struct pim_batch *b, const char *sku, json_t *patch, enum pim_mode mode,
		    int *outcome, json_t **problems, struct hub_err *err);

/* Whether patch merged into a product that does not exist is patch
 * itself, so that it may be prepared as a document (pim_prepare). */
bool pim_patch_is_document(json_t *patch, const char *sku);

/* Commits (or, for a dry run, discards) the batch and frees it. */
int pim_batch_commit(struct pim_batch *b, struct hub_err *err);
void pim_batch_abort(struct pim_batch *b);

/* Schema documents. kind is one of "locales", "currencies", "channels",
 * "attributes", "families", "categories", "association-types". put
 * validates like PUT /v1/{kind}/{code} (HUB_EINVALID with *problems). */
int pim_schema_put(struct pim_app *app, const char *kind, json_t *doc, const char *by,
		   json_t **problems, struct hub_err *err);
/* A new reference to one document, or NULL when there is none. */
json_t *pim_schema_get(struct pim_app *app, const char *kind, const char *code);
/* A new array of every document of a kind. */
json_t *pim_schema_list(struct pim_app *app, const char *kind);

/* Calls fn for each product (the canonical document with version,
 * completeness…, borrowed for the call) in sku order, starting after `after`
 * (NULL: from the first), until fn returns non-zero. */
typedef int (*pim_product_fn)(void *cls, json_t *product);
int pim_products_foreach(struct pim_app *app, const char *after, pim_product_fn fn, void *cls,
			 struct hub_err *err);

/* The channel projection of one product for channel and locale (a new
 * reference), exactly as GET /v1/channels/{channel}/products/{sku} returns
 * it; HUB_ENOTFOUND when it is not published there. */
int pim_projection(struct pim_app *app, const char *channel, const char *locale,
		   const char *sku, json_t **out, struct hub_err *err);

#endif
