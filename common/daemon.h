/* What pimd and damd share around their HTTP server: the common settings,
 * the data directory and the run loop until SIGTERM or SIGINT. */
#ifndef HUB_DAEMON_H
#define HUB_DAEMON_H

#include <stdbool.h>

#include "config.h"
#include "http.h"

struct hub_err;

struct daemon_opts {
	const char *name;        /* "pimd" */
	const char *listen;      /* --listen, <PREFIX>_LISTEN */
	const char *data;        /* --data, <PREFIX>_DATA */
	int threads;             /* --threads, <PREFIX>_THREADS */
	int work_threads;        /* http_options' work_threads, set by the daemon */
	bool access_log;         /* off with --quiet or <PREFIX>_QUIET=1 */
	bool private_reads;      /* --private-reads, <PREFIX>_PRIVATE_READS */
	const char *admin_token; /* PIM_ADMIN_TOKEN */
	const char *log_level;   /* --log-level, <PREFIX>_LOG_LEVEL */
};

/* The flags every daemon takes, for config_check. */
extern const struct config_flag daemon_flags[];

/* Reads the shared settings; prefix is "PIMD" or "DAMD". Strings are
 * borrowed from argv or the environment. */
void daemon_opts_parse(struct daemon_opts *o, int argc, char **argv, const char *name,
		       const char *prefix, const char *def_listen, const char *def_data);

/* mkdir -p with mode 0700 for the last component. */
int daemon_mkdirs(const char *path, struct hub_err *err);

/* One module's routes; a daemon lists its modules' tables in match order. */
struct route_table {
	const struct http_route *routes;
	const size_t *n;
};

/* Opens the token store in the data directory, starts the server with
 * routes, logs the ready line, waits for SIGTERM/SIGINT, then stops the
 * server gracefully. Call http_signals_block() first, before any thread. */
int daemon_serve(const struct daemon_opts *o, const struct route_table *tables, size_t ntables,
		 void *app, void (*metrics_hook)(struct buf *, void *),
		 void (*on_started)(struct http_server *, void *));

#endif
