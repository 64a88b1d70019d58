/* What damd adds to common/http's replies: the headers of every answer
 * that sends stored bytes. */
#ifndef DAM_REPLY_H
#define DAM_REPLY_H

#include <stdbool.h>

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

#endif
