/* multipart/form-data uploads, streamed: libmicrohttpd's POST processor
 * parses the form as the body arrives and hands each file part's bytes on
 * as they come, so a file is never held in memory whole. Form fields
 * without a filename are ignored. */
#ifndef DAM_MULTIPART_H
#define DAM_MULTIPART_H

#include <stddef.h>

#include "http.h"

struct hub_err;
struct multipart;

/* Called for each file part: begin (field name and the client's filename,
 * borrowed for the call), data any number of times, end. A negative return
 * (with err set) stops the parse. */
struct multipart_cb {
	int (*begin)(void *cls, const char *field, const char *filename, struct hub_err *err);
	int (*data)(void *cls, const char *data, size_t len, struct hub_err *err);
	int (*end)(void *cls, struct hub_err *err);
};

/* HUB_EMEDIA when the request is not multipart/form-data with a boundary. */
int multipart_new(struct http_req *req, const struct multipart_cb *cb, void *cls,
		  struct multipart **out, struct hub_err *err);
int multipart_feed(struct multipart *m, const char *data, size_t len, struct hub_err *err);
/* Ends the last file part; HUB_EINVAL when the form was cut short. */
int multipart_finish(struct multipart *m, struct hub_err *err);
/* Accepts NULL. */
void multipart_free(struct multipart *m);

#endif
