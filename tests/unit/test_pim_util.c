/* pimd's pure helpers: cursors, decimals, GTINs, merge patch, timestamps,
 * the JSON writer, and the projection cache. */
#include "buf.h"
#include "../../pimd/cache.h"
#include "../../pimd/search.h"
#include "tap.h"
#include "../../pimd/util.h"
#include "gtin.h"
#include "http.h"

#include <stdlib.h>
#include <string.h>

static int merge_is(const char *target, const char *patch, const char *want)
{
	json_t *t = json_loads(target, JSON_DECODE_ANY, NULL), *p = json_loads(patch, JSON_DECODE_ANY, NULL);
	json_t *w = json_loads(want, JSON_DECODE_ANY, NULL), *r = pim_merge_patch(t, p);
	int ok = json_equal(r, w);
	char *tj = json_dumps(t, JSON_ENCODE_ANY | JSON_COMPACT);

	/* the target itself is left alone */
	ok = ok && !strcmp(tj, target);
	free(tj);
	json_decref(t);
	json_decref(p);
	json_decref(w);
	json_decref(r);
	return ok;
}

static int writes_like_jansson(const char *text)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	struct buf b = BUF_INIT;
	char *ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	int ok = j && pim_json_write(&b, j) == 0 && !strcmp(b.data, ref);

	if (!ok)
		printf("# pim_json_write: '%s' vs '%s'\n", b.data, ref);
	free(ref);
	buf_release(&b);
	json_decref(j);
	return ok;
}

/* Caches body as a reply, the way pim_project does. */
static void put(struct pim_cache *c, const char *channel, const char *locale, const char *sku,
		const char *body, const char *etag, uint64_t epoch)
{
	struct http_shared *r = http_shared_new("application/json", strdup(body), strlen(body));

	pim_cache_put(c, channel, locale, sku, r, etag, epoch);
	http_shared_unref(r);
}

int main(void)
{
	char enc[128], dec[128];
	long n;

	/* cursors */
	pim_cursor_make('p', "TS-001-RED-M", enc);
	ok(strchr(enc, '=') == NULL && strchr(enc, '+') == NULL && strchr(enc, '/') == NULL,
	   "cursor is base64url without padding: %s", enc);
	ok(pim_cursor_read('p', enc, dec, sizeof(dec)) == 0 && !strcmp(dec, "TS-001-RED-M"),
	   "cursor round-trips");
	ok(pim_cursor_read('h', enc, dec, sizeof(dec)) < 0, "another listing's cursor refused");
	ok(pim_cursor_read('p', enc, dec, 12) < 0, "a key longer than the buffer refused");
	for (int len = 1; len <= 7; len++) {
		char in[8] = "abcdefg";

		in[len] = 0;
		pim_cursor_make('c', in, enc);
		ok(pim_cursor_read('c', enc, dec, sizeof(dec)) == 0 && !strcmp(dec, in),
		   "cursor round-trips %d bytes", len);
	}
	{
		char raw[16] = "pTS-1", forged[32];

		pim_b64url_encode(raw, 5, forged); /* a bare sku, as cursors once were */
		ok(pim_cursor_read('p', forged, dec, sizeof(dec)) < 0, "a cursor not made here refused");
		pim_cursor_make('p', "TS-1", enc);
		enc[strlen(enc) - 2] = enc[strlen(enc) - 2] == 'A' ? 'B' : 'A';
		ok(pim_cursor_read('p', enc, dec, sizeof(dec)) < 0, "a changed cursor refused");
		pim_cursor_make('p', "TS-1", enc);
		enc[strlen(enc) - 1] = 0;
		ok(pim_cursor_read('p', enc, dec, sizeof(dec)) < 0, "a cut cursor refused");
	}
	ok(pim_cursor_read('p', "!!", dec, sizeof(dec)) < 0, "bad cursor characters refused");
	ok(pim_cursor_read('p', "", dec, sizeof(dec)) < 0, "empty cursor refused");
	ok(pim_cursor_read('p', "garbage", dec, sizeof(dec)) < 0, "garbage refused");
	n = pim_b64url_decode("YWJj", dec, 2);
	ok(n < 0, "decode stops at its buffer's end");

	/* decimals */
	{
		int d = -1;

		ok(pim_decimal_parse("12.50", &d) && d == 2, "12.50: two decimals");
		ok(pim_decimal_parse("-3", &d) && d == 0, "-3 is a decimal");
		ok(!pim_decimal_parse("12,50", NULL), "decimal comma refused");
		ok(!pim_decimal_parse("1e3", NULL), "exponent refused");
		ok(!pim_decimal_parse(".5", NULL), "no integer part refused");
		ok(!pim_decimal_parse("5.", NULL), "no fraction digits refused");
		ok(!pim_decimal_parse("", NULL), "empty refused");
		ok(!pim_decimal_parse(" 1", NULL), "spaces refused");
	}
	ok(pim_decimal_cmp("10", "9.99") > 0, "10 > 9.99");
	ok(pim_decimal_cmp("0.5", "0.50") == 0, "0.5 == 0.50");
	ok(pim_decimal_cmp("-1", "0") < 0, "-1 < 0");
	ok(pim_decimal_cmp("-0.00", "0") == 0, "-0.00 == 0");
	ok(pim_decimal_cmp("-2.5", "-2.4") < 0, "-2.5 < -2.4");
	ok(pim_decimal_cmp("007", "7") == 0, "leading zeros");
	ok(pim_decimal_cmp("1000", "999.999") > 0, "longer integer part is larger");

	/* GTIN */
	ok(gtin_valid("4006381333931"), "EAN-13 valid");
	ok(!gtin_valid("4006381333932"), "EAN-13 bad check digit");
	ok(gtin_valid("96385074"), "EAN-8 valid");
	ok(gtin_valid("036000291452"), "UPC-A valid");
	ok(gtin_valid("10012345678902"), "GTIN-14 valid");
	ok(!gtin_valid("400638133393"), "12 digits with a wrong check digit");
	ok(!gtin_valid("40063813339A1"), "letters refused");
	ok(!gtin_valid("123"), "wrong length refused");

	/* RFC 7396, including the RFC's appendix examples */
	ok(merge_is("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"), "replace a member");
	ok(merge_is("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"), "add a member");
	ok(merge_is("{\"a\":\"b\"}", "{\"a\":null}", "{}"), "null removes");
	ok(merge_is("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"), "null removes one");
	ok(merge_is("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"), "array replaced by a value");
	ok(merge_is("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"), "value replaced by an array");
	ok(merge_is("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"),
	   "nested merge");
	ok(merge_is("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"), "arrays are not merged");
	ok(merge_is("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"), "array target replaced");
	ok(merge_is("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"), "array patch replaces");
	ok(merge_is("{\"a\":\"foo\"}", "null", "null"), "null patch");
	ok(merge_is("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"), "existing nulls kept");
	ok(merge_is("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"), "object patch on an array");
	ok(merge_is("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"), "deep null on nothing");

	/* time */
	{
		char t[32];
		int64_t ms = pim_time_parse("2026-11-23T10:00:00.123Z");

		ok(ms == 1795428000123LL, "RFC 3339 parsed to ms (%lld)", (long long)ms);
		pim_time_format(ms, t);
		ok(!strcmp(t, "2026-11-23T10:00:00.123Z"), "and formatted back: %s", t);
		ok(pim_time_parse("2026-11-23") == 1795392000000LL, "a date alone");
		ok(pim_time_parse("yesterday") < 0, "nonsense refused");
		ok(pim_time_parse("2026-11-23T10:00:00+02:00") < 0, "offsets other than Z refused");
	}
	{
		unsigned char be[8];

		pim_be64(0x0102030405060708ull, be);
		ok(be[0] == 1 && be[7] == 8 && pim_from_be64(be) == 0x0102030405060708ull,
		   "big-endian keys round-trip");
	}

	/* the writer matches jansson's compact output */
	ok(writes_like_jansson("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\\\"f\\n\"}}"),
	   "objects, arrays, escapes");
	ok(writes_like_jansson("{\"z\":1,\"a\":2,\"m\":3}"), "insertion order kept");
	ok(writes_like_jansson("[-9223372036854775807,0,42]"), "integers");
	ok(writes_like_jansson("\"caf\\u00e9 \\u0001\""), "UTF-8 and control characters");
	ok(writes_like_jansson("{\"x\":1.5}"), "reals");

	/* projection cache */
	{
		struct pim_cache *c = pim_cache_new(1 << 20);
		struct http_shared *r;
		const char *data;
		char etag[40];
		size_t len = 0;
		uint64_t e = pim_cache_epoch(c, "SKU-1");

		ok(!pim_cache_get(c, "web", "en_US", "SKU-1", etag), "empty cache misses");
		put(c, "web", "en_US", "SKU-1", "{\"a\":1}", "\"abc\"", e);
		r = pim_cache_get(c, "web", "en_US", "SKU-1", etag);
		data = r ? http_shared_body(r, &len) : NULL;
		ok(data && len == 7 && !memcmp(data, "{\"a\":1}", 7) && !strcmp(etag, "\"abc\""),
		   "hit returns the reply and ETag");
		pim_cache_invalidate(c, "SKU-1");
		ok(r && http_shared_body(r, &len) == data && len == 7,
		   "a reply taken from the cache outlives its entry");
		http_shared_unref(r);
		put(c, "web", "en_US", "SKU-1", "{\"a\":1}", "\"abc\"", pim_cache_epoch(c, "SKU-1"));
		ok(!pim_cache_get(c, "web", "fr_FR", "SKU-1", etag), "other locale misses");
		ok(!pim_cache_get(c, "app", "en_US", "SKU-1", etag), "other channel misses");
		e = pim_cache_epoch(c, "SKU-1");
		put(c, "app", "en_US", "SKU-1", "x", "\"b\"", e);
		put(c, "web", "en_US", "SKU-11", "y", "\"c\"", pim_cache_epoch(c, "SKU-11"));
		pim_cache_invalidate(c, "SKU-1");
		ok(!pim_cache_get(c, "web", "en_US", "SKU-1", etag) &&
			   !pim_cache_get(c, "app", "en_US", "SKU-1", etag),
		   "invalidate drops every channel and locale of the sku");
		r = pim_cache_get(c, "web", "en_US", "SKU-11", etag);
		ok(r != NULL, "other skus stay");
		http_shared_unref(r);
		put(c, "web", "en_US", "SKU-1", "stale", "\"s\"", e);
		ok(!pim_cache_get(c, "web", "en_US", "SKU-1", etag),
		   "a projection built before an invalidation is not cached");
		/* bounded: many entries stay under the budget */
		for (int i = 0; i < 20000; i++) {
			char sku[32], big[201];

			snprintf(sku, sizeof(sku), "B-%d", i);
			memset(big, 'x', sizeof(big) - 1);
			big[200] = 0;
			put(c, "web", "en_US", sku, big, "\"e\"", pim_cache_epoch(c, sku));
		}
		{
			size_t entries, bytes;
			uint64_t hits, misses;

			pim_cache_stats(c, &entries, &bytes, &hits, &misses);
			ok(bytes <= (1 << 20) && entries > 1000, "cache stays within its bound (%zu bytes, %zu entries)",
			   bytes, entries);
		}
		pim_cache_flush(c);
		ok(!pim_cache_get(c, "web", "en_US", "SKU-11", etag), "flush empties it");
		pim_cache_free(c);
	}
	return tap_done();
}
