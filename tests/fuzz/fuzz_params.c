/* libFuzzer target: the small parsers that read what a client sends in a
 * URL or a header, or what an operator writes in a setting: rendition
 * parameters and their canonical form, Accept, presets, cursors, decimal
 * strings, timestamps, merge patches, and the text folding of searches.
 * The first byte picks the parser; the rest is its input.
 *
 * Built and run by tests/fuzz/run.sh from the project root.
 */
#include "../../damd/presets.h"
#include "../../damd/rendition.h"
#include "../../pimd/util.h"

#include "err.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void count_word(void *cls, const char *w, size_t len)
{
	if (!len || strlen(w) < len)
		abort();
	++*(size_t *)cls;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hub_err err;
	char *s, out[512];
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	s = malloc(len + 1);
	memcpy(s, data + 1, len);
	s[len] = '\0';
	switch (data[0] % 8) {
	case 0: { /* ?w=&h=&fit=&fmt=&q=&dpr= */
		struct adhoc a;
		struct accept_fmts acc = {true, true};
		struct rend_spec spec;
		bool vary;

		if (adhoc_parse_query(&a, s, &err) == 0 && adhoc_canonical(&a, out, sizeof(out)) == 0) {
			struct adhoc b;

			/* the canonical form reads back as the same parameters */
			if (adhoc_parse_query(&b, out, &err) < 0 || memcmp(&a, &b, sizeof(a)))
				abort();
			spec_from_adhoc(&a, &acc, &spec, &vary, &err);
		}
		break;
	}
	case 1: {
		struct accept_fmts acc;

		accept_parse(s, &acc);
		break;
	}
	case 2: {
		struct presets *p = NULL;

		if (presets_parse(&p, s, len, &err) == 0)
			presets_free(p);
		break;
	}
	case 3: {
		char buf[256];

		if (pim_b64url_decode(s, buf, sizeof(buf)) > (long)sizeof(buf))
			abort();
		break;
	}
	case 4: {
		int decimals;

		if (pim_decimal_parse(s, &decimals))
			pim_decimal_cmp(s, "12.50");
		break;
	}
	case 5:
		pim_time_parse(s);
		break;
	case 6: { /* a target and a patch, split at the first NUL */
		size_t cut = strlen(s);
		json_t *t = json_loadb(s, cut, 0, NULL),
		       *p = cut < len ? json_loadb(s + cut + 1, len - cut - 1, 0, NULL) : NULL;

		if (t && p)
			json_decref(pim_merge_patch(t, p));
		json_decref(t);
		json_decref(p);
		break;
	}
	case 7: {
		char *folded;
		size_t words = 0;

		if (!text_utf8_valid(s, len))
			break;
		folded = text_fold(s, len);
		if (folded)
			text_words(folded, count_word, &words);
		free(folded);
		break;
	}
	}
	free(s);
	return 0;
}
