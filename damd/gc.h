/* The background collector: every --gc-interval seconds it removes the
 * blobs, records and renditions of assets deleted more than --gc-grace
 * seconds ago and the renditions no request gets any more (of a preset
 * changed since, around a focal point the asset no longer has), keeping
 * any blob something live still uses, and emits
 * asset.rights_expired once for each asset whose rights.expires passed. */
#ifndef DAM_GC_H
#define DAM_GC_H

struct dam_app;
struct hub_err;

/* One pass now; *removed (may be NULL) counts the assets collected. */
int dam_gc_run(struct dam_app *app, int *removed, struct hub_err *err);
/* Emits asset.rights_expired for rights that expired before today (UTC). */
int dam_gc_expire_rights(struct dam_app *app, int *expired, struct hub_err *err);

/* Starts and stops the thread; stop waits for a pass in progress. */
int dam_gc_start(struct dam_app *app, struct hub_err *err);
void dam_gc_stop(struct dam_app *app);

#endif
