#include "cache.h"
#include "http.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define NSHARDS 64
#define NBUCKETS 4096 /* per shard */

struct entry {
	struct entry *hnext, *prev, *next;
	uint64_t hash;   /* of the sku */
	size_t klen;     /* channel NUL locale NUL sku */
	size_t cost;
	char etag[40];
	struct http_shared *reply; /* one reference held by the cache */
	char key[];
};

struct shard {
	pthread_mutex_t lock;
	uint64_t epoch;
	struct entry *buckets[NBUCKETS];
	struct entry *head, *tail; /* LRU: head most recent */
	size_t bytes, entries;
	uint64_t hits, misses;
};

struct pim_cache {
	size_t max_shard_bytes;
	struct shard shards[NSHARDS];
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct pim_cache *pim_cache_new(size_t max_bytes)
{
	struct pim_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max_shard_bytes = max_bytes / NSHARDS;
	for (int i = 0; i < NSHARDS; i++)
		pthread_mutex_init(&c->shards[i].lock, NULL);
	return c;
}

static void shard_clear(struct shard *s)
{
	struct entry *e, *n;

	for (e = s->head; e; e = n) {
		n = e->next;
		http_shared_unref(e->reply);
		free(e);
	}
	/* 32 KiB a shard: a schema write flushes all 64, mostly empty */
	if (s->entries)
		memset(s->buckets, 0, sizeof(s->buckets));
	s->head = s->tail = NULL;
	s->bytes = s->entries = 0;
}

void pim_cache_free(struct pim_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < NSHARDS; i++) {
		shard_clear(&c->shards[i]);
		pthread_mutex_destroy(&c->shards[i].lock);
	}
	free(c);
}

static size_t make_key(char *out, size_t max, const char *channel, const char *locale,
		       const char *sku)
{
	size_t a = strlen(channel), b = strlen(locale), d = strlen(sku);

	if (a + b + d + 3 > max)
		return 0;
	memcpy(out, channel, a + 1);
	memcpy(out + a + 1, locale, b + 1);
	memcpy(out + a + b + 2, sku, d + 1);
	return a + b + d + 3;
}

static void lru_unlink(struct shard *s, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_front(struct shard *s, struct entry *e)
{
	e->next = s->head;
	e->prev = NULL;
	if (s->head)
		s->head->prev = e;
	s->head = e;
	if (!s->tail)
		s->tail = e;
}

static void entry_remove(struct shard *s, struct entry *e)
{
	struct entry **p = &s->buckets[(e->hash >> 6) % NBUCKETS];

	while (*p && *p != e)
		p = &(*p)->hnext;
	if (*p)
		*p = e->hnext;
	lru_unlink(s, e);
	s->bytes -= e->cost;
	s->entries--;
	http_shared_unref(e->reply);
	free(e);
}

uint64_t pim_cache_epoch(struct pim_cache *c, const char *sku)
{
	struct shard *s = &c->shards[fnv(sku) % NSHARDS];
	uint64_t e;

	pthread_mutex_lock(&s->lock);
	e = s->epoch;
	pthread_mutex_unlock(&s->lock);
	return e;
}

struct http_shared *pim_cache_get(struct pim_cache *c, const char *channel,
				  const char *locale, const char *sku, char etag[40])
{
	char key[1024];
	size_t klen = make_key(key, sizeof(key), channel, locale, sku);
	uint64_t h = fnv(sku);
	struct shard *s = &c->shards[h % NSHARDS];
	struct http_shared *reply = NULL;
	struct entry *e;

	if (!klen)
		return NULL;
	pthread_mutex_lock(&s->lock);
	for (e = s->buckets[(h >> 6) % NBUCKETS]; e; e = e->hnext)
		if (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen))
			break;
	if (e) {
		reply = http_shared_ref(e->reply);
		memcpy(etag, e->etag, sizeof(e->etag));
		lru_unlink(s, e);
		lru_front(s, e);
		s->hits++;
	} else {
		s->misses++;
	}
	pthread_mutex_unlock(&s->lock);
	return reply;
}

void pim_cache_put(struct pim_cache *c, const char *channel, const char *locale,
		   const char *sku, struct http_shared *reply, const char *etag, uint64_t epoch)
{
	char key[1024];
	size_t klen = make_key(key, sizeof(key), channel, locale, sku), len;
	uint64_t h = fnv(sku);
	struct shard *s = &c->shards[h % NSHARDS];
	struct entry *e, **b;

	http_shared_body(reply, &len);
	if (!klen || len + klen + sizeof(*e) > c->max_shard_bytes)
		return;
	e = malloc(sizeof(*e) + klen);
	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->klen = klen;
	e->cost = sizeof(*e) + klen + len;
	memcpy(e->key, key, klen);
	snprintf(e->etag, sizeof(e->etag), "%s", etag);
	pthread_mutex_lock(&s->lock);
	if (s->epoch != epoch) {
		/* a write landed since the projection's snapshot was taken */
		pthread_mutex_unlock(&s->lock);
		free(e);
		return;
	}
	e->reply = http_shared_ref(reply);
	b = &s->buckets[(h >> 6) % NBUCKETS];
	for (struct entry *o = *b; o; o = o->hnext)
		if (o->hash == h && o->klen == klen && !memcmp(o->key, key, klen)) {
			entry_remove(s, o);
			break;
		}
	e->hnext = *b;
	*b = e;
	lru_front(s, e);
	s->bytes += e->cost;
	s->entries++;
	while (s->bytes > c->max_shard_bytes && s->tail)
		entry_remove(s, s->tail);
	pthread_mutex_unlock(&s->lock);
}

void pim_cache_invalidate(struct pim_cache *c, const char *sku)
{
	uint64_t h = fnv(sku);
	struct shard *s = &c->shards[h % NSHARDS];
	struct entry *e, *n;
	size_t skl = strlen(sku);

	pthread_mutex_lock(&s->lock);
	s->epoch++;
	for (e = s->buckets[(h >> 6) % NBUCKETS]; e; e = n) {
		n = e->hnext;
		if (e->hash == h && e->klen > skl + 2 && e->key[e->klen - skl - 2] == 0 &&
		    !memcmp(e->key + e->klen - skl - 1, sku, skl + 1))
			entry_remove(s, e);
	}
	pthread_mutex_unlock(&s->lock);
}

void pim_cache_flush(struct pim_cache *c)
{
	for (int i = 0; i < NSHARDS; i++) {
		struct shard *s = &c->shards[i];

		pthread_mutex_lock(&s->lock);
		s->epoch++;
		shard_clear(s);
		pthread_mutex_unlock(&s->lock);
	}
}

void pim_cache_stats(struct pim_cache *c, size_t *entries, size_t *bytes, uint64_t *hits,
		     uint64_t *misses)
{
	*entries = *bytes = 0;
	*hits = *misses = 0;
	for (int i = 0; i < NSHARDS; i++) {
		struct shard *s = &c->shards[i];

		pthread_mutex_lock(&s->lock);
		*entries += s->entries;
		*bytes += s->bytes;
		*hits += s->hits;
		*misses += s->misses;
		pthread_mutex_unlock(&s->lock);
	}
}
