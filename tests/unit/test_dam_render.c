/* Probing and rendering files with libvips, in the daemon and in the
 * sandboxed child (this binary started again with SANDBOX_FLAG). */
#include "fmacros.h"
#include "buf.h"
#include "err.h"
#include "../../damd/probe.h"
#include "../../damd/rendition.h"
#include "../../damd/sandbox.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

static char data_dir[4096];

static const char *img(const char *name)
{
	static char path[8192];

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	return path;
}

static json_t *probe(const char *name)
{
	struct hub_err err = {0};
	json_t *m = json_object();

	if (dam_probe(NULL, img(name), m, &err) < 0) {
		printf("# probe %s: %s\n", name, err.msg);
		json_decref(m);
		return NULL;
	}
	return m;
}

static long jint(json_t *m, const char *k) { return (long)json_integer_value(json_object_get(m, k)); }
static const char *jstr(json_t *m, const char *k) { return json_string_value(json_object_get(m, k)); }

/* Decodes an encoded rendition to check what it is. */
static VipsImage *decode(const struct rend_out *o)
{
	return vips_image_new_from_buffer(o->data, o->len, "", NULL);
}

static struct rend_limits lim = {200000000, 100, 20000};

static int render(const char *name, const char *spec_str, struct rend_out *out,
		  struct hub_err *err)
{
	struct rend_spec spec;

	if (rend_spec_parse(&spec, spec_str, err) < 0)
		return err->code;
	return rend_render(img(name), NULL, 0, &spec, &lim, out, err);
}

static void test_probe(void)
{
	json_t *m;

	m = probe("images/large_iphone7_4032x3024.heic");
	ok(m && !strcmp(jstr(m, "mime"), "image/heic"), "heic probed as image/heic");
	ok(m && jint(m, "width") == 4032 && jint(m, "height") == 3024, "heic dimensions");
	json_decref(m);

	m = probe("images/exif-orientation/Landscape_6.jpg");
	ok(m && jint(m, "orientation") == 6 && jint(m, "width") == 1200, "jpeg orientation 6");
	json_decref(m);

	m = probe("images/jpeg-cmyk_with_profile.jpg");
	ok(m && json_is_true(json_object_get(m, "has_icc")), "cmyk jpeg has an icc profile");
	json_decref(m);

	m = probe("images/gif-animated_rotating-squares.gif");
	ok(m && jint(m, "pages") == 30 && jint(m, "height") == 80, "animated gif: 30 pages of 80 px");
	json_decref(m);

	m = probe("images/pdf-multi-page.pdf");
	ok(m && !strcmp(jstr(m, "mime"), "application/pdf"), "pdf mime");
	ok(m && jint(m, "pages") == 3 && jint(m, "width") == 612, "pdf probed in the sandbox: 3 pages");
	json_decref(m);

	m = probe("images/svg-logo.svg");
	ok(m && !strcmp(jstr(m, "mime"), "image/svg+xml") && jint(m, "width") == 736,
	   "svg probed in the sandbox");
	json_decref(m);

	m = probe("images/bmp-8bpp-rle.bmp");
	ok(m && jint(m, "width") == 32, "bmp probed in the sandbox (ImageMagick)");
	json_decref(m);

	m = probe("hostile/images/image_invalid.jpg");
	ok(m && jstr(m, "mime") && !json_object_get(m, "width"), "garbage: a mime, no dimensions");
	json_decref(m);

	m = probe("hostile/svg/xxe.svg");
	ok(m && !json_object_get(m, "width"), "svg with an external entity: no dimensions");
	json_decref(m);

	m = probe("../../shared/no/such/file");
	ok(!m, "missing file is an error");
	json_decref(m);
}

static void test_render(void)
{
	struct hub_err err = {0};
	struct rend_out o = {0};
	VipsImage *im;
	int rc;

	rc = render("images/exif-orientation/Landscape_6.jpg", "fit=inside&fmt=jpeg&q=80&w=300", &o,
		    &err);
	ok(rc == 0 && o.width == 300 && o.height == 200, "orientation 6 auto-rotated: %dx%d",
	   o.width, o.height);
	ok(!strcmp(o.mime, "image/jpeg"), "jpeg out");
	im = rc == 0 ? decode(&o) : NULL;
	ok(im && !vips_image_get_typeof(im, "exif-data") &&
		   !vips_image_get_typeof(im, VIPS_META_ICC_NAME),
	   "metadata stripped");
	if (im)
		g_object_unref(im);
	rend_out_release(&o);

	rc = render("images/jpeg-cmyk_with_profile.jpg", "fit=inside&fmt=webp&q=80&w=200", &o, &err);
	im = rc == 0 ? decode(&o) : NULL;
	ok(im && vips_image_get_interpretation(im) == VIPS_INTERPRETATION_sRGB &&
		   vips_image_get_bands(im) == 3,
	   "cmyk converted to srgb webp");
	if (im)
		g_object_unref(im);
	rend_out_release(&o);

	rc = render("images/large_6720x4480_progressive.jpg", "fit=cover&fmt=avif&h=200&q=50&w=200",
		    &o, &err);
	ok(rc == 0 && o.width == 200 && o.height == 200 && !strcmp(o.mime, "image/avif"),
	   "cover 200x200 avif from 30 MP: %s", rc ? err.msg : "");
	rend_out_release(&o);

	rc = render("images/large_6720x4480_progressive.jpg",
		    "fit=cover&fmt=jpeg&fp=0.900,0.100&h=300&q=80&w=100", &o, &err);
	ok(rc == 0 && o.width == 100 && o.height == 300, "focal cover 100x300");
	rend_out_release(&o);

	rc = render("images/png-rgba.png", "fit=inside&fmt=classic&q=80&w=64", &o, &err);
	ok(rc == 0 && !strcmp(o.mime, "image/png"), "alpha source, classic: png");
	rend_out_release(&o);

	rc = render("images/png-rgba.png", "bg=ffffff&fit=contain&fmt=jpeg&h=100&q=80&w=300", &o,
		    &err);
	ok(rc == 0 && o.width == 300 && o.height == 100, "contain pads to the box: %dx%d", o.width,
	   o.height);
	rend_out_release(&o);

	rc = render("images/gif-animated_rotating-squares.gif",
		    "fit=cover&fmt=webp&h=40&kf=1&q=80&w=60", &o, &err);
	im = rc == 0 ? decode(&o) : NULL;
	ok(rc == 0 && o.width == 60 && o.height == 40, "animated cover: %dx%d %s", o.width,
	   o.height, rc ? err.msg : "");
	if (im) {
		VipsImage *all = vips_image_new_from_buffer(o.data, o.len, "n=-1", NULL);

		/* the WebP encoder merges identical frames: 9 of the 30 differ */
		ok(all && vips_image_get_height(all) >= 40 * 9, "the frames are kept");
		if (all)
			g_object_unref(all);
		g_object_unref(im);
	}
	rend_out_release(&o);

	rc = render("images/gif-animated_rotating-squares.gif", "fit=inside&fmt=webp&q=80&w=40", &o,
		    &err);
	im = rc == 0 ? vips_image_new_from_buffer(o.data, o.len, "n=-1", NULL) : NULL;
	ok(im && vips_image_get_height(im) == 40, "flattened animation: one frame");
	if (im)
		g_object_unref(im);
	rend_out_release(&o);

	rc = render("hostile/images/bomb_16384x16384.png", "fit=inside&fmt=jpeg&q=80&w=100", &o,
		    &err);
	ok(rc == HUB_EINVALID && strstr(err.msg, "megapixels"), "pixel bomb refused: %s", err.msg);

	rc = render("hostile/images/bomb_1024-pages.gif", "fit=inside&fmt=webp&kf=1&q=80&w=10", &o,
		    &err);
	ok(rc == HUB_EINVALID && strstr(err.msg, "frames"), "frame bomb refused: %s", err.msg);

	rc = render("hostile/images/truncated.jpg", "fit=inside&fmt=jpeg&q=80&w=100", &o, &err);
	ok(rc == HUB_EINVALID, "truncated jpeg refused: %s", err.msg);
	rend_out_release(&o);

	rc = render("images/pdf-multi-page.pdf", "fit=inside&fmt=png&q=80&w=100", &o, &err);
	ok(rc == HUB_EINVALID, "pdf is blocked inside the daemon");
	rend_out_release(&o);

	{
		struct lim_save {
			int t;
		} s = {lim.timeout_ms};

		lim.timeout_ms = 1;
		rc = render("images/large_6720x4480_progressive.jpg", "fit=inside&fmt=png&q=80&w=6000",
			    &o, &err);
		ok(rc == HUB_ETIMEOUT, "render past its time limit is stopped: %s", err.msg);
		rend_out_release(&o);
		memset(&err, 0, sizeof(err));
		rc = render("images/large_6720x4480_progressive.jpg", "fit=inside&fmt=webp&q=80&w=6000",
			    &o, &err);
		ok(rc == HUB_ETIMEOUT, "and a webp one, its metadata stripped first: %s", err.msg);
		rend_out_release(&o);
		lim.timeout_ms = s.t;
	}
}

/* Same pixels, compared exactly. */
static bool same_pixels(VipsImage *a, VipsImage *b)
{
	VipsImage *d = NULL, *ad = NULL;
	double max = -1;

	if (a && b && vips_subtract(a, b, &d, NULL) == 0 && vips_abs(d, &ad, NULL) == 0)
		vips_max(ad, &max, NULL);
	if (d)
		g_object_unref(d);
	if (ad)
		g_object_unref(ad);
	return max == 0;
}

/* WebP is encoded as sharp and libwebp do by default (effort 4 of 6), not
 * with less effort: the same pixels as a PNG rendition, encoded here with
 * those defaults, decode to the very same image. And its metadata is
 * stripped, which libvips 8.14's webpsave does not do by itself. */
static void test_webp_encoding(void)
{
	struct rend_out png = {0}, webp = {0};
	struct hub_err err = {0};
	VipsImage *src = NULL, *ours = NULL, *ref = NULL;
	void *buf = NULL;
	size_t len = 0;

	ok(render("images/large_6720x4480_progressive.jpg", "fit=cover&fmt=png&h=300&w=400", &png,
		  &err) == 0 &&
		   render("images/large_6720x4480_progressive.jpg", "fit=cover&fmt=webp&h=300&q=80&w=400",
			  &webp, &err) == 0,
	   "png and webp of one rendition: %s", err.msg);
	src = png.data ? vips_image_new_from_buffer(png.data, png.len, "", NULL) : NULL;
	if (src && vips_webpsave_buffer(src, &buf, &len, "Q", 80, "effort", 4, NULL) == 0)
		ref = vips_image_new_from_buffer(buf, len, "", NULL);
	ours = webp.data ? decode(&webp) : NULL;
	ok(same_pixels(ours, ref), "webp encoded at effort 4, quality 80");
	ok(ours && !vips_image_get_typeof(ours, VIPS_META_ICC_NAME) &&
		   !vips_image_get_typeof(ours, VIPS_META_XMP_NAME) &&
		   !vips_image_get_typeof(ours, "exif-ifd0-Software") &&
		   !vips_image_get_typeof(ours, "jpeg-thumbnail-data"),
	   "webp metadata stripped: no profile, XMP, camera EXIF or thumbnail");
	g_free(buf);
	if (src)
		g_object_unref(src);
	if (ours)
		g_object_unref(ours);
	if (ref)
		g_object_unref(ref);
	rend_out_release(&png);
	rend_out_release(&webp);
}

static void test_sandbox(void)
{
	struct sandbox_limits sl;
	struct hub_err err = {0};
	struct buf out = BUF_INIT;
	json_t *hdr = NULL;
	VipsImage *im;
	int rc;

	sandbox_limits_default(&sl);
	rc = sandbox_render("application/pdf", img("images/pdf-multi-page.pdf"),
			    "fit=inside&fmt=png&q=80&w=200", 200000000, 100, 20000, &sl, &hdr, &out,
			    &err);
	ok(rc == 0 && jint(hdr, "width") == 200, "pdf first page rendered in the sandbox: %s",
	   rc ? err.msg : "");
	im = rc == 0 ? vips_image_new_from_buffer(out.data, out.len, "", NULL) : NULL;
	ok(im && vips_image_get_width(im) == 200 && vips_image_get_height(im) == 259,
	   "the payload is the png");
	if (im)
		g_object_unref(im);
	json_decref(hdr);
	buf_release(&out);

	rc = sandbox_render("image/svg+xml", img("hostile/images/bomb_giant.svg"),
			    "fit=inside&fmt=png&q=80&w=200", 200000000, 100, 20000, &sl, &hdr, &out,
			    &err);
	ok(rc == HUB_EINVALID && strstr(err.msg, "megapixels"), "giant svg refused: %s", err.msg);
	buf_release(&out);

	rc = sandbox_render("image/svg+xml", img("hostile/svg/include_image.svg"),
			    "fit=inside&fmt=png&q=80&w=50", 200000000, 100, 20000, &sl, &hdr, &out,
			    &err);
	ok(rc == 0 || rc == HUB_EINVALID, "svg including a file: rendered without it or refused");
	json_decref(hdr);
	buf_release(&out);

	sl.timeout_ms = 1;
	rc = sandbox_render("application/pdf", img("images/pdf-multi-page.pdf"),
			    "fit=inside&fmt=png&q=80&w=2000", 200000000, 100, 20000, &sl, &hdr, &out,
			    &err);
	ok(rc == HUB_ETIMEOUT, "child killed at its deadline: %s", err.msg);
	buf_release(&out);
}

static void test_spec(void)
{
	struct rend_spec s, t;
	struct hub_err err = {0};
	char a[256], b[256];

	memset(&s, 0, sizeof(s));
	s.w = 300;
	s.fit = REND_FIT_COVER;
	s.fmt = REND_FMT_CLASSIC;
	s.q = 75;
	s.has_bg = true;
	s.bg[0] = 255;
	s.has_focal = true;
	s.fx = 0.25;
	s.fy = 0.5;
	ok(rend_spec_format(&s, a, sizeof(a)) > 0 &&
		   !strcmp(a, "bg=ff0000&fit=cover&fmt=classic&fp=0.250,0.500&q=75&w=300"),
	   "canonical spec: %s", a);
	ok(rend_spec_parse(&t, a, &err) == 0 && rend_spec_format(&t, b, sizeof(b)) > 0 &&
		   !strcmp(a, b),
	   "spec round-trips");
	ok(rend_spec_parse(&t, "w=0", &err) == HUB_EINVAL, "w=0 refused");
	ok(rend_spec_parse(&t, "fit=squash", &err) == HUB_EINVAL, "unknown fit refused");
	ok(rend_spec_format(&s, a, 10) == HUB_ETOOBIG, "short buffer: HUB_ETOOBIG");
	ok(rend_kind_of("image/jpeg") == REND_KIND_TRUSTED &&
		   rend_kind_of("application/pdf") == REND_KIND_SANDBOX &&
		   rend_kind_of("text/plain") == REND_KIND_NONE,
	   "kinds of media types");
}

int main(int argc, char **argv)
{
	const char *d;

	if (argc > 1 && !strcmp(argv[1], SANDBOX_FLAG))
		return sandbox_child_main(argc, argv);
	sandbox_set_helper("/proc/self/exe");
	d = getenv("DATA");
	snprintf(data_dir, sizeof(data_dir), "%s", d ? d : "../shared/data");
	if (access(img("images/png-rgba.png"), R_OK) < 0) {
		printf("# no test data under %s\n", data_dir);
		ok(0, "test data found");
		return tap_done();
	}
	test_spec();
	test_probe();
	test_render();
	test_webp_encoding();
	test_sandbox();
	return tap_done();
}
