/* The HTTP layer both daemons share, on libmicrohttpd: a router with path
 * parameters, bodies buffered under a cap or streamed to a callback, JSON and
 * RFC 9457 problem replies, bearer-token roles, Prometheus metrics, request
 * logging, long-poll parking, work threads and graceful shutdown.
 *
 * Handlers run on the server's epoll worker threads; work they hand to
 * http_offload, on its work threads. Everything a handler
 * gets from a struct http_req lives until the request completes.
 */
#ifndef HUB_HTTP_H
#define HUB_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth.h"

struct buf;
struct hub_err;
struct http_server;
struct http_req;
struct http_waitq;

typedef int (*http_handler_fn)(struct http_req *req);
/* Receives the body piece by piece; a negative return (after setting the
 * problem with http_fail) stops the upload and answers that problem. */
typedef int (*http_body_fn)(struct http_req *req, const char *data, size_t len);

/* Who may call a route: HTTP_PUBLIC, HTTP_PUBLIC_READ (public unless the
 * server runs with private reads, then any role), or a mask of ROLE_* bits
 * (ROLE_ADMIN is always allowed). */
#define HTTP_PUBLIC 0
#define HTTP_PUBLIC_READ (1 << 16)
#define HTTP_ANY_ROLE (ROLE_READER | ROLE_DESIGNER | ROLE_MERCHANDISER | ROLE_ADMIN)

struct http_route {
	const char *method;  /* GET also answers HEAD */
	const char *pattern; /* "/v1/products/{sku}"; a last "{name*}" takes the rest */
	http_handler_fn handler;
	int access;
	http_body_fn on_body; /* NULL: the body is buffered, see max_body */
	size_t max_body;      /* cap on the body; 0: the server's JSON limit */
};

#define HTTP_PER_CORE (-1) /* work_threads: one per core */

struct http_options {
	const char *name;      /* "pimd" or "damd": in logs and metrics */
	const char *listen;    /* "127.0.0.1:8080" */
	int threads;           /* epoll worker threads; 0: one per core */
	int work_threads;      /* threads for http_offload; 0: none; HTTP_PER_CORE */
	bool private_reads;    /* HTTP_PUBLIC_READ routes need a token */
	bool access_log;       /* one log line per request */
	size_t max_json_body;  /* 0: 16 MiB */
	struct auth *auth;
	void *app;             /* handed back by http_app() */
	/* extra Prometheus text appended to /metrics (NULL: none) */
	void (*metrics_hook)(struct buf *out, void *app);
};

int http_server_start(struct http_server **out, const struct http_options *opt,
		      const struct http_route *routes, size_t nroutes, struct hub_err *err);
/* Stops accepting, lets in-flight requests finish for up to grace_ms, wakes
 * parked requests so they answer, then closes every connection. */
void http_server_stop(struct http_server *s, int grace_ms);
/* The port actually bound (useful with port 0). */
int http_server_port(struct http_server *s);

/* Blocks SIGTERM/SIGINT in the calling thread (call before starting any
 * thread) and later waits for one; returns the signal number. */
void http_signals_block(void);
int http_signals_wait(void);

/* Request accessors. */
void *http_app(struct http_req *req);
const char *http_method(struct http_req *req);
const char *http_path(struct http_req *req);
const char *http_param(struct http_req *req, const char *name);
const char *http_query(struct http_req *req, const char *name);
/* A query parameter used as a listing filter: NULL when absent or empty,
 * since "?q=" from a cleared search box means no filter. */
const char *http_filter(struct http_req *req, const char *name);
const char *http_header(struct http_req *req, const char *name);
/* The buffered body (NUL-terminated) or NULL when there was none. */
const char *http_body(struct http_req *req, size_t *len);
int http_role(struct http_req *req);
const char *http_user(struct http_req *req); /* token name, "" when public */
/* The libmicrohttpd connection behind req, for libmicrohttpd's own helpers
 * (e.g. its streaming multipart/form-data POST processor). */
struct MHD_Connection;
struct MHD_Connection *http_mhd_connection(struct http_req *req);
/* Per-request state owned by the handler; free_fn runs when it completes. */
void *http_ctx(struct http_req *req);
void http_set_ctx(struct http_req *req, void *ctx, void (*free_fn)(void *));
/* True when the handler runs again after http_park or http_offload. */
bool http_resumed(struct http_req *req);
/* Runs fn(req, arg) on one of the server's work threads (http_options'
 * work_threads), the request suspended meanwhile: for CPU-heavy work that
 * would otherwise hold the epoll thread that other connections share (two
 * heavy requests accepted by one epoll thread would share one core while
 * another idles). From a body callback, the body goes on once fn returns;
 * from a handler, the handler runs again (http_resumed() true) and answers.
 * fn may use req (e.g. http_fail) but not reply, nor after
 * http_offload_release. False when the server has no work threads: the
 * caller does the work itself. */
bool http_offload(struct http_req *req, void (*fn)(struct http_req *, void *), void *arg);
/* From fn, offloaded from a body callback: lets the body go on (and the
 * next body callback offload more) while fn finishes. Does nothing when fn
 * runs inline (http_offload returned false). fn must not touch req
 * afterwards, which may already be gone: what it still needs, it keeps in
 * state of its own that outlives the request. */
void http_offload_release(struct http_req *req);
/* Query parameter as an integer within [min,max]; def when absent; -1 and
 * a 400 problem queued when it is not a number in range. */
int http_query_long(struct http_req *req, const char *name, long def, long min, long max,
		    long *out);
/* Query parameter as a boolean (config_parse_bool); def when absent or
 * empty. */
int http_query_bool(struct http_req *req, const char *name, int def);
/* The same for a flag that is false when absent: HUB_EINVAL, naming the
 * parameter and its value, when it is not a boolean. */
int http_query_flag(struct http_req *req, const char *name, bool *out, struct hub_err *err);

/* Replies. Each returns 0; call exactly one per request. */
void http_set_header(struct http_req *req, const char *name, const char *value);
int http_reply_bytes(struct http_req *req, int status, const char *ctype,
		     const void *data, size_t len);
int http_reply_owned(struct http_req *req, int status, const char *ctype, char *data,
		     size_t len); /* takes data (malloc'd) */
int http_reply_json(struct http_req *req, int status, const json_t *j); /* borrows j */
int http_reply_empty(struct http_req *req, int status);
/* Sends len bytes of fd from off with sendfile; takes fd. */
int http_reply_fd(struct http_req *req, int status, const char *ctype, int fd, off_t off,
		  uint64_t len);
/* Streams a body of unknown length with chunked encoding; read returns the
 * bytes written to buf, HTTP_STREAM_END or HTTP_STREAM_ERROR. */
#define HTTP_STREAM_END (-1)
#define HTTP_STREAM_ERROR (-2)
int http_reply_stream(struct http_req *req, int status, const char *ctype,
		      ssize_t (*read)(void *cls, uint64_t pos, char *buf, size_t max),
		      void *cls, void (*free_cls)(void *));
/* Streams a body made page by page: next() gives the following page
 * (borrowed until its next call) and sets *last on the final one; a
 * negative return ends the body with an error. For exports and feeds that
 * walk a catalog without holding all of it. */
int http_reply_pages(struct http_req *req, int status, const char *ctype,
		     int (*next)(void *cls, const char **data, size_t *len, bool *last),
		     void *cls, void (*free_cls)(void *));
/* A 200 reply built once and sent to many requests: its body and headers
 * (Content-Type and the common ones, then any set before it is shared) are
 * kept, reference counted, instead of being copied for every request. */
struct http_shared;
/* Takes data (malloc'd); NULL when out of memory. */
struct http_shared *http_shared_new(const char *ctype, char *data, size_t len);
/* The same for len bytes of fd from its start, sent with sendfile; takes fd
 * (closed once no reply uses it any more); NULL when out of memory. */
struct http_shared *http_shared_new_fd(const char *ctype, int fd, uint64_t len);
void http_shared_set_header(struct http_shared *sh, const char *name, const char *value);
/* The body of a buffer reply; NULL (and *len 0) for an fd reply. */
const char *http_shared_body(const struct http_shared *sh, size_t *len);
struct http_shared *http_shared_ref(struct http_shared *sh);
void http_shared_unref(struct http_shared *sh); /* NULL is fine */
/* Answers sh (a 500 when NULL), taking the caller's reference; headers from
 * http_set_header are not sent, sh carries its own. */
int http_reply_shared(struct http_req *req, struct http_shared *sh);
/* application/problem+json; errors (borrowed, may be NULL) becomes "errors". */
int http_reply_problem(struct http_req *req, int status, const char *detail,
		       const json_t *errors);
/* The problem for a HUB_E* code and its message. */
int http_reply_err(struct http_req *req, const struct hub_err *err);
/* Records a problem from inside a body callback; it is answered at the end. */
int http_fail(struct http_req *req, const struct hub_err *err);
/* Serves root/rel (no "..", index.html for directories) or 404. */
int http_reply_file(struct http_req *req, const char *root, const char *rel);
/* True (and a 304 queued) when If-None-Match matches etag (quoted form). */
bool http_not_modified(struct http_req *req, const char *etag);

/* Long-poll: a handler parks its request on a queue instead of replying; it
 * runs again (http_resumed() true) when the queue is woken or timeout_ms
 * passes. Returns false when the server is stopping: reply at once then. */
struct http_waitq *http_waitq_new(void);
void http_waitq_free(struct http_waitq *q);
bool http_park(struct http_req *req, struct http_waitq *q, int timeout_ms);
void http_waitq_wake(struct http_waitq *q);

#endif
