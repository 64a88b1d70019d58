#include "store.h"
#include "err.h"

#include <lmdb.h>
#include <stdlib.h>

struct pim_store {
	MDB_env *env;
};

int pim_store_open(struct pim_store **out, const char *dir, struct hub_err *err)
{
	struct pim_store *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	rc = mdb_env_create(&s->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(s->env, 32);
	if (rc == 0)
		rc = mdb_env_set_mapsize(s->env, (size_t)64 << 30);
	if (rc == 0)
		rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
	if (rc) {
		hub_err_set(err, HUB_EIO, "cannot open LMDB in '%s': %s", dir, mdb_strerror(rc));
		pim_store_close(s);
		return HUB_EIO;
	}
	*out = s;
	return 0;
}

void pim_store_close(struct pim_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	free(s);
}
