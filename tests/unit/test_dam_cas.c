/* The content-addressed store: streaming writes, names, dedupe, cleanup. */
#include "fmacros.h"
#include "../../damd/cas.h"
#include "err.h"
#include "hash.h"
#include "tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define TMPFS_MAGIC 0x01021994

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = malloc(n + 1);
	*len = fread(p, 1, n, f);
	fclose(f);
	return p;
}

int main(void)
{
	char root[] = "/tmp/test-dam-cas.XXXXXX", tmpdir[256], stray[300], path[4400], hex[65],
	     hex2[65];
	struct hub_err err = {0};
	struct cas *c = NULL;
	struct cas_writer *w = NULL;
	int existed = -1, fd;
	size_t len = 0;
	char *data;
	char tmp_copy[4400];

	ok(mkdtemp(root) != NULL, "temp dir");
	/* a stray temporary from a "crash" is removed at open */
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", root);
	mkdir(tmpdir, 0755);
	snprintf(stray, sizeof(stray), "%s/deadbeef.part", tmpdir);
	fd = open(stray, O_WRONLY | O_CREAT, 0644);
	ok(fd >= 0 && write(fd, "half", 4) == 4, "stray temporary written");
	close(fd);
	ok(cas_open(&c, root, &err) == 0, "cas_open: %s", err.msg);
	ok(access(stray, F_OK) != 0, "crash leftovers removed at open");

	ok(cas_path(c, "abc", path, sizeof(path), &err) == HUB_EINVAL, "short hex refused");
	ok(cas_path(c, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", path,
		    sizeof(path), &err) == HUB_EINVAL,
	   "upper-case hex refused");
	ok(cas_path(c, "../../../../../../../../../../../../../../../../../../../../etc/pas", path,
		    sizeof(path), &err) == HUB_EINVAL,
	   "path-like hex refused");

	/* "abc" in two pieces: the well-known digest */
	ok(cas_writer_new(c, &w, &err) == 0, "writer");
	ok(cas_writer_write(w, "a", 1, &err) == 0 && cas_writer_write(w, "bc", 2, &err) == 0,
	   "writes");
	ok(cas_writer_size(w) == 3, "size counted");
	snprintf(tmp_copy, sizeof(tmp_copy), "%s", cas_writer_tmp_path(w));
	ok(!strncmp(tmp_copy, tmpdir, strlen(tmpdir)), "temporary lives under tmp/");
	ok(cas_writer_commit(w, hex, &existed, &err) == 0, "commit: %s", err.msg);
	ok(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	   "sha256 of abc");
	ok(existed == 0, "new blob");
	ok(access(tmp_copy, F_OK) != 0, "temporary gone after commit");
	ok(cas_path(c, hex, path, sizeof(path), &err) == 0, "path");
	{
		char want[4400];

		snprintf(want, sizeof(want), "%s/blobs/ba/78/%s", root, hex);
		ok(!strcmp(path, want), "blobs/ab/cd/<hex> layout");
	}
	data = slurp(path, &len);
	ok(data && len == 3 && !memcmp(data, "abc", 3), "content stored");
	free(data);

	/* same bytes again: existed, no second file, no temporary left */
	ok(cas_writer_new(c, &w, &err) == 0 && cas_writer_write(w, "abc", 3, &err) == 0, "again");
	ok(cas_writer_commit(w, hex2, &existed, &err) == 0 && existed == 1, "dedupe: existed");
	ok(!strcmp(hex, hex2), "same id");
	ok(count_files(tmpdir) == 0, "no temporary left after dedupe");

	/* abort removes the temporary */
	ok(cas_writer_new(c, &w, &err) == 0, "writer to abort");
	snprintf(tmp_copy, sizeof(tmp_copy), "%s", cas_writer_tmp_path(w));
	cas_writer_write(w, "xyz", 3, &err);
	cas_writer_abort(w);
	ok(access(tmp_copy, F_OK) != 0, "abort removes the temporary");
	cas_writer_abort(NULL);

	/* a big streamed write crosses the writeback threshold */
	{
		size_t n = 1 << 20;
		char *buf = malloc(n);

		memset(buf, 'q', n);
		ok(cas_writer_new(c, &w, &err) == 0, "big writer");
		for (int i = 0; i < 20; i++)
			cas_writer_write(w, buf, n, &err);
		ok(cas_writer_size(w) == 20u * n, "20 MiB counted");
		ok(cas_writer_commit(w, hex2, &existed, &err) == 0 && !existed, "big commit");
		cas_path(c, hex2, path, sizeof(path), &err);
		{
			struct stat st;

			ok(stat(path, &st) == 0 && st.st_size == 20 * (off_t)n, "big blob size");
		}
		free(buf);
	}

	/* past two writeback windows the head of a big blob leaves the page
	 * cache while later bytes are still written; every byte stays */
	{
		size_t n = 1 << 20, mb = 48;
		struct hash_sha256 *h = hash_sha256_new();
		unsigned char *buf = malloc(n), vec[(16u << 20) / 4096];
		uint8_t d[HASH_SHA256_LEN];
		char want[65];
		struct statfs sf;
		struct stat st;
		size_t resident = 0;
		void *map;

		ok(cas_writer_new(c, &w, &err) == 0, "windowed writer");
		for (size_t i = 0; i < mb; i++) {
			for (size_t k = 0; k < n; k++)
				buf[k] = (unsigned char)(k * 13 + i);
			hash_sha256_update(h, buf, n);
			cas_writer_write(w, buf, n, &err);
		}
		hash_sha256_final(h, d);
		hash_hex(d, sizeof(d), want);
		fd = open(cas_writer_tmp_path(w), O_RDONLY);
		map = fd >= 0 ? mmap(NULL, 16u << 20, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
		if (map != MAP_FAILED && mincore(map, 16u << 20, vec) == 0)
			for (size_t i = 0; i < sizeof(vec); i++)
				resident += vec[i] & 1;
		if (fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
			ok(1, "# skip: tmpfs keeps every page");
		else
			ok(map != MAP_FAILED && resident < sizeof(vec) / 2,
			   "the first 16 MiB left the page cache (%zu of %zu pages resident)",
			   resident, sizeof(vec));
		if (map != MAP_FAILED)
			munmap(map, 16u << 20);
		if (fd >= 0)
			close(fd);
		ok(cas_writer_commit(w, hex2, &existed, &err) == 0, "windowed commit");
		ok(!strcmp(hex2, want), "windowed digest matches");
		cas_path(c, hex2, path, sizeof(path), &err);
		ok(stat(path, &st) == 0 && (size_t)st.st_size == mb * n, "windowed blob size");
		data = slurp(path, &len);
		ok(data && len == mb * n && (unsigned char)data[5 * n + 7] == (unsigned char)(7 * 13 + 5),
		   "dropped bytes read back from the disk");
		free(data);
		free(buf);
	}

	/* many odd-sized pieces through the helper thread, the file read
	 * half-way through: the digest is that of all bytes in order */
	{
		struct hash_sha256 *h = hash_sha256_new();
		uint8_t d[HASH_SHA256_LEN];
		char want[65], piece[70001];
		struct stat st;
		size_t total = 0;

		ok(cas_writer_new(c, &w, &err) == 0, "pipelined writer");
		for (int i = 0; i < 600; i++) {
			size_t n = 1 + (size_t)(i * 7919) % sizeof(piece);

			for (size_t k = 0; k < n; k++)
				piece[k] = (char)(k * 31 + i);
			hash_sha256_update(h, piece, n);
			cas_writer_write(w, piece, n, &err);
			total += n;
			if (i == 400) {
				ok(stat(cas_writer_tmp_path(w), &st) == 0 && (size_t)st.st_size == total,
				   "the temporary holds every byte written so far");
			}
		}
		hash_sha256_final(h, d);
		hash_hex(d, sizeof(d), want);
		ok(cas_writer_size(w) == total, "pipelined size (%zu bytes)", total);
		ok(cas_writer_commit(w, hex2, &existed, &err) == 0, "pipelined commit");
		ok(!strcmp(hex2, want), "pipelined digest matches");
		cas_path(c, hex2, path, sizeof(path), &err);
		ok(stat(path, &st) == 0 && (size_t)st.st_size == total, "pipelined blob size");
		/* an abandoned big writer stops its helper and leaves nothing */
		ok(cas_writer_new(c, &w, &err) == 0, "writer to abandon");
		for (int i = 0; i < 300; i++)
			cas_writer_write(w, piece, sizeof(piece), &err);
		cas_writer_abort(w);
		ok(count_files(tmpdir) == 0, "abandoned big writer leaves no temporary");
	}

	/* a batch: temporaries until commit, then in place; twins once */
	{
		struct cas_batch *b = NULL;
		char h1[65], h2[65], h3[65], p1[4400];

		ok(cas_batch_new(c, &b, &err) == 0, "batch");
		cas_writer_new(c, &w, &err);
		cas_writer_write(w, "first entry", 11, &err);
		ok(cas_batch_add(b, w, h1, &err) == 0, "batch add");
		cas_writer_new(c, &w, &err);
		cas_writer_write(w, "first entry", 11, &err);
		ok(cas_batch_add(b, w, h2, &err) == 0 && !strcmp(h1, h2), "twin entry, same digest");
		cas_path(c, h1, p1, sizeof(p1), &err);
		ok(access(p1, F_OK) != 0, "not in the store before commit");
		ok(count_files(tmpdir) == 2, "two temporaries wait");
		ok(cas_batch_commit(b, &err) == 0, "batch commit: %s", err.msg);
		ok(access(p1, F_OK) == 0, "in the store after commit");
		ok(count_files(tmpdir) == 0, "no temporary after commit");
		cas_writer_new(c, &w, &err);
		cas_writer_write(w, "never committed", 15, &err);
		ok(cas_batch_add(b, w, h3, &err) == 0, "batch reused");
		cas_batch_free(b);
		ok(count_files(tmpdir) == 0, "free drops what was not committed");
		cas_path(c, h3, p1, sizeof(p1), &err);
		ok(access(p1, F_OK) != 0, "uncommitted blob never stored");
		cas_batch_free(NULL);
	}

	ok(cas_remove(c, hex, &err) == 0, "remove");
	ok(cas_remove(c, hex, &err) == HUB_ENOTFOUND, "remove twice: not found");
	cas_path(c, hex, path, sizeof(path), &err);
	ok(access(path, F_OK) != 0, "blob gone");
	cas_close(c);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		ok(system(cmd) == 0, "cleanup");
	}
	return tap_done();
}
