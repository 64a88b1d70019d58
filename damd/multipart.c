#include "fmacros.h"
#include "multipart.h"
#include "err.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

/* The POST processor's own buffer: field headers must fit in it. */
#define PP_BUFFER (64 * 1024)

struct multipart {
	struct MHD_PostProcessor *pp;
	const struct multipart_cb *cb;
	void *cls;
	int in_file;    /* a file part has begun and not ended */
	int failed;
	struct hub_err err;
};

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *filename, const char *content_type,
				const char *transfer_encoding, const char *data, uint64_t off,
				size_t size)
{
	struct multipart *m = cls;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (m->failed)
		return MHD_NO;
	if (!filename)
		return MHD_YES; /* a plain form field */
	/* a part's offset restarts at 0: the previous file is complete */
	if (off == 0) {
		if (m->in_file && m->cb->end(m->cls, &m->err) < 0)
			goto fail;
		m->in_file = 0;
		if (m->cb->begin(m->cls, key ? key : "", filename, &m->err) < 0)
			goto fail;
		m->in_file = 1;
	}
	if (size && m->cb->data(m->cls, data, size, &m->err) < 0)
		goto fail;
	return MHD_YES;
fail:
	m->failed = 1;
	return MHD_NO;
}

int multipart_new(struct http_req *req, const struct multipart_cb *cb, void *cls,
		  struct multipart **out, struct hub_err *err)
{
	struct multipart *m = calloc(1, sizeof(*m));
	const char *ct = http_header(req, "Content-Type");

	if (!m)
		return hub_err_set(err, HUB_ENOMEM, "out of memory");
	if (!ct || strncasecmp(ct, "multipart/form-data", 19) || !strstr(ct, "boundary=")) {
		free(m);
		return hub_err_set(err, HUB_EMEDIA, "expected multipart/form-data with a boundary");
	}
	m->cb = cb;
	m->cls = cls;
	m->pp = MHD_create_post_processor(http_mhd_connection(req), PP_BUFFER, on_field, m);
	if (!m->pp) {
		free(m);
		return hub_err_set(err, HUB_EMEDIA, "cannot parse this multipart/form-data header");
	}
	*out = m;
	return 0;
}

int multipart_feed(struct multipart *m, const char *data, size_t len, struct hub_err *err)
{
	if (m->failed)
		goto fail;
	if (MHD_post_process(m->pp, data, len) != MHD_YES) {
		m->failed = 1;
		if (!m->err.code)
			hub_err_set(&m->err, HUB_EINVAL, "the multipart/form-data body is malformed");
		goto fail;
	}
	return 0;
fail:
	if (err)
		*err = m->err;
	return m->err.code ? m->err.code : HUB_EINVAL;
}

int multipart_finish(struct multipart *m, struct hub_err *err)
{
	int rc = 0;

	if (m->failed)
		return multipart_feed(m, NULL, 0, err);
	/* MHD_NO here means trailing bytes that are not part of the form */
	if (MHD_destroy_post_processor(m->pp) != MHD_YES) {
		m->pp = NULL;
		m->failed = 1;
		return hub_err_set(err, HUB_EINVAL, "the multipart/form-data body ends early");
	}
	m->pp = NULL;
	if (m->in_file) {
		m->in_file = 0;
		rc = m->cb->end(m->cls, err);
	}
	return rc;
}

void multipart_free(struct multipart *m)
{
	if (!m)
		return;
	if (m->pp)
		MHD_destroy_post_processor(m->pp);
	free(m);
}
