/* pimd's Akeneo sub-model records: the merges that make a record from its
 * rows, lay it under a variant and carry its changes into the variants,
 * and the keys of the `models` database in a store of its own. */
#include "../../pimd/models.h"
#include "../../pimd/store.h"
#include "err.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses JSON with single quotes for double ones. */
static json_t *J(const char *s)
{
	char *d = strdup(s);
	json_error_t je;
	json_t *j;

	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(d, JSON_DECODE_ANY, &je);
	if (!j)
		printf("# bad test JSON: %s: %s\n", s, je.text);
	free(d);
	return j;
}

/* Whether got (a new reference, decref'd here) equals want. */
static int is(json_t *got, const char *want)
{
	json_t *w = want ? J(want) : NULL;
	int ok = (!got && !w) || (got && w && json_equal(got, w));

	if (!ok) {
		char *s = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		printf("# got %s\n# want %s\n", s ? s : "NULL", want ? want : "NULL");
		free(s);
	}
	json_decref(got);
	json_decref(w);
	return ok;
}

static void test_merge(void)
{
	json_t *row = J("{'sku':'ox_blue','family':'shirts_cs','parent':'ox','categories':['men'],"
			"'values':{'color':[{'locale':null,'channel':null,'data':'blue'}],"
			"'material':[{'locale':'en_US','channel':null,'data':'Cotton'},"
			"{'locale':'fr_FR','channel':null,'data':'Coton'}],"
			"'price':[{'locale':null,'channel':null,'data':[{'amount':'10','currency':'EUR'},"
			"{'amount':'12','currency':'USD'}]}]}}");
	json_t *rec = pim_model_merge(NULL, row, true), *row2, *rec2;

	ok(is(json_incref(rec),
	      "{'code':'ox_blue','parent':'ox','family':'shirts_cs','categories':['men'],"
	      "'values':{'color':[{'locale':null,'channel':null,'data':'blue'}],"
	      "'material':[{'locale':'en_US','channel':null,'data':'Cotton'},"
	      "{'locale':'fr_FR','channel':null,'data':'Coton'}],"
	      "'price':[{'locale':null,'channel':null,'data':[{'amount':'10','currency':'EUR'},"
	      "{'amount':'12','currency':'USD'}]}]},'associations':{}}"),
	   "a first row is the record");
	row2 = J("{'sku':'ox_blue','parent':'ox','values':{'material':[{'locale':'en_US','channel':null,"
		 "'data':'Oxford'}],'price':[{'locale':null,'channel':null,'data':[{'amount':'11',"
		 "'currency':'EUR'}]}]}}");
	rec2 = pim_model_merge(rec, row2, true);
	ok(is(json_incref(json_object_get(rec2, "values")),
	      "{'color':[{'locale':null,'channel':null,'data':'blue'}],"
	      "'material':[{'locale':'en_US','channel':null,'data':'Oxford'},"
	      "{'locale':'fr_FR','channel':null,'data':'Coton'}],"
	      "'price':[{'locale':null,'channel':null,'data':[{'amount':'11','currency':'EUR'},"
	      "{'amount':'12','currency':'USD'}]}]}"),
	   "patch: the row's entries over the record's, other locales and currencies kept");
	ok(is(json_incref(json_object_get(rec2, "categories")), "['men']") &&
		   is(json_incref(json_object_get(rec2, "family")), "'shirts_cs'"),
	   "patch: fields the row lacks are the record's");
	json_decref(rec2);
	rec2 = pim_model_merge(rec, row2, false);
	ok(is(json_incref(json_object_get(rec2, "values")),
	      "{'material':[{'locale':'en_US','channel':null,'data':'Oxford'}],"
	      "'price':[{'locale':null,'channel':null,'data':[{'amount':'11','currency':'EUR'}]}]}") &&
		   is(json_incref(json_object_get(rec2, "categories")), "[]"),
	   "put: the row replaces the record");
	json_decref(rec2);
	json_decref(row2);
	json_decref(row);
	json_decref(rec);
}

static void test_lay_under(void)
{
	json_t *rec = J("{'code':'ox_blue','parent':'ox','categories':['men','sale'],"
			"'values':{'color':[{'locale':null,'channel':null,'data':'blue'}],"
			"'material':[{'locale':'en_US','channel':null,'data':'Cotton'},"
			"{'locale':'fr_FR','channel':null,'data':'Coton'}],"
			"'price':[{'locale':null,'channel':null,'data':[{'amount':'10','currency':'EUR'},"
			"{'amount':'12','currency':'USD'}]}]},"
			"'associations':{'cross_sell':{'products':['CAP']}}}");
	json_t *doc = J("{'sku':'OX-S','parent':'ox_blue','categories':['sale','new'],"
			"'values':{'size':[{'locale':null,'channel':null,'data':'s'}],"
			"'material':[{'locale':'en_US','channel':null,'data':'Own'}],"
			"'price':[{'locale':null,'channel':null,'data':[{'amount':'9','currency':'EUR'}]}]}}");
	json_t *bare = J("{'sku':'OX-M','parent':'ox_blue'}");

	pim_model_lay_under(doc, rec);
	ok(is(json_incref(json_object_get(doc, "values")),
	      "{'size':[{'locale':null,'channel':null,'data':'s'}],"
	      "'material':[{'locale':'en_US','channel':null,'data':'Own'},"
	      "{'locale':'fr_FR','channel':null,'data':'Coton'}],"
	      "'price':[{'locale':null,'channel':null,'data':[{'amount':'9','currency':'EUR'},"
	      "{'amount':'12','currency':'USD'}]}],"
	      "'color':[{'locale':null,'channel':null,'data':'blue'}]}"),
	   "the product's own entries win; the sub-model fills in locales, currencies, attributes");
	ok(is(json_incref(json_object_get(doc, "categories")), "['sale','new','men']"),
	   "categories: the union");
	ok(is(json_incref(json_object_get(doc, "associations")), "{'cross_sell':{'products':['CAP']}}"),
	   "associations the product lacks are the sub-model's");
	pim_model_lay_under(bare, rec);
	json_object_set_new(json_array_get(json_object_get(json_object_get(rec, "values"), "color"), 0),
			    "data", json_string("red"));
	ok(is(json_incref(json_object_get(json_object_get(bare, "values"), "color")),
	      "[{'locale':null,'channel':null,'data':'blue'}]"),
	   "a product without values gets copies of the sub-model's");
	json_decref(bare);
	json_decref(doc);
	json_decref(rec);
}

static void test_variant_patch(void)
{
	json_t *old = J("{'code':'ox_blue','parent':'ox','categories':['men','sale'],"
			"'values':{'color':[{'locale':null,'channel':null,'data':'blue'}],"
			"'material':[{'locale':'en_US','channel':null,'data':'Cotton'},"
			"{'locale':'fr_FR','channel':null,'data':'Coton'}],"
			"'care':[{'locale':null,'channel':null,'data':'30'}],"
			"'name':[{'locale':'en_US','channel':null,'data':'Oxford'}]}}");
	json_t *rec = J("{'code':'ox_blue','parent':'ox','categories':['men','new'],"
			"'values':{'color':[{'locale':null,'channel':null,'data':'navy'}],"
			"'material':[{'locale':'en_US','channel':null,'data':'Cotton'},"
			"{'locale':'fr_FR','channel':null,'data':'Coton bio'},"
			"{'locale':'de_DE','channel':null,'data':'Baumwolle'}],"
			"'name':[{'locale':'en_US','channel':null,'data':'Oxford 2'}]}}");
	json_t *v = J("{'sku':'OX-S','parent':'ox','categories':['men','sale'],"
		      "'values':{'size':[{'locale':null,'channel':null,'data':'s'}],"
		      "'color':[{'locale':null,'channel':null,'data':'blue'}],"
		      "'material':[{'locale':'en_US','channel':null,'data':'Cotton'},"
		      "{'locale':'fr_FR','channel':null,'data':'Lin'}],"
		      "'care':[{'locale':null,'channel':null,'data':'30'}]}}");
	json_t *keep = J("{'sku':true,'size':true,'color':true,'material':true,'care':true}");
	json_t *same = J("{'code':'ox_blue','parent':'ox','categories':['sale','men'],'values':{}}");

	ok(is(pim_model_variant_patch(old, rec, v, keep),
	      "{'values':{'color':[{'locale':null,'channel':null,'data':'navy'}],"
	      "'material':[{'locale':'en_US','channel':null,'data':'Cotton'},"
	      "{'locale':'fr_FR','channel':null,'data':'Lin'},"
	      "{'locale':'de_DE','channel':null,'data':'Baumwolle'}],"
	      "'care':null},'categories':['men','new']}"),
	   "changed, added and dropped entries reach the variant; its own entry and "
	   "attributes it may not set stay");
	ok(is(pim_model_variant_patch(old, old, v, keep), NULL), "no change: no patch");
	ok(is(pim_model_variant_patch(same, same, v, NULL), NULL),
	   "categories in another order are the same");
	json_object_set_new(json_array_get(json_object_get(json_object_get(v, "values"), "color"), 0),
			    "data", json_string("navy"));
	json_decref(keep);
	keep = J("{'color':true}");
	ok(is(pim_model_variant_patch(old, rec, v, keep), "{'categories':['men','new']}"),
	   "a variant that holds the new value already gets no value change");
	json_object_set_new(old, "associations",
			    J("{'x_sell':{'products':['A']},'upsell':{'products':['U']},"
			      "'pack':{'products':['P']}}"));
	json_object_set_new(rec, "associations",
			    J("{'x_sell':{'products':['B']},'pack':{'products':['Q']},"
			      "'similar':{'products':['S']}}"));
	json_object_set_new(v, "associations",
			    J("{'x_sell':{'products':['A']},'upsell':{'products':['U']},"
			      "'pack':{'products':['MINE']}}"));
	ok(is(pim_model_variant_patch(old, rec, v, keep),
	      "{'categories':['men','new'],'associations':{'x_sell':{'products':['B']},"
	      "'similar':{'products':['S']},'upsell':null}}"),
	   "association types: changed, added and dropped reach the variant; its own stays");
	json_object_set_new(v, "categories", J("['men','new']"));
	json_object_set_new(v, "associations", J("{'x_sell':{'products':['B']},'pack':{'products':['MINE']},'similar':{'products':['S']}}"));
	ok(is(pim_model_variant_patch(old, rec, v, keep), NULL),
	   "a variant that holds the new links already gets no patch");
	json_decref(same);
	json_decref(keep);
	json_decref(v);
	json_decref(rec);
	json_decref(old);
}

static void test_store(void)
{
	char dir[] = "/tmp/pim-models-XXXXXX";
	struct pim_store *s = NULL;
	struct pim_txn *t = NULL;
	struct hub_err err = {0};
	json_t *rec = J("{'code':'Model-Blue','parent':'model','values':{}}"), *got, *l;
	char cmd[128];

	if (!mkdtemp(dir) || pim_store_open(&s, dir, 0, &err) < 0 ||
	    pim_txn_begin(s, true, &t, &err) < 0) {
		ok(0, "store: %s", err.msg);
		json_decref(rec);
		pim_store_close(s);
		return;
	}
	ok(pim_model_put(t, rec, &err) == 0, "put a record");
	got = pim_model_get(t, "model-blue");
	ok(got && json_equal(got, rec), "found again whatever the case of its code");
	json_decref(got);
	ok(!pim_model_get(t, "model"), "another code is not found");
	json_object_set_new(rec, "code", json_string(""));
	ok(pim_model_put(t, rec, &err) == HUB_EINVAL, "an empty code is refused");
	ok(pim_model_link(t, "MODEL-blue", "S-1", &err) == 0 &&
		   pim_model_link(t, "model-blue", "S-2", &err) == 0 &&
		   pim_model_link(t, "model-blue", "S-2", &err) == 0 &&
		   pim_model_link(t, "model-red", "S-3", &err) == 0,
	   "link variants");
	ok(is(pim_model_variants(t, "Model-Blue"), "['S-1','S-2']"), "the variants of a sub-model");
	ok(pim_model_link(t, "model-red", "S-1", &err) == 0, "a variant moves to another sub-model");
	ok(is(pim_model_variants(t, "model-blue"), "['S-2']") &&
		   is(pim_model_variants(t, "model-red"), "['S-1','S-3']"),
	   "... and leaves the one it was under");
	ok(pim_model_unlink(t, "S-3", &err) == 0 && pim_model_unlink(t, "S-9", &err) == 0,
	   "unlink, also what was never linked");
	l = pim_model_variants(t, "model-red");
	ok(is(l, "['S-1']"), "an unlinked variant is forgotten");
	ok(is(pim_model_variants(t, "model"), "[]"), "a code that is a prefix of another has none");
	pim_txn_abort(t);
	pim_store_close(s);
	json_decref(rec);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
}

int main(void)
{
	test_merge();
	test_lay_under();
	test_variant_patch();
	test_store();
	return tap_done();
}
