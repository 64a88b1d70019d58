/* damd's LMDB environment (asset metadata and indexes). LMDB is used only
 * here; other modules use this small key-value API over named databases.
 *
 * Databases (add new names to store.c's list):
 *   assets      asset id ("sha256:<hex>") -> metadata JSON
 *   renditions  "<source hex>\0<canonical params>" -> rendition JSON
 *   index       secondary indexes, keys "<kind>\0<value>\0<asset id>"
 *   changes     big-endian uint64 sequence -> change event JSON
 *   meta        small settings (e.g. "seq")
 */
#ifndef DAM_STORE_H
#define DAM_STORE_H

#include <stddef.h>

struct hub_err;
struct dam_store;
struct dam_txn;

/* map_size: the most the metadata store may grow to (0:
 * DAM_STORE_MAP_SIZE); a write past it fails with HUB_ENOSPACE. */
#define DAM_STORE_MAP_SIZE (16ull << 30)
int dam_store_open(struct dam_store **out, const char *dir, unsigned long long map_size,
		   struct hub_err *err);
void dam_store_close(struct dam_store *s);

/* Copies the value out (malloc'd, NUL-terminated; the caller frees).
 * HUB_ENOTFOUND when absent. */
int dam_kv_get(struct dam_store *s, const char *db, const void *key, size_t klen, char **val,
	       size_t *vlen, struct hub_err *err);
/* Each is its own committed write transaction. */
int dam_kv_put(struct dam_store *s, const char *db, const void *key, size_t klen,
	       const void *val, size_t vlen, struct hub_err *err);
int dam_kv_del(struct dam_store *s, const char *db, const void *key, size_t klen,
	       struct hub_err *err);

/* Calls fn for each entry whose key starts with prefix, from start (or the
 * prefix when start is NULL), in key order, until fn returns non-zero. Data
 * passed to fn is valid only during the call. */
typedef int (*dam_kv_fn)(void *cls, const void *key, size_t klen, const void *val,
			 size_t vlen);
int dam_kv_scan(struct dam_store *s, const char *db, const void *prefix, size_t plen,
		const void *start, size_t slen, dam_kv_fn fn, void *cls, struct hub_err *err);

/* Several writes in one transaction (atomic; one writer at a time). */
int dam_txn_begin(struct dam_store *s, struct dam_txn **out, struct hub_err *err);
int dam_txn_put(struct dam_txn *t, const char *db, const void *key, size_t klen,
		const void *val, size_t vlen, struct hub_err *err);
int dam_txn_del(struct dam_txn *t, const char *db, const void *key, size_t klen,
		struct hub_err *err); /* absent keys are not an error */
/* Reads inside the write transaction (sees its own writes); copies out. */
int dam_txn_get(struct dam_txn *t, const char *db, const void *key, size_t klen, char **val,
		size_t *vlen, struct hub_err *err);
int dam_txn_commit(struct dam_txn *t, struct hub_err *err);
void dam_txn_abort(struct dam_txn *t);

#endif
