/* damd's additions to common/http's replies (reply.h). */
#include "fmacros.h"
#include "reply.h"
#include "http.h"

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
