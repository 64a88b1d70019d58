/* Akeneo sub-models, kept for imports. Akeneo's family variants have two
 * levels (root model → sub-model → variant products); here variants have
 * one. The akeneo import profile flattens them: a root model is a product,
 * a sub-model is not. It is kept as a record in the `models` database so
 * that products.csv, imported later (another job, maybe pimctl
 * --offline), can put each of its products under the root with the
 * sub-model's values and categories, and so that a sub-model imported
 * again reaches the variants already imported under it.
 *
 * A record is {"code","parent","family","categories","values",
 * "associations"} (parent: the root model's sku; family: the family
 * variant the row named; the rest as a product's). Codes are looked up
 * without regard to ASCII case, as Akeneo does (the icecat demo's products
 * name "Model-tshirt-divided-blue" for "model-tshirt-divided-blue").
 * Keys of the `models` database (pimd/README.md):
 *   folded code            → the record (compact JSON)
 *   folded code NUL sku    → "" for each variant imported under it
 *   NUL sku                → the folded code the variant was last imported under
 */
#ifndef PIM_MODELS_H
#define PIM_MODELS_H

#include <jansson.h>
#include <stdbool.h>

struct hub_err;
struct pim_txn;

/* The longest sub-model code kept. */
#define PIM_MODEL_MAX_CODE 200

/* The record of code (a new reference), or NULL when there is none. */
json_t *pim_model_get(struct pim_txn *t, const char *code);

/* Stores rec (borrowed) under its "code"; HUB_EINVAL for a code that is
 * empty or longer than PIM_MODEL_MAX_CODE. */
int pim_model_put(struct pim_txn *t, const json_t *rec, struct hub_err *err);

/* Notes that variant sku was imported under sub-model code, forgetting the
 * sub-model it was under before, if another. */
int pim_model_link(struct pim_txn *t, const char *code, const char *sku, struct hub_err *err);
/* Forgets the sub-model sku was imported under, if any. */
int pim_model_unlink(struct pim_txn *t, const char *sku, struct hub_err *err);
/* The skus imported under code and still noted there (a new array). */
json_t *pim_model_variants(struct pim_txn *t, const char *code);

/* The record after a sub-model row (a product-shaped document: "sku" is the
 * code, "family" the family variant) over old (NULL: none). patch: the
 * row's values are merged entry by entry (attribute, locale, channel;
 * prices currency by currency) into old's and fields it lacks keep old's,
 * as product rows are merged; otherwise the row replaces old. A new
 * reference; old and row are borrowed. */
json_t *pim_model_merge(const json_t *old, const json_t *row, bool patch);

/* Lays rec's values, categories and associations under the product
 * document doc (modified): doc's own value entries win (a price entry
 * takes rec's currencies it lacks), categories are the union, association
 * types doc lacks are rec's. */
void pim_model_lay_under(json_t *doc, const json_t *rec);

/* The merge patch that carries a sub-model's change from record old to rec
 * into one of its variants (v, the stored document): for the attributes
 * keep names (NULL: all), each value entry rec changed, added or dropped
 * is changed in v where v still holds old's entry or none of its own (an
 * entry the variant set differently is its own and stays); categories rec
 * dropped leave v, those it added join; association types likewise, type
 * by type. NULL when v has nothing to change.
 * A new reference; the rest is borrowed. */
json_t *pim_model_variant_patch(const json_t *old, const json_t *rec, const json_t *v,
				const json_t *keep);

#endif
