/* Text folding and word splitting (common/text.c), the rules both
 * pimd's product search and damd's asset search index by. */
#include "tap.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

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

/* text_fold folds ASCII itself and only the runs of other characters
 * with utf8proc: it must give what utf8proc_map gives for the whole text. */
static char *fold_whole(const char *s, size_t len)
{
	utf8proc_uint8_t *out = NULL;

	if (utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &out,
			 UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK |
				 UTF8PROC_CASEFOLD | UTF8PROC_IGNORE) < 0)
		return NULL;
	return (char *)out;
}

static int same_fold(const char *s, size_t len)
{
	char *a = text_fold(s, len), *b = fold_whole(s, len);
	int same = (!a && !b) || (a && b && !strcmp(a, b));

	if (!same)
		printf("# fold of '%.*s': '%s', whole text: '%s'\n", (int)len, s, a ? a : "(null)",
		       b ? b : "(null)");
	free(a);
	free(b);
	return same;
}

/* Every code point alone and between ASCII, then random texts mixing
 * ASCII with letters, marks (stacked, out of canonical order), ligatures,
 * Hangul and characters that fold to several. */
static int folds_as_whole_text(void)
{
	static const char *const pieces[] = {
		"a", "E", " ", "-", "7", "\xcc\x81", "\xcc\xa3", "\xcd\x85", "\xc3\xa9",
		"\xc3\x89", "\xc3\x9f", "\xef\xac\x81", "\xea\xb0\x80", "\xe1\x84\x80",
		"\xe1\x85\xa1", "\xef\xb7\xba", "\xe2\x80\x8b", "\xc2\xad", "\xce\x91",
		"\xe2\x84\xab", "\xe3\x8e\x8f", "\xd9\x8b", "\xf0\x9d\x90\x80", "\xc6\x90",
	};
	unsigned seed = 12345;
	int bad = 0;

	for (utf8proc_int32_t cp = 0x80; cp <= 0x10ffff && bad < 5; cp++) {
		utf8proc_uint8_t b[8] = "x";
		utf8proc_ssize_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = utf8proc_encode_char(cp, b + 1);
		b[n + 1] = 'Y';
		bad += !same_fold((const char *)b + 1, (size_t)n) ||
		       !same_fold((const char *)b, (size_t)n + 2);
	}
	for (int t = 0; t < 20000 && bad < 5; t++) {
		char s[600] = "";
		size_t len = 0;
		int k = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 40;

		while (k--) {
			const char *p = pieces[((seed = seed * 1103515245 + 12345) >> 16) %
					      (sizeof(pieces) / sizeof(*pieces))];

			memcpy(s + len, p, strlen(p));
			len += strlen(p);
		}
		bad += !same_fold(s, len);
	}
	{
		/* a run longer than text_fold's buffer */
		char s[3 * 300 + 1] = "";

		for (int i = 0; i < 300; i++)
			memcpy(s + 3 * i, i % 7 ? "\xe6\x97\xa5" : "\xef\xb7\xba", 3);
		bad += !same_fold(s, strlen(s));
	}
	bad += !same_fold("a\xc3", 2) + !same_fold("\xe6\x97", 2) + !same_fold("", 0);
	return bad == 0;
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
	ok(folds_as_whole_text(), "folding ASCII apart folds as utf8proc does the whole text");

	ok(text_utf8_valid("Café ☕", strlen("Café ☕")), "UTF-8 text is valid");
	ok(text_utf8_valid("", 0), "nothing is valid");
	ok(!text_utf8_valid("A\xff" "B", 3), "a byte never in UTF-8 is not");
	ok(!text_utf8_valid("\xc3", 1), "a cut sequence is not");
	ok(!text_utf8_valid("A\0B", 3), "a NUL is not");
	ok(!text_utf8_valid("\xed\xa0\x80", 3), "a surrogate is not");

	{
		char *n = text_nfc("Cafe\xcc\x81-1"); /* e + COMBINING ACUTE ACCENT */

		ok(n && !strcmp(n, "Caf\xc3\xa9-1"), "a decomposed accent composes");
		free(n);
		n = text_nfc("\xe1\x84\x80\xe1\x85\xa1"); /* Hangul jamo */
		ok(n && !strcmp(n, "\xea\xb0\x80"), "Hangul jamo compose to a syllable");
		free(n);
		ok(text_nfc("Caf\xc3\xa9-1") == NULL, "NFC text is left alone");
		ok(text_nfc("TS-001-RED-M") == NULL, "ASCII is NFC");
		ok(text_nfc("\xef\xac\x81") == NULL, "NFC keeps compatibility forms (a ligature)");
		ok(text_nfc("A\xff") == NULL, "not UTF-8: nothing");
	}

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
