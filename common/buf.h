/* A growable byte buffer with a cap, always NUL-terminated. */
#ifndef HUB_BUF_H
#define HUB_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
	char *data;  /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;  /* 0: no cap; else appends past it fail with HUB_ETOOBIG */
};

#define BUF_INIT {NULL, 0, 0, 0}

void buf_init(struct buf *b, size_t max);
/* Frees the contents; the struct itself is the caller's. */
void buf_release(struct buf *b);
/* Each returns 0, HUB_ETOOBIG past the cap or HUB_ENOMEM. */
int buf_add_grow(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v in decimal, without buf_addf's printf machinery (the write path's
 * versions, sequence numbers and ratios) */
int buf_add_int(struct buf *b, long long v);
/* Appends s as the inside of a JSON string (quotes not included). */
int buf_add_json_escaped(struct buf *b, const char *s, size_t len);
/* Hands the malloc'd string to the caller (who frees it) and resets b. */
char *buf_detach(struct buf *b, size_t *len);
void buf_reset(struct buf *b);

/* Inline because the JSON writers append a few bytes at a time, millions of
 * times in an import: only a full buffer (or one at its cap) pays a call. */
static inline int buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->cap - b->len <= len || (b->max && b->len + len > b->max))
		return buf_add_grow(b, data, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	return 0;
}

static inline int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

#endif
