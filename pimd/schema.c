#include "schema.h"
#include "json.h"
#include "err.h"
#include "hash.h"
#include "store.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[PK_COUNT] = {
	"locales", "currencies", "channels", "attributes", "families", "categories",
	"association-types",
};

static const char *const type_names[PT_COUNT] = {
	"identifier", "text",   "textarea", "number", "boolean",          "date",
	"price",      "simple_select", "multi_select", "metric", "asset", "asset_collection",
	"product_reference",
};

int pim_kind_parse(const char *name)
{
	for (int i = 0; name && i < PK_COUNT; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

const char *pim_kind_name(int kind)
{
	return kind >= 0 && kind < PK_COUNT ? kind_names[kind] : "?";
}

const char *pim_type_name(int type)
{
	return type >= 0 && type < PT_COUNT ? type_names[type] : "?";
}

static int type_parse(const char *name)
{
	for (int i = 0; name && i < PT_COUNT; i++)
		if (!strcmp(name, type_names[i]))
			return i;
	return -1;
}

/* A JSON string of s, cut back to whole UTF-8 characters when truncation
 * (a "%.80s", a bounded path) split one: a problem must never be lost. */
static json_t *utf8_string(const char *s)
{
	json_t *j = json_string(s);
	char tmp[600];
	size_t n;

	if (j)
		return j;
	n = strlen(s);
	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	while (n > 0 && !(j = json_string(tmp))) {
		/* drop the last (possibly partial) character */
		do
			n--;
		while (n > 0 && ((unsigned char)tmp[n] & 0xc0) == 0x80);
		tmp[n] = 0;
	}
	return j ? j : json_string("");
}

void pim_problem(json_t *problems, const char *path, const char *code, const char *fmt, ...)
{
	char msg[512];
	json_t *p = json_object();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_set_new(p, "path", utf8_string(path));
	json_object_set_new(p, "code", json_string(code));
	json_object_set_new(p, "message", utf8_string(msg));
	json_array_append_new(problems, p);
}

void pim_ptr(char *out, size_t outlen, const char *base, const char *key)
{
	size_t o = strlen(base);

	if (o >= outlen)
		o = outlen - 1;
	memmove(out, base, o);
	if (o + 1 < outlen)
		out[o++] = '/';
	for (const char *k = key; *k && o + 2 < outlen; k++) {
		if (*k == '~' || *k == '/') {
			out[o++] = '~';
			out[o++] = *k == '~' ? '0' : '1';
		} else {
			out[o++] = *k;
		}
	}
	out[o] = 0;
}

/* ---- snapshots ---- */

static int attr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pim_attr *)a)->code, ((const struct pim_attr *)b)->code);
}

static int fam_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pim_family *)a)->code, ((const struct pim_family *)b)->code);
}

/* The attributes by code in a hash table: a written product looks up
 * dozens, which a binary search did with a string comparison a step. */
static int attr_slots_fill(struct pim_schema *s)
{
	size_t n = 16;

	while (n < 2 * s->nattrs)
		n *= 2;
	s->attr_slots = calloc(n, sizeof(*s->attr_slots));
	if (!s->attr_slots)
		return HUB_ENOMEM;
	s->attr_mask = n - 1;
	for (size_t i = 0; i < s->nattrs; i++) {
		size_t at = hash_fnv1a(s->attrs[i].code) & s->attr_mask;

		while (s->attr_slots[at])
			at = (at + 1) & s->attr_mask;
		s->attr_slots[at] = (uint32_t)(i + 1);
	}
	return 0;
}

static const char *json_get_code(const json_t *v)
{
	return json_string_value(json_object_get(v, "code"));
}

/* An object whose keys are the strings of arr (or of arr's {"code"}s). */
static json_t *set_of(json_t *arr)
{
	json_t *set = json_object(), *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		const char *c = json_is_string(v) ? json_string_value(v) : json_get_code(v);

		if (c)
			json_object_set_new(set, c, json_true());
	}
	return set;
}


static void attr_compile(struct pim_attr *a, const char *code, json_t *doc)
{
	json_t *val = json_object_get(doc, "validation");
	json_t *j;

	memset(a, 0, sizeof(*a));
	a->code = code;
	a->doc = doc;
	a->type = type_parse(json_string_value(json_object_get(doc, "type")));
	if ((int)a->type < 0)
		a->type = PT_TEXT;
	a->localizable = json_is_true(json_object_get(doc, "localizable"));
	a->scopable = json_is_true(json_object_get(doc, "scopable"));
	a->unique = json_is_true(json_object_get(doc, "unique")) || a->type == PT_IDENTIFIER;
	a->gtin = json_is_true(json_object_get(val, "gtin"));
	j = json_object_get(val, "max_length");
	a->max_length = json_is_integer(j) ? (long)json_integer_value(j) : -1;
	j = json_object_get(val, "regex");
	if (json_is_string(j) && regcomp(&a->re, json_string_value(j), REG_EXTENDED | REG_NOSUB) == 0)
		a->has_re = true;
	a->min = json_string_value(json_object_get(val, "min"));
	a->max = json_string_value(json_object_get(val, "max"));
	j = json_object_get(val, "decimals");
	a->decimals = json_is_integer(j) ? (int)json_integer_value(j) : -1;
	a->options = set_of(json_object_get(doc, "options"));
	a->units = set_of(json_object_get(doc, "units"));
}

static void fam_compile(struct pim_family *f, const char *code, json_t *doc)
{
	json_t *v;
	size_t i;

	f->code = code;
	f->doc = doc;
	f->attrs = set_of(json_object_get(doc, "attributes"));
	json_object_set_new(f->attrs, "sku", json_true());
	f->axes = json_object_get(doc, "variant_axes");
	f->variant = set_of(json_object_get(doc, "variant_attributes"));
	json_array_foreach(f->axes, i, v)
		if (json_is_string(v))
			json_object_set_new(f->variant, json_string_value(v), json_true());
	json_object_set_new(f->variant, "sku", json_true());
	f->requirements = json_object_get(doc, "requirements");
}

static void cat_paths(struct pim_schema *s)
{
	json_t *cats = s->docs[PK_CATEGORIES], *doc;
	const char *code;

	s->cat_path = json_object();
	json_object_foreach(cats, code, doc) {
		json_t *path = json_array();
		const char *c = code;
		int depth = 0;

		/* walk up; the depth bound guards against a cycle in old data */
		while (c && depth++ < 64) {
			json_array_insert_new(path, 0, json_string(c));
			c = json_string_value(json_object_get(json_object_get(cats, c), "parent"));
		}
		json_object_set_new(s->cat_path, code, path);
	}
}

int pim_schema_load(struct pim_txn *t, struct pim_schema **out, struct hub_err *err)
{
	struct pim_schema *s = calloc(1, sizeof(*s));
	struct pim_iter *it = NULL;
	const void *k, *v;
	size_t kl, vl;
	int rc;

	if (!s)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	s->refs = 1;
	for (int i = 0; i < PK_COUNT; i++)
		s->docs[i] = json_object();
	rc = pim_iter_open(t, PDB_SCHEMA, &it, err);
	if (rc < 0)
		goto fail;
	for (rc = pim_iter_seek(it, "", 0, &k, &kl, &v, &vl); rc == 0;
	     rc = pim_iter_next(it, &k, &kl, &v, &vl)) {
		const char *key = k, *nul = memchr(key, 0, kl);
		char kind[32], code[PIM_MAX_KEY + 1];
		json_t *doc;
		int kd;

		if (!nul || nul - key >= (long)sizeof(kind))
			continue;
		memcpy(kind, key, nul - key);
		kind[nul - key] = 0;
		memcpy(code, nul + 1, kl - (nul - key) - 1);
		code[kl - (nul - key) - 1] = 0;
		kd = pim_kind_parse(kind);
		doc = json_loadb(v, vl, 0, NULL);
		if (kd >= 0 && doc)
			json_object_set_new(s->docs[kd], code, doc);
		else
			json_decref(doc);
	}
	pim_iter_close(it);
	{
		json_t *doc;
		const char *code;
		size_t i = 0;

		s->nattrs = json_object_size(s->docs[PK_ATTRIBUTES]);
		s->attrs = calloc(s->nattrs + 1, sizeof(*s->attrs));
		s->nfams = json_object_size(s->docs[PK_FAMILIES]);
		s->fams = calloc(s->nfams + 1, sizeof(*s->fams));
		if (!s->attrs || !s->fams) {
			rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
			goto fail;
		}
		json_object_foreach(s->docs[PK_ATTRIBUTES], code, doc)
			attr_compile(&s->attrs[i++], code, doc);
		qsort(s->attrs, s->nattrs, sizeof(*s->attrs), attr_cmp);
		if (attr_slots_fill(s) < 0) {
			rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
			goto fail;
		}
		i = 0;
		json_object_foreach(s->docs[PK_FAMILIES], code, doc)
			fam_compile(&s->fams[i++], code, doc);
		qsort(s->fams, s->nfams, sizeof(*s->fams), fam_cmp);
	}
	cat_paths(s);
	{
		json_t *ch, *loc;
		const char *code;
		size_t n = 0, i;

		json_object_foreach(s->docs[PK_CHANNELS], code, ch)
			n += json_array_size(json_object_get(ch, "locales"));
		s->chlocs = calloc(n + 1, sizeof(*s->chlocs));
		if (!s->chlocs) {
			rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
			goto fail;
		}
		json_object_foreach(s->docs[PK_CHANNELS], code, ch)
			json_array_foreach(json_object_get(ch, "locales"), i, loc) {
				struct pim_chloc *cl = &s->chlocs[s->nchlocs];
				size_t len = strlen(code) + json_string_length(loc) + 2;

				if (!json_is_string(loc) || !(cl->key = malloc(len)))
					continue;
				snprintf(cl->key, len, "%s/%s", code, json_string_value(loc));
				cl->channel = code;
				cl->locale = json_string_value(loc);
				cl->currencies = json_object_get(ch, "currencies");
				s->nchlocs++;
			}
	}
	*out = s;
	return 0;
fail:
	pim_schema_unref(s);
	return rc;
}

void pim_schema_ref(struct pim_schema *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void pim_schema_unref(struct pim_schema *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; s->attrs && i < s->nattrs; i++) {
		if (s->attrs[i].has_re)
			regfree(&s->attrs[i].re);
		json_decref(s->attrs[i].options);
		json_decref(s->attrs[i].units);
	}
	for (size_t i = 0; s->fams && i < s->nfams; i++) {
		json_decref(s->fams[i].attrs);
		json_decref(s->fams[i].variant);
	}
	free(s->attrs);
	free(s->attr_slots);
	free(s->fams);
	for (size_t i = 0; i < s->nchlocs; i++)
		free(s->chlocs[i].key);
	free(s->chlocs);
	for (int i = 0; i < PK_COUNT; i++)
		json_decref(s->docs[i]);
	json_decref(s->cat_path);
	free(s);
}

json_t *pim_schema_doc(const struct pim_schema *s, int kind, const char *code)
{
	return code ? json_object_get(s->docs[kind], code) : NULL;
}

const struct pim_attr *pim_schema_attr(const struct pim_schema *s, const char *code)
{
	if (!code || !s->attr_slots)
		return NULL;
	for (size_t at = hash_fnv1a(code) & s->attr_mask; s->attr_slots[at];
	     at = (at + 1) & s->attr_mask) {
		const struct pim_attr *a = &s->attrs[s->attr_slots[at] - 1];

		if (!strcmp(a->code, code))
			return a;
	}
	return NULL;
}

const struct pim_family *pim_schema_family(const struct pim_schema *s, const char *code)
{
	struct pim_family key = {.code = code};

	if (!code)
		return NULL;
	return bsearch(&key, s->fams, s->nfams, sizeof(*s->fams), fam_cmp);
}

json_t *pim_schema_cat_path(const struct pim_schema *s, const char *code)
{
	return code ? json_object_get(s->cat_path, code) : NULL;
}

/* ---- validation of schema documents ---- */

static bool code_ok(const char *c)
{
	size_t n = strlen(c);

	if (n == 0 || n > 100)
		return false;
	for (; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
			return false;
	return true;
}

static void check_labels(json_t *doc, json_t *problems)
{
	json_t *l = json_object_get(doc, "labels"), *v;
	const char *k;

	if (!l)
		return;
	if (!json_is_object(l)) {
		pim_problem(problems, "/labels", "wrong_type", "labels must be an object");
		return;
	}
	json_object_foreach(l, k, v)
		if (!json_is_string(v)) {
			char p[256];

			pim_ptr(p, sizeof(p), "/labels", k);
			pim_problem(problems, p, "wrong_type", "a label must be a string");
		}
}

/* An array of strings each naming a document of kind (when kind >= 0) or
 * a member of set (when set); required means non-empty. */
static void check_refs(const struct pim_schema *s, json_t *doc, const char *key, int kind,
		       json_t *set, bool required, const char *unknown_code, json_t *problems)
{
	json_t *arr = json_object_get(doc, key), *v;
	char path[256];
	size_t i;

	snprintf(path, sizeof(path), "/%s", key);
	if (!arr) {
		if (required)
			pim_problem(problems, path, "required", "'%s' is required", key);
		return;
	}
	if (!json_is_array(arr)) {
		pim_problem(problems, path, "wrong_type", "'%s' must be an array of codes", key);
		return;
	}
	if (required && json_array_size(arr) == 0)
		pim_problem(problems, path, "required", "'%s' must not be empty", key);
	json_array_foreach(arr, i, v) {
		const char *c = json_string_value(v);

		snprintf(path, sizeof(path), "/%s/%zu", key, i);
		if (!c)
			pim_problem(problems, path, "wrong_type", "must be a string");
		else if (kind >= 0 && !pim_schema_doc(s, kind, c))
			pim_problem(problems, path, unknown_code, "'%s' is not a known %s", c,
				    kind_names[kind]);
		else if (set && !json_object_get(set, c))
			pim_problem(problems, path, unknown_code, "'%s' is not one of this family's attributes",
				    c);
	}
}

static bool opt_bool(json_t *doc, const char *key, json_t *problems)
{
	json_t *v = json_object_get(doc, key);
	char path[64];

	if (!v || json_is_null(v)) {
		json_object_set_new(doc, key, json_false());
		return false;
	}
	if (!json_is_boolean(v)) {
		snprintf(path, sizeof(path), "/%s", key);
		pim_problem(problems, path, "wrong_type", "'%s' must be true or false", key);
		return false;
	}
	return json_is_true(v);
}

static void check_attribute(const struct pim_schema *s, const char *code, json_t *doc,
			    json_t *problems)
{
	const char *type = json_string_value(json_object_get(doc, "type"));
	json_t *val = json_object_get(doc, "validation"), *j;
	int t = type_parse(type);

	if (t < 0) {
		pim_problem(problems, "/type", type ? "unknown_type" : "required",
			    "'type' must be one of identifier, text, textarea, number, boolean, date, price, simple_select, multi_select, metric, asset, asset_collection, product_reference");
		return;
	}
	if (!strcmp(code, "sku") && t != PT_IDENTIFIER)
		pim_problem(problems, "/type", "wrong_type", "'sku' is the identifier attribute");
	if (strcmp(code, "sku") && t == PT_IDENTIFIER)
		pim_problem(problems, "/type", "wrong_type", "'sku' is the only identifier attribute");
	opt_bool(doc, "localizable", problems);
	opt_bool(doc, "scopable", problems);
	opt_bool(doc, "unique", problems);
	if (t == PT_IDENTIFIER) {
		json_object_set_new(doc, "localizable", json_false());
		json_object_set_new(doc, "scopable", json_false());
		json_object_set_new(doc, "unique", json_true());
	}
	if (!val) {
		val = json_object();
		json_object_set_new(doc, "validation", val);
	}
	if (!json_is_object(val)) {
		pim_problem(problems, "/validation", "wrong_type", "'validation' must be an object");
		return;
	}
	j = json_object_get(val, "max_length");
	if (j && (!json_is_integer(j) || json_integer_value(j) < 1))
		pim_problem(problems, "/validation/max_length", "wrong_type",
			    "max_length must be a positive integer");
	j = json_object_get(val, "decimals");
	if (j && (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > 12))
		pim_problem(problems, "/validation/decimals", "wrong_type",
			    "decimals must be an integer from 0 to 12");
	j = json_object_get(val, "regex");
	if (j) {
		regex_t re;

		if (!json_is_string(j) ||
		    regcomp(&re, json_string_value(j), REG_EXTENDED | REG_NOSUB) != 0)
			pim_problem(problems, "/validation/regex", "bad_regex",
				    "regex must be a POSIX extended regular expression");
		else
			regfree(&re);
	}
	for (int i = 0; i < 2; i++) {
		const char *k = i ? "max" : "min";
		char path[64];

		j = json_object_get(val, k);
		snprintf(path, sizeof(path), "/validation/%s", k);
		if (json_is_integer(j)) {
			char num[32];

			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(j));
			json_object_set_new(val, k, json_string(num));
		} else if (j && (!json_is_string(j) || !pim_decimal_parse(json_string_value(j), NULL))) {
			pim_problem(problems, path, "not_a_decimal", "%s must be a decimal string", k);
		}
	}
	j = json_object_get(val, "gtin");
	if (j && !json_is_boolean(j))
		pim_problem(problems, "/validation/gtin", "wrong_type", "gtin must be true or false");
	j = json_object_get(doc, "options");
	if (t == PT_SIMPLE_SELECT || t == PT_MULTI_SELECT) {
		json_t *o;
		size_t i;

		if (!json_is_array(j)) {
			pim_problem(problems, "/options", "required",
				    "a select attribute needs an 'options' array");
		} else {
			json_array_foreach(j, i, o) {
				char path[64];

				snprintf(path, sizeof(path), "/options/%zu", i);
				if (!(json_is_string(o) && code_ok(json_string_value(o))) &&
				    !(json_is_object(o) && json_get_code(o) && code_ok(json_get_code(o))))
					pim_problem(problems, path, "wrong_type",
						    "an option is a code or {\"code\",\"labels\"}");
			}
		}
	}
	if (t == PT_METRIC) {
		j = json_object_get(doc, "units");
		if (!json_is_array(j) || !json_array_size(j))
			pim_problem(problems, "/units", "required", "a metric attribute needs 'units'");
	}
	(void)s;
}

static void check_family(const struct pim_schema *s, json_t *doc, json_t *problems)
{
	json_t *attrs = json_object_get(doc, "attributes"), *set, *req, *v;
	const char *k;
	size_t i;
	bool has_sku = false;

	if (!attrs) {
		attrs = json_array();
		json_object_set_new(doc, "attributes", attrs);
	}
	check_refs(s, doc, "attributes", PK_ATTRIBUTES, NULL, false, "unknown_attribute", problems);
	if (!json_is_array(attrs))
		return;
	json_array_foreach(attrs, i, v)
		has_sku |= json_is_string(v) && !strcmp(json_string_value(v), "sku");
	/* sku belongs to every family */
	if (!has_sku)
		json_array_insert_new(attrs, 0, json_string("sku"));
	set = set_of(attrs);
	for (int n = 0; n < 2; n++) {
		const char *key = n ? "image_attribute" : "label_attribute";
		char path[64];

		v = json_object_get(doc, key);
		snprintf(path, sizeof(path), "/%s", key);
		if (v && !json_is_null(v) && (!json_is_string(v) || !json_object_get(set, json_string_value(v))))
			pim_problem(problems, path, "unknown_attribute",
				    "%s must be one of the family's attributes", key);
	}
	req = json_object_get(doc, "requirements");
	if (!req) {
		req = json_object();
		json_object_set_new(doc, "requirements", req);
	}
	if (!json_is_object(req)) {
		pim_problem(problems, "/requirements", "wrong_type",
			    "requirements must map channels to attribute lists");
	} else {
		json_object_foreach(req, k, v) {
			char path[256];
			json_t *a;
			size_t j;

			pim_ptr(path, sizeof(path), "/requirements", k);
			if (!pim_schema_doc(s, PK_CHANNELS, k))
				pim_problem(problems, path, "unknown_channel", "'%s' is not a known channel", k);
			if (!json_is_array(v)) {
				pim_problem(problems, path, "wrong_type", "must be an array of attributes");
				continue;
			}
			json_array_foreach(v, j, a) {
				char p2[300];

				snprintf(p2, sizeof(p2), "%s/%zu", path, j);
				if (!json_is_string(a) || !json_object_get(set, json_string_value(a)))
					pim_problem(problems, p2, "unknown_attribute",
						    "a required attribute must be one of the family's attributes");
			}
		}
	}
	for (int n = 0; n < 2; n++) {
		const char *key = n ? "variant_attributes" : "variant_axes";

		if (!json_object_get(doc, key))
			json_object_set_new(doc, key, json_array());
		check_refs(s, doc, key, -1, set, false, "unknown_attribute", problems);
	}
	json_array_foreach(json_object_get(doc, "variant_axes"), i, v) {
		const struct pim_attr *a = pim_schema_attr(s, json_string_value(v));
		char path[64];

		snprintf(path, sizeof(path), "/variant_axes/%zu", i);
		if (a && (a->localizable || a->scopable || a->type == PT_PRICE ||
			  a->type == PT_ASSET_COLLECTION || a->type == PT_MULTI_SELECT))
			pim_problem(problems, path, "bad_axis",
				    "a variant axis must be a single, unlocalised, unscoped value");
	}
	json_decref(set);
}

static void check_channel(const struct pim_schema *s, json_t *doc, json_t *problems)
{
	json_t *tree = json_object_get(doc, "category_tree"), *r, *v;
	const char *k;

	check_refs(s, doc, "locales", PK_LOCALES, NULL, true, "unknown_locale", problems);
	check_refs(s, doc, "currencies", PK_CURRENCIES, NULL, true, "unknown_currency", problems);
	if (tree && !json_is_null(tree)) {
		json_t *cat = pim_schema_doc(s, PK_CATEGORIES, json_string_value(tree));

		if (!cat)
			pim_problem(problems, "/category_tree", "unknown_category",
				    "category_tree must be a known category");
		else if (json_is_string(json_object_get(cat, "parent")))
			pim_problem(problems, "/category_tree", "not_a_root",
				    "category_tree must be a root category");
	} else {
		json_object_set_new(doc, "category_tree", json_null());
	}
	r = json_object_get(doc, "renditions");
	if (!r) {
		json_object_set_new(doc, "renditions", json_object());
	} else if (!json_is_object(r)) {
		pim_problem(problems, "/renditions", "wrong_type",
			    "renditions maps image roles to preset names");
	} else {
		json_object_foreach(r, k, v)
			if (!json_is_string(v)) {
				char path[256];

				pim_ptr(path, sizeof(path), "/renditions", k);
				pim_problem(problems, path, "wrong_type", "a preset name is a string");
			}
	}
}

static void check_category(const struct pim_schema *s, const char *code, json_t *doc,
			   json_t *problems)
{
	json_t *p = json_object_get(doc, "parent");
	const char *c;
	int depth = 0;

	if (!p || json_is_null(p)) {
		json_object_set_new(doc, "parent", json_null());
		return;
	}
	if (!json_is_string(p) || !pim_schema_doc(s, PK_CATEGORIES, json_string_value(p))) {
		pim_problem(problems, "/parent", "unknown_category", "parent must be a known category");
		return;
	}
	for (c = json_string_value(p); c && depth++ < 64;
	     c = json_string_value(json_object_get(pim_schema_doc(s, PK_CATEGORIES, c), "parent")))
		if (!strcmp(c, code)) {
			pim_problem(problems, "/parent", "cycle", "a category cannot be its own ancestor");
			return;
		}
	if (depth >= 64)
		pim_problem(problems, "/parent", "too_deep", "categories nest at most 64 deep");
}

json_t *pim_schema_check(const struct pim_schema *s, int kind, const char *code, json_t *in,
			 json_t *problems)
{
	json_t *doc, *c;
	size_t before = json_array_size(problems);

	if (!json_is_object(in)) {
		pim_problem(problems, "", "wrong_type", "a %s document is a JSON object",
			    kind_names[kind]);
		return NULL;
	}
	doc = json_deep_copy(in);
	c = json_object_get(doc, "code");
	if (c && (!json_is_string(c) || strcmp(json_string_value(c), code)))
		pim_problem(problems, "/code", "code_mismatch", "'code' must be '%s' as in the path",
			    code);
	if (!code_ok(code))
		pim_problem(problems, "/code", "bad_code",
			    "a code is 1 to 100 letters, digits, '_', '-' or '.'");
	if (kind == PK_CURRENCIES &&
	    (strlen(code) != 3 || !isupper((unsigned char)code[0]) ||
	     !isupper((unsigned char)code[1]) || !isupper((unsigned char)code[2])))
		pim_problem(problems, "/code", "bad_code", "a currency is an ISO 4217 code such as EUR");
	json_object_del(doc, "code");
	/* code first, so stored documents read naturally */
	{
		json_t *n = json_pack("{s:s}", "code", code);

		json_object_update(n, doc);
		json_decref(doc);
		doc = n;
	}
	check_labels(doc, problems);
	switch (kind) {
	case PK_ATTRIBUTES: check_attribute(s, code, doc, problems); break;
	case PK_FAMILIES: check_family(s, doc, problems); break;
	case PK_CHANNELS: check_channel(s, doc, problems); break;
	case PK_CATEGORIES: check_category(s, code, doc, problems); break;
	case PK_ASSOC: opt_bool(doc, "quantity", problems); break;
	default: break;
	}
	if (json_array_size(problems) > before) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static const char *str_or(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

const char *pim_schema_in_use(const struct pim_schema *s, int kind, const char *code,
			      char *msg, size_t msglen)
{
	const char *k;
	json_t *d;

	if (kind == PK_ATTRIBUTES && !strcmp(code, "sku")) {
		snprintf(msg, msglen, "'sku' is the identifier attribute and cannot be deleted");
		return msg;
	}
	if (kind == PK_LOCALES || kind == PK_CURRENCIES) {
		json_object_foreach(s->docs[PK_CHANNELS], k, d)
			if (json_array_has_string(json_object_get(d, kind == PK_LOCALES ? "locales" : "currencies"), code)) {
				snprintf(msg, msglen, "channel '%s' uses it", k);
				return msg;
			}
	}
	if (kind == PK_ATTRIBUTES) {
		json_object_foreach(s->docs[PK_FAMILIES], k, d)
			if (json_array_has_string(json_object_get(d, "attributes"), code)) {
				snprintf(msg, msglen, "family '%s' uses it", k);
				return msg;
			}
	}
	if (kind == PK_CHANNELS) {
		json_object_foreach(s->docs[PK_FAMILIES], k, d)
			if (json_object_get(json_object_get(d, "requirements"), code)) {
				snprintf(msg, msglen, "family '%s' has requirements for it", k);
				return msg;
			}
	}
	if (kind == PK_CATEGORIES) {
		json_object_foreach(s->docs[PK_CATEGORIES], k, d)
			if (!strcmp(str_or(json_object_get(d, "parent")), code)) {
				snprintf(msg, msglen, "category '%s' is a child of it", k);
				return msg;
			}
		json_object_foreach(s->docs[PK_CHANNELS], k, d)
			if (!strcmp(str_or(json_object_get(d, "category_tree")), code)) {
				snprintf(msg, msglen, "channel '%s' uses it as its tree", k);
				return msg;
			}
	}
	return NULL;
}
