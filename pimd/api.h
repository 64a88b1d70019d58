/* pimd's HTTP API for the catalog: schema, products, batch upserts,
 * history, the change feed and the channel read API. */
#ifndef PIM_API_H
#define PIM_API_H

#include <stddef.h>

#include "http.h"

extern const struct http_route pim_api_routes[];
extern const size_t pim_api_nroutes;

struct buf;
/* Appends the catalog's gauges and counters (projection cache, change
 * sequence) to /metrics; app is the struct pim_app. */
void pim_api_metrics(struct buf *out, void *app);

#endif
