/* The CPU time of a cold rendition's two steps in Debian's libvips, one
 * render at a time as damd's workers do (vips_concurrency_set(1)): decode
 * with shrink-on-load and resize to cover WxH, the pixels in memory; then
 * the WebP encode. Process CPU time, since libvips runs a pipeline on a
 * worker thread even then. bench/render_steps.sh runs it beside the same
 * steps in sharp's libvips (sharp/steps.mjs).
 *
 *   render_steps ROUNDS W H Q FILE...   prints {"decode_ms":…,"encode_ms":…}
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <vips/vips.h>

static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* decode and resize as damd's JPEG path does (rendition.c): shrink on load
 * by the largest power of two that keeps the image over the box, then one
 * lanczos3 resize and a centre crop, into memory */
static VipsImage *decode(const char *file, int w, int h)
{
	VipsImage *head, *im = NULL, *sized = NULL, *box = NULL, *out = NULL;
	double scale;
	int shrink = 1;

	if (!(head = vips_image_new_from_file(file, NULL)))
		return NULL;
	scale = VIPS_MAX((double)w / head->Xsize, (double)h / head->Ysize);
	g_object_unref(head);
	while (shrink < 8 && 1.0 / scale >= shrink * 2)
		shrink *= 2;
	if (vips_jpegload(file, &im, "shrink", shrink, "access", VIPS_ACCESS_SEQUENTIAL, NULL))
		return NULL;
	scale = VIPS_MAX((double)w / im->Xsize, (double)h / im->Ysize);
	if (!vips_resize(im, &sized, scale, "kernel", VIPS_KERNEL_LANCZOS3, NULL) &&
	    !vips_extract_area(sized, &box, (sized->Xsize - w) / 2, (sized->Ysize - h) / 2, w, h,
			       NULL))
		out = vips_image_copy_memory(box);
	if (box)
		g_object_unref(box);
	if (sized)
		g_object_unref(sized);
	g_object_unref(im);
	return out;
}

int main(int argc, char **argv)
{
	double dec = 0, enc = 0;
	int n = 0;

	if (argc < 6 || VIPS_INIT(argv[0]))
		return fprintf(stderr, "usage: render_steps ROUNDS W H Q FILE...\n"), 2;
	vips_concurrency_set(1);
	vips_cache_set_max(0);
	for (int r = 0; r < atoi(argv[1]); r++)
		for (int f = 5; f < argc; f++) {
			double t0 = cpu_ms(), t1;
			VipsImage *im = decode(argv[f], atoi(argv[2]), atoi(argv[3]));
			void *buf;
			size_t len;

			t1 = cpu_ms();
			if (!im || vips_webpsave_buffer(im, &buf, &len, "Q", atoi(argv[4]), "effort", 4,
							"strip", TRUE, NULL))
				return fprintf(stderr, "%s: %s\n", argv[f], vips_error_buffer()), 1;
			enc += cpu_ms() - t1;
			dec += t1 - t0;
			n++;
			g_free(buf);
			g_object_unref(im);
		}
	if (!n)
		return fprintf(stderr, "render_steps: no renders\n"), 2;
	printf("{\"vips\":\"%s\",\"renders\":%d,\"decode_ms\":%.1f,\"encode_ms\":%.1f}\n",
	       vips_version_string(), n, dec / n, enc / n);
	return 0;
}
