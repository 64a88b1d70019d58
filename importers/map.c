/* Rows to documents. A column is resolved once (from the header, or the
 * first time a name is seen) into a struct col that says what its cells
 * set; each row then fills one document. Profiles rename columns and pick
 * the variant structure; without one, columns are read as Akeneo names. */
#include "map.h"

#include "buf.h"
#include "json.h"
#include "err.h"
#include "hash.h"
#include "values.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAP_MAX_GROUP 5000 /* rows of one Shopify handle held at once */

enum col_kind {
	C_IGNORE,
	C_SKU,
	C_FAMILY,
	C_PARENT,
	C_CATEGORIES,
	C_ENABLED,
	C_VALUE,
	C_ASSOC,
	C_GROUP,     /* the key rows of one product share (handle, item group) */
	C_OPT_NAME,  /* Shopify OptionN Name */
	C_OPT_VALUE, /* Shopify OptionN Value */
	C_IMAGE,     /* image URL: the first of a product is its image_link */
	C_PTYPE,     /* Magento product_type */
	C_ADDITIONAL,/* Magento additional_attributes k=v,k=v */
	C_VARIATIONS /* Magento configurable_variations */
};

enum {
	TF_STRIP_HTML = 1 << 0,
	TF_LOWER = 1 << 1,
	TF_CATPATH = 1 << 2,
	TF_SLUG = 1 << 3,
	TF_SPLIT_LINES = 1 << 4,
};

struct col {
	enum col_kind kind;
	char *attr, *locale, *channel, *sub;
	char *assoc_type, *assoc_what;
	int n;           /* option number */
	unsigned tf;
	json_t *map;     /* label → code (borrowed from the profile) */
	json_t *units;   /* unit as written → unit code (borrowed) */
	char split;      /* list separator to read as ',' */
};

/* What map_value needs of an attribute, looked up once a map: a lookup in
 * an attribute's document hashes the member's name each time, and a feed's
 * rows name the same few dozen attributes over and over. */
struct attr_info {
	const char *code; /* the schema's own key; NULL: a free slot */
	json_t *adef;
	const char *type;
	bool loc, scope;
};

/* open addressing, kept at most half full: attributes past that are looked
 * up each time */
#define AINFO_SLOTS 1024

enum vmode { V_NONE, V_CONTIGUOUS, V_ITEM_GROUP, V_MAGENTO };

struct grow {
	long line;
	json_t *doc;     /* the row's document (values of every level) */
	json_t *errors;
	char *sku, *group;
	char *opt_name[3], *opt_val[3];
	char *image;
	bool variant_data; /* sets a price, sku or option: not an image-only row */
};

struct map {
	const struct imp_opts *o;
	const struct imp_sink *sink;
	json_t *schema, *profile;
	json_t *attrs, *families, *channels;
	const char *locale;
	const char *family, *variant_family;
	const char *currency;
	enum imp_op op;
	enum vmode vmode;
	json_t *axes_map; /* option name (lower case) → attribute */
	json_t *noted;    /* "code\0field" already noted */
	/* columns */
	struct col *cols;
	size_t ncols;
	bool header_seen;
	json_t *by_name; /* name → index into cols (named input) */
	const char *sku_attr;
	/* contiguous groups */
	struct grow *g;
	size_t ng, gcap;
	/* item groups already given a parent */
	json_t *seen_groups;
	/* Magento: child sku → parent sku; phase 1 collects, 2 parents, 3 children */
	json_t *child_parent;
	int phase;
	/* an Akeneo product models file: rows with a parent are sub-models */
	bool model_file;
	/* attributes as they are met (see attr_info) */
	struct attr_info ainfo[AINFO_SLOTS];
	size_t nainfo;
};

static bool attr_info(struct map *m, const char *code, struct attr_info *out)
{
	uint64_t h = hash_fnv1a(code);
	void *it;

	for (size_t i = 0; i < AINFO_SLOTS; i++) {
		struct attr_info *ai = &m->ainfo[(h + i) % AINFO_SLOTS];

		if (!ai->code)
			break;
		if (!strcmp(ai->code, code)) {
			*out = *ai;
			return true;
		}
	}
	it = json_object_iter_at(m->attrs, code);
	if (!it)
		return false;
	out->code = json_object_iter_key(it);
	out->adef = json_object_iter_value(it);
	out->type = val_type(out->adef);
	out->loc = json_is_true(json_object_get(out->adef, "localizable"));
	out->scope = json_is_true(json_object_get(out->adef, "scopable"));
	if (m->nainfo < AINFO_SLOTS / 2) {
		size_t i = h % AINFO_SLOTS;

		while (m->ainfo[i].code)
			i = (i + 1) % AINFO_SLOTS;
		m->ainfo[i] = *out;
		m->nainfo++;
	}
	return true;
}

static void col_release(struct col *c)
{
	free(c->attr);
	free(c->locale);
	free(c->channel);
	free(c->sub);
	free(c->assoc_type);
	free(c->assoc_what);
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void note_once(struct map *m, long line, const char *field, const char *code,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void note_once(struct map *m, long line, const char *field, const char *code,
		      const char *fmt, ...)
{
	char key[600], msg[512];
	va_list ap;

	snprintf(key, sizeof(key), "%s|%s", code, field ? field : "");
	if (json_object_get(m->noted, key))
		return;
	json_object_set_new(m->noted, key, json_true());
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m->sink->note)
		m->sink->note(m->sink->cls, line, field, code, msg);
}

static void row_error(json_t *errors, const char *field, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void row_error(json_t *errors, const char *field, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(errors, json_pack("{s:s?,s:s,s:s}", "field", field, "code", code,
						"message", msg));
}

static bool has_locale(const struct map *m, const char *s)
{
	return json_array_has_string(json_object_get(m->schema, "locales"), s);
}

static bool has_currency(const struct map *m, const char *s)
{
	return json_array_has_string(json_object_get(m->schema, "currencies"), s);
}

static bool has_channel(const struct map *m, const char *s)
{
	return json_object_get(m->channels, s) != NULL;
}

const char *map_locale(const struct map *m)
{
	return m->locale;
}

/* The first code of arr that the catalog has (any when locales is NULL). */
static const char *first_locale(const json_t *arr, const json_t *locales)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && (!locales || json_array_has_string(locales, json_string_value(v))))
			return json_string_value(v);
	return NULL;
}

const char *imp_catalog_locale(const json_t *schema)
{
	const json_t *locales = json_object_get(schema, "locales");
	const json_t *channels = json_object_get(schema, "channels");
	const char *k, *best = NULL, *l;
	json_t *ch;
	size_t i;
	json_t *v;

	/* not the order the schema snapshot lists them in (key order): a
	 * catalog's default must not depend on how codes sort */
	l = first_locale(json_object_get(json_object_get(channels, "web"), "locales"), locales);
	if (l)
		return l;
	if (json_array_has_string(locales, "en_US"))
		return "en_US";
	json_object_foreach((json_t *)channels, k, ch)
		if (first_locale(json_object_get(ch, "locales"), locales) && (!best || strcmp(k, best) < 0))
			best = k;
	if (best)
		return first_locale(json_object_get(json_object_get(channels, best), "locales"), locales);
	l = NULL;
	json_array_foreach(locales, i, v)
		if (json_is_string(v) && (!l || strcmp(json_string_value(v), l) < 0))
			l = json_string_value(v);
	return l;
}

int map_new(struct map **out, const struct imp_opts *o, const struct imp_sink *sink,
	    struct hub_err *err)
{
	struct map *m = calloc(1, sizeof(*m));
	const char *vm;
	size_t i;
	json_t *v;

	if (!m)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	m->o = o;
	m->sink = sink;
	m->schema = o->schema;
	m->profile = o->profile;
	m->attrs = json_object_get(o->schema, "attributes");
	m->families = json_object_get(o->schema, "families");
	m->channels = json_object_get(o->schema, "channels");
	m->noted = json_object();
	m->by_name = json_object();
	m->seen_groups = json_object();
	m->child_parent = json_object();
	m->locale = o->locale;
	if (!m->locale)
		m->locale = json_string_value(json_object_get(o->profile, "locale"));
	if (!m->locale)
		m->locale = imp_catalog_locale(o->schema);
	if (!m->locale)
		m->locale = "en_US";
	m->family = json_string_value(json_object_get(o->profile, "family"));
	m->variant_family = json_string_value(json_object_get(o->profile, "variant_family"));
	if (!m->variant_family)
		m->variant_family = m->family;
	m->currency = json_string_value(json_object_get(o->profile, "currency"));
	m->op = IMP_PUT;
	if (!o->profile && (o->format == IMP_CSV))
		m->op = IMP_PATCH; /* a CSV's columns say what a row changes */
	if (json_is_string(json_object_get(o->profile, "write")) &&
	    !strcmp(json_string_value(json_object_get(o->profile, "write")), "patch"))
		m->op = IMP_PATCH;
	vm = json_string_value(json_object_get(json_object_get(o->profile, "variants"), "mode"));
	if (vm && !strcmp(vm, "contiguous"))
		m->vmode = V_CONTIGUOUS;
	else if (vm && !strcmp(vm, "item_group"))
		m->vmode = V_ITEM_GROUP;
	else if (vm && !strcmp(vm, "magento"))
		m->vmode = V_MAGENTO;
	m->axes_map = json_object();
	{
		const char *k;

		json_object_foreach(json_object_get(json_object_get(o->profile, "variants"), "axes"), k, v) {
			char *low = val_slug(k, strlen(k));

			if (low && json_is_string(v))
				json_object_set(m->axes_map, low, v);
			free(low);
		}
	}
	m->sku_attr = "sku";
	{
		const char *k;

		json_object_foreach(m->attrs, k, v)
			if (!strcmp(val_type(v), "identifier")) {
				m->sku_attr = k;
				break;
			}
	}
	(void)i;
	m->phase = m->vmode == V_MAGENTO ? 1 : 0;
	*out = m;
	return 0;
}

static void grow_release(struct grow *g)
{
	json_decref(g->doc);
	json_decref(g->errors);
	free(g->sku);
	free(g->group);
	for (int i = 0; i < 3; i++) {
		free(g->opt_name[i]);
		free(g->opt_val[i]);
	}
	free(g->image);
	memset(g, 0, sizeof(*g));
}

void map_free(struct map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ncols; i++)
		col_release(&m->cols[i]);
	free(m->cols);
	for (size_t i = 0; i < m->ng; i++)
		grow_release(&m->g[i]);
	free(m->g);
	json_decref(m->noted);
	json_decref(m->by_name);
	json_decref(m->seen_groups);
	json_decref(m->child_parent);
	json_decref(m->axes_map);
	free(m);
}

bool map_multipass(const struct map *m)
{
	return m->vmode == V_MAGENTO;
}

int map_set_phase(struct map *m, int phase)
{
	m->phase = phase;
	return 0;
}

/* ---- columns ---- */

static unsigned parse_tf(const json_t *t, struct col *c)
{
	unsigned tf = 0;
	size_t i;
	json_t *v;
	json_t *one = NULL;

	if (json_is_string(t)) {
		one = json_array();
		json_array_append((json_t *)one, (json_t *)t);
		t = one;
	}
	json_array_foreach(t, i, v) {
		const char *s = json_string_value(v);

		if (!s)
			continue;
		if (!strcmp(s, "strip_html"))
			tf |= TF_STRIP_HTML;
		else if (!strcmp(s, "lower"))
			tf |= TF_LOWER;
		else if (!strcmp(s, "category_path"))
			tf |= TF_CATPATH;
		else if (!strcmp(s, "slug"))
			tf |= TF_SLUG;
		else if (!strcmp(s, "split_lines"))
			tf |= TF_SPLIT_LINES;
		else if (!strncmp(s, "split:", 6) && s[6])
			c->split = s[6];
	}
	json_decref(one);
	return tf;
}

/* Reads a profile's column entry. */
static void col_from_profile(struct map *m, struct col *c, const char *name, const json_t *p)
{
	const char *role = json_string_value(json_object_get(p, "role"));
	const char *attr = json_string_value(json_object_get(p, "attribute"));

	(void)name;
	c->tf = parse_tf(json_object_get(p, "transform"), c);
	c->map = json_object_get(p, "map");
	c->units = json_object_get(p, "units");
	c->n = (int)json_integer_value(json_object_get(p, "n"));
	if (role) {
		static const struct {
			const char *name;
			enum col_kind k;
		} roles[] = {{"sku", C_SKU},		 {"family", C_FAMILY},
			     {"parent", C_PARENT},	 {"categories", C_CATEGORIES},
			     {"enabled", C_ENABLED},	 {"group", C_GROUP},
			     {"option_name", C_OPT_NAME}, {"option_value", C_OPT_VALUE},
			     {"image", C_IMAGE},	 {"product_type", C_PTYPE},
			     {"additional_attributes", C_ADDITIONAL},
			     {"variations", C_VARIATIONS}, {"ignore", C_IGNORE}};

		for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
			if (!strcmp(role, roles[i].name))
				c->kind = roles[i].k;
		return;
	}
	if (attr) {
		if (!json_object_get(m->attrs, attr)) {
			note_once(m, 1, name, "unknown_attribute",
				  "the profile maps column '%s' to attribute '%s', which the schema "
				  "does not have: the column is ignored",
				  name, attr);
			c->kind = C_IGNORE;
			return;
		}
		c->kind = C_VALUE;
		c->attr = strdup(attr);
		c->locale = xstrdup(json_string_value(json_object_get(p, "locale")));
		c->channel = xstrdup(json_string_value(json_object_get(p, "channel")));
		c->sub = xstrdup(json_string_value(json_object_get(p, "currency")));
		if (!c->sub)
			c->sub = xstrdup(json_string_value(json_object_get(p, "unit")));
		if (!c->sub && !strcmp(val_type(json_object_get(m->attrs, attr)), "price") &&
		    m->currency && !json_is_true(json_object_get(p, "currency_in_text")))
			c->sub = strdup(m->currency);
	}
}

/* Reads an Akeneo-style column name: attr[-locale][-channel][-currency|unit],
 * or sku, family, parent, categories, enabled, TYPE-products… */
static void col_from_name(struct map *m, struct col *c, long line, const char *name)
{
	char buf[512], *parts[6];
	int np = 0;
	json_t *adef;
	const char *type;

	if (!strcmp(name, "sku") || !strcmp(name, m->sku_attr) ||
	    (!strcmp(name, "code") && !json_object_get(m->attrs, "code"))) {
		c->kind = C_SKU;
		return;
	}
	if (!strcmp(name, "family") ||
	    (!strcmp(name, "family_variant") && json_is_true(json_object_get(m->profile, "akeneo_structure")))) {
		/* an Akeneo family variant is imported as a family of its own */
		c->kind = C_FAMILY;
		return;
	}
	if (!strcmp(name, "parent")) {
		c->kind = C_PARENT;
		return;
	}
	if (!strcmp(name, "categories")) {
		c->kind = C_CATEGORIES;
		return;
	}
	if (!strcmp(name, "enabled")) {
		c->kind = C_ENABLED;
		return;
	}
	if (!strcmp(name, "groups") || !strcmp(name, "family_variant") || !strcmp(name, "uuid")) {
		note_once(m, line, name, "column_ignored",
			  "column '%s' has no counterpart here and is ignored", name);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", name);
	for (char *p = buf; np < 6;) {
		parts[np++] = p;
		p = strchr(p, '-');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (np == 2 && (!strcmp(parts[1], "products") || !strcmp(parts[1], "product_models") ||
			!strcmp(parts[1], "groups") || !strcmp(parts[1], "product_uuids"))) {
		if (!strcmp(parts[1], "products") || !strcmp(parts[1], "product_models")) {
			c->kind = C_ASSOC;
			c->assoc_type = strdup(parts[0]);
			c->assoc_what = strdup(parts[1]);
		} else {
			note_once(m, line, name, "column_ignored",
				  "column '%s' (associations to groups) is ignored", name);
		}
		return;
	}
	adef = json_object_get(m->attrs, parts[0]);
	if (!adef) {
		note_once(m, line, name, "unknown_attribute",
			  "column '%s' names attribute '%s', which the schema does not have: the "
			  "column is ignored",
			  name, parts[0]);
		return;
	}
	type = val_type(adef);
	for (int i = 1; i < np; i++) {
		if (!strcmp(type, "metric") && !strcmp(parts[i], "unit") && i == np - 1) {
			c->sub = strdup("unit");
		} else if (!strcmp(type, "price") && i == np - 1 && !has_locale(m, parts[i]) &&
			   !has_channel(m, parts[i])) {
			if (!has_currency(m, parts[i])) {
				note_once(m, line, name, "unknown_currency",
					  "column '%s' names currency '%s', which the schema does not "
					  "have: the column is ignored",
					  name, parts[i]);
				return;
			}
			c->sub = strdup(parts[i]);
		} else if (!c->locale && has_locale(m, parts[i])) {
			c->locale = strdup(parts[i]);
		} else if (!c->channel && has_channel(m, parts[i])) {
			c->channel = strdup(parts[i]);
		} else {
			note_once(m, line, name, strchr(parts[i], '_') ? "unknown_locale" : "unknown_channel",
				  "column '%s' names '%s', which is not a locale or channel of the "
				  "schema: the column is ignored",
				  name, parts[i]);
			free(c->locale);
			free(c->channel);
			free(c->sub);
			c->locale = c->channel = c->sub = NULL;
			return;
		}
	}
	c->kind = C_VALUE;
	c->attr = strdup(parts[0]);
}

static void col_resolve(struct map *m, struct col *c, long line, const char *name)
{
	json_t *pcols = json_object_get(m->profile, "columns");
	json_t *p = json_object_get(pcols, name);

	memset(c, 0, sizeof(*c));
	if (p) {
		col_from_profile(m, c, name, p);
		return;
	}
	if (json_array_has_string(json_object_get(m->profile, "ignore"), name))
		return;
	if (m->profile && !json_is_true(json_object_get(m->profile, "passthrough"))) {
		note_once(m, line, name, "column_ignored",
			  "the profile does not map column '%s': it is ignored", name);
		return;
	}
	col_from_name(m, c, line, name);
}

int map_header(struct map *m, long line, const struct map_cell *cells, size_t n,
	       struct hub_err *err)
{
	bool has_sku = false;

	/* a multi-pass profile reads the header once per pass */
	for (size_t i = 0; i < m->ncols; i++)
		col_release(&m->cols[i]);
	free(m->cols);
	m->ncols = 0;
	m->cols = calloc(n ? n : 1, sizeof(*m->cols));
	if (!m->cols)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	m->ncols = n;
	m->model_file = false;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < i; k++)
			if (!strcmp(cells[k].s, cells[i].s)) {
				note_once(m, line, cells[i].s, "duplicate_column",
					  "column '%s' appears twice: the second is ignored",
					  cells[i].s);
				goto next;
			}
		col_resolve(m, &m->cols[i], line, cells[i].s);
		if (m->cols[i].kind == C_SKU || m->cols[i].kind == C_GROUP)
			has_sku = true;
		if (m->cols[i].kind == C_FAMILY && !strcmp(cells[i].s, "family_variant"))
			m->model_file = true;
	next:;
	}
	m->header_seen = true;
	if (!has_sku)
		return hub_err_set(err, HUB_EINVALID,
				   "line %ld: the header names no '%s' column (the first line must "
				   "name the columns)",
				   line, m->sku_attr);
	return 0;
}

/* ---- values ---- */

static json_t *entry_find(json_t *arr, const char *locale, const char *channel)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		const char *l = json_string_value(json_object_get(e, "locale"));
		const char *c = json_string_value(json_object_get(e, "channel"));

		if (((!l && !locale) || (l && locale && !strcmp(l, locale))) &&
		    ((!c && !channel) || (c && channel && !strcmp(c, channel))))
			return e;
	}
	return NULL;
}

/* t: the attribute's type */
static void set_entry(json_t *values, const char *code, const char *t, const char *locale,
		      const char *channel, json_t *data /* stolen */)
{
	json_t *arr = json_object_get(values, code), *e, *old;

	/* the keys are literals and the schema's codes: no UTF-8 check needed */
	if (!arr) {
		arr = json_array();
		json_object_set_new_nocheck(values, code, arr);
	}
	e = entry_find(arr, locale, channel);
	if (!e) {
		/* built directly: json_pack parses its format for each of a feed's
		 * many values */
		e = json_object();
		json_object_set_new_nocheck(e, "locale", locale ? json_string(locale) : json_null());
		json_object_set_new_nocheck(e, "channel", channel ? json_string(channel) : json_null());
		json_object_set_new_nocheck(e, "data", data);
		json_array_append_new(arr, e);
		return;
	}
	old = json_object_get(e, "data");
	if (!strcmp(t, "price") && json_is_array(old)) {
		/* one column per currency: merge into the entry's list */
		size_t i, k;
		json_t *np, *op;

		json_array_foreach(data, i, np) {
			const char *cur = json_string_value(json_object_get(np, "currency"));
			bool done = false;

			json_array_foreach(old, k, op)
				if (cur && json_string_value(json_object_get(op, "currency")) &&
				    !strcmp(cur, json_string_value(json_object_get(op, "currency")))) {
					json_array_set(old, k, np);
					done = true;
				}
			if (!done)
				json_array_append(old, np);
		}
		json_decref(data);
		return;
	}
	if (!strcmp(t, "metric") && json_is_object(old)) {
		json_object_update(old, data);
		json_decref(data);
		return;
	}
	json_object_set_new(e, "data", data);
}

bool map_value(struct map *m, json_t *doc, const char *code, const char *locale,
	       const char *channel, const char *sub, const char *s, size_t len, const char *field,
	       json_t *errors)
{
	struct attr_info ai;
	struct val_problem p;
	json_t *adef, *values, *data;
	const char *type;

	if (!attr_info(m, code, &ai))
		return false;
	adef = ai.adef;
	type = ai.type;
	if (ai.loc && !locale)
		locale = m->locale;
	if (!ai.loc)
		locale = NULL;
	if (!ai.scope)
		channel = NULL;
	values = json_object_get(doc, "values");
	if (!values) {
		values = json_object();
		json_object_set_new_nocheck(doc, "values", values);
	}
	if ((!strcmp(type, "asset") || !strcmp(type, "asset_collection")) &&
	    strncmp(s, "sha256:", 7)) {
		/* a file name, not an asset id: upload the files to damd and send
		 * their ids, or name them SKU_1.jpg for damd's linking */
		note_once(m, 0, field, "asset_file_name",
			  "column '%s' holds file names ('%.80s'), not asset ids: its values are "
			  "left out",
			  field ? field : code, s);
		return true;
	}
	if (sub && !strcmp(sub, "unit")) {
		char u[64];

		snprintf(u, sizeof(u), "%.*s", (int)(len < 63 ? len : 63), s);
		data = json_pack("{s:s}", "unit", val_unit(adef, u));
	} else {
		data = val_from_text(adef, s, len, sub, &p);
		if (!data) {
			row_error(errors, field, p.code, "%s", p.msg);
			return true;
		}
	}
	/* a scopable value without a channel holds for every channel: pimd
	 * picks an exact channel first, then the null one */
	set_entry(values, code, type, locale, channel, data);
	return true;
}

/* Applies a column's transforms; returns a malloc'd string or NULL to use
 * the cell as it is. */
static char *transform(const struct col *c, const char *s, size_t len)
{
	char *t = NULL;

	if (c->tf & TF_STRIP_HTML)
		t = val_strip_html(s, len);
	if (c->tf & TF_LOWER) {
		if (!t)
			t = strndup(s, len);
		for (char *q = t; q && *q; q++)
			*q = (char)tolower((unsigned char)*q);
	}
	if (c->tf & TF_SLUG) {
		char *u = val_slug(t ? t : s, t ? strlen(t) : len);

		free(t);
		t = u;
	}
	if (c->split && c->split != ',') {
		if (!t)
			t = strndup(s, len);
		for (char *q = t; q && *q; q++)
			if (*q == c->split)
				*q = ',';
	}
	if (c->tf & TF_SPLIT_LINES) {
		/* the TSV form separates additional images by commas */
		if (!t)
			t = strndup(s, len);
		for (char *q = t; q && *q; q++)
			if (*q == ',')
				*q = '\n';
	}
	if (json_is_object(c->map)) {
		const char *v = json_string_value(json_object_get(c->map, t ? t : s));

		if (v) {
			free(t);
			t = strdup(v);
		}
	}
	return t;
}

/* "Men > Shirts" or "men/shirts" to a category code: the code of a category
 * whose code or label matches the last step, else the slug of the path. */
static char *category_code(struct map *m, const char *s)
{
	const char *last = s, *p;
	json_t *cats = json_object_get(m->schema, "categories"), *cv;
	const char *k;
	char *slug;
	size_t n;

	for (p = s; *p; p++)
		if (*p == '/' || *p == '>')
			last = p + 1;
	while (*last == ' ')
		last++;
	n = strlen(last);
	while (n && last[n - 1] == ' ')
		n--;
	slug = val_slug(last, n);
	json_object_foreach(cats, k, cv) {
		const char *lk;
		json_t *lv;

		if (slug && !strcmp(k, slug))
			return slug;
		json_object_foreach(json_object_get(cv, "labels"), lk, lv)
			if (json_is_string(lv) && strlen(json_string_value(lv)) == n &&
			    !strncasecmp(json_string_value(lv), last, n)) {
				free(slug);
				return strdup(k);
			}
	}
	free(slug);
	return val_slug(s, strlen(s));
}

static void set_categories(struct map *m, json_t *doc, const struct col *c, const char *s,
			   long line)
{
	json_t *arr = json_array();
	const char *q = s;

	while (*q) {
		const char *e = strchr(q, ',');
		size_t n = e ? (size_t)(e - q) : strlen(q);
		char item[512];

		while (n && *q == ' ')
			q++, n--;
		while (n && q[n - 1] == ' ')
			n--;
		if (n) {
			snprintf(item, sizeof(item), "%.*s", (int)n, q);
			if (c->tf & TF_CATPATH) {
				char *code = category_code(m, item);

				if (code && !json_object_get(json_object_get(m->schema, "categories"), code))
					note_once(m, line, item, "unknown_category",
						  "category '%s' is not in the catalog: products are "
						  "imported without it",
						  item);
				else if (code && !json_array_has_string(arr, code))
					json_array_append_new(arr, json_string(code));
				free(code);
			} else {
				json_array_append_new(arr, json_string(item));
			}
		}
		if (!e)
			break;
		q = e + 1;
	}
	json_object_set_new(doc, "categories", arr);
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* "k=v,k=v" (Magento additional_attributes): each known attribute or axis. */
static void set_additional(struct map *m, json_t *doc, const char *s, const char *field,
			   json_t *errors, long line)
{
	const char *q = s;

	while (*q) {
		const char *e = strchr(q, ','), *eq;
		size_t n = e ? (size_t)(e - q) : strlen(q);
		char key[256], val[1024];

		eq = memchr(q, '=', n);
		if (eq) {
			const char *attr;
			char *slug;

			snprintf(key, sizeof(key), "%.*s", (int)(eq - q), q);
			snprintf(val, sizeof(val), "%.*s", (int)(n - (size_t)(eq - q) - 1), eq + 1);
			slug = val_slug(key, strlen(key));
			attr = json_string_value(json_object_get(m->axes_map, slug ? slug : key));
			if (!attr)
				attr = json_object_get(m->attrs, key) ? key : NULL;
			if (attr)
				map_value(m, doc, attr, NULL, NULL, NULL, val, strlen(val), field, errors);
			else
				note_once(m, line, key, "unknown_attribute",
					  "additional attribute '%s' is not in the schema: it is ignored",
					  key);
			free(slug);
		}
		if (!e)
			break;
		q = e + 1;
	}
}

/* Fills g from one row; cells in column order (tabular) or by name. */
static void row_fill(struct map *m, struct grow *g, long line, const struct col *const *cols,
		     const struct map_cell *cells, size_t n)
{
	json_t *doc = json_object(), *errors = json_array();
	struct attr_info ai;

	g->line = line;
	g->doc = doc;
	g->errors = errors;
	for (size_t i = 0; i < n; i++) {
		const struct col *c = cols[i];
		const char *s = cells[i].s;
		size_t len = cells[i].len;
		char *t;
		bool b;

		if (!c || c->kind == C_IGNORE || !len)
			continue;
		/* an export's guard against formula injection, taken off again */
		if (len > 1 && s[0] == '\'' && strchr("=+-@", s[1]))
			s++, len--;
		t = transform(c, s, len);
		if (t) {
			s = t;
			len = strlen(t);
		}
		if (!len)
			goto next;
		switch (c->kind) {
		case C_SKU:
			free(g->sku);
			g->sku = strndup(s, len);
			g->variant_data = true;
			break;
		case C_FAMILY:
			json_object_set_new(doc, "family", json_stringn(s, len));
			break;
		case C_PARENT:
			json_object_set_new(doc, "parent", json_stringn(s, len));
			break;
		case C_CATEGORIES:
			set_categories(m, doc, c, s, line);
			break;
		case C_ENABLED:
			if (parse_bool(s, &b) < 0)
				row_error(errors, cells[i].name, "not_a_boolean",
					  "'%.80s' is not yes/no (1/0, true/false)", s);
			else
				json_object_set_new(doc, "enabled", json_boolean(b));
			break;
		case C_VALUE:
			if (json_is_object(c->units) && memchr(s, ' ', len)) {
				/* "1.5 kg": the amount, and the unit as the schema spells it */
				const char *sp = memchr(s, ' ', len);
				char unit[64];
				const char *u;

				snprintf(unit, sizeof(unit), "%.*s", (int)(len - (size_t)(sp - s) - 1), sp + 1);
				u = json_string_value(json_object_get(c->units, unit));
				map_value(m, doc, c->attr, c->locale, c->channel, u ? u : unit, s,
					  (size_t)(sp - s), cells[i].name, errors);
				break;
			}
			map_value(m, doc, c->attr, c->locale, c->channel, c->sub, s, len, cells[i].name,
				  errors);
			if (attr_info(m, c->attr, &ai) && !strcmp(ai.type, "price"))
				g->variant_data = true;
			break;
		case C_ASSOC: {
			json_t *as = json_object_get(doc, "associations"), *ty, *list;
			const char *q = s;

			if (!as) {
				as = json_object();
				json_object_set_new(doc, "associations", as);
			}
			ty = json_object_get(as, c->assoc_type);
			if (!ty) {
				ty = json_object();
				json_object_set_new(as, c->assoc_type, ty);
			}
			list = json_array();
			while (*q) {
				const char *e = strchr(q, ',');
				size_t k = e ? (size_t)(e - q) : strlen(q);

				if (k)
					json_array_append_new(list, json_stringn(q, k));
				if (!e)
					break;
				q = e + 1;
			}
			/* product models are products here */
			{
				json_t *prev = json_object_get(ty, "products");

				if (prev)
					json_array_extend(prev, list);
				else
					json_object_set(ty, "products", list);
				json_decref(list);
			}
			break;
		}
		case C_GROUP:
			free(g->group);
			g->group = strndup(s, len);
			break;
		case C_OPT_NAME:
			if (c->n >= 1 && c->n <= 3) {
				free(g->opt_name[c->n - 1]);
				g->opt_name[c->n - 1] = strndup(s, len);
			}
			break;
		case C_OPT_VALUE:
			if (c->n >= 1 && c->n <= 3) {
				free(g->opt_val[c->n - 1]);
				g->opt_val[c->n - 1] = strndup(s, len);
				g->variant_data = true;
			}
			break;
		case C_IMAGE:
			if (!g->image)
				g->image = strndup(s, len);
			break;
		case C_PTYPE:
			json_object_set_new(doc, "$type", json_stringn(s, len));
			break;
		case C_ADDITIONAL:
			set_additional(m, doc, s, cells[i].name, errors, line);
			break;
		case C_VARIATIONS:
			json_object_set_new(doc, "$variations", json_stringn(s, len));
			break;
		case C_IGNORE:
			break;
		}
	next:
		free(t);
	}
}

/* ---- writing ---- */

int map_emit(struct map *m, json_t *doc, enum imp_op op, long line, struct hub_err *err)
{
	int rc;

	if (!doc)
		return hub_err_set(err, HUB_ENOMEM, "line %ld: out of memory", line);
	if (!json_object_get(doc, "family") && m->family && op == IMP_PUT)
		json_object_set_new(doc, "family", json_string(m->family));
	if (!json_object_get(doc, "values") && op == IMP_PUT)
		json_object_set_new(doc, "values", json_object());
	rc = m->sink->doc(m->sink->cls, doc, op, line);
	if (rc < 0)
		return hub_err_set(err, rc, "line %ld: the import was stopped", line);
	return 0;
}

static void fail_row(struct map *m, long line, json_t *errors)
{
	if (m->sink->row_failed)
		m->sink->row_failed(m->sink->cls, line, errors);
}

json_t *imp_variant_attrs(const json_t *family, const char *sku_attr)
{
	json_t *set = json_object(), *v;
	size_t i;

	json_array_foreach(json_object_get(family, "variant_axes"), i, v)
		if (json_is_string(v))
			json_object_set_new(set, json_string_value(v), json_true());
	json_array_foreach(json_object_get(family, "variant_attributes"), i, v)
		if (json_is_string(v))
			json_object_set_new(set, json_string_value(v), json_true());
	json_object_set_new(set, sku_attr, json_true());
	return set;
}

/* Attributes a variant of family sets itself (imp_variant_attrs); NULL when
 * the family defines no variants. */
static json_t *variant_set(struct map *m, const char *family)
{
	json_t *f = json_object_get(m->families, family);

	if (!f || !json_array_size(json_object_get(f, "variant_axes")))
		return NULL;
	return imp_variant_attrs(f, m->sku_attr);
}

/* Splits doc's values: those in set move to a new object returned. */
static json_t *take_values(json_t *doc, json_t *set, bool keep_in_set)
{
	json_t *values = json_object_get(doc, "values"), *out = json_object(), *v;
	const char *k;
	void *tmp;

	json_object_foreach_safe(values, tmp, k, v) {
		bool in = json_object_get(set, k) != NULL;

		if (in == keep_in_set) {
			json_object_set(out, k, v);
			json_object_del(values, k);
		}
	}
	return out;
}

/* A copy of doc's values: an empty object for a row none of whose cells
 * made a value (json_pack would take NULL for a failure and make no
 * document at all). */
static json_t *values_copy(json_t *doc)
{
	json_t *v = json_object_get(doc, "values");

	return json_is_object(v) ? json_deep_copy(v) : json_object();
}

static const char *fam_of(struct map *m, json_t *doc, bool variant)
{
	const char *f = json_string_value(json_object_get(doc, "family"));

	if (f)
		return f;
	return variant ? m->variant_family : m->family;
}

/* The family for variants along the axes in set (attribute → true): pref
 * when its axes are those, else the first family of the schema whose axes
 * are, else pref. */
static const char *pick_family(struct map *m, const char *pref, json_t *set)
{
	const char *k;
	json_t *f;

	if (!json_object_size(set))
		return pref;
	for (int pass = 0; pass < 2; pass++) {
		json_object_foreach(m->families, k, f) {
			json_t *axes = json_object_get(f, "variant_axes"), *a;
			size_t i;
			bool same = json_array_size(axes) == json_object_size(set);

			if (pass == 0 && (!pref || strcmp(k, pref)))
				continue;
			json_array_foreach(axes, i, a)
				if (!json_is_string(a) || !json_object_get(set, json_string_value(a)))
					same = false;
			if (same)
				return k;
		}
	}
	return pref;
}

static void strip_internal(json_t *doc)
{
	json_object_del(doc, "$type");
	json_object_del(doc, "$variations");
}

/* A row on its own: one product. */
static int emit_plain(struct map *m, struct grow *g, struct hub_err *err)
{
	int rc = 0;

	if (json_array_size(g->errors)) {
		fail_row(m, g->line, g->errors);
		return 0;
	}
	if (!g->sku) {
		json_t *e = json_array();

		row_error(e, NULL, "no_sku", "the row has no %s", m->sku_attr);
		fail_row(m, g->line, e);
		json_decref(e);
		return 0;
	}
	json_object_set_new(g->doc, "sku", json_string(g->sku));
	if (g->image)
		map_value(m, g->doc, "image_link", NULL, NULL, NULL, g->image, strlen(g->image),
			  "image", g->errors);
	strip_internal(g->doc);
	rc = map_emit(m, g->doc, m->op, g->line, err);
	return rc;
}

/* A row of an Akeneo product models file that names a parent: a
 * sub-model, handed to the sink's model callback instead of doc. */
static int emit_model(struct map *m, struct grow *g, struct hub_err *err)
{
	int rc;

	if (json_array_size(g->errors)) {
		fail_row(m, g->line, g->errors);
		return 0;
	}
	if (!g->sku) {
		json_t *e = json_array();

		row_error(e, NULL, "no_sku", "the row has no code");
		fail_row(m, g->line, e);
		json_decref(e);
		return 0;
	}
	json_object_set_new(g->doc, "sku", json_string(g->sku));
	strip_internal(g->doc);
	rc = m->sink->model(m->sink->cls, g->doc, m->op, g->line);
	if (rc < 0)
		return hub_err_set(err, rc, "line %ld: the import was stopped", g->line);
	return 0;
}

/* Merchant item groups: the first item of a group also makes the parent. */
static int emit_item_group(struct map *m, struct grow *g, struct hub_err *err)
{
	const char *fam;
	json_t *set, *parent, *pvals;
	int rc;

	if (!g->group || json_array_size(g->errors) || !g->sku)
		return emit_plain(m, g, err);
	fam = fam_of(m, g->doc, true);
	if (json_is_string(json_object_get(m->seen_groups, g->group))) {
		/* the group's family was settled by its first item */
		fam = json_string_value(json_object_get(m->seen_groups, g->group));
	} else if (!json_object_get(g->doc, "family")) {
		json_t *axes = json_object(), *values = json_object_get(g->doc, "values"), *a;
		size_t i;

		json_array_foreach(json_object_get(json_object_get(m->families, fam), "variant_axes"), i, a)
			if (json_is_string(a) && json_object_get(values, json_string_value(a)))
				json_object_set_new(axes, json_string_value(a), json_true());
		/* a group whose items vary by one axis only */
		if (json_object_size(axes))
			fam = pick_family(m, fam, axes);
		json_decref(axes);
	}
	set = variant_set(m, fam);
	if (!set) {
		note_once(m, g->line, "item_group_id", "no_variants",
			  "family '%s' defines no variant axes: items of a group are imported as "
			  "separate products",
			  fam ? fam : "");
		return emit_plain(m, g, err);
	}
	if (!strcmp(g->group, g->sku)) {
		json_decref(set);
		return emit_plain(m, g, err);
	}
	json_object_set_new(g->doc, "sku", json_string(g->sku));
	if (g->image)
		map_value(m, g->doc, "image_link", NULL, NULL, NULL, g->image, strlen(g->image),
			  "image", g->errors);
	json_object_set_new(g->doc, "family", json_string(fam));
	pvals = take_values(g->doc, set, false);
	if (!json_object_get(m->seen_groups, g->group)) {
		json_object_set_new(m->seen_groups, g->group, json_string(fam));
		parent = json_pack("{s:s,s:s,s:O}", "sku", g->group, "family", fam, "values", pvals);
		if (json_object_get(g->doc, "categories"))
			json_object_set(parent, "categories", json_object_get(g->doc, "categories"));
		rc = map_emit(m, parent, IMP_PUT, g->line, err);
		json_decref(parent);
		if (rc < 0)
			goto out;
	}
	json_object_set_new(g->doc, "parent", json_string(g->group));
	json_object_del(g->doc, "categories");
	strip_internal(g->doc);
	rc = map_emit(m, g->doc, m->op, g->line, err);
out:
	json_decref(pvals);
	json_decref(set);
	return rc;
}

/* The axis attribute an option name stands for, or NULL. */
static const char *axis_for(struct map *m, const char *name)
{
	char *slug = val_slug(name, strlen(name));
	const char *a = json_string_value(json_object_get(m->axes_map, slug ? slug : ""));

	if (!a && slug && json_object_get(m->attrs, slug))
		a = json_string_value(json_object_get(json_object_get(m->attrs, slug), "code"));
	free(slug);
	return a;
}

/* A Shopify handle's rows: one product, or a parent and its variants. */
static int flush_group(struct map *m, struct hub_err *err)
{
	const char *dflt = json_string_value(
		json_object_get(json_object_get(m->profile, "variants"), "default_option"));
	struct grow *first;
	size_t nvar = 0;
	bool has_options = false;
	int rc = 0;
	char *names[3] = {NULL, NULL, NULL};

	if (!m->ng)
		return 0;
	first = &m->g[0];
	for (size_t i = 0; i < m->ng; i++) {
		struct grow *g = &m->g[i];

		if (i == 0 || g->variant_data)
			nvar++;
		for (int k = 0; k < 3; k++)
			if (g->opt_val[k] && (!dflt || strcmp(g->opt_val[k], dflt)))
				has_options = true;
	}
	for (int k = 0; k < 3; k++)
		names[k] = first->opt_name[k];
	/* image-only rows: more pictures of the product */
	{
		struct buf more = BUF_INIT;

		for (size_t i = 1; i < m->ng; i++)
			if (!m->g[i].variant_data && m->g[i].image) {
				if (more.len)
					buf_addc(&more, '\n');
				buf_adds(&more, m->g[i].image);
			}
		if (more.len)
			map_value(m, first->doc, "additional_image_links", NULL, NULL, NULL, more.data,
				  more.len, "image", first->errors);
		buf_release(&more);
	}
	if (!has_options || nvar == 1) {
		if (!first->sku)
			first->sku = xstrdup(first->group);
		rc = emit_plain(m, first, err);
		goto out;
	}
	{
		const char *fam = fam_of(m, first->doc, true);
		json_t *set, *parent, *pvals, *axes = json_object();
		int nth = 0;

		for (int k = 0; k < 3; k++) {
			const char *axis = names[k] ? axis_for(m, names[k]) : NULL;

			if (axis)
				json_object_set_new(axes, axis, json_true());
		}
		if (!json_object_get(first->doc, "family"))
			fam = pick_family(m, fam, axes);
		json_decref(axes);
		set = variant_set(m, fam);

		if (first->image)
			map_value(m, first->doc, "image_link", NULL, NULL, NULL, first->image,
				  strlen(first->image), "image", first->errors);
		if (json_array_size(first->errors)) {
			fail_row(m, first->line, first->errors);
			json_decref(set);
			goto out;
		}
		json_object_set_new(first->doc, "family", json_string(fam ? fam : ""));
		pvals = set ? take_values(first->doc, set, false) : values_copy(first->doc);
		parent = json_pack("{s:s,s:s,s:O}", "sku", first->group, "family", fam ? fam : "",
				   "values", pvals);
		json_decref(pvals);
		if (json_object_get(first->doc, "categories"))
			json_object_set(parent, "categories", json_object_get(first->doc, "categories"));
		if (json_object_get(first->doc, "enabled"))
			json_object_set(parent, "enabled", json_object_get(first->doc, "enabled"));
		rc = map_emit(m, parent, IMP_PUT, first->line, err);
		json_decref(parent);
		if (rc < 0) {
			json_decref(set);
			goto out;
		}
		for (size_t i = 0; i < m->ng && rc >= 0; i++) {
			struct grow *g = &m->g[i];
			json_t *child, *vals;
			char sku[512];

			if (i && !g->variant_data)
				continue;
			nth++;
			if (i) {
				vals = set ? take_values(g->doc, set, true) : values_copy(g->doc);
			} else {
				vals = values_copy(first->doc);
			}
			child = json_pack("{s:s,s:O}", "family", fam ? fam : "", "values", vals);
			json_decref(vals);
			for (int k = 0; k < 3; k++) {
				const char *axis;

				if (!g->opt_val[k] || !names[k])
					continue;
				axis = axis_for(m, names[k]);
				if (!axis) {
					note_once(m, g->line, names[k], "unknown_option",
						  "option '%s' maps to no attribute: its values are "
						  "ignored",
						  names[k]);
					continue;
				}
				map_value(m, child, axis, NULL, NULL, NULL, g->opt_val[k],
					  strlen(g->opt_val[k]), names[k], g->errors);
			}
			if (json_array_size(g->errors)) {
				fail_row(m, g->line, g->errors);
				json_decref(child);
				continue;
			}
			if (g->sku)
				snprintf(sku, sizeof(sku), "%s", g->sku);
			else
				snprintf(sku, sizeof(sku), "%s-%d", first->group, nth);
			json_object_set_new(child, "sku", json_string(sku));
			json_object_set_new(child, "parent", json_string(first->group));
			rc = map_emit(m, child, m->op, g->line, err);
			json_decref(child);
		}
		json_decref(set);
	}
out:
	for (size_t i = 0; i < m->ng; i++)
		grow_release(&m->g[i]);
	m->ng = 0;
	return rc;
}

/* Magento: configurable_variations "sku=X,color=Red|sku=Y,…" → children. */
static void collect_variations(struct map *m, const char *parent, const char *s)
{
	const char *q = s;

	while (*q) {
		const char *bar = strchr(q, '|');
		size_t n = bar ? (size_t)(bar - q) : strlen(q);
		const char *k = q;

		while (k < q + n) {
			const char *comma = memchr(k, ',', (size_t)(q + n - k));
			const char *end = comma ? comma : q + n;

			if (end - k > 4 && !strncmp(k, "sku=", 4)) {
				char sku[512];

				snprintf(sku, sizeof(sku), "%.*s", (int)(end - k - 4), k + 4);
				json_object_set_new(m->child_parent, sku, json_string(parent));
			}
			k = end + 1;
		}
		if (!bar)
			break;
		q = bar + 1;
	}
}

static int emit_magento(struct map *m, struct grow *g, struct hub_err *err)
{
	const char *type = json_string_value(json_object_get(g->doc, "$type"));
	const char *vars = json_string_value(json_object_get(g->doc, "$variations"));
	const char *parent = g->sku ? json_string_value(json_object_get(m->child_parent, g->sku))
				    : NULL;
	int rc = 0;

	if (m->phase == 1) {
		if (g->sku && vars && type && !strcmp(type, "configurable"))
			collect_variations(m, g->sku, vars);
		return 0;
	}
	if ((m->phase == 2) == (parent != NULL))
		return 0; /* children wait for the third pass, when parents exist */
	if (parent) {
		const char *fam = fam_of(m, g->doc, true);
		json_t *set = variant_set(m, fam);

		if (set) {
			json_t *drop = take_values(g->doc, set, false);

			json_decref(drop);
			json_decref(set);
		}
		json_object_del(g->doc, "categories");
		json_object_set_new(g->doc, "parent", json_string(parent));
		json_object_set_new(g->doc, "family", json_string(fam ? fam : ""));
	} else if (type && !strcmp(type, "configurable")) {
		json_object_set_new(g->doc, "family",
				    json_string(fam_of(m, g->doc, true) ? fam_of(m, g->doc, true) : ""));
	}
	rc = emit_plain(m, g, err);
	return rc;
}

static int row_done(struct map *m, struct grow *g, struct hub_err *err)
{
	int rc;

	switch (m->vmode) {
	case V_CONTIGUOUS:
		if (!g->group) {
			json_t *e = json_array();

			row_error(e, NULL, "no_group", "the row has no product handle");
			fail_row(m, g->line, e);
			json_decref(e);
			grow_release(g);
			return 0;
		}
		if (m->ng && strcmp(m->g[0].group, g->group) && (rc = flush_group(m, err)) < 0) {
			grow_release(g);
			return rc;
		}
		if (m->ng == m->gcap) {
			size_t nc = m->gcap ? m->gcap * 2 : 8;
			struct grow *ng;

			if (nc > MAP_MAX_GROUP || !(ng = realloc(m->g, nc * sizeof(*ng)))) {
				grow_release(g);
				return hub_err_set(err, HUB_ETOOBIG,
						   "line %ld: more than %d rows share one handle",
						   g->line, MAP_MAX_GROUP);
			}
			m->g = ng;
			m->gcap = nc;
		}
		m->g[m->ng++] = *g;
		return 0;
	case V_ITEM_GROUP:
		rc = emit_item_group(m, g, err);
		break;
	case V_MAGENTO:
		rc = emit_magento(m, g, err);
		break;
	default:
		if (m->model_file && m->sink->model && json_object_get(g->doc, "parent"))
			rc = emit_model(m, g, err);
		else
			rc = emit_plain(m, g, err);
		break;
	}
	grow_release(g);
	return rc;
}

const struct imp_sink *map_sink(const struct map *m)
{
	return m->sink;
}

bool map_rows_independent(const struct map *m)
{
	return m->vmode == V_NONE && !(m->model_file && m->sink->model);
}

int map_row(struct map *m, long line, const struct map_cell *cells, size_t n, struct hub_err *err)
{
	struct grow g = {0};
	const struct col *cols[256], **cp = cols;
	size_t k = n < m->ncols ? n : m->ncols;
	bool blank = true;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (cells[i].len)
			blank = false;
	if (blank)
		return 0; /* an empty line */
	if (n > m->ncols) {
		json_t *e = json_array();

		if (m->phase == 0 || m->phase == 2) {
			row_error(e, NULL, "too_many_cells",
				  "the row has %zu cells, the header names %zu columns", n, m->ncols);
			fail_row(m, line, e);
		}
		json_decref(e);
		return 0;
	}
	if (k > sizeof(cols) / sizeof(cols[0]) && !(cp = malloc(k * sizeof(*cp))))
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	for (size_t i = 0; i < k; i++)
		cp[i] = &m->cols[i];
	row_fill(m, &g, line, cp, cells, k);
	if (cp != cols)
		free(cp);
	rc = row_done(m, &g, err);
	return rc;
}

int map_named(struct map *m, long line, const struct map_cell *cells, size_t n, struct hub_err *err)
{
	struct grow g = {0};
	const struct col **cp = calloc(n ? n : 1, sizeof(*cp));

	if (!cp)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *ix = json_object_get(m->by_name, cells[i].name);

		if (!ix) {
			struct col *nc = realloc(m->cols, (m->ncols + 1) * sizeof(*nc));

			if (!nc) {
				free(cp);
				return hub_err_set(err, HUB_ENOMEM, "out of memory");
			}
			m->cols = nc;
			col_resolve(m, &m->cols[m->ncols], line, cells[i].name);
			ix = json_integer((json_int_t)m->ncols++);
			json_object_set_new(m->by_name, cells[i].name, ix);
		}
	}
	for (size_t i = 0; i < n; i++)
		cp[i] = &m->cols[json_integer_value(json_object_get(m->by_name, cells[i].name))];
	row_fill(m, &g, line, cp, cells, n);
	free(cp);
	return row_done(m, &g, err);
}

int map_finish(struct map *m, struct hub_err *err)
{
	if (m->vmode == V_CONTIGUOUS)
		return flush_group(m, err);
	return 0;
}
