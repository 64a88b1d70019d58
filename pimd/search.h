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
	const char *parent;      /* the variants of this sku */
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

/* Cursor text of listing 'p' (products), 'c' (a channel's), 'h' (history) or
 * 'i' (import jobs) for the key a page ended at (out: (strlen(key) + 5) * 4 / 3 + 4
 * bytes), and back into out of max bytes: -1 for a cursor of another
 * listing or not made here. */
void pim_cursor_make(char listing, const char *key, char *out);
int pim_cursor_read(char listing, const char *cursor, char *out, size_t max);

#endif
