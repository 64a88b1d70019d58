/* BMEcat 1.2 (ARTICLE) and 2005 (PRODUCT) catalogs: T_NEW_CATALOG writes
 * whole products, T_UPDATE_PRODUCTS merges (mode="delete" disables, as
 * products are never deleted by a feed), T_UPDATE_PRICES merges prices
 * only. Catalog groups become categories "bmecat_<group id>". The mapping
 * is documented in importers/README.md. */
#include "feeds.h"

#include "buf.h"
#include "err.h"
#include "json.h"
#include "values.h"
#include "xml.h"
#include "gtin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum bme_tx { TX_NONE, TX_NEW, TX_UPDATE_PRODUCTS, TX_UPDATE_PRICES };

struct bme {
	struct map *m;
	const struct imp_opts *o;
	const struct imp_sink *sink;
	struct hub_err *err;
	enum bme_tx tx;
	char lang[16];
	char currency[8];
	char mime_root[512];
	json_t *groups;  /* group id → {"parent","name"} */
	json_t *art_cats; /* article id → [group ids] (BMEcat 1.2 maps) */
	json_t *art_done; /* article ids whose maps went with the article */
	long maps_line;
};

/* ISO 639-2 language of BMEcat to one of the schema's locales. */
static const char *bme_locale(struct bme *b, const char *lang)
{
	static const struct {
		const char *iso, *prefix;
	} langs[] = {{"deu", "de_"}, {"ger", "de_"}, {"eng", "en_"}, {"fra", "fr_"}, {"fre", "fr_"},
		     {"ita", "it_"}, {"spa", "es_"}, {"nld", "nl_"}, {"dut", "nl_"}, {"pol", "pl_"},
		     {"por", "pt_"}, {"swe", "sv_"}, {"dan", "da_"}, {"ces", "cs_"}};
	json_t *locs = json_object_get(b->o->schema, "locales"), *v;
	const char *want = NULL;
	size_t i;

	if (!lang || !*lang)
		lang = b->lang;
	for (i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		if (!strcasecmp(lang, langs[i].iso))
			want = langs[i].prefix;
	if (!want)
		return NULL;
	/* de_DE before de_AT: the country that matches the language first */
	json_array_foreach(locs, i, v) {
		const char *l = json_string_value(v);

		if (l && !strncmp(l, want, 3) && !strncasecmp(l + 3, want, 2))
			return l;
	}
	json_array_foreach(locs, i, v) {
		const char *l = json_string_value(v);

		if (l && !strncmp(l, want, 3))
			return l;
	}
	return NULL;
}

static int on_root(void *cls, json_t *e, long line)
{
	struct bme *b = cls;
	const char *name = json_string_value(json_object_get(e, "name"));

	if (strcmp(name, "BMECAT"))
		return hub_err_set(b->err, HUB_EINVAL,
				   "line %ld: this is not a BMEcat catalog: the root element is <%s>",
				   line, name);
	return 0;
}

static int on_mark(void *cls, json_t *e, long line)
{
	struct bme *b = cls;
	const char *name = json_string_value(json_object_get(e, "name"));

	(void)line;
	if (!strcmp(name, "T_NEW_CATALOG"))
		b->tx = TX_NEW;
	else if (!strcmp(name, "T_UPDATE_PRODUCTS"))
		b->tx = TX_UPDATE_PRODUCTS;
	else if (!strcmp(name, "T_UPDATE_PRICES"))
		b->tx = TX_UPDATE_PRICES;
	return 0;
}

static void header(struct bme *b, json_t *h)
{
	json_t *cat = xml_child(h, "CATALOG");
	const char *s;

	if ((s = xml_child_text(cat, "LANGUAGE")))
		snprintf(b->lang, sizeof(b->lang), "%s", s);
	if ((s = xml_child_text(cat, "CURRENCY")))
		snprintf(b->currency, sizeof(b->currency), "%s", s);
	if ((s = xml_child_text(cat, "MIME_ROOT")))
		snprintf(b->mime_root, sizeof(b->mime_root), "%s", s);
}

static char *cat_code(const char *group_id)
{
	char *slug = val_slug(group_id, strlen(group_id));
	struct buf out = BUF_INIT;

	buf_addf(&out, "bmecat_%s", slug ? slug : "");
	free(slug);
	return buf_detach(&out, NULL);
}

/* Writes a group after its parent (parents first, whatever the order). */
static int emit_group(struct bme *b, const char *id, int depth, long line)
{
	json_t *g = json_object_get(b->groups, id), *doc;
	const char *parent, *name;
	char *code, *pcode = NULL;
	int rc;

	if (!g || json_is_true(json_object_get(g, "done")) || depth > 64)
		return 0;
	json_object_set_new(g, "done", json_true());
	parent = json_string_value(json_object_get(g, "parent"));
	if (parent && json_object_get(b->groups, parent)) {
		rc = emit_group(b, parent, depth + 1, line);
		if (rc < 0)
			return rc;
		pcode = cat_code(parent);
	}
	code = cat_code(id);
	name = json_string_value(json_object_get(g, "name"));
	doc = json_pack("{s:s,s:s?}", "code", code, "parent", pcode);
	if (name && *name && bme_locale(b, NULL))
		json_object_set_new(doc, "labels", json_pack("{s:s}", bme_locale(b, NULL), name));
	rc = b->sink->schema_doc(b->sink->cls, "categories", doc, line);
	json_decref(doc);
	free(code);
	free(pcode);
	return rc;
}

static int group_system(struct bme *b, json_t *sys, long line)
{
	size_t i;
	json_t *c;

	if (!b->sink->schema_doc)
		return 0;
	json_array_foreach(json_object_get(sys, "children"), i, c) {
		const char *id, *parent, *type;

		if (strcmp(json_string_value(json_object_get(c, "name")), "CATALOG_STRUCTURE"))
			continue;
		id = xml_child_text(c, "GROUP_ID");
		parent = xml_child_text(c, "PARENT_ID");
		type = xml_attr(c, "type");
		if (!id)
			continue;
		json_object_set_new(b->groups, id,
				    json_pack("{s:s?,s:s?}", "parent",
					      (type && !strcmp(type, "root")) ? NULL : parent,
					      "name", xml_child_text(c, "GROUP_NAME")));
	}
	/* written when an article uses them: a supplier's whole tree would
	 * bury the catalog's own */
	(void)line;
	return 0;
}

/* The unit code the schema spells for kilograms. */
static const char *kg_unit(struct bme *b)
{
	json_t *units = json_object_get(json_object_get(json_object_get(b->o->schema, "attributes"),
							 "weight"),
					"units");
	const char *cands[] = {"KILOGRAM", "kg", "KG"};

	for (size_t i = 0; i < 3; i++) {
		if (json_is_array(units)) {
			size_t k;
			json_t *u;

			json_array_foreach(units, k, u)
				if (json_is_string(u) && !strcmp(json_string_value(u), cands[i]))
					return cands[i];
		} else if (json_object_get(units, cands[i])) {
			return cands[i];
		}
	}
	return "kg";
}

static void add_text(struct bme *b, json_t *doc, const char *attr, json_t *el, const char *field,
		     json_t *errors)
{
	const char *s = xml_text(el);
	const char *loc = bme_locale(b, xml_attr(el, "lang"));

	if (!*s)
		return;
	map_value(b->m, doc, attr, loc, NULL, NULL, s, strlen(s), field, errors);
}

static void prices(struct bme *b, json_t *doc, json_t *pd, json_t *errors)
{
	size_t i;
	json_t *p;
	json_t *best = json_object(); /* currency → {"amount","bound"} */
	const char *k;
	json_t *v;

	json_array_foreach(json_object_get(pd, "children"), i, p) {
		const char *n = json_string_value(json_object_get(p, "name"));
		const char *amount, *cur, *lb;
		double bound;
		json_t *prev;

		if (strcmp(n, "ARTICLE_PRICE") && strcmp(n, "PRODUCT_PRICE"))
			continue;
		amount = xml_child_text(p, "PRICE_AMOUNT");
		cur = xml_child_text(p, "PRICE_CURRENCY");
		lb = xml_child_text(p, "LOWER_BOUND");
		if (!cur || !*cur)
			cur = b->currency;
		if (!amount || !cur || !*cur)
			continue;
		bound = lb ? strtod(lb, NULL) : 1;
		prev = json_object_get(best, cur);
		if (!prev || bound < json_real_value(json_object_get(prev, "bound")))
			json_object_set_new(best, cur, json_pack("{s:s,s:f}", "amount", amount, "bound", bound));
	}
	json_object_foreach(best, k, v) {
		const char *a = json_string_value(json_object_get(v, "amount"));

		map_value(b->m, doc, "price", NULL, NULL, k, a, strlen(a), "PRICE_AMOUNT", errors);
	}
	json_decref(best);
}

static void features(struct bme *b, json_t *doc, json_t *fs, json_t *errors, long line)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(fs, "children"), i, f) {
		const char *fname, *funit;
		char *code;
		struct buf val = BUF_INIT;
		size_t k;
		json_t *c;

		if (strcmp(json_string_value(json_object_get(f, "name")), "FEATURE"))
			continue;
		fname = xml_child_text(f, "FNAME");
		funit = xml_child_text(f, "FUNIT");
		if (!fname)
			continue;
		json_array_foreach(json_object_get(f, "children"), k, c)
			if (!strcmp(json_string_value(json_object_get(c, "name")), "FVALUE")) {
				if (val.len)
					buf_addc(&val, ',');
				buf_adds(&val, xml_text(c));
			}
		code = val_slug(fname, strlen(fname));
		if (code && val.len &&
		    json_object_get(json_object_get(b->o->schema, "attributes"), code)) {
			map_value(b->m, doc, code, NULL, NULL,
				  !strcmp(val_type(json_object_get(json_object_get(b->o->schema, "attributes"), code)), "metric") ? funit : NULL,
				  val.data, val.len, fname, errors);
		} else if (b->sink->note) {
			char msg[300];
			char key[300];

			snprintf(key, sizeof(key), "feature:%s", fname);
			snprintf(msg, sizeof(msg),
				 "feature '%s' has no attribute '%s' in the schema: it is not imported",
				 fname, code ? code : "");
			if (!json_object_get(b->groups, key)) {
				json_object_set_new(b->groups, key, json_pack("{s:b}", "done", 1));
				b->sink->note(b->sink->cls, line, fname, "unknown_attribute", msg);
			}
		}
		free(code);
		buf_release(&val);
	}
}

static void mime(struct bme *b, json_t *doc, json_t *mi, json_t *errors)
{
	size_t i;
	json_t *mm;
	struct buf more = BUF_INIT;
	bool first = true;

	json_array_foreach(json_object_get(mi, "children"), i, mm) {
		const char *type = xml_child_text(mm, "MIME_TYPE");
		const char *src = xml_child_text(mm, "MIME_SOURCE");
		struct buf url = BUF_INIT;

		if (!src || !*src || (type && strncmp(type, "image/", 6)))
			continue;
		if (b->mime_root[0] && !strstr(src, "://"))
			buf_addf(&url, "%s%s%s", b->mime_root,
				 b->mime_root[strlen(b->mime_root) - 1] == '/' ? "" : "/", src);
		else
			buf_adds(&url, src);
		if (first) {
			map_value(b->m, doc, "image_link", NULL, NULL, NULL, url.data, url.len,
				  "MIME_SOURCE", errors);
			first = false;
		} else {
			if (more.len)
				buf_addc(&more, '\n');
			buf_add(&more, url.data, url.len);
		}
		buf_release(&url);
	}
	if (more.len)
		map_value(b->m, doc, "additional_image_links", NULL, NULL, NULL, more.data, more.len,
			  "MIME_SOURCE", errors);
	buf_release(&more);
}

/* Supplier catalogs often carry EANs with a wrong check digit: such an
 * article comes in without its GTIN, and the report says so. */
static void ean(struct bme *b, json_t *doc, const char *t, const char *field, json_t *errors,
		long line)
{
	if (!*t)
		return;
	if (gtin_valid(t)) {
		map_value(b->m, doc, "gtin", NULL, NULL, NULL, t, strlen(t), field, errors);
		return;
	}
	if (b->sink->note) {
		char msg[300];

		snprintf(msg, sizeof(msg),
			 "'%.40s' is not a GTIN (its check digit is wrong): the article is imported "
			 "without it",
			 t);
		b->sink->note(b->sink->cls, line, field, "bad_gtin", msg);
	}
}

static int article(struct bme *b, json_t *a, long line)
{
	json_t *doc = json_object(), *errors = json_array(), *c;
	const char *mode = xml_attr(a, "mode");
	const char *sku = xml_child_text(a, "SUPPLIER_AID");
	enum imp_op op = IMP_PUT;
	json_t *cats = json_array();
	size_t i;
	int rc = 0;

	if (!sku)
		sku = xml_child_text(a, "SUPPLIER_PID");
	if (!sku || !*sku) {
		json_array_append_new(errors, json_pack("{s:s,s:s,s:s}", "field", "SUPPLIER_AID", "code",
							 "no_sku", "message",
							 "the article has no SUPPLIER_AID/SUPPLIER_PID"));
		goto fail;
	}
	if (b->tx == TX_UPDATE_PRICES || b->tx == TX_UPDATE_PRODUCTS)
		op = IMP_PATCH;
	if (mode && !strcmp(mode, "delete")) {
		json_object_set_new(doc, "enabled", json_false());
		op = IMP_DISABLE;
		goto emit;
	}
	json_array_foreach(json_object_get(a, "children"), i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		size_t k;
		json_t *d;

		if (b->tx == TX_UPDATE_PRICES && strcmp(n, "ARTICLE_PRICE_DETAILS") &&
		    strcmp(n, "PRODUCT_PRICE_DETAILS"))
			continue;
		if (!strcmp(n, "ARTICLE_DETAILS") || !strcmp(n, "PRODUCT_DETAILS")) {
			json_array_foreach(json_object_get(c, "children"), k, d) {
				const char *dn = json_string_value(json_object_get(d, "name"));
				const char *t = xml_text(d);

				if (!strcmp(dn, "DESCRIPTION_SHORT"))
					add_text(b, doc, "name", d, dn, errors);
				else if (!strcmp(dn, "DESCRIPTION_LONG"))
					add_text(b, doc, "description", d, dn, errors);
				else if (!strcmp(dn, "EAN") ||
					 (!strcmp(dn, "INTERNATIONAL_PID") &&
					  (!xml_attr(d, "type") || !strcasecmp(xml_attr(d, "type"), "gtin") ||
					   !strcasecmp(xml_attr(d, "type"), "ean"))))
					ean(b, doc, t, dn, errors, line);
				else if (!strcmp(dn, "MANUFACTURER_AID") || !strcmp(dn, "MANUFACTURER_PID"))
					map_value(b->m, doc, "mpn", NULL, NULL, NULL, t, strlen(t), dn,
						  errors);
				else if (!strcmp(dn, "MANUFACTURER_NAME"))
					map_value(b->m, doc, "brand", NULL, NULL, NULL, t, strlen(t), dn,
						  errors);
			}
		} else if (!strcmp(n, "ARTICLE_FEATURES") || !strcmp(n, "PRODUCT_FEATURES")) {
			features(b, doc, c, errors, line);
		} else if (!strcmp(n, "ARTICLE_PRICE_DETAILS") || !strcmp(n, "PRODUCT_PRICE_DETAILS")) {
			prices(b, doc, c, errors);
		} else if (!strcmp(n, "MIME_INFO")) {
			mime(b, doc, c, errors);
		} else if (!strcmp(n, "PRODUCT_LOGISTIC_DETAILS")) {
			json_t *dim = xml_child(c, "PRODUCT_DIMENSIONS");
			const char *w = xml_child_text(dim, "WEIGHT");

			if (w && *w)
				map_value(b->m, doc, "weight", NULL, NULL, kg_unit(b), w, strlen(w),
					  "WEIGHT", errors);
		} else if (!strcmp(n, "PRODUCT_TO_CATALOGGROUP_MAP")) {
			const char *g = xml_child_text(c, "CATALOG_GROUP_ID");

			if (g && json_object_get(b->groups, g) && b->sink->schema_doc &&
			    emit_group(b, g, 0, line) == 0) {
				char *code = cat_code(g);

				json_array_append_new(cats, json_string(code));
				free(code);
			}
		}
	}
	/* the article's groups from the file's ARTICLE_TO_CATALOGGROUP_MAPs
	 * (read beforehand): one row and one version per article */
	json_array_foreach(json_object_get(b->art_cats, sku), i, c) {
		char *code;

		if (!b->sink->schema_doc || emit_group(b, json_string_value(c), 0, line) < 0)
			continue;
		code = cat_code(json_string_value(c));
		if (!json_array_has_string(cats, code))
			json_array_append_new(cats, json_string(code));
		free(code);
	}
	if (json_object_get(b->art_cats, sku))
		json_object_set_new(b->art_done, sku, json_true());
	if (json_array_size(cats))
		json_object_set(doc, "categories", cats);
emit:
	if (json_array_size(errors))
		goto fail;
	json_object_set_new(doc, "sku", json_string(sku));
	rc = map_emit(b->m, doc, op, line, b->err);
	goto out;
fail:
	if (b->sink->row_failed)
		b->sink->row_failed(b->sink->cls, line, errors);
out:
	json_decref(cats);
	json_decref(doc);
	json_decref(errors);
	return rc;
}

static int on_item(void *cls, json_t *e, long line)
{
	struct bme *b = cls;
	const char *name = json_string_value(json_object_get(e, "name"));

	if (!strcmp(name, "HEADER")) {
		header(b, e);
		return 0;
	}
	if (!strcmp(name, "CATALOG_GROUP_SYSTEM"))
		return group_system(b, e, line);
	if (!strcmp(name, "ARTICLE_TO_CATALOGGROUP_MAP")) {
		const char *art = xml_child_text(e, "ART_ID");
		const char *g = xml_child_text(e, "CATALOG_GROUP_ID");
		json_t *list;

		if (!art || !g || !json_object_get(b->groups, g))
			return 0;
		list = json_object_get(b->art_cats, art);
		if (!list) {
			list = json_array();
			json_object_set_new(b->art_cats, art, list);
		}
		json_array_append_new(list, json_string(g));
		if (!b->maps_line)
			b->maps_line = line;
		return 0;
	}
	return article(b, e, line);
}

static bool bme_progress(void *cls, uint64_t bytes)
{
	struct bme *b = cls;

	return b->sink->progress ? b->sink->progress(b->sink->cls, bytes) : false;
}

/* The first pass reads only the groups and maps: it may be cancelled but
 * reports no bytes, the second pass does. */
static bool bme_scan_progress(void *cls, uint64_t bytes)
{
	struct bme *b = cls;

	(void)bytes;
	return b->sink->progress ? b->sink->progress(b->sink->cls, 0) : false;
}

int bmecat_read(int fd, struct map *m, const struct imp_opts *o, const struct imp_sink *sink,
		struct hub_err *err)
{
	static const char *const scan_items[] = {"CATALOG_GROUP_SYSTEM",
						 "ARTICLE_TO_CATALOGGROUP_MAP", NULL};
	static const char *const items[] = {"HEADER", "ARTICLE", "PRODUCT", NULL};
	static const char *const marks[] = {"T_NEW_CATALOG", "T_UPDATE_PRODUCTS", "T_UPDATE_PRICES",
					    NULL};
	struct bme b = {.m = m, .o = o, .sink = sink, .err = err};
	struct xml_spec scan = {.items = scan_items,
				.on_root = on_root,
				.on_item = on_item,
				.progress = bme_scan_progress,
				.cls = &b,
				.fault = o->fault};
	struct xml_spec spec = {.items = items,
				.marks = marks,
				.on_root = on_root,
				.on_item = on_item,
				.on_mark = on_mark,
				.progress = bme_progress,
				.cls = &b,
				.fault = o->fault};
	const char *k;
	json_t *v;
	int rc;

	b.groups = json_object();
	b.art_cats = json_object();
	b.art_done = json_object();
	/* BMEcat 1.2 maps articles to groups after the articles: the maps are
	 * read first, so that an article is written once with its categories
	 * (and a malformed file fails before anything is written) */
	rc = xml_each(fd, &scan, err);
	if (rc < 0)
		goto out;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		rc = hub_err_set(err, HUB_EIO, "cannot rewind the file: %s", strerror(errno));
		goto out;
	}
	rc = xml_each(fd, &spec, err);
	if (rc < 0)
		goto out;
	/* maps of articles the file does not hold: their categories alone */
	json_object_foreach(b.art_cats, k, v) {
		json_t *patch, *codes = json_array(), *g;
		size_t i;

		if (json_object_get(b.art_done, k)) {
			json_decref(codes);
			continue;
		}

		json_array_foreach(v, i, g) {
			char *code;

			if (!sink->schema_doc || emit_group(&b, json_string_value(g), 0, b.maps_line) < 0)
				continue;
			code = cat_code(json_string_value(g));
			json_array_append_new(codes, json_string(code));
			free(code);
		}
		patch = json_pack("{s:s,s:o}", "sku", k, "categories", codes);

		rc = map_emit(m, patch, IMP_PATCH, b.maps_line, err);
		json_decref(patch);
		if (rc < 0)
			goto out;
	}
out:
	json_decref(b.groups);
	json_decref(b.art_cats);
	json_decref(b.art_done);
	return rc;
}
