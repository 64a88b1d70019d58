#include "gtin.h"

#include <ctype.h>
#include <string.h>

bool gtin_valid(const char *s)
{
	size_t n = strlen(s);
	int sum = 0;

	if (n != 8 && n != 12 && n != 13 && n != 14)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	/* weights 3,1,3,… from the digit left of the check digit */
	for (size_t i = 0; i + 1 < n; i++) {
		int d = s[n - 2 - i] - '0';

		sum += (i % 2 == 0) ? 3 * d : d;
	}
	return (10 - sum % 10) % 10 == s[n - 1] - '0';
}
