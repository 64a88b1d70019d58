/* Akeneo structure CSVs (attributes, options, families, family variants,
 * categories, channels, currencies, association types) as schema
 * documents through the sink's schema_doc. */
#ifndef IMP_AKENEO_H
#define IMP_AKENEO_H

#include "imp.h"
#include "map.h"

#include <stdbool.h>
#include <stddef.h>

struct akeneo;

/* True when a header is one of Akeneo's structure files. */
bool akeneo_is_structure(const struct map_cell *cells, size_t n);
int akeneo_new(struct akeneo **out, const struct imp_opts *o, const struct imp_sink *sink);
void akeneo_free(struct akeneo *a);
int akeneo_header(struct akeneo *a, long line, const struct map_cell *cells, size_t n);
int akeneo_row(struct akeneo *a, long line, const struct map_cell *cells, size_t n);
/* Writes what needs the whole file (attribute options). */
int akeneo_finish(struct akeneo *a, long line);

#endif
