#include "project.h"
#include "app.h"
#include "assets.h"
#include "cache.h"
#include "catalog_int.h"
#include "err.h"
#include "hash.h"
#include "http.h"
#include "json.h"
#include "schema.h"
#include "store.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool published(json_t *doc, const char *key)
{
	json_t *c = json_object_get(json_object_get(doc, "completeness"), key);

	return json_is_true(json_object_get(doc, "enabled")) &&
	       json_integer_value(json_object_get(c, "ratio")) == 100;
}

json_t *pim_presets_load(const char *schemas_dir)
{
	char path[4096];
	json_t *root, *p, *presets = json_object();
	const char *name;

	snprintf(path, sizeof(path), "%s/renditions.json", schemas_dir);
	root = json_load_file(path, 0, NULL);
	json_object_foreach(json_object_get(root, "presets"), name, p) {
		char tag[JSON_PRESET_TAG_DIGITS + 1];

		if (json_is_object(p) && json_tag(p, "description", tag, sizeof(tag) - 1) == 0)
			json_object_set_new(presets, name,
					    json_pack("{s:O?,s:O?,s:O?,s:s}", "description",
						      json_object_get(p, "description"), "width",
						      json_object_get(p, "width"), "height",
						      json_object_get(p, "height"), "tag", tag));
	}
	json_decref(root);
	return presets;
}

/* The URL of the asset's rendition by preset. damd serves renditions as
 * immutable, yet what a preset URL shows follows the preset's parameters
 * and, for a cover crop, the asset's focal point: ?v= carries a tag of
 * both, so that an edited preset or a moved focal point makes a new URL
 * that no cache holds. damd ignores it. */
static json_t *rendition_url(struct pim_app *app, const char *base, const char *id,
			     const char *preset, const char *crop)
{
	const char *ptag =
		json_string_value(json_object_get(json_object_get(app->presets, preset), "tag"));
	char url[2048], tag[PIM_CROP_TAG] = "";

	if (ptag && *crop) {
		char both[2 * PIM_CROP_TAG];
		uint8_t d[HASH_SHA256_LEN];

		snprintf(both, sizeof(both), "%s:%s", ptag, crop);
		hash_sha256(both, strlen(both), d);
		hash_hex(d, (PIM_CROP_TAG - 1) / 2, tag);
	} else {
		snprintf(tag, sizeof(tag), "%s", ptag ? ptag : crop);
	}
	snprintf(url, sizeof(url), "%s/v1/renditions/%s/%s%s%s", base, id, preset, *tag ? "?v=" : "",
		 tag);
	return json_string(url);
}

/* One image of a projection, described from pimd's record of the asset
 * (t's view); NULL when the asset is not offered (deleted, rights
 * expired). Alt text falls back like localizable values. */
static json_t *image(struct pim_app *app, struct pim_txn *t, json_t *chdoc, const char *id,
		     const char *locale, const char *fallback)
{
	json_t *r = json_object_get(chdoc, "renditions"), *urls, *v, *out;
	const char *role, *main = json_string_value(json_object_get(r, "main"));
	const char *base = app->damd_url ? app->damd_url : "";
	char url[2048], crop[PIM_CROP_TAG];

	out = json_pack("{s:s,s:n,s:n,s:n,s:n}", "asset", id, "url", "width", "height", "alt");
	if (!pim_asset_describe(t, id, locale, fallback, out, crop)) {
		json_decref(out);
		return NULL;
	}
	if (main) {
		json_object_set_new(out, "url", rendition_url(app, base, id, main, crop));
	} else {
		snprintf(url, sizeof(url), "%s/v1/assets/%s", base, id);
		json_object_set_new(out, "url", json_string(url));
	}
	urls = json_object();
	json_object_foreach(r, role, v)
		json_object_set_new(urls, role, rendition_url(app, base, id, json_string_value(v), crop));
	json_object_set_new(out, "renditions", urls);
	return out;
}

/* The value of one attribute as a frontend wants it, or NULL. */
static json_t *flat_value(struct pim_app *app, struct pim_txn *t, const struct pim_attr *a,
			  json_t *data, json_t *chdoc, const char *locale, const char *fallback)
{
	json_t *c, *p, *out;
	size_t i, j;

	switch (a->type) {
	case PT_PRICE:
		json_array_foreach(json_object_get(chdoc, "currencies"), i, c)
			json_array_foreach(data, j, p)
				if (json_equal(json_object_get(p, "currency"), c))
					return json_pack("{s:O,s:O}", "amount", json_object_get(p, "amount"),
							 "currency", c);
		return NULL;
	case PT_ASSET:
		return json_is_string(data)
			       ? image(app, t, chdoc, json_string_value(data), locale, fallback)
			       : NULL;
	case PT_ASSET_COLLECTION:
		out = json_array();
		json_array_foreach(data, i, p) {
			json_t *im = json_is_string(p) ? image(app, t, chdoc, json_string_value(p),
							       locale, fallback)
						       : NULL;

			if (im)
				json_array_append_new(out, im);
		}
		return out;
	default:
		return json_incref(data);
	}
}

/* Builds the projection document of a stored product (a new reference),
 * or NULL when it is not published to channel/locale. */
static json_t *build(struct pim_app *app, const struct pim_schema *s, struct pim_txn *t,
		     const char *channel, json_t *chdoc, const char *locale, json_t *doc)
{
	const char *sku = json_string_value(json_object_get(doc, "sku"));
	const char *psku = json_string_value(json_object_get(doc, "parent"));
	const char *fallback = json_string_value(json_array_get(json_object_get(chdoc, "locales"), 0));
	const char *tree = json_string_value(json_object_get(chdoc, "category_tree"));
	const struct pim_family *fam;
	json_t *parent = NULL, *resolved, *out, *v, *cats, *assocs, *variants, *src;
	const char *k;
	char key[256];
	size_t i;

	snprintf(key, sizeof(key), "%s/%s", channel, locale);
	if (!published(doc, key))
		return NULL;
	if (psku) {
		parent = pim_product_load(t, psku);
		/* a variant is offered only while its parent is */
		if (!parent || !json_is_true(json_object_get(parent, "enabled"))) {
			json_decref(parent);
			return NULL;
		}
	}
	fam = pim_schema_family(s, json_string_value(json_object_get(doc, "family")));
	resolved = pim_resolved_values(doc, parent);
	out = json_pack("{s:s,s:s,s:s,s:O,s:O}", "sku", sku, "channel", channel, "locale", locale,
			"version", json_object_get(doc, "version"), "family",
			json_object_get(doc, "family"));
	json_array_foreach(fam ? json_object_get(fam->doc, "attributes") : NULL, i, v) {
		const char *code = json_string_value(v);
		const struct pim_attr *a = pim_schema_attr(s, code);
		json_t *e, *fv;

		if (!a || !strcmp(code, "sku"))
			continue;
		e = pim_value_pick(a, json_object_get(resolved, code), channel, locale);
		if (!e && a->localizable && fallback && strcmp(fallback, locale))
			e = pim_value_pick(a, json_object_get(resolved, code), channel, fallback);
		if (!e)
			continue;
		fv = flat_value(app, t, a, json_object_get(e, "data"), chdoc, locale, fallback);
		if (fv)
			json_object_set_new(out, code, fv);
	}
	json_object_set_new(out, "parent", psku ? json_string(psku) : json_null());
	variants = json_array();
	if (!psku) {
		struct pim_iter *it;
		size_t sl = strlen(sku);
		char pre[PIM_MAX_KEY + 1];
		const void *kk;
		size_t kl;

		if (sl < PIM_MAX_KEY && pim_iter_open(t, PDB_IX_PARENT, &it, NULL) == 0) {
			memcpy(pre, sku, sl);
			pre[sl] = 0;
			for (int r = pim_iter_seek(it, pre, sl + 1, &kk, &kl, NULL, NULL);
			     r == 0 && kl > sl + 1 && !memcmp(kk, pre, sl + 1);
			     r = pim_iter_next(it, &kk, &kl, NULL, NULL)) {
				char child[PIM_MAX_KEY + 1];
				json_t *cd;

				memcpy(child, (const char *)kk + sl + 1, kl - sl - 1);
				child[kl - sl - 1] = 0;
				cd = pim_product_load(t, child);
				if (cd && published(cd, key))
					json_array_append_new(variants, json_string(child));
				json_decref(cd);
			}
			pim_iter_close(it);
		}
	}
	json_object_set_new(out, "variants", variants);
	cats = json_array();
	src = json_object_get(doc, "categories");
	if (!json_array_size(src) && parent)
		src = json_object_get(parent, "categories");
	json_array_foreach(src, i, v) {
		json_t *path = pim_schema_cat_path(s, json_string_value(v));

		if (!tree || (path && !strcmp(json_string_value(json_array_get(path, 0)), tree)))
			json_array_append(cats, v);
	}
	json_object_set_new(out, "categories", cats);
	assocs = json_object();
	src = json_object_get(doc, "associations");
	if (!json_object_size(src) && parent)
		src = json_object_get(parent, "associations");
	json_object_foreach(src, k, v) {
		json_t *list = json_array(), *p;

		json_array_foreach(json_object_get(v, "products"), i, p)
			if (pim_get(t, PDB_PRODUCTS, json_string_value(p), json_string_length(p), NULL,
				    NULL) == 0)
				json_array_append(list, p);
		json_object_set_new(assocs, k, list);
	}
	json_object_set_new(out, "associations", assocs);
	json_decref(resolved);
	json_decref(parent);
	return out;
}

int pim_project(struct pim_app *app, const char *channel, const char *locale, const char *sku,
		struct http_shared **out, char etag[40], struct hub_err *err)
{
	struct pim_cache *cache = app->catalog->cache;
	const char *qloc = locale ? locale : "";
	struct pim_schema *s = NULL;
	struct pim_txn *t = NULL;
	json_t *chdoc, *doc = NULL, *proj = NULL;
	bool cacheable = true;
	char *nfc;
	uint8_t digest[HASH_SHA256_LEN];
	char hex[HASH_SHA256_HEX];
	uint64_t epoch;
	size_t len;
	char *data;
	int rc;

	*out = pim_cache_get(cache, channel, qloc, sku, etag);
	if (*out)
		return 0;
	epoch = pim_cache_epoch(cache, sku);
	s = pim_catalog_schema(app);
	chdoc = pim_schema_doc(s, PK_CHANNELS, channel);
	if (!chdoc) {
		rc = hub_err_set(err, HUB_ENOTFOUND, "no channel '%.100s'", channel);
		goto out;
	}
	if (!*qloc)
		qloc = json_string_value(json_array_get(json_object_get(chdoc, "locales"), 0));
	{
		json_t *l;
		size_t i;
		bool ok = false;

		json_array_foreach(json_object_get(chdoc, "locales"), i, l)
			ok |= !strcmp(json_string_value(l), qloc);
		if (!ok) {
			rc = hub_err_set(err, HUB_ENOTFOUND, "channel '%.100s' has no locale '%.40s'",
					 channel, qloc);
			goto out;
		}
	}
	rc = pim_txn_begin(app->store, false, &t, err);
	if (rc < 0)
		goto out;
	doc = pim_product_load(t, sku);
	if (!doc && (nfc = pim_sku_resolve(t, sku))) {
		/* not cached: writes flush the entries of the sku as stored */
		doc = pim_product_load(t, nfc);
		free(nfc);
		cacheable = false;
	}
	if (doc)
		proj = build(app, s, t, channel, chdoc, qloc, doc);
	if (!proj) {
		rc = hub_err_set(err, HUB_ENOTFOUND, "product '%.200s' is not published to %s/%s", sku,
				 channel, qloc);
		goto out;
	}
	data = json_dump_compact(proj, &len);
	if (data) {
		hash_sha256(data, len, digest);
		hash_hex(digest, 8, hex);
		snprintf(etag, 40, "\"%.16s\"", hex);
		*out = http_shared_new("application/json", data, len);
	}
	if (!*out) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	http_shared_set_header(*out, "ETag", etag);
	http_shared_set_header(*out, "Cache-Control", PIM_PROJECTION_CACHE_CONTROL);
	if (cacheable)
		pim_cache_put(cache, channel, locale ? locale : "", sku, *out, etag, epoch);
out:
	pim_txn_abort(t);
	json_decref(doc);
	json_decref(proj);
	pim_schema_unref(s);
	return rc;
}

int pim_projection(struct pim_app *app, const char *channel, const char *locale,
		   const char *sku, json_t **out, struct hub_err *err)
{
	struct http_shared *reply;
	const char *data;
	char etag[40];
	size_t len;
	int rc = pim_project(app, channel, locale, sku, &reply, etag, err);

	if (rc < 0)
		return rc;
	data = http_shared_body(reply, &len);
	*out = json_loadb(data, len, 0, NULL);
	http_shared_unref(reply);
	return *out ? 0 : hub_err_set(err, HUB_EIO, "cannot read a projection");
}
