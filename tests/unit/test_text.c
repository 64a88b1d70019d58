/* Text folding and word splitting (common/text.c), the rules both
 * pimd's product search and damd's asset search index by. */
#include "tap.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct words {
	char out[512];
	int n;
};

static void collect(void *cls, const char *w, size_t len)
{
	struct words *ws = cls;
	size_t o = strlen(ws->out);

	if (o)
		ws->out[o++] = '|';
	memcpy(ws->out + o, w, len);
	ws->out[o + len] = 0;
	ws->n++;
}

static int words_are(const char *text, const char *want)
{
	struct words ws = {{0}, 0};
	char *f = text_fold(text, strlen(text));

	if (!f)
		return 0;
	text_words(f, collect, &ws);
	free(f);
	if (strcmp(ws.out, want))
		printf("# words of '%s': '%s'\n", text, ws.out);
	return !strcmp(ws.out, want);
}

static int fold_is(const char *in, const char *want)
{
	char *f = text_fold(in, strlen(in));
	int ok = f && !strcmp(f, want);

	if (!ok)
		printf("# fold('%s') = '%s'\n", in, f ? f : "(null)");
	free(f);
	return ok;
}

int main(void)
{
	/* folding: NFKD, marks stripped, case folded */
	ok(fold_is("Café Crème", "cafe creme"), "accents and case fold");
	ok(fold_is("CAFE", "cafe"), "ASCII lower-cased");
	ok(fold_is("Straße", "strasse"), "sharp s case-folds to ss");
	ok(fold_is("ﬁne Ｔｅｅ", "fine tee"), "compatibility forms (ligature, full width)");
	ok(fold_is("Ærø", "ærø"), "letters without a decomposition stay");
	ok(text_fold("\xff\xfe", 2) == NULL, "invalid UTF-8 refused");

	ok(text_utf8_valid("Café ☕", strlen("Café ☕")), "UTF-8 text is valid");
	ok(text_utf8_valid("", 0), "nothing is valid");
	ok(!text_utf8_valid("A\xffB", 3), "a byte never in UTF-8 is not");
	ok(!text_utf8_valid("\xc3", 1), "a cut sequence is not");
	ok(!text_utf8_valid("A\0B", 3), "a NUL is not");
	ok(!text_utf8_valid("\xed\xa0\x80", 3), "a surrogate is not");

	ok(words_are("Café crème mug, 350 ml!", "cafe|creme|mug|350|ml"), "words split on punctuation");
	ok(words_are("TS-001-RED-M", "ts|001|red|m"), "a sku splits into words");
	ok(words_are("  ", ""), "no words in blanks");
	ok(words_are("Übergröße Jäckchen", "ubergrosse|jackchen"), "German words folded");
	{
		char longw[200];

		memset(longw, 'a', sizeof(longw) - 1);
		longw[sizeof(longw) - 1] = 0;
		struct words ws = {{0}, 0};

		text_words(longw, collect, &ws);
		ok(ws.n == 1 && strlen(ws.out) == TEXT_WORD_MAX, "a long word is cut at TEXT_WORD_MAX");
	}

	return tap_done();
}
