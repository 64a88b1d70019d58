/* A schema change's refresh of the products it affects: the first chunk in
 * the change's transaction, the rest queued in the store, still queued after
 * a restart and worked off chunk by chunk, with a schema.refreshed change at
 * the end. Without a refresher thread, as pimctl --offline runs. */
#include "../../pimd/refresh.h"
#include "../../pimd/schema.h"
#include "err.h"
#include "pim_testapp.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCTS 5

/* Counts the products whose web/en_US completeness misses brand. */
static int count_missing_brand(void *cls, json_t *product)
{
	json_t *missing = json_object_get(
		json_object_get(json_object_get(product, "completeness"), "web/en_US"), "missing");
	size_t i;
	json_t *m;

	json_array_foreach(missing, i, m)
		if (!strcmp(json_string_value(m), "brand"))
			(*(int *)cls)++;
	return 0;
}

static int missing_brand(struct pim_app *app)
{
	struct hub_err err = {0};
	int n = 0;

	if (pim_products_foreach(app, NULL, count_missing_brand, &n, &err) < 0)
		return -1;
	return n;
}

/* The type of the newest change. */
static char *last_change(struct pim_app *app)
{
	struct pim_txn *t;
	struct pim_iter *it;
	const void *k, *v;
	size_t kl, vl;
	char *type = NULL;

	if (pim_txn_begin(app->store, false, &t, NULL) < 0)
		return NULL;
	if (pim_iter_open(t, PDB_CHANGES, &it, NULL) == 0) {
		if (pim_iter_last(it, &k, &kl, &v, &vl) == 0) {
			json_t *c = json_loadb(v, vl, 0, NULL);
			const char *ty = json_string_value(json_object_get(c, "type"));

			type = strdup(ty ? ty : "");
			json_decref(c);
		}
		pim_iter_close(it);
	}
	pim_txn_abort(t);
	return type;
}

static int put_products(struct pim_app *app, struct hub_err *err)
{
	struct pim_batch *b;
	int outcome, rc = pim_batch_begin(app, "test", false, &b, err);

	for (int i = 0; rc == 0 && i < PRODUCTS; i++) {
		char doc[512];
		json_t *d, *problems = NULL;

		snprintf(doc, sizeof(doc),
			 "{\"sku\":\"RF-%d\",\"family\":\"default\",\"values\":{"
			 "\"name\":[{\"locale\":\"en_US\",\"channel\":null,\"data\":\"Mug %d\"}],"
			 "\"price\":[{\"locale\":null,\"channel\":null,\"data\":"
			 "[{\"amount\":\"9.50\",\"currency\":\"EUR\"}]}]}}",
			 i, i);
		d = json_loads(doc, 0, NULL);
		rc = pim_batch_put(b, d, PIM_MODE_UPSERT, &outcome, &problems, err);
		json_decref(d);
		json_decref(problems);
	}
	if (rc < 0) {
		pim_batch_abort(b);
		return rc;
	}
	return pim_batch_commit(b, err);
}

/* Adds brand to the default family's web requirements. */
static int require_brand(struct pim_app *app, struct hub_err *err)
{
	json_t *cur = pim_schema_get(app, "families", "default"), *problems = NULL;
	json_t *fam = json_deep_copy(cur); /* cur is the snapshot's own */
	int outcome, rc;

	json_decref(cur);

	json_array_append_new(json_object_get(json_object_get(fam, "requirements"), "web"),
			      json_string("brand"));
	rc = pim_schema_write(app, PK_FAMILIES, "default", fam, "test", &outcome, NULL, &problems,
			      err);
	json_decref(problems);
	json_decref(fam);
	return rc;
}

static size_t queued(struct pim_app *app)
{
	json_t *list = pim_catalog_refresh_list(app);
	size_t n = json_array_size(list);

	json_decref(list);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/pim-refresh-XXXXXX";
	struct pim_app app;
	struct hub_err err = {0};
	bool worked = false;
	char *type, cmd[64];
	json_t *list, *want;
	int steps = 0;

	if (!mkdtemp(dir) || test_app_open(&app, dir, 2, &err) < 0) {
		ok(0, "open a store with the starter schema: %s", err.msg);
		return tap_done();
	}
	ok(put_products(&app, &err) == 0, "put %d products: %s", PRODUCTS, err.msg);
	ok(missing_brand(&app) == 0, "brand is not required yet");
	ok(queued(&app) == 0, "nothing queued");

	ok(require_brand(&app, &err) == 0, "require brand on web: %s", err.msg);
	ok(missing_brand(&app) == 2, "the change's own transaction refreshed one chunk (2)");
	ok(queued(&app) == 1, "the rest is queued");
	list = pim_catalog_refresh_list(&app);
	want = json_pack("{s:s,s:s,s:s}", "scope", "family", "code", "default", "after", "RF-1");
	ok(json_equal(json_array_get(list, 0), want),
	   "it names the family and the last product done");
	json_decref(want);
	json_decref(list);
	type = last_change(&app);
	ok(type && !strcmp(type, "schema.updated"), "the change is recorded");
	free(type);

	test_app_close(&app);
	if (test_app_open(&app, dir, 2, &err) < 0) {
		ok(0, "reopen: %s", err.msg);
		return tap_done();
	}
	ok(queued(&app) == 1, "still queued after a restart");
	ok(pim_catalog_refresh_step(&app, &worked, &err) == 0 && worked, "a step works");
	ok(missing_brand(&app) == 4, "a step refreshes one chunk (2 more)");
	while (worked && steps++ < 10 && pim_catalog_refresh_step(&app, &worked, &err) == 0)
		;
	ok(!worked && steps < 10, "the queue runs dry");
	ok(missing_brand(&app) == PRODUCTS, "every product of the family is refreshed");
	ok(queued(&app) == 0, "nothing queued any more");
	type = last_change(&app);
	ok(type && !strcmp(type, "schema.refreshed"), "a schema.refreshed change ends it");
	free(type);
	ok(pim_refresher_drain(&app, &err) == 0 && missing_brand(&app) == PRODUCTS,
	   "draining an empty queue changes nothing");
	test_app_close(&app);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
