/* The readers behind imp_run, one per format; each reads fd to its end and
 * hands rows to the mapper (or documents to the sink). */
#ifndef IMP_FEEDS_H
#define IMP_FEEDS_H

#include "imp.h"
#include "map.h"

struct hub_err;

/* Google Merchant RSS 2.0 / Atom items through the mapper. */
int gmc_xml_read(int fd, struct map *m, const struct imp_opts *o, const struct imp_sink *sink,
		 struct hub_err *err);
/* BMEcat 1.2 and 2005 articles/products. */
int bmecat_read(int fd, struct map *m, const struct imp_opts *o, const struct imp_sink *sink,
		struct hub_err *err);
/* JSON lines of our documents or Akeneo's standard format. */
int jsonl_read(int fd, struct map *m, const struct imp_opts *o, const struct imp_sink *sink,
	       struct hub_err *err);

#endif
