/* pimd's LMDB environment: named databases, transactions and ordered
 * iteration over byte keys. LMDB is used only behind this module; the rest
 * of pimd sees keys and values as bytes. The layout (databases, key
 * encodings) is documented in pimd/README.md.
 */
#ifndef PIM_STORE_H
#define PIM_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct hub_err;
struct pim_store;
struct pim_txn;
struct pim_iter;

enum pim_db {
	PDB_META,      /* "schema_seeded" … → small values */
	PDB_SCHEMA,    /* kind NUL code → JSON document */
	PDB_PRODUCTS,  /* sku → canonical JSON document */
	PDB_HISTORY,   /* sku NUL BE32 version → JSON history entry */
	PDB_CHANGES,   /* BE64 seq → JSON change */
	PDB_IX_FAMILY, /* family NUL sku → "" */
	PDB_IX_CAT,    /* category NUL sku → "" (every ancestor too) */
	PDB_IX_ENABLED,/* "1"|"0" NUL sku → "" */
	PDB_IX_UPDATED,/* BE64 ms NUL sku → "" */
	PDB_IX_COMPLETE, /* channel/locale NUL sku → "" while complete */
	PDB_IX_TOKEN,  /* folded word NUL sku → "" */
	PDB_IX_PARENT, /* parent NUL child sku → "" */
	PDB_UNIQUE,    /* attribute NUL value → sku */
	PDB_IXKEYS,    /* sku → the index keys written for it (packed) */
	PDB_ASSETS,    /* damd asset id → pimd's record of it (JSON) */
	PDB_ASSET_NAMES, /* sku an asset may name NUL asset id → "" */
	PDB_MODELS,    /* Akeneo sub-models: code → record, code NUL sku, NUL sku → code */
	PDB_IX_ASSET,  /* asset id NUL sku → "" (ixkeys store these numbers: append only) */
	PDB_COUNT
};

/* Opens (creating if needed) the environment in dir. map_size is the most
 * the store may grow to (0: PIM_STORE_MAP_SIZE): LMDB reserves that much
 * address space, not disk, and a write past it fails with HUB_ENOSPACE. */
#define PIM_STORE_MAP_SIZE (64ull << 30)
int pim_store_open(struct pim_store **out, const char *dir, unsigned long long map_size,
		   struct hub_err *err);
/* Closes it; every transaction must have ended. Accepts NULL. */
void pim_store_close(struct pim_store *s);

/* A database's name as LMDB knows it, and the pages (branch, leaf and
 * overflow, 4 KiB each) it holds as of t: disk use per database. */
const char *pim_db_name(enum pim_db db);
size_t pim_db_pages(struct pim_txn *t, enum pim_db db);

/* Flushes committed transactions to disk. Commits do not sync by
 * themselves, so that a batch of transactions pays for one sync. */
int pim_store_sync(struct pim_store *s, struct hub_err *err);

/* A write transaction is the only one at a time (others wait) and must be
 * used, committed and aborted by the thread that began it. Read
 * transactions never block writers; each thread reuses its own. */
int pim_txn_begin(struct pim_store *s, bool write, struct pim_txn **out, struct hub_err *err);
int pim_txn_commit(struct pim_txn *t, struct hub_err *err);
/* Ends a read transaction or discards a write one; accepts NULL. */
void pim_txn_abort(struct pim_txn *t);

/* Values returned by get and the iterators point into the map and are
 * valid only until the transaction ends or writes to that database. */
/* 0, or HUB_ENOTFOUND. */
int pim_get(struct pim_txn *t, enum pim_db db, const void *key, size_t klen, const void **val,
	    size_t *vlen);
int pim_put(struct pim_txn *t, enum pim_db db, const void *key, size_t klen, const void *val,
	    size_t vlen, struct hub_err *err);
/* Deleting a missing key is not an error. */
int pim_del(struct pim_txn *t, enum pim_db db, const void *key, size_t klen,
	    struct hub_err *err);

/* Ordered iteration. seek positions at the first key >= key (klen 0: the
 * first key), last at the last key; next and prev move. Each returns 0 with
 * the current key and value, or HUB_ENOTFOUND past the end. */
int pim_iter_open(struct pim_txn *t, enum pim_db db, struct pim_iter **out,
		  struct hub_err *err);
int pim_iter_seek(struct pim_iter *it, const void *key, size_t klen, const void **k,
		  size_t *kl, const void **v, size_t *vl);
int pim_iter_last(struct pim_iter *it, const void **k, size_t *kl, const void **v, size_t *vl);
int pim_iter_next(struct pim_iter *it, const void **k, size_t *kl, const void **v, size_t *vl);
int pim_iter_prev(struct pim_iter *it, const void **k, size_t *kl, const void **v, size_t *vl);
void pim_iter_close(struct pim_iter *it);

/* Writes and deletes through an iterator of a write transaction. Keys given
 * in ascending order mostly land on the page the cursor already holds,
 * which spares LMDB the descent from the root: bulk index updates sort their
 * keys and use these. Deleting a missing key is not an error. */
int pim_iter_put(struct pim_iter *it, const void *key, size_t klen, const void *val, size_t vlen,
		 struct hub_err *err);
int pim_iter_del(struct pim_iter *it, const void *key, size_t klen, struct hub_err *err);

/* The longest key the store accepts. */
#define PIM_MAX_KEY 500

#endif
