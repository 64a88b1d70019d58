/* Sniffing a stored file: the media type from its bytes (libmagic), then
 * the image header through libvips: in the daemon for trusted formats, in
 * the sandboxed child for the untrusted ones. */
#include "fmacros.h"
#include "probe.h"
#include "err.h"
#include "rendition.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* libmagic handles are not thread-safe and costly to open: one, locked. */
static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_db;
static bool magic_failed;

static void sniff_mime(const char *path, const char *head, size_t n, char *out, size_t outlen)
{
	const char *m = NULL;

	pthread_mutex_lock(&magic_lock);
	if (!magic_db && !magic_failed) {
		magic_db = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
		if (magic_db && magic_load(magic_db, NULL) < 0) {
			magic_close(magic_db);
			magic_db = NULL;
		}
		magic_failed = !magic_db;
	}
	if (magic_db)
		m = magic_file(magic_db, path);
	snprintf(out, outlen, "%s", m ? m : "application/octet-stream");
	pthread_mutex_unlock(&magic_lock);

	/* SVG without an XML declaration or doctype reads as XML or text */
	if ((!strcmp(out, "text/xml") || !strcmp(out, "application/xml") ||
	     !strcmp(out, "text/plain") || !strcmp(out, "text/html")) &&
	    memmem(head, n, "<svg", 4))
		snprintf(out, outlen, "image/svg+xml");
}

int dam_probe(struct dam_app *app, const char *path, json_t *meta, struct hub_err *err)
{
	char head[4096], mime[128];
	struct rend_info info = {0};
	struct hub_err ignored = {0};
	json_t *hdr = NULL;
	ssize_t n;
	int fd, rc = -1;

	(void)app;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hub_err_set(err, HUB_EIO, "cannot open '%s': %s", path, strerror(errno));
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0)
		return hub_err_set(err, HUB_EIO, "cannot read '%s': %s", path, strerror(errno));
	sniff_mime(path, head, (size_t)n, mime, sizeof(mime));
	json_object_set_new(meta, "mime", json_string(mime));

	switch (rend_kind_of(mime)) {
	case REND_KIND_TRUSTED:
		rc = rend_header(path, NULL, 0, &info, &ignored);
		break;
	case REND_KIND_SANDBOX: {
		struct sandbox_limits lim;

		sandbox_limits_default(&lim);
		lim.timeout_ms = 10000;
		rc = sandbox_probe(mime, path, &lim, &hdr, &ignored);
		if (rc == 0) {
			info.width = (int)json_integer_value(json_object_get(hdr, "width"));
			info.height = (int)json_integer_value(json_object_get(hdr, "height"));
			info.pages = (int)json_integer_value(json_object_get(hdr, "pages"));
			info.orientation =
				(int)json_integer_value(json_object_get(hdr, "orientation"));
			info.has_icc = json_is_true(json_object_get(hdr, "has_icc"));
			json_decref(hdr);
		}
		break;
	}
	case REND_KIND_NONE:
		break;
	}
	/* an unreadable image is still a valid asset: no dimensions then */
	if (rc == 0 && info.width > 0 && info.height > 0) {
		json_object_set_new(meta, "width", json_integer(info.width));
		json_object_set_new(meta, "height", json_integer(info.height));
		json_object_set_new(meta, "pages", json_integer(info.pages > 0 ? info.pages : 1));
		json_object_set_new(meta, "orientation",
				    json_integer(info.orientation >= 1 && info.orientation <= 8
							 ? info.orientation
							 : 1));
		json_object_set_new(meta, "has_icc", json_boolean(info.has_icc));
	}
	return 0;
}
