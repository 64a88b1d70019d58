/* Serves web/ (the browser UI) at / and GET /v1/ui-config, which tells the
 * UI where damd is and what ships in --schemas:
 * {"damd_url":…, "profiles":["shopify",…], "presets":[{"name","description",
 * "width","height"}]}. The table ends with a catch-all, so it must come
 * last among pimd's route tables. */
#ifndef PIM_WEB_H
#define PIM_WEB_H

#include <stddef.h>

#include "http.h"
extern const struct http_route pim_web_routes[];
extern const size_t pim_web_nroutes;

#endif
