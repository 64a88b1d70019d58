/* A pimd catalog on a temporary store with the starter schema, for the
 * unit tests that write through it: no HTTP, no threads of its own. */
#ifndef PIM_TESTAPP_H
#define PIM_TESTAPP_H

#include "../../pimd/app.h"
#include "../../pimd/catalog_int.h"
#include "../../pimd/store.h"

#include <string.h>

static inline int test_app_open(struct pim_app *app, const char *dir, size_t refresh_chunk,
				struct hub_err *err)
{
	memset(app, 0, sizeof(*app));
	app->data_dir = dir;
	app->schemas_dir = "schemas";
	app->cache_mb = 1;
	app->refresh_chunk = refresh_chunk;
	if (pim_store_open(&app->store, dir, 0, err) < 0)
		return -1;
	return pim_catalog_open(app, err);
}

static inline void test_app_close(struct pim_app *app)
{
	pim_catalog_close(app);
	pim_store_close(app->store);
}

#endif
