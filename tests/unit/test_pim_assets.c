/* pimd's damd follower, its pure parts: the SKUs a filename names, rights
 * expiry, whether an asset is usable, and the record kept of an asset's
 * metadata. */
#include "../../pimd/assets.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* "SKU@pos|SKU@pos…" for filename's candidates */
static int cands_are(const char *filename, const char *want)
{
	struct pim_name_cand c[16];
	size_t n = pim_asset_name_candidates(filename, c, 16);
	char got[512] = "";
	size_t o = 0;

	for (size_t i = 0; i < n && o < sizeof(got) - 64; i++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%.*s@%ld", i ? "|" : "",
				      (int)c[i].len, c[i].sku, c[i].pos);
	if (strcmp(got, want))
		printf("# candidates of '%s': '%s'\n", filename, got);
	return !strcmp(got, want);
}

static int record_is(const char *meta_json, const char *want_json)
{
	json_t *meta = json_loads(meta_json, 0, NULL), *want = json_loads(want_json, 0, NULL);
	json_t *got = pim_asset_record_of(meta);
	int ok = got && want && json_equal(got, want);

	if (!ok) {
		char *s = got ? json_dumps(got, JSON_COMPACT) : NULL;

		printf("# record of %s: %s\n", meta_json, s ? s : "NULL");
		free(s);
	}
	json_decref(meta);
	json_decref(want);
	json_decref(got);
	return ok;
}

/* pim_asset_usable on 2026-11-23 of a record given as JSON (NULL: none) */
static int usable_is(const char *rec_json, bool want)
{
	json_t *rec = rec_json ? json_loads(rec_json, 0, NULL) : NULL;
	bool got = pim_asset_usable(rec, "2026-11-23");

	if (got != want)
		printf("# usable(%s): %d\n", rec_json ? rec_json : "NULL", got);
	json_decref(rec);
	return got == want;
}

int main(void)
{
	struct pim_name_cand c[2];

	ok(cands_are("TS-001_1.jpg", "TS-001_1@0|TS-001@1|TS@0"), "SKU_N: the stem, then cut at each separator");
	ok(cands_are("TS-001-front.png", "TS-001-front@0|TS-001@0|TS@0"), "SKU-word: no position");
	ok(cands_are("TS-001-RED-M_12.jpeg", "TS-001-RED-M_12@0|TS-001-RED-M@12|TS-001-RED@0|TS-001@0|TS@0"),
	   "SKUs with '-' in them are tried longest first");
	ok(cands_are("CAP_010-3.webp", "CAP_010-3@0|CAP_010@3|CAP@0"), "-N gives a position too");
	ok(cands_are("ABC.jpg", "ABC@0"), "no separator: the stem alone");
	ok(cands_are("ABC", "ABC@0"), "no extension: the whole name");
	ok(cands_are("photos/2024/TS-001_2.jpg", "TS-001_2@0|TS-001@2|TS@0"), "directories are not part of the name");
	ok(cands_are("a\\b\\X_1.png", "X_1@0|X@1"), "backslash directories too");
	ok(cands_are("SKU.v2.tar.jpg", "SKU.v2.tar@0"), "only the last extension is cut");
	ok(cands_are(".hidden", ".hidden@0"), "a leading dot is no extension");
	ok(cands_are("_1.jpg", "_1@0"), "a leading separator leaves nothing shorter");
	ok(cands_are("SKU__1.jpg", "SKU__1@0|SKU_@1|SKU@0"), "doubled separators");
	ok(cands_are("SKU_12345.jpg", "SKU_12345@0|SKU@0"), "over four digits is no position");
	ok(cands_are("SKU_0.jpg", "SKU_0@0|SKU@0"), "_0 is no position");
	ok(cands_are("", ""), "an empty name names nothing");
	ok(pim_asset_name_candidates("A-B-C-D.jpg", c, 2) == 2, "bounded by max");

	ok(!pim_asset_expired(NULL, "2026-11-23"), "no expiry: never expired");
	ok(!pim_asset_expired("2026-11-23", "2026-11-23"), "the last day is still covered");
	ok(pim_asset_expired("2026-11-22", "2026-11-23"), "the day after, expired");
	ok(!pim_asset_expired("2030-01-01", "2026-11-23"), "future expiry");
	ok(!pim_asset_expired("2020", "2026-11-23"), "not a date: ignored");

	ok(usable_is(NULL, true), "an asset pimd has no record of is usable (pimd without damd)");
	ok(usable_is("{\"expires\":null,\"deleted\":false}", true), "a live asset without expiry");
	ok(usable_is("{\"expires\":null,\"deleted\":true}", false), "deleted in damd: not usable");
	ok(usable_is("{\"expires\":\"2026-11-22\",\"deleted\":false}", false), "rights ended yesterday");
	ok(usable_is("{\"expires\":\"2026-11-23\",\"deleted\":false}", true), "rights end tonight: usable today");
	ok(usable_is("{\"expires\":\"2999-12-31\",\"deleted\":true}", false), "deleted, though its rights run on");
	ok(usable_is("{\"width\":10}", true), "a record without those members");

	ok(record_is("{\"id\":\"sha256:x\",\"width\":1200,\"height\":1800,\"orientation\":6,"
		     "\"alt\":{\"en_US\":\"Tee\"},\"filenames\":[\"T_1.jpg\"],\"skus\":[\"T\"],"
		     "\"rights\":{\"holder\":null,\"licence\":null,\"expires\":\"2030-01-01\"},\"deleted\":false,"
		     "\"focal_point\":{\"x\":0.3,\"y\":0.6}}",
		     "{\"width\":1800,\"height\":1200,\"alt\":{\"en_US\":\"Tee\"},\"filenames\":[\"T_1.jpg\"],"
		     "\"skus\":[\"T\"],\"focal\":{\"x\":0.3,\"y\":0.6},\"expires\":\"2030-01-01\",\"deleted\":false}"),
	   "orientation 6: upright size; the fields projections and linking use");
	ok(record_is("{\"width\":640,\"height\":480,\"orientation\":3}",
		     "{\"width\":640,\"height\":480,\"alt\":{},\"filenames\":[],\"skus\":[],\"focal\":null,\"expires\":null,\"deleted\":false}"),
	   "orientation 3 keeps its size; missing members get defaults");
	ok(record_is("{\"mime\":\"application/pdf\",\"alt\":[1],\"deleted\":true}",
		     "{\"width\":null,\"height\":null,\"alt\":{},\"filenames\":[],\"skus\":[],\"focal\":null,\"expires\":null,\"deleted\":true}"),
	   "no size, a malformed alt, deleted");
	return tap_done();
}
