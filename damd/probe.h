/* What a stored file is, sniffed from its bytes (never from the client):
 * media type, and for images and PDFs width, height, pages, EXIF
 * orientation and whether an ICC profile is embedded. Formats whose libvips
 * loaders are untrusted (PDF, SVG…) are probed in the sandboxed child.
 */
#ifndef DAM_PROBE_H
#define DAM_PROBE_H

#include <jansson.h>

struct hub_err;
struct dam_app;

/* Sets in meta (an object the caller owns): "mime" always; "width",
 * "height", "pages", "orientation", "has_icc" when the file is an image or
 * PDF libvips can read the header of. A file that is not a readable image
 * is still a valid asset (mime from its signature, no dimensions). Returns
 * an error only when the file cannot be read at all. */
int dam_probe(struct dam_app *app, const char *path, json_t *meta, struct hub_err *err);

#endif
