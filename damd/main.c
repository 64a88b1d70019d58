/* damd: content-addressed assets and image renditions over HTTP. */
#include "app.h"
#include "assets.h"
#include "cas.h"
#include "changes.h"
#include "config.h"
#include "daemon.h"
#include "err.h"
#include "fsck.h"
#include "gc.h"
#include "http.h"
#include "log.h"
#include "rendition.h"
#include "sandbox.h"
#include "store.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each module's route table, in matching order. */
static const struct route_table route_tables[] = {
	{dam_asset_routes, &dam_asset_nroutes},
	{dam_changes_routes, &dam_changes_nroutes},
	{rend_routes, &rend_nroutes},
};

/* damd --fsck [--repair]: checks the store offline; non-zero on damage. */
static int run_fsck(struct dam_app *app, bool repair)
{
	struct hub_err err = {0};
	int damaged = 0;

	if (dam_fsck(app, repair, stdout, &damaged, &err) < 0) {
		fprintf(stderr, "damd fsck: %s\n", err.msg);
		return 2;
	}
	return damaged ? 1 : 0;
}

static const struct config_flag damd_flags[] = {
	{"--max-upload", true, "largest upload (default 8G; K, M, G, T suffixes)"},
	{"--archive-max-entries", true, "most entries in an archive (default 10000)"},
	{"--archive-max-bytes", true, "most bytes unpacked from an archive (default 4G)"},
	{"--gc-interval", true, "seconds between collections (default 600)"},
	{"--gc-grace", true, "seconds a deleted asset is kept (default 86400)"},
	{"--fsck", false, "check the store (daemon stopped), then exit"},
	{"--repair", false, "with --fsck: repair what it finds"},
	{"--map-size", true, "the most the metadata store may grow to (default 16G)"},
	{NULL, false, NULL},
};

int main(int argc, char **argv)
{
	static const struct config_flag *const flags[] = {daemon_flags, damd_flags, rend_flags,
							  NULL};
	struct daemon_opts o;
	struct dam_app app = {0};
	struct hub_err err = {0};
	struct rend_settings rend;
	unsigned long long map_size;
	int rc;

	/* damd started again as the sandboxed renderer of untrusted formats */
	if (argc > 1 && !strcmp(argv[1], SANDBOX_FLAG))
		return sandbox_child_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "--sign"))
		return rend_sign_main(argc, argv);
	rc = config_check(argc, argv,
			  "damd [flags]\n       damd --sign ID 'w=…&h=…' [--data DIR] [--sign-keys K]",
			  flags, stdout, stderr);
	if (rc >= 0)
		return rc;
	sandbox_set_helper("/proc/self/exe");
	/* render threads would each grow a malloc arena of their own */
	mallopt(M_ARENA_MAX, 2);
	http_signals_block();
	daemon_opts_parse(&o, argc, argv, "damd", "DAMD", "127.0.0.1:8081", "var/dam");
	app.data_dir = o.data;
	app.allow_unsigned = config_bool(argc, argv, "--allow-unsigned", "DAMD_ALLOW_UNSIGNED");
	app.max_upload = config_size(argc, argv, "--max-upload", "DAMD_MAX_UPLOAD", (uint64_t)8 << 30);
	app.archive_max_entries =
		config_long(argc, argv, "--archive-max-entries", "DAMD_ARCHIVE_MAX_ENTRIES", 10000);
	app.archive_max_bytes = config_size(argc, argv, "--archive-max-bytes",
					    "DAMD_ARCHIVE_MAX_BYTES", (uint64_t)4 << 30);
	app.gc_interval = config_long(argc, argv, "--gc-interval", "DAMD_GC_INTERVAL", 600);
	app.gc_grace = config_long(argc, argv, "--gc-grace", "DAMD_GC_GRACE", 24 * 3600);
	map_size = config_size(argc, argv, "--map-size", "DAMD_MAP_SIZE", 0);
	rend_settings_read(&rend, argc, argv);
	pthread_mutex_init(&app.blob_lock, NULL);
	if (daemon_mkdirs(o.data, &err) < 0 || dam_store_open(&app.store, o.data, map_size, &err) < 0 ||
	    cas_open(&app.cas, o.data, &err) < 0) {
		hub_log(LOG_ERROR, "damd start error=\"%s\"", err.msg);
		return 1;
	}
	if (config_bool(argc, argv, "--fsck", "DAMD_FSCK")) {
		rc = run_fsck(&app, config_bool(argc, argv, "--repair", "DAMD_REPAIR"));
		goto out;
	}
	if (dam_changes_init(&app, &err) < 0 || dam_asset_index_words(&app, &err) < 0) {
		hub_log(LOG_ERROR, "damd start error=\"%s\"", err.msg);
		rc = 1;
		goto out;
	}
	app.changes_q = http_waitq_new();
	/* renditions first: the collector tells them which blobs it removes */
	if (!app.changes_q || rend_service_start(&app, &rend, argc, argv, &err) < 0 ||
	    dam_gc_start(&app, &err) < 0) {
		hub_log(LOG_ERROR, "damd start error=\"%s\"", err.msg[0] ? err.msg : "out of memory");
		rc = 1;
		goto out;
	}
	rc = daemon_serve(&o, route_tables, sizeof(route_tables) / sizeof(route_tables[0]), &app,
			  rend_metrics, NULL);
	dam_gc_stop(&app);
out:
	rend_service_stop(&app);
	http_waitq_free(app.changes_q);
	cas_close(app.cas);
	dam_store_close(app.store);
	return rc;
}
