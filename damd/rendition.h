/* Renditions: the libvips engine (header reading and rendering a file to an
 * encoded buffer), the render specification and its canonical form, and the
 * HTTP routes that serve renditions from the derived-blob cache.
 *
 * libvips is used only here, in probe.c and in the sandboxed child
 * (sandbox.c). Loaders libvips marks untrusted (PDF, SVG, JPEG XL, JPEG 2000,
 * ImageMagick) never run inside the daemon: they are blocked in it and run
 * only in the resource-limited child.
 */
#ifndef DAM_RENDITION_H
#define DAM_RENDITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"

struct buf;
struct hub_err;
struct dam_app;
struct json_t;

enum rend_fit { REND_FIT_COVER, REND_FIT_CONTAIN, REND_FIT_INSIDE, REND_FIT_FILL };

/* REND_FMT_CLASSIC is what a client that takes neither AVIF nor WebP gets:
 * JPEG, or PNG when the source has an alpha channel. */
enum rend_fmt {
	REND_FMT_AVIF,
	REND_FMT_WEBP,
	REND_FMT_JPEG,
	REND_FMT_PNG,
	REND_FMT_TIFF,
	REND_FMT_CLASSIC
};

#define REND_MAX_SIDE 10000 /* output width or height, dpr included */

/* Everything that decides the output bytes; its canonical form is part of
 * the cache key, so two specs that render alike format alike. */
struct rend_spec {
	int w, h; /* the box in output pixels; 0: unconstrained */
	enum rend_fit fit;
	enum rend_fmt fmt;
	int q;            /* 1..100 */
	bool keep_frames; /* animated sources stay animated (WebP only) */
	bool has_bg;
	uint8_t bg[3];    /* flatten alpha onto / pad with this colour */
	bool has_focal;
	double fx, fy;    /* focal point, 0..1 of the upright source */
};

struct rend_limits {
	uint64_t max_pixels; /* of the source (all kept frames) */
	int max_frames;      /* frames of an animation that stays animated */
	int timeout_ms;      /* per render */
};

/* What libvips reads from a file's header. width/height as stored (before
 * EXIF rotation). */
struct rend_info {
	int width, height, pages, orientation;
	bool has_icc, has_alpha;
};

/* An encoded rendition; data is malloc'd and owned by the holder. */
struct rend_out {
	char *data;
	size_t len;
	int width, height;
	char mime[32];
};

/* How a sniffed media type is read: in the daemon (a trusted libvips
 * loader), only in the sandboxed child (untrusted loaders), or not at all. */
enum rend_kind { REND_KIND_NONE, REND_KIND_TRUSTED, REND_KIND_SANDBOX };
enum rend_kind rend_kind_of(const char *mime);

/* Starts libvips once per process (later calls return the first result):
 * operation cache off, one thread per render, untrusted loaders blocked and
 * only the allow-listed loaders open. In the sandboxed child, sandbox_mime
 * names the one untrusted format it may additionally load. */
int rend_engine_init(const char *sandbox_mime, struct hub_err *err);

/* Reads the header of path (or of len bytes at data when data is set).
 * HUB_EINVALID when libvips cannot read it. */
int rend_header(const char *path, const void *data, size_t len, struct rend_info *out,
		struct hub_err *err);

/* Renders path (or the bytes at data) to out. The source is refused with
 * HUB_EINVALID when unreadable, past lim->max_pixels or with more frames
 * than lim->max_frames to keep; HUB_ETIMEOUT past lim->timeout_ms. */
int rend_render(const char *path, const void *data, size_t len, const struct rend_spec *s,
		const struct rend_limits *lim, struct rend_out *out, struct hub_err *err);
void rend_out_release(struct rend_out *o);

/* The canonical form "bg=…&fit=…&fmt=…&fp=…&h=…&kf=1&q=…&w=…" (keys sorted,
 * only those that matter) into out; its length, or HUB_ETOOBIG. */
int rend_spec_format(const struct rend_spec *s, char *out, size_t outlen);
/* Parses what rend_spec_format wrote. HUB_EINVAL on anything else. */
int rend_spec_parse(struct rend_spec *s, const char *str, struct hub_err *err);

const char *rend_fmt_name(enum rend_fmt f);
/* "avif", "webp", "jpeg"/"jpg", "png", "tiff"; -1 when unknown. */
int rend_fmt_parse(const char *name);

/* The daemon's rendition service: settings from flags, the render pool and
 * the HTTP routes. rend_settings_read reads and checks --max-pixels,
 * --max-frames, --render-workers, --render-queue, --render-timeout and
 * --rendition-max-age (and their DAMD_* twins) before damd makes its data
 * directory, so that a bad one stops it (config_range) with nothing made.
 * rend_service_start then loads the presets and the signing keys
 * (--sign-keys, or sign.key under the data directory) and starts the pool. */
struct rend_settings {
	long pixels, frames, workers, queue, timeout_s, max_age;
};
void rend_settings_read(struct rend_settings *set, int argc, char **argv);
int rend_service_start(struct dam_app *app, const struct rend_settings *set, int argc,
		       char **argv, struct hub_err *err);
/* Those flags, for config_check. */
extern const struct config_flag rend_flags[];
void rend_service_stop(struct dam_app *app);
/* Whether a request can no longer be answered with the rendition entry
 * whose key has canonical spec and whose value is val, as the source's
 * record rec (NULL: unknown) stands: it was made for a preset that is gone
 * or whose parameters changed (val's "preset" and "preset_tag"), or it is
 * a cover crop around another focal point than rec's. False before
 * rend_service_start. */
bool rend_entry_stale(struct dam_app *app, const char *spec, const struct json_t *val,
		      const struct json_t *rec);
/* The collector removed derived blob hex: renditions stop holding its file
 * open. Does nothing before rend_service_start. */
void rend_blob_removed(struct dam_app *app, const char *hex);
/* "damd --sign ID 'w=…&h=…'": prints the signed path of an ad-hoc
 * rendition with the first key (--sign-keys, or sign.key under --data). */
int rend_sign_main(int argc, char **argv);
/* Prometheus lines for /metrics: renders, failures, refusals, queue. */
void rend_metrics(struct buf *out, void *app);

extern const struct http_route rend_routes[];
extern const size_t rend_nroutes;

#endif
