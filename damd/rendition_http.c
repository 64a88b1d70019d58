/* The rendition service: settings, the render pool's work (render, store as
 * a derived blob, index in LMDB) and the HTTP routes that answer from that
 * cache or park the request on the render in flight. */
#include "fmacros.h"
#include "app.h"
#include "assets.h"
#include "buf.h"
#include "cas.h"
#include "config.h"
#include "daemon.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "presets.h"
#include "render_pool.h"
#include "reply.h"
#include "rendition.h"
#include "sandbox.h"
#include "sign.h"
#include "store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Cached answers, keyed by a hash of the asset's record bytes and of what
 * the request asked for: a hit skips parsing the record and the rendition
 * index. Any change to the record (delete, focal point…) changes its bytes,
 * so stale entries are never hit; a blob neither kept open (below) nor on
 * disk falls through. */
#define HOT_SLOTS 4096
#define HOT_LOCKS 64

struct hot_entry {
	uint64_t tag; /* 0: empty */
	char blob[65];
	char mime[32];
	bool vary;
};

/* Open renditions: the reply for a derived blob, built once (file opened,
 * headers made) and sent to request after request with sendfile, so that
 * a cached rendition costs no open, fstat and close of its own. A blob is
 * named by the hash of its bytes and never changes, so an open file always
 * holds the right bytes; whether a request may have them is still decided
 * per request (the asset record and the rendition index, above). The
 * collector drops a blob's entry when it removes the file, so that its
 * disk space is freed. Few entries, as each holds a file open: sets of
 * OPEN_WAYS, the least recently used one replaced, so that a few hot
 * renditions never take turns in one slot.
 *
 * Each HTTP thread (up to OPEN_REPLICAS) keeps replies of its own: a
 * libmicrohttpd response takes its mutex for every request it is queued
 * on and finished for, and threads sharing one would queue on it. */
#define OPEN_SETS 64
#define OPEN_WAYS 4
#define OPEN_REPLICAS 8

struct open_entry {
	uint64_t key; /* hash of blob, vary and replica; 0: empty */
	uint64_t used; /* the set's clock at the last hit */
	char blob[65];
	char mime[32];
	bool vary;
	struct http_shared *reply; /* one reference, the entry's */
};

struct open_set {
	pthread_mutex_t lock;
	uint64_t clock;
	struct open_entry way[OPEN_WAYS];
};

struct rend_service {
	struct dam_app *app;
	struct hot_entry hot[HOT_SLOTS];
	pthread_mutex_t hot_lock[HOT_LOCKS];
	struct open_set open[OPEN_SETS];
	_Atomic uint64_t open_gen; /* bumped whenever the collector removes a blob */
	struct presets *presets;
	struct sign_keys *keys;
	struct render_pool *pool;
	struct rend_limits lim;
	struct sandbox_limits sbx;
	int wait_ms; /* how long a request waits for its render */
	char cache_control[48]; /* --rendition-max-age */
#define RENDITION_IMMUTABLE 31536000L
	_Atomic uint64_t served, not_modified, since_trim;
};

/* Folds data into h, eight bytes at a time: every cached request hashes
 * the asset's record with it. Each step is a bijection of h, so inputs of
 * one length that differ in a single word never give the same hash. */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	for (; len; p++, len--) {
		h = (h ^ *p) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return h;
}

static bool hot_get(struct rend_service *rs, uint64_t tag, struct hot_entry *out)
{
	size_t slot = tag % HOT_SLOTS;
	pthread_mutex_t *l = &rs->hot_lock[slot % HOT_LOCKS];
	bool hit;

	pthread_mutex_lock(l);
	hit = rs->hot[slot].tag == tag;
	if (hit)
		*out = rs->hot[slot];
	pthread_mutex_unlock(l);
	return hit;
}

static void hot_put(struct rend_service *rs, uint64_t tag, const char *blob, const char *mime,
		    bool vary)
{
	size_t slot = tag % HOT_SLOTS;
	pthread_mutex_t *l = &rs->hot_lock[slot % HOT_LOCKS];

	if (!tag || strlen(blob) != 64)
		return;
	pthread_mutex_lock(l);
	rs->hot[slot].tag = tag;
	memcpy(rs->hot[slot].blob, blob, 65);
	snprintf(rs->hot[slot].mime, sizeof(rs->hot[slot].mime), "%s", mime);
	rs->hot[slot].vary = vary;
	pthread_mutex_unlock(l);
}

static _Atomic unsigned open_threads;
static _Thread_local unsigned open_thread_no; /* 1 + order of first use; 0: none yet */

/* The calling thread's replica. */
static unsigned open_replica(void)
{
	if (!open_thread_no)
		open_thread_no = atomic_fetch_add(&open_threads, 1) + 1;
	return (open_thread_no - 1) % OPEN_REPLICAS;
}

static uint64_t open_key(const char *blob, bool vary, unsigned replica)
{
	uint64_t k = hash_bytes(0xcbf29ce484222325ULL, blob, 64);

	k = hash_bytes(k, &vary, sizeof(vary));
	k = hash_bytes(k, &replica, sizeof(replica));
	return k ? k : 1;
}

static struct open_entry *open_find(struct open_set *set, uint64_t key, const char *blob,
				    const char *mime, bool vary)
{
	for (int i = 0; i < OPEN_WAYS; i++) {
		struct open_entry *e = &set->way[i];

		if (e->key == key && e->vary == vary && !strcmp(e->blob, blob) &&
		    !strcmp(e->mime, mime))
			return e;
	}
	return NULL;
}

static void set_reply_headers(struct rend_service *rs, struct http_shared *sh, const char *blob,
			      bool vary)
{
	char etag[68];

	snprintf(etag, sizeof(etag), "\"%s\"", blob);
	http_shared_set_header(sh, "ETag", etag);
	http_shared_set_header(sh, "Cache-Control", rs->cache_control);
	if (vary)
		http_shared_set_header(sh, "Vary", "Accept");
	/* renditions are images, but they come from untrusted bytes too */
	dam_stored_headers_shared(sh);
}

/* The reply for derived blob hex into *out (a reference the caller owns):
 * the one kept open, or a new one opened now and kept. 1 when the blob is
 * gone from disk, HUB_ENOMEM, else 0. */
static int open_get(struct rend_service *rs, const char *blob, const char *mime, bool vary,
		    struct http_shared **out)
{
	uint64_t key = open_key(blob, vary, open_replica()), gen;
	struct open_set *set = &rs->open[key % OPEN_SETS];
	struct http_shared *sh, *old = NULL;
	struct open_entry *e;
	char path[4096];
	struct stat st;
	int fd;

	pthread_mutex_lock(&set->lock);
	e = open_find(set, key, blob, mime, vary);
	if (e) {
		e->used = ++set->clock;
		*out = http_shared_ref(e->reply);
		pthread_mutex_unlock(&set->lock);
		return 0;
	}
	pthread_mutex_unlock(&set->lock);

	/* a blob the collector removes while it is being opened here is not
	 * kept: its file would stay open, its space taken */
	gen = atomic_load(&rs->open_gen);
	if (cas_path(rs->app->cas, blob, path, sizeof(path), NULL) < 0)
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return 1;
	}
	sh = http_shared_new_fd(mime, fd, (uint64_t)st.st_size); /* takes fd */
	if (!sh)
		return HUB_ENOMEM;
	set_reply_headers(rs, sh, blob, vary);
	*out = sh;
	if (strlen(mime) >= sizeof(set->way[0].mime))
		return 0;
	pthread_mutex_lock(&set->lock);
	/* another request may have opened it meanwhile */
	if (gen == atomic_load(&rs->open_gen) && !open_find(set, key, blob, mime, vary)) {
		e = &set->way[0];
		for (int i = 1; i < OPEN_WAYS; i++)
			if (set->way[i].used < e->used)
				e = &set->way[i];
		old = e->reply;
		e->key = key;
		e->used = ++set->clock;
		memcpy(e->blob, blob, sizeof(e->blob));
		memcpy(e->mime, mime, strlen(mime) + 1);
		e->vary = vary;
		e->reply = http_shared_ref(sh);
	}
	pthread_mutex_unlock(&set->lock);
	http_shared_unref(old);
	return 0;
}

/* A cover crop centres on the focal point of the asset's record rec, when
 * it has one (0..1 of the upright source). */
static void spec_set_focal(struct rend_spec *spec, const json_t *rec)
{
	json_t *fp = json_object_get(rec, "focal_point");
	json_t *x = json_object_get(fp, "x"), *y = json_object_get(fp, "y");

	if (spec->fit != REND_FIT_COVER || !json_is_number(x) || !json_is_number(y))
		return;
	spec->has_focal = true;
	spec->fx = json_number_value(x);
	spec->fy = json_number_value(y);
	spec->fx = spec->fx < 0 ? 0 : spec->fx > 1 ? 1 : spec->fx;
	spec->fy = spec->fy < 0 ? 0 : spec->fy > 1 ? 1 : spec->fy;
}

bool rend_entry_stale(struct dam_app *app, const char *spec, const json_t *val, const json_t *rec)
{
	const char *name = json_get_str(val, "preset"), *tag = json_get_str(val, "preset_tag");
	struct hub_err err = {0};
	struct rend_spec made, now;
	char a[256], b[256];

	if (!app->rend)
		return false;
	if (name && tag) {
		const struct preset *p = presets_find(app->rend->presets, name);

		if (!p || strcmp(p->tag, tag))
			return true;
	}
	if (!rec || rend_spec_parse(&made, spec, &err) < 0 || made.fit != REND_FIT_COVER)
		return false;
	now = made;
	now.has_focal = false;
	now.fx = now.fy = 0;
	spec_set_focal(&now, rec);
	/* judged only on a spec that reads back as it was written */
	if (rend_spec_format(&made, a, sizeof(a)) < 0 || strcmp(a, spec) ||
	    rend_spec_format(&now, b, sizeof(b)) < 0)
		return false;
	return strcmp(a, b) != 0;
}

void rend_blob_removed(struct dam_app *app, const char *hex)
{
	struct rend_service *rs = app->rend;

	if (!rs || strlen(hex) != 64)
		return;
	atomic_fetch_add(&rs->open_gen, 1);
	for (unsigned k = 0; k < 2 * OPEN_REPLICAS; k++) {
		uint64_t key = open_key(hex, k & 1, k / 2);
		struct open_set *set = &rs->open[key % OPEN_SETS];
		struct http_shared *old[OPEN_WAYS] = {NULL};

		pthread_mutex_lock(&set->lock);
		for (int i = 0; i < OPEN_WAYS; i++) {
			struct open_entry *e = &set->way[i];

			if (e->key == key && !strcmp(e->blob, hex)) {
				old[i] = e->reply;
				e->reply = NULL;
				e->key = 0;
				e->used = 0;
				e->blob[0] = 0;
			}
		}
		pthread_mutex_unlock(&set->lock);
		for (int i = 0; i < OPEN_WAYS; i++)
			http_shared_unref(old[i]);
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the worker's side ---- */

static int store_rendition(struct rend_service *rs, struct render_job *j,
			   const struct rend_out *out, struct hub_err *err)
{
	struct cas_writer *w = NULL;
	char hex[65], *rec = NULL;
	int existed = 0, rc;
	size_t rlen = 0;
	json_t *o;

	rc = cas_writer_new(rs->app->cas, &w, err);
	if (rc < 0)
		return rc;
	rc = cas_writer_write(w, out->data, out->len, err);
	if (rc < 0) {
		cas_writer_abort(w);
		return rc;
	}
	rc = cas_writer_commit(w, hex, &existed, err);
	if (rc < 0)
		return rc;
	o = json_pack("{s:s, s:s, s:i, s:i, s:I}", "blob", hex, "mime", out->mime, "width",
		      out->width, "height", out->height, "bytes", (json_int_t)out->len);
	if (o && j->preset[0]) {
		json_object_set_new(o, "preset", json_string(j->preset));
		json_object_set_new(o, "preset_tag", json_string(j->preset_tag));
	}
	rec = o ? json_dump_compact(o, &rlen) : NULL;
	json_decref(o);
	if (!rec)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	rc = dam_kv_put(rs->app->store, "renditions", j->key, j->klen, rec, rlen, err);
	free(rec);
	if (rc < 0)
		return rc;
	memcpy(j->blob, hex, sizeof(j->blob));
	snprintf(j->out_mime, sizeof(j->out_mime), "%s", out->mime);
	j->width = out->width;
	j->height = out->height;
	j->bytes = out->len;
	return 0;
}

static void run_job(struct render_job *j, void *cls)
{
	struct rend_service *rs = cls;
	struct rend_out out = {0};
	char src[4096], spec[256];
	int rc;

	rc = cas_path(rs->app->cas, j->src_hex, src, sizeof(src), &j->err);
	if (rc < 0)
		goto out;
	switch (rend_kind_of(j->mime)) {
	case REND_KIND_TRUSTED:
		rc = rend_render(src, NULL, 0, &j->spec, &rs->lim, &out, &j->err);
		break;
	case REND_KIND_SANDBOX: {
		struct buf payload = BUF_INIT;
		json_t *hdr = NULL;

		buf_init(&payload, rs->sbx.max_output);
		if (rend_spec_format(&j->spec, spec, sizeof(spec)) < 0) {
			rc = hub_err_set(&j->err, HUB_EINVAL, "render spec too long");
			break;
		}
		rc = sandbox_render(j->mime, src, spec, rs->lim.max_pixels, rs->lim.max_frames,
				    rs->lim.timeout_ms, &rs->sbx, &hdr, &payload, &j->err);
		if (rc == 0) {
			out.width = (int)json_integer_value(json_object_get(hdr, "width"));
			out.height = (int)json_integer_value(json_object_get(hdr, "height"));
			snprintf(out.mime, sizeof(out.mime), "%s",
				 json_get_str(hdr, "mime") ? json_get_str(hdr, "mime") : "");
			out.data = buf_detach(&payload, &out.len);
			if (!out.data || !out.len || strncmp(out.mime, "image/", 6))
				rc = hub_err_set(&j->err, HUB_EINVALID,
						 "the sandboxed renderer gave no image");
		}
		json_decref(hdr);
		buf_release(&payload);
		break;
	}
	default:
		rc = hub_err_set(&j->err, HUB_EINVALID, "'%s' is not an image damd renders",
				 j->mime);
	}
	if (rc == 0)
		rc = store_rendition(rs, j, &out, &j->err);
out:
	rend_out_release(&out);
	j->rc = rc;
	if (rc < 0)
		hub_log(rc == HUB_EIO ? LOG_ERROR : LOG_INFO,
			"render failed source=%s error=\"%s\"", j->src_hex, j->err.msg);
	/* hand freed render memory back to the system now and then, so the
	 * peak of a burst does not stay resident */
	if (atomic_fetch_add(&rs->since_trim, 1) % 16 == 15)
		malloc_trim(0);
}

static bool is_cached(const struct render_job *j, void *cls)
{
	struct rend_service *rs = cls;
	char *val = NULL;
	size_t vlen;

	if (dam_kv_get(rs->app->store, "renditions", j->key, j->klen, &val, &vlen, NULL) < 0)
		return false;
	free(val);
	return true;
}

/* ---- answering ---- */

struct rctx {
	struct render_job *job;
	struct rend_service *rs;
	bool vary;
	int64_t started;
};

static void rctx_free(void *p)
{
	struct rctx *c = p;

	render_job_put(c->job);
	free(c);
}

static void set_cache_headers(struct http_req *req, struct rend_service *rs, const char *blob,
			      bool vary)
{
	char etag[80];

	snprintf(etag, sizeof(etag), "\"%s\"", blob);
	http_set_header(req, "ETag", etag);
	http_set_header(req, "Cache-Control", rs->cache_control);
	if (vary)
		http_set_header(req, "Vary", "Accept");
}

/* Sends derived blob hex. 1 when it is gone from disk (the caller renders
 * again), HUB_ENOMEM, else 0 with the reply queued. */
static int send_blob(struct http_req *req, struct rend_service *rs, const char *blob,
		     const char *mime, bool vary)
{
	struct http_shared *sh = NULL;
	char etag[80];
	int rc = open_get(rs, blob, mime, vary, &sh);

	if (rc)
		return rc;
	if (http_header(req, "If-None-Match")) {
		set_cache_headers(req, rs, blob, vary);
		snprintf(etag, sizeof(etag), "\"%s\"", blob);
		if (http_not_modified(req, etag)) {
			http_shared_unref(sh);
			atomic_fetch_add(&rs->not_modified, 1);
			return 0;
		}
	}
	atomic_fetch_add(&rs->served, 1);
	return http_reply_shared(req, sh);
}

/* 1 when the rendition under key was served from the cache. */
static int serve_cached(struct http_req *req, struct rend_service *rs, const char *key,
			size_t klen, bool vary, uint64_t tag)
{
	char *val = NULL;
	size_t vlen = 0;
	json_t *rec;
	int rc = 0;

	if (dam_kv_get(rs->app->store, "renditions", key, klen, &val, &vlen, NULL) < 0)
		return 0;
	rec = json_loadb(val, vlen, 0, NULL);
	free(val);
	if (rec && json_get_str(rec, "blob") && json_get_str(rec, "mime")) {
		rc = send_blob(req, rs, json_get_str(rec, "blob"), json_get_str(rec, "mime"), vary);
		if (rc == 0) {
			hot_put(rs, tag, json_get_str(rec, "blob"), json_get_str(rec, "mime"), vary);
			rc = 1;
		} else if (rc == 1) { /* the derived blob went away: forget it, render again */
			dam_kv_del(rs->app->store, "renditions", key, klen, NULL);
			rc = 0;
		} else {
			http_reply_problem(req, 500, "out of memory", NULL);
			rc = 1;
		}
	}
	json_decref(rec);
	return rc;
}

static int reply_busy(struct http_req *req, const char *detail)
{
	http_set_header(req, "Retry-After", "2");
	return http_reply_problem(req, 503, detail, NULL);
}

static int answer_job(struct http_req *req, struct rctx *c)
{
	struct render_job *j = c->job;

	if (j->rc == HUB_EBUSY)
		return reply_busy(req, j->err.msg);
	if (j->rc == HUB_ETIMEOUT) /* the source is at fault, not the server */
		return dam_reply_problem(req, 422, j->err.msg, NULL);
	if (j->rc < 0)
		return dam_reply_err(req, &j->err);
	if (send_blob(req, c->rs, j->blob, j->out_mime, c->vary))
		return http_reply_problem(req, 500, "the rendition was stored but cannot be read",
					  NULL);
	return 0;
}

/* "sha256:<64 hex>" to lower-case hex; -1 when it is not an asset id. */
static int parse_id(const char *id, char hex[65])
{
	if (!id || strncmp(id, "sha256:", 7) || strlen(id) != 71)
		return -1;
	for (int i = 0; i < 64; i++) {
		char ch = (char)tolower((unsigned char)id[7 + i]);

		if (!isxdigit((unsigned char)ch))
			return -1;
		hex[i] = ch;
	}
	hex[64] = 0;
	return 0;
}

static int h_rendition(struct http_req *req)
{
	struct dam_app *app = http_app(req);
	struct rend_service *rs = app->rend;
	struct rctx *c = http_ctx(req);
	const char *preset_name = http_param(req, "preset"), *id = http_param(req, "id");
	struct render_job tmpl;
	struct render_job *job = NULL;
	struct hub_err err = {0};
	struct accept_fmts acc;
	struct rend_spec spec;
	char hex[65], canon[256], idn[72], *raw = NULL;
	const struct preset *preset = NULL;
	json_t *meta = NULL;
	bool vary = false, joined, animated, anon;
	const char *mime;
	uint64_t tag = 0;
	size_t rawlen = 0;
	struct adhoc a;
	int64_t w, h;
	int rc, n;

	if (c) { /* resumed: the render finished, or our wait timed out */
		if (render_job_done(c->job))
			return answer_job(req, c);
		if (mono_ms() - c->started < rs->wait_ms &&
		    render_job_wait(c->job, req, (int)(rs->wait_ms - (mono_ms() - c->started))))
			return 0;
		if (render_job_done(c->job))
			return answer_job(req, c);
		return reply_busy(req, "the rendition is still being rendered");
	}

	if (parse_id(id, hex) < 0) {
		hub_err_set(&err, HUB_ENOTFOUND, "no asset '%s'", id ? id : "");
		return dam_reply_err(req, &err);
	}
	snprintf(idn, sizeof(idn), "sha256:%s", hex);
	accept_parse(http_header(req, "Accept"), &acc);

	/* what is asked, checked before the asset is looked at */
	if (preset_name) {
		preset = presets_find(rs->presets, preset_name);
		if (!preset) {
			hub_err_set(&err, HUB_ENOTFOUND, "no rendition preset '%s'", preset_name);
			return dam_reply_err(req, &err);
		}
		tag = hash_bytes(0xcbf29ce484222325ULL, preset->name, strlen(preset->name) + 1);
	} else {
		const char *sig = http_query(req, "sig");

		if (adhoc_parse(&a, http_query(req, "w"), http_query(req, "h"),
				http_query(req, "fit"), http_query(req, "fmt"), http_query(req, "q"),
				http_query(req, "dpr"), &err) < 0)
			return dam_reply_err(req, &err);
		if (adhoc_canonical(&a, canon, sizeof(canon)) < 0) {
			hub_err_set(&err, HUB_EINVAL, "the parameters are too long");
			return dam_reply_err(req, &err);
		}
		if (sig ? !sign_check(rs->keys, idn, canon, sig) : !app->allow_unsigned) {
			hub_err_set(&err, HUB_EFORBIDDEN,
				    sig ? "the signature does not match the parameters"
					: "ad-hoc rendition parameters must be signed (sig=)");
			return dam_reply_err(req, &err);
		}
		tag = hash_bytes(0x84222325cbf29ce4ULL, canon, strlen(canon) + 1);
	}
	tag = hash_bytes(tag, &acc, sizeof(acc));
	/* a token may see what the public no longer may (dam_asset_withheld) */
	anon = http_role(req) == ROLE_NONE;
	tag = hash_bytes(tag, &anon, sizeof(anon));

	/* the hot path: the same record bytes and the same question as an
	 * answer already given */
	if (dam_kv_get(app->store, "assets", idn, strlen(idn), &raw, &rawlen, NULL) == 0) {
		struct hot_entry e;

		tag = hash_bytes(tag, raw, rawlen);
		free(raw);
		tag = tag ? tag : 1;
		if (hot_get(rs, tag, &e) && send_blob(req, rs, e.blob, e.mime, e.vary) == 0)
			return 0;
	} else {
		tag = 0;
	}

	rc = dam_asset_get(app, idn, &meta, &err);
	if (rc < 0)
		return dam_reply_err(req, &err);
	if (dam_asset_withheld(req, meta)) {
		json_decref(meta);
		return 0;
	}
	mime = json_get_str(meta, "mime");
	if (rend_kind_of(mime) == REND_KIND_NONE) {
		hub_err_set(&err, HUB_EINVALID, "asset '%s' is %s, not an image damd renders", id,
			    mime ? mime : "of an unknown type");
		goto fail;
	}
	w = json_integer_value(json_object_get(meta, "width"));
	h = json_integer_value(json_object_get(meta, "height"));
	if ((uint64_t)w * (uint64_t)h > rs->lim.max_pixels) {
		hub_err_set(&err, HUB_EINVALID,
			    "the source is %lldx%lld pixels, over the limit of %.1f megapixels",
			    (long long)w, (long long)h, rs->lim.max_pixels / 1e6);
		goto fail;
	}
	animated = json_integer_value(json_object_get(meta, "pages")) > 1 &&
		   (!strcmp(mime, "image/gif") || !strcmp(mime, "image/webp"));
	if (preset)
		spec_from_preset(preset, &acc, animated, &spec, &vary);
	else
		spec_from_adhoc(&a, &acc, &spec, &vary, &err);
	spec_set_focal(&spec, meta);

	memset(&tmpl, 0, sizeof(tmpl));
	memcpy(tmpl.key, hex, 64);
	tmpl.key[64] = 0;
	n = rend_spec_format(&spec, tmpl.key + 65, sizeof(tmpl.key) - 65);
	if (n < 0) {
		hub_err_set(&err, HUB_EINVAL, "render spec too long");
		goto fail;
	}
	tmpl.klen = 65 + (size_t)n;
	memcpy(tmpl.src_hex, hex, sizeof(tmpl.src_hex));
	snprintf(tmpl.mime, sizeof(tmpl.mime), "%s", mime);
	tmpl.spec = spec;
	if (preset) {
		snprintf(tmpl.preset, sizeof(tmpl.preset), "%s", preset->name);
		memcpy(tmpl.preset_tag, preset->tag, sizeof(tmpl.preset_tag));
	}
	json_decref(meta);
	meta = NULL;

	if (serve_cached(req, rs, tmpl.key, tmpl.klen, vary, tag))
		return 0;
	rc = render_pool_submit(rs->pool, &tmpl, &job, &joined, &err);
	if (rc == 1) {
		if (serve_cached(req, rs, tmpl.key, tmpl.klen, vary, tag))
			return 0;
		return reply_busy(req, "the rendition is being replaced; try again");
	}
	if (rc == HUB_EBUSY)
		return reply_busy(req, err.msg);
	if (rc < 0)
		return dam_reply_err(req, &err);
	c = calloc(1, sizeof(*c));
	if (!c) {
		render_job_put(job);
		return HUB_ENOMEM;
	}
	c->job = job;
	c->rs = rs;
	c->vary = vary;
	c->started = mono_ms();
	http_set_ctx(req, c, rctx_free);
	if (render_job_wait(job, req, rs->wait_ms))
		return 0;
	if (render_job_done(job))
		return answer_job(req, c);
	return reply_busy(req, "the server is stopping");
fail:
	json_decref(meta);
	return dam_reply_err(req, &err);
}

const struct http_route rend_routes[] = {
	{"GET", "/v1/renditions/{id}/{preset}", h_rendition, HTTP_PUBLIC_READ, NULL, 0},
	{"GET", "/v1/renditions/{id}", h_rendition, HTTP_PUBLIC_READ, NULL, 0},
};
const size_t rend_nroutes = sizeof(rend_routes) / sizeof(rend_routes[0]);

/* ---- the service ---- */

void rend_metrics(struct buf *out, void *appv)
{
	struct dam_app *app = appv;
	struct rend_service *rs = app ? app->rend : NULL;
	struct render_pool_stats st;

	if (!rs)
		return;
	render_pool_stats(rs->pool, &st);
	buf_addf(out,
		 "# HELP damd_renders_total Renders started by the render pool.\n"
		 "# TYPE damd_renders_total counter\ndamd_renders_total %llu\n"
		 "# TYPE damd_render_failures_total counter\ndamd_render_failures_total %llu\n"
		 "# HELP damd_render_rejected_total Renders refused with 503 on a full queue.\n"
		 "# TYPE damd_render_rejected_total counter\ndamd_render_rejected_total %llu\n"
		 "# HELP damd_render_joined_total Requests that waited for a render in flight.\n"
		 "# TYPE damd_render_joined_total counter\ndamd_render_joined_total %llu\n"
		 "# TYPE damd_renditions_served_total counter\ndamd_renditions_served_total %llu\n"
		 "# TYPE damd_render_queue gauge\ndamd_render_queue %d\n"
		 "# TYPE damd_render_running gauge\ndamd_render_running %d\n",
		 (unsigned long long)st.renders, (unsigned long long)st.failed,
		 (unsigned long long)st.rejected, (unsigned long long)st.joined,
		 (unsigned long long)atomic_load(&rs->served), st.queued, st.running);
}

const struct config_flag rend_flags[] = {
	{"--allow-unsigned", false, "serve ad-hoc renditions without a signature"},
	{"--sign-keys", true, "kid:secret,… (default: sign.key in the data directory)"},
	{"--presets", true, "the presets file (default schemas/renditions.json)"},
	{"--max-pixels", true, "largest source in pixels (default 200000000)"},
	{"--max-frames", true, "most animation frames kept (default 300)"},
	{"--render-workers", true, "render threads (default: one per core)"},
	{"--render-queue", true, "renders waiting before 503 (default 64)"},
	{"--render-timeout", true, "seconds a render may take (default 20)"},
	{"--rendition-max-age", true, "Cache-Control max-age of renditions (default 31536000)"},
	{NULL, false, NULL},
};

/* The presets file: --presets, else schemas/renditions.json under the
 * working directory, else beside the binary's ../schemas. */
static int load_presets(struct rend_service *rs, int argc, char **argv, struct hub_err *err)
{
	const char *flag = config_str(argc, argv, "--presets", "DAMD_PRESETS", NULL);
	char exe[4096], path[4200];
	ssize_t n;
	char *slash;

	if (flag)
		return presets_load(&rs->presets, flag, err);
	if (access("schemas/renditions.json", R_OK) == 0)
		return presets_load(&rs->presets, "schemas/renditions.json", err);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(path, sizeof(path), "%s/../schemas/renditions.json", exe);
			if (access(path, R_OK) == 0)
				return presets_load(&rs->presets, path, err);
		}
	}
	return hub_err_set(err, HUB_EIO,
			   "no rendition presets: schemas/renditions.json not found (--presets)");
}

void rend_settings_read(struct rend_settings *set, int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	set->pixels =
		config_range(argc, argv, "--max-pixels", "DAMD_MAX_PIXELS", 200000000L, 1, LONG_MAX);
	set->frames = config_range(argc, argv, "--max-frames", "DAMD_MAX_FRAMES", 300, 1, LONG_MAX);
	set->workers = config_range(argc, argv, "--render-workers", "DAMD_RENDER_WORKERS",
				    ncpu > 0 ? ncpu : 2, 1, 64);
	set->queue =
		config_range(argc, argv, "--render-queue", "DAMD_RENDER_QUEUE", 64, 1, LONG_MAX);
	set->timeout_s =
		config_range(argc, argv, "--render-timeout", "DAMD_RENDER_TIMEOUT", 20, 1, 600);
	set->max_age = config_range(argc, argv, "--rendition-max-age", "DAMD_RENDITION_MAX_AGE",
				    RENDITION_IMMUTABLE, 0, 31536000);
}

int rend_service_start(struct dam_app *app, const struct rend_settings *set, int argc,
		       char **argv, struct hub_err *err)
{
	struct rend_service *rs = calloc(1, sizeof(*rs));
	int rc;

	if (!rs)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	rs->app = app;
	for (int i = 0; i < HOT_LOCKS; i++)
		pthread_mutex_init(&rs->hot_lock[i], NULL);
	for (int i = 0; i < OPEN_SETS; i++)
		pthread_mutex_init(&rs->open[i].lock, NULL);
	/* Immutable for a year by default, as DESIGN.md's contract has it:
	 * a rendition URL names an asset and a preset or parameters, not
	 * bytes, but the URLs pimd hands out change with the asset's focal
	 * point (?v=, its crop tag). A shorter max-age, without immutable,
	 * is for sites whose own URLs do not: caches then revalidate with
	 * the ETag, which costs a 304. */
	snprintf(rs->cache_control, sizeof(rs->cache_control), "public, max-age=%ld%s",
		 set->max_age, set->max_age == RENDITION_IMMUTABLE ? ", immutable" : "");
	rs->lim.max_pixels = (uint64_t)set->pixels;
	rs->lim.max_frames = (int)set->frames;
	rs->lim.timeout_ms = (int)set->timeout_s * 1000;
	sandbox_limits_default(&rs->sbx);
	rs->sbx.timeout_ms = rs->lim.timeout_ms + 2000;
	rs->sbx.cpu_s = (int)set->timeout_s;
	rs->wait_ms = rs->sbx.timeout_ms + 10000;

	rc = rend_engine_init(NULL, err);
	if (rc == 0)
		rc = load_presets(rs, argc, argv, err);
	if (rc == 0)
		rc = sign_keys_load(&rs->keys,
				    config_str(argc, argv, "--sign-keys", "DAMD_SIGN_KEYS", NULL),
				    app->data_dir, err);
	if (rc == 0)
		rc = render_pool_start(&rs->pool, (int)set->workers, (int)set->queue, run_job,
				       is_cached, rs, err);
	if (rc < 0) {
		presets_free(rs->presets);
		sign_keys_free(rs->keys);
		free(rs);
		return rc;
	}
	app->rend = rs;
	hub_log(LOG_INFO,
		"renditions presets=%zu workers=%ld queue=%ld max_pixels=%ld timeout_s=%ld "
		"signing_keys=%zu allow_unsigned=%d",
		presets_count(rs->presets), set->workers, set->queue, set->pixels, set->timeout_s,
		sign_keys_count(rs->keys), app->allow_unsigned);
	return 0;
}

void rend_service_stop(struct dam_app *app)
{
	struct rend_service *rs = app->rend;

	if (!rs)
		return;
	render_pool_stop(rs->pool);
	/* the server has stopped: no request holds these replies any more */
	for (int i = 0; i < OPEN_SETS; i++)
		for (int w = 0; w < OPEN_WAYS; w++)
			http_shared_unref(rs->open[i].way[w].reply);
	presets_free(rs->presets);
	sign_keys_free(rs->keys);
	free(rs);
	app->rend = NULL;
}

int rend_sign_main(int argc, char **argv)
{
	const char *data = config_str(argc, argv, "--data", "DAMD_DATA", "var/dam");
	struct sign_keys *keys = NULL;
	struct hub_err err = {0};
	struct adhoc a;
	char hex[65], canon[256], id[72];

	if (argc < 4) {
		fprintf(stderr, "usage: damd --sign ID 'w=…&h=…&fit=…&fmt=…&q=…&dpr=…' "
				"[--data DIR] [--sign-keys kid:secret,…]\n");
		return 2;
	}
	if (parse_id(argv[2], hex) < 0) {
		fprintf(stderr, "damd: '%s' is not an asset id (sha256:<hex>)\n", argv[2]);
		return 2;
	}
	snprintf(id, sizeof(id), "sha256:%s", hex);
	if (adhoc_parse_query(&a, argv[3], &err) < 0 ||
	    adhoc_canonical(&a, canon, sizeof(canon)) < 0) {
		fprintf(stderr, "damd: %s\n", err.msg[0] ? err.msg : "parameters too long");
		return 2;
	}
	if (daemon_mkdirs(data, &err) < 0 ||
	    sign_keys_load(&keys, config_str(argc, argv, "--sign-keys", "DAMD_SIGN_KEYS", NULL),
			   data, &err) < 0) {
		fprintf(stderr, "damd: %s\n", err.msg);
		return 1;
	}
	sign_make(keys, id, canon, hex);
	printf("/v1/renditions/%s?%s&sig=%s\n", id, canon, hex);
	sign_keys_free(keys);
	return 0;
}
