/* Streaming XML for the feed readers, on libxml2's xmlTextReader with the
 * network, DTD loading and entity substitution off. A document that
 * declares entities is refused before any is expanded, so billion-laughs,
 * quadratic-blowup and external-entity files fail fast. Each element the
 * caller asks for is handed over as a small JSON tree, then freed, so
 * memory stays bounded by the largest item.
 */
#ifndef IMP_XML_H
#define IMP_XML_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct hub_err;
struct imp_fault;

/* An element: {"name":local name, "attrs":{…}, "text":direct text,
 * "children":[elements]} (borrowed for the call). */
typedef int (*xml_elem_fn)(void *cls, json_t *elem, long line);

struct xml_spec {
	const char *const *items; /* local names handed over whole */
	const char *const *marks; /* local names reported when they open (no children) */
	xml_elem_fn on_root;      /* the document element when it opens */
	xml_elem_fn on_item;
	xml_elem_fn on_mark;
	bool (*progress)(void *cls, uint64_t bytes); /* true: cancel */
	void *cls;
	struct imp_fault *fault; /* NULL, or where malformed XML went wrong */
};

/* Reads fd to its end. A callback's negative return stops and is
 * returned; malformed XML is HUB_EINVAL with the line and byte offset
 * libxml2 reported the error at (also in spec->fault), and so is an
 * on_root refusal (at the root's line). */
int xml_each(int fd, const struct xml_spec *spec, struct hub_err *err);

/* Helpers over the element trees. */
json_t *xml_child(const json_t *elem, const char *name);
const char *xml_text(const json_t *elem); /* "" when none */
const char *xml_child_text(const json_t *elem, const char *name); /* NULL when absent */
const char *xml_attr(const json_t *elem, const char *name);

#endif
