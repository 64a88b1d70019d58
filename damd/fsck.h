/* damd --fsck: verifies that every blob's SHA-256 matches its name and that
 * every asset record and rendition entry has its blob; reports one line per
 * problem and, with repair, moves corrupt blobs to quarantine/, marks the
 * assets that lost their bytes deleted and missing, and drops rendition
 * entries whose blob is gone (they are rendered again on demand). */
#ifndef DAM_FSCK_H
#define DAM_FSCK_H

#include <stdbool.h>
#include <stdio.h>

struct dam_app;
struct hub_err;

/* Writes the report to out; *damaged counts the problems found (orphan
 * blobs nothing refers to are reported but are not damage). */
int dam_fsck(struct dam_app *app, bool repair, FILE *out, int *damaged, struct hub_err *err);

#endif
