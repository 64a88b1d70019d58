/* State shared by damd's handlers: handed back by http_app(). */
#ifndef DAM_APP_H
#define DAM_APP_H

#include <stdbool.h>

struct cas;
struct dam_store;

struct dam_app {
	struct dam_store *store;
	struct cas *cas; /* blobs/ and tmp/ under data_dir */
	const char *data_dir;
	bool allow_unsigned; /* --allow-unsigned: ad-hoc renditions without sig */
};

#endif
