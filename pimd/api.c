#include "api.h"
#include "app.h"
#include "buf.h"
#include "cache.h"
#include "catalog_int.h"
#include "err.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "models.h"
#include "project.h"
#include "schema.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lines per write transaction, or bytes, whichever comes first. Each
 * transaction's lines are parsed and prepared just before it, outside the
 * writer's lock, on the thread that then writes them; few enough that they
 * are still in the CPU's caches when written (2000 lines a transaction
 * measured a quarter slower). */
#define BATCH_LINES 250
#define BATCH_BYTES (1u << 20)
#define BATCH_MAX_LINE (16u << 20)   /* one document */
#define ROLE_WRITE ROLE_MERCHANDISER

static int reply_problems(struct http_req *req, const struct hub_err *err, json_t *problems)
{
	int rc = http_reply_problem(req, hub_err_status(err->code), err->msg, problems);

	json_decref(problems);
	return rc;
}

/* Parses the buffered JSON body; on failure the 400 is already queued. */
static json_t *body_json(struct http_req *req)
{
	struct hub_err err = {0};
	size_t len;
	const char *b = http_body(req, &len);
	json_t *j;

	if (!b || !len) {
		http_reply_problem(req, 400, "a JSON body is required", NULL);
		return NULL;
	}
	j = json_parse(b, len, &err);
	if (!j)
		http_reply_err(req, &err);
	return j;
}

#define PRODUCT_ETAG_LEN 48

/* A product's ETag: its version and a digest of its completeness, which a
 * schema edit or an asset event changes without a new version, so a cache
 * holding the older body is not told it is current. If-Match compares the
 * version alone (catalog.c, if_match_has). */
static void product_etag(json_t *doc, char etag[PRODUCT_ETAG_LEN])
{
	char *comp = json_dumps(json_object_get(doc, "completeness"),
				JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	uint8_t d[HASH_SHA256_LEN];
	char hex[2 * 4 + 1];

	hash_sha256(comp ? comp : "", comp ? strlen(comp) : 0, d);
	hash_hex(d, 4, hex);
	free(comp);
	snprintf(etag, PRODUCT_ETAG_LEN, "\"%lld.%s\"",
		 (long long)json_integer_value(json_object_get(doc, "version")), hex);
}

static int reply_product(struct http_req *req, int status, json_t *doc)
{
	char etag[PRODUCT_ETAG_LEN];

	product_etag(doc, etag);
	http_set_header(req, "ETag", etag);
	return http_reply_json(req, status, doc);
}

static int parse_mode(const char *m, enum pim_mode *out)
{
	if (!m || !strcmp(m, "upsert"))
		*out = PIM_MODE_UPSERT;
	else if (!strcmp(m, "create"))
		*out = PIM_MODE_CREATE;
	else if (!strcmp(m, "update"))
		*out = PIM_MODE_UPDATE;
	else
		return -1;
	return 0;
}

/* Reads ?limit= (1..max, default 50) and ?cursor=; on a bad value the
 * problem is already queued and -1 returned. */
static int read_page(struct http_req *req, char listing, long max, long *limit, char *after,
		     size_t len, bool *has)
{
	const char *c = http_query(req, "cursor");

	*has = false;
	if (http_query_long(req, "limit", 50, 1, max, limit) < 0)
		return -1;
	if (!c || !*c)
		return 0;
	if (pim_cursor_read(listing, c, after, len) < 0) {
		http_reply_problem(req, 400, "cursor is not one this server gave out", NULL);
		return -1;
	}
	*has = true;
	return 0;
}

/* ---- schema ---- */

/* The kind from the path "/v1/<kind>[/code]". */
static int path_kind(struct http_req *req)
{
	const char *p = http_path(req) + 4;
	char kind[32];
	size_t n = strcspn(p, "/?");

	if (n >= sizeof(kind))
		return -1;
	memcpy(kind, p, n);
	kind[n] = 0;
	return pim_kind_parse(kind);
}

/* A page of one kind's documents in code order; the cursor holds
 * "<kind>/<last code>", so it cannot page another kind. */
static int handle_schema_list(struct http_req *req)
{
	const char *kind = pim_kind_name(path_kind(req));
	json_t *all = pim_schema_list(http_app(req), kind), *items = json_array(), *j, *d;
	char after[PIM_MAX_KEY + 1], cur[PIM_MAX_KEY * 2];
	size_t kl = strlen(kind), i;
	const char *code = NULL;
	bool has_after;
	long limit;
	int rc;

	if (read_page(req, 's', 1000, &limit, after, sizeof(after), &has_after) < 0 ||
	    (has_after && (strncmp(after, kind, kl) || after[kl] != '/'))) {
		if (has_after)
			http_reply_problem(req, 400, "cursor is not one this server gave out", NULL);
		json_decref(all);
		json_decref(items);
		return 0;
	}
	json_array_foreach(all, i, d) {
		const char *c = json_string_value(json_object_get(d, "code"));

		if (has_after && strcmp(c, after + kl + 1) <= 0)
			continue;
		if ((long)json_array_size(items) == limit)
			break;
		json_array_append(items, d);
		code = c;
	}
	j = json_pack("{s:o}", "items", items);
	if (i < json_array_size(all) && code && kl + 1 + strlen(code) <= PIM_MAX_KEY) {
		snprintf(after, sizeof(after), "%s/%s", kind, code);
		pim_cursor_make('s', after, cur);
		json_object_set_new(j, "next_cursor", json_string(cur));
	} else {
		json_object_set_new(j, "next_cursor", json_null());
	}
	rc = http_reply_json(req, 200, j);
	json_decref(j);
	json_decref(all);
	return rc;
}

static int handle_schema_get(struct http_req *req)
{
	json_t *d = pim_schema_get(http_app(req), pim_kind_name(path_kind(req)),
				   http_param(req, "code"));
	int rc;

	if (!d)
		return http_reply_problem(req, 404, "no such schema document", NULL);
	rc = http_reply_json(req, 200, d);
	json_decref(d);
	return rc;
}

static int handle_schema_put(struct http_req *req)
{
	struct hub_err err = {0};
	json_t *doc = body_json(req), *problems = NULL, *stored = NULL;
	int outcome = 0, rc;

	if (!doc)
		return 0;
	rc = pim_schema_write(http_app(req), path_kind(req), http_param(req, "code"), doc,
			      http_user(req), &outcome, &stored, &problems, &err);
	json_decref(doc);
	if (rc < 0)
		return reply_problems(req, &err, problems);
	rc = http_reply_json(req, outcome == PIM_CREATED ? 201 : 200, stored);
	json_decref(stored);
	return rc;
}

static int handle_schema_delete(struct http_req *req)
{
	struct hub_err err = {0};

	if (pim_schema_delete(http_app(req), path_kind(req), http_param(req, "code"),
			      http_user(req), &err) < 0)
		return http_reply_err(req, &err);
	return http_reply_empty(req, 204);
}

/* ---- products ---- */

static int handle_product_get(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	struct hub_err err = {0};
	struct pim_txn *t;
	json_t *doc;
	char etag[PRODUCT_ETAG_LEN];
	int rc;

	if (pim_txn_begin(app->store, false, &t, &err) < 0)
		return http_reply_err(req, &err);
	doc = pim_product_load(t, http_param(req, "sku"));
	if (!doc) {
		char *nfc = pim_sku_resolve(t, http_param(req, "sku"));

		doc = pim_product_load(t, nfc);
		free(nfc);
	}
	pim_txn_abort(t);
	if (!doc)
		return http_reply_problem(req, 404, "no such product", NULL);
	product_etag(doc, etag);
	http_set_header(req, "Cache-Control", "no-cache");
	if (http_not_modified(req, etag)) {
		json_decref(doc);
		return 0;
	}
	rc = http_reply_json(req, 200, doc);
	json_decref(doc);
	return rc;
}

/* An Akeneo sub-model kept by imports (models.h): its record and the
 * variants imported under it. Read only: it changes by imports. */
static int handle_model_get(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	struct hub_err err = {0};
	struct pim_txn *t;
	json_t *rec;
	int rc;

	if (pim_txn_begin(app->store, false, &t, &err) < 0)
		return http_reply_err(req, &err);
	rec = pim_model_get(t, http_param(req, "code"));
	if (rec)
		json_object_set_new(rec, "variants",
				    pim_model_variants(t, json_string_value(json_object_get(rec, "code"))));
	pim_txn_abort(t);
	if (!rec)
		return http_reply_problem(req, 404, "no such sub-model", NULL);
	rc = http_reply_json(req, 200, rec);
	json_decref(rec);
	return rc;
}

/* GET /v1/schema-refresh: the schema changes whose products are still
 * being recomputed in the background (see pimd/refresh.h), so that a page
 * can say its completeness figures are about to change. */
static int handle_schema_refresh(struct http_req *req)
{
	json_t *body = json_pack("{s:o}", "queued", pim_catalog_refresh_list(http_app(req)));
	int rc = http_reply_json(req, 200, body);

	json_decref(body);
	return rc;
}

/* PUT, PATCH and revert share this: one write in its own transaction. */
enum write_kind { W_PUT, W_PATCH, W_REVERT };

static int product_write(struct http_req *req, enum write_kind kind)
{
	struct pim_app *app = http_app(req);
	const char *sku = http_param(req, "sku"), *if_match = http_header(req, "If-Match");
	const char *inm = http_header(req, "If-None-Match");
	/* "If-None-Match: *" makes a PUT a create: 412 when the product exists
	 * (RFC 9110), where a create-mode write says 409 */
	bool create_only = kind == W_PUT && inm && !strcmp(inm, "*");
	struct hub_err err = {0};
	struct pim_batch *b = NULL;
	json_t *body = body_json(req), *stored = NULL, *problems = NULL;
	char *nfc = NULL;
	int outcome = 0, rc;

	if (!body)
		return 0;
	rc = pim_batch_begin(app, http_user(req), false, &b, &err);
	if (rc < 0)
		goto out;
	/* a PUT's document names its sku: one sent in NFD is refused there */
	if (kind != W_PUT && (nfc = pim_sku_resolve(pim_batch_txn(b), sku)))
		sku = nfc;
	if (kind == W_PUT) {
		rc = pim_batch_write(b, sku, body, create_only ? PIM_MODE_CREATE : PIM_MODE_UPSERT,
				     if_match, &outcome, &stored, &problems, &err);
		if (rc == HUB_ECONFLICT && create_only)
			rc = err.code = HUB_EPRECOND;
	} else if (kind == W_PATCH) {
		rc = pim_batch_merge(b, sku, body, PIM_MODE_UPDATE, if_match, &outcome, &stored,
				     &problems, &err);
	} else {
		json_t *v = json_object_get(body, "version");

		if (!json_is_integer(v)) {
			problems = json_array();
			pim_problem(problems, "/version", "required", "revert needs {\"version\":N}");
			rc = hub_err_set(&err, HUB_EINVALID, "revert needs {\"version\":N}");
		} else {
			rc = pim_batch_revert(b, sku, (long)json_integer_value(v), if_match, &outcome,
					      &stored, &problems, &err);
		}
	}
	if (rc < 0) {
		pim_batch_abort(b);
		b = NULL;
		goto out;
	}
	rc = pim_batch_commit(b, &err);
	b = NULL;
out:
	json_decref(body);
	free(nfc);
	if (rc < 0) {
		json_decref(stored);
		return reply_problems(req, &err, problems);
	}
	rc = reply_product(req, outcome == PIM_CREATED ? 201 : 200, stored);
	json_decref(stored);
	return rc;
}

static int handle_product_put(struct http_req *req)
{
	return product_write(req, W_PUT);
}

static int handle_product_patch(struct http_req *req)
{
	return product_write(req, W_PATCH);
}

static int handle_product_revert(struct http_req *req)
{
	return product_write(req, W_REVERT);
}

static int handle_product_delete(struct http_req *req)
{
	struct hub_err err = {0};
	struct pim_batch *b;
	char *nfc;
	int rc = pim_batch_begin(http_app(req), http_user(req), false, &b, &err);

	if (rc < 0)
		return http_reply_err(req, &err);
	nfc = pim_sku_resolve(pim_batch_txn(b), http_param(req, "sku"));
	rc = pim_batch_delete(b, nfc ? nfc : http_param(req, "sku"), http_header(req, "If-Match"),
			      &err);
	free(nfc);
	if (rc < 0) {
		pim_batch_abort(b);
		return http_reply_err(req, &err);
	}
	if (pim_batch_commit(b, &err) < 0)
		return http_reply_err(req, &err);
	return http_reply_empty(req, 204);
}

static void set_next_cursor(json_t *out, char listing, json_t *skus, int more)
{
	char cur[PIM_MAX_KEY * 2];

	if (more && json_array_size(skus)) {
		pim_cursor_make(listing,
				json_string_value(json_array_get(skus, json_array_size(skus) - 1)), cur);
		json_object_set_new(out, "next_cursor", json_string(cur));
	} else {
		json_object_set_new(out, "next_cursor", json_null());
	}
}

/* ?complete=CHANNEL/LOCALE must name a channel and one of its locales: a
 * typo would otherwise list nothing, as if no product were complete. */
static bool complete_ok(struct pim_app *app, const char *v)
{
	const char *slash = strchr(v, '/');
	char channel[PIM_MAX_KEY];
	struct pim_schema *s;
	json_t *chdoc;
	bool ok;

	if (!slash || (size_t)(slash - v) >= sizeof(channel))
		return false;
	memcpy(channel, v, (size_t)(slash - v));
	channel[slash - v] = 0;
	s = pim_catalog_schema(app);
	chdoc = pim_schema_doc(s, PK_CHANNELS, channel);
	ok = chdoc && json_array_has_string(json_object_get(chdoc, "locales"), slash + 1);
	pim_schema_unref(s);
	return ok;
}

static int handle_product_list(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	struct pim_filter f = {0};
	struct hub_err err = {0};
	struct pim_txn *t = NULL;
	char after[PIM_MAX_KEY + 1];
	const char *us = http_query(req, "updated_since");
	struct buf out = BUF_INIT;
	json_t *skus = NULL, *v;
	long limit;
	bool has_after;
	int more = 0, rc;
	size_t i;

	if (read_page(req, 'p', 1000, &limit, after, sizeof(after), &has_after) < 0)
		return 0;
	f.family = http_query(req, "family");
	f.category = http_query(req, "category");
	f.parent = http_filter(req, "parent");
	f.complete = http_filter(req, "complete");
	if (f.complete && !complete_ok(app, f.complete))
		return http_reply_problem(req, 400,
					  "complete is CHANNEL/LOCALE, a channel and one of its locales",
					  NULL);
	f.q = http_filter(req, "q");
	f.enabled = http_query_bool(req, "enabled", -2);
	if (f.enabled == -1)
		return http_reply_problem(req, 400, "enabled is true or false", NULL);
	if (f.enabled == -2)
		f.enabled = -1; /* either */
	f.updated_since = -1;
	if (us) {
		char *end;
		long long ms = strtoll(us, &end, 10);

		f.updated_since = *end || !*us ? pim_time_parse(us) : ms;
		if (f.updated_since < 0)
			return http_reply_problem(req, 400, "updated_since is an RFC 3339 time", NULL);
	}
	f.after = has_after ? after : NULL;
	f.limit = (size_t)limit;
	rc = pim_txn_begin(app->store, false, &t, &err);
	if (rc < 0)
		return http_reply_err(req, &err);
	skus = json_array();
	rc = pim_search(t, &f, skus, &more, &err);
	if (rc < 0) {
		pim_txn_abort(t);
		json_decref(skus);
		return http_reply_err(req, &err);
	}
	/* stored documents are compact JSON already: copied, not re-parsed */
	buf_adds(&out, "{\"items\":[");
	json_array_foreach(skus, i, v) {
		const void *d;
		size_t dl;

		if (pim_get(t, PDB_PRODUCTS, json_string_value(v), json_string_length(v), &d, &dl) < 0)
			continue;
		if (out.len > 10)
			buf_addc(&out, ',');
		buf_add(&out, d, dl);
	}
	pim_txn_abort(t);
	buf_adds(&out, "],\"next_cursor\":");
	if (more && json_array_size(skus)) {
		char cur[PIM_MAX_KEY * 2];

		pim_cursor_make('p', json_string_value(json_array_get(skus, json_array_size(skus) - 1)),
				cur);
		buf_addf(&out, "\"%s\"}", cur);
	} else {
		buf_adds(&out, "null}");
	}
	json_decref(skus);
	{
		size_t len;
		char *body = buf_detach(&out, &len);

		if (!body)
			return http_reply_problem(req, 500, "out of memory", NULL);
		return http_reply_owned(req, 200, "application/json", body, len);
	}
}

static int handle_history(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	const char *sku = http_param(req, "sku");
	struct hub_err err = {0};
	struct pim_txn *t = NULL;
	struct pim_iter *it = NULL;
	char key[PIM_MAX_KEY + 8], after[32], cur[64];
	size_t sl = strlen(sku), kl;
	const void *k, *v;
	size_t klen, vl;
	long limit;
	bool has_after;
	uint32_t from = 1, last = 0;
	json_t *items, *out;
	char *nfc;
	int rc, more = 0;

	if (read_page(req, 'h', 1000, &limit, after, sizeof(after), &has_after) < 0)
		return 0;
	if (has_after)
		from = (uint32_t)strtoul(after, NULL, 10) + 1;
	rc = pim_txn_begin(app->store, false, &t, &err);
	if (rc == 0)
		rc = pim_iter_open(t, PDB_HISTORY, &it, &err);
	if (rc < 0) {
		pim_txn_abort(t);
		return http_reply_err(req, &err);
	}
	if ((nfc = pim_sku_resolve(t, sku))) {
		sku = nfc;
		sl = strlen(sku);
	}
	if (sl + 5 > PIM_MAX_KEY) {
		pim_iter_close(it);
		pim_txn_abort(t);
		free(nfc);
		return http_reply_problem(req, 404, "no such product", NULL);
	}
	memcpy(key, sku, sl);
	key[sl] = 0;
	key[sl + 1] = (char)(from >> 24);
	key[sl + 2] = (char)(from >> 16);
	key[sl + 3] = (char)(from >> 8);
	key[sl + 4] = (char)from;
	kl = sl + 5;
	items = json_array();
	for (int r = pim_iter_seek(it, key, kl, &k, &klen, &v, &vl); r == 0;
	     r = pim_iter_next(it, &k, &klen, &v, &vl)) {
		json_t *h;

		if (klen != sl + 5 || memcmp(k, key, sl + 1))
			break;
		if (json_array_size(items) == (size_t)limit) {
			more = 1;
			break;
		}
		h = json_loadb(v, vl, 0, NULL);
		if (!h)
			continue;
		last = (uint32_t)json_integer_value(json_object_get(h, "version"));
		json_object_del(h, "document");
		json_array_append_new(items, h);
	}
	pim_iter_close(it);
	pim_history_fill(t, sku, items);
	pim_txn_abort(t);
	free(nfc);
	if (!json_array_size(items) && !has_after) {
		json_decref(items);
		return http_reply_problem(req, 404, "no such product", NULL);
	}
	out = json_pack("{s:o}", "items", items);
	if (more) {
		char num[16];

		snprintf(num, sizeof(num), "%u", last);
		pim_cursor_make('h', num, cur);
		json_object_set_new(out, "next_cursor", json_string(cur));
	} else {
		json_object_set_new(out, "next_cursor", json_null());
	}
	rc = http_reply_json(req, 200, out);
	json_decref(out);
	return rc;
}

/* ---- batch ---- */

/* A batch's lines go in chunks (BATCH_LINES or BATCH_BYTES), each written
 * in one transaction, in order. A chunk is parsed and prepared on a work
 * thread while the request waits; then the request is released to receive
 * the next chunk, which another work thread prepares while this one waits
 * for its turn and is written. A chunk's documents are made, written and freed
 * on one thread. */
struct batch_ctx {
	/* the request's thread's, or a chunk's while the request is suspended */
	struct buf pend;   /* received bytes not yet cut: whole lines, then a partial one */
	size_t pend_lines;
	long line;         /* lines cut into chunks so far */
	unsigned long cut; /* chunks cut so far */
	enum pim_mode mode;
	bool dry_run;
	struct pim_app *app;
	char user[64];     /* a copy: a chunk may outlive its request */
	/* written only by the chunk whose turn it is */
	struct buf out;    /* NDJSON answer */
	bool unsynced;     /* committed without a sync: sync before forgetting */
	/* under mu */
	pthread_mutex_t mu;
	pthread_cond_t turn_cond;
	unsigned long turn; /* the chunk that writes next */
	int refs;           /* the request's, and one per chunk in flight */
	bool failed;        /* a chunk could not be written: the request fails */
	struct hub_err fail;
};

struct batch_chunk {
	struct buf bytes;  /* its lines */
	long first_line;   /* lines before it */
	long last_line;    /* its last line */
	size_t max_lines;
	unsigned long seq;
};

static struct batch_ctx *batch_ctx_new(struct http_req *req)
{
	struct batch_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	snprintf(c->user, sizeof(c->user), "%s", http_user(req) ? http_user(req) : "");
	buf_init(&c->pend, 0);
	buf_init(&c->out, 0);
	c->app = http_app(req);
	c->refs = 1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->turn_cond, NULL);
	return c;
}

static void batch_ctx_unref(struct batch_ctx *c)
{
	bool last;

	pthread_mutex_lock(&c->mu);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (!last)
		return;
	/* a request cut short (refused line, client gone) still syncs what it
	 * committed */
	if (c->unsynced) {
		struct hub_err err = {0};

		pim_catalog_sync(c->app, &err);
	}
	pthread_cond_destroy(&c->turn_cond);
	pthread_mutex_destroy(&c->mu);
	buf_release(&c->pend);
	buf_release(&c->out);
	free(c);
}

static void batch_ctx_free(void *p)
{
	if (p)
		batch_ctx_unref(p);
}

/* The first failure stops the chunks after it. */
static void batch_set_failed(struct batch_ctx *c, const struct hub_err *err)
{
	pthread_mutex_lock(&c->mu);
	if (!c->failed) {
		c->failed = true;
		c->fail = *err;
	}
	pthread_mutex_unlock(&c->mu);
}

static bool batch_failed(struct batch_ctx *c, struct hub_err *err)
{
	bool failed;

	pthread_mutex_lock(&c->mu);
	failed = c->failed;
	if (failed)
		*err = c->fail;
	pthread_mutex_unlock(&c->mu);
	return failed;
}

static void out_line(struct buf *out, long line, const char *sku, int status,
		     const char *outcome, json_t *errors)
{
	buf_addf(out, "{\"line\":%ld,\"sku\":", line);
	if (sku) {
		buf_addc(out, '"');
		buf_add_json_escaped(out, sku, strlen(sku));
		buf_addc(out, '"');
	} else {
		buf_adds(out, "null");
	}
	buf_addf(out, ",\"status\":%d", status);
	if (outcome)
		buf_addf(out, ",\"outcome\":\"%s\"", outcome);
	if (errors) {
		char *e = json_dumps(errors, JSON_COMPACT);

		buf_adds(out, ",\"errors\":");
		buf_adds(out, e ? e : "[]");
		free(e);
	}
	buf_adds(out, "}\n");
}

/* Nothing of a transaction was written: says so, and why, for each of its
 * lines from first to last. */
static void out_failed(struct buf *out, long first, long last, const struct hub_err *err)
{
	int code = err->code ? err->code : HUB_EIO;
	json_t *why = json_array();

	pim_problem(why, "", hub_err_name(code), "%s", err->msg);
	for (long n = first; n <= last; n++)
		out_line(out, n, NULL, hub_err_status(code), NULL, why);
	json_decref(why);
}

static const char *outcome_name(int o)
{
	return o == PIM_CREATED ? "created" : o == PIM_UPDATED ? "updated" : "unchanged";
}

/* One line of a batch, parsed and checked before the write transaction
 * begins. */
struct batch_line {
	long line;
	json_t *doc;          /* NULL: the line is not JSON */
	struct pim_prep *prep; /* NULL: check it all in the transaction */
	char msg[160];        /* the parser's complaint */
};

/* Takes the whole lines of pend (when final, all of it) as the next chunk;
 * NULL when out of memory. */
static struct batch_chunk *chunk_cut(struct batch_ctx *c, bool final)
{
	struct batch_chunk *ch = calloc(1, sizeof(*ch));
	size_t end = c->pend.len;

	if (!ch)
		return NULL;
	if (!final)
		while (end > 0 && c->pend.data[end - 1] != '\n')
			end--;
	buf_init(&ch->bytes, 0);
	if (end && buf_add(&ch->bytes, c->pend.data, end) < 0) {
		free(ch);
		return NULL;
	}
	ch->first_line = c->line;
	ch->max_lines = c->pend_lines + 1;
	c->line += (long)c->pend_lines + (end && c->pend.data[end - 1] != '\n');
	ch->last_line = c->line;
	memmove(c->pend.data, c->pend.data + end, c->pend.len - end);
	c->pend.len -= end;
	c->pend.data[c->pend.len] = 0;
	c->pend_lines = 0;
	pthread_mutex_lock(&c->mu);
	ch->seq = c->cut++;
	c->refs++;
	pthread_mutex_unlock(&c->mu);
	return ch;
}

/* Parses the lines of ch into lines (capacity ch->max_lines) and checks
 * what needs only the schema; returns how many. This happens outside the
 * writer's lock, so that one chunk is prepared while another is written. */
static size_t chunk_parse(struct batch_ctx *c, const struct batch_chunk *ch,
			  struct batch_line *lines)
{
	const char *data = ch->bytes.data;
	size_t pos = 0, n = 0, end = ch->bytes.len;
	long line = ch->first_line;

	while (pos < end && n < ch->max_lines) {
		const char *nl = memchr(data + pos, '\n', end - pos);
		size_t ll = (nl ? (size_t)(nl - data) : end) - pos;
		const char *l = data + pos;
		struct hub_err e = {0};

		pos += ll + (nl ? 1 : 0);
		line++;
		while (ll && (l[ll - 1] == '\r' || l[ll - 1] == ' ' || l[ll - 1] == '\t'))
			ll--;
		if (ll == 0)
			continue;
		lines[n].line = line;
		lines[n].doc = json_parse(l, ll, &e);
		lines[n].prep = lines[n].doc ? pim_prepare(c->app, lines[n].doc) : NULL;
		snprintf(lines[n].msg, sizeof(lines[n].msg), "%.150s", lines[n].doc ? "" : e.msg);
		n++;
	}
	return n;
}

static void batch_lines_free(struct batch_line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		pim_prep_free(lines[i].prep);
		json_decref(lines[i].doc);
	}
	free(lines);
}

/* Writes the n lines of ch in one transaction, in its turn, and answers
 * for each; a negative HUB_E* code (err set) when the transaction cannot
 * begin: the request then fails. */
static int chunk_write(struct batch_ctx *c, const struct batch_chunk *ch,
		       struct batch_line *lines, size_t n, struct hub_err *err)
{
	struct pim_batch *b = NULL;
	size_t out_mark = c->out.len;
	int rc;

	rc = pim_batch_begin(c->app, c->user, c->dry_run, &b, err);
	if (rc < 0)
		return rc;
	/* synced once, when the request ends (batch_finish) */
	pim_batch_lazy(b);
	for (size_t i = 0; i < n; i++) {
		json_t *doc = lines[i].doc, *problems = NULL;
		struct hub_err e2 = {0};
		const char *sku;
		int outcome = 0;

		if (!doc) {
			json_t *errs = json_array();

			pim_problem(errs, "", "bad_json", "%s", lines[i].msg);
			out_line(&c->out, lines[i].line, NULL, 400, NULL, errs);
			json_decref(errs);
			continue;
		}
		sku = json_string_value(json_object_get(doc, "sku"));
		rc = lines[i].prep ? pim_batch_put_prepared(b, lines[i].prep, c->mode, &outcome, &problems, &e2)
				   : pim_batch_put(b, doc, c->mode, &outcome, &problems, &e2);
		if (rc == 0) {
			out_line(&c->out, lines[i].line, sku, outcome == PIM_CREATED ? 201 : 200,
				 outcome_name(outcome), NULL);
		} else if (rc == HUB_EIO || rc == HUB_ENOMEM || rc == HUB_ENOSPACE) {
			json_decref(problems);
			*err = e2;
			goto fail;
		} else {
			if (!problems) {
				problems = json_array();
				pim_problem(problems, rc == HUB_ECONFLICT || rc == HUB_ENOTFOUND ? "/sku" : "",
					    rc == HUB_ECONFLICT ? "exists" : rc == HUB_ENOTFOUND ? "not_found" : hub_err_name(rc),
					    "%s", e2.msg);
			}
			out_line(&c->out, lines[i].line, sku, hub_err_status(rc), NULL, problems);
		}
		json_decref(problems);
		/* done with: its memory serves the next lines while still cached */
		pim_prep_free(lines[i].prep);
		json_decref(doc);
		lines[i].prep = NULL;
		lines[i].doc = NULL;
	}
	rc = pim_batch_commit(b, err);
	b = NULL;
	if (rc < 0)
		goto fail;
	c->unsynced = !c->dry_run;
	return 0;
fail:
	/* the whole chunk failed; the lines after it still get their turn */
	pim_batch_abort(b);
	c->out.len = out_mark;
	out_failed(&c->out, ch->first_line + 1, ch->last_line, err);
	hub_log(LOG_ERROR, "batch lines=%ld-%ld error=\"%s\"", ch->first_line + 1, ch->last_line,
		err->msg);
	return 0;
}

/* Waits until the chunks before seq are written. */
static void turn_wait(struct batch_ctx *c, unsigned long seq)
{
	pthread_mutex_lock(&c->mu);
	while (c->turn != seq)
		pthread_cond_wait(&c->turn_cond, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

/* Parses and prepares ch, releases the request when given one (it then
 * receives the next chunk meanwhile), writes ch in its turn and lets the
 * next chunk have its turn. Waiting for the turn is safe on a work thread:
 * the chunk before was running before this one was cut. */
static void chunk_run(struct batch_ctx *c, struct batch_chunk *ch, struct http_req *release)
{
	struct batch_line *lines = malloc(ch->max_lines * sizeof(*lines));
	struct hub_err err = {0};
	size_t n = lines ? chunk_parse(c, ch, lines) : 0;
	int rc = 0;

	if (release)
		http_offload_release(release);
	turn_wait(c, ch->seq);
	if (!lines)
		rc = hub_err_set(&err, HUB_ENOMEM, "out of memory");
	else if (n && !batch_failed(c, &(struct hub_err){0}))
		rc = chunk_write(c, ch, lines, n, &err);
	if (lines)
		batch_lines_free(lines, n);
	if (rc < 0)
		batch_set_failed(c, &err);
	pthread_mutex_lock(&c->mu);
	c->turn++;
	pthread_cond_broadcast(&c->turn_cond);
	pthread_mutex_unlock(&c->mu);
	buf_release(&ch->bytes);
	free(ch);
	batch_ctx_unref(c);
}

/* A line that has not ended within BATCH_MAX_LINE bytes stops the upload. */
static int batch_check_line(struct http_req *req, struct batch_ctx *c)
{
	struct hub_err err = {0};

	if (c->pend.len <= BATCH_MAX_LINE)
		return 0;
	hub_err_set(&err, HUB_ETOOBIG, "line %ld is longer than %u bytes", c->line + 1,
		    BATCH_MAX_LINE);
	return http_fail(req, &err);
}

/* Cuts the next chunk and runs it (release: see chunk_run). */
static int batch_more(struct http_req *req, struct batch_ctx *c, struct http_req *release)
{
	struct batch_chunk *ch = chunk_cut(c, false);
	int rc;

	if (!ch)
		return http_fail(req, &(struct hub_err){HUB_ENOMEM, "out of memory"});
	rc = batch_check_line(req, c);
	chunk_run(c, ch, release);
	return rc;
}

/* On a work thread: see batch_body. */
static void batch_more_offloaded(struct http_req *req, void *arg)
{
	batch_more(req, arg, req);
}

/* Writes the last lines after every chunk before them, then syncs. */
static void batch_finish(struct http_req *req, void *arg)
{
	struct batch_ctx *c = arg;
	struct batch_chunk *ch = chunk_cut(c, true);
	struct hub_err err = {0};

	(void)req;
	if (ch) {
		chunk_run(c, ch, NULL);
	} else {
		batch_set_failed(c, &(struct hub_err){HUB_ENOMEM, "out of memory"});
		turn_wait(c, c->cut);
	}
	if (c->unsynced && pim_catalog_sync(c->app, &err) < 0)
		batch_set_failed(c, &err);
	c->unsynced = false;
}

static int batch_body(struct http_req *req, const char *data, size_t len)
{
	struct batch_ctx *c = http_ctx(req);
	struct hub_err err = {0};

	if (!c) {
		c = batch_ctx_new(req);
		if (!c)
			return http_fail(req, &(struct hub_err){HUB_ENOMEM, "out of memory"});
		http_set_ctx(req, c, batch_ctx_free);
		if (parse_mode(http_query(req, "mode"), &c->mode) < 0) {
			hub_err_set(&err, HUB_EINVAL, "mode is upsert, create or update");
			return http_fail(req, &err);
		}
		if (http_query_flag(req, "dry_run", &c->dry_run, &err) < 0)
			return http_fail(req, &err);
	} else if (batch_failed(c, &err)) {
		return http_fail(req, &err);
	}
	if (buf_add(&c->pend, data, len) < 0)
		return http_fail(req, &(struct hub_err){HUB_ENOMEM, "out of memory"});
	for (const char *p = data, *end = data + len; (p = memchr(p, '\n', end - p)); p++)
		c->pend_lines++;
	/* on a work thread: two requests then use two cores whichever epoll
	 * thread took them, and one request's chunks overlap (chunk_run) */
	if (c->pend_lines && (c->pend_lines >= BATCH_LINES || c->pend.len >= BATCH_BYTES)) {
		if (http_offload(req, batch_more_offloaded, c))
			return 0;
		return batch_more(req, c, NULL);
	}
	return batch_check_line(req, c);
}

static int handle_batch(struct http_req *req)
{
	struct batch_ctx *c = http_ctx(req);
	struct hub_err err = {0};
	char *s;
	size_t len;

	if (!c)
		return http_reply_problem(req, 400, "an NDJSON body is required", NULL);
	if (!http_resumed(req)) {
		if (http_offload(req, batch_finish, c))
			return 0; /* runs again with every line written */
		batch_finish(req, c);
	}
	if (batch_failed(c, &err))
		return http_reply_err(req, &err);
	s = buf_detach(&c->out, &len);
	return http_reply_owned(req, 200, "application/x-ndjson", s ? s : strdup(""), s ? len : 0);
}

/* ---- change feed ---- */

static int handle_changes(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	struct hub_err err = {0};
	struct pim_txn *t = NULL;
	struct pim_iter *it = NULL;
	long since, limit, wait;
	unsigned char key[8];
	const void *k, *v;
	size_t kl, vl;
	json_t *items, *out;
	uint64_t next;
	int rc;

	if (http_query_long(req, "since", 0, 0, LONG_MAX, &since) < 0 ||
	    http_query_long(req, "limit", 100, 1, 1000, &limit) < 0 ||
	    http_query_long(req, "wait", 0, 0, 300, &wait) < 0)
		return 0;
	next = (uint64_t)since;
	if (wait > 0 && !http_resumed(req) && pim_catalog_last_seq(app) <= (uint64_t)since) {
		struct pim_catalog *c = app->catalog;

		if (http_park(req, c->changes_q, (int)wait * 1000)) {
			/* a commit between the check and the park must not be missed */
			if (pim_catalog_last_seq(app) > (uint64_t)since)
				http_waitq_wake(c->changes_q);
			return 0;
		}
	}
	rc = pim_txn_begin(app->store, false, &t, &err);
	if (rc == 0)
		rc = pim_iter_open(t, PDB_CHANGES, &it, &err);
	if (rc < 0) {
		pim_txn_abort(t);
		return http_reply_err(req, &err);
	}
	items = json_array();
	pim_be64((uint64_t)since + 1, key);
	for (int r = pim_iter_seek(it, key, 8, &k, &kl, &v, &vl);
	     r == 0 && json_array_size(items) < (size_t)limit;
	     r = pim_iter_next(it, &k, &kl, &v, &vl)) {
		json_t *e = json_loadb(v, vl, 0, NULL);

		if (kl == 8)
			next = pim_from_be64(k);
		if (e)
			json_array_append_new(items, e);
	}
	pim_iter_close(it);
	pim_txn_abort(t);
	out = json_pack("{s:o,s:I}", "items", items, "next_since", (json_int_t)next);
	http_set_header(req, "Cache-Control", "no-store");
	rc = http_reply_json(req, 200, out);
	json_decref(out);
	return rc;
}

/* ---- channel read API ---- */

static int handle_projection(struct http_req *req)
{
	struct hub_err err = {0};
	struct http_shared *reply;
	char etag[40];

	if (pim_project(http_app(req), http_param(req, "channel"), http_query(req, "locale"),
			http_param(req, "sku"), &reply, etag, &err) < 0)
		return http_reply_err(req, &err);
	/* the 200 carries its own validators; a 304 needs the same ones */
	if (http_header(req, "If-None-Match")) {
		http_set_header(req, "Cache-Control", PIM_PROJECTION_CACHE_CONTROL);
		if (http_not_modified(req, etag)) {
			http_shared_unref(reply);
			return 0;
		}
	}
	return http_reply_shared(req, reply);
}

static int handle_channel_list(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	const char *channel = http_param(req, "channel"), *locale = http_query(req, "locale");
	struct pim_filter f = {0};
	struct hub_err err = {0};
	struct pim_schema *s;
	struct pim_txn *t = NULL;
	char after[PIM_MAX_KEY + 1], complete[256];
	json_t *skus, *items, *out, *v, *chdoc;
	long limit;
	bool has_after;
	int more = 0, rc;
	size_t i;

	if (read_page(req, 'c', 200, &limit, after, sizeof(after), &has_after) < 0)
		return 0;
	s = pim_catalog_schema(app);
	chdoc = pim_schema_doc(s, PK_CHANNELS, channel);
	if (!chdoc) {
		pim_schema_unref(s);
		return http_reply_problem(req, 404, "no such channel", NULL);
	}
	if (!locale || !*locale)
		locale = json_string_value(json_array_get(json_object_get(chdoc, "locales"), 0));
	if (!locale || !json_array_has_string(json_object_get(chdoc, "locales"), locale)) {
		/* as the single projection answers */
		char msg[200];

		snprintf(msg, sizeof(msg), "channel '%.80s' has no locale '%.40s'", channel,
			 locale ? locale : "");
		pim_schema_unref(s);
		return http_reply_problem(req, 404, msg, NULL);
	}
	snprintf(complete, sizeof(complete), "%s/%s", channel, locale);
	pim_schema_unref(s);
	f.complete = complete;
	f.enabled = 1;
	f.category = http_query(req, "category");
	f.q = http_filter(req, "q");
	f.updated_since = -1;
	f.after = has_after ? after : NULL;
	f.limit = (size_t)limit;
	rc = pim_txn_begin(app->store, false, &t, &err);
	if (rc < 0)
		return http_reply_err(req, &err);
	skus = json_array();
	rc = pim_search(t, &f, skus, &more, &err);
	pim_txn_abort(t);
	if (rc < 0) {
		json_decref(skus);
		return http_reply_err(req, &err);
	}
	items = json_array();
	json_array_foreach(skus, i, v) {
		struct http_shared *reply;
		const char *data;
		char etag[40];
		size_t len;
		struct hub_err e2 = {0};
		json_t *p;

		if (pim_project(app, channel, locale, json_string_value(v), &reply, etag, &e2) == 0) {
			data = http_shared_body(reply, &len);
			p = json_loadb(data, len, 0, NULL);
			if (p)
				json_array_append_new(items, p);
			http_shared_unref(reply);
		}
	}
	out = json_pack("{s:o}", "items", items);
	set_next_cursor(out, 'c', skus, more);
	http_set_header(req, "Cache-Control", "public, no-cache");
	rc = http_reply_json(req, 200, out);
	json_decref(out);
	json_decref(skus);
	return rc;
}

void pim_api_metrics(struct buf *out, void *app)
{
	struct pim_app *a = app;
	size_t entries, bytes;
	uint64_t hits, misses;
	struct pim_txn *t;
	struct hub_err err = {0};

	pim_cache_stats(a->catalog->cache, &entries, &bytes, &hits, &misses);
	buf_addf(out,
		 "# HELP pimd_projection_cache_entries Projections held in the cache.\n"
		 "# TYPE pimd_projection_cache_entries gauge\npimd_projection_cache_entries %zu\n"
		 "# HELP pimd_projection_cache_bytes Bytes held by the projection cache.\n"
		 "# TYPE pimd_projection_cache_bytes gauge\npimd_projection_cache_bytes %zu\n"
		 "# HELP pimd_projection_cache_hits_total Projection GETs answered from the cache.\n"
		 "# TYPE pimd_projection_cache_hits_total counter\npimd_projection_cache_hits_total %llu\n"
		 "# HELP pimd_projection_cache_misses_total Projection GETs that built the projection.\n"
		 "# TYPE pimd_projection_cache_misses_total counter\npimd_projection_cache_misses_total %llu\n"
		 "# HELP pimd_change_seq The newest change feed sequence number.\n"
		 "# TYPE pimd_change_seq gauge\npimd_change_seq %llu\n",
		 entries, bytes, (unsigned long long)hits, (unsigned long long)misses,
		 (unsigned long long)pim_catalog_last_seq(a));
	if (pim_txn_begin(a->store, false, &t, &err) < 0)
		return;
	buf_adds(out, "# HELP pimd_lmdb_pages Pages (4 KiB) each LMDB database holds.\n"
		      "# TYPE pimd_lmdb_pages gauge\n");
	for (int db = 0; db < PDB_COUNT; db++)
		buf_addf(out, "pimd_lmdb_pages{db=\"%s\"} %zu\n", pim_db_name(db),
			 pim_db_pages(t, db));
	pim_txn_abort(t);
}

/* DESIGN.md gives merchandisers products, categories and imports: the rest
 * of the schema (what every product's values must look like) is the
 * admin's. */
#define SCHEMA_ROUTES(kind, writer)                                                            \
	{"GET", "/v1/" kind, handle_schema_list, HTTP_ANY_ROLE, NULL, 0},                      \
	{"GET", "/v1/" kind "/{code}", handle_schema_get, HTTP_ANY_ROLE, NULL, 0},             \
	{"PUT", "/v1/" kind "/{code}", handle_schema_put, writer, NULL, 0},                    \
	{"DELETE", "/v1/" kind "/{code}", handle_schema_delete, writer, NULL, 0}

const struct http_route pim_api_routes[] = {
	{"GET", "/v1/channels/{channel}/products/{sku}", handle_projection, HTTP_PUBLIC_READ, NULL, 0},
	{"GET", "/v1/channels/{channel}/products", handle_channel_list, HTTP_PUBLIC_READ, NULL, 0},
	{"GET", "/v1/products", handle_product_list, HTTP_ANY_ROLE, NULL, 0},
	{"POST", "/v1/products/batch", handle_batch, ROLE_WRITE, batch_body, (size_t)1 << 40},
	{"GET", "/v1/products/{sku}", handle_product_get, HTTP_ANY_ROLE, NULL, 0},
	{"PUT", "/v1/products/{sku}", handle_product_put, ROLE_WRITE, NULL, 0},
	{"PATCH", "/v1/products/{sku}", handle_product_patch, ROLE_WRITE, NULL, 0},
	{"DELETE", "/v1/products/{sku}", handle_product_delete, ROLE_WRITE, NULL, 0},
	{"GET", "/v1/products/{sku}/history", handle_history, HTTP_ANY_ROLE, NULL, 0},
	{"POST", "/v1/products/{sku}/revert", handle_product_revert, ROLE_WRITE, NULL, 0},
	{"GET", "/v1/changes", handle_changes, HTTP_ANY_ROLE, NULL, 0},
	{"GET", "/v1/models/{code}", handle_model_get, HTTP_ANY_ROLE, NULL, 0},
	{"GET", "/v1/schema-refresh", handle_schema_refresh, HTTP_ANY_ROLE, NULL, 0},
	SCHEMA_ROUTES("locales", ROLE_ADMIN),
	SCHEMA_ROUTES("currencies", ROLE_ADMIN),
	SCHEMA_ROUTES("channels", ROLE_ADMIN),
	SCHEMA_ROUTES("attributes", ROLE_ADMIN),
	SCHEMA_ROUTES("families", ROLE_ADMIN),
	SCHEMA_ROUTES("categories", ROLE_WRITE),
	SCHEMA_ROUTES("association-types", ROLE_ADMIN),
};
const size_t pim_api_nroutes = sizeof(pim_api_routes) / sizeof(pim_api_routes[0]);
