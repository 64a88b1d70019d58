#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

static const char *flag_value(int argc, char **argv, const char *flag)
{
	size_t n = strlen(flag);

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], flag, n))
			continue;
		if (argv[i][n] == '=')
			return argv[i] + n + 1;
		if (argv[i][n] == 0 && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

const char *config_str(int argc, char **argv, const char *flag, const char *env,
		       const char *def)
{
	const char *v = flag_value(argc, argv, flag);

	if (!v && env)
		v = getenv(env);
	return v && *v ? v : def;
}

/* A value that is not a number stops the program at start: a misspelt
 * "--threads 4O" must not leave it on a default nobody chose. */
void config_refuse(int argc, char **argv, const char *flag, const char *env, const char *v,
		   const char *what)
{
	fprintf(stderr, "%s: %s '%s' is not %s\n", program_invocation_short_name,
		flag_value(argc, argv, flag) ? flag : env, v, what);
	exit(2);
}

long config_long(int argc, char **argv, const char *flag, const char *env, long def)
{
	const char *v = config_str(argc, argv, flag, env, NULL);
	char *end;
	long n;

	if (!v)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end || errno)
		config_refuse(argc, argv, flag, env, v, "a number");
	return n;
}

long config_range(int argc, char **argv, const char *flag, const char *env, long def, long min,
		  long max)
{
	long n = config_long(argc, argv, flag, env, def);
	char what[80];

	if (n >= min && n <= max)
		return n;
	if (max == LONG_MAX)
		snprintf(what, sizeof(what), "%ld or more", min);
	else
		snprintf(what, sizeof(what), "from %ld to %ld", min, max);
	config_refuse(argc, argv, flag, env, config_str(argc, argv, flag, env, ""), what);
}

unsigned long long config_size(int argc, char **argv, const char *flag, const char *env,
			       unsigned long long def)
{
	const char *v = config_str(argc, argv, flag, env, NULL);
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	unsigned long long n;
	unsigned shift = 0;

	if (!v)
		return def;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end && !end[1] && (u = strchr(units, toupper((unsigned char)*end))))
		shift = 10 * (unsigned)(u - units + 1);
	else if (*end)
		end = NULL;
	if (!end || end == v || *v == '-' || errno || n > (~0ull >> shift))
		config_refuse(argc, argv, flag, env, v, "a size (a number with K, M, G or T)");
	n <<= shift;
	return n ? n : def;
}

int config_parse_bool(const char *s)
{
	static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -1;
}

bool config_bool(int argc, char **argv, const char *flag, const char *env)
{
	const char *v;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], flag))
			return true;
	v = env ? getenv(env) : NULL;
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"));
}

static const struct config_flag *flag_find(const struct config_flag *const *lists,
					   const char *arg)
{
	size_t n = strcspn(arg, "=");

	for (; *lists; lists++)
		for (const struct config_flag *f = *lists; f->name; f++)
			if (strlen(f->name) == n && !strncmp(f->name, arg, n))
				return f;
	return NULL;
}

int config_check(int argc, char **argv, const char *usage,
		 const struct config_flag *const *lists, FILE *out, FILE *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct config_flag *f;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fprintf(out, "usage: %s\n\nflags (each also has an environment variable, named in the "
				     "README):\n", usage);
			for (const struct config_flag *const *l = lists; *l; l++)
				for (f = *l; f->name; f++) {
					char name[64];

					snprintf(name, sizeof(name), "%s%s", f->name,
						 f->value ? " V" : "");
					fprintf(out, "  %-26s %s\n", name, f->help);
				}
			return 0;
		}
		f = flag_find(lists, a);
		if (!f) {
			fprintf(err, "%s: unknown %s '%s' (--help lists the flags)\n",
				program_invocation_short_name,
				a[0] == '-' ? "flag" : "argument", a);
			return 2;
		}
		if (strchr(a, '=') && !f->value) {
			fprintf(err, "%s: flag '%s' takes no value\n",
				program_invocation_short_name, f->name);
			return 2;
		}
		if (f->value && !strchr(a, '=') && ++i >= argc) {
			fprintf(err, "%s: flag '%s' needs a value\n",
				program_invocation_short_name, f->name);
			return 2;
		}
	}
	return -1;
}
