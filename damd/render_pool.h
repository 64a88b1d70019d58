/* A bounded pool of render workers with single-flight jobs. HTTP handlers
 * never render: they submit a job (or join the one already in flight for
 * the same key), park their request on it and answer when it is done, so
 * the HTTP threads keep serving cached renditions meanwhile. A full queue
 * answers HUB_EBUSY instead of growing without bound.
 */
#ifndef DAM_RENDER_POOL_H
#define DAM_RENDER_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "rendition.h"

struct http_req;
struct render_pool;

/* A render: the input is set by the submitter, the result by the worker.
 * The pool owns the life cycle: references are taken by submit and
 * dropped with render_job_put. */
struct render_job {
	/* input */
	char key[640]; /* "<source hex>\0<canonical spec>" */
	size_t klen;
	char src_hex[65];
	char mime[128];
	struct rend_spec spec;
	/* the preset it is made for and the preset's tag, kept with the
	 * rendition so that the collector drops it once the preset changes;
	 * empty for ad-hoc parameters */
	char preset[64];
	char preset_tag[JSON_PRESET_TAG_DIGITS + 1];
	/* result, read only after render_job_done() is true */
	int rc;
	struct hub_err err;
	char blob[65];
	char out_mime[32];
	int width, height;
	uint64_t bytes;
	/* the pool's own */
	struct render_job_int *in;
};

struct render_pool_stats {
	uint64_t renders, failed, rejected, joined;
	int queued, running;
};

/* run renders one job (filling its result) on a worker thread; cached is
 * asked under the pool's lock before a new job is queued, so a render
 * that finished a moment ago is not done twice (it may be NULL). */
int render_pool_start(struct render_pool **out, int workers, int queue_max,
		      void (*run)(struct render_job *job, void *cls),
		      bool (*cached)(const struct render_job *job, void *cls), void *cls,
		      struct hub_err *err);
/* Finishes the running renders, fails the queued ones with HUB_EBUSY and
 * joins the workers. Accepts NULL. */
void render_pool_stop(struct render_pool *p);

/* Joins the job in flight for tmpl->key or queues a copy of tmpl. On 0,
 * *job is a reference (*joined says whether it was already in flight); 1
 * means cached() said the rendition exists now (*job NULL); HUB_EBUSY when
 * the queue is full. */
int render_pool_submit(struct render_pool *p, const struct render_job *tmpl,
		       struct render_job **job, bool *joined, struct hub_err *err);

bool render_job_done(struct render_job *job);
/* Parks req until job is done (or timeout_ms passes); false when it is
 * already done or the server is stopping, and the caller answers now. */
bool render_job_wait(struct render_job *job, struct http_req *req, int timeout_ms);
/* Blocks the calling thread until the job is done (tools and tests). */
void render_job_join(struct render_job *job);
void render_job_put(struct render_job *job);

void render_pool_stats(struct render_pool *p, struct render_pool_stats *out);

#endif
