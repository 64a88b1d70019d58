/* The Merchant feed: projections of published products as RSS items. */
#include "feed.h"

#include "app.h"
#include "buf.h"
#include "catalog.h"
#include "err.h"
#include "json.h"
#include "log.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FEED_PAGE 128

struct feed {
	struct pim_app *app;
	char *channel, *locale, *base;
	json_t *chdoc;
	char *after;
	bool done, started, closed;
	struct buf out;
	int page_n;
	long items, left_out;
	struct hub_err err;
};

static void feed_free(void *p)
{
	struct feed *f = p;

	if (!f)
		return;
	free(f->channel);
	free(f->locale);
	free(f->base);
	free(f->after);
	json_decref(f->chdoc);
	buf_release(&f->out);
	free(f);
}

/* XML text: markup escaped, characters XML 1.0 forbids dropped, cut at
 * max bytes on a character boundary. */
static void esc(struct buf *b, const char *s, size_t max)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++, n++) {
		if (n >= max && (*p & 0xC0) != 0x80)
			break;
		switch (*p) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		default:
			if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
				break;
			buf_addc(b, (char)*p);
		}
	}
}

static void tag(struct buf *b, const char *name, const char *text, size_t max)
{
	if (!text || !*text)
		return;
	buf_addf(b, "<g:%s>", name);
	esc(b, text, max);
	buf_addf(b, "</g:%s>\n", name);
}

static const char *str(json_t *p, const char *k)
{
	json_t *v = json_object_get(p, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void money(struct buf *b, const char *name, json_t *price)
{
	const char *a = str(price, "amount"), *c = str(price, "currency");
	char text[128];

	if (!a || !c)
		return;
	snprintf(text, sizeof(text), "%s %s", a, c);
	tag(b, name, text, sizeof(text));
}

/* Merchant's availability values from our option codes. */
static const char *availability(const char *code)
{
	static const char *const ok[] = {"in_stock", "out_of_stock", "preorder", "backorder"};

	if (!code)
		return "in_stock";
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(code, ok[i]))
			return ok[i];
	if (!strcmp(code, "in stock"))
		return "in_stock";
	if (!strcmp(code, "out of stock"))
		return "out_of_stock";
	return "in_stock";
}

static void item(struct feed *f, json_t *p)
{
	struct buf *b = &f->out;
	const char *sku = str(p, "sku");
	const char *title = str(p, "name");
	const char *desc = str(p, "description");
	const char *link = str(p, "link");
	const char *image = NULL;
	json_t *images = json_object_get(p, "images"), *price = json_object_get(p, "price");
	struct buf lnk = BUF_INIT;
	size_t i;
	json_t *im;

	if (!desc)
		desc = str(p, "short_description");
	if (!desc)
		desc = title;
	if (json_array_size(images))
		image = str(json_array_get(images, 0), "url");
	if (!image)
		image = str(p, "image_link");
	if (!title || !image || !json_is_object(price) || !sku) {
		f->left_out++;
		return;
	}
	if (!link || strncmp(link, "http", 4)) {
		const char *url = str(f->chdoc, "url");

		if (url)
			buf_addf(&lnk, "%s%s%s", url, url[strlen(url) - 1] == '/' ? "" : "/", sku);
		else
			buf_addf(&lnk, "%s/v1/channels/%s/products/%s?locale=%s", f->base, f->channel,
				 sku, f->locale);
		link = lnk.data;
	}
	buf_adds(b, "<item>\n");
	tag(b, "id", sku, 50);
	tag(b, "title", title, 150);
	tag(b, "description", desc, 5000);
	tag(b, "link", link, 2000);
	tag(b, "image_link", image, 2000);
	json_array_foreach(images, i, im)
		if (i > 0 && i <= 10)
			tag(b, "additional_image_link", str(im, "url"), 2000);
	if (!json_array_size(images) && str(p, "additional_image_links")) {
		char *more = strdup(str(p, "additional_image_links")), *save = NULL;
		int n = 0;

		for (char *u = more ? strtok_r(more, "\n", &save) : NULL; u && n < 10;
		     u = strtok_r(NULL, "\n", &save), n++)
			tag(b, "additional_image_link", u, 2000);
		free(more);
	}
	tag(b, "availability", availability(str(p, "availability")), 32);
	money(b, "price", price);
	if (json_is_object(json_object_get(p, "sale_price")))
		money(b, "sale_price", json_object_get(p, "sale_price"));
	tag(b, "condition", str(p, "condition") ? str(p, "condition") : "new", 32);
	tag(b, "brand", str(p, "brand"), 70);
	tag(b, "gtin", str(p, "gtin"), 50);
	tag(b, "mpn", str(p, "mpn"), 70);
	if (!str(p, "gtin") && !str(p, "mpn"))
		tag(b, "identifier_exists", "no", 8);
	tag(b, "item_group_id", str(p, "parent"), 50);
	tag(b, "color", str(p, "color"), 100);
	tag(b, "size", str(p, "size"), 100);
	tag(b, "gender", str(p, "gender"), 16);
	tag(b, "age_group", str(p, "age_group"), 16);
	tag(b, "material", str(p, "material"), 200);
	tag(b, "product_type", str(p, "product_type"), 750);
	tag(b, "google_product_category", str(p, "google_product_category"), 750);
	buf_adds(b, "</item>\n");
	buf_release(&lnk);
	f->items++;
}

static int page_one(void *cls, json_t *doc)
{
	struct feed *f = cls;
	const char *sku = json_get_str(doc, "sku");
	json_t *proj = NULL;
	struct hub_err e = {0};

	free(f->after);
	f->after = sku ? strdup(sku) : NULL;
	if (sku && pim_projection(f->app, f->channel, f->locale, sku, &proj, &e) == 0) {
		item(f, proj);
		json_decref(proj);
	}
	return ++f->page_n >= FEED_PAGE;
}

static int feed_fill(struct feed *f)
{
	int rc;

	buf_reset(&f->out);
	if (!f->started) {
		const char *label = json_string_value(
			json_object_get(json_object_get(f->chdoc, "labels"), f->locale));

		f->started = true;
		buf_adds(&f->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				  "<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n"
				  "<channel>\n<title>");
		esc(&f->out, label ? label : f->channel, 150);
		buf_adds(&f->out, "</title>\n<link>");
		esc(&f->out, str(f->chdoc, "url") ? str(f->chdoc, "url") : f->base, 2000);
		buf_adds(&f->out, "</link>\n<description>");
		esc(&f->out, f->channel, 150);
		buf_addf(&f->out, " products (%s)</description>\n", f->locale);
	}
	if (f->done) {
		buf_addf(&f->out, "<!-- %ld items; %ld published products left out for lacking a "
				  "title, an image or a price in the channel's currency -->\n"
				  "</channel>\n</rss>\n",
			 f->items, f->left_out);
		f->closed = true;
		return 0;
	}
	f->page_n = 0;
	rc = pim_products_foreach(f->app, f->after, page_one, f, &f->err);
	if (rc < 0)
		return rc;
	if (f->page_n < FEED_PAGE)
		f->done = true;
	return 0;
}

/* The next page of the feed, for http_reply_pages. */
static int feed_next(void *cls, const char **data, size_t *len, bool *last)
{
	struct feed *f = cls;

	if (feed_fill(f) < 0) {
		hub_log(LOG_WARN, "feed stopped error=\"%s\"", f->err.msg);
		return -1;
	}
	*data = f->out.data;
	*len = f->out.len;
	*last = f->closed;
	return 0;
}

static int feed_get(struct http_req *req)
{
	struct pim_app *app = http_app(req);
	const char *channel = http_param(req, "channel");
	const char *locale = http_query(req, "locale");
	const char *host = http_header(req, "Host");
	json_t *chdoc = pim_schema_get(app, "channels", channel);
	struct feed *f;
	struct buf base = BUF_INIT;

	if (!chdoc)
		return http_reply_problem(req, 404, "no such channel", NULL);
	if (!locale || !*locale)
		locale = json_string_value(json_array_get(json_object_get(chdoc, "locales"), 0));
	if (!locale || !json_array_has_string(json_object_get(chdoc, "locales"), locale)) {
		json_decref(chdoc);
		return http_reply_problem(req, 400, "the locale is not one of the channel's locales",
					  NULL);
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		json_decref(chdoc);
		return http_reply_problem(req, 500, "out of memory", NULL);
	}
	f->app = app;
	f->chdoc = chdoc;
	f->channel = strdup(channel);
	f->locale = strdup(locale);
	buf_addf(&base, "http://%s", host && *host && !strpbrk(host, "<>\"& ") ? host : "127.0.0.1");
	f->base = buf_detach(&base, NULL);
	return http_reply_pages(req, 200, "application/rss+xml; charset=utf-8", feed_next, f,
				feed_free);
}

const struct http_route pim_feed_routes[] = {
	{"GET", "/v1/channels/{channel}/feed.xml", feed_get, HTTP_PUBLIC_READ, NULL, 0},
};
const size_t pim_feed_nroutes = sizeof(pim_feed_routes) / sizeof(pim_feed_routes[0]);
