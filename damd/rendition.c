/* The libvips engine: reading headers and rendering a source to an encoded
 * rendition. Everything else in damd reaches libvips through here (the
 * sandboxed child included), so the loader allow-list is set in one place.
 */
#include "fmacros.h"
#include "rendition.h"
#include "err.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vips/vips.h>

/* Loaders that run inside the daemon. Every other loader is blocked. */
static const char *const trusted_loaders[] = {
	"VipsForeignLoadJpeg", "VipsForeignLoadPng",  "VipsForeignLoadWebp",
	"VipsForeignLoadNsgif", "VipsForeignLoadTiff", "VipsForeignLoadHeif",
};

/* Media types read in the daemon, and those read only in the sandboxed
 * child together with the one (untrusted) loader the child opens for them. */
static const char *const trusted_mimes[] = {
	"image/jpeg", "image/png", "image/webp", "image/gif",
	"image/tiff", "image/heic", "image/heif", "image/avif",
};
static const struct {
	const char *mime, *loader;
} sandbox_mimes[] = {
	{"application/pdf", "VipsForeignLoadPdf"},
	{"image/svg+xml", "VipsForeignLoadSvg"},
	{"image/jxl", "VipsForeignLoadJxl"},
	{"image/jp2", "VipsForeignLoadJp2k"},
	{"image/jpx", "VipsForeignLoadJp2k"},
	{"image/bmp", "VipsForeignLoadMagick"},
	{"image/x-ms-bmp", "VipsForeignLoadMagick"},
	{"image/x-icon", "VipsForeignLoadMagick"},
	{"image/vnd.microsoft.icon", "VipsForeignLoadMagick"},
};

#define BIG_SIDE 10000000 /* "unconstrained" for vips_thumbnail */

enum rend_kind rend_kind_of(const char *mime)
{
	if (!mime)
		return REND_KIND_NONE;
	for (size_t i = 0; i < sizeof(trusted_mimes) / sizeof(trusted_mimes[0]); i++)
		if (!strcmp(mime, trusted_mimes[i]))
			return REND_KIND_TRUSTED;
	for (size_t i = 0; i < sizeof(sandbox_mimes) / sizeof(sandbox_mimes[0]); i++)
		if (!strcmp(mime, sandbox_mimes[i].mime))
			return REND_KIND_SANDBOX;
	return REND_KIND_NONE;
}

/* ---- start-up ---- */

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static const char *engine_sandbox_mime;
static int engine_rc;
static char engine_msg[256];

static void engine_start(void)
{
	const char *extra = NULL;

	if (VIPS_INIT("damd")) {
		engine_rc = HUB_EIO;
		snprintf(engine_msg, sizeof(engine_msg), "cannot start libvips: %s",
			 vips_error_buffer());
		vips_error_clear();
		return;
	}
	/* No operation cache: renders are distinct and cached as blobs, and
	 * the cache would hold decoded images in memory. One thread per
	 * render: parallelism comes from the render pool. */
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	vips_concurrency_set(1);
	vips_leak_set(FALSE);
	if (engine_sandbox_mime) {
		for (size_t i = 0; i < sizeof(sandbox_mimes) / sizeof(sandbox_mimes[0]); i++)
			if (!strcmp(engine_sandbox_mime, sandbox_mimes[i].mime))
				extra = sandbox_mimes[i].loader;
	}
	vips_block_untrusted_set(extra ? FALSE : TRUE);
	vips_operation_block_set("VipsForeignLoad", TRUE);
	for (size_t i = 0; i < sizeof(trusted_loaders) / sizeof(trusted_loaders[0]); i++)
		vips_operation_block_set(trusted_loaders[i], FALSE);
	if (extra)
		vips_operation_block_set(extra, FALSE);
}

int rend_engine_init(const char *sandbox_mime, struct hub_err *err)
{
	engine_sandbox_mime = sandbox_mime;
	pthread_once(&engine_once, engine_start);
	if (engine_rc)
		return hub_err_set(err, engine_rc, "%s", engine_msg);
	return 0;
}

/* Moves libvips' error text into err (first line, trimmed). */
static int vips_fail(struct hub_err *err, int code, const char *what)
{
	char *msg = vips_error_buffer_copy();
	char *nl;

	if (msg && (nl = strchr(msg, '\n')))
		*nl = 0;
	hub_err_set(err, code, "%s: %s", what, msg && *msg ? msg : "libvips gave no reason");
	g_free(msg);
	return code;
}

static VipsImage *open_header(const char *path, const void *data, size_t len)
{
	if (data)
		return vips_image_new_from_buffer(data, len, "", NULL);
	return vips_image_new_from_file(path, NULL);
}

static int image_pages(VipsImage *im)
{
	int n = 1;

	if (vips_image_get_typeof(im, VIPS_META_N_PAGES) &&
	    vips_image_get_int(im, VIPS_META_N_PAGES, &n) == 0 && n >= 1)
		return n;
	return 1;
}

int rend_header(const char *path, const void *data, size_t len, struct rend_info *out,
		struct hub_err *err)
{
	VipsImage *im;

	if (rend_engine_init(engine_sandbox_mime, err) < 0)
		return err ? err->code : HUB_EIO;
	memset(out, 0, sizeof(*out));
	im = open_header(path, data, len);
	if (!im)
		return vips_fail(err, HUB_EINVALID, "unreadable image");
	out->width = vips_image_get_width(im);
	out->height = vips_image_get_page_height(im);
	out->pages = image_pages(im);
	out->orientation = vips_image_get_orientation(im);
	out->has_icc = vips_image_get_typeof(im, VIPS_META_ICC_NAME) != 0;
	out->has_alpha = vips_image_hasalpha(im);
	g_object_unref(im);
	return 0;
}

/* ---- rendering ---- */

struct deadline {
	struct timespec at;
	bool expired;
};

static void on_eval(VipsImage *im, VipsProgress *progress, struct deadline *d)
{
	struct timespec now;

	(void)progress;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > d->at.tv_sec || (now.tv_sec == d->at.tv_sec && now.tv_nsec > d->at.tv_nsec)) {
		d->expired = true;
		vips_image_set_kill(im, TRUE);
	}
}

/* Replaces *im by next (taking ownership) unless next is NULL. */
static int step(VipsImage **im, VipsImage *next, int rc)
{
	if (rc || !next)
		return -1;
	g_object_unref(*im);
	*im = next;
	return 0;
}

/* Applies, frame by frame, an area of w×h at (left, top) of each frame and
 * then centres it in a canvas of cw×ch (bg), for crops and padding of
 * animations alike. With one frame this is plain extract/gravity. */
static int reframe(VipsImage **im, int nframes, int left, int top, int w, int h, int cw, int ch,
		   const double *bg, int nbg)
{
	int ph = vips_image_get_page_height(*im);
	VipsImage **frames = NULL, *joined = NULL;
	VipsArrayDouble *back = vips_array_double_new(bg, nbg);
	int rc = -1, i;

	frames = calloc(nframes, sizeof(*frames));
	if (!frames)
		goto out;
	for (i = 0; i < nframes; i++) {
		VipsImage *area = NULL;

		if (vips_extract_area(*im, &area, left, i * ph + top, w, h, NULL))
			goto out;
		if (cw != w || ch != h) {
			VipsImage *padded = NULL;

			rc = vips_gravity(area, &padded, VIPS_COMPASS_DIRECTION_CENTRE, cw, ch,
					  "extend", VIPS_EXTEND_BACKGROUND, "background", back,
					  NULL);
			g_object_unref(area);
			if (rc)
				goto out;
			rc = -1;
			area = padded;
		}
		frames[i] = area;
	}
	if (nframes == 1) {
		joined = frames[0];
		frames[0] = NULL;
	} else if (vips_arrayjoin(frames, &joined, nframes, "across", 1, NULL)) {
		goto out;
	} else {
		VipsImage *copy = NULL;

		if (vips_copy(joined, &copy, NULL)) {
			g_object_unref(joined);
			goto out;
		}
		g_object_unref(joined);
		joined = copy;
		vips_image_set_int(joined, VIPS_META_PAGE_HEIGHT, ch);
	}
	g_object_unref(*im);
	*im = joined;
	rc = 0;
out:
	for (i = 0; frames && i < nframes; i++)
		if (frames[i])
			g_object_unref(frames[i]);
	free(frames);
	vips_area_unref(VIPS_AREA(back));
	return rc;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static const char *fmt_mime(enum rend_fmt f)
{
	switch (f) {
	case REND_FMT_AVIF: return "image/avif";
	case REND_FMT_WEBP: return "image/webp";
	case REND_FMT_PNG: return "image/png";
	case REND_FMT_TIFF: return "image/tiff";
	default: return "image/jpeg";
	}
}

/* libvips 8.14's webpsave ignores "strip" (libvips issue 3340) and writes
 * the source's EXIF (rebuilt from the exif-* fields, camera, GPS and
 * thumbnail included), XMP and ICC profile into every WebP: a copy without
 * them is saved instead, stripped as DESIGN.md and the other formats are.
 * Only the small block libvips makes from the resolution remains. */
static int strip_metadata(VipsImage **im)
{
	static const char *const meta[] = {"exif-", "jpeg-thumbnail-data", VIPS_META_XMP_NAME,
					   VIPS_META_IPTC_NAME, VIPS_META_ICC_NAME,
					   VIPS_META_PHOTOSHOP_NAME};
	VipsImage *bare = NULL;
	gchar **fields;

	if (step(im, bare, vips_copy(*im, &bare, NULL)) < 0)
		return -1;
	fields = vips_image_get_fields(*im);
	for (int f = 0; fields && fields[f]; f++)
		for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
			if (!strncmp(fields[f], meta[i], strlen(meta[i])))
				vips_image_remove(*im, fields[f]);
	g_strfreev(fields);
	return 0;
}

static int save(VipsImage *im, enum rend_fmt f, int q, void **buf, size_t *len)
{
	switch (f) {
	case REND_FMT_AVIF:
		/* effort 2 of 9: AV1 encoding is the slowest step by far */
		return vips_heifsave_buffer(im, buf, len, "Q", q, "compression",
					    VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "effort", 2,
					    "strip", TRUE, NULL);
	case REND_FMT_WEBP:
		/* libwebp's default effort, 4 of 6: what sharp and the other
		 * common image servers encode with */
		return vips_webpsave_buffer(im, buf, len, "Q", q, "effort", 4, "strip", TRUE, NULL);
	case REND_FMT_PNG:
		return vips_pngsave_buffer(im, buf, len, "compression", 6, "strip", TRUE, NULL);
	case REND_FMT_TIFF:
		return vips_tiffsave_buffer(im, buf, len, "compression",
					    VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE, "strip", TRUE,
					    NULL);
	default:
		return vips_jpegsave_buffer(im, buf, len, "Q", q, "strip", TRUE,
					    "optimize_coding", TRUE, NULL);
	}
}

/* JPEGs without a profile take a shorter road than vips_thumbnail: load
 * shrunk by the largest power of two that keeps the image at least as big
 * as the box (vips_thumbnail keeps twice that), then one lanczos3 resize and
 * the EXIF rotation on the small image. Half the CPU of a render goes. */
static int jpeg_fast(const char *path, int uw, int uh, bool swap, int box_w, int box_h,
		     enum rend_fit fit, VipsImage **out)
{
	VipsImage *im = NULL, *next = NULL;
	double sx = box_w ? (double)box_w / uw : 1e9, sy = box_h ? (double)box_h / uh : 1e9;
	double s = fit == REND_FIT_COVER ? (sx > sy ? sx : sy) : (sx < sy ? sx : sy);
	int shrink = 1, lw, lh, rc;
	double rs;

	if (fit == REND_FIT_INSIDE && s > 1)
		s = 1;
	while (shrink < 8 && 1.0 / s >= shrink * 2)
		shrink *= 2;
	if (vips_jpegload(path, &im, "shrink", shrink, "fail_on", VIPS_FAIL_ON_TRUNCATED, "access",
			  VIPS_ACCESS_SEQUENTIAL, NULL))
		return -1;
	lw = swap ? vips_image_get_height(im) : vips_image_get_width(im);
	lh = swap ? vips_image_get_width(im) : vips_image_get_height(im);
	sx = box_w ? (box_w + 0.25) / lw : 1e9;
	sy = box_h ? (box_h + 0.25) / lh : 1e9;
	if (fit == REND_FIT_COVER) {
		rs = sx > sy ? sx : sy;
	} else {
		sx = box_w ? (double)box_w / lw : 1e9;
		sy = box_h ? (double)box_h / lh : 1e9;
		rs = sx < sy ? sx : sy;
		if (fit == REND_FIT_INSIDE && rs > 1)
			rs = 1; /* bitmaps are never enlarged to fit inside */
	}
	if (rs != 1) {
		rc = vips_resize(im, &next, rs, NULL);
		if (step(&im, next, rc) < 0)
			goto fail;
	}
	if (swap || vips_image_get_orientation(im) > 1) {
		/* rotation reads out of order: do it on the small image in memory */
		next = vips_image_copy_memory(im);
		if (step(&im, next, next ? 0 : -1) < 0)
			goto fail;
		rc = vips_autorot(im, &next, NULL);
		if (step(&im, next, rc) < 0)
			goto fail;
	}
	*out = im;
	return 0;
fail:
	g_object_unref(im);
	return -1;
}

int rend_render(const char *path, const void *data, size_t len, const struct rend_spec *s,
		const struct rend_limits *lim, struct rend_out *out, struct hub_err *err)
{
	VipsImage *hdr = NULL, *im = NULL, *next = NULL;
	struct deadline dl = {0};
	char src[4200], opts[32];
	int w, ph, pages, uw, uh, nframes, tw, th, box_w, box_h, rc;
	VipsSize size = VIPS_SIZE_DOWN;
	VipsInteresting crop = VIPS_INTERESTING_NONE;
	enum rend_fit fit = s->fit;
	enum rend_fmt fmt = s->fmt;
	bool keep, focal_crop = false, alpha, icc, fast;
	const char *loader = NULL;
	bool vector = engine_sandbox_mime && (!strcmp(engine_sandbox_mime, "application/pdf") ||
					      !strcmp(engine_sandbox_mime, "image/svg+xml"));
	double bg[3] = {255, 255, 255};
	uint64_t pixels;
	void *obuf = NULL;
	size_t olen = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = rend_engine_init(engine_sandbox_mime, err)) < 0)
		return rc;
	if (s->has_bg)
		for (int i = 0; i < 3; i++)
			bg[i] = s->bg[i];

	/* The header first: the limits are checked before any pixel is
	 * decoded, so a decompression bomb costs a header read. */
	hdr = open_header(path, data, len);
	if (!hdr) {
		rc = vips_fail(err, HUB_EINVALID, "unreadable image");
		goto out;
	}
	w = vips_image_get_width(hdr);
	ph = vips_image_get_page_height(hdr);
	pages = image_pages(hdr);
	keep = s->keep_frames && pages > 1 && s->fmt == REND_FMT_WEBP;
	nframes = keep ? pages : 1;
	pixels = (uint64_t)w * (uint64_t)ph * (uint64_t)nframes;
	if (keep && pages > lim->max_frames) {
		rc = hub_err_set(err, HUB_EINVALID,
				 "the animation has %d frames, over the limit of %d", pages,
				 lim->max_frames);
		goto out;
	}
	if (pixels > lim->max_pixels) {
		rc = hub_err_set(err, HUB_EINVALID,
				 "the source is %dx%d pixels%s (%.1f megapixels), over the limit of "
				 "%.1f megapixels",
				 w, ph, keep ? " per frame" : "", pixels / 1e6,
				 lim->max_pixels / 1e6);
		goto out;
	}
	/* an embedded profile is transformed to sRGB; without one the pixels
	 * already are sRGB (or CMYK, converted below), and an sRGB-to-sRGB
	 * transform would cost a third of the render */
	icc = vips_image_get_typeof(hdr, VIPS_META_ICC_NAME) != 0;
	uw = w;
	uh = ph;
	if (vips_image_get_orientation_swap(hdr)) {
		uw = ph;
		uh = w;
	}

	/* The thumbnail box: shrink-on-load does the heavy lifting. */
	box_w = s->w;
	box_h = s->h;
	if ((!box_w || !box_h) && fit != REND_FIT_INSIDE)
		fit = REND_FIT_INSIDE; /* one side given: scale to it */
	fast = path && !keep && !icc && fit != REND_FIT_FILL &&
	       vips_image_get_string(hdr, "vips-loader", &loader) == 0 &&
	       !strcmp(loader, "jpegload") &&
	       (vips_image_get_interpretation(hdr) == VIPS_INTERPRETATION_sRGB ||
		vips_image_get_interpretation(hdr) == VIPS_INTERPRETATION_B_W);
	tw = box_w ? box_w : BIG_SIDE;
	th = box_h ? box_h : BIG_SIDE;
	switch (fit) {
	case REND_FIT_INSIDE:
		/* vectors render sharp at any size: only bitmaps never enlarge */
		size = vector ? VIPS_SIZE_BOTH : VIPS_SIZE_DOWN;
		break;
	case REND_FIT_CONTAIN:
		size = VIPS_SIZE_BOTH;
		break;
	case REND_FIT_FILL:
		size = VIPS_SIZE_FORCE;
		break;
	case REND_FIT_COVER:
		size = VIPS_SIZE_BOTH;
		if (!keep && !s->has_focal && !fast) {
			crop = VIPS_INTERESTING_CENTRE;
		} else {
			/* scale to cover, crop around the focal point below */
			focal_crop = true;
			if ((double)box_w / uw >= (double)box_h / uh)
				th = BIG_SIDE;
			else
				tw = BIG_SIDE;
		}
		break;
	}
	/* only multi-page loaders know "n" */
	snprintf(opts, sizeof(opts), keep ? "n=%d" : "", nframes);
	if (fast) {
		rc = jpeg_fast(path, uw, uh, vips_image_get_orientation_swap(hdr), box_w, box_h, fit,
			       &im);
	} else if (data) {
		rc = vips_thumbnail_buffer((void *)data, len, &im, tw, "height", th, "size", size,
					   "crop", crop, "export_profile", icc ? "srgb" : NULL,
					   "fail_on", VIPS_FAIL_ON_TRUNCATED, "option_string", opts,
					   NULL);
	} else {
		snprintf(src, sizeof(src), keep ? "%s[%s]" : "%s", path, opts);
		rc = vips_thumbnail(src, &im, tw, "height", th, "size", size, "crop", crop,
				    "export_profile", icc ? "srgb" : NULL, "fail_on",
				    VIPS_FAIL_ON_TRUNCATED, NULL);
	}
	if (rc) {
		rc = vips_fail(err, HUB_EINVALID, "cannot render the image");
		goto out;
	}

	/* Screens get 8-bit sRGB (or grey); CMYK and 16-bit sources end
	 * here. Padding and backgrounds need three bands. */
	{
		VipsInterpretation in = vips_image_guess_interpretation(im);
		VipsInterpretation want = in;

		if (in == VIPS_INTERPRETATION_GREY16 || in == VIPS_INTERPRETATION_B_W)
			want = VIPS_INTERPRETATION_B_W;
		else
			want = VIPS_INTERPRETATION_sRGB;
		if (want == VIPS_INTERPRETATION_B_W && (fit == REND_FIT_CONTAIN || s->has_bg))
			want = VIPS_INTERPRETATION_sRGB;
		if (want != in || vips_image_get_format(im) != VIPS_FORMAT_UCHAR) {
			rc = vips_colourspace(im, &next, want, NULL);
			if (step(&im, next, rc) < 0) {
				rc = vips_fail(err, HUB_EINVALID, "cannot convert to sRGB");
				goto out;
			}
			if (vips_image_get_format(im) != VIPS_FORMAT_UCHAR) {
				rc = vips_cast(im, &next, VIPS_FORMAT_UCHAR, NULL);
				if (step(&im, next, rc) < 0) {
					rc = vips_fail(err, HUB_EINVALID, "cannot convert to 8 bits");
					goto out;
				}
			}
		}
	}

	alpha = vips_image_hasalpha(im);
	if (fmt == REND_FMT_CLASSIC)
		fmt = alpha ? REND_FMT_PNG : REND_FMT_JPEG;
	if (alpha && (fmt == REND_FMT_JPEG || s->has_bg || fit == REND_FIT_CONTAIN)) {
		VipsArrayDouble *back = vips_array_double_new(bg, 3);

		rc = vips_flatten(im, &next, "background", back, NULL);
		vips_area_unref(VIPS_AREA(back));
		if (step(&im, next, rc) < 0) {
			rc = vips_fail(err, HUB_EINVALID, "cannot flatten the image");
			goto out;
		}
	}

	if (focal_crop || fit == REND_FIT_CONTAIN) {
		int rw = vips_image_get_width(im), rph = vips_image_get_page_height(im);
		int cw = box_w < rw ? box_w : rw, ch = box_h < rph ? box_h : rph;
		double fx = s->has_focal ? s->fx : 0.5, fy = s->has_focal ? s->fy : 0.5;
		int left = 0, top = 0;

		if (focal_crop) {
			left = clampi((int)lround(fx * rw - cw / 2.0), 0, rw - cw);
			top = clampi((int)lround(fy * rph - ch / 2.0), 0, rph - ch);
		}
		if (reframe(&im, nframes, left, top, focal_crop ? cw : rw, focal_crop ? ch : rph,
			    fit == REND_FIT_CONTAIN ? box_w : cw,
			    fit == REND_FIT_CONTAIN ? box_h : ch, bg,
			    vips_image_get_bands(im) >= 3 ? 3 : 1) < 0) {
			rc = vips_fail(err, HUB_EINVALID, "cannot crop the image");
			goto out;
		}
	}

	if (fmt == REND_FMT_WEBP && strip_metadata(&im) < 0) {
		rc = vips_fail(err, HUB_EINVALID, "cannot strip the metadata");
		goto out;
	}

	/* Bounded time: libvips checks the kill flag as it computes. */
	clock_gettime(CLOCK_MONOTONIC, &dl.at);
	dl.at.tv_sec += lim->timeout_ms / 1000;
	dl.at.tv_nsec += (long)(lim->timeout_ms % 1000) * 1000000L;
	if (dl.at.tv_nsec >= 1000000000L) {
		dl.at.tv_sec++;
		dl.at.tv_nsec -= 1000000000L;
	}
	vips_image_set_progress(im, TRUE);
	g_signal_connect(im, "eval", G_CALLBACK(on_eval), &dl);
	rc = save(im, fmt, s->q, &obuf, &olen);
	if (rc || dl.expired) {
		if (dl.expired) {
			vips_error_clear();
			rc = hub_err_set(err, HUB_ETIMEOUT,
					 "the render took longer than %d ms and was stopped",
					 lim->timeout_ms);
		} else {
			rc = vips_fail(err, HUB_EINVALID, "cannot encode the rendition");
		}
		goto out;
	}
	out->data = malloc(olen ? olen : 1);
	if (!out->data) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(out->data, obuf, olen);
	out->len = olen;
	out->width = vips_image_get_width(im);
	out->height = vips_image_get_page_height(im);
	snprintf(out->mime, sizeof(out->mime), "%s", fmt_mime(fmt));
	rc = 0;
out:
	g_free(obuf);
	if (im)
		g_object_unref(im);
	if (hdr)
		g_object_unref(hdr);
	vips_error_clear();
	/* each render thread keeps libvips' per-thread buffers otherwise */
	vips_thread_shutdown();
	return rc;
}

void rend_out_release(struct rend_out *o)
{
	if (!o)
		return;
	free(o->data);
	o->data = NULL;
	o->len = 0;
}

/* ---- the canonical spec ---- */

static const char *const fit_names[] = {"cover", "contain", "inside", "fill"};
static const char *const fmt_names[] = {"avif", "webp", "jpeg", "png", "tiff", "classic"};

const char *rend_fmt_name(enum rend_fmt f) { return fmt_names[f]; }

int rend_fmt_parse(const char *name)
{
	if (!strcmp(name, "jpg"))
		return REND_FMT_JPEG;
	for (int i = 0; i <= REND_FMT_TIFF; i++)
		if (!strcmp(name, fmt_names[i]))
			return i;
	return -1;
}

int rend_spec_format(const struct rend_spec *s, char *out, size_t outlen)
{
	struct {
		char *p;
		size_t left;
		int n;
	} w = {out, outlen, 0};
	int n;

#define ADD(...)                                                   \
	do {                                                       \
		n = snprintf(w.p, w.left, "%s", w.n ? "&" : "");   \
		if (n < 0 || (size_t)n >= w.left)                  \
			return HUB_ETOOBIG;                        \
		w.p += n, w.left -= n;                             \
		n = snprintf(w.p, w.left, __VA_ARGS__);            \
		if (n < 0 || (size_t)n >= w.left)                  \
			return HUB_ETOOBIG;                        \
		w.p += n, w.left -= n, w.n++;                      \
	} while (0)
	if (s->has_bg)
		ADD("bg=%02x%02x%02x", s->bg[0], s->bg[1], s->bg[2]);
	ADD("fit=%s", fit_names[s->fit]);
	ADD("fmt=%s", fmt_names[s->fmt]);
	if (s->has_focal)
		ADD("fp=%.3f,%.3f", s->fx, s->fy);
	if (s->h)
		ADD("h=%d", s->h);
	if (s->keep_frames)
		ADD("kf=1");
	ADD("q=%d", s->q);
	if (s->w)
		ADD("w=%d", s->w);
#undef ADD
	return (int)(w.p - out);
}

static int parse_int(const char *v, int min, int max, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

int rend_spec_parse(struct rend_spec *s, const char *str, struct hub_err *err)
{
	char copy[512], *p, *save = NULL;
	size_t n = strlen(str);

	memset(s, 0, sizeof(*s));
	s->q = 80;
	s->fit = REND_FIT_INSIDE;
	s->fmt = REND_FMT_JPEG;
	if (n >= sizeof(copy))
		return hub_err_set(err, HUB_EINVAL, "render spec too long");
	memcpy(copy, str, n + 1);
	for (p = strtok_r(copy, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
		char *v = strchr(p, '=');
		int bad = 0, i;
		unsigned r, g, b;

		if (!v)
			return hub_err_set(err, HUB_EINVAL, "render spec item '%s' has no value", p);
		*v++ = 0;
		if (!strcmp(p, "w")) {
			bad = parse_int(v, 1, REND_MAX_SIDE, &s->w);
		} else if (!strcmp(p, "h")) {
			bad = parse_int(v, 1, REND_MAX_SIDE, &s->h);
		} else if (!strcmp(p, "q")) {
			bad = parse_int(v, 1, 100, &s->q);
		} else if (!strcmp(p, "kf")) {
			s->keep_frames = !strcmp(v, "1");
		} else if (!strcmp(p, "fit")) {
			bad = -1;
			for (i = 0; i < 4; i++)
				if (!strcmp(v, fit_names[i]))
					s->fit = i, bad = 0;
		} else if (!strcmp(p, "fmt")) {
			bad = -1;
			for (i = 0; i <= REND_FMT_CLASSIC; i++)
				if (!strcmp(v, fmt_names[i]))
					s->fmt = i, bad = 0;
		} else if (!strcmp(p, "bg")) {
			bad = strlen(v) != 6 || sscanf(v, "%2x%2x%2x", &r, &g, &b) != 3;
			s->bg[0] = r, s->bg[1] = g, s->bg[2] = b;
			s->has_bg = true;
		} else if (!strcmp(p, "fp")) {
			bad = sscanf(v, "%lf,%lf", &s->fx, &s->fy) != 2 || !(s->fx >= 0 && s->fx <= 1) ||
			      !(s->fy >= 0 && s->fy <= 1);
			s->has_focal = true;
		} else {
			bad = -1;
		}
		if (bad)
			return hub_err_set(err, HUB_EINVAL, "render spec item '%s' is not valid", p);
	}
	return 0;
}
