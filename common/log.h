/* One stderr line per event, in key=value form. The level is checked before
 * the message is formatted, so disabled levels cost one comparison. */
#ifndef HUB_LOG_H
#define HUB_LOG_H

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern int hub_log_level;

void hub_log_write(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define hub_log(level, ...)                          \
	do {                                         \
		if ((level) >= hub_log_level)        \
			hub_log_write(level, __VA_ARGS__); \
	} while (0)

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int hub_log_parse_level(const char *name);

#endif
