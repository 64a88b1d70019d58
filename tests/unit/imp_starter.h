/* The starter catalog's schema (schemas/starter) in the shape libimp maps
 * against, for the importers' unit tests and fuzz target. */
#ifndef IMP_STARTER_H
#define IMP_STARTER_H

#include <jansson.h>
#include <stdio.h>

/* NULL, with a message, when run elsewhere than the project root. */
static inline json_t *starter_schema(void)
{
	static const char *const keyed[] = {"attributes", "families", "channels", "categories"};
	static const char *const listed[] = {"locales", "currencies"};
	json_t *s = json_object();
	json_error_t je;
	char path[256];
	size_t i;
	json_t *d;

	for (size_t k = 0; k < 6; k++) {
		const char *kind = k < 4 ? keyed[k] : listed[k - 4];
		json_t *arr, *out = k < 4 ? json_object() : json_array();

		snprintf(path, sizeof(path), "schemas/starter/%s.json", kind);
		arr = json_load_file(path, 0, &je);
		if (!arr) {
			fprintf(stderr, "%s: %s (run from the project root)\n", path, je.text);
			json_decref(out);
			json_decref(s);
			return NULL;
		}
		json_array_foreach(arr, i, d) {
			const char *code = json_string_value(json_object_get(d, "code"));

			if (!code)
				continue;
			if (k < 4)
				json_object_set(out, code, d);
			else
				json_array_append_new(out, json_string(code));
		}
		json_decref(arr);
		json_object_set_new(s, kind, out);
	}
	return s;
}
#endif
