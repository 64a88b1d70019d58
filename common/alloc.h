/* The allocator of the daemons that build many short-lived JSON trees. */
#ifndef HUB_ALLOC_H
#define HUB_ALLOC_H

/* Tunes the allocator the program is linked with; call first in main.
 * Returns its name ("mimalloc", or "glibc" in sanitizer builds). */
const char *hub_alloc_tune(void);

#endif
