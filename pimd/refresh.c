/* The background refresher's thread: one chunk a transaction, so that
 * product writes take turns with it for the writer's lock. */
#include "refresh.h"

#include "app.h"
#include "buf.h"
#include "catalog_int.h"
#include "err.h"
#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define RETRY_SECONDS 10 /* after a failed chunk (a full disk…) */

struct pim_refresher {
	struct pim_app *app;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool kicked;
	bool stop;          /* atomic */
	uint64_t refreshed; /* atomic: chunks done, for /metrics */
};

static bool stopping(struct pim_refresher *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

/* Chunks until the queue is empty, stop, or an error; true on error. */
static bool work(struct pim_refresher *r)
{
	struct hub_err err = {0};
	bool worked = true;

	while (worked && !stopping(r)) {
		if (pim_catalog_refresh_step(r->app, &worked, &err) < 0) {
			hub_log(LOG_WARN, "schema refresh failed, retried in %d s error=\"%s\"",
				RETRY_SECONDS, err.msg);
			return true;
		}
		if (worked)
			__atomic_add_fetch(&r->refreshed, 1, __ATOMIC_RELAXED);
	}
	return false;
}

static void *run(void *cls)
{
	struct pim_refresher *r = cls;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		bool failed;

		if (!r->kicked) {
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		r->kicked = false;
		pthread_mutex_unlock(&r->lock);
		failed = work(r);
		pthread_mutex_lock(&r->lock);
		if (failed && !r->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += RETRY_SECONDS;
			while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &ts) == 0)
				;
			r->kicked = true;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int pim_refresher_start(struct pim_app *app, struct hub_err *err)
{
	struct pim_refresher *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;

	if (!r)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	r->app = app;
	r->kicked = true; /* what an earlier run left */
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&r->thread, NULL, run, r) != 0) {
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return hub_err_set(err, HUB_EIO, "cannot start the schema refresher");
	}
	app->refresher = r;
	return 0;
}

void pim_refresher_kick(struct pim_app *app)
{
	struct pim_refresher *r = app->refresher;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->kicked = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

int pim_refresher_drain(struct pim_app *app, struct hub_err *err)
{
	bool worked = true;
	int rc = 0;

	while (rc == 0 && worked)
		rc = pim_catalog_refresh_step(app, &worked, err);
	return rc;
}

void pim_refresher_stop(struct pim_app *app)
{
	struct pim_refresher *r = app->refresher;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	app->refresher = NULL;
	free(r);
}

void pim_refresher_metrics(struct buf *out, struct pim_app *app)
{
	struct pim_refresher *r = app->refresher;
	json_t *queued = pim_catalog_refresh_list(app);

	buf_addf(out,
		 "# HELP pimd_schema_refresh_queued Schema changes whose products are still being "
		 "recomputed in the background.\n"
		 "# TYPE pimd_schema_refresh_queued gauge\npimd_schema_refresh_queued %zu\n"
		 "# HELP pimd_schema_refresh_chunks_total Chunks of products the background "
		 "refresher recomputed.\n"
		 "# TYPE pimd_schema_refresh_chunks_total counter\npimd_schema_refresh_chunks_total %llu\n",
		 json_array_size(queued),
		 r ? (unsigned long long)__atomic_load_n(&r->refreshed, __ATOMIC_RELAXED) : 0ULL);
	json_decref(queued);
}
