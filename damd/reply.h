/* What damd adds to common/http's replies: the headers of every answer
 * that sends stored bytes, JSON with short reals, and error texts without
 * file paths. */
#ifndef DAM_REPLY_H
#define DAM_REPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct hub_err;
struct http_req;
struct http_shared;

/* Content-Security-Policy of stored bytes: uploads are anyone's files, and
 * a page or SVG opened from damd's origin must run no script and reach
 * nothing, whatever a browser makes of it. */
#define DAM_STORED_CSP "default-src 'none'; style-src 'unsafe-inline'; sandbox"

/* True for media types a browser only displays (images other than SVG,
 * video, audio, PDF); anything else may be active content and is sent as
 * an attachment. mime may be NULL (not passive). */
bool dam_mime_passive(const char *mime);

/* Sets X-Content-Type-Options: nosniff and the CSP above on req, or on a
 * shared reply sh. */
void dam_stored_headers(struct http_req *req);
void dam_stored_headers_shared(struct http_shared *sh);

/* http_reply_json, with each real written as the shortest text that
 * reads back as the same double (0.3, not 0.29999999999999999). */
int dam_reply_json(struct http_req *req, int status, const json_t *j);

/* Copies text into out (outlen bytes, always terminated) without file
 * paths: libvips, libarchive and the C library name the file they fail on,
 * and a client must not learn where the store lives. An absolute path, or
 * one under data_dir (may be NULL), is dropped with its ": " when it
 * labels what follows ("load: /x/y: bad seek" → "load: bad seek"), else
 * replaced by "the file". True when anything was removed. */
bool dam_text_scrub(const char *text, const char *data_dir, char *out, size_t outlen);

/* http_reply_err, http_reply_problem and http_fail with the text scrubbed
 * as above; when that removed anything the full text goes to the log. */
int dam_reply_err(struct http_req *req, const struct hub_err *err);
int dam_reply_problem(struct http_req *req, int status, const char *detail,
		      const json_t *errors);
int dam_fail(struct http_req *req, const struct hub_err *err);

#endif
