#include "fmacros.h"
#include "gc.h"
#include "app.h"
#include "cas.h"
#include "changes.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "rendition.h"
#include "store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dam_gc {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

/* ---- collecting deleted assets ---- */

struct due {
	json_t *ids;
	time_t before; /* deleted at or before this epoch */
	const char *today;
	bool rights; /* collecting expired rights instead */
};

static int due_one(void *cls, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct due *d = cls;
	json_t *rec = json_loadb(val, vlen, 0, NULL);
	json_t *del = json_object_get(rec, "deleted");

	(void)klen;
	(void)key;
	if (!rec)
		return 0;
	if (d->rights) {
		const char *exp = json_get_str(json_object_get(rec, "rights"), "expires");

		if (!json_is_true(del) && exp && strcmp(exp, d->today) < 0 &&
		    !json_is_true(json_object_get(rec, "rights_expired")))
			json_array_append(d->ids, json_object_get(rec, "id"));
	} else if (json_is_true(del) &&
		   json_integer_value(json_object_get(rec, "deleted_epoch")) <= d->before) {
		json_array_append(d->ids, json_object_get(rec, "id"));
	}
	json_decref(rec);
	return 0;
}

/* Rendition entries of one source ("<hex>\0..."): their keys and blobs. */
struct rend {
	json_t *keys;  /* hex-free copies of the keys, as strings with length */
	json_t *blobs; /* blob hex strings */
};

static int rend_one(void *cls, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct rend *r = cls;
	json_t *j = json_loadb(val, vlen, 0, NULL);
	const char *blob = json_get_str(j, "blob");

	json_array_append_new(r->keys, json_stringn_nocheck(key, klen));
	if (blob)
		json_array_append_new(r->blobs, json_string(blob));
	json_decref(j);
	return 0;
}

/* Every blob a remaining rendition entry uses, as an object of hex -> true. */
static int used_one(void *cls, const void *key, size_t klen, const void *val, size_t vlen)
{
	json_t *set = cls, *j = json_loadb(val, vlen, 0, NULL);
	const char *blob = json_get_str(j, "blob");

	(void)key;
	(void)klen;
	if (blob)
		json_object_set_new(set, blob, json_true());
	json_decref(j);
	return 0;
}

/* Rendition entries no request can be answered with any more
 * (rend_entry_stale): made for a preset that changed or went, or a cover
 * crop around a focal point the asset no longer has. Their keys, as
 * strings with length. */
struct stale {
	struct dam_app *app;
	json_t *keys;
	char hex[65]; /* the source whose record rec is ("": none loaded) */
	json_t *rec;
};

/* Whether entry key → val is stale. rec: the record of the source the key
 * names, which only a cover crop needs (may_be_stale), or NULL. blob (NULL:
 * not wanted; 65 bytes) gets the blob a stale entry uses, or "". */
static bool entry_stale(struct dam_app *app, const void *key, size_t klen, const void *val,
			size_t vlen, const json_t *rec, char *blob)
{
	char spec[512];
	json_t *j;
	bool stale;

	if (klen <= 65 || klen - 65 >= sizeof(spec))
		return false;
	memcpy(spec, (const char *)key + 65, klen - 65);
	spec[klen - 65] = 0;
	j = json_loadb(val, vlen, 0, NULL);
	stale = j && rend_entry_stale(app, spec, j, rec);
	if (blob)
		snprintf(blob, 65, "%s", stale && json_get_str(j, "blob") ? json_get_str(j, "blob") : "");
	json_decref(j);
	return stale;
}

/* Most entries are neither made for a preset nor cover crops: those are
 * passed over without parsing anything. */
static bool may_be_stale(const void *key, size_t klen, const void *val, size_t vlen,
			 bool *need_rec)
{
	*need_rec = klen > 65 && memmem((const char *)key + 65, klen - 65, "fit=cover", 9);
	return *need_rec || memmem(val, vlen, "\"preset_tag\"", 12);
}

static json_t *record_of(struct dam_app *app, struct dam_txn *t, const void *key)
{
	char id[80], *val = NULL;
	size_t len;
	json_t *rec = NULL;
	int rc;

	snprintf(id, sizeof(id), "sha256:%.64s", (const char *)key);
	rc = t ? dam_txn_get(t, "assets", id, strlen(id), &val, &len, NULL)
	       : dam_kv_get(app->store, "assets", id, strlen(id), &val, &len, NULL);
	if (rc == 0)
		rec = json_loadb(val, len, 0, NULL);
	free(val);
	return rec;
}

static int stale_one(void *cls, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct stale *s = cls;
	bool need_rec;

	if (klen < 65 || !may_be_stale(key, klen, val, vlen, &need_rec))
		return 0;
	/* keys start with their source: each record is read once a pass */
	if (need_rec && memcmp(s->hex, key, 64)) {
		json_decref(s->rec);
		s->rec = record_of(s->app, NULL, key);
		memcpy(s->hex, key, 64);
	}
	if (entry_stale(s->app, key, klen, val, vlen, need_rec ? s->rec : NULL, NULL))
		json_array_append_new(s->keys, json_stringn_nocheck(key, klen));
	return 0;
}

/* Drops the stale rendition entries in keys that still are (a request may
 * have made one anew meanwhile), a transaction per thousand; adds the blobs
 * they used to doomed and counts them in *dropped. */
static int drop_stale(struct dam_app *app, json_t *keys, json_t *doomed, int *dropped,
		      struct hub_err *err)
{
	size_t i = 0, n = json_array_size(keys), b;
	int rc = 0;

	while (rc == 0 && i < n) {
		struct dam_txn *t = NULL;
		json_t *blobs = json_array(), *v;
		size_t end = i + 1000 < n ? i + 1000 : n;
		int count = 0;

		rc = dam_txn_begin(app->store, &t, err);
		for (; rc == 0 && i < end; i++) {
			const char *key = json_string_value(json_array_get(keys, i));
			size_t klen = json_string_length(json_array_get(keys, i)), len;
			char *val = NULL, blob[65] = "";
			json_t *rec = NULL;
			bool need_rec, stale;

			if (dam_txn_get(t, "renditions", key, klen, &val, &len, NULL) < 0)
				continue;
			stale = may_be_stale(key, klen, val, len, &need_rec);
			if (stale && need_rec)
				rec = record_of(app, t, key);
			stale = stale && entry_stale(app, key, klen, val, len, rec, blob);
			json_decref(rec);
			if (stale) {
				if (*blob)
					json_array_append_new(blobs, json_string(blob));
				rc = dam_txn_del(t, "renditions", key, klen, err);
				count++;
			}
			free(val);
		}
		if (rc == 0) {
			rc = dam_txn_commit(t, err);
			t = NULL;
		}
		dam_txn_abort(t);
		if (rc == 0) {
			json_array_foreach(blobs, b, v)
				json_object_set(doomed, json_string_value(v), json_true());
			*dropped += count;
		}
		json_decref(blobs);
	}
	return rc;
}

static bool asset_live(struct dam_app *app, const char *hex)
{
	char id[80], *val = NULL;
	size_t len;
	bool live = false;

	snprintf(id, sizeof(id), "sha256:%s", hex);
	if (dam_kv_get(app->store, "assets", id, strlen(id), &val, &len, NULL) == 0) {
		json_t *rec = json_loadb(val, len, 0, NULL);

		live = rec && !json_is_true(json_object_get(rec, "deleted"));
		json_decref(rec);
	}
	free(val);
	return live;
}

/* Drops the record of id and its rendition entries in one transaction when
 * it is still deleted; adds the blobs they used to doomed. */
static int drop_asset(struct dam_app *app, const char *id, json_t *doomed, struct hub_err *err)
{
	const char *hex = id + strlen("sha256:");
	struct rend r = {json_array(), json_array()};
	struct dam_txn *t = NULL;
	char *val = NULL;
	json_t *rec = NULL, *v;
	size_t len, i;
	char prefix[66];
	int rc;

	memcpy(prefix, hex, 64);
	prefix[64] = 0;
	rc = dam_kv_scan(app->store, "renditions", prefix, 65, NULL, 0, rend_one, &r, err);
	if (rc < 0)
		goto out;
	rc = dam_txn_begin(app->store, &t, err);
	if (rc < 0)
		goto out;
	rc = dam_txn_get(t, "assets", id, strlen(id), &val, &len, err);
	if (rc < 0)
		goto out;
	rec = json_loadb(val, len, 0, NULL);
	if (!json_is_true(json_object_get(rec, "deleted")))
		goto out; /* uploaded again meanwhile */
	rc = dam_txn_del(t, "assets", id, strlen(id), err);
	json_array_foreach(r.keys, i, v)
		if (rc == 0)
			rc = dam_txn_del(t, "renditions", json_string_value(v), json_string_length(v),
					 err);
	if (rc == 0) {
		rc = dam_txn_commit(t, err);
		t = NULL;
	}
	if (rc == 0) {
		json_object_set_new(doomed, hex, json_true());
		json_array_foreach(r.blobs, i, v)
			json_object_set(doomed, json_string_value(v), json_true());
	}
out:
	dam_txn_abort(t);
	free(val);
	json_decref(rec);
	json_decref(r.keys);
	json_decref(r.blobs);
	return rc;
}

int dam_gc_run(struct dam_app *app, int *removed, struct hub_err *err)
{
	struct due d = {json_array(), time(NULL) - app->gc_grace, NULL, false};
	struct stale st = {app, json_array(), "", NULL};
	json_t *doomed = json_object(), *used = json_object(), *v;
	const char *hex;
	int rc, n = 0, dropped = 0;
	size_t i;

	if (removed)
		*removed = 0;
	rc = dam_kv_scan(app->store, "assets", "sha256:", 7, NULL, 0, due_one, &d, err);
	if (rc == 0)
		rc = dam_kv_scan(app->store, "renditions", "", 0, NULL, 0, stale_one, &st, err);
	if (rc < 0 || (json_array_size(d.ids) == 0 && json_array_size(st.keys) == 0))
		goto out;
	/* under the lock an upload cannot revive a record whose blob goes */
	pthread_mutex_lock(&app->blob_lock);
	json_array_foreach(d.ids, i, v) {
		rc = drop_asset(app, json_string_value(v), doomed, err);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = drop_stale(app, st.keys, doomed, &dropped, err);
	/* what the remaining entries use, when anything may be removed */
	if (rc == 0 && json_object_size(doomed))
		rc = dam_kv_scan(app->store, "renditions", "", 0, NULL, 0, used_one, used, err);
	if (rc == 0) {
		json_object_foreach(doomed, hex, v) {
			struct hub_err rerr = {0};

			if (json_object_get(used, hex) || asset_live(app, hex))
				continue;
			if (cas_remove(app->cas, hex, &rerr) < 0 && rerr.code != HUB_ENOTFOUND)
				hub_log(LOG_WARN, "gc blob=%s error=\"%s\"", hex, rerr.msg);
			else
				rend_blob_removed(app, hex);
		}
		n = (int)json_array_size(d.ids);
	}
	pthread_mutex_unlock(&app->blob_lock);
	if (n || dropped)
		hub_log(LOG_INFO, "gc collected=%d stale_renditions=%d", n, dropped);
out:
	if (removed)
		*removed = n;
	json_decref(d.ids);
	json_decref(st.keys);
	json_decref(st.rec);
	json_decref(doomed);
	json_decref(used);
	return rc;
}

int dam_gc_expire_rights(struct dam_app *app, int *expired, struct hub_err *err)
{
	char today[16];
	time_t now = time(NULL);
	struct tm tm;
	struct due d = {json_array(), 0, today, true};
	json_t *v;
	size_t i;
	int rc, n = 0;

	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	rc = dam_kv_scan(app->store, "assets", "sha256:", 7, NULL, 0, due_one, &d, err);
	json_array_foreach(d.ids, i, v) {
		const char *id = json_string_value(v), *exp;
		struct dam_txn *t = NULL;
		char *val = NULL;
		json_t *rec = NULL;
		size_t len;

		if (rc < 0)
			break;
		rc = dam_txn_begin(app->store, &t, err);
		if (rc == 0)
			rc = dam_txn_get(t, "assets", id, strlen(id), &val, &len, err);
		if (rc == 0)
			rec = json_loadb(val, len, 0, NULL);
		exp = json_get_str(json_object_get(rec, "rights"), "expires");
		/* checked again inside the transaction: a PATCH may have moved it */
		if (rc == 0 && rec && exp && strcmp(exp, today) < 0 &&
		    !json_is_true(json_object_get(rec, "deleted")) &&
		    !json_is_true(json_object_get(rec, "rights_expired"))) {
			char *s;

			json_object_set_new(rec, "rights_expired", json_true());
			s = json_dump_compact(rec, &len);
			rc = s ? dam_txn_put(t, "assets", id, strlen(id), s, len, err)
			       : hub_err_set(err, HUB_ENOMEM, "out of memory");
			free(s);
			if (rc == 0)
				rc = dam_changes_append(t, "asset.rights_expired", id, err);
			if (rc == 0) {
				rc = dam_txn_commit(t, err);
				t = NULL;
				n += rc == 0;
			}
		}
		dam_txn_abort(t);
		free(val);
		json_decref(rec);
	}
	if (n)
		dam_changes_notify(app);
	if (expired)
		*expired = n;
	json_decref(d.ids);
	return rc;
}

/* ---- the thread ---- */

static void *gc_main(void *arg)
{
	struct dam_app *app = arg;
	struct dam_gc *g = app->gc;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		struct timespec until;
		struct hub_err err = {0};

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += app->gc_interval > 0 ? app->gc_interval : 1;
		pthread_cond_timedwait(&g->cond, &g->lock, &until);
		if (g->stop)
			break;
		pthread_mutex_unlock(&g->lock);
		if (dam_gc_run(app, NULL, &err) < 0)
			hub_log(LOG_WARN, "gc error=\"%s\"", err.msg);
		if (dam_gc_expire_rights(app, NULL, &err) < 0)
			hub_log(LOG_WARN, "rights-expiry error=\"%s\"", err.msg);
		pthread_mutex_lock(&g->lock);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int dam_gc_start(struct dam_app *app, struct hub_err *err)
{
	struct dam_gc *g = calloc(1, sizeof(*g));

	if (!g)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	app->gc = g;
	if (pthread_create(&g->thread, NULL, gc_main, app) != 0) {
		app->gc = NULL;
		free(g);
		return hub_err_set(err, HUB_EIO, "cannot start the collector thread");
	}
	return 0;
}

void dam_gc_stop(struct dam_app *app)
{
	struct dam_gc *g = app->gc;

	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
	app->gc = NULL;
}
