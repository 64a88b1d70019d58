#include "web.h"
#include "app.h"
#include "http.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int handle_web(struct http_req *req)
{
	struct pim_app *app = http_app(req);

	return http_reply_file(req, app->web_dir, http_param(req, "path"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the import profiles (dir/profiles/NAME.json), sorted; an empty
 * array when there are none. */
static json_t *profile_names(const char *schemas_dir)
{
	char path[4096], *names[256];
	json_t *out = json_array();
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/profiles", schemas_dir);
	d = opendir(path);
	while (d && n < sizeof(names) / sizeof(names[0]) && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 5 && e->d_name[0] != '.' && !strcmp(e->d_name + len - 5, ".json"))
			names[n++] = strndup(e->d_name, len - 5);
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (names[i])
			json_array_append_new(out, json_string(names[i]));
		free(names[i]);
	}
	return out;
}

/* The rendition presets pimd read at start (pim_presets_load) as
 * [{"name","description","width","height","tag"}], in the file's order. */
static json_t *preset_list(json_t *presets)
{
	json_t *out = json_array(), *p;
	const char *name;

	json_object_foreach(presets, name, p) {
		json_t *item = json_copy(p);

		json_object_set_new(item, "name", json_string(name));
		json_array_append_new(out, item);
	}
	return out;
}

/* What the browser cannot find out by itself: damd's origin (from
 * --damd-url), the import profiles and the rendition presets that ship in
 * --schemas. */
static int handle_ui_config(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	const char *schemas = app->schemas_dir ? app->schemas_dir : "schemas";
	json_t *j = json_pack("{s:s,s:o,s:o}", "damd_url", app->damd_url ? app->damd_url : "",
			      "profiles", profile_names(schemas), "presets", preset_list(app->presets));
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
