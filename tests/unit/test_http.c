/* Tests of the shared HTTP layer: a real server on a loopback port, driven
 * with curl. */
#include "auth.h"
#include "buf.h"
#include "err.h"
#include "hash.h"
#include "http.h"
#include "tap.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct http_waitq *waitq;
static struct http_shared *shared, *shared_fd;
static char base[64];

static int h_echo(struct http_req *req)
{
	json_t *j = json_pack("{s:s?,s:s?,s:s?,s:s?}", "sku", http_param(req, "sku"), "locale",
			      http_query(req, "locale"), "rest", http_param(req, "rest"), "q",
			      http_filter(req, "q"));

	http_reply_json(req, 200, j);
	json_decref(j);
	return 0;
}

static int h_body(struct http_req *req)
{
	size_t len;
	const char *b = http_body(req, &len);
	char msg[64];

	snprintf(msg, sizeof(msg), "%zu", b ? len : 0);
	return http_reply_bytes(req, 200, "text/plain", msg, strlen(msg));
}

static int on_stream(struct http_req *req, const char *data, size_t len)
{
	size_t *n = http_ctx(req);

	(void)data;
	if (!n) {
		n = calloc(1, sizeof(*n));
		http_set_ctx(req, n, free);
	}
	*n += len;
	return 0;
}

static int h_stream(struct http_req *req)
{
	size_t *n = http_ctx(req);
	char msg[64];

	snprintf(msg, sizeof(msg), "%zu", n ? *n : 0);
	return http_reply_bytes(req, 200, "text/plain", msg, strlen(msg));
}

static int h_invalid(struct http_req *req)
{
	json_t *errors = json_pack("[{s:s,s:s}]", "path", "/values/name", "code", "too_long");

	http_reply_problem(req, 422, "the product has 1 problem", errors);
	json_decref(errors);
	return 0;
}

static int h_slow(struct http_req *req)
{
	usleep(400 * 1000);
	return http_reply_bytes(req, 200, "text/plain", "done", 4);
}

static int h_wait(struct http_req *req)
{
	if (!http_resumed(req) && http_park(req, waitq, 3000))
		return 0;
	return http_reply_bytes(req, 200, "text/plain", "woken", 5);
}

/* Woken before it returns, as a long-poll is when the event it waits for
 * comes between its check and its park. */
static int h_wait_woken(struct http_req *req)
{
	if (!http_resumed(req) && http_park(req, waitq, 3000)) {
		http_waitq_wake(waitq);
		return 0;
	}
	return http_reply_bytes(req, 200, "text/plain", "woken", 5);
}

static int h_shared(struct http_req *req)
{
	return http_reply_shared(req, http_shared_ref(shared));
}

static int h_shared_fd(struct http_req *req)
{
	return http_reply_shared(req, http_shared_ref(shared_fd));
}

/* http_offload: a body callback's work waits for a GET that the server's
 * only epoll thread can answer only if that work runs elsewhere. */
static pthread_mutex_t ping_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ping_cond = PTHREAD_COND_INITIALIZER;
static bool pinged;

struct heavy {
	bool met;           /* the body's work saw the ping */
	bool offloaded;     /* the handler's work ran on another thread */
	pthread_t handler;  /* the thread the handler first ran on */
	pthread_t last;     /* the thread the handler's work ran on */
};

static int h_ping(struct http_req *req)
{
	pthread_mutex_lock(&ping_mu);
	pinged = true;
	pthread_cond_broadcast(&ping_cond);
	pthread_mutex_unlock(&ping_mu);
	return http_reply_bytes(req, 200, "text/plain", "pong", 4);
}

static void heavy_body(struct http_req *req, void *arg)
{
	struct heavy *h = arg;
	struct timespec until;

	(void)req;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&ping_mu);
	while (!pinged && pthread_cond_timedwait(&ping_cond, &ping_mu, &until) == 0)
		;
	h->met = pinged;
	pthread_mutex_unlock(&ping_mu);
}

static void heavy_last(struct http_req *req, void *arg)
{
	struct heavy *h = arg;

	(void)req;
	h->last = pthread_self();
}

static int on_heavy(struct http_req *req, const char *data, size_t len)
{
	struct heavy *h = http_ctx(req);

	(void)data;
	(void)len;
	if (h)
		return 0;
	h = calloc(1, sizeof(*h));
	http_set_ctx(req, h, free);
	if (!http_offload(req, heavy_body, h))
		heavy_body(req, h);
	return 0;
}

static int h_heavy(struct http_req *req)
{
	struct heavy *h = http_ctx(req);
	char msg[64];

	if (!h)
		return http_reply_bytes(req, 400, "text/plain", "no body", 7);
	if (!http_resumed(req)) {
		h->handler = pthread_self();
		if (http_offload(req, heavy_last, h))
			return 0;
		heavy_last(req, h);
	}
	snprintf(msg, sizeof(msg), "%s %s", h->met ? "met" : "alone",
		 http_resumed(req) && !pthread_equal(h->last, h->handler) ? "offloaded" : "inline");
	return http_reply_bytes(req, 200, "text/plain", msg, strlen(msg));
}

/* http_offload_release: the body's first part is worked on until the
 * rest has arrived, which only a released request can receive. */
struct early {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool started, more, done; /* first work begun; more body seen; work ended */
	bool overlapped;          /* the work saw more of the body */
};

static void early_free(void *p)
{
	struct early *e = p;

	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cond);
	free(e);
}

static void early_work(struct http_req *req, void *arg)
{
	struct early *e = arg;
	struct timespec until;

	http_offload_release(req);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&e->mu);
	while (!e->more && pthread_cond_timedwait(&e->cond, &e->mu, &until) == 0)
		;
	e->overlapped = e->more;
	e->done = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
}

/* Waits on a work thread for early_work, which is running by then. */
static void early_join(struct http_req *req, void *arg)
{
	struct early *e = arg;

	(void)req;
	pthread_mutex_lock(&e->mu);
	while (!e->done)
		pthread_cond_wait(&e->cond, &e->mu);
	pthread_mutex_unlock(&e->mu);
}

static int on_early(struct http_req *req, const char *data, size_t len)
{
	struct early *e = http_ctx(req);

	(void)data;
	(void)len;
	if (!e) {
		e = calloc(1, sizeof(*e));
		pthread_mutex_init(&e->mu, NULL);
		pthread_cond_init(&e->cond, NULL);
		http_set_ctx(req, e, early_free);
	}
	pthread_mutex_lock(&e->mu);
	if (e->started) {
		e->more = true;
		pthread_cond_broadcast(&e->cond);
	}
	e->started = true;
	pthread_mutex_unlock(&e->mu);
	if (!e->more && !http_offload(req, early_work, e))
		return http_reply_bytes(req, 500, "text/plain", "no work threads", 15);
	return 0;
}

static int h_early(struct http_req *req)
{
	struct early *e = http_ctx(req);
	const char *msg;

	if (!http_resumed(req) && http_offload(req, early_join, e))
		return 0;
	msg = e->overlapped ? "overlapped" : "in turn";
	return http_reply_bytes(req, 200, "text/plain", msg, strlen(msg));
}

static const struct http_route routes[] = {
	{"GET", "/v1/products/{sku}", h_echo, HTTP_PUBLIC_READ, NULL, 0},
	{"PUT", "/v1/products/{sku}", h_body, ROLE_MERCHANDISER, NULL, 1024},
	{"POST", "/v1/assets", h_stream, ROLE_DESIGNER, on_stream, 1u << 30},
	{"GET", "/v1/invalid", h_invalid, HTTP_PUBLIC, NULL, 0},
	{"GET", "/v1/slow", h_slow, HTTP_PUBLIC, NULL, 0},
	{"GET", "/v1/wait", h_wait, HTTP_PUBLIC, NULL, 0},
	{"GET", "/v1/wait-woken", h_wait_woken, HTTP_PUBLIC, NULL, 0},
	{"GET", "/files/{rest*}", h_echo, HTTP_PUBLIC, NULL, 0},
	{"GET", "/v1/shared", h_shared, HTTP_PUBLIC, NULL, 0},
	{"GET", "/v1/shared-fd", h_shared_fd, HTTP_PUBLIC, NULL, 0},
	{"GET", "/v1/ping", h_ping, HTTP_PUBLIC, NULL, 0},
	{"POST", "/v1/heavy", h_heavy, HTTP_PUBLIC, on_heavy, 1024},
	{"POST", "/v1/early", h_early, HTTP_PUBLIC, on_early, 1u << 20},
};

/* Runs a shell command and returns its first line of output (static). */
static const char *sh(const char *fmt, ...)
{
	static _Thread_local char out[4096]; /* the background requests run it too */
	char cmd[2048];
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = 0;
	if (p)
		pclose(p);
	out[strcspn(out, "\n")] = 0;
	return out;
}

struct bg {
	pthread_t t;
	char cmd[512];
	char out[256];
};

static void *bg_main(void *arg)
{
	struct bg *b = arg;

	snprintf(b->out, sizeof(b->out), "%s", sh("%s", b->cmd));
	return NULL;
}

#define CURL "curl -s -m 10 "
#define CODE "-o /dev/null -w '%%{http_code}' "

int main(void)
{
	char dir[] = "/tmp/hub-http-XXXXXX", token[HASH_SHA256_HEX];
	struct http_options o = {.name = "test", .listen = "127.0.0.1:0", .threads = 2};
	struct http_server *srv = NULL;
	struct hub_err err = {0};
	struct auth *auth = NULL;
	struct bg slow, wait, heavy;
	const char *r;

	ok(mkdtemp(dir) != NULL, "temp dir");
	ok(auth_open(&auth, dir, "admintok", &err) == 0, "auth");
	auth_create(auth, "shop", ROLE_READER, token, &err);
	o.auth = auth;
	waitq = http_waitq_new();
	shared = http_shared_new("text/plain", strdup("same bytes"), 10);
	http_shared_set_header(shared, "ETag", "\"s1\"");
	{
		/* 300 KB of numbered lines, so that a body sent from the wrong
		 * offset shows */
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "%s/file", dir);
		sh("seq 1 50000 > %s", path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		shared_fd = fd >= 0 ? http_shared_new_fd("text/plain", fd, 288894) : NULL;
		ok(shared_fd != NULL, "a shared reply of a file");
		http_shared_set_header(shared_fd, "ETag", "\"f1\"");
		unlink(path); /* the reply keeps it open */
	}
	ok(http_server_start(&srv, &o, routes, sizeof(routes) / sizeof(routes[0]), &err) == 0,
	   "server starts on port 0: %s", err.msg);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", http_server_port(srv));
	{
		/* a second daemon on a taken port must fail, not share the traffic */
		struct http_options o2 = o;
		struct http_server *other = NULL;
		char listen[64];

		snprintf(listen, sizeof(listen), "127.0.0.1:%d", http_server_port(srv));
		o2.listen = listen;
		ok(http_server_start(&other, &o2, routes, 1, &err) < 0 && strstr(err.msg, "cannot listen"),
		   "a taken port is refused: %s", err.msg);
		if (other)
			http_server_stop(other, 0);
	}

	r = sh(CURL "'%s/v1/products/TS%%2D1?locale=fr_FR'", base);
	ok(strstr(r, "\"sku\":\"TS-1\"") && strstr(r, "\"locale\":\"fr_FR\""), "path parameter and query: %s", r);
	r = sh(CURL "'%s/v1/products/X?q='", base);
	ok(strstr(r, "\"q\":null") != NULL, "an empty filter is no filter: %s", r);
	r = sh(CURL "'%s/v1/products/X?q=mug'", base);
	ok(strstr(r, "\"q\":\"mug\"") != NULL, "a filter with a value: %s", r);
	r = sh(CURL "%s/files/a/b/c.txt", base);
	ok(strstr(r, "\"rest\":\"a/b/c.txt\""), "a rest parameter takes the slashes: %s", r);
	ok(!strcmp(sh(CURL CODE "%s/v1/nothing", base), "404"), "unknown path is 404");
	ok(!strcmp(sh(CURL CODE "-X DELETE %s/v1/products/X", base), "405"), "known path, wrong method is 405");
	r = sh(CURL "-D - -o /dev/null -X DELETE %s/v1/products/X | grep -i '^allow:' | tr -d '\r'", base);
	ok(!strcmp(r, "Allow: GET, HEAD, PUT"), "a 405 says what the path allows: %s", r);
	ok(!strcmp(sh(CURL CODE "%s/v1/products/X%%00Y", base), "400"), "%%00 in a path is 400, not X");
	ok(!strcmp(sh(CURL CODE "%s/v1/products/X%%FFY", base), "400"), "a path that is not UTF-8 is 400");
	r = sh(CURL "'%s/v1/products/Caf%%C3%%A9'", base);
	ok(strstr(r, "\"sku\":\"Café\"") != NULL, "a UTF-8 path is decoded: %s", r);
	ok(!strcmp(sh(CURL CODE "-I %s/v1/products/X", base), "200"), "HEAD answers where GET does");
	r = sh(CURL "-D - -o /dev/null %s/v1/nothing | grep -i '^content-type' | tr -d '\\r'", base);
	ok(strstr(r, "application/problem+json") != NULL, "errors are problem+json: %s", r);
	r = sh(CURL "-i %s/v1/shared %s/v1/shared | tr -d '\\r' | grep -c -e '^ETag: \"s1\"$' "
		"-e '^Access-Control-Allow-Origin: \\*$' -e '^Content-Type: text/plain$' -e '^same bytes'", base, base);
	ok(!strcmp(r, "8"), "a shared reply answers request after request, headers and all: %s", r);
	ok(!strcmp(sh(CURL CODE "-I %s/v1/shared", base), "200"), "and HEAD");
	/* many connections at once on one file reply: each gets every byte */
	r = sh("for i in $(seq 12); do " CURL "%s/v1/shared-fd | cksum & done | sort | uniq -c | "
	       "sed 's/^ *//'", base);
	ok(!strcmp(r, sh("echo \"12 $(seq 1 50000 | cksum)\"")), "a shared file reply on 12 connections at once: %s", r);
	r = sh(CURL "-i %s/v1/shared-fd | tr -d '\r' | grep -c -e '^ETag: \"f1\"$' "
		"-e '^Content-Type: text/plain$' -e '^Content-Length: 288894$'", base);
	ok(!strcmp(r, "3"), "with its headers: %s", r);
	r = sh(CURL "%s/v1/invalid", base);
	ok(strstr(r, "\"status\":422") && strstr(r, "\"errors\":[{\"path\":\"/values/name\""),
	   "problem carries status and field errors: %s", r);

	ok(!strcmp(sh(CURL CODE "-X PUT -d '{}' %s/v1/products/X", base), "401"), "no token is 401");
	ok(!strcmp(sh(CURL CODE "-X PUT -H 'Authorization: Bearer nope' -d '{}' %s/v1/products/X", base), "401"),
	   "unknown token is 401");
	ok(!strcmp(sh(CURL CODE "-X PUT -H 'Authorization: Bearer %s' -d '{}' %s/v1/products/X", token, base), "403"),
	   "reader token on a merchandiser route is 403");
	ok(!strcmp(sh(CURL "-X PUT -H 'Authorization: Bearer admintok' -d '{\"a\":1}' %s/v1/products/X", base), "7"),
	   "admin may do anything; body buffered");
	ok(!strcmp(sh(CURL CODE "-X PUT -H 'Authorization: Bearer admintok' -H 'Content-Type: text/plain' "
		      "-d '{}' %s/v1/products/X", base), "415"), "a body declared as text: 415");
	ok(!strcmp(sh(CURL CODE "-X PUT -H 'Authorization: Bearer admintok' -H 'Content-Type: application/xml' "
		      "-d '{}' %s/v1/products/X", base), "415"), "a body declared as XML: 415");
	ok(!strcmp(sh(CURL "-X PUT -H 'Authorization: Bearer admintok' "
		      "-H 'Content-Type: application/merge-patch+json; charset=utf-8' -d '{}' %s/v1/products/X", base), "2"),
	   "application/merge-patch+json with a parameter is JSON");
	ok(!strcmp(sh("head -c 5000 /dev/zero | " CURL CODE "-X PUT -H 'Authorization: Bearer admintok' --data-binary @- %s/v1/products/X", base), "413"),
	   "body over the route's limit is 413 (Content-Length)");
	ok(!strcmp(sh("head -c 5000 /dev/zero | " CURL CODE "-X PUT -H 'Transfer-Encoding: chunked' -H 'Authorization: Bearer admintok' --data-binary @- %s/v1/products/X", base), "413"),
	   "body over the route's limit is 413 (chunked)");
	r = sh("head -c 50000000 /dev/zero | " CURL "-X POST -H 'Authorization: Bearer admintok' --data-binary @- %s/v1/assets", base);
	ok(!strcmp(r, "50000000"), "a streamed body reaches its callback whole: %s", r);

	/* long-poll: parked until woken */
	snprintf(wait.cmd, sizeof(wait.cmd), CURL "%s/v1/wait", base);
	pthread_create(&wait.t, NULL, bg_main, &wait);
	usleep(300 * 1000);
	http_waitq_wake(waitq);
	pthread_join(wait.t, NULL);
	ok(!strcmp(wait.out, "woken"), "a parked request answers when woken: %s", wait.out);
	r = sh(CURL "%s/v1/wait-woken", base);
	ok(!strcmp(r, "woken"), "and when woken before its handler returns: %s", r);

	{
		/* work off the epoll thread: on a server with one, a request whose
		 * body's work waits for another request still gets both answered */
		struct http_options o1 = o;
		struct http_server *one = NULL;
		char url[64];

		o1.threads = 1;
		o1.work_threads = 1;
		err = (struct hub_err){0};
		ok(http_server_start(&one, &o1, routes, sizeof(routes) / sizeof(routes[0]), &err) == 0,
		   "a server with one epoll thread and a work thread: %s", err.msg);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d", one ? http_server_port(one) : 0);
		snprintf(heavy.cmd, sizeof(heavy.cmd), CURL "-d x %s/v1/heavy", url);
		pthread_create(&heavy.t, NULL, bg_main, &heavy);
		usleep(200 * 1000);
		r = sh("curl -s -m 3 %s/v1/ping", url);
		ok(!strcmp(r, "pong"), "a request is answered while another's body is worked on: %s", r);
		pthread_join(heavy.t, NULL);
		ok(!strcmp(heavy.out, "met offloaded"),
		   "the body's work ran beside it, the handler's on a work thread and the handler again: %s",
		   heavy.out);
		r = sh("seq 1 50000 > %s/early && " CURL "-H 'Content-Type: text/plain' --data-binary @%s/early %s/v1/early",
		       dir, dir, url);
		ok(!strcmp(r, "overlapped"), "a released request receives its body while its work goes on: %s", r);
		http_server_stop(one, 1000);
	}

	r = sh(CURL "%s/metrics | grep 'route=\"GET /v1/products/{sku}\",status=\"200\"' | head -1", base);
	ok(strstr(r, "test_http_requests_total") != NULL, "metrics count by route and status: %s", r);
	r = sh(CURL "%s/metrics | grep -c '_bucket{route=\"PUT /v1/products/{sku}\",status=\"413\"'", base);
	ok(atoi(r) > 5, "latency histogram per route and status");

	/* graceful stop: an in-flight request still gets its answer */
	snprintf(slow.cmd, sizeof(slow.cmd), CURL "%s/v1/slow", base);
	pthread_create(&slow.t, NULL, bg_main, &slow);
	usleep(150 * 1000);
	http_server_stop(srv, 5000);
	pthread_join(slow.t, NULL);
	ok(!strcmp(slow.out, "done"), "in-flight request finished during shutdown: %s", slow.out);
	ok(!strcmp(sh(CURL CODE "%s/healthz", base), "000"), "no longer listening after stop");

	http_waitq_free(waitq);
	http_shared_unref(shared);
	http_shared_unref(shared_fd);
	auth_close(auth);
	sh("rm -rf %s", dir);
	return tap_done();
}
