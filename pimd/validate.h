/* Validation of product documents against a schema snapshot and the
 * products a transaction sees (parents, references, unique values,
 * sibling variants). */
#ifndef PIM_VALIDATE_H
#define PIM_VALIDATE_H

#include <jansson.h>

struct pim_schema;
struct pim_txn;

/* Checks doc (borrowed) as the product sku and returns its normalised
 * form (sku, family, parent, categories, enabled, values with explicit
 * null locale/channel, associations; server fields dropped) as a new
 * reference, or NULL after appending every problem found to problems.
 * When the product has a parent, *parent gets its stored document (a new
 * reference). t may be NULL: then checks that need stored products are
 * skipped. */
json_t *pim_validate(const struct pim_schema *s, struct pim_txn *t, const char *sku,
		     json_t *doc, json_t *problems, json_t **parent);

/* Reads a stored product (a new reference) or NULL. */
json_t *pim_product_load(struct pim_txn *t, const char *sku);

/* The product's values with its parent's underneath (a new reference). */
json_t *pim_resolved_values(json_t *doc, json_t *parent);

/* Whether a sku is acceptable: 1 to 200 bytes of UTF-8 without '/',
 * controls or spaces. */
int pim_sku_ok(const char *sku);

#endif
