/* A product's first version is stored in history without its changes,
 * which would repeat the whole document; they are rebuilt from the product
 * and the later entries. Here: the stored entries are small, the rebuilt
 * changes are the created document even after later edits, a deletion and
 * a re-creation, and stores written when first versions carried their
 * changes still rebuild and revert right. Also: a sku with a history keeps
 * working whatever its Unicode form, where a new one must be NFC. */
#include "../../pimd/catalog_int.h"
#include "../../pimd/schema.h"
#include "../../pimd/store.h"
#include "../../pimd/util.h"
#include "../../pimd/validate.h"
#include "buf.h"
#include "err.h"
#include "pim_testapp.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *named(const char *sku, const char *name)
{
	return json_pack("{s:s,s:s,s:{s:[{s:s,s:n,s:s}]}}", "sku", sku, "family", "apparel",
			 "values", "name", "locale", "en_US", "channel", "data", name);
}

/* A batch by "test"; err cleared, so that each step reports its own. */
static int begin(struct pim_app *app, struct pim_batch **b, struct hub_err *err)
{
	memset(err, 0, sizeof(*err));
	*b = NULL;
	return pim_batch_begin(app, "test", false, b, err);
}

/* Commits b after a step that gave rc, or aborts it when the step failed. */
static int end(struct pim_batch *b, int rc, struct hub_err *err)
{
	if (!b)
		return rc;
	if (rc < 0) {
		pim_batch_abort(b);
		return rc;
	}
	return pim_batch_commit(b, err);
}

static int put(struct pim_app *app, json_t *doc, struct hub_err *err)
{
	struct pim_batch *b;
	json_t *problems = NULL;
	int outcome, rc = begin(app, &b, err);

	if (rc == 0)
		rc = pim_batch_put(b, doc, PIM_MODE_UPSERT, &outcome, &problems, err);
	json_decref(problems);
	json_decref(doc);
	return end(b, rc, err);
}

static int del(struct pim_app *app, const char *sku, struct hub_err *err)
{
	struct pim_batch *b;
	int rc = begin(app, &b, err);

	if (rc == 0)
		rc = pim_batch_delete(b, sku, NULL, err);
	return end(b, rc, err);
}

static int revert(struct pim_app *app, const char *sku, long version, struct hub_err *err)
{
	struct pim_batch *b;
	json_t *problems = NULL;
	int outcome, rc = begin(app, &b, err);

	if (rc == 0)
		rc = pim_batch_revert(b, sku, version, NULL, &outcome, NULL, &problems, err);
	json_decref(problems);
	return end(b, rc, err);
}

static void history_key(const char *sku, uint32_t version, char *key, size_t *kl)
{
	size_t sl = strlen(sku);

	memcpy(key, sku, sl + 1);
	key[sl + 1] = (char)(version >> 24);
	key[sl + 2] = (char)(version >> 16);
	key[sl + 3] = (char)(version >> 8);
	key[sl + 4] = (char)version;
	*kl = sl + 5;
}

/* The stored history entry of a version (a new reference). */
static json_t *entry(struct pim_app *app, const char *sku, uint32_t version)
{
	struct hub_err err = {0};
	struct pim_txn *t;
	char key[64];
	size_t kl, vl;
	const void *v;
	json_t *h = NULL;

	history_key(sku, version, key, &kl);
	if (pim_txn_begin(app->store, false, &t, &err) < 0)
		return NULL;
	if (pim_get(t, PDB_HISTORY, key, kl, &v, &vl) == 0)
		h = json_loadb(v, vl, 0, NULL);
	pim_txn_abort(t);
	return h;
}

/* Whether the completeness stored with sku is, to the byte, what
 * pim_completeness works out from its values now. */
static bool completeness_stored_as_computed(struct pim_app *app, const char *sku)
{
	struct hub_err err = {0};
	struct pim_schema *s = pim_catalog_schema(app);
	struct pim_txn *t;
	struct buf want = BUF_INIT;
	const void *v;
	size_t vl;
	json_t *doc = NULL, *resolved = NULL, *comp = NULL;
	bool same = false;

	if (pim_txn_begin(app->store, false, &t, &err) == 0) {
		if (pim_get(t, PDB_PRODUCTS, sku, strlen(sku), &v, &vl) == 0 &&
		    (doc = json_loadb(v, vl, 0, NULL))) {
			resolved = pim_resolved_values(doc, NULL);
			comp = pim_completeness(s, json_string_value(json_object_get(doc, "family")),
						resolved, t);
			same = comp && json_object_size(comp) > 0 && pim_json_write(&want, comp) == 0 &&
			       memmem(v, vl, want.data, want.len) &&
			       json_equal(comp, json_object_get(doc, "completeness"));
		}
		pim_txn_abort(t);
	}
	json_decref(comp);
	json_decref(resolved);
	json_decref(doc);
	buf_release(&want);
	pim_schema_unref(s);
	return same;
}

/* Writes h as the history entry of a version. */
static int put_entry(struct pim_app *app, const char *sku, uint32_t version, json_t *h,
		     struct hub_err *err)
{
	struct pim_batch *b;
	char key[64], *s = json_dumps(h, JSON_COMPACT);
	size_t kl;
	int rc = begin(app, &b, err);

	history_key(sku, version, key, &kl);
	if (rc == 0)
		rc = pim_put(pim_batch_txn(b), PDB_HISTORY, key, kl, s, strlen(s), err);
	free(s);
	json_decref(h);
	return end(b, rc, err);
}

/* The history page from version `from` to the last, as the history API
 * answers it (a new reference). */
static json_t *page_from(struct pim_app *app, const char *sku, uint32_t from)
{
	struct hub_err err = {0};
	struct pim_txn *t;
	json_t *page = json_array(), *h;

	for (uint32_t v = from; (h = entry(app, sku, v)); v++)
		json_array_append_new(page, h);
	if (pim_txn_begin(app->store, false, &t, &err) < 0)
		return page;
	pim_history_fill(t, sku, page);
	pim_txn_abort(t);
	return page;
}

/* A version's changes as the history API answers them (a new reference). */
static json_t *first_changes(struct pim_app *app, const char *sku, uint32_t version)
{
	json_t *page = page_from(app, sku, version);
	json_t *c = json_incref(json_object_get(json_array_get(page, 0), "changes"));

	json_decref(page);
	return c;
}

/* Rewrites a first version's entry as pimd wrote them before: with every
 * field of the document as a change from null. */
static int store_as_before(struct pim_app *app, const char *sku, uint32_t version,
			   struct hub_err *err)
{
	json_t *c = first_changes(app, sku, version), *h;

	if (!c)
		return HUB_ENOTFOUND;
	h = json_pack("{s:i,s:s,s:s,s:o}", "version", (int)version, "at",
		      "2026-01-01T00:00:00.000Z", "by", "test", "changes", c);
	return put_entry(app, sku, version, h, err);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static json_t *change_at(json_t *changes, const char *path)
{
	json_t *c;
	size_t i;

	json_array_foreach(changes, i, c)
		if (!strcmp(json_string_value(json_object_get(c, "path")), path))
			return c;
	return NULL;
}

static const char *new_name(json_t *changes)
{
	return json_string_value(json_object_get(
		json_array_get(json_object_get(change_at(changes, "/values/name"), "new"), 0), "data"));
}

static bool olds_null(json_t *changes)
{
	json_t *c;
	size_t i;

	json_array_foreach(changes, i, c)
		if (!json_is_null(json_object_get(c, "old")))
			return false;
	return json_array_size(changes) > 0;
}

static const char *stored_name(struct pim_app *app, const char *sku, char *out, size_t size)
{
	struct hub_err err = {0};
	struct pim_txn *t;
	json_t *doc;

	*out = 0;
	if (pim_txn_begin(app->store, false, &t, &err) < 0)
		return out;
	doc = pim_product_load(t, sku);
	pim_txn_abort(t);
	snprintf(out, size, "%s",
		 or_empty(json_string_value(json_object_get(
			 json_array_get(json_object_get(json_object_get(doc, "values"), "name"), 0),
			 "data"))));
	json_decref(doc);
	return out;
}

int main(void)
{
	char dir[] = "/tmp/pim-history-XXXXXX", cmd[64], name[64];
	struct pim_app app;
	struct hub_err err = {0};
	json_t *h, *c;

	if (!mkdtemp(dir) || test_app_open(&app, dir, 4096, &err) < 0) {
		ok(0, "open a store with the starter schema: %s", err.msg);
		return tap_done();
	}

	/* v1 created, v2 renamed, v3 deleted, v4 created again, v5 renamed */
	ok(put(&app, named("H-1", "Linen shirt"), &err) == 0, "v1: %s", err.msg);
	ok(put(&app, named("H-1", "Linen shirt, washed"), &err) == 0, "v2: %s", err.msg);
	ok(del(&app, "H-1", &err) == 0, "v3 deletes: %s", err.msg);
	ok(put(&app, named("H-1", "Hemp shirt"), &err) == 0, "v4 creates again: %s", err.msg);
	ok(put(&app, named("H-1", "Hemp shirt, dyed"), &err) == 0, "v5: %s", err.msg);

	h = entry(&app, "H-1", 1);
	ok(h && !json_object_get(h, "changes") && json_integer_value(json_object_get(h, "version")) == 1 &&
		   !strcmp(or_empty(json_string_value(json_object_get(h, "by"))), "test"),
	   "a first version's entry is stored with who and when, without the document");
	json_decref(h);
	h = entry(&app, "H-1", 4);
	ok(h && !json_object_get(h, "changes"), "so is a first version after a deletion");
	json_decref(h);
	h = entry(&app, "H-1", 2);
	ok(json_array_size(json_object_get(h, "changes")) == 1, "an edit's entry keeps its changes");
	json_decref(h);

	c = first_changes(&app, "H-1", 1);
	ok(c && !strcmp(or_empty(new_name(c)), "Linen shirt") &&
		   !strcmp(or_empty(json_string_value(json_object_get(change_at(c, "/family"), "new"))),
			   "apparel") &&
		   olds_null(c) && !change_at(c, "/parent"),
	   "v1's changes rebuilt after an edit, a deletion and a re-creation: the created document");
	json_decref(c);
	c = first_changes(&app, "H-1", 4);
	ok(c && !strcmp(or_empty(new_name(c)), "Hemp shirt") && olds_null(c),
	   "v4's changes rebuilt: the document created again");
	json_decref(c);
	ok(!first_changes(&app, "H-1", 9), "no entry, no changes");
	c = page_from(&app, "H-1", 1);
	ok(json_array_size(c) == 5 &&
		   !strcmp(or_empty(new_name(json_object_get(json_array_get(c, 0), "changes"))),
			   "Linen shirt") &&
		   !strcmp(or_empty(new_name(json_object_get(json_array_get(c, 3), "changes"))),
			   "Hemp shirt") &&
		   json_array_size(json_object_get(json_array_get(c, 1), "changes")) == 1,
	   "one page with both first versions: each rebuilt, the others as stored");
	json_decref(c);

	ok(revert(&app, "H-1", 1, &err) == 0 &&
		   !strcmp(stored_name(&app, "H-1", name, sizeof(name)), "Linen shirt"),
	   "revert to v1 across the deletion: '%s' %s", name, err.msg);
	ok(revert(&app, "H-1", 3, &err) == HUB_ENOTFOUND, "revert to the deletion: not found");
	ok(revert(&app, "H-1", 4, &err) == 0 &&
		   !strcmp(stored_name(&app, "H-1", name, sizeof(name)), "Hemp shirt"),
	   "revert to v4: '%s' %s", name, err.msg);

	/* A store from before: first versions carry their changes (olds null) */
	ok(put(&app, named("OLD", "Wool scarf"), &err) == 0 && del(&app, "OLD", &err) == 0 &&
		   put(&app, named("OLD", "Silk scarf"), &err) == 0 &&
		   put(&app, named("OLD", "Silk scarf, long"), &err) == 0,
	   "OLD: v1, deleted v2, v3 created again, v4: %s", err.msg);
	ok(store_as_before(&app, "OLD", 1, &err) == 0, "v1 rewritten with its changes: %s", err.msg);
	ok(store_as_before(&app, "OLD", 3, &err) == 0, "v3 rewritten with its changes: %s", err.msg);
	ok(revert(&app, "OLD", 2, &err) == HUB_ENOTFOUND,
	   "revert to the deletion before a first version stored with changes: not found");
	ok(revert(&app, "OLD", 1, &err) == 0 &&
		   !strcmp(stored_name(&app, "OLD", name, sizeof(name)), "Wool scarf"),
	   "revert to v1 through it: '%s' %s", name, err.msg);
	ok(revert(&app, "OLD", 3, &err) == 0 &&
		   !strcmp(stored_name(&app, "OLD", name, sizeof(name)), "Silk scarf"),
	   "revert to v3: '%s' %s", name, err.msg);

	ok(completeness_stored_as_computed(&app, "H-1") && completeness_stored_as_computed(&app, "OLD"),
	   "the completeness a write stores is what pim_completeness works out, to the byte");

	/* A new sku must be NFC; one with a history from before that rule,
	 * whatever its form, keeps working */
	ok(put(&app, named("Cafe\xcc\x81-1", "Mug"), &err) == HUB_EINVALID,
	   "a new sku in NFD is refused");
	ok(put_entry(&app, "Cafe\xcc\x81-2", 1,
		     json_pack("{s:i,s:s,s:s}", "version", 1, "at", "2025-01-01T00:00:00.000Z", "by",
			       "test"),
		     &err) == 0 &&
		   put(&app, named("Cafe\xcc\x81-2", "Mug"), &err) == 0 &&
		   put(&app, named("Cafe\xcc\x81-2", "Big mug"), &err) == 0,
	   "an NFD sku with a history is created again and updated: %s", err.msg);

	test_app_close(&app);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
