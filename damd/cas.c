#include "fmacros.h"
#include "cas.h"
#include "err.h"
#include "hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writeback of a big upload starts every this many bytes, so that the final
 * fsync has little left to flush. The range before, written back by then,
 * leaves the page cache: the next bytes reuse its pages. Copying into fresh
 * pages costs several times more on a VM whose host takes free guest memory
 * back (measured: 0.5 s against 0.05 s for 228 MB), and a big upload no
 * longer pushes everything else out of the cache. */
#define CAS_FLUSH_EVERY (16u << 20)
/* Small pieces (an upload arrives in socket-buffer sized ones) are gathered
 * into buffers of this size: one write syscall per MiB instead of dozens. */
#define CAS_WRITE_BUF (1u << 20)
/* Past this size a helper thread hashes and writes full buffers while the
 * caller (the connection's thread) goes on receiving into the next ones:
 * hashing and copying into the page cache then overlap with the network.
 * Small blobs (rendered renditions) never start one. */
#define CAS_THREAD_AFTER (8u << 20)
#define CAS_NBUF 4

struct cas {
	char blobs[4096];
	char tmp[4096];
};

struct cas_writer {
	struct cas *c;
	int fd;
	uint64_t size;    /* bytes handed to cas_writer_write */
	uint64_t written; /* bytes hashed and written to fd */
	uint64_t flushed; /* offset up to which writeback was started */
	uint64_t dropped; /* offset up to which the page cache was dropped */
	struct hash_sha256 *h;
	/* A ring of buffers: full ones wait at head..head+count-1, the caller
	 * fills the next one (nbuf bytes so far). Without the helper thread
	 * count stays 0 and one buffer is used. */
	char *bufs[CAS_NBUF];
	size_t lens[CAS_NBUF];
	size_t nbuf;
	int head, count;
	bool threaded, stop, abandon;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	_Atomic int err_code; /* the helper's first failure, reported by the next call */
	char err_msg[512];
	char path[4200];
};

static int mkdir_one(const char *path, struct hub_err *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return hub_err_set(err, HUB_EIO, "cannot create '%s': %s", path, strerror(errno));
	return 0;
}

/* Removes every regular file in dir: temporaries a crash left behind. */
static void clean_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4400];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

int cas_open(struct cas **out, const char *dir, struct hub_err *err)
{
	struct cas *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	if ((size_t)snprintf(c->blobs, sizeof(c->blobs), "%s/blobs", dir) >= sizeof(c->blobs) ||
	    (size_t)snprintf(c->tmp, sizeof(c->tmp), "%s/tmp", dir) >= sizeof(c->tmp)) {
		free(c);
		return hub_err_set(err, HUB_EINVAL, "the store path '%s' is too long", dir);
	}
	rc = mkdir_one(dir, err);
	if (rc == 0)
		rc = mkdir_one(c->blobs, err);
	if (rc == 0)
		rc = mkdir_one(c->tmp, err);
	if (rc < 0) {
		free(c);
		return rc;
	}
	clean_tmp(c->tmp);
	*out = c;
	return 0;
}

void cas_close(struct cas *c)
{
	free(c);
}

static int hex_ok(const char *hex)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return 0;
	return hex[64] == 0;
}

int cas_path(struct cas *c, const char *hex, char *out, size_t outlen, struct hub_err *err)
{
	if (!hex || !hex_ok(hex))
		return hub_err_set(err, HUB_EINVAL, "'%.80s' is not a sha256 hex digest",
				   hex ? hex : "");
	if ((size_t)snprintf(out, outlen, "%s/%.2s/%.2s/%s", c->blobs, hex, hex + 2, hex) >= outlen)
		return hub_err_set(err, HUB_EINVAL, "the blob path is too long");
	return 0;
}

int cas_writer_new(struct cas *c, struct cas_writer **out, struct hub_err *err)
{
	struct cas_writer *w = calloc(1, sizeof(*w));
	unsigned char rnd[12];
	char name[25];

	if (!w)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	w->c = c;
	w->fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->h = hash_sha256_new();
	if (!w->h || hash_random(rnd, sizeof(rnd)) < 0) {
		cas_writer_abort(w);
		return hub_err_set(err, HUB_ENOMEM, "cannot start a hash");
	}
	hash_hex(rnd, sizeof(rnd), name);
	snprintf(w->path, sizeof(w->path), "%s/%s.part", c->tmp, name);
	w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		int e = errno;

		w->path[0] = 0;
		cas_writer_abort(w);
		return hub_err_set(err, HUB_EIO, "cannot create a temporary file: %s", strerror(e));
	}
	*out = w;
	return 0;
}

static int write_all(struct cas_writer *w, const char *p, size_t left, struct hub_err *err)
{
	while (left) {
		ssize_t n = write(w->fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hub_err_set(err, HUB_EIO, "cannot write the temporary file: %s",
					   strerror(errno));
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

/* Hashes and writes buffer idx: the helper's work, or the caller's when
 * there is no helper. */
static int process(struct cas_writer *w, int idx, struct hub_err *err)
{
	int rc;

	hash_sha256_update(w->h, w->bufs[idx], w->lens[idx]);
	rc = write_all(w, w->bufs[idx], w->lens[idx], err);
	w->written += w->lens[idx];
	if (rc == 0 && w->written - w->flushed >= CAS_FLUSH_EVERY) {
		/* start writeback now rather than all at the final fsync */
		sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->written - w->flushed),
				SYNC_FILE_RANGE_WRITE);
		if (w->flushed > w->dropped &&
		    sync_file_range(w->fd, (off_t)w->dropped, (off_t)(w->flushed - w->dropped),
				    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
					    SYNC_FILE_RANGE_WAIT_AFTER) == 0) {
			/* clean now, so the kernel can free these pages */
			posix_fadvise(w->fd, (off_t)w->dropped, (off_t)(w->flushed - w->dropped),
				      POSIX_FADV_DONTNEED);
			w->dropped = w->flushed;
		}
		w->flushed = w->written;
	}
	return rc;
}

static void *helper_main(void *arg)
{
	struct cas_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct hub_err err = {0};
		int idx, rc;

		while (w->count == 0 && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->abandon || w->count == 0)
			break;
		idx = w->head;
		pthread_mutex_unlock(&w->lock);
		rc = w->err_code ? 0 : process(w, idx, &err);
		pthread_mutex_lock(&w->lock);
		if (rc < 0 && !w->err_code) {
			w->err_code = rc;
			snprintf(w->err_msg, sizeof(w->err_msg), "%s", err.msg);
		}
		w->head = (w->head + 1) % CAS_NBUF;
		w->count--;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int helper_error(struct cas_writer *w, struct hub_err *err)
{
	return hub_err_set(err, w->err_code, "%s", w->err_msg);
}

/* Hands the buffer being filled on: to the helper (waiting while every
 * buffer is full), or hashed and written here. */
static int hand_over(struct cas_writer *w, struct hub_err *err)
{
	int idx = (w->head + w->count) % CAS_NBUF, rc = 0;

	w->lens[idx] = w->nbuf;
	w->nbuf = 0;
	if (!w->threaded && w->size >= CAS_THREAD_AFTER) {
		w->stop = false;
		w->threaded = pthread_create(&w->thread, NULL, helper_main, w) == 0;
	}
	if (!w->threaded)
		return process(w, idx, err);
	pthread_mutex_lock(&w->lock);
	w->count++;
	pthread_cond_broadcast(&w->cond);
	while (w->count == CAS_NBUF && !w->err_code)
		pthread_cond_wait(&w->cond, &w->lock);
	if (w->err_code)
		rc = helper_error(w, err);
	pthread_mutex_unlock(&w->lock);
	return rc;
}

/* Everything handed to cas_writer_write is hashed and in the file after. */
static int drain(struct cas_writer *w, struct hub_err *err)
{
	int rc = w->nbuf ? hand_over(w, err) : 0;

	if (w->threaded) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->threaded = false;
		if (w->err_code && rc == 0)
			rc = helper_error(w, err);
	}
	return rc;
}

int cas_writer_write(struct cas_writer *w, const void *data, size_t len, struct hub_err *err)
{
	const char *p = data;

	if (w->err_code)
		return helper_error(w, err);
	w->size += len;
	while (len) {
		int idx = (w->head + w->count) % CAS_NBUF;
		size_t n = CAS_WRITE_BUF - w->nbuf < len ? CAS_WRITE_BUF - w->nbuf : len;

		if (!w->bufs[idx] && !(w->bufs[idx] = malloc(CAS_WRITE_BUF)))
			return hub_err_set(err, HUB_ENOMEM, "out of memory");
		memcpy(w->bufs[idx] + w->nbuf, p, n);
		w->nbuf += n;
		p += n;
		len -= n;
		if (w->nbuf == CAS_WRITE_BUF) {
			int rc = hand_over(w, err);

			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

uint64_t cas_writer_size(const struct cas_writer *w)
{
	return w->size;
}

const char *cas_writer_tmp_path(const struct cas_writer *w)
{
	/* whoever reads the file must see every byte written so far; the
	 * buffers are a cache of the file, so draining them changes nothing a
	 * caller can observe through w */
	drain((struct cas_writer *)w, NULL);
	return w->path;
}

/* fsyncs a directory so that a rename into it survives a crash. */
static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int cas_writer_commit(struct cas_writer *w, char hex[65], int *existed, struct hub_err *err)
{
	uint8_t digest[HASH_SHA256_LEN];
	char dir[4200], final[4300];
	struct stat st;
	int rc = 0;

	*existed = 0;
	rc = drain(w, err);
	if (rc < 0)
		goto out;
	hash_sha256_final(w->h, digest);
	w->h = NULL;
	hash_hex(digest, sizeof(digest), hex);
	snprintf(dir, sizeof(dir), "%s/%.2s", w->c->blobs, hex);
	rc = mkdir_one(dir, err);
	if (rc < 0)
		goto out;
	snprintf(dir, sizeof(dir), "%s/%.2s/%.2s", w->c->blobs, hex, hex + 2);
	rc = mkdir_one(dir, err);
	if (rc < 0)
		goto out;
	snprintf(final, sizeof(final), "%s/%s", dir, hex);
	if (stat(final, &st) == 0 && (uint64_t)st.st_size == w->size) {
		*existed = 1;
		goto out;
	}
	if (fsync(w->fd) < 0) {
		rc = hub_err_set(err, HUB_EIO, "cannot fsync the temporary file: %s",
				 strerror(errno));
		goto out;
	}
	if (rename(w->path, final) < 0) {
		rc = hub_err_set(err, HUB_EIO, "cannot rename into the store: %s", strerror(errno));
		goto out;
	}
	w->path[0] = 0; /* renamed: nothing to remove */
	fsync_dir(dir);
out:
	cas_writer_abort(w);
	return rc;
}

void cas_writer_abort(struct cas_writer *w)
{
	if (!w)
		return;
	if (w->threaded) {
		pthread_mutex_lock(&w->lock);
		w->stop = w->abandon = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	if (w->fd >= 0)
		close(w->fd);
	if (w->path[0])
		unlink(w->path);
	hash_sha256_free(w->h);
	for (int i = 0; i < CAS_NBUF; i++)
		free(w->bufs[i]);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

struct batch_item {
	char hex[65];
	uint64_t size;
	char tmp[4200];
};

struct cas_batch {
	struct cas *c;
	struct batch_item *items;
	size_t n, cap;
};

int cas_batch_new(struct cas *c, struct cas_batch **out, struct hub_err *err)
{
	struct cas_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	b->c = c;
	*out = b;
	return 0;
}

int cas_batch_add(struct cas_batch *b, struct cas_writer *w, char hex[65], struct hub_err *err)
{
	uint8_t digest[HASH_SHA256_LEN];
	struct batch_item *it;
	int rc;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct batch_item *p = realloc(b->items, cap * sizeof(*p));

		if (!p) {
			cas_writer_abort(w);
			return hub_err_set(err, HUB_ENOMEM, "out of memory");
		}
		b->items = p;
		b->cap = cap;
	}
	rc = drain(w, err);
	if (rc < 0) {
		cas_writer_abort(w);
		return rc;
	}
	hash_sha256_final(w->h, digest);
	w->h = NULL;
	hash_hex(digest, sizeof(digest), hex);
	it = &b->items[b->n++];
	memcpy(it->hex, hex, 65);
	it->size = w->size;
	snprintf(it->tmp, sizeof(it->tmp), "%s", w->path);
	w->path[0] = 0; /* the batch owns the temporary now */
	cas_writer_abort(w);
	return 0;
}

/* Syncs the filesystem holding dir: one journal commit for many files. */
static int sync_fs(const char *dir, struct hub_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || syncfs(fd) < 0)
		rc = hub_err_set(err, HUB_EIO, "cannot sync the store: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

int cas_batch_commit(struct cas_batch *b, struct hub_err *err)
{
	char dir[4200], final[4300];
	struct stat st;
	size_t i;
	int rc;

	if (b->n == 0)
		return 0;
	/* the bytes are durable before any of them gets its final name */
	rc = sync_fs(b->c->tmp, err);
	for (i = 0; rc == 0 && i < b->n; i++) {
		struct batch_item *it = &b->items[i];

		snprintf(dir, sizeof(dir), "%s/%.2s", b->c->blobs, it->hex);
		rc = mkdir_one(dir, err);
		snprintf(dir, sizeof(dir), "%s/%.2s/%.2s", b->c->blobs, it->hex, it->hex + 2);
		if (rc == 0)
			rc = mkdir_one(dir, err);
		if (rc < 0)
			break;
		snprintf(final, sizeof(final), "%s/%s", dir, it->hex);
		if (stat(final, &st) == 0 && (uint64_t)st.st_size == it->size) {
			unlink(it->tmp);
		} else if (rename(it->tmp, final) < 0) {
			rc = hub_err_set(err, HUB_EIO, "cannot rename into the store: %s",
					 strerror(errno));
			break;
		}
		it->tmp[0] = 0;
	}
	/* and the renames are durable before anyone records them */
	if (rc == 0)
		rc = sync_fs(b->c->blobs, err);
	if (rc == 0)
		b->n = 0;
	return rc;
}

void cas_batch_free(struct cas_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].tmp[0])
			unlink(b->items[i].tmp);
	free(b->items);
	free(b);
}

int cas_remove(struct cas *c, const char *hex, struct hub_err *err)
{
	char path[4400];
	int rc = cas_path(c, hex, path, sizeof(path), err);

	if (rc < 0)
		return rc;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return hub_err_set(err, HUB_ENOTFOUND, "no blob %s", hex);
		return hub_err_set(err, HUB_EIO, "cannot remove blob %s: %s", hex, strerror(errno));
	}
	return 0;
}
