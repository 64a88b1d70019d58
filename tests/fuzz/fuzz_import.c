/* libFuzzer target: any bytes through imp_run, in every format and with
 * every shipped profile, against the starter schema. The first byte picks
 * the format and the profile (its low 7 bits) and whether rows go to two
 * import lanes (its high bit); the rest is the file. A crash, a leak or
 * undefined behaviour is a finding; a malformed file is not.
 *
 * Built and run by tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,
 * undefined), from the project root.
 */
#include "../unit/imp_starter.h"
#include "err.h"
#include "imp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const profile_names[] = {NULL, "akeneo", "bmecat", "gmc", "magento", "shopify"};
#define NPROFILES (sizeof(profile_names) / sizeof(profile_names[0]))

static json_t *schema;
static json_t *profiles[NPROFILES];

static int on_doc(void *cls, json_t *doc, enum imp_op op, long line)
{
	(void)cls;
	(void)op;
	/* what pimd's sink reads of every document */
	if (!json_is_object(doc) || line < 0)
		abort();
	json_string_value(json_object_get(doc, "sku"));
	return 0;
}

static void on_failed(void *cls, long line, json_t *errors)
{
	(void)cls;
	if (!json_is_array(errors) || line < 0)
		abort();
}

static void on_note(void *cls, long line, const char *field, const char *code, const char *msg)
{
	(void)cls;
	(void)line;
	(void)field;
	if (!code || !msg)
		abort();
	(void)strlen(msg);
}

static int on_schema_doc(void *cls, const char *kind, json_t *doc, long line)
{
	(void)cls;
	(void)line;
	if (!kind || !json_is_object(doc))
		abort();
	return 0;
}

/* lanes: what prepare makes must come back to doc_prepared */
static const char prepared[] = "prepared";

static void *on_prepare(void *cls, json_t *doc, enum imp_op op)
{
	(void)cls;
	(void)op;
	if (!json_is_object(doc))
		abort();
	return strdup(prepared);
}

static int on_doc_prepared(void *cls, json_t *doc, enum imp_op op, long line, void *prep)
{
	if (prep && strcmp(prep, prepared))
		abort();
	return on_doc(cls, doc, op, line);
}

static int on_chunk_done(void *cls)
{
	(void)cls;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imp_sink sink = {
		.doc = on_doc,
		.row_failed = on_failed,
		.note = on_note,
		.schema_doc = on_schema_doc,
		.model = on_doc,
		.prepare = on_prepare,
		.doc_prepared = on_doc_prepared,
		.prep_free = free,
		.chunk_done = on_chunk_done,
	};
	struct imp_fault fault;
	struct imp_opts o;
	struct hub_err err;
	int fd;

	if (!schema) {
		if (!(schema = starter_schema()))
			abort();
		for (size_t i = 1; i < NPROFILES; i++)
			if (imp_profile_load("schemas/profiles", profile_names[i], &profiles[i], &err) < 0)
				abort();
	}
	if (size < 1)
		return 0;
	o = (struct imp_opts){(enum imp_format)((data[0] & 0x7f) % IMP_FORMAT_NONE), schema,
			      profiles[((data[0] & 0x7f) / IMP_FORMAT_NONE) % NPROFILES], NULL, &fault};
	sink.lanes = data[0] & 0x80 ? 2 : 0;
	fd = memfd_create("fuzz", 0);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1) || lseek(fd, 0, SEEK_SET))
		abort();
	imp_run(fd, &o, &sink, &err);
	close(fd);
	return 0;
}
