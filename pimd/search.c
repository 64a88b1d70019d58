#include "search.h"
#include "err.h"
#include "hash.h"
#include "store.h"
#include "text.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SOURCES 12

struct source {
	int db;
	char prefix[TEXT_WORD_MAX + 208]; /* value NUL */
	size_t plen;
	struct pim_iter *it;
};

/* A cursor is the base64url of the listing's letter, the key its page
 * ended at, and 4 bytes of a SHA-256 of both: so garbage, a cut cursor or
 * one from another listing is refused (400) instead of starting a page
 * somewhere. Not a secret: it only says where the next page starts. */
#define CURSOR_CHECK 4

void pim_cursor_make(char listing, const char *key, char *out)
{
	char raw[1 + PIM_MAX_KEY + CURSOR_CHECK];
	size_t kl = strnlen(key, PIM_MAX_KEY);
	uint8_t d[HASH_SHA256_LEN];

	raw[0] = listing;
	memcpy(raw + 1, key, kl);
	hash_sha256(raw, 1 + kl, d);
	memcpy(raw + 1 + kl, d, CURSOR_CHECK);
	pim_b64url_encode(raw, 1 + kl + CURSOR_CHECK, out);
}

int pim_cursor_read(char listing, const char *cursor, char *out, size_t max)
{
	char raw[1 + PIM_MAX_KEY + CURSOR_CHECK];
	long n = pim_b64url_decode(cursor, raw, sizeof(raw));
	uint8_t d[HASH_SHA256_LEN];
	size_t kl;

	if (n < 2 + CURSOR_CHECK || raw[0] != listing)
		return -1;
	kl = (size_t)n - 1 - CURSOR_CHECK;
	hash_sha256(raw, 1 + kl, d);
	if (kl >= max || memcmp(raw + 1 + kl, d, CURSOR_CHECK) || memchr(raw + 1, 0, kl))
		return -1;
	memcpy(out, raw + 1, kl);
	out[kl] = 0;
	return 0;
}

static int add_source(struct source *s, int *n, int db, const char *val, size_t len)
{
	if (*n == MAX_SOURCES || len + 1 > sizeof(s[0].prefix))
		return HUB_EINVAL;
	s[*n].db = db;
	memcpy(s[*n].prefix, val, len);
	s[*n].prefix[len] = 0;
	s[*n].plen = len + 1;
	s[*n].it = NULL;
	(*n)++;
	return 0;
}

struct qctx {
	struct source *s;
	int *n;
	int rc;
};

static void q_word(void *cls, const char *w, size_t len)
{
	struct qctx *q = cls;

	for (int i = 0; i < *q->n; i++)
		if (q->s[i].db == PDB_IX_TOKEN && q->s[i].plen == len + 1 &&
		    !memcmp(q->s[i].prefix, w, len))
			return;
	if (add_source(q->s, q->n, PDB_IX_TOKEN, w, len) < 0)
		q->rc = HUB_EINVAL;
}

/* The first sku >= from (> from when exclusive) under the source's
 * prefix, into out; false past its end. */
static bool source_seek(struct source *s, const char *from, bool exclusive, char *out)
{
	char key[PIM_MAX_KEY + 1];
	size_t fl = strlen(from), kl;
	const void *k;
	size_t klen;

	if (s->plen + fl > PIM_MAX_KEY)
		fl = PIM_MAX_KEY - s->plen;
	memcpy(key, s->prefix, s->plen);
	memcpy(key + s->plen, from, fl);
	kl = s->plen + fl;
	if (pim_iter_seek(s->it, key, kl, &k, &klen, NULL, NULL) < 0)
		return false;
	if (exclusive && klen == kl && !memcmp(k, key, kl) &&
	    pim_iter_next(s->it, &k, &klen, NULL, NULL) < 0)
		return false;
	if (klen < s->plen || memcmp(k, s->prefix, s->plen))
		return false;
	memcpy(out, (const char *)k + s->plen, klen - s->plen);
	out[klen - s->plen] = 0;
	return true;
}

static bool updated_ok(struct pim_txn *t, const char *sku, int64_t since)
{
	const void *v;
	size_t vl;
	json_t *d;
	bool ok;

	if (since < 0)
		return true;
	if (pim_get(t, PDB_PRODUCTS, sku, strlen(sku), &v, &vl) < 0)
		return false;
	d = json_loadb(v, vl, 0, NULL);
	ok = pim_time_parse(json_string_value(json_object_get(d, "updated"))) >= since;
	json_decref(d);
	return ok;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* updated_since alone: a range of the time index, sorted by sku. */
static int by_updated(struct pim_txn *t, const struct pim_filter *f, json_t *skus, int *more,
		      struct hub_err *err)
{
	struct pim_iter *it;
	unsigned char from[8];
	const void *k;
	size_t kl, n = 0, cap = 256, found = 0;
	char **list = malloc(cap * sizeof(*list));
	int rc;

	if (!list)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	rc = pim_iter_open(t, PDB_IX_UPDATED, &it, err);
	if (rc < 0) {
		free(list);
		return rc;
	}
	pim_be64((uint64_t)f->updated_since, from);
	for (int r = pim_iter_seek(it, from, 8, &k, &kl, NULL, NULL); r == 0;
	     r = pim_iter_next(it, &k, &kl, NULL, NULL)) {
		char *s;

		if (kl <= 9)
			continue;
		s = strndup((const char *)k + 9, kl - 9);
		if (f->after && strcmp(s, f->after) <= 0) {
			free(s);
			continue;
		}
		if (n == cap) {
			char **nl = realloc(list, (cap *= 2) * sizeof(*list));

			if (!nl) {
				free(s);
				rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
				break;
			}
			list = nl;
		}
		list[n++] = s;
	}
	pim_iter_close(it);
	qsort(list, n, sizeof(*list), str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && found < f->limit) {
			json_array_append_new(skus, json_string(list[i]));
			found++;
		} else if (rc == 0) {
			*more = 1;
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

int pim_search(struct pim_txn *t, const struct pim_filter *f, json_t *skus, int *more,
	       struct hub_err *err)
{
	struct source src[MAX_SOURCES];
	int n = 0, rc = 0;
	char cand[PIM_MAX_KEY + 1], got[PIM_MAX_KEY + 1];
	bool exclusive = f->after != NULL, done = false;
	size_t found = 0;

	*more = 0;
	if (f->family && add_source(src, &n, PDB_IX_FAMILY, f->family, strlen(f->family)) < 0)
		goto toolong;
	if (f->category && add_source(src, &n, PDB_IX_CAT, f->category, strlen(f->category)) < 0)
		goto toolong;
	if (f->parent && add_source(src, &n, PDB_IX_PARENT, f->parent, strlen(f->parent)) < 0)
		goto toolong;
	if (f->complete && add_source(src, &n, PDB_IX_COMPLETE, f->complete, strlen(f->complete)) < 0)
		goto toolong;
	if (f->enabled >= 0 && add_source(src, &n, PDB_IX_ENABLED, f->enabled ? "1" : "0", 1) < 0)
		goto toolong;
	if (f->q) {
		char *folded = text_fold(f->q, strlen(f->q));
		struct qctx q = {src, &n, 0};

		if (!folded)
			return hub_err_set(err, HUB_EINVAL, "q is not UTF-8");
		text_words(folded, q_word, &q);
		free(folded);
		if (q.rc < 0)
			return hub_err_set(err, HUB_EINVAL, "q has too many words");
	}
	if (n == 0 && f->updated_since >= 0)
		return by_updated(t, f, skus, more, err);
	if (n == 0)
		add_source(src, &n, PDB_PRODUCTS, "", 0), src[0].plen = 0;
	for (int i = 0; i < n; i++) {
		rc = pim_iter_open(t, src[i].db, &src[i].it, err);
		if (rc < 0)
			goto out;
	}
	snprintf(cand, sizeof(cand), "%s", f->after ? f->after : "");
	/* leapfrog: every source seeks to the candidate; one that lands past it
	 * makes its sku the new candidate, until all agree */
	while (!done) {
		int agreed = 0, i = 0;

		while (agreed < n) {
			if (!source_seek(&src[i], cand, exclusive, got)) {
				done = true;
				break;
			}
			if (strcmp(got, cand) || exclusive) {
				memcpy(cand, got, strlen(got) + 1);
				exclusive = false;
				agreed = 1;
			} else {
				agreed++;
			}
			i = (i + 1) % n;
		}
		if (done)
			break;
		if (updated_ok(t, cand, f->updated_since)) {
			if (found == f->limit) {
				*more = 1;
				break;
			}
			json_array_append_new(skus, json_string(cand));
			found++;
		}
		exclusive = true;
	}
out:
	for (int i = 0; i < n; i++)
		pim_iter_close(src[i].it);
	return rc;
toolong:
	return hub_err_set(err, HUB_EINVAL, "a filter value is too long");
}
