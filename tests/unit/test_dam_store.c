/* damd's metadata store when its map is full: the write that does not fit
 * and every later step of its transaction (LMDB answers those with
 * MDB_BAD_TXN) report a full store, which damd answers with 507 and what
 * to do, not an I/O error; what was committed before stays readable. */
#include "../../damd/store.h"
#include "err.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char dir[] = "/tmp/dam-store-XXXXXX", cmd[64], key[32], val[3000], *got = NULL;
	struct hub_err err = {0};
	struct dam_store *s;
	struct dam_txn *t;
	size_t glen;
	int i, rc = 0;

	memset(val, 'v', sizeof(val));
	if (!mkdtemp(dir) || dam_store_open(&s, dir, 1 << 20, &err) < 0) {
		ok(0, "open a store with a 1 MiB map: %s", err.msg);
		return tap_done();
	}
	ok(dam_kv_put(s, "meta", "before", 6, "kept", 4, &err) == 0, "a committed write: %s",
	   err.msg);

	ok(dam_txn_begin(s, &t, &err) == 0, "a transaction that will not fit: %s", err.msg);
	for (i = 0; i < 1000 && rc == 0; i++) {
		snprintf(key, sizeof(key), "asset-%04d", i);
		rc = dam_txn_put(t, "assets", key, strlen(key), val, sizeof(val), &err);
	}
	ok(rc == HUB_ENOSPACE && strstr(err.msg, "store is full") && strstr(err.msg, "--map-size"),
	   "the write that does not fit: full, with what to do (%d: %s)", rc, err.msg);

	memset(&err, 0, sizeof(err));
	rc = dam_txn_put(t, "assets", "later", 5, "x", 1, &err);
	ok(rc == HUB_ENOSPACE && strstr(err.msg, "store is full"),
	   "a later write in it: still the full store, not LMDB's invalid transaction (%s)",
	   err.msg);
	memset(&err, 0, sizeof(err));
	rc = dam_txn_get(t, "meta", "before", 6, &got, &glen, &err);
	ok(rc == HUB_ENOSPACE, "a read in it: the full store too (%s)", err.msg);
	free(got);
	got = NULL;
	memset(&err, 0, sizeof(err));
	rc = dam_txn_commit(t, &err);
	ok(rc == HUB_ENOSPACE && strstr(err.msg, "store is full"), "its commit: the same (%s)",
	   err.msg);

	memset(&err, 0, sizeof(err));
	ok(dam_kv_get(s, "meta", "before", 6, &got, &glen, &err) == 0 && glen == 4 &&
		   !memcmp(got, "kept", 4),
	   "what was committed before is there: %s", err.msg);
	free(got);
	ok(dam_kv_get(s, "assets", "asset-0000", 10, &got, &glen, &err) == HUB_ENOTFOUND,
	   "nothing of the failed transaction is");

	dam_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
