/* The catalog's schema (locales, currencies, channels, attributes,
 * families, categories, association types): validation of its documents,
 * and immutable in-memory snapshots that readers share without locks.
 * A snapshot is rebuilt after every schema write and swapped in.
 */
#ifndef PIM_SCHEMA_H
#define PIM_SCHEMA_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

struct hub_err;
struct pim_txn;

enum pim_kind {
	PK_LOCALES,
	PK_CURRENCIES,
	PK_CHANNELS,
	PK_ATTRIBUTES,
	PK_FAMILIES,
	PK_CATEGORIES,
	PK_ASSOC,
	PK_COUNT
};

enum pim_type {
	PT_IDENTIFIER,
	PT_TEXT,
	PT_TEXTAREA,
	PT_NUMBER,
	PT_BOOLEAN,
	PT_DATE,
	PT_PRICE,
	PT_SIMPLE_SELECT,
	PT_MULTI_SELECT,
	PT_METRIC,
	PT_ASSET,
	PT_ASSET_COLLECTION,
	PT_PRODUCT_REF,
	PT_COUNT
};

/* An attribute compiled for validation; strings point into doc. */
struct pim_attr {
	const char *code;
	json_t *doc;
	enum pim_type type;
	bool localizable, scopable, unique, gtin;
	long max_length; /* -1: none */
	bool has_re;
	regex_t re;
	const char *min, *max; /* decimal strings or NULL */
	int decimals;          /* -1: any */
	json_t *options;       /* object: option code → true */
	json_t *units;         /* object: unit → true */
};

/* A family compiled: sets are objects whose keys are attribute codes. */
struct pim_family {
	const char *code;
	json_t *doc;
	json_t *attrs;    /* every attribute of the family, "sku" included */
	json_t *variant;  /* what a variant may set: variant_attributes + axes + sku */
	json_t *axes;     /* array */
	json_t *requirements; /* object: channel → array */
};

/* One channel/locale pair that completeness is kept for. */
struct pim_chloc {
	char *key;          /* "channel/locale" */
	const char *channel;
	const char *locale;
	json_t *currencies; /* the channel's, borrowed */
};

struct pim_schema {
	int refs;
	struct pim_chloc *chlocs; /* every channel's locales, in channel order */
	size_t nchlocs;
	json_t *docs[PK_COUNT];   /* object: code → document */
	json_t *cat_path;         /* object: category → [root, …, itself] */
	struct pim_attr *attrs;   /* sorted by code */
	size_t nattrs;
	uint32_t *attr_slots;     /* open addressing on the code: index + 1, 0 free */
	size_t attr_mask;         /* slots - 1; at most half of them used */
	struct pim_family *fams;  /* sorted by code */
	size_t nfams;
};

/* "locales" → PK_LOCALES…; -1 when unknown. */
int pim_kind_parse(const char *name);
const char *pim_kind_name(int kind);
const char *pim_type_name(int type);

/* Builds a snapshot from the schema database as txn sees it. */
int pim_schema_load(struct pim_txn *t, struct pim_schema **out, struct hub_err *err);
void pim_schema_ref(struct pim_schema *s);
/* Drops a reference; the last one frees. Accepts NULL. */
void pim_schema_unref(struct pim_schema *s);

/* Lookups into a snapshot (borrowed while the snapshot is held). */
json_t *pim_schema_doc(const struct pim_schema *s, int kind, const char *code);
const struct pim_attr *pim_schema_attr(const struct pim_schema *s, const char *code);
const struct pim_family *pim_schema_family(const struct pim_schema *s, const char *code);
/* The category's path from its root, or NULL. */
json_t *pim_schema_cat_path(const struct pim_schema *s, const char *code);

/* Validates a schema document of kind for code against snapshot s and
 * returns the normalised document to store (defaults filled in), or NULL
 * with entries appended to problems. */
json_t *pim_schema_check(const struct pim_schema *s, int kind, const char *code, json_t *doc,
			 json_t *problems);
/* Why code of kind cannot be deleted (a message), or NULL. */
const char *pim_schema_in_use(const struct pim_schema *s, int kind, const char *code,
			      char *msg, size_t msglen);

/* Appends {"path","code","message"} to problems. */
void pim_problem(json_t *problems, const char *path, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Writes base + "/" + key (escaped as a JSON pointer token) into out. */
void pim_ptr(char *out, size_t outlen, const char *base, const char *key);

#endif
