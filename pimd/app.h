/* State shared by pimd's handlers: handed back by http_app(). */
#ifndef PIM_APP_H
#define PIM_APP_H

#include <stdbool.h>

struct pim_store;
struct pim_catalog;
struct pim_imports;
struct pim_assets;
struct pim_refresher;
struct json_t;

struct pim_app {
	struct pim_store *store;
	struct pim_catalog *catalog; /* schema snapshot, projection cache, change feed */
	const char *data_dir;
	const char *damd_url;    /* --damd-url: where rendition URLs point, whose feed pimd follows */
	const char *damd_token;  /* --damd-token: bearer token for damd's feed and metadata */
	const char *schemas_dir; /* --schemas: starter catalog and presets */
	struct json_t *presets;  /* pim_presets_load of schemas_dir, or NULL */
	const char *web_dir;     /* --web: the browser UI served at / */
	struct pim_imports *imports; /* import jobs: queue and worker */
	struct pim_assets *assets;   /* the damd follower, NULL when not running */
	struct pim_refresher *refresher; /* schema refreshes in the background, or NULL */
	long cache_mb;           /* --projection-cache-mb: bound of the projection cache */
	long refresh_chunk;      /* --refresh-chunk: products a schema refresh does per transaction */
	long import_lanes;       /* --import-lanes: threads that map an import's rows (0: one a CPU) */
	bool no_starter;         /* --no-starter: a new store starts with no schema but sku */
};

#endif
