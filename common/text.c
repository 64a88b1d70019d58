#include "text.h"

#include <stdlib.h>
#include <string.h>
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

char *text_nfc(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *nfc;

	while (*p && *p < 0x80)
		p++;
	if (!*p) /* ASCII is NFC */
		return NULL;
	nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
	if (nfc && !strcmp(nfc, s)) {
		free(nfc);
		nfc = NULL;
	}
	return nfc;
}

#define FOLD_OPTS \
	(UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD | \
	 UTF8PROC_IGNORE)

/* The C locale's tolower and isalnum on ASCII, without their calls to
 * fetch the locale's tables for every character of every indexed text. */
static inline char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static inline bool ascii_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Room in *out for `more` bytes past n and a NUL. */
static bool fold_room(char **out, size_t *cap, size_t n, size_t more)
{
	char *p;

	if (n + more < *cap)
		return true;
	*cap = (n + more) * 2;
	p = realloc(*out, *cap);
	if (!p)
		return false;
	*out = p;
	return true;
}

/* Appends the folding of one run of non-ASCII characters. */
static bool fold_run(const char *s, size_t len, char **out, size_t *cap, size_t *n)
{
	utf8proc_int32_t cps[128];
	utf8proc_ssize_t m = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
						cps, 128, FOLD_OPTS);
	utf8proc_uint8_t *big;

	if (m < 0)
		return false;
	if (m <= 128) {
		if (!fold_room(out, cap, *n, (size_t)m * 4))
			return false;
		for (utf8proc_ssize_t i = 0; i < m; i++)
			*n += (size_t)utf8proc_encode_char(cps[i], (utf8proc_uint8_t *)*out + *n);
		return true;
	}
	m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &big, FOLD_OPTS);
	if (m < 0 || !fold_room(out, cap, *n, (size_t)m)) {
		free(big);
		return false;
	}
	memcpy(*out + *n, big, (size_t)m);
	*n += (size_t)m;
	free(big);
	return true;
}

/* ASCII, most of any text, is folded here and each run of other
 * characters by utf8proc: that gives what utf8proc_map gives for the whole
 * text, since ASCII characters decompose to themselves and are starters,
 * which canonical reordering never moves marks across. */
char *text_fold(const char *s, size_t len)
{
	size_t cap = len + 16, n = 0, i = 0;
	char *out = malloc(cap);

	while (out && i < len) {
		size_t j = i;

		while (j < len && !((unsigned char)s[j] & 0x80))
			j++;
		if (j > i) {
			/* a run of ASCII, lower-cased a byte at a time (room checked
			 * once: a run of other characters before may have grown past
			 * len) */
			if (!fold_room(&out, &cap, n, j - i))
				break;
			for (; i < j; i++)
				out[n++] = ascii_lower(s[i]);
			continue;
		}
		while (j < len && ((unsigned char)s[j] & 0x80))
			j++;
		if (!fold_run(s + i, j - i, &out, &cap, &n)) {
			free(out);
			return NULL;
		}
		i = j;
	}
	if (out && i < len) { /* out of memory */
		free(out);
		return NULL;
	}
	if (out)
		out[n] = 0;
	return out;
}

static bool word_cp(utf8proc_int32_t cp)
{
	utf8proc_category_t c;

	if (cp < 0x80)
		return ascii_alnum(cp);
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
