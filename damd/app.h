/* State shared by damd's handlers: handed back by http_app(). */
#ifndef DAM_APP_H
#define DAM_APP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct cas;
struct dam_store;
struct rend_service;
struct dam_gc;
struct http_waitq;

struct dam_app {
	struct dam_store *store;
	struct cas *cas; /* blobs/ and tmp/ under data_dir */
	const char *data_dir;
	bool allow_unsigned; /* --allow-unsigned: ad-hoc renditions without sig */
	struct rend_service *rend; /* presets, signing keys, render pool */
	/* the store's side */
	uint64_t max_upload;          /* --max-upload: bytes per upload or archive */
	long archive_max_entries;     /* --archive-max-entries */
	uint64_t archive_max_bytes;   /* --archive-max-bytes: uncompressed total */
	long gc_interval;             /* --gc-interval seconds */
	long gc_grace;                /* --gc-grace seconds after a delete */
	struct http_waitq *changes_q; /* long-polls on /v1/changes */
	char feed_id[33];             /* this store's feed: its sequence's identity */
	/* Held while a blob's record is created or revived and while the
	 * collector drops a record and removes its blob, so that an upload of
	 * the same bytes never ends with a live record and no blob. */
	pthread_mutex_t blob_lock;
	struct dam_gc *gc;
};

#endif
