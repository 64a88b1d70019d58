#include "fmacros.h"
#include "store.h"
#include "err.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>

struct dam_store {
	MDB_env *env;
};

int dam_store_open(struct dam_store **out, const char *dir, struct hub_err *err)
{
	struct dam_store *s = calloc(1, sizeof(*s));
	char path[4096];
	int rc;

	if (!s)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/meta.mdb", dir);
	rc = mdb_env_create(&s->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(s->env, 16);
	if (rc == 0)
		rc = mdb_env_set_mapsize(s->env, (size_t)16 << 30);
	if (rc == 0)
		rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
	if (rc) {
		hub_err_set(err, HUB_EIO, "cannot open LMDB '%s': %s", path, mdb_strerror(rc));
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
