/* Text folding and word splitting for search, shared by pimd's product
 * search and damd's asset search so that both match words alike. */
#ifndef HUB_TEXT_H
#define HUB_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Folds text for search: NFKD, marks stripped, case folded ("Café" →
 * "cafe"). Returns a malloc'd string (the caller frees) or NULL for input
 * that is not UTF-8. */
char *text_fold(const char *s, size_t len);

/* True when s holds len bytes of UTF-8 (no NUL). */
bool text_utf8_valid(const char *s, size_t len);

/* The NFC form of UTF-8 text s, malloc'd (the caller frees), or NULL when
 * s is in NFC already or is not UTF-8. "Cafe\u0301" and "Caf\u00e9" look
 * alike, and identifiers compare as bytes: NFC makes them one. */
char *text_nfc(const char *s);

/* Calls fn for each word (a run of letters and digits) of already folded
 * text, at most TEXT_WORD_MAX bytes each (longer ones are cut). */
#define TEXT_WORD_MAX 48
typedef void (*text_word_fn)(void *cls, const char *w, size_t len);
void text_words(const char *folded, text_word_fn fn, void *cls);

#endif
