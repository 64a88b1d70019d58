/* Serves web/ (the browser UI) at /. */
#ifndef PIM_WEB_H
#define PIM_WEB_H

#include <stddef.h>

#include "http.h"
extern const struct http_route pim_web_routes[];
extern const size_t pim_web_nroutes;

#endif
