/* Archive uploads (zip, tar, tar.gz) read with libarchive: the body is
 * spooled to a temporary file under tmp/, then each entry is streamed into
 * the blob store as its own asset. Entries with absolute or ".." paths,
 * links, devices, nested archives and anything past the entry-count or
 * uncompressed-size limits are refused with a reason; an optional
 * manifest.csv sets filename -> SKUs, alt text, tags, rights and title. */
#ifndef DAM_ARCHIVE_H
#define DAM_ARCHIVE_H

#include <jansson.h>
#include <stddef.h>

#include "http.h"

struct dam_app;
struct hub_err;

/* Reads the archive at path and stores its entries. *result (the caller's)
 * is {"stored":[{"entry","id"}],"refused":[{"entry","reason","message"}]}
 * plus "manifest_errors" when manifest.csv had problems. HUB_EMEDIA when
 * the file is no archive at all, HUB_EINVALID when it is corrupt. */
int dam_archive_ingest(struct dam_app *app, const char *path, json_t **result, int *created,
		       struct hub_err *err);

/* The POST /v1/assets/archive route's body callback and handler. */
int dam_archive_body(struct http_req *req, const char *data, size_t len);
int dam_archive_handle(struct http_req *req);

#endif
