/* Rendition presets (schemas/renditions.json), ad-hoc rendition parameters
 * and output format negotiation from Accept. No libvips here: this module
 * only decides what to render. */
#ifndef DAM_PRESETS_H
#define DAM_PRESETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "rendition.h"

struct hub_err;
struct presets;

struct preset {
	char name[64];
	int w, h;
	enum rend_fit fit;
	int fmt; /* an enum rend_fmt, or -1: negotiated from Accept */
	int q;   /* 0: the format's default */
	bool keep_frames;
	bool has_bg;
	uint8_t bg[3];
	char tag[JSON_PRESET_TAG_DIGITS + 1]; /* json_tag of its parameters */
};

/* Loads and validates the presets file; errors name the JSON pointer at
 * fault. The caller frees with presets_free. */
int presets_load(struct presets **out, const char *path, struct hub_err *err);
int presets_parse(struct presets **out, const char *json, size_t len, struct hub_err *err);
void presets_free(struct presets *p);
/* Borrowed from p; NULL when unknown. */
const struct preset *presets_find(const struct presets *p, const char *name);
size_t presets_count(const struct presets *p);

/* Ad-hoc parameters as the client sent them, validated and normalised. */
struct adhoc {
	int w, h;   /* 0: absent */
	int fit;    /* enum rend_fit, -1: absent */
	int fmt;    /* enum rend_fmt, -1: absent (negotiated) */
	int q;      /* 0: absent */
	int dpr100; /* device pixel ratio ×100, 0: absent */
};

/* Each value may be NULL (absent). HUB_EINVAL names the parameter. */
int adhoc_parse(struct adhoc *a, const char *w, const char *h, const char *fit, const char *fmt,
		const char *q, const char *dpr, struct hub_err *err);
/* Parses a query string "w=…&h=…" (the --sign helper) the same way;
 * unknown keys are HUB_EINVAL. */
int adhoc_parse_query(struct adhoc *a, const char *query, struct hub_err *err);
/* The signed form: present parameters as sorted key=value joined by '&'. */
int adhoc_canonical(const struct adhoc *a, char *out, size_t outlen);

/* What the client accepts: AVIF if listed with q>0, else WebP, else
 * REND_FMT_CLASSIC (JPEG, or PNG for sources with alpha). Wildcards do not
 * count: a client that lists neither gets the classic formats. */
struct accept_fmts {
	bool avif, webp;
};
void accept_parse(const char *accept, struct accept_fmts *out);

/* Fills spec for a preset or for ad-hoc parameters. fmt is resolved
 * against acc when negotiated (*vary set); animated says whether the
 * source has frames to keep (kept only when WebP can be sent). */
void spec_from_preset(const struct preset *p, const struct accept_fmts *acc, bool animated,
		      struct rend_spec *spec, bool *vary);
int spec_from_adhoc(const struct adhoc *a, const struct accept_fmts *acc, struct rend_spec *spec,
		    bool *vary, struct hub_err *err);

#endif
