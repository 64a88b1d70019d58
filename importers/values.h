/* Text cells to attribute value data and back, by attribute type. The two
 * directions are inverses, so that an export re-imports unchanged. */
#ifndef IMP_VALUES_H
#define IMP_VALUES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* A problem with one cell: a machine code and a merchandiser's message. */
struct val_problem {
	const char *code;
	char msg[256];
};

/* The attribute's type ("text" when the definition has none). */
const char *val_type(const json_t *adef);

/* Converts s (len bytes, NUL-terminated) to a value's "data" for attribute
 * adef; prices and metrics take their currency or unit from sub (NULL:
 * from the text, "12.50 EUR", or the attribute's default unit). Returns a
 * new reference, or NULL with p filled. */
json_t *val_from_text(const json_t *adef, const char *s, size_t len, const char *sub,
		      struct val_problem *p);

/* The text an export writes for data (malloc'd; the caller frees), for
 * one currency or the unit when sub says so ("unit"), else the amount. */
char *val_to_text(const json_t *adef, const json_t *data, const char *sub);

/* The unit as the metric attribute spells it: "GRAM" (Akeneo) is "g"
 * where the attribute lists g; unit itself when nothing matches. */
const char *val_unit(const json_t *adef, const char *unit);

/* Plain decimal: -?digits(.digits)? */
bool val_is_decimal(const char *s, size_t len);
/* Text of an HTML fragment: tags dropped, entities decoded, whitespace
 * folded (malloc'd). */
char *val_strip_html(const char *s, size_t len);
/* An option or category code from a label: lower case ASCII letters and
 * digits, other runs become '_' (malloc'd). */
char *val_slug(const char *s, size_t len);
/* True when s is valid UTF-8. */
bool val_utf8_ok(const char *s, size_t len, size_t *bad_at);

#endif
