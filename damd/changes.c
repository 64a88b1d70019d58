#include "fmacros.h"
#include "changes.h"
#include "app.h"
#include "err.h"
#include "hash.h"
#include "json.h"
#include "reply.h"
#include "store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEQ_KEY "seq"
#define FEED_KEY "feed_id"
/* A parked long-poll re-checks the feed at least this often, so an event
 * committed between its scan and its parking is seen within a second. */
#define RECHECK_MS 1000

void dam_now_iso(char *out, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int dam_changes_init(struct dam_app *app, struct hub_err *err)
{
	unsigned char rnd[16];
	char *val = NULL;
	size_t len = 0;
	int rc = dam_kv_get(app->store, "meta", FEED_KEY, strlen(FEED_KEY), &val, &len, err);

	if (rc == 0 && len == 2 * sizeof(rnd)) {
		memcpy(app->feed_id, val, len + 1);
		free(val);
		return 0;
	}
	free(val);
	if (rc < 0 && rc != HUB_ENOTFOUND)
		return rc;
	if (hash_random(rnd, sizeof(rnd)) < 0)
		return hub_err_set(err, HUB_EIO, "no random bytes for the feed id");
	hash_hex(rnd, sizeof(rnd), app->feed_id);
	return dam_kv_put(app->store, "meta", FEED_KEY, strlen(FEED_KEY), app->feed_id,
			  strlen(app->feed_id), err);
}

static void seq_key(uint64_t seq, unsigned char k[8])
{
	for (int i = 7; i >= 0; i--) {
		k[i] = seq & 0xff;
		seq >>= 8;
	}
}

static uint64_t seq_of(const unsigned char *k)
{
	uint64_t s = 0;

	for (int i = 0; i < 8; i++)
		s = s << 8 | k[i];
	return s;
}

int dam_changes_append(struct dam_txn *t, const char *type, const char *id,
		       struct hub_err *err)
{
	char *val = NULL, num[32], at[32];
	unsigned char key[8];
	uint64_t seq = 0;
	json_t *ev = NULL;
	char *s = NULL;
	size_t len;
	int rc;

	rc = dam_txn_get(t, "meta", SEQ_KEY, strlen(SEQ_KEY), &val, NULL, err);
	if (rc == 0)
		seq = strtoull(val, NULL, 10);
	else if (rc != HUB_ENOTFOUND)
		goto out;
	seq++;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)seq);
	rc = dam_txn_put(t, "meta", SEQ_KEY, strlen(SEQ_KEY), num, strlen(num), err);
	if (rc < 0)
		goto out;
	dam_now_iso(at, sizeof(at));
	ev = json_pack("{s:I,s:s,s:s,s:s}", "seq", (json_int_t)seq, "type", type, "id", id, "at",
		       at);
	s = ev ? json_dump_compact(ev, &len) : NULL;
	if (!s) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	seq_key(seq, key);
	rc = dam_txn_put(t, "changes", key, sizeof(key), s, len, err);
out:
	free(val);
	free(s);
	json_decref(ev);
	return rc;
}

void dam_changes_notify(struct dam_app *app)
{
	if (app->changes_q)
		http_waitq_wake(app->changes_q);
}

struct collect {
	json_t *items;
	long limit;
	uint64_t last;
};

static int collect_one(void *cls, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct collect *c = cls;
	json_t *ev;

	if (klen != 8)
		return 0;
	ev = json_loadb(val, vlen, 0, NULL);
	if (ev)
		json_array_append_new(c->items, ev);
	c->last = seq_of(key);
	return (long)json_array_size(c->items) >= c->limit;
}

/* When the long-poll gives up, in CLOCK_MONOTONIC milliseconds. */
struct poll_ctx {
	int64_t deadline_ms;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GET /v1/changes?since=&limit=&wait= */
static int handle_changes(struct http_req *req)
{
	struct dam_app *app = http_app(req);
	struct hub_err err = {0};
	struct collect c = {0};
	unsigned char start[8];
	long since, limit, wait;
	struct poll_ctx *pc = http_ctx(req);
	json_t *j;
	int rc;

	if (http_query_long(req, "since", 0, 0, LONG_MAX, &since) < 0 ||
	    http_query_long(req, "limit", 100, 1, 1000, &limit) < 0 ||
	    http_query_long(req, "wait", 0, 0, 300, &wait) < 0)
		return 0;
	c.items = json_array();
	c.limit = limit;
	c.last = (uint64_t)since;
	seq_key((uint64_t)since + 1, start);
	rc = dam_kv_scan(app->store, "changes", "", 0, start, sizeof(start), collect_one, &c,
			 &err);
	if (rc < 0) {
		json_decref(c.items);
		return dam_reply_err(req, &err);
	}
	if (json_array_size(c.items) == 0 && wait > 0) {
		int64_t now = mono_ms();

		if (!pc) {
			pc = calloc(1, sizeof(*pc));
			if (pc) {
				pc->deadline_ms = now + wait * 1000;
				http_set_ctx(req, pc, free);
			}
		}
		if (pc && now < pc->deadline_ms) {
			int64_t left = pc->deadline_ms - now;

			if (http_park(req, app->changes_q, left < RECHECK_MS ? (int)left : RECHECK_MS)) {
				json_decref(c.items);
				return 0;
			}
		}
	}
	j = json_pack("{s:o,s:I,s:s}", "items", c.items, "next_since", (json_int_t)c.last,
		      "feed_id", app->feed_id);
	http_set_header(req, "Cache-Control", "no-store");
	dam_reply_json(req, 200, j);
	json_decref(j);
	return 0;
}

const struct http_route dam_changes_routes[] = {
	{"GET", "/v1/changes", handle_changes, HTTP_ANY_ROLE, NULL, 0},
};
const size_t dam_changes_nroutes = sizeof(dam_changes_routes) / sizeof(dam_changes_routes[0]);
