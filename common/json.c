#include "json.h"
#include "err.h"
#include "hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

json_t *json_parse(const char *data, size_t len, struct hub_err *err)
{
	json_error_t je;
	/* no JSON_ALLOW_NUL: C strings would end at a \u0000 ("A\u0000B" read
	 * as sku "A"), so such a document is refused where the NUL is */
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		hub_err_set(err, HUB_EINVAL, "invalid JSON at line %d, column %d (byte %d): %s",
			    je.line, je.column, je.position,
			    json_error_code(&je) == json_error_null_character
				    ? "a string holds \\u0000, which is not allowed"
				    : je.text);
	return j;
}

char *json_dump_compact(const json_t *j, size_t *len)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	if (s && len)
		*len = strlen(s);
	return s;
}

const char *json_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool json_array_has_string(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

bool json_same_member(const json_t *a, const json_t *b, const char *key)
{
	json_t *x = json_object_get(a, key), *y = json_object_get(b, key);

	if (json_is_null(x))
		x = NULL;
	if (json_is_null(y))
		y = NULL;
	return (!x && !y) || (x && y && json_equal(x, y));
}

int json_tag(const json_t *j, const char *omit, char *out, size_t digits)
{
	json_t *copy = NULL;
	char *canon;
	uint8_t d[HASH_SHA256_LEN];

	if (omit && json_is_object(j) && json_object_get(j, omit)) {
		copy = json_copy((json_t *)j);
		if (!copy)
			return HUB_ENOMEM;
		json_object_del(copy, omit);
		j = copy;
	}
	canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(copy);
	if (!canon)
		return HUB_ENOMEM;
	hash_sha256(canon, strlen(canon), d);
	free(canon);
	hash_hex(d, digits / 2, out);
	return 0;
}
