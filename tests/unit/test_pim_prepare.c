/* pim_prepare works a product out outside the writer's lock, so that a
 * batch request checks its documents while another request writes. What
 * it worked out must not be written when the store moved under it: here
 * an asset the product shows is deleted between the prepare and the write,
 * and the product must be written as missing its images, not as complete. */
#include "../../pimd/catalog.h"
#include "../../pimd/validate.h"
#include "err.h"
#include "pim_testapp.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSET "sha256:00000000000000000000000000000000000000000000000000000000000000aa"

static json_t *product(const char *sku)
{
	json_t *doc = json_pack(
		"{s:s,s:s,s:{s:[{s:s,s:n,s:s}],s:[{s:n,s:n,s:[{s:s,s:s}]}],s:[{s:n,s:n,s:[s]}]}}",
		"sku", sku, "family", "apparel", "values", "name", "locale", "en_US", "channel",
		"data", "Linen shirt", "price", "locale", "channel", "data", "amount", "49.00",
		"currency", "EUR", "images", "locale", "channel", "data", ASSET);

	return doc;
}

/* damd's delete of ASSET, as the follower records it: its own transaction,
 * after which assets_gen has moved. */
static int delete_asset(struct pim_app *app, struct hub_err *err)
{
	static const char rec[] = "{\"width\":800,\"height\":600,\"alt\":{},\"filenames\":[],"
				  "\"skus\":[],\"expires\":null,\"deleted\":true}";
	struct pim_batch *b;
	int rc = pim_batch_begin(app, "damd", false, &b, err);

	if (rc < 0)
		return rc;
	rc = pim_put(pim_batch_txn(b), PDB_ASSETS, ASSET, strlen(ASSET), rec, strlen(rec), err);
	if (rc == 0)
		rc = pim_batch_asset_changed(b, ASSET, err);
	if (rc < 0) {
		pim_batch_abort(b);
		return rc;
	}
	return pim_batch_commit(b, err);
}

/* Writes p, then reads back web/en_US's missing attributes as "a,b". */
static char *write_and_read(struct pim_app *app, struct pim_prep *p, const char *sku,
			    struct hub_err *err)
{
	struct pim_batch *b;
	json_t *problems = NULL, *doc, *missing, *m;
	struct pim_txn *t;
	char out[256] = "";
	int outcome = 0;
	size_t i;

	if (pim_batch_begin(app, "test", false, &b, err) < 0)
		return NULL;
	if (pim_batch_put_prepared(b, p, PIM_MODE_UPSERT, &outcome, &problems, err) < 0 ||
	    pim_batch_commit(b, err) < 0) {
		json_decref(problems);
		return NULL;
	}
	if (pim_txn_begin(app->store, false, &t, err) < 0)
		return NULL;
	doc = pim_product_load(t, sku);
	pim_txn_abort(t);
	missing = json_object_get(json_object_get(json_object_get(doc, "completeness"), "web/en_US"),
				  "missing");
	json_array_foreach(missing, i, m)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "",
			 json_string_value(m));
	json_decref(doc);
	return strdup(out);
}

int main(void)
{
	char dir[] = "/tmp/pim-prepare-XXXXXX", cmd[64];
	struct pim_app app;
	struct hub_err err = {0};
	struct pim_prep *p;
	json_t *doc;
	char *missing;

	if (!mkdtemp(dir) || test_app_open(&app, dir, 4096, &err) < 0) {
		ok(0, "open a store with the starter schema: %s", err.msg);
		return tap_done();
	}

	doc = product("PR-1");
	p = pim_prepare(&app, doc);
	missing = write_and_read(&app, p, "PR-1", &err);
	ok(missing && !strcmp(missing, ""), "prepared and written: complete with its image (%s) %s",
	   missing ? missing : "?", err.msg);
	free(missing);
	pim_prep_free(p);
	json_decref(doc);

	doc = product("PR-2");
	p = pim_prepare(&app, doc);
	ok(delete_asset(&app, &err) == 0, "damd deletes the image meanwhile: %s", err.msg);
	missing = write_and_read(&app, p, "PR-2", &err);
	ok(missing && !strcmp(missing, "images"),
	   "the prep counted the image before its delete: worked out again, images missing (%s)",
	   missing ? missing : "?");
	free(missing);
	pim_prep_free(p);
	json_decref(doc);

	doc = product("PR-3");
	p = pim_prepare(&app, doc);
	missing = write_and_read(&app, p, "PR-3", &err);
	ok(missing && !strcmp(missing, "images"), "prepared after the delete: images missing (%s)",
	   missing ? missing : "?");
	free(missing);
	pim_prep_free(p);
	json_decref(doc);

	test_app_close(&app);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
