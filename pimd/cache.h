/* A bounded in-memory cache of channel projections as ready HTTP replies
 * (the serialised body with its headers), keyed by
 * (channel, locale, sku): sharded hash tables with LRU eviction. Writers
 * invalidate by sku after they commit; the per-shard epoch keeps a reader
 * that built a projection from an older snapshot from inserting it after
 * the invalidation. */
#ifndef PIM_CACHE_H
#define PIM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_shared;
struct pim_cache;

struct pim_cache *pim_cache_new(size_t max_bytes);
void pim_cache_free(struct pim_cache *c);

/* Read before opening the transaction the projection is built from, and
 * hand to put. */
uint64_t pim_cache_epoch(struct pim_cache *c, const char *sku);
/* On a hit: a reference to the cached reply (the caller unrefs it) and
 * etag its quoted strong ETag; NULL on a miss. */
struct http_shared *pim_cache_get(struct pim_cache *c, const char *channel,
				  const char *locale, const char *sku, char etag[40]);
/* Keeps a reference to reply; dropped when the sku's shard was invalidated
 * since epoch. */
void pim_cache_put(struct pim_cache *c, const char *channel, const char *locale,
		   const char *sku, struct http_shared *reply, const char *etag, uint64_t epoch);
void pim_cache_invalidate(struct pim_cache *c, const char *sku);
void pim_cache_flush(struct pim_cache *c);
/* Entries, bytes held, hits and misses so far (for /metrics). */
void pim_cache_stats(struct pim_cache *c, size_t *entries, size_t *bytes, uint64_t *hits,
		     uint64_t *misses);

#endif
