/* libxml2 is used only here. */
#include "xml.h"

#include "err.h"
#include "imp.h"

#include <errno.h>
#include <stdbool.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct xml_io {
	int fd;
	uint64_t bytes;
	const struct xml_spec *spec;
	bool cancelled;
	int read_errno;
};

struct xml_state {
	char msg[400];
	int code, line, col;
	bool failed;
};

static int io_read(void *ctx, char *buffer, int len)
{
	struct xml_io *io = ctx;
	ssize_t n;

	if (io->cancelled)
		return -1;
	do
		n = read(io->fd, buffer, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		io->read_errno = errno;
		return -1;
	}
	io->bytes += (uint64_t)n;
	if (io->spec->progress && io->spec->progress(io->spec->cls, io->bytes)) {
		io->cancelled = true;
		return -1;
	}
	return (int)n;
}

static int io_close(void *ctx)
{
	(void)ctx;
	return 0;
}

static void on_error(void *arg, xmlErrorPtr e)
{
	struct xml_state *st = arg;
	size_t n;

	if (!e || e->level < XML_ERR_ERROR)
		return;
	/* the last error wins, as with xmlGetLastError: an entity's text is
	 * parsed in a context of its own, whose error (at the entity's line 1)
	 * comes before the document's */
	st->failed = true;
	st->code = e->code;
	st->line = e->line;
	st->col = e->int2;
	snprintf(st->msg, sizeof(st->msg), "%s", e->message ? e->message : "malformed XML");
	n = strlen(st->msg);
	while (n && (st->msg[n - 1] == '\n' || st->msg[n - 1] == ' '))
		st->msg[--n] = '\0';
}

/* The byte offset of line (from 1) and column (characters, from 1) in fd,
 * read again from its start: only done once, when the file is refused.
 * -1 when fd cannot be read there. */
static long long offset_of(int fd, long line, int col)
{
	char buf[65536];
	long long off = 0;
	long at = 1;
	ssize_t n;

	if (line < 1)
		return -1;
	while ((n = pread(fd, buf, sizeof(buf), (off_t)off)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (at == line) {
				if (col <= 1 || buf[i] == '\n')
					return off + i;
				/* a character's continuation bytes do not count */
				if (((unsigned char)buf[i] & 0xC0) != 0x80 && --col <= 1) {
					while (i + 1 < n && ((unsigned char)buf[i + 1] & 0xC0) == 0x80)
						i++;
					return off + i + 1;
				}
			} else if (buf[i] == '\n') {
				at++;
			}
		}
		off += n;
	}
	return at == line ? off : -1;
}

/* What a merchandiser makes of libxml2's error: its message, or plainer
 * words for the ones whose own are misleading. */
static void describe(int fd, const struct xml_state *st, long long byte, char *out, size_t len)
{
	if (st->code == XML_ERR_ENTITY_LOOP) {
		snprintf(out, len, "the document declares entities (<!ENTITY>) that expand into "
				   "each other, which feeds may not use");
	} else if (st->code == XML_ERR_DOCUMENT_END) {
		/* libxml2's reader says "Extra content" also when the file just
		 * stops inside an element: tell the two apart */
		char rest[256];
		ssize_t n = byte >= 0 ? pread(fd, rest, sizeof(rest), (off_t)byte) : -1;
		bool at_end = n >= 0;

		for (ssize_t i = 0; i < n; i++)
			if (!rest[i] || !strchr(" \t\r\n", rest[i]))
				at_end = false;
		snprintf(out, len, at_end ? "the file ends inside an element that is never closed "
					    "(is the file cut short?)"
					  : "there is more after the end of the document's root element");
	} else if (st->code == XML_ERR_DOCUMENT_EMPTY) {
		snprintf(out, len, "the file holds no XML element");
	} else {
		snprintf(out, len, "malformed XML: %s", st->msg[0] ? st->msg : "the document is incomplete");
	}
}

static void set_fault(const struct xml_spec *spec, long line, long long byte)
{
	if (spec->fault) {
		spec->fault->line = line;
		spec->fault->byte = byte;
	}
}

static const char *local(const xmlChar *name)
{
	const char *s = (const char *)name, *c = s ? strchr(s, ':') : NULL;

	return c ? c + 1 : (s ? s : "");
}

static bool listed(const char *const *names, const char *s)
{
	for (; names && *names; names++)
		if (!strcmp(*names, s))
			return true;
	return false;
}

/* The subtree of node as JSON. Depth is bounded by libxml2's own limit. */
static json_t *to_json(xmlNodePtr node)
{
	json_t *e = json_object(), *attrs = json_object(), *kids = json_array();
	xmlBufferPtr text = xmlBufferCreate();

	json_object_set_new(e, "name", json_string(local(node->name)));
	if (node->ns && node->ns->prefix)
		json_object_set_new(e, "prefix", json_string((const char *)node->ns->prefix));
	for (xmlAttrPtr a = node->properties; a; a = a->next) {
		xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);

		json_object_set_new(attrs, local(a->name), json_string(v ? (const char *)v : ""));
		xmlFree(v);
	}
	for (xmlNodePtr c = node->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			json_array_append_new(kids, to_json(c));
		else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			xmlBufferCat(text, c->content);
	}
	json_object_set_new(e, "attrs", attrs);
	{
		const char *t = (const char *)xmlBufferContent(text);
		json_t *js = json_string(t ? t : "");

		/* text that is not UTF-8 cannot come out of libxml2; be safe anyway */
		json_object_set_new(e, "text", js ? js : json_string(""));
	}
	json_object_set_new(e, "children", kids);
	xmlBufferFree(text);
	return e;
}

static json_t *shallow(xmlTextReaderPtr r)
{
	json_t *e = json_object(), *attrs = json_object();

	json_object_set_new(e, "name", json_string(local(xmlTextReaderConstName(r))));
	while (xmlTextReaderMoveToNextAttribute(r) == 1) {
		const xmlChar *v = xmlTextReaderConstValue(r);

		json_object_set_new(attrs, local(xmlTextReaderConstName(r)),
				    json_string(v ? (const char *)v : ""));
	}
	xmlTextReaderMoveToElement(r);
	json_object_set_new(e, "attrs", attrs);
	json_object_set_new(e, "text", json_string(""));
	json_object_set_new(e, "children", json_array());
	return e;
}

static bool declares_entities(xmlTextReaderPtr r)
{
	/* through the node: xmlTextReaderCurrentDoc would take the document
	 * away from the reader, which then never frees it */
	xmlNodePtr node = xmlTextReaderCurrentNode(r);
	xmlDocPtr doc = node ? node->doc : NULL;

	return doc && doc->intSubset && doc->intSubset->entities &&
	       xmlHashSize(doc->intSubset->entities) > 0;
}

int xml_each(int fd, const struct xml_spec *spec, struct hub_err *err)
{
	struct xml_io io = {.fd = fd, .spec = spec};
	struct xml_state st = {.failed = false};
	xmlTextReaderPtr r;
	bool root_seen = false;
	int rc = 0, ret;

	/* No NOENT (no substitution), no DTDLOAD, no HUGE; NONET for sure. */
	r = xmlReaderForIO(io_read, io_close, &io, NULL, NULL,
			   XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
	if (!r)
		return hub_err_set(err, HUB_ENOMEM, "cannot start the XML reader");
	xmlTextReaderSetStructuredErrorHandler(r, on_error, &st);
	ret = xmlTextReaderRead(r);
	while (ret == 1 && !st.failed) {
		int type = xmlTextReaderNodeType(r);
		const char *name;
		long line;

		if (type != XML_READER_TYPE_ELEMENT && type != XML_READER_TYPE_DOCUMENT_TYPE) {
			ret = xmlTextReaderRead(r);
			continue;
		}
		/* refuse before any entity could be expanded */
		if (declares_entities(r)) {
			long at = xmlTextReaderGetParserLineNumber(r);
			long long byte = offset_of(fd, at, 1);

			set_fault(spec, at, byte);
			rc = hub_err_set(err, HUB_EINVAL,
					 "line %ld, byte %lld: the document declares entities (<!ENTITY>), "
					 "which feeds may not use",
					 at, byte);
			goto out;
		}
		if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
			ret = xmlTextReaderRead(r);
			continue;
		}
		name = local(xmlTextReaderConstName(r));
		line = xmlTextReaderGetParserLineNumber(r);
		if (!root_seen) {
			root_seen = true;
			if (spec->on_root) {
				json_t *e = shallow(r);

				rc = spec->on_root(spec->cls, e, line);
				json_decref(e);
				if (rc < 0) {
					set_fault(spec, line, offset_of(fd, line, 1));
					goto out;
				}
			}
		}
		if (listed(spec->items, name)) {
			xmlNodePtr n = xmlTextReaderExpand(r);
			json_t *e;

			if (!n || st.failed) {
				ret = -1;
				break;
			}
			e = to_json(n);
			rc = spec->on_item(spec->cls, e, line);
			json_decref(e);
			if (rc < 0)
				goto out;
			/* past the subtree, onto whatever follows it */
			ret = xmlTextReaderNext(r);
			continue;
		}
		if (listed(spec->marks, name) && spec->on_mark) {
			json_t *e = shallow(r);

			rc = spec->on_mark(spec->cls, e, line);
			json_decref(e);
			if (rc < 0)
				goto out;
		}
		ret = xmlTextReaderRead(r);
	}
	if (io.cancelled) {
		rc = hub_err_set(err, HUB_EGONE, "the import was cancelled");
	} else if (io.read_errno) {
		rc = hub_err_set(err, HUB_EIO, "cannot read the file: %s", strerror(io.read_errno));
	} else if (st.failed || ret < 0) {
		long at = st.line ? st.line : xmlTextReaderGetParserLineNumber(r);
		long long byte = offset_of(fd, at, st.line ? st.col : 1);
		char what[500];

		describe(fd, &st, byte, what, sizeof(what));
		set_fault(spec, at, byte);
		if (byte >= 0)
			rc = hub_err_set(err, HUB_EINVAL, "line %ld, byte %lld: %s", at, byte, what);
		else
			rc = hub_err_set(err, HUB_EINVAL, "line %ld: %s", at, what);
	} else if (!root_seen) {
		rc = hub_err_set(err, HUB_EINVAL,
				 io.bytes ? "the file holds no XML element" : "the file is empty");
	}
out:
	xmlFreeTextReader(r);
	return rc;
}

json_t *xml_child(const json_t *elem, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(elem, "children"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")), name))
			return c;
	return NULL;
}

const char *xml_text(const json_t *elem)
{
	const char *t = json_string_value(json_object_get(elem, "text"));

	return t ? t : "";
}

const char *xml_child_text(const json_t *elem, const char *name)
{
	json_t *c = xml_child(elem, name);

	return c ? xml_text(c) : NULL;
}

const char *xml_attr(const json_t *elem, const char *name)
{
	return json_string_value(json_object_get(json_object_get(elem, "attrs"), name));
}
