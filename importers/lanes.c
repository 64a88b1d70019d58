/* Lanes: see lanes.h. A document must not cross threads: on the 2-core
 * machines of the benchmarks, a thread that reads and frees what another
 * built needed up to 1.8 times the CPU. So a lane makes, prepares, hands
 * over and frees its rows' documents itself, and only the raw cells of a
 * chunk cross, in a few flat buffers that are reused. */
#include "lanes.h"

#include "err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LANES_MAX 8
#define LANE_ROWS 2000       /* rows a chunk holds: the sink commits each chunk */
#define LANE_BYTES (32u << 20) /* or bytes, with its last record */

struct chunk {
	unsigned long seq;
	size_t nrec, rcap;
	long *line;
	size_t *first; /* a record's first field; first[nrec] is nfields */
	size_t nfields, fcap;
	size_t *off, *len; /* a field's bytes in `bytes`, NUL-terminated */
	char *bytes;
	size_t blen, bcap;
	struct chunk *next;
};

enum event_kind { EV_DOC, EV_MODEL, EV_FAILED, EV_NOTE };

/* A row's outcome, held until the lane's turn. */
struct event {
	enum event_kind kind;
	long line;
	enum imp_op op;
	json_t *json; /* EV_DOC, EV_MODEL: the document; EV_FAILED: its errors */
	void *prep;
	char *field, *code, *msg; /* EV_NOTE */
};

struct lane {
	struct lanes *l;
	pthread_t thread;
	bool started;
	struct map *m;
	struct imp_sink rec; /* what m calls: records events */
	struct event *ev;
	size_t nev, evcap;
	bool ev_failed; /* an event could not be recorded */
	struct map_cell *cells;
	size_t ccap;
};

struct lanes {
	const struct imp_sink *sink;
	lanes_row_fn row;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct chunk *qhead, *qtail; /* full chunks no lane has taken */
	struct chunk *spare;         /* handed over, to be filled again */
	struct chunk *filling;       /* the reader's */
	unsigned long next_seq;
	unsigned long turn; /* the chunk whose rows go to the sink next */
	bool closing;       /* no more chunks will come */
	bool failed;        /* a lane failed: the rest is dropped */
	struct hub_err err;
	json_t *noted; /* "code|field" of notes handed over (under the turn) */
	char *names;   /* the header's names, NUL-separated */
	const char **name_at;
	size_t nnames;
	int n;
	struct lane lane[LANES_MAX];
};

bool lanes_wanted(const struct map *m, const struct imp_sink *sink)
{
	return sink->lanes > 1 && sink->prepare && sink->doc_prepared && sink->prep_free &&
	       sink->chunk_done && map_rows_independent(m);
}

static void fail(struct lanes *l, int rc, const struct hub_err *e)
{
	pthread_mutex_lock(&l->mu);
	if (!l->failed) {
		l->failed = true;
		l->err = *e;
		l->err.code = rc;
	}
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

/* ---- a lane's recording sink ---- */

static struct event *event_new(struct lane *ln, enum event_kind kind, long line)
{
	if (ln->nev == ln->evcap) {
		size_t nc = ln->evcap ? ln->evcap * 2 : 64;
		struct event *ne = realloc(ln->ev, nc * sizeof(*ne));

		if (!ne) {
			ln->ev_failed = true;
			return NULL;
		}
		ln->ev = ne;
		ln->evcap = nc;
	}
	ln->ev[ln->nev] = (struct event){.kind = kind, .line = line};
	return &ln->ev[ln->nev++];
}

static int rec_doc(void *cls, json_t *doc, enum imp_op op, long line)
{
	struct lane *ln = cls;
	const struct imp_sink *sink = ln->l->sink;
	struct event *ev = event_new(ln, EV_DOC, line);

	if (!ev)
		return HUB_ENOMEM;
	ev->op = op;
	ev->json = json_incref(doc);
	ev->prep = sink->prepare(sink->cls, doc, op);
	return 0;
}

static int rec_model(void *cls, json_t *doc, enum imp_op op, long line)
{
	struct event *ev = event_new(cls, EV_MODEL, line);

	if (!ev)
		return HUB_ENOMEM;
	ev->op = op;
	ev->json = json_incref(doc);
	return 0;
}

static void rec_failed(void *cls, long line, json_t *errors)
{
	struct event *ev = event_new(cls, EV_FAILED, line);

	if (ev)
		ev->json = json_incref(errors);
}

static void rec_note(void *cls, long line, const char *field, const char *code, const char *msg)
{
	struct event *ev = event_new(cls, EV_NOTE, line);

	if (!ev)
		return;
	ev->field = field ? strdup(field) : NULL;
	ev->code = strdup(code ? code : "");
	ev->msg = strdup(msg ? msg : "");
	if ((field && !ev->field) || !ev->code || !ev->msg)
		((struct lane *)cls)->ev_failed = true;
}

static void events_drop(struct lane *ln)
{
	for (size_t i = 0; i < ln->nev; i++) {
		struct event *ev = &ln->ev[i];

		if (ev->prep)
			ln->l->sink->prep_free(ev->prep);
		json_decref(ev->json);
		free(ev->field);
		free(ev->code);
		free(ev->msg);
	}
	ln->nev = 0;
}

/* Hands the recorded rows to the sink; under the lane's turn. */
static int hand_over(struct lane *ln, struct hub_err *err)
{
	struct lanes *l = ln->l;
	const struct imp_sink *sink = l->sink;
	int rc = 0, done;

	for (size_t i = 0; i < ln->nev && rc == 0; i++) {
		struct event *ev = &ln->ev[i];
		char key[600];

		switch (ev->kind) {
		case EV_DOC:
			rc = sink->doc_prepared(sink->cls, ev->json, ev->op, ev->line, ev->prep);
			if (rc < 0)
				hub_err_set(err, rc, "line %ld: the import was stopped", ev->line);
			break;
		case EV_MODEL:
			rc = sink->model(sink->cls, ev->json, ev->op, ev->line);
			if (rc < 0)
				hub_err_set(err, rc, "line %ld: the import was stopped", ev->line);
			break;
		case EV_FAILED:
			if (sink->row_failed)
				sink->row_failed(sink->cls, ev->line, ev->json);
			break;
		case EV_NOTE:
			/* each lane's mapper notes once; the import, once */
			snprintf(key, sizeof(key), "%s|%s", ev->code, ev->field ? ev->field : "");
			if (json_object_get(l->noted, key))
				break;
			json_object_set_new(l->noted, key, json_true());
			if (sink->note)
				sink->note(sink->cls, ev->line, ev->field, ev->code, ev->msg);
			break;
		}
	}
	/* also after a failure: what the sink began on this thread (a write
	 * transaction) must end on it */
	done = sink->chunk_done(sink->cls);
	if (rc == 0 && done < 0)
		rc = hub_err_set(err, done, "the import was stopped");
	return rc;
}

/* ---- the lanes ---- */

static int map_chunk(struct lane *ln, const struct chunk *c, struct hub_err *err)
{
	struct lanes *l = ln->l;

	for (size_t r = 0; r < c->nrec; r++) {
		size_t first = c->first[r], n = c->first[r + 1] - first;
		int rc;

		if (n > ln->ccap) {
			struct map_cell *nc = realloc(ln->cells, n * sizeof(*nc));

			if (!nc)
				return hub_err_set(err, HUB_ENOMEM, "out of memory");
			ln->cells = nc;
			ln->ccap = n;
		}
		for (size_t i = 0; i < n; i++) {
			ln->cells[i].name = i < l->nnames ? l->name_at[i] : "";
			ln->cells[i].s = c->bytes + c->off[first + i];
			ln->cells[i].len = c->len[first + i];
		}
		rc = l->row(ln->m, c->line[r], ln->cells, n, err);
		if (rc < 0)
			return rc;
		if (ln->ev_failed)
			return hub_err_set(err, HUB_ENOMEM, "out of memory");
	}
	return 0;
}

static void *lane_main(void *arg)
{
	struct lane *ln = arg;
	struct lanes *l = ln->l;

	for (;;) {
		struct hub_err e = {0};
		struct chunk *c;
		bool stopped;
		int rc;

		pthread_mutex_lock(&l->mu);
		while (!l->qhead && !l->closing && !l->failed)
			pthread_cond_wait(&l->cond, &l->mu);
		c = l->failed ? NULL : l->qhead;
		if (c) {
			l->qhead = c->next;
			if (!l->qhead)
				l->qtail = NULL;
			pthread_cond_broadcast(&l->cond); /* room for the reader */
		}
		pthread_mutex_unlock(&l->mu);
		if (!c)
			break;
		rc = map_chunk(ln, c, &e);
		pthread_mutex_lock(&l->mu);
		while (rc == 0 && l->turn != c->seq && !l->failed)
			pthread_cond_wait(&l->cond, &l->mu);
		stopped = l->failed;
		pthread_mutex_unlock(&l->mu);
		if (rc == 0 && !stopped)
			rc = hand_over(ln, &e);
		events_drop(ln);
		if (rc < 0)
			fail(l, rc, &e);
		pthread_mutex_lock(&l->mu);
		l->turn++;
		c->nrec = c->nfields = c->blen = 0;
		c->next = l->spare;
		l->spare = c;
		pthread_cond_broadcast(&l->cond);
		pthread_mutex_unlock(&l->mu);
	}
	return NULL;
}

static void chunk_free(struct chunk *c)
{
	if (!c)
		return;
	free(c->line);
	free(c->first);
	free(c->off);
	free(c->len);
	free(c->bytes);
	free(c);
}

static void lanes_free(struct lanes *l)
{
	struct chunk *c, *next;

	for (int i = 0; i < l->n; i++) {
		events_drop(&l->lane[i]);
		free(l->lane[i].ev);
		free(l->lane[i].cells);
		map_free(l->lane[i].m);
	}
	for (c = l->qhead; c; c = next) {
		next = c->next;
		chunk_free(c);
	}
	for (c = l->spare; c; c = next) {
		next = c->next;
		chunk_free(c);
	}
	chunk_free(l->filling);
	json_decref(l->noted);
	free(l->names);
	free(l->name_at);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cond);
	free(l);
}

int lanes_start(struct lanes **out, const struct imp_opts *o, const struct imp_sink *sink,
		lanes_row_fn row, long header_line, const struct map_cell *header, size_t n,
		struct hub_err *err)
{
	struct lanes *l = calloc(1, sizeof(*l));
	size_t total = 0, off = 0;
	int rc = 0;

	if (!l)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->sink = sink;
	l->row = row;
	l->n = sink->lanes < LANES_MAX ? sink->lanes : LANES_MAX;
	for (size_t i = 0; i < n; i++)
		total += header[i].len + 1;
	l->noted = json_object();
	l->names = malloc(total ? total : 1);
	l->name_at = calloc(n ? n : 1, sizeof(*l->name_at));
	if (!l->noted || !l->names || !l->name_at) {
		lanes_free(l);
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(l->names + off, header[i].s, header[i].len);
		l->names[off + header[i].len] = '\0';
		l->name_at[i] = l->names + off;
		off += header[i].len + 1;
	}
	l->nnames = n;
	for (int i = 0; i < l->n && rc == 0; i++) {
		struct lane *ln = &l->lane[i];

		ln->l = l;
		/* the header's notes are the caller's mapper's */
		ln->rec = (struct imp_sink){.doc = rec_doc,
					    .row_failed = rec_failed,
					    .cls = ln,
					    .model = sink->model ? rec_model : NULL};
		rc = map_new(&ln->m, o, &ln->rec, err);
		if (rc == 0 && n)
			rc = map_header(ln->m, header_line, header, n, err);
		ln->rec.note = rec_note;
	}
	for (int i = 0; i < l->n && rc == 0; i++) {
		if (pthread_create(&l->lane[i].thread, NULL, lane_main, &l->lane[i]) != 0) {
			rc = hub_err_set(err, HUB_EIO, "cannot start an import lane");
			break;
		}
		l->lane[i].started = true;
	}
	if (rc < 0) {
		fail(l, rc, err);
		for (int i = 0; i < l->n; i++)
			if (l->lane[i].started)
				pthread_join(l->lane[i].thread, NULL);
		lanes_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* Makes room for one more record of n fields and `bytes` bytes. */
static bool reserve(struct chunk *c, size_t n, size_t bytes)
{
	if (c->nrec + 2 > c->rcap) {
		size_t nc = c->rcap ? c->rcap * 2 : 256;
		long *line = realloc(c->line, nc * sizeof(*line));
		size_t *first = line ? realloc(c->first, nc * sizeof(*first)) : NULL;

		if (line)
			c->line = line;
		if (!first)
			return false;
		c->first = first;
		c->rcap = nc;
	}
	if (c->nfields + n > c->fcap) {
		size_t nc = c->fcap ? c->fcap * 2 : 4096;
		size_t *off, *len;

		while (nc < c->nfields + n)
			nc *= 2;
		off = realloc(c->off, nc * sizeof(*off));
		if (off)
			c->off = off;
		len = off ? realloc(c->len, nc * sizeof(*len)) : NULL;
		if (!len)
			return false;
		c->len = len;
		c->fcap = nc;
	}
	if (c->blen + bytes > c->bcap) {
		size_t nc = c->bcap ? c->bcap * 2 : 256u << 10;
		char *b;

		while (nc < c->blen + bytes)
			nc *= 2;
		if (!(b = realloc(c->bytes, nc)))
			return false;
		c->bytes = b;
		c->bcap = nc;
	}
	return true;
}

/* Queues the reader's chunk, waiting while one is queued already. */
static int push(struct lanes *l)
{
	struct chunk *c = l->filling;
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	while (l->qhead && !l->failed)
		pthread_cond_wait(&l->cond, &l->mu);
	if (l->failed) {
		rc = l->err.code;
	} else {
		c->seq = l->next_seq++;
		c->next = NULL;
		if (l->qtail)
			l->qtail->next = c;
		else
			l->qhead = c;
		l->qtail = c;
		l->filling = NULL;
		pthread_cond_broadcast(&l->cond);
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int lanes_add(struct lanes *l, long line, const struct csvr_field *f, size_t n,
	      struct hub_err *err)
{
	struct chunk *c = l->filling;
	size_t bytes = 0;
	int rc;

	if (!c) {
		pthread_mutex_lock(&l->mu);
		if ((c = l->spare))
			l->spare = c->next;
		pthread_mutex_unlock(&l->mu);
		if (!c && !(c = calloc(1, sizeof(*c))))
			return hub_err_set(err, HUB_ENOMEM, "line %ld: out of memory", line);
		l->filling = c;
	}
	for (size_t i = 0; i < n; i++)
		bytes += f[i].len + 1;
	if (!reserve(c, n, bytes))
		return hub_err_set(err, HUB_ENOMEM, "line %ld: out of memory", line);
	c->line[c->nrec] = line;
	c->first[c->nrec] = c->nfields;
	for (size_t i = 0; i < n; i++) {
		memcpy(c->bytes + c->blen, f[i].s, f[i].len);
		c->bytes[c->blen + f[i].len] = '\0';
		c->off[c->nfields] = c->blen;
		c->len[c->nfields] = f[i].len;
		c->blen += f[i].len + 1;
		c->nfields++;
	}
	c->nrec++;
	c->first[c->nrec] = c->nfields;
	if (c->nrec < LANE_ROWS && c->blen < LANE_BYTES)
		return 0;
	rc = push(l);
	/* lanes_finish names the lane's failure */
	return rc < 0 ? hub_err_set(err, rc, "line %ld: the import was stopped", line) : 0;
}

int lanes_finish(struct lanes *l, int rc, struct hub_err *err)
{
	if (!l)
		return rc;
	if (l->filling && l->filling->nrec)
		push(l);
	pthread_mutex_lock(&l->mu);
	l->closing = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
	for (int i = 0; i < l->n; i++)
		pthread_join(l->lane[i].thread, NULL);
	if (l->failed) {
		rc = l->err.code;
		*err = l->err;
	}
	lanes_free(l);
	return rc;
}
