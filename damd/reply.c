/* damd's additions to common/http's replies (reply.h). */
#include "fmacros.h"
#include "reply.h"
#include "app.h"
#include "err.h"
#include "http.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool dam_mime_passive(const char *mime)
{
	if (!mime)
		return false;
	/* SVG and any other XML image can carry script */
	if (!strncmp(mime, "image/", 6))
		return !strstr(mime, "svg") && !strstr(mime, "xml");
	return !strncmp(mime, "video/", 6) || !strncmp(mime, "audio/", 6) ||
	       !strcmp(mime, "application/pdf");
}

void dam_stored_headers(struct http_req *req)
{
	http_set_header(req, "X-Content-Type-Options", "nosniff");
	http_set_header(req, "Content-Security-Policy", DAM_STORED_CSP);
}

void dam_stored_headers_shared(struct http_shared *sh)
{
	http_shared_set_header(sh, "X-Content-Type-Options", "nosniff");
	http_shared_set_header(sh, "Content-Security-Policy", DAM_STORED_CSP);
}

/* True when every real in j reads back the same from "%.<prec>g". */
static bool reals_exact(const json_t *j, int prec)
{
	char s[40];
	const char *k;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_REAL:
		snprintf(s, sizeof(s), "%.*g", prec, json_real_value(j));
		return strtod(s, NULL) == json_real_value(j);
	case JSON_OBJECT:
		json_object_foreach((json_t *)j, k, v)
			if (!reals_exact(v, prec))
				return false;
		return true;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			if (!reals_exact(v, prec))
				return false;
		return true;
	default:
		return true;
	}
}

int dam_reply_json(struct http_req *req, int status, const json_t *j)
{
	size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	int prec = 15;
	char *s;

	/* jansson writes every real with 17 digits, which shows 0.3 as
	 * 0.29999999999999999. Up to 15 digits, a decimal read as a double
	 * prints back as itself (DBL_DIG), so 15 gives each real that came
	 * from such a decimal as it was written; a real that needs more gets
	 * 16 or 17 digits, for the whole document, so nothing is ever lost. */
	while (prec < 17 && !reals_exact(j, prec))
		prec++;
	s = json_dumps(j, flags | JSON_REAL_PRECISION(prec));
	if (!s)
		return http_reply_problem(req, 500, "out of memory", NULL);
	return http_reply_owned(req, status, "application/json", s, strlen(s));
}

/* Where a path may start: not inside a word, so "image/webp" is no path. */
static bool path_boundary(const char *text, const char *p)
{
	return p == text || strchr(" '\"(=[<,", p[-1]);
}

/* Length of the path at p, 0 when none starts there. */
static size_t path_len(const char *p, const char *data_dir)
{
	size_t dl = data_dir ? strlen(data_dir) : 0;

	if (!(p[0] == '/' && p[1] && p[1] != ' ') &&
	    !(dl && data_dir[0] != '/' && !strncmp(p, data_dir, dl) && p[dl] == '/'))
		return 0;
	return strcspn(p, " \t\n'\"),;:");
}

bool dam_text_scrub(const char *text, const char *data_dir, char *out, size_t outlen)
{
	const char *p = text;
	size_t o = 0, n;
	bool changed = false;

	if (!outlen)
		return false;
	while (*p && o + 1 < outlen) {
		n = path_boundary(text, p) ? path_len(p, data_dir) : 0;
		if (!n) {
			out[o++] = *p++;
			continue;
		}
		changed = true;
		/* 'path' or "path": the quotes go with it */
		if (p > text && (p[-1] == '\'' || p[-1] == '"') && p[n] == p[-1]) {
			o--;
			n++;
		}
		if (p[n] == ':' && p[n + 1] == ' ' &&
		    (o == 0 || (o >= 2 && out[o - 2] == ':' && out[o - 1] == ' '))) {
			p += n + 2; /* a label: "x: PATH: why" reads "x: why" */
			continue;
		}
		p += n;
		o += (size_t)snprintf(out + o, outlen - o, "the file");
		if (o >= outlen)
			o = outlen - 1;
	}
	out[o] = 0;
	return changed;
}

/* err's text as a client may see it, into pub; logs the full text when
 * they differ. */
static void public_err(struct http_req *req, const struct hub_err *err, struct hub_err *pub)
{
	struct dam_app *app = http_app(req);

	pub->code = err->code;
	if (dam_text_scrub(err->msg, app ? app->data_dir : NULL, pub->msg, sizeof(pub->msg)))
		hub_log(LOG_WARN, "request path=%s error=\"%s\"", http_path(req), err->msg);
}

int dam_reply_err(struct http_req *req, const struct hub_err *err)
{
	struct hub_err pub;

	public_err(req, err, &pub);
	return http_reply_err(req, &pub);
}

int dam_reply_problem(struct http_req *req, int status, const char *detail,
		      const json_t *errors)
{
	struct hub_err in = {0}, pub;

	snprintf(in.msg, sizeof(in.msg), "%s", detail ? detail : "");
	public_err(req, &in, &pub);
	return http_reply_problem(req, status, pub.msg, errors);
}

int dam_fail(struct http_req *req, const struct hub_err *err)
{
	struct hub_err pub;

	public_err(req, err, &pub);
	return http_fail(req, &pub);
}
