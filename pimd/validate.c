#include "validate.h"
#include "json.h"
#include "schema.h"
#include "store.h"
#include "util.h"
#include "gtin.h"
#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 512

/* Writes base (at most 400 bytes of it), then "/i" unless i is negative,
 * then leaf, into p of PATH_MAX_LEN bytes; returns p. It is
 * snprintf(p, PATH_MAX_LEN, "%.400s/%zu%s", ...) without printf's cost,
 * which counted here: the path of every value of every product written is
 * made ready in case the value has a problem. */
static const char *path_at(char *p, const char *base, long i, const char *leaf)
{
	size_t bl = strnlen(base, 400), ll = strlen(leaf);
	char num[24], *q = num + sizeof(num);

	memcpy(p, base, bl);
	if (i >= 0) {
		do
			*--q = (char)('0' + i % 10);
		while (i /= 10);
		*--q = '/';
	}
	memcpy(p + bl, q, (size_t)(num + sizeof(num) - q));
	bl += (size_t)(num + sizeof(num) - q);
	if (ll > PATH_MAX_LEN - 1 - bl)
		ll = PATH_MAX_LEN - 1 - bl;
	memcpy(p + bl, leaf, ll);
	p[bl + ll] = 0;
	return p;
}

struct vctx {
	const struct pim_schema *s;
	struct pim_txn *t;
	const char *sku;
	json_t *problems;
};

int pim_sku_ok(const char *sku)
{
	size_t n = strlen(sku);

	if (n == 0 || n > 200)
		return 0;
	for (const unsigned char *p = (const unsigned char *)sku; *p; p++)
		if (*p <= ' ' || *p == '/' || *p == 0x7f || *p == '?' || *p == '#' || *p == '%')
			return 0;
	return text_utf8_valid(sku, n);
}

json_t *pim_product_load(struct pim_txn *t, const char *sku)
{
	const void *v;
	size_t vl;

	if (!t || !sku || pim_get(t, PDB_PRODUCTS, sku, strlen(sku), &v, &vl) < 0)
		return NULL;
	return json_loadb(v, vl, 0, NULL);
}

json_t *pim_resolved_values(json_t *doc, json_t *parent)
{
	json_t *vals = json_object_get(doc, "values");

	if (!parent)
		return json_incref(vals);
	{
		json_t *r = json_copy(json_object_get(parent, "values"));

		if (!r)
			r = json_object();
		json_object_update(r, vals);
		return r;
	}
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void check_decimal(struct vctx *c, const struct pim_attr *a, json_t *v, const char *path)
{
	const char *s = json_string_value(v);
	int dec;

	if (!s) {
		pim_problem(c->problems, path, "not_a_decimal",
			    "'%s' needs a decimal string such as \"12.50\", not a JSON %s", a->code,
			    json_is_number(v) ? "number" : "value of another type");
		return;
	}
	if (!pim_decimal_parse(s, &dec)) {
		pim_problem(c->problems, path, "not_a_decimal", "'%s' is not a decimal number", s);
		return;
	}
	if (a->decimals >= 0 && dec > a->decimals)
		pim_problem(c->problems, path, "too_many_decimals",
			    "'%s' has %d decimals, at most %d allowed", s, dec, a->decimals);
	if (a->min && pim_decimal_cmp(s, a->min) < 0)
		pim_problem(c->problems, path, "below_min", "'%s' is below the minimum %s", s, a->min);
	if (a->max && pim_decimal_cmp(s, a->max) > 0)
		pim_problem(c->problems, path, "above_max", "'%s' is above the maximum %s", s, a->max);
}

static bool date_ok(const char *s)
{
	int y, m, d;
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	char tail;

	if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return false;
	if (s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100) || y % 400 == 0));
}

static void check_string(struct vctx *c, const struct pim_attr *a, json_t *v, const char *path,
			 long def_max)
{
	const char *s = json_string_value(v);
	long max = a->max_length > 0 ? a->max_length : def_max;
	size_t n;

	if (!s) {
		pim_problem(c->problems, path, "wrong_type", "'%s' takes a string", a->code);
		return;
	}
	n = utf8_len(s);
	if ((long)n > max)
		pim_problem(c->problems, path, "too_long", "%zu characters, at most %ld allowed", n, max);
	if (a->has_re && regexec(&a->re, s, 0, NULL, 0) != 0)
		pim_problem(c->problems, path, "pattern_mismatch", "'%.80s' does not match %s", s,
			    json_string_value(json_object_get(json_object_get(a->doc, "validation"),
							      "regex")));
	if (a->gtin && !gtin_valid(s))
		pim_problem(c->problems, path, "bad_gtin",
			    "'%.40s' is not a GTIN (8, 12, 13 or 14 digits with a valid check digit)", s);
}

/* damd names an asset "sha256:" and the 64 hex digits of its bytes; it
 * need not exist yet (pimd links it when damd reports it), but anything
 * else can never be one. */
static void check_asset(struct vctx *c, json_t *v, const char *path)
{
	const char *s = json_string_value(v);

	if (!json_is_string(v))
		pim_problem(c->problems, path, "wrong_type", "an asset is referenced by its id");
	else if (strncmp(s, "sha256:", 7) || strlen(s) != 71 ||
		 strspn(s + 7, "0123456789abcdef") != 64)
		pim_problem(c->problems, path, "bad_asset_id",
			    "'%.80s' is not a damd asset id (sha256: and 64 hex digits)", s);
}

static void check_data(struct vctx *c, const struct pim_attr *a, json_t *v, const char *path)
{
	char p[PATH_MAX_LEN];
	json_t *e;
	size_t i;

	switch (a->type) {
	case PT_IDENTIFIER:
		if (!json_is_string(v))
			pim_problem(c->problems, path, "wrong_type", "the identifier is a string");
		else if (strcmp(json_string_value(v), c->sku))
			pim_problem(c->problems, path, "sku_mismatch", "the sku value must be '%s'",
				    c->sku);
		break;
	case PT_TEXT: check_string(c, a, v, path, 255); break;
	case PT_TEXTAREA: check_string(c, a, v, path, 65535); break;
	case PT_NUMBER:
		if (json_is_integer(v)) {
			char num[32];

			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			json_t *sv = json_string(num);

			check_decimal(c, a, sv, path);
			json_decref(sv);
		} else {
			check_decimal(c, a, v, path);
		}
		break;
	case PT_BOOLEAN:
		if (!json_is_boolean(v))
			pim_problem(c->problems, path, "wrong_type", "'%s' takes true or false", a->code);
		break;
	case PT_DATE:
		if (!date_ok(json_string_value(v)))
			pim_problem(c->problems, path, "not_a_date", "'%s' takes a date as YYYY-MM-DD",
				    a->code);
		break;
	case PT_PRICE: {
		json_t *seen = json_object();

		if (!json_is_array(v)) {
			pim_problem(c->problems, path, "wrong_type",
				    "a price is an array of {\"amount\",\"currency\"}");
			json_decref(seen);
			break;
		}
		json_array_foreach(v, i, e) {
			const char *cur = json_string_value(json_object_get(e, "currency"));

			path_at(p, path, (long)i, "");
			if (!json_is_object(e)) {
				pim_problem(c->problems, p, "wrong_type",
					    "a price is {\"amount\",\"currency\"}");
				continue;
			}
			path_at(p, path, (long)i, "/amount");
			check_decimal(c, a, json_object_get(e, "amount"), p);
			path_at(p, path, (long)i, "/currency");
			if (!cur || !pim_schema_doc(c->s, PK_CURRENCIES, cur))
				pim_problem(c->problems, p, "unknown_currency",
					    "'%s' is not a known currency", cur ? cur : "(none)");
			else if (json_object_get(seen, cur))
				pim_problem(c->problems, p, "duplicate_currency",
					    "%s is given twice", cur);
			else
				json_object_set_new(seen, cur, json_true());
		}
		json_decref(seen);
		break;
	}
	case PT_SIMPLE_SELECT:
		if (!json_is_string(v))
			pim_problem(c->problems, path, "wrong_type", "'%s' takes an option code",
				    a->code);
		else if (!json_object_get(a->options, json_string_value(v)))
			pim_problem(c->problems, path, "unknown_option",
				    "'%.80s' is not an option of '%s'", json_string_value(v), a->code);
		break;
	case PT_MULTI_SELECT:
		if (!json_is_array(v)) {
			pim_problem(c->problems, path, "wrong_type", "'%s' takes an array of option codes",
				    a->code);
			break;
		}
		json_array_foreach(v, i, e) {
			path_at(p, path, (long)i, "");
			if (!json_is_string(e) || !json_object_get(a->options, json_string_value(e)))
				pim_problem(c->problems, p, "unknown_option",
					    "not an option of '%s'", a->code);
		}
		break;
	case PT_METRIC: {
		const char *unit = json_string_value(json_object_get(v, "unit"));

		if (!json_is_object(v)) {
			pim_problem(c->problems, path, "wrong_type",
				    "a metric is {\"amount\",\"unit\"}");
			break;
		}
		path_at(p, path, -1, "/amount");
		check_decimal(c, a, json_object_get(v, "amount"), p);
		path_at(p, path, -1, "/unit");
		if (!unit || !json_object_get(a->units, unit))
			pim_problem(c->problems, p, "unknown_unit", "'%s' is not a unit of '%s'",
				    unit ? unit : "(none)", a->code);
		break;
	}
	case PT_ASSET: check_asset(c, v, path); break;
	case PT_ASSET_COLLECTION:
		if (!json_is_array(v)) {
			pim_problem(c->problems, path, "wrong_type", "'%s' takes an array of asset ids",
				    a->code);
			break;
		}
		json_array_foreach(v, i, e) {
			path_at(p, path, (long)i, "");
			check_asset(c, e, p);
		}
		break;
	case PT_PRODUCT_REF:
		if (!json_is_string(v))
			pim_problem(c->problems, path, "wrong_type", "'%s' takes a sku", a->code);
		break;
	default: break;
	}
}

/* The unique-index key of a value: attribute NUL data. */
static size_t unique_key(const char *attr, json_t *data, char *out, size_t max)
{
	char *s = json_is_string(data) ? NULL : json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
	const char *d = s ? s : json_string_value(data);
	size_t al = strlen(attr), dl = d ? strlen(d) : 0;

	if (al + 1 + dl > max)
		dl = max - al - 1;
	memcpy(out, attr, al);
	out[al] = 0;
	memcpy(out + al + 1, d, dl);
	free(s);
	return al + 1 + dl;
}

static void check_unique(struct vctx *c, const struct pim_attr *a, json_t *data,
			 const char *path)
{
	char key[PIM_MAX_KEY];
	size_t kl;
	const void *v;
	size_t vl;

	if (a->type == PT_IDENTIFIER)
		return;
	kl = unique_key(a->code, data, key, sizeof(key));
	if (pim_get(c->t, PDB_UNIQUE, key, kl, &v, &vl) == 0 &&
	    (vl != strlen(c->sku) || memcmp(v, c->sku, vl)))
		pim_problem(c->problems, path, "not_unique", "'%s' already has this value in product '%.*s'",
			    a->code, (int)vl, (const char *)v);
}

size_t pim_unique_key(const char *attr, json_t *data, char *out, size_t max);
size_t pim_unique_key(const char *attr, json_t *data, char *out, size_t max)
{
	return unique_key(attr, data, out, max);
}

/* A value entry's members, read in one pass: lookups by name would hash
 * each of them, for every value of every write. */
struct entry {
	json_t *loc, *ch, *data; /* NULL: absent */
	size_t others;           /* members by other names */
};

static void entry_read(json_t *e, struct entry *m)
{
	const char *k;
	json_t *x;

	memset(m, 0, sizeof(*m));
	json_object_foreach(e, k, x) {
		if (!strcmp(k, "locale"))
			m->loc = x;
		else if (!strcmp(k, "channel"))
			m->ch = x;
		else if (!strcmp(k, "data"))
			m->data = x;
		else
			m->others++;
	}
}

/* Whether locale or channel members a and b (NULL: null or absent) agree. */
static bool same_member(json_t *a, json_t *b)
{
	return a == b || (a && b && json_equal(a, b));
}

/* the entries of one attribute that a new one is compared with from a small
 * array; past them, from norm (more than a catalog has locales × channels) */
#define SEEN_MAX 64

static json_t *check_values(struct vctx *c, json_t *vals, const struct pim_family *fam,
			    bool variant)
{
	json_t *out = json_object(), *arr;
	const char *code;

	json_object_foreach(vals, code, arr) {
		const struct pim_attr *a = pim_schema_attr(c->s, code);
		char base[PATH_MAX_LEN], p[PATH_MAX_LEN];
		json_t *norm, *e, *seen[SEEN_MAX][2]; /* the locale and channel of norm's entries */
		size_t i, nseen;

		pim_ptr(base, sizeof(base), "/values", code);
		if (!a) {
			pim_problem(c->problems, base, "unknown_attribute", "'%.100s' is not an attribute",
				    code);
			continue;
		}
		if (fam && !json_object_get(fam->attrs, code)) {
			pim_problem(c->problems, base, "not_in_family",
				    "'%s' is not an attribute of family '%s'", code, fam->code);
			continue;
		}
		if (fam && variant && !json_object_get(fam->variant, code)) {
			pim_problem(c->problems, base, "not_a_variant_attribute",
				    "a variant inherits '%s' from its parent; family '%s' lets variants set only its variant attributes",
				    code, fam->code);
			continue;
		}
		if (!json_is_array(arr)) {
			pim_problem(c->problems, base, "wrong_type",
				    "a value is an array of {\"locale\",\"channel\",\"data\"}");
			continue;
		}
		norm = json_array();
		nseen = 0;
		json_array_foreach(arr, i, e) {
			struct entry m;
			json_t *loc, *ch, *data, *x;
			const char *k;
			bool dup = false;
			size_t j;

			/* paths are formatted only for a problem: the write path is hot */
#define AT(leaf) path_at(p, base, (long)i, leaf)
			if (!json_is_object(e)) {
				pim_problem(c->problems, AT(""), "wrong_type",
					    "a value is {\"locale\",\"channel\",\"data\"}");
				continue;
			}
			entry_read(e, &m);
			loc = m.loc;
			ch = m.ch;
			data = m.data;
			if (m.others)
				json_object_foreach(e, k, x)
					if (strcmp(k, "locale") && strcmp(k, "channel") && strcmp(k, "data")) {
						char pk[PATH_MAX_LEN];

						pim_ptr(pk, sizeof(pk), AT(""), k);
						pim_problem(c->problems, pk, "unknown_field",
							    "a value has only locale, channel and data");
					}
			if (loc && json_is_null(loc))
				loc = NULL;
			if (ch && json_is_null(ch))
				ch = NULL;
			if (a->localizable) {
				if (!json_is_string(loc))
					pim_problem(c->problems, AT("/locale"), "locale_required",
						    "'%s' is localizable: each value names its locale", code);
				else if (!pim_schema_doc(c->s, PK_LOCALES, json_string_value(loc)))
					pim_problem(c->problems, AT("/locale"), "unknown_locale",
						    "'%.40s' is not a known locale", json_string_value(loc));
			} else if (loc) {
				pim_problem(c->problems, AT("/locale"), "not_localizable",
					    "'%s' is not localizable: locale must be null", code);
			}
			if (ch && !a->scopable)
				pim_problem(c->problems, AT("/channel"), "not_scopable",
					    "'%s' is not scopable: channel must be null", code);
			else if (ch && (!json_is_string(ch) ||
					!pim_schema_doc(c->s, PK_CHANNELS, json_string_value(ch))))
				pim_problem(c->problems, AT("/channel"), "unknown_channel",
					    "'%.40s' is not a known channel",
					    json_is_string(ch) ? json_string_value(ch) : "?");
			if (nseen < SEEN_MAX) {
				for (j = 0; j < nseen && !dup; j++)
					dup = same_member(seen[j][0], loc) && same_member(seen[j][1], ch);
			} else {
				for (j = 0; j < json_array_size(norm) && !dup; j++) {
					json_t *o = json_array_get(norm, j);

					dup = json_equal(json_object_get(o, "locale"), loc ? loc : json_null()) &&
					      json_equal(json_object_get(o, "channel"), ch ? ch : json_null());
				}
			}
			if (dup)
				pim_problem(c->problems, AT(""), "duplicate_value",
					    "two values of '%s' for the same locale and channel", code);
			if (!data || json_is_null(data))
				continue; /* an empty value is no value */
			AT("/data");
#undef AT
			check_data(c, a, data, p);
			if (nseen < SEEN_MAX) {
				seen[nseen][0] = loc;
				seen[nseen][1] = ch;
				nseen++;
			}
			/* an entry already in canonical form is shared, not copied */
			if (json_object_size(e) == 3 && m.loc && m.ch && !json_is_object(data))
				json_array_append(norm, e);
			else
				json_array_append_new(norm, json_pack("{s:O?,s:O?,s:O}", "locale", loc,
								      "channel", ch, "data", data));
		}
		if (json_array_size(norm)) /* code is a schema attribute's */
			json_object_set_new_nocheck(out, code, norm);
		else
			json_decref(norm);
	}
	return out;
}

/* Each axis value must be set. */
static void check_axes(struct vctx *c, const struct pim_family *fam, json_t *vals)
{
	json_t *ax;
	size_t i;

	json_array_foreach(fam->axes, i, ax) {
		const char *code = json_string_value(ax);

		if (!json_array_size(json_object_get(vals, code))) {
			char p[PATH_MAX_LEN];

			pim_ptr(p, sizeof(p), "/values", code);
			pim_problem(c->problems, p, "missing_variant_axis",
				    "a variant of family '%s' needs a value for its axis '%s'", fam->code,
				    code);
			return;
		}
	}
}

/* No two variants of a parent share all their axis values. vals are the
 * normalised values of the variant. */
static void check_siblings(struct vctx *c, const struct pim_family *fam, const char *parent,
			   json_t *vals)
{
	struct pim_iter *it = NULL;
	char key[PIM_MAX_KEY + 1];
	size_t pl = strlen(parent);
	const void *k;
	size_t kl;
	json_t *ax;
	size_t i;
	int rc;

	if (!json_array_size(fam->axes) || pl + 1 > PIM_MAX_KEY ||
	    pim_iter_open(c->t, PDB_IX_PARENT, &it, NULL) < 0)
		return;
	memcpy(key, parent, pl);
	key[pl] = 0;
	for (rc = pim_iter_seek(it, key, pl + 1, &k, &kl, NULL, NULL); rc == 0;
	     rc = pim_iter_next(it, &k, &kl, NULL, NULL)) {
		char sib[PIM_MAX_KEY + 1];
		json_t *sd;
		bool same = true;

		if (kl <= pl + 1 || memcmp(k, key, pl + 1))
			break;
		memcpy(sib, (const char *)k + pl + 1, kl - pl - 1);
		sib[kl - pl - 1] = 0;
		if (!strcmp(sib, c->sku))
			continue;
		sd = pim_product_load(c->t, sib);
		json_array_foreach(fam->axes, i, ax) {
			const char *code = json_string_value(ax);
			json_t *a = json_array_get(json_object_get(vals, code), 0);
			json_t *b = json_array_get(json_object_get(json_object_get(sd, "values"), code), 0);

			if (!b || !json_equal(json_object_get(a, "data"), json_object_get(b, "data")))
				same = false;
		}
		json_decref(sd);
		if (same) {
			pim_problem(c->problems, "/values", "duplicate_variant_axes",
				    "variant '%s' of '%s' already has these %s values", sib, parent,
				    "axis");
			break;
		}
	}
	pim_iter_close(it);
}

static json_t *check_assocs(struct vctx *c, json_t *as)
{
	json_t *out = json_object(), *v;
	const char *type;

	json_object_foreach(as, type, v) {
		json_t *tdoc = pim_schema_doc(c->s, PK_ASSOC, type);
		json_t *prods = json_object_get(v, "products"), *q = json_object_get(v, "quantities");
		json_t *norm, *e;
		char base[PATH_MAX_LEN], p[PATH_MAX_LEN];
		size_t i;

		pim_ptr(base, sizeof(base), "/associations", type);
		if (!tdoc) {
			pim_problem(c->problems, base, "unknown_association_type",
				    "'%.80s' is not an association type", type);
			continue;
		}
		if (!json_is_object(v) || !json_is_array(prods)) {
			pim_problem(c->problems, base, "wrong_type",
				    "an association is {\"products\":[skus]}");
			continue;
		}
		norm = json_pack("{s:[]}", "products");
		json_array_foreach(prods, i, e) {
			const char *s = json_string_value(e);

			snprintf(p, sizeof(p), "%.400s/products/%zu", base, i);
			if (!s)
				pim_problem(c->problems, p, "wrong_type", "a sku is a string");
			else if (!strcmp(s, c->sku))
				pim_problem(c->problems, p, "self_reference",
					    "a product cannot be associated with itself");
			else
				json_array_append(json_object_get(norm, "products"), e);
		}
		if (q && !json_is_null(q)) {
			const char *qs;
			json_t *qv;

			path_at(p, base, -1, "/quantities");
			if (!json_is_true(json_object_get(tdoc, "quantity")))
				pim_problem(c->problems, p, "no_quantities",
					    "association type '%s' has no quantities", type);
			else if (!json_is_object(q))
				pim_problem(c->problems, p, "wrong_type",
					    "quantities map skus to positive integers");
			else
				json_object_foreach(q, qs, qv) {
					char pq[PATH_MAX_LEN];

					pim_ptr(pq, sizeof(pq), p, qs);
					if (!json_is_integer(qv) || json_integer_value(qv) < 1)
						pim_problem(c->problems, pq, "wrong_type",
							    "a quantity is a positive integer");
					else if (!json_array_has_string(prods, qs))
						pim_problem(c->problems, pq, "unknown_product",
							    "'%.200s' is not among this association's products",
							    qs);
				}
			json_object_set(norm, "quantities", q);
		}
		json_object_set_new(out, type, norm);
	}
	return out;
}

static const char *const known_fields[] = {"sku", "family", "parent", "categories", "enabled",
					   "values", "associations", "version", "created",
					   "updated", "completeness", NULL};

json_t *pim_validate(const struct pim_schema *s, const char *sku, json_t *doc, json_t *problems)
{
	struct vctx c = {s, NULL, sku, problems};
	size_t before = json_array_size(problems), i;
	const struct pim_family *fam = NULL;
	json_t *j, *cats, *vals = NULL, *assocs = NULL, *out = NULL, *e;
	const char *k, *family, *parent = NULL;
	bool enabled = true;

	if (!json_is_object(doc)) {
		pim_problem(problems, "", "wrong_type", "a product is a JSON object");
		return NULL;
	}
	json_object_foreach(doc, k, j) {
		bool known = false;

		for (int n = 0; known_fields[n] && !known; n++)
			known = !strcmp(k, known_fields[n]);
		if (!known) {
			char p[PATH_MAX_LEN];

			pim_ptr(p, sizeof(p), "", k);
			pim_problem(problems, p, "unknown_field", "'%.80s' is not a product field", k);
		}
	}
	j = json_object_get(doc, "sku");
	if (j && (!json_is_string(j) || strcmp(json_string_value(j), sku)))
		pim_problem(problems, "/sku", "sku_mismatch", "sku must be '%.200s' as in the path", sku);
	if (!pim_sku_ok(sku))
		pim_problem(problems, "/sku", "bad_sku",
			    "a sku is 1 to 200 bytes without spaces, controls, '/', '?', '#' or '%%'");
	family = json_string_value(json_object_get(doc, "family"));
	if (!family)
		pim_problem(problems, "/family", "required", "a product needs a family");
	else if (!(fam = pim_schema_family(s, family)))
		pim_problem(problems, "/family", "unknown_family", "'%.80s' is not a known family",
			    family);
	j = json_object_get(doc, "parent");
	if (j && !json_is_null(j)) {
		parent = json_string_value(j);
		if (!parent) {
			pim_problem(problems, "/parent", "wrong_type", "parent is a sku or null");
		} else if (!strcmp(parent, sku)) {
			pim_problem(problems, "/parent", "unknown_parent", "a product cannot be its own parent");
			parent = NULL;
		}
	}
	cats = json_array();
	j = json_object_get(doc, "categories");
	if (j && !json_is_null(j) && !json_is_array(j)) {
		pim_problem(problems, "/categories", "wrong_type", "categories is an array of codes");
	} else {
		json_array_foreach(j, i, e) {
			char p[64];

			snprintf(p, sizeof(p), "/categories/%zu", i);
			if (!json_is_string(e) || !pim_schema_doc(s, PK_CATEGORIES, json_string_value(e)))
				pim_problem(problems, p, "unknown_category", "'%.80s' is not a known category",
					    json_is_string(e) ? json_string_value(e) : "?");
			else if (!json_array_has_string(cats, json_string_value(e)))
				json_array_append(cats, e);
		}
	}
	j = json_object_get(doc, "enabled");
	if (j && !json_is_null(j)) {
		if (!json_is_boolean(j))
			pim_problem(problems, "/enabled", "wrong_type", "enabled is true or false");
		enabled = json_is_true(j);
	}
	j = json_object_get(doc, "values");
	if (j && !json_is_null(j) && !json_is_object(j))
		pim_problem(problems, "/values", "wrong_type", "values is an object of attributes");
	else
		vals = check_values(&c, j, fam, parent != NULL);
	if (fam && parent && vals)
		check_axes(&c, fam, vals);
	j = json_object_get(doc, "associations");
	if (j && !json_is_null(j) && !json_is_object(j))
		pim_problem(problems, "/associations", "wrong_type",
			    "associations is an object of association types");
	else
		assocs = check_assocs(&c, j);
	if (json_array_size(problems) == before)
		out = json_pack("{s:s,s:s,s:s?,s:O,s:b,s:O,s:O}", "sku", sku, "family", family,
				"parent", parent, "categories", cats, "enabled", enabled, "values", vals,
				"associations", assocs);
	json_decref(cats);
	json_decref(vals);
	json_decref(assocs);
	return out;
}

/* The checks of a value entry of doc that need stored products. */
static void refs_of_values(struct vctx *c, json_t *vals)
{
	const char *code;
	json_t *arr, *e;
	size_t i;

	json_object_foreach(vals, code, arr) {
		const struct pim_attr *a = pim_schema_attr(c->s, code);

		if (!a || (a->type != PT_PRODUCT_REF && !a->unique))
			continue;
		json_array_foreach(arr, i, e) {
			json_t *data = json_object_get(e, "data");
			char base[PATH_MAX_LEN], p[PATH_MAX_LEN];

			if (!data || json_is_null(data))
				continue;
			pim_ptr(base, sizeof(base), "/values", code);
			path_at(p, base, (long)i, "/data");
			if (a->unique)
				check_unique(c, a, data, p);
			if (a->type == PT_PRODUCT_REF && json_is_string(data) &&
			    strcmp(json_string_value(data), c->sku) &&
			    pim_get(c->t, PDB_PRODUCTS, json_string_value(data),
				    json_string_length(data), NULL, NULL) < 0)
				pim_problem(c->problems, p, "unknown_product",
					    "product '%.200s' does not exist", json_string_value(data));
		}
	}
}

static void refs_of_assocs(struct vctx *c, json_t *as)
{
	const char *type;
	json_t *v, *e;
	size_t i;

	json_object_foreach(as, type, v)
		json_array_foreach(json_object_get(v, "products"), i, e) {
			const char *sku = json_string_value(e);
			char base[PATH_MAX_LEN], p[PATH_MAX_LEN];

			if (!sku || !strcmp(sku, c->sku) ||
			    pim_get(c->t, PDB_PRODUCTS, sku, strlen(sku), NULL, NULL) == 0)
				continue;
			pim_ptr(base, sizeof(base), "/associations", type);
			snprintf(p, sizeof(p), "%.400s/products/%zu", base, i);
			pim_problem(c->problems, p, "unknown_product", "product '%.200s' does not exist",
				    sku);
		}
}

void pim_validate_refs(const struct pim_schema *s, struct pim_txn *t, const char *sku,
		       json_t *doc, json_t *norm, json_t *problems, json_t **parent_out)
{
	struct vctx c = {s, t, sku, problems};
	const char *parent = json_string_value(json_object_get(doc, "parent"));
	const char *family = json_string_value(json_object_get(doc, "family"));
	json_t *pdoc = NULL;

	*parent_out = NULL;
	if (!json_is_object(doc))
		return;
	if (parent && strcmp(parent, sku)) {
		if (!(pdoc = pim_product_load(t, parent)))
			pim_problem(problems, "/parent", "unknown_parent", "parent '%.200s' does not exist",
				    parent);
		else if (json_is_string(json_object_get(pdoc, "parent")))
			pim_problem(problems, "/parent", "nested_variant",
				    "'%.200s' is itself a variant; variants have one level", parent);
		else if (family && !json_equal(json_object_get(pdoc, "family"),
					       json_object_get(doc, "family")))
			pim_problem(problems, "/parent", "parent_family_mismatch",
				    "parent '%.200s' is of family '%s', not '%s'", parent,
				    json_string_value(json_object_get(pdoc, "family")), family);
	}
	if (json_is_object(json_object_get(doc, "values")))
		refs_of_values(&c, json_object_get(doc, "values"));
	if (json_is_object(json_object_get(doc, "associations")))
		refs_of_assocs(&c, json_object_get(doc, "associations"));
	if (norm && pdoc && family) {
		const struct pim_family *fam = pim_schema_family(s, family);

		if (fam)
			check_siblings(&c, fam, parent, json_object_get(norm, "values"));
	}
	*parent_out = pdoc;
}
