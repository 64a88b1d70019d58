/* The asset records, change feed, collector and fsck, without HTTP. */
#include "fmacros.h"
#include "../../damd/app.h"
#include "../../damd/assets.h"
#include "../../damd/cas.h"
#include "../../damd/changes.h"
#include "../../damd/fsck.h"
#include "../../damd/gc.h"
#include "../../damd/store.h"
#include "err.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct dam_app app;

/* Stores bytes as an asset; returns its id in id (72 bytes). */
static int put_asset(const char *bytes, const char *name, char *id, int *created)
{
	struct hub_err err = {0};
	struct cas_writer *w;
	json_t *a = NULL;
	int rc = cas_writer_new(app.cas, &w, &err);

	if (rc == 0)
		rc = cas_writer_write(w, bytes, strlen(bytes), &err);
	if (rc == 0)
		rc = dam_asset_ingest(&app, w, name, &a, created, &err);
	else
		cas_writer_abort(w);
	if (rc == 0)
		snprintf(id, 72, "%s", json_string_value(json_object_get(a, "id")));
	else
		printf("# ingest: %s\n", err.msg);
	json_decref(a);
	return rc;
}

/* A derived blob (a rendition's output) and its entry for source hex. */
static void put_rendition(const char *src_hex, const char *params, const char *bytes, char hex[65])
{
	struct hub_err err = {0};
	struct cas_writer *w;
	char key[256], val[200];
	int existed, klen;

	cas_writer_new(app.cas, &w, &err);
	cas_writer_write(w, bytes, strlen(bytes), &err);
	cas_writer_commit(w, hex, &existed, &err);
	klen = snprintf(key, sizeof(key), "%s%c%s", src_hex, 0, params);
	snprintf(val, sizeof(val), "{\"blob\":\"%s\",\"mime\":\"image/webp\"}", hex);
	dam_kv_put(app.store, "renditions", key, klen, val, strlen(val), &err);
}

static bool blob_exists(const char *hex)
{
	char path[4400];

	if (!strncmp(hex, "sha256:", 7))
		hex += 7;
	cas_path(app.cas, hex, path, sizeof(path), NULL);
	return access(path, F_OK) == 0;
}

static int count_changes(void *cls, const void *k, size_t kl, const void *v, size_t vl)
{
	json_t *types = cls, *ev = json_loadb(v, vl, 0, NULL);

	(void)k;
	(void)kl;
	json_array_append(types, json_object_get(ev, "type"));
	json_decref(ev);
	return 0;
}

static int count_entries(void *cls, const void *k, size_t kl, const void *v, size_t vl)
{
	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	(*(long *)cls)++;
	return 0;
}

static long words_indexed(const char *word)
{
	struct hub_err err = {0};
	char prefix[64];
	int n = snprintf(prefix, sizeof(prefix), "word%c%s%c", 0, word, 0);
	long count = 0;

	dam_kv_scan(app.store, "index", prefix, (size_t)n, NULL, 0, count_entries, &count, &err);
	return count;
}

/* Records as a damd without the word index wrote them: no index entries. */
static void put_old_records(int n, const char *title, bool deleted)
{
	struct hub_err err = {0};
	char id[80], rec[300];
	static int seq;

	for (int i = 0; i < n; i++, seq++) {
		snprintf(id, sizeof(id), "sha256:%064x", seq);
		snprintf(rec, sizeof(rec),
			 "{\"id\":\"%s\",\"mime\":\"image/jpeg\",\"filenames\":[\"old-%d.jpg\"],"
			 "\"title\":\"%s\",\"deleted\":%s}",
			 id, seq, title, deleted ? "true" : "false");
		dam_kv_put(app.store, "assets", id, strlen(id), rec, strlen(rec), &err);
	}
}

static void delete_asset(const char *id)
{
	struct hub_err err = {0};

	/* the same transition as DELETE, marked missing besides */
	dam_asset_mark_missing(&app, id, &err);
}

int main(void)
{
	char root[] = "/tmp/test-dam-store.XXXXXX", a[72], b[72], c[72], r1[65], r2[65], cmd[300];
	struct hub_err err = {0};
	json_t *rec = NULL, *errors = NULL, *patch, *types;
	int created = -1, removed = -1, expired = -1, damaged = -1;
	FILE *devnull = fopen("/dev/null", "w");

	ok(mkdtemp(root) != NULL, "temp dir");
	app.data_dir = root;
	app.gc_grace = 0;
	pthread_mutex_init(&app.blob_lock, NULL);
	ok(dam_store_open(&app.store, root, 0, &err) == 0 && cas_open(&app.cas, root, &err) == 0,
	   "store and blobs open");

	ok(put_asset("manual text one\n", "one.txt", a, &created) == 0 && created == 1,
	   "first ingest creates");
	ok(put_asset("manual text one\n", "uno.txt", a, &created) == 0 && created == 0,
	   "same bytes: no new asset");
	ok(dam_asset_get(&app, a, &rec, &err) == 0, "record readable");
	ok(json_array_size(json_object_get(rec, "filenames")) == 2, "both filenames kept");
	ok(!strcmp(json_string_value(json_object_get(rec, "mime")), "text/plain"),
	   "mime sniffed from the bytes");
	json_decref(rec);
	ok(dam_asset_get(&app, "sha256:nothex", &rec, &err) == HUB_ENOTFOUND, "bad id: not found");

	patch = json_pack("{s:s,s:{s:f,s:f},s:[s]}", "title", "Care", "focal_point", "x", 0.1,
			  "y", 0.9, "tags", "doc");
	ok(dam_asset_patch(&app, a, patch, &rec, &errors, &err) == 0, "valid patch: %s", err.msg);
	ok(rec && !strcmp(json_string_value(json_object_get(rec, "title")), "Care"), "title set");
	json_decref(rec);
	json_decref(patch);
	rec = NULL;
	patch = json_pack("{s:{s:i,s:i},s:s}", "focal_point", "x", 2, "y", 0, "id", "x");
	ok(dam_asset_patch(&app, a, patch, &rec, &errors, &err) == HUB_EINVALID, "invalid patch");
	ok(json_array_size(errors) == 2, "two problems: read-only id and x out of range");
	json_decref(errors);
	json_decref(patch);

	/* the change feed: one event per change, in order */
	types = json_array();
	dam_kv_scan(app.store, "changes", "", 0, NULL, 0, count_changes, types, &err);
	ok(json_array_size(types) == 3, "three events (upload, new filename, patch): %zu",
	   json_array_size(types));
	ok(!strcmp(json_string_value(json_array_get(types, 0)), "asset.uploaded"),
	   "first is asset.uploaded");
	json_decref(types);

	/* collector: a's blob and its renditions go; a blob a live asset uses stays */
	ok(put_asset("bytes of b\n", "b.txt", b, &created) == 0, "second asset");
	ok(put_asset("bytes of c\n", "c.txt", c, &created) == 0, "third asset");
	put_rendition(a + 7, "w=100", "rendered a at 100\n", r1);
	put_rendition(a + 7, "w=200", "bytes of b\n", r2); /* same bytes as asset b */
	ok(blob_exists(r1) && blob_exists(r2), "rendition blobs stored");
	delete_asset(a);
	ok(dam_asset_get(&app, a, &rec, &err) == HUB_EGONE, "deleted asset: gone");
	ok(dam_gc_run(&app, &removed, &err) == 0 && removed == 1, "collector removed one asset");
	ok(!blob_exists(a), "deleted asset's blob removed");
	ok(!blob_exists(r1), "its rendition's blob removed");
	ok(blob_exists(r2) && blob_exists(b), "a blob a live asset uses is kept");
	ok(dam_asset_get(&app, a, &rec, &err) == HUB_ENOTFOUND, "collected record gone");
	{
		char key[80], *v = NULL;
		int klen = snprintf(key, sizeof(key), "%s%cw=100", a + 7, 0);

		ok(dam_kv_get(app.store, "renditions", key, klen, &v, NULL, &err) == HUB_ENOTFOUND,
		   "rendition entries removed");
		free(v);
	}
	app.gc_grace = 3600;
	delete_asset(c);
	ok(dam_gc_run(&app, &removed, &err) == 0 && removed == 0, "grace period respected");
	ok(blob_exists(c), "blob kept during the grace period");

	/* rights expiry: once */
	patch = json_pack("{s:{s:s}}", "rights", "expires", "2001-02-03");
	ok(dam_asset_patch(&app, b, patch, NULL, &errors, &err) == 0, "past expiry set");
	json_decref(patch);
	ok(dam_gc_expire_rights(&app, &expired, &err) == 0 && expired == 1, "rights expired once");
	ok(dam_gc_expire_rights(&app, &expired, &err) == 0 && expired == 0, "and only once");
	patch = json_pack("{s:{s:s}}", "rights", "expires", "2999-01-01");
	dam_asset_patch(&app, b, patch, NULL, &errors, &err);
	json_decref(patch);
	ok(dam_asset_get(&app, b, &rec, &err) == 0 &&
		   !json_object_get(rec, "rights_expired"),
	   "a new future expiry clears the mark");
	json_decref(rec);

	/* fsck: healthy, then a corrupted blob */
	ok(dam_fsck(&app, false, devnull, &damaged, &err) == 0 && damaged == 0, "fsck: healthy");
	{
		char path[4400];
		FILE *f;

		cas_path(app.cas, b + 7, path, sizeof(path), NULL);
		f = fopen(path, "r+");
		fputc('X', f);
		fclose(f);
	}
	ok(dam_fsck(&app, false, devnull, &damaged, &err) == 0 && damaged == 2,
	   "fsck: corrupt blob and its asset (%d)", damaged);
	ok(dam_fsck(&app, true, devnull, &damaged, &err) == 0 && damaged == 2, "fsck --repair");
	ok(dam_fsck(&app, false, devnull, &damaged, &err) == 0 && damaged == 0,
	   "fsck after repair: healthy");
	ok(dam_asset_get(&app, b, &rec, &err) == HUB_EGONE, "repaired asset marked deleted");

	/* a store from before the word index: its records get their words at
	 * start, over several batches, once */
	put_old_records(1203, "Washed Linen duvet", false);
	put_old_records(7, "Linen, deleted", true);
	ok(words_indexed("linen") == 0, "old records: no words indexed");
	err = (struct hub_err){0};
	ok(dam_asset_index_words(&app, &err) == 0, "index the words: %s", err.msg);
	ok(words_indexed("linen") == 1203, "every live old record found by a word (%ld)",
	   words_indexed("linen"));
	ok(words_indexed("duvet") == 1203 && words_indexed("old") == 1203,
	   "words of the title and the file name");
	ok(words_indexed("deleted") == 0, "deleted records not indexed");
	put_old_records(3, "Velvet cushion", false);
	ok(dam_asset_index_words(&app, &err) == 0 && words_indexed("velvet") == 0,
	   "indexed once: the second start does nothing");

	cas_close(app.cas);
	dam_store_close(app.store);
	fclose(devnull);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ok(system(cmd) == 0, "cleanup");
	return tap_done();
}
