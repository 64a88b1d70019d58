/* pimd: canonical product data over HTTP. */
#include "alloc.h"
#include "api.h"
#include "app.h"
#include "assets.h"
#include "catalog_int.h"
#include "config.h"
#include "daemon.h"
#include "err.h"
#include "exports.h"
#include "feed.h"
#include "http.h"
#include "imports.h"
#include "log.h"
#include "project.h"
#include "refresh.h"
#include "store.h"
#include "web.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Each module's route table, in matching order; the UI's catch-all last. */
static const struct route_table route_tables[] = {
	{pim_api_routes, &pim_api_nroutes},
	{pim_import_routes, &pim_import_nroutes},
	{pim_export_routes, &pim_export_nroutes},
	{pim_feed_routes, &pim_feed_nroutes},
	{pim_web_routes, &pim_web_nroutes},
};

/* /metrics: the API's counters, then the damd follower's. */
static void metrics(struct buf *out, void *app)
{
	pim_api_metrics(out, app);
	pim_assets_metrics(out, app);
	pim_refresher_metrics(out, app);
}

static const struct config_flag pimd_flags[] = {
	{"--damd-url", true, "damd to follow (default http://127.0.0.1:8081)"},
	{"--damd-token", true, "the token pimd reads damd's change feed with"},
	{"--schemas", true, "the schemas directory (default schemas)"},
	{"--web", true, "the UI's directory (default web)"},
	{"--projection-cache-mb", true, "the projection cache's size (default 64)"},
	{"--refresh-chunk", true, "products a schema write refreshes at once (default 4096)"},
	{"--import-lanes", true, "threads that map and check the rows of a CSV or JSON lines import (default 0: one a CPU, at most 4)"},
	{"--no-starter", false, "a new data directory starts without the starter catalog"},
	{"--map-size", true, "the most the store may grow to (default 64G; K, M, G, T)"},
	{NULL, false, NULL},
};

int main(int argc, char **argv)
{
	static const struct config_flag *const flags[] = {daemon_flags, pimd_flags, NULL};
	struct daemon_opts o;
	struct pim_app app = {0};
	struct hub_err err = {0};
	unsigned long long map_size;
	int rc;

	hub_alloc_tune();
	rc = config_check(argc, argv, "pimd [flags]", flags, stdout, stderr);
	if (rc >= 0)
		return rc;
	http_signals_block();
	daemon_opts_parse(&o, argc, argv, "pimd", "PIMD", "127.0.0.1:8080", "var/pim");
	/* batch requests parse, check and write their lines on these */
	o.work_threads = HTTP_PER_CORE;
	app.data_dir = o.data;
	app.damd_url = config_str(argc, argv, "--damd-url", "PIMD_DAMD_URL", "http://127.0.0.1:8081");
	app.damd_token = config_str(argc, argv, "--damd-token", "PIMD_DAMD_TOKEN", NULL);
	app.schemas_dir = config_str(argc, argv, "--schemas", "PIMD_SCHEMAS", "schemas");
	app.web_dir = config_str(argc, argv, "--web", "PIMD_WEB", "web");
	app.cache_mb = config_range(argc, argv, "--projection-cache-mb", "PIMD_PROJECTION_CACHE_MB",
				    64, 1, 1 << 20);
	app.refresh_chunk = config_range(argc, argv, "--refresh-chunk", "PIMD_REFRESH_CHUNK", 4096, 1,
					 LONG_MAX);
	app.import_lanes = config_range(argc, argv, "--import-lanes", "PIMD_IMPORT_LANES", 0, 0, 8);
	app.no_starter = config_bool(argc, argv, "--no-starter", "PIMD_NO_STARTER");
	map_size = config_size(argc, argv, "--map-size", "PIMD_MAP_SIZE", 0);
	app.presets = pim_presets_load(app.schemas_dir);
	if (daemon_mkdirs(o.data, &err) < 0 || pim_store_open(&app.store, o.data, map_size, &err) < 0 ||
	    pim_catalog_open(&app, &err) < 0 || pim_refresher_start(&app, &err) < 0 ||
	    pim_imports_open(&app, &err) < 0 ||
	    pim_assets_start(&app, &err) < 0) {
		hub_log(LOG_ERROR, "pimd start error=\"%s\"", err.msg);
		return 1;
	}
	rc = daemon_serve(&o, route_tables, sizeof(route_tables) / sizeof(route_tables[0]), &app,
			  metrics, NULL);
	pim_assets_stop(&app);
	pim_imports_close(&app);
	pim_refresher_stop(&app);
	pim_catalog_close(&app);
	pim_store_close(app.store);
	json_decref(app.presets);
	return rc;
}
