#include "fmacros.h"
#include "fsck.h"
#include "app.h"
#include "assets.h"
#include "cas.h"
#include "err.h"
#include "hash.h"
#include "json.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_BLOCK (1u << 20)

struct fsck {
	struct dam_app *app;
	bool repair;
	FILE *out;
	int damaged;
	long blobs, assets, renditions, orphans;
	json_t *good;  /* hex -> size of every blob whose bytes match its name */
	json_t *refs;  /* hex -> true for every blob a record or rendition uses */
	char *buf;
	char quarantine[4200];
};

static bool hex_name(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == 0;
}

/* SHA-256 of a file's bytes into hex; -1 when it cannot be read. */
static int hash_file(const char *path, char *buf, char hex[65], off_t *size)
{
	struct hash_sha256 *h;
	uint8_t d[HASH_SHA256_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	*size = 0;
	if (fd < 0)
		return -1;
	h = hash_sha256_new();
	if (!h) {
		close(fd);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while ((n = read(fd, buf, HASH_BLOCK)) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0) {
			hash_sha256_update(h, buf, (size_t)n);
			*size += n;
		}
	}
	close(fd);
	if (n < 0) {
		hash_sha256_free(h);
		return -1;
	}
	hash_sha256_final(h, d);
	hash_hex(d, sizeof(d), hex);
	return 0;
}

static void quarantine(struct fsck *f, const char *path, const char *name)
{
	char dst[4600];

	mkdir(f->quarantine, 0700);
	snprintf(dst, sizeof(dst), "%s/%s", f->quarantine, name);
	if (rename(path, dst) == 0)
		fprintf(f->out, "  repaired: moved to quarantine/%s\n", name);
	else
		fprintf(f->out, "  cannot move to quarantine: %s\n", strerror(errno));
}

static void check_blob(struct fsck *f, const char *d1, const char *d2, const char *name,
		       const char *path)
{
	char hex[65];
	off_t size;

	f->blobs++;
	if (!hex_name(name) || strncmp(name, d1, 2) || strncmp(name + 2, d2, 2)) {
		f->damaged++;
		fprintf(f->out, "misplaced file %s/%s/%s: not named by its hash\n", d1, d2, name);
		if (f->repair)
			quarantine(f, path, name);
		return;
	}
	if (hash_file(path, f->buf, hex, &size) < 0) {
		f->damaged++;
		fprintf(f->out, "unreadable blob %s: %s\n", name, strerror(errno));
		return;
	}
	if (strcmp(hex, name)) {
		f->damaged++;
		fprintf(f->out, "corrupt blob %s: its bytes hash to %s\n", name, hex);
		if (f->repair)
			quarantine(f, path, name);
		return;
	}
	json_object_set_new(f->good, name, json_integer(size));
}

static int walk_blobs(struct fsck *f, const char *root)
{
	DIR *a = opendir(root), *b, *c;
	struct dirent *e1, *e2, *e3;
	char p1[4600], p2[4900], p3[5200];

	if (!a)
		return errno == ENOENT ? 0 : -1;
	while ((e1 = readdir(a))) {
		if (e1->d_name[0] == '.')
			continue;
		snprintf(p1, sizeof(p1), "%s/%s", root, e1->d_name);
		if (!(b = opendir(p1)))
			continue;
		while ((e2 = readdir(b))) {
			if (e2->d_name[0] == '.')
				continue;
			snprintf(p2, sizeof(p2), "%s/%s", p1, e2->d_name);
			if (!(c = opendir(p2)))
				continue;
			while ((e3 = readdir(c))) {
				if (e3->d_name[0] == '.')
					continue;
				snprintf(p3, sizeof(p3), "%s/%s", p2, e3->d_name);
				check_blob(f, e1->d_name, e2->d_name, e3->d_name, p3);
			}
			closedir(c);
		}
		closedir(b);
	}
	closedir(a);
	return 0;
}

/* Records are collected first and repaired after the scan: a repair writes,
 * and the scan's read transaction must not be open across it. */
static int collect(void *cls, const void *key, size_t klen, const void *val, size_t vlen)
{
	json_t *list = cls;

	json_array_append_new(list, json_pack("{s:s%,s:s%}", "k", (const char *)key, klen, "v",
					      (const char *)val, vlen));
	return 0;
}

static void check_assets(struct fsck *f, json_t *list)
{
	size_t i;
	json_t *item;

	json_array_foreach(list, i, item) {
		json_t *rec = json_loads(json_get_str(item, "v"), 0, NULL);
		const char *id = json_get_str(rec, "id");
		char hex[65];
		json_t *size;

		f->assets++;
		if (!rec || !id || dam_asset_hex(id, hex, NULL) < 0) {
			f->damaged++;
			fprintf(f->out, "unreadable asset record %.80s\n", json_get_str(item, "k"));
			json_decref(rec);
			continue;
		}
		json_object_set_new(f->refs, hex, json_true());
		size = json_object_get(f->good, hex);
		if (json_is_true(json_object_get(rec, "deleted"))) {
			json_decref(rec);
			continue; /* the collector may already have taken its blob */
		}
		if (!size || json_integer_value(size) != json_integer_value(json_object_get(rec, "size"))) {
			struct hub_err err = {0};

			f->damaged++;
			fprintf(f->out, "asset %s: %s\n", id,
				size ? "its blob's size differs from the record" : "its blob is missing or corrupt");
			if (f->repair) {
				if (dam_asset_mark_missing(f->app, id, &err) == 0)
					fprintf(f->out, "  repaired: marked deleted and missing\n");
				else
					fprintf(f->out, "  cannot repair: %s\n", err.msg);
			}
		}
		json_decref(rec);
	}
}

static void check_renditions(struct fsck *f, json_t *list)
{
	size_t i;
	json_t *item;

	json_array_foreach(list, i, item) {
		json_t *k = json_object_get(item, "k");
		json_t *j = json_loads(json_get_str(item, "v"), 0, NULL);
		const char *blob = json_get_str(j, "blob"), *key = json_string_value(k);
		size_t klen = json_string_length(k), split = strnlen(key, klen);

		f->renditions++;
		if (blob)
			json_object_set_new(f->refs, blob, json_true());
		if (!blob || !json_object_get(f->good, blob)) {
			struct hub_err err = {0};

			f->damaged++;
			fprintf(f->out, "rendition %.64s/%.*s: its blob %s is missing or corrupt\n", key,
				(int)(split < klen ? klen - split - 1 : 0), key + split + 1,
				blob ? blob : "(none)");
			if (f->repair) {
				if (dam_kv_del(f->app->store, "renditions", key, klen, &err) == 0)
					fprintf(f->out, "  repaired: entry dropped; it renders again on demand\n");
				else
					fprintf(f->out, "  cannot repair: %s\n", err.msg);
			}
		}
		json_decref(j);
	}
}

int dam_fsck(struct dam_app *app, bool repair, FILE *out, int *damaged, struct hub_err *err)
{
	struct fsck f = {0};
	char root[4200];
	json_t *assets = json_array(), *rends = json_array(), *v;
	const char *hex;
	int rc;

	f.app = app;
	f.repair = repair;
	f.out = out;
	f.good = json_object();
	f.refs = json_object();
	f.buf = malloc(HASH_BLOCK);
	snprintf(f.quarantine, sizeof(f.quarantine), "%s/quarantine", app->data_dir);
	snprintf(root, sizeof(root), "%s/blobs", app->data_dir);
	if (!f.buf) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	if (walk_blobs(&f, root) < 0) {
		rc = hub_err_set(err, HUB_EIO, "cannot read '%s': %s", root, strerror(errno));
		goto out;
	}
	rc = dam_kv_scan(app->store, "assets", "", 0, NULL, 0, collect, assets, err);
	if (rc == 0)
		rc = dam_kv_scan(app->store, "renditions", "", 0, NULL, 0, collect, rends, err);
	if (rc < 0)
		goto out;
	check_assets(&f, assets);
	check_renditions(&f, rends);
	json_object_foreach(f.good, hex, v) {
		if (json_object_get(f.refs, hex))
			continue;
		f.orphans++;
		fprintf(out, "orphan blob %s: no asset or rendition uses it\n", hex);
		if (repair && cas_remove(app->cas, hex, NULL) == 0)
			fprintf(out, "  repaired: removed\n");
	}
	fprintf(out, "fsck: %ld blobs, %ld asset records, %ld renditions checked; %d problems, %ld orphans%s\n",
		f.blobs, f.assets, f.renditions, f.damaged, f.orphans, repair ? " (repair on)" : "");
out:
	*damaged = f.damaged;
	free(f.buf);
	json_decref(f.good);
	json_decref(f.refs);
	json_decref(assets);
	json_decref(rends);
	return rc;
}
