/* Presets, ad-hoc parameters and Accept negotiation. */
#include "fmacros.h"
#include "../../damd/presets.h"
#include "err.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

static void test_file(void)
{
	struct presets *p = NULL;
	struct hub_err err = {0};
	const struct preset *t;

	ok(presets_load(&p, "schemas/renditions.json", &err) == 0, "schemas/renditions.json loads: %s",
	   err.msg);
	ok(presets_count(p) == 5, "five presets");
	t = presets_find(p, "web-thumb");
	ok(t && t->w == 200 && t->h == 200 && t->fit == REND_FIT_COVER && t->fmt < 0,
	   "web-thumb: 200x200 cover, negotiated");
	t = presets_find(p, "web-large");
	ok(t && t->w == 1200 && t->fit == REND_FIT_INSIDE && t->keep_frames, "web-large keeps frames");
	t = presets_find(p, "app-card");
	ok(t && t->w == 600 && t->h == 400 && t->fit == REND_FIT_COVER, "app-card 600x400 cover");
	t = presets_find(p, "print");
	ok(t && t->w == 3000 && t->fmt == REND_FMT_JPEG && t->q == 92, "print: 3000 jpeg q92");
	t = presets_find(p, "marketplace");
	ok(t && t->fit == REND_FIT_CONTAIN && t->has_bg && t->bg[0] == 255 && t->fmt == REND_FMT_JPEG,
	   "marketplace: contain on white, jpeg");
	ok(!presets_find(p, "nope"), "unknown preset");
	presets_free(p);
}

/* The tag follows what decides the rendition, whatever the key order, and
 * not the description. */
static void test_tag(void)
{
	const char *docs[] = {
		"{\"presets\":{\"a\":{\"width\":200,\"fit\":\"inside\",\"description\":\"x\"}}}",
		"{\"presets\":{\"a\":{\"fit\":\"inside\",\"description\":\"y\",\"width\":200}}}",
		"{\"presets\":{\"a\":{\"width\":240,\"fit\":\"inside\",\"description\":\"x\"}}}",
	};
	char tags[3][sizeof(((struct preset *)0)->tag)];

	for (int i = 0; i < 3; i++) {
		struct presets *p = NULL;
		struct hub_err err = {0};
		const struct preset *a;

		ok(presets_parse(&p, docs[i], strlen(docs[i]), &err) == 0, "tag case %d parses", i);
		a = presets_find(p, "a");
		snprintf(tags[i], sizeof(tags[i]), "%s", a ? a->tag : "");
		presets_free(p);
	}
	ok(strlen(tags[0]) == 8 && strspn(tags[0], "0123456789abcdef") == 8, "8 hex digits: %s",
	   tags[0]);
	ok(!strcmp(tags[0], tags[1]), "key order and description do not change it");
	ok(strcmp(tags[0], tags[2]), "another width does");
}

static void test_bad(void)
{
	struct presets *p = NULL;
	struct hub_err err = {0};
	const char *cases[][2] = {
		{"{\"presets\":{\"a\":{\"width\":0}}}", "/presets/a/width"},
		{"{\"presets\":{\"a\":{\"width\":10,\"fit\":\"squash\"}}}", "/presets/a/fit"},
		{"{\"presets\":{\"a\":{\"width\":10,\"fit\":\"cover\"}}}", "/presets/a/fit"},
		{"{\"presets\":{\"a\":{\"width\":10,\"format\":\"bmp\"}}}", "/presets/a/format"},
		{"{\"presets\":{\"a\":{\"width\":10,\"quality\":101}}}", "/presets/a/quality"},
		{"{\"presets\":{\"a\":{\"width\":10,\"background\":\"white\"}}}", "/presets/a/background"},
		{"{\"presets\":{\"a\":{\"width\":10,\"colour\":1}}}", "/presets/a/colour"},
		{"{\"presets\":{\"Bad Name\":{\"width\":10}}}", "/presets/Bad Name"},
		{"{\"presets\":[]}", "/presets"},
		{"{\"presets\":", "line 1"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = presets_parse(&p, cases[i][0], strlen(cases[i][0]), &err);

		ok(rc < 0 && !p && strstr(err.msg, cases[i][1]), "refused, names %s: %s", cases[i][1],
		   err.msg);
	}
}

static void test_adhoc(void)
{
	struct adhoc a;
	struct hub_err err = {0};
	struct accept_fmts acc = {0};
	struct rend_spec s;
	char c[128];
	bool vary;

	ok(adhoc_parse(&a, "300", "200", "cover", "webp", "70", "2", &err) == 0, "all parameters");
	ok(adhoc_canonical(&a, c, sizeof(c)) > 0 && !strcmp(c, "dpr=2&fit=cover&fmt=webp&h=200&q=70&w=300"),
	   "canonical: sorted, normalised: %s", c);
	ok(adhoc_parse_query(&a, "w=300&dpr=2.0&h=200&q=70&fmt=webp&fit=cover", &err) == 0 &&
		   adhoc_canonical(&a, c, sizeof(c)) > 0 &&
		   !strcmp(c, "dpr=2&fit=cover&fmt=webp&h=200&q=70&w=300"),
	   "the same from a query in another order");
	ok(adhoc_parse_query(&a, "w=100&dpr=1.5", &err) == 0 && adhoc_canonical(&a, c, sizeof(c)) > 0 &&
		   !strcmp(c, "dpr=1.5&w=100"),
	   "dpr 1.5: %s", c);
	ok(adhoc_parse_query(&a, "w=100&fmt=jpg", &err) == 0 && adhoc_canonical(&a, c, sizeof(c)) > 0 &&
		   !strcmp(c, "fmt=jpeg&w=100"),
	   "jpg is jpeg");
	ok(adhoc_parse(&a, NULL, NULL, NULL, NULL, NULL, NULL, &err) == HUB_EINVAL, "w or h needed");
	ok(adhoc_parse(&a, "0", NULL, NULL, NULL, NULL, NULL, &err) == HUB_EINVAL &&
		   strstr(err.msg, "'w'"),
	   "w=0: %s", err.msg);
	ok(adhoc_parse(&a, "10x", NULL, NULL, NULL, NULL, NULL, &err) == HUB_EINVAL, "w=10x");
	ok(adhoc_parse(&a, "100", NULL, NULL, NULL, "0", NULL, &err) == HUB_EINVAL, "q=0");
	ok(adhoc_parse(&a, "100", NULL, NULL, NULL, NULL, "5", &err) == HUB_EINVAL, "dpr=5");
	ok(adhoc_parse(&a, "6000", NULL, NULL, NULL, NULL, "2", &err) == HUB_EINVAL,
	   "w*dpr over the side limit");
	ok(adhoc_parse(&a, "100", NULL, NULL, "gif", NULL, NULL, &err) == HUB_EINVAL, "fmt=gif");
	ok(adhoc_parse_query(&a, "w=100&x=1", &err) == HUB_EINVAL, "unknown key");

	ok(adhoc_parse(&a, "300", "200", NULL, NULL, NULL, "2", &err) == 0, "negotiated");
	acc.webp = true;
	spec_from_adhoc(&a, &acc, &s, &vary, &err);
	ok(s.w == 600 && s.h == 400 && s.fit == REND_FIT_COVER && s.fmt == REND_FMT_WEBP && vary,
	   "dpr applied, cover by default, webp, vary");
	ok(adhoc_parse(&a, "300", NULL, NULL, "png", NULL, NULL, &err) == 0, "fixed");
	spec_from_adhoc(&a, &acc, &s, &vary, &err);
	ok(s.fit == REND_FIT_INSIDE && s.fmt == REND_FMT_PNG && !vary, "inside, png, no vary");
}

static void test_accept(void)
{
	struct accept_fmts a;
	struct preset p = {.w = 1200, .h = 1200, .fit = REND_FIT_INSIDE, .fmt = -1, .keep_frames = true};
	struct rend_spec s;
	bool vary;

	accept_parse("image/avif,image/webp,*/*", &a);
	ok(a.avif && a.webp, "avif and webp");
	accept_parse("image/webp,image/*", &a);
	ok(!a.avif && a.webp, "webp only; image/* is not avif");
	accept_parse("image/AVIF;q=0, image/webp ; q=0.5", &a);
	ok(!a.avif && a.webp, "q=0 refuses, case and spaces ignored");
	accept_parse(NULL, &a);
	ok(!a.avif && !a.webp, "no Accept");
	accept_parse("*/*", &a);
	spec_from_preset(&p, &a, false, &s, &vary);
	ok(s.fmt == REND_FMT_CLASSIC && vary && s.q == 85, "wildcards: jpeg or png, q 85");
	accept_parse("image/avif,image/webp", &a);
	spec_from_preset(&p, &a, false, &s, &vary);
	ok(s.fmt == REND_FMT_AVIF && !s.keep_frames, "avif first");
	spec_from_preset(&p, &a, true, &s, &vary);
	ok(s.fmt == REND_FMT_WEBP && s.keep_frames, "an animation to keep goes webp");
	accept_parse("image/avif", &a);
	spec_from_preset(&p, &a, true, &s, &vary);
	ok(s.fmt == REND_FMT_AVIF && !s.keep_frames, "without webp the animation is flattened");
	p.fmt = REND_FMT_JPEG;
	p.q = 92;
	spec_from_preset(&p, &a, false, &s, &vary);
	ok(s.fmt == REND_FMT_JPEG && s.q == 92 && !vary, "fixed format: no vary");
}

int main(void)
{
	test_file();
	test_tag();
	test_bad();
	test_adhoc();
	test_accept();
	return tap_done();
}
