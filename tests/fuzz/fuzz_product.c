/* libFuzzer target: any bytes as a product document through pimd's whole
 * write path (validation, derived keys, completeness, history, merge
 * patches) on a catalog with the starter schema, as the API and the
 * importers write. The first byte picks a replace or a merge patch, a
 * dry run or a commit, and whether to check the written product's history
 * afterwards (see check_history); the rest is the JSON. A crash, a leak or undefined
 * behaviour is a finding; a refused document is not.
 *
 * Built and run by tests/fuzz/run.sh from the project root.
 */
#include "../../pimd/catalog.h"
#include "../../pimd/validate.h"
#include "../unit/pim_testapp.h"

#include "err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static struct pim_app app;

static void open_app(void)
{
	/* under the fuzz build directory, which run.sh empties of them */
	static char dir[] = "tests/fuzz/build/store-XXXXXX";
	struct hub_err err = {0};

	if (!mkdtemp(dir) || test_app_open(&app, dir, 1000, &err) < 0) {
		fprintf(stderr, "cannot open the catalog: %s\n", err.msg);
		abort();
	}
}

/* History is rebuilt backwards from the product (first versions are
 * stored without their changes): reverting to the newest version must
 * find the product as it is, and neither that nor reverting to the first
 * may fail but for validation. */
static void check_history(const char *sku)
{
	struct pim_batch *b;
	struct pim_txn *t;
	struct hub_err err = {0};
	json_t *doc, *problems = NULL;
	long version;
	int outcome = 0, rc;

	if (pim_txn_begin(app.store, false, &t, &err) < 0)
		abort();
	doc = pim_product_load(t, sku);
	pim_txn_abort(t);
	if (!doc)
		return;
	version = (long)json_integer_value(json_object_get(doc, "version"));
	json_decref(doc);
	if (pim_batch_begin(&app, "fuzz", false, &b, &err) < 0)
		abort();
	/* (a product the store has moved under, e.g. one whose references
	 * went, may no longer validate) */
	rc = pim_batch_revert(b, sku, version, NULL, &outcome, NULL, &problems, &err);
	json_decref(problems);
	problems = NULL;
	if ((rc < 0 && rc != HUB_EINVALID) || (rc == 0 && outcome != PIM_UNCHANGED)) {
		fprintf(stderr, "revert to the newest version %ld: %d, outcome %d: %s\n", version, rc,
			outcome, err.msg);
		abort();
	}
	rc = pim_batch_revert(b, sku, 1, NULL, &outcome, NULL, &problems, &err);
	json_decref(problems);
	if (rc < 0 && rc != HUB_EINVALID && rc != HUB_ENOTFOUND && rc != HUB_ECONFLICT) {
		fprintf(stderr, "revert to version 1: %s\n", err.msg);
		abort();
	}
	pim_batch_abort(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pim_batch *b = NULL;
	struct hub_err err = {0};
	json_t *doc, *problems = NULL;
	int outcome, rc;

	if (!app.store)
		open_app();
	if (size < 1 || !(doc = json_loadb((const char *)data + 1, size - 1, 0, NULL)))
		return 0;
	if (pim_batch_begin(&app, "fuzz", data[0] & 1, &b, &err) < 0)
		abort();
	if (data[0] & 2) {
		const char *sku = json_string_value(json_object_get(doc, "sku"));

		rc = pim_batch_patch(b, sku ? sku : "FUZZ-1", doc, PIM_MODE_UPSERT, &outcome, &problems,
				     &err);
	} else {
		rc = pim_batch_put(b, doc, PIM_MODE_UPSERT, &outcome, &problems, &err);
	}
	/* a refused document leaves the batch usable; only the store may fail */
	if (rc < 0 && rc != HUB_EINVALID && rc != HUB_EINVAL && rc != HUB_ENOTFOUND &&
	    rc != HUB_ECONFLICT) {
		fprintf(stderr, "write failed: %s\n", err.msg);
		abort();
	}
	if (pim_batch_commit(b, &err) < 0) {
		fprintf(stderr, "commit failed: %s\n", err.msg);
		abort();
	}
	if ((data[0] & 4) && !(data[0] & 1) && rc == 0) {
		const char *sku = json_string_value(json_object_get(doc, "sku"));

		check_history(sku ? sku : "FUZZ-1");
	}
	json_decref(problems);
	json_decref(doc);
	return 0;
}
