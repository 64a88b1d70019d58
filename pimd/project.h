/* Channel projections: one product resolved for one channel and locale,
 * served from the projection cache when it can be. */
#ifndef PIM_PROJECT_H
#define PIM_PROJECT_H

#include <stddef.h>

struct hub_err;
struct pim_app;

/* The serialised projection of sku for channel and locale (NULL or "":
 * the channel's first locale): *data is malloc'd (the caller frees), etag
 * the quoted strong ETag. HUB_ENOTFOUND when the channel, locale or
 * product is unknown or the product is not published there. */
int pim_project(struct pim_app *app, const char *channel, const char *locale, const char *sku,
		char **data, size_t *len, char etag[40], struct hub_err *err);

#endif
