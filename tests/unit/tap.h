/* A minimal TAP producer for unit tests: each check prints "ok N - what" or
 * "not ok N - what", and tap_done() ends with "N passed, N failed". */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_passed, tap_failed;

__attribute__((format(printf, 4, 5))) static int tap_check(int cond, const char *file,
							   int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", tap_passed + tap_failed + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!cond)
		printf("  # at %s:%d", file, line);
	printf("\n");
	fflush(stdout);
	if (cond)
		tap_passed++;
	else
		tap_failed++;
	return cond;
}

#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static inline int tap_done(void)
{
	printf("1..%d\n%d passed, %d failed\n", tap_passed + tap_failed, tap_passed, tap_failed);
	return tap_failed ? 1 : 0;
}

#endif
