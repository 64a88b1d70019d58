#include "store.h"
#include "err.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char *const db_names[PDB_COUNT] = {
	"meta",      "schema",     "products", "history",     "changes",
	"ix_family", "ix_category", "ix_enabled", "ix_updated", "ix_complete",
	"ix_token",  "ix_parent",  "unique", "ixkeys",   "assets",
	"asset_names", "models", "ix_asset",
};

struct pim_txn {
	struct pim_store *s;
	MDB_txn *txn;
	bool write;
	int failed;           /* the first LMDB error of a write, if any */
	struct pim_txn *next; /* in the pool of reset read transactions */
};

struct pim_store {
	MDB_env *env;
	MDB_dbi dbi[PDB_COUNT];
	pthread_mutex_t pool_lock;
	struct pim_txn *pool;
};

struct pim_iter {
	MDB_cursor *cur;
	struct pim_txn *t;
};

static int lmdb_err(struct hub_err *err, int rc, const char *what)
{
	if (rc == ENOSPC)
		return hub_err_set(err, HUB_ENOSPACE, "%s: the disk is full", what);
	if (rc == MDB_MAP_FULL)
		return hub_err_set(err, HUB_ENOSPACE,
				   "%s: the store is full: it reached its map size (start pimd "
				   "with a larger --map-size)",
				   what);
	if (rc == MDB_BAD_VALSIZE)
		return hub_err_set(err, HUB_EINVAL, "%s: key too long", what);
	return hub_err_set(err, HUB_EIO, "%s: %s", what, mdb_strerror(rc));
}

/* A write that fails leaves LMDB's transaction unusable, and each later
 * call says only MDB_BAD_TXN: the first failure (a full store, say) is the
 * one to report. */
static int write_err(struct pim_txn *t, struct hub_err *err, int rc, const char *what)
{
	if (rc == MDB_BAD_TXN && t->failed)
		rc = t->failed;
	else if (!t->failed)
		t->failed = rc;
	return lmdb_err(err, rc, what);
}

int pim_store_open(struct pim_store **out, const char *dir, unsigned long long map_size,
		   struct hub_err *err)
{
	struct pim_store *s = calloc(1, sizeof(*s));
	MDB_txn *txn = NULL;
	int rc;

	if (!s)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	pthread_mutex_init(&s->pool_lock, NULL);
	rc = mdb_env_create(&s->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(s->env, 32);
	if (rc == 0)
		rc = mdb_env_set_maxreaders(s->env, 512);
	if (rc == 0)
		rc = mdb_env_set_mapsize(s->env, map_size ? map_size : PIM_STORE_MAP_SIZE);
	/* NOTLS: pooled read transactions move between threads. NOSYNC: the
	 * catalog syncs after the last transaction of a request instead (see
	 * pim_store_sync), so a streamed batch pays for one sync */
	if (rc == 0)
		rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOSYNC, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	for (int i = 0; rc == 0 && i < PDB_COUNT; i++)
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (rc) {
		if (txn)
			mdb_txn_abort(txn);
		hub_err_set(err, HUB_EIO, "cannot open LMDB in '%s': %s", dir, mdb_strerror(rc));
		pim_store_close(s);
		return HUB_EIO;
	}
	*out = s;
	return 0;
}

void pim_store_close(struct pim_store *s)
{
	struct pim_txn *t;

	if (!s)
		return;
	while ((t = s->pool)) {
		s->pool = t->next;
		mdb_txn_abort(t->txn);
		free(t);
	}
	if (s->env)
		mdb_env_close(s->env);
	pthread_mutex_destroy(&s->pool_lock);
	free(s);
}

const char *pim_db_name(enum pim_db db)
{
	return db_names[db];
}

size_t pim_db_pages(struct pim_txn *t, enum pim_db db)
{
	MDB_stat st;

	if (mdb_stat(t->txn, t->s->dbi[db], &st))
		return 0;
	return st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
}

int pim_store_sync(struct pim_store *s, struct hub_err *err)
{
	int rc = mdb_env_sync(s->env, 1);

	return rc ? lmdb_err(err, rc, "cannot sync") : 0;
}

int pim_txn_begin(struct pim_store *s, bool write, struct pim_txn **out, struct hub_err *err)
{
	struct pim_txn *t = NULL;
	int rc;

	if (!write) {
		pthread_mutex_lock(&s->pool_lock);
		t = s->pool;
		if (t)
			s->pool = t->next;
		pthread_mutex_unlock(&s->pool_lock);
		if (t) {
			rc = mdb_txn_renew(t->txn);
			if (rc == 0) {
				*out = t;
				return 0;
			}
			mdb_txn_abort(t->txn);
			free(t);
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	t->s = s;
	t->write = write;
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc) {
		free(t);
		return lmdb_err(err, rc, "cannot begin a transaction");
	}
	*out = t;
	return 0;
}

int pim_txn_commit(struct pim_txn *t, struct hub_err *err)
{
	int rc;

	if (!t->write) {
		pim_txn_abort(t);
		return 0;
	}
	rc = mdb_txn_commit(t->txn);
	if (rc)
		rc = write_err(t, err, rc, "cannot commit");
	free(t);
	return rc;
}

void pim_txn_abort(struct pim_txn *t)
{
	struct pim_store *s;

	if (!t)
		return;
	if (t->write) {
		mdb_txn_abort(t->txn);
		free(t);
		return;
	}
	/* keep the reader slot for the next read on any thread */
	s = t->s;
	mdb_txn_reset(t->txn);
	pthread_mutex_lock(&s->pool_lock);
	t->next = s->pool;
	s->pool = t;
	pthread_mutex_unlock(&s->pool_lock);
}

int pim_get(struct pim_txn *t, enum pim_db db, const void *key, size_t klen, const void **val,
	    size_t *vlen)
{
	MDB_val k = {klen, (void *)key}, v;

	if (klen == 0 || klen > PIM_MAX_KEY)
		return HUB_ENOTFOUND;
	if (mdb_get(t->txn, t->s->dbi[db], &k, &v))
		return HUB_ENOTFOUND;
	if (val)
		*val = v.mv_data;
	if (vlen)
		*vlen = v.mv_size;
	return 0;
}

int pim_put(struct pim_txn *t, enum pim_db db, const void *key, size_t klen, const void *val,
	    size_t vlen, struct hub_err *err)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc;

	if (klen == 0 || klen > PIM_MAX_KEY)
		return hub_err_set(err, HUB_EINVAL, "key of %zu bytes", klen);
	/* Keys written in ascending order (a first load in sku order, the
	 * change sequence) are appended: LMDB then fills each page instead of
	 * splitting it in half, which for documents of a third of a page or
	 * more means half the pages, half the bytes each commit writes. A key
	 * that is not past the last one is MDB_KEYEXIST and is put as usual. */
	if (db == PDB_PRODUCTS || db == PDB_HISTORY || db == PDB_IXKEYS || db == PDB_CHANGES) {
		rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, MDB_APPEND);
		if (rc != MDB_KEYEXIST)
			return rc ? write_err(t, err, rc, "cannot write") : 0;
	}
	rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, 0);
	return rc ? write_err(t, err, rc, "cannot write") : 0;
}

int pim_del(struct pim_txn *t, enum pim_db db, const void *key, size_t klen,
	    struct hub_err *err)
{
	MDB_val k = {klen, (void *)key};
	int rc;

	if (klen == 0 || klen > PIM_MAX_KEY)
		return 0;
	rc = mdb_del(t->txn, t->s->dbi[db], &k, NULL);
	return rc && rc != MDB_NOTFOUND ? write_err(t, err, rc, "cannot delete") : 0;
}

int pim_iter_open(struct pim_txn *t, enum pim_db db, struct pim_iter **out,
		  struct hub_err *err)
{
	struct pim_iter *it = calloc(1, sizeof(*it));
	int rc;

	if (!it)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	rc = mdb_cursor_open(t->txn, t->s->dbi[db], &it->cur);
	if (rc) {
		free(it);
		return t->write ? write_err(t, err, rc, "cannot open a cursor")
				: lmdb_err(err, rc, "cannot open a cursor");
	}
	it->t = t;
	*out = it;
	return 0;
}

static int iter_get(struct pim_iter *it, MDB_val *k, MDB_cursor_op op, const void **ko,
		    size_t *kl, const void **vo, size_t *vl)
{
	MDB_val v;

	if (mdb_cursor_get(it->cur, k, &v, op))
		return HUB_ENOTFOUND;
	if (ko)
		*ko = k->mv_data;
	if (kl)
		*kl = k->mv_size;
	if (vo)
		*vo = v.mv_data;
	if (vl)
		*vl = v.mv_size;
	return 0;
}

int pim_iter_seek(struct pim_iter *it, const void *key, size_t klen, const void **k,
		  size_t *kl, const void **v, size_t *vl)
{
	MDB_val mk = {klen, (void *)key};

	if (klen == 0)
		return iter_get(it, &mk, MDB_FIRST, k, kl, v, vl);
	if (klen > PIM_MAX_KEY)
		mk.mv_size = PIM_MAX_KEY;
	return iter_get(it, &mk, MDB_SET_RANGE, k, kl, v, vl);
}

int pim_iter_last(struct pim_iter *it, const void **k, size_t *kl, const void **v, size_t *vl)
{
	MDB_val mk = {0, NULL};

	return iter_get(it, &mk, MDB_LAST, k, kl, v, vl);
}

int pim_iter_next(struct pim_iter *it, const void **k, size_t *kl, const void **v, size_t *vl)
{
	MDB_val mk = {0, NULL};

	return iter_get(it, &mk, MDB_NEXT, k, kl, v, vl);
}

int pim_iter_prev(struct pim_iter *it, const void **k, size_t *kl, const void **v, size_t *vl)
{
	MDB_val mk = {0, NULL};

	return iter_get(it, &mk, MDB_PREV, k, kl, v, vl);
}

int pim_iter_put(struct pim_iter *it, const void *key, size_t klen, const void *val, size_t vlen,
		 struct hub_err *err)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc;

	if (klen == 0 || klen > PIM_MAX_KEY)
		return hub_err_set(err, HUB_EINVAL, "key of %zu bytes", klen);
	rc = mdb_cursor_put(it->cur, &k, &v, 0);
	return rc ? write_err(it->t, err, rc, "cannot write") : 0;
}

int pim_iter_del(struct pim_iter *it, const void *key, size_t klen, struct hub_err *err)
{
	MDB_val k = {klen, (void *)key}, v;
	int rc;

	if (klen == 0 || klen > PIM_MAX_KEY)
		return 0;
	rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0)
		rc = mdb_cursor_del(it->cur, 0);
	return rc ? write_err(it->t, err, rc, "cannot delete") : 0;
}

void pim_iter_close(struct pim_iter *it)
{
	if (!it)
		return;
	mdb_cursor_close(it->cur);
	free(it);
}
