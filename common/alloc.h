/* The allocator of the daemons that build many short-lived JSON trees. */
#ifndef HUB_ALLOC_H
#define HUB_ALLOC_H

/* Tunes the allocator the program is linked with (mimalloc; nothing to do
 * for the sanitizers' malloc in their builds); call first in main. */
void hub_alloc_tune(void);

#endif
