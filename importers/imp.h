/* libimp: catalog feeds in. Each parser reads a file as a stream and hands
 * canonical product documents (DESIGN.md's shape) to a sink, with the line
 * (or byte offset) they came from, so that pimd's import jobs, pimctl
 * --offline and the tests share one code path. libimp knows nothing of
 * pimd: it reads the schema it maps against from a JSON snapshot.
 */
#ifndef IMP_H
#define IMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hub_err;

enum imp_format { IMP_CSV, IMP_GMC_XML, IMP_GMC_TSV, IMP_BMECAT, IMP_JSONL, IMP_FORMAT_NONE };

/* How a document is to be written: replaced whole, or merged as an
 * RFC 7396 patch into the stored product (update feeds, partial CSVs), or
 * merged into a product that must exist already (a feed's delete, which
 * disables: there is nothing to disable when the product is missing). */
enum imp_op { IMP_PUT, IMP_PATCH, IMP_DISABLE };

/* Where parsed documents and row problems go. Strings are borrowed for the
 * call. doc may return a negative HUB_E* code to stop the import. */
struct imp_sink {
	int (*doc)(void *cls, json_t *doc, enum imp_op op, long line);
	/* A row that produced no document: errors is an array of
	 * {"field","code","message"} (borrowed). */
	void (*row_failed)(void *cls, long line, json_t *errors);
	/* A problem that fails no row (a header column nobody knows, an image
	 * file name left unresolved): reported once. */
	void (*note)(void *cls, long line, const char *field, const char *code, const char *msg);
	/* A schema document the feed defines (BMEcat catalog groups become
	 * categories); may be NULL, then such documents are skipped. */
	int (*schema_doc)(void *cls, const char *kind, json_t *doc, long line);
	/* Bytes of the input consumed so far; may return true to cancel. */
	bool (*progress)(void *cls, uint64_t bytes_done);
	void *cls;
	/* An Akeneo sub-model: a row of a product models file (one with a
	 * family_variant column, read with the akeneo profile) that names a
	 * parent model. Variants here have one level, so it is no product:
	 * doc is product-shaped ("sku" holds the model's code, "family" its
	 * family variant, "parent" its root model; borrowed) for the sink to
	 * keep. May return a negative HUB_E* code to stop the import. NULL:
	 * the row goes to doc like any other. */
	int (*model)(void *cls, json_t *doc, enum imp_op op, long line);
	/* Rows that map one by one (a CSV or TSV whose profile groups no
	 * variant rows) are mapped on `lanes` threads at once when this is
	 * over 1 and the four calls below are set. A lane maps a chunk of
	 * rows, calling prepare on its own thread as each document is made
	 * (it returns what it worked out ahead of the write, or NULL). Once
	 * the chunks before it are handed over, the lane hands its rows to
	 * the sink on that same thread, in file order: doc_prepared (with
	 * what prepare returned, freed after by prep_free), row_failed and
	 * note, then chunk_done, also after a call failed (what the sink
	 * began on that thread must end there). So a document is made,
	 * prepared, written and freed on one thread; only prepare and
	 * progress run beside the other calls. */
	int lanes;
	void *(*prepare)(void *cls, json_t *doc, enum imp_op op);
	int (*doc_prepared)(void *cls, json_t *doc, enum imp_op op, long line, void *prep);
	void (*prep_free)(void *prep);
	int (*chunk_done)(void *cls);
};

/* The schema a feed is mapped against (all borrowed by the importer):
 * {"attributes":{code:doc}, "locales":[codes], "channels":{code:doc},
 *  "currencies":[codes], "families":{code:doc}, "categories":{code:doc}}
 * pimd builds it from its store with imp_schema_* helpers' shape; tests
 * load it from the starter files. */
struct imp_opts {
	enum imp_format format;
	json_t *schema;
	json_t *profile;            /* NULL: the format's own column names */
	/* The locale of localizable values a row does not place (the import
	 * request's): it wins over the profile's "locale"; NULL: the
	 * profile's, else imp_catalog_locale(schema). */
	const char *locale;
	struct imp_fault *fault; /* NULL, or where a malformed file went wrong */
};

/* The position imp_run's error names when the file itself is malformed
 * (not UTF-8, broken XML, not the format): line from 1 (0: unknown) and
 * byte offset from 0 (-1: unknown). */
struct imp_fault {
	long line;
	long long byte;
};

/* The catalog's default locale, for imports that name none: the first
 * locale of channel "web" in the channel's own order; else en_US when the
 * catalog has it; else the first locale of the channel whose code sorts
 * first; else the first locale code in sort order; NULL for a catalog
 * without locales. Borrowed from schema. */
const char *imp_catalog_locale(const json_t *schema);

/* Parses the whole stream read from fd (a spooled upload or a file) and
 * calls the sink for each row. Returns 0 when the file was read to its end
 * (rows may still have failed), or a negative HUB_E* code with err naming
 * the line or byte offset when the file itself is malformed (bad encoding,
 * broken XML, unreadable) or the import was cancelled (HUB_EGONE). */
int imp_run(int fd, const struct imp_opts *o, const struct imp_sink *sink, struct hub_err *err);

/* The profile a format uses when the caller names none: "gmc" for the
 * Merchant formats, NULL for the others. */
const char *imp_default_profile(enum imp_format f);

/* "csv", "gmc-xml", "gmc-tsv", "bmecat", "jsonl" to the enum and back;
 * IMP_FORMAT_NONE for an unknown name. */
enum imp_format imp_format_parse(const char *name);
const char *imp_format_name(enum imp_format f);
/* Guesses the format from the first bytes of a file (XML root element or
 * the first line); IMP_FORMAT_NONE when it cannot tell. */
enum imp_format imp_format_sniff(const char *data, size_t len);

/* Loads the profile called name from dir/name.json (a new reference), or
 * parses a profile sent inline. HUB_ENOTFOUND for an unknown name. */
int imp_profile_load(const char *dir, const char *name, json_t **out, struct hub_err *err);

/* The attributes a variant of family (a family document; NULL: none) sets
 * itself, as attribute → true: its axes, its variant attributes and
 * sku_attr, the identifier. A new reference. */
json_t *imp_variant_attrs(const json_t *family, const char *sku_attr);

/* Checks the whole fd is UTF-8, naming the line and byte of the first bad
 * sequence (also in *where unless NULL); rewinds fd. */
int imp_check_utf8(int fd, struct imp_fault *where, struct hub_err *err);

#endif
