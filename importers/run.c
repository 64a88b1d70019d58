/* imp_run: the format dispatch, the CSV/TSV driver and profile loading. */
#include "imp.h"

#include "akeneo.h"
#include "csvr.h"
#include "err.h"
#include "feeds.h"
#include "json.h"
#include "lanes.h"
#include "map.h"
#include "values.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_CHUNK (256u << 10)

static const char *const format_names[] = {"csv", "gmc-xml", "gmc-tsv", "bmecat", "jsonl"};

enum imp_format imp_format_parse(const char *name)
{
	for (int i = 0; i < IMP_FORMAT_NONE; i++)
		if (name && !strcmp(name, format_names[i]))
			return (enum imp_format)i;
	return IMP_FORMAT_NONE;
}

const char *imp_format_name(enum imp_format f)
{
	return f < IMP_FORMAT_NONE ? format_names[f] : "unknown";
}

const char *imp_default_profile(enum imp_format f)
{
	if (f == IMP_GMC_XML || f == IMP_GMC_TSV)
		return "gmc";
	if (f == IMP_BMECAT)
		return "bmecat";
	return NULL;
}

enum imp_format imp_format_sniff(const char *data, size_t len)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i < len && data[i] == '<') {
		if (memmem(data, len, "<BMECAT", 7))
			return IMP_BMECAT;
		if (memmem(data, len, "<rss", 4) || memmem(data, len, "<feed", 5))
			return IMP_GMC_XML;
		return IMP_FORMAT_NONE;
	}
	if (i < len && data[i] == '{')
		return IMP_JSONL;
	{
		const char *nl = memchr(data + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : len - i;

		if (n == 0)
			return IMP_FORMAT_NONE;
		if (memchr(data + i, '\t', n) && (memmem(data + i, n, "id\t", 3) == data + i))
			return IMP_GMC_TSV;
		return IMP_CSV;
	}
}

int imp_profile_load(const char *dir, const char *name, json_t **out, struct hub_err *err)
{
	char path[4096];
	json_error_t je;
	json_t *p;

	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
			return hub_err_set(err, HUB_EINVAL, "profile name '%s' is not a code", name);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	p = json_load_file(path, 0, &je);
	if (!p) {
		if (access(path, F_OK) < 0)
			return hub_err_set(err, HUB_ENOTFOUND, "there is no import profile '%s'", name);
		return hub_err_set(err, HUB_EIO, "profile '%s': line %d: %s", name, je.line, je.text);
	}
	if (!json_is_object(p)) {
		json_decref(p);
		return hub_err_set(err, HUB_EINVAL, "profile '%s' is not a JSON object", name);
	}
	*out = p;
	return 0;
}

int imp_check_utf8(int fd, struct imp_fault *where, struct hub_err *err)
{
	static char buf[RUN_CHUNK + 4];
	size_t carry = 0;
	uint64_t off = 0;
	long line = 1;
	ssize_t n;
	int rc = 0;

	for (;;) {
		size_t len, bad, ok_len;

		do
			n = read(fd, buf + carry, RUN_CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			rc = hub_err_set(err, HUB_EIO, "cannot read the file: %s", strerror(errno));
			break;
		}
		len = carry + (size_t)n;
		if (!len)
			break;
		/* keep an unfinished sequence at the end for the next read */
		ok_len = len;
		if (n > 0) {
			size_t k = 0;

			while (k < 3 && k < len && ((unsigned char)buf[len - 1 - k] & 0xC0) == 0x80)
				k++;
			if (k < len && ((unsigned char)buf[len - 1 - k] & 0xC0) == 0xC0)
				ok_len = len - k - 1;
		}
		if (!val_utf8_ok(buf, ok_len, &bad)) {
			for (size_t i = 0; i < bad; i++)
				if (buf[i] == '\n')
					line++;
			rc = hub_err_set(err, HUB_EINVAL,
					 "line %ld, byte %llu: the file is not UTF-8 (save it as "
					 "UTF-8 and import it again)",
					 line, (unsigned long long)(off + bad));
			if (where) {
				where->line = line;
				where->byte = (long long)(off + bad);
			}
			break;
		}
		for (size_t i = 0; i < ok_len; i++)
			if (buf[i] == '\n')
				line++;
		off += ok_len;
		carry = len - ok_len;
		memmove(buf, buf + ok_len, carry);
		if (n == 0) {
			if (carry) {
				rc = hub_err_set(err, HUB_EINVAL,
						 "line %ld, byte %llu: the file ends inside a UTF-8 "
						 "character",
						 line, (unsigned long long)off);
				if (where) {
					where->line = line;
					where->byte = (long long)off;
				}
			}
			break;
		}
	}
	if (lseek(fd, 0, SEEK_SET) < 0 && !rc)
		rc = hub_err_set(err, HUB_EIO, "cannot rewind the file: %s", strerror(errno));
	return rc;
}

struct tab {
	struct map *m;
	const struct imp_opts *o;
	const struct imp_sink *sink;
	struct akeneo *ak; /* an Akeneo structure file instead of products */
	struct lanes *lanes; /* rows mapped on other threads */
	long last_line;
	struct hub_err *err;
	bool header_done;
	struct map_cell *cells;
	size_t ncap;
	char *names;        /* the header's names, NUL-separated */
	const char **name_at;
	size_t nnames;
};

static int on_record(void *cls, long line, const struct csvr_field *f, size_t n)
{
	struct tab *t = cls;

	if (n > t->ncap) {
		struct map_cell *nc = realloc(t->cells, n * sizeof(*nc));

		if (!nc)
			return hub_err_set(t->err, HUB_ENOMEM, "out of memory");
		t->cells = nc;
		t->ncap = n;
	}
	if (!t->header_done) {
		size_t total = 0, off = 0;
		int rc;

		for (size_t i = 0; i < n; i++)
			total += f[i].len + 1;
		t->names = malloc(total ? total : 1);
		t->name_at = calloc(n ? n : 1, sizeof(*t->name_at));
		if (!t->names || !t->name_at)
			return hub_err_set(t->err, HUB_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			size_t len = f[i].len;
			const char *s = f[i].s;

			/* names are trimmed: spreadsheets pad them */
			while (len && (*s == ' '))
				s++, len--;
			while (len && s[len - 1] == ' ')
				len--;
			memcpy(t->names + off, s, len);
			t->names[off + len] = '\0';
			t->name_at[i] = t->names + off;
			off += len + 1;
		}
		t->nnames = n;
		for (size_t i = 0; i < n; i++) {
			t->cells[i].name = t->name_at[i];
			t->cells[i].s = t->name_at[i];
			t->cells[i].len = strlen(t->name_at[i]);
		}
		t->header_done = true;
		if (t->o && json_is_true(json_object_get(t->o->profile, "akeneo_structure")) &&
		    akeneo_is_structure(t->cells, n)) {
			if (akeneo_new(&t->ak, t->o, t->sink) < 0 ||
			    akeneo_header(t->ak, line, t->cells, n) < 0)
				return hub_err_set(t->err, HUB_ENOMEM, "out of memory");
			return 0;
		}
		rc = map_header(t->m, line, t->cells, n, t->err);
		if (rc < 0)
			return rc;
		if (lanes_wanted(t->m, t->sink))
			return lanes_start(&t->lanes, t->o, t->sink, map_row, line, t->cells, n,
					   t->err);
		return 0;
	}
	if (t->lanes)
		return lanes_add(t->lanes, line, f, n, t->err);
	t->last_line = line;
	for (size_t i = 0; i < n; i++) {
		t->cells[i].name = i < t->nnames ? t->name_at[i] : "";
		t->cells[i].s = f[i].s;
		t->cells[i].len = f[i].len;
	}
	if (t->ak) {
		int rc = akeneo_row(t->ak, line, t->cells, n);

		return rc < 0 ? hub_err_set(t->err, rc, "line %ld: the import was stopped", line) : 0;
	}
	return map_row(t->m, line, t->cells, n, t->err);
}

static int tabular_pass(int fd, struct map *m, const struct imp_opts *o, char delim,
			const struct imp_sink *sink, struct hub_err *err)
{
	static char chunk[RUN_CHUNK];
	struct tab t = {.m = m, .o = o, .sink = sink, .err = err};
	struct csvr *r = NULL;
	uint64_t total = 0;
	ssize_t n;
	int rc;

	rc = csvr_new(&r, delim, on_record, &t, err);
	if (rc < 0)
		return rc;
	for (;;) {
		do
			n = read(fd, chunk, sizeof(chunk));
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			rc = hub_err_set(err, HUB_EIO, "cannot read the file: %s", strerror(errno));
			goto out;
		}
		if (!n)
			break;
		total += (uint64_t)n;
		rc = csvr_feed(r, chunk, (size_t)n, err);
		if (rc < 0)
			goto at_record;
		if (sink->progress && sink->progress(sink->cls, total)) {
			rc = hub_err_set(err, HUB_EGONE, "the import was cancelled");
			goto out;
		}
	}
	rc = csvr_finish(r, err);
	if (rc < 0)
		goto at_record;
	rc = lanes_finish(t.lanes, 0, err);
	t.lanes = NULL;
	if (rc < 0)
		goto out;
	if (!t.header_done)
		rc = hub_err_set(err, HUB_EINVAL, "the file is empty: it has no header line");
	else if (t.ak)
		rc = akeneo_finish(t.ak, t.last_line) < 0
			     ? hub_err_set(err, HUB_EIO, "the structure could not be written")
			     : 0;
	else
		rc = map_finish(m, err);
	goto out;
at_record:
	/* the report names the line of the record that stopped the reader */
	if (o->fault && rc != HUB_EGONE)
		o->fault->line = csvr_record_line(r);
out:
	rc = lanes_finish(t.lanes, rc, err);
	akeneo_free(t.ak);
	csvr_free(r);
	free(t.cells);
	free(t.names);
	free(t.name_at);
	return rc;
}

static int tabular(int fd, const struct imp_opts *o, struct map *m, const struct imp_sink *sink,
		   struct hub_err *err)
{
	char delim = o->format == IMP_GMC_TSV ? '\t' : 0;
	const char *d = json_string_value(json_object_get(o->profile, "delimiter"));
	int rc;

	if (d && *d)
		delim = *d;
	if (!map_multipass(m))
		return tabular_pass(fd, m, o, delim, sink, err);
	/* Magento: who is whose variant is known only at the end */
	for (int phase = 1; phase <= 3; phase++) {
		struct map *pm = m;

		map_set_phase(pm, phase);
		if (lseek(fd, 0, SEEK_SET) < 0)
			return hub_err_set(err, HUB_EIO, "cannot rewind the file: %s", strerror(errno));
		rc = tabular_pass(fd, pm, o, delim, phase == 3 ? sink : &(struct imp_sink){0}, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int imp_run(int fd, const struct imp_opts *o, const struct imp_sink *sink, struct hub_err *err)
{
	struct map *m = NULL;
	int rc;

	if (o->format >= IMP_FORMAT_NONE)
		return hub_err_set(err, HUB_EINVAL, "unknown format");
	if (o->format == IMP_CSV || o->format == IMP_GMC_TSV || o->format == IMP_JSONL) {
		rc = imp_check_utf8(fd, o->fault, err);
		if (rc < 0)
			return rc;
	}
	rc = map_new(&m, o, sink, err);
	if (rc < 0)
		return rc;
	switch (o->format) {
	case IMP_CSV:
	case IMP_GMC_TSV:
		rc = tabular(fd, o, m, sink, err);
		break;
	case IMP_GMC_XML:
		rc = gmc_xml_read(fd, m, o, sink, err);
		break;
	case IMP_BMECAT:
		rc = bmecat_read(fd, m, o, sink, err);
		break;
	case IMP_JSONL:
		rc = jsonl_read(fd, m, o, sink, err);
		break;
	default:
		rc = hub_err_set(err, HUB_EINVAL, "unknown format");
	}
	map_free(m);
	return rc;
}
