/* pimd's LMDB environment. LMDB is used only behind this module. */
#ifndef PIM_STORE_H
#define PIM_STORE_H

struct hub_err;
struct pim_store;

/* Opens (creating if needed) the environment in dir. */
int pim_store_open(struct pim_store **out, const char *dir, struct hub_err *err);
/* Closes it; every transaction must have ended. Accepts NULL. */
void pim_store_close(struct pim_store *s);

#endif
