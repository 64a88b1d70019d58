#include "alloc.h"

#ifdef HUB_MIMALLOC
#include <mimalloc.h>

/*
 * pimd writes every product through jansson trees of a few hundred small
 * nodes, made and freed by the thousand in each batch. mimalloc's malloc and
 * free take about a tenth of glibc's instructions for them (an import: -11%
 * instructions, -10% CPU). Its default returns pages it no longer uses to the
 * kernel after 25 ms; an import frees a batch's trees at once and allocates
 * the next batch's right after, so each batch faulted them back in (as much
 * system time again as the user time saved). A second keeps them across
 * batches and still gives memory back when the daemon goes idle.
 */
void hub_alloc_tune(void)
{
	mi_option_set(mi_option_decommit_delay, 1000);
}
#else
void hub_alloc_tune(void)
{
}
#endif
