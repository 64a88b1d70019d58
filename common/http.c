#include "fmacros.h"
#include "http.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <strings.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEGMENTS 16
#define MAX_PARAMS 8
#define MAX_HEADERS 12
#define STATUS_SLOTS 12
#define DEFAULT_JSON_LIMIT (16u << 20)

/* Latency histogram bucket bounds, in microseconds. */
static const uint64_t bucket_us[] = {250,   500,    1000,   2500,   5000,    10000,
				     25000, 50000,  100000, 250000, 1000000, 5000000};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

/* Requests are counted apart by each of up to STAT_SHARDS threads and summed
 * when read: counters that every thread bumps for every request would move
 * their cache line from core to core each time. */
#define STAT_SHARDS 8
#define CACHE_LINE 64

struct status_counts {
	_Atomic uint64_t count, sum_us;
	_Atomic uint64_t buckets[NBUCKETS];
};

struct route_entry {
	struct http_route r;
	int nseg;
	const char *seg[MAX_SEGMENTS]; /* into pattern_copy */
	bool rest;                     /* last segment is "{x*}" */
	char *pattern_copy;
	char label[128];
	size_t idx;                       /* in the server's counters */
	_Atomic int codes[STATUS_SLOTS];  /* the status of each slot; 0: free */
};

struct stat_shard {
	_Alignas(CACHE_LINE) _Atomic int inflight;
	struct status_counts *counts; /* [route idx][status slot], its own lines */
};

struct http_server {
	struct MHD_Daemon *mhd;
	struct http_options opt;
	struct route_entry *routes;
	size_t nroutes;
	struct route_entry unmatched;
	int port;
	int nshards;
	struct stat_shard *shards;
	_Atomic bool stopping;
	pthread_t ticker;
	/* http_offload's threads and their queue */
	pthread_mutex_t work_mu;
	pthread_cond_t work_cond;
	struct http_req *work_head, *work_tail;
	bool work_stop;
	int nworkers;
	pthread_t *workers;
};

enum req_state { REQ_NEW, REQ_BODY, REQ_HANDLING, REQ_REPLIED };

struct http_req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct route_entry *route;
	enum req_state state;
	const char *method;
	const char *pname[MAX_PARAMS], *pval[MAX_PARAMS];
	int nparams;
	struct timespec start;
	int role;
	char user[64];
	struct buf body;
	bool has_body, failed, resumed, parked;
	bool offloaded; /* suspended while a work thread runs work_fn */
	void (*work_fn)(struct http_req *, void *);
	void *work_arg;
	struct http_req *work_next;
	struct MHD_Response *resp;
	struct http_shared *shared; /* resp is shared's: unref, not destroy */
	int status;
	const char *hname[MAX_HEADERS];
	char *hval[MAX_HEADERS];
	int nheaders;
	void *ctx;
	void (*ctx_free)(void *);
	/* long-poll */
	struct http_waitq *waitq;
	struct http_req *wnext;
	int64_t deadline_ms;
	/* not zeroed on allocation: always written before being read */
	struct hub_err fail_err; /* read only when failed is set */
	char path[2048];
	char segbuf[2048];
};

struct http_waitq {
	pthread_mutex_t lock;
	struct http_req *parked;
	struct http_waitq *next; /* registry of all queues, for the ticker */
};

static pthread_mutex_t waitq_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_waitq *waitq_registry;
static _Atomic bool server_stopping;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- routing ---- */

static int split_path(char *p, const char **seg, int max)
{
	int n = 0;

	while (*p == '/')
		p++;
	while (*p) {
		if (n == max)
			return -1;
		seg[n++] = p;
		while (*p && *p != '/')
			p++;
		if (*p)
			*p++ = 0;
	}
	return n;
}

static int route_compile(struct route_entry *e, const struct http_route *r)
{
	size_t n;

	e->r = *r;
	e->pattern_copy = strdup(r->pattern);
	if (!e->pattern_copy)
		return HUB_ENOMEM;
	snprintf(e->label, sizeof(e->label), "%s %s", r->method, r->pattern);
	e->nseg = split_path(e->pattern_copy, e->seg, MAX_SEGMENTS);
	if (e->nseg < 0)
		return HUB_EINVAL;
	n = e->nseg ? strlen(e->seg[e->nseg - 1]) : 0;
	e->rest = n > 3 && !strcmp(e->seg[e->nseg - 1] + n - 2, "*}");
	return 0;
}

static bool is_param(const char *seg)
{
	return seg[0] == '{';
}

/* Matches the request's segments against a route, filling its params. */
static bool route_match(struct http_req *req, struct route_entry *e, const char **seg,
			int nseg)
{
	int np = 0;

	if (e->rest ? nseg < e->nseg - 1 : nseg != e->nseg)
		return false;
	for (int i = 0; i < e->nseg; i++) {
		const char *ps = e->seg[i];

		if (e->rest && i == e->nseg - 1) {
			/* the rest of the path, slashes included */
			req->pname[np] = ps;
			req->pval[np++] = i < nseg ? req->path + (seg[i] - req->segbuf) : "";
			break;
		}
		if (is_param(ps)) {
			if (np == MAX_PARAMS || !*seg[i])
				return false;
			req->pname[np] = ps;
			req->pval[np++] = seg[i];
		} else if (strcmp(ps, seg[i])) {
			return false;
		}
	}
	req->nparams = np;
	return true;
}

static bool method_matches(const char *route_method, const char *method)
{
	return !strcmp(route_method, method) ||
	       (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

/* Finds the route; *path_known tells a 405 from a 404, and allow (len
 * bytes, may be NULL) receives the methods the path takes, for a 405's
 * Allow header. */
static struct route_entry *route_find(struct http_req *req, bool *path_known, char *allow,
				      size_t len)
{
	const char *seg[MAX_SEGMENTS + 1];
	int nseg;

	*path_known = false;
	if (allow)
		*allow = 0;
	memcpy(req->segbuf, req->path, strlen(req->path) + 1);
	nseg = split_path(req->segbuf, seg, MAX_SEGMENTS);
	if (nseg < 0)
		return NULL;
	for (size_t i = 0; i < req->srv->nroutes; i++) {
		struct route_entry *e = &req->srv->routes[i];

		if (!route_match(req, e, seg, nseg))
			continue;
		if (method_matches(e->r.method, req->method))
			return e;
		/* a catch-all such as the UI's "/{path*}" does not make every path known */
		if (!(e->rest && e->nseg == 1)) {
			*path_known = true;
			if (allow && !strstr(allow, e->r.method)) {
				size_t used = strlen(allow);

				snprintf(allow + used, len - used, "%s%s%s", used ? ", " : "",
					 e->r.method, strcmp(e->r.method, "GET") ? "" : ", HEAD");
			}
		}
	}
	req->nparams = 0;
	return NULL;
}

/* ---- metrics ---- */

static _Atomic unsigned thread_seq;
static _Thread_local unsigned thread_no; /* 1 + order of first use; 0: none yet */

static struct stat_shard *my_shard(struct http_server *s)
{
	if (!thread_no)
		thread_no = atomic_fetch_add(&thread_seq, 1) + 1;
	return &s->shards[(thread_no - 1) % (unsigned)s->nshards];
}

static void stats_record(struct http_server *srv, struct route_entry *e, int status, uint64_t us)
{
	struct status_counts *c;
	int slot = STATUS_SLOTS - 1; /* out of slots: lumped into the last */

	for (int i = 0; i < STATUS_SLOTS; i++) {
		int expect = 0;

		if (e->codes[i] == status ||
		    atomic_compare_exchange_strong(&e->codes[i], &expect, status) ||
		    e->codes[i] == status) {
			slot = i;
			break;
		}
	}
	c = &my_shard(srv)->counts[e->idx * STATUS_SLOTS + slot];
	atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->sum_us, us, memory_order_relaxed);
	/* one counter per observation; /metrics makes them cumulative */
	for (size_t b = 0; b < NBUCKETS; b++) {
		if (us <= bucket_us[b]) {
			atomic_fetch_add_explicit(&c->buckets[b], 1, memory_order_relaxed);
			break;
		}
	}
}

static void stats_write(struct buf *out, struct http_server *srv, struct route_entry *e)
{
	const char *name = srv->opt.name;

	for (int i = 0; i < STATUS_SLOTS; i++) {
		struct {
			uint64_t count, sum_us, buckets[NBUCKETS];
		} sum = {0};
		int code = e->codes[i];

		for (int k = 0; k < srv->nshards; k++) {
			struct status_counts *c = &srv->shards[k].counts[e->idx * STATUS_SLOTS + i];

			sum.count += c->count;
			sum.sum_us += c->sum_us;
			for (size_t b = 0; b < NBUCKETS; b++)
				sum.buckets[b] += c->buckets[b];
		}
		if (!code || !sum.count)
			continue;
		buf_addf(out, "%s_http_requests_total{route=\"%s\",status=\"%d\"} %lu\n", name,
			 e->label, code, (unsigned long)sum.count);
		uint64_t cumulative = 0;

		for (size_t b = 0; b < NBUCKETS; b++) {
			cumulative += sum.buckets[b];
			buf_addf(out,
				 "%s_http_request_duration_seconds_bucket{route=\"%s\",status=\"%d\",le=\"%g\"} %lu\n",
				 name, e->label, code, bucket_us[b] / 1e6, (unsigned long)cumulative);
		}
		buf_addf(out,
			 "%s_http_request_duration_seconds_bucket{route=\"%s\",status=\"%d\",le=\"+Inf\"} %lu\n"
			 "%s_http_request_duration_seconds_sum{route=\"%s\",status=\"%d\"} %.6f\n"
			 "%s_http_request_duration_seconds_count{route=\"%s\",status=\"%d\"} %lu\n",
			 name, e->label, code, (unsigned long)sum.count, name, e->label, code,
			 sum.sum_us / 1e6, name, e->label, code, (unsigned long)sum.count);
	}
}

static int inflight(struct http_server *s)
{
	int n = 0;

	for (int k = 0; k < s->nshards; k++)
		n += s->shards[k].inflight;
	return n;
}

static int handle_metrics(struct http_req *req)
{
	struct http_server *s = req->srv;
	const char *n = s->opt.name;
	struct buf out = BUF_INIT;
	char *body;
	size_t len;

	buf_addf(&out, "# HELP %s_http_requests_total HTTP requests by route and status.\n"
		       "# TYPE %s_http_requests_total counter\n"
		       "# HELP %s_http_request_duration_seconds Time from request to completion.\n"
		       "# TYPE %s_http_request_duration_seconds histogram\n",
		 n, n, n, n);
	for (size_t i = 0; i < s->nroutes; i++)
		stats_write(&out, s, &s->routes[i]);
	stats_write(&out, s, &s->unmatched);
	buf_addf(&out, "# HELP %s_http_inflight Requests being handled now.\n"
		       "# TYPE %s_http_inflight gauge\n%s_http_inflight %d\n",
		 n, n, n, inflight(s));
	if (s->opt.metrics_hook)
		s->opt.metrics_hook(&out, s->opt.app);
	body = buf_detach(&out, &len);
	return http_reply_owned(req, 200, "text/plain; version=0.0.4", body, len);
}

static int handle_healthz(struct http_req *req)
{
	json_t *j = json_pack("{s:s,s:s}", "status", "ok", "service", req->srv->opt.name);

	http_set_header(req, "Cache-Control", "no-store");
	http_reply_json(req, 200, j);
	json_decref(j);
	return 0;
}

/* ---- tokens ---- */

static int handle_tokens_list(struct http_req *req)
{
	json_t *items = json_array(), *j;

	auth_list(req->srv->opt.auth, items);
	j = json_pack("{s:o,s:n}", "items", items, "next_cursor");
	http_reply_json(req, 200, j);
	json_decref(j);
	return 0;
}

/* The calling token's name and role, for a UI to offer only what the role
 * may do. */
static int handle_tokens_self(struct http_req *req)
{
	json_t *j = json_pack("{s:s,s:s}", "name", req->user, "role", auth_role_name(req->role));

	http_set_header(req, "Cache-Control", "no-store");
	http_reply_json(req, 200, j);
	json_decref(j);
	return 0;
}

static int handle_tokens_create(struct http_req *req)
{
	struct hub_err err = {0};
	size_t len;
	const char *body = http_body(req, &len);
	json_t *doc = body ? json_parse(body, len, &err) : NULL, *j;
	const char *name = json_get_str(doc, "name"), *role = json_get_str(doc, "role");
	char token[HASH_SHA256_HEX];

	if (!doc && body)
		goto fail;
	if (!name || !role) {
		hub_err_set(&err, HUB_EINVALID, "a token needs a \"name\" and a \"role\"");
		goto fail;
	}
	if (auth_create(req->srv->opt.auth, name, auth_role_parse(role), token, &err) < 0)
		goto fail;
	j = json_pack("{s:s,s:s,s:s}", "name", name, "role", role, "token", token);
	http_reply_json(req, 201, j);
	json_decref(j);
	json_decref(doc);
	return 0;
fail:
	json_decref(doc);
	if (!err.code)
		hub_err_set(&err, HUB_EINVAL, "a JSON body is required");
	return http_reply_err(req, &err);
}

static int handle_tokens_delete(struct http_req *req)
{
	struct hub_err err = {0};

	if (auth_revoke(req->srv->opt.auth, http_param(req, "name"), &err) < 0)
		return http_reply_err(req, &err);
	return http_reply_empty(req, 204);
}

static const struct http_route builtin_routes[] = {
	{"GET", "/healthz", handle_healthz, HTTP_PUBLIC, NULL, 0},
	{"GET", "/metrics", handle_metrics, HTTP_PUBLIC, NULL, 0},
	{"GET", "/v1/tokens", handle_tokens_list, ROLE_ADMIN, NULL, 0},
	{"GET", "/v1/tokens/self", handle_tokens_self, HTTP_ANY_ROLE, NULL, 0},
	{"POST", "/v1/tokens", handle_tokens_create, ROLE_ADMIN, NULL, 0},
	{"DELETE", "/v1/tokens/{name}", handle_tokens_delete, ROLE_ADMIN, NULL, 0},
};

/* ---- replies ---- */

static const char *status_title(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 451: return "Unavailable For Legal Reasons";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

void http_set_header(struct http_req *req, const char *name, const char *value)
{
	for (int i = 0; i < req->nheaders; i++) {
		if (!strcasecmp(req->hname[i], name)) {
			free(req->hval[i]);
			req->hval[i] = strdup(value);
			return;
		}
	}
	if (req->nheaders == MAX_HEADERS)
		return;
	req->hname[req->nheaders] = name;
	req->hval[req->nheaders++] = strdup(value);
}

/* The header every reply carries. */
static void add_cors(struct MHD_Response *resp)
{
	/* the UI served by pimd calls damd too; tokens travel in headers, not
	 * cookies, so any origin is safe */
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
}

static void resp_drop(struct http_req *req)
{
	if (req->shared)
		http_shared_unref(req->shared);
	else if (req->resp)
		MHD_destroy_response(req->resp);
	req->shared = NULL;
	req->resp = NULL;
}

static int reply_set(struct http_req *req, int status, const char *ctype,
		     struct MHD_Response *resp)
{
	if (!resp) {
		/* out of memory or bad fd: nothing else can be sent */
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = 500;
	}
	resp_drop(req);
	req->resp = resp;
	req->status = status;
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	for (int i = 0; i < req->nheaders; i++)
		if (req->hval[i])
			MHD_add_response_header(resp, req->hname[i], req->hval[i]);
	add_cors(resp);
	req->state = REQ_REPLIED;
	return 0;
}

/* A libmicrohttpd response counts the connections it is queued on but has no
 * call to take a reference before queueing; refs covers that gap: the
 * response's own first reference is dropped when refs falls to zero, and
 * libmicrohttpd frees the body once no connection sends it any more. */
struct http_shared {
	_Atomic unsigned refs;
	struct MHD_Response *resp;
	char *data;
	size_t len;
	bool is_fd; /* libmicrohttpd closes the fd; sh itself is freed by unref */
};

static void shared_free(void *cls)
{
	struct http_shared *sh = cls;

	free(sh->data);
	free(sh);
}

/* The rest of a new shared reply once its response exists: one reference,
 * its body (NULL for a file) and the headers every reply carries. */
static struct http_shared *shared_init(struct http_shared *sh, const char *ctype, char *data,
				       size_t len, bool is_fd)
{
	atomic_init(&sh->refs, 1);
	sh->data = data;
	sh->len = len;
	sh->is_fd = is_fd;
	MHD_add_response_header(sh->resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	add_cors(sh->resp);
	return sh;
}

struct http_shared *http_shared_new(const char *ctype, char *data, size_t len)
{
	struct http_shared *sh = malloc(sizeof(*sh));

	if (sh)
		sh->resp = MHD_create_response_from_buffer_with_free_callback_cls(len, data,
										   shared_free, sh);
	if (!sh || !sh->resp) {
		free(sh);
		free(data);
		return NULL;
	}
	return shared_init(sh, ctype, data, len, false);
}

struct http_shared *http_shared_new_fd(const char *ctype, int fd, uint64_t len)
{
	struct http_shared *sh = malloc(sizeof(*sh));

	/* libmicrohttpd sends fd responses with sendfile (or pread) at explicit
	 * offsets, never moving the file position, so one response may be sent
	 * on many connections at once */
	if (sh)
		sh->resp = MHD_create_response_from_fd_at_offset64(len, fd, 0);
	if (!sh || !sh->resp) {
		free(sh);
		close(fd);
		return NULL;
	}
	return shared_init(sh, ctype, NULL, 0, true);
}

void http_shared_set_header(struct http_shared *sh, const char *name, const char *value)
{
	MHD_add_response_header(sh->resp, name, value);
}

const char *http_shared_body(const struct http_shared *sh, size_t *len)
{
	*len = sh->len;
	return sh->data;
}

struct http_shared *http_shared_ref(struct http_shared *sh)
{
	atomic_fetch_add_explicit(&sh->refs, 1, memory_order_relaxed);
	return sh;
}

void http_shared_unref(struct http_shared *sh)
{
	bool is_fd;

	if (!sh || atomic_fetch_sub_explicit(&sh->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* connections still sending it keep the response (and its fd) alive;
	 * a buffer response may free sh with its body (shared_free) right in
	 * MHD_destroy_response, so is_fd is read before */
	is_fd = sh->is_fd;
	MHD_destroy_response(sh->resp);
	if (is_fd)
		free(sh);
}

int http_reply_shared(struct http_req *req, struct http_shared *sh)
{
	if (!sh)
		return reply_set(req, 500, NULL, NULL);
	resp_drop(req);
	req->shared = sh;
	req->resp = sh->resp;
	req->status = 200;
	req->state = REQ_REPLIED;
	return 0;
}

int http_reply_bytes(struct http_req *req, int status, const char *ctype, const void *data,
		     size_t len)
{
	return reply_set(req, status, ctype,
			 MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY));
}

int http_reply_owned(struct http_req *req, int status, const char *ctype, char *data,
		     size_t len)
{
	return reply_set(req, status, ctype,
			 MHD_create_response_from_buffer_with_free_callback(len, data, free));
}

int http_reply_json(struct http_req *req, int status, const json_t *j)
{
	size_t len;
	char *s = json_dump_compact(j, &len);

	if (!s)
		return reply_set(req, 500, NULL, NULL);
	return http_reply_owned(req, status, "application/json", s, len);
}

int http_reply_empty(struct http_req *req, int status)
{
	return reply_set(req, status, NULL,
			 MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT));
}

int http_reply_fd(struct http_req *req, int status, const char *ctype, int fd, off_t off,
		  uint64_t len)
{
	return reply_set(req, status, ctype, MHD_create_response_from_fd_at_offset64(len, fd, off));
}

int http_reply_stream(struct http_req *req, int status, const char *ctype,
		      ssize_t (*read)(void *cls, uint64_t pos, char *buf, size_t max),
		      void *cls, void (*free_cls)(void *))
{
	return reply_set(req, status, ctype,
			 MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, read, cls,
							   free_cls));
}

struct pages {
	int (*next)(void *cls, const char **data, size_t *len, bool *last);
	void *cls;
	void (*free_cls)(void *);
	const char *data;
	size_t len, off;
	bool last;
};

static ssize_t pages_read(void *p, uint64_t pos, char *out, size_t max)
{
	struct pages *pg = p;
	size_t n;

	(void)pos;
	while (pg->off >= pg->len) {
		if (pg->last)
			return HTTP_STREAM_END;
		pg->off = pg->len = 0;
		if (pg->next(pg->cls, &pg->data, &pg->len, &pg->last) < 0)
			return HTTP_STREAM_ERROR;
	}
	n = pg->len - pg->off;
	if (n > max)
		n = max;
	memcpy(out, pg->data + pg->off, n);
	pg->off += n;
	return (ssize_t)n;
}

static void pages_free(void *p)
{
	struct pages *pg = p;

	if (pg->free_cls)
		pg->free_cls(pg->cls);
	free(pg);
}

int http_reply_pages(struct http_req *req, int status, const char *ctype,
		     int (*next)(void *cls, const char **data, size_t *len, bool *last),
		     void *cls, void (*free_cls)(void *))
{
	struct pages *pg = calloc(1, sizeof(*pg));

	if (!pg) {
		if (free_cls)
			free_cls(cls);
		return reply_set(req, 500, NULL, NULL);
	}
	pg->next = next;
	pg->cls = cls;
	pg->free_cls = free_cls;
	return http_reply_stream(req, status, ctype, pages_read, pg, pages_free);
}

int http_reply_problem(struct http_req *req, int status, const char *detail,
		       const json_t *errors)
{
	json_t *j = json_object();
	const char *name = NULL;
	char type[96];
	int rc;

	for (int c = 1; c < HUB_ECODES; c++)
		if (hub_err_status(-c) == status)
			name = name ? name : hub_err_name(-c);
	snprintf(type, sizeof(type), "urn:hub:problem:%s", name ? name : "error");
	json_object_set_new(j, "type", json_string(type));
	json_object_set_new(j, "title", json_string(status_title(status)));
	json_object_set_new(j, "status", json_integer(status));
	if (detail && *detail)
		json_object_set_new(j, "detail", json_string(detail));
	json_object_set_new(j, "instance", json_string(req->path));
	if (errors)
		json_object_set(j, "errors", (json_t *)errors);
	{
		size_t len;
		char *s = json_dump_compact(j, &len);

		json_decref(j);
		if (!s)
			return reply_set(req, 500, NULL, NULL);
		rc = http_reply_owned(req, status, "application/problem+json", s, len);
	}
	return rc;
}

int http_reply_err(struct http_req *req, const struct hub_err *err)
{
	int status = hub_err_status(err->code);

	if (status == 503)
		http_set_header(req, "Retry-After", "1");
	if (status >= 500)
		hub_log(LOG_ERROR, "request path=%s error=\"%s\"", req->path, err->msg);
	return http_reply_problem(req, status, err->msg, NULL);
}

int http_fail(struct http_req *req, const struct hub_err *err)
{
	req->failed = true;
	req->fail_err = *err;
	return err->code ? err->code : HUB_EINVAL;
}

bool http_not_modified(struct http_req *req, const char *etag)
{
	const char *inm = http_header(req, "If-None-Match");

	http_set_header(req, "ETag", etag);
	if (!inm)
		return false;
	if (strcmp(inm, "*") && !strstr(inm, etag))
		return false;
	http_reply_empty(req, 304);
	return true;
}

static const char *mime_for(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
		{".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
		{".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

int http_reply_file(struct http_req *req, const char *root, const char *rel)
{
	char path[4096], etag[64];
	struct stat st;
	int fd;

	if (strstr(rel, "..") || rel[0] == '/')
		return http_reply_problem(req, 404, "no such file", NULL);
	snprintf(path, sizeof(path), "%s/%s", root, *rel ? rel : "index.html");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		snprintf(path, sizeof(path), "%s/%s/index.html", root, rel);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return http_reply_problem(req, 404, "no such file", NULL);
	}
	snprintf(etag, sizeof(etag), "\"%lx-%lx\"", (unsigned long)st.st_mtime,
		 (unsigned long)st.st_size);
	http_set_header(req, "Cache-Control", "no-cache");
	if (http_not_modified(req, etag)) {
		close(fd);
		return 0;
	}
	return http_reply_fd(req, 200, mime_for(path), fd, 0, st.st_size);
}

/* ---- accessors ---- */

void *http_app(struct http_req *req) { return req->srv->opt.app; }
const char *http_method(struct http_req *req) { return req->method; }
const char *http_path(struct http_req *req) { return req->path; }
int http_role(struct http_req *req) { return req->role; }
const char *http_user(struct http_req *req) { return req->user; }
void *http_ctx(struct http_req *req) { return req->ctx; }
bool http_resumed(struct http_req *req) { return req->resumed; }
struct MHD_Connection *http_mhd_connection(struct http_req *req) { return req->conn; }

/* ---- work threads ---- */

bool http_offload(struct http_req *req, void (*fn)(struct http_req *, void *), void *arg)
{
	struct http_server *s = req->srv;

	pthread_mutex_lock(&s->work_mu);
	if (!s->nworkers || s->work_stop) {
		pthread_mutex_unlock(&s->work_mu);
		return false;
	}
	req->offloaded = true;
	req->work_fn = fn;
	req->work_arg = arg;
	req->work_next = NULL;
	/* suspended before it is queued, so that the resume cannot come first */
	MHD_suspend_connection(req->conn);
	if (s->work_tail)
		s->work_tail->work_next = req;
	else
		s->work_head = req;
	s->work_tail = req;
	pthread_cond_signal(&s->work_cond);
	pthread_mutex_unlock(&s->work_mu);
	return true;
}

/* What the calling thread's offloaded work is at: none (not a work thread,
 * or work done inline), running, or released by http_offload_release. */
static _Thread_local enum { WORK_NONE, WORK_RUNNING, WORK_RELEASED } work_state;

void http_offload_release(struct http_req *req)
{
	/* work done inline by the caller holds a connection never suspended */
	if (work_state != WORK_RUNNING)
		return;
	work_state = WORK_RELEASED;
	MHD_resume_connection(req->conn);
}

/* Runs queued work until stopped with nothing queued. Only the connection's
 * own thread reads and clears req->offloaded: see on_access. */
static void *work_main(void *arg)
{
	struct http_server *s = arg;

	pthread_mutex_lock(&s->work_mu);
	for (;;) {
		struct http_req *req;

		while (!s->work_head && !s->work_stop)
			pthread_cond_wait(&s->work_cond, &s->work_mu);
		if (!(req = s->work_head))
			break;
		s->work_head = req->work_next;
		if (!s->work_head)
			s->work_tail = NULL;
		pthread_mutex_unlock(&s->work_mu);
		work_state = WORK_RUNNING;
		req->work_fn(req, req->work_arg);
		/* released: req may be offloaded again, or gone */
		if (work_state == WORK_RUNNING)
			MHD_resume_connection(req->conn);
		work_state = WORK_NONE;
		pthread_mutex_lock(&s->work_mu);
	}
	pthread_mutex_unlock(&s->work_mu);
	return NULL;
}

static int workers_start(struct http_server *s)
{
	if (s->opt.work_threads <= 0)
		return 0;
	s->workers = calloc((size_t)s->opt.work_threads, sizeof(*s->workers));
	if (!s->workers)
		return HUB_ENOMEM;
	for (; s->nworkers < s->opt.work_threads; s->nworkers++)
		if (pthread_create(&s->workers[s->nworkers], NULL, work_main, s) != 0)
			return HUB_EIO;
	return 0;
}

/* Lets the work threads finish what is queued, then ends them; work
 * offered from then on is done by the caller. Once is enough: both
 * http_server_stop and server_free call it, and a thread is joined once. */
static void workers_stop(struct http_server *s)
{
	int n;

	pthread_mutex_lock(&s->work_mu);
	s->work_stop = true;
	n = s->nworkers;
	s->nworkers = 0;
	pthread_cond_broadcast(&s->work_cond);
	pthread_mutex_unlock(&s->work_mu);
	for (int i = 0; i < n; i++)
		pthread_join(s->workers[i], NULL);
}

const char *http_param(struct http_req *req, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < req->nparams; i++)
		if (!strncmp(req->pname[i] + 1, name, n) &&
		    (req->pname[i][n + 1] == '}' || req->pname[i][n + 1] == '*'))
			return req->pval[i];
	return NULL;
}

const char *http_query(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_filter(struct http_req *req, const char *name)
{
	const char *v = http_query(req, name);

	return v && *v ? v : NULL;
}

const char *http_header(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_body(struct http_req *req, size_t *len)
{
	if (len)
		*len = req->body.len;
	return req->has_body ? req->body.data : NULL;
}

void http_set_ctx(struct http_req *req, void *ctx, void (*free_fn)(void *))
{
	req->ctx = ctx;
	req->ctx_free = free_fn;
}

int http_query_long(struct http_req *req, const char *name, long def, long min, long max,
		    long *out)
{
	const char *v = http_query(req, name);
	char *end, msg[160];
	long n;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < min || n > max) {
		snprintf(msg, sizeof(msg), "query parameter '%s' must be an integer from %ld to %ld",
			 name, min, max);
		http_reply_problem(req, 400, msg, NULL);
		return -1;
	}
	*out = n;
	return 0;
}

int http_query_bool(struct http_req *req, const char *name, int def)
{
	const char *v = http_filter(req, name);

	return v ? config_parse_bool(v) : def;
}

int http_query_flag(struct http_req *req, const char *name, bool *out, struct hub_err *err)
{
	int v = http_query_bool(req, name, 0);

	*out = v == 1;
	return v < 0 ? hub_err_set(err, HUB_EINVAL,
				   "%s '%.40s' is not a boolean (true, false, 1, 0, yes, no)", name,
				   http_filter(req, name))
		     : 0;
}

/* ---- long-poll ---- */

struct http_waitq *http_waitq_new(void)
{
	struct http_waitq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_lock(&waitq_registry_lock);
	q->next = waitq_registry;
	waitq_registry = q;
	pthread_mutex_unlock(&waitq_registry_lock);
	return q;
}

void http_waitq_free(struct http_waitq *q)
{
	struct http_waitq **p;

	if (!q)
		return;
	http_waitq_wake(q);
	pthread_mutex_lock(&waitq_registry_lock);
	for (p = &waitq_registry; *p; p = &(*p)->next) {
		if (*p == q) {
			*p = q->next;
			break;
		}
	}
	pthread_mutex_unlock(&waitq_registry_lock);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

bool http_park(struct http_req *req, struct http_waitq *q, int timeout_ms)
{
	if (server_stopping || timeout_ms <= 0)
		return false;
	pthread_mutex_lock(&q->lock);
	req->waitq = q;
	req->deadline_ms = now_ms() + timeout_ms;
	req->wnext = q->parked;
	q->parked = req;
	req->parked = true;
	/* suspended under the queue's lock, so a wake cannot resume it first */
	MHD_suspend_connection(req->conn);
	pthread_mutex_unlock(&q->lock);
	return true;
}

/* Resumes parked requests: all of them, or those past their deadline. */
static void waitq_resume(struct http_waitq *q, bool all, int64_t now)
{
	struct http_req **p, *r;

	pthread_mutex_lock(&q->lock);
	for (p = &q->parked; (r = *p);) {
		if (all || r->deadline_ms <= now) {
			*p = r->wnext;
			r->wnext = NULL;
			r->waitq = NULL;
			/* r->parked is the connection's thread's to clear: the
			 * handler that parked r may not have returned yet */
			MHD_resume_connection(r->conn);
		} else {
			p = &r->wnext;
		}
	}
	pthread_mutex_unlock(&q->lock);
}

void http_waitq_wake(struct http_waitq *q)
{
	if (q)
		waitq_resume(q, true, 0);
}

static void waitq_tick_all(bool all)
{
	int64_t now = now_ms();

	pthread_mutex_lock(&waitq_registry_lock);
	for (struct http_waitq *q = waitq_registry; q; q = q->next)
		waitq_resume(q, all, now);
	pthread_mutex_unlock(&waitq_registry_lock);
}

static void *ticker_main(void *arg)
{
	struct http_server *s = arg;
	struct timespec pause = {0, 50 * 1000000};

	while (!s->stopping) {
		nanosleep(&pause, NULL);
		waitq_tick_all(false);
	}
	return NULL;
}

/* ---- request life cycle ---- */

/* Each thread keeps the memory of its last finished request for its next
 * one: a request is over 4 KiB, past what malloc keeps per thread. */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_key_make(void)
{
	pthread_key_create(&spare_key, free);
}

static struct http_req *req_alloc(void)
{
	struct http_req *req = pthread_getspecific(spare_key);

	if (!req)
		return malloc(sizeof(*req));
	pthread_setspecific(spare_key, NULL);
	return req;
}

static void req_release(struct http_req *req)
{
	if (pthread_getspecific(spare_key) || pthread_setspecific(spare_key, req) != 0)
		free(req);
}

static bool access_allowed(struct http_server *s, int access, int role)
{
	if (access == HTTP_PUBLIC)
		return true;
	if (access == HTTP_PUBLIC_READ)
		return !s->opt.private_reads || role != ROLE_NONE;
	return role == ROLE_ADMIN || (role & access);
}

static void authenticate(struct http_req *req)
{
	const char *h = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);

	req->role = ROLE_NONE;
	req->user[0] = 0;
	if (h && !strncasecmp(h, "Bearer ", 7))
		req->role = auth_check(req->srv->opt.auth, h + 7, req->user, sizeof(req->user));
}

/* libmicrohttpd's URL decoding, except that %00 decodes to 0xFF: a NUL
 * would cut the path short ("/v1/products/A%00B" read as product A),
 * while a byte that is never UTF-8 is refused with the other malformed
 * paths (req_begin) and by whatever checks a query value. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	for (char *p = s; (p = strstr(p, "%00")); p += 3)
		memcpy(p, "%FF", 3);
	return MHD_http_unescape(s);
}

/* application/json, or application/<something>+json (merge-patch, problem…),
 * parameters aside. application/x-www-form-urlencoded passes too: it is
 * what "curl -d" declares, and the body is then read as JSON all the same
 * (or refused as such). */
static bool json_media_type(const char *ct)
{
	size_t n = strcspn(ct, ";");

	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return (n == 16 && !strncasecmp(ct, "application/json", 16)) ||
	       (n == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33)) ||
	       (n > 17 && !strncasecmp(ct, "application/", 12) && !strncasecmp(ct + n - 5, "+json", 5));
}

/* Decides what happens to a new request before its body: route, auth, size.
 * Returns false when it has already been answered. */
static bool req_begin(struct http_req *req, const char *url)
{
	struct http_server *s = req->srv;
	bool path_known;
	const char *cl, *ct;
	char allow[128];
	size_t limit, n = strlen(url);

	if (n >= sizeof(req->path)) {
		snprintf(req->path, sizeof(req->path), "%.64s...", url);
		http_reply_problem(req, 414, "the path is too long", NULL);
		return false;
	}
	memcpy(req->path, url, n + 1);
	if (!text_utf8_valid(url, n)) {
		http_reply_problem(req, 400, "the path is not UTF-8 (or holds %00)", NULL);
		return false;
	}
	if (!strcmp(req->method, "OPTIONS")) {
		/* CORS preflight: the web UI on pimd's origin calls damd too */
		http_set_header(req, "Access-Control-Allow-Methods",
				"GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS");
		http_set_header(req, "Access-Control-Allow-Headers",
				"Authorization, Content-Type, If-Match, If-None-Match, X-Filename, Range");
		http_set_header(req, "Access-Control-Max-Age", "600");
		http_reply_empty(req, 204);
		return false;
	}
	req->route = route_find(req, &path_known, allow, sizeof(allow));
	if (!req->route) {
		if (path_known)
			http_set_header(req, "Allow", allow);
		http_reply_problem(req, path_known ? 405 : 404,
				   path_known ? "method not allowed on this path" : "no such resource",
				   NULL);
		return false;
	}
	authenticate(req);
	if (!access_allowed(s, req->route->r.access, req->role)) {
		if (req->role == ROLE_NONE) {
			http_set_header(req, "WWW-Authenticate", "Bearer");
			http_reply_problem(req, 401, "a valid bearer token is required", NULL);
		} else {
			http_reply_problem(req, 403, "this token's role may not do that", NULL);
		}
		return false;
	}
	limit = req->route->r.max_body ? req->route->r.max_body : s->opt.max_json_body;
	cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > limit) {
		char msg[128];

		snprintf(msg, sizeof(msg), "the body is over the %zu-byte limit", limit);
		http_set_header(req, "Connection", "close");
		http_reply_problem(req, 413, msg, NULL);
		return false;
	}
	/* a buffered body is JSON: a form or XML is told so, not misread */
	ct = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!req->route->r.on_body && ct && strcmp(req->method, "GET") &&
	    strcmp(req->method, "HEAD") && strcmp(req->method, "DELETE") && !json_media_type(ct)) {
		http_reply_problem(req, 415, "the body must be JSON (Content-Type: application/json)",
				   NULL);
		return false;
	}
	buf_init(&req->body, req->route->r.on_body ? 0 : limit);
	return true;
}

/* Takes one piece of the body: buffered under the cap, or streamed. */
static void req_body(struct http_req *req, const char *data, size_t len)
{
	struct hub_err err = {0};

	req->has_body = true;
	if (req->failed)
		return; /* refused: drain the rest, then answer; libmicrohttpd 0.9.75
			 * closes without an answer if one is queued mid-upload */
	if (req->route->r.on_body) {
		if (req->route->r.on_body(req, data, len) < 0 && !req->failed) {
			hub_err_set(&err, HUB_EINVAL, "the body was refused");
			http_fail(req, &err);
		}
	} else if (buf_add(&req->body, data, len) < 0) {
		hub_err_set(&err, HUB_ETOOBIG, "the body is over the %zu-byte limit", req->body.max);
		http_fail(req, &err);
	}
}

static void req_handle(struct http_req *req)
{
	int rc;

	if (req->failed) {
		http_reply_err(req, &req->fail_err);
		return;
	}
	if (req->has_body && !req->body.data)
		buf_add(&req->body, "", 0); /* an empty body is still a body */
	rc = req->route->r.handler(req);
	if (req->parked || req->offloaded || req->state == REQ_REPLIED)
		return;
	if (rc < 0) {
		struct hub_err err = {0};

		hub_err_set(&err, rc, "%s", hub_err_name(rc));
		http_reply_err(req, &err);
	} else {
		http_reply_problem(req, 500, "the handler gave no answer", NULL);
	}
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version,
				 const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_req *req = *con_cls;
	enum MHD_Result r;

	(void)version;
	if (!req) {
		req = req_alloc();
		if (!req)
			return MHD_NO;
		memset(req, 0, offsetof(struct http_req, fail_err));
		*con_cls = req;
		req->srv = s;
		req->conn = conn;
		req->method = method;
		clock_gettime(CLOCK_MONOTONIC, &req->start);
		atomic_fetch_add(&my_shard(s)->inflight, 1);
		req->state = REQ_BODY;
		if (req_begin(req, url))
			return MHD_YES;
		/* answered before the body: MHD will not read it */
	} else {
		if (req->parked || req->offloaded) {
			/* resumed (woken, or its work done): a handler runs again */
			req->resumed = req->state == REQ_HANDLING;
			req->parked = req->offloaded = false;
		}
		if (req->state == REQ_BODY && *upload_data_size) {
			req_body(req, upload_data, *upload_data_size);
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (req->state == REQ_BODY || req->state == REQ_HANDLING) {
			req->state = REQ_HANDLING;
			req_handle(req);
			if (req->parked || req->offloaded)
				return MHD_YES;
		}
	}
	if (!req->resp)
		return MHD_NO;
	r = MHD_queue_response(conn, req->status, req->resp);
	resp_drop(req);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_req *req = *con_cls;
	struct timespec end;
	uint64_t us;

	(void)conn;
	if (!req)
		return;
	clock_gettime(CLOCK_MONOTONIC, &end);
	us = (end.tv_sec - req->start.tv_sec) * 1000000ull +
	     (end.tv_nsec - req->start.tv_nsec) / 1000;
	stats_record(s, req->route ? req->route : &s->unmatched, req->status ? req->status : 499, us);
	if (s->opt.access_log)
		hub_log(LOG_INFO, "access method=%s path=\"%s\" status=%d ms=%.3f user=%s%s",
			req->method, req->path, req->status, us / 1000.0,
			req->user[0] ? req->user : "-",
			toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	if (req->ctx_free)
		req->ctx_free(req->ctx);
	resp_drop(req);
	for (int i = 0; i < req->nheaders; i++)
		free(req->hval[i]);
	buf_release(&req->body);
	req_release(req);
	*con_cls = NULL;
	atomic_fetch_sub(&my_shard(s)->inflight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	hub_log(LOG_WARN, "http msg=\"%s\"", msg);
}

/* ---- server ---- */

static int parse_listen(const char *listen, struct sockaddr_in *sa, struct hub_err *err)
{
	char host[256];
	const char *colon = strrchr(listen, ':');

	if (!colon || colon - listen >= (long)sizeof(host))
		return hub_err_set(err, HUB_EINVAL, "listen address '%s' is not HOST:PORT", listen);
	memcpy(host, listen, colon - listen);
	host[colon - listen] = 0;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(colon + 1));
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa->sin_addr) != 1)
		return hub_err_set(err, HUB_EINVAL, "cannot parse host '%s'", host);
	return 0;
}

static void server_free(struct http_server *s)
{
	workers_stop(s);
	free(s->workers);
	pthread_mutex_destroy(&s->work_mu);
	pthread_cond_destroy(&s->work_cond);
	if (s->routes)
		for (size_t i = 0; i < s->nroutes; i++)
			free(s->routes[i].pattern_copy);
	free(s->routes);
	for (int k = 0; s->shards && k < s->nshards; k++)
		free(s->shards[k].counts);
	free(s->shards);
	free(s);
}

/* Counters for every route, unmatched last, in each shard. */
static int shards_alloc(struct http_server *s)
{
	size_t size = (s->nroutes + 1) * STATUS_SLOTS * sizeof(struct status_counts);

	size = (size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	s->nshards = s->opt.threads < STAT_SHARDS ? s->opt.threads : STAT_SHARDS;
	s->shards = aligned_alloc(CACHE_LINE, s->nshards * sizeof(*s->shards));
	if (!s->shards)
		return HUB_ENOMEM;
	memset(s->shards, 0, s->nshards * sizeof(*s->shards));
	for (int k = 0; k < s->nshards; k++) {
		s->shards[k].counts = aligned_alloc(CACHE_LINE, size);
		if (!s->shards[k].counts)
			return HUB_ENOMEM;
		memset(s->shards[k].counts, 0, size);
	}
	for (size_t i = 0; i < s->nroutes; i++)
		s->routes[i].idx = i;
	s->unmatched.idx = s->nroutes;
	return 0;
}

int http_server_start(struct http_server **out, const struct http_options *opt,
		      const struct http_route *routes, size_t nroutes, struct hub_err *err)
{
	size_t nb = sizeof(builtin_routes) / sizeof(builtin_routes[0]);
	struct http_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	if (!s)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	pthread_mutex_init(&s->work_mu, NULL);
	pthread_cond_init(&s->work_cond, NULL);
	s->opt = *opt;
	if (!s->opt.max_json_body)
		s->opt.max_json_body = DEFAULT_JSON_LIMIT;
	if (s->opt.threads <= 0)
		s->opt.threads = cores > 0 ? cores : 2;
	if (s->opt.work_threads == HTTP_PER_CORE)
		s->opt.work_threads = cores > 0 ? cores : 2;
	rc = parse_listen(opt->listen, &sa, err);
	if (rc < 0)
		goto fail;
	s->nroutes = nroutes + nb;
	s->routes = calloc(s->nroutes, sizeof(*s->routes));
	if (!s->routes) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s->nroutes && rc == 0; i++)
		rc = route_compile(&s->routes[i], i < nb ? &builtin_routes[i] : &routes[i - nb]);
	if (rc < 0) {
		hub_err_set(err, rc, "cannot compile the route table");
		goto fail;
	}
	snprintf(s->unmatched.label, sizeof(s->unmatched.label), "unmatched");
	if (shards_alloc(s) < 0) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto fail;
	}
	if (workers_start(s) < 0) {
		rc = hub_err_set(err, HUB_EIO, "cannot start the work threads");
		goto fail;
	}
	server_stopping = false;
	pthread_once(&spare_once, spare_key_make);
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
					  MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
					  MHD_USE_ERROR_LOG,
				  0, NULL, NULL, on_access, s,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->opt.threads,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4000,
				  MHD_OPTION_END);
	if (!s->mhd) {
		rc = hub_err_set(err, HUB_EIO, "cannot listen on '%s': %s", opt->listen,
				 strerror(errno));
		goto fail;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : ntohs(sa.sin_port);
	pthread_create(&s->ticker, NULL, ticker_main, s);
	*out = s;
	return 0;
fail:
	server_free(s);
	return rc;
}

int http_server_port(struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s, int grace_ms)
{
	int64_t until = now_ms() + grace_ms;
	struct timespec pause = {0, 10 * 1000000};
	MHD_socket listen_fd;

	if (!s)
		return;
	s->stopping = true;
	server_stopping = true;
	/* the listening socket is ours once quiesced: closing it refuses new
	 * connections at once while in-flight requests finish */
	listen_fd = MHD_quiesce_daemon(s->mhd);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	waitq_tick_all(true);
	while (inflight(s) > 0 && now_ms() < until) {
		waitq_tick_all(true);
		nanosleep(&pause, NULL);
	}
	pthread_join(s->ticker, NULL);
	/* every offloaded request resumed before libmicrohttpd stops */
	workers_stop(s);
	MHD_stop_daemon(s->mhd);
	server_free(s);
}

static sigset_t stop_signals;

void http_signals_block(void)
{
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int http_signals_wait(void)
{
	int sig = 0;

	sigwait(&stop_signals, &sig);
	return sig;
}
