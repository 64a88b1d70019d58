/* Cell text to value data by attribute type, and back for exports. */
#include "values.h"

#include "buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *val_type(const json_t *adef)
{
	const char *t = json_string_value(json_object_get(adef, "type"));

	return t ? t : "text";
}

bool val_is_decimal(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && s[i] == '-')
		i++;
	for (; i < len && isdigit((unsigned char)s[i]); i++)
		digits++;
	if (!digits)
		return false;
	if (i < len && s[i] == '.') {
		size_t frac = 0;

		for (i++; i < len && isdigit((unsigned char)s[i]); i++)
			frac++;
		if (!frac)
			return false;
	}
	return i == len;
}

bool val_utf8_ok(const char *s, size_t len, size_t *bad_at)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			goto bad;
		i += n + 1;
	}
	return true;
bad:
	if (bad_at)
		*bad_at = i;
	return false;
}

char *val_slug(const char *s, size_t len)
{
	char *out = malloc(len + 2), *o = out;
	bool sep = false;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c)) {
			if (sep && o > out)
				*o++ = '_';
			sep = false;
			*o++ = (char)tolower(c);
		} else {
			sep = true;
		}
	}
	*o = '\0';
	return out;
}

/* One character entity reference or numeric reference, appended as UTF-8. */
static size_t html_entity(const char *s, size_t len, struct buf *b)
{
	static const struct {
		const char *name;
		const char *text;
	} ents[] = {{"amp;", "&"},     {"lt;", "<"},      {"gt;", ">"},      {"quot;", "\""},
		    {"apos;", "'"},    {"nbsp;", " "},    {"#39;", "'"},     {"eacute;", "é"},
		    {"egrave;", "è"},  {"agrave;", "à"},  {"ccedil;", "ç"},  {"uuml;", "ü"},
		    {"ouml;", "ö"},    {"auml;", "ä"},    {"szlig;", "ß"},   {"ndash;", "–"},
		    {"mdash;", "—"},   {"rsquo;", "’"},   {"lsquo;", "‘"},   {"rdquo;", "”"},
		    {"ldquo;", "“"},   {"hellip;", "…"},  {"euro;", "€"},    {"copy;", "©"},
		    {"reg;", "®"},     {"trade;", "™"},   {"deg;", "°"}};

	if (len > 2 && s[1] == '#') {
		unsigned long cp;
		char *end;
		char tmp[16];
		size_t n = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;

		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (tmp[2] == 'x' || tmp[2] == 'X')
			cp = strtoul(tmp + 3, &end, 16);
		else
			cp = strtoul(tmp + 2, &end, 10);
		if (*end == ';' && cp > 0 && cp < 0x110000 && !(cp >= 0xD800 && cp <= 0xDFFF)) {
			char u[4];
			size_t un;

			if (cp < 0x80) {
				u[0] = (char)cp;
				un = 1;
			} else if (cp < 0x800) {
				u[0] = (char)(0xC0 | (cp >> 6));
				u[1] = (char)(0x80 | (cp & 0x3F));
				un = 2;
			} else if (cp < 0x10000) {
				u[0] = (char)(0xE0 | (cp >> 12));
				u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
				u[2] = (char)(0x80 | (cp & 0x3F));
				un = 3;
			} else {
				u[0] = (char)(0xF0 | (cp >> 18));
				u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
				u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
				u[3] = (char)(0x80 | (cp & 0x3F));
				un = 4;
			}
			buf_add(b, u, un);
			return (size_t)(end - tmp) + 1;
		}
	}
	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		size_t n = strlen(ents[i].name);

		if (len > n && !memcmp(s + 1, ents[i].name, n)) {
			buf_adds(b, ents[i].text);
			return n + 1;
		}
	}
	buf_addc(b, '&');
	return 1;
}

static bool block_tag(const char *s, size_t len)
{
	static const char *tags[] = {"p", "br", "div", "li", "ul", "ol", "tr", "h1", "h2", "h3",
				     "h4", "h5", "h6", "table", "section", "article"};
	size_t i = 1, n;

	if (i < len && s[i] == '/')
		i++;
	for (n = 0; i + n < len && isalnum((unsigned char)s[i + n]); n++)
		;
	for (size_t k = 0; k < sizeof(tags) / sizeof(tags[0]); k++)
		if (strlen(tags[k]) == n && !strncasecmp(s + i, tags[k], n))
			return true;
	return false;
}

char *val_strip_html(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	size_t i = 0;
	bool space = false;

	buf_add(&b, "", 0);
	while (i < len) {
		char c = s[i];

		if (c == '<') {
			const char *end = memchr(s + i, '>', len - i);

			if (!end) {
				i = len;
				break;
			}
			if (block_tag(s + i, (size_t)(end - (s + i))))
				space = true;
			i = (size_t)(end - s) + 1;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			space = true;
			i++;
			continue;
		}
		if (space && b.len)
			buf_addc(&b, ' ');
		space = false;
		if (c == '&')
			i += html_entity(s + i, len - i, &b);
		else
			buf_addc(&b, c), i++;
	}
	return buf_detach(&b, NULL);
}

static bool opt_matches(const json_t *opt, const char *s)
{
	const char *k;
	json_t *v;

	if (json_is_string(opt))
		return !strcasecmp(json_string_value(opt), s);
	if (!json_is_object(opt))
		return false;
	if (json_string_value(json_object_get(opt, "code")) &&
	    !strcasecmp(json_string_value(json_object_get(opt, "code")), s))
		return true;
	json_object_foreach(json_object_get((json_t *)opt, "labels"), k, v)
		if (json_is_string(v) && !strcasecmp(json_string_value(v), s))
			return true;
	return false;
}

/* The option code for a code or a label in any locale; NULL when the
 * attribute lists options and none matches; s itself when it lists none. */
static const char *option_code(const json_t *adef, const char *s, bool *listed)
{
	json_t *opts = json_object_get(adef, "options"), *o;
	size_t i;

	*listed = json_is_array(opts) && json_array_size(opts);
	if (!*listed) {
		*listed = json_is_object(opts) && json_object_size(opts);
		if (*listed) {
			const char *k;
			json_t *v;

			json_object_foreach(opts, k, v) {
				if (!strcasecmp(k, s))
					return k;
				if (opt_matches(v, s) || (json_is_object(v) && opt_matches(json_object_get(v, "labels"), s)))
					return k;
				if (json_is_object(v)) {
					const char *lk;
					json_t *lv;

					json_object_foreach(v, lk, lv)
						if (json_is_string(lv) && !strcasecmp(json_string_value(lv), s))
							return k;
				}
			}
			return NULL;
		}
		return s;
	}
	json_array_foreach(opts, i, o)
		if (opt_matches(o, s))
			return json_is_string(o) ? json_string_value(o)
						 : json_string_value(json_object_get(o, "code"));
	return NULL;
}

static json_t *select_value(const json_t *adef, const char *s, struct val_problem *p)
{
	bool listed;
	const char *code = option_code(adef, s, &listed);

	if (!code) {
		p->code = "unknown_option";
		snprintf(p->msg, sizeof(p->msg), "'%.80s' is not one of the options of '%s'", s,
			 json_string_value(json_object_get(adef, "code")));
		return NULL;
	}
	return json_string(code);
}

static const char *default_unit(const json_t *adef)
{
	const char *u = json_string_value(json_object_get(adef, "default_unit"));
	json_t *units;

	if (!u)
		u = json_string_value(json_object_get(adef, "unit"));
	if (!u)
		u = json_string_value(json_object_get(json_object_get(adef, "validation"), "unit"));
	units = json_object_get(adef, "units");
	if (!u && json_is_array(units))
		u = json_string_value(json_array_get(units, 0));
	return u;
}

static bool has_unit(const json_t *units, const char *u)
{
	size_t i;
	json_t *v;

	if (json_is_object(units))
		return json_object_get(units, u) != NULL;
	json_array_foreach(units, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), u))
			return true;
	return false;
}

const char *val_unit(const json_t *adef, const char *unit)
{
	static const char *const alias[][2] = {
		{"GRAM", "g"},	      {"KILOGRAM", "kg"},  {"MILLIGRAM", "mg"}, {"POUND", "lb"},
		{"OUNCE", "oz"},      {"TON", "t"},	   {"MILLIMETER", "mm"}, {"CENTIMETER", "cm"},
		{"METER", "m"},	      {"KILOMETER", "km"}, {"INCH", "in"},	 {"FEET", "ft"},
		{"LITER", "l"},	      {"MILLILITER", "ml"}, {"WATT", "W"},	 {"VOLT", "V"},
		{"HERTZ", "Hz"},      {"SECOND", "s"},	   {"MINUTE", "min"},	 {"HOUR", "h"}};
	const json_t *units = json_object_get(adef, "units");
	size_t i;
	json_t *v;

	if (!unit || !units || has_unit(units, unit))
		return unit;
	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		if (!strcasecmp(unit, alias[i][0]) && has_unit(units, alias[i][1]))
			return alias[i][1];
		if (!strcasecmp(unit, alias[i][1]) && has_unit(units, alias[i][0]))
			return alias[i][0];
	}
	json_array_foreach(units, i, v)
		if (json_is_string(v) && !strcasecmp(json_string_value(v), unit))
			return json_string_value(v);
	return unit;
}

/* [{"amount","currency"}], built directly: a feed has one or more on every
 * row */
static json_t *price_of(const char *amount, const char *currency)
{
	json_t *p = json_object(), *list = json_array();

	json_object_set_new_nocheck(p, "amount", json_string(amount));
	json_object_set_new_nocheck(p, "currency", json_string(currency));
	json_array_append_new(list, p);
	return list;
}

/* "12.50 EUR", "EUR 12.50" or "12.50": amount and currency. */
static bool split_amount(const char *s, char *amount, size_t alen, char *unit, size_t ulen)
{
	const char *sp = strchr(s, ' ');

	unit[0] = '\0';
	if (!sp) {
		snprintf(amount, alen, "%s", s);
		return true;
	}
	if (isdigit((unsigned char)s[0]) || s[0] == '-') {
		snprintf(amount, alen, "%.*s", (int)(sp - s), s);
		while (*sp == ' ')
			sp++;
		snprintf(unit, ulen, "%s", sp);
	} else {
		snprintf(unit, ulen, "%.*s", (int)(sp - s), s);
		while (*sp == ' ')
			sp++;
		snprintf(amount, alen, "%s", sp);
	}
	return true;
}

json_t *val_from_text(const json_t *adef, const char *s, size_t len, const char *sub,
		      struct val_problem *p)
{
	const char *t = val_type(adef);

	p->code = NULL;
	p->msg[0] = '\0';
	if (!strcmp(t, "number")) {
		if (!val_is_decimal(s, len)) {
			p->code = "not_a_number";
			snprintf(p->msg, sizeof(p->msg), "'%.80s' is not a number", s);
			return NULL;
		}
		return json_string(s);
	}
	if (!strcmp(t, "boolean")) {
		if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes"))
			return json_true();
		if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no"))
			return json_false();
		p->code = "not_a_boolean";
		snprintf(p->msg, sizeof(p->msg), "'%.80s' is not yes/no (1/0, true/false)", s);
		return NULL;
	}
	if (!strcmp(t, "date")) {
		/* Akeneo writes dates with a time: keep the day */
		if (len >= 10 && isdigit((unsigned char)s[0]) && s[4] == '-' && s[7] == '-' &&
		    (len == 10 || s[10] == 'T' || s[10] == ' '))
			return json_stringn(s, 10);
		p->code = "not_a_date";
		snprintf(p->msg, sizeof(p->msg), "'%.80s' is not a date (YYYY-MM-DD)", s);
		return NULL;
	}
	if (!strcmp(t, "price")) {
		char amount[64], cur[16];

		split_amount(s, amount, sizeof(amount), cur, sizeof(cur));
		if (sub)
			snprintf(cur, sizeof(cur), "%s", sub);
		if (!val_is_decimal(amount, strlen(amount))) {
			p->code = "not_a_decimal";
			snprintf(p->msg, sizeof(p->msg), "'%.80s' is not a decimal amount", s);
			return NULL;
		}
		if (!cur[0]) {
			p->code = "no_currency";
			snprintf(p->msg, sizeof(p->msg), "the price '%.80s' names no currency", s);
			return NULL;
		}
		return price_of(amount, cur);
	}
	if (!strcmp(t, "metric")) {
		char amount[64], unit[32];

		split_amount(s, amount, sizeof(amount), unit, sizeof(unit));
		if (sub)
			snprintf(unit, sizeof(unit), "%s", sub);
		if (!unit[0] && default_unit(adef))
			snprintf(unit, sizeof(unit), "%s", default_unit(adef));
		if (!val_is_decimal(amount, strlen(amount))) {
			p->code = "not_a_decimal";
			snprintf(p->msg, sizeof(p->msg), "'%.80s' is not a decimal amount", s);
			return NULL;
		}
		return unit[0] ? json_pack("{s:s,s:s}", "amount", amount, "unit", val_unit(adef, unit))
			       : json_pack("{s:s}", "amount", amount);
	}
	if (!strcmp(t, "simple_select"))
		return select_value(adef, s, p);
	if (!strcmp(t, "multi_select") || !strcmp(t, "asset_collection")) {
		json_t *arr = json_array();
		const char *q = s;
		bool sel = !strcmp(t, "multi_select");

		while (*q) {
			const char *c = strchr(q, ',');
			size_t n = c ? (size_t)(c - q) : strlen(q);
			char item[512];
			json_t *v;

			while (n && *q == ' ')
				q++, n--;
			while (n && q[n - 1] == ' ')
				n--;
			if (n) {
				snprintf(item, sizeof(item), "%.*s", (int)n, q);
				v = sel ? select_value(adef, item, p) : json_string(item);
				if (!v) {
					json_decref(arr);
					return NULL;
				}
				json_array_append_new(arr, v);
			}
			if (!c)
				break;
			q = c + 1;
		}
		return arr;
	}
	/* text, textarea, identifier, asset, product_reference */
	return json_stringn(s, len);
}

static char *dupf(const char *fmt, const char *s)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, fmt, s);
	return buf_detach(&b, NULL);
}

char *val_to_text(const json_t *adef, const json_t *data, const char *sub)
{
	const char *t = val_type(adef);
	struct buf b = BUF_INIT;
	size_t i;
	json_t *v;

	if (json_is_string(data))
		return strdup(json_string_value(data));
	if (json_is_true(data))
		return strdup("1");
	if (json_is_false(data))
		return strdup("0");
	if (json_is_integer(data)) {
		buf_addf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(data));
		return buf_detach(&b, NULL);
	}
	if (json_is_real(data)) {
		buf_addf(&b, "%.17g", json_real_value(data));
		return buf_detach(&b, NULL);
	}
	if (!strcmp(t, "price") && json_is_array(data)) {
		json_array_foreach(data, i, v) {
			const char *cur = json_string_value(json_object_get(v, "currency"));

			if (sub && cur && !strcmp(cur, sub))
				return dupf("%s", json_string_value(json_object_get(v, "amount")));
		}
		return NULL;
	}
	if (json_is_object(data)) {
		const char *s = json_string_value(
			json_object_get(data, sub && !strcmp(sub, "unit") ? "unit" : "amount"));

		return s ? strdup(s) : NULL;
	}
	if (json_is_array(data)) {
		buf_add(&b, "", 0);
		json_array_foreach(data, i, v) {
			if (i)
				buf_addc(&b, ',');
			if (json_is_string(v))
				buf_adds(&b, json_string_value(v));
		}
		return buf_detach(&b, NULL);
	}
	return NULL;
}
