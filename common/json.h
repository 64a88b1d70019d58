/* JSON helpers around jansson: parsing with errors that point at the byte,
 * and compact serialisation. */
#ifndef HUB_JSON_H
#define HUB_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct hub_err;

/* Parses len bytes; on failure returns NULL and sets err (HUB_EINVAL) with
 * the line, column and byte offset. The caller owns the returned value. */
json_t *json_parse(const char *data, size_t len, struct hub_err *err);

/* Serialises compactly, keys in insertion order; the caller frees the
 * string. Returns NULL only when out of memory. */
char *json_dump_compact(const json_t *j, size_t *len);

/* Borrowed string member of an object, or NULL if absent or not a string. */
const char *json_get_str(const json_t *obj, const char *key);

/* True when objects a and b hold equal members key, a null member being as
 * good as none (value entries' locale and channel, a price's currency). */
bool json_same_member(const json_t *a, const json_t *b, const char *key);

/* True when arr (any value; NULL or a non-array is empty) holds the string s. */
bool json_array_has_string(const json_t *arr, const char *s);

/* A short digest of j: the first digits (even, at most 64) hex digits of
 * SHA-256 over j serialised compactly with its keys sorted, without its
 * member omit (NULL: none), into out (digits + 1 bytes). Equal values give
 * equal tags whatever their key order. Returns 0, or HUB_ENOMEM. */
int json_tag(const json_t *j, const char *omit, char *out, size_t digits);

/* A rendition preset's tag, json_tag of its object without "description":
 * pimd puts it in the rendition URLs it hands out and damd in the
 * renditions it stores, so both tell an edited preset from its old self. */
#define JSON_PRESET_TAG_DIGITS 8

#endif
