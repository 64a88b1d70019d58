#include "fmacros.h"
#include "archive.h"
#include "app.h"
#include "assets.h"
#include "cas.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "reply.h"

#include <archive.h>
#include <archive_entry.h>
#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BLOCK (1u << 20)
#define MANIFEST_MAX (4u << 20)
/* Zip bombs: besides the configured total, entries may expand to at most
 * this many times the archive's own size (but always to 1 GiB), so a
 * 2 MB archive claiming terabytes is refused before anything is read. */
#define MAX_RATIO 100
#define RATIO_FLOOR ((uint64_t)1 << 30)

/* ---- spooling the body ---- */

struct spool {
	int fd;
	char path[4200];
	uint64_t size;
};

static void spool_free(void *p)
{
	struct spool *s = p;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->path[0])
		unlink(s->path);
	free(s);
}

int dam_archive_body(struct http_req *req, const char *data, size_t len)
{
	struct dam_app *app = http_app(req);
	struct spool *s = http_ctx(req);
	struct hub_err err = {0};

	if (!s) {
		const char *cl = http_header(req, "Content-Length");

		s = calloc(1, sizeof(*s));
		if (!s) {
			hub_err_set(&err, HUB_ENOMEM, "out of memory");
			return dam_fail(req, &err);
		}
		s->fd = -1;
		http_set_ctx(req, s, spool_free);
		if (cl && strtoull(cl, NULL, 10) > app->max_upload) {
			hub_err_set(&err, HUB_ETOOBIG, "the archive is over the %" PRIu64 "-byte limit",
				    app->max_upload);
			return dam_fail(req, &err);
		}
		/* tmp/ is emptied at start, so a crash leaves nothing behind */
		snprintf(s->path, sizeof(s->path), "%s/tmp/archive.XXXXXX", app->data_dir);
		s->fd = mkstemp(s->path);
		if (s->fd < 0) {
			s->path[0] = 0;
			hub_err_set(&err, HUB_EIO, "cannot spool the archive: %s", strerror(errno));
			return dam_fail(req, &err);
		}
	}
	s->size += len;
	if (s->size > app->max_upload) {
		hub_err_set(&err, HUB_ETOOBIG, "the archive is over the %" PRIu64 "-byte limit",
			    app->max_upload);
		return dam_fail(req, &err);
	}
	while (len) {
		ssize_t n = write(s->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hub_err_set(&err, HUB_EIO, "cannot spool the archive: %s", strerror(errno));
			return dam_fail(req, &err);
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- entry checks ---- */

static bool is_absolute(const char *name)
{
	return name[0] == '/' || name[0] == '\\' ||
	       (isalpha((unsigned char)name[0]) && name[1] == ':');
}

/* A ".." component, with either separator. */
static bool has_dotdot(const char *name)
{
	const char *p = name;

	while (*p) {
		size_t n = strcspn(p, "/\\");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

static const char *base_name(const char *name)
{
	const char *b = name;

	for (const char *p = name; *p; p++)
		if ((*p == '/' || *p == '\\') && p[1])
			b = p + 1;
	return b;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

static bool archive_name(const char *name)
{
	static const char *const ext[] = {".zip", ".tar",  ".tgz", ".gz",  ".bz2", ".xz",
					  ".7z",  ".rar",  ".tbz", ".txz", ".zst", ".jar"};

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (ends_with(name, ext[i]))
			return true;
	return false;
}

/* Archive or compressed-stream signatures in an entry's first bytes. */
static bool archive_magic(const unsigned char *h, size_t n)
{
	return (n >= 4 && h[0] == 'P' && h[1] == 'K' &&
		((h[2] == 3 && h[3] == 4) || (h[2] == 5 && h[3] == 6) || (h[2] == 7 && h[3] == 8))) ||
	       (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) ||
	       (n >= 3 && !memcmp(h, "BZh", 3)) ||
	       (n >= 6 && !memcmp(h, "\xfd" "7zXZ\0", 6)) ||
	       (n >= 6 && !memcmp(h, "7z\xbc\xaf\x27\x1c", 6)) ||
	       (n >= 6 && !memcmp(h, "Rar!\x1a\x07", 6)) ||
	       (n >= 4 && !memcmp(h, "\x28\xb5\x2f\xfd", 4)) ||
	       (n >= 262 && !memcmp(h + 257, "ustar", 5));
}

/* Office documents, e-books and AR models are zip files inside: they are
 * assets in their own right (a manual, a 3D view), not nested archives. */
static bool zip_document(const char *name, const unsigned char *h, size_t n)
{
	static const char *const ext[] = {".docx", ".xlsx", ".pptx", ".odt", ".ods",
					  ".odp",  ".epub", ".usdz", ".3mf"};

	if (n < 4 || h[0] != 'P' || h[1] != 'K')
		return false;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (ends_with(name, ext[i]))
			return true;
	return false;
}

/* msg may come from libarchive, which names the file it reads */
static void refuse(json_t *refused, const char *entry, const char *reason, const char *msg)
{
	char pub[512];

	dam_text_scrub(msg, NULL, pub, sizeof(pub));
	json_array_append_new(refused, json_pack("{s:s,s:s,s:s}", "entry", entry, "reason",
						 reason, "message", pub));
}

/* ---- manifest.csv ---- */

struct manifest {
	json_t *rows;    /* arrays of strings */
	json_t *row;
	int failed;
};

static void csv_field(void *s, size_t len, void *cls)
{
	struct manifest *m = cls;

	if (!m->row)
		m->row = json_array();
	json_array_append_new(m->row, json_stringn_nocheck(s, len));
}

static void csv_row(int c, void *cls)
{
	struct manifest *m = cls;

	(void)c;
	if (!m->row)
		m->row = json_array();
	json_array_append_new(m->rows, m->row);
	m->row = NULL;
}

/* Splits "A, B;C" into ["A","B","C"]. */
static json_t *split_list(const char *s)
{
	json_t *a = json_array();

	while (*s) {
		size_t n = strcspn(s, ",;");
		const char *b = s, *e = s + n;

		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (e > b)
			json_array_append_new(a, json_stringn_nocheck(b, e - b));
		s += n;
		if (*s)
			s++;
	}
	return a;
}

static void lower_trim(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	while (isspace((unsigned char)*in))
		in++;
	for (; *in && n + 1 < outlen; in++)
		out[n++] = (char)tolower((unsigned char)*in);
	while (n && isspace((unsigned char)out[n - 1]))
		n--;
	out[n] = 0;
}

/* The merge patch one manifest row asks for. */
static json_t *row_patch(const json_t *header, const json_t *row, const char **filename)
{
	json_t *p = json_object(), *rights = json_object(), *alt = json_object();
	size_t i;
	json_t *h;

	*filename = NULL;
	json_array_foreach(header, i, h) {
		const char *col = json_string_value(h), *v = json_string_value(json_array_get(row, i));

		if (!v)
			continue;
		if (!strcmp(col, "filename") || !strcmp(col, "file"))
			*filename = v;
		else if (!*v)
			continue;
		else if (!strcmp(col, "skus") || !strcmp(col, "sku"))
			json_object_set_new(p, "skus", split_list(v));
		else if (!strcmp(col, "tags"))
			json_object_set_new(p, "tags", split_list(v));
		else if (!strcmp(col, "title"))
			json_object_set_new(p, "title", json_string(v));
		else if (!strcmp(col, "alt"))
			json_object_set_new(alt, "en_US", json_string(v));
		else if (!strncmp(col, "alt-", 4) || !strncmp(col, "alt_", 4)) {
			char loc[8];

			/* column names were lower-cased: en_us -> en_US */
			snprintf(loc, sizeof(loc), "%s", col + 4);
			if (strlen(loc) == 5) {
				loc[3] = (char)toupper((unsigned char)loc[3]);
				loc[4] = (char)toupper((unsigned char)loc[4]);
				loc[2] = '_';
			}
			json_object_set_new(alt, loc, json_string(v));
		} else if (!strcmp(col, "rights_holder") || !strcmp(col, "holder"))
			json_object_set_new(rights, "holder", json_string(v));
		else if (!strcmp(col, "licence") || !strcmp(col, "license"))
			json_object_set_new(rights, "licence", json_string(v));
		else if (!strcmp(col, "expires") || !strcmp(col, "rights_expires"))
			json_object_set_new(rights, "expires", json_string(v));
	}
	if (json_object_size(rights))
		json_object_set_new(p, "rights", rights);
	else
		json_decref(rights);
	if (json_object_size(alt))
		json_object_set_new(p, "alt", alt);
	else
		json_decref(alt);
	return p;
}

static void manifest_apply(struct dam_app *app, const char *text, size_t len,
			   const json_t *stored, json_t *errors)
{
	struct manifest m = {json_array(), NULL, 0};
	struct csv_parser p;
	json_t *header = NULL, *row;
	size_t i;

	if (csv_init(&p, CSV_APPEND_NULL) != 0) {
		json_decref(m.rows);
		return;
	}
	if (csv_parse(&p, text, len, csv_field, csv_row, &m) != len ||
	    csv_fini(&p, csv_field, csv_row, &m) != 0) {
		json_array_append_new(errors, json_pack("{s:i,s:s}", "line", 0, "message",
							csv_strerror(csv_error(&p))));
		goto out;
	}
	header = json_array();
	json_array_foreach(json_array_get(m.rows, 0), i, row) {
		char col[64];

		lower_trim(json_string_value(row), col, sizeof(col));
		json_array_append_new(header, json_string(col));
	}
	for (i = 1; i < json_array_size(m.rows); i++) {
		const char *fname;
		json_t *patch = row_patch(header, json_array_get(m.rows, i), &fname), *errs = NULL;
		const char *id = NULL;
		struct hub_err err = {0};
		size_t k;
		json_t *s;

		if (!fname || !*fname) {
			json_array_append_new(errors, json_pack("{s:I,s:s}", "line", (json_int_t)i + 1,
								"message", "no filename"));
			json_decref(patch);
			continue;
		}
		json_array_foreach(stored, k, s) {
			const char *entry = json_get_str(s, "entry");

			if (!strcmp(entry, fname) || !strcmp(base_name(entry), fname))
				id = json_get_str(s, "id");
		}
		if (!id)
			hub_err_set(&err, HUB_ENOTFOUND, "'%s' is not a stored entry of the archive",
				    fname);
		else if (json_object_size(patch))
			dam_asset_patch(app, id, patch, NULL, &errs, &err);
		if (err.code) {
			json_t *e = json_pack("{s:I,s:s,s:s}", "line", (json_int_t)i + 1, "filename",
					      fname, "message", err.msg);

			if (errs)
				json_object_set_new(e, "errors", errs);
			json_array_append_new(errors, e);
		} else {
			json_decref(errs);
		}
		json_decref(patch);
	}
out:
	csv_free(&p);
	json_decref(m.row);
	json_decref(m.rows);
	json_decref(header);
}

/* ---- reading ---- */

/* Streams the current entry into a new blob; *nested when its bytes are an
 * archive. HUB_ETOOBIG past the budget (the entry is dropped). */
/* Entries waiting for their batch to be committed and recorded. */
struct pending {
	struct cas_batch *batch;
	struct dam_ingest *items;
	char **entries; /* the entry names, for the answer */
	size_t n, cap;
	uint64_t bytes;
};

static void pending_clear(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free((char *)p->items[i].filename);
		free(p->entries[i]);
	}
	p->n = 0;
	p->bytes = 0;
}

static void pending_release(struct pending *p)
{
	pending_clear(p);
	cas_batch_free(p->batch);
	free(p->items);
	free(p->entries);
}

/* Commits the batch with two syncs, records its entries in one transaction
 * and lists them in stored. */
static int pending_flush(struct dam_app *app, struct pending *p, json_t *stored, int *created,
			 struct hub_err *err)
{
	int rc;

	if (p->n == 0)
		return 0;
	rc = cas_batch_commit(p->batch, err);
	if (rc == 0)
		rc = dam_asset_record_many(app, p->items, p->n, err);
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		*created |= p->items[i].created;
		json_array_append_new(stored, json_pack("{s:s,s:s}", "entry", p->entries[i], "id",
							json_get_str(p->items[i].answer, "id")));
	}
	for (size_t i = 0; i < p->n; i++)
		json_decref(p->items[i].answer);
	pending_clear(p);
	return rc;
}

/* A batch is committed every this many entries or bytes, which bounds
 * what a crash in the middle of a big archive loses. */
#define BATCH_ENTRIES 256
#define BATCH_BYTES ((uint64_t)256 << 20)

static int entry_store(struct dam_app *app, struct archive *a, const char *name,
		       uint64_t *budget, char *buf, struct pending *p, bool *nested,
		       struct hub_err *err)
{
	struct cas_writer *w = NULL;
	unsigned char head[512];
	size_t nhead = 0;
	la_ssize_t n;
	int rc = cas_writer_new(app->cas, &w, err);

	*nested = false;
	if (rc < 0)
		return rc;
	while ((n = archive_read_data(a, buf, READ_BLOCK)) > 0) {
		if ((uint64_t)n > *budget) {
			*budget = 0;
			rc = hub_err_set(err, HUB_ETOOBIG, "expands past the uncompressed-size limit");
			goto out;
		}
		*budget -= (uint64_t)n;
		if (nhead < sizeof(head)) {
			size_t c = sizeof(head) - nhead < (size_t)n ? sizeof(head) - nhead : (size_t)n;

			memcpy(head + nhead, buf, c);
			nhead += c;
		}
		rc = cas_writer_write(w, buf, (size_t)n, err);
		if (rc < 0)
			goto out;
	}
	if (n < 0) {
		rc = hub_err_set(err, HUB_EINVALID, "%s", archive_error_string(a));
		goto out;
	}
	if (archive_magic(head, nhead) && !zip_document(name, head, nhead)) {
		*nested = true;
		goto out;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct dam_ingest *items = realloc(p->items, cap * sizeof(*items));
		char **entries = items ? realloc(p->entries, cap * sizeof(*entries)) : NULL;

		if (items)
			p->items = items;
		if (!items || !entries) {
			rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
			goto out;
		}
		p->entries = entries;
		p->cap = cap;
	}
	memset(&p->items[p->n], 0, sizeof(p->items[p->n]));
	p->items[p->n].size = cas_writer_size(w);
	p->bytes += cas_writer_size(w);
	rc = cas_batch_add(p->batch, w, p->items[p->n].hex, err);
	w = NULL;
	if (rc < 0)
		goto out;
	p->items[p->n].filename = strdup(base_name(name));
	p->entries[p->n] = strdup(name);
	if (!p->items[p->n].filename || !p->entries[p->n]) {
		free((char *)p->items[p->n].filename);
		free(p->entries[p->n]);
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	p->n++;
out:
	cas_writer_abort(w);
	return rc;
}

int dam_archive_ingest(struct dam_app *app, const char *path, json_t **result, int *created,
		       struct hub_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	json_t *stored = json_array(), *refused = json_array(), *merrs = json_array();
	char *buf = malloc(READ_BLOCK), *manifest = NULL;
	size_t manifest_len = 0;
	uint64_t budget = app->archive_max_bytes, floor;
	struct pending pend = {0};
	struct hub_err eflush = {0};
	long nentries = 0;
	struct stat st;
	int rc = 0, r;

	*result = NULL;
	*created = 0;
	if (!a || !buf) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	rc = cas_batch_new(app->cas, &pend.batch, err);
	if (rc < 0)
		goto out;
	if (stat(path, &st) == 0) {
		floor = (uint64_t)st.st_size * MAX_RATIO;
		if (floor < RATIO_FLOOR)
			floor = RATIO_FLOOR;
		if (floor < budget)
			budget = floor;
	}
	/* only the formats the API promises: "all" would read plain text as mtree */
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
		rc = hub_err_set(err, HUB_EMEDIA, "not a zip, tar or tar.gz archive: %s",
				 archive_error_string(a));
		goto out;
	}
	for (;;) {
		const char *name;
		bool nested = false;
		int mode;
		struct hub_err eerr = {0};

		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (nentries == 0)
				rc = hub_err_set(err, HUB_EMEDIA, "not a zip, tar or tar.gz archive: %s",
						 archive_error_string(a));
			else
				rc = hub_err_set(err, HUB_EINVALID,
						 "the archive is corrupt after entry %ld: %s", nentries,
						 archive_error_string(a));
			break;
		}
		name = archive_entry_pathname_utf8(e);
		if (!name)
			name = archive_entry_pathname(e);
		if (!name || !*name) {
			refuse(refused, "", "bad_name", "the entry has no readable name");
			continue;
		}
		mode = archive_entry_filetype(e);
		if (mode == AE_IFDIR)
			continue;
		if (++nentries > app->archive_max_entries) {
			refuse(refused, name, "too_many_entries",
			       "the archive has more entries than the limit; the rest were not read");
			break;
		}
		if (is_absolute(name)) {
			refuse(refused, name, "absolute_path", "absolute paths are refused");
			continue;
		}
		if (has_dotdot(name)) {
			refuse(refused, name, "path_traversal", "paths with '..' are refused");
			continue;
		}
		if (mode == AE_IFLNK || archive_entry_hardlink(e) || archive_entry_symlink(e)) {
			refuse(refused, name, "link", "links are refused");
			continue;
		}
		if (mode != AE_IFREG) {
			refuse(refused, name, "device", "device files, fifos and sockets are refused");
			continue;
		}
		if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > budget) {
			refuse(refused, name, "too_large",
			       "the entry expands past the uncompressed-size limit");
			continue;
		}
		if (!strcasecmp(name, "manifest.csv") || !strcasecmp(name, "./manifest.csv")) {
			la_ssize_t n;

			free(manifest);
			manifest = NULL;
			manifest_len = 0;
			if (archive_entry_size_is_set(e) && archive_entry_size(e) > MANIFEST_MAX) {
				refuse(refused, name, "too_large", "manifest.csv is over 4 MiB");
				continue;
			}
			manifest = malloc(MANIFEST_MAX);
			while (manifest && (n = archive_read_data(a, manifest + manifest_len,
								  MANIFEST_MAX - manifest_len)) > 0)
				manifest_len += (size_t)n;
			budget -= manifest_len < budget ? manifest_len : budget;
			continue;
		}
		if (archive_name(name)) {
			refuse(refused, name, "nested_archive", "archives inside archives are refused");
			continue;
		}
		r = entry_store(app, a, name, &budget, buf, &pend, &nested, &eerr);
		if (r == HUB_ETOOBIG) {
			refuse(refused, name, "too_large", eerr.msg);
			break; /* the budget is spent: nothing more is read */
		}
		if (r == HUB_EINVALID) {
			refuse(refused, name, "corrupt", eerr.msg);
			continue;
		}
		if (r < 0) {
			rc = r;
			*err = eerr;
			break;
		}
		if (nested) {
			refuse(refused, name, "nested_archive", "archives inside archives are refused");
			continue;
		}
		if (pend.n >= BATCH_ENTRIES || pend.bytes >= BATCH_BYTES) {
			rc = pending_flush(app, &pend, stored, created, err);
			if (rc < 0)
				break;
		}
	}
	if (rc == 0 || rc == HUB_EINVALID || rc == HUB_EMEDIA) {
		/* what was read before damage is kept; a broken flush is fatal */
		int frc = pending_flush(app, &pend, stored, created, &eflush);

		if (frc < 0) {
			rc = frc;
			*err = eflush;
		}
	}
	if (manifest && (rc == 0 || rc == HUB_EINVALID))
		manifest_apply(app, manifest, manifest_len, stored, merrs);
	*result = json_pack("{s:O,s:O}", "stored", stored, "refused", refused);
	if (json_array_size(merrs))
		json_object_set(*result, "manifest_errors", merrs);
out:
	pending_release(&pend);
	if (a)
		archive_read_free(a);
	free(buf);
	free(manifest);
	json_decref(stored);
	json_decref(refused);
	json_decref(merrs);
	return rc;
}

/* POST /v1/assets/archive */
int dam_archive_handle(struct http_req *req)
{
	struct spool *s = http_ctx(req);
	struct hub_err err = {0};
	json_t *result = NULL;
	int created = 0, rc;

	if (!s || s->size == 0)
		return http_reply_problem(req, 400, "the body is empty: send a zip, tar or tar.gz",
					  NULL);
	rc = dam_archive_ingest(http_app(req), s->path, &result, &created, &err);
	if (rc == HUB_EINVALID && result) {
		char msg[sizeof(err.msg)];
		json_t *errors;

		dam_text_scrub(err.msg, ((struct dam_app *)http_app(req))->data_dir, msg, sizeof(msg));
		errors = json_pack("[{s:s,s:s,s:s}]", "path", "", "code", "corrupt", "message", msg);
		dam_reply_problem(req, 422, err.msg, errors);
		json_decref(errors);
		json_decref(result);
		return 0;
	}
	if (rc < 0) {
		json_decref(result);
		return dam_reply_err(req, &err);
	}
	dam_reply_json(req, created ? 201 : 200, result);
	json_decref(result);
	return 0;
}
