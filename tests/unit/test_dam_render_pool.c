/* The render pool: single flight per key, bounded queue, cached check,
 * stopping with work queued. */
#include "fmacros.h"
#include "../../damd/render_pool.h"
#include "err.h"
#include "tap.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool release, started;
static int runs;

static void run(struct render_job *j, void *cls)
{
	(void)cls;
	pthread_mutex_lock(&lock);
	runs++;
	started = true;
	pthread_cond_broadcast(&cond);
	while (!release)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	snprintf(j->blob, sizeof(j->blob), "done-%.50s", j->key);
	j->rc = 0;
}

static bool cached(const struct render_job *j, void *cls)
{
	(void)cls;
	return !strcmp(j->key, "cached");
}

static void tmpl(struct render_job *t, const char *key)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->key, sizeof(t->key), "%s", key);
	t->klen = strlen(key);
}

static void wait_started(void)
{
	pthread_mutex_lock(&lock);
	while (!started)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static void go(void)
{
	pthread_mutex_lock(&lock);
	release = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

int main(void)
{
	struct render_pool *p = NULL;
	struct render_job t, *jobs[5] = {0}, *b = NULL, *c = NULL;
	struct render_pool_stats st;
	struct hub_err err = {0};
	bool joined;
	int njoined = 0;

	ok(render_pool_start(&p, 1, 1, run, cached, NULL, &err) == 0, "pool of 1 worker, queue 1");
	tmpl(&t, "a");
	for (int i = 0; i < 5; i++) {
		ok(render_pool_submit(p, &t, &jobs[i], &joined, &err) == 0, "submit a #%d", i + 1);
		njoined += joined;
	}
	ok(njoined == 4 && jobs[0] == jobs[4], "four joined the first");
	wait_started();
	tmpl(&t, "b");
	ok(render_pool_submit(p, &t, &b, &joined, &err) == 0 && !joined, "b queued behind a");
	tmpl(&t, "c");
	ok(render_pool_submit(p, &t, &c, &joined, &err) == HUB_EBUSY && !c, "c: queue full, EBUSY");
	tmpl(&t, "cached");
	ok(render_pool_submit(p, &t, &c, &joined, &err) == 1 && !c, "cached: nothing queued");
	render_pool_stats(p, &st);
	ok(st.running == 1 && st.queued == 1 && st.rejected == 1 && st.joined == 4, "stats");
	ok(!render_job_done(jobs[0]), "a is still running");
	go();
	render_job_join(jobs[0]);
	render_job_join(b);
	ok(render_job_done(jobs[0]) && jobs[0]->rc == 0 && !strcmp(jobs[0]->blob, "done-a"),
	   "a done once for all");
	ok(!strcmp(b->blob, "done-b"), "b done");
	ok(runs == 2, "two renders for seven requests");
	for (int i = 0; i < 5; i++)
		render_job_put(jobs[i]);
	render_job_put(b);

	/* stopping: running work finishes, queued work fails with EBUSY */
	release = false;
	started = false;
	tmpl(&t, "d");
	ok(render_pool_submit(p, &t, &jobs[0], &joined, &err) == 0, "d submitted");
	wait_started();
	tmpl(&t, "e");
	ok(render_pool_submit(p, &t, &b, &joined, &err) == 0, "e queued");
	go();
	render_job_join(jobs[0]);
	render_pool_stop(NULL);
	ok(jobs[0]->rc == 0, "d finished");
	render_job_join(b);
	ok(b->rc == 0 || b->rc == HUB_EBUSY, "e finished or failed busy");
	render_job_put(jobs[0]);
	render_job_put(b);
	render_pool_stop(p);
	return tap_done();
}
