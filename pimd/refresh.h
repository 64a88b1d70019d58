/* The background refresher: recomputes, a chunk per write transaction,
 * the completeness and indexes of the products a schema change affects
 * beyond the first chunk, which the change's own transaction does (see
 * pim_catalog_refresh_step). The queue lives in the store, so work left
 * by a stop or a crash goes on at the next start.
 */
#ifndef PIM_REFRESH_H
#define PIM_REFRESH_H

struct buf;
struct hub_err;
struct pim_app;

/* Starts the refresher thread; it first works off what the store has
 * queued. */
int pim_refresher_start(struct pim_app *app, struct hub_err *err);
/* Wakes it after a commit that queued work. Accepts an app without one
 * (pimctl --offline), whose queue waits for pimd or pim_refresher_drain. */
void pim_refresher_kick(struct pim_app *app);
/* Does all queued work on the calling thread (pimctl --offline). */
int pim_refresher_drain(struct pim_app *app, struct hub_err *err);
/* Waits for a chunk in progress and stops the thread. */
void pim_refresher_stop(struct pim_app *app);

/* /metrics: scopes still queued, products refreshed in the background. */
void pim_refresher_metrics(struct buf *out, struct pim_app *app);

#endif
