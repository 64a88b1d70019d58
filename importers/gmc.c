/* Google Merchant XML: each <item> (RSS 2.0) or <entry> (Atom) becomes a
 * row of cells named by the Merchant attribute (the g: prefix dropped),
 * mapped by the "gmc" profile like the TSV form. */
#include "feeds.h"

#include "buf.h"
#include "err.h"
#include "xml.h"

#include <stdlib.h>
#include <string.h>

struct gmc {
	struct map *m;
	const struct imp_sink *sink;
	struct hub_err *err;
	bool root_ok;
};

static int on_root(void *cls, json_t *e, long line)
{
	struct gmc *g = cls;
	const char *name = json_string_value(json_object_get(e, "name"));

	if (strcmp(name, "rss") && strcmp(name, "feed"))
		return hub_err_set(g->err, HUB_EINVAL,
				   "line %ld: this is not a Google Merchant feed: the root element "
				   "is <%s>, not <rss> or <feed>",
				   line, name);
	g->root_ok = true;
	return 0;
}

/* Cells by name; repeated ones (additional_image_link) joined by newlines.
 * A g:-prefixed element wins over an Atom one of the same name. */
static int on_item(void *cls, json_t *item, long line)
{
	struct gmc *g = cls;
	json_t *byname = json_object(), *c, *v;
	struct map_cell *cells = NULL;
	size_t i, n = 0;
	const char *k;
	int rc;

	json_array_foreach(json_object_get(item, "children"), i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *prefix = json_string_value(json_object_get(c, "prefix"));
		const char *text = xml_text(c);
		json_t *prev = json_object_get(byname, name);

		if (!strcmp(name, "link") && !*text && xml_attr(c, "href"))
			text = xml_attr(c, "href");
		if (json_array_size(json_object_get(c, "children")))
			continue; /* shipping, tax…: structured, not mapped */
		if (prev && json_is_true(json_object_get(prev, "g")) && !prefix)
			continue;
		if (prev && (!prefix || json_is_true(json_object_get(prev, "g")))) {
			struct buf b = BUF_INIT;

			buf_adds(&b, json_string_value(json_object_get(prev, "v")));
			buf_addc(&b, '\n');
			buf_adds(&b, text);
			json_object_set_new(prev, "v", json_stringn(b.data, b.len));
			buf_release(&b);
			continue;
		}
		json_object_set_new(byname, name, json_pack("{s:s,s:b}", "v", text, "g", prefix != NULL));
	}
	cells = calloc(json_object_size(byname) + 1, sizeof(*cells));
	if (!cells) {
		json_decref(byname);
		return hub_err_set(g->err, HUB_ENOMEM, "out of memory");
	}
	json_object_foreach(byname, k, v) {
		const char *s = json_string_value(json_object_get(v, "v"));
		size_t len = strlen(s);

		/* trim the whitespace XML indentation leaves around values */
		while (len && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r'))
			s++, len--;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\t' ||
			       s[len - 1] == '\r'))
			len--;
		cells[n].name = k;
		cells[n].s = strndup(s, len);
		cells[n].len = len;
		n++;
	}
	rc = map_named(g->m, line, cells, n, g->err);
	for (i = 0; i < n; i++)
		free((char *)cells[i].s);
	free(cells);
	json_decref(byname);
	return rc;
}

static bool gmc_progress(void *cls, uint64_t bytes)
{
	struct gmc *g = cls;

	return g->sink->progress ? g->sink->progress(g->sink->cls, bytes) : false;
}

int gmc_xml_read(int fd, struct map *m, const struct imp_opts *o, const struct imp_sink *sink,
		 struct hub_err *err)
{
	static const char *const items[] = {"item", "entry", NULL};
	struct gmc g = {m, sink, err, false};
	struct xml_spec spec = {.items = items,
				.on_root = on_root,
				.on_item = on_item,
				.progress = gmc_progress,
				.cls = &g,
				.fault = o->fault};
	int rc;

	rc = xml_each(fd, &spec, err);
	if (rc < 0)
		return rc;
	return map_finish(m, err);
}
