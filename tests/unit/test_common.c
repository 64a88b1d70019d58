/* Unit tests of common/: buffers, errors, hashing, settings, tokens. */
#include "auth.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "hash.h"
#include "json.h"
#include "tap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_buf(void)
{
	struct buf b;

	buf_init(&b, 8);
	ok(buf_adds(&b, "12345") == 0 && b.len == 5, "buf appends under its cap");
	ok(buf_adds(&b, "6789") == HUB_ETOOBIG && b.len == 5, "buf refuses past its cap and keeps its contents");
	buf_release(&b);
	buf_init(&b, 0);
	buf_addf(&b, "%d-%s", 42, "x");
	ok(!strcmp(b.data, "42-x"), "buf_addf formats");
	for (int i = 0; i < 100; i++)
		buf_addf(&b, "<%d>", i);
	ok(b.len == strlen(b.data) && b.len == 4 + 10 * 3 + 90 * 4 &&
	   !strncmp(b.data, "42-x<0><1>", 10) && !strcmp(b.data + b.len - 8, "<98><99>"),
	   "buf_addf formats into the room left and grows when it does not fit");
	buf_release(&b);
	buf_init(&b, 10);
	buf_adds(&b, "abcdef");
	ok(buf_addf(&b, "%s", "ghijk") == HUB_ETOOBIG && b.len == 6 && !strcmp(b.data, "abcdef"),
	   "buf_addf past the cap fails and keeps the contents as they were");
	ok(buf_addf(&b, "%d", 1234) == 0 && !strcmp(b.data, "abcdef1234"), "buf_addf up to the cap");
	buf_release(&b);
	buf_init(&b, 0);
	buf_reset(&b);
	buf_add_json_escaped(&b, "a\"b\\\n\x01", 6);
	ok(!strcmp(b.data, "a\\\"b\\\\\\n\\u0001"), "JSON escaping of quotes, backslashes and controls");
	buf_release(&b);
	buf_init(&b, 0);
	buf_add_int(&b, 0);
	buf_addc(&b, ' ');
	buf_add_int(&b, -7);
	buf_addc(&b, ' ');
	buf_add_int(&b, 1234567890123LL);
	buf_addc(&b, ' ');
	buf_add_int(&b, LLONG_MIN);
	buf_addc(&b, ' ');
	buf_add_int(&b, LLONG_MAX);
	ok(!strcmp(b.data, "0 -7 1234567890123 -9223372036854775808 9223372036854775807"),
	   "integers in decimal, both ends of the range included");
	buf_release(&b);
}

/* The escaping of one byte at a time, as JSON (RFC 8259) asks. */
static void escape_reference(struct buf *b, const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_addf(b, "\\%c", s[i]);
		else if (s[i] == '\n')
			buf_adds(b, "\\n");
		else if (s[i] == '\r')
			buf_adds(b, "\\r");
		else if (s[i] == '\t')
			buf_adds(b, "\\t");
		else if (s[i] < 0x20)
			buf_addf(b, "\\u%04x", s[i]);
		else
			buf_addc(b, (char)s[i]);
	}
}

static bool escapes_differ(struct buf *got, struct buf *want, const unsigned char *s, size_t len)
{
	buf_reset(got);
	buf_reset(want);
	buf_add_json_escaped(got, (const char *)s, len);
	escape_reference(want, s, len);
	return got->len != want->len || memcmp(got->data, want->data, got->len);
}

/* buf_add_json_escaped skips 8 bytes at a time: every byte that must be
 * escaped, and its neighbours in value, at every place in and around a
 * word, among ASCII and among UTF-8 bytes. */
static void test_json_escaping(void)
{
	static const unsigned char odd[] = {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x21, '"',
					    0x23, 0x5b, '\\', 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff};
	unsigned char s[40];
	struct buf got = BUF_INIT, want = BUF_INIT;
	unsigned seed = 1;
	int bad = 0, n = 0;

	for (size_t len = 0; len <= sizeof(s); len++)
		for (size_t at = 0; at < len; at++)
			for (size_t k = 0; k < sizeof(odd); k++)
				for (int fill = 0; fill < 2; fill++) {
					memset(s, fill ? 0xc3 : 'a', len);
					s[at] = odd[k];
					bad += escapes_differ(&got, &want, s, len);
					n++;
				}
	for (int r = 0; r < 3000; r++) {
		size_t len = (size_t)rand_r(&seed) % sizeof(s);

		for (size_t i = 0; i < len; i++)
			s[i] = rand_r(&seed) % 4 ? (unsigned char)(0x20 + rand_r(&seed) % 0x60)
						 : odd[rand_r(&seed) % sizeof(odd)];
		bad += escapes_differ(&got, &want, s, len);
		n++;
	}
	ok(bad == 0, "JSON escaping a word at a time agrees with byte by byte (%d of %d differ)", bad, n);
	buf_release(&got);
	buf_init(&got, 12);
	ok(buf_add_json_escaped(&got, "abcdefgh\"ijklmnop", 17) == HUB_ETOOBIG && got.len <= 12 &&
	   got.data[got.len] == 0, "escaping stops at the buffer's cap, its contents still a string");
	buf_release(&got);
	buf_release(&want);
}

static void test_err(void)
{
	struct hub_err e = {0};

	ok(hub_err_set(&e, HUB_ENOTFOUND, "no product '%s'", "X") == HUB_ENOTFOUND, "hub_err_set returns its code");
	ok(!strcmp(e.msg, "no product 'X'"), "hub_err_set formats the message");
	ok(hub_err_status(HUB_EINVALID) == 422 && hub_err_status(HUB_ETOOBIG) == 413 &&
	   hub_err_status(HUB_EPRECOND) == 412 && hub_err_status(-999) == 500, "codes map to HTTP statuses");
	ok(hub_err_set(NULL, HUB_EIO, "x") == HUB_EIO, "a NULL err is allowed");
}

static void test_hash(void)
{
	uint8_t d[HASH_SHA256_LEN];
	char hex[HASH_SHA256_HEX];
	struct hash_sha256 *h = hash_sha256_new();

	hash_sha256("abc", 3, d);
	hash_hex(d, sizeof(d), hex);
	ok(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "SHA-256 of abc");
	hash_sha256_update(h, "a", 1);
	hash_sha256_update(h, "bc", 2);
	hash_sha256_final(h, d);
	hash_hex(d, sizeof(d), hex);
	ok(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "incremental SHA-256 agrees");
	hash_hmac_sha256("key", 3, "The quick brown fox jumps over the lazy dog", 43, d);
	hash_hex(d, sizeof(d), hex);
	ok(!strcmp(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"), "HMAC-SHA256 test vector");
}

static void test_config(void)
{
	char *argv[] = {"x", "--listen", "1.2.3.4:5", "--data=/d", "--quiet", NULL};

	setenv("T_LISTEN", "9.9.9.9:9", 1);
	setenv("T_THREADS", "7", 1);
	ok(!strcmp(config_str(5, argv, "--listen", "T_LISTEN", "def"), "1.2.3.4:5"), "a flag wins over its variable");
	ok(!strcmp(config_str(5, argv, "--data", NULL, "def"), "/d"), "--flag=value form");
	ok(config_long(5, argv, "--threads", "T_THREADS", 1) == 7, "the variable wins over the default");
	ok(!strcmp(config_str(5, argv, "--nope", "T_NOPE", "def"), "def"), "the default is last");
	ok(config_bool(5, argv, "--quiet", NULL) && !config_bool(5, argv, "--loud", NULL), "boolean flags");
	setenv("T_SIZE", "3M", 1);
	ok(config_size(5, argv, "--size", "T_SIZE", 7) == 3ull << 20 &&
	   config_size(5, argv, "--none", NULL, 7) == 7, "sizes take K, M, G and T suffixes");
	setenv("T_SIZE", "2t", 1);
	ok(config_size(5, argv, "--size", "T_SIZE", 7) == 2ull << 40, "in either case");
}

/* The exit status of a child that reads env T_BAD with config_long (kind
 * 'l'), config_size ('s') or config_range from 1 to 10 ('r'); stderr goes
 * to /dev/null. */
static int read_bad(const char *value, char kind)
{
	char *argv[] = {"x", NULL};
	int status = -1;
	pid_t pid;

	setenv("T_BAD", value, 1);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(99);
		if (kind == 's')
			config_size(1, argv, "--bad", "T_BAD", 1);
		else if (kind == 'r')
			config_range(1, argv, "--bad", "T_BAD", 1, 1, 10);
		else
			config_long(1, argv, "--bad", "T_BAD", 1);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_config_values(void)
{
	ok(read_bad("12", 'l') == 0 && read_bad("-3", 'l') == 0, "numbers are read");
	ok(read_bad("4O", 'l') == 2 && read_bad("x", 'l') == 2 &&
	   read_bad("99999999999999999999", 'l') == 2,
	   "a value that is not a number, or too big for one, ends the program with status 2");
	ok(read_bad("16G", 's') == 0 && read_bad("512", 's') == 0, "sizes are read");
	ok(read_bad("5X", 's') == 2 && read_bad("3MB", 's') == 2 && read_bad("-1G", 's') == 2 &&
	   read_bad("99999999999T", 's') == 2,
	   "a size with another suffix, negative or past 64 bits ends the program with status 2");
	ok(read_bad("1", 'r') == 0 && read_bad("10", 'r') == 0, "a range takes both its ends");
	ok(read_bad("0", 'r') == 2 && read_bad("11", 'r') == 2 && read_bad("-1", 'r') == 2 &&
	   read_bad("5x", 'r') == 2,
	   "a number outside its range, or none, ends the program with status 2");
}

/* config_check on argv (argc items); what it printed to its two streams
 * goes to out and err. */
static int check_flags(int argc, char **argv, char *out, char *err)
{
	static const struct config_flag mine[] = {
		{"--listen", true, "where"}, {"--quiet", false, "hush"}, {NULL, false, NULL}};
	static const struct config_flag theirs[] = {{"--max", true, "most"}, {NULL, false, NULL}};
	static const struct config_flag *const lists[] = {mine, theirs, NULL};
	FILE *o = tmpfile(), *e = tmpfile();
	int rc = config_check(argc, argv, "x [flags]", lists, o, e);
	size_t n;

	rewind(o);
	n = fread(out, 1, 1023, o);
	out[n] = 0;
	rewind(e);
	n = fread(err, 1, 1023, e);
	err[n] = 0;
	fclose(o);
	fclose(e);
	return rc;
}

static void test_config_check(void)
{
	char out[1024], err[1024];
	char *good[] = {"x", "--listen", "a:1", "--quiet", "--max=3", NULL};
	char *typo[] = {"x", "--listn", "a:1", NULL};
	char *stray[] = {"x", "--quiet", "extra", NULL};
	char *last[] = {"x", "--max", NULL};
	char *valued[] = {"x", "--quiet=1", NULL};
	char *prefix[] = {"x", "--listen-all", NULL};
	char *help[] = {"x", "--listen", "a:1", "--help", NULL};

	ok(check_flags(5, good, out, err) == -1 && !*out && !*err,
	   "known flags, with their values in both forms, pass");
	ok(check_flags(3, typo, out, err) == 2 && strstr(err, "unknown flag '--listn'"),
	   "a misspelt flag is refused by name");
	ok(check_flags(3, stray, out, err) == 2 && strstr(err, "unknown argument 'extra'"),
	   "so is a stray argument");
	ok(check_flags(2, last, out, err) == 2 && strstr(err, "'--max' needs a value"),
	   "a flag missing its value is refused");
	ok(check_flags(2, valued, out, err) == 2 && strstr(err, "'--quiet' takes no value"),
	   "a value given to a flag that takes none is refused");
	ok(check_flags(2, prefix, out, err) == 2, "a flag is matched whole, not by its prefix");
	ok(check_flags(4, help, out, err) == 0 && strstr(out, "usage: x [flags]") &&
	   strstr(out, "--listen V") && strstr(out, "--quiet ") && strstr(out, "--max V") && !*err,
	   "--help lists every flag of every list and exits 0");
}

static void test_auth(void)
{
	char dir[] = "/tmp/hub-auth-XXXXXX", path[256], name[64], token[HASH_SHA256_HEX], admin[128];
	struct auth *a = NULL;
	struct hub_err e = {0};
	struct stat st;
	FILE *f;

	ok(mkdtemp(dir) != NULL, "temp dir");
	ok(auth_open(&a, dir, NULL, &e) == 0, "auth opens with no tokens yet");
	snprintf(path, sizeof(path), "%s/admin.token", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "generated admin token written with mode 0600");
	f = fopen(path, "r");
	ok(f && fgets(admin, sizeof(admin), f), "admin token readable");
	if (f)
		fclose(f);
	admin[strcspn(admin, "\n")] = 0;
	ok(auth_check(a, admin, name, sizeof(name)) == ROLE_ADMIN && !strcmp(name, "admin"), "the generated token is an admin");
	ok(auth_check(a, "wrong", name, sizeof(name)) == ROLE_NONE, "an unknown token has no role");
	ok(auth_create(a, "shop", ROLE_READER, token, &e) == 0, "create a reader token");
	ok(auth_check(a, token, name, sizeof(name)) == ROLE_READER, "the reader token checks");
	auth_close(a);
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	f = fopen(path, "r");
	{
		char content[4096] = {0};

		ok(f && fread(content, 1, sizeof(content) - 1, f) > 0 && !strstr(content, token),
		   "tokens.json holds hashes, not secrets");
		if (f)
			fclose(f);
	}
	ok(auth_open(&a, dir, NULL, &e) == 0 && auth_check(a, token, name, sizeof(name)) == ROLE_READER,
	   "tokens survive a restart");
	ok(auth_revoke(a, "shop", &e) == 0 && auth_check(a, token, name, sizeof(name)) == ROLE_NONE, "revoked tokens stop working");
	auth_close(a);
	ok(auth_open(&a, dir, "from-env", &e) == 0 && auth_check(a, "from-env", name, sizeof(name)) == ROLE_ADMIN &&
	   auth_check(a, admin, name, sizeof(name)) == ROLE_NONE, "PIM_ADMIN_TOKEN replaces the admin secret");
	auth_close(a);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	ok(system(path) == 0, "cleanup");
}

static void test_json(void)
{
	struct hub_err e = {0};
	json_t *j = json_parse("{\"a\":1,\n\"a\":2}", 14, &e);

	ok(!j && e.code == HUB_EINVAL && strstr(e.msg, "line 2"), "duplicate keys refused with the line: %s", e.msg);
	j = json_parse("{\"b\":\"x\"}", 9, &e);
	ok(j && !strcmp(json_get_str(j, "b"), "x"), "json_get_str");
	json_decref(j);
	{
		json_t *a = json_pack("{s:s,s:n}", "locale", "en_US", "channel");
		json_t *b = json_pack("{s:s}", "locale", "en_US");
		json_t *c = json_pack("{s:s,s:s}", "locale", "fr_FR", "channel", "web");

		ok(json_same_member(a, b, "locale"), "same member: equal values");
		ok(json_same_member(a, b, "channel"), "same member: null is as none");
		ok(!json_same_member(a, c, "locale") && !json_same_member(b, c, "channel"),
		   "same member: other value, or a value against none");
		json_decref(a);
		json_decref(b);
		json_decref(c);
	}
}

int main(void)
{
	test_buf();
	test_json_escaping();
	test_err();
	test_hash();
	test_config();
	test_config_check();
	test_config_values();
	test_auth();
	test_json();
	return tap_done();
}
