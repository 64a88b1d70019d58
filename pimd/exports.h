/* Catalog exports, streamed: GET /v1/exports/products.csv and .jsonl
 * (?channel=&locale= keep only the values for that channel and locale).
 * The CSV uses the column names the CSV importer reads (Akeneo's
 * attribute-locale-channel-currency form), so that exporting and importing
 * again changes nothing; cells that a spreadsheet would take for a formula
 * (= + - @) are prefixed with ' and the importer takes it off again.
 */
#ifndef PIM_EXPORTS_H
#define PIM_EXPORTS_H

#include <stddef.h>
#include <stdio.h>

#include "http.h"

struct hub_err;
struct pim_app;

extern const struct http_route pim_export_routes[];
extern const size_t pim_export_nroutes;

/* Writes the export to f (pimctl export --offline). format is "csv" or
 * "jsonl"; channel and locale may be NULL. */
int pim_export_file(struct pim_app *app, const char *format, const char *channel,
		    const char *locale, FILE *f, struct hub_err *err);

#endif
