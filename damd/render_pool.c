/* The render pool, see render_pool.h. One lock guards the queue and the
 * table of jobs in flight (a short list: at most workers + queue_max);
 * each job has its own lock and wait queue for the requests parked on it. */
#include "fmacros.h"
#include "render_pool.h"
#include "http.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct render_job_int {
	struct render_pool *pool;
	int refs; /* under pool->lock */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* for render_job_join */
	bool done;           /* under lock */
	struct http_waitq *waitq;
	struct render_job *next_queued, *next_flight;
};

struct render_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	bool stopping;
	int queue_max, queued, running, nworkers;
	struct render_job *qhead, *qtail; /* waiting for a worker */
	struct render_job *flight;        /* queued or running */
	pthread_t *workers;
	void (*run)(struct render_job *, void *);
	bool (*cached)(const struct render_job *, void *);
	void *cls;
	uint64_t renders, failed, rejected, joined;
};

static void job_free(struct render_job *j)
{
	http_waitq_free(j->in->waitq);
	pthread_mutex_destroy(&j->in->lock);
	pthread_cond_destroy(&j->in->cond);
	free(j->in);
	free(j);
}

void render_job_put(struct render_job *j)
{
	struct render_pool *p;
	bool last;

	if (!j)
		return;
	p = j->in->pool;
	pthread_mutex_lock(&p->lock);
	last = --j->in->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (last)
		job_free(j);
}

/* Under p->lock. */
static void flight_remove(struct render_pool *p, struct render_job *j)
{
	for (struct render_job **pp = &p->flight; *pp; pp = &(*pp)->in->next_flight) {
		if (*pp == j) {
			*pp = j->in->next_flight;
			return;
		}
	}
}

static void finish(struct render_pool *p, struct render_job *j)
{
	pthread_mutex_lock(&p->lock);
	flight_remove(p, j);
	if (j->rc < 0)
		p->failed++;
	pthread_mutex_unlock(&p->lock);
	/* done is set under the job's lock, which a parking handler holds
	 * until it is parked: the wake below cannot come before the park */
	pthread_mutex_lock(&j->in->lock);
	j->in->done = true;
	pthread_cond_broadcast(&j->in->cond);
	pthread_mutex_unlock(&j->in->lock);
	http_waitq_wake(j->in->waitq);
	render_job_put(j);
}

static void *worker_main(void *arg)
{
	struct render_pool *p = arg;
	struct render_job *j;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->qhead && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stopping) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		j = p->qhead;
		p->qhead = j->in->next_queued;
		if (!p->qhead)
			p->qtail = NULL;
		p->queued--;
		p->running++;
		p->renders++;
		pthread_mutex_unlock(&p->lock);

		p->run(j, p->cls);

		pthread_mutex_lock(&p->lock);
		p->running--;
		pthread_mutex_unlock(&p->lock);
		finish(p, j);
	}
}

int render_pool_start(struct render_pool **out, int workers, int queue_max,
		      void (*run)(struct render_job *job, void *cls),
		      bool (*cached)(const struct render_job *job, void *cls), void *cls,
		      struct hub_err *err)
{
	struct render_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	if (workers < 1 || queue_max < 1) {
		free(p);
		return hub_err_set(err, HUB_EINVAL, "the render pool needs a worker and a queue");
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	p->queue_max = queue_max;
	p->run = run;
	p->cached = cached;
	p->cls = cls;
	p->workers = calloc(workers, sizeof(*p->workers));
	if (!p->workers) {
		free(p);
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	}
	for (; p->nworkers < workers; p->nworkers++) {
		if (pthread_create(&p->workers[p->nworkers], NULL, worker_main, p)) {
			render_pool_stop(p);
			return hub_err_set(err, HUB_EIO, "cannot start render workers");
		}
	}
	*out = p;
	return 0;
}

void render_pool_stop(struct render_pool *p)
{
	struct render_job *j;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i], NULL);
	/* what never reached a worker fails, so that no one waits forever */
	while ((j = p->qhead)) {
		p->qhead = j->in->next_queued;
		j->rc = hub_err_set(&j->err, HUB_EBUSY, "the server is stopping");
		finish(p, j);
	}
	free(p->workers);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int render_pool_submit(struct render_pool *p, const struct render_job *tmpl,
		       struct render_job **job, bool *joined, struct hub_err *err)
{
	struct render_job *j;

	*job = NULL;
	*joined = false;
	pthread_mutex_lock(&p->lock);
	for (j = p->flight; j; j = j->in->next_flight) {
		if (j->klen == tmpl->klen && !memcmp(j->key, tmpl->key, tmpl->klen)) {
			j->in->refs++;
			p->joined++;
			pthread_mutex_unlock(&p->lock);
			*job = j;
			*joined = true;
			return 0;
		}
	}
	if (p->cached && p->cached(tmpl, p->cls)) {
		pthread_mutex_unlock(&p->lock);
		return 1;
	}
	if (p->stopping || p->queued >= p->queue_max) {
		p->rejected++;
		pthread_mutex_unlock(&p->lock);
		return hub_err_set(err, HUB_EBUSY, "%d renders are waiting; try again shortly",
				   p->queued);
	}
	j = malloc(sizeof(*j));
	if (j)
		*j = *tmpl;
	if (j && !(j->in = calloc(1, sizeof(*j->in)))) {
		free(j);
		j = NULL;
	}
	if (j && !(j->in->waitq = http_waitq_new())) {
		free(j->in);
		free(j);
		j = NULL;
	}
	if (!j) {
		pthread_mutex_unlock(&p->lock);
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&j->in->lock, NULL);
	pthread_cond_init(&j->in->cond, NULL);
	j->in->pool = p;
	j->in->refs = 2; /* the submitter's and the pool's (dropped by finish) */
	j->rc = 0;
	j->in->next_flight = p->flight;
	p->flight = j;
	if (p->qtail)
		p->qtail->in->next_queued = j;
	else
		p->qhead = j;
	p->qtail = j;
	p->queued++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	*job = j;
	return 0;
}

bool render_job_done(struct render_job *j)
{
	bool d;

	pthread_mutex_lock(&j->in->lock);
	d = j->in->done;
	pthread_mutex_unlock(&j->in->lock);
	return d;
}

bool render_job_wait(struct render_job *j, struct http_req *req, int timeout_ms)
{
	bool parked = false;

	pthread_mutex_lock(&j->in->lock);
	if (!j->in->done)
		parked = http_park(req, j->in->waitq, timeout_ms);
	pthread_mutex_unlock(&j->in->lock);
	return parked;
}

void render_job_join(struct render_job *j)
{
	pthread_mutex_lock(&j->in->lock);
	while (!j->in->done)
		pthread_cond_wait(&j->in->cond, &j->in->lock);
	pthread_mutex_unlock(&j->in->lock);
}

void render_pool_stats(struct render_pool *p, struct render_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	out->renders = p->renders;
	out->failed = p->failed;
	out->rejected = p->rejected;
	out->joined = p->joined;
	out->queued = p->queued;
	out->running = p->running;
	pthread_mutex_unlock(&p->lock);
}
