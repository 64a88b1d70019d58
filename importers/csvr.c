/* CSV records on libcsv. libcsv reports fields and record ends but not
 * where they are, so the input is handed to it one physical line at a time
 * and the line counter moves between the pieces. */
#include "csvr.h"

#include "err.h"

#include <csv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CSVR_MAX_RECORD (64u << 20) /* bytes of one record */
#define CSVR_MAX_FIELDS 20000
#define CSVR_SNIFF_MAX (1u << 20)   /* bytes read before the delimiter is chosen */

struct csvr {
	struct csv_parser p;
	csvr_record_fn fn;
	void *cls;
	char delim;
	bool started;   /* BOM and delimiter settled */
	bool prev_cr;   /* the last byte fed was a CR (CRLF split across pieces) */
	bool in_record; /* bytes of an unfinished record have been fed */
	bool ended;     /* a record ended inside the current piece */
	long line;      /* physical line of the next byte */
	long rec_line;  /* line where the current record started */
	int cb_rc;      /* first negative callback return */
	/* the record being assembled: field bytes (each NUL-terminated) */
	char *bytes;
	size_t blen, bcap;
	size_t *offs, *lens;
	size_t nf, fcap;
	struct csvr_field *fields;
	bool too_big;
	/* bytes held back until the delimiter is known */
	char *sniff;
	size_t slen;
};

static int csvr_no_space(unsigned char c)
{
	(void)c;
	return 0; /* keep spaces and tabs: values round-trip as written */
}

int csvr_new(struct csvr **out, char delim, csvr_record_fn fn, void *cls, struct hub_err *err)
{
	struct csvr *r = calloc(1, sizeof(*r));

	if (!r || csv_init(&r->p, CSV_APPEND_NULL) != 0) {
		free(r);
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	}
	csv_set_space_func(&r->p, csvr_no_space);
	r->fn = fn;
	r->cls = cls;
	r->delim = delim;
	r->line = 1;
	*out = r;
	return 0;
}

void csvr_free(struct csvr *r)
{
	if (!r)
		return;
	csv_free(&r->p);
	free(r->bytes);
	free(r->offs);
	free(r->lens);
	free(r->fields);
	free(r->sniff);
	free(r);
}

char csvr_delim(const struct csvr *r)
{
	return r->started ? r->delim : 0;
}

long csvr_record_line(const struct csvr *r)
{
	return r->rec_line;
}

static void on_field(void *s, size_t len, void *data)
{
	struct csvr *r = data;

	if (r->too_big)
		return;
	if (r->nf == r->fcap) {
		size_t nc = r->fcap ? r->fcap * 2 : 64;
		size_t *no, *nl;

		if (nc > CSVR_MAX_FIELDS) {
			r->too_big = true;
			return;
		}
		no = realloc(r->offs, nc * sizeof(*no));
		if (no)
			r->offs = no;
		nl = realloc(r->lens, nc * sizeof(*nl));
		if (nl)
			r->lens = nl;
		if (!no || !nl) {
			r->too_big = true;
			return;
		}
		r->fcap = nc;
	}
	if (r->blen + len + 1 > r->bcap) {
		size_t nc = r->bcap ? r->bcap : 4096;
		char *nb;

		while (nc < r->blen + len + 1)
			nc *= 2;
		if (nc > CSVR_MAX_RECORD || !(nb = realloc(r->bytes, nc))) {
			r->too_big = true;
			return;
		}
		r->bytes = nb;
		r->bcap = nc;
	}
	if (len)
		memcpy(r->bytes + r->blen, s, len);
	r->bytes[r->blen + len] = '\0';
	r->offs[r->nf] = r->blen;
	r->lens[r->nf] = len;
	r->blen += len + 1;
	r->nf++;
}

static void on_record(int c, void *data)
{
	struct csvr *r = data;
	int rc;

	(void)c;
	r->ended = true;
	r->in_record = false;
	if (r->cb_rc < 0)
		goto reset;
	if (r->too_big) {
		r->cb_rc = HUB_ETOOBIG;
		goto reset;
	}
	if (r->nf) {
		struct csvr_field *nf = realloc(r->fields, r->nf * sizeof(*nf));

		if (!nf) {
			r->cb_rc = HUB_ENOMEM;
			goto reset;
		}
		r->fields = nf;
		for (size_t i = 0; i < r->nf; i++) {
			r->fields[i].s = r->bytes + r->offs[i];
			r->fields[i].len = r->lens[i];
		}
		rc = r->fn(r->cls, r->rec_line, r->fields, r->nf);
		if (rc < 0)
			r->cb_rc = rc;
	}
reset:
	r->nf = 0;
	r->blen = 0;
}

/* Feeds one piece that holds at most one line end, at its end. */
static int feed_piece(struct csvr *r, const char *p, size_t n, bool line_end, struct hub_err *err)
{
	bool content = false;

	if (!r->in_record)
		r->rec_line = r->line;
	r->ended = false;
	for (size_t i = 0; i < n && !content; i++)
		content = p[i] != '\n' && p[i] != '\r';
	if (csv_parse(&r->p, p, n, on_field, on_record, r) != n)
		return hub_err_set(err, HUB_EINVAL, "line %ld: %s", r->line,
				   csv_strerror(csv_error(&r->p)));
	if (r->cb_rc < 0)
		goto fail;
	if (r->too_big || csv_get_buffer_size(&r->p) > CSVR_MAX_RECORD) {
		r->cb_rc = HUB_ETOOBIG;
		goto fail;
	}
	if (!r->ended && content)
		r->in_record = true;
	if (line_end)
		r->line++;
	return 0;
fail:
	if (r->cb_rc == HUB_ETOOBIG)
		return hub_err_set(err, HUB_ETOOBIG,
				   "line %ld: the record starting here is over %u MiB or %d fields",
				   r->rec_line, CSVR_MAX_RECORD >> 20, CSVR_MAX_FIELDS);
	if (r->cb_rc == HUB_ENOMEM)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	return r->cb_rc;
}

/* Splits data at line ends (LF, CRLF or a lone CR) and feeds the pieces. */
static int feed_lines(struct csvr *r, const char *data, size_t len, struct hub_err *err)
{
	size_t i = 0, start = 0;
	int rc;

	if (len && r->prev_cr && data[0] == '\n') {
		/* the LF of a CRLF whose CR ended the last piece: no new line */
		r->line--;
		r->prev_cr = false;
	}
	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		const char *cr = memchr(data + i, '\r', (nl ? (size_t)(nl - data) : len) - i);
		size_t end;

		if (cr) {
			end = (size_t)(cr - data);
			if (end + 1 < len && data[end + 1] == '\n')
				end++;
		} else if (nl) {
			end = (size_t)(nl - data);
		} else {
			break;
		}
		rc = feed_piece(r, data + start, end + 1 - start, true, err);
		if (rc < 0)
			return rc;
		r->prev_cr = data[end] == '\r';
		i = start = end + 1;
	}
	if (start < len) {
		r->prev_cr = false;
		return feed_piece(r, data + start, len - start, false, err);
	}
	return 0;
}

/* Counts a candidate delimiter in the first line, outside quotes. */
static char detect_delim(const char *s, size_t n)
{
	size_t comma = 0, semi = 0, tab = 0;
	bool q = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '"')
			q = !q;
		else if (!q && (c == '\n' || c == '\r'))
			break;
		else if (!q && c == ',')
			comma++;
		else if (!q && c == ';')
			semi++;
		else if (!q && c == '\t')
			tab++;
	}
	if (tab > comma && tab > semi)
		return '\t';
	if (semi > comma)
		return ';';
	return ',';
}

static int start(struct csvr *r, struct hub_err *err)
{
	const char *s = r->sniff ? r->sniff : "";
	size_t n = r->slen;
	int rc;

	if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
		s += 3;
		n -= 3;
	}
	if (!r->delim)
		r->delim = detect_delim(s, n);
	csv_set_delim(&r->p, (unsigned char)r->delim);
	r->started = true;
	rc = feed_lines(r, s, n, err);
	free(r->sniff);
	r->sniff = NULL;
	r->slen = 0;
	return rc;
}

int csvr_feed(struct csvr *r, const char *data, size_t len, struct hub_err *err)
{
	if (r->started)
		return feed_lines(r, data, len, err);
	{
		char *ns = realloc(r->sniff, r->slen + len + 1);

		if (!ns)
			return hub_err_set(err, HUB_ENOMEM, "out of memory");
		r->sniff = ns;
		memcpy(ns + r->slen, data, len);
		r->slen += len;
		ns[r->slen] = '\0';
	}
	if (memchr(r->sniff, '\n', r->slen) || memchr(r->sniff, '\r', r->slen) ||
	    r->slen >= CSVR_SNIFF_MAX)
		return start(r, err);
	return 0;
}

int csvr_finish(struct csvr *r, struct hub_err *err)
{
	int rc;

	if (!r->started && (rc = start(r, err)) < 0)
		return rc;
	if (!r->in_record)
		r->rec_line = r->line;
	csv_fini(&r->p, on_field, on_record, r);
	if (r->cb_rc < 0) {
		if (r->cb_rc == HUB_ETOOBIG)
			return hub_err_set(err, HUB_ETOOBIG, "line %ld: the record is too big",
					   r->rec_line);
		return r->cb_rc;
	}
	return 0;
}
