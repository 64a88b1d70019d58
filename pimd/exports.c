/* CSV and JSON lines exports, produced page by page as the client reads. */
#include "exports.h"

#include "app.h"
#include "buf.h"
#include "catalog.h"
#include "err.h"
#include "json.h"
#include "log.h"

#include "../importers/values.h"

#include <stdlib.h>
#include <string.h>

#define EXPORT_PAGE 256

struct ecol {
	char *key;  /* the column name */
	char *attr; /* NULL for the fixed columns and associations */
	char *locale, *channel, *sub;
	char *assoc; /* association type */
};

struct exp {
	struct pim_app *app;
	bool csv;
	char *channel, *locale;
	json_t *attrs;
	struct ecol *cols;
	size_t ncols;
	char *after;
	bool done, started;
	struct buf out;
	int page_n;
	int rc;
	struct hub_err err;
};

static const char *const fixed_cols[] = {"sku", "family", "parent", "categories", "enabled"};

static void exp_free(void *p)
{
	struct exp *e = p;

	if (!e)
		return;
	for (size_t i = 0; i < e->ncols; i++) {
		free(e->cols[i].key);
		free(e->cols[i].attr);
		free(e->cols[i].locale);
		free(e->cols[i].channel);
		free(e->cols[i].sub);
		free(e->cols[i].assoc);
	}
	free(e->cols);
	free(e->channel);
	free(e->locale);
	free(e->after);
	json_decref(e->attrs);
	buf_release(&e->out);
	free(e);
}

static bool keep_entry(const struct exp *e, json_t *entry)
{
	const char *l = json_string_value(json_object_get(entry, "locale"));
	const char *c = json_string_value(json_object_get(entry, "channel"));

	if (e->channel && c && strcmp(c, e->channel))
		return false;
	if (e->locale && l && strcmp(l, e->locale))
		return false;
	return true;
}

static bool identifier(const struct exp *e, const char *attr)
{
	return !strcmp(val_type(json_object_get(e->attrs, attr)), "identifier");
}

/* Column key of one value part, as the importer reads it back. */
static void col_key(struct buf *b, const char *attr, const char *locale, const char *channel,
		    const char *sub)
{
	buf_reset(b);
	buf_adds(b, attr);
	if (locale)
		buf_addf(b, "-%s", locale);
	if (channel)
		buf_addf(b, "-%s", channel);
	if (sub)
		buf_addf(b, "-%s", sub);
}

struct scan {
	struct exp *e;
	json_t *keys; /* key → [attr, locale, channel, sub] or {"assoc"} */
};

static int scan_one(void *cls, json_t *p)
{
	struct scan *s = cls;
	struct exp *e = s->e;
	struct buf b = BUF_INIT;
	json_t *arr, *en;
	const char *attr, *ty;
	size_t i;

	json_object_foreach(json_object_get(p, "values"), attr, arr) {
		json_t *adef = json_object_get(e->attrs, attr);
		const char *t = val_type(adef);

		if (!adef || identifier(e, attr))
			continue;
		json_array_foreach(arr, i, en) {
			const char *l = json_string_value(json_object_get(en, "locale"));
			const char *c = json_string_value(json_object_get(en, "channel"));
			json_t *data = json_object_get(en, "data");

			if (!keep_entry(e, en) || json_is_null(data))
				continue;
			if (!strcmp(t, "price")) {
				size_t k;
				json_t *pr;

				json_array_foreach(data, k, pr) {
					const char *cur = json_string_value(json_object_get(pr, "currency"));

					if (!cur)
						continue;
					col_key(&b, attr, l, c, cur);
					if (!json_object_get(s->keys, b.data))
						json_object_set_new(s->keys, b.data,
								    json_pack("[s,s?,s?,s]", attr, l, c, cur));
				}
				continue;
			}
			col_key(&b, attr, l, c, NULL);
			if (!json_object_get(s->keys, b.data))
				json_object_set_new(s->keys, b.data, json_pack("[s,s?,s?,n]", attr, l, c));
			if (!strcmp(t, "metric")) {
				col_key(&b, attr, l, c, "unit");
				if (!json_object_get(s->keys, b.data))
					json_object_set_new(s->keys, b.data,
							    json_pack("[s,s?,s?,s]", attr, l, c, "unit"));
			}
		}
	}
	json_object_foreach(json_object_get(p, "associations"), ty, arr) {
		buf_reset(&b);
		buf_addf(&b, "%s-products", ty);
		if (!json_object_get(s->keys, b.data))
			json_object_set_new(s->keys, b.data, json_pack("{s:s}", "assoc", ty));
	}
	buf_release(&b);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *dupn(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The first pass: which columns the catalog's values need. */
static int exp_columns(struct exp *e)
{
	struct scan s = {e, json_object()};
	const char *k;
	json_t *v;
	char **names;
	size_t n, i = 0;
	int rc;

	rc = pim_products_foreach(e->app, NULL, scan_one, &s, &e->err);
	if (rc < 0) {
		json_decref(s.keys);
		return rc;
	}
	n = json_object_size(s.keys);
	names = calloc(n ? n : 1, sizeof(*names));
	e->cols = calloc(n + 5, sizeof(*e->cols));
	if (!names || !e->cols) {
		free(names);
		json_decref(s.keys);
		return hub_err_set(&e->err, HUB_ENOMEM, "out of memory");
	}
	json_object_foreach(s.keys, k, v)
		names[i++] = (char *)k;
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < 5; i++)
		e->cols[e->ncols++].key = strdup(fixed_cols[i]);
	for (i = 0; i < n; i++) {
		struct ecol *c = &e->cols[e->ncols++];

		v = json_object_get(s.keys, names[i]);
		c->key = strdup(names[i]);
		if (json_is_object(v)) {
			c->assoc = strdup(json_string_value(json_object_get(v, "assoc")));
		} else {
			c->attr = dupn(json_string_value(json_array_get(v, 0)));
			c->locale = dupn(json_string_value(json_array_get(v, 1)));
			c->channel = dupn(json_string_value(json_array_get(v, 2)));
			c->sub = dupn(json_string_value(json_array_get(v, 3)));
		}
	}
	free(names);
	json_decref(s.keys);
	return 0;
}

/* One CSV cell: quoted when it must be, neutralised when a spreadsheet
 * would run it as a formula. */
static void cell(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool guard = n && strchr("=+-@", s[0]);
	bool quote = false;

	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		quote = true;
	if (quote)
		buf_addc(b, '"');
	if (guard)
		buf_addc(b, '\'');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addc(b, '"');
		buf_addc(b, s[i]);
	}
	if (quote)
		buf_addc(b, '"');
}

static json_t *entry_of(json_t *arr, const char *locale, const char *channel)
{
	size_t i;
	json_t *en;

	json_array_foreach(arr, i, en) {
		const char *l = json_string_value(json_object_get(en, "locale"));
		const char *c = json_string_value(json_object_get(en, "channel"));

		if (((!l && !locale) || (l && locale && !strcmp(l, locale))) &&
		    ((!c && !channel) || (c && channel && !strcmp(c, channel))))
			return en;
	}
	return NULL;
}

static void csv_row(struct exp *e, json_t *p)
{
	struct buf *b = &e->out;
	json_t *values = json_object_get(p, "values");

	for (size_t i = 0; i < e->ncols; i++) {
		struct ecol *c = &e->cols[i];
		char *text = NULL;

		if (i)
			buf_addc(b, ',');
		if (i == 0) {
			cell(b, json_get_str(p, "sku"));
		} else if (i == 1) {
			cell(b, json_get_str(p, "family"));
		} else if (i == 2) {
			cell(b, json_get_str(p, "parent"));
		} else if (i == 3) {
			struct buf l = BUF_INIT;
			size_t k;
			json_t *v;

			buf_add(&l, "", 0);
			json_array_foreach(json_object_get(p, "categories"), k, v) {
				if (k)
					buf_addc(&l, ',');
				buf_adds(&l, json_string_value(v));
			}
			cell(b, l.data);
			buf_release(&l);
		} else if (i == 4) {
			buf_adds(b, json_is_false(json_object_get(p, "enabled")) ? "0" : "1");
		} else if (c->assoc) {
			struct buf l = BUF_INIT;
			size_t k;
			json_t *v;

			buf_add(&l, "", 0);
			json_array_foreach(json_object_get(json_object_get(json_object_get(p, "associations"),
									   c->assoc),
							   "products"),
					   k, v) {
				if (k)
					buf_addc(&l, ',');
				buf_adds(&l, json_string_value(v));
			}
			cell(b, l.data);
			buf_release(&l);
		} else {
			json_t *en = entry_of(json_object_get(values, c->attr), c->locale, c->channel);

			if (en && !json_is_null(json_object_get(en, "data")))
				text = val_to_text(json_object_get(e->attrs, c->attr),
						   json_object_get(en, "data"), c->sub);
			if (text)
				cell(b, text);
			free(text);
		}
	}
	buf_adds(b, "\r\n");
}

static json_t *filtered(struct exp *e, json_t *p)
{
	json_t *copy, *values, *arr, *en;
	const char *k;
	void *tmp;
	size_t i;

	if (!e->channel && !e->locale)
		return json_incref(p);
	copy = json_deep_copy(p);
	values = json_object_get(copy, "values");
	json_object_foreach_safe(values, tmp, k, arr) {
		json_t *keep = json_array();

		json_array_foreach(arr, i, en)
			if (keep_entry(e, en))
				json_array_append(keep, en);
		if (json_array_size(keep))
			json_object_set_new(values, k, keep);
		else {
			json_decref(keep);
			json_object_del(values, k);
		}
	}
	return copy;
}

static int page_one(void *cls, json_t *p)
{
	struct exp *e = cls;

	if (e->csv) {
		csv_row(e, p);
	} else {
		json_t *f = filtered(e, p);
		char *s = json_dumps(f, JSON_COMPACT);

		if (s) {
			buf_adds(&e->out, s);
			buf_addc(&e->out, '\n');
		}
		free(s);
		json_decref(f);
	}
	free(e->after);
	e->after = dupn(json_get_str(p, "sku"));
	return ++e->page_n >= EXPORT_PAGE;
}

/* Fills e->out with the next page; sets done after the last product. */
static int exp_fill(struct exp *e)
{
	int rc;

	buf_reset(&e->out);
	if (!e->started) {
		e->started = true;
		if (e->csv) {
			if ((rc = exp_columns(e)) < 0)
				return rc;
			for (size_t i = 0; i < e->ncols; i++) {
				if (i)
					buf_addc(&e->out, ',');
				cell(&e->out, e->cols[i].key);
			}
			buf_adds(&e->out, "\r\n");
		}
	}
	e->page_n = 0;
	rc = pim_products_foreach(e->app, e->after, page_one, e, &e->err);
	if (rc < 0)
		return rc;
	if (e->page_n < EXPORT_PAGE)
		e->done = true;
	return 0;
}

/* The next page of a streamed export, for http_reply_pages. */
static int exp_next(void *cls, const char **data, size_t *len, bool *last)
{
	struct exp *e = cls;

	if (exp_fill(e) < 0) {
		hub_log(LOG_WARN, "export stopped error=\"%s\"", e->err.msg);
		return -1;
	}
	*data = e->out.data;
	*len = e->out.len;
	*last = e->done;
	return 0;
}

static struct exp *exp_new(struct pim_app *app, bool csv, const char *channel, const char *locale)
{
	struct exp *e = calloc(1, sizeof(*e));
	json_t *list, *d;
	size_t i;

	if (!e)
		return NULL;
	e->app = app;
	e->csv = csv;
	e->channel = channel && *channel ? strdup(channel) : NULL;
	e->locale = locale && *locale ? strdup(locale) : NULL;
	e->attrs = json_object();
	list = pim_schema_list(app, "attributes");
	json_array_foreach(list, i, d)
		if (json_get_str(d, "code"))
			json_object_set(e->attrs, json_get_str(d, "code"), d);
	json_decref(list);
	return e;
}

static int export_get(struct http_req *req, bool csv)
{
	struct pim_app *app = http_app(req);
	const char *channel = http_query(req, "channel");
	const char *locale = http_query(req, "locale");
	json_t *d;
	struct exp *e;

	if (locale && *locale) {
		if (!(d = pim_schema_get(app, "locales", locale)))
			return http_reply_problem(req, 404, "no such locale", NULL);
		json_decref(d);
	}
	if (channel && *channel) {
		bool has_locale;

		if (!(d = pim_schema_get(app, "channels", channel)))
			return http_reply_problem(req, 404, "no such channel", NULL);
		has_locale = !locale || !*locale ||
			     json_array_has_string(json_object_get(d, "locales"), locale);
		json_decref(d);
		/* as the channel's feed answers */
		if (!has_locale)
			return http_reply_problem(req, 400,
						  "the locale is not one of the channel's locales", NULL);
	}
	e = exp_new(app, csv, channel, locale);
	if (!e)
		return http_reply_problem(req, 500, "out of memory", NULL);
	http_set_header(req, "Content-Disposition",
			csv ? "attachment; filename=\"products.csv\""
			    : "attachment; filename=\"products.jsonl\"");
	return http_reply_pages(req, 200, csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
				exp_next, e, exp_free);
}

static int export_csv(struct http_req *req)
{
	return export_get(req, true);
}

static int export_jsonl(struct http_req *req)
{
	return export_get(req, false);
}

int pim_export_file(struct pim_app *app, const char *format, const char *channel,
		    const char *locale, FILE *f, struct hub_err *err)
{
	struct exp *e;
	int rc = 0;

	if (strcmp(format, "csv") && strcmp(format, "jsonl"))
		return hub_err_set(err, HUB_EINVAL, "an export is csv or jsonl, not '%s'", format);
	e = exp_new(app, !strcmp(format, "csv"), channel, locale);
	if (!e)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	while (!e->done) {
		rc = exp_fill(e);
		if (rc < 0) {
			*err = e->err;
			break;
		}
		if (e->out.len && fwrite(e->out.data, 1, e->out.len, f) != e->out.len) {
			rc = hub_err_set(err, HUB_EIO, "cannot write the export");
			break;
		}
	}
	exp_free(e);
	return rc;
}

const struct http_route pim_export_routes[] = {
	{"GET", "/v1/exports/products.csv", export_csv, HTTP_ANY_ROLE, NULL, 0},
	{"GET", "/v1/exports/products.jsonl", export_jsonl, HTTP_ANY_ROLE, NULL, 0},
};
const size_t pim_export_nroutes = sizeof(pim_export_routes) / sizeof(pim_export_routes[0]);
