/* Rows of cells to canonical product documents: column names in Akeneo's
 * form (attribute-locale-channel, price-EUR, weight-unit) or renamed by an
 * import profile, value transforms, and the grouping of variant rows under
 * a parent (Shopify handles, Merchant item groups, Magento configurables).
 */
#ifndef IMP_MAP_H
#define IMP_MAP_H

#include "imp.h"

#include <stddef.h>

struct hub_err;
struct map;

/* One cell of a row read by name (XML items). */
struct map_cell {
	const char *name;
	const char *s; /* NUL-terminated */
	size_t len;
};

/* o and sink are borrowed for the mapper's life. */
int map_new(struct map **out, const struct imp_opts *o, const struct imp_sink *sink,
	    struct hub_err *err);
void map_free(struct map *m);

/* Tabular input: the header row once (unknown columns are noted once), then
 * each row's cells in header order. */
int map_header(struct map *m, long line, const struct map_cell *c, size_t n, struct hub_err *err);
int map_row(struct map *m, long line, const struct map_cell *c, size_t n, struct hub_err *err);
/* Input whose cells carry their own names and vary from row to row. */
int map_named(struct map *m, long line, const struct map_cell *c, size_t n, struct hub_err *err);
/* Ends the input: a buffered group of variant rows is written. */
int map_finish(struct map *m, struct hub_err *err);

/* Writes doc (a new reference is taken by the caller's sink only for the
 * call) after the mapper has filled in defaults. Used by the XML readers
 * that build documents themselves. */
int map_emit(struct map *m, json_t *doc, enum imp_op op, long line, struct hub_err *err);

/* Adds a value to doc["values"] for attribute code from text, converting by
 * the attribute's type; locale and channel NULL for none (a localizable
 * attribute gets the default locale, a scopable one every channel). sub is
 * a currency or unit. Appends {"field","code","message"} to errors on a
 * bad value. Returns false when the attribute is unknown. */
bool map_value(struct map *m, json_t *doc, const char *code, const char *locale,
	       const char *channel, const char *sub, const char *s, size_t len, const char *field,
	       json_t *errors);

/* Magento profiles read the file three times: 1 collects which simple
 * products are variants of which configurable, 2 writes the others, 3 the
 * variants (their parents exist by then). */
int map_set_phase(struct map *m, int phase);
/* True when the profile needs those three passes. */
bool map_multipass(const struct map *m);

/* The sink m hands its rows to. */
const struct imp_sink *map_sink(const struct map *m);

/* True when each row makes its document alone: no variant rows are
 * grouped and no row is an Akeneo sub-model (see lanes.h). */
bool map_rows_independent(const struct map *m);

/* The schema's default locale (the profile's, or the first one). */
const char *map_locale(const struct map *m);

#endif
