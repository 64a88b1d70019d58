#include "fmacros.h"
#include "store.h"
#include "err.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const db_names[] = {"assets", "renditions", "index", "changes", "meta"};
#define NDBS (sizeof(db_names) / sizeof(db_names[0]))

struct dam_store {
	MDB_env *env;
	MDB_dbi dbi[NDBS];
};

struct dam_txn {
	struct dam_store *s;
	MDB_txn *txn;
	int failed; /* the first LMDB error of a write */
};

static int lmdb_err(struct hub_err *err, int rc, const char *what)
{
	if (rc == MDB_NOTFOUND)
		return hub_err_set(err, HUB_ENOTFOUND, "not found");
	if (rc == ENOSPC)
		return hub_err_set(err, HUB_ENOSPACE, "%s: the disk is full", what);
	if (rc == MDB_MAP_FULL)
		return hub_err_set(err, HUB_ENOSPACE,
				   "%s: the store is full: it reached its map size (start damd "
				   "with a larger --map-size)",
				   what);
	return hub_err_set(err, HUB_EIO, "%s: %s", what, mdb_strerror(rc));
}

/* After one failed write LMDB answers every later one, and the commit,
 * with MDB_BAD_TXN: report the failure that started it (a full map, a
 * full disk) instead. */
static int write_err(struct dam_txn *t, struct hub_err *err, int rc, const char *what)
{
	if (rc == MDB_BAD_TXN && t->failed)
		rc = t->failed;
	else if (!t->failed)
		t->failed = rc;
	return lmdb_err(err, rc, what);
}

static int db_index(const char *name)
{
	for (size_t i = 0; i < NDBS; i++)
		if (!strcmp(db_names[i], name))
			return (int)i;
	return -1;
}

int dam_store_open(struct dam_store **out, const char *dir, unsigned long long map_size,
		   struct hub_err *err)
{
	struct dam_store *s = calloc(1, sizeof(*s));
	char path[4096];
	MDB_txn *txn = NULL;
	int rc;

	if (!s)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/meta.mdb", dir);
	rc = mdb_env_create(&s->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(s->env, 16);
	if (rc == 0)
		rc = mdb_env_set_mapsize(s->env, map_size ? map_size : DAM_STORE_MAP_SIZE);
	if (rc == 0)
		rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	for (size_t i = 0; rc == 0 && i < NDBS; i++)
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (rc) {
		if (txn)
			mdb_txn_abort(txn);
		lmdb_err(err, rc, path);
		dam_store_close(s);
		return HUB_EIO;
	}
	*out = s;
	return 0;
}

void dam_store_close(struct dam_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	free(s);
}

static int copy_out(MDB_val *v, char **val, size_t *vlen, struct hub_err *err)
{
	char *p = malloc(v->mv_size + 1);

	if (!p)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	memcpy(p, v->mv_data, v->mv_size);
	p[v->mv_size] = 0;
	*val = p;
	if (vlen)
		*vlen = v->mv_size;
	return 0;
}

int dam_kv_get(struct dam_store *s, const char *db, const void *key, size_t klen, char **val,
	       size_t *vlen, struct hub_err *err)
{
	int i = db_index(db), rc;
	MDB_txn *txn;
	MDB_val k = {klen, (void *)key}, v;

	if (i < 0)
		return hub_err_set(err, HUB_EINVAL, "no database '%s'", db);
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return lmdb_err(err, rc, "read");
	rc = mdb_get(txn, s->dbi[i], &k, &v);
	if (rc == 0)
		rc = copy_out(&v, val, vlen, err);
	else
		rc = lmdb_err(err, rc, "read");
	mdb_txn_abort(txn);
	return rc;
}

int dam_txn_begin(struct dam_store *s, struct dam_txn **out, struct hub_err *err)
{
	struct dam_txn *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	t->s = s;
	rc = mdb_txn_begin(s->env, NULL, 0, &t->txn);
	if (rc) {
		free(t);
		return lmdb_err(err, rc, "begin");
	}
	*out = t;
	return 0;
}

int dam_txn_put(struct dam_txn *t, const char *db, const void *key, size_t klen,
		const void *val, size_t vlen, struct hub_err *err)
{
	int i = db_index(db), rc;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	if (i < 0)
		return hub_err_set(err, HUB_EINVAL, "no database '%s'", db);
	if (klen == 0 || klen > 511)
		return hub_err_set(err, HUB_EINVAL, "key of %zu bytes", klen);
	rc = mdb_put(t->txn, t->s->dbi[i], &k, &v, 0);
	return rc ? write_err(t, err, rc, "write") : 0;
}

int dam_txn_del(struct dam_txn *t, const char *db, const void *key, size_t klen,
		struct hub_err *err)
{
	int i = db_index(db), rc;
	MDB_val k = {klen, (void *)key};

	if (i < 0)
		return hub_err_set(err, HUB_EINVAL, "no database '%s'", db);
	rc = mdb_del(t->txn, t->s->dbi[i], &k, NULL);
	return rc && rc != MDB_NOTFOUND ? write_err(t, err, rc, "delete") : 0;
}

int dam_txn_get(struct dam_txn *t, const char *db, const void *key, size_t klen, char **val,
		size_t *vlen, struct hub_err *err)
{
	int i = db_index(db), rc;
	MDB_val k = {klen, (void *)key}, v;

	if (i < 0)
		return hub_err_set(err, HUB_EINVAL, "no database '%s'", db);
	rc = mdb_get(t->txn, t->s->dbi[i], &k, &v);
	if (rc == MDB_BAD_TXN && t->failed)
		rc = t->failed;
	return rc ? lmdb_err(err, rc, "read") : copy_out(&v, val, vlen, err);
}

int dam_txn_commit(struct dam_txn *t, struct hub_err *err)
{
	int rc = mdb_txn_commit(t->txn);

	if (rc)
		rc = write_err(t, err, rc, "commit");
	free(t);
	return rc;
}

void dam_txn_abort(struct dam_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

int dam_kv_put(struct dam_store *s, const char *db, const void *key, size_t klen,
	       const void *val, size_t vlen, struct hub_err *err)
{
	struct dam_txn *t;
	int rc = dam_txn_begin(s, &t, err);

	if (rc < 0)
		return rc;
	rc = dam_txn_put(t, db, key, klen, val, vlen, err);
	if (rc < 0) {
		dam_txn_abort(t);
		return rc;
	}
	return dam_txn_commit(t, err);
}

int dam_kv_del(struct dam_store *s, const char *db, const void *key, size_t klen,
	       struct hub_err *err)
{
	struct dam_txn *t;
	int rc = dam_txn_begin(s, &t, err);

	if (rc < 0)
		return rc;
	rc = dam_txn_del(t, db, key, klen, err);
	if (rc < 0) {
		dam_txn_abort(t);
		return rc;
	}
	return dam_txn_commit(t, err);
}

int dam_kv_scan(struct dam_store *s, const char *db, const void *prefix, size_t plen,
		const void *start, size_t slen, dam_kv_fn fn, void *cls, struct hub_err *err)
{
	int i = db_index(db), rc;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;

	if (i < 0)
		return hub_err_set(err, HUB_EINVAL, "no database '%s'", db);
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return lmdb_err(err, rc, "read");
	rc = mdb_cursor_open(txn, s->dbi[i], &cur);
	if (rc) {
		mdb_txn_abort(txn);
		return lmdb_err(err, rc, "cursor");
	}
	k.mv_data = (void *)(start ? start : prefix);
	k.mv_size = start ? slen : plen;
	rc = k.mv_size ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen))
			break;
		if (fn(cls, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc && rc != MDB_NOTFOUND ? lmdb_err(err, rc, "scan") : 0;
}
