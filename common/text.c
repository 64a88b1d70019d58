#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <utf8proc.h>

bool text_utf8_valid(const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t c;

	while (len) {
		utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)len, &c);

		if (n <= 0 || c == 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

char *text_fold(const char *s, size_t len)
{
	utf8proc_uint8_t *out = NULL;
	utf8proc_ssize_t n;
	bool ascii = true;

	/* the common case, plain ASCII, needs no Unicode tables */
	for (size_t i = 0; i < len && ascii; i++)
		ascii = !((unsigned char)s[i] & 0x80);
	if (ascii) {
		char *r = malloc(len + 1);

		if (!r)
			return NULL;
		for (size_t i = 0; i < len; i++)
			r[i] = (char)tolower((unsigned char)s[i]);
		r[len] = 0;
		return r;
	}
	n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &out,
			 UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK |
				 UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
	if (n < 0)
		return NULL;
	return (char *)out;
}

static bool word_cp(utf8proc_int32_t cp)
{
	utf8proc_category_t c;

	if (cp < 0x80)
		return isalnum(cp) != 0;
	c = utf8proc_category(cp);
	return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
	       (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

void text_words(const char *folded, text_word_fn fn, void *cls)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)folded;
	const char *start = NULL;

	while (*p) {
		utf8proc_int32_t cp = *p;
		/* most text is ASCII, which needs no decoding */
		utf8proc_ssize_t n = cp < 0x80 ? 1 : utf8proc_iterate(p, -1, &cp);

		if (n <= 0) {
			n = 1;
			cp = ' ';
		}
		if (word_cp(cp)) {
			if (!start)
				start = (const char *)p;
		} else if (start) {
			size_t len = (const char *)p - start;

			fn(cls, start, len > TEXT_WORD_MAX ? TEXT_WORD_MAX : len);
			start = NULL;
		}
		p += n;
	}
	if (start) {
		size_t len = (const char *)p - start;

		fn(cls, start, len > TEXT_WORD_MAX ? TEXT_WORD_MAX : len);
	}
}
