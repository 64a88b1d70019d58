/* Validation of product documents against a schema snapshot and the
 * products a transaction sees (parents, references, unique values,
 * sibling variants). */
#ifndef PIM_VALIDATE_H
#define PIM_VALIDATE_H

#include <jansson.h>

struct pim_schema;
struct pim_txn;

/* Validation comes in two parts, so that the first can run before the
 * writer's transaction, outside its lock.
 *
 * pim_validate checks doc (borrowed) as the product sku for everything that
 * needs only the schema and returns its normalised form (sku, family,
 * parent, categories, enabled, values with explicit null locale/channel,
 * associations; server fields dropped) as a new reference, or NULL after
 * appending every problem found to problems. */
json_t *pim_validate(const struct pim_schema *s, const char *sku, json_t *doc, json_t *problems);

/* The checks that need the products t sees: the parent (exists, same
 * family, not a variant), product references and association members,
 * unique values, and sibling variants' axes (only when norm, the result of
 * pim_validate, is given). Appends problems; *parent gets the parent's
 * stored document when there is one (a new reference). doc may be any
 * JSON: what pim_validate refuses is skipped here. */
void pim_validate_refs(const struct pim_schema *s, struct pim_txn *t, const char *sku,
		       json_t *doc, json_t *norm, json_t *problems, json_t **parent);

/* Reads a stored product (a new reference) or NULL. */
json_t *pim_product_load(struct pim_txn *t, const char *sku);

/* The product's values with its parent's underneath (a new reference). */
json_t *pim_resolved_values(json_t *doc, json_t *parent);

/* Whether a sku is acceptable: 1 to 200 bytes of UTF-8 without '/',
 * controls or spaces. */
int pim_sku_ok(const char *sku);

#endif
