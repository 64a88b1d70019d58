/* Validation of product and schema documents against a schema snapshot
 * loaded from a temporary store; completeness of resolved values. */
#include "../../pimd/catalog_int.h"
#include "../../pimd/schema.h"
#include "../../pimd/store.h"
#include "../../pimd/validate.h"
#include "err.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const docs[][3] = {
	{"locales", "en_US", "{\"code\":\"en_US\"}"},
	{"locales", "fr_FR", "{\"code\":\"fr_FR\"}"},
	{"currencies", "EUR", "{\"code\":\"EUR\"}"},
	{"categories", "root", "{\"code\":\"root\",\"parent\":null}"},
	{"categories", "mugs", "{\"code\":\"mugs\",\"parent\":\"root\"}"},
	{"channels", "web", "{\"code\":\"web\",\"locales\":[\"en_US\",\"fr_FR\"],\"currencies\":[\"EUR\"],\"category_tree\":\"root\"}"},
	{"attributes", "sku", "{\"code\":\"sku\",\"type\":\"identifier\"}"},
	{"attributes", "name", "{\"code\":\"name\",\"type\":\"text\",\"localizable\":true,\"validation\":{\"max_length\":10}}"},
	{"attributes", "price", "{\"code\":\"price\",\"type\":\"price\",\"validation\":{\"decimals\":2,\"min\":\"0\",\"max\":\"100\"}}"},
	{"attributes", "ean", "{\"code\":\"ean\",\"type\":\"text\",\"unique\":true,\"validation\":{\"gtin\":true}}"},
	{"attributes", "code", "{\"code\":\"code\",\"type\":\"text\",\"validation\":{\"regex\":\"^[A-Z]+$\"}}"},
	{"attributes", "size", "{\"code\":\"size\",\"type\":\"simple_select\",\"options\":[\"s\",\"m\"]}"},
	{"attributes", "weight", "{\"code\":\"weight\",\"type\":\"metric\",\"units\":[\"g\"]}"},
	{"attributes", "desc", "{\"code\":\"desc\",\"type\":\"textarea\",\"localizable\":true,\"scopable\":true}"},
	{"attributes", "photo", "{\"code\":\"photo\",\"type\":\"asset\"}"},
	{"attributes", "images", "{\"code\":\"images\",\"type\":\"asset_collection\"}"},
	{"families", "poster", "{\"code\":\"poster\",\"attributes\":[\"sku\",\"photo\",\"images\"],\"requirements\":{\"web\":[\"photo\",\"images\"]}}"},
	{"families", "mug", "{\"code\":\"mug\",\"attributes\":[\"sku\",\"name\",\"price\",\"ean\",\"code\",\"size\",\"weight\",\"desc\"],\"requirements\":{\"web\":[\"name\",\"price\"]},\"variant_axes\":[\"size\"],\"variant_attributes\":[\"price\"]}"},
};

static struct pim_schema *schema;

#define LIVE "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define GONE "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define OLD "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define LATER "sha256:4444444444444444444444444444444444444444444444444444444444444444"
#define UNSEEN "sha256:5555555555555555555555555555555555555555555555555555555555555555"

/* The web/en_US "missing" of a poster whose photo is the asset photo and
 * whose images are the ids images (a JSON array's members), its asset
 * records read in t (NULL: none read), joined by commas. */
static const char *poster_missing(struct pim_txn *t, const char *photo, const char *images)
{
	static char out[256];
	char text[1024];
	json_t *vals, *c, *m;
	size_t i;

	snprintf(text, sizeof(text),
		 "{\"photo\":[{\"locale\":null,\"channel\":null,\"data\":\"%s\"}],"
		 "\"images\":[{\"locale\":null,\"channel\":null,\"data\":[%s]}]}",
		 photo, images);
	vals = json_loads(text, 0, NULL);
	c = pim_completeness(schema, "poster", vals, t);
	out[0] = 0;
	json_array_foreach(json_object_get(json_object_get(c, "web/en_US"), "missing"), i, m) {
		size_t o = strlen(out);

		snprintf(out + o, sizeof(out) - o, "%s%s", o ? "," : "", json_string_value(m));
	}
	json_decref(c);
	json_decref(vals);
	return out;
}

/* Validates text as product sku; returns the problems' codes joined by
 * commas, or "ok". */
static const char *run(const char *sku, const char *text)
{
	static char out[512];
	json_t *doc = json_loads(text, 0, NULL), *problems = json_array(), *p;
	json_t *norm = pim_validate(schema, sku, doc, problems);
	size_t i;

	out[0] = 0;
	if (norm)
		snprintf(out, sizeof(out), "ok");
	json_array_foreach(problems, i, p) {
		size_t o = strlen(out);

		snprintf(out + o, sizeof(out) - o, "%s%s@%s", o ? "," : "",
			 json_string_value(json_object_get(p, "code")),
			 json_string_value(json_object_get(p, "path")));
	}
	json_decref(norm);
	json_decref(doc);
	json_decref(problems);
	return out;
}

#define V(attr, data) "{\"sku\":\"M-1\",\"family\":\"mug\",\"values\":{\"" attr "\":[" data "]}}"
#define E(loc, ch, data) "{\"locale\":" loc ",\"channel\":" ch ",\"data\":" data "}"

static int is(const char *got, const char *want)
{
	if (strcmp(got, want))
		printf("# got %s\n# want %s\n", got, want);
	return !strcmp(got, want);
}

int main(void)
{
	char dir[] = "/tmp/test_pim_validate.XXXXXX";
	struct pim_store *st = NULL;
	struct pim_txn *t = NULL;
	struct hub_err err = {0};

	if (!mkdtemp(dir) || pim_store_open(&st, dir, 0, &err) < 0 ||
	    pim_txn_begin(st, true, &t, &err) < 0) {
		printf("not ok 1 - store: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char key[128];
		size_t kl = strlen(docs[i][0]) + 1 + strlen(docs[i][1]);

		snprintf(key, sizeof(key), "%s%c%s", docs[i][0], 0, docs[i][1]);
		pim_put(t, PDB_SCHEMA, key, kl, docs[i][2], strlen(docs[i][2]), &err);
	}
	ok(pim_schema_load(t, &schema, &err) == 0, "schema loads");
	pim_txn_abort(t);

	ok(is(run("M-1", V("name", E("\"en_US\"", "null", "\"Mug\""))), "ok"), "valid product");
	ok(is(run("M-1", "{\"sku\":\"M-1\",\"family\":\"mug\"}"), "ok"), "no values is valid");
	ok(is(run("M-1", "{\"sku\":\"M-1\"}"), "required@/family"), "family required");
	ok(is(run("M-1", "{\"sku\":\"M-1\",\"family\":\"cup\"}"), "unknown_family@/family"),
	   "unknown family");
	ok(is(run("M 1", "{\"family\":\"mug\"}"), "bad_sku@/sku"), "sku with a space");
	ok(is(run("M-1", V("name", E("\"en_US\"", "null", "\"Much too long\""))),
	      "too_long@/values/name/0/data"),
	   "max_length");
	ok(is(run("M-1", V("name", E("\"de_DE\"", "null", "\"Tasse\""))),
	      "unknown_locale@/values/name/0/locale"),
	   "unknown locale");
	ok(is(run("M-1", V("name", E("null", "null", "\"Mug\""))), "locale_required@/values/name/0/locale"),
	   "locale required");
	ok(is(run("M-1", V("ean", E("\"en_US\"", "null", "\"4006381333931\""))),
	      "not_localizable@/values/ean/0/locale"),
	   "not localizable");
	ok(is(run("M-1", V("ean", E("null", "\"web\"", "\"4006381333931\""))),
	      "not_scopable@/values/ean/0/channel"),
	   "not scopable");
	ok(is(run("M-1", V("desc", E("\"en_US\"", "\"tv\"", "\"x\""))), "unknown_channel@/values/desc/0/channel"),
	   "unknown channel");
	ok(is(run("M-1", V("desc", E("\"en_US\"", "\"web\"", "\"x\""))), "ok"), "scopable value");
	ok(is(run("M-1", V("ean", E("null", "null", "\"4006381333932\""))), "bad_gtin@/values/ean/0/data"),
	   "GTIN check digit");
	ok(is(run("M-1", V("code", E("null", "null", "\"abc\""))), "pattern_mismatch@/values/code/0/data"),
	   "regex");
	ok(is(run("M-1", V("size", E("null", "null", "\"xl\""))), "unknown_option@/values/size/0/data"),
	   "select option");
	ok(is(run("M-1", V("price", E("null", "null", "[{\"amount\":1.5,\"currency\":\"EUR\"}]"))),
	      "not_a_decimal@/values/price/0/data/0/amount"),
	   "float amount");
	ok(is(run("M-1", V("price", E("null", "null", "[{\"amount\":\"1.555\",\"currency\":\"EUR\"}]"))),
	      "too_many_decimals@/values/price/0/data/0/amount"),
	   "decimals");
	ok(is(run("M-1", V("price", E("null", "null", "[{\"amount\":\"-1\",\"currency\":\"EUR\"}]"))),
	      "below_min@/values/price/0/data/0/amount"),
	   "min");
	ok(is(run("M-1", V("price", E("null", "null", "[{\"amount\":\"100.01\",\"currency\":\"EUR\"}]"))),
	      "above_max@/values/price/0/data/0/amount"),
	   "max");
	ok(is(run("M-1", V("price", E("null", "null", "[{\"amount\":\"1\",\"currency\":\"GBP\"}]"))),
	      "unknown_currency@/values/price/0/data/0/currency"),
	   "currency");
	ok(is(run("M-1", V("weight", E("null", "null", "{\"amount\":\"1\",\"unit\":\"kg\"}"))),
	      "unknown_unit@/values/weight/0/data/unit"),
	   "unit");
	ok(is(run("M-1", V("nope", E("null", "null", "\"x\""))), "unknown_attribute@/values/nope"),
	   "unknown attribute");
	ok(is(run("M-1", V("name", E("\"en_US\"", "null", "1"))), "wrong_type@/values/name/0/data"),
	   "wrong type");
	ok(is(run("M-1", "{\"sku\":\"M-1\",\"family\":\"mug\",\"categories\":[\"mugs\",\"cups\"]}"),
	      "unknown_category@/categories/1"),
	   "unknown category");
	ok(is(run("M-1", "{\"sku\":\"M-1\",\"family\":\"mug\",\"enabled\":\"yes\"}"), "wrong_type@/enabled"),
	   "enabled must be boolean");
	ok(is(run("M-1", "{\"sku\":\"M-1\",\"family\":\"mug\",\"values\":{\"a~b/c\":[]}}"),
	      "unknown_attribute@/values/a~0b~1c"),
	   "JSON pointer escaping");
	ok(is(run("M-1", "{\"sku\":\"M-1\",\"family\":\"mug\",\"categories\":[\"x\"],\"enabled\":1,\"values\":{\"name\":[" E("\"xx\"", "null", "2") "]}}"),
	      "unknown_category@/categories/0,wrong_type@/enabled,unknown_locale@/values/name/0/locale,wrong_type@/values/name/0/data"),
	   "every problem at once");

	/* normalisation */
	{
		json_t *doc = json_loads(V("name", "{\"locale\":\"en_US\",\"data\":\"Mug\"}"), 0, NULL);
		json_t *probs = json_array(), *n = pim_validate(schema, "M-1", doc, probs);

		ok(n && json_is_null(json_object_get(json_array_get(json_object_get(json_object_get(n, "values"), "name"), 0), "channel")),
		   "a missing channel becomes null");
		ok(n && json_is_true(json_object_get(n, "enabled")) && json_is_array(json_object_get(n, "categories")),
		   "defaults: enabled, categories");
		json_decref(n);
		json_decref(doc);
		json_decref(probs);
	}

	/* completeness */
	{
		json_t *vals = json_loads("{\"name\":[{\"locale\":\"en_US\",\"channel\":null,\"data\":\"Mug\"}]}", 0, NULL);
		json_t *c = pim_completeness(schema, "mug", vals, NULL);
		json_t *en = json_object_get(c, "web/en_US"), *fr = json_object_get(c, "web/fr_FR");

		ok(json_integer_value(json_object_get(en, "ratio")) == 50, "web/en_US 50%%");
		ok(json_array_size(json_object_get(en, "missing")) == 1 &&
			   !strcmp(json_string_value(json_array_get(json_object_get(en, "missing"), 0)), "price"),
		   "price missing");
		ok(json_integer_value(json_object_get(fr, "ratio")) == 0, "web/fr_FR 0%%");
		json_decref(c);
		json_decref(vals);
	}

	/* completeness counts only the images channels may show */
	if (pim_txn_begin(st, true, &t, &err) == 0) {
		static const char *const recs[][2] = {
			{LIVE, "{\"expires\":null,\"deleted\":false}"},
			{GONE, "{\"expires\":null,\"deleted\":true}"},
			{OLD, "{\"expires\":\"2000-01-01\",\"deleted\":false}"},
			{LATER, "{\"expires\":\"2999-12-31\",\"deleted\":false}"},
		};

		for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
			pim_put(t, PDB_ASSETS, recs[i][0], strlen(recs[i][0]), recs[i][1],
				strlen(recs[i][1]), &err);
		ok(is(poster_missing(t, LIVE, "\"" LIVE "\""), ""), "live images fill");
		ok(is(poster_missing(t, GONE, "\"" GONE "\""), "photo,images"),
		   "an image deleted in damd fills nothing");
		ok(is(poster_missing(t, OLD, "\"" OLD "\""), "photo,images"),
		   "nor one whose rights expired");
		ok(is(poster_missing(t, LATER, "\"" LATER "\""), ""), "rights that end later fill");
		ok(is(poster_missing(t, UNSEEN, "\"" UNSEEN "\""), ""),
		   "an asset pimd knows nothing of fills, as without damd");
		ok(is(poster_missing(t, LIVE, "\"" GONE "\",\"" OLD "\",\"" LIVE "\""), ""),
		   "one usable image of a collection is enough");
		ok(is(poster_missing(NULL, GONE, "\"" GONE "\""), ""),
		   "without a transaction every id counts");
		pim_txn_abort(t);
	}

	/* schema documents */
	{
		json_t *probs = json_array();
		json_t *doc = json_loads("{\"type\":\"text\"}", 0, NULL);
		json_t *n = pim_schema_check(schema, PK_ATTRIBUTES, "color", doc, probs);

		ok(n && json_is_false(json_object_get(n, "localizable")) && !strcmp(json_string_value(json_object_get(n, "code")), "color"),
		   "attribute defaults filled, code from the path");
		json_decref(n);
		json_decref(doc);
		doc = json_loads("{\"locales\":[\"de_DE\"],\"currencies\":[],\"category_tree\":\"mugs\"}", 0, NULL);
		n = pim_schema_check(schema, PK_CHANNELS, "shop", doc, probs);
		ok(!n && json_array_size(probs) == 3, "channel: unknown locale, no currency, tree not a root");
		json_decref(doc);
		json_array_clear(probs);
		doc = json_loads("{\"attributes\":[\"name\"]}", 0, NULL);
		n = pim_schema_check(schema, PK_FAMILIES, "cup", doc, probs);
		ok(n && !strcmp(json_string_value(json_array_get(json_object_get(n, "attributes"), 0)), "sku"),
		   "sku added to a family");
		json_decref(n);
		json_decref(doc);
		doc = json_loads("{\"parent\":\"mugs\"}", 0, NULL);
		n = pim_schema_check(schema, PK_CATEGORIES, "root", doc, probs);
		ok(!n, "category cycle refused");
		json_decref(doc);
		json_decref(probs);
	}
	/* value entries: read in one pass, checked against each other past
	 * the dozens an attribute holds in practice */
	ok(is(run("M-1", V("name", E("\"en_US\"", "null", "\"A\"") "," E("\"fr_FR\"", "null", "\"B\"") ","
					   E("\"en_US\"", "null", "\"C\""))),
	      "duplicate_value@/values/name/2"),
	   "a second value for one locale");
	ok(is(run("M-1", V("name", "{\"data\":\"A\",\"channel\":null,\"locale\":\"en_US\",\"lang\":1}")),
	      "unknown_field@/values/name/0/lang"),
	   "an entry member of another name, in any order");
	{
		json_t *doc = json_pack("{s:s,s:s,s:{s:[]}}", "sku", "M-1", "family", "mug", "values", "name");
		json_t *arr = json_object_get(json_object_get(doc, "values"), "name");
		json_t *probs = json_array(), *n, *p;
		size_t i, dups = 0;

		for (i = 0; i < 70; i++)
			json_array_append_new(arr, json_pack("{s:s,s:n,s:s}", "locale", i < 69 ? "en_US" : "fr_FR",
							     "channel", "data", "Mug"));
		json_array_append_new(arr, json_pack("{s:s,s:n,s:s}", "locale", "fr_FR", "channel", "data", "Mug"));
		n = pim_validate(schema, "M-1", doc, probs);
		json_array_foreach(probs, i, p)
			dups += !strcmp(json_string_value(json_object_get(p, "code")), "duplicate_value");
		ok(!n && dups == 69 &&
			   !strcmp(json_string_value(json_object_get(json_array_get(probs, 68), "path")),
				   "/values/name/70"),
		   "70 entries: every repeat found, the last past the first 64 (%zu)", dups);
		json_decref(n);
		json_decref(probs);
		json_decref(doc);
	}
	pim_schema_unref(schema);
	{
		/* far more attributes than the table's first size: every one is
		 * found under its own code, and nothing else is */
		struct pim_schema *big = NULL;
		int found = 0, wrong = 0;

		pim_txn_begin(st, true, &t, &err);
		for (int i = 0; i < 300; i++) {
			char key[64], doc[96];
			int kl = snprintf(key, sizeof(key), "attributes%ca%d", 0, i);

			snprintf(doc, sizeof(doc), "{\"code\":\"a%d\",\"type\":\"text\"}", i);
			pim_put(t, PDB_SCHEMA, key, (size_t)kl, doc, strlen(doc), &err);
		}
		ok(pim_schema_load(t, &big, &err) == 0, "a schema of 300 attributes loads");
		pim_txn_abort(t);
		for (int i = 0; big && i < 300; i++) {
			char code[16];
			const struct pim_attr *a;

			snprintf(code, sizeof(code), "a%d", i);
			a = pim_schema_attr(big, code);
			found += a != NULL;
			wrong += a && strcmp(a->code, code);
		}
		ok(big && found == 300 && !wrong, "each of them found by its code");
		ok(big && !pim_schema_attr(big, "a300") && !pim_schema_attr(big, "a") &&
		   !pim_schema_attr(big, "") && !pim_schema_attr(big, NULL),
		   "codes it does not have are not found");
		pim_schema_unref(big);
	}
	pim_store_close(st);
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock.mdb", dir);
		unlink(path);
		rmdir(dir);
	}
	return tap_done();
}
