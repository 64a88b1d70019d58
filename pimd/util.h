/* Small pure helpers of pimd: opaque cursors, decimal strings, GTIN check
 * digits, RFC 7396 merge patch, timestamps. */
#ifndef PIM_UTIL_H
#define PIM_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cursor text: base64url without padding of len bytes into out (at least
 * 4*len/3+4 bytes). decode returns the byte count or -1. */
void pim_b64url_encode(const void *data, size_t len, char *out);
long pim_b64url_decode(const char *s, void *out, size_t max);

/* A decimal string: optional '-', digits, optional '.' and digits.
 * Returns false for anything else; *decimals gets the fraction's length. */
bool pim_decimal_parse(const char *s, int *decimals);
/* Compares two decimal strings numerically: <0, 0, >0. */
int pim_decimal_cmp(const char *a, const char *b);


/* RFC 7396: returns target with patch applied (a new reference; target is
 * borrowed and not modified). */
json_t *pim_merge_patch(json_t *target, json_t *patch);

/* Appends j as compact JSON (object keys in insertion order) to out: the
 * same bytes as json_dump_compact, several times faster on the write
 * path. Returns 0 or HUB_ENOMEM. */
struct buf;
int pim_json_write(struct buf *out, const json_t *j);

/* Milliseconds since the epoch, and its RFC 3339 UTC form (out: 32 bytes,
 * "2026-11-23T10:00:00.123Z"). parse returns -1 when s is not one. */
int64_t pim_now_ms(void);
void pim_time_format(int64_t ms, char out[32]);
int64_t pim_time_parse(const char *s);

/* Big-endian integers in keys, so that byte order is numeric order. */
void pim_be64(uint64_t v, unsigned char out[8]);
uint64_t pim_from_be64(const void *p);

#endif
