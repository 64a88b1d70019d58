/* GS1 identifiers (GTIN-8, -12, -13, -14: EAN and UPC codes). */
#ifndef HUB_GTIN_H
#define HUB_GTIN_H

#include <stdbool.h>

/* True when s is 8, 12, 13 or 14 digits whose last is the GS1 check digit
 * of the others. */
bool gtin_valid(const char *s);

#endif
