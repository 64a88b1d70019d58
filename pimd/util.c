#include "util.h"
#include "buf.h"
#include "err.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void pim_b64url_encode(const void *data, size_t len, char *out)
{
	const unsigned char *d = data;
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];

		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)d[i] << 16;

		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8;

		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
	}
	out[o] = 0;
}

long pim_b64url_decode(const char *s, void *out, size_t max)
{
	unsigned char *o = out;
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *s; s++) {
		const char *p = strchr(b64url, *s);

		if (!p || *s == 0)
			return -1;
		acc = acc << 6 | (uint32_t)(p - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return -1;
			o[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits >= 6)
		return -1;
	return (long)n;
}

bool pim_decimal_parse(const char *s, int *decimals)
{
	const char *p = s;
	int digits = 0, frac = 0;

	if (*p == '-')
		p++;
	while (isdigit((unsigned char)*p)) {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			frac++;
		}
		if (!frac)
			return false;
	}
	if (*p || !digits || digits + frac > 30)
		return false;
	if (decimals)
		*decimals = frac;
	return true;
}

/* Compares non-negative magnitudes given as digit strings with an optional
 * fraction. */
static int mag_cmp(const char *a, const char *b)
{
	size_t ia, ib;
	const char *fa, *fb;

	while (*a == '0' && a[1] && a[1] != '.')
		a++;
	while (*b == '0' && b[1] && b[1] != '.')
		b++;
	ia = strcspn(a, ".");
	ib = strcspn(b, ".");
	if (ia != ib)
		return ia < ib ? -1 : 1;
	for (size_t i = 0; i < ia; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	fa = a[ia] ? a + ia + 1 : "";
	fb = b[ib] ? b + ib + 1 : "";
	while (*fa || *fb) {
		char ca = *fa ? *fa++ : '0', cb = *fb ? *fb++ : '0';

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

static bool is_zero(const char *s)
{
	for (; *s; s++)
		if (*s != '0' && *s != '.')
			return false;
	return true;
}

int pim_decimal_cmp(const char *a, const char *b)
{
	bool na = *a == '-', nb = *b == '-';

	if (na && is_zero(a + 1))
		na = false, a++;
	if (nb && is_zero(b + 1))
		nb = false, b++;
	if (na != nb)
		return na ? -1 : 1;
	if (na)
		return -mag_cmp(a + 1, b + 1);
	return mag_cmp(a, b);
}

json_t *pim_merge_patch(json_t *target, json_t *patch)
{
	json_t *out;
	const char *k;
	json_t *v;

	if (!json_is_object(patch))
		return json_incref(patch);
	out = json_is_object(target) ? json_copy(target) : json_object();
	if (!out)
		return NULL;
	json_object_foreach(patch, k, v) {
		if (json_is_null(v)) {
			json_object_del(out, k);
		} else {
			json_t *merged = pim_merge_patch(json_object_get(out, k), v);

			json_object_set_new(out, k, merged);
		}
	}
	return out;
}

int64_t pim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pim_time_format(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	char tmp[96];

	gmtime_r(&t, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	snprintf(out, 32, "%.31s", tmp);
}

int64_t pim_time_parse(const char *s)
{
	struct tm tm = {0};
	const char *p;
	int64_t ms = 0;

	if (!s)
		return -1;
	p = strptime(s, "%Y-%m-%d", &tm);
	if (!p)
		return -1;
	if (*p == 'T' || *p == ' ') {
		p = strptime(p + 1, "%H:%M:%S", &tm);
		if (!p)
			return -1;
		if (*p == '.') {
			int scale = 100;

			for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
				ms += scale > 0 ? (*p - '0') * scale : 0;
		}
	}
	if (*p == 'Z')
		p++;
	if (*p)
		return -1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

void pim_be64(uint64_t v, unsigned char out[8])
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

uint64_t pim_from_be64(const void *p)
{
	const unsigned char *b = p;
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

int pim_json_write(struct buf *out, const json_t *j)
{
	char num[48];
	int n, rc = 0;

	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		bool first = true;

		rc = buf_addc(out, '{');
		json_object_foreach((json_t *)j, k, v) {
			if (!first)
				buf_addc(out, ',');
			first = false;
			buf_addc(out, '"');
			buf_add_json_escaped(out, k, strlen(k));
			buf_add(out, "\":", 2);
			rc = pim_json_write(out, v);
			if (rc < 0)
				return rc;
		}
		return buf_addc(out, '}');
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;

		buf_addc(out, '[');
		json_array_foreach(j, i, v) {
			if (i)
				buf_addc(out, ',');
			rc = pim_json_write(out, v);
			if (rc < 0)
				return rc;
		}
		return buf_addc(out, ']');
	}
	case JSON_STRING:
		buf_addc(out, '"');
		buf_add_json_escaped(out, json_string_value(j), json_string_length(j));
		return buf_addc(out, '"');
	case JSON_INTEGER:
		return buf_add_int(out, (long long)json_integer_value(j));
	case JSON_REAL:
		n = snprintf(num, sizeof(num), "%.17g", json_real_value(j));
		if (!strpbrk(num, ".eE") && n + 2 < (int)sizeof(num)) {
			num[n++] = '.';
			num[n++] = '0';
			num[n] = 0;
		}
		return buf_add(out, num, strlen(num));
	case JSON_TRUE: return buf_add(out, "true", 4);
	case JSON_FALSE: return buf_add(out, "false", 5);
	default: return buf_add(out, "null", 4);
	}
}
