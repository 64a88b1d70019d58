#include "buf.h"
#include "err.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

static int buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;
	char *p;

	if (b->max && b->len + extra > b->max)
		return HUB_ETOOBIG;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return HUB_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_add_grow(struct buf *b, const void *data, size_t len)
{
	int rc = buf_grow(b, len);

	if (rc < 0)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_add_int(struct buf *b, long long v)
{
	char num[24], *p = num + sizeof(num);
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return buf_add(b, p, (size_t)(num + sizeof(num) - p));
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n, rc;

	/* formatted straight into the room left, and again only if it did not
	 * fit: printf's cost counts on the write path */
	va_start(ap, fmt);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return HUB_EINVAL;
	if ((size_t)n < room && (!b->max || b->len + (size_t)n <= b->max)) {
		b->len += (size_t)n;
		return 0;
	}
	if (room)
		b->data[b->len] = 0; /* what did not fit is not kept */
	rc = buf_grow(b, (size_t)n);
	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* Whether one of the 8 bytes in w is below 0x20, '"' or '\\', the bytes a
 * JSON string escapes: each term is the "has a zero byte" or "has a byte
 * less than n" test of Bit Twiddling Hacks, exact for the word as a whole.
 * Most text has none, so it is skipped a word at a time. */
static bool word_needs_escape(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
		((bslash - ones) & ~bslash)) & highs;
}

int buf_add_json_escaped(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, start = 0;
	int rc = 0;

	while (i < len && rc == 0) {
		uint64_t w;
		size_t stop;

		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if (!word_needs_escape(w)) {
				i += 8;
				continue;
			}
		}
		for (stop = len - i >= 8 ? i + 8 : len; i < stop && rc == 0; i++) {
			unsigned char c = s[i];
			char esc[7] = "\\u00";

			if (c >= 0x20 && c != '"' && c != '\\')
				continue;
			rc = buf_add(b, s + start, i - start);
			start = i + 1;
			if (rc < 0)
				break;
			switch (c) {
			case '"': rc = buf_add(b, "\\\"", 2); break;
			case '\\': rc = buf_add(b, "\\\\", 2); break;
			case '\n': rc = buf_add(b, "\\n", 2); break;
			case '\r': rc = buf_add(b, "\\r", 2); break;
			case '\t': rc = buf_add(b, "\\t", 2); break;
			default:
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				rc = buf_add(b, esc, 6);
			}
		}
	}
	if (rc == 0)
		rc = buf_add(b, s + start, len - start);
	return rc;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
