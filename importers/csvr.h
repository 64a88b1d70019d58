/* A streaming CSV/TSV record reader on libcsv (RFC 4180): a UTF-8 BOM is
 * skipped, the delimiter (',' ';' or tab) is detected from the first line,
 * quoted fields may span lines, and every record comes with the physical
 * line it starts on. Bytes are fed in pieces of any size; only the record
 * being read is held in memory (capped).
 */
#ifndef IMP_CSVR_H
#define IMP_CSVR_H

#include <stddef.h>

struct hub_err;
struct csvr;

struct csvr_field {
	const char *s; /* NUL-terminated; valid only during the callback */
	size_t len;
};

/* Called for each record; a negative return stops the reader and is
 * returned by csvr_feed/csvr_finish. */
typedef int (*csvr_record_fn)(void *cls, long line, const struct csvr_field *f, size_t n);

/* delim 0: detect it from the first line. */
int csvr_new(struct csvr **out, char delim, csvr_record_fn fn, void *cls, struct hub_err *err);
void csvr_free(struct csvr *r);
int csvr_feed(struct csvr *r, const char *data, size_t len, struct hub_err *err);
/* Ends the input: the last record may lack its newline. */
int csvr_finish(struct csvr *r, struct hub_err *err);
/* The delimiter in use (0 before it is known). */
char csvr_delim(const struct csvr *r);
/* The line the record being read starts on (1-based): where an error of
 * csvr_feed or csvr_finish is. */
long csvr_record_line(const struct csvr *r);

#endif
