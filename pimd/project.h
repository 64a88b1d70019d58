/* Channel projections: one product resolved for one channel and locale,
 * served from the projection cache when it can be. */
#ifndef PIM_PROJECT_H
#define PIM_PROJECT_H

#include <stddef.h>

struct hub_err;
struct http_shared;
struct pim_app;

/* Projections may be stored by HTTP caches but revalidated on every use. */
#define PIM_PROJECTION_CACHE_CONTROL "public, no-cache"

/* The projection of sku for channel and locale (NULL or "": the channel's
 * first locale) as the 200 reply to its GET, with ETag and Cache-Control:
 * *out is a reference (the caller unrefs it; http_shared_body gives the
 * JSON), etag the quoted strong ETag. HUB_ENOTFOUND when the channel,
 * locale or product is unknown or the product is not published there. */
/* The rendition presets of schemas_dir/renditions.json, read once at
 * start, in the file's order: an object of preset name to
 * {"description","width","height","tag"}, tag being json_tag of the
 * preset's parameters (JSON_PRESET_TAG_DIGITS). damd serves renditions as
 * immutable, so an edited preset must give them new URLs. An empty object
 * when the file cannot be read (URLs then carry no preset tag); NULL only
 * when out of memory. */
struct json_t *pim_presets_load(const char *schemas_dir);

int pim_project(struct pim_app *app, const char *channel, const char *locale, const char *sku,
		struct http_shared **out, char etag[40], struct hub_err *err);

#endif
