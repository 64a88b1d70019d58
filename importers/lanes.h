/* Rows of a tabular feed mapped on several threads (imp_sink.lanes): the
 * reader copies records into chunks, each lane maps and prepares a chunk
 * on its own thread, and the lanes take turns, in file order, to hand
 * their rows to the sink. */
#ifndef IMP_LANES_H
#define IMP_LANES_H

#include "csvr.h"
#include "imp.h"
#include "map.h"

#include <stdbool.h>

struct hub_err;
struct lanes;

/* Whether the rows of m may go to lanes: the sink asks for them and no
 * row depends on another. */
bool lanes_wanted(const struct map *m, const struct imp_sink *sink);

/* What a lane does with a record: map_row for tabular input; a JSON
 * lines reader's own for a line (one cell). m hands rows to the lane. */
typedef int (*lanes_row_fn)(struct map *m, long line, const struct map_cell *c, size_t n,
			    struct hub_err *err);

/* Starts the sink's lanes, each with a mapper of its own for o that has
 * read the header row (n 0: there is none; its notes are the caller's
 * mapper's to make). */
int lanes_start(struct lanes **out, const struct imp_opts *o, const struct imp_sink *sink,
		lanes_row_fn row, long header_line, const struct map_cell *header, size_t n,
		struct hub_err *err);

/* Copies one record in; blocks while the lanes are busy. A negative HUB_E*
 * code (err set) when out of memory or once a lane has failed
 * (lanes_finish then says why). */
int lanes_add(struct lanes *l, long line, const struct csvr_field *f, size_t n,
	      struct hub_err *err);

/* Hands the last rows over, waits for every lane and frees l (NULL: does
 * nothing). Returns a lane's failure (err set) if one failed, else rc:
 * the reader's own outcome, so that rows read before the reader stopped
 * are written, as they would be without lanes. */
int lanes_finish(struct lanes *l, int rc, struct hub_err *err);

#endif
