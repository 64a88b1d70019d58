/* Asset metadata records and the asset HTTP routes. */
#ifndef DAM_ASSETS_H
#define DAM_ASSETS_H

#include <jansson.h>
#include <stddef.h>

#include "http.h"

struct hub_err;
struct dam_app;

/* The metadata record of asset id ("sha256:<hex>") as a new reference:
 * {"id","size","mime","filenames":[…],"width","height","pages","orientation",
 *  "has_icc","title","alt":{locale:text},"tags":[…],"rights":{"holder",
 *  "licence","expires"},"focal_point":{"x":0..1,"y":0..1},"skus":[…],
 *  "created","updated","deleted":bool}
 * HUB_ENOTFOUND when unknown, HUB_EGONE when deleted. */
int dam_asset_get(struct dam_app *app, const char *id, json_t **meta, struct hub_err *err);

extern const struct http_route dam_asset_routes[];
extern const size_t dam_asset_nroutes;

#endif
