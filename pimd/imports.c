/* Import jobs over HTTP and the runner shared with pimctl --offline. */
#include "imports.h"

#include "app.h"
#include "auth.h"
#include "catalog.h"
#include "catalog_int.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "models.h"
#include "schema.h"
#include "search.h"
#include "store.h"
#include "text.h"
#include "validate.h"

#include "../importers/imp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IMPORT_MAX_BODY ((size_t)64 << 30) /* 64 GiB: bounded by the disk */
#define IMPORT_MAX_ERRORS 1000             /* error entries kept per report */
#define IMPORT_KEEP_JOBS 200               /* finished jobs kept in memory */
#define IMPORT_MAX_LOCALE 31               /* bytes of a locale code */

enum job_status { J_QUEUED, J_RUNNING, J_DONE, J_FAILED, J_CANCELLED };
static const char *const status_names[] = {"queued", "running", "done", "failed", "cancelled"};
static const char *const mode_names[] = {"upsert", "create", "update"};

/* Counters of one run; under the jobs' lock when a job's report is read
 * from other threads. */
struct counts {
	uint64_t bytes_total, bytes_done;
	long rows, created, updated, unchanged, failed;
	long schema_written; /* schema documents a feed created or changed */
	/* Akeneo sub-model records kept, and variants their changes reached */
	long models_created, models_updated, models_unchanged, variants_updated;
	long nerrors;
	json_t *errors;
	double seconds;
};

struct job {
	char id[32];
	enum job_status status;
	char format[16];
	char profile[64];
	json_t *profile_doc; /* inline profile (X-Import-Profile), or loaded */
	enum pim_mode mode;
	bool dry_run;
	bool admin; /* may write schema documents other than categories */
	bool sniff; /* no format given: told by the file's first bytes */
	char locale[IMPORT_MAX_LOCALE + 1]; /* the request's locale=, or empty */
	char by[128];
	char spool[4096];
	char fail_msg[512];
	struct counts c;
	atomic_bool cancel;
	struct timespec t0;
	struct job *next; /* newest first */
	struct job *qnext;
};

struct pim_imports {
	struct pim_app *app;
	char dir[4096];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t worker;
	bool stopping, started;
	int lock_fd;
	struct job *jobs;          /* every job in memory, newest first */
	struct job *qhead, *qtail; /* waiting to run */
	unsigned seq;
};

/* ---- the runner ---- */

struct run {
	struct pim_app *app;
	struct pim_batch *b;
	const char *by;
	bool dry_run;
	bool admin; /* as the job's */
	bool parent_family; /* variants take their parent's family (Akeneo) */
	/* the row being written names a product as its parent (1) or an
	 * Akeneo sub-model (2, via_model its code) */
	int parent_kind;
	char via_model[PIM_MODEL_MAX_CODE + 1];
	enum pim_mode mode;
	int in_batch;
	struct counts *c;
	pthread_mutex_t *lock; /* of the counts */
	atomic_bool *cancel;
	int fatal;
	struct hub_err fatal_err;
	struct timespec t0;
	struct timespec last_progress;
	void (*progress)(void *cls, const json_t *report);
	void *progress_cls;
	json_t *report; /* offline: refreshed for progress */
	void (*report_fill)(struct run *r);
	/* after each commit of a batch (NULL: nothing to do), so that a job's
	 * report can say how far it got should pimd die */
	void (*committed)(void *cls);
	void *committed_cls;
	struct imp_fault fault; /* where a malformed file went wrong */
	bool nfc_noted;         /* a sku was taken in NFC (see nfc_refs) */
};

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void lock(struct run *r)
{
	if (r->lock)
		pthread_mutex_lock(r->lock);
}

static void unlock(struct run *r)
{
	if (r->lock)
		pthread_mutex_unlock(r->lock);
}

/* Appends an error entry (under the lock), keeping the first ones. */
static void add_error(struct run *r, long line, const char *field, const char *code,
		      const char *msg)
{
	lock(r);
	r->c->nerrors++;
	if (json_array_size(r->c->errors) < IMPORT_MAX_ERRORS)
		json_array_append_new(r->c->errors,
				      json_pack("{s:I,s:s?,s:s,s:s}", "line", (json_int_t)line, "field",
						field, "code", code ? code : "error", "message",
						msg ? msg : ""));
	unlock(r);
}

static int batch_open(struct run *r)
{
	struct hub_err e = {0};

	if (r->b)
		return 0;
	if (pim_batch_begin(r->app, r->by, r->dry_run, &r->b, &e) < 0) {
		r->fatal = e.code ? e.code : HUB_EIO;
		r->fatal_err = e;
		return r->fatal;
	}
	r->in_batch = 0;
	return 0;
}

static int batch_close(struct run *r, bool last)
{
	struct hub_err e = {0};

	if (!r->b)
		return 0;
	if (!last)
		pim_batch_lazy(r->b); /* synced once at the end */
	if (pim_batch_commit(r->b, &e) < 0) {
		r->b = NULL;
		r->fatal = e.code ? e.code : HUB_EIO;
		r->fatal_err = e;
		return r->fatal;
	}
	r->b = NULL;
	if (r->committed)
		r->committed(r->committed_cls);
	return 0;
}

/* The report's entry for a file that could not be read to its end, at
 * the line and byte the reader named (line 0 and no byte when it named
 * none). A new reference. */
static json_t *file_error(const struct imp_fault *f, const char *msg)
{
	json_t *e = json_pack("{s:I,s:n,s:s,s:s}", "line", (json_int_t)f->line, "field", "code",
			      "malformed_file", "message", msg);

	if (f->byte >= 0)
		json_object_set_new(e, "byte", json_integer(f->byte));
	return e;
}

static void row_problems(struct run *r, long line, json_t *problems)
{
	size_t i;
	json_t *p;

	json_array_foreach(problems, i, p)
		add_error(r, line, json_string_value(json_object_get(p, "path")),
			  json_string_value(json_object_get(p, "code")),
			  json_string_value(json_object_get(p, "message")));
}

/* A patch's values name only the locales, channels and currencies of its
 * columns: the stored product's other entries of the same attributes are
 * kept (a CSV with name-fr_FR does not erase the English name). */
static void merge_values(struct run *r, const char *sku, json_t *patch)
{
	json_t *values = json_object_get(patch, "values"), *stored, *svals, *arr;
	const char *k;

	if (!json_object_size(values) || !sku)
		return;
	stored = pim_product_load(pim_batch_txn(r->b), sku);
	svals = json_object_get(stored, "values");
	json_object_foreach(values, k, arr) {
		json_t *old = json_object_get(svals, k), *merged, *e, *n;
		size_t i, j;

		if (!json_is_array(old) || !json_is_array(arr))
			continue;
		merged = json_deep_copy(old);
		json_array_foreach(arr, i, n) {
			bool found = false;

			json_array_foreach(merged, j, e) {
				json_t *od = json_object_get(e, "data"), *nd = json_object_get(n, "data");

				if (!json_same_member(e, n, "locale") || !json_same_member(e, n, "channel"))
					continue;
				found = true;
				if (json_is_array(od) && json_is_array(nd) && json_array_size(nd) &&
				    json_is_object(json_array_get(nd, 0)) &&
				    json_object_get(json_array_get(nd, 0), "currency")) {
					/* prices: the columns' currencies replace theirs only */
					size_t a, c;
					json_t *np, *op;

					json_array_foreach(nd, a, np) {
						bool done = false;

						json_array_foreach(od, c, op)
							if (json_same_member(op, np, "currency")) {
								json_array_set(od, c, np);
								done = true;
							}
						if (!done)
							json_array_append(od, np);
					}
				} else {
					json_object_set(e, "data", nd);
				}
			}
			if (!found)
				json_array_append(merged, n);
		}
		json_object_set_new(values, k, merged);
	}
	json_decref(stored);
}

/* The attributes a variant of family sets itself (attribute → true): its
 * axes, its variant attributes and the identifier. A new reference. */
static json_t *variant_keep(struct pim_app *app, const char *family)
{
	json_t *fam = pim_schema_get(app, "families", family ? family : "");
	json_t *keep = imp_variant_attrs(fam, "sku");

	json_decref(fam);
	return keep;
}

/* Akeneo rows name the family of the product, while a variant here has
 * its parent's family (a family variant became a family): take the
 * parent's, and keep the values a variant sets. A parent that is a kept
 * sub-model (see on_model) gives way to its root, the sub-model's values
 * and categories laid under the row's own; one that is a variant climbs
 * to its root (one level here). An orphan is imported as a product of
 * its own. */
static void adopt_parent_family(struct run *r, json_t *doc, long line)
{
	const char *psku = json_string_value(json_object_get(doc, "parent"));
	json_t *parent, *keep, *a;
	const char *fcode, *k;
	void *tmp;

	r->parent_kind = 0;
	r->via_model[0] = '\0';
	if (!psku)
		return;
	parent = pim_product_load(pim_batch_txn(r->b), psku);
	if (parent && json_is_string(json_object_get(parent, "parent"))) {
		json_t *root = pim_product_load(pim_batch_txn(r->b),
						json_string_value(json_object_get(parent, "parent")));

		json_decref(parent);
		parent = root;
	}
	r->parent_kind = parent ? 1 : 0;
	if (!parent) {
		json_t *rec = pim_model_get(pim_batch_txn(r->b), psku);
		char msg[600] = "";

		if (rec) {
			parent = pim_product_load(pim_batch_txn(r->b), json_get_str(rec, "parent"));
			if (parent) {
				pim_model_lay_under(doc, rec);
				snprintf(r->via_model, sizeof(r->via_model), "%s",
					 json_get_str(rec, "code"));
				r->parent_kind = 2;
			} else {
				snprintf(msg, sizeof(msg),
					 "sub-model '%.200s' belongs to root model '%.200s', which is "
					 "not in the catalog: the product is imported on its own",
					 psku, json_get_str(rec, "parent") ? json_get_str(rec, "parent") : "");
			}
			json_decref(rec);
		} else {
			snprintf(msg, sizeof(msg),
				 "parent '%.200s' is neither a product nor a sub-model in the catalog: "
				 "the product is imported on its own",
				 psku);
		}
		if (!parent) {
			add_error(r, line, "parent", "unknown_parent", msg);
			json_object_del(doc, "parent");
			return;
		}
	}
	json_object_set(doc, "parent", json_object_get(parent, "sku"));
	fcode = json_string_value(json_object_get(parent, "family"));
	json_object_set_new(doc, "family", json_string(fcode ? fcode : ""));
	keep = variant_keep(r->app, fcode);
	json_object_foreach_safe(json_object_get(doc, "values"), tmp, k, a)
		if (!json_object_get(keep, k))
			json_object_del(json_object_get(doc, "values"), k);
	json_decref(keep);
	json_decref(parent);
}

/* Files saved on macOS often hold decomposed accents ("Cafe\u0301"), and
 * the store takes a new sku in NFC only (write_checked): a sku or parent
 * that is no product as it is, is taken in NFC, the form that looks the
 * same. Said once a job. */
static const char *const ref_fields[] = {"sku", "parent"};
#define NREF_FIELDS (sizeof(ref_fields) / sizeof(ref_fields[0]))

/* The NFC form of doc's ref_fields[i] when it is not in NFC (the caller
 * frees it), else NULL; v gets the field as it is. */
static char *ref_nfc(json_t *doc, size_t i, const char **v)
{
	*v = json_string_value(json_object_get(doc, ref_fields[i]));
	return *v ? text_nfc(*v) : NULL;
}

static void nfc_refs(struct run *r, json_t *doc, long line)
{
	for (size_t i = 0; i < NREF_FIELDS; i++) {
		const char *v;
		char *nfc = ref_nfc(doc, i, &v);

		if (!nfc)
			continue;
		if (pim_get(pim_batch_txn(r->b), PDB_PRODUCTS, v, strlen(v), NULL, NULL) != 0) {
			if (!r->nfc_noted) {
				char msg[600];

				snprintf(msg, sizeof(msg),
					 "a %s written with decomposed accents (Unicode NFD) is taken "
					 "in NFC, the form that looks the same: '%.200s' here, and skus "
					 "like it in later rows",
					 ref_fields[i], nfc);
				add_error(r, line, ref_fields[i], "sku_normalized", msg);
				r->nfc_noted = true;
			}
			json_object_set_new(doc, ref_fields[i], json_string(nfc));
		}
		free(nfc);
	}
}

/* Merges a row's patch into the stored product. */
static int row_merge(struct run *r, const char *sku, json_t *doc, int *outcome, json_t **problems,
		     struct hub_err *e)
{
	merge_values(r, sku, doc);
	return pim_batch_patch(r->b, sku, doc, r->mode, outcome, problems, e);
}

/* Writes one row's document in the open batch; prep (NULL: none) is what
 * pim_prepare made of it. */
static int row_write(struct run *r, json_t *doc, struct pim_prep *prep, enum imp_op op,
		     long line)
{
	const char *sku = json_string_value(json_object_get(doc, "sku"));
	json_t *problems = NULL;
	struct hub_err e = {0};
	int outcome = 0, rc;

	if (prep) {
		/* a patch was prepared as the document of a new product: written
		 * as such only while there is none, else merged as the patch it is */
		rc = pim_batch_put_prepared(r->b, prep, op == IMP_PATCH ? PIM_MODE_CREATE : r->mode,
					    &outcome, &problems, &e);
		if (rc == HUB_ECONFLICT && op == IMP_PATCH && r->mode == PIM_MODE_UPSERT)
			rc = row_merge(r, sku, doc, &outcome, &problems, &e);
	} else if (op == IMP_PATCH) {
		rc = row_merge(r, sku, doc, &outcome, &problems, &e);
	} else if (op == IMP_DISABLE) {
		/* never creates: a product that is missing has nothing to disable */
		rc = pim_batch_patch(r->b, sku, doc,
				     r->mode == PIM_MODE_CREATE ? PIM_MODE_CREATE : PIM_MODE_UPDATE,
				     &outcome, &problems, &e);
	} else {
		rc = pim_batch_put(r->b, doc, r->mode, &outcome, &problems, &e);
	}
	if (rc == 0 && r->parent_family && !r->dry_run && sku && r->parent_kind) {
		/* remember which sub-model the variant came from, so that a change
		 * of the sub-model reaches it (on_model) */
		if (r->parent_kind == 2)
			rc = pim_model_link(pim_batch_txn(r->b), r->via_model, sku, &e);
		else
			rc = pim_model_unlink(pim_batch_txn(r->b), sku, &e);
		if (rc < 0) {
			json_decref(problems);
			r->fatal = rc;
			r->fatal_err = e;
			return rc;
		}
	}
	if (rc == 0) {
		lock(r);
		r->c->rows++;
		if (outcome == PIM_CREATED)
			r->c->created++;
		else if (outcome == PIM_UPDATED)
			r->c->updated++;
		else
			r->c->unchanged++;
		unlock(r);
	} else if (rc == HUB_EINVALID || rc == HUB_ECONFLICT || rc == HUB_ENOTFOUND ||
		   rc == HUB_EINVAL) {
		char msg[600];

		lock(r);
		r->c->rows++;
		r->c->failed++;
		unlock(r);
		if (rc == HUB_EINVALID && json_array_size(problems)) {
			row_problems(r, line, problems);
		} else if (rc == HUB_ECONFLICT) {
			snprintf(msg, sizeof(msg),
				 "product '%.200s' exists already (mode create adds new products only)",
				 sku ? sku : "");
			add_error(r, line, "sku", "exists", msg);
		} else if (rc == HUB_ENOTFOUND && op == IMP_DISABLE) {
			snprintf(msg, sizeof(msg),
				 "there is no product '%.200s' to delete (a feed's delete disables "
				 "an existing product)",
				 sku ? sku : "");
			add_error(r, line, "sku", "not_found", msg);
		} else if (rc == HUB_ENOTFOUND) {
			snprintf(msg, sizeof(msg),
				 "there is no product '%.200s' to update (mode update changes existing "
				 "products only)",
				 sku ? sku : "");
			add_error(r, line, "sku", "not_found", msg);
		} else {
			add_error(r, line, NULL, hub_err_name(rc), e.msg);
		}
	} else {
		json_decref(problems);
		r->fatal = rc;
		r->fatal_err = e;
		return rc;
	}
	json_decref(problems);
	if (++r->in_batch >= IMPORT_BATCH && batch_close(r, false) < 0)
		return r->fatal;
	return 0;
}

static int on_doc(void *cls, json_t *doc, enum imp_op op, long line)
{
	struct run *r = cls;

	if (batch_open(r) < 0)
		return r->fatal;
	nfc_refs(r, doc, line);
	if (r->parent_family)
		adopt_parent_family(r, doc, line);
	return row_write(r, doc, NULL, op, line);
}

/* Rows checked ahead on an import lane (imp_sink.prepare): a put, or a
 * patch that is the whole document of a new product (as a CSV row's is),
 * whose sku and parent are taken as they are (nfc_refs has nothing to
 * do). Runs beside the other lanes: reads nothing of r that changes. */
static void *on_prepare(void *cls, json_t *doc, enum imp_op op)
{
	struct run *r = cls;
	const char *sku = json_string_value(json_object_get(doc, "sku"));

	if (r->parent_family || !sku)
		return NULL;
	if (op != IMP_PUT && (op != IMP_PATCH || r->mode == PIM_MODE_UPDATE ||
			      !pim_patch_is_document(doc, sku)))
		return NULL;
	for (size_t i = 0; i < NREF_FIELDS; i++) {
		const char *v;
		char *nfc = ref_nfc(doc, i, &v);

		free(nfc);
		if (nfc)
			return NULL;
	}
	return pim_prepare(r->app, doc);
}

static int on_doc_prepared(void *cls, json_t *doc, enum imp_op op, long line, void *prep)
{
	struct run *r = cls;

	if (!prep)
		return on_doc(cls, doc, op, line);
	if (batch_open(r) < 0)
		return r->fatal;
	return row_write(r, doc, prep, op, line);
}

static void on_prep_free(void *prep)
{
	pim_prep_free(prep);
}

/* An import lane's chunk is its own transaction, ended on the lane's
 * thread (LMDB's writer and the store's write lock belong to it): the
 * next lane's thread opens the next one. A failed write loses the open
 * batch, as without lanes. */
static int on_chunk_done(void *cls)
{
	struct run *r = cls;

	if (r->fatal) {
		if (r->b)
			pim_batch_abort(r->b);
		r->b = NULL;
		return r->fatal;
	}
	return batch_close(r, false);
}

/* Lanes an import maps its rows on: the flag's, else one a CPU, up to 4. */
static int import_lanes(const struct pim_app *app)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (app->import_lanes > 0)
		return (int)app->import_lanes;
	return cpus < 1 ? 1 : cpus > 4 ? 4 : (int)cpus;
}

static void on_row_failed(void *cls, long line, json_t *errors)
{
	struct run *r = cls;
	size_t i;
	json_t *e;

	lock(r);
	r->c->rows++;
	r->c->failed++;
	unlock(r);
	json_array_foreach(errors, i, e)
		add_error(r, line, json_string_value(json_object_get(e, "field")),
			  json_string_value(json_object_get(e, "code")),
			  json_string_value(json_object_get(e, "message")));
}

/* A sub-model row that is not kept: counted as failed, with its reason. */
static void model_failed(struct run *r, long line, const char *field, const char *code,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void model_failed(struct run *r, long line, const char *field, const char *code,
			 const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lock(r);
	r->c->rows++;
	r->c->failed++;
	unlock(r);
	add_error(r, line, field, code, msg);
}

/* Carries the change of sub-model record old to rec into the variants
 * imported under it, in the job's transaction: each gets the merge patch
 * of pim_model_variant_patch (and rec's root, when the sub-model moved),
 * validated like any write. A variant that no longer exists, or that was
 * moved under another parent since, is forgotten. Problems are reported
 * on the sub-model's line; they fail no row. */
static int propagate(struct run *r, const json_t *old, const json_t *rec, const json_t *root,
		     long line)
{
	const char *code = json_get_str(rec, "code");
	const char *oroot = json_get_str(old, "parent"), *nroot = json_get_str(rec, "parent");
	json_t *skus = pim_model_variants(pim_batch_txn(r->b), code), *s;
	json_t *keep = variant_keep(r->app, json_get_str(root, "family"));
	bool moved = !oroot || strcmp(oroot, nroot);
	size_t i;
	int rc = 0;

	json_array_foreach(skus, i, s) {
		const char *sku = json_string_value(s);
		json_t *v = pim_product_load(pim_batch_txn(r->b), sku), *patch, *problems = NULL;
		const char *vp = json_get_str(v, "parent");
		struct hub_err e = {0};
		int outcome = 0;

		if (!v || !vp || (strcmp(vp, nroot) && (!oroot || strcmp(vp, oroot)))) {
			json_decref(v);
			if (!r->dry_run && (rc = pim_model_unlink(pim_batch_txn(r->b), sku, &e)) < 0) {
				r->fatal_err = e;
				break;
			}
			continue;
		}
		patch = pim_model_variant_patch(old, rec, v, keep);
		if (moved && strcmp(vp, nroot)) {
			if (!patch)
				patch = json_object();
			json_object_set_new(patch, "parent", json_string(nroot));
			json_object_set(patch, "family", json_object_get(root, "family"));
		}
		json_decref(v);
		if (!patch)
			continue;
		rc = pim_batch_patch(r->b, sku, patch, PIM_MODE_UPDATE, &outcome, &problems, &e);
		json_decref(patch);
		r->in_batch++;
		if (rc == 0) {
			lock(r);
			if (outcome == PIM_UPDATED)
				r->c->variants_updated++;
			unlock(r);
		} else if (rc == HUB_EINVALID || rc == HUB_ENOTFOUND || rc == HUB_EINVAL) {
			json_t *p;
			size_t k;
			char msg[800];

			json_array_foreach(problems, k, p) {
				snprintf(msg, sizeof(msg), "variant '%.200s' of sub-model '%.200s' keeps "
					 "its values: %s", sku, code,
					 json_get_str(p, "message") ? json_get_str(p, "message") : "");
				add_error(r, line, json_get_str(p, "path"), json_get_str(p, "code"), msg);
			}
			if (!json_array_size(problems))
				add_error(r, line, NULL, hub_err_name(rc), e.msg);
			rc = 0;
		} else {
			r->fatal_err = e;
			json_decref(problems);
			break;
		}
		json_decref(problems);
	}
	json_decref(keep);
	json_decref(skus);
	return rc;
}

/* An Akeneo sub-model row (imp_sink.model): kept as a record in the
 * `models` database (see models.h) rather than written as a product. Its
 * root model must be a product by then (Akeneo exports roots first); its
 * values are checked as a product of the root's family would be. The job's
 * mode holds for records as for products: create refuses one that exists,
 * update one that does not. A dry run writes nothing. */
static int on_model(void *cls, json_t *doc, enum imp_op op, long line)
{
	struct run *r = cls;
	const char *code, *root, *family = json_get_str(doc, "family"), *rfam;
	json_t *old = NULL, *rec = NULL, *rootdoc = NULL, *trial = NULL, *problems, *norm;
	struct pim_schema *schema;
	struct hub_err e = {0};
	int rc = 0;

	if (batch_open(r) < 0)
		return r->fatal;
	nfc_refs(r, doc, line); /* as the variants' parents will be */
	code = json_get_str(doc, "sku");
	root = json_get_str(doc, "parent");
	if (!code || strlen(code) > PIM_MODEL_MAX_CODE) {
		model_failed(r, line, "code", "bad_code", "a sub-model code is 1 to %d bytes",
			     PIM_MODEL_MAX_CODE);
		return 0;
	}
	old = pim_model_get(pim_batch_txn(r->b), code);
	if (old && r->mode == PIM_MODE_CREATE) {
		model_failed(r, line, "code", "exists",
			     "sub-model '%.200s' exists already (mode create adds new ones only)", code);
		goto out;
	}
	if (!old && r->mode == PIM_MODE_UPDATE) {
		model_failed(r, line, "code", "not_found",
			     "there is no sub-model '%.200s' to update (mode update changes existing "
			     "ones only)", code);
		goto out;
	}
	rootdoc = pim_product_load(pim_batch_txn(r->b), root);
	if (!rootdoc) {
		json_t *up = pim_model_get(pim_batch_txn(r->b), root);

		if (up)
			model_failed(r, line, "parent", "nested_variant",
				     "parent '%.200s' is itself a sub-model: Akeneo models have two "
				     "levels", root);
		else
			model_failed(r, line, "parent", "unknown_parent",
				     "root model '%.200s' is not in the catalog: sub-model '%.200s' is "
				     "not kept (root models are imported before their sub-models)",
				     root, code);
		json_decref(up);
		goto out;
	}
	if (json_is_string(json_object_get(rootdoc, "parent"))) {
		model_failed(r, line, "parent", "nested_variant",
			     "parent '%.200s' is a variant, not a root model", root);
		goto out;
	}
	rfam = json_get_str(rootdoc, "family");
	if (family && rfam && strcmp(family, rfam)) {
		model_failed(r, line, "family_variant", "parent_family_mismatch",
			     "root model '%.200s' is of family variant '%s', not '%s'", root, rfam,
			     family);
		goto out;
	}
	rec = pim_model_merge(old, doc, op == IMP_PATCH);
	/* its values are checked now, as a product of the root's family */
	trial = json_pack("{s:s,s:s?,s:O,s:O,s:O}", "sku", json_get_str(rootdoc, "sku"), "family",
			  rfam, "categories", json_object_get(rec, "categories"), "values",
			  json_object_get(rec, "values"), "associations",
			  json_object_get(rec, "associations"));
	problems = json_array();
	schema = pim_catalog_schema(r->app);
	norm = pim_validate(schema, json_get_str(rootdoc, "sku"), trial, problems);
	pim_schema_unref(schema);
	json_decref(norm);
	if (json_array_size(problems)) {
		lock(r);
		r->c->rows++;
		r->c->failed++;
		unlock(r);
		row_problems(r, line, problems);
		json_decref(problems);
		goto out;
	}
	json_decref(problems);
	lock(r);
	r->c->rows++;
	if (old && json_equal(old, rec))
		r->c->models_unchanged++;
	else if (old)
		r->c->models_updated++;
	else
		r->c->models_created++;
	unlock(r);
	if (old && json_equal(old, rec))
		goto out;
	if (!r->dry_run && (rc = pim_model_put(pim_batch_txn(r->b), rec, &e)) < 0) {
		r->fatal_err = e;
		goto out;
	}
	if (old)
		rc = propagate(r, old, rec, rootdoc, line);
	if (rc == 0 && ++r->in_batch >= IMPORT_BATCH && batch_close(r, false) < 0)
		rc = r->fatal;
out:
	if (rc < 0 && !r->fatal)
		r->fatal = rc;
	json_decref(trial);
	json_decref(rec);
	json_decref(rootdoc);
	json_decref(old);
	return rc;
}

static void on_note(void *cls, long line, const char *field, const char *code, const char *msg)
{
	add_error(cls, line, field, code, msg);
}

/* A schema document from the feed: written outside the product batch. */
static int on_schema_doc(void *cls, const char *kind, json_t *doc, long line)
{
	struct run *r = cls;
	json_t *problems = NULL;
	struct hub_err e = {0};
	const char *code = json_string_value(json_object_get(doc, "code"));
	json_t *have;

	if (r->dry_run)
		return 0;
	/* as through the API: merchandisers write categories, admins the rest */
	if (!r->admin && strcmp(kind, "categories")) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s '%.100s' was not created: %s are written by admins",
			 kind, code ? code : "", kind);
		add_error(r, line, code, "schema_refused", msg);
		return 0;
	}
	have = pim_schema_get(r->app, kind, code ? code : "");
	if (have && !json_is_true(json_object_get(doc, "$replace"))) {
		json_decref(have);
		return 0; /* the catalog's own definition wins */
	}
	json_decref(have);
	json_object_del(doc, "$replace");
	if (batch_close(r, true) < 0)
		return r->fatal;
	if (pim_schema_put(r->app, kind, doc, r->by, &problems, &e) < 0) {
		char msg[600];

		if (json_array_size(problems))
			snprintf(msg, sizeof(msg), "%s '%s' was not created: %s", kind, code ? code : "",
				 json_string_value(json_object_get(json_array_get(problems, 0), "message")));
		else
			snprintf(msg, sizeof(msg), "%s '%s' was not created: %s", kind, code ? code : "",
				 e.msg);
		add_error(r, line, code, "schema_refused", msg);
	} else {
		lock(r);
		r->c->schema_written++;
		unlock(r);
	}
	json_decref(problems);
	return 0;
}

static bool on_progress(void *cls, uint64_t bytes)
{
	struct run *r = cls;
	bool show = r->progress && since(&r->last_progress) >= 0.25;

	lock(r);
	r->c->bytes_done = bytes;
	r->c->seconds = since(&r->t0);
	if (show) /* import lanes count rows meanwhile */
		r->report_fill(r);
	unlock(r);
	if (show) {
		clock_gettime(CLOCK_MONOTONIC, &r->last_progress);
		r->progress(r->progress_cls, r->report);
	}
	return r->cancel && atomic_load(r->cancel);
}

json_t *pim_import_schema(struct pim_app *app)
{
	static const char *const keyed[] = {"attributes", "families", "channels", "categories"};
	static const char *const listed[] = {"locales", "currencies"};
	json_t *s = json_object(), *arr, *d;
	size_t i;

	for (size_t k = 0; k < 4; k++) {
		json_t *obj = json_object();

		arr = pim_schema_list(app, keyed[k]);
		json_array_foreach(arr, i, d)
			if (json_get_str(d, "code"))
				json_object_set(obj, json_get_str(d, "code"), d);
		json_decref(arr);
		json_object_set_new(s, keyed[k], obj);
	}
	for (size_t k = 0; k < 2; k++) {
		json_t *codes = json_array();

		arr = pim_schema_list(app, listed[k]);
		json_array_foreach(arr, i, d)
			if (json_get_str(d, "code"))
				json_array_append_new(codes, json_string(json_get_str(d, "code")));
		json_decref(arr);
		json_object_set_new(s, listed[k], codes);
	}
	return s;
}

/* Parses fd into the catalog; the counters land in r->c. */
static int run_import(struct run *r, int fd, enum imp_format f, json_t *profile,
		      const char *locale, struct hub_err *err)
{
	struct imp_sink sink = {
		.doc = on_doc,
		.row_failed = on_row_failed,
		.note = on_note,
		.schema_doc = on_schema_doc,
		.progress = on_progress,
		.cls = r,
		.model = on_model,
		.lanes = import_lanes(r->app),
		.prepare = on_prepare,
		.doc_prepared = on_doc_prepared,
		.prep_free = on_prep_free,
		.chunk_done = on_chunk_done,
	};
	struct imp_opts o = {f, NULL, profile, locale && *locale ? locale : NULL, NULL};
	int rc;

	r->fault = (struct imp_fault){0, -1};
	o.fault = &r->fault;
	o.schema = pim_import_schema(r->app);
	r->parent_family = json_is_true(json_object_get(profile, "variant_family_from_parent"));
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->last_progress = r->t0;
	rc = imp_run(fd, &o, &sink, err);
	/* Rows read before a malformed part of the file, or before a cancel,
	 * are committed, as the report counts them; only a failed store
	 * loses the open batch. */
	if (r->fatal) {
		rc = r->fatal;
		*err = r->fatal_err;
		if (r->b)
			pim_batch_abort(r->b);
		r->b = NULL;
	} else if (batch_close(r, true) < 0) {
		rc = r->fatal;
		*err = r->fatal_err;
	}
	if (!r->dry_run) {
		struct hub_err se = {0};

		/* the lazily committed batches reach the disk before "done" */
		if (pim_catalog_sync(r->app, &se) < 0 && rc == 0) {
			rc = se.code ? se.code : HUB_EIO;
			*err = se;
		}
	}
	lock(r);
	r->c->seconds = since(&r->t0);
	if (rc == 0)
		r->c->bytes_done = r->c->bytes_total;
	unlock(r);
	json_decref(o.schema);
	return rc;
}

static int parse_mode(const char *s, enum pim_mode *out)
{
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, mode_names[i])) {
			*out = (enum pim_mode)i;
			return 0;
		}
	return -1;
}

/* A locale the job's rows default to must be one of the catalog's. */
static int check_locale(struct pim_app *app, const char *code, struct hub_err *err)
{
	json_t *d = strlen(code) <= IMPORT_MAX_LOCALE ? pim_schema_get(app, "locales", code)
							   : NULL;

	if (!d)
		return hub_err_set(err, HUB_EINVAL, "locale '%.40s' is not a locale of the catalog",
				   code);
	json_decref(d);
	return 0;
}

static void counts_to_json(const struct counts *c, json_t *rep, bool with_errors)
{
	double secs = c->seconds > 0 ? c->seconds : 0;
	long rps = secs > 0.001 ? (long)((double)c->rows / secs) : 0;

	json_object_set_new(rep, "bytes_total", json_integer((json_int_t)c->bytes_total));
	json_object_set_new(rep, "bytes_done", json_integer((json_int_t)c->bytes_done));
	json_object_set_new(rep, "rows", json_integer(c->rows));
	json_object_set_new(rep, "created", json_integer(c->created));
	json_object_set_new(rep, "updated", json_integer(c->updated));
	json_object_set_new(rep, "unchanged", json_integer(c->unchanged));
	json_object_set_new(rep, "failed", json_integer(c->failed));
	json_object_set_new(rep, "schema_written", json_integer(c->schema_written));
	json_object_set_new(rep, "models",
			    json_pack("{s:I,s:I,s:I,s:I}", "created", (json_int_t)c->models_created,
				      "updated", (json_int_t)c->models_updated, "unchanged",
				      (json_int_t)c->models_unchanged, "variants_updated",
				      (json_int_t)c->variants_updated));
	json_object_set_new(rep, "rows_per_second", json_integer(rps));
	json_object_set_new(rep, "seconds", json_real((double)(long)(secs * 1000) / 1000));
	json_object_set_new(rep, "errors_total", json_integer(c->nerrors));
	/* a copy: the job goes on appending to its list after the lock is
	 * released, while the report is written out */
	if (with_errors)
		json_object_set_new(rep, "errors", c->errors ? json_copy(c->errors) : json_array());
}

struct offline_fill {
	const char *format, *profile, *mode;
	bool dry_run;
};

static void offline_fill(struct run *r)
{
	counts_to_json(r->c, r->report, false);
}

int pim_import_file(struct pim_app *app, int fd, const char *format, const char *profile,
		    const char *mode, const char *locale, bool dry_run, const char *by, json_t *report,
		    void (*progress)(void *cls, const json_t *report), void *cls,
		    struct hub_err *err)
{
	enum imp_format f = imp_format_parse(format);
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* for import lanes */
	struct counts c = {0};
	struct run r = {.lock = &mu};
	json_t *prof = NULL;
	struct stat st;
	char pdir[4096];
	int rc;

	if (f == IMP_FORMAT_NONE)
		return hub_err_set(err, HUB_EINVAL, "unknown format '%s' (csv, gmc-xml, gmc-tsv, bmecat, jsonl)",
				   format ? format : "");
	if (!profile || !*profile)
		profile = imp_default_profile(f);
	if (!mode)
		mode = "upsert";
	if (parse_mode(mode, &r.mode) < 0)
		return hub_err_set(err, HUB_EINVAL, "unknown mode '%s' (upsert, create, update)", mode);
	if (locale && *locale && (rc = check_locale(app, locale, err)) < 0)
		return rc;
	snprintf(pdir, sizeof(pdir), "%s/profiles", app->schemas_dir ? app->schemas_dir : "schemas");
	if (profile && (rc = imp_profile_load(pdir, profile, &prof, err)) < 0)
		return rc;
	c.errors = json_array();
	if (fstat(fd, &st) == 0)
		c.bytes_total = (uint64_t)st.st_size;
	r.app = app;
	r.by = by;
	r.admin = true; /* pimctl --offline: whoever owns the data directory */
	r.dry_run = dry_run;
	r.c = &c;
	r.progress = progress;
	r.progress_cls = cls;
	r.report = report;
	r.report_fill = offline_fill;
	json_object_set_new(report, "format", json_string(imp_format_name(f)));
	json_object_set_new(report, "profile", profile ? json_string(profile) : json_null());
	json_object_set_new(report, "mode", json_string(mode));
	json_object_set_new(report, "dry_run", json_boolean(dry_run));
	if (locale && *locale)
		json_object_set_new(report, "locale", json_string(locale));
	json_object_set_new(report, "status", json_string("running"));
	rc = run_import(&r, fd, f, prof, locale, err);
	if (rc < 0) {
		c.nerrors++;
		json_array_append_new(c.errors, file_error(&r.fault, err->msg));
	}
	json_object_set_new(report, "status", json_string(rc < 0 ? "failed" : "done"));
	counts_to_json(&c, report, true);
	json_decref(c.errors);
	json_decref(prof);
	return rc;
}

/* ---- jobs ---- */

/* The report of j; the caller holds the lock. */
static json_t *job_report_locked(struct job *j, bool with_errors)
{
	json_t *rep;

	rep = json_pack("{s:s,s:s,s:s,s:s?,s:s,s:b}", "id", j->id, "status", status_names[j->status],
			"format", j->format, "profile", j->profile[0] ? j->profile : NULL, "mode",
			mode_names[j->mode], "dry_run", j->dry_run);
	if (j->locale[0])
		json_object_set_new(rep, "locale", json_string(j->locale));
	if (j->status == J_RUNNING)
		j->c.seconds = since(&j->t0);
	counts_to_json(&j->c, rep, with_errors);
	if (j->fail_msg[0])
		json_object_set_new(rep, "error", json_string(j->fail_msg));
	return rep;
}

static json_t *job_report(struct pim_imports *im, struct job *j, bool with_errors)
{
	json_t *rep;

	pthread_mutex_lock(&im->lock);
	rep = job_report_locked(j, with_errors);
	pthread_mutex_unlock(&im->lock);
	return rep;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	json_decref(j->c.errors);
	json_decref(j->profile_doc);
	free(j);
}

/* Writes the finished report next to the spool files, atomically. */
static void job_persist(struct pim_imports *im, struct job *j)
{
	char path[4200], tmp[4210];
	json_t *rep = job_report(im, j, true);

	snprintf(path, sizeof(path), "%s/%s.json", im->dir, j->id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(rep, tmp, JSON_COMPACT) == 0 && rename(tmp, path) == 0)
		hub_log(LOG_DEBUG, "import report id=%s", j->id);
	else
		hub_log(LOG_WARN, "import report not saved id=%s error=\"%s\"", j->id, strerror(errno));
	json_decref(rep);
}

/* Keeps the newest finished jobs in memory; older ones live on disk. */
static void jobs_trim(struct pim_imports *im)
{
	struct job **pp = &im->jobs;
	int n = 0;

	while (*pp) {
		struct job *j = *pp;

		if (++n > IMPORT_KEEP_JOBS && j->status >= J_DONE) {
			*pp = j->next;
			job_free(j);
			continue;
		}
		pp = &j->next;
	}
}

struct job_ref {
	struct pim_imports *im;
	struct job *j;
};

/* After each committed batch: the running job's report goes to disk, so
 * that after a crash the next start reports how far it got (a few writes
 * a second at full speed, none per row). */
static void job_committed(void *cls)
{
	struct job_ref *ref = cls;

	job_persist(ref->im, ref->j);
}

static void job_run(struct pim_imports *im, struct job *j)
{
	struct job_ref ref = {im, j};
	struct run r = {.fault = {0, -1}};
	struct hub_err err = {0};
	enum imp_format f = imp_format_parse(j->format);
	int fd, rc;

	fd = open(j->spool, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = hub_err_set(&err, HUB_EIO, "cannot open the uploaded file: %s", strerror(errno));
		goto done;
	}
	r.app = im->app;
	r.by = j->by;
	r.admin = j->admin;
	r.dry_run = j->dry_run;
	r.mode = j->mode;
	r.c = &j->c;
	r.lock = &im->lock;
	r.cancel = &j->cancel;
	r.committed = job_committed;
	r.committed_cls = &ref;
	hub_log(LOG_INFO, "import start id=%s format=%s bytes=%llu", j->id, j->format,
		(unsigned long long)j->c.bytes_total);
	rc = run_import(&r, fd, f, j->profile_doc, j->locale, &err);
	close(fd);
done:
	pthread_mutex_lock(&im->lock);
	if (rc == HUB_EGONE || atomic_load(&j->cancel)) {
		j->status = J_CANCELLED;
		snprintf(j->fail_msg, sizeof(j->fail_msg), "%s",
			 im->stopping ? "pimd stopped during the import" : "the import was cancelled");
	} else if (rc < 0) {
		j->status = J_FAILED;
		snprintf(j->fail_msg, sizeof(j->fail_msg), "%s", err.msg);
		j->c.nerrors++;
		if (json_array_size(j->c.errors) < IMPORT_MAX_ERRORS + 1)
			json_array_append_new(j->c.errors, file_error(&r.fault, err.msg));
	} else {
		j->status = J_DONE;
	}
	pthread_mutex_unlock(&im->lock);
	hub_log(LOG_INFO,
		"import end id=%s status=%s rows=%ld created=%ld updated=%ld unchanged=%ld failed=%ld "
		"seconds=%.2f",
		j->id, status_names[j->status], j->c.rows, j->c.created, j->c.updated, j->c.unchanged,
		j->c.failed, j->c.seconds);
	/* the final report first: a spool file left beside a report that
	 * still says running means the job was interrupted */
	job_persist(im, j);
	unlink(j->spool);
}

static void *worker(void *arg)
{
	struct pim_imports *im = arg;

	pthread_mutex_lock(&im->lock);
	for (;;) {
		struct job *j;

		while (!im->stopping && !im->qhead)
			pthread_cond_wait(&im->cond, &im->lock);
		if (im->stopping)
			break;
		j = im->qhead;
		im->qhead = j->qnext;
		if (!im->qhead)
			im->qtail = NULL;
		if (atomic_load(&j->cancel)) {
			j->status = J_CANCELLED;
			pthread_mutex_unlock(&im->lock);
			unlink(j->spool);
			job_persist(im, j);
			pthread_mutex_lock(&im->lock);
			continue;
		}
		j->status = J_RUNNING;
		clock_gettime(CLOCK_MONOTONIC, &j->t0);
		pthread_mutex_unlock(&im->lock);
		job_run(im, j);
		pthread_mutex_lock(&im->lock);
		jobs_trim(im);
	}
	pthread_mutex_unlock(&im->lock);
	return NULL;
}

/* Reports left by a previous run; spool files without one were never
 * finished: reported failed. */
static void load_reports(struct pim_imports *im)
{
	DIR *d = opendir(im->dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char path[4400];

		if (n > 7 && !strcmp(e->d_name + n - 7, ".upload")) {
			char id[64];
			const char *status;
			json_t *rep;

			snprintf(path, sizeof(path), "%s/%s", im->dir, e->d_name);
			unlink(path);
			snprintf(id, sizeof(id), "%.*s", (int)(n - 7), e->d_name);
			snprintf(path, sizeof(path), "%s/%s.json", im->dir, id);
			/* a running job's report holds the figures of its last
			 * committed batch: they are kept */
			rep = json_load_file(path, 0, NULL);
			status = json_get_str(rep, "status");
			if (rep && (!status || strcmp(status, "running"))) {
				json_decref(rep);
				continue;
			}
			if (!rep)
				rep = json_pack("{s:s}", "id", id);
			if (!json_is_array(json_object_get(rep, "errors")))
				json_object_set_new(rep, "errors", json_array());
			json_object_set_new(rep, "status", json_string("failed"));
			json_object_set_new(rep, "error",
					    json_string("pimd stopped before the import finished"));
			json_array_append_new(json_object_get(rep, "errors"),
					      json_pack("{s:i,s:n,s:s,s:s}", "line", 0, "field", "code",
							"interrupted", "message",
							"pimd stopped before the import finished"));
			if (json_is_integer(json_object_get(rep, "errors_total")))
				json_object_set_new(rep, "errors_total",
						    json_integer(json_integer_value(json_object_get(
									 rep, "errors_total")) + 1));
			json_dump_file(rep, path, JSON_COMPACT);
			json_decref(rep);
		}
	}
	closedir(d);
}

int pim_imports_lock(const char *data_dir, int *fd, struct hub_err *err)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/imports", data_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return hub_err_set(err, HUB_EIO, "cannot create '%s': %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/imports/writer.lock", data_dir);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return hub_err_set(err, HUB_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		close(*fd);
		*fd = -1;
		return hub_err_set(err, HUB_EBUSY,
				   "another process (a running pimd?) is using the data directory '%s'",
				   data_dir);
	}
	return 0;
}

int pim_imports_open(struct pim_app *app, struct hub_err *err)
{
	struct pim_imports *im = calloc(1, sizeof(*im));
	int rc;

	if (!im)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	im->app = app;
	snprintf(im->dir, sizeof(im->dir), "%s/imports", app->data_dir);
	rc = pim_imports_lock(app->data_dir, &im->lock_fd, err);
	if (rc < 0) {
		free(im);
		return rc;
	}
	pthread_mutex_init(&im->lock, NULL);
	pthread_cond_init(&im->cond, NULL);
	load_reports(im);
	if (pthread_create(&im->worker, NULL, worker, im) != 0) {
		pthread_mutex_destroy(&im->lock);
		pthread_cond_destroy(&im->cond);
		close(im->lock_fd);
		free(im);
		return hub_err_set(err, HUB_EIO, "cannot start the import worker");
	}
	im->started = true;
	app->imports = im;
	return 0;
}

void pim_imports_close(struct pim_app *app)
{
	struct pim_imports *im = app ? app->imports : NULL;
	struct job *j;

	if (!im)
		return;
	pthread_mutex_lock(&im->lock);
	im->stopping = true;
	for (j = im->jobs; j; j = j->next)
		atomic_store(&j->cancel, true);
	pthread_cond_broadcast(&im->cond);
	pthread_mutex_unlock(&im->lock);
	if (im->started)
		pthread_join(im->worker, NULL);
	/* a queued job's upload stays: the next start reports it failed */
	while ((j = im->jobs)) {
		im->jobs = j->next;
		job_free(j);
	}
	pthread_mutex_destroy(&im->lock);
	pthread_cond_destroy(&im->cond);
	close(im->lock_fd);
	free(im);
	app->imports = NULL;
}

/* ---- HTTP ---- */

struct upload {
	struct job *job; /* NULL once handed to the queue */
	int fd;
};

static void upload_free(void *p)
{
	struct upload *u = p;

	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (u->job) {
		unlink(u->job->spool);
		job_free(u->job);
	}
	free(u);
}

static struct job *find_job(struct pim_imports *im, const char *id)
{
	struct job *j;

	for (j = im->jobs; j; j = j->next)
		if (!strcmp(j->id, id))
			return j;
	return NULL;
}

/* Checks the query and makes the job (not yet queued). */
static int job_new(struct http_req *req, struct pim_imports *im, struct job **out,
		   struct hub_err *err)
{
	const char *format = http_query(req, "format");
	const char *profile = http_query(req, "profile");
	const char *mode = http_query(req, "mode");
	const char *locale = http_query(req, "locale");
	const char *inline_prof = http_header(req, "X-Import-Profile");
	enum imp_format f;
	struct job *j;
	char pdir[4096];
	int rc;
	struct timespec now;

	j = calloc(1, sizeof(*j));
	if (!j)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	j->sniff = !format || !*format;
	f = j->sniff ? IMP_CSV : imp_format_parse(format);
	if (f == IMP_FORMAT_NONE) {
		rc = hub_err_set(err, HUB_EINVAL,
				 "format '%.40s' is not one of csv, gmc-xml, gmc-tsv, bmecat, jsonl",
				 format);
		goto fail;
	}
	snprintf(j->format, sizeof(j->format), "%s", imp_format_name(f));
	if (!mode || !*mode)
		mode = "upsert";
	if (parse_mode(mode, &j->mode) < 0) {
		rc = hub_err_set(err, HUB_EINVAL, "mode '%.40s' is not one of upsert, create, update",
				 mode);
		goto fail;
	}
	rc = http_query_flag(req, "dry_run", &j->dry_run, err);
	if (rc < 0)
		goto fail;
	if (locale && *locale) {
		rc = check_locale(im->app, locale, err);
		if (rc < 0)
			goto fail;
		snprintf(j->locale, sizeof(j->locale), "%s", locale);
	}
	if (inline_prof && *inline_prof) {
		struct hub_err pe = {0};

		/* json_parse's message is kept whole; it is not prefixed twice */
		j->profile_doc = json_parse(inline_prof, strlen(inline_prof), &pe);
		if (!j->profile_doc || !json_is_object(j->profile_doc)) {
			rc = hub_err_set(err, HUB_EINVAL, "X-Import-Profile is not a JSON object%s%s",
					 j->profile_doc ? "" : ": ", j->profile_doc ? "" : pe.msg);
			goto fail;
		}
		snprintf(j->profile, sizeof(j->profile), "%s",
			 json_get_str(j->profile_doc, "code") ? json_get_str(j->profile_doc, "code")
							       : "inline");
	} else {
		if (!profile || !*profile)
			profile = imp_default_profile(f);
		if (profile) {
			snprintf(pdir, sizeof(pdir), "%s/profiles",
				 im->app->schemas_dir ? im->app->schemas_dir : "schemas");
			rc = imp_profile_load(pdir, profile, &j->profile_doc, err);
			if (rc < 0) {
				if (rc == HUB_ENOTFOUND)
					rc = HUB_EINVAL;
				err->code = rc;
				goto fail;
			}
			snprintf(j->profile, sizeof(j->profile), "%s", profile);
		}
	}
	snprintf(j->by, sizeof(j->by), "%s", http_user(req));
	j->admin = http_role(req) == ROLE_ADMIN;
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&im->lock);
	snprintf(j->id, sizeof(j->id), "imp_%011llx%04x",
		 (unsigned long long)(now.tv_sec * 1000 + now.tv_nsec / 1000000),
		 (im->seq++) & 0xffff);
	pthread_mutex_unlock(&im->lock);
	snprintf(j->spool, sizeof(j->spool), "%.4000s/%s.upload", im->dir, j->id);
	j->c.errors = json_array();
	j->status = J_QUEUED;
	*out = j;
	return 0;
fail:
	job_free(j);
	return rc;
}

static int imports_body(struct http_req *req, const char *data, size_t len)
{
	struct pim_app *app = http_app(req);
	struct upload *u = http_ctx(req);
	struct hub_err err = {0};

	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u) {
			hub_err_set(&err, HUB_ENOMEM, "out of memory");
			return http_fail(req, &err), -1;
		}
		u->fd = -1;
		http_set_ctx(req, u, upload_free);
		if (job_new(req, app->imports, &u->job, &err) < 0)
			return http_fail(req, &err), -1;
		u->fd = open(u->job->spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (u->fd < 0) {
			hub_err_set(&err, HUB_EIO, "cannot store the upload: %s", strerror(errno));
			return http_fail(req, &err), -1;
		}
	}
	while (len) {
		ssize_t n = write(u->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hub_err_set(&err, errno == ENOSPC ? HUB_ETOOBIG : HUB_EIO,
				    "cannot store the upload: %s", strerror(errno));
			return http_fail(req, &err), -1;
		}
		data += n;
		len -= (size_t)n;
		u->job->c.bytes_total += (uint64_t)n;
	}
	return 0;
}

/* The format from the upload's first bytes, and its default profile when
 * the request named none. */
static int sniff_format(struct pim_imports *im, struct job *j, struct hub_err *err)
{
	char head[4096], pdir[4096];
	enum imp_format f = IMP_FORMAT_NONE;
	const char *prof;
	ssize_t n = -1;
	int fd = open(j->spool, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, head, sizeof(head));
		close(fd);
	}
	if (n > 0)
		f = imp_format_sniff(head, (size_t)n);
	if (f == IMP_FORMAT_NONE)
		return 0; /* csv: its reader says what is wrong */
	snprintf(j->format, sizeof(j->format), "%s", imp_format_name(f));
	prof = imp_default_profile(f);
	if (!j->profile[0] && prof) {
		snprintf(pdir, sizeof(pdir), "%s/profiles",
			 im->app->schemas_dir ? im->app->schemas_dir : "schemas");
		if (imp_profile_load(pdir, prof, &j->profile_doc, err) < 0)
			return err->code;
		snprintf(j->profile, sizeof(j->profile), "%s", prof);
	}
	return 0;
}

static void set_location(struct http_req *req, const char *id)
{
	char loc[96];

	snprintf(loc, sizeof(loc), "/v1/imports/%s", id);
	http_set_header(req, "Location", loc);
}

static int imports_post(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	struct pim_imports *im = app->imports;
	struct upload *u = http_ctx(req);
	struct hub_err err = {0};
	struct job *j;
	json_t *rep;

	if (!u || !u->job) {
		/* no body at all: check the query anyway, for a precise answer */
		if (job_new(req, im, &j, &err) < 0)
			return http_reply_err(req, &err);
		job_free(j);
		return http_reply_problem(req, 400,
					  "the body is empty: send the file itself as the request body",
					  NULL);
	}
	close(u->fd);
	u->fd = -1;
	j = u->job;
	if (j->sniff && sniff_format(im, j, &err) < 0)
		return http_reply_err(req, &err);
	u->job = NULL;
	pthread_mutex_lock(&im->lock);
	j->next = im->jobs;
	im->jobs = j;
	if (im->qtail)
		im->qtail->qnext = j;
	else
		im->qhead = j;
	im->qtail = j;
	pthread_cond_signal(&im->cond);
	pthread_mutex_unlock(&im->lock);
	hub_log(LOG_INFO, "import queued id=%s format=%s bytes=%llu by=%s", j->id, j->format,
		(unsigned long long)j->c.bytes_total, j->by);
	rep = job_report(im, j, true);
	set_location(req, j->id);
	http_reply_json(req, 202, rep);
	json_decref(rep);
	return 0;
}

static bool id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n < 5 || n > 30 || strncmp(id, "imp_", 4))
		return false;
	for (size_t i = 4; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

static int imports_get(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	struct pim_imports *im = app->imports;
	const char *id = http_param(req, "id");
	struct job *j;
	json_t *rep = NULL;

	if (!id_ok(id))
		return http_reply_problem(req, 404, "no such import job", NULL);
	pthread_mutex_lock(&im->lock);
	j = find_job(im, id);
	if (j)
		rep = job_report_locked(j, true);
	pthread_mutex_unlock(&im->lock);
	if (!j) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/%s.json", im->dir, id);
		rep = json_load_file(path, 0, NULL);
	}
	if (!rep)
		return http_reply_problem(req, 404, "no such import job", NULL);
	http_reply_json(req, 200, rep);
	json_decref(rep);
	return 0;
}

static int cmp_str_desc(const void *a, const void *b)
{
	return -strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A job's report without its error list: from memory while the job is
 * there, else from its file. */
static json_t *summary_of(struct pim_imports *im, const char *id)
{
	char path[4400];
	struct job *j;
	json_t *rep = NULL;

	pthread_mutex_lock(&im->lock);
	for (j = im->jobs; j && !rep; j = j->next)
		if (!strcmp(j->id, id))
			rep = job_report_locked(j, false);
	pthread_mutex_unlock(&im->lock);
	if (rep)
		return rep;
	snprintf(path, sizeof(path), "%s/%s.json", im->dir, id);
	rep = json_load_file(path, 0, NULL);
	json_object_del(rep, "errors");
	return rep;
}

/* Jobs newest first (ids sort by start time), limit a page, each without
 * its error list; the cursor is the last id of a page. Only the page's
 * reports are read. */
static int imports_list(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	struct pim_imports *im = app->imports;
	json_t *ids, *out, *page;
	const char *cursor = http_query(req, "cursor"), *k, **arr;
	char after[64] = "", cur[128];
	long limit;
	size_t n = 0, i;
	struct job *j;
	json_t *v;
	DIR *d;
	struct dirent *e;

	if (http_query_long(req, "limit", 100, 1, 1000, &limit) < 0)
		return 0;
	if (cursor && *cursor && pim_cursor_read('i', cursor, after, sizeof(after)) < 0)
		return http_reply_problem(req, 400, "cursor is not one this server gave out", NULL);
	ids = json_object();
	out = json_array();
	pthread_mutex_lock(&im->lock);
	for (j = im->jobs; j; j = j->next)
		json_object_set_new(ids, j->id, json_true());
	pthread_mutex_unlock(&im->lock);
	d = opendir(im->dir);
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char id[64];

		if (len < 6 || len - 5 >= sizeof(id) || strcmp(e->d_name + len - 5, ".json"))
			continue;
		snprintf(id, sizeof(id), "%.*s", (int)(len - 5), e->d_name);
		if (id_ok(id))
			json_object_set_new(ids, id, json_true());
	}
	if (d)
		closedir(d);
	arr = malloc((json_object_size(ids) + 1) * sizeof(*arr));
	if (!arr) {
		json_decref(ids);
		json_decref(out);
		return http_reply_err(req, &(struct hub_err){HUB_ENOMEM, "out of memory"});
	}
	json_object_foreach(ids, k, v)
		if (!*after || strcmp(k, after) < 0)
			arr[n++] = k;
	qsort(arr, n, sizeof(*arr), cmp_str_desc);
	for (i = 0; i < n && (long)json_array_size(out) < limit; i++) {
		json_t *rep = summary_of(im, arr[i]);

		if (rep)
			json_array_append_new(out, rep);
	}
	page = json_pack("{s:o}", "items", out);
	if (i < n) {
		pim_cursor_make('i', arr[i - 1], cur);
		json_object_set_new(page, "next_cursor", json_string(cur));
	} else {
		json_object_set_new(page, "next_cursor", json_null());
	}
	free(arr);
	json_decref(ids);
	http_reply_json(req, 200, page);
	json_decref(page);
	return 0;
}

static int imports_cancel(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	struct pim_imports *im = app->imports;
	const char *id = http_param(req, "id");
	struct job *j;
	json_t *rep;
	bool finished;

	if (!id_ok(id))
		return http_reply_problem(req, 404, "no such import job", NULL);
	pthread_mutex_lock(&im->lock);
	j = find_job(im, id);
	finished = j && j->status >= J_DONE;
	if (j && !finished) {
		atomic_store(&j->cancel, true);
		if (j->status == J_QUEUED)
			j->status = J_CANCELLED;
	}
	rep = j ? job_report_locked(j, false) : NULL;
	pthread_mutex_unlock(&im->lock);
	if (!j)
		return http_reply_problem(req, 404, "no such import job (or it finished long ago)",
					  NULL);
	if (finished) {
		http_reply_problem(req, 409, "the import has already finished", NULL);
	} else {
		http_reply_json(req, 202, rep);
	}
	json_decref(rep);
	return 0;
}

const struct http_route pim_import_routes[] = {
	{"POST", "/v1/imports", imports_post, ROLE_MERCHANDISER, imports_body, IMPORT_MAX_BODY},
	{"GET", "/v1/imports", imports_list, ROLE_MERCHANDISER | ROLE_READER, NULL, 0},
	{"GET", "/v1/imports/{id}", imports_get, ROLE_MERCHANDISER | ROLE_READER, NULL, 0},
	{"DELETE", "/v1/imports/{id}", imports_cancel, ROLE_MERCHANDISER, NULL, 0},
	{"POST", "/v1/imports/{id}/cancel", imports_cancel, ROLE_MERCHANDISER, NULL, 0},
};
const size_t pim_import_nroutes = sizeof(pim_import_routes) / sizeof(pim_import_routes[0]);
