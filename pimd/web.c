#include "web.h"
#include "app.h"
#include "http.h"

#include <jansson.h>

static int handle_web(struct http_req *req)
{
	struct pim_app *app = http_app(req);

	return http_reply_file(req, app->web_dir, http_param(req, "path"));
}

/* Where the UI finds damd: the browser cannot guess the asset store's
 * origin, and pimd already knows it from --damd-url. */
static int handle_ui_config(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	json_t *j = json_pack("{s:s}", "damd_url", app->damd_url ? app->damd_url : "");
	int rc;

	if (!j)
		return http_reply_problem(req, 500, "out of memory", NULL);
	rc = http_reply_json(req, 200, j);
	json_decref(j);
	return rc;
}

/* The UI is a static single page; last in the table so API routes win. */
const struct http_route pim_web_routes[] = {
	{"GET", "/v1/ui-config", handle_ui_config, HTTP_PUBLIC, NULL, 0},
	{"GET", "/{path*}", handle_web, HTTP_PUBLIC, NULL, 0},
};
const size_t pim_web_nroutes = sizeof(pim_web_routes) / sizeof(pim_web_routes[0]);
