/* libimp on the real catalogs in ../shared/data and on small fixtures:
 * product counts, spot values, the row and file errors. */
#include "buf.h"
#include "err.h"
#include "json.h"
#include "../../importers/csvr.h"
#include "../../importers/imp.h"
#include "../../importers/values.h"
#include "imp_starter.h"
#include "tap.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct res {
	json_t *docs;   /* [{"op","line","doc"}] */
	json_t *failed; /* [{"line","errors"}] */
	json_t *notes;  /* [{"line","field","code","message"}] */
	json_t *schema_docs;
	json_t *models; /* [{"op","line","doc"}] (Akeneo sub-models) */
	int rc;
	struct hub_err err;
	struct imp_fault fault; /* where a malformed file went wrong */
};

static json_t *g_schema;
static const char *g_data;
static bool g_models; /* the sink takes Akeneo sub-models */
static const char *g_locale; /* the import's locale (imp_opts.locale) */

static const char *op_name(enum imp_op op)
{
	return op == IMP_PUT ? "put" : op == IMP_PATCH ? "patch" : "disable";
}

static int s_doc(void *cls, json_t *doc, enum imp_op op, long line)
{
	struct res *r = cls;

	json_array_append_new(r->docs, json_pack("{s:s,s:i,s:O}", "op", op_name(op),
						 "line", (json_int_t)line, "doc", doc));
	return 0;
}

static void s_failed(void *cls, long line, json_t *errors)
{
	struct res *r = cls;

	json_array_append_new(r->failed, json_pack("{s:i,s:O}", "line", (json_int_t)line, "errors", errors));
}

static void s_note(void *cls, long line, const char *field, const char *code, const char *msg)
{
	struct res *r = cls;

	json_array_append_new(r->notes, json_pack("{s:i,s:s?,s:s,s:s}", "line", (json_int_t)line, "field",
						  field, "code", code, "message", msg));
}

static int s_schema(void *cls, const char *kind, json_t *doc, long line)
{
	struct res *r = cls;

	(void)line;
	json_array_append_new(r->schema_docs, json_pack("{s:s,s:O}", "kind", kind, "doc", doc));
	return 0;
}

static int s_model(void *cls, json_t *doc, enum imp_op op, long line)
{
	struct res *r = cls;

	json_array_append_new(r->models, json_pack("{s:s,s:i,s:O}", "op", op_name(op),
						   "line", (json_int_t)line, "doc", doc));
	return 0;
}

/* Lanes (imp_sink.lanes): what prepare made is handed back on the thread
 * that made it; a sink failure on a lane stops the import. */
struct lane_prep {
	pthread_t by;
};

static int g_lanes;          /* imp_sink.lanes of the next run */
static long g_fail_line;     /* doc_prepared fails at this line (0: never) */
static atomic_int g_prepared; /* prepare calls */
static int g_chunks, g_wrong_thread, g_nthreads;
static pthread_t g_threads[8]; /* the lanes seen by doc_prepared */

static void *s_prepare(void *cls, json_t *doc, enum imp_op op)
{
	struct lane_prep *p = malloc(sizeof(*p));

	(void)cls;
	(void)doc;
	(void)op;
	if (p)
		p->by = pthread_self();
	atomic_fetch_add(&g_prepared, 1);
	return p;
}

static int s_doc_prepared(void *cls, json_t *doc, enum imp_op op, long line, void *prep)
{
	struct lane_prep *p = prep;
	int i;

	if (!p || !pthread_equal(p->by, pthread_self()))
		g_wrong_thread++;
	for (i = 0; i < g_nthreads && !pthread_equal(g_threads[i], pthread_self()); i++)
		;
	if (i == g_nthreads && g_nthreads < 8)
		g_threads[g_nthreads++] = pthread_self();
	if (g_fail_line && line >= g_fail_line)
		return HUB_EIO;
	return s_doc(cls, doc, op, line);
}

static void s_prep_free(void *prep)
{
	free(prep);
}

static int s_chunk_done(void *cls)
{
	(void)cls;
	g_chunks++;
	return 0;
}

static void res_free(struct res *r)
{
	json_decref(r->docs);
	json_decref(r->failed);
	json_decref(r->notes);
	json_decref(r->schema_docs);
	json_decref(r->models);
}

static void run_fd(struct res *r, int fd, enum imp_format f, const char *profile)
{
	struct imp_sink sink = {
		.doc = s_doc,
		.row_failed = s_failed,
		.note = s_note,
		.schema_doc = s_schema,
		.cls = r,
		.model = g_models ? s_model : NULL,
		.lanes = g_lanes,
		.prepare = s_prepare,
		.doc_prepared = s_doc_prepared,
		.prep_free = s_prep_free,
		.chunk_done = s_chunk_done,
	};
	struct imp_opts o = {f, g_schema, NULL, g_locale, &r->fault};

	memset(r, 0, sizeof(*r));
	r->fault.byte = -1;
	r->docs = json_array();
	r->failed = json_array();
	r->notes = json_array();
	r->schema_docs = json_array();
	r->models = json_array();
	if (!profile)
		profile = imp_default_profile(f);
	if (profile && imp_profile_load("schemas/profiles", profile, &o.profile, &r->err) < 0) {
		r->rc = r->err.code;
		return;
	}
	r->rc = imp_run(fd, &o, &sink, &r->err);
	json_decref(o.profile);
	if (getenv("IMP_DEBUG")) {
		char *s = json_dumps(r->docs, JSON_INDENT(1));

		fprintf(stderr, "%s\n", s);
		free(s);
		s = json_dumps(r->failed, JSON_INDENT(1));
		fprintf(stderr, "failed %s\n", s);
		free(s);
		s = json_dumps(r->notes, JSON_INDENT(1));
		fprintf(stderr, "notes %s\nrc %d %s\n", s, r->rc, r->err.msg);
		free(s);
	}
}

static void run_file(struct res *r, const char *rel, enum imp_format f, const char *profile)
{
	char path[2048];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", g_data, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		memset(r, 0, sizeof(*r));
		r->docs = json_array();
		r->failed = json_array();
		r->notes = json_array();
		r->schema_docs = json_array();
		r->models = json_array();
		r->rc = HUB_EIO;
		snprintf(r->err.msg, sizeof(r->err.msg), "cannot open %.400s", path);
		return;
	}
	run_fd(r, fd, f, profile);
	close(fd);
}

static void run_text(struct res *r, const char *text, enum imp_format f, const char *profile)
{
	char path[] = "/tmp/imp-test-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("mkstemp");
		exit(1);
	}
	unlink(path);
	lseek(fd, 0, SEEK_SET);
	run_fd(r, fd, f, profile);
	close(fd);
}

/* The document written for sku (the last one), or NULL. */
static json_t *doc_of(const struct res *r, const char *sku)
{
	size_t i;
	json_t *d, *found = NULL;

	json_array_foreach(r->docs, i, d) {
		json_t *doc = json_object_get(d, "doc");
		const char *s = json_string_value(json_object_get(doc, "sku"));

		if (s && !strcmp(s, sku))
			found = doc;
	}
	return found;
}

/* values[attr] entry's data for locale (NULL: the first entry). */
static json_t *val_of(json_t *doc, const char *attr, const char *locale)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(json_object_get(doc, "values"), attr), i, e) {
		const char *l = json_string_value(json_object_get(e, "locale"));

		if (!locale || (l && !strcmp(l, locale)))
			return json_object_get(e, "data");
	}
	return NULL;
}

static const char *sval(json_t *doc, const char *attr, const char *locale)
{
	return json_string_value(val_of(doc, attr, locale));
}

static bool streq(const char *a, const char *b)
{
	if (!a || !b || strcmp(a, b)) {
		printf("# got '%s', want '%s'\n", a ? a : "(null)", b ? b : "(null)");
		return false;
	}
	return true;
}

static size_t count_with_parent(const struct res *r, bool parented)
{
	size_t i, n = 0;
	json_t *d;

	json_array_foreach(r->docs, i, d)
		if (json_is_string(json_object_get(json_object_get(d, "doc"), "parent")) == parented)
			n++;
	return n;
}

static bool has_note(const struct res *r, const char *code, const char *field)
{
	size_t i;
	json_t *n;

	json_array_foreach(r->notes, i, n)
		if (!strcmp(json_string_value(json_object_get(n, "code")), code) &&
		    (!field || (json_string_value(json_object_get(n, "field")) &&
				!strcmp(json_string_value(json_object_get(n, "field")), field))))
			return true;
	return false;
}

static void test_csv_basics(void)
{
	struct res r;
	json_t *d;

	run_text(&r,
		 "\xEF\xBB\xBFsku;family;categories;enabled;name-en_US;name-fr_FR;price-EUR;price-USD;"
		 "weight;weight-unit;gender;nosuch;name-xx_XX\n"
		 "A-1;default;master,men;1;\"Tee, \"\"organic\"\"\";T-shirt;19.90;21.00;120;g;"
		 "female;x;y\n"
		 "\n"
		 "A-2;default;;0;\"two\nlines\";;12,5O;;;;;;\n"
		 "A-3;default;;yes;Third;;;;;;nobody;;\n",
		 IMP_CSV, NULL);
	ok(r.rc == 0, "CSV with BOM and ';' reads: %s", r.err.msg);
	ok(json_array_size(r.docs) == 1, "one good row of three (got %zu)", json_array_size(r.docs));
	d = doc_of(&r, "A-1");
	ok(d && streq(sval(d, "name", "en_US"), "Tee, \"organic\""), "quoted cell with ; and \"\"");
	ok(d && streq(sval(d, "name", "fr_FR"), "T-shirt"), "name-fr_FR is the fr_FR value");
	ok(d && json_array_size(val_of(d, "price", NULL)) == 2, "two currencies in one price");
	ok(d && streq(json_string_value(json_object_get(json_array_get(val_of(d, "price", NULL), 0), "amount")),
		      "19.90"),
	   "price amount kept as the decimal string");
	ok(d && streq(json_string_value(json_object_get(val_of(d, "weight", NULL), "unit")), "g"),
	   "weight + weight-unit make one metric");
	ok(d && json_array_size(json_object_get(d, "categories")) == 2, "categories split on ','");
	ok(d && json_is_true(json_object_get(d, "enabled")), "enabled 1 is true");
	ok(json_array_size(r.failed) == 2, "two failed rows (got %zu)", json_array_size(r.failed));
	ok(json_integer_value(json_object_get(json_array_get(r.failed, 0), "line")) == 4,
	   "the bad price is reported on line 4 where its row starts");
	ok(streq(json_string_value(json_object_get(
			 json_array_get(json_object_get(json_array_get(r.failed, 0), "errors"), 0), "code")),
		 "not_a_decimal"),
	   "'12,5O' is not_a_decimal");
	ok(json_integer_value(json_object_get(json_array_get(r.failed, 1), "line")) == 6,
	   "the multi-line cell counts its lines (next row on line 6)");
	ok(has_note(&r, "unknown_attribute", "nosuch"), "unknown column reported once");
	ok(has_note(&r, "unknown_locale", "name-xx_XX"), "unknown locale reported once");
	ok(!strcmp(json_string_value(json_object_get(json_array_get(r.docs, 0), "op")), "patch"),
	   "a plain CSV row is a patch of the columns it has");
	res_free(&r);

	run_text(&r, "sku\tname\r\nT-1\tTab\r\nT-2\t\"a\tb\"\r\n", IMP_CSV, NULL);
	ok(r.rc == 0 && json_array_size(r.docs) == 2, "tab-separated with CRLF");
	ok(streq(sval(doc_of(&r, "T-2"), "name", "en_US"), "a\tb"), "quoted tab kept");
	res_free(&r);
}

static void test_hostile_csv(void)
{
	static const char *files[] = {"cr-line-endings.csv", "empty.csv", "escaped_quotes.csv",
				      "inconsistent-line-endings.csv", "json.csv",
				      "quotes_and_newlines.csv", "utf8.csv"};
	struct res r;
	char rel[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), "hostile/csv/%s", files[i]);
		run_file(&r, rel, IMP_CSV, NULL);
		ok(r.rc == HUB_EINVALID && strstr(r.err.msg, "no 'sku' column"),
		   "%s: clear error (%s)", files[i], r.err.msg);
		res_free(&r);
	}
	run_file(&r, "hostile/csv/invalid-byte-sequence.csv", IMP_CSV, NULL);
	ok(r.rc == HUB_EINVAL && strstr(r.err.msg, "not UTF-8") && strstr(r.err.msg, "line 1,"),
	   "invalid-byte-sequence.csv: not UTF-8 with line and byte (%s)", r.err.msg);
	ok(r.fault.line == 1 && r.fault.byte == 33, "the bad byte's position is given apart (%ld, %lld)",
	   r.fault.line, r.fault.byte);
	res_free(&r);
	run_text(&r, "sku,name-en_US\nA,ok\nB,ok\nC,caf\xe9\n", IMP_CSV, NULL);
	ok(r.rc == HUB_EINVAL && r.fault.line == 4 && r.fault.byte == 30 &&
		   strstr(r.err.msg, "line 4, byte 30:"),
	   "a bad byte on line 4: line and byte (%s)", r.err.msg);
	res_free(&r);
	run_text(&r, "", IMP_CSV, NULL);
	ok(r.rc == HUB_EINVAL && strstr(r.err.msg, "empty"), "an empty file is an error (%s)", r.err.msg);
	res_free(&r);
}

static void test_hostile_xml(void)
{
	static const char *files[] = {"dtd.xml",	  "empty.xml",	     "external.xml",
				      "external_file.xml", "quadratic.xml",    "truncated-utf16.xml",
				      "unclosed-element.xml", "utf8-1.xml",   "xmlbomb.xml"};
	struct res r;
	char rel[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		for (int f = 0; f < 2; f++) {
			snprintf(rel, sizeof(rel), "hostile/xml/%s", files[i]);
			run_file(&r, rel, f ? IMP_BMECAT : IMP_GMC_XML, NULL);
			ok(r.rc < 0 && json_array_size(r.docs) == 0 && r.err.msg[0],
			   "%s as %s: %s", files[i], f ? "bmecat" : "gmc-xml", r.err.msg);
			res_free(&r);
		}
	}
	run_file(&r, "hostile/xml/xmlbomb.xml", IMP_GMC_XML, NULL);
	ok(strstr(r.err.msg, "entit") != NULL, "the bomb is refused for its entities");
	/* libxml2 reports the loop where the document uses the entity (line
	 * 7), not at line 1 of the entity's own text */
	ok(r.fault.line == 7 && r.fault.byte == 175 && strstr(r.err.msg, "line 7, byte 175:"),
	   "the bomb: the line libxml2 reports (%s)", r.err.msg);
	res_free(&r);
	run_file(&r, "hostile/xml/unclosed-element.xml", IMP_GMC_XML, NULL);
	ok(strstr(r.err.msg, "line") && strstr(r.err.msg, "byte"), "broken XML names line and byte");
	ok(r.fault.line == 1 && r.fault.byte == 3 && strstr(r.err.msg, "never closed") &&
		   !strstr(r.err.msg, "Extra content"),
	   "a file cut inside an element says so (%s)", r.err.msg);
	res_free(&r);
	run_text(&r, "<rss>\n<channel>\n<item><title>caf\xc3\xa9</title>\n<item>\n</channel>\n</rss>\n",
		 IMP_GMC_XML, NULL);
	ok(r.rc == HUB_EINVAL && r.fault.line == 5 && r.fault.byte == 60 &&
		   strstr(r.err.msg, "line 5, byte 60: malformed XML: Opening and ending tag mismatch"),
	   "a tag mismatch: libxml2's line and column as a byte offset (%s)", r.err.msg);
	res_free(&r);
	run_text(&r, "<rss><channel></channel></rss>\n<rss/>\n", IMP_GMC_XML, NULL);
	ok(r.rc == HUB_EINVAL && r.fault.line == 2 && strstr(r.err.msg, "more after the end"),
	   "content after the root element (%s)", r.err.msg);
	res_free(&r);
}

static void test_gmc(void)
{
	struct res r;
	json_t *d;

	run_file(&r, "catalogs/google-merchant/opispot_google_feed.xml", IMP_GMC_XML, NULL);
	ok(r.rc == 0, "opispot feed reads: %s", r.err.msg);
	ok(count_with_parent(&r, true) == 486 && json_array_size(r.docs) == 486 + 23,
	   "486 items in 23 groups: 486 variants and 23 parents (variants %zu, docs %zu)",
	   count_with_parent(&r, true), json_array_size(r.docs));
	d = doc_of(&r, "6a17ffae-9f12-4aee-a88e-065550472ff5");
	ok(d && streq(json_string_value(json_object_get(d, "parent")),
		      "c984af97-0bb7-435d-9d0f-5a4caceef023"),
	   "item_group_id becomes the parent");
	ok(d && streq(sval(d, "size", NULL), "15\xE2\x80\xB3"), "variant keeps its size axis");
	ok(d && streq(json_string_value(json_object_get(json_array_get(val_of(d, "price", NULL), 0),
							 "currency")),
		      "USD"),
	   "'32.0 USD' gives the currency");
	ok(d && streq(sval(d, "availability", NULL), "in_stock"), "availability 'in stock' → in_stock");
	d = doc_of(&r, "c984af97-0bb7-435d-9d0f-5a4caceef023");
	ok(d && sval(d, "name", "en_US") && strstr(sval(d, "name", "en_US"), "La Luna Digital"),
	   "the parent carries the title");
	ok(d && streq(sval(d, "brand", NULL), "Opispot"), "the parent carries the brand");
	res_free(&r);

	run_file(&r, "catalogs/google-merchant/lake-erie-clothing_google_feed.tsv", IMP_GMC_TSV, NULL);
	ok(r.rc == 0, "lake-erie TSV reads: %s", r.err.msg);
	ok(count_with_parent(&r, true) == 153 && json_array_size(r.docs) == 160 + 22,
	   "160 TSV items: 153 variants in 22 groups and 7 on their own (variants %zu, docs %zu)",
	   count_with_parent(&r, true), json_array_size(r.docs));
	d = doc_of(&r, "98650bd8-5981-4055-8e14-5e144a04a23a");
	ok(d && streq(sval(d, "color", NULL), "Solid White Blend"), "TSV color");
	d = doc_of(&r, "2d50ecb4-8320-40e2-ab5c-17883fe08b4c");
	ok(d && streq(sval(d, "name", "en_US"),
		      "\"Lake Erie Loot Crew\" Women's Spaghetti Strap Pirate Fest Tank Top"),
	   "TSV quoted title with doubled quotes");
	ok(d && streq(sval(d, "gender", NULL), "female"), "TSV gender on the parent");
	res_free(&r);
}

static void test_shopify(void)
{
	struct res r;
	json_t *d;

	run_file(&r, "catalogs/shopify/apparel.csv", IMP_CSV, "shopify");
	ok(r.rc == 0, "apparel.csv reads: %s", r.err.msg);
	ok(json_array_size(r.docs) == 23, "20 handles + 3 variants = 23 documents (got %zu, failed %zu)",
	   json_array_size(r.docs), json_array_size(r.failed));
	d = doc_of(&r, "classic-varsity-top-2");
	ok(d && streq(json_string_value(json_object_get(d, "parent")), "classic-varsity-top"),
	   "variant handle-N under its handle");
	ok(d && streq(sval(d, "size", NULL), "Medium"), "Option1 Size → size");
	d = doc_of(&r, "ocean-blue-shirt");
	ok(d && !json_object_get(d, "parent"), "Default Title product has no parent");
	ok(d && streq(json_string_value(json_object_get(json_array_get(val_of(d, "price", NULL), 0),
							 "amount")),
		      "50"),
	   "price from Variant Price");
	ok(d && sval(d, "description", "en_US") &&
		   !strchr(sval(d, "description", "en_US"), '<'),
	   "Body (HTML) stripped");
	res_free(&r);

	run_file(&r, "catalogs/shopify/jewelery.csv", IMP_CSV, "shopify");
	ok(r.rc == 0, "jewelery.csv reads: %s", r.err.msg);
	d = doc_of(&r, "boho-earrings");
	ok(d && sval(d, "additional_image_links", NULL) &&
		   strstr(sval(d, "additional_image_links", NULL), "inspired-woman"),
	   "image-only rows attach to the product");
	d = doc_of(&r, "leather-anchor-2");
	ok(d && streq(sval(d, "color", NULL), "Silver"), "Color option → color");
	ok(!doc_of(&r, "leather-anchor-3"), "an image-only row is not a variant");
	res_free(&r);

	/* a handle's first row with no cell that makes a value: its variants
	 * still get documents (they were handed on as NULL) */
	run_text(&r, "Handle,Option1 Value\nmug\nmug,red\n", IMP_CSV, "shopify");
	d = doc_of(&r, "mug-2");
	ok(r.rc == 0 && json_array_size(r.docs) == 3 && doc_of(&r, "mug") && d &&
		   streq(json_string_value(json_object_get(d, "parent")), "mug") &&
		   json_is_object(json_object_get(d, "values")),
	   "rows without values: the product and both variants (%zu documents)",
	   json_array_size(r.docs));
	res_free(&r);
}

static void test_magento(void)
{
	struct res r;
	json_t *d;

	{
		int fd = open("tests/data/imp-magento-export.csv", O_RDONLY);

		if (fd < 0) {
			perror("tests/data/imp-magento-export.csv");
			exit(1);
		}
		run_fd(&r, fd, IMP_CSV, "magento");
		close(fd);
	}
	ok(r.rc == 0, "Magento export reads: %s", r.err.msg);
	d = doc_of(&r, "MH01-XS-Black");
	ok(d && streq(json_string_value(json_object_get(d, "parent")), "MH01"),
	   "configurable_variations link the child to its configurable");
	ok(d && streq(sval(d, "color", NULL), "Black"), "additional_attributes color=Black");
	ok(d && !val_of(d, "name", NULL), "the variant inherits the name");
	d = doc_of(&r, "MH01");
	ok(d && sval(d, "description", "en_US") && strstr(sval(d, "description", "en_US"), "hoodie") &&
		   !strchr(sval(d, "description", "en_US"), '<'),
	   "multi-line HTML description stripped to text");
	{
		size_t i, parent_at = 0, child_at = 0;
		json_t *x;

		json_array_foreach(r.docs, i, x) {
			const char *s = json_string_value(json_object_get(json_object_get(x, "doc"), "sku"));

			if (!strcmp(s, "MH01"))
				parent_at = i + 1;
			if (!strcmp(s, "MH01-XS-Black"))
				child_at = i + 1;
		}
		ok(parent_at && child_at && parent_at < child_at,
		   "the configurable is written before its children");
	}
	d = doc_of(&r, "24-MB01");
	ok(d && !json_object_get(d, "parent") &&
		   streq(json_string_value(json_object_get(json_array_get(val_of(d, "price", NULL), 0), "amount")),
			 "34.00"),
	   "a simple product on its own");
	res_free(&r);
}

static void test_bmecat(void)
{
	struct res r;
	json_t *d;

	run_file(&r, "catalogs/bmecat/olivere_bmecat12_new_catalog.xml", IMP_BMECAT, NULL);
	ok(r.rc == 0, "BMEcat 1.2 new catalog: %s", r.err.msg);
	d = doc_of(&r, "1000");
	ok(d && streq(sval(d, "name", "de_DE"), "Apple MacBook Pro 13\""), "DESCRIPTION_SHORT → name de_DE");
	ok(d && streq(sval(d, "mpn", NULL), "MPN") && streq(sval(d, "brand", NULL), "Microsoft"),
	   "MANUFACTURER_AID/NAME → mpn, brand");
	ok(d && !val_of(d, "gtin", NULL) && has_note(&r, "bad_gtin", "EAN"),
	   "an EAN with a wrong check digit is left out and reported");
	ok(d && streq(json_string_value(json_object_get(json_array_get(val_of(d, "price", NULL), 0), "amount")),
		      "1499.5"),
	   "the price of the lowest bound");
	ok(d && sval(d, "image_link", NULL) && strstr(sval(d, "image_link", NULL), "https://example.com/images/55-K-31.jpg"),
	   "MIME_SOURCE under MIME_ROOT");
	res_free(&r);

	run_file(&r, "catalogs/bmecat/olivere_bmecat2005_new_catalog.xml", IMP_BMECAT, NULL);
	ok(r.rc == 0 && doc_of(&r, "1000"), "BMEcat 2005 PRODUCT: %s", r.err.msg);
	d = doc_of(&r, "1000");
	ok(d && streq(json_string_value(json_object_get(val_of(d, "weight", NULL), "amount")), "1.37"),
	   "2005 WEIGHT → weight");
	res_free(&r);

	run_file(&r, "catalogs/bmecat/olivere_bmecat12_update_prices.xml", IMP_BMECAT, NULL);
	ok(r.rc == 0 && json_array_size(r.docs) >= 1, "T_UPDATE_PRICES: %s", r.err.msg);
	d = json_array_get(r.docs, 0);
	ok(d && streq(json_string_value(json_object_get(d, "op")), "patch") &&
		   val_of(json_object_get(d, "doc"), "price", NULL) &&
		   !val_of(json_object_get(d, "doc"), "name", NULL),
	   "a price update is a patch of prices only");
	res_free(&r);

	run_file(&r, "catalogs/bmecat/olivere_bmecat12_update_products.xml", IMP_BMECAT, NULL);
	ok(r.rc == 0 && json_array_size(r.docs) == 2, "T_UPDATE_PRODUCTS: %s", r.err.msg);
	d = json_array_get(r.docs, 1);
	ok(streq(json_string_value(json_object_get(d, "op")), "disable") &&
		   json_is_false(json_object_get(json_object_get(d, "doc"), "enabled")),
	   "mode=\"delete\" disables, never creates");
	res_free(&r);

	run_file(&r, "catalogs/bmecat/kstools_crossbase_bmecat12.xml", IMP_BMECAT, NULL);
	ok(r.rc == 0, "KS Tools (DTD internal subset without entities): %s", r.err.msg);
	ok(json_array_size(r.docs) == 1,
	   "its one article is one document, categories included (%zu)", json_array_size(r.docs));
	ok(json_array_size(r.schema_docs) > 1 && json_array_size(r.schema_docs) < 50,
	   "the catalog groups its article uses become categories, parents first (%zu of 1660)",
	   json_array_size(r.schema_docs));
	{
		json_t *last = json_object_get(json_array_get(r.docs, json_array_size(r.docs) - 1), "doc");

		ok(json_array_size(json_object_get(last, "categories")) == 2 &&
			   !strncmp(json_string_value(json_array_get(json_object_get(last, "categories"), 0)),
				    "bmecat_", 7),
		   "ARTICLE_TO_CATALOGGROUP_MAP sets the article's categories");
		ok(!json_object_get(json_object_get(json_array_get(r.schema_docs, 0), "doc"), "parent") ||
			   json_is_null(json_object_get(json_object_get(json_array_get(r.schema_docs, 0), "doc"), "parent")),
		   "the root group comes first");
	}
	res_free(&r);

	run_file(&r, "catalogs/bmecat/WEI_BMECat_7760056069.xml", IMP_BMECAT, NULL);
	ok(r.rc == 0 && json_array_size(r.docs) >= 1, "Weidmüller BMEcat 2005: %s", r.err.msg);
	d = json_object_get(json_array_get(r.docs, 0), "doc");
	ok(d && sval(d, "name", "de_DE") && sval(d, "name", "en_US"), "names in deu and eng");
	res_free(&r);
}

static void test_jsonl(void)
{
	struct res r;
	json_t *d;

	run_text(&r,
		 "{\"sku\":\"J-1\",\"family\":\"default\",\"values\":{},\"version\":3}\n"
		 "{\"identifier\":\"J-2\",\"family\":\"default\",\"values\":{\"price\":[{\"locale\":null,"
		 "\"scope\":\"web\",\"data\":[{\"amount\":45,\"currency\":\"EUR\"}]}]},"
		 "\"associations\":{\"X_SELL\":{\"products\":[\"J-1\"],\"product_models\":[\"M\"],\"groups\":[]}}}\n"
		 "{broken\n"
		 "\n",
		 IMP_JSONL, NULL);
	ok(r.rc == 0 && json_array_size(r.docs) == 2, "two documents, one broken line");
	ok(!json_object_get(doc_of(&r, "J-1"), "version"), "server fields dropped");
	d = doc_of(&r, "J-2");
	{
		json_t *e = json_array_get(json_object_get(json_object_get(d, "values"), "price"), 0);

		ok(e && streq(json_string_value(json_object_get(e, "channel")), "web"), "scope → channel");
		ok(e && streq(json_string_value(json_object_get(json_array_get(json_object_get(e, "data"), 0),
								 "amount")),
			      "45"),
		   "numeric amount → decimal string");
	}
	ok(json_array_size(json_object_get(json_object_get(json_object_get(d, "associations"), "X_SELL"),
					   "products")) == 2,
	   "product models join products in associations");
	ok(json_integer_value(json_object_get(json_array_get(r.failed, 0), "line")) == 3,
	   "the broken line is line 3");
	res_free(&r);
}

/* Akeneo's product models file with the akeneo profile: a row naming a
 * parent model is a sub-model, handed to the sink's model callback. */
static void test_akeneo_models(void)
{
	struct res r;
	json_t *m = NULL, *d;
	size_t i;

	g_models = true;
	run_file(&r, "catalogs/akeneo-icecat-demo/product_models.csv", IMP_CSV, "akeneo");
	ok(r.rc == 0, "akeneo product models: read (%s)", r.err.msg);
	ok(json_array_size(r.models) == 31 && json_array_size(r.docs) == 50,
	   "31 sub-models to the model callback, 50 root models as products (%zu, %zu)",
	   json_array_size(r.models), json_array_size(r.docs));
	ok(count_with_parent(&r, true) == 0, "no product document names a parent");
	json_array_foreach(r.models, i, d) {
		const char *code = json_string_value(json_object_get(json_object_get(d, "doc"), "sku"));

		if (code && !strcmp(code, "apollon_blue"))
			m = d;
	}
	d = json_object_get(m, "doc");
	ok(d && streq(json_string_value(json_object_get(d, "parent")), "apollon") &&
		   streq(json_string_value(json_object_get(d, "family")), "clothing_color_size") &&
		   streq(sval(d, "color", NULL), "blue") &&
		   json_array_has_string(json_object_get(d, "categories"), "master_men_blazers_deals"),
	   "sub-model apollon_blue: its root, family variant, color and categories");
	ok(streq(json_string_value(json_object_get(m, "op")), "patch") &&
		   json_integer_value(json_object_get(m, "line")) == 5,
	   "as a merge patch, with its line");
	res_free(&r);

	g_models = false;
	run_file(&r, "catalogs/akeneo-icecat-demo/product_models.csv", IMP_CSV, "akeneo");
	ok(json_array_size(r.docs) == 81 && count_with_parent(&r, true) == 31,
	   "without a model callback, sub-models are documents with a parent");
	res_free(&r);

	g_models = true;
	run_text(&r, "sku;family;parent;color\nX-1;clothing;apollon_blue;blue\n", IMP_CSV, "akeneo");
	ok(json_array_size(r.models) == 0 && count_with_parent(&r, true) == 1,
	   "a products file's rows with a parent stay products");
	res_free(&r);
	g_models = false;
}

/* Akeneo's families and family variants files: a row without a code (or a
 * family) is skipped, and keeps nothing it allocated (CI's ASan pass
 * checks); a variant of a family the catalog lacks is a note; the others
 * become families. */
static void test_akeneo_family_variants(void)
{
	struct res r;
	json_t *d, *fam = NULL;
	size_t i;

	run_text(&r,
		 "code;family;label-en_US;variant-axes_1;variant-axes_2;variant-attributes_1;"
		 "variant-attributes_2\n"
		 ";apparel;No code;color;;color;\n"
		 "no_family;;No family;color;;color;\n"
		 "elsewhere;shoes;Shoes;size;;size;\n"
		 "apparel_by_color;apparel;By colour;color;size;color,material;sku,size\n",
		 IMP_CSV, "akeneo");
	ok(r.rc == 0, "family variants: read (%s)", r.err.msg);
	json_array_foreach(r.schema_docs, i, d)
		if (streq(json_string_value(json_object_get(d, "kind")), "families"))
			fam = fam ? json_null() : json_object_get(d, "doc");
	ok(json_is_object(fam) && streq(json_string_value(json_object_get(fam, "code")), "apparel_by_color") &&
		   json_array_has_string(json_object_get(fam, "variant_axes"), "size") &&
		   json_array_has_string(json_object_get(fam, "variant_attributes"), "material"),
	   "one family, apparel_by_color, with both levels' axes and attributes");
	d = json_array_get(r.notes, 0);
	ok(json_array_size(r.notes) == 1 &&
		   streq(json_string_value(json_object_get(d, "code")), "unknown_family") &&
		   json_integer_value(json_object_get(d, "line")) == 4,
	   "the variant of a family the catalog lacks is noted, with its line");
	res_free(&r);

	run_text(&r,
		 "code;attributes;attribute_as_label;label-en_US;requirements-web\n"
		 ";sku,name;name;No code;sku\n"
		 "mugs;sku,name;name;Mugs;sku,name\n",
		 IMP_CSV, "akeneo");
	d = json_object_get(json_array_get(r.schema_docs, 0), "doc");
	ok(r.rc == 0 && json_array_size(r.schema_docs) == 1 &&
		   streq(json_string_value(json_object_get(d, "code")), "mugs") &&
		   json_array_has_string(json_object_get(json_object_get(d, "requirements"), "web"), "name"),
	   "families: the row without a code is skipped, mugs has its requirements");
	res_free(&r);
}

/* Values a row does not place take the import's locale, else the
 * profile's, else the catalog default: never the first code in sort
 * order (de_DE). */
/* A catalog with more attributes than map_value keeps at hand: each column
 * still lands in its own attribute, localizable or not. */
static void test_many_attributes(void)
{
	json_t *s = json_deep_copy(g_schema), *saved = g_schema, *attrs, *d;
	struct buf csv = BUF_INIT;
	struct res r;
	bool all = true;
	char code[32];

	attrs = json_object_get(s, "attributes");
	buf_adds(&csv, "sku;family");
	for (int i = 0; i < 1200; i++) {
		snprintf(code, sizeof(code), "attr_%d", i);
		json_object_set_new(attrs, code, json_pack("{s:s,s:s,s:b}", "code", code, "type", "text",
							   "localizable", i % 2));
		buf_addf(&csv, ";%s", code);
	}
	buf_adds(&csv, "\nMANY-1;default");
	for (int i = 0; i < 1200; i++)
		buf_addf(&csv, ";v%d", i);
	buf_adds(&csv, "\n");
	g_schema = s;
	run_text(&r, csv.data, IMP_CSV, NULL);
	d = doc_of(&r, "MANY-1");
	for (int i = 0; d && i < 1200; i++) {
		char want[16];

		snprintf(code, sizeof(code), "attr_%d", i);
		snprintf(want, sizeof(want), "v%d", i);
		all &= streq(sval(d, code, i % 2 ? "en_US" : NULL), want);
	}
	ok(r.rc == 0 && d && all, "1,200 attributes, each column's value in its attribute");
	res_free(&r);
	g_schema = saved;
	json_decref(s);
	buf_release(&csv);
}

static void test_locale(void)
{
	json_t *s = json_deep_copy(g_schema), *saved = g_schema, *web;
	struct res r;

	json_object_set_new(s, "locales", json_pack("[s,s,s]", "de_DE", "en_US", "fr_FR"));
	ok(streq(imp_catalog_locale(s), "en_US"), "the catalog default is web's first locale");
	web = json_object_get(json_object_get(s, "channels"), "web");
	json_object_set_new(web, "locales", json_pack("[s,s]", "fr_FR", "en_US"));
	ok(streq(imp_catalog_locale(s), "fr_FR"), "in the channel's own order");
	json_object_del(json_object_get(s, "channels"), "web");
	ok(streq(imp_catalog_locale(s), "en_US"), "no web channel: en_US when the catalog has it");
	json_object_set_new(s, "locales", json_pack("[s,s]", "fr_FR", "de_DE"));
	ok(streq(imp_catalog_locale(s), "fr_FR"),
	   "else the first locale of the first channel by code (app: fr_FR)");
	json_decref(s);
	s = json_deep_copy(g_schema);
	json_object_set_new(s, "locales", json_pack("[s,s,s]", "de_DE", "en_US", "fr_FR"));
	g_schema = s;
	run_file(&r, "catalogs/google-merchant/lake-erie-clothing_google_feed.tsv", IMP_GMC_TSV, NULL);
	ok(r.rc == 0 && sval(doc_of(&r, "2d50ecb4-8320-40e2-ab5c-17883fe08b4c"), "name", "en_US"),
	   "a Merchant feed without a locale: names in en_US");
	res_free(&r);
	g_locale = "fr_FR";
	run_file(&r, "catalogs/google-merchant/lake-erie-clothing_google_feed.tsv", IMP_GMC_TSV, NULL);
	ok(r.rc == 0 && sval(doc_of(&r, "2d50ecb4-8320-40e2-ab5c-17883fe08b4c"), "name", "fr_FR"),
	   "the import's locale wins");
	res_free(&r);
	run_text(&r, "sku;name\nL-1;Nom\n", IMP_CSV, NULL);
	ok(r.rc == 0 && sval(doc_of(&r, "L-1"), "name", "fr_FR"), "a CSV's bare column too");
	res_free(&r);
	g_locale = NULL;
	g_schema = saved;
	json_decref(s);
}

static int count_rec(void *cls, long line, const struct csvr_field *f, size_t n)
{
	long *c = cls;

	(void)line;
	(void)f;
	(void)n;
	(*c)++;
	return 0;
}

/* Inputs that end right before a PROT_NONE page: any read past the end
 * crashes. Every cut of each input is fed in two pieces. */
static void test_guard_page(void)
{
	static const char *inputs[] = {"a,b\n1,\"x\"\"y\"", "a;b\r\n\"open", "\xEF\xBB", "\xEF\xBB\xBFsku\tn\r",
				       "x,\"\n\n\"\r\n\r", "<p>caf&eacute; &#233 &#x", "4006381333931"};
	long page = sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool all = true;

	if (mem == MAP_FAILED || mprotect(mem + page, (size_t)page, PROT_NONE) < 0) {
		ok(0, "guard page");
		return;
	}
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		size_t n = strlen(inputs[i]);
		char *p = mem + page - n;

		memcpy(p, inputs[i], n);
		for (size_t cut = 0; cut <= n; cut++) {
			struct csvr *r = NULL;
			long recs = 0;
			char *t;
			size_t bad;

			if (csvr_new(&r, 0, count_rec, &recs, NULL) < 0) {
				all = false;
				break;
			}
			csvr_feed(r, p, cut, NULL);
			csvr_feed(r, p + cut, n - cut, NULL);
			csvr_finish(r, NULL);
			csvr_free(r);
			t = val_strip_html(p + cut, n - cut);
			free(t);
			(void)val_utf8_ok(p + cut, n - cut, &bad);
			(void)val_is_decimal(p + cut, n - cut);
		}
	}
	ok(all, "CSV reader, HTML stripping and checks never read past their input");
	munmap(mem, (size_t)page * 2);
}

static void test_lanes(void)
{
	struct buf csv = BUF_INIT;
	struct res serial, lanes;

	buf_adds(&csv, "sku,family,name-en_US,price-EUR,nosuch\n");
	for (int i = 1; i <= 2500; i++)
		buf_addf(&csv, "L-%d,default,Name %d,%s,\n", i, i, i % 300 ? "1.50" : "12,5O");
	buf_add(&csv, "", 1);
	run_text(&serial, csv.data, IMP_CSV, NULL);
	ok(g_prepared == 0 && g_chunks == 0, "without lanes nothing is prepared ahead");
	g_lanes = 2;
	run_text(&lanes, csv.data, IMP_CSV, NULL);
	ok(lanes.rc == 0, "2,500 rows on two lanes: %s", lanes.err.msg);
	ok(json_array_size(lanes.docs) == 2492 && json_equal(lanes.docs, serial.docs),
	   "the same documents in the same order as on one thread (%zu)",
	   json_array_size(lanes.docs));
	ok(json_array_size(lanes.failed) == 8 && json_equal(lanes.failed, serial.failed),
	   "the same failed rows, in line order");
	ok(json_array_size(lanes.notes) == 1 && json_equal(lanes.notes, serial.notes),
	   "the unknown column noted once");
	ok(g_prepared == 2492, "each document prepared ahead (%d)", (int)g_prepared);
	ok(g_wrong_thread == 0, "each handed back on the thread that prepared it");
	/* which lane takes which chunk is the scheduler's choice */
	ok(g_nthreads >= 1 && !pthread_equal(g_threads[0], pthread_self()) &&
		   (g_nthreads == 1 || !pthread_equal(g_threads[1], pthread_self())),
	   "on lanes, not the caller's thread (%d lanes wrote)", g_nthreads);
	ok(g_chunks == 2, "one chunk_done a chunk of 2,000 rows (%d)", g_chunks);
	res_free(&lanes);

	g_fail_line = 1500;
	g_chunks = 0;
	run_text(&lanes, csv.data, IMP_CSV, NULL);
	ok(lanes.rc == HUB_EIO, "a sink failure on a lane stops the import (%d)", lanes.rc);
	ok(g_chunks == 1, "the chunk whose write failed is still ended (chunk_done: %d)", g_chunks);
	ok(json_array_size(lanes.docs) &&
		   json_integer_value(json_object_get(json_array_get(lanes.docs, json_array_size(lanes.docs) - 1), "line")) < 1500,
	   "no row after the failure reaches the sink");
	g_fail_line = 0;
	res_free(&lanes);

	/* JSON lines: parsed on the lanes, sub-models handed over in order */
	buf_reset(&csv);
	for (int i = 1; i <= 2500; i++)
		if (i % 300 == 0)
			buf_addf(&csv, "{broken %d\n", i);
		else if (i % 1000 == 1)
			buf_addf(&csv, "{\"code\":\"SM-%d\",\"family_variant\":\"fv\",\"parent\":\"R\","
				       "\"values\":{}}\n", i);
		else
			buf_addf(&csv, "{\"sku\":\"J-%d\",\"family\":\"default\",\"values\":{}}\n", i);
	buf_add(&csv, "", 1);
	g_models = true;
	g_lanes = 0;
	res_free(&serial);
	run_text(&serial, csv.data, IMP_JSONL, NULL);
	g_lanes = 2;
	g_prepared = 0;
	g_chunks = 0;
	run_text(&lanes, csv.data, IMP_JSONL, NULL);
	ok(lanes.rc == 0 && json_array_size(lanes.docs) == 2489 &&
		   json_equal(lanes.docs, serial.docs) && json_equal(lanes.failed, serial.failed),
	   "JSON lines on lanes: the same documents and failed lines as on one thread (%zu)",
	   json_array_size(lanes.docs));
	ok(json_array_size(lanes.models) == 3 && json_equal(lanes.models, serial.models),
	   "the same sub-models, in order");
	ok(g_prepared == 2489 && g_chunks == 2, "each line parsed and prepared on a lane (%d, %d)",
	   (int)g_prepared, g_chunks);
	g_models = false;
	res_free(&lanes);

	g_prepared = 0;
	run_file(&lanes, "catalogs/shopify/apparel.csv", IMP_CSV, "shopify");
	ok(lanes.rc == 0 && json_array_size(lanes.docs) > 0 && g_prepared == 0,
	   "rows grouped into variants stay on one thread");
	res_free(&lanes);
	g_lanes = 0;
	res_free(&serial);
	buf_release(&csv);
}

int main(void)
{
	g_data = getenv("DATA") ? getenv("DATA") : "../shared/data";
	g_schema = starter_schema();
	if (!g_schema)
		return 1;
	test_guard_page();
	test_csv_basics();
	test_hostile_csv();
	test_hostile_xml();
	test_gmc();
	test_shopify();
	test_many_attributes();
	test_magento();
	test_bmecat();
	test_locale();
	test_jsonl();
	test_akeneo_models();
	test_akeneo_family_variants();
	test_lanes();
	json_decref(g_schema);
	return tap_done();
}
