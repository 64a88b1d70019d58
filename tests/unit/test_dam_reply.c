/* Error texts without file paths, as damd's replies send them. */
#include "fmacros.h"
#include "../../damd/reply.h"
#include "tap.h"

#include <string.h>

/* is(text, data_dir, want): text scrubbed is want */
static void is(const char *text, const char *dir, const char *want)
{
	char out[512];
	bool changed = dam_text_scrub(text, dir, out, sizeof(out));

	if (!ok(!strcmp(out, want) && changed == !!strcmp(text, want), "'%s' reads '%s'", text,
		want))
		printf("  # got '%s'\n", out);
}

int main(void)
{
	char small[12];

	is("unreadable image: /tmp/x/dam/blobs/98/fc/98fcab: bad seek to 1348", NULL,
	   "unreadable image: bad seek to 1348");
	is("/srv/dam/tmp/up-1: short read", NULL, "short read");
	is("cannot open '/srv/dam/blobs/ab/cd/abcd': No such file or directory", NULL,
	   "cannot open the file: No such file or directory");
	is("VipsForeignLoad: \"/srv/dam/blobs/ab/cd/abcd\" is not a known file format", NULL,
	   "VipsForeignLoad: the file is not a known file format");
	is("Failed to open /srv/dam/tmp/arch-1 (mode 0)", NULL, "Failed to open the file (mode 0)");
	is("unreadable image: var/dam/blobs/ab/cd/abcd: bad seek", "var/dam",
	   "unreadable image: bad seek");
	is("cannot read var/dam/blobs/ab/cd/abcd", "var/dam", "cannot read the file");
	/* no paths: kept as they are */
	is("'image/svg+xml' is not rendered in the sandbox", "var/dam",
	   "'image/svg+xml' is not rendered in the sandbox");
	is("w/h must be 1-10000, fit cover|inside and / alone", NULL,
	   "w/h must be 1-10000, fit cover|inside and / alone");
	is("var/damp is not the store", "var/dam", "var/damp is not the store");
	is("the source is 17000x17000 pixels, over the limit of 200.0 megapixels", "/srv/dam",
	   "the source is 17000x17000 pixels, over the limit of 200.0 megapixels");

	dam_text_scrub("open /a/very/long/path failed", NULL, small, sizeof(small));
	ok(!strcmp(small, "open the fi"), "a small buffer is cut, terminated: '%s'", small);
	return tap_done();
}
