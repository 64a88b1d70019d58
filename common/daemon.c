#include "fmacros.h"
#include "daemon.h"
#include "auth.h"
#include "config.h"
#include "err.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const struct config_flag daemon_flags[] = {
	{"--listen", true, "HOST:PORT to serve on"},
	{"--data", true, "the data directory"},
	{"--threads", true, "epoll worker threads (default: one per core)"},
	{"--quiet", false, "no access log"},
	{"--private-reads", false, "the public read API needs a token too"},
	{"--log-level", true, "debug, info, warn or error"},
	{NULL, false, NULL},
};

void daemon_opts_parse(struct daemon_opts *o, int argc, char **argv, const char *name,
		       const char *prefix, const char *def_listen, const char *def_data)
{
	char env[64];

#define ENV(suffix) (snprintf(env, sizeof(env), "%s_%s", prefix, suffix), env)
	memset(o, 0, sizeof(*o));
	o->name = name;
	o->listen = config_str(argc, argv, "--listen", ENV("LISTEN"), def_listen);
	o->data = config_str(argc, argv, "--data", ENV("DATA"), def_data);
	o->threads = config_range(argc, argv, "--threads", ENV("THREADS"), 0, 0, 1024);
	o->access_log = !config_bool(argc, argv, "--quiet", ENV("QUIET"));
	o->private_reads = config_bool(argc, argv, "--private-reads", ENV("PRIVATE_READS"));
	o->log_level = config_str(argc, argv, "--log-level", ENV("LOG_LEVEL"), "info");
	o->admin_token = getenv("PIM_ADMIN_TOKEN");
	if (hub_log_parse_level(o->log_level) < 0)
		config_refuse(argc, argv, "--log-level", ENV("LOG_LEVEL"), o->log_level,
			      "debug, info, warn or error");
	hub_log_level = hub_log_parse_level(o->log_level);
#undef ENV
}

int daemon_mkdirs(const char *path, struct hub_err *err)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return hub_err_set(err, HUB_EINVAL, "bad directory '%s'", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return hub_err_set(err, HUB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return hub_err_set(err, HUB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
	return 0;
}

static struct http_route *collect_routes(const struct route_table *t, size_t nt, size_t *n)
{
	size_t total = 0, k = 0;
	struct http_route *all;

	for (size_t i = 0; i < nt; i++)
		total += *t[i].n;
	all = calloc(total ? total : 1, sizeof(*all));
	for (size_t i = 0; all && i < nt; i++) {
		if (!*t[i].n)
			continue;
		memcpy(all + k, t[i].routes, *t[i].n * sizeof(*all));
		k += *t[i].n;
	}
	*n = total;
	return all;
}

int daemon_serve(const struct daemon_opts *o, const struct route_table *tables, size_t ntables,
		 void *app, void (*metrics_hook)(struct buf *, void *),
		 void (*on_started)(struct http_server *, void *))
{
	struct hub_err err = {0};
	struct http_server *srv = NULL;
	struct auth *auth = NULL;
	struct http_options hopt = {0};
	struct http_route *routes;
	size_t n;
	int sig;

	if (auth_open(&auth, o->data, o->admin_token, &err) < 0) {
		hub_log(LOG_ERROR, "%s start error=\"%s\"", o->name, err.msg);
		return 1;
	}
	hopt.name = o->name;
	hopt.listen = o->listen;
	hopt.threads = o->threads;
	hopt.work_threads = o->work_threads;
	hopt.private_reads = o->private_reads;
	hopt.access_log = o->access_log;
	hopt.auth = auth;
	hopt.app = app;
	hopt.metrics_hook = metrics_hook;
	routes = collect_routes(tables, ntables, &n);
	if (!routes || http_server_start(&srv, &hopt, routes, n, &err) < 0) {
		hub_log(LOG_ERROR, "%s start error=\"%s\"", o->name, err.msg);
		free(routes);
		auth_close(auth);
		return 1;
	}
	if (on_started)
		on_started(srv, app);
	hub_log(LOG_INFO, "%s ready listen=%s port=%d data=%s%s", o->name, o->listen,
		http_server_port(srv), o->data,
		o->admin_token ? "" : " admin_token_file=admin.token");
	sig = http_signals_wait();
	hub_log(LOG_INFO, "%s stopping signal=%s", o->name, sig == SIGINT ? "INT" : "TERM");
	http_server_stop(srv, 10000);
	free(routes);
	auth_close(auth);
	return 0;
}
