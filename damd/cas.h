/* The content-addressed blob store: blobs/ab/cd/<sha256 hex>. Bytes are
 * streamed to a temporary file under tmp/ while hashed, fsynced, then
 * renamed into place, so nothing is ever half-written under its final name.
 * Used for uploads and for rendered renditions (derived blobs) alike.
 */
#ifndef DAM_CAS_H
#define DAM_CAS_H

#include <stddef.h>
#include <stdint.h>

struct hub_err;
struct cas;
struct cas_writer;

/* Opens the store rooted at dir (creates dir/blobs and dir/tmp) and removes
 * temporary files a crash left behind. */
int cas_open(struct cas **out, const char *dir, struct hub_err *err);
void cas_close(struct cas *c);

/* The path of blob hex (64 lower-case hex digits) into out; HUB_EINVAL for
 * a malformed hex. Does not check that it exists. */
int cas_path(struct cas *c, const char *hex, char *out, size_t outlen, struct hub_err *err);

/* A streaming writer: write any number of times, then commit or abort. */
int cas_writer_new(struct cas *c, struct cas_writer **out, struct hub_err *err);
int cas_writer_write(struct cas_writer *w, const void *data, size_t len, struct hub_err *err);
uint64_t cas_writer_size(const struct cas_writer *w);
/* The temporary file's path, e.g. to sniff it before committing. */
const char *cas_writer_tmp_path(const struct cas_writer *w);
/* fsyncs and renames into place (or drops the temporary when the blob
 * already exists: *existed = 1); writes the hex digest; frees w. */
int cas_writer_commit(struct cas_writer *w, char hex[65], int *existed, struct hub_err *err);
/* Deletes the temporary file and frees w; accepts NULL. */
void cas_writer_abort(struct cas_writer *w);

/* A batch of many small blobs (an archive's entries): each added writer
 * is finished and hashed but stays a temporary; cas_batch_commit then makes
 * them all durable with two filesystem syncs instead of two fsyncs each and
 * renames them into place, so nothing is half-written under its name. */
struct cas_batch;
int cas_batch_new(struct cas *c, struct cas_batch **out, struct hub_err *err);
/* Takes w, also on error; writes its hex digest. */
int cas_batch_add(struct cas_batch *b, struct cas_writer *w, char hex[65], struct hub_err *err);
/* Every added blob is in the store afterwards; the batch is empty again. */
int cas_batch_commit(struct cas_batch *b, struct hub_err *err);
/* Removes temporaries not committed; accepts NULL. */
void cas_batch_free(struct cas_batch *b);

/* Removes a blob (garbage collection). */
int cas_remove(struct cas *c, const char *hex, struct hub_err *err);

#endif
