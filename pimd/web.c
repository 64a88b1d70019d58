#include "web.h"
#include "app.h"
#include "http.h"

static int handle_web(struct http_req *req)
{
	struct pim_app *app = http_app(req);

	return http_reply_file(req, app->web_dir, http_param(req, "path"));
}

/* The UI is a static single page; last in the table so API routes win. */
const struct http_route pim_web_routes[] = {
	{"GET", "/{path*}", handle_web, HTTP_PUBLIC, NULL, 0},
};
const size_t pim_web_nroutes = sizeof(pim_web_routes) / sizeof(pim_web_routes[0]);
