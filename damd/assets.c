#include "fmacros.h"
#include "assets.h"
#include "app.h"
#include "archive.h"
#include "cas.h"
#include "changes.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "multipart.h"
#include "probe.h"
#include "reply.h"
#include "store.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ID_PREFIX "sha256:"
#define MAX_FILENAME 255
#define MAX_FILENAMES 64 /* names kept per asset; older ones beyond are dropped */
#define MAX_TAG 128
#define MAX_TAGS 200
#define MAX_TEXT 4000
#define LIST_DEFAULT 50
#define LIST_MAX 1000
#define MAX_RECORD_WORDS 512 /* words a record is found by; more are not indexed */
#define WORDS_KEY "words_indexed" /* meta: set once every record's words are */

/* ---- ids and records ---- */

int dam_asset_hex(const char *id, char hex[65], struct hub_err *err)
{
	const char *h = id;
	size_t i;

	if (h && !strncmp(h, ID_PREFIX, strlen(ID_PREFIX)))
		h += strlen(ID_PREFIX);
	for (i = 0; h && i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			break;
	if (!h || i != 64 || h[64])
		return hub_err_set(err, HUB_ENOTFOUND, "'%.80s' is not an asset id (sha256:<hex>)",
				   id ? id : "");
	memcpy(hex, h, 65);
	return 0;
}

static void make_id(const char *hex, char id[72])
{
	snprintf(id, 72, ID_PREFIX "%s", hex);
}

static json_t *rec_parse(const char *val, size_t len, struct hub_err *err)
{
	json_t *j = json_loadb(val, len, 0, NULL);

	if (!j || !json_is_object(j)) {
		json_decref(j);
		hub_err_set(err, HUB_EIO, "an asset record is not JSON");
		return NULL;
	}
	return j;
}

/* Loads a record inside t; *rec is NULL (and 0 returned) when absent. */
static int rec_load_txn(struct dam_txn *t, const char *id, json_t **rec, struct hub_err *err)
{
	char *val = NULL;
	size_t len;
	int rc = dam_txn_get(t, "assets", id, strlen(id), &val, &len, err);

	*rec = NULL;
	if (rc == HUB_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	*rec = rec_parse(val, len, err);
	free(val);
	return *rec ? 0 : HUB_EIO;
}

static int rec_save_txn(struct dam_txn *t, const json_t *rec, struct hub_err *err)
{
	const char *id = json_get_str(rec, "id");
	size_t len;
	char *s = json_dump_compact(rec, &len);
	int rc;

	if (!s)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	rc = dam_txn_put(t, "assets", id, strlen(id), s, len, err);
	free(s);
	return rc;
}

static bool rec_deleted(const json_t *rec)
{
	return json_is_true(json_object_get(rec, "deleted"));
}

/* The record of id, deleted or not, into *meta (the caller's). */
static int asset_load(struct dam_app *app, const char *id, json_t **meta, struct hub_err *err)
{
	char hex[65], key[72], *val = NULL;
	size_t len;
	int rc = dam_asset_hex(id, hex, err);
	json_t *rec;

	if (rc < 0)
		return rc;
	make_id(hex, key);
	rc = dam_kv_get(app->store, "assets", key, strlen(key), &val, &len, err);
	if (rc == HUB_ENOTFOUND)
		return hub_err_set(err, HUB_ENOTFOUND, "no asset %s", key);
	if (rc < 0)
		return rc;
	rec = rec_parse(val, len, err);
	free(val);
	if (!rec)
		return HUB_EIO;
	*meta = rec;
	return 0;
}

int dam_asset_get(struct dam_app *app, const char *id, json_t **meta, struct hub_err *err)
{
	json_t *rec = NULL;
	int rc = asset_load(app, id, &rec, err);

	if (rc < 0)
		return rc;
	if (rec_deleted(rec)) {
		rc = hub_err_set(err, HUB_EGONE, "asset %s was deleted", json_get_str(rec, "id"));
		json_decref(rec);
		return rc;
	}
	*meta = rec;
	return 0;
}

/* ---- secondary indexes: "<kind>\0<value>\0<asset id>" -> "" ---- */

static int index_key(char *out, size_t outlen, const char *kind, const char *value,
		     const char *id)
{
	size_t k = strlen(kind), v = strlen(value), i = strlen(id);

	if (k + v + i + 2 > outlen)
		return -1;
	memcpy(out, kind, k + 1);
	memcpy(out + k + 1, value, v + 1);
	memcpy(out + k + v + 2, id, i);
	return (int)(k + v + i + 2);
}

static int index_one(struct dam_txn *t, bool put, const char *kind, const char *value,
		     const char *id, struct hub_err *err)
{
	char key[512];
	int n = index_key(key, sizeof(key), kind, value, id);

	if (n < 0)
		return 0; /* too long to index; still found by scanning */
	return put ? dam_txn_put(t, "index", key, n, "", 0, err)
		   : dam_txn_del(t, "index", key, n, err);
}

/* ---- words: what q finds a record by ---- */

static void word_add(void *cls, const char *w, size_t len)
{
	json_t *set = cls;

	if (json_object_size(set) < MAX_RECORD_WORDS)
		json_object_setn_new(set, w, len, json_true());
}

static void words_of(json_t *set, const json_t *v)
{
	const char *k;
	size_t i;
	json_t *x;

	if (json_is_string(v)) {
		char *f = text_fold(json_string_value(v), json_string_length(v));

		if (f)
			text_words(f, word_add, set);
		free(f);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			words_of(set, x);
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
			words_of(set, x);
	}
}

/* The folded words (keys of a new object) of the texts a designer searches:
 * file names, title, alt texts, tags and skus, split as pimd splits product
 * text, so that "TS-001-front.jpg" is found by "front" or "ts 001". */
static json_t *record_words(const json_t *rec)
{
	static const char *const fields[] = {"filenames", "title", "alt", "tags", "skus"};
	json_t *set = json_object();

	for (size_t i = 0; set && i < sizeof(fields) / sizeof(fields[0]); i++)
		words_of(set, json_object_get(rec, fields[i]));
	return set;
}

static int index_words(struct dam_txn *t, const json_t *rec, bool put, struct hub_err *err)
{
	json_t *words = record_words(rec), *x;
	const char *w;
	int rc = 0;

	if (!words)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	json_object_foreach(words, w, x)
		if (rc == 0)
			rc = index_one(t, put, "word", w, json_get_str(rec, "id"), err);
	json_decref(words);
	return rc;
}

/* Adds (put) or removes every index entry of a live record. */
static int index_apply(struct dam_txn *t, const json_t *rec, bool put, struct hub_err *err)
{
	const char *id = json_get_str(rec, "id"), *mime = json_get_str(rec, "mime");
	const char *kinds[] = {"tag", "sku"}, *fields[] = {"tags", "skus"};
	size_t i;
	json_t *v;
	int rc = 0;

	if (!rec || rec_deleted(rec))
		return 0;
	if (mime)
		rc = index_one(t, put, "mime", mime, id, err);
	for (int k = 0; k < 2 && rc == 0; k++)
		json_array_foreach(json_object_get(rec, fields[k]), i, v)
			if (rc == 0 && json_is_string(v))
				rc = index_one(t, put, kinds[k], json_string_value(v), id, err);
	return rc ? rc : index_words(t, rec, put, err);
}

/* Records written before the word index existed get their words: a batch
 * of records a transaction, resuming after the last one indexed. */
#define REINDEX_BATCH 500

struct reindex {
	json_t *recs;
	char last[80];
	size_t last_len;
};

static int reindex_collect(void *cls, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct reindex *r = cls;
	json_t *rec;

	if (r->last_len && klen == r->last_len && !memcmp(key, r->last, klen))
		return 0; /* indexed by the previous batch */
	if (json_array_size(r->recs) == REINDEX_BATCH || klen >= sizeof(r->last))
		return 1;
	rec = json_loadb(val, vlen, 0, NULL);
	if (rec)
		json_array_append_new(r->recs, rec);
	memcpy(r->last, key, klen);
	r->last_len = klen;
	return 0;
}

int dam_asset_index_words(struct dam_app *app, struct hub_err *err)
{
	struct reindex r = {0};
	char *flag = NULL;
	long records = 0;
	bool done = false;
	int rc;

	rc = dam_kv_get(app->store, "meta", WORDS_KEY, strlen(WORDS_KEY), &flag, NULL, err);
	free(flag);
	if (rc != HUB_ENOTFOUND)
		return rc;
	while (!done) {
		struct dam_txn *t = NULL;
		json_t *rec;
		size_t i;

		r.recs = json_array();
		rc = dam_kv_scan(app->store, "assets", ID_PREFIX, strlen(ID_PREFIX),
				 r.last_len ? r.last : NULL, r.last_len, reindex_collect, &r, err);
		done = json_array_size(r.recs) < REINDEX_BATCH;
		if (rc == 0)
			rc = dam_txn_begin(app->store, &t, err);
		json_array_foreach(r.recs, i, rec)
			if (rc == 0 && !rec_deleted(rec))
				rc = index_words(t, rec, true, err);
		if (rc == 0 && done)
			rc = dam_txn_put(t, "meta", WORDS_KEY, strlen(WORDS_KEY), "1", 1, err);
		records += (long)json_array_size(r.recs);
		json_decref(r.recs);
		if (rc < 0) {
			if (t)
				dam_txn_abort(t);
			return rc;
		}
		rc = dam_txn_commit(t, err);
		if (rc < 0)
			return rc;
	}
	if (records)
		hub_log(LOG_INFO, "asset words indexed records=%ld", records);
	return 0;
}

/* ---- ingest ---- */

/* Keeps the last path component, drops control characters, caps length. */
static void clean_filename(const char *in, char *out, size_t outlen)
{
	const char *s = in, *p;
	size_t n = 0;

	for (p = in; *p; p++)
		if (*p == '/' || *p == '\\')
			s = p + 1;
	for (p = s; *p && n + 1 < outlen && n < MAX_FILENAME; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			out[n++] = *p;
	out[n] = 0;
	if (!strcmp(out, ".") || !strcmp(out, ".."))
		out[0] = 0;
}

static json_t *answer_of(const json_t *rec)
{
	static const char *const keys[] = {"id",     "size",   "mime",        "filenames",
					   "width",  "height", "pages",       "orientation",
					   "has_icc"};
	json_t *a = json_object();

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(rec, keys[i]);

		if (v)
			json_object_set(a, keys[i], v);
	}
	return a;
}

static void add_filename(json_t *rec, const char *filename)
{
	json_t *names = json_object_get(rec, "filenames"), *v;
	size_t i;

	if (!json_is_array(names)) {
		names = json_array();
		json_object_set_new(rec, "filenames", names);
	}
	if (!filename || !*filename)
		return;
	json_array_foreach(names, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), filename))
			return;
	json_array_append_new(names, json_string(filename));
	while (json_array_size(names) > MAX_FILENAMES)
		json_array_remove(names, 0);
}

static json_t *new_record(const char *id, uint64_t size, json_t *probed, const char *now)
{
	json_t *rec = json_object();

	json_object_set_new(rec, "id", json_string(id));
	json_object_set_new(rec, "size", json_integer((json_int_t)size));
	json_object_update(rec, probed);
	if (!json_get_str(rec, "mime"))
		json_object_set_new(rec, "mime", json_string("application/octet-stream"));
	json_object_set_new(rec, "filenames", json_array());
	json_object_set_new(rec, "title", json_null());
	json_object_set_new(rec, "alt", json_object());
	json_object_set_new(rec, "tags", json_array());
	json_object_set_new(rec, "rights", json_pack("{s:n,s:n,s:n}", "holder", "licence",
						     "expires"));
	json_object_set_new(rec, "focal_point", json_null());
	json_object_set_new(rec, "skus", json_array());
	json_object_set_new(rec, "created", json_string(now));
	json_object_set_new(rec, "updated", json_string(now));
	json_object_set_new(rec, "deleted", json_false());
	return rec;
}

/* Probes the blobs of items that have no live record yet, outside any lock
 * (probing may take a sandboxed child a while). */
static int probe_new(struct dam_app *app, struct dam_ingest *items, size_t n, json_t **probed,
		     struct hub_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char id[72], path[4400], *val = NULL;
		bool live = false;
		size_t len;
		int rc;

		make_id(items[i].hex, id);
		rc = dam_kv_get(app->store, "assets", id, strlen(id), &val, &len, err);
		if (rc == 0) {
			json_t *rec = rec_parse(val, len, err);

			live = rec && !rec_deleted(rec);
			json_decref(rec);
			free(val);
		} else if (rc != HUB_ENOTFOUND) {
			return rc;
		}
		if (live)
			continue;
		cas_path(app->cas, items[i].hex, path, sizeof(path), NULL);
		probed[i] = json_object();
		rc = dam_probe(app, path, probed[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Creates, revives or adds the filename to the record of one item inside
 * t; appends the event. */
static int record_one(struct dam_app *app, struct dam_txn *t, struct dam_ingest *it,
		      json_t **probed, const char *now, struct hub_err *err)
{
	char id[72], path[4400], fname[MAX_FILENAME + 1] = "";
	json_t *rec = NULL;
	struct stat st;
	int rc;

	make_id(it->hex, id);
	if (it->filename)
		clean_filename(it->filename, fname, sizeof(fname));
	cas_path(app->cas, it->hex, path, sizeof(path), NULL);
	if (stat(path, &st) < 0)
		/* the collector removed these bytes between their commit and now */
		return hub_err_set(err, HUB_EBUSY, "the store was collecting %s; retry", id);
	rc = rec_load_txn(t, id, &rec, err);
	if (rc < 0)
		return rc;
	it->created = 0;
	if (rec && !rec_deleted(rec)) {
		size_t before = json_array_size(json_object_get(rec, "filenames"));

		add_filename(rec, fname);
		if (json_array_size(json_object_get(rec, "filenames")) != before) {
			json_object_set_new(rec, "updated", json_string(now));
			rc = rec_save_txn(t, rec, err);
			if (rc == 0)
				rc = dam_changes_append(t, "asset.meta_changed", id, err);
		}
	} else {
		if (!*probed) {
			/* deleted after our look: probe under the lock, rare */
			*probed = json_object();
			rc = dam_probe(app, path, *probed, err);
			if (rc < 0)
				goto out;
		}
		if (rec) {
			/* a deleted asset uploaded again: it lives again, with its metadata */
			json_object_update(rec, *probed);
			json_object_set_new(rec, "deleted", json_false());
			json_object_del(rec, "deleted_at");
			json_object_del(rec, "deleted_epoch");
			json_object_del(rec, "missing");
			json_object_set_new(rec, "updated", json_string(now));
		} else {
			rec = new_record(id, it->size, *probed, now);
		}
		add_filename(rec, fname);
		rc = rec_save_txn(t, rec, err);
		if (rc == 0)
			rc = index_apply(t, rec, true, err);
		if (rc == 0)
			rc = dam_changes_append(t, "asset.uploaded", id, err);
		it->created = 1;
		/* a second item with the same bytes in this batch finds the record */
		json_decref(*probed);
		*probed = NULL;
	}
	if (rc == 0)
		it->answer = answer_of(rec);
out:
	json_decref(rec);
	return rc;
}

int dam_asset_record_many(struct dam_app *app, struct dam_ingest *items, size_t n,
			  struct hub_err *err)
{
	json_t **probed = calloc(n ? n : 1, sizeof(*probed));
	struct dam_txn *t = NULL;
	char now[32];
	size_t i;
	int rc;

	if (!probed)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		items[i].answer = NULL;
		items[i].created = 0;
	}
	rc = probe_new(app, items, n, probed, err);
	if (rc < 0)
		goto out;
	/* under the lock the collector cannot take a blob we are recording */
	pthread_mutex_lock(&app->blob_lock);
	rc = dam_txn_begin(app->store, &t, err);
	dam_now_iso(now, sizeof(now));
	for (i = 0; rc == 0 && i < n; i++)
		rc = record_one(app, t, &items[i], &probed[i], now, err);
	if (rc == 0) {
		rc = dam_txn_commit(t, err);
		t = NULL;
	}
	dam_txn_abort(t);
	pthread_mutex_unlock(&app->blob_lock);
	if (rc == 0)
		dam_changes_notify(app);
out:
	for (i = 0; i < n; i++) {
		json_decref(probed[i]);
		if (rc < 0) {
			json_decref(items[i].answer);
			items[i].answer = NULL;
		}
	}
	free(probed);
	return rc;
}

int dam_asset_ingest(struct dam_app *app, struct cas_writer *w, const char *filename,
		     json_t **answer, int *created, struct hub_err *err)
{
	struct dam_ingest it = {0};
	int existed, rc;

	*created = 0;
	it.size = cas_writer_size(w);
	it.filename = filename;
	rc = cas_writer_commit(w, it.hex, &existed, err);
	if (rc == 0)
		rc = dam_asset_record_many(app, &it, 1, err);
	if (rc == 0) {
		*answer = it.answer;
		*created = it.created;
	}
	return rc;
}

/* ---- uploads: raw or multipart/form-data, streamed ---- */

struct upload {
	struct dam_app *app;
	struct multipart *mp;   /* NULL for a raw body */
	struct cas_writer *w;   /* the file being written */
	char filename[MAX_FILENAME + 1];
	uint64_t total;
	json_t *answers;
	int created_any;
};

static void upload_free(void *p)
{
	struct upload *u = p;

	if (!u)
		return;
	multipart_free(u->mp);
	cas_writer_abort(u->w);
	json_decref(u->answers);
	free(u);
}

static int upload_count(struct upload *u, size_t len, struct hub_err *err)
{
	u->total += len;
	if (u->total > u->app->max_upload)
		return hub_err_set(err, HUB_ETOOBIG, "the upload is over the %" PRIu64 "-byte limit",
				   u->app->max_upload);
	return 0;
}

static int part_begin(void *cls, const char *field, const char *filename, struct hub_err *err)
{
	struct upload *u = cls;

	(void)field;
	snprintf(u->filename, sizeof(u->filename), "%s", filename);
	return cas_writer_new(u->app->cas, &u->w, err);
}

static int part_data(void *cls, const char *data, size_t len, struct hub_err *err)
{
	struct upload *u = cls;
	int rc = upload_count(u, len, err);

	return rc < 0 ? rc : cas_writer_write(u->w, data, len, err);
}

static int part_end(void *cls, struct hub_err *err)
{
	struct upload *u = cls;
	json_t *a = NULL;
	int created, rc;

	rc = dam_asset_ingest(u->app, u->w, u->filename, &a, &created, err);
	u->w = NULL;
	if (rc < 0)
		return rc;
	u->created_any |= created;
	json_array_append_new(u->answers, a);
	return 0;
}

static const struct multipart_cb part_cb = {part_begin, part_data, part_end};

static int upload_body(struct http_req *req, const char *data, size_t len)
{
	struct upload *u = http_ctx(req);
	struct hub_err err = {0};
	int rc;

	if (!u) {
		const char *ct = http_header(req, "Content-Type");
		const char *cl = http_header(req, "Content-Length");

		u = calloc(1, sizeof(*u));
		if (!u) {
			hub_err_set(&err, HUB_ENOMEM, "out of memory");
			return dam_fail(req, &err);
		}
		u->app = http_app(req);
		u->answers = json_array();
		http_set_ctx(req, u, upload_free);
		if (cl && strtoull(cl, NULL, 10) > u->app->max_upload) {
			hub_err_set(&err, HUB_ETOOBIG, "the upload is over the %" PRIu64 "-byte limit",
				    u->app->max_upload);
			return dam_fail(req, &err);
		}
		if (ct && !strncasecmp(ct, "multipart/form-data", 19))
			rc = multipart_new(req, &part_cb, u, &u->mp, &err);
		else
			rc = cas_writer_new(u->app->cas, &u->w, &err);
		if (rc < 0)
			return dam_fail(req, &err);
	}
	if (u->mp) {
		rc = multipart_feed(u->mp, data, len, &err);
	} else {
		rc = upload_count(u, len, &err);
		if (rc == 0)
			rc = cas_writer_write(u->w, data, len, &err);
	}
	return rc < 0 ? dam_fail(req, &err) : 0;
}

/* POST /v1/assets */
static int handle_upload(struct http_req *req)
{
	struct upload *u = http_ctx(req);
	struct hub_err err = {0};
	json_t *a = NULL;
	int created = 0, rc;

	if (!u)
		return http_reply_problem(req, 400, "the body is empty: send the file's bytes", NULL);
	if (u->mp) {
		rc = multipart_finish(u->mp, &err);
		if (rc < 0)
			return dam_reply_err(req, &err);
		if (json_array_size(u->answers) == 0)
			return http_reply_problem(req, 400, "the form holds no file", NULL);
		if (json_array_size(u->answers) == 1) {
			a = json_incref(json_array_get(u->answers, 0));
		} else {
			a = json_pack("{s:O}", "items", u->answers);
		}
		created = u->created_any;
	} else {
		rc = dam_asset_ingest(u->app, u->w, http_header(req, "X-Filename"), &a, &created,
				      &err);
		u->w = NULL;
		if (rc < 0)
			return dam_reply_err(req, &err);
	}
	if (json_get_str(a, "id")) {
		char loc[96];

		snprintf(loc, sizeof(loc), "/v1/assets/%s", json_get_str(a, "id"));
		http_set_header(req, "Location", loc);
	}
	dam_reply_json(req, created ? 201 : 200, a);
	json_decref(a);
	return 0;
}

/* ---- originals: GET|HEAD with Range ---- */

/* Parses a single "bytes=" range against size. Returns 1 with [*from,*to]
 * for a satisfiable range, 0 to send the whole file (no, several or a
 * malformed range: RFC 9110 lets a server ignore those), -1 when
 * unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	const char *p;
	char *end;
	unsigned long long a, b;

	if (!h || strncmp(h, "bytes=", 6) || strchr(h, ','))
		return 0;
	p = h + 6;
	while (*p == ' ')
		p++;
	if (*p == '-') {
		if (!isdigit((unsigned char)p[1]))
			return 0;
		errno = 0;
		b = strtoull(p + 1, &end, 10);
		if (errno || *end)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 1;
	}
	if (!isdigit((unsigned char)*p))
		return 0;
	errno = 0;
	a = strtoull(p, &end, 10);
	if (errno || *end != '-')
		return 0;
	p = end + 1;
	if (!*p) {
		b = size ? size - 1 : 0;
	} else {
		if (!isdigit((unsigned char)*p))
			return 0;
		b = strtoull(p, &end, 10);
		if (errno || *end || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	*from = a;
	*to = b >= size ? size - 1 : b;
	return 1;
}

/* Content-Disposition naming the first filename: an ASCII fallback and
 * the exact name percent-encoded (RFC 6266, RFC 8187). Inline only for
 * types a browser merely displays: a page or SVG opened from damd's origin
 * would run its script there, so those are downloaded. */
static void set_disposition(struct http_req *req, const json_t *rec)
{
	const char *name = json_string_value(json_array_get(json_object_get(rec, "filenames"), 0));
	const char *how = dam_mime_passive(json_get_str(rec, "mime")) ? "inline" : "attachment";
	char ascii[MAX_FILENAME + 1], enc[3 * MAX_FILENAME + 1], h[4 * MAX_FILENAME + 64];
	size_t a = 0, e = 0;

	if (!name || !*name) {
		http_set_header(req, "Content-Disposition", how);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p && a < MAX_FILENAME; p++) {
		ascii[a++] = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' ? (char)*p : '_';
		if (isalnum(*p) || strchr("!#$&+-.^_`|~", *p))
			enc[e++] = (char)*p;
		else if (e + 3 < sizeof(enc))
			e += (size_t)snprintf(enc + e, 4, "%%%02X", *p);
	}
	ascii[a] = 0;
	enc[e] = 0;
	snprintf(h, sizeof(h), "%s; filename=\"%s\"; filename*=UTF-8''%s", how, ascii, enc);
	http_set_header(req, "Content-Disposition", h);
}

bool dam_asset_withheld(struct http_req *req, const json_t *meta)
{
	if (http_role(req) != ROLE_NONE || !json_is_true(json_object_get(meta, "rights_expired")))
		return false;
	dam_reply_problem(req, 451, "the rights to this asset have expired: it is no longer published",
			  NULL);
	return true;
}

/* GET|HEAD /v1/assets/{id} */
static int handle_original(struct http_req *req)
{
	struct dam_app *app = http_app(req);
	struct hub_err err = {0};
	char hex[65], etag[80], path[4400], cr[96];
	const char *mime;
	uint64_t from = 0, to = 0, size;
	json_t *rec = NULL;
	struct stat st;
	int fd, r;

	if (dam_asset_get(app, http_param(req, "id"), &rec, &err) < 0)
		return dam_reply_err(req, &err);
	if (dam_asset_withheld(req, rec)) {
		json_decref(rec);
		return 0;
	}
	dam_asset_hex(json_get_str(rec, "id"), hex, NULL);
	cas_path(app->cas, hex, path, sizeof(path), NULL);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		json_decref(rec);
		hub_err_set(&err, HUB_EIO, "the blob of asset sha256:%s is missing", hex);
		return dam_reply_err(req, &err);
	}
	size = (uint64_t)st.st_size;
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	http_set_header(req, "Cache-Control", "public, max-age=31536000, immutable");
	http_set_header(req, "Accept-Ranges", "bytes");
	dam_stored_headers(req);
	if (http_not_modified(req, etag)) {
		close(fd);
		json_decref(rec);
		return 0;
	}
	mime = json_get_str(rec, "mime");
	set_disposition(req, rec);
	r = parse_range(http_header(req, "Range"), size, &from, &to);
	if (r < 0) {
		close(fd);
		json_decref(rec);
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
		http_set_header(req, "Content-Range", cr);
		return http_reply_problem(req, 416, "the range is outside the file", NULL);
	}
	if (r > 0) {
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
		http_set_header(req, "Content-Range", cr);
		http_reply_fd(req, 206, mime, fd, (off_t)from, to - from + 1);
	} else {
		http_reply_fd(req, 200, mime, fd, 0, size);
	}
	json_decref(rec);
	return 0;
}

/* ---- metadata ---- */

/* The record as clients see it: internal bookkeeping left out. */
static json_t *public_record(const json_t *rec)
{
	json_t *p = json_deep_copy(rec);

	json_object_del(p, "deleted_epoch");
	return p;
}

/* GET /v1/assets/{id}/meta: a deleted asset's record too, with
 * deleted_at, until the collector removes it, so that designers see what
 * went and when (the bytes themselves answer 410). */
static int handle_meta_get(struct http_req *req)
{
	struct hub_err err = {0};
	json_t *rec = NULL, *p;

	if (asset_load(http_app(req), http_param(req, "id"), &rec, &err) < 0)
		return dam_reply_err(req, &err);
	p = public_record(rec);
	http_set_header(req, "Cache-Control", "no-cache");
	dam_reply_json(req, 200, p);
	json_decref(p);
	json_decref(rec);
	return 0;
}

static void add_error(json_t *errors, const char *path, const char *code, const char *msg)
{
	json_array_append_new(errors, json_pack("{s:s,s:s,s:s}", "path", path, "code", code,
						"message", msg));
}

/* RFC 7396: a new value from target with patch merged in. */
static json_t *merge_patch(const json_t *target, const json_t *patch)
{
	const char *k;
	json_t *v, *out;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	json_object_foreach((json_t *)patch, k, v) {
		if (json_is_null(v)) {
			json_object_del(out, k);
		} else {
			json_t *m = merge_patch(json_object_get(out, k), v);

			json_object_set_new(out, k, m);
		}
	}
	return out;
}

static bool is_locale(const char *s)
{
	return strlen(s) == 5 && islower((unsigned char)s[0]) && islower((unsigned char)s[1]) &&
	       s[2] == '_' && isupper((unsigned char)s[3]) && isupper((unsigned char)s[4]);
}

/* YYYY-MM-DD naming a real calendar day. */
static bool is_date(const char *s)
{
	struct tm tm = {0}, chk;
	char *end;
	time_t t;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return false;
	chk = tm;
	t = timegm(&chk);
	gmtime_r(&t, &chk);
	return chk.tm_mday == tm.tm_mday && chk.tm_mon == tm.tm_mon;
}

static void check_strings(json_t *errors, const json_t *arr, const char *field, size_t max_n)
{
	char path[64];
	size_t i;
	json_t *v;

	if (!json_is_array(arr)) {
		snprintf(path, sizeof(path), "/%s", field);
		add_error(errors, path, "not_an_array", "must be an array of strings");
		return;
	}
	if (json_array_size(arr) > max_n) {
		snprintf(path, sizeof(path), "/%s", field);
		add_error(errors, path, "too_many", "too many entries");
	}
	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "/%s/%zu", field, i);
		if (!json_is_string(v))
			add_error(errors, path, "not_a_string", "must be a string");
		else if (!json_string_length(v) || json_string_length(v) > MAX_TAG)
			add_error(errors, path, "bad_length", "must be 1 to 128 characters");
	}
}

/* Drops repeated strings, keeping the first. */
static void dedupe_strings(json_t *arr)
{
	for (size_t i = 0; i < json_array_size(arr); i++)
		for (size_t j = i + 1; j < json_array_size(arr);)
			if (json_equal(json_array_get(arr, i), json_array_get(arr, j)))
				json_array_remove(arr, j);
			else
				j++;
}

/* Validates the editable fields of the merged record and fills defaults. */
static void validate_editable(json_t *rec, json_t *errors)
{
	json_t *v, *x;
	const char *k;

	v = json_object_get(rec, "title");
	if (!v)
		json_object_set_new(rec, "title", json_null());
	else if (!json_is_null(v) && (!json_is_string(v) || json_string_length(v) > MAX_TEXT))
		add_error(errors, "/title", "not_a_string", "must be a string of at most 4000 bytes");
	v = json_object_get(rec, "alt");
	if (!v) {
		json_object_set_new(rec, "alt", json_object());
	} else if (!json_is_object(v)) {
		add_error(errors, "/alt", "not_an_object", "must be an object of locale: text");
	} else {
		json_object_foreach(v, k, x) {
			char path[96];

			snprintf(path, sizeof(path), "/alt/%.80s", k);
			if (!is_locale(k))
				add_error(errors, path, "bad_locale", "locales look like en_US");
			else if (!json_is_string(x) || json_string_length(x) > MAX_TEXT)
				add_error(errors, path, "not_a_string",
					  "must be a string of at most 4000 bytes");
		}
	}
	v = json_object_get(rec, "tags");
	if (!v)
		json_object_set_new(rec, "tags", json_array());
	else
		check_strings(errors, v, "tags", MAX_TAGS);
	dedupe_strings(json_object_get(rec, "tags"));
	v = json_object_get(rec, "skus");
	if (!v)
		json_object_set_new(rec, "skus", json_array());
	else
		check_strings(errors, v, "skus", 1000);
	dedupe_strings(json_object_get(rec, "skus"));
	v = json_object_get(rec, "rights");
	if (!v) {
		v = json_object();
		json_object_set_new(rec, "rights", v);
	}
	if (!json_is_object(v)) {
		add_error(errors, "/rights", "not_an_object",
			  "must be an object with holder, licence and expires");
	} else {
		json_object_foreach(v, k, x) {
			char path[96];

			snprintf(path, sizeof(path), "/rights/%.80s", k);
			if (strcmp(k, "holder") && strcmp(k, "licence") && strcmp(k, "expires"))
				add_error(errors, path, "unknown_field",
					  "rights have holder, licence and expires");
			else if (json_is_null(x))
				continue;
			else if (!json_is_string(x) || json_string_length(x) > MAX_TEXT)
				add_error(errors, path, "not_a_string", "must be a string or null");
			else if (!strcmp(k, "expires") && !is_date(json_string_value(x)))
				add_error(errors, path, "not_a_date",
					  "must be an ISO date such as 2027-12-31");
		}
		for (int i = 0; i < 3; i++) {
			const char *names[] = {"holder", "licence", "expires"};

			if (!json_object_get(v, names[i]))
				json_object_set_new(v, names[i], json_null());
		}
	}
	v = json_object_get(rec, "focal_point");
	if (!v) {
		json_object_set_new(rec, "focal_point", json_null());
	} else if (!json_is_null(v)) {
		if (!json_is_object(v) || json_object_size(v) != 2 || !json_object_get(v, "x") ||
		    !json_object_get(v, "y")) {
			add_error(errors, "/focal_point", "bad_focal_point",
				  "must be {\"x\":0..1,\"y\":0..1} or null");
		} else {
			const char *axes[] = {"x", "y"};

			for (int i = 0; i < 2; i++) {
				char path[32];
				double d;

				x = json_object_get(v, axes[i]);
				snprintf(path, sizeof(path), "/focal_point/%s", axes[i]);
				d = json_number_value(x);
				if (!json_is_number(x) || d < 0 || d > 1)
					add_error(errors, path, "out_of_range",
						  "must be a number from 0 to 1");
			}
		}
	}
}

static bool is_editable(const char *k)
{
	static const char *const editable[] = {"title", "alt",         "tags",
					       "rights", "focal_point", "skus"};

	for (size_t i = 0; i < sizeof(editable) / sizeof(editable[0]); i++)
		if (!strcmp(k, editable[i]))
			return true;
	return false;
}

int dam_asset_patch(struct dam_app *app, const char *id, const json_t *patch, json_t **out,
		    json_t **errors, struct hub_err *err)
{
	char hex[65], key[72], now[32];
	struct dam_txn *t = NULL;
	json_t *rec = NULL, *merged = NULL, *errs = json_array(), *editable = NULL;
	const char *k;
	json_t *v;
	int rc;

	*errors = NULL;
	if (out)
		*out = NULL;
	rc = dam_asset_hex(id, hex, err);
	if (rc < 0)
		goto out;
	make_id(hex, key);
	if (!json_is_object(patch)) {
		rc = hub_err_set(err, HUB_EINVALID, "a merge patch is a JSON object");
		add_error(errs, "", "not_an_object", "a merge patch is a JSON object");
		goto out;
	}
	json_object_foreach((json_t *)patch, k, v) {
		if (!is_editable(k)) {
			char path[96];

			snprintf(path, sizeof(path), "/%.80s", k);
			add_error(errs, path, "read_only",
				  "only title, alt, tags, rights, focal_point and skus can be changed");
		}
	}
	rc = dam_txn_begin(app->store, &t, err);
	if (rc < 0)
		goto out;
	rc = rec_load_txn(t, key, &rec, err);
	if (rc < 0)
		goto out;
	if (!rec) {
		rc = hub_err_set(err, HUB_ENOTFOUND, "no asset %s", key);
		goto out;
	}
	if (rec_deleted(rec)) {
		rc = hub_err_set(err, HUB_EGONE, "asset %s was deleted", key);
		goto out;
	}
	editable = json_object();
	json_object_foreach(rec, k, v)
		if (is_editable(k))
			json_object_set(editable, k, v);
	merged = merge_patch(editable, patch);
	validate_editable(merged, errs);
	if (json_array_size(errs)) {
		rc = hub_err_set(err, HUB_EINVALID, "the patch does not validate (%zu problems)",
				 json_array_size(errs));
		goto out;
	}
	/* a new future expiry makes the rights valid again */
	if (!json_equal(json_object_get(json_object_get(rec, "rights"), "expires"),
			json_object_get(json_object_get(merged, "rights"), "expires")))
		json_object_del(rec, "rights_expired");
	rc = index_apply(t, rec, false, err);
	if (rc < 0)
		goto out;
	json_object_foreach(merged, k, v)
		if (is_editable(k))
			json_object_set(rec, k, v);
	dam_now_iso(now, sizeof(now));
	json_object_set_new(rec, "updated", json_string(now));
	rc = rec_save_txn(t, rec, err);
	if (rc == 0)
		rc = index_apply(t, rec, true, err);
	if (rc == 0)
		rc = dam_changes_append(t, "asset.meta_changed", key, err);
	if (rc == 0) {
		rc = dam_txn_commit(t, err);
		t = NULL;
	}
	if (rc < 0)
		goto out;
	dam_changes_notify(app);
	if (out) {
		*out = rec;
		rec = NULL;
	}
out:
	dam_txn_abort(t);
	if (json_array_size(errs) && rc == HUB_EINVALID)
		*errors = json_incref(errs);
	else if (json_array_size(errs) && rc == 0)
		rc = HUB_EINVALID;
	json_decref(errs);
	json_decref(rec);
	json_decref(merged);
	json_decref(editable);
	return rc;
}

/* PATCH /v1/assets/{id}/meta */
static int handle_meta_patch(struct http_req *req)
{
	struct hub_err err = {0};
	size_t len;
	const char *body = http_body(req, &len);
	json_t *patch, *rec = NULL, *errors = NULL, *p;
	int rc;

	if (!body)
		return http_reply_problem(req, 400, "a JSON merge patch body is required", NULL);
	patch = json_parse(body, len, &err);
	if (!patch)
		return dam_reply_err(req, &err);
	rc = dam_asset_patch(http_app(req), http_param(req, "id"), patch, &rec, &errors, &err);
	json_decref(patch);
	if (rc == HUB_EINVALID) {
		http_reply_problem(req, 422, err.msg, errors);
		json_decref(errors);
		return 0;
	}
	if (rc < 0)
		return dam_reply_err(req, &err);
	p = public_record(rec);
	dam_reply_json(req, 200, p);
	json_decref(p);
	json_decref(rec);
	return 0;
}

/* Marks key ("sha256:<hex>") deleted in one transaction with its event. */
static int asset_delete(struct dam_app *app, const char *key, bool missing, struct hub_err *err)
{
	struct dam_txn *t = NULL;
	json_t *rec = NULL;
	char now[32];
	int rc;

	rc = dam_txn_begin(app->store, &t, err);
	if (rc == 0)
		rc = rec_load_txn(t, key, &rec, err);
	if (rc == 0 && !rec)
		rc = hub_err_set(err, HUB_ENOTFOUND, "no asset %s", key);
	else if (rc == 0 && rec_deleted(rec))
		rc = hub_err_set(err, HUB_EGONE, "asset %s was already deleted", key);
	if (rc == 0)
		rc = index_apply(t, rec, false, err);
	if (rc == 0) {
		dam_now_iso(now, sizeof(now));
		json_object_set_new(rec, "deleted", json_true());
		json_object_set_new(rec, "deleted_at", json_string(now));
		json_object_set_new(rec, "deleted_epoch", json_integer((json_int_t)time(NULL)));
		json_object_set_new(rec, "updated", json_string(now));
		if (missing)
			json_object_set_new(rec, "missing", json_true());
		rc = rec_save_txn(t, rec, err);
	}
	if (rc == 0)
		rc = dam_changes_append(t, "asset.deleted", key, err);
	if (rc == 0) {
		rc = dam_txn_commit(t, err);
		t = NULL;
	}
	dam_txn_abort(t);
	json_decref(rec);
	if (rc == 0)
		dam_changes_notify(app);
	return rc;
}

int dam_asset_mark_missing(struct dam_app *app, const char *id, struct hub_err *err)
{
	char hex[65], key[72];
	int rc = dam_asset_hex(id, hex, err);

	if (rc < 0)
		return rc;
	make_id(hex, key);
	return asset_delete(app, key, true, err);
}

/* DELETE /v1/assets/{id} */
static int handle_delete(struct http_req *req)
{
	struct hub_err err = {0};
	char hex[65], key[72];

	if (dam_asset_hex(http_param(req, "id"), hex, &err) < 0)
		return dam_reply_err(req, &err);
	make_id(hex, key);
	if (asset_delete(http_app(req), key, false, &err) < 0)
		return dam_reply_err(req, &err);
	return http_reply_empty(req, 204);
}

/* ---- listing ---- */

struct list_state {
	struct dam_app *app;
	const char *tag, *sku, *mime;
	json_t *qwords; /* q's folded words, each of which a record must have */
	bool by_word;   /* the walk is over q's only word's index entries */
	long limit;
	bool by_index;
	json_t *items;
	char last_key[512];
	size_t last_klen;
	const void *skip; /* the cursor's key: the listing resumes after it */
	size_t skip_len;
	bool more;
	int rc;
	struct hub_err err;
};

static bool list_matches(const struct list_state *ls, const json_t *rec)
{
	const char *mime = json_get_str(rec, "mime");

	if (rec_deleted(rec))
		return false;
	if (ls->tag && !json_array_has_string(json_object_get(rec, "tags"), ls->tag))
		return false;
	if (ls->sku && !json_array_has_string(json_object_get(rec, "skus"), ls->sku))
		return false;
	if (ls->mime) {
		size_t n = strlen(ls->mime);

		if (!mime)
			return false;
		if (n > 2 && !strcmp(ls->mime + n - 2, "/*") ? strncmp(mime, ls->mime, n - 1)
							     : strcmp(mime, ls->mime))
			return false;
	}
	/* a record the walk of q's only word found has it: no need to fold
	 * its texts again */
	if (ls->qwords && !ls->by_word) {
		json_t *have = record_words(rec), *x;
		const char *w;
		bool all = have != NULL;

		json_object_foreach(ls->qwords, w, x)
			all = all && json_object_get(have, w);
		json_decref(have);
		if (!all)
			return false;
	}
	return true;
}

static int list_one(void *cls, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct list_state *ls = cls;
	const char *id;
	char *rv = NULL;
	size_t rlen;
	json_t *rec;

	if (ls->skip && klen == ls->skip_len && !memcmp(key, ls->skip, klen))
		return 0;
	if ((long)json_array_size(ls->items) == ls->limit) {
		ls->more = true;
		return 1;
	}
	if (ls->by_index) {
		/* the id is the key's last part */
		id = memrchr(key, 0, klen);
		if (!id || (size_t)((const char *)key + klen - id - 1) >= 80)
			return 0;
		{
			char idbuf[80];
			size_t n = (const char *)key + klen - id - 1;

			memcpy(idbuf, id + 1, n);
			idbuf[n] = 0;
			if (dam_kv_get(ls->app->store, "assets", idbuf, n, &rv, &rlen, &ls->err) < 0)
				return 0;
		}
		rec = json_loadb(rv, rlen, 0, NULL);
		free(rv);
	} else {
		rec = json_loadb(val, vlen, 0, NULL);
	}
	if (rec && list_matches(ls, rec)) {
		json_array_append_new(ls->items, public_record(rec));
		if (klen <= sizeof(ls->last_key)) {
			memcpy(ls->last_key, key, klen);
			ls->last_klen = klen;
		}
	}
	json_decref(rec);
	return 0;
}

static int unhex(const char *s, unsigned char *out, size_t max, size_t *n)
{
	size_t len = strlen(s);

	if (len % 2 || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		unsigned int b;

		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]) ||
		    sscanf(s + i, "%2x", &b) != 1)
			return -1;
		out[i / 2] = (unsigned char)b;
	}
	*n = len / 2;
	return 0;
}

/* The longest of q's words: the likeliest to be rare, so the one whose
 * index entries the listing walks. */
static const char *longest_word(const json_t *words)
{
	const char *w, *best = NULL;
	json_t *x;

	json_object_foreach((json_t *)words, w, x)
		if (!best || strlen(w) > strlen(best))
			best = w;
	return best;
}

/* GET /v1/assets?tag=&sku=&q=&mime=&limit=&cursor= */
static int handle_list(struct http_req *req)
{
	struct list_state ls = {0};
	const char *cursor = http_query(req, "cursor"), *db = "assets", *q = http_filter(req, "q");
	char prefix[512];
	unsigned char ckey[512];
	size_t plen, clen = 0;
	json_t *j;
	int rc;

	ls.app = http_app(req);
	if (http_query_long(req, "limit", LIST_DEFAULT, 1, LIST_MAX, &ls.limit) < 0)
		return 0;
	ls.tag = http_filter(req, "tag");
	ls.sku = http_filter(req, "sku");
	ls.mime = http_filter(req, "mime");
	if (q) {
		char *folded = text_fold(q, strlen(q));

		if (!folded)
			return http_reply_problem(req, 400, "q is not UTF-8", NULL);
		ls.qwords = json_object();
		text_words(folded, word_add, ls.qwords);
		free(folded);
		if (!json_object_size(ls.qwords)) {
			/* only punctuation: no word to look for, so no filter */
			json_decref(ls.qwords);
			ls.qwords = NULL;
		}
	}
	ls.items = json_array();
	/* the most selective index that applies, else every record in id order */
	ls.by_index = true;
	db = "index";
	if (ls.sku) {
		plen = index_key(prefix, sizeof(prefix), "sku", ls.sku, "");
	} else if (ls.tag) {
		plen = index_key(prefix, sizeof(prefix), "tag", ls.tag, "");
	} else if (ls.qwords) {
		plen = index_key(prefix, sizeof(prefix), "word", longest_word(ls.qwords), "");
		ls.by_word = json_object_size(ls.qwords) == 1;
	} else if (ls.mime && *ls.mime) {
		size_t n = strlen(ls.mime);

		plen = index_key(prefix, sizeof(prefix), "mime", ls.mime, "");
		if (n > 2 && !strcmp(ls.mime + n - 2, "/*"))
			plen -= 2; /* "mime\0image/" covers every image type */
	} else {
		ls.by_index = false;
		db = "assets";
		plen = strlen(ID_PREFIX);
		memcpy(prefix, ID_PREFIX, plen);
	}
	if ((int)plen < 0 || plen >= sizeof(prefix) - 80) {
		rc = http_reply_problem(req, 400, "a filter value is too long", NULL);
		goto out;
	}
	if (cursor) {
		if (unhex(cursor, ckey, sizeof(ckey), &clen) < 0 || clen < plen ||
		    memcmp(ckey, prefix, plen)) {
			rc = http_reply_problem(req, 400, "the cursor does not belong to this listing",
						NULL);
			goto out;
		}
		ls.skip = ckey;
		ls.skip_len = clen;
	}
	rc = dam_kv_scan(ls.app->store, db, prefix, plen, cursor ? ckey : NULL, clen, list_one, &ls,
			 &ls.err);
	if (rc < 0) {
		rc = dam_reply_err(req, &ls.err);
		goto out;
	}
	j = json_pack("{s:O}", "items", ls.items);
	if (ls.more && ls.last_klen) {
		char *c = malloc(ls.last_klen * 2 + 1);

		for (size_t i = 0; c && i < ls.last_klen; i++)
			snprintf(c + i * 2, 3, "%02x", (unsigned char)ls.last_key[i]);
		json_object_set_new(j, "next_cursor", c ? json_string(c) : json_null());
		free(c);
	} else {
		json_object_set_new(j, "next_cursor", json_null());
	}
	http_set_header(req, "Cache-Control", "no-cache");
	rc = dam_reply_json(req, 200, j);
	json_decref(j);
out:
	json_decref(ls.items);
	json_decref(ls.qwords);
	return rc;
}

/* Uploads are bounded by --max-upload in the body callbacks; the route's
 * own cap only has to let them through. */
#define STREAMED ((size_t)-1)

const struct http_route dam_asset_routes[] = {
	{"POST", "/v1/assets/archive", dam_archive_handle, ROLE_DESIGNER, dam_archive_body,
	 STREAMED},
	{"POST", "/v1/assets", handle_upload, ROLE_DESIGNER, upload_body, STREAMED},
	{"GET", "/v1/assets", handle_list, HTTP_ANY_ROLE, NULL, 0},
	{"GET", "/v1/assets/{id}/meta", handle_meta_get, HTTP_ANY_ROLE, NULL, 0},
	{"PATCH", "/v1/assets/{id}/meta", handle_meta_patch, ROLE_DESIGNER, NULL, 0},
	{"GET", "/v1/assets/{id}", handle_original, HTTP_PUBLIC_READ, NULL, 0},
	{"DELETE", "/v1/assets/{id}", handle_delete, ROLE_DESIGNER, NULL, 0},
};
const size_t dam_asset_nroutes = sizeof(dam_asset_routes) / sizeof(dam_asset_routes[0]);
