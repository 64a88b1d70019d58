/* Listing and search over the secondary indexes: filters intersect sorted
 * sku streams (each index keeps value NUL sku keys in sku order), so a
 * page costs seeks, not a scan. */
#ifndef PIM_SEARCH_H
#define PIM_SEARCH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct hub_err;
struct pim_txn;

struct pim_filter {
	const char *family;
	const char *category;    /* the category and everything under it */
	const char *complete;    /* "channel/locale" */
	const char *q;           /* words of sku, names, descriptions (folded) */
	int enabled;             /* -1: either */
	int64_t updated_since;   /* ms; -1: any */
	const char *after;       /* sku the previous page ended at, or NULL */
	size_t limit;
};

/* Appends up to f->limit skus in sku order to skus; *more is set when
 * another page follows. */
int pim_search(struct pim_txn *t, const struct pim_filter *f, json_t *skus, int *more,
	       struct hub_err *err);

/* Cursor text for the sku a page ended at (out: 4*len/3+4 bytes), and
 * back (into out of max bytes; -1 when it is not a cursor). */
void pim_cursor_make(const char *sku, char *out);
int pim_cursor_read(const char *cursor, char *out, size_t max);

#endif
