/* State shared by pimd's handlers: handed back by http_app(). */
#ifndef PIM_APP_H
#define PIM_APP_H

struct pim_store;
struct pim_catalog;
struct pim_imports;

struct pim_app {
	struct pim_store *store;
	struct pim_catalog *catalog; /* schema snapshot, projection cache, change feed */
	const char *data_dir;
	const char *damd_url;    /* --damd-url: where rendition URLs point */
	const char *schemas_dir; /* --schemas: starter catalog and presets */
	const char *web_dir;     /* --web: the browser UI served at / */
	struct pim_imports *imports; /* import jobs: queue and worker */
	long cache_mb;           /* --projection-cache-mb: bound of the projection cache */
};

#endif
