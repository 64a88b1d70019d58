/* JSON lines: one product document per line, ours (as GET or an export
 * writes it; server-kept fields are dropped) or Akeneo's standard format
 * ("identifier", values with "scope", associations with product_models),
 * products and product models alike: a root model ("family_variant", no
 * parent) is a product of the family variant, as in a product models CSV,
 * and a sub-model (one with a parent) goes to the sink's model callback. */
#include "feeds.h"

#include "buf.h"
#include "err.h"
#include "json.h"
#include "lanes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSONL_MAX_LINE (16u << 20)

/* Akeneo amounts may be numbers; ours are decimal strings. */
static void amounts_to_strings(json_t *data)
{
	size_t i;
	json_t *p;

	if (json_is_object(data)) {
		json_t *a = json_object_get(data, "amount");

		if (json_is_integer(a))
			json_object_set_new(data, "amount",
					    json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(a)));
		else if (json_is_real(a))
			json_object_set_new(data, "amount", json_sprintf("%.10g", json_real_value(a)));
		return;
	}
	json_array_foreach(data, i, p)
		if (json_is_object(p))
			amounts_to_strings(p);
}

/* Akeneo standard format → ours, in place. Returns whether doc is a
 * product model (its family becomes its family variant, which is a family
 * here). */
static bool from_akeneo(json_t *doc)
{
	json_t *values = json_object_get(doc, "values"), *arr, *e, *as, *ty;
	bool model = json_is_string(json_object_get(doc, "family_variant"));
	const char *k;
	size_t i;

	if (json_is_string(json_object_get(doc, "identifier")) && !json_object_get(doc, "sku")) {
		json_object_set(doc, "sku", json_object_get(doc, "identifier"));
		json_object_del(doc, "identifier");
	}
	if (json_is_string(json_object_get(doc, "code")) && !json_object_get(doc, "sku")) {
		json_object_set(doc, "sku", json_object_get(doc, "code"));
		json_object_del(doc, "code");
	}
	if (model)
		json_object_set(doc, "family", json_object_get(doc, "family_variant"));
	json_object_foreach(values, k, arr) {
		json_array_foreach(arr, i, e) {
			if (json_object_get(e, "scope")) {
				json_object_set(e, "channel", json_object_get(e, "scope"));
				json_object_del(e, "scope");
			}
			if (!json_object_get(e, "locale"))
				json_object_set_new(e, "locale", json_null());
			if (!json_object_get(e, "channel"))
				json_object_set_new(e, "channel", json_null());
			amounts_to_strings(json_object_get(e, "data"));
		}
	}
	as = json_object_get(doc, "associations");
	json_object_foreach(as, k, ty) {
		json_t *models = json_object_get(ty, "product_models");

		if (json_array_size(models)) {
			json_t *p = json_object_get(ty, "products");

			if (!p) {
				p = json_array();
				json_object_set_new(ty, "products", p);
			}
			json_array_extend(p, models);
		}
		json_object_del(ty, "product_models");
		json_object_del(ty, "groups");
		json_object_del(ty, "product_uuids");
	}
	/* server-kept or Akeneo-only fields */
	static const char *drop[] = {"version", "created", "updated", "completeness", "uuid",
				     "groups", "family_variant", "quantified_associations",
				     "metadata", "missing"};
	for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		json_object_del(doc, drop[i]);
	return model;
}

static int one_line(struct map *m, const struct imp_sink *sink, const char *s, size_t len,
		    long line, struct hub_err *err)
{
	struct hub_err jerr = {0};
	json_t *doc;
	bool model;
	int rc;

	while (len && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	doc = json_parse(s, len, &jerr);
	if (!doc || !json_is_object(doc)) {
		json_t *errs = json_array();

		json_array_append_new(errs, json_pack("{s:n,s:s,s:s}", "field", "code", "not_json",
						       "message",
						       doc ? "the line is not a JSON object" : jerr.msg));
		if (sink->row_failed)
			sink->row_failed(sink->cls, line, errs);
		json_decref(errs);
		json_decref(doc);
		return 0;
	}
	model = from_akeneo(doc);
	if (!json_is_string(json_object_get(doc, "sku"))) {
		json_t *errs = json_array();

		json_array_append_new(errs, json_pack("{s:s,s:s,s:s}", "field", "/sku", "code", "no_sku",
						       "message", "the document has no \"sku\""));
		if (sink->row_failed)
			sink->row_failed(sink->cls, line, errs);
		json_decref(errs);
		json_decref(doc);
		return 0;
	}
	if (model && json_is_string(json_object_get(doc, "parent")) && sink->model) {
		rc = sink->model(sink->cls, doc, IMP_PUT, line);
		if (rc < 0)
			rc = hub_err_set(err, rc, "line %ld: the import was stopped", line);
	} else {
		rc = map_emit(m, doc, IMP_PUT, line, err);
	}
	json_decref(doc);
	return rc;
}

/* A line on an import lane (lanes.h): the one cell is the line. */
static int lane_line(struct map *m, long line, const struct map_cell *c, size_t n,
		     struct hub_err *err)
{
	(void)n;
	return one_line(m, map_sink(m), c[0].s, c[0].len, line, err);
}

/* Reads a line, or hands it to a lane when there are lanes. */
static int take_line(struct lanes *lanes, struct map *m, const struct imp_sink *sink,
		     const char *s, size_t len, long line, struct hub_err *err)
{
	struct csvr_field f = {s, len};

	if (!lanes)
		return one_line(m, sink, s, len, line, err);
	return lanes_add(lanes, line, &f, 1, err);
}

int jsonl_read(int fd, struct map *m, const struct imp_opts *o, const struct imp_sink *sink,
	       struct hub_err *err)
{
	struct buf b = BUF_INIT;
	struct lanes *lanes = NULL;
	char chunk[65536];
	uint64_t total = 0;
	long line = 1;
	int rc = 0;
	ssize_t n;

	/* lines are parsed on the lanes too: the larger part of their cost */
	if (lanes_wanted(m, sink) &&
	    (rc = lanes_start(&lanes, o, sink, lane_line, 0, NULL, 0, err)) < 0)
		return rc;
	buf_init(&b, JSONL_MAX_LINE + sizeof(chunk));
	for (;;) {
		size_t start = 0;

		do
			n = read(fd, chunk, sizeof(chunk));
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			rc = hub_err_set(err, HUB_EIO, "cannot read the file: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			if (b.len)
				rc = take_line(lanes, m, sink, b.data, b.len, line, err);
			break;
		}
		total += (uint64_t)n;
		if (buf_add(&b, chunk, (size_t)n) < 0) {
			rc = hub_err_set(err, HUB_ETOOBIG, "line %ld: the line is over %u MiB", line,
					 JSONL_MAX_LINE >> 20);
			break;
		}
		for (;;) {
			char *nl = memchr(b.data + start, '\n', b.len - start);

			if (!nl)
				break;
			rc = take_line(lanes, m, sink, b.data + start, (size_t)(nl - (b.data + start)),
				       line, err);
			if (rc < 0)
				goto out;
			line++;
			start = (size_t)(nl - b.data) + 1;
		}
		if (start) {
			memmove(b.data, b.data + start, b.len - start);
			b.len -= start;
		}
		if (b.len > JSONL_MAX_LINE) {
			rc = hub_err_set(err, HUB_ETOOBIG, "line %ld: the line is over %u MiB", line,
					 JSONL_MAX_LINE >> 20);
			break;
		}
		if (sink->progress && sink->progress(sink->cls, total)) {
			rc = hub_err_set(err, HUB_EGONE, "the import was cancelled");
			break;
		}
	}
out:
	if (rc < 0 && rc != HUB_EGONE && o->fault)
		o->fault->line = line;
	rc = lanes_finish(lanes, rc, err);
	buf_release(&b);
	return rc;
}
