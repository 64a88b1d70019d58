/* Akeneo's structure CSVs (attributes, attribute_options, families,
 * family_variants, categories, channels, currencies, association_types) as
 * schema documents, so that a whole Akeneo catalog moves over: import the
 * structure files first, then product_models.csv and products.csv. A file
 * is recognised by its header. A family variant becomes a family of its own
 * (code of the variant, attributes of its family, axes of both levels),
 * since variants here have one level. */
#include "akeneo.h"

#include "err.h"
#include "values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ak_kind { AK_NONE, AK_ATTRIBUTES, AK_OPTIONS, AK_FAMILIES, AK_VARIANTS, AK_CATEGORIES,
	       AK_CHANNELS, AK_CURRENCIES, AK_LOCALES, AK_ASSOC, AK_SKIP };

struct akeneo {
	const struct imp_opts *o;
	const struct imp_sink *sink;
	enum ak_kind kind;
	char **names;
	size_t nnames;
	json_t *options; /* attribute → [options] (attribute_options.csv) */
	json_t *made;    /* locales created for channels */
	long rows;
};

static int col(const struct akeneo *a, const char *name)
{
	for (size_t i = 0; i < a->nnames; i++)
		if (!strcmp(a->names[i], name))
			return (int)i;
	return -1;
}

static enum ak_kind detect(const struct akeneo *a)
{
	if (col(a, "code") < 0)
		return AK_NONE;
	if (col(a, "type") >= 0 && col(a, "localizable") >= 0)
		return AK_ATTRIBUTES;
	if (col(a, "attribute") >= 0 && col(a, "sort_order") >= 0)
		return AK_OPTIONS;
	if (col(a, "attributes") >= 0 && col(a, "attribute_as_label") >= 0)
		return AK_FAMILIES;
	if (col(a, "family") >= 0 && col(a, "variant-axes_1") >= 0)
		return AK_VARIANTS;
	if (col(a, "tree") >= 0 && col(a, "locales") >= 0)
		return AK_CHANNELS;
	if (col(a, "activated") >= 0 && a->nnames == 2)
		return AK_CURRENCIES;
	if (col(a, "parent") >= 0 && col(a, "sku") < 0 && col(a, "family_variant") < 0 &&
	    col(a, "family") < 0)
		return AK_CATEGORIES;
	if (col(a, "is_two_way") >= 0 || col(a, "is_quantified") >= 0 ||
	    (a->nnames >= 2 && col(a, "label-en_US") >= 0 && a->nnames <= 6 && col(a, "parent") < 0 &&
	     col(a, "type") < 0 && col(a, "sort_order") < 0 && col(a, "attributes") < 0))
		return AK_ASSOC;
	if (a->nnames == 1)
		return AK_LOCALES;
	return AK_NONE;
}

bool akeneo_is_structure(const struct map_cell *cells, size_t n)
{
	struct akeneo a = {0};
	char *names[64];
	enum ak_kind k;

	if (n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		names[i] = (char *)cells[i].s;
	a.names = names;
	a.nnames = n;
	k = detect(&a);
	/* group_types, groups, attribute_groups: structure we have no use for */
	if (k == AK_NONE && col(&a, "code") >= 0 && col(&a, "sku") < 0 && col(&a, "family") < 0 &&
	    col(&a, "family_variant") < 0 && col(&a, "parent") < 0)
		return true;
	return k != AK_NONE;
}

int akeneo_new(struct akeneo **out, const struct imp_opts *o, const struct imp_sink *sink)
{
	struct akeneo *a = calloc(1, sizeof(*a));

	if (!a)
		return HUB_ENOMEM;
	a->o = o;
	a->sink = sink;
	a->options = json_object();
	a->made = json_object();
	*out = a;
	return 0;
}

void akeneo_free(struct akeneo *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nnames; i++)
		free(a->names[i]);
	free(a->names);
	json_decref(a->options);
	json_decref(a->made);
	free(a);
}

static const char *cell(const struct akeneo *a, const struct map_cell *c, size_t n, const char *name)
{
	int i = col(a, name);

	return i >= 0 && (size_t)i < n && c[i].len ? c[i].s : NULL;
}

static json_t *labels(const struct akeneo *a, const struct map_cell *c, size_t n)
{
	json_t *l = json_object();

	for (size_t i = 0; i < a->nnames && i < n; i++)
		if (!strncmp(a->names[i], "label-", 6) && c[i].len)
			json_object_set_new(l, a->names[i] + 6, json_stringn(c[i].s, c[i].len));
	return l;
}

static json_t *list(const char *s)
{
	json_t *arr = json_array();

	while (s && *s) {
		const char *e = strchr(s, ',');
		size_t k = e ? (size_t)(e - s) : strlen(s);

		if (k)
			json_array_append_new(arr, json_stringn(s, k));
		if (!e)
			break;
		s = e + 1;
	}
	return arr;
}

/* Akeneo's metric families: their units, so that values in any of them
 * validate. */
static json_t *metric_units(const char *family, const char *def)
{
	static const struct {
		const char *family, *units;
	} fams[] = {
		{"Weight", "MILLIGRAM,GRAM,KILOGRAM,TON,POUND,OUNCE,MARC,GRAIN"},
		{"Length", "MILLIMETER,CENTIMETER,DECIMETER,METER,KILOMETER,INCH,FEET,YARD,MILE"},
		{"Frequency", "HERTZ,KILOHERTZ,MEGAHERTZ,GIGAHERTZ,TERAHERTZ"},
		{"Power", "WATT,KILOWATT,MEGAWATT,GIGAWATT,TERAWATT"},
		{"Binary", "BIT,BYTE,KILOBIT,KILOBYTE,MEGABIT,MEGABYTE,GIGABIT,GIGABYTE,TERABYTE"},
		{"Volume", "MILLILITER,CENTILITER,DECILITER,LITER,CUBIC_CENTIMETER,CUBIC_METER"},
		{"Temperature", "CELSIUS,FAHRENHEIT,KELVIN"},
		{"Duration", "MILLISECOND,SECOND,MINUTE,HOUR,DAY"},
		{"Voltage", "MILLIVOLT,VOLT,KILOVOLT"},
		{"Resolution", "DOT_PER_CENTIMETER,DOT_PER_INCH"},
		{"Area", "SQUARE_MILLIMETER,SQUARE_CENTIMETER,SQUARE_METER,SQUARE_INCH"},
	};
	json_t *u = NULL;

	for (size_t i = 0; family && i < sizeof(fams) / sizeof(fams[0]); i++)
		if (!strcmp(family, fams[i].family))
			u = list(fams[i].units);
	if (!u)
		u = json_array();
	if (def) {
		bool has = false;
		size_t i;
		json_t *v;

		json_array_foreach(u, i, v)
			if (!strcmp(json_string_value(v), def))
				has = true;
		if (!has)
			json_array_append_new(u, json_string(def));
	}
	return u;
}

static const char *our_type(const char *t)
{
	static const struct {
		const char *ak, *ours;
	} types[] = {{"pim_catalog_identifier", "identifier"},
		     {"pim_catalog_text", "text"},
		     {"pim_catalog_textarea", "textarea"},
		     {"pim_catalog_number", "number"},
		     {"pim_catalog_boolean", "boolean"},
		     {"pim_catalog_date", "date"},
		     {"pim_catalog_price_collection", "price"},
		     {"pim_catalog_simpleselect", "simple_select"},
		     {"pim_catalog_multiselect", "multi_select"},
		     {"pim_catalog_metric", "metric"},
		     {"pim_catalog_image", "asset"},
		     {"pim_catalog_file", "asset"},
		     {"pim_catalog_asset_collection", "asset_collection"},
		     {"pim_reference_data_simpleselect", "text"},
		     {"pim_reference_data_multiselect", "text"}};

	for (size_t i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i].ak))
			return types[i].ours;
	return NULL;
}

static bool yes(const char *s)
{
	return s && (!strcmp(s, "1") || !strcmp(s, "true"));
}

static int emit(struct akeneo *a, const char *kind, json_t *doc, long line)
{
	int rc = a->sink->schema_doc ? a->sink->schema_doc(a->sink->cls, kind, doc, line) : 0;

	json_decref(doc);
	a->rows++;
	return rc;
}

static void note(struct akeneo *a, long line, const char *field, const char *code, const char *msg)
{
	if (a->sink->note)
		a->sink->note(a->sink->cls, line, field, code, msg);
}

static int attribute(struct akeneo *a, long line, const struct map_cell *c, size_t n)
{
	const char *code = cell(a, c, n, "code");
	const char *type = our_type(cell(a, c, n, "type"));
	json_t *doc, *val;
	const char *s;
	char msg[300];

	if (!code)
		return 0;
	if (!type) {
		snprintf(msg, sizeof(msg), "attribute '%s' is of type %s, which has no counterpart: it is not created",
			 code, cell(a, c, n, "type") ? cell(a, c, n, "type") : "(none)");
		note(a, line, code, "unsupported_type", msg);
		return 0;
	}
	if (!strcmp(type, "identifier"))
		return 0; /* the catalog has its own */
	doc = json_pack("{s:s,s:s,s:b,s:b,s:o}", "code", code, "type", type, "localizable",
			yes(cell(a, c, n, "localizable")), "scopable", yes(cell(a, c, n, "scopable")),
			"labels", labels(a, c, n));
	if (yes(cell(a, c, n, "unique")))
		json_object_set_new(doc, "unique", json_true());
	val = json_object();
	if ((s = cell(a, c, n, "max_characters")))
		json_object_set_new(val, "max_length", json_integer(atol(s)));
	if ((s = cell(a, c, n, "validation_regexp")))
		json_object_set_new(val, "regex", json_string(s));
	if ((s = cell(a, c, n, "number_min")) && val_is_decimal(s, strlen(s)))
		json_object_set_new(val, "min", json_string(s));
	if ((s = cell(a, c, n, "number_max")) && val_is_decimal(s, strlen(s)))
		json_object_set_new(val, "max", json_string(s));
	if ((!strcmp(type, "number") || !strcmp(type, "metric")) &&
	    cell(a, c, n, "decimals_allowed") && !yes(cell(a, c, n, "decimals_allowed")))
		json_object_set_new(val, "decimals", json_integer(0));
	if (json_object_size(val))
		json_object_set_new(doc, "validation", val);
	else
		json_decref(val);
	if (!strcmp(type, "metric"))
		json_object_set_new(doc, "units",
				    metric_units(cell(a, c, n, "metric_family"),
						 cell(a, c, n, "default_metric_unit")));
	if (!strcmp(type, "simple_select") || !strcmp(type, "multi_select"))
		json_object_set_new(doc, "options", json_array());
	return emit(a, "attributes", doc, line);
}

static int family(struct akeneo *a, long line, const struct map_cell *c, size_t n)
{
	const char *code = cell(a, c, n, "code");
	json_t *doc, *req;

	if (!code)
		return 0;
	req = json_object();
	doc = json_pack("{s:s,s:o,s:o}", "code", code, "attributes",
			list(cell(a, c, n, "attributes")), "labels", labels(a, c, n));
	if (cell(a, c, n, "attribute_as_label"))
		json_object_set_new(doc, "label_attribute", json_string(cell(a, c, n, "attribute_as_label")));
	if (cell(a, c, n, "attribute_as_image"))
		json_object_set_new(doc, "image_attribute", json_string(cell(a, c, n, "attribute_as_image")));
	for (size_t i = 0; i < a->nnames && i < n; i++)
		if (!strncmp(a->names[i], "requirements-", 13) && c[i].len)
			json_object_set_new(req, a->names[i] + 13, list(c[i].s));
	json_object_set_new(doc, "requirements", req);
	return emit(a, "families", doc, line);
}

static void extend_unique(json_t *arr, json_t *more)
{
	size_t i, k;
	json_t *v, *w;

	json_array_foreach(more, i, v) {
		bool has = false;

		json_array_foreach(arr, k, w)
			if (json_equal(v, w))
				has = true;
		if (!has)
			json_array_append(arr, v);
	}
}

static int variant(struct akeneo *a, long line, const struct map_cell *c, size_t n)
{
	const char *code = cell(a, c, n, "code"), *fam = cell(a, c, n, "family");
	json_t *fdoc = fam ? json_object_get(json_object_get(a->o->schema, "families"), fam) : NULL;
	json_t *doc, *axes, *vattrs, *l;

	if (!code || !fam)
		return 0;
	axes = json_array();
	vattrs = json_array();
	for (int lvl = 1; lvl <= 2; lvl++) {
		char k[32];

		snprintf(k, sizeof(k), "variant-axes_%d", lvl);
		l = list(cell(a, c, n, k));
		extend_unique(axes, l);
		json_decref(l);
		snprintf(k, sizeof(k), "variant-attributes_%d", lvl);
		l = list(cell(a, c, n, k));
		extend_unique(vattrs, l);
		json_decref(l);
	}
	if (!fdoc) {
		char msg[300];

		snprintf(msg, sizeof(msg),
			 "family variant '%s' needs family '%s', which is not in the catalog (import "
			 "families.csv first)",
			 code, fam);
		note(a, line, code, "unknown_family", msg);
		json_decref(axes);
		json_decref(vattrs);
		return 0;
	}
	doc = json_deep_copy(fdoc);
	json_object_set_new(doc, "code", json_string(code));
	json_object_set_new(doc, "labels", labels(a, c, n));
	json_object_set_new(doc, "variant_axes", axes);
	json_object_set_new(doc, "variant_attributes", vattrs);
	json_object_del(doc, "version");
	return emit(a, "families", doc, line);
}

static int category(struct akeneo *a, long line, const struct map_cell *c, size_t n)
{
	const char *code = cell(a, c, n, "code");

	if (!code)
		return 0;
	return emit(a, "categories",
		    json_pack("{s:s,s:s?,s:o}", "code", code, "parent", cell(a, c, n, "parent"), "labels",
			      labels(a, c, n)),
		    line);
}

static int channel(struct akeneo *a, long line, const struct map_cell *c, size_t n)
{
	const char *code = cell(a, c, n, "code");
	json_t *locs = list(cell(a, c, n, "locales")), *curs = list(cell(a, c, n, "currencies")), *v;
	size_t i;
	int rc;

	if (!code) {
		json_decref(locs);
		json_decref(curs);
		return 0;
	}
	/* the locales and currencies a channel names exist first */
	json_array_foreach(locs, i, v)
		if (!json_object_get(a->made, json_string_value(v))) {
			json_object_set_new(a->made, json_string_value(v), json_true());
			if ((rc = emit(a, "locales", json_pack("{s:O}", "code", v), line)) < 0)
				goto out;
		}
	json_array_foreach(curs, i, v)
		if ((rc = emit(a, "currencies", json_pack("{s:O}", "code", v), line)) < 0)
			goto out;
	rc = emit(a, "channels",
		  json_pack("{s:s,s:O,s:O,s:s?,s:o}", "code", code, "locales", locs, "currencies", curs,
			    "category_tree", cell(a, c, n, "tree"), "labels", labels(a, c, n)),
		  line);
out:
	json_decref(locs);
	json_decref(curs);
	return rc;
}

int akeneo_header(struct akeneo *a, long line, const struct map_cell *cells, size_t n)
{
	a->names = calloc(n ? n : 1, sizeof(*a->names));
	if (!a->names)
		return HUB_ENOMEM;
	for (size_t i = 0; i < n; i++)
		a->names[i] = strdup(cells[i].s);
	a->nnames = n;
	a->kind = detect(a);
	if (a->kind == AK_NONE || a->kind == AK_LOCALES) {
		a->kind = AK_SKIP;
		note(a, line, NULL, "file_ignored",
		     a->nnames == 1 ? "a list of locales: locales are created as channels name them"
				    : "this Akeneo structure file has no counterpart here: it is ignored");
	}
	return 0;
}

int akeneo_row(struct akeneo *a, long line, const struct map_cell *c, size_t n)
{
	const char *code = cell(a, c, n, "code");

	switch (a->kind) {
	case AK_ATTRIBUTES: return attribute(a, line, c, n);
	case AK_FAMILIES: return family(a, line, c, n);
	case AK_VARIANTS: return variant(a, line, c, n);
	case AK_CATEGORIES: return category(a, line, c, n);
	case AK_CHANNELS: return channel(a, line, c, n);
	case AK_CURRENCIES:
		if (code && yes(cell(a, c, n, "activated")))
			return emit(a, "currencies", json_pack("{s:s}", "code", code), line);
		return 0;
	case AK_ASSOC:
		if (code)
			return emit(a, "association-types",
				    json_pack("{s:s,s:o}", "code", code, "labels", labels(a, c, n)), line);
		return 0;
	case AK_OPTIONS: {
		const char *attr = cell(a, c, n, "attribute");
		json_t *l;

		if (!code || !attr)
			return 0;
		l = json_object_get(a->options, attr);
		if (!l) {
			l = json_array();
			json_object_set_new(a->options, attr, l);
		}
		json_array_append_new(l, json_pack("{s:s,s:o}", "code", code, "labels", labels(a, c, n)));
		return 0;
	}
	default: return 0;
	}
}

/* attribute_options.csv: each attribute's options in one update. */
int akeneo_finish(struct akeneo *a, long line)
{
	const char *attr;
	json_t *opts;
	int rc;

	json_object_foreach(a->options, attr, opts) {
		json_t *adef = json_object_get(json_object_get(a->o->schema, "attributes"), attr), *doc;

		if (adef && strcmp(val_type(adef), "simple_select") &&
		    strcmp(val_type(adef), "multi_select"))
			continue; /* the catalog's own attribute takes any text */
		if (!adef) {
			char msg[300];

			snprintf(msg, sizeof(msg),
				 "options of '%s', which is not in the catalog (import attributes.csv "
				 "first)",
				 attr);
			note(a, line, attr, "unknown_attribute", msg);
			continue;
		}
		doc = json_deep_copy(adef);
		json_object_set(doc, "options", opts);
		json_object_set_new(doc, "$replace", json_true());
		json_object_del(doc, "version");
		if ((rc = emit(a, "attributes", doc, line)) < 0)
			return rc;
	}
	return 0;
}
