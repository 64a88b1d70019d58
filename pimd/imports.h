/* Import jobs: POST /v1/imports streams a feed to a spool file under
 * <data>/imports/ and queues a job; one worker thread parses it with libimp
 * and writes through pim_batch_* in transactions of IMPORT_BATCH rows, or
 * of one chunk when libimp maps the rows on lanes (importers/lanes.h).
 * Reports of finished jobs are kept as <data>/imports/<id>.json, so they
 * can be listed after a restart; a job still queued or running when pimd
 * stops is reported as failed on the next start.
 */
#ifndef PIM_IMPORTS_H
#define PIM_IMPORTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct hub_err;
struct pim_app;
struct pim_imports;

#define IMPORT_BATCH 2000

extern const struct http_route pim_import_routes[];
extern const size_t pim_import_nroutes;

/* Starts the worker; app->imports is set. */
int pim_imports_open(struct pim_app *app, struct hub_err *err);
/* Cancels the running job, stops the worker. Accepts an app without one. */
void pim_imports_close(struct pim_app *app);

/* Takes the data directory's writer lock (<data>/imports/writer.lock,
 * flock): pimd holds it while it runs, pimctl --offline while it loads, so
 * neither writes under the other. *fd gets the lock's descriptor (closing
 * it releases the lock). HUB_EBUSY when another process holds it. */
int pim_imports_lock(const char *data_dir, int *fd, struct hub_err *err);

/* The libimp schema snapshot ({"attributes":{code:doc},…}) of pimd's
 * current schema (a new reference); also used by pimctl --offline. */
json_t *pim_import_schema(struct pim_app *app);

/* Runs one import synchronously in the calling thread (pimctl --offline
 * and check): fills report as GET /v1/imports/{id} shows it. fd is read
 * from its start. locale (NULL: none) is the locale of localizable values
 * a row does not place, ahead of the profile's and the catalog default;
 * HUB_EINVAL when the catalog lacks it. Returns 0 or the file's error (also
 * in the report). */
int pim_import_file(struct pim_app *app, int fd, const char *format, const char *profile,
		    const char *mode, const char *locale, bool dry_run, const char *by, json_t *report,
		    void (*progress)(void *cls, const json_t *report), void *cls,
		    struct hub_err *err);

#endif
