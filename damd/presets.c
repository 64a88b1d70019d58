/* Rendition presets, ad-hoc parameters and Accept negotiation. */
#include "fmacros.h"
#include "presets.h"
#include "err.h"
#include "json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PRESETS 64

struct presets {
	size_t n;
	struct preset p[MAX_PRESETS];
};

static const char *const fit_names[] = {"cover", "contain", "inside", "fill"};

static int fit_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, fit_names[i]))
			return i;
	return -1;
}

/* The quality a format gets when nothing asks for another. */
static int default_q(enum rend_fmt f)
{
	switch (f) {
	case REND_FMT_AVIF: return 55;
	case REND_FMT_WEBP: return 80;
	default: return 85;
	}
}

static int parse_colour(const char *s, uint8_t rgb[3])
{
	unsigned r, g, b;

	if (*s == '#')
		s++;
	if (strlen(s) != 6 || strspn(s, "0123456789abcdefABCDEF") != 6 ||
	    sscanf(s, "%2x%2x%2x", &r, &g, &b) != 3)
		return -1;
	rgb[0] = r, rgb[1] = g, rgb[2] = b;
	return 0;
}

static int bad(struct hub_err *err, const char *name, const char *field, const char *what)
{
	return hub_err_set(err, HUB_EINVALID, "/presets/%s/%s: %s", name, field, what);
}

static int preset_parse(struct preset *p, const char *name, json_t *o, struct hub_err *err)
{
	const char *key;
	json_t *v;

	memset(p, 0, sizeof(*p));
	if (strlen(name) >= sizeof(p->name) || !*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(name))
		return hub_err_set(err, HUB_EINVALID,
				   "/presets/%s: names are lower-case letters, digits, - and _", name);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->fit = REND_FIT_INSIDE;
	p->fmt = -1;
	if (!json_is_object(o))
		return hub_err_set(err, HUB_EINVALID, "/presets/%s: must be an object", name);
	json_object_foreach(o, key, v) {
		if (!strcmp(key, "width") || !strcmp(key, "height")) {
			json_int_t n = json_integer_value(v);

			if (!json_is_integer(v) || n < 1 || n > REND_MAX_SIDE)
				return bad(err, name, key, "must be an integer from 1 to 10000");
			*(key[0] == 'w' ? &p->w : &p->h) = (int)n;
		} else if (!strcmp(key, "fit")) {
			int f = json_is_string(v) ? fit_parse(json_string_value(v)) : -1;

			if (f < 0)
				return bad(err, name, key, "must be cover, contain, inside or fill");
			p->fit = (enum rend_fit)f;
		} else if (!strcmp(key, "format")) {
			const char *s = json_string_value(v);

			if (!s)
				return bad(err, name, key, "must be a string");
			p->fmt = !strcmp(s, "negotiate") ? -1 : rend_fmt_parse(s);
			if (p->fmt == -1 && strcmp(s, "negotiate"))
				return bad(err, name, key,
					   "must be negotiate, avif, webp, jpeg, png or tiff");
		} else if (!strcmp(key, "quality")) {
			json_int_t n = json_integer_value(v);

			if (!json_is_integer(v) || n < 1 || n > 100)
				return bad(err, name, key, "must be an integer from 1 to 100");
			p->q = (int)n;
		} else if (!strcmp(key, "animation")) {
			const char *s = json_string_value(v);

			if (!s || (strcmp(s, "keep") && strcmp(s, "flatten")))
				return bad(err, name, key, "must be keep or flatten");
			p->keep_frames = !strcmp(s, "keep");
		} else if (!strcmp(key, "background")) {
			if (!json_is_string(v) || parse_colour(json_string_value(v), p->bg) < 0)
				return bad(err, name, key, "must be a colour like #ffffff");
			p->has_bg = true;
		} else if (strcmp(key, "description")) {
			return bad(err, name, key, "is not a preset field");
		}
	}
	if (!p->w && !p->h)
		return bad(err, name, "width", "a preset needs a width or a height");
	if (json_tag(o, "description", p->tag, JSON_PRESET_TAG_DIGITS) < 0)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	if ((p->fit == REND_FIT_COVER || p->fit == REND_FIT_CONTAIN || p->fit == REND_FIT_FILL) &&
	    (!p->w || !p->h))
		return bad(err, name, "fit", "cover, contain and fill need both width and height");
	return 0;
}

int presets_parse(struct presets **out, const char *json, size_t len, struct hub_err *err)
{
	struct presets *ps = NULL;
	json_t *root, *list, *v;
	const char *name;
	int rc = 0;

	*out = NULL;
	root = json_parse(json, len, err);
	if (!root)
		return err ? err->code : HUB_EINVAL;
	list = json_object_get(root, "presets");
	if (!json_is_object(list)) {
		rc = hub_err_set(err, HUB_EINVALID, "/presets: must be an object of presets");
		goto out;
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	json_object_foreach(list, name, v) {
		if (ps->n == MAX_PRESETS) {
			rc = hub_err_set(err, HUB_EINVALID, "/presets: more than %d presets",
					 MAX_PRESETS);
			goto out;
		}
		rc = preset_parse(&ps->p[ps->n], name, v, err);
		if (rc < 0)
			goto out;
		ps->n++;
	}
	*out = ps;
	ps = NULL;
out:
	free(ps);
	json_decref(root);
	return rc;
}

int presets_load(struct presets **out, const char *path, struct hub_err *err)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long n;
	int rc;

	*out = NULL;
	if (!f)
		return hub_err_set(err, HUB_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || n > (1 << 20) ||
	    fseek(f, 0, SEEK_SET) < 0 || !(data = malloc(n + 1)) ||
	    fread(data, 1, n, f) != (size_t)n) {
		fclose(f);
		free(data);
		return hub_err_set(err, HUB_EIO, "cannot read '%s'", path);
	}
	fclose(f);
	data[n] = 0;
	rc = presets_parse(out, data, (size_t)n, err);
	free(data);
	if (rc < 0 && err) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		hub_err_set(err, rc, "'%s': %s", path, msg);
	}
	return rc;
}

void presets_free(struct presets *p) { free(p); }

const struct preset *presets_find(const struct presets *p, const char *name)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (!strcmp(p->p[i].name, name))
			return &p->p[i];
	return NULL;
}

size_t presets_count(const struct presets *p) { return p ? p->n : 0; }

/* ---- ad-hoc parameters ---- */

static int int_param(const char *name, const char *v, int min, int max, int *out,
		     struct hub_err *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < min || n > max)
		return hub_err_set(err, HUB_EINVAL, "parameter '%s' must be an integer from %d to %d",
				   name, min, max);
	*out = (int)n;
	return 0;
}

int adhoc_parse(struct adhoc *a, const char *w, const char *h, const char *fit, const char *fmt,
		const char *q, const char *dpr, struct hub_err *err)
{
	memset(a, 0, sizeof(*a));
	a->fit = -1;
	a->fmt = -1;
	if (w && int_param("w", w, 1, REND_MAX_SIDE, &a->w, err) < 0)
		return HUB_EINVAL;
	if (h && int_param("h", h, 1, REND_MAX_SIDE, &a->h, err) < 0)
		return HUB_EINVAL;
	if (!a->w && !a->h)
		return hub_err_set(err, HUB_EINVAL, "parameter 'w' or 'h' is required");
	if (fit && (a->fit = fit_parse(fit)) < 0)
		return hub_err_set(err, HUB_EINVAL,
				   "parameter 'fit' must be cover, contain, inside or fill");
	if (fmt && (a->fmt = rend_fmt_parse(fmt)) < 0)
		return hub_err_set(err, HUB_EINVAL,
				   "parameter 'fmt' must be avif, webp, jpeg, png or tiff");
	if (q && int_param("q", q, 1, 100, &a->q, err) < 0)
		return HUB_EINVAL;
	if (dpr) {
		char *end;
		double d;

		errno = 0;
		d = strtod(dpr, &end);
		if (!*dpr || *end || errno || !(d >= 1 && d <= 4))
			return hub_err_set(err, HUB_EINVAL, "parameter 'dpr' must be a number from 1 to 4");
		a->dpr100 = (int)lround(d * 100);
	}
	if ((long)a->w * (a->dpr100 ? a->dpr100 : 100) / 100 > REND_MAX_SIDE ||
	    (long)a->h * (a->dpr100 ? a->dpr100 : 100) / 100 > REND_MAX_SIDE)
		return hub_err_set(err, HUB_EINVAL, "parameters 'w'/'h' times 'dpr' exceed %d pixels",
				   REND_MAX_SIDE);
	return 0;
}

int adhoc_parse_query(struct adhoc *a, const char *query, struct hub_err *err)
{
	const char *keys[] = {"w", "h", "fit", "fmt", "q", "dpr"};
	char copy[512], *p, *save = NULL, *vals[6] = {0};
	size_t n = strlen(query);

	if (*query == '?')
		query++, n--;
	if (n >= sizeof(copy))
		return hub_err_set(err, HUB_EINVAL, "the parameters are too long");
	memcpy(copy, query, n + 1);
	for (p = strtok_r(copy, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
		char *v = strchr(p, '=');
		size_t i;

		if (!v)
			return hub_err_set(err, HUB_EINVAL, "parameter '%s' has no value", p);
		*v++ = 0;
		for (i = 0; i < 6 && strcmp(p, keys[i]); i++)
			;
		if (i == 6)
			return hub_err_set(err, HUB_EINVAL, "unknown parameter '%s'", p);
		vals[i] = v;
	}
	return adhoc_parse(a, vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], err);
}

/* The canonical string being built: every cached ad-hoc request makes one,
 * so it is put together by hand rather than with a dozen snprintf calls. */
struct canon {
	char *out;
	size_t len, cap;
	bool full;
};

static void canon_add(struct canon *c, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val);

	if (c->full || c->len + (c->len > 0) + kl + 1 + vl >= c->cap) {
		c->full = true;
		return;
	}
	if (c->len)
		c->out[c->len++] = '&';
	memcpy(c->out + c->len, key, kl);
	c->len += kl;
	c->out[c->len++] = '=';
	memcpy(c->out + c->len, val, vl);
	c->len += vl;
	c->out[c->len] = 0;
}

static void canon_add_int(struct canon *c, const char *key, int v)
{
	char d[16];
	size_t i = sizeof(d) - 1;
	unsigned u = (unsigned)v; /* parameters are positive */

	d[i] = 0;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	canon_add(c, key, d + i);
}

int adhoc_canonical(const struct adhoc *a, char *out, size_t outlen)
{
	struct canon c = {out, 0, outlen, outlen == 0};

	if (outlen)
		out[0] = 0;
	/* keys in sorted order: dpr fit fmt h q w */
	if (a->dpr100) {
		char dpr[32];

		snprintf(dpr, sizeof(dpr), "%d.%02d", a->dpr100 / 100, a->dpr100 % 100);
		/* trim trailing zeros so 2, 2.0 and 2.00 sign alike */
		for (size_t l = strlen(dpr); dpr[l - 1] == '0'; l--)
			dpr[l - 1] = 0;
		if (dpr[strlen(dpr) - 1] == '.')
			dpr[strlen(dpr) - 1] = 0;
		canon_add(&c, "dpr", dpr);
	}
	if (a->fit >= 0)
		canon_add(&c, "fit", fit_names[a->fit]);
	if (a->fmt >= 0)
		canon_add(&c, "fmt", rend_fmt_name(a->fmt));
	if (a->h)
		canon_add_int(&c, "h", a->h);
	if (a->q)
		canon_add_int(&c, "q", a->q);
	if (a->w)
		canon_add_int(&c, "w", a->w);
	return c.full ? HUB_ETOOBIG : (int)c.len;
}

/* ---- negotiation ---- */

/* True when media type t is listed in accept with q>0. */
static bool accepts(const char *accept, const char *t)
{
	size_t tl = strlen(t);
	const char *p = accept;

	while (p && *p) {
		const char *end = strchr(p, ','), *semi;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		len = end ? (size_t)(end - p) : strlen(p);
		semi = memchr(p, ';', len);
		{
			size_t tlen = semi ? (size_t)(semi - p) : len;

			while (tlen && (p[tlen - 1] == ' ' || p[tlen - 1] == '\t'))
				tlen--;
			if (tlen == tl && !strncasecmp(p, t, tl)) {
				const char *qp = semi;
				double q = 1;

				while (qp && qp < p + len) {
					qp++;
					while (*qp == ' ')
						qp++;
					if ((qp[0] == 'q' || qp[0] == 'Q') && qp[1] == '=')
						q = strtod(qp + 2, NULL);
					qp = memchr(qp, ';', (size_t)(p + len - qp));
				}
				return q > 0;
			}
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

void accept_parse(const char *accept, struct accept_fmts *out)
{
	out->avif = accept && accepts(accept, "image/avif");
	out->webp = accept && accepts(accept, "image/webp");
}

static enum rend_fmt negotiate(const struct accept_fmts *acc)
{
	if (acc->avif)
		return REND_FMT_AVIF;
	if (acc->webp)
		return REND_FMT_WEBP;
	return REND_FMT_CLASSIC;
}

void spec_from_preset(const struct preset *p, const struct accept_fmts *acc, bool animated,
		      struct rend_spec *spec, bool *vary)
{
	memset(spec, 0, sizeof(*spec));
	spec->w = p->w;
	spec->h = p->h;
	spec->fit = p->fit;
	*vary = p->fmt < 0;
	if (p->fmt >= 0) {
		spec->fmt = p->fmt;
	} else if (p->keep_frames && animated && acc->webp) {
		spec->fmt = REND_FMT_WEBP; /* the one output that animates */
	} else {
		spec->fmt = negotiate(acc);
	}
	spec->keep_frames = p->keep_frames && animated && spec->fmt == REND_FMT_WEBP;
	spec->q = p->q ? p->q : default_q(spec->fmt);
	spec->has_bg = p->has_bg;
	memcpy(spec->bg, p->bg, 3);
}

int spec_from_adhoc(const struct adhoc *a, const struct accept_fmts *acc, struct rend_spec *spec,
		    bool *vary, struct hub_err *err)
{
	int dpr = a->dpr100 ? a->dpr100 : 100;

	(void)err;
	memset(spec, 0, sizeof(*spec));
	spec->w = a->w ? (int)(((long)a->w * dpr + 50) / 100) : 0;
	spec->h = a->h ? (int)(((long)a->h * dpr + 50) / 100) : 0;
	if (a->fit >= 0)
		spec->fit = a->fit;
	else
		spec->fit = a->w && a->h ? REND_FIT_COVER : REND_FIT_INSIDE;
	*vary = a->fmt < 0;
	spec->fmt = a->fmt >= 0 ? (enum rend_fmt)a->fmt : negotiate(acc);
	spec->q = a->q ? a->q : default_q(spec->fmt);
	return 0;
}
