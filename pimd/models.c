/* Akeneo sub-model records: the `models` database and the merges that
 * carry a sub-model's values into its variants. */
#include "models.h"

#include "err.h"
#include "json.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

/* ---- keys ---- */

/* The code folded to ASCII lower case into out (PIM_MODEL_MAX_CODE + 1
 * bytes); its length, or 0 for a code that is empty or too long. */
static size_t fold(const char *code, char *out)
{
	size_t n = code ? strlen(code) : 0;

	if (!n || n > PIM_MODEL_MAX_CODE)
		return 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (code[i] >= 'A' && code[i] <= 'Z') ? (char)(code[i] - 'A' + 'a') : code[i];
	out[n] = '\0';
	return n;
}

/* "folded code NUL sku" into out (PIM_MAX_KEY bytes); its length or 0. */
static size_t member_key(const char *code, const char *sku, char *out)
{
	size_t cl = fold(code, out), sl = strlen(sku);

	if (!cl || !sl || cl + 1 + sl > PIM_MAX_KEY)
		return 0;
	out[cl] = '\0';
	memcpy(out + cl + 1, sku, sl);
	return cl + 1 + sl;
}

json_t *pim_model_get(struct pim_txn *t, const char *code)
{
	char key[PIM_MODEL_MAX_CODE + 1];
	size_t kl = fold(code, key);
	const void *v;
	size_t vl;

	if (!kl || pim_get(t, PDB_MODELS, key, kl, &v, &vl) < 0)
		return NULL;
	return json_loadb(v, vl, 0, NULL);
}

int pim_model_put(struct pim_txn *t, const json_t *rec, struct hub_err *err)
{
	const char *code = json_get_str(rec, "code");
	char key[PIM_MODEL_MAX_CODE + 1];
	size_t kl = fold(code, key), len;
	char *s;
	int rc;

	if (!kl)
		return hub_err_set(err, HUB_EINVAL, "a sub-model code is 1 to %d bytes",
				   PIM_MODEL_MAX_CODE);
	s = json_dump_compact(rec, &len);
	if (!s)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	rc = pim_put(t, PDB_MODELS, key, kl, s, len, err);
	free(s);
	return rc;
}

/* Deletes the entry "folded NUL sku" that notes sku under a sub-model
 * (folded: its folded code, fl bytes; may point into the store, so it is
 * copied before the write). */
static int drop_member(struct pim_txn *t, const void *folded, size_t fl, const char *sku,
		       size_t sl, struct hub_err *err)
{
	char key[PIM_MAX_KEY];

	if (fl + 1 + sl > PIM_MAX_KEY)
		return 0;
	memcpy(key, folded, fl);
	key[fl] = '\0';
	memcpy(key + fl + 1, sku, sl);
	return pim_del(t, PDB_MODELS, key, fl + 1 + sl, err);
}

int pim_model_link(struct pim_txn *t, const char *code, const char *sku, struct hub_err *err)
{
	char key[PIM_MAX_KEY], rev[PIM_MAX_KEY], was[PIM_MAX_KEY];
	size_t kl = member_key(code, sku, key), sl = strlen(sku), cl, wl = 0;
	const void *v;
	size_t vl;
	int rc;

	if (!kl || sl + 1 > PIM_MAX_KEY)
		return hub_err_set(err, HUB_EINVAL, "sub-model '%.200s' or sku '%.200s' is too long",
				   code, sku);
	cl = strlen(key);
	rev[0] = '\0';
	memcpy(rev + 1, sku, sl);
	if (pim_get(t, PDB_MODELS, rev, sl + 1, &v, &vl) == 0 && vl < sizeof(was)) {
		memcpy(was, v, vl); /* v lives only until the next write */
		wl = vl;
	}
	if (wl != cl || memcmp(was, key, cl)) {
		rc = wl ? drop_member(t, was, wl, sku, sl, err) : 0;
		if (rc == 0)
			rc = pim_put(t, PDB_MODELS, rev, sl + 1, key, cl, err);
		if (rc < 0)
			return rc;
	}
	if (pim_get(t, PDB_MODELS, key, kl, NULL, NULL) == 0)
		return 0;
	return pim_put(t, PDB_MODELS, key, kl, "", 0, err);
}

int pim_model_unlink(struct pim_txn *t, const char *sku, struct hub_err *err)
{
	char rev[PIM_MAX_KEY];
	size_t sl = strlen(sku);
	const void *v;
	size_t vl;
	int rc;

	if (!sl || sl + 1 > PIM_MAX_KEY)
		return 0;
	rev[0] = '\0';
	memcpy(rev + 1, sku, sl);
	if (pim_get(t, PDB_MODELS, rev, sl + 1, &v, &vl) < 0)
		return 0;
	rc = drop_member(t, v, vl, sku, sl, err);
	return rc < 0 ? rc : pim_del(t, PDB_MODELS, rev, sl + 1, err);
}

json_t *pim_model_variants(struct pim_txn *t, const char *code)
{
	json_t *out = json_array();
	char pre[PIM_MODEL_MAX_CODE + 2];
	size_t pl = fold(code, pre);
	struct pim_iter *it = NULL;
	const void *k;
	size_t kl;

	if (!pl || pim_iter_open(t, PDB_MODELS, &it, NULL) < 0)
		return out;
	pl++; /* the NUL after the code */
	for (int rc = pim_iter_seek(it, pre, pl, &k, &kl, NULL, NULL);
	     rc == 0 && kl > pl && !memcmp(k, pre, pl); rc = pim_iter_next(it, &k, &kl, NULL, NULL))
		json_array_append_new(out, json_stringn((const char *)k + pl, kl - pl));
	pim_iter_close(it);
	return out;
}

/* ---- merges ---- */

/* The entry of arr for e's locale and channel, or NULL; *at its index. */
static json_t *slot_of(const json_t *arr, const json_t *e, size_t *at)
{
	json_t *x;
	size_t i;

	json_array_foreach(arr, i, x)
		if (json_same_member(x, e, "locale") && json_same_member(x, e, "channel")) {
			if (at)
				*at = i;
			return x;
		}
	return NULL;
}

static bool is_price(const json_t *data)
{
	return json_is_array(data) && json_array_size(data) &&
	       json_is_string(json_object_get(json_array_get(data, 0), "currency"));
}

/* Puts src's amounts into the price list dst (modified): over dst's of the
 * same currency when src wins, else only the currencies dst lacks. */
static void price_merge(json_t *dst, const json_t *src, bool src_wins)
{
	json_t *sp, *dp;
	size_t i, j;

	json_array_foreach(src, i, sp) {
		bool found = false;

		json_array_foreach(dst, j, dp)
			if (json_same_member(dp, sp, "currency")) {
				found = true;
				if (src_wins)
					json_array_set_new(dst, j, json_deep_copy(sp));
				break;
			}
		if (!found)
			json_array_append_new(dst, json_deep_copy(sp));
	}
}

/* Merges the entries of src into the array dst (modified), src winning. */
static void entries_over(json_t *dst, const json_t *src)
{
	json_t *n, *e;
	size_t i, at;

	json_array_foreach(src, i, n) {
		json_t *nd = json_object_get(n, "data");

		e = slot_of(dst, n, &at);
		if (!e) {
			if (nd && !json_is_null(nd))
				json_array_append_new(dst, json_deep_copy(n));
		} else if (!nd || json_is_null(nd)) {
			json_array_remove(dst, at);
		} else if (is_price(json_object_get(e, "data")) && is_price(nd)) {
			price_merge(json_object_get(e, "data"), nd, true);
		} else {
			json_object_set_new(e, "data", json_deep_copy(nd));
		}
	}
}

static json_t *copy_or(const json_t *j, json_t *dflt)
{
	if (!j || json_is_null(j))
		return dflt;
	json_decref(dflt);
	return json_deep_copy(j);
}

json_t *pim_model_merge(const json_t *old, const json_t *row, bool patch)
{
	const json_t *base = patch ? old : NULL;
	json_t *rec = json_object(), *vals, *as, *arr, *x;
	const char *k;

	json_object_set_new(rec, "code", json_string(json_get_str(row, "sku")));
	json_object_set_new(rec, "parent", copy_or(json_object_get(row, "parent"),
						   copy_or(json_object_get(base, "parent"), json_null())));
	json_object_set_new(rec, "family", copy_or(json_object_get(row, "family"),
						   copy_or(json_object_get(base, "family"), json_null())));
	json_object_set_new(rec, "categories",
			    copy_or(json_object_get(row, "categories"),
				    copy_or(json_object_get(base, "categories"), json_array())));
	vals = copy_or(json_object_get(base, "values"), json_object());
	json_object_foreach(json_object_get(row, "values"), k, arr) {
		json_t *dst = json_object_get(vals, k);

		if (!json_is_array(arr))
			continue;
		if (!dst) {
			dst = json_array();
			json_object_set_new(vals, k, dst);
		}
		entries_over(dst, arr);
		if (!json_array_size(dst))
			json_object_del(vals, k);
	}
	json_object_set_new(rec, "values", vals);
	as = copy_or(json_object_get(base, "associations"), json_object());
	json_object_foreach(json_object_get(row, "associations"), k, x)
		json_object_set_new(as, k, json_deep_copy(x));
	json_object_set_new(rec, "associations", as);
	return rec;
}

void pim_model_lay_under(json_t *doc, const json_t *rec)
{
	json_t *vals = json_object_get(doc, "values"), *arr, *e, *x;
	const json_t *rcats = json_object_get(rec, "categories");
	const char *k;
	size_t i;

	if (!json_is_object(vals)) {
		vals = json_object();
		json_object_set_new(doc, "values", vals);
	}
	json_object_foreach(json_object_get(rec, "values"), k, arr) {
		json_t *dst = json_object_get(vals, k);

		if (!json_is_array(dst)) {
			dst = json_array();
			json_object_set_new(vals, k, dst);
		}
		json_array_foreach(arr, i, e) {
			json_t *own = slot_of(dst, e, NULL);
			json_t *od = json_object_get(own, "data"), *rd = json_object_get(e, "data");

			if (!own)
				json_array_append_new(dst, json_deep_copy(e));
			else if (is_price(od) && is_price(rd))
				price_merge(od, rd, false);
		}
	}
	if (json_array_size(rcats)) {
		json_t *cats = json_object_get(doc, "categories");

		if (!json_is_array(cats)) {
			cats = json_array();
			json_object_set_new(doc, "categories", cats);
		}
		json_array_foreach(rcats, i, x)
			if (json_is_string(x) && !json_array_has_string(cats, json_string_value(x)))
				json_array_append(cats, x);
	}
	if (json_object_size(json_object_get(rec, "associations"))) {
		json_t *as = json_object_get(doc, "associations");

		if (!json_is_object(as)) {
			as = json_object();
			json_object_set_new(doc, "associations", as);
		}
		json_object_foreach(json_object_get(rec, "associations"), k, x)
			if (!json_object_get(as, k))
				json_object_set_new(as, k, json_deep_copy(x));
	}
}

static bool data_equal(const json_t *a, const json_t *b)
{
	json_t *x = json_object_get(a, "data"), *y = json_object_get(b, "data");

	return x && y && json_equal(x, y);
}

/* The variant's entries of one attribute after old's → rec's (a new
 * array), or NULL when they stay as they are. */
static json_t *attr_patch(const json_t *oa, const json_t *na, const json_t *va)
{
	json_t *out = va ? json_deep_copy(va) : json_array(), *e, *ve;
	bool changed = false;
	size_t i, at;

	json_array_foreach(na, i, e) {
		json_t *oe = slot_of(oa, e, NULL);

		if (oe && data_equal(oe, e))
			continue;
		ve = slot_of(out, e, NULL);
		if (!ve) {
			json_array_append_new(out, json_deep_copy(e));
			changed = true;
		} else if (!data_equal(ve, e) && oe && data_equal(ve, oe)) {
			json_object_set_new(ve, "data", json_deep_copy(json_object_get(e, "data")));
			changed = true;
		}
	}
	json_array_foreach(oa, i, e) {
		if (slot_of(na, e, NULL))
			continue;
		ve = slot_of(out, e, &at);
		if (ve && data_equal(ve, e)) {
			json_array_remove(out, at);
			changed = true;
		}
	}
	if (!changed) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Whether two arrays of strings hold the same set. */
static bool same_set(const json_t *a, const json_t *b)
{
	json_t *x;
	size_t i;

	json_array_foreach(a, i, x)
		if (!json_array_has_string(b, json_string_value(x)))
			return false;
	json_array_foreach(b, i, x)
		if (!json_array_has_string(a, json_string_value(x)))
			return false;
	return true;
}

/* Into pa: type k, which the sub-model changed from o to n (either NULL:
 * added or dropped), for a variant that links mine; unless the variant
 * links the type differently from o, which makes it its own. */
static void assoc_type_patch(const char *k, json_t *o, json_t *n, json_t *mine, json_t *pa)
{
	if (mine && !(o && json_equal(mine, o)))
		return; /* the variant's own */
	if (n && !(mine && json_equal(mine, n)))
		json_object_set_new(pa, k, json_deep_copy(n));
	else if (!n && mine)
		json_object_set_new(pa, k, json_null());
}

/* Into patch: each association type the sub-model changed, added or
 * dropped from oa to na, for a variant whose types are va. */
static void assoc_patch(json_t *oa, json_t *na, json_t *va, json_t *patch)
{
	json_t *pa = json_object(), *o, *n;
	const char *k;

	json_object_foreach(na, k, n) {
		o = json_object_get(oa, k);
		if (!(o && json_equal(o, n)))
			assoc_type_patch(k, o, n, json_object_get(va, k), pa);
	}
	json_object_foreach(oa, k, o)
		if (!json_object_get(na, k))
			assoc_type_patch(k, o, NULL, json_object_get(va, k), pa);
	if (json_object_size(pa))
		json_object_set(patch, "associations", pa);
	json_decref(pa);
}

json_t *pim_model_variant_patch(const json_t *old, const json_t *rec, const json_t *v,
				const json_t *keep)
{
	json_t *ov = json_object_get(old, "values"), *nv = json_object_get(rec, "values");
	json_t *vv = json_object_get(v, "values"), *patch = json_object(), *pv = json_object();
	const json_t *oc = json_object_get(old, "categories"), *nc = json_object_get(rec, "categories");
	const char *k;
	json_t *x;

	for (int pass = 0; pass < 2; pass++)
		json_object_foreach(pass ? ov : nv, k, x) {
			json_t *arr;

			if ((keep && !json_object_get(keep, k)) || json_object_get(pv, k) ||
			    (pass && json_object_get(nv, k)))
				continue;
			arr = attr_patch(json_object_get(ov, k), json_object_get(nv, k),
					 json_object_get(vv, k));
			if (arr)
				json_object_set_new(pv, k, json_array_size(arr) ? arr : json_null());
			if (arr && !json_array_size(arr))
				json_decref(arr);
		}
	if (json_object_size(pv))
		json_object_set(patch, "values", pv);
	json_decref(pv);
	if (!same_set(oc, nc)) {
		const json_t *vc = json_object_get(v, "categories");
		json_t *cats = json_array();
		size_t i;

		json_array_foreach(vc, i, x)
			if (!json_array_has_string(oc, json_string_value(x)) ||
			    json_array_has_string(nc, json_string_value(x)))
				json_array_append(cats, x);
		json_array_foreach(nc, i, x)
			if (!json_array_has_string(cats, json_string_value(x)))
				json_array_append(cats, x);
		if (!same_set(cats, vc))
			json_object_set(patch, "categories", cats);
		json_decref(cats);
	}
	assoc_patch(json_object_get(old, "associations"), json_object_get(rec, "associations"),
		    json_object_get(v, "associations"), patch);
	if (!json_object_size(patch)) {
		json_decref(patch);
		return NULL;
	}
	return patch;
}
