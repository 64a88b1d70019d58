/* Following damd: its change feed, pimd's asset records, and linking
 * assets to products. libcurl is used only here. */
#include "assets.h"
#include "app.h"
#include "buf.h"
#include "cache.h"
#include "catalog_int.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "schema.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEQ_KEY "damd_seq"  /* in the meta database: the last damd event applied */
#define PIM_SEQ_KEY "damd_pim_seq" /* and the last change of pimd's own feed looked at */
#define FEED_ID_KEY "damd_feed_id" /* the damd store that SEQ_KEY counts in */
#define DAY_KEY "damd_day"  /* and the UTC day completeness counts rights expiry for */
#define PIM_PAGE 2000       /* pimd changes looked at per write transaction */
#define BY "damd"           /* the name history entries of links carry */
#define FEED_WAIT 25        /* seconds damd holds a feed request with nothing new */
#define FEED_LIMIT 100      /* events per request, applied in one transaction */
#define BODY_MAX (4u << 20) /* a feed page or a metadata document */
#define BACKOFF_MAX 60      /* seconds between attempts while damd is away */
#define QUIET_LOG_S 600     /* while it stays away, one warning per this long */
#define MAX_CANDS 16

struct pim_assets {
	struct pim_app *app;
	pthread_t thread;    /* follows damd */
	pthread_t watcher;   /* links the products created after their images */
	bool watching;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled by stop, waited on between retries */
	bool stop;           /* set under lock, read atomically by the transfer loop */
	CURLM *multi;        /* a multi handle only so that stop can wake curl_multi_poll */
	CURL *easy;
	struct curl_slist *headers;
	char today[16];      /* DAY_KEY: the UTC day completeness and the cache are for */
	bool day_failing;    /* the last day change could not be applied (logged) */
	char feed_id[40];    /* damd's feed_id that the saved position belongs to */
	uint64_t seq;        /* atomic: the feed position applied, for /metrics */
	int up;              /* atomic: damd answered the last request */
};

/* ---- pure helpers ---- */

static long position_of(const char *s, size_t len)
{
	long n = 0;

	/* a separator and 1 to 4 digits, nothing else */
	if (len < 2 || len > 5 || (s[0] != '_' && s[0] != '-'))
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		n = n * 10 + (s[i] - '0');
	}
	return n;
}

size_t pim_asset_name_candidates(const char *filename, struct pim_name_cand *out, size_t max)
{
	const char *base = filename, *dot;
	size_t stem, len, n = 0;

	for (const char *p = filename; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	dot = strrchr(base, '.');
	stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	len = stem;
	while (len > 0 && n < max) {
		size_t cut = len;

		out[n].sku = base;
		out[n].len = len;
		out[n].pos = position_of(base + len, stem - len);
		n++;
		while (cut > 0 && base[cut - 1] != '_' && base[cut - 1] != '-')
			cut--;
		/* no separator left, or only a leading one: nothing shorter to try */
		if (cut <= 1)
			break;
		len = cut - 1;
	}
	return n;
}

bool pim_asset_expired(const char *expires, const char *today)
{
	return expires && strlen(expires) == 10 && strcmp(expires, today) < 0;
}

bool pim_asset_usable(json_t *rec, const char *today)
{
	return !rec || (!json_is_true(json_object_get(rec, "deleted")) &&
			!pim_asset_expired(json_get_str(rec, "expires"), today));
}

static json_t *member_or(json_t *v, bool ok, json_t *def)
{
	if (ok) {
		json_decref(def);
		return json_incref(v);
	}
	return def;
}

json_t *pim_asset_record_of(json_t *meta)
{
	json_t *w = json_object_get(meta, "width"), *h = json_object_get(meta, "height"), *t;
	json_int_t o = json_integer_value(json_object_get(meta, "orientation"));
	const char *expires = json_get_str(json_object_get(meta, "rights"), "expires");
	json_t *r = json_object();

	/* orientations 5 to 8 are turned by 90 degrees: the upright image is
	 * as wide as the stored one is high; renditions are made upright */
	if (o >= 5 && o <= 8) {
		t = w;
		w = h;
		h = t;
	}
	json_object_set_new(r, "width", member_or(w, json_is_integer(w), json_null()));
	json_object_set_new(r, "height", member_or(h, json_is_integer(h), json_null()));
	t = json_object_get(meta, "alt");
	json_object_set_new(r, "alt", member_or(t, json_is_object(t), json_object()));
	t = json_object_get(meta, "filenames");
	json_object_set_new(r, "filenames", member_or(t, json_is_array(t), json_array()));
	t = json_object_get(meta, "skus");
	json_object_set_new(r, "skus", member_or(t, json_is_array(t), json_array()));
	t = json_object_get(meta, "focal_point");
	json_object_set_new(r, "focal", member_or(t, json_is_object(t), json_null()));
	json_object_set_new(r, "expires", expires ? json_string(expires) : json_null());
	json_object_set_new(r, "deleted", json_boolean(json_is_true(json_object_get(meta, "deleted"))));
	return r;
}

void pim_asset_today(char out[16])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static bool valid_id(const char *id)
{
	if (strncmp(id, "sha256:", 7) || strlen(id) != 71)
		return false;
	for (const char *p = id + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* ---- records ---- */

/* The record of id as t sees it (a new reference), or NULL. */
static json_t *record_load(struct pim_txn *t, const char *id)
{
	const void *v;
	size_t vl;

	if (pim_get(t, PDB_ASSETS, id, strlen(id), &v, &vl) < 0)
		return NULL;
	return json_loadb(v, vl, 0, NULL);
}

static int record_save(struct pim_txn *t, const char *id, json_t *rec, struct hub_err *err)
{
	size_t len;
	char *s = json_dump_compact(rec, &len);
	int rc;

	if (!s)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	rc = pim_put(t, PDB_ASSETS, id, strlen(id), s, len, err);
	free(s);
	return rc;
}

/* The ids of the records that pim_asset_usable allows on day from but not
 * on day to (their rights ended in between); with from NULL, all that it
 * refuses on day to. Outside the writer's lock, only the follower's thread
 * may call it: no other changes whether a record is usable. */
static json_t *unusable_since(struct pim_txn *t, const char *from, const char *to)
{
	static const char expires[] = "\"expires\":\"", deleted[] = "\"deleted\":true";
	json_t *out = json_array();
	struct pim_iter *it;
	const void *k, *v;
	size_t kl, vl;

	if (pim_iter_open(t, PDB_ASSETS, &it, NULL) < 0)
		return out;
	for (int r = pim_iter_seek(it, "", 0, &k, &kl, &v, &vl); r == 0;
	     r = pim_iter_next(it, &k, &kl, &v, &vl)) {
		json_t *rec;

		/* most records are live and without an expiry date: parse only
		 * the others */
		if (!memmem(v, vl, expires, sizeof(expires) - 1) &&
		    !memmem(v, vl, deleted, sizeof(deleted) - 1))
			continue;
		rec = json_loadb(v, vl, 0, NULL);
		if (rec && !pim_asset_usable(rec, to) && (!from || pim_asset_usable(rec, from)))
			json_array_append_new(out, json_stringn(k, kl));
		json_decref(rec);
	}
	pim_iter_close(it);
	return out;
}

/* Every sku a record could name (each filename's candidates, its metadata
 * skus) as the keys of a new object; none once deleted. */
static json_t *names_of(json_t *rec)
{
	struct pim_name_cand c[MAX_CANDS];
	json_t *out = json_object(), *f;
	char sku[PIM_MAX_KEY + 1];
	size_t i, j, n;

	if (!rec || json_is_true(json_object_get(rec, "deleted")))
		return out;
	json_array_foreach(json_object_get(rec, "filenames"), i, f) {
		n = json_is_string(f) ? pim_asset_name_candidates(json_string_value(f), c, MAX_CANDS) : 0;
		for (j = 0; j < n; j++)
			if (c[j].len <= PIM_MAX_KEY) {
				memcpy(sku, c[j].sku, c[j].len);
				sku[c[j].len] = 0;
				json_object_set_new(out, sku, json_true());
			}
	}
	json_array_foreach(json_object_get(rec, "skus"), i, f)
		if (json_is_string(f))
			json_object_set_new(out, json_string_value(f), json_true());
	return out;
}

/* The asset_names key sku NUL id in key; 0 when it would be too long. */
static size_t name_key(const char *sku, const char *id, char *key)
{
	size_t sl = strlen(sku), il = strlen(id);

	if (!sl || sl + 1 + il > PIM_MAX_KEY)
		return 0;
	memcpy(key, sku, sl);
	key[sl] = 0;
	memcpy(key + sl + 1, id, il);
	return sl + 1 + il;
}

/* Keeps asset_names in step with a record that goes from old to rec. */
static int names_update(struct pim_txn *t, const char *id, json_t *old, json_t *rec,
			struct hub_err *err)
{
	json_t *was = names_of(old), *now = names_of(rec), *v;
	char key[PIM_MAX_KEY];
	const char *sku;
	size_t kl;
	int rc = 0;

	json_object_foreach(was, sku, v)
		if (rc == 0 && !json_object_get(now, sku) && (kl = name_key(sku, id, key)))
			rc = pim_del(t, PDB_ASSET_NAMES, key, kl, err);
	json_object_foreach(now, sku, v)
		if (rc == 0 && !json_object_get(was, sku) && (kl = name_key(sku, id, key)))
			rc = pim_put(t, PDB_ASSET_NAMES, key, kl, "", 0, err);
	json_decref(was);
	json_decref(now);
	return rc;
}

/* Whether what projections show of the asset differs between two records. */
static bool view_changed(json_t *a, json_t *b)
{
	static const char *const fields[] = {"width", "height", "alt", "focal", "expires", "deleted"};

	if (!a || !b)
		return true;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *x = json_object_get(a, fields[i]), *y = json_object_get(b, fields[i]);

		if (!json_equal(x ? x : json_null(), y ? y : json_null()))
			return true;
	}
	return false;
}

bool pim_asset_usable_id(struct pim_txn *t, const char *id, const char *today)
{
	json_t *rec = record_load(t, id);
	bool usable = pim_asset_usable(rec, today);

	json_decref(rec);
	return usable;
}

bool pim_asset_describe(struct pim_txn *t, const char *id, const char *locale,
			const char *fallback, json_t *image, char crop[PIM_CROP_TAG])
{
	json_t *rec = record_load(t, id), *alt, *a, *focal;
	char today[16];
	bool offered;

	*crop = 0;
	if (!rec)
		return true;
	focal = json_object_get(rec, "focal");
	if (json_is_object(focal) && json_tag(focal, NULL, crop, PIM_CROP_TAG - 1) < 0)
		*crop = 0;
	pim_asset_today(today);
	offered = pim_asset_usable(rec, today);
	if (offered) {
		alt = json_object_get(rec, "alt");
		a = json_object_get(alt, locale);
		if (!json_is_string(a) && fallback)
			a = json_object_get(alt, fallback);
		json_object_set(image, "width", json_object_get(rec, "width"));
		json_object_set(image, "height", json_object_get(rec, "height"));
		json_object_set(image, "alt", json_is_string(a) ? a : json_null());
	}
	json_decref(rec);
	return offered;
}

/* ---- linking ---- */

static bool product_exists(struct pim_txn *t, const char *sku, size_t len)
{
	return len && len <= PIM_MAX_KEY && pim_get(t, PDB_PRODUCTS, sku, len, NULL, NULL) == 0;
}

/* The image place the asset's filenames give it among sku's images, 0 when
 * they give none. */
static long position_for(json_t *rec, const char *sku)
{
	struct pim_name_cand c[MAX_CANDS];
	size_t i, j, n, sl = strlen(sku);
	json_t *f;

	json_array_foreach(json_object_get(rec, "filenames"), i, f) {
		n = json_is_string(f) ? pim_asset_name_candidates(json_string_value(f), c, MAX_CANDS) : 0;
		for (j = 0; j < n; j++)
			if (c[j].len == sl && !memcmp(c[j].sku, sku, sl) && c[j].pos)
				return c[j].pos;
	}
	return 0;
}

/* The products a record names, as sku → image place (0: none): for each
 * filename the first candidate that is a product, then the skus of its
 * metadata that are products. */
static json_t *named_products(struct pim_txn *t, json_t *rec)
{
	struct pim_name_cand c[MAX_CANDS];
	json_t *out = json_object(), *f;
	char sku[PIM_MAX_KEY + 1];
	size_t i, j, n;

	if (json_is_true(json_object_get(rec, "deleted")))
		return out;
	json_array_foreach(json_object_get(rec, "filenames"), i, f) {
		n = json_is_string(f) ? pim_asset_name_candidates(json_string_value(f), c, MAX_CANDS) : 0;
		for (j = 0; j < n; j++) {
			if (!product_exists(t, c[j].sku, c[j].len))
				continue;
			memcpy(sku, c[j].sku, c[j].len);
			sku[c[j].len] = 0;
			if (!json_integer_value(json_object_get(out, sku)))
				json_object_set_new(out, sku, json_integer(c[j].pos));
			break;
		}
	}
	json_array_foreach(json_object_get(rec, "skus"), i, f)
		if (json_is_string(f) && !json_object_get(out, json_string_value(f)) &&
		    product_exists(t, json_string_value(f), json_string_length(f)))
			json_object_set_new(out, json_string_value(f), json_integer(0));
	return out;
}

/* The attribute a product's images go into: the family's image_attribute
 * when it is an asset collection, else its first asset collection. */
static const struct pim_attr *image_attr(const struct pim_schema *s, const struct pim_family *fam)
{
	const struct pim_attr *a;
	json_t *v;
	size_t i;

	if (!fam)
		return NULL;
	a = pim_schema_attr(s, json_get_str(fam->doc, "image_attribute"));
	if (a && a->type == PT_ASSET_COLLECTION && json_object_get(fam->attrs, a->code))
		return a;
	json_array_foreach(json_object_get(fam->doc, "attributes"), i, v) {
		a = pim_schema_attr(s, json_string_value(v));
		if (a && a->type == PT_ASSET_COLLECTION)
			return a;
	}
	return NULL;
}

/* Where a new image with place pos goes in list: before the first image
 * whose own place for sku is later, else at the end. */
static size_t insert_index(struct pim_txn *t, json_t *list, const char *sku, long pos)
{
	json_t *v, *rec;
	size_t i;

	if (pos <= 0)
		return json_array_size(list);
	json_array_foreach(list, i, v) {
		long p;

		rec = json_is_string(v) ? record_load(t, json_string_value(v)) : NULL;
		p = rec ? position_for(rec, sku) : 0;
		json_decref(rec);
		if (p > pos)
			return i;
	}
	return json_array_size(list);
}

/* Adds id to (or, with !add, removes it from) the image collection of
 * product sku through the validated write path, inside batch b. A variant
 * whose family does not let variants set the collection links through its
 * parent. Nothing to do (no such product, no collection, already so) is
 * not an error. */
static int link_one(struct pim_batch *b, const struct pim_schema *s, const char *sku,
		    const char *id, long pos, bool add, struct hub_err *err)
{
	struct pim_txn *t = pim_batch_txn(b);
	json_t *doc = pim_product_load(t, sku), *entries = NULL, *patch = NULL, *probs = NULL, *e;
	const struct pim_family *fam;
	const struct pim_attr *a = NULL;
	const char *parent, *target = sku;
	bool changed = false;
	int rc = 0, outcome;
	size_t i;

	if (!doc)
		goto out;
	fam = pim_schema_family(s, json_get_str(doc, "family"));
	a = image_attr(s, fam);
	if (!a || a->localizable)
		goto out;
	parent = json_get_str(doc, "parent");
	if (parent && !json_object_get(fam->variant, a->code)) {
		json_t *pd = pim_product_load(t, parent);

		json_decref(doc);
		doc = pd;
		if (!doc)
			goto out;
	}
	target = json_get_str(doc, "sku");
	entries = json_deep_copy(json_object_get(json_object_get(doc, "values"), a->code));
	if (!json_is_array(entries)) {
		json_decref(entries);
		entries = json_array();
	}
	if (add) {
		json_t *into = NULL;

		json_array_foreach(entries, i, e) {
			if (json_array_has_string(json_object_get(e, "data"), id))
				goto out; /* already there */
			if (json_is_null(json_object_get(e, "locale")) &&
			    json_is_null(json_object_get(e, "channel")))
				into = e;
		}
		if (!into) {
			into = json_pack("{s:n,s:n,s:[]}", "locale", "channel", "data");
			json_array_append_new(entries, into);
		}
		if (!json_is_array(json_object_get(into, "data")))
			json_object_set_new(into, "data", json_array());
		e = json_object_get(into, "data");
		json_array_insert_new(e, insert_index(t, e, sku, pos), json_string(id));
		changed = true;
	} else {
		for (i = 0; i < json_array_size(entries);) {
			json_t *data = json_object_get(json_array_get(entries, i), "data");

			for (size_t j = 0; j < json_array_size(data);) {
				if (json_is_string(json_array_get(data, j)) &&
				    !strcmp(json_string_value(json_array_get(data, j)), id)) {
					json_array_remove(data, j);
					changed = true;
				} else {
					j++;
				}
			}
			if (json_is_array(data) && !json_array_size(data))
				json_array_remove(entries, i);
			else
				i++;
		}
	}
	if (!changed)
		goto out;
	patch = json_pack("{s:{s:O}}", "values", a->code,
			  json_array_size(entries) ? entries : json_null());
	rc = pim_batch_merge(b, target, patch, PIM_MODE_UPDATE, NULL, &outcome, NULL, &probs, err);
	if (rc < 0) {
		char *p = probs ? json_dump_compact(probs, NULL) : NULL;

		hub_log(LOG_WARN, "damd link refused sku=\"%s\" asset=%s error=\"%s\" problems=%s",
			target, id, err ? err->msg : "", p ? p : "[]");
		free(p);
	} else {
		hub_log(LOG_INFO, "damd %s sku=\"%s\" asset=%s", add ? "linked" : "unlinked", target, id);
	}
out:
	json_decref(probs);
	json_decref(patch);
	json_decref(entries);
	json_decref(doc);
	return rc;
}

/* Applies one asset's new record inside b: unlinks the products it no
 * longer names, links those it newly names, stores the record. fresh, when
 * not NULL, is a product just created: an earlier link to a product of
 * that sku went with the product. viewed, when not NULL, gets id (a key)
 * if projections describe the asset differently now. */
static int apply_one(struct pim_batch *b, const struct pim_schema *s, const char *id,
		     json_t *rec, const char *fresh, json_t *viewed, struct hub_err *err)
{
	struct pim_txn *t = pim_batch_txn(b);
	json_t *old = record_load(t, id), *was, *named, *linked = json_array(), *v;
	const char *sku;
	char today[16];
	size_t i;
	int rc;

	was = old ? json_object_get(old, "linked") : NULL;
	named = named_products(t, rec);
	/* a product stays linked as long as the asset names it: a link a
	 * merchandiser removed is not forced back by the next metadata edit */
	json_array_foreach(was, i, v)
		if (json_is_string(v) && !json_object_get(named, json_string_value(v)))
			link_one(b, s, json_string_value(v), id, 0, false, NULL);
	json_object_foreach(named, sku, v) {
		struct hub_err e = {0};

		bool had = json_array_has_string(was, sku) && !(fresh && !strcmp(fresh, sku));

		if (!had && link_one(b, s, sku, id, (long)json_integer_value(v), true, &e) < 0)
			continue; /* refused (logged): tried again at the asset's next event */
		json_array_append_new(linked, json_string(sku));
	}
	json_object_set_new(rec, "linked", linked);
	if (viewed && view_changed(old, rec))
		json_object_set_new(viewed, id, json_true());
	rc = names_update(t, id, old, rec, err);
	if (rc == 0)
		rc = record_save(t, id, rec, err);
	/* when whether it may be shown changed, the products showing it
	 * (those just linked above too: they were written with the old
	 * record) count it anew for completeness */
	pim_asset_today(today);
	if (rc == 0 && pim_asset_usable(old, today) != pim_asset_usable(rec, today))
		rc = pim_batch_asset_changed(b, id, err);
	json_decref(named);
	json_decref(old);
	return rc;
}

/* ---- following the feed ---- */

static bool stopping(struct pim_assets *f)
{
	return __atomic_load_n(&f->stop, __ATOMIC_ACQUIRE);
}

/* Returning less than given makes curl fail the transfer: an answer over
 * BODY_MAX is refused rather than held. */
static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
	struct buf *body = cls;

	if (body->len + size * n > BODY_MAX)
		return 0;
	return buf_add(body, p, size * n) == 0 ? size * n : 0;
}

/* GETs url into body (capped at BODY_MAX) within timeout_s, giving up as
 * soon as the follower is stopped. Returns the HTTP status, HUB_EIO when
 * damd could not be reached or answered too much, HUB_EBUSY when stopped. */
static int get(struct pim_assets *f, const char *url, long timeout_s, struct buf *body,
	       struct hub_err *err)
{
	CURL *e = f->easy;
	CURLcode cc = CURLE_OK;
	CURLMsg *m;
	long status = 0;
	int running = 1, left;
	bool done = false;

	buf_reset(body);
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK)
		return hub_err_set(err, HUB_EIO, "cannot start a request to damd");
	while (running && !stopping(f)) {
		if (curl_multi_perform(f->multi, &running) != CURLM_OK)
			break;
		/* woken early by curl_multi_wakeup when the follower stops */
		if (running)
			curl_multi_poll(f->multi, NULL, 0, 1000, NULL);
	}
	while ((m = curl_multi_info_read(f->multi, &left)))
		if (m->msg == CURLMSG_DONE) {
			cc = m->data.result;
			done = true;
		}
	curl_multi_remove_handle(f->multi, e);
	if (!done)
		return hub_err_set(err, HUB_EBUSY, "stopped");
	if (cc != CURLE_OK)
		return hub_err_set(err, HUB_EIO, "cannot reach damd: %s", curl_easy_strerror(cc));
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	return (int)status;
}

/* Copies the value of key in meta into out when it has at most max bytes;
 * returns its length, 0 when there is none (or it is longer). */
static size_t meta_load(struct pim_app *app, const char *key, void *out, size_t max)
{
	struct pim_txn *t;
	const void *v;
	size_t vl = 0;

	if (pim_txn_begin(app->store, false, &t, NULL) < 0)
		return 0;
	if (pim_get(t, PDB_META, key, strlen(key), &v, &vl) < 0 || vl > max)
		vl = 0;
	if (vl)
		memcpy(out, v, vl);
	pim_txn_abort(t);
	return vl;
}

static uint64_t seq_load(struct pim_app *app)
{
	unsigned char v[8];

	return meta_load(app, SEQ_KEY, v, sizeof(v)) == 8 ? pim_from_be64(v) : 0;
}

/* Deletes every entry of db, first key after first key. */
static int clear_db(struct pim_txn *t, enum pim_db db, struct hub_err *err)
{
	struct pim_iter *it = NULL;
	const void *k, *v;
	size_t kl, vl;
	int rc = pim_iter_open(t, db, &it, err);

	if (rc < 0)
		return rc;
	while (rc == 0 && pim_iter_seek(it, "", 0, &k, &kl, &v, &vl) == 0 && kl && kl <= PIM_MAX_KEY)
		rc = pim_iter_del(it, k, kl, err);
	pim_iter_close(it);
	return rc;
}

/* Inside b: recounts the completeness of the products showing each asset
 * of ids (NULL: none), saves meta key = value and commits; b is gone after. */
static int recount_commit(struct pim_batch *b, json_t *ids, const char *key, const char *value,
			  struct hub_err *err)
{
	json_t *v;
	size_t i;
	int rc = 0;

	json_array_foreach(ids, i, v)
		if (rc == 0)
			rc = pim_batch_asset_changed(b, json_string_value(v), err);
	if (rc == 0)
		rc = pim_put(pim_batch_txn(b), PDB_META, key, strlen(key), value, strlen(value), err);
	if (rc == 0)
		return pim_batch_commit(b, err);
	pim_batch_abort(b);
	return rc;
}

/* Adopts the feed damd names. A first one (pimd followed a damd from
 * before feed ids, or none yet) is only remembered. Another one means
 * damd's store was replaced and its sequence started over: what pimd
 * recorded of the old store's assets describes nothing there now, so the
 * records and names go and the feed is read again from 0 (*since). Links
 * already made stay in the products, as a merchandiser's edits would. */
static int feed_adopt(struct pim_assets *f, const char *feed_id, uint64_t *since,
		      struct hub_err *err)
{
	bool replaced = *f->feed_id != 0;
	struct pim_batch *b = NULL;
	unsigned char zero[8];
	json_t *gone = NULL;
	char today[16];
	int rc;

	if (strlen(feed_id) >= sizeof(f->feed_id))
		return hub_err_set(err, HUB_EIO, "damd's feed id is too long");
	rc = pim_batch_begin(f->app, BY, false, &b, err);
	if (rc < 0)
		return rc;
	if (replaced) {
		hub_log(LOG_WARN, "damd store replaced feed_id=%s was=%s: reading its feed from 0",
			feed_id, f->feed_id);
		pim_be64(0, zero);
		pim_asset_today(today);
		/* deleted or expired images of the old store, now unknown, count
		 * again for completeness, as projections show them again */
		gone = unusable_since(pim_batch_txn(b), NULL, today);
		rc = clear_db(pim_batch_txn(b), PDB_ASSETS, err);
		if (rc == 0)
			rc = clear_db(pim_batch_txn(b), PDB_ASSET_NAMES, err);
		if (rc == 0)
			rc = pim_put(pim_batch_txn(b), PDB_META, SEQ_KEY, strlen(SEQ_KEY), zero,
				     sizeof(zero), err);
	}
	if (rc == 0)
		rc = recount_commit(b, gone, FEED_ID_KEY, feed_id, err);
	else
		pim_batch_abort(b);
	json_decref(gone);
	if (rc < 0)
		return rc;
	snprintf(f->feed_id, sizeof(f->feed_id), "%s", feed_id);
	if (replaced) {
		*since = 0;
		pim_cache_flush(f->app->catalog->cache);
	}
	return 0;
}

/* After a commit that changed how the assets viewed (a set of ids) are
 * described or whether they are shown: the cached projections of the
 * products showing them go, found through ix_asset (inherited images
 * too). Past INVALIDATE_MAX products the whole cache goes instead, which
 * is then cheaper. */
#define INVALIDATE_MAX 10000

static void invalidate_showing(struct pim_app *app, json_t *viewed)
{
	struct pim_cache *cache = app->catalog->cache;
	struct pim_txn *t = NULL;
	struct pim_iter *it = NULL;
	const void *k, *v;
	size_t kl, vl;
	const char *id;
	json_t *x;
	long n = 0;

	if (!json_object_size(viewed))
		return;
	if (pim_txn_begin(app->store, false, &t, NULL) < 0 ||
	    pim_iter_open(t, PDB_IX_ASSET, &it, NULL) < 0) {
		pim_cache_flush(cache);
		goto out;
	}
	json_object_foreach(viewed, id, x) {
		size_t il = strlen(id) + 1; /* the id and its NUL: "id NUL sku" */

		for (int r = pim_iter_seek(it, id, il, &k, &kl, &v, &vl);
		     r == 0 && kl > il && !memcmp(k, id, il); r = pim_iter_next(it, &k, &kl, &v, &vl)) {
			char sku[PIM_MAX_KEY + 1];

			if (++n > INVALIDATE_MAX) {
				pim_cache_flush(cache);
				goto out;
			}
			memcpy(sku, (const char *)k + il, kl - il);
			sku[kl - il] = 0;
			pim_cache_invalidate(cache, sku);
		}
	}
out:
	if (it)
		pim_iter_close(it);
	if (t)
		pim_txn_abort(t);
}

/* Applies the records of one page of events (id → damd's metadata, or
 * null for a deleted asset) and the new feed position in one transaction. */
static int apply(struct pim_assets *f, json_t *metas, uint64_t next, struct hub_err *err)
{
	struct pim_app *app = f->app;
	struct pim_schema *s = NULL;
	struct pim_batch *b = NULL;
	unsigned char key[8];
	json_t *meta, *viewed = json_object();
	const char *id;
	int rc;

	rc = pim_batch_begin(app, BY, false, &b, err);
	if (rc < 0)
		return rc;
	/* the writer's lock is held: the schema cannot change under us */
	s = pim_catalog_schema(app);
	json_object_foreach(metas, id, meta) {
		json_t *rec;

		if (json_is_null(meta)) {
			json_t *old = record_load(pim_batch_txn(b), id);

			rec = old ? old : pim_asset_record_of(NULL);
			json_object_set_new(rec, "deleted", json_true());
		} else {
			rec = pim_asset_record_of(meta);
		}
		rc = apply_one(b, s, id, rec, NULL, viewed, err);
		json_decref(rec);
		if (rc < 0)
			goto out;
	}
	pim_be64(next, key);
	rc = pim_put(pim_batch_txn(b), PDB_META, SEQ_KEY, strlen(SEQ_KEY), key, sizeof(key), err);
	if (rc < 0)
		goto out;
	rc = pim_batch_commit(b, err);
	b = NULL;
	/* after the commit, so that no projection built from the old records
	 * is cached again */
	if (rc == 0)
		invalidate_showing(app, viewed);
out:
	pim_batch_abort(b);
	pim_schema_unref(s);
	json_decref(viewed);
	return rc;
}

/* One feed request and, when it brings events, their metadata and their
 * application. *since moves past what was applied. */
static int step(struct pim_assets *f, uint64_t *since, struct buf *body, struct hub_err *err)
{
	const char *base = f->app->damd_url;
	json_t *page = NULL, *items, *ev, *metas = json_object();
	const char *feed_id;
	char url[2400];
	json_int_t next;
	size_t i;
	int rc;

	snprintf(url, sizeof(url), "%s/v1/changes?since=%llu&limit=%d&wait=%d", base,
		 (unsigned long long)*since, FEED_LIMIT, FEED_WAIT);
	rc = get(f, url, FEED_WAIT + 15, body, err);
	if (rc < 0)
		goto out;
	if (rc != 200) {
		rc = hub_err_set(err, HUB_EIO, "damd answered %d to its change feed%s", rc,
				 rc == 401 || rc == 403 ? " (check --damd-token)" : "");
		goto out;
	}
	page = json_loadb(body->data, body->len, 0, NULL);
	items = json_object_get(page, "items");
	next = json_integer_value(json_object_get(page, "next_since"));
	if (!json_is_array(items) || next < 0) {
		rc = hub_err_set(err, HUB_EIO, "damd's change feed answered something else");
		goto out;
	}
	feed_id = json_get_str(page, "feed_id");
	if (feed_id && strcmp(feed_id, f->feed_id)) {
		uint64_t from = *since;

		rc = feed_adopt(f, feed_id, since, err);
		if (rc < 0 || *since != from)
			goto out; /* a new store: this page was read from the old position */
	}
	rc = 0;
	if (!json_array_size(items) || (uint64_t)next <= *since)
		goto out;
	/* each asset's state now, once per page: events only say what moved */
	json_array_foreach(items, i, ev) {
		const char *id = json_get_str(ev, "id");
		int st;

		if (!id || !valid_id(id) || json_object_get(metas, id))
			continue;
		snprintf(url, sizeof(url), "%s/v1/assets/%s/meta", base, id);
		st = get(f, url, 30, body, err);
		if (st == 200) {
			json_t *meta = json_loadb(body->data, body->len, 0, NULL);

			if (!json_is_object(meta)) {
				json_decref(meta);
				rc = hub_err_set(err, HUB_EIO, "damd sent unreadable metadata for %s", id);
				goto out;
			}
			json_object_set_new(metas, id, meta);
		} else if (st == 404 || st == 410) {
			json_object_set_new(metas, id, json_null());
		} else {
			rc = st < 0 ? st : hub_err_set(err, HUB_EIO, "damd answered %d for %s", st, id);
			goto out;
		}
	}
	rc = apply(f, metas, (uint64_t)next, err);
	if (rc == 0) {
		hub_log(LOG_DEBUG, "damd events applied since=%llu next=%lld assets=%zu",
			(unsigned long long)*since, (long long)next, json_object_size(metas));
		*since = (uint64_t)next;
	}
out:
	json_decref(metas);
	json_decref(page);
	return rc;
}

/* Moves completeness from day f->today to day today: the products showing
 * an asset whose rights ended in between stop counting it, though damd's
 * rights-expired event may come later, and the day is saved, so that the
 * days pimd was down are caught up at its start. Costs one read of the
 * asset records and the recompute of those products alone. */
static int day_apply(struct pim_assets *f, const char *today, struct hub_err *err)
{
	struct pim_app *app = f->app;
	struct pim_batch *b = NULL;
	struct pim_txn *t;
	json_t *ids;
	int rc;

	rc = pim_txn_begin(app->store, false, &t, err);
	if (rc < 0)
		return rc;
	ids = unusable_since(t, f->today, today);
	pim_txn_abort(t);
	rc = pim_batch_begin(app, BY, false, &b, err);
	if (rc == 0)
		rc = recount_commit(b, ids, DAY_KEY, today, err);
	if (rc == 0 && json_array_size(ids))
		hub_log(LOG_INFO, "damd rights ended day=%s assets=%zu", today, json_array_size(ids));
	json_decref(ids);
	return rc;
}

/* Rights end after their last day: at each new UTC day completeness stops
 * counting the images whose rights ended, and the projection cache starts
 * afresh, since a projection cached the day before may still show one. */
static void day_check(struct pim_assets *f)
{
	struct hub_err err = {0};
	char today[16];

	pim_asset_today(today);
	if (!strcmp(today, f->today))
		return;
	if (day_apply(f, today, &err) < 0) {
		if (!f->day_failing)
			hub_log(LOG_WARN, "damd day change not applied error=\"%s\" (retrying)",
				err.msg);
		f->day_failing = true;
		return;
	}
	f->day_failing = false;
	pim_cache_flush(f->app->catalog->cache);
	memcpy(f->today, today, sizeof(today));
}

/* Sleeps secs or until stopped. */
static void pause_for(struct pim_assets *f, int secs)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&f->lock);
	while (!f->stop && pthread_cond_timedwait(&f->cond, &f->lock, &ts) == 0)
		;
	pthread_mutex_unlock(&f->lock);
}

static void *follow(void *cls)
{
	struct pim_assets *f = cls;
	struct buf body;
	uint64_t since = seq_load(f->app);
	time_t warned = 0;
	int backoff = 0;

	meta_load(f->app, FEED_ID_KEY, f->feed_id, sizeof(f->feed_id) - 1);
	meta_load(f->app, DAY_KEY, f->today, sizeof(f->today) - 1);
	buf_init(&body, BODY_MAX);
	__atomic_store_n(&f->seq, since, __ATOMIC_RELAXED);
	hub_log(LOG_INFO, "damd follower started url=%s since=%llu", f->app->damd_url,
		(unsigned long long)since);
	while (!stopping(f)) {
		struct hub_err err = {0};
		uint64_t before = since;
		time_t now, t0 = time(NULL);

		day_check(f);
		if (step(f, &since, &body, &err) == 0) {
			if (backoff)
				hub_log(LOG_INFO, "damd feed followed again since=%llu",
					(unsigned long long)since);
			backoff = 0;
			warned = 0;
			__atomic_store_n(&f->up, 1, __ATOMIC_RELAXED);
			__atomic_store_n(&f->seq, since, __ATOMIC_RELAXED);
			/* a damd that answers an empty page at once instead of
			 * holding the request must not make this loop spin */
			if (since == before && time(NULL) - t0 < 1)
				pause_for(f, 1);
			continue;
		}
		if (stopping(f))
			break;
		__atomic_store_n(&f->up, 0, __ATOMIC_RELAXED);
		now = time(NULL);
		if (!warned || now - warned >= QUIET_LOG_S) {
			hub_log(LOG_WARN, "damd feed unavailable error=\"%s\" (retrying quietly)",
				err.msg);
			warned = now;
		}
		backoff = backoff ? (backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2) : 1;
		pause_for(f, backoff);
	}
	buf_release(&body);
	return NULL;
}

/* ---- products created after their images ---- */

/* The skus pimd's change feed created after *pos, reading at most PIM_PAGE
 * changes, as a new array; *pos moves past the changes read. */
static json_t *created_since(struct pim_txn *t, uint64_t *pos)
{
	static const char created[] = "\"outcome\":\"created\"";
	json_t *out = json_array();
	struct pim_iter *it;
	unsigned char k[8];
	const void *kk, *vv;
	size_t kl, vl;
	int n = 0;

	if (pim_iter_open(t, PDB_CHANGES, &it, NULL) < 0)
		return out;
	pim_be64(*pos + 1, k);
	for (int r = pim_iter_seek(it, k, sizeof(k), &kk, &kl, &vv, &vl); r == 0 && n < PIM_PAGE;
	     r = pim_iter_next(it, &kk, &kl, &vv, &vl), n++) {
		json_t *c;

		if (kl != 8)
			continue;
		*pos = pim_from_be64(kk);
		/* most changes are updates: parse only the creations */
		if (!memmem(vv, vl, created, sizeof(created) - 1))
			continue;
		c = json_loadb(vv, vl, 0, NULL);
		if (json_is_string(json_object_get(c, "sku")))
			json_array_append(out, json_object_get(c, "sku"));
		json_decref(c);
	}
	pim_iter_close(it);
	return out;
}

static bool names_recorded(struct pim_txn *t)
{
	struct pim_iter *it;
	const void *k;
	size_t kl;
	bool any;

	if (pim_iter_open(t, PDB_ASSET_NAMES, &it, NULL) < 0)
		return true;
	any = pim_iter_last(it, &k, &kl, NULL, NULL) == 0;
	pim_iter_close(it);
	return any;
}

/* Appends [sku, id] to out for each asset that may name sku. */
static void assets_naming(struct pim_txn *t, const char *sku, json_t *out)
{
	size_t sl = strlen(sku), kl;
	struct pim_iter *it;
	const void *kk;
	char pre[PIM_MAX_KEY + 1];

	if (!sl || sl >= PIM_MAX_KEY || pim_iter_open(t, PDB_ASSET_NAMES, &it, NULL) < 0)
		return;
	memcpy(pre, sku, sl + 1);
	for (int r = pim_iter_seek(it, pre, sl + 1, &kk, &kl, NULL, NULL);
	     r == 0 && kl > sl + 1 && !memcmp(kk, pre, sl + 1);
	     r = pim_iter_next(it, &kk, &kl, NULL, NULL))
		json_array_append_new(out, json_pack("[s,s%]", sku, (const char *)kk + sl + 1,
						     kl - sl - 1));
	pim_iter_close(it);
}

/* Links the assets that name the products created after *pos (their
 * filenames or skus were recorded before the product existed) and moves
 * *pos on. The feed is read without the writer's lock; the lock is taken
 * only when some asset names a new product. */
static int watch_step(struct pim_assets *f, uint64_t *pos, struct hub_err *err)
{
	struct pim_app *app = f->app;
	struct pim_schema *s = NULL;
	struct pim_batch *b = NULL;
	struct pim_txn *t = NULL;
	json_t *skus = NULL, *todo = json_array(), *v;
	uint64_t next = *pos;
	unsigned char key[8];
	size_t i;
	int rc;

	rc = pim_txn_begin(app->store, false, &t, err);
	if (rc < 0)
		goto out;
	if (!names_recorded(t)) {
		/* no asset waits for a product: nothing to read (a large import
		 * must not pay for parsing its changes) */
		pim_txn_abort(t);
		*pos = pim_catalog_last_seq(app);
		goto out;
	}
	skus = created_since(t, &next);
	json_array_foreach(skus, i, v)
		assets_naming(t, json_string_value(v), todo);
	pim_txn_abort(t);
	if (!json_array_size(todo)) {
		*pos = next;
		goto out;
	}
	rc = pim_batch_begin(app, BY, false, &b, err);
	if (rc < 0)
		goto out;
	s = pim_catalog_schema(app);
	json_array_foreach(todo, i, v) {
		const char *id = json_string_value(json_array_get(v, 1));
		json_t *rec = record_load(pim_batch_txn(b), id);

		if (!rec)
			continue;
		rc = apply_one(b, s, id, rec, json_string_value(json_array_get(v, 0)), NULL, err);
		json_decref(rec);
		if (rc < 0)
			goto out;
	}
	pim_be64(next, key);
	rc = pim_put(pim_batch_txn(b), PDB_META, PIM_SEQ_KEY, strlen(PIM_SEQ_KEY), key, sizeof(key),
		     err);
	if (rc < 0)
		goto out;
	rc = pim_batch_commit(b, err);
	b = NULL;
	if (rc == 0)
		*pos = next;
out:
	pim_batch_abort(b);
	pim_schema_unref(s);
	json_decref(skus);
	json_decref(todo);
	return rc;
}

/* Where the watcher starts: the saved position, else (first start) the
 * newest change, saved now, since assets are linked to the products that
 * exist when their own events arrive. */
static int watch_start(struct pim_app *app, uint64_t *pos, struct hub_err *err)
{
	struct pim_batch *b;
	unsigned char key[8];
	const void *v;
	size_t vl;
	int rc;

	rc = pim_batch_begin(app, BY, false, &b, err);
	if (rc < 0)
		return rc;
	if (pim_get(pim_batch_txn(b), PDB_META, PIM_SEQ_KEY, strlen(PIM_SEQ_KEY), &v, &vl) == 0 &&
	    vl == 8) {
		*pos = pim_from_be64(v);
		pim_batch_abort(b);
		return 0;
	}
	*pos = pim_catalog_last_seq(app);
	pim_be64(*pos, key);
	rc = pim_put(pim_batch_txn(b), PDB_META, PIM_SEQ_KEY, strlen(PIM_SEQ_KEY), key, sizeof(key),
		     err);
	if (rc < 0) {
		pim_batch_abort(b);
		return rc;
	}
	return pim_batch_commit(b, err);
}

/* Looks at pimd's own change sequence once a second (an atomic load while
 * nothing is written), and page after page while it is behind. */
static void *watch(void *cls)
{
	struct pim_assets *f = cls;
	struct hub_err err = {0};
	uint64_t pos = 0;
	bool failing = false;

	if (watch_start(f->app, &pos, &err) < 0) {
		hub_log(LOG_ERROR, "damd product watcher cannot start error=\"%s\"", err.msg);
		return NULL;
	}
	while (!stopping(f)) {
		uint64_t before = pos;

		if (pim_catalog_last_seq(f->app) == pos) {
			pause_for(f, 1);
			continue;
		}
		if (watch_step(f, &pos, &err) < 0) {
			if (!failing)
				hub_log(LOG_WARN, "damd product watcher error=\"%s\"", err.msg);
			failing = true;
		} else {
			failing = false;
		}
		if (pos == before)
			pause_for(f, 1);
	}
	return NULL;
}

static void assets_free(struct pim_assets *f)
{
	if (f->multi)
		curl_multi_cleanup(f->multi);
	if (f->easy)
		curl_easy_cleanup(f->easy);
	curl_slist_free_all(f->headers);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
	curl_global_cleanup();
}

int pim_assets_start(struct pim_app *app, struct hub_err *err)
{
	struct pim_assets *f;
	pthread_condattr_t ca;
	char auth[600];

	if (!app->damd_url || !*app->damd_url)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return hub_err_set(err, HUB_EIO, "cannot initialise libcurl");
	f = calloc(1, sizeof(*f));
	if (!f) {
		curl_global_cleanup();
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	}
	f->app = app;
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cond, &ca);
	pthread_condattr_destroy(&ca);
	f->multi = curl_multi_init();
	f->easy = curl_easy_init();
	f->headers = curl_slist_append(NULL, "Accept: application/json");
	if (f->headers && app->damd_token && *app->damd_token) {
		struct curl_slist *h;

		snprintf(auth, sizeof(auth), "Authorization: Bearer %.500s", app->damd_token);
		h = curl_slist_append(f->headers, auth);
		if (h)
			f->headers = h;
	}
	if (!f->multi || !f->easy || !f->headers ||
	    pthread_create(&f->thread, NULL, follow, f) != 0) {
		assets_free(f);
		return hub_err_set(err, HUB_EIO, "cannot start the damd follower");
	}
	app->assets = f;
	f->watching = pthread_create(&f->watcher, NULL, watch, f) == 0;
	if (!f->watching)
		hub_log(LOG_WARN, "damd product watcher not started: products created after "
				  "their images are linked at the images' next event");
	return 0;
}

void pim_assets_metrics(struct buf *out, struct pim_app *app)
{
	struct pim_assets *f = app->assets;

	if (!f)
		return;
	buf_addf(out,
		 "# HELP pimd_damd_feed_seq The last damd change-feed sequence pimd applied.\n"
		 "# TYPE pimd_damd_feed_seq gauge\npimd_damd_feed_seq %llu\n"
		 "# HELP pimd_damd_feed_up Whether damd answered pimd's last feed request.\n"
		 "# TYPE pimd_damd_feed_up gauge\npimd_damd_feed_up %d\n",
		 (unsigned long long)__atomic_load_n(&f->seq, __ATOMIC_RELAXED),
		 __atomic_load_n(&f->up, __ATOMIC_RELAXED));
}

void pim_assets_stop(struct pim_app *app)
{
	struct pim_assets *f = app->assets;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	__atomic_store_n(&f->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	curl_multi_wakeup(f->multi);
	pthread_join(f->thread, NULL);
	if (f->watching)
		pthread_join(f->watcher, NULL);
	app->assets = NULL;
	assets_free(f);
}
