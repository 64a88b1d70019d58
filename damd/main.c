/* damd: content-addressed assets and image renditions over HTTP. */
#include "app.h"
#include "config.h"
#include "daemon.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "sandbox.h"
#include "store.h"

#include <string.h>

static const size_t no_routes = 0;

/* Each module's route table, in matching order. */
static const struct route_table route_tables[] = {
	{NULL, &no_routes},
};

int main(int argc, char **argv)
{
	struct daemon_opts o;
	struct dam_app app = {0};
	struct hub_err err = {0};
	int rc;

	/* damd started again as the sandboxed renderer of untrusted formats */
	if (argc > 1 && !strcmp(argv[1], SANDBOX_FLAG))
		return sandbox_child_main(argc, argv);
	sandbox_set_helper("/proc/self/exe");
	http_signals_block();
	daemon_opts_parse(&o, argc, argv, "damd", "DAMD", "127.0.0.1:8081", "var/dam");
	app.data_dir = o.data;
	app.allow_unsigned = config_bool(argc, argv, "--allow-unsigned", "DAMD_ALLOW_UNSIGNED");
	if (daemon_mkdirs(o.data, &err) < 0 || dam_store_open(&app.store, o.data, &err) < 0) {
		hub_log(LOG_ERROR, "damd start error=\"%s\"", err.msg);
		return 1;
	}
	rc = daemon_serve(&o, route_tables, sizeof(route_tables) / sizeof(route_tables[0]), &app,
			  NULL, NULL);
	dam_store_close(app.store);
	return rc;
}
