/* damd's LMDB environment (asset metadata). LMDB is used only here. */
#ifndef DAM_STORE_H
#define DAM_STORE_H

struct hub_err;
struct dam_store;

int dam_store_open(struct dam_store **out, const char *dir, struct hub_err *err);
void dam_store_close(struct dam_store *s);

#endif
