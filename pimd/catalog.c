/* Product and schema writes: validation, versions, completeness, secondary
 * indexes, history and the change feed, each write in one LMDB write
 * transaction with its indexes. */
#include "app.h"
#include "assets.h"
#include "buf.h"
#include "cache.h"
#include "catalog_int.h"
#include "err.h"
#include "hash.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "refresh.h"
#include "schema.h"
#include "store.h"
#include "text.h"
#include "util.h"
#include "validate.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 256
#define REFRESH_CHUNK 4096
#define ASSET_INDEX_KEY "ix_asset" /* in meta: every product's assets are in ix_asset */

struct pim_batch {
	struct pim_app *app;
	struct pim_catalog *c;
	struct pim_schema *schema;
	struct pim_txn *txn;
	char by[64];
	bool dry_run;
	bool schema_changed;
	bool lazy;
	bool flush;      /* drop every cached projection after commit */
	bool assets_moved; /* an asset's usability changed: bump assets_gen after commit */
	bool refresh_queued; /* a schema change left products for the refresher */
	int64_t now;
	char now_s[32];
	uint64_t seq;
	json_t *touched; /* object: sku → true, invalidated after commit */
	struct buf pending; /* deferred index writes: [db][del][len u16 LE][key]… */
};

/* ---- packed index keys ---- */

struct ixk {
	uint64_t head; /* db and the key's first 7 bytes: most comparisons end here */
	unsigned char db;
	unsigned short len;
	const char *key;
};

static struct ixk ixk_make(int db, const char *key, size_t len)
{
	struct ixk k = {(uint64_t)db << 56, (unsigned char)db, (unsigned short)len, key};

	for (unsigned i = 0; i < 7 && i < len; i++)
		k.head |= (uint64_t)(unsigned char)key[i] << (48 - 8 * i);
	return k;
}

/* Index keys gathered packed in mem, then sorted into v by keys_sort. */
struct keyset {
	struct buf mem;
	struct ixk *v; /* n sorted keys without duplicates, into mem */
	size_t n;
};

#define KEYSET_INIT {BUF_INIT, NULL, 0}

static void keys_add(struct keyset *ks, int db, const char *a, size_t al, const char *sku)
{
	size_t sl = strlen(sku), kl = al + 1 + sl;
	unsigned char hdr[3];

	if (db == PDB_UNIQUE)
		kl = al; /* attribute NUL value: the value is the sku */
	if (kl > PIM_MAX_KEY)
		return;
	hdr[0] = (unsigned char)db;
	hdr[1] = (unsigned char)(kl & 0xff);
	hdr[2] = (unsigned char)(kl >> 8);
	buf_add(&ks->mem, hdr, 3);
	buf_add(&ks->mem, a, al);
	if (db != PDB_UNIQUE) {
		buf_addc(&ks->mem, 0);
		buf_add(&ks->mem, sku, sl);
	}
}

static int ixk_cmp(const void *x, const void *y)
{
	const struct ixk *a = x, *b = y;
	int c;

	if (a->head != b->head)
		return a->head < b->head ? -1 : 1;
	c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* Parses packed keys (mem must outlive the result) into a sorted vector
 * without duplicates. */
static int keys_parse(const char *mem, size_t len, struct ixk **out, size_t *n)
{
	size_t cap = 16, cnt = 0, o = 0;
	struct ixk *v = malloc(cap * sizeof(*v));

	if (!v)
		return HUB_ENOMEM;
	while (o + 3 <= len) {
		const unsigned char *h = (const unsigned char *)mem + o;
		size_t kl = h[1] | (size_t)h[2] << 8;

		if (o + 3 + kl > len)
			break;
		if (cnt == cap) {
			struct ixk *nv = realloc(v, (cap *= 2) * sizeof(*v));

			if (!nv) {
				free(v);
				return HUB_ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = ixk_make(h[0], mem + o + 3, kl);
		o += 3 + kl;
	}
	/* a product's few dozen keys: an insertion sort on the heads beats
	 * qsort's calls through a pointer */
	if (cnt > 128) {
		qsort(v, cnt, sizeof(*v), ixk_cmp);
	} else {
		for (size_t i = 1; i < cnt; i++) {
			struct ixk k = v[i];
			size_t j = i;

			for (; j > 0 && (v[j - 1].head > k.head ||
					 (v[j - 1].head == k.head && ixk_cmp(&v[j - 1], &k) > 0));
			     j--)
				v[j] = v[j - 1];
			v[j] = k;
		}
	}
	{
		size_t w = 0;

		for (size_t i = 0; i < cnt; i++)
			if (!w || ixk_cmp(&v[w - 1], &v[i]))
				v[w++] = v[i];
		cnt = w;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* Serialises a sorted vector back to packed form. */
static void keys_pack(struct ixk *v, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char hdr[3] = {v[i].db, (unsigned char)(v[i].len & 0xff),
					(unsigned char)(v[i].len >> 8)};

		buf_add(out, hdr, 3);
		buf_add(out, v[i].key, v[i].len);
	}
}

static int keys_sort(struct keyset *ks)
{
	if (ks->v)
		return 0;
	return keys_parse(ks->mem.data ? ks->mem.data : "", ks->mem.len, &ks->v, &ks->n);
}

/* Adds a key to the sorted keys of ks; its bytes must outlive ks's use. */
static int keys_insert(struct keyset *ks, int db, const char *key, size_t len)
{
	struct ixk k = ixk_make(db, key, len), *v;
	size_t at = ks->n;

	if (len > PIM_MAX_KEY)
		return 0;
	v = realloc(ks->v, (ks->n + 1) * sizeof(*v));
	if (!v)
		return HUB_ENOMEM;
	ks->v = v;
	while (at > 0 && ixk_cmp(&v[at - 1], &k) > 0)
		at--;
	if (at > 0 && !ixk_cmp(&v[at - 1], &k))
		return 0;
	memmove(v + at + 1, v + at, (ks->n - at) * sizeof(*v));
	v[at] = k;
	ks->n++;
	return 0;
}

static void keys_release(struct keyset *ks)
{
	buf_release(&ks->mem);
	free(ks->v);
	ks->v = NULL;
	ks->n = 0;
}

/* A product's words, each once: descriptions repeat their words, and
 * MAX_TOKENS counts distinct ones. seen is open addressing on the word,
 * at most half full: where its key starts in ks->mem + 1 (0: free). */
struct tokctx {
	struct keyset *ks;
	const char *sku;
	size_t sku_len;
	int count;
	uint32_t seen[2 * MAX_TOKENS];
};

static void token_cb(void *cls, const char *w, size_t len)
{
	struct tokctx *t = cls;
	size_t mask = sizeof(t->seen) / sizeof(t->seen[0]) - 1, i, at;
	const unsigned char *mem;

	if (t->count >= MAX_TOKENS)
		return;
	for (i = hash_fnv1a_n(w, len) & mask; t->seen[i]; i = (i + 1) & mask) {
		/* a token key is 3 header bytes, the word, NUL, the sku */
		mem = (const unsigned char *)t->ks->mem.data + t->seen[i] - 1;
		if ((size_t)(mem[1] | mem[2] << 8) == len + 1 + t->sku_len && !memcmp(mem + 3, w, len))
			return;
	}
	at = t->ks->mem.len;
	keys_add(t->ks, PDB_IX_TOKEN, w, len, t->sku);
	/* too long to be a key, or out of memory part way */
	if (t->ks->mem.len != at + 3 + len + 1 + t->sku_len || at >= UINT32_MAX)
		return;
	t->seen[i] = (uint32_t)at + 1;
	t->count++;
}

static void tokens_of(struct tokctx *t, const char *text)
{
	char *f = text_fold(text, strlen(text));

	if (f) {
		text_words(f, token_cb, t);
		free(f);
	}
}

size_t pim_unique_key(const char *attr, json_t *data, char *out, size_t max);

/* The ix_asset keys of one asset or asset collection value's entries. */
static void asset_keys(struct keyset *ks, json_t *entries, const char *sku)
{
	json_t *e, *d, *id;
	size_t i, j;

	json_array_foreach(entries, i, e) {
		d = json_object_get(e, "data");
		if (json_is_string(d))
			keys_add(ks, PDB_IX_ASSET, json_string_value(d), json_string_length(d), sku);
		json_array_foreach(d, j, id)
			if (json_is_string(id))
				keys_add(ks, PDB_IX_ASSET, json_string_value(id), json_string_length(id), sku);
	}
}

/* A product's completeness for each channel/locale pair of the schema
 * (s->chlocs, in order), worked out in C: the write path writes it straight
 * into the stored document, where a JSON tree would cost dozens of
 * allocations a product. */
struct comp {
	size_t n;             /* pairs */
	unsigned char *ratio; /* per pair, 0–100 */
	size_t *first;        /* pair i misses codes[first[i]] to codes[first[i + 1]] */
	const char **codes;   /* attribute codes, borrowed from the schema */
	size_t ncodes, cap;
};

#define COMP_INIT {0, NULL, NULL, NULL, 0, 0}

static void comp_release(struct comp *c)
{
	free(c->ratio);
	free(c->first);
	free(c->codes);
	memset(c, 0, sizeof(*c));
}

/* Every index key of a product but its ix_updated one (see keys_updated):
 * doc is its document, comp its completeness. */
static void keys_collect(const struct pim_schema *s, json_t *doc, const struct comp *comp,
			 json_t *resolved, struct keyset *ks)
{
	const char *sku = json_string_value(json_object_get(doc, "sku"));
	const char *fam = json_string_value(json_object_get(doc, "family"));
	const char *parent = json_string_value(json_object_get(doc, "parent"));
	json_t *v, *e, *arr;
	const char *k;
	size_t i, j;
	struct tokctx tc = {ks, sku, strlen(sku), 0, {0}};

	keys_add(ks, PDB_IX_FAMILY, fam, strlen(fam), sku);
	keys_add(ks, PDB_IX_ENABLED, json_is_true(json_object_get(doc, "enabled")) ? "1" : "0", 1,
		 sku);
	if (parent)
		keys_add(ks, PDB_IX_PARENT, parent, strlen(parent), sku);
	json_array_foreach(json_object_get(doc, "categories"), i, v) {
		json_t *path = pim_schema_cat_path(s, json_string_value(v));

		json_array_foreach(path, j, e)
			keys_add(ks, PDB_IX_CAT, json_string_value(e), strlen(json_string_value(e)), sku);
	}
	for (i = 0; i < comp->n; i++)
		if (comp->ratio[i] == 100)
			keys_add(ks, PDB_IX_COMPLETE, s->chlocs[i].key, strlen(s->chlocs[i].key), sku);
	/* unique values: the product's own, not inherited ones */
	json_object_foreach(json_object_get(doc, "values"), k, arr) {
		const struct pim_attr *a = pim_schema_attr(s, k);

		if (!a || !a->unique || a->type == PT_IDENTIFIER)
			continue;
		json_array_foreach(arr, i, e) {
			char key[PIM_MAX_KEY];
			size_t kl = pim_unique_key(k, json_object_get(e, "data"), key, sizeof(key));

			keys_add(ks, PDB_UNIQUE, key, kl, sku);
		}
	}
	tokens_of(&tc, sku);
	/* full text: the family's label attribute and every text attribute
	 * whose code says it is a name or a description; and the assets it
	 * shows, inherited ones too, whose deletion or expiry changes its
	 * completeness */
	{
		const struct pim_family *f = pim_schema_family(s, fam);
		const char *label = f ? json_string_value(json_object_get(f->doc, "label_attribute")) : NULL;

		json_object_foreach(resolved, k, arr) {
			const struct pim_attr *a = pim_schema_attr(s, k);

			if (a && (a->type == PT_ASSET || a->type == PT_ASSET_COLLECTION))
				asset_keys(ks, arr, sku);
			if (!a || (a->type != PT_TEXT && a->type != PT_TEXTAREA))
				continue;
			if (!(label && !strcmp(k, label)) && !strstr(k, "name") && !strstr(k, "description"))
				continue;
			json_array_foreach(arr, i, e) {
				const char *text = json_string_value(json_object_get(e, "data"));

				if (text)
					tokens_of(&tc, text);
			}
		}
	}
}

static void keys_updated(struct keyset *ks, int64_t updated_ms, const char *sku)
{
	unsigned char be[8];

	pim_be64((uint64_t)updated_ms, be);
	keys_add(ks, PDB_IX_UPDATED, (const char *)be, 8, sku);
}

/* The ix_updated key of sku (as keys_updated adds it) in key; its length. */
static size_t updated_key(int64_t updated_ms, const char *sku, char key[PIM_MAX_KEY + 10])
{
	size_t sl = strnlen(sku, PIM_MAX_KEY);

	pim_be64((uint64_t)updated_ms, (unsigned char *)key);
	key[8] = 0;
	memcpy(key + 9, sku, sl);
	return 9 + sl;
}

/* The pure index databases: nothing in the write path reads them back
 * (except refresh_index and schema deletes, which apply the pending writes
 * first), so their writes wait for the end of the batch. Applied then in key
 * order through one cursor per database, most of them land on a page the
 * cursor already holds instead of each descending the tree from its root. */
static bool deferred_db(int db)
{
	return db == PDB_IX_FAMILY || db == PDB_IX_CAT || db == PDB_IX_ENABLED ||
	       db == PDB_IX_UPDATED || db == PDB_IX_COMPLETE || db == PDB_IX_TOKEN ||
	       db == PDB_IX_ASSET;
}

static void pending_add(struct pim_batch *b, const struct ixk *k, bool del)
{
	unsigned char hdr[4] = {k->db, del, (unsigned char)(k->len & 0xff),
				(unsigned char)(k->len >> 8)};

	buf_add(&b->pending, hdr, 4);
	buf_add(&b->pending, k->key, k->len);
}

struct pop {
	struct ixk k;
	bool del;
	size_t seq; /* order of arrival: a key put then deleted stays deleted */
};

static int pop_cmp(const void *x, const void *y)
{
	const struct pop *a = x, *b = y;
	int c;

	c = ixk_cmp(&a->k, &b->k);
	return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts v by pop_cmp: a stable radix sort on the heads (arrival order kept
 * among equal heads), then the runs of equal heads by their whole keys,
 * which they mostly are already when products arrive in key order. Many
 * times cheaper than qsort's comparisons on the tens of thousands of
 * entries of a large transaction. */
static void pops_sort(struct pop *v, size_t n)
{
	struct pop *tmp = n > 64 ? malloc(n * sizeof(*tmp)) : NULL, *src = v, *dst = tmp;

	if (!tmp) {
		qsort(v, n, sizeof(*v), pop_cmp);
		return;
	}
	for (unsigned shift = 0; shift < 64; shift += 8) {
		size_t count[256] = {0}, pos = 0;

		for (size_t i = 0; i < n; i++)
			count[(src[i].k.head >> shift) & 0xff]++;
		if (count[(src[0].k.head >> shift) & 0xff] == n)
			continue; /* every head has the same byte here */
		for (unsigned d = 0; d < 256; d++) {
			size_t c = count[d];

			count[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i].k.head >> shift) & 0xff]++] = src[i];
		tmp = src;
		src = dst;
		dst = tmp;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(src != v ? src : dst);
	for (size_t i = 0, j; i < n; i = j) {
		bool sorted = true;

		for (j = i + 1; j < n && v[j].k.head == v[i].k.head; j++)
			if (sorted && pop_cmp(&v[j - 1], &v[j]) > 0)
				sorted = false;
		if (!sorted)
			qsort(v + i, j - i, sizeof(*v), pop_cmp);
	}
}

/* Applies the deferred index writes, sorted, and forgets them. */
static int pending_apply(struct pim_batch *b, struct hub_err *err)
{
	const char *mem = b->pending.data;
	size_t len = b->pending.len, n = 0, cap = 0, o = 0;
	struct pop *v = NULL;
	int rc = 0;

	if (!len)
		return 0;
	for (o = 0; o + 4 <= len; n++)
		o += 4 + ((unsigned char)mem[o + 2] | (size_t)(unsigned char)mem[o + 3] << 8);
	cap = n;
	v = malloc(cap * sizeof(*v));
	if (!v)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	for (o = 0, n = 0; n < cap; n++) {
		const unsigned char *h = (const unsigned char *)mem + o;

		v[n].k = ixk_make(h[0], mem + o + 4, (size_t)(h[2] | h[3] << 8));
		v[n].del = h[1];
		v[n].seq = n;
		o += 4 + v[n].k.len;
	}
	pops_sort(v, n);
	for (size_t i = 0; i < n && rc == 0;) {
		struct pim_iter *it = NULL;
		size_t j = i;

		rc = pim_iter_open(b->txn, v[i].k.db, &it, err);
		for (; rc == 0 && j < n && v[j].k.db == v[i].k.db; j++)
			rc = v[j].del ? pim_iter_del(it, v[j].k.key, v[j].k.len, err)
				      : pim_iter_put(it, v[j].k.key, v[j].k.len, "", 0, err);
		pim_iter_close(it);
		i = j;
	}
	free(v);
	buf_reset(&b->pending);
	/* one huge batch must not pin its buffer for the batch's lifetime */
	if (b->pending.cap > (8u << 20))
		buf_release(&b->pending);
	return rc;
}

/* Brings the index entries of sku from what was written before to ks. */
static int keys_apply(struct pim_batch *b, const char *sku, struct keyset *ks, bool deleting,
		      struct hub_err *err)
{
	struct pim_txn *t = b->txn;
	const void *ov;
	size_t ovl, on = 0, nn = 0, i = 0, j = 0;
	char *old = NULL;
	struct ixk *ovec = NULL, *nvec;
	struct buf packed = BUF_INIT;
	size_t sl = strlen(sku);
	int rc = 0;

	if (pim_get(t, PDB_IXKEYS, sku, sl, &ov, &ovl) == 0) {
		old = malloc(ovl + 1);
		if (!old)
			return hub_err_set(err, HUB_ENOMEM, "out of memory");
		memcpy(old, ov, ovl);
		rc = keys_parse(old, ovl, &ovec, &on);
	}
	if (rc == 0)
		rc = keys_sort(ks);
	nvec = ks->v;
	nn = ks->n;
	if (rc < 0) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	while (rc == 0 && (i < on || j < nn)) {
		int c = i == on ? 1 : j == nn ? -1 : ixk_cmp(&ovec[i], &nvec[j]);

		if (c < 0 && deferred_db(ovec[i].db)) {
			pending_add(b, &ovec[i], true);
			i++;
		} else if (c < 0) {
			rc = pim_del(t, ovec[i].db, ovec[i].key, ovec[i].len, err);
			i++;
		} else if (c > 0 && deferred_db(nvec[j].db)) {
			pending_add(b, &nvec[j], false);
			j++;
		} else if (c > 0) {
			rc = pim_put(t, nvec[j].db, nvec[j].key, nvec[j].len,
				     nvec[j].db == PDB_UNIQUE ? sku : "", nvec[j].db == PDB_UNIQUE ? sl : 0,
				     err);
			j++;
		} else {
			i++;
			j++;
		}
	}
	if (rc < 0)
		goto out;
	if (deleting) {
		rc = pim_del(t, PDB_IXKEYS, sku, sl, err);
	} else {
		keys_pack(nvec, nn, &packed);
		rc = pim_put(t, PDB_IXKEYS, sku, sl, packed.data ? packed.data : "", packed.len, err);
	}
out:
	buf_release(&packed);
	free(ovec);
	free(old);
	return rc;
}

/* ---- completeness and values ---- */

json_t *pim_value_pick(const struct pim_attr *a, json_t *entries, const char *channel,
		       const char *locale)
{
	json_t *best = NULL, *e;
	int best_score = 0;
	size_t i;

	json_array_foreach(entries, i, e) {
		const char *l = json_string_value(json_object_get(e, "locale"));
		const char *c = json_string_value(json_object_get(e, "channel"));
		int score;

		if (a->localizable ? !l || !locale || strcmp(l, locale) : l != NULL)
			continue;
		if (c && (!channel || strcmp(c, channel)))
			continue;
		score = c ? 2 : 1;
		if (score > best_score) {
			best = e;
			best_score = score;
		}
	}
	return best;
}

/* How completeness judges asset values: an id fills a required attribute
 * only while pim_asset_usable, as projections show it. Each value is
 * judged once, though the same one is picked for every channel and locale. */
struct asset_check {
	struct pim_txn *t;       /* where records are read, */
	struct pim_store *store; /* else a read begun on this; with neither, every id counts */
	bool own;                /* t was begun here, on first need */
	bool used;               /* a record was asked for: the result depends on them */
	bool failed;             /* no transaction could be begun: ids counted */
	char today[16];
	size_t n;
	json_t *seen[8];         /* values judged (borrowed) */
	bool usable[8];
};

static bool asset_id_usable(struct asset_check *ac, const char *id)
{
	if (!ac->t && ac->store && !ac->failed) {
		ac->own = pim_txn_begin(ac->store, false, &ac->t, NULL) == 0;
		ac->failed = !ac->own;
	}
	if (!ac->t)
		return true;
	ac->used = true;
	if (!*ac->today)
		pim_asset_today(ac->today);
	return pim_asset_usable_id(ac->t, id, ac->today);
}

/* An asset value fills its attribute when one of its ids is usable. */
static bool assets_filled(struct asset_check *ac, json_t *d)
{
	json_t *id;
	size_t i;
	bool ok = false;

	for (i = 0; i < ac->n; i++)
		if (ac->seen[i] == d)
			return ac->usable[i];
	if (json_is_string(d))
		ok = json_string_length(d) > 0 && asset_id_usable(ac, json_string_value(d));
	json_array_foreach(d, i, id)
		if (json_is_string(id) && asset_id_usable(ac, json_string_value(id))) {
			ok = true;
			break;
		}
	if (ac->n < sizeof(ac->seen) / sizeof(ac->seen[0])) {
		ac->seen[ac->n] = d;
		ac->usable[ac->n++] = ok;
	}
	return ok;
}

static void asset_check_release(struct asset_check *ac)
{
	if (ac->own)
		pim_txn_abort(ac->t);
}

static bool filled(const struct pim_attr *a, json_t *entry, json_t *currencies,
		   struct asset_check *ac)
{
	json_t *d = json_object_get(entry, "data"), *p, *c;
	size_t i, j;

	if (!d || json_is_null(d))
		return false;
	if (a->type == PT_ASSET || a->type == PT_ASSET_COLLECTION)
		return assets_filled(ac, d);
	if (json_is_string(d))
		return json_string_length(d) > 0;
	if (a->type == PT_PRICE) {
		json_array_foreach(d, i, p)
			json_array_foreach(currencies, j, c)
				if (json_equal(json_object_get(p, "currency"), c))
					return true;
		return false;
	}
	if (json_is_array(d))
		return json_array_size(d) > 0;
	return true;
}

static int comp_of(const struct pim_schema *s, const char *family, json_t *resolved,
		   struct asset_check *check, struct comp *c)
{
	const struct pim_family *fam = pim_schema_family(s, family);
	json_t *a;
	size_t i, j;

	c->n = s->nchlocs;
	c->ratio = malloc(c->n + 1);
	c->first = malloc((c->n + 1) * sizeof(*c->first));
	if (!c->ratio || !c->first)
		return HUB_ENOMEM;
	for (i = 0; i < s->nchlocs; i++) {
		const struct pim_chloc *cl = &s->chlocs[i];
		json_t *req = fam ? json_object_get(fam->requirements, cl->channel) : NULL;
		size_t nreq = 0;

		c->first[i] = c->ncodes;
		json_array_foreach(req, j, a) {
			const char *ac = json_string_value(a);
			const struct pim_attr *at;

			if (!ac)
				continue;
			nreq++;
			if (!strcmp(ac, "sku"))
				continue;
			at = pim_schema_attr(s, ac);
			if (at && filled(at, pim_value_pick(at, json_object_get(resolved, ac), cl->channel,
							    cl->locale),
					 cl->currencies, check))
				continue;
			if (c->ncodes == c->cap) {
				size_t cap = c->cap ? c->cap * 2 : 16;
				const char **codes = realloc(c->codes, cap * sizeof(*codes));

				if (!codes)
					return HUB_ENOMEM;
				c->codes = codes;
				c->cap = cap;
			}
			c->codes[c->ncodes++] = ac;
		}
		c->ratio[i] = (unsigned char)(nreq ? (nreq - (c->ncodes - c->first[i])) * 100 / nreq : 100);
	}
	c->first[c->n] = c->ncodes;
	return 0;
}

/* As pim_json_write writes comp_json's tree. */
static int comp_write(const struct pim_schema *s, const struct comp *c, struct buf *out)
{
	int rc = buf_addc(out, '{');

	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		rc = buf_adds(out, i ? ",\"" : "\"");
		if (rc == 0)
			rc = buf_add_json_escaped(out, s->chlocs[i].key, strlen(s->chlocs[i].key));
		if (rc == 0)
			rc = buf_adds(out, "\":{\"ratio\":");
		if (rc == 0)
			rc = buf_add_int(out, c->ratio[i]);
		if (rc == 0)
			rc = buf_adds(out, ",\"missing\":[");
		for (size_t k = c->first[i]; rc == 0 && k < c->first[i + 1]; k++) {
			rc = buf_adds(out, k > c->first[i] ? ",\"" : "\"");
			if (rc == 0)
				rc = buf_add_json_escaped(out, c->codes[k], strlen(c->codes[k]));
			if (rc == 0)
				rc = buf_addc(out, '"');
		}
		if (rc == 0)
			rc = buf_adds(out, "]}");
	}
	return rc ? rc : buf_addc(out, '}');
}

/* {"channel/locale":{"ratio","missing":[codes]}} as products store it. */
static json_t *comp_json(const struct pim_schema *s, const struct comp *c)
{
	json_t *out = json_object();

	for (size_t i = 0; i < c->n; i++) {
		json_t *missing = json_array();

		for (size_t k = c->first[i]; k < c->first[i + 1]; k++)
			json_array_append_new(missing, json_string(c->codes[k]));
		json_object_set_new_nocheck(out, s->chlocs[i].key,
					    json_pack("{s:i,s:o}", "ratio", (int)c->ratio[i], "missing",
						      missing));
	}
	return out;
}

json_t *pim_completeness(const struct pim_schema *s, const char *family, json_t *resolved,
			 struct pim_txn *t)
{
	struct asset_check check = {.t = t};
	struct comp c = COMP_INIT;
	json_t *out = comp_of(s, family, resolved, &check, &c) == 0 ? comp_json(s, &c) : NULL;

	comp_release(&c);
	return out;
}

/* ---- history and changes ---- */

static void history_key(const char *sku, uint32_t version, char *key, size_t *kl)
{
	size_t sl = strlen(sku);

	memcpy(key, sku, sl);
	key[sl] = 0;
	key[sl + 1] = (char)(version >> 24);
	key[sl + 2] = (char)(version >> 16);
	key[sl + 3] = (char)(version >> 8);
	key[sl + 4] = (char)version;
	*kl = sl + 5;
}

/* The newest version ever recorded for sku (0: none), so that a product
 * created again after a delete carries on counting. */
static long last_version(struct pim_txn *t, const char *sku)
{
	char key[PIM_MAX_KEY + 8];
	struct pim_iter *it;
	const void *k;
	size_t kl, sl = strlen(sku);
	long v = 0;
	int rc;

	history_key(sku, 0xffffffffu, key, &kl);
	if (pim_iter_open(t, PDB_HISTORY, &it, NULL) < 0)
		return 0;
	if (pim_iter_seek(it, key, kl, &k, &kl, NULL, NULL) == 0)
		rc = pim_iter_prev(it, &k, &kl, NULL, NULL);
	else
		rc = pim_iter_last(it, &k, &kl, NULL, NULL);
	if (rc == 0 && kl == sl + 5 && !memcmp(k, sku, sl + 1)) {
		const unsigned char *p = (const unsigned char *)k + sl + 1;

		v = (long)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
	}
	pim_iter_close(it);
	return v;
}

/* Serialises into one per-thread buffer that is reused, so that the write
 * path does not allocate for every document. */
static _Thread_local struct buf put_buf;

static int put_json(struct pim_txn *t, int db, const void *key, size_t kl, json_t *j,
		    struct hub_err *err)
{
	int rc;

	buf_reset(&put_buf);
	if (pim_json_write(&put_buf, j) < 0)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	rc = pim_put(t, db, key, kl, put_buf.data, put_buf.len, err);
	/* a huge document must not pin its buffer for the thread's lifetime */
	if (put_buf.cap > (1u << 20))
		buf_release(&put_buf);
	return rc;
}

/* Appends to the change feed; takes entry. */
static int change_add(struct pim_batch *b, json_t *entry, struct hub_err *err)
{
	unsigned char key[8];
	int rc;

	b->seq++;
	json_object_set_new(entry, "seq", json_integer((json_int_t)b->seq));
	json_object_set_new(entry, "at", json_string(b->now_s));
	pim_be64(b->seq, key);
	rc = put_json(b->txn, PDB_CHANGES, key, 8, entry, err);
	json_decref(entry);
	return rc;
}

static const char *const core_fields[] = {"sku", "family", "parent", "categories", "enabled",
					  "values", "associations", NULL};

/* The fields a client writes, from a stored document (a new reference). */
static json_t *core_of(json_t *stored)
{
	json_t *c = json_object();

	for (int i = 0; core_fields[i]; i++) {
		json_t *v = json_object_get(stored, core_fields[i]);

		json_object_set(c, core_fields[i], v ? v : json_null());
	}
	return c;
}

static void change_write(struct buf *out, const char *path, size_t plen, json_t *old,
			 json_t *cur, bool *first)
{
	if (!*first)
		buf_addc(out, ',');
	*first = false;
	buf_adds(out, "{\"path\":\"");
	buf_add_json_escaped(out, path, plen);
	buf_adds(out, "\",\"old\":");
	pim_json_write(out, old ? old : json_null());
	buf_adds(out, ",\"new\":");
	pim_json_write(out, cur ? cur : json_null());
	buf_addc(out, '}');
}

/* The changes from old to cur (core fields; NULL old: a new product),
 * written straight into out as a JSON array of {"path","old","new"}. */
static void diff_write(struct buf *out, json_t *old, json_t *cur)
{
	json_t *ov = json_object_get(old, "values"), *nv = json_object_get(cur, "values"), *v;
	const char *k;
	bool first = true;
	char p[600];

	buf_addc(out, '[');
	for (int i = 1; core_fields[i]; i++) {
		json_t *a = json_object_get(old, core_fields[i]), *b = json_object_get(cur, core_fields[i]);

		if (!strcmp(core_fields[i], "values") || (!a && json_is_null(b)))
			continue;
		if (!json_equal(a ? a : json_null(), b ? b : json_null())) {
			int n = snprintf(p, sizeof(p), "/%s", core_fields[i]);

			change_write(out, p, (size_t)n, a, b, &first);
		}
	}
	json_object_foreach(ov, k, v)
		if (!json_equal(v, json_object_get(nv, k))) {
			pim_ptr(p, sizeof(p), "/values", k);
			change_write(out, p, strlen(p), v, json_object_get(nv, k), &first);
		}
	json_object_foreach(nv, k, v)
		if (!json_object_get(ov, k)) {
			pim_ptr(p, sizeof(p), "/values", k);
			change_write(out, p, strlen(p), NULL, v, &first);
		}
	buf_addc(out, ']');
}

/* ---- batches ---- */

struct pim_schema *pim_catalog_schema(struct pim_app *app)
{
	struct pim_catalog *c = app->catalog;
	struct pim_schema *s;

	pthread_mutex_lock(&c->schema_lock);
	s = c->schema;
	pim_schema_ref(s);
	pthread_mutex_unlock(&c->schema_lock);
	return s;
}

uint64_t pim_catalog_last_seq(struct pim_app *app)
{
	return __atomic_load_n(&app->catalog->last_seq, __ATOMIC_ACQUIRE);
}

void pim_batch_lazy(struct pim_batch *b)
{
	b->lazy = true;
}

int pim_catalog_sync(struct pim_app *app, struct hub_err *err)
{
	return pim_store_sync(app->store, err);
}

struct pim_txn *pim_batch_txn(struct pim_batch *b)
{
	return b->txn;
}

int pim_batch_begin(struct pim_app *app, const char *by, bool dry_run, struct pim_batch **out,
		    struct hub_err *err)
{
	struct pim_batch *b = calloc(1, sizeof(*b));
	struct pim_iter *it = NULL;
	const void *k;
	size_t kl;
	int rc;

	if (!b)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	b->app = app;
	b->c = app->catalog;
	b->dry_run = dry_run;
	snprintf(b->by, sizeof(b->by), "%s", by && *by ? by : "-");
	b->touched = json_object();
	pthread_mutex_lock(&b->c->write_lock);
	rc = pim_txn_begin(app->store, true, &b->txn, err);
	if (rc < 0) {
		pthread_mutex_unlock(&b->c->write_lock);
		json_decref(b->touched);
		free(b);
		return rc;
	}
	b->schema = pim_catalog_schema(app);
	b->now = pim_now_ms();
	pim_time_format(b->now, b->now_s);
	if (pim_iter_open(b->txn, PDB_CHANGES, &it, NULL) == 0) {
		if (pim_iter_last(it, &k, &kl, NULL, NULL) == 0 && kl == 8)
			b->seq = pim_from_be64(k);
		pim_iter_close(it);
	}
	*out = b;
	return 0;
}

static void batch_free(struct pim_batch *b)
{
	buf_release(&put_buf);
	pim_schema_unref(b->schema);
	json_decref(b->touched);
	buf_release(&b->pending);
	pthread_mutex_unlock(&b->c->write_lock);
	free(b);
}

void pim_batch_abort(struct pim_batch *b)
{
	if (!b)
		return;
	pim_txn_abort(b->txn);
	batch_free(b);
}

int pim_batch_commit(struct pim_batch *b, struct hub_err *err)
{
	struct pim_catalog *c = b->c;
	struct pim_app *app = b->app;
	struct pim_store *store = app->store;
	const char *sku;
	json_t *v;
	bool sync, kick;
	int rc;

	if (b->dry_run) {
		pim_batch_abort(b);
		return 0;
	}
	rc = pending_apply(b, err);
	if (rc < 0) {
		pim_batch_abort(b);
		return rc;
	}
	rc = pim_txn_commit(b->txn, err);
	b->txn = NULL;
	sync = rc == 0 && !b->lazy;
	kick = rc == 0 && b->refresh_queued;
	if (rc == 0) {
		if (b->schema_changed || b->flush) {
			struct pim_schema *old;

			if (b->schema_changed) {
				pim_schema_ref(b->schema);
				pthread_mutex_lock(&c->schema_lock);
				old = c->schema;
				c->schema = b->schema;
				pthread_mutex_unlock(&c->schema_lock);
				pim_schema_unref(old);
			}
			pim_cache_flush(c->cache);
		} else {
			json_object_foreach(b->touched, sku, v)
				pim_cache_invalidate(c->cache, sku);
		}
		if (b->seq != c->last_seq) {
			__atomic_store_n(&c->last_seq, b->seq, __ATOMIC_RELEASE);
			http_waitq_wake(c->changes_q);
		}
		/* after the commit, under the writer's lock: see pim_prepare */
		if (b->assets_moved)
			__atomic_add_fetch(&c->assets_gen, 1, __ATOMIC_RELEASE);
	}
	batch_free(b);
	if (kick)
		pim_refresher_kick(app);
	/* The sync waits for the disk with the writer's lock released, so that
	 * the next writer's transaction goes on meanwhile; the caller answers
	 * only after it. */
	if (sync)
		rc = pim_store_sync(store, err);
	return rc;
}

/* What refresh records in the change feed. */
enum feed {
	FEED_NONE,   /* nothing: a schema write records one change of its own */
	FEED_PARENT, /* every product: its resolved values changed with its parent's */
	FEED_ASSET,  /* the products whose completeness changed: an asset's usability did */
};

/* Recomputes what a product derives from others (its parent's values,
 * the schema, its assets' records): completeness and index keys, without
 * a new version. */
static int refresh(struct pim_batch *b, const char *sku, json_t *parent, enum feed feed,
		   struct hub_err *err)
{
	json_t *doc = pim_product_load(b->txn, sku), *resolved = NULL, *comp = NULL;
	const char *parent_sku = json_string_value(json_object_get(doc, "parent"));
	struct asset_check check = {.t = b->txn};
	struct comp c = COMP_INIT;
	struct keyset ks = KEYSET_INIT;
	json_t *own_parent = NULL;
	bool changed;
	int rc = 0;

	if (!doc)
		return 0;
	if (!parent && parent_sku)
		parent = own_parent = pim_product_load(b->txn, parent_sku);
	resolved = pim_resolved_values(doc, parent);
	if (comp_of(b->schema, json_string_value(json_object_get(doc, "family")), resolved, &check,
		    &c) < 0) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	comp = comp_json(b->schema, &c);
	changed = !json_equal(comp, json_object_get(doc, "completeness"));
	if (changed) {
		json_object_set(doc, "completeness", comp);
		rc = put_json(b->txn, PDB_PRODUCTS, sku, strlen(sku), doc, err);
	}
	if (rc == 0) {
		keys_collect(b->schema, doc, &c, resolved, &ks);
		keys_updated(&ks, pim_time_parse(json_string_value(json_object_get(doc, "updated"))), sku);
		rc = keys_apply(b, sku, &ks, false, err);
	}
	if (rc == 0 && (feed == FEED_PARENT || (feed == FEED_ASSET && changed)))
		rc = change_add(b,
				json_pack("{s:s,s:s,s:O,s:s}", "type", "product.updated", "sku", sku,
					  "version", json_object_get(doc, "version"), "via",
					  feed == FEED_PARENT ? "parent" : "asset"),
				err);
	json_object_set_new(b->touched, sku, json_true());
	/* its parent's projection lists the variants that are published */
	if (parent_sku)
		json_object_set_new(b->touched, parent_sku, json_true());
out:
	comp_release(&c);
	keys_release(&ks);
	json_decref(comp);
	json_decref(resolved);
	json_decref(own_parent);
	json_decref(doc);
	return rc;
}

/* Calls refresh for each sku under prefix in index db (all products when
 * db is PDB_PRODUCTS) that sorts after `after` (NULL: from the first), for
 * at most limit skus, in chunks so that the cursor never walks a database
 * being written. Returns 1 when skus remain, the last one refreshed copied
 * to last (PIM_MAX_KEY + 1 bytes), 0 when none remain. */
static int refresh_range(struct pim_batch *b, int db, const char *prefix, const char *after,
			 size_t limit, json_t *parent, enum feed feed, char *last,
			 struct hub_err *err)
{
	size_t pl = prefix ? strlen(prefix) + 1 : 0, al = after ? strlen(after) : 0, done = 0;
	char from[PIM_MAX_KEY + 2];
	size_t fl = pl + al;
	int rc = 0;

	if (fl > PIM_MAX_KEY)
		return 0;
	if (prefix) {
		memcpy(from, prefix, pl - 1);
		from[pl - 1] = 0;
	}
	if (al)
		memcpy(from + pl, after, al);
	for (;;) {
		size_t want = limit - done < REFRESH_CHUNK ? limit - done : REFRESH_CHUNK, n;
		json_t *skus = json_array(), *v;
		struct pim_iter *it;
		const void *k;
		size_t kl, i;
		int r;

		rc = pending_apply(b, err);
		if (rc == 0)
			rc = pim_iter_open(b->txn, db, &it, err);
		if (rc < 0) {
			json_decref(skus);
			return rc;
		}
		for (r = pim_iter_seek(it, from, fl, &k, &kl, NULL, NULL); r == 0;
		     r = pim_iter_next(it, &k, &kl, NULL, NULL)) {
			if (kl < pl || memcmp(k, from, pl))
				break;
			if (fl > pl && kl == fl && !memcmp(k, from, fl))
				continue; /* where the last chunk ended */
			json_array_append_new(skus, json_stringn((const char *)k + pl, kl - pl));
			if (json_array_size(skus) == want)
				break;
		}
		pim_iter_close(it);
		json_array_foreach(skus, i, v)
			if ((rc = refresh(b, json_string_value(v), parent, feed, err)) < 0)
				break;
		n = json_array_size(skus);
		done += n;
		if (rc < 0 || n < want) {
			json_decref(skus);
			return rc;
		}
		v = json_array_get(skus, n - 1);
		fl = pl + json_string_length(v);
		memcpy(from + pl, json_string_value(v), json_string_length(v));
		json_decref(skus);
		if (done == limit) {
			memcpy(last, from + pl, fl - pl);
			last[fl - pl] = 0;
			return 1;
		}
	}
}

static int refresh_index(struct pim_batch *b, int db, const char *prefix, json_t *parent,
			 enum feed feed, struct hub_err *err)
{
	return refresh_range(b, db, prefix, NULL, SIZE_MAX, parent, feed, NULL, err);
}

static int children_refresh(struct pim_batch *b, const char *sku, json_t *stored)
{
	struct hub_err err = {0};

	return refresh_index(b, PDB_IX_PARENT, sku, stored, FEED_PARENT, &err);
}

int pim_batch_asset_changed(struct pim_batch *b, const char *id, struct hub_err *err)
{
	b->assets_moved = true;
	return refresh_index(b, PDB_IX_ASSET, id, NULL, FEED_ASSET, err);
}

/* What a version derives from its document, its parent and the schema
 * alone, before the store is read: pim_prepare works it out outside the
 * writer's lock for a product without a parent. */
struct derived {
	struct comp comp;   /* completeness */
	struct keyset ks;   /* index keys but ix_updated */
	struct buf body;    /* the stored JSON, open for the version's own fields */
	bool assets;        /* completeness read asset records, */
	uint64_t gen;       /* no older than this assets_gen */
};

#define DERIVED_INIT {COMP_INIT, KEYSET_INIT, BUF_INIT, false, 0}

static void derived_release(struct derived *d)
{
	comp_release(&d->comp);
	keys_release(&d->ks);
	buf_release(&d->body);
}

static int derive(const struct pim_schema *s, json_t *norm, json_t *parent,
		  struct asset_check *check, struct derived *d)
{
	json_t *resolved = pim_resolved_values(norm, parent);
	int rc = comp_of(s, json_string_value(json_object_get(norm, "family")), resolved, check,
			 &d->comp);

	d->assets = check->used;
	if (rc == 0) {
		keys_collect(s, norm, &d->comp, resolved, &d->ks);
		keys_sort(&d->ks); /* else store sorts them */
		/* norm's fields and completeness; store closes it with version,
		 * created and updated */
		rc = pim_json_write(&d->body, norm);
	}
	json_decref(resolved);
	if (rc == 0 && d->body.len > 2) {
		d->body.len--;
		rc = buf_adds(&d->body, ",\"completeness\":");
		if (rc == 0)
			rc = comp_write(s, &d->comp, &d->body);
	}
	return rc < 0 || d->body.len <= 2 ? HUB_ENOMEM : 0;
}

/* Stores a validated document as the next version of sku; pre: what it
 * derives, when worked out beforehand (parent is then NULL). */
static int store(struct pim_batch *b, const char *sku, json_t *old, json_t *norm, json_t *parent,
		 struct derived *pre, json_t **stored_out, struct hub_err *err)
{
	long version = old ? (long)json_integer_value(json_object_get(old, "version")) + 1
			   : last_version(b->txn, sku) + 1;
	struct derived own = DERIVED_INIT, *d = pre ? pre : &own;
	json_t *stored = NULL, *oldcore;
	char hkey[PIM_MAX_KEY + 8];
	size_t hkl;
	const char *parent_sku = json_string_value(json_object_get(norm, "parent"));
	const char *old_parent = json_string_value(json_object_get(old, "parent"));
	const char *created = json_string_value(json_object_get(old, "created"));
	struct asset_check check = {.t = b->txn};
	int rc = 0;

	if (!created)
		created = b->now_s;
	if (!pre && derive(b->schema, norm, parent, &check, &own) < 0) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto out;
	}
	buf_reset(&put_buf);
	buf_add(&put_buf, d->body.data, d->body.len);
	buf_adds(&put_buf, ",\"version\":");
	buf_add_int(&put_buf, version);
	buf_adds(&put_buf, ",\"created\":\"");
	buf_add_json_escaped(&put_buf, created, strlen(created));
	buf_adds(&put_buf, "\",\"updated\":\"");
	buf_adds(&put_buf, b->now_s);
	buf_adds(&put_buf, "\"}");
	rc = pim_put(b->txn, PDB_PRODUCTS, sku, strlen(sku), put_buf.data, put_buf.len, err);
	if (rc == 0) {
		char upd[PIM_MAX_KEY + 10];

		if (keys_sort(&d->ks) < 0 ||
		    keys_insert(&d->ks, PDB_IX_UPDATED, upd, updated_key(b->now, sku, upd)) < 0)
			rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		else
			rc = keys_apply(b, sku, &d->ks, false, err);
	}
	if (rc == 0) {
		/* history and change entries are written directly: the hot path */
		buf_reset(&put_buf);
		buf_adds(&put_buf, "{\"version\":");
		buf_add_int(&put_buf, version);
		buf_adds(&put_buf, ",\"at\":\"");
		buf_adds(&put_buf, b->now_s);
		buf_adds(&put_buf, "\",\"by\":\"");
		buf_add_json_escaped(&put_buf, b->by, strlen(b->by));
		buf_addc(&put_buf, '"');
		/* a first version's changes would repeat the whole document:
		 * the history API rebuilds them (pim_history_fill) */
		if (old) {
			oldcore = core_of(old);
			buf_adds(&put_buf, ",\"changes\":");
			diff_write(&put_buf, oldcore, norm);
			json_decref(oldcore);
		}
		buf_addc(&put_buf, '}');
		history_key(sku, (uint32_t)version, hkey, &hkl);
		rc = pim_put(b->txn, PDB_HISTORY, hkey, hkl, put_buf.data, put_buf.len, err);
	}
	if (rc == 0) {
		unsigned char ckey[8];

		b->seq++;
		buf_reset(&put_buf);
		buf_adds(&put_buf, "{\"type\":\"product.updated\",\"sku\":\"");
		buf_add_json_escaped(&put_buf, sku, strlen(sku));
		buf_adds(&put_buf, "\",\"version\":");
		buf_add_int(&put_buf, version);
		buf_adds(&put_buf, old ? ",\"outcome\":\"updated\",\"seq\":"
				       : ",\"outcome\":\"created\",\"seq\":");
		buf_add_int(&put_buf, (long long)b->seq);
		buf_adds(&put_buf, ",\"at\":\"");
		buf_adds(&put_buf, b->now_s);
		buf_adds(&put_buf, "\"}");
		pim_be64(b->seq, ckey);
		rc = pim_put(b->txn, PDB_CHANGES, ckey, 8, put_buf.data, put_buf.len, err);
	}
	/* the document as stored, in the order of the bytes written */
	if (rc == 0 && (stored_out || (old && !parent_sku))) {
		stored = json_copy(norm);
		json_object_set_new(stored, "completeness", comp_json(b->schema, &d->comp));
		json_object_set_new(stored, "version", json_integer(version));
		json_object_set_new(stored, "created", json_string(created));
		json_object_set_new(stored, "updated", json_string(b->now_s));
	}
	/* variants publish their parent's values: recompute them */
	if (rc == 0 && old && !parent_sku)
		rc = children_refresh(b, sku, stored);
	json_object_set_new(b->touched, sku, json_true());
	if (parent_sku)
		json_object_set_new(b->touched, parent_sku, json_true());
	if (old_parent)
		json_object_set_new(b->touched, old_parent, json_true());
out:
	derived_release(&own);
	/* a huge document must not pin its buffer for the thread's lifetime */
	if (put_buf.cap > (1u << 20))
		buf_release(&put_buf);
	if (rc == 0 && stored_out)
		*stored_out = stored;
	else
		json_decref(stored);
	return rc;
}

char *pim_sku_resolve(struct pim_txn *t, const char *sku)
{
	char *nfc = sku ? text_nfc(sku) : NULL;

	if (nfc && (last_version(t, sku) != 0 ||
		    pim_get(t, PDB_PRODUCTS, nfc, strlen(nfc), NULL, NULL) != 0)) {
		free(nfc);
		nfc = NULL;
	}
	return nfc;
}

/* If-Match is "*" or a list of entity tags compared strongly (RFC 9110),
 * so W/"6" never matches. A product's tag is "<version>.<digest of its
 * completeness>" (or the bare "<version>" older clients hold): the version
 * alone decides, since an edit made while completeness was another is
 * still an edit of that version. */
static bool if_match_has(const char *list, long long version)
{
	for (const char *p = list; *p;) {
		char *end;
		long long v;

		p += strspn(p, " \t,");
		if (*p == '*')
			return true;
		if (*p == '"' && p[1] >= '0' && p[1] <= '9') {
			v = strtoll(p + 1, &end, 10);
			if (v == version && (*end == '"' || *end == '.'))
				return true;
		}
		p += strcspn(p, ",");
	}
	return false;
}

static int if_match_check(json_t *old, const char *if_match, struct hub_err *err)
{
	long long version;

	if (!if_match)
		return 0;
	if (!old)
		return hub_err_set(err, HUB_EPRECOND, "If-Match given for a product that does not exist");
	version = json_integer_value(json_object_get(old, "version"));
	if (!if_match_has(if_match, version))
		return hub_err_set(err, HUB_EPRECOND, "the product is at version %lld, not %.100s",
				   version, if_match);
	return 0;
}

/* A write whose document pim_validate has checked: norm is its result,
 * probs the problems it found (both borrowed). */
static int write_checked(struct pim_batch *b, const char *sku, json_t *doc, json_t *norm,
			 json_t *probs, struct derived *pre, enum pim_mode mode, const char *if_match,
			 int *outcome, json_t **stored, json_t **problems, struct hub_err *err)
{
	json_t *old, *parent = NULL, *oc;
	char *nfc;
	int rc = 0;

	if (problems)
		*problems = NULL;
	if (stored)
		*stored = NULL;
	*outcome = 0;
	old = pim_product_load(b->txn, sku);
	/* Skus compare as bytes, so "Cafe\u0301" and "Caf\u00e9" would be two
	 * products that look the same: a new one must be NFC. A sku stored
	 * before, in any form, has a history and keeps working. */
	if (!old && (nfc = text_nfc(sku))) {
		if (last_version(b->txn, sku) == 0)
			pim_problem(probs, "/sku", "not_nfc",
				    "the sku is not in Unicode NFC form: send it as '%.200s', which "
				    "looks the same",
				    nfc);
		free(nfc);
	}
	if (mode == PIM_MODE_CREATE && old) {
		rc = hub_err_set(err, HUB_ECONFLICT, "product '%.200s' already exists", sku);
		goto out;
	}
	if (mode == PIM_MODE_UPDATE && !old) {
		rc = hub_err_set(err, HUB_ENOTFOUND, "product '%.200s' does not exist", sku);
		goto out;
	}
	rc = if_match_check(old, if_match, err);
	if (rc < 0)
		goto out;
	/* the asset records pre's completeness counted may predate a change of
	 * an asset's usability committed since (see pim_prepare) */
	if (pre && pre->assets && pre->gen != __atomic_load_n(&b->c->assets_gen, __ATOMIC_ACQUIRE))
		pre = NULL;
	pim_validate_refs(b->schema, b->txn, sku, doc, norm, probs, &parent);
	if (!norm || json_array_size(probs)) {
		rc = hub_err_set(err, HUB_EINVALID, "the product has %zu problem%s",
				 json_array_size(probs), json_array_size(probs) == 1 ? "" : "s");
		if (problems)
			*problems = json_incref(probs);
		goto out;
	}
	oc = old ? core_of(old) : NULL;
	if (oc && json_equal(oc, norm)) {
		*outcome = PIM_UNCHANGED;
		if (stored)
			*stored = json_incref(old);
	} else {
		rc = store(b, sku, old, norm, parent, parent ? NULL : pre, stored, err);
		if (rc == 0)
			*outcome = old ? PIM_UPDATED : PIM_CREATED;
	}
	json_decref(oc);
out:
	json_decref(parent);
	json_decref(old);
	return rc;
}

int pim_batch_write(struct pim_batch *b, const char *sku, json_t *doc, enum pim_mode mode,
		    const char *if_match, int *outcome, json_t **stored, json_t **problems,
		    struct hub_err *err)
{
	json_t *probs = json_array(), *norm = pim_validate(b->schema, sku, doc, probs);
	int rc = write_checked(b, sku, doc, norm, probs, NULL, mode, if_match, outcome, stored,
			       problems, err);

	json_decref(norm);
	json_decref(probs);
	return rc;
}

struct pim_prep {
	struct pim_schema *schema;
	json_t *doc, *norm, *probs;
	bool derived; /* d is worked out */
	struct derived d;
};

struct pim_prep *pim_prepare(struct pim_app *app, json_t *doc)
{
	struct pim_prep *p = calloc(1, sizeof(*p));
	const char *sku = json_string_value(json_object_get(doc, "sku"));

	if (!p)
		return NULL;
	p->schema = pim_catalog_schema(app);
	p->doc = json_incref(doc);
	p->probs = json_array();
	if (sku)
		p->norm = pim_validate(p->schema, sku, doc, p->probs);
	/* a variant derives from its parent, which only the store knows */
	if (p->norm && !json_array_size(p->probs) &&
	    !json_is_string(json_object_get(p->norm, "parent"))) {
		/* Completeness counts asset records that a follower commit may
		 * change before this line is written, and the follower
		 * recomputes only the products stored by then: write_checked
		 * works the line out again when assets_gen has moved since it
		 * was noted here. It is noted before the read transaction
		 * begins and moved after the follower's commit, before the
		 * writer's lock is released, so records older than that commit
		 * always come with an older generation. */
		struct asset_check check = {.store = app->store};

		p->d.gen = __atomic_load_n(&app->catalog->assets_gen, __ATOMIC_ACQUIRE);
		p->derived = derive(p->schema, p->norm, NULL, &check, &p->d) == 0 &&
			     !check.failed;
		asset_check_release(&check);
	}
	return p;
}

void pim_prep_free(struct pim_prep *p)
{
	if (!p)
		return;
	pim_schema_unref(p->schema);
	json_decref(p->doc);
	json_decref(p->norm);
	json_decref(p->probs);
	derived_release(&p->d);
	free(p);
}

int pim_batch_put_prepared(struct pim_batch *b, struct pim_prep *p, enum pim_mode mode,
			   int *outcome, json_t **problems, struct hub_err *err)
{
	const char *sku = json_string_value(json_object_get(p->doc, "sku"));

	/* checked against a schema that has changed since: check again */
	if (!sku || p->schema != b->schema)
		return pim_batch_put(b, p->doc, mode, outcome, problems, err);
	return write_checked(b, sku, p->doc, p->norm, p->probs, p->derived ? &p->d : NULL, mode,
			     NULL, outcome, NULL, problems, err);
}

static bool has_null_member(json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
		if (json_is_null(v) || (json_is_object(v) && has_null_member(v)))
			return true;
	return false;
}

/* Whether patch merged into a product that does not exist is patch itself:
 * a merge patch drops null members (RFC 7396, arrays are taken whole), and
 * merged into {"sku":sku} its own sku must be that one. Spares a copy of
 * each new product an import writes. */
bool pim_patch_is_document(json_t *patch, const char *sku)
{
	const char *own = json_string_value(json_object_get(patch, "sku"));

	return own && !strcmp(own, sku) && !has_null_member(patch);
}

int pim_batch_merge(struct pim_batch *b, const char *sku, json_t *patch, enum pim_mode mode,
		    const char *if_match, int *outcome, json_t **stored, json_t **problems,
		    struct hub_err *err)
{
	json_t *old = pim_product_load(b->txn, sku), *base, *merged;
	int rc;

	if (problems)
		*problems = NULL;
	if (!old && (mode == PIM_MODE_UPDATE || if_match)) {
		json_decref(old);
		return if_match ? hub_err_set(err, HUB_EPRECOND, "If-Match given for a product that does not exist")
				: hub_err_set(err, HUB_ENOTFOUND, "product '%.200s' does not exist", sku);
	}
	if (!json_is_object(patch)) {
		json_decref(old);
		return hub_err_set(err, HUB_EINVAL, "a merge patch is a JSON object");
	}
	if (!old && pim_patch_is_document(patch, sku)) {
		base = NULL;
		merged = json_incref(patch);
	} else {
		base = old ? core_of(old) : json_pack("{s:s}", "sku", sku);
		/* null members are absent in a merge patch's eyes */
		if (json_is_null(json_object_get(base, "parent")))
			json_object_del(base, "parent");
		merged = pim_merge_patch(base, patch);
	}
	rc = pim_batch_write(b, sku, merged, old ? PIM_MODE_UPDATE : mode, if_match, outcome,
			     stored, problems, err);
	json_decref(merged);
	json_decref(base);
	json_decref(old);
	return rc;
}

int pim_batch_put(struct pim_batch *b, json_t *doc, enum pim_mode mode, int *outcome,
		  json_t **problems, struct hub_err *err)
{
	const char *sku = json_string_value(json_object_get(doc, "sku"));

	if (problems)
		*problems = NULL;
	*outcome = 0;
	if (!sku) {
		if (problems) {
			*problems = json_array();
			pim_problem(*problems, "/sku", "required", "a product needs a sku");
		}
		return hub_err_set(err, HUB_EINVALID, "a product needs a sku");
	}
	return pim_batch_write(b, sku, doc, mode, NULL, outcome, NULL, problems, err);
}

int pim_batch_patch(struct pim_batch *b, const char *sku, json_t *patch, enum pim_mode mode,
		    int *outcome, json_t **problems, struct hub_err *err)
{
	*outcome = 0;
	if (mode == PIM_MODE_CREATE && pim_get(b->txn, PDB_PRODUCTS, sku, strlen(sku), NULL, NULL) == 0) {
		if (problems)
			*problems = NULL;
		return hub_err_set(err, HUB_ECONFLICT, "product '%.200s' already exists", sku);
	}
	return pim_batch_merge(b, sku, patch, mode, NULL, outcome, NULL, problems, err);
}

/* Undoes one history entry's changes on doc (NULL: no product), giving
 * the document before it: every entry but a first version's records the
 * old value of each path it changed. */
static json_t *undo_one(json_t *doc, json_t *changes)
{
	json_t *c;
	size_t i;

	json_array_foreach(changes, i, c) {
		const char *path = json_string_value(json_object_get(c, "path"));
		json_t *ov = json_object_get(c, "old");

		if (!path)
			continue;
		if (!*path) {
			json_decref(doc);
			doc = json_is_object(ov) ? json_deep_copy(ov) : NULL;
			continue;
		}
		if (!doc)
			doc = json_object();
		if (!strncmp(path, "/values/", 8)) {
			json_t *vals = json_object_get(doc, "values");
			char attr[PIM_MAX_KEY];
			size_t o = 0;

			for (const char *p = path + 8; *p && o + 1 < sizeof(attr); p++) {
				if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
					attr[o++] = p[1] == '0' ? '~' : '/';
					p++;
				} else {
					attr[o++] = *p;
				}
			}
			attr[o] = 0;
			if (!json_is_object(vals)) {
				vals = json_object();
				json_object_set_new(doc, "values", vals);
			}
			if (!ov || json_is_null(ov))
				json_object_del(vals, attr);
			else
				json_object_set(vals, attr, ov);
		} else {
			json_object_set(doc, path + 1, ov ? ov : json_null());
		}
	}
	return doc;
}

static bool is_deletion(json_t *entry)
{
	const char *path = json_string_value(
		json_object_get(json_array_get(json_object_get(entry, "changes"), 0), "path"));

	return path && !*path;
}

/* The entry of version ver on a history page (entries in version order,
 * so one per version from the first), when it was stored without its
 * changes: a first version's, from doc, the product right after it. */
static void page_fill(json_t *page, long ver, json_t *doc)
{
	long first = (long)json_integer_value(json_object_get(json_array_get(page, 0), "version"));
	json_t *h = ver >= first ? json_array_get(page, (size_t)(ver - first)) : NULL, *changes;
	struct buf out = BUF_INIT;

	if (!h || json_integer_value(json_object_get(h, "version")) != ver ||
	    json_object_get(h, "changes"))
		return;
	if (!doc) { /* no product after its first version: a damaged history */
		json_object_set_new(h, "changes", json_array());
		return;
	}
	diff_write(&out, NULL, doc);
	changes = json_loadb(out.data, out.len, 0, NULL);
	json_object_set_new(h, "changes", changes ? changes : json_array());
	buf_release(&out);
}

/* The core document of a version (a new reference), or NULL when the
 * product did not exist then (a deletion). A first version's history entry
 * does not repeat the document (store writes it without changes), so
 * versions are rebuilt backwards: from the product as it is now, undoing
 * each later entry. *found tells whether the version was recorded. With
 * page, the first versions on it get their changes on the way. */
static json_t *version_doc(struct pim_txn *t, const char *sku, long version, bool *found,
			   json_t *page)
{
	char key[PIM_MAX_KEY + 8];
	size_t kl, sl = strlen(sku);
	struct pim_iter *it;
	const void *k, *v;
	size_t klen, vl;
	json_t *now = pim_product_load(t, sku), *doc = now ? core_of(now) : NULL;
	int r;

	json_decref(now);
	*found = false;
	history_key(sku, 0xffffffffu, key, &kl);
	if (pim_iter_open(t, PDB_HISTORY, &it, NULL) < 0) {
		json_decref(doc);
		return NULL;
	}
	if (pim_iter_seek(it, key, kl, &k, &klen, &v, &vl) == 0)
		r = pim_iter_prev(it, &k, &klen, &v, &vl);
	else
		r = pim_iter_last(it, &k, &klen, &v, &vl);
	for (; r == 0; r = pim_iter_prev(it, &k, &klen, &v, &vl)) {
		const unsigned char *p = (const unsigned char *)k + sl + 1;
		long ver;
		json_t *h;

		if (klen != sl + 5 || memcmp(k, key, sl + 1))
			break;
		ver = (long)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
		if (ver < version)
			break;
		if (page)
			page_fill(page, ver, doc);
		h = json_loadb(v, vl, 0, NULL);
		if (ver == version) {
			/* after a deletion there is no product, even when the
			 * next entry is a first version stored with its changes
			 * (as pimd did before), whose undoing leaves nulls */
			*found = true;
			if (is_deletion(h)) {
				json_decref(doc);
				doc = NULL;
			}
		} else if (json_object_get(h, "changes")) {
			doc = undo_one(doc, json_object_get(h, "changes"));
		} else { /* a first version: nothing before it */
			json_decref(doc);
			doc = NULL;
		}
		json_decref(h);
		if (*found)
			break;
	}
	pim_iter_close(it);
	if (!*found) {
		json_decref(doc);
		return NULL;
	}
	if (doc) /* (one undone from nothing, in a damaged history, has none) */
		json_object_set_new(doc, "sku", json_string(sku));
	return doc;
}

void pim_history_fill(struct pim_txn *t, const char *sku, json_t *page)
{
	long oldest = 0;
	bool found;
	json_t *h;
	size_t i;

	/* the walk back costs a parse of every later entry: only as far as
	 * the oldest first version on the page, and not at all without one */
	json_array_foreach(page, i, h)
		if (!json_object_get(h, "changes")) {
			oldest = (long)json_integer_value(json_object_get(h, "version"));
			break;
		}
	if (oldest >= 1 && strlen(sku) <= PIM_MAX_KEY - 5)
		json_decref(version_doc(t, sku, oldest, &found, page));
}

int pim_batch_revert(struct pim_batch *b, const char *sku, long version, const char *if_match,
		     int *outcome, json_t **stored, json_t **problems, struct hub_err *err)
{
	json_t *doc;
	bool found;
	int rc;

	if (problems)
		*problems = NULL;
	*outcome = 0;
	if (version < 1 || version > 0xffffffffL || strlen(sku) > PIM_MAX_KEY - 5)
		return hub_err_set(err, HUB_ENOTFOUND, "no version %ld of '%.200s'", version, sku);
	doc = version_doc(b->txn, sku, version, &found, NULL);
	if (!found) {
		json_decref(doc);
		return hub_err_set(err, HUB_ENOTFOUND, "no version %ld of '%.200s'", version, sku);
	}
	if (!doc)
		return hub_err_set(err, HUB_ENOTFOUND, "version %ld of '%.200s' is a deletion",
				   version, sku);
	rc = pim_batch_write(b, sku, doc, PIM_MODE_UPSERT, if_match, outcome, stored, problems,
			     err);
	json_decref(doc);
	return rc;
}

int pim_batch_delete(struct pim_batch *b, const char *sku, const char *if_match,
		     struct hub_err *err)
{
	json_t *old = pim_product_load(b->txn, sku), *hist;
	struct keyset ks = KEYSET_INIT;
	struct pim_iter *it = NULL;
	char key[PIM_MAX_KEY + 8];
	size_t kl, sl = strlen(sku);
	const void *k;
	long version;
	int rc;

	if (!old)
		return hub_err_set(err, HUB_ENOTFOUND, "product '%.200s' does not exist", sku);
	rc = if_match_check(old, if_match, err);
	if (rc < 0)
		goto out;
	/* variants cannot outlive their parent */
	if (sl + 1 <= PIM_MAX_KEY && pim_iter_open(b->txn, PDB_IX_PARENT, &it, err) == 0) {
		memcpy(key, sku, sl);
		key[sl] = 0;
		if (pim_iter_seek(it, key, sl + 1, &k, &kl, NULL, NULL) == 0 && kl > sl + 1 &&
		    !memcmp(k, key, sl + 1))
			rc = hub_err_set(err, HUB_ECONFLICT,
					 "product '%.200s' has variants; delete them first", sku);
		pim_iter_close(it);
		if (rc < 0)
			goto out;
	}
	version = (long)json_integer_value(json_object_get(old, "version")) + 1;
	rc = keys_apply(b, sku, &ks, true, err);
	if (rc == 0)
		rc = pim_del(b->txn, PDB_PRODUCTS, sku, sl, err);
	if (rc == 0) {
		json_t *oc = core_of(old);

		hist = json_pack("{s:I,s:s,s:s,s:[{s:s,s:O,s:n}]}", "version", (json_int_t)version,
				 "at", b->now_s, "by", b->by, "changes", "path", "", "old", oc, "new");
		json_decref(oc);
		history_key(sku, (uint32_t)version, key, &kl);
		rc = put_json(b->txn, PDB_HISTORY, key, kl, hist, err);
		json_decref(hist);
	}
	if (rc == 0)
		rc = change_add(b,
				json_pack("{s:s,s:s,s:I}", "type", "product.deleted", "sku", sku,
					  "version", (json_int_t)version),
				err);
	json_object_set_new(b->touched, sku, json_true());
	/* other products' projections list it among their associations */
	b->flush = true;
	if (json_is_string(json_object_get(old, "parent")))
		json_object_set_new(b->touched, json_string_value(json_object_get(old, "parent")),
				    json_true());
out:
	keys_release(&ks);
	json_decref(old);
	return rc;
}

/* ---- schema ---- */

static size_t schema_key(int kind, const char *code, char *key, size_t max)
{
	const char *kn = pim_kind_name(kind);
	size_t a = strlen(kn), c = strlen(code);

	if (a + 1 + c > max)
		return 0;
	memcpy(key, kn, a);
	key[a] = 0;
	memcpy(key + a + 1, code, c);
	return a + 1 + c;
}

/* The background refresh queue, in meta: "refresh" NUL scope NUL code →
 * the last sku refreshed; scope names the index whose skus under code are
 * refreshed ("all": every product, code empty). */
#define REFRESH_QUEUE "refresh"
#define REFRESH_QUEUE_LEN sizeof(REFRESH_QUEUE)

static const struct {
	int db;
	const char *scope;
} refresh_scopes[] = {{PDB_PRODUCTS, "all"}, {PDB_IX_FAMILY, "family"}, {PDB_IX_CAT, "category"}};

static size_t refresh_key(int db, const char *code, char *key, size_t max)
{
	const char *scope = NULL;
	size_t sl, cl = code ? strlen(code) : 0;

	for (size_t i = 0; i < sizeof(refresh_scopes) / sizeof(refresh_scopes[0]); i++)
		if (refresh_scopes[i].db == db)
			scope = refresh_scopes[i].scope;
	sl = strlen(scope);
	if (REFRESH_QUEUE_LEN + sl + 1 + cl > max)
		return 0;
	memcpy(key, REFRESH_QUEUE, REFRESH_QUEUE_LEN);
	memcpy(key + REFRESH_QUEUE_LEN, scope, sl + 1);
	memcpy(key + REFRESH_QUEUE_LEN + sl + 1, code, cl);
	return REFRESH_QUEUE_LEN + sl + 1 + cl;
}

static size_t refresh_limit(const struct pim_batch *b)
{
	return b->app->refresh_chunk > 0 ? (size_t)b->app->refresh_chunk : REFRESH_CHUNK;
}

/* Refreshes the products a schema change affects (the skus under code in
 * index db; every product for PDB_PRODUCTS): one chunk in the change's own
 * transaction, the rest queued for the background refresher. So a change
 * to a big family neither holds the writer's lock for minutes nor grows one
 * transaction (and the memory of its dirty pages) without bound. Queuing
 * the same scope again restarts it after this chunk: what the refresher
 * did before was done under the older schema. */
static int schema_refresh(struct pim_batch *b, int db, const char *code, struct hub_err *err)
{
	char last[PIM_MAX_KEY + 1], key[PIM_MAX_KEY];
	size_t kl;
	int rc = refresh_range(b, db, db == PDB_PRODUCTS ? NULL : code, NULL, refresh_limit(b),
			       NULL, FEED_NONE, last, err);

	if (rc != 1)
		return rc;
	kl = refresh_key(db, db == PDB_PRODUCTS ? "" : code, key, sizeof(key));
	if (!kl) /* a code too long for a queue key: the rest now */
		return refresh_range(b, db, code, last, SIZE_MAX, NULL, FEED_NONE, NULL, err);
	b->refresh_queued = true;
	return pim_put(b->txn, PDB_META, key, kl, last, strlen(last), err);
}

/* After a schema change inside b: a fresh snapshot, completeness and
 * indexes of the products it affects, and a change entry. old is the
 * document before the change (NULL for a new one), borrowed. */
static int schema_changed(struct pim_batch *b, int kind, const char *code, const char *type,
			  json_t *old, struct hub_err *err)
{
	struct pim_schema *ns, *prev = b->schema;
	bool queued = b->refresh_queued;
	int rc = pim_schema_load(b->txn, &ns, err);
	json_t *entry;

	if (rc < 0)
		return rc;
	b->schema = ns;
	b->schema_changed = true;
	b->refresh_queued = false;
	/* only what the change can affect: a new attribute, category or family
	 * is used by no product yet */
	if (kind == PK_FAMILIES && old) {
		rc = schema_refresh(b, PDB_IX_FAMILY, code, err);
	} else if (kind == PK_CHANNELS) {
		rc = schema_refresh(b, PDB_PRODUCTS, NULL, err);
	} else if (kind == PK_CATEGORIES && old &&
		   !json_equal(json_object_get(old, "parent"),
			       json_object_get(pim_schema_doc(ns, kind, code), "parent"))) {
		rc = schema_refresh(b, PDB_IX_CAT, code, err);
	} else if (kind == PK_ATTRIBUTES && old) {
		for (size_t i = 0; rc == 0 && i < ns->nfams; i++)
			if (json_object_get(ns->fams[i].attrs, code))
				rc = schema_refresh(b, PDB_IX_FAMILY, ns->fams[i].code, err);
	}
	pim_schema_unref(prev);
	entry = json_pack("{s:s,s:s,s:s}", "type", type, "kind", pim_kind_name(kind), "code", code);
	/* the products it affects are not all recomputed yet: a
	 * schema.refreshed change follows when they are */
	if (b->refresh_queued)
		json_object_set_new(entry, "refresh", json_string("background"));
	b->refresh_queued |= queued;
	if (rc == 0)
		rc = change_add(b, entry, err);
	else
		json_decref(entry);
	return rc;
}

int pim_catalog_refresh_step(struct pim_app *app, bool *worked, struct hub_err *err)
{
	char key[PIM_MAX_KEY + 1], after[PIM_MAX_KEY + 1], last[PIM_MAX_KEY + 1];
	const char *scope, *code;
	struct pim_batch *b;
	struct pim_iter *it;
	const void *k, *v;
	size_t kl = 0, vl = 0, sl;
	int db = -1, rc;

	*worked = false;
	rc = pim_batch_begin(app, "schema", false, &b, err);
	if (rc < 0)
		return rc;
	rc = pim_iter_open(b->txn, PDB_META, &it, err);
	if (rc == 0) {
		if (pim_iter_seek(it, REFRESH_QUEUE, REFRESH_QUEUE_LEN, &k, &kl, &v, &vl) != 0 ||
		    kl < REFRESH_QUEUE_LEN || memcmp(k, REFRESH_QUEUE, REFRESH_QUEUE_LEN) ||
		    kl >= sizeof(key) || vl > PIM_MAX_KEY)
			kl = 0;
		if (kl) {
			memcpy(key, k, kl);
			key[kl] = 0;
			memcpy(after, v, vl);
			after[vl] = 0;
		}
		pim_iter_close(it);
	}
	if (rc < 0 || !kl) {
		pim_batch_abort(b);
		return rc;
	}
	scope = key + REFRESH_QUEUE_LEN;
	sl = strnlen(scope, kl - REFRESH_QUEUE_LEN);
	code = sl < kl - REFRESH_QUEUE_LEN ? scope + sl + 1 : "";
	for (size_t i = 0; i < sizeof(refresh_scopes) / sizeof(refresh_scopes[0]); i++)
		if (!strcmp(refresh_scopes[i].scope, scope))
			db = refresh_scopes[i].db;
	rc = db < 0 ? 0 /* not ours to read: dropped */
		    : refresh_range(b, db, db == PDB_PRODUCTS ? NULL : code, after, refresh_limit(b),
				    NULL, FEED_NONE, last, err);
	if (rc == 1) {
		rc = pim_put(b->txn, PDB_META, key, kl, last, strlen(last), err);
	} else if (rc == 0) {
		rc = pim_del(b->txn, PDB_META, key, kl, err);
		if (rc == 0 && db >= 0)
			rc = change_add(b, db == PDB_PRODUCTS
						  ? json_pack("{s:s,s:s}", "type", "schema.refreshed", "scope", scope)
						  : json_pack("{s:s,s:s,s:s}", "type", "schema.refreshed",
							      "scope", scope, "code", code),
					err);
	}
	if (rc < 0) {
		pim_batch_abort(b);
		return rc;
	}
	*worked = true;
	return pim_batch_commit(b, err);
}

json_t *pim_catalog_refresh_list(struct pim_app *app)
{
	json_t *list = json_array();
	struct pim_txn *t;
	struct pim_iter *it;
	const void *k, *v;
	size_t kl, vl;
	int r;

	if (pim_txn_begin(app->store, false, &t, NULL) < 0)
		return list;
	if (pim_iter_open(t, PDB_META, &it, NULL) == 0) {
		for (r = pim_iter_seek(it, REFRESH_QUEUE, REFRESH_QUEUE_LEN, &k, &kl, &v, &vl);
		     r == 0 && kl >= REFRESH_QUEUE_LEN && !memcmp(k, REFRESH_QUEUE, REFRESH_QUEUE_LEN);
		     r = pim_iter_next(it, &k, &kl, &v, &vl)) {
			const char *scope = (const char *)k + REFRESH_QUEUE_LEN;
			size_t rest = kl - REFRESH_QUEUE_LEN, sl = strnlen(scope, rest);
			json_t *e = json_pack("{s:s%}", "scope", scope, sl);

			if (sl + 1 < rest) /* "all" has none */
				json_object_set_new(e, "code", json_stringn(scope + sl + 1, rest - sl - 1));
			json_object_set_new(e, "after", json_stringn(v, vl));
			json_array_append_new(list, e);
		}
		pim_iter_close(it);
	}
	pim_txn_abort(t);
	return list;
}

/* 1 when index db (ix_family, ix_cat) lists a product under code, 0 when
 * not, or an error. */
static int has_products(struct pim_batch *b, int db, const char *code, struct hub_err *err)
{
	char pre[PIM_MAX_KEY + 1];
	size_t cl = strlen(code), kl;
	struct pim_iter *it;
	const void *k;
	int rc;

	if (cl >= sizeof(pre))
		return 0;
	rc = pending_apply(b, err);
	if (rc == 0)
		rc = pim_iter_open(b->txn, db, &it, err);
	if (rc < 0)
		return rc;
	memcpy(pre, code, cl);
	pre[cl] = 0;
	rc = pim_iter_seek(it, pre, cl + 1, &k, &kl, NULL, NULL) == 0 && kl > cl &&
	     !memcmp(k, pre, cl + 1);
	pim_iter_close(it);
	return rc;
}

/* An attribute's type and whether its values carry a locale or a channel
 * decide the shape of every value products hold: changed under them, each
 * of those products would fail every later write and drop out of its
 * channels. So, as in Akeneo, they are fixed once a family that has the
 * attribute has products; a new attribute is the way to change them. */
static int attribute_change_check(struct pim_batch *b, const char *code, json_t *old,
				  json_t *norm, struct hub_err *err)
{
	static const char *const fixed[] = {"type", "localizable", "scopable"};
	const char *field = NULL, *fam;
	json_t *fd;

	for (size_t i = 0; !field && i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		json_t *a = json_object_get(old, fixed[i]), *n = json_object_get(norm, fixed[i]);

		if ((a || n) && !json_equal(a, n))
			field = fixed[i];
	}
	if (!field)
		return 0;
	json_object_foreach(b->schema->docs[PK_FAMILIES], fam, fd) {
		int rc;

		if (!json_array_has_string(json_object_get(fd, "attributes"), code))
			continue;
		rc = has_products(b, PDB_IX_FAMILY, fam, err);
		if (rc < 0)
			return rc;
		if (rc)
			return hub_err_set(err, HUB_ECONFLICT,
					   "attribute '%.100s' is used by family '%.100s', which has "
					   "products: its '%s' cannot change (create a new attribute "
					   "instead)",
					   code, fam, field);
	}
	return 0;
}

static int schema_put_in(struct pim_batch *b, int kind, const char *code, json_t *doc,
			 int *outcome, json_t **stored, json_t **problems, struct hub_err *err)
{
	char key[PIM_MAX_KEY];
	size_t kl = schema_key(kind, code, key, sizeof(key));
	json_t *probs = json_array(), *norm, *old;
	int rc;

	*outcome = 0;
	if (problems)
		*problems = NULL;
	norm = pim_schema_check(b->schema, kind, code, doc, probs);
	if (!norm || !kl) {
		if (!kl && norm)
			pim_problem(probs, "/code", "bad_code", "the code is too long");
		json_decref(norm);
		if (problems)
			*problems = probs;
		else
			json_decref(probs);
		return hub_err_set(err, HUB_EINVALID, "the %s document has problems",
				   pim_kind_name(kind));
	}
	json_decref(probs);
	old = pim_schema_doc(b->schema, kind, code);
	if (old && json_equal(old, norm)) {
		*outcome = PIM_UNCHANGED;
		rc = 0;
	} else {
		rc = kind == PK_ATTRIBUTES && old ? attribute_change_check(b, code, old, norm, err)
						  : 0;
		if (rc == 0)
			rc = put_json(b->txn, PDB_SCHEMA, key, kl, norm, err);
		if (rc == 0)
			rc = schema_changed(b, kind, code, "schema.updated", old, err);
		*outcome = old ? PIM_UPDATED : PIM_CREATED;
	}
	if (rc == 0 && stored)
		*stored = json_incref(norm);
	json_decref(norm);
	return rc;
}

int pim_schema_write(struct pim_app *app, int kind, const char *code, json_t *doc,
		     const char *by, int *outcome, json_t **stored, json_t **problems,
		     struct hub_err *err)
{
	struct pim_batch *b;
	int rc;

	if (stored)
		*stored = NULL;
	rc = pim_batch_begin(app, by, false, &b, err);
	if (rc < 0)
		return rc;
	rc = schema_put_in(b, kind, code, doc, outcome, stored, problems, err);
	if (rc < 0 || *outcome == PIM_UNCHANGED) {
		pim_batch_abort(b);
		return rc;
	}
	return pim_batch_commit(b, err);
}

int pim_schema_put(struct pim_app *app, const char *kind, json_t *doc, const char *by,
		   json_t **problems, struct hub_err *err)
{
	int k = pim_kind_parse(kind), outcome;
	const char *code = json_string_value(json_object_get(doc, "code"));

	if (problems)
		*problems = NULL;
	if (k < 0)
		return hub_err_set(err, HUB_EINVAL, "'%s' is not a kind of schema document", kind);
	if (!code) {
		if (problems) {
			*problems = json_array();
			pim_problem(*problems, "/code", "required", "a schema document needs a code");
		}
		return hub_err_set(err, HUB_EINVALID, "a schema document needs a code");
	}
	return pim_schema_write(app, k, code, doc, by, &outcome, NULL, problems, err);
}

int pim_schema_delete(struct pim_app *app, int kind, const char *code, const char *by,
		      struct hub_err *err)
{
	struct pim_batch *b;
	char key[PIM_MAX_KEY], msg[256];
	size_t kl = schema_key(kind, code, key, sizeof(key));
	int rc;

	rc = pim_batch_begin(app, by, false, &b, err);
	if (rc < 0)
		return rc;
	if (!kl || !pim_schema_doc(b->schema, kind, code)) {
		rc = hub_err_set(err, HUB_ENOTFOUND, "no %s '%.100s'", pim_kind_name(kind), code);
	} else if (pim_schema_in_use(b->schema, kind, code, msg, sizeof(msg))) {
		rc = hub_err_set(err, HUB_ECONFLICT, "%s '%.100s' is in use: %s", pim_kind_name(kind),
				 code, msg);
	} else if (kind == PK_FAMILIES || kind == PK_CATEGORIES) {
		rc = has_products(b, kind == PK_FAMILIES ? PDB_IX_FAMILY : PDB_IX_CAT, code, err);
		if (rc == 1)
			rc = hub_err_set(err, HUB_ECONFLICT, "%s '%.100s' still has products",
					 kind == PK_FAMILIES ? "family" : "category", code);
	}
	if (rc == 0)
		rc = pim_del(b->txn, PDB_SCHEMA, key, kl, err);
	if (rc == 0)
		rc = schema_changed(b, kind, code, "schema.deleted", NULL, err);
	if (rc < 0) {
		pim_batch_abort(b);
		return rc;
	}
	return pim_batch_commit(b, err);
}

json_t *pim_schema_get(struct pim_app *app, const char *kind, const char *code)
{
	struct pim_schema *s = pim_catalog_schema(app);
	int k = pim_kind_parse(kind);
	json_t *d = k >= 0 ? pim_schema_doc(s, k, code) : NULL;

	json_incref(d);
	pim_schema_unref(s);
	return d;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *pim_schema_list(struct pim_app *app, const char *kind)
{
	struct pim_schema *s = pim_catalog_schema(app);
	int k = pim_kind_parse(kind);
	json_t *arr = json_array(), *d;
	const char *code;

	if (k >= 0) {
		/* sorted by code, like every other listing */
		const char **codes = calloc(json_object_size(s->docs[k]) + 1, sizeof(*codes));
		size_t n = 0;

		json_object_foreach(s->docs[k], code, d)
			if (codes)
				codes[n++] = code;
		if (codes) {
			qsort(codes, n, sizeof(*codes), str_cmp);
			for (size_t i = 0; i < n; i++)
				json_array_append(arr, json_object_get(s->docs[k], codes[i]));
		}
		free(codes);
	}
	pim_schema_unref(s);
	return arr;
}

/* ---- reads ---- */

int pim_products_foreach(struct pim_app *app, const char *after, pim_product_fn fn, void *cls,
			 struct hub_err *err)
{
	char from[PIM_MAX_KEY + 2];
	size_t fl = 0;
	bool skip_first = false;
	int rc = 0;

	if (after && *after) {
		fl = strlen(after);
		if (fl > PIM_MAX_KEY)
			fl = PIM_MAX_KEY;
		memcpy(from, after, fl);
		skip_first = true;
	}
	for (;;) {
		json_t *docs = json_array(), *d;
		struct pim_txn *t;
		struct pim_iter *it;
		const void *k, *v;
		size_t kl, vl, i;
		int r;

		rc = pim_txn_begin(app->store, false, &t, err);
		if (rc == 0)
			rc = pim_iter_open(t, PDB_PRODUCTS, &it, err);
		else
			t = NULL;
		if (rc < 0) {
			pim_txn_abort(t);
			json_decref(docs);
			return rc;
		}
		/* short read transactions, so a long export holds no old pages */
		for (r = pim_iter_seek(it, from, fl, &k, &kl, &v, &vl); r == 0 && json_array_size(docs) < 256;
		     r = pim_iter_next(it, &k, &kl, &v, &vl)) {
			if (skip_first && kl == fl && !memcmp(k, from, fl))
				continue;
			d = json_loadb(v, vl, 0, NULL);
			if (d)
				json_array_append_new(docs, d);
		}
		pim_iter_close(it);
		pim_txn_abort(t);
		json_array_foreach(docs, i, d)
			if (fn(cls, d)) {
				json_decref(docs);
				return 0;
			}
		if (json_array_size(docs) < 256) {
			json_decref(docs);
			return 0;
		}
		d = json_array_get(docs, 255);
		fl = strlen(json_string_value(json_object_get(d, "sku")));
		memcpy(from, json_string_value(json_object_get(d, "sku")), fl);
		skip_first = true;
		json_decref(docs);
	}
}

/* ---- open, seed ---- */

static const int seed_order[] = {PK_LOCALES, PK_CURRENCIES, PK_CATEGORIES, PK_CHANNELS,
				 PK_ATTRIBUTES, PK_FAMILIES, PK_ASSOC};

/* Seeds the starter catalog when the schema is empty; a bad document is
 * logged and skipped, so that one mistake does not stop the daemon. */
static int seed(struct pim_app *app, struct hub_err *err)
{
	struct pim_batch *b;
	bool empty;
	int rc;

	rc = pim_batch_begin(app, "seed", false, &b, err);
	if (rc < 0)
		return rc;
	empty = b->schema->nattrs == 0 && json_object_size(b->schema->docs[PK_LOCALES]) == 0;
	if (pim_get(b->txn, PDB_META, "seeded", 6, NULL, NULL) == 0)
		empty = false;
	/* without the starter the store is still marked seeded: the choice
	 * holds for the data directory, not for one start */
	for (size_t i = 0; empty && !app->no_starter && i < sizeof(seed_order) / sizeof(seed_order[0]);
	     i++) {
		char path[4096];
		json_error_t je;
		json_t *arr, *doc;
		size_t j;

		snprintf(path, sizeof(path), "%s/starter/%s.json", app->schemas_dir,
			 pim_kind_name(seed_order[i]));
		arr = json_load_file(path, 0, &je);
		if (!arr) {
			hub_log(LOG_WARN, "seed file=\"%s\" error=\"%s\"", path, je.text);
			continue;
		}
		json_array_foreach(arr, j, doc) {
			const char *code = json_string_value(json_object_get(doc, "code"));
			json_t *probs = NULL;
			int outcome;
			struct hub_err e2 = {0};

			if (!code || schema_put_in(b, seed_order[i], code, doc, &outcome, NULL, &probs,
						   &e2) < 0) {
				char *s = probs ? json_dumps(probs, JSON_COMPACT) : NULL;

				hub_log(LOG_WARN, "seed file=\"%s\" item=%zu error=\"%s\" problems=%s", path, j,
					e2.msg, s ? s : "[]");
				free(s);
			}
			json_decref(probs);
		}
		json_decref(arr);
	}
	if (!pim_schema_attr(b->schema, "sku")) {
		json_t *sku = json_pack("{s:s,s:s}", "code", "sku", "type", "identifier");
		json_t *probs = NULL;
		int outcome;

		rc = schema_put_in(b, PK_ATTRIBUTES, "sku", sku, &outcome, NULL, &probs, err);
		json_decref(sku);
		json_decref(probs);
	}
	if (rc == 0 && empty)
		rc = pim_put(b->txn, PDB_META, "seeded", 6, "1", 1, err);
	if (rc < 0) {
		pim_batch_abort(b);
		return rc;
	}
	return pim_batch_commit(b, err);
}

/* A store written before ix_asset: indexes every product's assets once,
 * which also counts their images by pim_asset_usable. */
static int assets_index(struct pim_app *app, struct hub_err *err)
{
	struct pim_batch *b;
	uint64_t seq;
	int rc;

	rc = pim_batch_begin(app, "pimd", false, &b, err);
	if (rc < 0)
		return rc;
	seq = b->seq;
	if (pim_get(b->txn, PDB_META, ASSET_INDEX_KEY, strlen(ASSET_INDEX_KEY), NULL, NULL) == 0) {
		pim_batch_abort(b);
		return 0;
	}
	rc = refresh_index(b, PDB_PRODUCTS, NULL, NULL, FEED_ASSET, err);
	if (rc == 0)
		rc = pim_put(b->txn, PDB_META, ASSET_INDEX_KEY, strlen(ASSET_INDEX_KEY), "1", 1, err);
	if (rc < 0) {
		pim_batch_abort(b);
		return rc;
	}
	hub_log(LOG_INFO, "products' assets indexed completeness_changed=%llu",
		(unsigned long long)(b->seq - seq));
	return pim_batch_commit(b, err);
}

int pim_catalog_open(struct pim_app *app, struct hub_err *err)
{
	struct pim_catalog *c = calloc(1, sizeof(*c));
	struct pim_txn *t = NULL;
	struct pim_iter *it = NULL;
	const void *k;
	size_t kl;
	int rc;

	if (!c)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	pthread_mutex_init(&c->schema_lock, NULL);
	pthread_mutex_init(&c->write_lock, NULL);
	c->cache = pim_cache_new((size_t)(app->cache_mb > 0 ? app->cache_mb : 64) << 20);
	c->changes_q = http_waitq_new();
	app->catalog = c;
	if (!c->cache || !c->changes_q) {
		rc = hub_err_set(err, HUB_ENOMEM, "out of memory");
		goto fail;
	}
	rc = pim_txn_begin(app->store, false, &t, err);
	if (rc == 0)
		rc = pim_schema_load(t, &c->schema, err);
	if (rc == 0 && pim_iter_open(t, PDB_CHANGES, &it, NULL) == 0) {
		if (pim_iter_last(it, &k, &kl, NULL, NULL) == 0 && kl == 8)
			c->last_seq = pim_from_be64(k);
		pim_iter_close(it);
	}
	pim_txn_abort(t);
	if (rc == 0)
		rc = seed(app, err);
	if (rc == 0)
		rc = assets_index(app, err);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	pim_catalog_close(app);
	return rc;
}

void pim_catalog_close(struct pim_app *app)
{
	struct pim_catalog *c = app->catalog;

	if (!c)
		return;
	pim_schema_unref(c->schema);
	pim_cache_free(c->cache);
	http_waitq_free(c->changes_q);
	pthread_mutex_destroy(&c->schema_lock);
	pthread_mutex_destroy(&c->write_lock);
	free(c);
	app->catalog = NULL;
}
